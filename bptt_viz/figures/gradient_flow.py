"""Figures of how far error flows back in time: the T × T map, the Jacobian norms, truncation.

Pure builders: NumPy arrays and engine results in, ``go.Figure`` out; no Streamlit. Every label
that names a quantity comes from the ``Notation`` passed in (HTML forms, Plotly has no LaTeX).
Time is 1-based on every axis: loss time t (rows) and copy time τ (columns), distance t − τ.
(τ, not s: Guo's notation calls the hidden state s(t).)
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from bptt_core.flow import TruncationComparison
from bptt_viz.figures.heatmaps import time_labels
from bptt_viz.figures.panels import (
    GRID,
    log_axis,
    panel_axis_names,
    panel_domains,
    panel_title,
)
from bptt_viz.figures.style import (
    GREY,
    MID_GREY,
    OKABE_ITO,
    SEQUENTIAL,
    base_layout,
    legend_below,
)
from bptt_viz.notation import Notation

PARAM_COLOURS = {
    "W_xh": OKABE_ITO["blue"],
    "W_hh": OKABE_ITO["vermillion"],
    "W_hy": OKABE_ITO["green"],
    "b_h": OKABE_ITO["orange"],
    "b_y": OKABE_ITO["purple"],
    "all": MID_GREY,  # dotted; black would vanish on the dark theme
}
BAND_COLOUR = OKABE_ITO["orange"]  # the truncation band and the current-k line
BAND_COLOUR_NAME = "orange"
BOUND_COLOUR = OKABE_ITO["vermillion"]  # the Pascanu bound
BOUND_COLOUR_NAME = "vermillion (red-orange)"
PAIR_COLOUR = OKABE_ITO["sky"]  # the Jacobian norm of each pair (visible on both themes)
LARGEST_COLOUR = OKABE_ITO["blue"]
MAX_TICKS = {"x": 16, "y": 26}  # character labels along a time axis (x: rotated, wider)
FLOW_DECADES = 16  # the map's colour scale spans at most this many decades
MAX_COLOURBAR_LABELS = 8


def param_label(n: Notation, name: str) -> str:
    """HTML name of a parameter column of a TruncationComparison ("all" is θ)."""
    return "all of θ" if name == "all" else n.html(name)


def _sup(exponent: int) -> str:
    return f"10<sup>{exponent}</sup>".replace("-", "−")


def _finite_log10(values: np.ndarray) -> np.ndarray:
    """log10 of the positive finite entries; NaN elsewhere (drawn blank)."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v) & (v > 0)
    out[ok] = np.log10(v[ok])
    return out


# --------------------------------------------------------------------------- the T × T map


def band_path(T: int, k: int | None) -> str:
    """SVG path around the cells (t, τ) with t − k < τ ≤ t, 1 ≤ τ ≤ t ≤ T (cell centres at
    integers): the terms a truncation k keeps. ``k=None`` (or k ≥ T) is the whole lower
    triangle, full BPTT."""
    if T < 1:
        raise ValueError(f"T must be at least 1, got {T}.")
    kk = T if k is None else max(1, min(int(k), T))
    pts: list[tuple[float, float]] = [(0.5, 0.5)]
    for t in range(1, T + 1):  # right edge: the diagonal staircase τ = t
        pts += [(t + 0.5, t - 0.5), (t + 0.5, t + 0.5)]
    for t in range(T, 0, -1):  # left edge: τ = max(1, t − k + 1)
        left = max(1, t - kk + 1) - 0.5
        pts += [(left, t + 0.5), (left, t - 0.5)]
    clean = [pts[0]]  # drop consecutive duplicates (where the staircase does not step)
    for p in pts[1:]:
        if p != clean[-1]:
            clean.append(p)
    if clean[-1] == clean[0]:  # "Z" closes the path
        clean.pop()
    return "M " + " L ".join(f"{x:g},{y:g}" for x, y in clean) + " Z"


def _colour_range(z: np.ndarray) -> tuple[float, float]:
    """(zmin, zmax) of the log10 map: at most FLOW_DECADES decades, at least one."""
    finite = z[np.isfinite(z)]
    zmax = float(finite.max()) if finite.size else 0.0
    zmin = float(finite.min()) if finite.size else -1.0
    zmin = max(zmin, zmax - FLOW_DECADES)  # further below: the same dark colour
    return (zmax - 1.0 if zmax - zmin < 1.0 else zmin), zmax


def _colourbar_ticks(zmin: float, zmax: float) -> tuple[list[float], list[str]]:
    """Decades (thinned to MAX_COLOURBAR_LABELS); 2× and 5× as well below two decades."""
    exps = list(range(int(np.ceil(zmin)), int(np.floor(zmax)) + 1))
    if len(exps) > MAX_COLOURBAR_LABELS:
        exps = exps[:: int(np.ceil(len(exps) / MAX_COLOURBAR_LABELS))]
    values: list[float] = [float(e) for e in exps]
    labels = [_sup(e) for e in exps]
    if len(exps) < 3:
        for e in range(int(np.floor(zmin)), int(np.ceil(zmax)) + 1):
            for mult in (2, 5):
                v = e + np.log10(mult)
                if zmin <= v <= zmax:
                    values.append(float(v))
                    labels.append(f"{mult}·{_sup(e)}")
    return values, labels


def _flow_heatmap(flow: np.ndarray, n: Notation, kk: int) -> dict:
    """The heatmap trace: log10 of the lower triangle, hover with distance and window."""
    T = flow.shape[0]
    z = _finite_log10(np.tril(flow))
    z[np.triu_indices(T, 1)] = np.nan
    zmin, zmax = _colour_range(z)
    tt, ss = np.meshgrid(np.arange(1, T + 1), np.arange(1, T + 1), indexing="ij")
    dist = tt - ss
    kept = np.where(dist < kk, "kept", "dropped")
    text = np.vectorize(lambda v: "—" if not np.isfinite(v) else f"{v:.3e}")(flow)
    L_t, a_s = n.html("L_t", "t"), n.html("a", "τ")
    tickvals, ticktext = _colourbar_ticks(zmin, zmax)
    return dict(
        type="heatmap",
        z=z,
        x=np.arange(1, T + 1),
        y=np.arange(1, T + 1),
        colorscale=SEQUENTIAL,
        zmin=zmin,
        zmax=zmax,
        customdata=np.dstack([dist, text, kept]),
        hovertemplate=(
            f"loss t = %{{y}}, copy τ = %{{x}}<br>distance t − τ = %{{customdata[0]}}"
            f"<br>‖∂{L_t}/∂{a_s}‖ = %{{customdata[1]}}<br>%{{customdata[2]}} by the window"
            "<extra></extra>"
        ),
        xgap=0 if T > 40 else 1,
        ygap=0 if T > 40 else 1,
        colorbar={
            "title": {"text": f"‖∂{L_t}/∂{a_s}‖", "side": "right"},
            "tickmode": "array",
            "tickvals": tickvals,
            "ticktext": ticktext,
            "thickness": 14,
            "len": 0.85,
        },
    )


def _band_shape(T: int, kk: int) -> dict:
    return {
        "type": "path",
        "path": band_path(T, kk),
        "line": {"color": BAND_COLOUR, "width": 3},
        "fillcolor": "rgba(0,0,0,0)",
        "name": "full BPTT: every term" if kk >= T else f"kept by truncation k = {kk}",
        "showlegend": True,
        "layer": "above",
    }


def _time_axis(title: str, ticktext: list[str], T: int, axis: str) -> dict:
    """Copy time across (x) or loss time down (y, reversed); square cells (y follows x)."""
    step = max(1, int(np.ceil(T / MAX_TICKS[axis])))
    return {
        "title": {"text": title},
        "tickmode": "array",
        "tickvals": list(range(1, T + 1, step)),
        "ticktext": ticktext[::step],
        "range": [T + 0.5, 0.5] if axis == "y" else [0.5, T + 0.5],
        "showgrid": False,
        "zeroline": False,
        "constrain": "domain",
        **({"scaleanchor": "x", "scaleratio": 1} if axis == "y" else {}),
    }


def _copy_labels(input_chars: list[str]) -> list[str]:
    """ "1 h", "2 e", …: copy τ and the character it reads."""
    return [f"{s + 1} {c}" for s, c in enumerate(input_chars)]


def flow_map(
    flow: np.ndarray,
    input_chars: Sequence[str],
    target_chars: Sequence[str],
    n: Notation,
    truncation: int | None,
    height: int = 560,
) -> go.Figure:
    """The T × T map of ‖∂L(t)/∂a(τ)‖ on a log colour scale, with the truncation band outlined.

    Parameters
    ----------
    flow : np.ndarray
        (T, T), ``[t−1, τ−1] = ‖∂L(t)/∂a(τ)‖₂`` for τ ≤ t (``bptt_core.flow.gradient_flow``).
    input_chars, target_chars : sequence of str
        The T input and target characters (already made visible, e.g. "␣" for a space).
    n : Notation
        Names of L(t), a(τ).
    truncation : int or None
        k of the band to outline (None: full BPTT, the whole triangle).
    """
    flow = np.asarray(flow, dtype=float)
    T = flow.shape[0]
    if flow.shape != (T, T) or len(input_chars) != T or len(target_chars) != T:
        raise ValueError("flow must be (T, T) with T input and T target characters.")
    kk = T if truncation is None else min(int(truncation), T)
    ins = [html.escape(c, quote=False) for c in input_chars]  # user text: no markup
    outs = [html.escape(c, quote=False) for c in target_chars]
    L_t, a_s = n.html("L_t", "t"), n.html("a", "τ")
    layout = base_layout(
        # two short lines: the title must fit the map's column at 1024 px
        f"‖∂{L_t}/∂{a_s}‖:<br><span style='font-size:13px'>the error of loss t arriving at "
        "copy τ</span>",
        height=height,
        shapes=[_band_shape(T, kk)],
        showlegend=True,
        # at the figure's bottom edge, under the (maybe rotated) tick labels and the axis title
        legend={"orientation": "h", "x": 0.0, "yref": "container", "y": 0.0, "yanchor": "bottom"},
        xaxis=_time_axis("copy τ (its input character)", _copy_labels(ins), T, "x"),
        yaxis=_time_axis("loss t (input → target)", time_labels(ins, outs), T, "y"),
    )
    layout["margin"] = {**layout["margin"], "b": 110 if T <= 12 else 135, "t": 70}
    layout["width"] = height + 60  # square cells plus labels and colour bar (shown "content")
    # a dict layout: go.Figure validates it once (update_layout copies and re-validates)
    return go.Figure(data=[_flow_heatmap(flow, n, kk)], layout=layout)


# --------------------------------------------------------------------------- Jacobian norms


def _pair_traces(d: np.ndarray, t: np.ndarray, s: np.ndarray, values: np.ndarray, n: Notation):
    """One point per pair (t, τ) and the largest norm at each distance."""
    ok = np.isfinite(values) & (values > 0)
    h_t, h_s = n.html("h", "t"), n.html("h", "τ")
    traces: list[dict] = [
        dict(
            type="scatter",
            x=d[ok],
            y=values[ok],
            mode="markers",
            name="one pair (t, τ)",
            marker={"size": 6, "color": PAIR_COLOUR, "opacity": 0.6},
            customdata=np.stack([t[ok], s[ok]], axis=1) if ok.any() else None,
            hovertemplate=(
                f"t = %{{customdata[0]}}, τ = %{{customdata[1]}}<br>‖∂{h_t}/∂{h_s}‖ = %{{y:.3e}}"
                "<extra></extra>"
            ),
        )
    ]
    if ok.any():
        largest = np.full(int(d.max()) + 1, np.nan)
        np.fmax.at(largest, d[ok], values[ok])
        traces.append(
            dict(
                type="scatter",
                x=np.arange(largest.size),
                y=largest,
                mode="lines",
                name="largest at each distance",
                line={"color": LARGEST_COLOUR, "width": 2},
                hovertemplate="distance %{x}: largest %{y:.3e}<extra></extra>",
            )
        )
    return traces


def _bound_trace(bound: np.ndarray, D: int, n: Notation, base: float) -> dict:
    bd = np.arange(min(bound.size, D + 1))
    return dict(
        type="scatter",
        x=bd,
        y=np.where(np.isfinite(bound[: bd.size]), bound[: bd.size], np.nan),
        mode="lines",
        name=f"bound (γ·σ<sub>max</sub>({n.html('W_hh')}))<sup>t−τ</sup> = {base:.3g}<sup>t−τ</sup>",
        line={"color": BOUND_COLOUR, "width": 3, "dash": "dash"},
        hovertemplate="distance %{x}: bound %{y:.3e}<extra></extra>",
    )


def jacobian_value_range(values: np.ndarray, bound: np.ndarray) -> tuple[float, float]:
    """(bottom, top) of the norm axis: every finite norm and 1; the bound may leave through the
    top beyond 10⁴ × the largest norm (it can run off to 10³⁰), the axis spans ≤ 30 decades."""
    data = values[np.isfinite(values) & (values > 0)]
    lo = min(float(data.min()) if data.size else 1e-3, 1.0)
    hi = max(float(data.max()) if data.size else 1.0, 1.0)
    finite_bound = bound[np.isfinite(bound)]
    top = min(max(hi, float(finite_bound.max()) if finite_bound.size else hi), hi * 1e4)
    return max(lo, top * 1e-30), top


def _jacobian_layout(n: Notation, D: int, bottom: float, top: float, height: int) -> dict:
    """Distance 0..D across, the norms on a log axis from ``bottom`` to ``top``, 1 dotted."""
    h_t, h_s = n.html("h", "t"), n.html("h", "τ")
    layout = base_layout(
        f"‖∂{h_t}/∂{h_s}‖ against the distance t − τ",
        height=height,
        showlegend=True,
        legend=legend_below(-0.2),
        xaxis={
            "title": {"text": "distance t − τ (steps back in time)"},
            "range": [-0.5, D + 0.5],
            "zeroline": False,
            "gridcolor": GRID,
        },
        yaxis={
            "title": {"text": f"‖∂{h_t}/∂{h_s}‖ (log scale)"},
            **log_axis(bottom, top),
            "gridcolor": GRID,
        },
        shapes=[
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": 1,
                "y1": 1,
                "line": {"color": GREY, "width": 1, "dash": "dot"},
            }
        ],
    )
    layout["margin"] = {**layout["margin"], "b": 120}
    return layout


def jacobian_distance(
    t: np.ndarray,
    s: np.ndarray,
    values: np.ndarray,
    bound: np.ndarray,
    n: Notation,
    gamma: float,
    sigma: float,
    height: int = 460,
) -> go.Figure:
    """‖∂h(t)/∂h(τ)‖ of every pair against the distance t − τ (log axis), with the bound.

    Parameters
    ----------
    t, s : np.ndarray
        (P,) 1-based times t and τ of each pair, τ ≤ t.
    values : np.ndarray
        (P,) ‖∂h(t)/∂h(τ)‖₂ (``bptt_core.flow.jacobian_norms``).
    bound : np.ndarray
        (D+1,) (γ·σ_max(W_hh))^d for d = 0..D (``bptt_core.flow.gradient_bound``).
    gamma, sigma : float
        γ and σ_max(W_hh), for the legend.
    """
    t, s = np.asarray(t, dtype=np.int64), np.asarray(s, dtype=np.int64)
    values, bound = np.asarray(values, dtype=float), np.asarray(bound, dtype=float)
    d = t - s
    D = int(d.max(initial=0))
    traces = [*_pair_traces(d, t, s, values, n), _bound_trace(bound, D, n, gamma * sigma)]
    layout = _jacobian_layout(n, D, *jacobian_value_range(values, bound[: D + 1]), height)
    return go.Figure(data=traces, layout=layout)


# --------------------------------------------------------------------------- truncated vs full

COMPARISON_PANELS = (
    # short titles (the page's table uses the same words): three panels fit at 1024 px
    ("relative error", "rel_error", None),
    ("cosine", "cosine", None),
    ("share dropped", "dropped_share", [-0.03, 1.03]),
)


def _comparison_traces(comparison: TruncationComparison, n: Notation, p: int) -> list[dict]:
    """One line per parameter in panel ``p`` (legend entries in the first panel only)."""
    ks = np.asarray(comparison.ks)
    values = np.asarray(getattr(comparison, COMPARISON_PANELS[p][1]))
    xa, ya, _ = panel_axis_names(p)
    traces = []
    for c, name in enumerate(comparison.names):
        label = param_label(n, name)
        traces.append(
            dict(
                type="scatter",
                x=ks,
                y=values[:, c],
                xaxis=xa,
                yaxis=ya,
                mode="lines+markers" if ks.size <= 30 else "lines",
                name=label,
                legendgroup=name,
                showlegend=p == 0,
                line={
                    "color": PARAM_COLOURS.get(name, GREY),
                    # W_hy and b_y coincide (0 error, cosine 1): the wide one stays visible
                    "width": {"W_hh": 3, "all": 3, "W_hy": 6}.get(name, 2),
                    "dash": "dot" if name == "all" else "solid",
                },
                marker={"size": 5},
                hovertemplate=f"{label}, k = %{{x}}: %{{y:.4f}}<extra></extra>",
            )
        )
    return traces


def _comparison_axes(p: int, domain: tuple[float, float], T: int) -> dict[str, dict]:
    xa, ya, suffix = panel_axis_names(p)
    yrange = COMPARISON_PANELS[p][2]
    return {
        f"xaxis{suffix}": {
            "domain": list(domain),
            "anchor": ya,
            "title": {"text": "truncation k"},
            "range": [0.5, T + 0.5],
            "gridcolor": GRID,
            "zeroline": False,
        },
        f"yaxis{suffix}": {
            "anchor": xa,
            "gridcolor": GRID,
            "zeroline": False,
            **({"range": yrange} if yrange else {}),
        },
    }


def _current_k_marks(kk: int, T: int) -> tuple[list[dict], dict]:
    """A dashed line at k in every panel and its label in the first."""
    shapes = [
        {
            "type": "line",
            "xref": panel_axis_names(p)[0],
            "yref": "paper",
            "x0": kk,
            "x1": kk,
            "y0": 0,
            "y1": 1,
            "line": {"color": BAND_COLOUR, "width": 3, "dash": "dash"},
        }
        for p in range(len(COMPARISON_PANELS))
    ]
    label = {
        "text": "<b>full BPTT</b>" if kk >= T else f"<b>k = {kk}</b>",
        "x": kk,
        "xref": "x",
        "y": 0.97,
        "yref": "paper",
        "yanchor": "top",
        "showarrow": False,
        "xanchor": "left" if kk < T * 0.8 else "right",
    }
    return shapes, label


def truncation_panels(
    comparison: TruncationComparison, n: Notation, truncation: int | None, height: int = 420
) -> go.Figure:
    """Relative error, cosine and dropped share of the truncated gradient for k = 1..T.

    One line per parameter (``comparison.names``: the five arrays, then "all" = θ); a vertical
    line marks the chosen truncation (k ≥ T is full BPTT, drawn at T).
    """
    T = int(np.asarray(comparison.ks).size)
    kk = T if truncation is None else min(int(truncation), T)
    domains = panel_domains(len(COMPARISON_PANELS))
    traces: list[dict] = []
    axes: dict[str, dict] = {}
    annotations = []
    for p, domain in enumerate(domains):
        traces += _comparison_traces(comparison, n, p)
        axes.update(_comparison_axes(p, domain, T))
        annotations.append(panel_title(COMPARISON_PANELS[p][0], domain))
    shapes, k_label = _current_k_marks(kk, T)
    layout = base_layout(
        "",
        height=height,
        annotations=[*annotations, k_label],
        shapes=shapes,
        showlegend=True,
        legend=legend_below(-0.2),
        **axes,
    )
    layout["margin"] = {"l": 50, "r": 20, "t": 30, "b": 100}
    return go.Figure(data=traces, layout=layout)
