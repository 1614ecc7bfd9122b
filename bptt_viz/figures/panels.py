"""Layout pieces shared by the Truncation page's figures: side-by-side panels and log axes.

Multi-panel figures place their axes by domain directly (``make_subplots`` is much slower).
Log axes label whole decades, thinned so that a range of 30 decades still shows at most
``MAX_DECADE_LABELS`` labels (a column of 31 stacked labels reads as one black bar).
"""

from __future__ import annotations

import numpy as np

MAX_DECADE_LABELS = 7
GRID = "rgba(128, 128, 128, 0.3)"  # grid lines that stay quiet on the light and the dark theme


def panel_domains(count: int, gap: float = 0.07) -> list[tuple[float, float]]:
    """(start, end) of ``count`` equal panels side by side in paper coordinates."""
    width = (1.0 - gap * (count - 1)) / count
    return [(i * (width + gap), i * (width + gap) + width) for i in range(count)]


def panel_title(text: str, domain: tuple[float, float]) -> dict:
    """A bold title centred above the panel spanning ``domain``."""
    return {
        "text": f"<b>{text}</b>",
        "x": sum(domain) / 2,
        "y": 1.0,
        "xref": "paper",
        "yref": "paper",
        "xanchor": "center",
        "yanchor": "bottom",
        "showarrow": False,
    }


def panel_axis_names(p: int) -> tuple[str, str, str]:
    """('x', 'y', '') for panel 0, ('x2', 'y2', '2') for panel 1, …: trace axes and layout
    suffix."""
    suffix = "" if p == 0 else str(p + 1)
    return f"x{suffix}", f"y{suffix}", suffix


def decade_step(lo: float, hi: float, max_labels: int = MAX_DECADE_LABELS) -> int:
    """Decades between two labels of a log axis from ``lo`` to ``hi`` (> 0): 1 while at most
    ``max_labels`` decades are in range, else the smallest step that keeps to ``max_labels``."""
    first, last = int(np.ceil(np.log10(lo))), int(np.floor(np.log10(hi)))
    step = 1
    while (last // step) - (-(-first // step)) + 1 > max_labels:
        step += 1
    return step


def log_axis_ticks(lo: float, hi: float, max_labels: int = MAX_DECADE_LABELS) -> dict:
    """Tick settings of a log axis from ``lo`` to ``hi``: 1, 2, 5 × 10ⁿ below two decades,
    whole decades above, every ``decade_step`` decades so at most ``max_labels`` show."""
    if not (lo > 0 and hi > lo) or np.log10(hi) - np.log10(lo) < 2:
        return {"dtick": "D2"}
    return {"dtick": decade_step(lo, hi, max_labels), "tick0": 0}


def log_axis(lo: float, hi: float, pad_decades: float = 0.3) -> dict:
    """A Plotly log axis from ``lo`` to ``hi`` (> 0), padded by ``pad_decades`` at both ends so
    the markers of the extreme values stay inside, labelled by ``log_axis_ticks`` over the whole
    padded range."""
    first, last = float(np.log10(lo)) - pad_decades, float(np.log10(hi)) + pad_decades
    return {
        "type": "log",
        "range": [first, last],
        "exponentformat": "power",
        **log_axis_ticks(10**first, 10**last),
    }
