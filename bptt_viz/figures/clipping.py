"""Norm against value clipping of one gradient, drawn two ways.

Left: the share of each parameter in the gradient's length, ‖g_p‖/‖g‖, before and after each
clipping (the balance between the parameters is part of the direction). Right: every entry's
share of its vector, g_i/‖g‖ against ĝ_i/‖ĝ‖; on the diagonal = direction kept.
Pure builder: a ``bptt_core.clipping.ClippingComparison`` in, ``go.Figure`` out.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from bptt_core.clipping import ClippingComparison
from bptt_core.model import PARAM_NAMES
from bptt_viz.figures.panels import GRID, panel_title
from bptt_viz.figures.style import GREY, OKABE_ITO, base_layout, legend_below
from bptt_viz.notation import Notation

MAX_SCATTER_POINTS = 2_000
NORM_COLOUR, NORM_COLOUR_NAME = OKABE_ITO["blue"], "blue"
VALUE_COLOUR, VALUE_COLOUR_NAME = OKABE_ITO["vermillion"], "vermillion (red-orange)"
LEFT, RIGHT = (0.0, 0.42), (0.54, 1.0)  # panel domains


def sample_entries(g: np.ndarray, limit: int = MAX_SCATTER_POINTS) -> np.ndarray:
    """Indices of at most ``limit`` entries: the largest half by |g|, the rest evenly spread."""
    P = g.size
    if P <= limit:
        return np.arange(P)
    half = limit // 2
    top = np.argsort(-np.abs(g), kind="stable")[:half]
    rest = np.setdiff1d(np.arange(P), top)
    spread = rest[np.linspace(0, rest.size - 1, limit - half).astype(np.int64)]
    return np.sort(np.concatenate([top, spread]))


def _series_names(c: float) -> tuple[str, str, str]:
    return (
        "unclipped g",
        f"norm-clipped (‖g‖ ≤ {c:.3g})",
        f"value-clipped (|g<sub>i</sub>| ≤ {c:.3g})",
    )


def _share_bars(comparison: ClippingComparison, n: Notation) -> list[dict]:
    """Left panel: ‖g_p‖ / ‖g‖ of each parameter p, for g and both clipped gradients."""
    norms = np.asarray(comparison.param_norms, dtype=float)  # (3, 5)
    totals = np.array([comparison.norm, comparison.norm_after_norm, comparison.norm_after_value])
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = norms / np.where(totals > 0, totals, 1.0)[:, None]
    labels = [n.html(p) for p in PARAM_NAMES]
    colours = (GREY, NORM_COLOUR, VALUE_COLOUR)
    return [
        dict(
            type="bar",
            x=labels,
            y=vals,
            name=name,
            legendgroup=name,
            marker={"color": colour},
            hovertemplate=f"{name}<br>%{{x}}: %{{y:.3f}} of the length<extra></extra>",
            xaxis="x",
            yaxis="y",
        )
        for name, colour, vals in zip(
            _series_names(comparison.threshold), colours, shares, strict=True
        )
    ]


def _entry_scatter(comparison: ClippingComparison) -> tuple[list[dict], float]:
    """Right panel: g_i/‖g‖ against each clipped entry / its vector's length; and the axis
    half-width."""
    g = comparison.grads.flat()
    idx = sample_entries(g)
    x = g[idx] / (float(np.linalg.norm(g)) or 1.0)
    lim = float(np.abs(x).max(initial=0.0)) or 1.0
    names = _series_names(comparison.threshold)
    traces = []
    for name, colour, clipped, symbol in (
        (names[1], NORM_COLOUR, comparison.by_norm.flat(), "circle"),
        (names[2], VALUE_COLOUR, comparison.by_value.flat(), "x"),
    ):
        y = clipped[idx] / (float(np.linalg.norm(clipped)) or 1.0)
        lim = max(lim, float(np.abs(y).max(initial=0.0)))
        traces.append(
            dict(
                type="scatter",
                x=x,
                y=y,
                mode="markers",
                name=name,
                legendgroup=name,
                showlegend=False,
                marker={"color": colour, "size": 6, "opacity": 0.6, "symbol": symbol},
                xaxis="x2",
                yaxis="y2",
                hovertemplate="share before %{x:.4f}<br>share after %{y:.4f}<extra></extra>",
            )
        )
    return traces, lim * 1.08


def _diagonal(lim: float) -> dict:
    return dict(
        type="scatter",
        x=[-lim, lim],
        y=[-lim, lim],
        mode="lines",
        name="same direction",
        line={"color": GREY, "dash": "dot", "width": 1},
        xaxis="x2",
        yaxis="y2",
        hoverinfo="skip",
    )


def _clipping_axes(lim: float) -> dict[str, dict]:
    square = {"range": [-lim, lim], "gridcolor": GRID, "zeroline": False}
    return {
        "xaxis": {"domain": list(LEFT), "anchor": "y", "title": {"text": "parameter"}},
        "yaxis": {
            "anchor": "x",
            "title": {"text": "‖part‖ / ‖whole gradient‖"},
            "range": [0, 1.05],
            "gridcolor": GRID,
        },
        "xaxis2": {
            "domain": list(RIGHT),
            "anchor": "y2",
            "title": {"text": "entry / ‖g‖ (before clipping)"},
            **square,
        },
        "yaxis2": {"anchor": "x2", "title": {"text": "entry / ‖clipped g‖"}, **square},
    }


def clipping_figure(comparison: ClippingComparison, n: Notation, height: int = 440) -> go.Figure:
    """Norm against value clipping of one gradient (see the module docstring)."""
    scatter, lim = _entry_scatter(comparison)
    layout = base_layout(
        "",
        height=height,
        barmode="group",
        showlegend=True,
        legend=legend_below(-0.2),
        annotations=[
            panel_title("share of the length, by parameter", LEFT),
            panel_title("every entry / its vector's length", RIGHT),
        ],
        **_clipping_axes(lim),
    )
    layout["margin"] = {"l": 60, "r": 20, "t": 30, "b": 100}
    return go.Figure(data=[*_share_bars(comparison, n), *scatter, _diagonal(lim)], layout=layout)
