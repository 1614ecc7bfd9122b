"""Compact, JSON-safe encodings of per-step data: tables of distinct entries, float32 in base64.

JSON has no NaN and numbers cost a dozen bytes each as text; the player's numbers travel as
little-endian float32 bytes in base64 (NaN kept), and repeated per-step entries are sent once.
"""

from __future__ import annotations

import base64
from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)


def float32_b64(values: np.ndarray) -> str:
    """Any float array as little-endian float32 bytes in base64 (row-major, NaN kept)."""
    return base64.b64encode(np.ascontiguousarray(_float32(values)).tobytes()).decode("ascii")


def decode_float32_b64(text: str, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``float32_b64`` (for tests): float32 array of ``shape``."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(shape)


def _float32(values: np.ndarray) -> np.ndarray:
    """float32 with values beyond its range as ±inf (not a warning: they are shown as such)."""
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype="<f4")


def table(per_step: Sequence[K]) -> dict[str, list]:
    """{"table": distinct entries in order of first use, "index": entry of each step}."""
    seen: dict[K, int] = {}
    index = [seen.setdefault(item, len(seen)) for item in per_step]
    return {"table": list(seen), "index": index}


def value_table(
    per_step: Sequence[np.ndarray], ranges: Sequence[Sequence[float]]
) -> dict[str, object]:
    """Numbers per step, each an (m,) array, with the colour ranges their elements' ``data-r``
    index that step (``ranges[step]``; each range > 0, fixed in Python so a colour keeps its
    meaning). Distinct (values, ranges) pairs are sent once:
    {"data": float32 base64 of (distinct, m), "count": m, "ranges": [per distinct], "index"}."""
    if len(per_step) != len(ranges):
        raise ValueError("value_table needs one range list per step.")
    keys = [
        (_float32(v).tobytes(), tuple(float(r) if np.isfinite(r) and r > 0 else 1.0 for r in rs))
        for v, rs in zip(per_step, ranges, strict=True)
    ]
    rows = table(keys)
    data = np.stack([np.frombuffer(values, dtype="<f4") for values, _ in rows["table"]])
    return {
        "data": float32_b64(data),
        "count": int(data.shape[1]),
        "ranges": [list(rs) for _, rs in rows["table"]],
        "index": rows["index"],
    }
