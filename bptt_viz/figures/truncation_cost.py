"""Figures of what truncation costs in learning: the recall grid and the "hello" loss curves.

Pure builders: ``bptt_core.truncation_cost`` results in, ``go.Figure`` out. The recall figure
draws one panel per way of cutting the backward pass, one colour per filler count N, every seed a
point, the median a line of diamonds and chance (ln 2) dashed; its log axis always holds every
point with room for the markers.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from bptt_core.truncation_cost import RecallGridResult, TruncationCurves
from bptt_viz.figures.panels import (
    GRID,
    log_axis,
    panel_axis_names,
    panel_domains,
    panel_title,
)
from bptt_viz.figures.style import GREY, OKABE_ITO, base_layout, legend_below
from bptt_viz.labels import truncation_label

N_COLOURS = (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["green"], OKABE_ITO["purple"])
K_COLOURS = (OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["green"], OKABE_ITO["purple"])
MODE_TITLES = {"window": "per-loss window", "chunked": "chunked TBPTT"}  # fit 1024 px
MODE_AXIS_TITLES = {"window": "truncation k", "chunked": "chunk length k"}
SMALLEST_LOSS = 1e-12  # a settled loss of exactly 0 is drawn at this value's decade


def recall_value_range(result: RecallGridResult) -> tuple[float, float]:
    """(lo, hi) of every finite settled recall loss and of chance: the recall axis's extent."""
    values = np.array([r.settled_recall_loss for r in result.runs.values()] + [result.chance])
    finite = values[np.isfinite(values)]
    return max(float(finite.min()), SMALLEST_LOSS), max(float(finite.max()), SMALLEST_LOSS)


def _recall_traces(result: RecallGridResult, p: int, i: int) -> list[dict]:
    """Panel ``p``, filler count number ``i``: every seed's point and the medians' line."""
    grid = result.grid
    mode, N = grid.modes[p], grid.n_fillers[i]
    count = len(grid.n_fillers)
    offset = float(np.linspace(-0.18, 0.18, count)[i]) if count > 1 else 0.0
    jitter = np.linspace(-0.05, 0.05, len(grid.seeds)) if len(grid.seeds) > 1 else np.zeros(1)
    xa, ya, _ = panel_axis_names(p)
    colour, name = N_COLOURS[i % len(N_COLOURS)], f"N = {N} fillers"
    xs = np.concatenate([j + offset + jitter for j in range(len(grid.truncations))])
    ys = np.concatenate([result.settled(mode, N, k) for k in grid.truncations])
    points = dict(
        type="scatter",
        x=xs,
        y=ys,
        mode="markers",
        name=name,
        legendgroup=name,
        showlegend=False,
        marker={"color": colour, "size": 7, "opacity": 0.55},
        text=[f"seed {s}" for _ in grid.truncations for s in grid.seeds],
        xaxis=xa,
        yaxis=ya,
        hovertemplate=f"{name}, %{{text}}: %{{y:.4f}}<extra></extra>",
    )
    medians = dict(
        type="scatter",
        x=np.arange(len(grid.truncations)) + offset,
        y=[result.median(mode, N, k) for k in grid.truncations],
        mode="lines+markers",
        name=name,
        legendgroup=name,
        showlegend=p == 0,
        line={"color": colour, "width": 3},
        marker={"size": 11, "symbol": "diamond", "color": colour},
        text=[truncation_label(k) for k in grid.truncations],
        xaxis=xa,
        yaxis=ya,
        hovertemplate=f"{name}, k = %{{text}}: median %{{y:.4f}}<extra></extra>",
    )
    return [points, medians]


def _recall_axes(result: RecallGridResult, p: int, domain: tuple[float, float]) -> dict[str, dict]:
    ks = result.grid.truncations
    lo, hi = recall_value_range(result)
    xa, ya, suffix = panel_axis_names(p)
    return {
        f"xaxis{suffix}": {
            "domain": list(domain),
            "anchor": ya,
            "title": {"text": MODE_AXIS_TITLES[result.grid.modes[p]]},
            "tickmode": "array",
            "tickvals": list(range(len(ks))),
            "ticktext": [truncation_label(k) for k in ks],
            "range": [-0.5, len(ks) - 0.5],
            "gridcolor": GRID,
            "zeroline": False,
        },
        f"yaxis{suffix}": {
            "anchor": xa,
            **log_axis(lo, hi, pad_decades=0.35),
            "gridcolor": GRID,
            **({"title": {"text": "settled recall loss (log scale)"}} if p == 0 else {}),
        },
    }


def _chance_marks(chance: float, p: int) -> tuple[dict, dict]:
    """The dashed chance line across panel ``p`` and its label."""
    xa, ya, _ = panel_axis_names(p)
    line = {
        "type": "line",
        "xref": f"{xa} domain",
        "yref": ya,
        "x0": 0,
        "x1": 1,
        "y0": chance,
        "y1": chance,
        "line": {"color": GREY, "width": 2, "dash": "dash"},
    }
    label = {
        "text": f"chance: ln 2 = {chance:.3f}",
        "xref": f"{xa} domain",
        "yref": ya,
        "x": 1,
        "y": float(np.log10(chance)),
        "xanchor": "right",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 12},
    }
    return line, label


def recall_figure(result: RecallGridResult, height: int = 420) -> go.Figure:
    """Settled recall loss against the truncation k: one panel per mode, one colour per N,
    every seed a point, the median a line, chance (ln 2) dashed."""
    grid = result.grid
    domains = panel_domains(len(grid.modes), gap=0.08)
    traces: list[dict] = []
    axes: dict[str, dict] = {}
    annotations, shapes = [], []
    for p, domain in enumerate(domains):
        for i in range(len(grid.n_fillers)):
            traces += _recall_traces(result, p, i)
        axes.update(_recall_axes(result, p, domain))
        line, label = _chance_marks(result.chance, p)
        shapes.append(line)
        annotations += [label, panel_title(MODE_TITLES[grid.modes[p]], domain)]
    layout = base_layout(
        "",
        height=height,
        annotations=annotations,
        shapes=shapes,
        showlegend=True,
        legend=legend_below(-0.18),
        **axes,
    )
    layout["margin"] = {"l": 60, "r": 20, "t": 30, "b": 90}
    return go.Figure(data=traces, layout=layout)


def _hello_curve(curves: TruncationCurves, i: int, j: int) -> dict:
    """The loss curve of truncation number ``i`` and seed number ``j``."""
    k, seed = curves.truncations[i], curves.seeds[j]
    name = "full BPTT" if k is None else f"k = {k}"
    return dict(
        type="scatter",
        x=np.arange(1, curves.loss_per_char.shape[2] + 1),
        y=curves.loss_per_char[i, j],
        mode="lines",
        name=name,
        legendgroup=name,
        showlegend=j == 0,
        line={
            "color": K_COLOURS[i % len(K_COLOURS)],
            "width": 2,
            "dash": "solid" if i == 0 else "dash",
        },
        opacity=0.8,
        hovertemplate=(
            f"{name}, seed {seed}<br>update %{{x}}: %{{y:.4f}} per character<extra></extra>"
        ),
    )


def hello_curves_figure(curves: TruncationCurves, height: int = 360) -> go.Figure:
    """Loss per character against the update, one colour per truncation, one line per seed."""
    traces = [
        _hello_curve(curves, i, j)
        for i in range(len(curves.truncations))
        for j in range(len(curves.seeds))
    ]
    layout = base_layout(
        f"“{html.escape(curves.text, quote=False)}”: loss per character while training",
        height=height,
        showlegend=True,
        legend=legend_below(-0.22),
        xaxis={"title": {"text": "update"}, "gridcolor": GRID},
        yaxis={
            "title": {"text": "loss per character (log)"},
            "type": "log",
            "exponentformat": "power",
            "dtick": 1,
            "gridcolor": GRID,
        },
    )
    layout["margin"] = {**layout["margin"], "b": 100}
    return go.Figure(data=traces, layout=layout)
