"""Training that runs for as long as someone keeps pressing Play: bounded history, chance level.

``LiveTrainer`` is a ``Trainer`` whose history keeps only the most recent ``max_history`` passes
(one row per pass, the columns of ``Trainer.history``) in preallocated NumPy columns, so memory
stays bounded however long training runs; ``History.dropped`` counts the rows let go.

Also here, the numbers a training display needs beside the history:
  chance level   L(t) of a network that knows nothing and gives every one of the V characters
                 probability 1/V: ln V for softmax with cross-entropy (so T·ln V per pass);
  exploded       a pass whose loss per character is more than ``EXPLODED_FACTOR`` times the
                 chance level: finite, but the updates are overshooting (a large η, no clipping);
  smoothing      an exponential moving average that skips NaN;
  downsampling   at most ``max_points`` points for a chart, averaging consecutive buckets.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from bptt_core import functions as F
from bptt_core.model import RNNConfig
from bptt_core.trainer import HISTORY_COLUMNS, Trainer

_DTYPES = {"clipped": bool, "diverged": bool, "update": np.int64, "chunk_start": np.int64}
_DTYPES.update({"chunk_length": np.int64, "updates": np.int64})
DEFAULT_MAX_HISTORY = 20_000  # passes kept (about 2 MB of columns)
EXPLODED_FACTOR = 100.0  # loss per character above this × chance: the training blew up
MIN_CHANCE = 0.1  # nats; floor of the chance level used by ``exploded`` (V = 1 has chance 0)


class History:
    """The most recent ``capacity`` rows of training history, column by column.

    Rows go into arrays of length 2·capacity; when they are full the newest ``capacity`` rows
    move to the front (amortised O(1) per row). Reads and writes hold a lock, so a download
    prepared on another thread sees whole rows.
    """

    def __init__(self, capacity: int = DEFAULT_MAX_HISTORY) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int | np.integer):
            raise ValueError(f"The history capacity must be a whole number, got {capacity!r}.")
        if capacity < 1:
            raise ValueError(f"The history capacity must be at least 1, got {capacity}.")
        self.capacity = int(capacity)
        self._cols = {
            c: np.zeros(2 * self.capacity, dtype=_DTYPES.get(c, np.float64))
            for c in HISTORY_COLUMNS
        }
        self._n = 0  # rows filled in the buffers
        self.total = 0  # rows ever appended
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return min(self._n, self.capacity)

    @property
    def dropped(self) -> int:
        """Rows appended but no longer kept (the oldest ones)."""
        return self.total - len(self)

    def append(self, row: dict[str, object]) -> None:
        """Add one row (a dict with every column of HISTORY_COLUMNS)."""
        with self._lock:
            if self._n == 2 * self.capacity:
                for col in self._cols.values():
                    col[: self.capacity] = col[self.capacity :]
                self._n = self.capacity
            i = self._n
            for name, col in self._cols.items():
                col[i] = row[name]
            self._n += 1
            self.total += 1

    def column(self, name: str) -> np.ndarray:
        """A copy of one column over the kept rows, oldest first."""
        with self._lock:
            return self._cols[name][self._n - len(self) : self._n].copy()

    def last(self, name: str) -> float | None:
        """The newest value of a column (None when empty)."""
        with self._lock:
            return None if self._n == 0 else self._cols[name][self._n - 1].item()

    def frame(self) -> pd.DataFrame:
        """The kept rows as a DataFrame with the columns of Trainer.history."""
        with self._lock:
            lo = self._n - len(self)
            return pd.DataFrame({c: col[lo : self._n].copy() for c, col in self._cols.items()})


class LiveTrainer(Trainer):
    """A Trainer whose ``history`` keeps the newest ``max_history`` passes only (see History).

    Everything else is Trainer's: ``step`` is Trainer.step, whose history row goes into the
    bounded History ``log`` instead of Trainer's (unbounded) list.
    """

    def __init__(
        self, text: str, max_history: int = DEFAULT_MAX_HISTORY, **hyperparameters: object
    ) -> None:
        self.max_history = max_history
        History(max_history)  # validate before the (heavier) Trainer set-up
        super().__init__(text, **hyperparameters)

    def reset(self) -> None:
        super().reset()
        self.log = History(self.max_history)

    def _record(self, row: dict[str, object]) -> None:
        self.log.append(row)  # bounded, instead of Trainer's unbounded list

    @property
    def history(self) -> pd.DataFrame:  # type: ignore[override]
        """The kept rows (at most ``max_history``), columns as Trainer.history."""
        return self.log.frame()


def chance_loss(config: RNNConfig) -> float:
    """L(t) when every output is 1/V (a network that knows nothing), for a one-hot target.

    softmax + cross-entropy: ln V.   sigmoid + cross-entropy: −ln(1/V) − (V−1)·ln(1 − 1/V).
    squared error: ½[(1 − 1/V)² + (V − 1)/V²] = ½(1 − 1/V).
    """
    V = config.output_size
    if V == 1:  # a single character is predicted with certainty
        return 0.0
    y = np.full((1, V), 1.0 / V)
    if config.output == "softmax":
        o = np.zeros((1, V))
    elif config.output == "sigmoid":
        o = np.full((1, V), -np.log(V - 1.0))  # logit(1/V)
    else:  # linear
        o = y.copy()
    d = np.zeros((1, V))
    d[0, 0] = 1.0
    return float(F.losses(config.output, config.loss, o, y, d)[0])


def exploded(loss_per_char: float, chance_per_char: float) -> bool:
    """True when a finite loss per character exceeds EXPLODED_FACTOR × the chance level."""
    if not np.isfinite(loss_per_char):
        return False  # non-finite losses are the engine's divergence, reported separately
    return loss_per_char > EXPLODED_FACTOR * max(chance_per_char, MIN_CHANCE)


def smooth(values: np.ndarray, span: float) -> np.ndarray:
    """Exponential moving average with α = 2/(span + 1); NaN entries are skipped."""
    if span < 1:
        raise ValueError(f"The smoothing span must be at least 1, got {span!r}.")
    series = pd.Series(np.asarray(values, dtype=np.float64))
    return series.ewm(span=span, ignore_na=True).mean().to_numpy()


def downsample(
    x: np.ndarray, *ys: np.ndarray, max_points: int = 2000
) -> tuple[np.ndarray, list[np.ndarray], int]:
    """At most ``max_points`` points: consecutive buckets of ``size`` points, x the bucket's last
    value, each y the bucket's mean over its finite entries. Returns (x, ys, size)."""
    x = np.asarray(x)
    n = x.size
    if n <= max_points:
        return x, [np.asarray(y, dtype=np.float64) for y in ys], 1
    size = int(np.ceil(n / max_points))
    start = n % size  # drop the oldest partial bucket so the newest point is always shown
    m = (n - start) // size
    xs = x[start:].reshape(m, size)[:, -1]
    out = []
    for y in ys:
        block = np.asarray(y, dtype=np.float64)[start:].reshape(m, size)
        finite = np.isfinite(block)
        count = finite.sum(axis=1)
        total = np.where(finite, block, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(count > 0, total / np.maximum(count, 1), np.nan))
    return xs, out, size
