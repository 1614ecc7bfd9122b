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


def _line(x, y, name: str, color: str, width: float, hover: str, **extra: object) -> dict:
    """A scatter trace drawn as a line (markers too while there are few points)."""
    trace = {
        "type": "scatter",
        "x": x,
        "y": y,
        "name": name,
        "mode": "lines",
        "line": {"color": color, "width": width},
        "hovertemplate": hover,
    }
    trace.update(extra)
    return trace


def _chance_line(update: np.ndarray, chance: np.ndarray, min_x_span: int) -> tuple:
    """The chance level drawn on to ``min_x_span`` while the curve is shorter; (x, y, range)."""
    chance = np.asarray(chance, dtype=float)
    last = float(update[-1]) if update.size else 0.0
    if last >= min_x_span:
        return update, chance, None
    if update.size:
        return np.append(update, min_x_span), np.append(chance, chance[-1]), [0, min_x_span]
    return update, chance, [0, min_x_span]


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
    just started does not fill the whole width. (Train live draws these curves in the browser,
    ``bptt_app/assets/live_panel.js``; this figure is for notebooks and slides.)
    """
    update = np.asarray(update)
    chance_x, chance_y, x_range = _chance_line(update, chance, min_x_span)
    xaxis: dict = {"title": {"text": "update"}, "rangemode": "tozero"}
    if x_range is not None:
        xaxis["range"] = x_range
    raw = f"{loss_name} per update" if bucket == 1 else f"{loss_name}, mean of {bucket} updates"
    hover = "update %{x}<br>{name} = %{y:.5g}<extra></extra>"
    chance_trace = _line(chance_x, chance_y, chance_label, CHANCE_COLOR, 2, "")
    chance_trace["line"]["dash"] = "dash"
    chance_trace["hovertemplate"] = "update %{x}<br>chance = %{y:.4g}<extra></extra>"
    traces = [
        chance_trace,
        _line(
            update,
            loss,
            raw,
            RAW_COLOR,
            1,
            hover.replace("{name}", loss_name),
            mode="lines+markers" if update.size <= 60 else "lines",
            marker={"size": 5},
        ),
        _line(
            update,
            smoothed,
            f"moving average ({smooth_span} updates)",
            LOSS_COLOR,
            3,
            hover.replace("{name}", "average"),
        ),
    ]
    shapes, notes = _events(events, float(update[0]) if update.size else 0.0)
    yaxis = {
        "title": {"text": f"loss {loss_name} of the pass"},
        "type": "log" if log_y else "linear",
        **(_log_ticks(loss, smoothed, chance) if log_y else {"rangemode": "tozero"}),
    }
    layout = base_layout(
        title,
        height=height,
        shapes=shapes,
        annotations=notes,
        xaxis=xaxis,
        yaxis=yaxis,
        legend={"orientation": "h", "y": -0.22, "x": 0},
        margin={"l": 60, "r": 20, "t": 40 if title else 16, "b": 90},
    )
    return _figure(traces, layout)


def _note(text: str) -> dict:
    """A small grey note at the top left of the plot area."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "y": 1,
        "xanchor": "left",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 11, "color": GREY},
    }


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
    those updates are drawn as vermillion (orange) markers. ``threshold`` None draws no line
    (no clipping, or clipping each entry, whose threshold is not a norm).
    """
    clipped = np.asarray(clipped, dtype=float)
    hit = clipped > 0
    name = "gradient norm" if bucket == 1 else f"gradient norm, mean of {bucket} updates"
    traces = [
        _line(
            update,
            norm,
            name,
            GRAD_COLOR,
            2,
            "update %{x}<br>‖∂L/∂θ‖ = %{y:.4g}<extra></extra>",
            mode="lines+markers" if update.size <= 60 else "lines",
            marker={"size": 4},
        ),
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
        line = _line(
            [x0, x1],
            [threshold, threshold],
            f"clipping threshold c = {threshold:g}",
            CLIP_COLOR,
            2,
            "",
            hoverinfo="skip",
        )
        line["line"]["dash"] = "dash"
        del line["hovertemplate"]
        traces.append(line)
    layout = base_layout(
        title,
        height=height,
        annotations=[_note(clip_note)] if clip_note else [],
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


def _prediction_hover(z, t, input_chars, target_chars, vocab, target_ids, value_name, target_name):
    """Hover text of every cell: position, input, target, the output for that character."""
    V, T = z.shape
    return [
        [
            f"t = {t[j]}: input “{input_chars[j]}”, {target_name} “{target_chars[j]}”"
            f"<br>{value_name} for “{vocab[i]}” = {z[i, j]:.4f}"
            + (" ← target" if i == target_ids[j] else "")
            for j in range(T)
        ]
        for i in range(V)
    ]


def _prediction_axes(t: np.ndarray, input_chars, target_chars, vocab) -> dict:
    """Positions across (at most 12 tick labels “input→target”), characters down."""
    T, V = len(t), len(vocab)
    step = max(1, int(np.ceil(T / 12)))
    ticks = [f"{input_chars[j]}→{target_chars[j]}" for j in range(T)]
    return {
        "xaxis": {
            "tickmode": "array",
            "tickvals": t[::step].tolist(),
            "ticktext": ticks[::step],
            "title": {"text": "position t (input → target)"},
            "tickangle": 0,
            "range": [t[0] - 0.5, t[0] + T - 0.5] if T else [0.5, 1.5],
            "fixedrange": True,
        },
        "yaxis": {
            "tickmode": "array",
            "tickvals": list(range(V)),
            "ticktext": [f"“{c}”" for c in vocab] if V <= 60 else None,
            "showticklabels": V <= 60,
            "title": {"text": "next character"},
            "range": [V - 0.5, -0.5],
            "fixedrange": True,
        },
    }


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
    hover = _prediction_hover(
        z, t, input_chars, target_chars, vocab, target_ids, value_name, target_name
    )
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
    layout = base_layout(
        title,
        height=max(240, min(900, 110 + 26 * V)),
        **_prediction_axes(t, input_chars, target_chars, vocab),
        legend={"orientation": "h", "y": 1.0, "x": 1.0, "xanchor": "right", "yanchor": "bottom"},
    )
    return _figure([heat, marks], layout)


def _weight_trace(name: str, m: np.ndarray, ylab, xlab, idx: str) -> dict:
    """One matrix as a heatmap on axes x{idx}/y{idx}, coloured by the shared colour axis."""
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
            [f"{name}[{i + 1},{j + 1}] ({ylab[i]} ← {xlab[j]})<br>{m[i, j]:+.4f}" for j in range(C)]
            for i in range(R)
        ]
        trace["hoverinfo"] = "text"
    else:
        trace["hovertemplate"] = f"{name}[%{{y}},%{{x}}] (from 0)<br>%{{z:+.4f}}<extra></extra>"
    return trace


def _weight_axes(shape, ylab, xlab, idx: str, domain: list[float], rows: int) -> dict:
    """The x and y axes of one matrix: its characters or units as tick labels, rows down."""
    R, C = shape
    fixed = {"fixedrange": True, "showgrid": False, "zeroline": False, "tickmode": "array"}
    return {
        f"xaxis{idx}": {
            **fixed,
            "domain": domain,
            "anchor": f"y{idx}",
            "tickvals": list(range(C)),
            "ticktext": list(xlab),
            "showticklabels": C <= 30,
            "tickangle": 0,
            "range": [-0.5, C - 0.5],
        },
        f"yaxis{idx}": {
            **fixed,
            "domain": [max(0.0, 1 - R / rows), 1.0],
            "anchor": f"x{idx}",
            "tickvals": list(range(R)),
            "ticktext": list(ylab),
            "showticklabels": R <= 30,
            "range": [R - 0.5, -0.5],
        },
    }


def _weight_title(name: str, shape, role: str, x: float) -> dict:
    R, C = shape
    return {
        "text": f"<b>{name}</b> ({R}×{C})" + (f"<br>{role}" if role else ""),
        "x": x,
        "y": 1.0,
        "xref": "paper",
        "yref": "paper",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 13},
    }


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
        traces.append(_weight_trace(name, m, ylab, xlab, idx))
        axes.update(_weight_axes(m.shape, ylab, xlab, idx, [left, left + span], rows))
        role = roles[k] if k < len(roles) else ""
        notes.append(_weight_title(name, m.shape, role, left + span / 2))
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
