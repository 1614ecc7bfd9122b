"""Long training histories made drawable: smoothing and downsampling for charts.

Pure NumPy/pandas, no Streamlit: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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
