"""The network drawn two ways: unfolded across time, and unit by unit for one copy.

Pure functions: arrays and traces in, ``go.Figure`` out. Labels come from a ``Notation`` (HTML
forms, since Plotly titles understand <sub>/<sup> but not LaTeX).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from bptt_viz.figures.style import (
    DIVERGING,
    FONT,
    GREY,
    LIGHT_GREY,
    MID_GREY,
    OKABE_ITO,
    base_layout,
    fmt_vector,
    svg_rich,
    symmetric_range,
)
from bptt_viz.notation import Notation
from bptt_viz.stepper import StepState

HIGHLIGHT = OKABE_ITO["vermillion"]
FORWARD = OKABE_ITO["blue"]
BACKWARD = OKABE_ITO["orange"]


def _segments(pairs: Sequence[tuple[float, float, float, float]]) -> tuple[list, list]:
    """Line segments (x0, y0, x1, y1) as one scatter trace's x and y with None separators."""
    xs: list = []
    ys: list = []
    for x0, y0, x1, y1 in pairs:
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    return xs, ys


@dataclass(frozen=True)
class EdgeGroup:
    """Line segments drawn alike: (x0, y0, x1, y1) in data coordinates."""

    segments: tuple[tuple[float, float, float, float], ...]
    colour: str
    width: float
    dash: str  # "solid" | "dot"


@dataclass(frozen=True)
class UnfoldedGeometry:
    """Everything drawn in the unfolded network, in data coordinates (t across, rows up).

    Both renderers (Plotly for the interactive figure, SVG for fast frames while playing) draw
    exactly this, so the two pictures are the same.
    """

    T: int
    title: str
    edges: tuple[EdgeGroup, ...]  # drawn in order: still to come, done, this step's
    node_x: tuple[float, ...]
    node_y: tuple[float, ...]
    node_fill: tuple[str, ...]
    node_line: tuple[str, ...]
    node_line_width: tuple[float, ...]
    node_size: tuple[float, ...]  # diameter in pixels
    node_hover: tuple[str, ...]  # HTML (notation symbols; user characters escaped)
    labels: tuple[tuple[float, float, str], ...]  # (x, y, text): the characters
    row_labels: tuple[str, str, str]  # HTML labels of the rows x, h, y
    band: tuple[float, float] | None  # x-range of the copies one loss may reach (truncation)


ROW_X, ROW_H, ROW_Y = 0.0, 1.0, 2.0


def unfolded_geometry(
    state: StepState,
    input_chars: Sequence[str],
    target_chars: Sequence[str],
    notation: Notation,
    h0: np.ndarray,
    truncation: int | None = None,
) -> UnfoldedGeometry:
    """x(t) → h(t) → y(t) for t = 1..T with the recurrent edges h(t−1) → h(t).

    Forward steps: nodes computed so far are filled, the copy just computed and its three incoming
    edges are highlighted. Backward steps: the error flows right to left; copies already visited
    are coloured by ‖delta_h(t)‖ and the edges the error of step t travels on are highlighted.
    With truncation k, the copies that L(t) may reach on the backward step are shaded.
    """
    T, t = state.T, state.t
    times = np.arange(1, T + 1)
    fwd = state.phase == "forward"
    n = notation
    esc_in = [html.escape(c) for c in input_chars]
    esc_out = [html.escape(c) for c in target_chars]

    # ---- edges: done (solid), still to come (faint), and this step's (highlighted)
    done, todo = [], []
    for s in times:
        edges = [(s, ROW_X, s, ROW_H), (s - 1, ROW_H, s, ROW_H), (s, ROW_H, s, ROW_Y)]
        (done if state.h_known[s - 1] else todo).extend(edges)
    if fwd:
        hot = [(t, ROW_X, t, ROW_H), (t - 1, ROW_H, t, ROW_H), (t, ROW_H, t, ROW_Y)]
    else:
        hot = [(t, ROW_Y, t, ROW_H)]
        if t < T and (truncation is None or truncation > 1):
            hot.append((t + 1, ROW_H, t, ROW_H))
    groups = (
        EdgeGroup(tuple(todo), LIGHT_GREY, 1.5, "dot"),
        EdgeGroup(tuple(done), GREY, 2.0, "solid"),
        EdgeGroup(tuple(hot), FORWARD if fwd else BACKWARD, 5.0, "solid"),
    )

    # ---- nodes
    dh_norm = np.linalg.norm(np.nan_to_num(state.delta_h), axis=1)
    dh_max = float(dh_norm.max()) if dh_norm.max() > 0 else 1.0
    nodes: list[tuple[float, float, str, str, float, float, str]] = [
        (0, ROW_H, OKABE_ITO["sky"], GREY, 1, 22, f"{n.html('h', 0)} = {fmt_vector(h0)}")
    ]
    for s in times:
        i = s - 1
        known, visited, here = bool(state.h_known[i]), bool(state.delta_known[i]), s == t
        edge, width = (HIGHLIGHT, 4) if here else (GREY, 1)
        nodes.append(
            (
                s,
                ROW_X,
                "#ffffff",
                edge if (here and fwd) else GREY,
                width if fwd else 1,
                26,
                f"{n.html('x', s)} = one-hot “{esc_in[i]}”",
            )
        )
        if visited:
            fill = f"rgba(230,159,0,{0.25 + 0.75 * dh_norm[i] / dh_max:.3f})"
            text = (
                f"{n.html('h', s)} = {fmt_vector(state.h[i])}<br>"
                f"{n.html('delta_h', s)} = {fmt_vector(state.delta_h[i])}"
            )
        elif known:
            fill, text = OKABE_ITO["sky"], f"{n.html('h', s)} = {fmt_vector(state.h[i])}"
        else:
            fill, text = "#ffffff", f"{n.html('h', s)}: not computed yet"
        nodes.append((s, ROW_H, fill, edge, width, 30, text))
        if known:
            text = (
                f"{n.html('y', s)} = {fmt_vector(state.y[i])}<br>target “{esc_out[i]}”"
                f"<br>{n.html('L_t', s)} = {state.losses[i]:.4f}"
            )
            if visited:
                text += f"<br>{n.html('delta_o', s)} = {fmt_vector(state.delta_o[i])}"
            fill = "rgba(230,159,0,0.6)" if visited else OKABE_ITO["green"]
        else:
            fill, text = "#ffffff", f"{n.html('y', s)}: not computed yet"
        nodes.append((s, ROW_Y, fill, edge, width, 26, text))
    labels = tuple(
        [(float(s), ROW_X - 0.42, f"“{esc_in[s - 1]}”") for s in times]
        + [(float(s), ROW_Y + 0.42, f"“{esc_out[s - 1]}”") for s in times]
    )
    band = None
    if not fwd and truncation is not None and truncation < T:
        band = (max(1, t - truncation + 1) - 0.45, t + 0.45)
    phase_text = "forward pass" if fwd else "backward pass"
    cols = list(zip(*nodes, strict=True))
    return UnfoldedGeometry(
        T=T,
        title=f"Unfolded network — {phase_text}, t = {t} of {T}",
        edges=groups,
        node_x=cols[0],
        node_y=cols[1],
        node_fill=cols[2],
        node_line=cols[3],
        node_line_width=cols[4],
        node_size=cols[5],
        node_hover=cols[6],
        labels=labels,
        row_labels=(n.html("x"), n.html("h"), n.html("y")),
        band=band,
    )


def unfolded_network(
    state: StepState,
    input_chars: Sequence[str],
    target_chars: Sequence[str],
    notation: Notation,
    h0: np.ndarray,
    truncation: int | None = None,
) -> go.Figure:
    """The unfolded network as an interactive Plotly figure (see ``unfolded_geometry``)."""
    g = unfolded_geometry(state, input_chars, target_chars, notation, h0, truncation)
    T = g.T
    traces: list[go.Scatter] = []
    for group in g.edges:
        xs, ys = _segments(group.segments)
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": group.colour, "width": group.width, "dash": group.dash},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    traces.append(
        go.Scatter(
            x=g.node_x,
            y=g.node_y,
            mode="markers",
            marker={
                "size": g.node_size,
                "color": g.node_fill,
                "line": {"color": g.node_line, "width": g.node_line_width},
            },
            hovertext=g.node_hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    traces.append(
        go.Scatter(
            x=[lx for lx, _, _ in g.labels],
            y=[ly for _, ly, _ in g.labels],
            mode="text",
            text=[txt for _, _, txt in g.labels],
            textfont={"size": 13 if T <= 20 else 10, "color": MID_GREY},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    shapes = []
    if g.band is not None:
        shapes.append(
            {
                "type": "rect",
                "x0": g.band[0],
                "x1": g.band[1],
                "y0": ROW_X - 0.25,
                "y1": ROW_Y + 0.25,
                "line": {"color": BACKWARD, "dash": "dash", "width": 1.5},
                "fillcolor": "rgba(230,159,0,0.06)",
                "layer": "below",
            }
        )
    times = np.arange(1, T + 1)
    tick = _tick_step(T)
    layout = base_layout(
        g.title,
        height=NETWORK_HEIGHT,
        xaxis={
            "tickmode": "array",
            "tickvals": [0, *list(times[::tick])],
            "ticktext": ["t = 0", *[str(s) for s in times[::tick]]],
            "range": [-0.6, T + 0.6],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        yaxis={
            "tickmode": "array",
            "tickvals": [ROW_X, ROW_H, ROW_Y],
            "ticktext": list(g.row_labels),
            "range": [-0.7, 2.7],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        shapes=shapes,
    )
    return go.Figure(data=traces, layout=layout)


NETWORK_HEIGHT = 300


def _tick_step(T: int) -> int:
    return 1 if T <= 25 else 2 if T <= 50 else 5


def unfolded_network_svg(
    state: StepState,
    input_chars: Sequence[str],
    target_chars: Sequence[str],
    notation: Notation,
    h0: np.ndarray,
    truncation: int | None = None,
    width: int = 680,
) -> str:
    """The same picture as ``unfolded_network``, as a static SVG document (no hover): cheap
    enough for a browser to draw ten or more times a second while the stepper plays."""
    g = unfolded_geometry(state, input_chars, target_chars, notation, h0, truncation)
    T, height = g.T, NETWORK_HEIGHT
    left, right, top, bottom = 60, 20, 48, 48
    x_lo, x_hi, y_lo, y_hi = -0.6, T + 0.6, -0.7, 2.7

    def px(x: float) -> float:
        return left + (x - x_lo) / (x_hi - x_lo) * (width - left - right)

    def py(y: float) -> float:
        return top + (y_hi - y) / (y_hi - y_lo) * (height - top - bottom)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT["family"]}" font-size="13">',
        f'<text x="4" y="26" font-size="15" font-weight="bold" fill="{MID_GREY}">{svg_rich(g.title)}</text>',
    ]
    if g.band is not None:
        x0, x1 = px(g.band[0]), px(g.band[1])
        y0, y1 = py(ROW_Y + 0.25), py(ROW_X - 0.25)
        out.append(
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
            f'fill="rgba(230,159,0,0.06)" stroke="{BACKWARD}" stroke-dasharray="6 4"/>'
        )
    for group in g.edges:
        dash = ' stroke-dasharray="2 4"' if group.dash == "dot" else ""
        for x0, y0, x1, y1 in group.segments:
            out.append(
                f'<line x1="{px(x0):.1f}" y1="{py(y0):.1f}" x2="{px(x1):.1f}" y2="{py(y1):.1f}" '
                f'stroke="{group.colour}" stroke-width="{group.width}"{dash}/>'
            )
    for x, y, fill, line, lw, size in zip(
        g.node_x, g.node_y, g.node_fill, g.node_line, g.node_line_width, g.node_size, strict=True
    ):
        out.append(
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="{size / 2:.1f}" fill="{fill}" '
            f'stroke="{line}" stroke-width="{lw}"/>'
        )
    small = 13 if T <= 20 else 10
    for x, y, text in g.labels:
        out.append(
            f'<text x="{px(x):.1f}" y="{py(y) + 4:.1f}" text-anchor="middle" font-size="{small}" '
            f'fill="{MID_GREY}">{text}</text>'
        )
    for y, label in zip((ROW_X, ROW_H, ROW_Y), g.row_labels, strict=True):
        out.append(
            f'<text x="{left - 8}" y="{py(y) + 4:.1f}" text-anchor="end" fill="{MID_GREY}">'
            f"{svg_rich(label)}</text>"
        )
    tick = _tick_step(T)
    for s in [0, *range(1, T + 1, tick)]:
        label = "t = 0" if s == 0 else str(s)
        out.append(
            f'<text x="{px(s):.1f}" y="{height - bottom + 26}" text-anchor="middle" '
            f'fill="{MID_GREY}">{label}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def unit_network(
    weights: dict[str, np.ndarray],
    input_labels: Sequence[str],
    output_labels: Sequence[str],
    notation: Notation,
    t: int,
    x: np.ndarray,
    h_prev: np.ndarray,
    h: np.ndarray,
    y: np.ndarray,
    showing: str = "weights",
) -> go.Figure:
    """One unfolded copy unit by unit: x(t) and h(t−1) on the left, h(t) in the middle, y(t) on the
    right. Every weight is an edge; its width and colour show its value (``showing="weights"``) or
    its gradient contribution from this copy (``showing="gradients"``): orange positive, blue
    negative, width ∝ |value|.

    weights: {"W_xh": (H,I), "W_hh": (H,H), "W_hy": (O,H)} — the values to draw on the edges.
    x (I,), h_prev (H,), h (H,), y (O,): the node values of copy t.
    """
    W_xh, W_hh, W_hy = weights["W_xh"], weights["W_hh"], weights["W_hy"]
    H, I = W_xh.shape  # noqa: E741
    O = W_hy.shape[0]  # noqa: E741
    n = notation
    left_n = I + H

    def spread(count: int, lo: float, hi: float) -> np.ndarray:
        return np.linspace(hi, lo, count) if count > 1 else np.array([(lo + hi) / 2])

    gap = 0.6
    total = left_n + gap
    y_in = spread(I, total - I, total) if I else np.array([])
    y_hp = spread(H, 0.0, H - 1.0)
    mid_top = (total + 0) / 2
    y_h = spread(H, mid_top - (H - 1) / 2, mid_top + (H - 1) / 2)
    y_out = spread(O, mid_top - (O - 1) / 2, mid_top + (O - 1) / 2)
    X_IN, X_H, X_OUT = 0.0, 1.0, 2.0

    scale = symmetric_range(W_xh, W_hh, W_hy)
    ins = [html.escape(c) for c in input_labels]
    outs = [html.escape(c) for c in output_labels]

    def block(
        W: np.ndarray, x0: float, y_from: np.ndarray, x1: float, y_to: np.ndarray, label
    ) -> list:  # W is (to, from): one edge per entry
        return [
            (x0, y_from[i], x1, y_to[j], W[j, i], label(j, i))
            for j in range(W.shape[0])
            for i in range(W.shape[1])
        ]

    edges = (  # (x0, y0, x1, y1, value, label)
        block(
            W_xh,
            X_IN,
            y_in,
            X_H,
            y_h,
            lambda j, i: f"{n.html('W_xh')}[{j + 1},{i + 1}]: “{ins[i]}” → unit {j + 1}",
        )
        + block(
            W_hh,
            X_IN,
            y_hp,
            X_H,
            y_h,
            lambda j, i: f"{n.html('W_hh')}[{j + 1},{i + 1}]: unit {i + 1} at t−1 → unit {j + 1}",
        )
        + block(
            W_hy,
            X_H,
            y_h,
            X_OUT,
            y_out,
            lambda k, j: f"{n.html('W_hy')}[{k + 1},{j + 1}]: unit {j + 1} → “{outs[k]}”",
        )
    )
    values = np.array([e[4] for e in edges])
    traces: list[go.Scatter] = []
    # group edges by sign and width bin: a handful of traces instead of one per edge
    bins = np.minimum((np.abs(values) / scale * 5).astype(int), 4)
    for sign, colour in ((1, OKABE_ITO["orange"]), (-1, OKABE_ITO["blue"])):
        for b in range(5):
            sel = [
                e
                for e, v, bb in zip(edges, values, bins, strict=True)
                if (v >= 0) == (sign > 0) and bb == b
            ]
            if not sel:
                continue
            xs, ys = _segments([(e[0], e[1], e[2], e[3]) for e in sel])
            traces.append(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    line={"color": colour, "width": 0.5 + 1.6 * b},
                    opacity=0.35 + 0.15 * b,
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
    # invisible midpoints carry the hover text of each edge
    word = "weight" if showing == "weights" else "gradient contribution"
    traces.append(
        go.Scatter(
            x=[(e[0] + e[2]) / 2 for e in edges],
            y=[(e[1] + e[3]) / 2 for e in edges],
            mode="markers",
            marker={"size": 6, "color": "rgba(0,0,0,0)"},
            hovertext=[f"{e[5]}<br>{word} = {e[4]:+.4f}" for e in edges],
            hoverinfo="text",
            showlegend=False,
        )
    )
    node_x = [X_IN] * I + [X_IN] * H + [X_H] * H + [X_OUT] * O
    node_y = [*y_in, *y_hp, *y_h, *y_out]
    vals = np.concatenate([x, h_prev, h, y])
    hover = (
        [f"{n.html('x', t)}: “{ins[i]}” = {x[i]:.0f}" for i in range(I)]
        + [f"{n.html('h', t - 1)} unit {i + 1} = {h_prev[i]:+.4f}" for i in range(H)]
        + [f"{n.html('h', t)} unit {j + 1} = {h[j]:+.4f}" for j in range(H)]
        + [f"{n.html('y', t)} “{outs[k]}” = {y[k]:.4f}" for k in range(O)]
    )
    text = [f"“{c}”" for c in ins] + [""] * (2 * H) + [f"“{c}”" for c in outs]
    traces.append(
        go.Scatter(
            x=node_x,
            y=node_y,
            mode="markers+text",
            marker={
                "size": 18,
                "color": vals,
                "colorscale": DIVERGING,
                "cmin": -1,
                "cmax": 1,
                "line": {"color": "#555", "width": 1},
            },
            text=text,
            textposition=["middle left"] * (I + 2 * H) + ["middle right"] * O,
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    annotations = [
        {"x": X_IN, "y": total + 0.9, "text": n.html("x", t), "showarrow": False},
        {"x": X_IN, "y": -1.0, "text": n.html("h", t - 1), "showarrow": False},
        {"x": X_H, "y": total + 0.9, "text": n.html("h", t), "showarrow": False},
        {"x": X_OUT, "y": total + 0.9, "text": n.html("y", t), "showarrow": False},
    ]
    title = f"Copy t = {t}, unit by unit (edges: {'weights' if showing == 'weights' else 'this copy’s gradient'})"
    layout = base_layout(
        title,
        height=max(320, int(26 * (total + 3))),
        xaxis={"visible": False, "range": [-0.8, 2.8], "fixedrange": True},
        yaxis={"visible": False, "range": [-1.6, total + 1.5], "fixedrange": True},
        annotations=annotations,
    )
    return go.Figure(data=traces, layout=layout)
