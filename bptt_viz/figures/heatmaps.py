"""Heatmaps of signed per-timestep quantities and of weight matrices.

Signed values use the diverging blue–white–orange scale centred on zero with a fixed range, so a
cell's colour does not change meaning as the figure fills in; cells not yet computed are blank.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from bptt_viz.figures.style import DIVERGING, FONT, MID_GREY, OKABE_ITO, base_layout
from bptt_viz.figures.style import svg_rich as _svg_rich


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


def time_heatmap_svg(
    values: np.ndarray,
    time_ticks: Sequence[str],
    unit_labels: Sequence[str],
    title: str,
    zmax: float,
    highlight: int | None = None,
    height: int = 280,
    width: int = 520,
) -> str:
    """The picture of ``time_heatmap`` as a static SVG (no hover), for fast frames while playing.

    Labels must already be HTML-escaped (they are written into the SVG as they are)."""
    T, N = values.shape
    left, right, top, bottom = 90, 20, 40, 60
    cw = (width - left - right) / T
    ch = (height - top - bottom) / N
    fills = diverging_colours(values.T, zmax)  # row-major over (unit, time)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT["family"]}" font-size="12">',
        f'<text x="4" y="22" font-size="15" font-weight="bold" fill="{MID_GREY}">{_svg_rich(title)}</text>',
    ]
    for u in range(N):
        for t in range(T):
            fill = fills[u * T + t]
            if fill:
                out.append(
                    f'<rect x="{left + t * cw + 0.5:.1f}" y="{top + u * ch + 0.5:.1f}" '
                    f'width="{cw - 1:.1f}" height="{ch - 1:.1f}" fill="{fill}"/>'
                )
    if highlight is not None:
        out.append(
            f'<rect x="{left + (highlight - 1) * cw:.1f}" y="{top}" width="{cw:.1f}" '
            f'height="{N * ch:.1f}" fill="none" stroke="{OKABE_ITO["vermillion"]}" stroke-width="3"/>'
        )
    if N <= 40:
        for u, label in enumerate(unit_labels):
            out.append(
                f'<text x="{left - 6}" y="{top + (u + 0.5) * ch + 4:.1f}" text-anchor="end" '
                f'fill="{MID_GREY}">{label}</text>'
            )
    step = max(1, int(np.ceil(T * 48 / (width - left - right))))  # labels ~48 px apart
    for t in range(0, T, step):
        out.append(
            f'<text x="{left + (t + 0.5) * cw:.1f}" y="{top + N * ch + 16:.1f}" '
            f'text-anchor="middle" fill="{MID_GREY}">{time_ticks[t]}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _matrix_axis(
    domain: list[float], anchor: str, size: int, labels: Sequence[str], span: list[float]
) -> dict:
    """One axis of a matrix heatmap: a tick per row/column, labelled when there are labels for
    all of them and at most 30."""
    show = len(labels) == size and size <= 30
    return {
        "domain": domain,
        "anchor": anchor,
        "range": span,
        "tickmode": "array",
        "tickvals": list(range(size)),
        "ticktext": list(labels) if show else None,
        "showticklabels": show,
        "fixedrange": True,
        "showgrid": False,
        "zeroline": False,
    }


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
    title_px, gap_px = 26, 34
    height = 30 + n * (title_px + gap_px) + px_per_row * sum(sizes)
    # axes domains computed directly (make_subplots is ~10× slower for the same figure)
    traces, layout_axes, annotations = [], {}, []
    top = 1.0 - 10 / height
    col_domains = ((0.0, 0.44), (0.56, 1.0))
    for r, (label, left, right, zl, zr) in enumerate(rows):
        ylab, xlab = row_labels.get(label, ((), ()))
        top -= title_px / height
        bottom = top - px_per_row * sizes[r] / height
        for c, (mat, zmax, sub) in enumerate(((left, zl, left_title), (right, zr, right_title))):
            m = np.atleast_2d(np.full_like(left, np.nan) if mat is None else mat)
            idx = 2 * r + c + 1
            xa, ya = f"x{idx}", f"y{idx}"
            finite = np.isfinite(m)
            hover = [
                [
                    f"{label}[{i + 1},{j + 1}]"
                    + (f" ({ylab[i]} ← {xlab[j]})" if len(ylab) and len(xlab) else "")
                    + (f"<br>{m[i, j]:+.5f}" if finite[i, j] else "<br>—")
                    for j in range(m.shape[1])
                ]
                for i in range(m.shape[0])
            ]
            traces.append(
                go.Heatmap(
                    z=m,
                    xaxis=xa,
                    yaxis=ya,
                    colorscale=DIVERGING,
                    zmid=0.0,
                    zmin=-zmax,
                    zmax=zmax,
                    hovertext=hover,
                    hoverinfo="text",
                    showscale=False,
                    xgap=1,
                    ygap=1,
                )
            )
            layout_axes[f"xaxis{idx}"] = _matrix_axis(
                list(col_domains[c]), ya, m.shape[1], xlab, [-0.5, m.shape[1] - 0.5]
            )
            # first row on top, fixed even when the matrix is blank
            layout_axes[f"yaxis{idx}"] = _matrix_axis(
                [max(bottom, 0.0), top], xa, m.shape[0], ylab, [m.shape[0] - 0.5, -0.5]
            )
            annotations.append(
                {
                    "text": f"<b>{label}</b>: {sub}",
                    "x": sum(col_domains[c]) / 2,
                    "y": top,
                    "xref": "paper",
                    "yref": "paper",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"size": 13},
                }
            )
        top = bottom - gap_px / height
    layout = base_layout("", height=height, annotations=annotations, **layout_axes)
    layout["margin"] = {"l": 60, "r": 20, "t": 10, "b": 10}
    return go.Figure(data=traces, layout=layout)
