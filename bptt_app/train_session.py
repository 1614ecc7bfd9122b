"""Session-side state of the Train live page: one Trainer per browser session.

``TrainSession`` holds the ``LiveTrainer`` (kept in ``st.session_state``), follows the sidebar
(``sync``: a new text or architecture restarts training with a notice; the learning rate,
optimizer, clipping, truncation and chunk length are applied to the running training), trains
a number of updates and stops at a divergence or an explosion, measures updates per second, and
loads or saves parameter files. No Streamlit here: the page passes ``st.session_state`` in, so
everything can be tested on its own.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass, fields
from itertools import pairwise

import numpy as np

from bptt_app.settings import MAX_TEXT_CHARS, Settings
from bptt_core.checkpoint import checkpoint_bytes, load_checkpoint
from bptt_core.health import chance_loss, exploded
from bptt_core.history import DEFAULT_MAX_HISTORY, LiveTrainer
from bptt_core.model import Params
from bptt_core.trainer import StepResult, TrainingConfig
from bptt_viz.labels import display_char
from bptt_viz.messages import checkpoint_differences
from bptt_viz.notation import Notation

SESSION_KEY = "train_session"
MAX_UPLOAD_BYTES = 1_000_000  # the server refuses more (.streamlit/config.toml maxUploadSize)
RATE_WINDOW_S = 3.0  # updates per second are measured over this many recent seconds

# readable names of TrainingConfig fields, for notices ("hidden units H: 8 → 16")
FIELD_LABELS: dict[str, str] = {
    "hidden_size": "hidden units H",
    "activation": "hidden activation",
    "output": "output",
    "loss": "loss",
    "init": "initialisation",
    "init_scale": "weight scale σ",
    "spectral_radius": "spectral radius of W_hh",
    "seed": "random seed",
    "learning_rate": "learning rate",
    "optimizer": "optimizer",
    "clip": "gradient clipping",
    "clip_threshold": "clipping threshold c",
    "truncation": "truncation k",
    "seq_length": "chunk length",
    "schedule": "update schedule",
}
ARCHITECTURE_FIELDS = (
    "hidden_size",
    "activation",
    "output",
    "loss",
    "init",
    "init_scale",
    "spectral_radius",
    "seed",
)


@dataclass(frozen=True)
class Notice:
    """A message for the page: level is "success", "info", "warning" or "error"."""

    level: str
    message: str


@dataclass(frozen=True)
class Trouble:
    """Why training was stopped: the engine met NaN/inf ("diverged") or the loss exploded."""

    kind: str  # "diverged" | "exploded"
    update: int  # updates made before the failing pass
    loss: float  # the loss of the failing pass (NaN when it diverged)
    chance: float  # the chance level of that pass
    reason: str  # the engine's sentence, for "diverged"


def _fmt(name: str, value: object) -> str:
    if name == "truncation":
        return "full BPTT" if value is None else f"k = {value}"
    if name == "spectral_radius":
        return "not set" if value is None else f"{value:g}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe_changes(old: TrainingConfig, new: TrainingConfig, eta: str = "η") -> list[str]:
    """“learning rate η: 0.05 → 0.5” for every field that differs."""
    out = []
    for f in fields(TrainingConfig):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b:
            label = FIELD_LABELS.get(f.name, f.name)
            if f.name == "learning_rate":
                label = f"{label} {eta}"
            out.append(f"{label}: {_fmt(f.name, a)} → {_fmt(f.name, b)}")
    return out


EVENT_NAMES = {
    "learning_rate": "",  # the notation's η, filled in
    "optimizer": "",
    "clip": "clip",
    "clip_threshold": "c",
    "truncation": "k",
    "seq_length": "chunk",
    "schedule": "",
}


def event_label(new: TrainingConfig, eta: str, old: TrainingConfig) -> str:
    """A short mark for the loss curve: “η=0.5”, “adam”, “k=3”, … (the changes, joined)."""
    parts = []
    for name, short in EVENT_NAMES.items():
        a, b = getattr(old, name), getattr(new, name)
        if a == b:
            continue
        if name == "learning_rate":
            parts.append(f"{eta}={b:g}")
        elif name == "truncation":
            parts.append("full BPTT" if b is None else f"k={b}")
        elif short:
            parts.append(f"{short}={_fmt(name, b)}")
        else:
            parts.append(str(b))
    return ", ".join(parts)


class TrainSession:
    """The training of one browser session and what the page shows about it."""

    def __init__(self, settings: Settings, max_history: int = DEFAULT_MAX_HISTORY) -> None:
        self.text = settings.text
        self.config = settings.training()
        self.max_history = max_history
        self.trainer = LiveTrainer(self.text, max_history=max_history, **asdict(self.config))
        self.playing = False
        self.sample_seed = 0
        self.upload_notice: Notice | None = None
        self.uploads = 0  # successful uploads (for file names and the event marks)
        self.ticks: deque[tuple[float, int]] = deque(maxlen=200)
        self._started()

    # ------------------------------------------------------------------ set-up

    def _started(self) -> None:
        """Bookkeeping after new parameters: the start point of every comparison."""
        tr = self.trainer
        self.initial_params: Params = tr.params
        self.initial_loss = float(tr.predict(max_length=self.pass_length).loss)
        self.initial_update = tr.updates
        self.events: list[tuple[int, str]] = []
        self.trouble: Trouble | None = None
        self.last: StepResult | None = None
        self.ticks.clear()

    @property
    def vocab(self) -> tuple[str, ...]:
        return self.trainer.corpus.vocab

    @property
    def pass_length(self) -> int:
        """T of a full pass: the whole text, or one chunk of ``seq_length`` inputs."""
        return min(self.trainer.settings.seq_length, self.trainer.corpus.T)

    @property
    def chunks_per_sweep(self) -> int:
        """Updates (passes) needed to go once through the whole text."""
        return int(np.ceil(self.trainer.corpus.T / self.trainer.settings.seq_length))

    @property
    def chance_per_char(self) -> float:
        """L(t) of a network that gives every character probability 1/V (ln V for softmax)."""
        return chance_loss(self.trainer.config)

    def reset(self) -> None:
        """Fresh weights from the seed; history, optimizer state and notes cleared."""
        self.trainer.reset()
        self.playing = False
        self._started()

    def sync(self, settings: Settings, notation: Notation | None = None) -> Notice | None:
        """Follow the sidebar. A new text or architecture restarts training (with a warning);
        other hyperparameters apply to the running training (with an info line)."""
        eta = notation.plain("eta") if notation is not None else "η"
        config = settings.training()
        if settings.text != self.text:
            self.text = settings.text
            self.config = config
            self.trainer = LiveTrainer(
                self.text, max_history=self.max_history, **asdict(self.config)
            )
            self.playing = False
            self._started()
            self.upload_notice = None
            return Notice(
                "warning",
                "The training text changed, so training restarted from new random weights: a "
                "new text has its own characters, so W_xh and W_hy have new rows and columns.",
            )
        if config == self.config:
            return None
        changes = describe_changes(self.config, config, eta)
        config_old = self.config
        reset = self.trainer.apply(**asdict(config))
        self.config = config
        if reset:
            self.playing = False
            self._started()
            return Notice(
                "warning",
                "Training restarted from new random weights because the network changed ("
                + "; ".join(changes)
                + "). The old weights belong to a different network, so they cannot continue.",
            )
        self.events.append((self.trainer.updates, event_label(self.config, eta, config_old)))
        if len(self.events) > 50:
            del self.events[:-50]
        return Notice(
            "info",
            "Applied to the running training, no restart: "
            + "; ".join(changes)
            + ". The weights learned so far are kept.",
        )

    # ------------------------------------------------------------------ training

    def train(self, n: int) -> list[StepResult]:
        """Up to ``n`` updates; stops (and stops playing) at a divergence or an explosion."""
        tr = self.trainer
        chance = self.chance_per_char
        out = []
        for _ in range(int(n)):
            before = tr.updates
            r = tr.step()
            out.append(r)
            self.last = r
            if r.diverged:
                self.trouble = Trouble(
                    "diverged", before, r.loss, chance * r.chunk_length, r.reason
                )
                self.playing = False
                break
            if exploded(r.loss / r.chunk_length, chance):
                self.trouble = Trouble("exploded", before, r.loss, chance * r.chunk_length, "")
                self.playing = False
                break
            self.trouble = None  # a healthy pass after a problem: training has recovered
        self.ticks.append((time.monotonic(), tr.updates))
        return out

    def rates(self, now: float | None = None) -> tuple[float, float] | None:
        """(updates per second, refreshes per second) over the last RATE_WINDOW_S seconds of
        ticks, or None with fewer than two ticks."""
        now = time.monotonic() if now is None else now
        recent = [(t, u) for t, u in self.ticks if now - t <= RATE_WINDOW_S]
        if len(recent) < 2 or recent[-1][0] <= recent[0][0]:
            return None
        span = recent[-1][0] - recent[0][0]
        return (recent[-1][1] - recent[0][1]) / span, (len(recent) - 1) / span

    def current_loss(self) -> float:
        """The loss of the latest pass (before its update), or of the first pass untrained."""
        return self.initial_loss if self.last is None else float(self.last.loss)

    # ------------------------------------------------------------------ the model's outputs

    def predictions(
        self, start: int, width: int
    ) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
        """y(t) for t = start+1 .. start+width from h(0) = 0: (y (W, V), input characters,
        target characters, target indices)."""
        corpus = self.trainer.corpus
        start = max(0, min(int(start), corpus.T - 1))
        end = min(corpus.T, start + int(width))
        trace = self.trainer.predict(max_length=end)
        ids = corpus.ids[start + 1 : end + 1]
        inputs = [display_char(c) for c in corpus.text[start:end]]
        targets = [display_char(c) for c in corpus.text[start + 1 : end + 1]]
        return trace.y[start:end], inputs, targets, ids

    def sample(self, length: int, seed_char: str, temperature: float) -> str:
        return self.trainer.sample(
            length, seed_char=seed_char, temperature=temperature, rng_seed=self.sample_seed
        )

    # ------------------------------------------------------------------ files

    def params_file(self) -> bytes:
        """The current parameters as an .npz (loadable by bptt_core.load_params)."""
        tr = self.trainer
        return checkpoint_bytes(tr.params, tr.config, tr.corpus.vocab)

    def history_csv(self) -> str:
        return self.trainer.history.to_csv(index=False)

    def file_stem(self) -> str:
        tr = self.trainer
        return f"bptt-H{tr.config.hidden_size}-{tr.config.activation}-update{tr.updates}"

    def load_upload(self, data: bytes | None, name: str = "the file") -> Notice:
        """Load uploaded parameters, or explain why not; a refused file changes nothing."""
        shown = name if len(name) <= 80 else name[:77] + "…"
        keep = "Nothing was changed: training continues where it was."
        if data is None or len(data) == 0:
            return Notice("error", f"“{shown}” is empty. {keep}")
        if len(data) > MAX_UPLOAD_BYTES:
            return Notice(
                "error",
                f"“{shown}” is {len(data) / 1e6:.1f} MB; parameter files of this app are far "
                f"smaller (the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB). {keep}",
            )
        try:
            checkpoint = load_checkpoint(data)
        except ValueError as exc:
            return Notice("error", f"“{shown}” cannot be loaded. {exc} {keep}")
        tr = self.trainer
        problems = checkpoint_differences(checkpoint, tr.config, tr.corpus.vocab)
        if problems:
            c = checkpoint.config
            return Notice(
                "error",
                f"“{shown}” does not fit the current network. "
                + " ".join(problems)
                + f" To continue from it, set the sidebar to match the file (H = {c.hidden_size}, "
                f"activation {c.activation}, {c.output} + {c.loss}) and use its training text. "
                + keep,
            )
        tr.load(checkpoint.params)
        self.uploads += 1
        self.trouble = None
        self.last = None
        self.initial_loss = float(tr.predict(max_length=self.pass_length).loss)
        self.events.append((tr.updates, "loaded"))
        unknown = (
            " The file does not record its characters (it was not saved by this page), so "
            "only the sizes could be checked."
            if checkpoint.vocab is None
            else ""
        )
        return Notice(
            "success",
            f"Loaded the parameters from “{shown}”: training continues from them at update "
            f"{tr.updates} (the optimizer's running averages start afresh).{unknown}",
        )


def session(state: MutableMapping, settings: Settings) -> TrainSession:
    """The session's TrainSession, created from ``settings`` on first use."""
    current = state.get(SESSION_KEY)
    if not isinstance(current, TrainSession):
        current = TrainSession(settings)
        state[SESSION_KEY] = current
    return current


def ambiguous_input(text: str) -> tuple[str, list[str]] | None:
    """The first character that is followed by different characters at different places in
    ``text`` (“l” in “hello”: once by “l”, once by “o”), with those followers; None if every
    character always has the same successor."""
    followers: dict[str, list[str]] = {}
    for a, b in pairwise(text):
        seen = followers.setdefault(a, [])
        if b not in seen:
            seen.append(b)
    for c, after in followers.items():
        if len(after) > 1:
            return c, after
    return None


def text_summary(sess: TrainSession) -> str:
    """One sentence on what one update trains on (markdown-safe apart from numbers)."""
    corpus = sess.trainer.corpus
    n, V, T = len(corpus.text), corpus.V, corpus.T
    if sess.chunks_per_sweep == 1:
        return (
            f"The text has {n:,} characters ({V} different, so V = {V}). Every update is one BPTT "
            f"pass over the whole text, T = {T} steps from h(0) = 0, then one optimizer step."
        )
    L = sess.trainer.settings.seq_length
    return (
        f"The text has {n:,} characters ({V} different, so V = {V}). It is trained in chunks of "
        f"T = {L} steps (the sidebar's chunk length): every update is one BPTT pass over the "
        f"next chunk, with the hidden state carried over from the previous chunk but no error "
        f"sent across the boundary (truncated BPTT). {sess.chunks_per_sweep} updates go once "
        f"through the whole text, then it starts again from h(0) = 0. Texts of up to "
        f"{MAX_TEXT_CHARS:,} characters are accepted."
    )
