"""The network drawn two ways: unfolded across time, and unit by unit for one copy.

Pure functions: arrays and traces in, ``go.Figure`` out. Labels come from a ``Notation`` (HTML
forms, since Plotly titles understand <sub>/<sup> but not LaTeX).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from bptt_core.figures.style import (
    DIVERGING,
    GREY,
    LIGHT_GREY,
    OKABE_ITO,
    base_layout,
    fmt_vector,
    symmetric_range,
)
from bptt_core.notation import Notation
from bptt_core.stepper import StepState

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


def unfolded_network(
    state: StepState,
    input_chars: Sequence[str],
    target_chars: Sequence[str],
    notation: Notation,
    h0: np.ndarray,
    truncation: int | None = None,
) -> go.Figure:
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
    ROW_X, ROW_H, ROW_Y = 0.0, 1.0, 2.0

    # ---- edges: done (solid), still to come (faint), and this step's (highlighted)
    done, todo, hot = [], [], []
    for s in times:
        edges = [(s, ROW_X, s, ROW_H), (s - 1, ROW_H, s, ROW_H), (s, ROW_H, s, ROW_Y)]
        computed = state.h_known[s - 1]
        for e in edges:
            (done if computed else todo).append(e)
    if fwd:
        hot = [(t, ROW_X, t, ROW_H), (t - 1, ROW_H, t, ROW_H), (t, ROW_H, t, ROW_Y)]
    else:
        hot = [(t, ROW_Y, t, ROW_H)]
        if t < T and (truncation is None or truncation > 1):
            hot.append((t + 1, ROW_H, t, ROW_H))
    traces: list[go.Scatter] = []
    for pairs, colour, width, dash in (
        (todo, LIGHT_GREY, 1.5, "dot"),
        (done, GREY, 2.0, "solid"),
        (hot, FORWARD if fwd else BACKWARD, 5.0, "solid"),
    ):
        xs, ys = _segments(pairs)
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": colour, "width": width, "dash": dash},
                hoverinfo="skip",
                showlegend=False,
            )
        )

    # ---- nodes
    dh_norm = np.linalg.norm(np.nan_to_num(state.delta_h), axis=1)
    node_x, node_y, colour, line_colour, line_width, size, hover = [], [], [], [], [], [], []

    def add(x, y, fill, edge, width, text, sz=26):
        node_x.append(x)
        node_y.append(y)
        colour.append(fill)
        line_colour.append(edge)
        line_width.append(width)
        hover.append(text)
        size.append(sz)

    add(0, ROW_H, OKABE_ITO["sky"], GREY, 1, f"{n.h('h', 0)} = {fmt_vector(h0)}", 22)
    dh_max = float(dh_norm.max()) if dh_norm.max() > 0 else 1.0
    for s in times:
        i = s - 1
        known = bool(state.h_known[i])
        visited = bool(state.delta_known[i])
        here = s == t
        edge = HIGHLIGHT if here else GREY
        width = 4 if here else 1
        # input node
        add(
            s,
            ROW_X,
            "#ffffff",
            edge if (here and fwd) else GREY,
            width if fwd else 1,
            f"{n.h('x', s)} = one-hot “{input_chars[i]}”",
        )
        # hidden node
        if visited:
            strength = dh_norm[i] / dh_max
            fill = f"rgba(230,159,0,{0.25 + 0.75 * strength:.3f})"
            text = (
                f"{n.h('h', s)} = {fmt_vector(state.h[i])}<br>"
                f"{n.h('delta_h', s)} = {fmt_vector(state.delta_h[i])}"
            )
        elif known:
            fill = OKABE_ITO["sky"]
            text = f"{n.h('h', s)} = {fmt_vector(state.h[i])}"
        else:
            fill = "#ffffff"
            text = f"{n.h('h', s)}: not computed yet"
        add(s, ROW_H, fill, edge, width, text, 30)
        # output node
        if known:
            loss = state.losses[i]
            text = (
                f"{n.h('y', s)} = {fmt_vector(state.y[i])}<br>target “{target_chars[i]}”"
                f"<br>{n.h('L_t', s)} = {loss:.4f}"
            )
            if visited:
                text += f"<br>{n.h('delta_o', s)} = {fmt_vector(state.delta_o[i])}"
            fill = "rgba(230,159,0,0.6)" if visited else OKABE_ITO["green"]
        else:
            fill, text = "#ffffff", f"{n.h('y', s)}: not computed yet"
        add(s, ROW_Y, fill, edge, width, text, 26)
    traces.append(
        go.Scatter(
            x=node_x,
            y=node_y,
            mode="markers",
            marker={
                "size": size,
                "color": colour,
                "line": {"color": line_colour, "width": line_width},
            },
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    # characters: inputs below the x row, targets above the y row
    traces.append(
        go.Scatter(
            x=list(times) + list(times),
            y=[ROW_X - 0.42] * T + [ROW_Y + 0.42] * T,
            mode="text",
            text=[f"“{c}”" for c in input_chars] + [f"“{c}”" for c in target_chars],
            textfont={"size": 13 if T <= 20 else 10, "color": "#444"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    shapes = []
    if not fwd and truncation is not None and truncation < T:
        # the copies a single loss L(t) may reach: t, t−1, …, t−k+1
        lo = max(1, t - truncation + 1)
        shapes.append(
            {
                "type": "rect",
                "x0": lo - 0.45,
                "x1": t + 0.45,
                "y0": ROW_X - 0.25,
                "y1": ROW_Y + 0.25,
                "line": {"color": BACKWARD, "dash": "dash", "width": 1.5},
                "fillcolor": "rgba(230,159,0,0.06)",
                "layer": "below",
            }
        )
    phase_text = "forward pass" if fwd else "backward pass"
    title = f"Unfolded network — {phase_text}, t = {t} of {T}"
    tick = 1 if T <= 25 else 2 if T <= 50 else 5
    layout = base_layout(
        title,
        height=300,
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
            "ticktext": [n.h("x"), n.h("h"), n.h("y")],
            "range": [-0.7, 2.7],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        shapes=shapes,
    )
    return go.Figure(data=traces, layout=layout)


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
    edges = []  # (x0, y0, x1, y1, value, label)
    for j in range(H):
        for i in range(I):
            edges.append(
                (
                    X_IN,
                    y_in[i],
                    X_H,
                    y_h[j],
                    W_xh[j, i],
                    f"{n.h('W_xh')}[{j + 1},{i + 1}]: “{input_labels[i]}” → unit {j + 1}",
                )
            )
        for i in range(H):
            edges.append(
                (
                    X_IN,
                    y_hp[i],
                    X_H,
                    y_h[j],
                    W_hh[j, i],
                    f"{n.h('W_hh')}[{j + 1},{i + 1}]: unit {i + 1} at t−1 → unit {j + 1}",
                )
            )
    for k in range(O):
        for j in range(H):
            edges.append(
                (
                    X_H,
                    y_h[j],
                    X_OUT,
                    y_out[k],
                    W_hy[k, j],
                    f"{n.h('W_hy')}[{k + 1},{j + 1}]: unit {j + 1} → “{output_labels[k]}”",
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
        [f"{n.h('x', t)}: “{input_labels[i]}” = {x[i]:.0f}" for i in range(I)]
        + [f"{n.h('h', t - 1)} unit {i + 1} = {h_prev[i]:+.4f}" for i in range(H)]
        + [f"{n.h('h', t)} unit {j + 1} = {h[j]:+.4f}" for j in range(H)]
        + [f"{n.h('y', t)} “{output_labels[k]}” = {y[k]:.4f}" for k in range(O)]
    )
    text = [f"“{c}”" for c in input_labels] + [""] * (2 * H) + [f"“{c}”" for c in output_labels]
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
        {"x": X_IN, "y": total + 0.9, "text": n.h("x", t), "showarrow": False},
        {"x": X_IN, "y": -1.0, "text": n.h("h", t - 1), "showarrow": False},
        {"x": X_H, "y": total + 0.9, "text": n.h("h", t), "showarrow": False},
        {"x": X_OUT, "y": total + 0.9, "text": n.h("y", t), "showarrow": False},
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
