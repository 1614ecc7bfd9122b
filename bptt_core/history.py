"""Training that runs for as long as someone keeps pressing Play: a bounded training history.

``LiveTrainer`` is a ``Trainer`` whose history keeps only the most recent ``max_history`` passes
(one row per pass, the columns of ``Trainer.history``) in preallocated NumPy columns, so memory
stays bounded however long training runs; ``History.dropped`` counts the rows let go.

"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from bptt_core.trainer import HISTORY_COLUMNS, Trainer

if TYPE_CHECKING:
    import pandas as pd

_DTYPES = {"clipped": bool, "diverged": bool, "update": np.int64, "chunk_start": np.int64}
_DTYPES.update({"chunk_length": np.int64, "updates": np.int64})
DEFAULT_MAX_HISTORY = 20_000  # passes kept (about 2 MB of columns)


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
        import pandas as pd  # only for the table; the engine's maths never needs it

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
