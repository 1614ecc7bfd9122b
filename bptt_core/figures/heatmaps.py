"""Heatmaps of signed per-timestep quantities and of weight matrices.

Signed values use the diverging blue–white–orange scale centred on zero with a fixed range, so a
cell's colour does not change meaning as the figure fills in; cells not yet computed are blank.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bptt_core.figures.style import DIVERGING, OKABE_ITO, base_layout


def time_labels(input_chars: Sequence[str], target_chars: Sequence[str]) -> list[str]:
    """Tick labels for t = 1..T: 't  x→d', e.g. '1 h→e'."""
    return [
        f"{i + 1} {a}→{b}" for i, (a, b) in enumerate(zip(input_chars, target_chars, strict=True))
    ]


def time_heatmap(
    values: np.ndarray,
    time_ticks: Sequence[str],
    unit_labels: Sequence[str],
    title: str,
    zmax: float,
    highlight: int | None = None,
    value_name: str = "value",
    height: int = 280,
) -> go.Figure:
    """A time × unit heatmap: values (T, N) drawn with time across and units down.

    NaN cells (not computed yet) are left blank. ``highlight`` (1-based t) outlines one column.
    """
    T, N = values.shape
    z = values.T  # (N, T): units down, time across
    hover = [
        [
            f"t = {t + 1} ({time_ticks[t]})<br>{unit_labels[u]}<br>{value_name} = "
            + ("not computed yet" if not np.isfinite(z[u, t]) else f"{z[u, t]:+.5f}")
            for t in range(T)
        ]
        for u in range(N)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(1, T + 1)),
            y=list(range(N)),
            colorscale=DIVERGING,
            zmid=0.0,
            zmin=-zmax,
            zmax=zmax,
            hovertext=hover,
            hoverinfo="text",
            xgap=1,
            ygap=1,
            colorbar={"thickness": 12, "len": 0.9},
        )
    )
    shapes = []
    if highlight is not None:
        shapes.append(
            {
                "type": "rect",
                "x0": highlight - 0.5,
                "x1": highlight + 0.5,
                "y0": -0.5,
                "y1": N - 0.5,
                "line": {"color": OKABE_ITO["vermillion"], "width": 3},
            }
        )
    step = max(1, T // 25)
    fig.update_layout(
        base_layout(
            title,
            height=height,
            shapes=shapes,
            xaxis={
                "tickmode": "array",
                "tickvals": list(range(1, T + 1, step)),
                "ticktext": list(time_ticks[::step]),
                "title": {"text": "time t (input → target)"},
                "range": [0.5, T + 0.5],
                "fixedrange": True,
            },
            yaxis={
                "tickmode": "array",
                "tickvals": list(range(N)),
                "ticktext": list(unit_labels),
                "range": [N - 0.5, -0.5],  # first unit on top; fixed even while all cells are blank
                "fixedrange": True,
            },
        )
    )
    return fig


def matrix_pairs(
    rows: Sequence[tuple[str, np.ndarray, np.ndarray | None, float, float]],
    left_title: str,
    right_title: str,
    row_labels: dict[str, tuple[Sequence[str], Sequence[str]]],
    px_per_row: int = 22,
) -> go.Figure:
    """Pairs of matrix heatmaps side by side, one row per parameter.

    rows: (label, left (R,C), right (R,C) or None, zmax_left, zmax_right) — e.g. the running sum of
    a weight update beside the contribution of the copy just visited. Vectors (biases) are drawn
    as one-row matrices. row_labels: label → (row tick labels, column tick labels).
    """
    n = len(rows)
    sizes = [max(1, np.atleast_2d(left).shape[0]) for _, left, *_ in rows]
    fig = make_subplots(
        rows=n,
        cols=2,
        row_heights=[sz / sum(sizes) for sz in sizes],
        subplot_titles=[f"{lbl}: {t}" for lbl, *_ in rows for t in (left_title, right_title)],
        horizontal_spacing=0.12,
        vertical_spacing=min(0.12, 0.35 / max(n, 1)),
    )
    for r, (label, left, right, zl, zr) in enumerate(rows, start=1):
        ylab, xlab = row_labels.get(label, ((), ()))
        for c, (mat, zmax) in enumerate(((left, zl), (right, zr)), start=1):
            if mat is None:
                mat = np.full_like(left, np.nan)
            m = np.atleast_2d(mat)
            hover = [
                [
                    f"{label}[{i + 1},{j + 1}]"
                    + (f" ({ylab[i]} ← {xlab[j]})" if ylab and xlab else "")
                    + ("<br>—" if not np.isfinite(m[i, j]) else f"<br>{m[i, j]:+.5f}")
                    for j in range(m.shape[1])
                ]
                for i in range(m.shape[0])
            ]
            fig.add_trace(
                go.Heatmap(
                    z=m,
                    colorscale=DIVERGING,
                    zmid=0.0,
                    zmin=-zmax,
                    zmax=zmax,
                    hovertext=hover,
                    hoverinfo="text",
                    showscale=False,
                    xgap=1,
                    ygap=1,
                ),
                row=r,
                col=c,
            )
            fig.update_yaxes(
                range=[m.shape[0] - 0.5, -0.5],  # first row on top, fixed even when blank
                tickmode="array",
                tickvals=list(range(m.shape[0])),
                ticktext=list(ylab) if ylab and len(ylab) == m.shape[0] else None,
                showticklabels=bool(ylab) and len(ylab) == m.shape[0] and m.shape[0] <= 30,
                fixedrange=True,
                row=r,
                col=c,
            )
            fig.update_xaxes(
                range=[-0.5, m.shape[1] - 0.5],
                tickmode="array",
                tickvals=list(range(m.shape[1])),
                ticktext=list(xlab) if xlab and len(xlab) == m.shape[1] else None,
                showticklabels=bool(xlab) and len(xlab) == m.shape[1] and m.shape[1] <= 30,
                fixedrange=True,
                row=r,
                col=c,
            )
    fig.update_layout(base_layout("", height=40 + 70 * n + px_per_row * sum(sizes)))
    fig.update_layout(margin={"t": 40})
    return fig
