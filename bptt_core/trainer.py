"""Training a character RNN on a text: BPTT passes, updates, history, divergence, sampling.

Texts no longer than ``seq_length + 1`` characters are one sequence: every pass starts from
h(0) = 0 and covers the whole text. Longer texts are cut into chunks of ``seq_length`` inputs; the
hidden state is carried from one chunk to the next but no error crosses a chunk boundary
(TBPTT(k1, k2) of Williams & Peng with k1 = k2 = seq_length, as in min-char-rnn); after the last
chunk the walk starts again at the beginning with h(0) = 0.

Two update schedules:
  "sequence": one update after the whole pass, from the summed gradient (BPTT as in every note);
  "timestep": one update after every timestep t, from the gradient of L(t) alone, backpropagated
              through at most ``truncation`` copies (the online updates of Guo's equations 21–25).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np

from bptt_core import functions as F
from bptt_core.backward import (
    LocalErrors,
    backward_unchecked,
    check_truncation,
    gradients_from_deltas,
    local_errors,
    truncated_hidden_deltas,
)
from bptt_core.corpus import Corpus
from bptt_core.model import (
    INIT_SCHEMES,
    ForwardTrace,
    Params,
    RNNConfig,
    check_params,
    forward_unchecked,
    init_params,
)
from bptt_core.optim import (
    OPTIMIZERS,
    ClipInfo,
    Optimizer,
    check_clipping,
    check_learning_rate,
    clip_gradients,
    make_optimizer,
)
from bptt_core.records import OnlinePassRecord, OnlineStep, PassRecord, UpdateRecord

if TYPE_CHECKING:  # pandas only builds the history table, when it is read
    import pandas as pd

SCHEDULES: tuple[str, ...] = ("sequence", "timestep")
HISTORY_COLUMNS: tuple[str, ...] = (
    "update",
    "loss",
    "loss_per_char",
    "grad_norm",
    "clipped",
    "chunk_start",
    "chunk_length",
    "updates",
    "learning_rate",
    "diverged",
)

# the fields that fix the initial network: changing one makes the current weights meaningless
ARCHITECTURE_FIELDS: tuple[str, ...] = (
    "hidden_size",
    "activation",
    "output",
    "loss",
    "init",
    "init_scale",
    "spectral_radius",
    "seed",
    "initial_weights",
)


def _check_choice(what: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"Unknown {what} {value!r}; choose one of {', '.join(choices)}.")


def _check_nonnegative(name: str, value: object, *, allow_zero: bool) -> None:
    """A finite number > 0 (≥ 0 if ``allow_zero``), else a ValueError naming the setting."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        kind = "a number ≥ 0" if allow_zero else "a positive number"
        raise ValueError(f"The {name} must be {kind}, got {value!r}.")


def _check_initial_weights(values: object) -> None:
    """None, or a tuple of finite real numbers (hashable, so the config stays a cache key)."""
    if values is None:
        return
    if not isinstance(values, tuple) or not values:
        raise ValueError(
            "The initial weights must be a non-empty tuple of numbers (every weight, in the "
            f"order W_xh, W_hh, W_hy, b_h, b_y), got {type(values).__name__}."
        )
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise ValueError(f"Initial weight number {i + 1} is {v!r}, not a number.")
        if not np.isfinite(v):
            raise ValueError(
                f"Initial weight number {i + 1} is {v!r}; every weight must be finite."
            )


@dataclass(frozen=True)
class TrainingConfig:
    """Every hyperparameter of training; immutable and hashable. The defaults learn "hello" to
    under 0.05 nats per character within 100 updates for any seed."""

    hidden_size: int = 8  # H
    activation: str = "tanh"  # f
    output: str = "softmax"  # g
    loss: str = "cross_entropy"
    init: str = "xavier"  # "xavier" or "scale" (see init_params)
    init_scale: float = 0.1
    spectral_radius: float | None = None  # rescale W_hh to this spectral radius at init
    seed: int = 0
    learning_rate: float = 0.05  # η
    optimizer: str = "adam"
    clip: str = "norm"  # none | value | norm
    clip_threshold: float = 5.0
    truncation: int | None = None  # k, or None for full BPTT
    seq_length: int = 25  # inputs per chunk for long texts
    schedule: str = "sequence"  # sequence | timestep
    # every initial weight, flattened in PARAM_NAMES order (Params.flat), instead of a random
    # draw: (H·I + H·H + O·H + H + O,), or None for init_params with the fields above
    initial_weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
            raise ValueError(f"The seed must be a whole number, got {self.seed!r}.")
        if not 0 <= int(self.seed) < 2**32:
            raise ValueError(f"The seed must be between 0 and 2³² − 1, got {self.seed}.")
        _check_choice("initialisation", self.init, INIT_SCHEMES)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("update schedule", self.schedule, SCHEDULES)
        check_learning_rate(self.learning_rate)
        # checked here, not only in init_params, so that a rejected apply() changes nothing
        _check_nonnegative("initial weight scale", self.init_scale, allow_zero=False)
        if self.spectral_radius is not None:
            _check_nonnegative("spectral radius", self.spectral_radius, allow_zero=True)
        check_clipping(self.clip, self.clip_threshold)
        check_truncation(self.truncation)
        if (
            isinstance(self.seq_length, bool)
            or not isinstance(self.seq_length, int | np.integer)
            or self.seq_length < 1
        ):
            raise ValueError(
                f"The sequence length must be a whole number ≥ 1, got {self.seq_length!r}."
            )
        _check_initial_weights(self.initial_weights)
        # the architecture itself is validated by RNNConfig
        RNNConfig(1, self.hidden_size, 1, self.activation, self.output, self.loss)

    def network(self, vocab_size: int) -> RNNConfig:
        """The RNNConfig for a vocabulary of ``vocab_size`` characters (I = O = V)."""
        return RNNConfig(
            vocab_size, self.hidden_size, vocab_size, self.activation, self.output, self.loss
        )

    def initial_params(self, config: RNNConfig) -> Params:
        """The network's parameters before any update: the given ``initial_weights`` cut into
        the shapes of ``config`` (a ValueError if they do not fit), else ``init_params`` with
        this seed, scheme, scale and spectral radius (the one place where settings become
        initial weights)."""
        if self.initial_weights is not None:
            return Params.from_flat(self.initial_weights, config)
        return init_params(
            config,
            self.seed,
            scheme=self.init,
            scale=self.init_scale,
            spectral_radius=self.spectral_radius,
        )

    def architecture(self) -> TrainingConfig:
        """This config with every training-only field (η, optimizer, clipping, truncation,
        chunk length, schedule) at its default: a cache key for what depends on the initial
        network alone."""
        return TrainingConfig(**{name: getattr(self, name) for name in ARCHITECTURE_FIELDS})

    def architecture_key(self) -> tuple:
        """The settings whose change makes the current parameters meaningless (a reset)."""
        return tuple(getattr(self, name) for name in ARCHITECTURE_FIELDS)


@dataclass(frozen=True)
class StepResult:
    """The outcome of one ``Trainer.step``."""

    loss: float  # Σ_t L(t) of this pass (NaN if it diverged before finishing)
    diverged: bool  # a non-finite loss, gradient or parameter was met; params were kept
    grad_norm: float  # ‖∂L/∂θ‖₂ before clipping (last update of the pass)
    clipped: bool  # whether clipping changed the gradient
    updates: int  # parameter updates made in this pass (1, or T for the timestep schedule)
    chunk_start: int  # index in the text of the chunk's first input character
    chunk_length: int  # T of this pass
    reason: str = ""  # why it diverged, in a sentence
    record: PassRecord | OnlinePassRecord | None = None  # with step(record=True): the pass


@dataclass(frozen=True, eq=False)
class _OnlineGradient:
    """What one online step computed (see Trainer._online_gradient)."""

    t: int  # 1-based time of the loss
    first: int  # 1-based oldest copy reached
    trace: ForwardTrace  # copy t, one step
    errors: LocalErrors  # delta_o, dh_local, fprime of L(t) at copy t
    delta_h: np.ndarray  # (window, H)
    carried: np.ndarray  # (window, H)
    grads: Params  # ∂L(t)/∂θ

    def kept(self, applied: UpdateRecord) -> OnlineStep:
        e = self.errors
        return OnlineStep(
            self.t,
            self.first,
            self.trace,
            e.delta_o[0],
            e.dh_local[0],
            self.delta_h,
            self.carried,
            applied,
        )


def _failed(
    start: int,
    T: int,
    reason: str,
    updates: int = 0,
    grad_norm: float = float("nan"),
    loss: float = float("nan"),
) -> StepResult:
    return StepResult(
        loss=loss,
        diverged=True,
        grad_norm=grad_norm,
        clipped=False,
        updates=updates,
        chunk_start=start,
        chunk_length=T,
        reason=reason,
    )


class Trainer:
    """Trains an RNN on ``text``; every other argument is a TrainingConfig field."""

    def __init__(self, text: str, **hyperparameters: object) -> None:
        names = {f.name for f in fields(TrainingConfig)}
        unknown = sorted(set(hyperparameters) - names)
        if unknown:
            raise ValueError(f"Unknown training option(s): {', '.join(unknown)}.")
        self.settings = TrainingConfig(**hyperparameters)  # type: ignore[arg-type]
        self.corpus = Corpus(text)
        self.config = self.settings.network(self.corpus.V)
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Fresh parameters from the seed, a fresh optimizer, an empty history."""
        s = self.settings
        self.params: Params = s.initial_params(self.config)
        self.optimizer: Optimizer = make_optimizer(s.optimizer, s.learning_rate)
        self.hidden = np.zeros(self.config.hidden_size)  # h carried between chunks
        self.position = 0  # index of the next chunk's first input character
        self.diverged = False
        self.updates = 0
        self._rows: list[dict[str, object]] = []
        self._history: pd.DataFrame | None = None

    def apply(self, **changes: object) -> bool:
        """Change hyperparameters. Returns True if the architecture (or seed) changed, in which
        case training was reset; learning rate, optimizer settings, clipping, truncation and
        sequence length apply from the next update without a reset."""
        unknown = sorted(set(changes) - {f.name for f in fields(TrainingConfig)})
        if unknown:
            raise ValueError(f"Unknown training option(s): {', '.join(unknown)}.")
        new = replace(self.settings, **changes)  # validated by __post_init__
        if new == self.settings:
            return False
        reset = new.architecture_key() != self.settings.architecture_key()
        old = self.settings
        self.settings = new
        if reset:
            self.config = new.network(self.corpus.V)
            self.reset()
            return True
        if new.optimizer != old.optimizer:
            self.optimizer = make_optimizer(new.optimizer, new.learning_rate)
        self.optimizer.learning_rate = new.learning_rate
        return False

    def fork(self) -> Trainer:
        """A trainer in exactly this state (weights, optimizer memory, position in the text,
        carried h) with an empty history: to look at the next pass without making it here."""
        twin = object.__new__(Trainer)
        twin.settings, twin.corpus, twin.config = self.settings, self.corpus, self.config
        twin.params = self.params  # arrays are never changed in place, only replaced
        twin.optimizer = copy.deepcopy(self.optimizer)
        twin.hidden, twin.position = self.hidden.copy(), self.position
        twin.diverged, twin.updates = self.diverged, self.updates
        twin._rows, twin._history = [], None
        return twin

    def load(self, params: Params) -> None:
        """Continue from given parameters (validated against this network's shapes)."""
        self.params = check_params(params, self.config)
        self.optimizer = make_optimizer(self.settings.optimizer, self.settings.learning_rate)
        self.hidden = np.zeros(self.config.hidden_size)
        self.position = 0
        self.diverged = False

    @property
    def history(self) -> pd.DataFrame:
        """One row per pass: update, loss, loss_per_char, grad_norm, clipped, chunk_start,
        chunk_length, updates, learning_rate, diverged."""
        if self._history is None:
            import pandas as pd

            self._history = pd.DataFrame(self._rows, columns=list(HISTORY_COLUMNS))
        return self._history

    # ------------------------------------------------------------------ training

    def _next_chunk(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        ids = self.corpus.ids
        if self.position + 1 >= ids.size:  # end of text: start again from h(0) = 0
            self.position = 0
            self.hidden = np.zeros(self.config.hidden_size)
        start = self.position
        chunk = ids[start : start + self.settings.seq_length + 1]
        eye = np.eye(self.corpus.V)
        h0 = self.hidden if start > 0 else np.zeros(self.config.hidden_size)
        return start, eye[chunk[:-1]], eye[chunk[1:]], h0

    def step(self, record: bool = False) -> StepResult:
        """One BPTT pass over the next chunk and its update(s). With ``record`` (the "sequence"
        schedule), the result carries the pass's traces and update (``PassRecord``)."""
        start, x, d, h0 = self._next_chunk()
        if self.settings.schedule == "sequence":
            result = self._step_sequence(start, x, d, h0, record)
        else:
            result = self._step_timestep(start, x, d, h0, record)
        self.diverged = result.diverged
        if not result.diverged:
            self.position = start + x.shape[0]
        self.updates += result.updates
        T = x.shape[0]
        self._record(
            {
                "update": self.updates,
                "loss": result.loss,
                "loss_per_char": result.loss / T,
                "grad_norm": result.grad_norm,
                "clipped": result.clipped,
                "chunk_start": start,
                "chunk_length": T,
                "updates": result.updates,
                "learning_rate": self.settings.learning_rate,
                "diverged": result.diverged,
            }
        )
        return result

    def _record(self, row: dict[str, object]) -> None:
        """Keep one history row (subclasses may keep a bounded history instead)."""
        self._rows.append(row)
        self._history = None

    def _apply_update(self, grads: Params) -> tuple[bool, float, bool, str]:
        """Clip and update; returns (diverged, grad_norm, clipped, reason). Keeps params finite."""
        outcome = self._update(grads, record=False)
        return outcome[0], outcome[1].norm_before, outcome[1].clipped, outcome[2]

    def _update(
        self, grads: Params, record: bool
    ) -> tuple[bool, ClipInfo, str, UpdateRecord | None]:
        """Clip and update (params kept finite): (diverged, clip info, reason, record)."""
        s = self.settings
        used, info = clip_gradients(grads, s.clip, s.clip_threshold)
        if not np.isfinite(info.norm_before):
            return True, info, "the gradient became infinite or NaN", None
        before = self.params
        new = self.optimizer.update(before, used)
        if not new.all_finite():
            return True, info, "an update made the weights infinite or NaN", None
        self.params = new
        if not record:
            return False, info, "", None
        state, count = self.optimizer.state(), self.optimizer.count
        return False, info, "", UpdateRecord(before, grads, info, used, new, state, count)

    def _step_sequence(
        self, start: int, x: np.ndarray, d: np.ndarray, h0: np.ndarray, record: bool = False
    ) -> StepResult:
        T = x.shape[0]
        updates_before, params = self.updates, self.params
        with np.errstate(all="ignore"):
            trace = forward_unchecked(params, self.config, x, d, h0)
            if not np.isfinite(trace.loss):
                return _failed(start, T, "the loss became infinite or NaN", loss=trace.loss)
            bwd = backward_unchecked(params, self.config, trace, self.settings.truncation)
            diverged, info, reason, applied = self._update(bwd.grads, record)
            loss_after = float("nan")
            if record and not diverged:
                loss_after = forward_unchecked(self.params, self.config, x, d, h0).loss
        if not diverged:
            self.hidden = trace.h[-1].copy()
        kept = PassRecord(updates_before, start, trace, bwd, params, applied, loss_after)
        return StepResult(
            loss=trace.loss,
            diverged=diverged,
            grad_norm=info.norm_before,
            clipped=info.clipped,
            updates=0 if diverged else 1,
            chunk_start=start,
            chunk_length=T,
            reason=reason,
            record=kept if record else None,
        )

    def _step_timestep(
        self, start: int, x: np.ndarray, d: np.ndarray, h0: np.ndarray, record: bool = False
    ) -> StepResult:
        """Online BPTT: after each L(t), backpropagate it through ≤ k stored copies and update."""
        T, H = x.shape[0], self.config.hidden_size
        h_hist = np.zeros((T + 1, H))  # h(t) of each copy as it was computed; h_hist[0] = h(0)
        h_hist[0] = h0
        fprime_hist = np.zeros((T, H))  # f'(a(t)) of each copy as it was computed
        total, info, n_updates, kept, updates_before = 0.0, None, 0, [], self.updates
        with np.errstate(all="ignore"):
            for t in range(T):
                step = self._online_gradient(x, d, t, h_hist, fprime_hist)
                norm = float("nan") if info is None else info.norm_before
                if not np.isfinite(step.trace.loss):
                    return _failed(start, T, "the loss became infinite or NaN", n_updates, norm)
                total += step.trace.loss
                diverged, info, reason, applied = self._update(step.grads, record)
                if diverged:
                    return _failed(start, T, reason, n_updates, info.norm_before)
                n_updates += 1
                if record:
                    kept.append(step.kept(applied))  # type: ignore[arg-type]
        self.hidden = h_hist[T].copy()
        pass_record = OnlinePassRecord(
            updates_before, start, x, d, h_hist, fprime_hist, tuple(kept)
        )
        return StepResult(
            loss=total,
            diverged=False,
            grad_norm=float("nan") if info is None else info.norm_before,
            clipped=False if info is None else info.clipped,
            updates=n_updates,
            chunk_start=start,
            chunk_length=T,
            record=pass_record if record else None,
        )

    def _online_gradient(
        self, x: np.ndarray, d: np.ndarray, t: int, h_hist: np.ndarray, fprime_hist: np.ndarray
    ) -> _OnlineGradient:
        """L(t) and ∂L(t)/∂θ sent back through at most k stored copies, with the current θ.

        Copy t is computed now from the carried h(t−1) = h_hist[t] (``forward_unchecked`` on one
        step) and stored: h(t) in h_hist[t+1], f'(a(t)) in fprime_hist[t]. The earlier copies keep
        the activations from when they were computed; only L(t) sends error (``dh_local`` of one
        row), through W_hh of the current θ.

        Parameters
        ----------
        x, d : (T, I), (T, O) the chunk's inputs and targets
        t : the 0-based time of the loss
        h_hist : (T+1, H) h(0..T), filled up to h_hist[t] on entry
        fprime_hist : (T, H) f'(a(·)) of the copies, filled up to t−1 on entry
        """
        p, cfg, k = self.params, self.config, self.settings.truncation
        trace = forward_unchecked(p, cfg, x[t : t + 1], d[t : t + 1], h_hist[t])
        errors = local_errors(p, cfg, trace)  # of L(t) at its own copy
        h_hist[t + 1], fprime_hist[t] = trace.h[0], errors.fprime[0]
        first = 0 if k is None else max(0, t - k + 1)  # the oldest copy L(t) reaches
        window = slice(first, t + 1)  # at most k copies, so no further truncation below
        delta_h, carried = truncated_hidden_deltas(
            p.W_hh, fprime_hist[window], errors.dh_local, None
        )
        grads = gradients_from_deltas(
            delta_o=errors.delta_o,
            h=trace.h,
            delta_h=delta_h,
            inputs=x[window],
            h_prev=h_hist[window],
        )
        return _OnlineGradient(t + 1, first + 1, trace, errors, delta_h, carried, grads)

    def train(self, updates: int) -> list[StepResult]:
        """Run ``updates`` passes (stops early on divergence)."""
        if isinstance(updates, bool) or not isinstance(updates, int | np.integer) or updates < 0:
            raise ValueError(f"The number of updates must be a whole number ≥ 0, got {updates!r}.")
        out = []
        for _ in range(updates):
            r = self.step()
            out.append(r)
            if r.diverged:
                break
        return out

    # ------------------------------------------------------------------ using the model

    def predict(self, max_length: int | None = None) -> ForwardTrace:
        """Forward pass over the text (or its first ``max_length`` inputs) from h(0) = 0."""
        x, d = self.corpus.inputs, self.corpus.targets
        if max_length is not None and (
            isinstance(max_length, bool)
            or not isinstance(max_length, int | np.integer)
            or max_length < 1
        ):
            raise ValueError(f"max_length must be a whole number ≥ 1, got {max_length!r}.")
        if max_length is not None:
            x, d = x[:max_length], d[:max_length]
        with np.errstate(all="ignore"):
            return forward_unchecked(
                self.params, self.config, x, d, np.zeros(self.config.hidden_size)
            )

    def sample(
        self, length: int, seed_char: str | None = None, temperature: float = 1.0, rng_seed: int = 0
    ) -> str:
        """Sample ``length`` characters after ``seed_char`` from softmax(o(t)/temperature),
        feeding each sampled character back in, starting from h(0) = 0. Returns seed + sample.

        Each step is ``forward_unchecked`` on one timestep from the carried h(t−1) (with a zero
        target: its loss is not used)."""
        seed, temperature = self._check_sample(length, seed_char, temperature, rng_seed)
        rng = np.random.default_rng(rng_seed)
        eye, no_target = np.eye(self.corpus.V), np.zeros((1, self.config.output_size))
        x, h = eye[self.corpus.encode(seed)], np.zeros(self.config.hidden_size)
        out = [seed]
        with np.errstate(all="ignore"):
            for _ in range(length):
                trace = forward_unchecked(self.params, self.config, x, no_target, h)
                probs = F.softmax(trace.o[0] / temperature)
                if not np.isfinite(probs).all():
                    break
                idx = int(rng.choice(probs.size, p=probs))
                out.append(self.corpus.vocab[idx])
                x, h = eye[idx : idx + 1], trace.h[0]
        return "".join(out)

    def _check_sample(
        self, length: object, seed_char: object, temperature: object, rng_seed: object
    ) -> tuple[str, float]:
        """Validate ``sample``'s arguments; returns the seed character and the temperature."""
        try:
            temp = float(temperature)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            temp = float("nan")
        if not (np.isfinite(temp) and temp > 0):
            raise ValueError(f"The temperature must be a positive number, got {temperature!r}.")
        if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 0:
            raise ValueError(f"The sample length must be a whole number ≥ 0, got {length!r}.")
        if isinstance(rng_seed, bool) or not isinstance(rng_seed, int | np.integer) or rng_seed < 0:
            raise ValueError(f"The sampling seed must be a whole number ≥ 0, got {rng_seed!r}.")
        if seed_char is not None and not isinstance(seed_char, str):
            raise ValueError(f"The seed must be a single character, got {seed_char!r}.")
        seed = self.corpus.text[0] if seed_char is None or seed_char == "" else seed_char
        if len(seed) != 1:
            raise ValueError("The seed must be a single character.")
        return seed, temp

    def settings_dict(self) -> dict[str, object]:
        return asdict(self.settings)
