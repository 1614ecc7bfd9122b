"""Session-side state of the Train live page: one Trainer per browser session.

``TrainSession`` holds the ``LiveTrainer`` (kept in ``st.session_state``), follows the sidebar
(``sync``: a new text or architecture restarts training with a notice; the learning rate,
optimizer, clipping, truncation and chunk length are applied to the running training), trains a
number of updates (``train``) or, while playing, as many as the chosen speed asks for since the
last batch (``play_batch``), stops at a divergence or an explosion, measures updates per second,
and loads or saves parameter files. No Streamlit here: the page passes ``st.session_state`` in,
so everything can be tested on its own. What the page shows about a session is computed by
``bptt_viz.train_view``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass, fields

import numpy as np

from bptt_app.settings import Settings
from bptt_core.checkpoint import checkpoint_bytes, load_checkpoint
from bptt_core.health import chance_loss, exploded
from bptt_core.history import DEFAULT_MAX_HISTORY, LiveTrainer
from bptt_core.model import Params
from bptt_core.trainer import ARCHITECTURE_FIELDS, StepResult, TrainingConfig
from bptt_viz.messages import checkpoint_differences
from bptt_viz.notation import Notation
from bptt_viz.train_view import Trouble

__all__ = ["ARCHITECTURE_FIELDS", "SESSION_KEY", "Notice", "TrainSession", "Trouble", "session"]

SESSION_KEY = "train_session"
MAX_UPLOAD_BYTES = 1_000_000  # the server refuses more (.streamlit/config.toml maxUploadSize)
RATE_WINDOW_S = 3.0  # updates per second are measured over this many recent seconds
SPEEDS = (5, 10, 20, 50, 100, 200)  # updates per second offered while playing
DEFAULT_SPEED = 20
MAX_BATCH_GAP_S = 2.0  # a play batch catches up on at most this many seconds of missed time
BATCH_BUDGET_S = 0.25  # CPU time one play batch may spend training (fairness between students)

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
    "initial_weights": "initial weights",
}


@dataclass(frozen=True)
class Notice:
    """A message for the page: level is "success", "info", "warning" or "error"."""

    level: str
    message: str


def _fmt(name: str, value: object) -> str:
    if name == "initial_weights":
        return "random from the seed" if value is None else "set by hand"
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
            if f.name == "initial_weights" and a is not None and b is not None:
                out.append("initial weights: edited by hand")
                continue
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
    """The training of one browser session."""

    def __init__(self, settings: Settings, max_history: int = DEFAULT_MAX_HISTORY) -> None:
        self.text = settings.text
        self.config = settings.training()
        self.max_history = max_history
        self.trainer = self._new_trainer()
        self.playing = False
        self.speed = DEFAULT_SPEED  # updates per second while playing
        self.sample_seed = 0
        self.upload_notice: Notice | None = None
        self.uploads = 0  # successful uploads (for file names and the event marks)
        self.ticks: deque[tuple[float, int]] = deque(maxlen=200)
        self.epoch = 0  # changes whenever the history starts afresh (the browser redraws)
        self.batch_time: float | None = None  # when the last play batch was trained
        self.sent_through: int | None = None  # the browser panel holds the rows up to here
        self.sent_epoch = -1  # … of this epoch
        self.full_send_pending = True  # the next panel message carries the whole history
        self._started()

    def _new_trainer(self) -> LiveTrainer:
        """The one route from the sidebar to the engine: Settings.training() → TrainingConfig."""
        return LiveTrainer(self.text, max_history=self.max_history, **asdict(self.config))

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
        self.epoch += 1
        self.batch_time = None

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

    def rows_to_send(self) -> int | None:
        """The update after which the next panel message starts: None for the whole history
        (a full page run, a new epoch, or the browser asked for it), else where the last
        message the browser received ended."""
        if self.full_send_pending or self.sent_epoch != self.epoch:
            return None
        return self.sent_through

    def mark_sent(self) -> None:
        """The panel message with every row up to now went out (call after rendering it: a
        run stopped before that leaves the rows for the next message)."""
        self.full_send_pending = False
        self.sent_epoch = self.epoch
        last = self.trainer.log.last("update")
        self.sent_through = 0 if last is None else int(last)

    def request_full_send(self) -> None:
        self.full_send_pending = True

    def toggle_play(self) -> None:
        self.playing = not self.playing
        self.ticks.clear()
        self.batch_time = None

    def sync(self, settings: Settings, notation: Notation | None = None) -> Notice | None:
        """Follow the sidebar. A new text or architecture restarts training (with a warning);
        other hyperparameters apply to the running training (with an info line)."""
        eta = notation.plain("eta") if notation is not None else "η"
        config = settings.training()
        if settings.text != self.text:
            return self._restart_for_text(settings.text, config)
        if config == self.config:
            return None
        changes = describe_changes(self.config, config, eta)
        config_old = self.config
        reset = self.trainer.apply(**asdict(config))
        self.config = config
        if reset:
            self.playing = False
            self._started()
            start = (
                "new random weights"
                if config.initial_weights is None
                else "the weights set by hand"
            )
            return Notice(
                "warning",
                f"Training restarted from {start} because the network changed ("
                + "; ".join(changes)
                + "). The old weights belong to a different network, so they cannot continue.",
            )
        self.events.append((self.trainer.updates, event_label(self.config, eta, config_old)))
        del self.events[:-50]
        return Notice(
            "info",
            "Applied to the running training, no restart: "
            + "; ".join(changes)
            + ". The weights learned so far are kept.",
        )

    def _restart_for_text(self, text: str, config: TrainingConfig) -> Notice:
        self.text = text
        self.config = config
        self.trainer = self._new_trainer()
        self.playing = False
        self._started()
        self.upload_notice = None
        if config.initial_weights is not None:
            return Notice(
                "warning",
                "The training text changed, so training restarted from the weights set by hand.",
            )
        return Notice(
            "warning",
            "The training text changed, so training restarted from new random weights: a new "
            "text has its own characters, so W_xh and W_hy have new rows and columns.",
        )

    # ------------------------------------------------------------------ training

    def train(self, n: int, budget_s: float | None = None) -> list[StepResult]:
        """Up to ``n`` updates (fewer once this thread has spent ``budget_s`` seconds of CPU
        time on them: CPU, not wall time, so a busy server does not cut every batch short);
        stops (and stops playing) at a divergence or an explosion."""
        tr = self.trainer
        chance = self.chance_per_char
        out: list[StepResult] = []
        deadline = None if budget_s is None else time.thread_time() + budget_s
        for _ in range(int(n)):
            before = tr.updates
            r = tr.step()
            out.append(r)
            self.last = r
            if r.diverged or exploded(r.loss / r.chunk_length, chance):
                kind = "diverged" if r.diverged else "exploded"
                self.trouble = Trouble(kind, before, r.loss, chance * r.chunk_length, r.reason)
                self.playing = False
                break
            self.trouble = None  # a healthy pass after a problem: training has recovered
            if deadline is not None and time.thread_time() > deadline:
                break
        self.ticks.append((time.monotonic(), tr.updates))
        return out

    def play_batch(self, now: float | None = None) -> list[StepResult]:
        """While playing: the updates the chosen speed asks for since the previous batch (at
        least one, at most MAX_BATCH_GAP_S seconds' worth, within BATCH_BUDGET_S of CPU)."""
        now = time.monotonic() if now is None else now
        gap = 1.0 if self.batch_time is None else min(MAX_BATCH_GAP_S, now - self.batch_time)
        self.batch_time = now
        wanted = max(1, round(self.speed * gap))
        return self.train(wanted, budget_s=BATCH_BUDGET_S)

    def rates(self, now: float | None = None) -> tuple[float, float] | None:
        """(updates per second, refreshes per second) over the last RATE_WINDOW_S seconds of
        ticks, or None with fewer than two ticks."""
        now = time.monotonic() if now is None else now
        recent = [(t, u) for t, u in self.ticks if now - t <= RATE_WINDOW_S]
        if len(recent) < 2 or recent[-1][0] <= recent[0][0]:
            return None
        span = recent[-1][0] - recent[0][0]
        return (recent[-1][1] - recent[0][1]) / span, (len(recent) - 1) / span

    # ------------------------------------------------------------------ files

    def params_file(self) -> bytes:
        """The current parameters as an .npz (loadable by bptt_core.load_params)."""
        tr = self.trainer
        return checkpoint_bytes(tr.params, tr.config, tr.corpus.vocab)

    def history_csv(self) -> str:
        return self.trainer.history.to_csv(index=False)

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
        problems = checkpoint_differences(checkpoint, self.trainer.config, self.vocab)
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
        self._continue_from(checkpoint.params)
        unknown = (
            " The file does not record its characters (it was not saved by this page), so "
            "only the sizes could be checked."
            if checkpoint.vocab is None
            else ""
        )
        return Notice(
            "success",
            f"Loaded the parameters from “{shown}”: training continues from them at update "
            f"{self.trainer.updates} (the optimizer's running averages start afresh).{unknown}",
        )

    def _continue_from(self, params: Params) -> None:
        tr = self.trainer
        tr.load(params)
        self.uploads += 1
        self.trouble = None
        self.last = None
        self.initial_loss = float(tr.predict(max_length=self.pass_length).loss)
        self.events.append((tr.updates, "loaded"))


def session(state: MutableMapping, settings: Settings) -> TrainSession:
    """The session's TrainSession, created from ``settings`` on first use."""
    current = state.get(SESSION_KEY)
    if not isinstance(current, TrainSession):
        current = TrainSession(settings)
        state[SESSION_KEY] = current
    return current
