"""Shared look of every figure: colour-blind-safe colours and layout defaults.

Okabe & Ito's palette for categories; a blue–white–orange diverging scale (Okabe–Ito blue and
orange ends) for signed values, always centred on zero, which reads the same for the common forms
of colour blindness and in greyscale by lightness.
"""

from __future__ import annotations

import numpy as np

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
GREY = "#9a9a9a"
LIGHT_GREY = "#e4e4e4"
MID_GREY = "#8a8a8a"  # text that reads on the light and the dark theme alike

# negative → blue, zero → white, positive → orange/vermillion
DIVERGING = [
    [0.0, "#0b4f8a"],
    [0.25, "#56B4E9"],
    [0.5, "#f7f7f7"],
    [0.75, "#E69F00"],
    [1.0, "#a14300"],
]
# magnitudes (log colour scales): light to dark, perceptually ordered
SEQUENTIAL = "Viridis"

FONT = {"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13}


def base_layout(title: str = "", height: int = 320, **extra: object) -> dict:
    """Layout defaults: compact margins, transparent background, fixed uirevision (keeps zoom)."""
    layout: dict = {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 48 if title else 16, "b": 48},
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "uirevision": "keep",
        "hoverlabel": {"font": {"family": "monospace"}},
    }
    layout.update(extra)
    return layout


def symmetric_range(*arrays: np.ndarray) -> float:
    """max |value| over the finite entries of the arrays (1 if there are none), for a colour
    scale centred on zero that stays fixed while a figure fills in."""
    m = 0.0
    for a in arrays:
        a = np.asarray(a, dtype=float)
        finite = a[np.isfinite(a)]
        if finite.size:
            m = max(m, float(np.abs(finite).max()))
    return m if m > 0 else 1.0


def fmt_vector(v: np.ndarray, digits: int = 3, max_items: int = 8) -> str:
    """A short text form of a vector for hover labels: [0.120, −0.031, …] (n)."""
    v = np.asarray(v, dtype=float).ravel()
    items = [f"{x:.{digits}f}" for x in v[:max_items]]
    if v.size > max_items:
        items.append(f"… ({v.size})")
    return "[" + ", ".join(items) + "]"


def svg_rich(text: str) -> str:
    """Our notation HTML (<sub>, <sup>) as SVG tspans; the text must already be escaped."""
    return (
        text.replace("<sub>", '<tspan baseline-shift="sub" font-size="70%">')
        .replace("<sup>", '<tspan baseline-shift="super" font-size="70%">')
        .replace("</sub>", "</tspan>")
        .replace("</sup>", "</tspan>")
    )


def legend_below(y: float = -0.2) -> dict:
    """A horizontal legend under the plot, left-aligned (leave a bottom margin for it)."""
    return {"orientation": "h", "x": 0.0, "y": y, "yanchor": "top"}
