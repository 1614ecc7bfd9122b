"""Shared pieces of the time × unit heatmaps: tick labels and the diverging colours.

Signed values use the diverging blue–white–orange scale centred on zero with a fixed range, so a
cell's colour does not change meaning as a figure fills in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bptt_viz.figures.style import DIVERGING


def time_labels(input_chars: Sequence[str], target_chars: Sequence[str]) -> list[str]:
    """Tick labels for t = 1..T: 't  x→d', e.g. '1 h→e'."""
    return [
        f"{i + 1} {a}→{b}" for i, (a, b) in enumerate(zip(input_chars, target_chars, strict=True))
    ]


def _hex_to_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def diverging_colours(values: np.ndarray, zmax: float) -> list[str]:
    """The DIVERGING scale at ``values`` (any shape, flattened), range [−zmax, zmax]; NaN → ""."""
    v = np.asarray(values, dtype=float).ravel()
    pos = np.array([p for p, _ in DIVERGING])
    rgb = np.stack([_hex_to_rgb(c) for _, c in DIVERGING])
    u = np.clip((np.nan_to_num(v) / zmax + 1.0) / 2.0, 0.0, 1.0)
    channels = np.stack([np.interp(u, pos, rgb[:, c]) for c in range(3)], axis=1)
    return [
        "" if not np.isfinite(x) else "#{:02x}{:02x}{:02x}".format(*np.rint(ch).astype(int))
        for x, ch in zip(v, channels, strict=True)
    ]
