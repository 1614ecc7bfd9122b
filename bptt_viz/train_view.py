"""What the "Train live" page shows, computed from one training run: every number and sentence,
and the inputs of every figure. No Streamlit: the page renders what these functions return, and
tests check them against an independent engine run.

A *run* is anything with the attributes of ``TrainingRun`` (the app's ``TrainSession``): the
``LiveTrainer`` and the bookkeeping around it (where training started, the settings changes
marked on the curve, why it was stopped).

    view = train_page_view(run, notation)          # counters, curves, captions, warnings
    predictions_view(run, start, notation)          # y(t) at 40 positions from ``start``
    sample_view(run, seed_char, temperature)        # text sampled from the network
    weights_view(run, notation, change=False)       # W_xh, W_hh, W_hy (or their change)
    curve_rows(run, after=u)                        # the history rows after update u

Texts are Markdown with KaTeX maths (``$…$``); user text in them is escaped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

import numpy as np

from bptt_core.health import EXPLODED_FACTOR, MIN_CHANCE
from bptt_core.history import LiveTrainer
from bptt_core.model import Params
from bptt_core.trainer import StepResult
from bptt_viz.figures.train_charts import (
    CHANCE_COLOR,
    CLIP_COLOR,
    CLIP_COLOR_NAME,
    EVENT_COLOR,
    GRAD_COLOR,
    LOSS_COLOR,
    RAW_COLOR,
    TARGET_MARK_NAME,
)
from bptt_viz.labels import display_char
from bptt_viz.markdown import inline_math, md_char, md_text
from bptt_viz.notation import Notation
from bptt_viz.numbers import readable
from bptt_viz.series import downsample, smooth

MAX_PLOT_POINTS = 1500  # the curves average buckets of updates beyond this
MAX_POSITIONS = 40  # positions of the text in the prediction heatmap at a time
MAX_SAMPLE = 300  # characters sampled
STUCK_FACTOR = 2.0  # a recent loss per character this many times chance: "stuck above chance"
STUCK_WINDOW = 10  # updates the stuck check looks back over (their median)
MIN_X_SPAN = 30  # the loss curve's x axis shows at least updates 0..30


# ---------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Trouble:
    """Why training was stopped: the engine met NaN/inf ("diverged") or the loss exploded."""

    kind: str  # "diverged" | "exploded"
    update: int  # updates made before the failing pass
    loss: float  # the loss of the failing pass (NaN when it diverged)
    chance: float  # the chance level of that pass
    reason: str  # the engine's sentence, for "diverged"


class TrainingRun(Protocol):
    """What the view reads from a training session (``bptt_app.train_session.TrainSession``)."""

    trainer: LiveTrainer
    epoch: int  # changes whenever the history starts afresh (reset, new text, new network)
    initial_params: Params  # the weights where this training started
    initial_loss: float  # the loss of the first pass before any update
    initial_update: int  # the update count where this training started
    events: list[tuple[int, str]]  # (update, label): settings changes, loaded files
    trouble: Trouble | None
    last: StepResult | None  # the latest pass
    sample_seed: int

    @property
    def pass_length(self) -> int: ...  # T of a full pass (the text, or one chunk)

    @property
    def chunks_per_sweep(self) -> int: ...  # passes that go once through the text

    @property
    def chance_per_char(self) -> float: ...  # L(t) of a network that knows nothing


# ---------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Counter:
    """One of the numbers above the curves."""

    label: str
    value: str
    delta: str | None = None  # a change, written with its sign ("+0.51 since the start")
    help: str = ""


@dataclass(frozen=True)
class Curves:
    """The history drawn as curves: one point per update (or per bucket of updates).

    update, loss, smoothed, chance, grad_norm, clipped: (N,) each. The loss of the untrained
    network is the point at update 0 (its gradient norm NaN). clipped is 0/1 (or the share of
    clipped updates when ``bucket`` > 1).
    """

    update: np.ndarray  # (N,) int
    loss: np.ndarray  # (N,) Σ_t L(t) of the pass, before its update
    smoothed: np.ndarray  # (N,) exponential moving average of loss
    chance: np.ndarray  # (N,) T·L_chance of that pass
    grad_norm: np.ndarray  # (N,) ‖∂L/∂θ‖ before clipping
    clipped: np.ndarray  # (N,) float
    bucket: int  # updates per point (1: every update)
    smooth_span: int  # span of the moving average, in updates


@dataclass(frozen=True)
class CurveLabels:
    """Names and marks of the loss and gradient-norm curves, in the chosen notation."""

    loss_name: str  # HTML, e.g. "L" or "C"
    chance_label: str
    events: tuple[tuple[int, str], ...]  # (update, label) dotted marks on the loss curve
    clip_threshold: float | None  # the norm-clipping threshold c, None without norm clipping
    clip_note: str  # what clipping does here when it is not by norm
    min_x_span: int


@dataclass(frozen=True)
class TrainPageView:
    """Everything on the page that does not depend on the page's own section widgets."""

    intro: str
    summary: str
    trouble: str | None  # error: training was stopped
    stuck: str | None  # warning: the loss stays far above chance
    counters: tuple[Counter, ...]  # updates, loss, chance level, speed
    curves: Curves
    labels: CurveLabels
    no_updates: str | None  # shown instead of the gradient curve before the first update
    dropped: str | None  # how much of a long history the charts let go
    loss_caption: str
    grad_caption: str
    predictions_caption: str
    sample_caption: str
    weights_caption: str
    limits_caption: str
    window_max: int | None  # last first-position of the prediction window (None: all fit)
    vocab_labels: tuple[str, ...]  # the characters, visible (select box of the sample)


def train_page_view(
    run: TrainingRun,
    n: Notation,
    speed: tuple[float, float] | None = None,
    max_text_chars: int = 5_000,
) -> TrainPageView:
    """The page's view of ``run`` in notation ``n``; ``speed`` is (updates/s, refreshes/s)
    while playing, None when paused."""
    corpus = run.trainer.corpus
    return TrainPageView(
        intro=intro(n),
        summary=text_summary(run, max_text_chars),
        trouble=trouble_text(run, n),
        stuck=stuck_text(run, n),
        counters=counters(run, n, speed),
        curves=curves(run),
        labels=curve_labels(run, n),
        no_updates=None if len(run.trainer.log) else NO_UPDATES,
        dropped=dropped_note(run),
        loss_caption=loss_caption(run, n),
        grad_caption=grad_caption(),
        predictions_caption=predictions_caption(run, n),
        sample_caption=sample_caption(run, n),
        weights_caption=weights_caption(run, n),
        limits_caption=limits_caption(run, max_text_chars),
        window_max=corpus.T - MAX_POSITIONS if corpus.T > MAX_POSITIONS else None,
        vocab_labels=tuple(display_char(c) for c in corpus.vocab),
    )


NO_UPDATES = "No updates yet: press **Play**, **1 update** or **10 updates**."


def intro(n: Notation) -> str:
    return (
        "Here the network **learns** the training text. Each **update** runs one BPTT pass — "
        f"forward through the text, computing every {inline_math(n.tex('h'))} and "
        f"{inline_math(n.tex('y'))}, then backward, summing each weight's gradient over the unfolded "
        f"copies — and moves every weight a small step against its gradient "
        f"({inline_math(n.tex('eta'))} sets the size of the step). Press **Play** and watch the loss "
        "fall, the predictions sharpen and the weights take shape. Every setting in the sidebar "
        "applies."
    )


def text_summary(run: TrainingRun, max_text_chars: int) -> str:
    """One sentence on what one update trains on."""
    corpus = run.trainer.corpus
    n, V, T = len(corpus.text), corpus.V, corpus.T
    head = f"The text has {n:,} characters ({V} different, so V = {V})."
    if run.chunks_per_sweep == 1:
        return (
            f"{head} Every update is one BPTT pass over the whole text, T = {T} steps from "
            "h(0) = 0, then one optimizer step."
        )
    L = run.trainer.settings.seq_length
    return (
        f"{head} It is trained in chunks of T = {L} steps (the sidebar's chunk length): every "
        "update is one BPTT pass over the next chunk, with the hidden state carried over from "
        "the previous chunk but no error sent across the boundary (truncated BPTT). "
        f"{run.chunks_per_sweep} updates go once through the whole text, then it starts again "
        f"from h(0) = 0. Texts of up to {max_text_chars:,} characters are accepted."
    )


# ---------------------------------------------------------------------------- counters


def current_loss(run: TrainingRun) -> float:
    """The loss of the latest pass (before its update), or of the first pass untrained."""
    return run.initial_loss if run.last is None else float(run.last.loss)


def current_pass_length(run: TrainingRun) -> int:
    return run.last.chunk_length if run.last is not None else run.pass_length


def counters(
    run: TrainingRun, n: Notation, speed: tuple[float, float] | None
) -> tuple[Counter, ...]:
    """Updates, the loss of the last pass (and its change since the start), the chance level
    of that pass, and the measured speed."""
    tr, corpus = run.trainer, run.trainer.corpus
    loss = current_loss(run)
    T = current_pass_length(run)
    change = loss - run.initial_loss if run.last is not None and np.isfinite(loss) else None
    return (
        Counter("Updates", f"{tr.updates:,}", help="Parameter updates since the start."),
        Counter(
            f"Loss {n.plain('L')} of the last pass",
            readable(loss),
            None if change is None else f"{readable(change, sign=True)} since the start",
            "The summed loss Σ_t L(t) of the latest BPTT pass, computed before its update. "
            "Before the first update: the loss of the untrained network on the first pass.",
        ),
        Counter(
            "Chance level",
            readable(run.chance_per_char * T),
            help=f"The loss of a network that knows nothing and gives each of the V = {corpus.V} "
            f"characters probability 1/V: T·ln V = {T}·ln {corpus.V} for softmax with "
            "cross-entropy.",
        ),
        Counter(
            "Speed",
            "paused" if speed is None else f"{speed[0]:,.0f} updates/s",
            None if speed is None else f"{speed[1]:.1f} refreshes/s",
            "Measured while playing, over the last few seconds.",
        ),
    )


# ---------------------------------------------------------------------------- curves


def curve_rows(run: TrainingRun, after: int | None = None) -> Curves:
    """The history as curve points, every update (no averaging): all kept rows, or only those
    after update ``after``. The untrained loss is the point at update 0 while it is kept."""
    log = run.trainer.log
    cols = {
        "update": log.column("update"),
        "loss": log.column("loss"),
        "chance": run.chance_per_char * log.column("chunk_length").astype(float),
        "grad_norm": log.column("grad_norm"),
        "clipped": log.column("clipped").astype(float),
    }
    if run.initial_update == 0 and (cols["update"].size == 0 or cols["update"][0] == 1):
        first = {
            "update": 0,
            "loss": run.initial_loss,
            "chance": run.chance_per_char * run.pass_length,
            "grad_norm": np.nan,
            "clipped": 0.0,
        }
        cols = {name: np.concatenate([[first[name]], col]) for name, col in cols.items()}
    span = smooth_span(run)
    smoothed = smooth(cols["loss"], span)
    keep = slice(None) if after is None else cols["update"] > after
    return Curves(
        update=cols["update"][keep],
        loss=cols["loss"][keep],
        smoothed=smoothed[keep],
        chance=cols["chance"][keep],
        grad_norm=cols["grad_norm"][keep],
        clipped=cols["clipped"][keep],
        bucket=1,
        smooth_span=span,
    )


def curves(run: TrainingRun, max_points: int = MAX_PLOT_POINTS) -> Curves:
    """The whole kept history, averaged in buckets beyond ``max_points`` points."""
    c = curve_rows(run)
    x, ys, bucket = downsample(
        c.update, c.loss, c.smoothed, c.chance, c.grad_norm, c.clipped, max_points=max_points
    )
    return Curves(x, *ys, bucket=bucket, smooth_span=c.smooth_span)


def smooth_span(run: TrainingRun) -> int:
    """The moving average spans one sweep through the text, between 5 and 50 updates."""
    return int(min(50, max(5, run.chunks_per_sweep)))


def curve_labels(run: TrainingRun, n: Notation) -> CurveLabels:
    cfg = run.trainer.settings
    V = run.trainer.corpus.V
    softmax_ce = (
        run.trainer.config.output == "softmax" and run.trainer.config.loss == "cross_entropy"
    )
    clip_note = {
        "none": "no clipping",
        "value": f"clipping each entry to ±{cfg.clip_threshold:g} (no norm threshold)",
        "norm": "",
    }[cfg.clip]
    return CurveLabels(
        loss_name=n.html("L"),
        chance_label=f"chance level T·ln V (V = {V})"
        if softmax_ce
        else "chance level (every output 1/V)",
        events=tuple(run.events),
        clip_threshold=cfg.clip_threshold if cfg.clip == "norm" else None,
        clip_note=clip_note,
        min_x_span=MIN_X_SPAN,
    )


def dropped_note(run: TrainingRun) -> str | None:
    log = run.trainer.log
    if not log.dropped:
        return None
    return (
        f"Showing the last {log.capacity:,} updates ({log.dropped:,} older ones were let go to "
        "keep memory bounded)."
    )


# ---------------------------------------------------------------------------- when it goes wrong


def _advice(run: TrainingRun, n: Notation) -> list[str]:
    """What to change, from the current settings."""
    cfg, eta = run.trainer.settings, n.plain("eta")
    advice = []
    if cfg.learning_rate > 0.1:
        advice.append(f"lower the learning rate {eta} (now {cfg.learning_rate:g}; try 0.05)")
    if cfg.clip == "none":
        advice.append("turn on gradient clipping (“global norm”, c = 5)")
    if cfg.optimizer == "sgd" and cfg.learning_rate > 0.1:
        advice.append("or use Adam, which scales each step by the gradient's recent size")
    if cfg.activation in ("linear", "relu"):
        advice.append(
            f"or use tanh: a {cfg.activation} hidden layer does not squash, so h can grow "
            "without bound"
        )
    return advice or [f"lower the learning rate {eta} or the clipping threshold"]


WHY_OVERSHOOT = (
    " **Why:** each update moves every weight by the learning rate times its gradient; when that "
    "step is too large it overshoots the valley of the loss and lands where the gradient is even "
    "larger, so the next step is larger again. Clipping caps the length of each step."
)


def trouble_text(run: TrainingRun, n: Notation) -> str | None:
    """Why training stopped (a divergence or an exploded loss) and what to do, or None."""
    trouble = run.trouble
    if trouble is None:
        return None
    if trouble.kind == "diverged":
        what = (
            f"**Training diverged at update {trouble.update + 1}:** {trouble.reason}. The "
            "numbers overflowed the range of floating point, so that update was not applied: "
            f"the weights are still the last finite ones (after update {trouble.update})."
        )
    else:
        what = (
            f"**The loss exploded at update {trouble.update + 1}:** {readable(trouble.loss)}, "
            f"more than {EXPLODED_FACTOR:.0f} times the chance level {readable(trouble.chance)} "
            "of a network that knows nothing. The weights are still finite, but the predictions "
            "are confidently wrong."
        )
    return (
        what
        + WHY_OVERSHOOT
        + " **To fix it:** "
        + "; ".join(_advice(run, n))
        + ". Then press **Reset** to start again from fresh weights (or continue from the "
        "current ones with the new settings). The rest of the page keeps working."
    )


def stuck_ratio(loss_per_char: np.ndarray, chance_per_char: float) -> float | None:
    """The median loss per character of the last STUCK_WINDOW updates over the chance level,
    when it is at least STUCK_FACTOR (None otherwise, or with fewer updates)."""
    recent = np.asarray(loss_per_char, dtype=float)[-STUCK_WINDOW:]
    recent = recent[np.isfinite(recent)]
    if recent.size < STUCK_WINDOW:
        return None
    ratio = float(np.median(recent)) / max(chance_per_char, MIN_CHANCE)
    return ratio if ratio >= STUCK_FACTOR else None


def stuck_text(run: TrainingRun, n: Notation) -> str | None:
    """A warning when the loss stays far above chance (but below the explosion that stops
    training), with the same advice."""
    if run.trouble is not None:
        return None
    log = run.trainer.log
    ratio = stuck_ratio(log.column("loss_per_char"), run.chance_per_char)
    if ratio is None:
        return None
    per_char = float(np.median(log.column("loss_per_char")[-STUCK_WINDOW:]))
    return (
        f"**The loss is stuck far above chance:** over the last {STUCK_WINDOW} updates it was "
        f"{readable(per_char, 3)} per character, about {ratio:.0f}× the "
        f"{readable(run.chance_per_char, 3)} of a network that knows nothing (the dashed line). "
        "Guessing would do better: the network is confidently wrong, and the loss jumps instead "
        "of falling."
        + WHY_OVERSHOOT
        + " **To fix it:** "
        + "; ".join(_advice(run, n))
        + ". Training goes on; the weights stay finite."
    )


# ---------------------------------------------------------------------------- captions


def loss_caption(run: TrainingRun, n: Notation) -> str:
    loss_sum = n.tex("L") + r"=\sum_t " + n.tex("L_t")
    tr = run.trainer
    last_chunk = tr.corpus.T - (run.chunks_per_sweep - 1) * tr.settings.seq_length
    chunk_note = (
        f" The last chunk of the text is shorter (T = {last_chunk}), so every "
        f"{run.chunks_per_sweep} updates the loss and the chance level dip together."
        if run.chunks_per_sweep > 1 and last_chunk < tr.settings.seq_length
        else ""
    )
    return (
        f"The loss {inline_math(loss_sum)} of each pass (a sum over the T steps, never a mean), "
        "measured before that pass's update; the thick line is its moving average. The dashed "
        "line is what guessing gives (every character probability 1/V): below it the network has "
        "learned something. Purple marks: a setting changed or parameters were loaded." + chunk_note
    )


def grad_caption() -> str:
    return (
        "The length ‖∂L/∂θ‖ of the whole gradient (all five arrays together) before clipping. "
        "Norm clipping rescales any gradient longer than the threshold c (the dashed line) down "
        f"to length c; {CLIP_COLOR_NAME} dots mark the updates it changed: the direction is "
        "kept, the step is capped. Spikes here are exploding gradients."
    )


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


OUTPUT_NOTES = {
    "softmax": "With softmax each column sums to 1.",
    "sigmoid": "Sigmoid outputs are separate yes/no probabilities; a column need not sum to 1.",
    "linear": "Linear outputs are not probabilities; the colours follow their values.",
}


def predictions_caption(run: TrainingRun, n: Notation) -> str:
    amb = ambiguous_input(run.trainer.corpus.text)
    memory_note = (
        ""
        if amb is None
        else f" Look at the inputs “{md_char(amb[0])}”: the same input is followed by "
        + " and by ".join(f"“{md_char(c)}”" for c in amb[1][:3])
        + " at different places, so only the hidden state, the network's memory of what came "
        "before, can tell those positions apart."
    )
    return (
        f"Column t is the prediction {inline_math(n.tex('y'))} after reading the text up to the input "
        "shown below it (from h(0) = 0, with the current weights); brighter = more probable. "
        f"The {TARGET_MARK_NAME} squares mark the characters that really come next: training "
        f"moves probability into them. {OUTPUT_NOTES[run.trainer.config.output]}{memory_note}"
    )


def sample_caption(run: TrainingRun, n: Notation) -> str:
    text = run.trainer.corpus.text
    example = (
        f": “{md_char(text[0])}” gives “{md_text(''.join(map(display_char, text[:12])))}…”"
        if len(text) > 2
        else ""
    )
    return (
        f"Feed in a character, draw the next one at random from {inline_math(n.tex('y'))}, feed that "
        f"in, and so on. Once the text is learned the samples repeat it{example}. After the last "
        f"“{md_char(text[-1])}” the network has never seen anything follow, so there it guesses."
    )


def weights_caption(run: TrainingRun, n: Notation) -> str:
    corpus = run.trainer.corpus
    never_input = [ch for ch in corpus.vocab if ch not in corpus.text[:-1]]
    never_note = (
        ""
        if not never_input
        else f" The column of “{md_char(never_input[0])}” in {inline_math(n.tex('W_xh'))} never "
        "changes: that character is never an input, so its x(t) entry is never 1 and its "
        "gradient is always zero."
    )
    return (
        f"{inline_math(n.tex('W_xh'))}: input → hidden (one column per character); "
        f"{inline_math(n.tex('W_hh'))}: hidden → hidden (the recurrence, shared by every unfolded "
        f"copy); {inline_math(n.tex('W_hy'))}: hidden → output (one row per character). Orange "
        "positive, blue negative, one colour scale for all three; hover a cell for its value. "
        "“Change since the start” shows what training has added to the initial random weights."
        + never_note
    )


def limits_caption(run: TrainingRun, max_text_chars: int) -> str:
    return (
        f"**Your own text:** type it in the sidebar, up to {max_text_chars:,} characters (longer "
        "text is refused with a message, never cut). Long texts are trained in chunks of the "
        "sidebar's chunk length, the hidden state carried from one chunk to the next. **Memory:** "
        f"the charts and the history file keep the last {run.trainer.log.capacity:,} updates; "
        f"beyond {MAX_PLOT_POINTS:,} points the charts average neighbouring updates."
    )


# ---------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class PredictionView:
    """Inputs of ``prediction_heatmap``: y(t) at W positions of the text."""

    y: np.ndarray  # (W, V) outputs y(t) from h(0) = 0 with the current weights
    input_chars: tuple[str, ...]  # (W,) visible input characters
    target_chars: tuple[str, ...]  # (W,) visible next characters
    vocab: tuple[str, ...]  # (V,) visible characters
    target_ids: np.ndarray  # (W,) index of each target in the vocabulary
    first_t: int  # t of the first column (1-based)
    probabilities: bool  # softmax or sigmoid outputs: a fixed [0, 1] colour scale
    value_name: str  # HTML name of y in the notation


def predictions_view(
    run: TrainingRun, start: int, n: Notation, width: int = MAX_POSITIONS
) -> PredictionView:
    """y(t) for t = start+1 .. start+width (clipped to the text) from h(0) = 0."""
    tr, corpus = run.trainer, run.trainer.corpus
    start = max(0, min(int(start), corpus.T - 1))
    end = min(corpus.T, start + int(width))
    trace = tr.predict(max_length=end)
    return PredictionView(
        y=trace.y[start:end],
        input_chars=tuple(display_char(c) for c in corpus.text[start:end]),
        target_chars=tuple(display_char(c) for c in corpus.text[start + 1 : end + 1]),
        vocab=tuple(display_char(c) for c in corpus.vocab),
        target_ids=corpus.ids[start + 1 : end + 1],
        first_t=start + 1,
        probabilities=tr.config.output in ("softmax", "sigmoid"),
        value_name=n.html("y"),
    )


def sample_view(run: TrainingRun, seed_label: str, temperature: float) -> str:
    """Text sampled from the network after the character shown as ``seed_label`` (the first
    character of the text if it is not one of them)."""
    corpus = run.trainer.corpus
    labels = [display_char(c) for c in corpus.vocab]
    seed = corpus.vocab[labels.index(seed_label)] if seed_label in labels else corpus.text[0]
    length = int(min(MAX_SAMPLE, max(20, 3 * corpus.T)))
    return run.trainer.sample(
        length, seed_char=seed, temperature=temperature, rng_seed=run.sample_seed
    )


@dataclass(frozen=True)
class WeightsView:
    """Inputs of ``weight_heatmaps``."""

    matrices: tuple[tuple[str, np.ndarray, tuple[str, ...], tuple[str, ...]], ...]
    value_name: str
    roles: tuple[str, ...]


def weights_view(run: TrainingRun, n: Notation, change: bool = False) -> WeightsView:
    """W_xh (H, V), W_hh (H, H), W_hy (V, H) now, or their change since training started."""
    tr = run.trainer
    p = tr.params.zip_map(run.initial_params, np.subtract) if change else tr.params
    units = tuple(f"h{j + 1}" for j in range(tr.config.hidden_size))
    chars = tuple(f"“{display_char(c)}”" for c in tr.corpus.vocab)
    return WeightsView(
        matrices=(
            (n.html("W_xh"), p.W_xh, units, chars),
            (n.html("W_hh"), p.W_hh, units, units),
            (n.html("W_hy"), p.W_hy, chars, units),
        ),
        value_name="Δ" if change else "weight",
        roles=("input → hidden", "hidden → hidden", "hidden → output"),
    )


def file_stem(run: TrainingRun) -> str:
    cfg = run.trainer.config
    return f"bptt-H{cfg.hidden_size}-{cfg.activation}-update{run.trainer.updates}"


def vocab_key(run: TrainingRun) -> str:
    """A short key that changes with the vocabulary (for the sample's select box)."""
    return hashlib.sha1("".join(run.trainer.corpus.vocab).encode()).hexdigest()[:8]


# ---------------------------------------------------------------------------- the browser panel


def _finite(x: float) -> float | None:
    """JSON has no NaN or infinity: None (null) for them."""
    x = float(x)
    return x if np.isfinite(x) else None


def panel_rows(run: TrainingRun, c: Curves) -> list[list[object]]:
    """One row per point for the browser: [update, loss, moving average, chance, gradient norm,
    clipped, loss text, change-since-the-start text, chance text]."""
    rows = []
    for u, loss, avg, chance, grad, clipped in zip(
        c.update.tolist(),
        c.loss.tolist(),
        c.smoothed.tolist(),
        c.chance.tolist(),
        c.grad_norm.tolist(),
        c.clipped.tolist(),
        strict=True,
    ):
        change = loss - run.initial_loss
        rows.append(
            [
                int(u),
                _finite(loss),
                _finite(avg),
                _finite(chance),
                _finite(grad),
                float(clipped),
                readable(loss),
                readable(change, sign=True)
                if u > run.initial_update and np.isfinite(change)
                else "",
                readable(chance),
            ]
        )
    return rows


def panel_labels(run: TrainingRun, n: Notation, c: Curves) -> dict[str, object]:
    """The words of the panel in the chosen notation: counters, their help, legends, axes."""
    shown = counters(run, n, None)
    names = ("updates", "loss", "chance", "speed")
    loss = n.plain("L")
    return {
        "counters": {name: counter.label for name, counter in zip(names, shown, strict=True)},
        "helps": {name: counter.help for name, counter in zip(names, shown, strict=True)},
        "loss_plain": loss,
        "loss_axis": f"loss {loss} of the pass",
        "chance": curve_labels(run, n).chance_label,
        "raw": f"{loss} per update" if c.bucket == 1 else f"{loss}, mean of {c.bucket} updates",
        "average": f"moving average ({c.smooth_span} updates)",
    }


PANEL_COLORS = {
    "chance": CHANCE_COLOR,
    "raw": RAW_COLOR,
    "average": LOSS_COLOR,
    "grad": GRAD_COLOR,
    "clip": CLIP_COLOR,
    "event": EVENT_COLOR,
}


def panel_data(
    run: TrainingRun,
    n: Notation,
    *,
    after: int | None = None,
    fresh: int = 0,
    playing: bool = False,
    interval: float = 1.0,
) -> dict[str, object]:
    """What the browser panel draws. ``after`` None: the whole kept history (averaged beyond
    MAX_PLOT_POINTS points); else only the rows after update ``after``, which continue the
    browser's rows. The last ``fresh`` rows are revealed one by one over ``interval`` s."""
    c = curves(run) if after is None else curve_rows(run, after=after)
    labels = curve_labels(run, n)
    return {
        "epoch": run.epoch,
        "append": after is not None,
        "after": after,
        "fresh": int(fresh),
        "playing": bool(playing),
        "interval": float(interval),
        "rows": panel_rows(run, c),
        "bucket": c.bucket,
        "capacity": run.trainer.log.capacity,
        "events": [[int(u), label] for u, label in labels.events],
        "clip_threshold": labels.clip_threshold,
        "clip_note": labels.clip_note,
        "min_x_span": labels.min_x_span,
        "dropped": dropped_note(run),
        "labels": panel_labels(run, n, c),
        "colors": PANEL_COLORS,
    }
