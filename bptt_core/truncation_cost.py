"""What truncation costs in learning: the recall task over a grid, and the "hello" counterpoint.

The recall task (``bptt_core.recall``) is trained for every filler count N, truncation k, seed
and way of cutting the backward pass in a ``RecallGrid``; ``RecallGridResult`` keeps every run
and summarises it by the settled recall loss (mean over the last sixth of the updates; ln 2 is
chance for two symbols). ``truncation_curves`` trains the character RNN of ``Trainer`` on a short
text ("hello") with a few truncations and records the loss per character after every update:
there the forward pass already carries the previous character in h(t−1), so k = 1 learns as well
as full BPTT.

Truncations are ints k ≥ 1 or None (full BPTT). No Streamlit, no Plotly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from bptt_core.backward import check_truncation
from bptt_core.recall import RECALL_MODES, RecallRun, train_recall
from bptt_core.trainer import Trainer, TrainingConfig

Progress = Callable[[int], None]  # called with the number of updates finished since the last call


def _whole_numbers(values: object, what: str, minimum: int) -> tuple[int, ...]:
    out = []
    for v in tuple(values):  # type: ignore[arg-type]
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
            raise ValueError(f"Every {what} must be a whole number ≥ {minimum}, got {v!r}.")
        out.append(int(v))
    if not out:
        raise ValueError(f"Give at least one {what}.")
    if len(set(out)) != len(out):
        raise ValueError(f"The {what}s must be different from each other, got {out}.")
    return tuple(out)


def _truncations(values: object) -> tuple[int | None, ...]:
    ks = tuple(check_truncation(k) for k in tuple(values))  # type: ignore[arg-type]
    if not ks:
        raise ValueError("Give at least one truncation.")
    if len(set(ks)) != len(ks):
        raise ValueError(f"The truncations must be different from each other, got {ks}.")
    return ks


@dataclass(frozen=True)
class RecallGrid:
    """Which recall runs to train (hashable: usable as a cache or job key)."""

    n_fillers: tuple[int, ...] = (4, 10)  # N values
    truncations: tuple[int | None, ...] = (1, 2, 5, None)  # k values (None = full BPTT)
    seeds: tuple[int, ...] = (0, 1, 2)
    modes: tuple[str, ...] = ("window",)  # "window" and/or "chunked" (see bptt_core.recall)
    updates: int = 600  # updates per run
    hidden_size: int = 16  # H
    learning_rate: float = 0.05  # η (Adagrad)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_fillers", _whole_numbers(self.n_fillers, "filler count", 0))
        object.__setattr__(self, "seeds", _whole_numbers(self.seeds, "seed", 0))
        object.__setattr__(self, "truncations", _truncations(self.truncations))
        modes = tuple(self.modes)
        if not modes or any(m not in RECALL_MODES for m in modes) or len(set(modes)) != len(modes):
            raise ValueError(
                f"modes must be distinct values from {', '.join(RECALL_MODES)}, got {modes!r}."
            )
        object.__setattr__(self, "modes", modes)
        for name in ("updates", "hidden_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a whole number ≥ 1, got {value!r}.")

    def keys(self) -> tuple[tuple[str, int, int | None, int], ...]:
        """(mode, N, k, seed) of every cell of the grid, in grid order."""
        return tuple(
            (mode, n, k, seed)
            for mode in self.modes
            for n in self.n_fillers
            for k in self.truncations
            for seed in self.seeds
        )

    def unique_runs(self) -> tuple[tuple[str, int, int | None, int], ...]:
        """The runs actually trained: full BPTT (k = None) is the same in both modes, so it is
        trained once (as "window") and shared."""
        seen: dict[tuple[str, int, int | None, int], None] = {}
        for mode, n, k, seed in self.keys():
            seen.setdefault(("window" if k is None else mode, n, k, seed), None)
        return tuple(seen)

    @property
    def total_updates(self) -> int:
        """Updates over all unique runs (the unit of progress)."""
        return len(self.unique_runs()) * self.updates


@dataclass(frozen=True, eq=False)
class RecallGridResult:
    """Every run of a RecallGrid, with lookups by (mode, N, k)."""

    grid: RecallGrid
    runs: dict[tuple[str, int, int | None, int], RecallRun]  # keyed as RecallGrid.unique_runs

    def run(self, mode: str, n_fillers: int, truncation: int | None, seed: int) -> RecallRun:
        return self.runs[("window" if truncation is None else mode, n_fillers, truncation, seed)]

    def settled(self, mode: str, n_fillers: int, truncation: int | None) -> np.ndarray:
        """(seeds,) settled recall loss of every seed, in grid.seeds order."""
        return np.array(
            [self.run(mode, n_fillers, truncation, s).settled_recall_loss for s in self.grid.seeds]
        )

    def median(self, mode: str, n_fillers: int, truncation: int | None) -> float:
        """Median over the seeds of the settled recall loss."""
        return float(np.median(self.settled(mode, n_fillers, truncation)))

    @property
    def chance(self) -> float:
        """ln(number of symbols): the recall loss of a network that guesses."""
        return next(iter(self.runs.values())).chance

    def rows(self) -> list[dict[str, object]]:
        """One dict per grid cell: mode, N, k (None for full BPTT), seed, settled and final recall loss."""
        out = []
        for mode, n, k, seed in self.grid.keys():
            r = self.run(mode, n, k, seed)
            out.append(
                {
                    "mode": mode,
                    "N": n,
                    "k": k,  # None: full BPTT
                    "seed": seed,
                    "settled": r.settled_recall_loss,
                    "final": r.final_recall_loss,
                }
            )
        return out


def run_recall_grid(grid: RecallGrid, progress: Progress | None = None) -> RecallGridResult:
    """Train every unique run of ``grid`` (see ``train_recall``), one after another.

    ``progress(n)`` is called after every update with n = 1 (so a caller can add them up).
    """
    if not isinstance(grid, RecallGrid):
        raise ValueError(f"grid must be a RecallGrid, got {type(grid).__name__}.")
    step = None if progress is None else (lambda _u: progress(1))
    runs = {}
    for mode, n, k, seed in grid.unique_runs():
        runs[(mode, n, k, seed)] = train_recall(
            n,
            k,
            mode=mode,
            seed=seed,
            hidden_size=grid.hidden_size,
            updates=grid.updates,
            learning_rate=grid.learning_rate,
            progress=step,
        )
    return RecallGridResult(grid=grid, runs=runs)


@dataclass(frozen=True, eq=False)
class TruncationCurves:
    """Loss curves of the same character RNN trained with different truncations."""

    text: str
    truncations: tuple[int | None, ...]  # K values of k (None = full BPTT)
    seeds: tuple[int, ...]  # S seeds
    loss_per_char: np.ndarray  # (K, S, U) Σ_t L(t) / T after each of U updates (NaN if diverged)
    diverged: np.ndarray  # (K, S) bool: the run stopped on a non-finite loss or gradient

    def final(self) -> np.ndarray:
        """(K, S) loss per character of the last update."""
        return self.loss_per_char[:, :, -1]


def _check_training_options(training: dict[str, object]) -> None:
    """``truncation_curves``' extra options must be TrainingConfig fields other than truncation
    and seed (those come from the grid)."""
    reserved = {"truncation", "seed"} & set(training)
    if reserved:
        raise ValueError(f"Give {', '.join(sorted(reserved))} through truncations/seeds.")
    unknown = set(training) - {f.name for f in fields(TrainingConfig)}
    if unknown:
        raise ValueError(f"Unknown training option(s): {', '.join(sorted(unknown))}.")


def _train_curve(trainer: Trainer, curve: np.ndarray, progress: Progress | None) -> bool:
    """Fill ``curve`` (U,) with Σ_t L(t) / T after each of U updates; returns whether the run
    diverged (the rest of ``curve`` stays NaN and ``progress`` is told about the skipped ones)."""
    updates = curve.size
    for u in range(updates):
        result = trainer.step()
        if progress is not None:
            progress(1)
        if result.diverged:
            if progress is not None and u + 1 < updates:
                progress(updates - u - 1)
            return True
        curve[u] = result.loss / result.chunk_length
    return False


def truncation_curves(
    text: str = "hello",
    truncations: tuple[int | None, ...] = (1, None),
    seeds: tuple[int, ...] = (0, 1, 2),
    updates: int = 100,
    progress: Progress | None = None,
    **training: object,
) -> TruncationCurves:
    """Train ``Trainer(text, truncation=k, seed=s, **training)`` for every k and seed.

    Parameters
    ----------
    text : the training text (at least two characters)
    truncations : the K truncations to compare (int k ≥ 1, or None for full BPTT)
    seeds : the S seeds (initial weights)
    updates : U, updates per run
    progress : called with 1 after every update (optional)
    **training : any other ``TrainingConfig`` field (defaults: the app's)

    Returns
    -------
    TruncationCurves with ``loss_per_char`` of shape (K, S, U).
    """
    ks = _truncations(truncations)
    ss = _whole_numbers(seeds, "seed", 0)
    if isinstance(updates, bool) or not isinstance(updates, int | np.integer) or updates < 1:
        raise ValueError(f"updates must be a whole number ≥ 1, got {updates!r}.")
    _check_training_options(training)
    curves = np.full((len(ks), len(ss), int(updates)), np.nan)
    diverged = np.zeros((len(ks), len(ss)), dtype=bool)
    for i, k in enumerate(ks):
        for j, seed in enumerate(ss):
            trainer = Trainer(text, truncation=k, seed=seed, **training)
            diverged[i, j] = _train_curve(trainer, curves[i, j], progress)
    return TruncationCurves(
        text=text, truncations=ks, seeds=ss, loss_per_char=curves, diverged=diverged
    )
