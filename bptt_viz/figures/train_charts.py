"""Figures of live training: loss curve, gradient norms, predicted distributions, weights.

Arrays in, ``go.Figure`` out; labels arrive already written in the chosen notation (HTML for
Plotly). No Streamlit, no training: the page computes the numbers with the engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from bptt_viz.figures.style import DIVERGING, GREY, OKABE_ITO, SEQUENTIAL, base_layout

LOSS_COLOR = OKABE_ITO["blue"]
RAW_COLOR = OKABE_ITO["sky"]
CHANCE_COLOR = GREY
CLIP_COLOR = OKABE_ITO["vermillion"]
CLIP_COLOR_NAME = "orange"  # what a reader calls CLIP_COLOR (captions say it)
TARGET_MARK_COLOR = OKABE_ITO["vermillion"]
TARGET_MARK_NAME = "orange"  # what a reader calls TARGET_MARK_COLOR
EVENT_COLOR = OKABE_ITO["purple"]
GRAD_COLOR = OKABE_ITO["green"]
VALIDATE = False  # tests switch this on to check every property name and value
HOVER_CELLS = 4000  # heatmaps with more cells hover with row/column numbers only


def _log_ticks(*arrays: np.ndarray) -> dict:
    """Ticks of a log axis: one per power of ten when the values span 2 to 15 decades (no
    cluttered 2s and 5s between them); Plotly's own choice otherwise."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return {}
    decades = np.log10(values.max()) - np.log10(values.min())
    return {"dtick": 1} if 2 <= decades <= 15 else {}


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A Figure from plain dicts, skipping Plotly's per-property validation (10× faster; the
    dicts here are fixed and covered by the tests, which build them validated too)."""
    return go.Figure({"data": data, "layout": layout}, _validate=VALIDATE)


def _events(events: Sequence[tuple[int, str]], shown_from: float) -> tuple[list, list]:
    """Vertical dotted lines with a label for settings changes at given updates."""
    shapes, notes = [], []
    for update, label in events:
        if update < shown_from:
            continue
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": update,
                "x1": update,
                "y0": 0,
                "y1": 1,
                "line": {"color": EVENT_COLOR, "width": 1, "dash": "dot"},
            }
        )
        notes.append(
            {
                "x": update,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": label,
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"size": 11, "color": EVENT_COLOR},
            }
        )
    return shapes, notes


def loss_curve(
    update: np.ndarray,
    loss: np.ndarray,
    smoothed: np.ndarray,
    chance: np.ndarray,
    *,
    loss_name: str = "L",
    chance_label: str = "chance",
    bucket: int = 1,
    smooth_span: int = 10,
    log_y: bool = True,
    events: Sequence[tuple[int, str]] = (),
    min_x_span: int = 0,
    title: str = "",
    height: int = 340,
) -> go.Figure:
    """The loss of every pass against the update number, its moving average and the chance level.

    update, loss, smoothed, chance: (N,) each; chance is the loss of a know-nothing network on
    the same pass (T·ln V for softmax + cross-entropy), so it steps down on a shorter last chunk.
    ``bucket`` > 1 means every point is the mean of that many passes. ``min_x_span``: the x axis
    shows at least updates 0..min_x_span (the chance line drawn across), so a curve that has
    just started does not fill the whole width.
    """
    update = np.asarray(update)
    chance_x, chance_y = update, np.asarray(chance, dtype=float)
    xaxis: dict = {"title": {"text": "update"}, "rangemode": "tozero"}
    last = float(update[-1]) if update.size else 0.0
    if last < min_x_span:
        xaxis["range"] = [0, min_x_span]
        if update.size:
            chance_x = np.append(update, min_x_span)
            chance_y = np.append(chance_y, chance_y[-1])
    raw_name = (
        f"{loss_name} per update" if bucket == 1 else f"{loss_name}, mean of {bucket} updates"
    )
    hover_x = "update %{x}"
    traces = [
        {
            "type": "scatter",
            "x": chance_x,
            "y": chance_y,
            "name": chance_label,
            "mode": "lines",
            "line": {"color": CHANCE_COLOR, "dash": "dash", "width": 2},
            "hovertemplate": f"{hover_x}<br>chance = %{{y:.4g}}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": update,
            "y": loss,
            "name": raw_name,
            "mode": "lines+markers" if update.size <= 60 else "lines",
            "marker": {"size": 5},
            "line": {"color": RAW_COLOR, "width": 1},
            "hovertemplate": f"{hover_x}<br>{loss_name} = %{{y:.5g}}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": update,
            "y": smoothed,
            "name": f"moving average ({smooth_span} updates)",
            "mode": "lines",
            "line": {"color": LOSS_COLOR, "width": 3},
            "hovertemplate": f"{hover_x}<br>average = %{{y:.5g}}<extra></extra>",
        },
    ]
    shown_from = float(update[0]) if update.size else 0.0
    shapes, notes = _events(events, shown_from)
    layout = base_layout(
        title,
        height=height,
        shapes=shapes,
        annotations=notes,
        xaxis=xaxis,
        yaxis={
            "title": {"text": f"loss {loss_name} of the pass"},
            "type": "log" if log_y else "linear",
            **(_log_ticks(loss, smoothed, chance) if log_y else {"rangemode": "tozero"}),
        },
        legend={"orientation": "h", "y": -0.22, "x": 0},
        margin={"l": 60, "r": 20, "t": 40 if title else 16, "b": 90},
    )
    return _figure(traces, layout)


def grad_norm_curve(
    update: np.ndarray,
    norm: np.ndarray,
    clipped: np.ndarray,
    *,
    threshold: float | None,
    clip_note: str = "",
    bucket: int = 1,
    title: str = "",
    height: int = 340,
) -> go.Figure:
    """‖∂L/∂θ‖₂ before clipping, per update (log scale), with the norm-clipping threshold.

    clipped: (N,) bool (or, when downsampled, the share of clipped updates in each bucket);
    those updates are drawn as vermillion markers. ``threshold`` None draws no line (no
    clipping, or clipping each entry, whose threshold is not a norm).
    """
    clipped = np.asarray(clipped, dtype=float)
    hit = clipped > 0
    name = "gradient norm" if bucket == 1 else f"gradient norm, mean of {bucket} updates"
    traces = [
        {
            "type": "scatter",
            "x": update,
            "y": norm,
            "name": name,
            "mode": "lines+markers" if update.size <= 60 else "lines",
            "marker": {"size": 4},
            "line": {"color": GRAD_COLOR, "width": 2},
            "hovertemplate": "update %{x}<br>‖∂L/∂θ‖ = %{y:.4g}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": update[hit],
            "y": norm[hit],
            "name": "clipped",
            "mode": "markers",
            "marker": {"color": CLIP_COLOR, "size": 6, "symbol": "circle"},
            "hovertemplate": "update %{x}: clipped<extra></extra>",
        },
    ]
    if threshold is not None:
        x0 = float(update[0]) if update.size else 0.0
        x1 = float(update[-1]) if update.size else 1.0
        traces.append(
            {
                "type": "scatter",
                "x": [x0, x1],
                "y": [threshold, threshold],
                "name": f"clipping threshold c = {threshold:g}",
                "mode": "lines",
                "line": {"color": CLIP_COLOR, "dash": "dash", "width": 2},
                "hoverinfo": "skip",
            }
        )
    annotations = []
    if clip_note:
        annotations.append(
            {
                "text": clip_note,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 1,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11, "color": GREY},
            }
        )
    layout = base_layout(
        title,
        height=height,
        annotations=annotations,
        xaxis={"title": {"text": "update"}, "rangemode": "tozero"},
        yaxis={
            "title": {"text": "‖∂L/∂θ‖₂ before clipping"},
            "type": "log",
            **_log_ticks(norm, [threshold or 1.0]),
        },
        legend={"orientation": "h", "y": -0.22, "x": 0},
        margin={"l": 60, "r": 20, "t": 40 if title else 24, "b": 90},
    )
    return _figure(traces, layout)


def prediction_heatmap(
    y: np.ndarray,
    input_chars: Sequence[str],
    target_chars: Sequence[str],
    vocab: Sequence[str],
    target_ids: np.ndarray,
    *,
    first_t: int = 1,
    probabilities: bool = True,
    title: str = "",
    value_name: str = "y",
    target_name: str = "target",
) -> go.Figure:
    """What the network predicts at every position: y(t) for t = first_t.., one column each.

    y: (T, V) outputs; input_chars/target_chars: (T,) visible characters; vocab: (V,) labels;
    target_ids: (T,) index of the target in vocab, marked with an outlined square.
    ``probabilities`` fixes the colour scale to [0, 1] (softmax or sigmoid outputs).
    """
    T, V = y.shape
    t = np.arange(first_t, first_t + T)
    z = y.T  # (V, T): characters down, time across
    hover = [
        [
            f"t = {t[j]}: input “{input_chars[j]}”, {target_name} “{target_chars[j]}”"
            f"<br>{value_name} for “{vocab[i]}” = {z[i, j]:.4f}"
            + (" ← target" if i == target_ids[j] else "")
            for j in range(T)
        ]
        for i in range(V)
    ]
    scale = {"zmin": 0.0, "zmax": 1.0} if probabilities else {}
    heat = {
        "type": "heatmap",
        "z": z,
        "x": t,
        "y": np.arange(V),
        "colorscale": SEQUENTIAL,
        "hovertext": hover,
        "hoverinfo": "text",
        "xgap": 1,
        "ygap": 1,
        "colorbar": {"thickness": 12, "len": 0.9, "title": {"text": value_name}},
        "name": "prediction",
        **scale,
    }
    marks = {
        "type": "scatter",
        "x": t,
        "y": np.asarray(target_ids),
        "mode": "markers",
        "marker": {
            "symbol": "square-open",
            "size": max(8, min(22, int(700 / max(T, 1)))),
            "color": TARGET_MARK_COLOR,
            "line": {"width": 3},
        },
        "name": f"{target_name} (the next character)",
        "hoverinfo": "skip",
    }
    step = max(1, int(np.ceil(T / 12)))
    ticks = [f"{input_chars[j]}→{target_chars[j]}" for j in range(T)]
    height = max(240, min(900, 110 + 26 * V))
    layout = base_layout(
        title,
        height=height,
        xaxis={
            "tickmode": "array",
            "tickvals": t[::step].tolist(),
            "ticktext": ticks[::step],
            "title": {"text": "position t (input → target)"},
            "tickangle": 0,
            "range": [first_t - 0.5, first_t + T - 0.5],
            "fixedrange": True,
        },
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(V)),
            "ticktext": [f"“{c}”" for c in vocab] if V <= 60 else None,
            "showticklabels": V <= 60,
            "title": {"text": "next character"},
            "range": [V - 0.5, -0.5],
            "fixedrange": True,
        },
        legend={"orientation": "h", "y": 1.0, "x": 1.0, "xanchor": "right", "yanchor": "bottom"},
    )
    return _figure([heat, marks], layout)


def weight_heatmaps(
    matrices: Sequence[tuple[str, np.ndarray, Sequence[str], Sequence[str]]],
    *,
    zmax: float | None = None,
    value_name: str = "weight",
    roles: Sequence[str] = (),
    title: str = "",
    px_per_row: int = 20,
) -> go.Figure:
    """Weight matrices side by side on one shared, zero-centred colour scale.

    matrices: (name, array (R, C), row labels (R,), column labels (C,)) each — e.g. W_xh (H, V),
    W_hh (H, H), W_hy (V, H). ``roles`` (optional, one per matrix) is written after the name,
    e.g. "input → hidden". Widths follow the column counts; ``zmax`` defaults to the largest
    |entry| of all of them.
    """
    if zmax is None:
        finite = [np.abs(m[np.isfinite(m)]) for _, m, _, _ in matrices]
        zmax = max((float(f.max()) for f in finite if f.size), default=1.0) or 1.0
    rows = max(m.shape[0] for _, m, _, _ in matrices)
    px = px_per_row if rows <= 30 else max(4, int(600 / rows))
    height = (110 if roles else 90) + px * rows
    widths = np.array([max(m.shape[1], 3) for _, m, _, _ in matrices], dtype=float)
    gap = 0.06
    usable = 1.0 - gap * (len(matrices) - 1) - 0.06  # room for the colour bar
    spans = usable * widths / widths.sum()
    traces, axes, notes = [], {}, []
    left = 0.0
    for k, ((name, m, ylab, xlab), span) in enumerate(zip(matrices, spans, strict=True)):
        idx = "" if k == 0 else str(k + 1)
        R, C = m.shape
        trace = {
            "type": "heatmap",
            "z": m,
            "xaxis": f"x{idx}",
            "yaxis": f"y{idx}",
            "coloraxis": "coloraxis",
            "xgap": 1 if C <= 40 else 0,
            "ygap": 1 if R <= 40 else 0,
            "name": name,
        }
        if R * C <= HOVER_CELLS:
            trace["hovertext"] = [
                [
                    f"{name}[{i + 1},{j + 1}] ({ylab[i]} ← {xlab[j]})<br>{m[i, j]:+.4f}"
                    for j in range(C)
                ]
                for i in range(R)
            ]
            trace["hoverinfo"] = "text"
        else:
            trace["hovertemplate"] = f"{name}[%{{y}},%{{x}}] (from 0)<br>%{{z:+.4f}}<extra></extra>"
        traces.append(trace)
        axes[f"xaxis{idx}"] = {
            "domain": [left, left + span],
            "anchor": f"y{idx}",
            "tickmode": "array",
            "tickvals": list(range(C)),
            "ticktext": list(xlab),
            "showticklabels": C <= 30,
            "tickangle": 0,
            "range": [-0.5, C - 0.5],
            "fixedrange": True,
            "showgrid": False,
            "zeroline": False,
        }
        axes[f"yaxis{idx}"] = {
            "domain": [max(0.0, 1 - R / rows), 1.0],
            "anchor": f"x{idx}",
            "tickmode": "array",
            "tickvals": list(range(R)),
            "ticktext": list(ylab),
            "showticklabels": R <= 30,
            "range": [R - 0.5, -0.5],
            "fixedrange": True,
            "showgrid": False,
            "zeroline": False,
        }
        notes.append(
            {
                "text": f"<b>{name}</b> ({R}×{C})"
                + (f"<br>{roles[k]}" if k < len(roles) and roles[k] else ""),
                "x": left + span / 2,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 13},
            }
        )
        left += span + gap
    layout = base_layout(
        title,
        height=height,
        annotations=notes,
        coloraxis={
            "colorscale": DIVERGING,
            "cmin": -zmax,
            "cmax": zmax,
            "colorbar": {"thickness": 12, "len": 0.9, "title": {"text": value_name}},
        },
        **axes,
    )
    top = (56 if title else 30) + (18 if roles else 0)
    layout["margin"] = {"l": 50, "r": 10, "t": top, "b": 30}
    return _figure(traces, layout)
