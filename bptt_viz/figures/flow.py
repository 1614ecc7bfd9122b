"""Figures of how far error travels back in time, what truncation drops and what clipping does.

Pure builders: NumPy arrays and engine results in, ``go.Figure`` out; no Streamlit. Every label
that names a quantity comes from the ``Notation`` passed in (HTML forms, Plotly has no LaTeX).
Time is 1-based on every axis: loss time t (rows) and copy time τ (columns), distance t − τ.
(τ, not s: Guo's notation calls the hidden state s(t).)
Multi-panel figures place their axes by domain directly (``make_subplots`` is much slower).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from bptt_core.clipping import ClippingComparison
from bptt_core.flow import TruncationComparison
from bptt_core.model import PARAM_NAMES
from bptt_core.truncation_cost import RecallGridResult, TruncationCurves
from bptt_viz.figures.heatmaps import time_labels
from bptt_viz.figures.style import (
    GREY,
    LIGHT_GREY,
    OKABE_ITO,
    SEQUENTIAL,
    base_layout,
    legend_below,
)
from bptt_viz.labels import truncation_label
from bptt_viz.notation import Notation

PARAM_COLOURS = {
    "W_xh": OKABE_ITO["blue"],
    "W_hh": OKABE_ITO["vermillion"],
    "W_hy": OKABE_ITO["green"],
    "b_h": OKABE_ITO["orange"],
    "b_y": OKABE_ITO["purple"],
    "all": OKABE_ITO["black"],
}
N_COLOURS = (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["green"], OKABE_ITO["purple"])
K_COLOURS = (OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["green"], OKABE_ITO["purple"])
BAND_COLOUR = OKABE_ITO["orange"]
MAX_TICKS = 26
MAX_SCATTER_POINTS = 2_000


def param_label(n: Notation, name: str) -> str:
    """HTML name of a parameter column of a TruncationComparison ("all" is θ)."""
    return "all of θ" if name == "all" else n.html(name)


def _tick_step(T: int) -> int:
    return max(1, int(np.ceil(T / MAX_TICKS)))


def _sup(exponent: int) -> str:
    return f"10<sup>{exponent}</sup>".replace("-", "−")


def _log_axis_ticks(lo: float, hi: float) -> dict:
    """Tick settings of a log axis from ``lo`` to ``hi``: decades only once it spans two."""
    span = np.log10(hi) - np.log10(lo) if lo > 0 and hi > lo else 0.0
    return {"dtick": 1} if span >= 2 else {"dtick": "D2"}


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
    for t in range(1, T + 1):  # right edge: the diagonal staircase s = t
        pts += [(t + 0.5, t - 0.5), (t + 0.5, t + 0.5)]
    for t in range(T, 0, -1):  # left edge: s = max(1, t − k + 1)
        left = max(1, t - kk + 1) - 0.5
        pts += [(left, t + 0.5), (left, t - 0.5)]
    # drop consecutive duplicates (where the staircase does not step)
    clean = [pts[0]]
    for p in pts[1:]:
        if p != clean[-1]:
            clean.append(p)
    if clean[-1] == clean[0]:  # "Z" closes the path
        clean.pop()
    return "M " + " L ".join(f"{x:g},{y:g}" for x, y in clean) + " Z"


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
    z = _finite_log10(np.tril(flow))
    z[np.triu_indices(T, 1)] = np.nan
    finite = z[np.isfinite(z)]
    zmax = float(finite.max()) if finite.size else 0.0
    zmin = float(finite.min()) if finite.size else -1.0
    zmin = max(zmin, zmax - 16.0)  # beyond 16 decades below the largest: the same dark colour
    if zmax - zmin < 1.0:
        zmin = zmax - 1.0
    kk = T if truncation is None else min(int(truncation), T)
    tt, ss = np.meshgrid(np.arange(1, T + 1), np.arange(1, T + 1), indexing="ij")
    dist = tt - ss
    kept = np.where(dist < kk, "kept", "dropped")
    text = np.vectorize(lambda v: "—" if not np.isfinite(v) else f"{v:.3e}")(flow)
    custom = np.dstack([dist, text, kept])
    L_t, a_s = n.html("L_t", "t"), n.html("a", "τ")
    ins = [html.escape(c, quote=False) for c in input_chars]  # user text: no markup
    outs = [html.escape(c, quote=False) for c in target_chars]
    xt = [f"{s + 1} {c}" for s, c in enumerate(ins)]
    yt = time_labels(ins, outs)
    step = _tick_step(T)
    exps = list(range(int(np.ceil(zmin)), int(np.floor(zmax)) + 1))
    if len(exps) > 8:
        exps = exps[:: int(np.ceil(len(exps) / 8))]
    tickvals: list[float] = [float(e) for e in exps]
    ticktext = [_sup(e) for e in exps]
    if len(exps) < 3:  # less than two decades: label 2× and 5× as well
        for e in range(int(np.floor(zmin)), int(np.ceil(zmax)) + 1):
            for mult in (2, 5):
                v = e + np.log10(mult)
                if zmin <= v <= zmax:
                    tickvals.append(float(v))
                    ticktext.append(f"{mult}·{_sup(e)}")
    heat = dict(
        type="heatmap",
        z=z,
        x=np.arange(1, T + 1),
        y=np.arange(1, T + 1),
        colorscale=SEQUENTIAL,
        zmin=zmin,
        zmax=zmax,
        customdata=custom,
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
    window = "full BPTT: every term" if kk >= T else f"kept by truncation k = {kk}"
    shape = {
        "type": "path",
        "path": band_path(T, kk),
        "line": {"color": BAND_COLOUR, "width": 3},
        "fillcolor": "rgba(0,0,0,0)",
        "name": window,
        "showlegend": True,
        "layer": "above",
    }
    layout = base_layout(
        f"‖∂{L_t}/∂{a_s}‖: the error of loss t arriving at copy τ",
        height=height,
        shapes=[shape],
        showlegend=True,
        # top right, above the plot: below it the (rotated) tick labels need the room
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        xaxis={
            "title": {"text": "copy τ (its input character)"},
            "tickmode": "array",
            "tickvals": list(range(1, T + 1, step)),
            "ticktext": xt[::step],
            "range": [0.5, T + 0.5],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={
            "title": {"text": "loss t (input → target)"},
            "tickmode": "array",
            "tickvals": list(range(1, T + 1, step)),
            "ticktext": yt[::step],
            "range": [T + 0.5, 0.5],
            "showgrid": False,
            "zeroline": False,
        },
    )
    layout["margin"] = {**layout["margin"], "b": 90, "t": 70}
    # a dict layout: go.Figure validates it once (update_layout copies and re-validates)
    return go.Figure(data=[heat], layout=layout)


# --------------------------------------------------------------------------- Jacobian norms


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
    t = np.asarray(t, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    values = np.asarray(values, dtype=float)
    bound = np.asarray(bound, dtype=float)
    d = t - s
    ok = np.isfinite(values) & (values > 0)
    h_t, h_s = n.html("h", "t"), n.html("h", "τ")
    W = n.html("W_hh")
    traces: list[dict] = [
        dict(
            type="scatter",
            x=d[ok],
            y=values[ok],
            mode="markers",
            name="one pair (t, τ)",
            marker={"size": 5, "color": OKABE_ITO["blue"], "opacity": 0.35},
            customdata=np.stack([t[ok], s[ok]], axis=1) if ok.any() else None,
            hovertemplate=(
                f"t = %{{customdata[0]}}, τ = %{{customdata[1]}}<br>‖∂{h_t}/∂{h_s}‖ = %{{y:.3e}}"
                "<extra></extra>"
            ),
        )
    ]
    D = int(d.max(initial=0))
    if ok.any():
        dd = np.arange(D + 1)
        largest = np.full(D + 1, np.nan)
        np.fmax.at(largest, d[ok], values[ok])
        traces.append(
            dict(
                type="scatter",
                x=dd,
                y=largest,
                mode="lines",
                name="largest at each distance",
                line={"color": OKABE_ITO["blue"], "width": 2},
                hovertemplate="distance %{x}: largest %{y:.3e}<extra></extra>",
            )
        )
    base = gamma * sigma
    bd = np.arange(min(bound.size, D + 1))
    bvals = np.where(np.isfinite(bound[: bd.size]), bound[: bd.size], np.nan)
    traces.append(
        dict(
            type="scatter",
            x=bd,
            y=bvals,
            mode="lines",
            name=f"bound (γ·σ<sub>max</sub>({W}))<sup>t−τ</sup> = {base:.3g}<sup>t−τ</sup>",
            line={"color": OKABE_ITO["vermillion"], "width": 3, "dash": "dash"},
            hovertemplate="distance %{x}: bound %{y:.3e}<extra></extra>",
        )
    )
    data = values[ok]
    lo = float(data.min()) if data.size else 1e-3
    hi = float(data.max()) if data.size else 1.0
    lo = min(lo, 1.0)
    hi = max(hi, 1.0)
    # the bound may run off to 1e30: keep the data readable, let the bound leave through the top
    top = min(max(hi, float(np.nanmax(bvals)) if np.isfinite(bvals).any() else hi), hi * 1e4)
    bottom = max(lo, top * 1e-30)
    layout = base_layout(
        f"‖∂{h_t}/∂{h_s}‖ against the distance t − τ",
        height=height,
        showlegend=True,
        legend=legend_below(-0.2),
        xaxis={
            "title": {"text": "distance t − τ (steps back in time)"},
            "range": [-0.5, D + 0.5],
            "zeroline": False,
            "gridcolor": LIGHT_GREY,
        },
        yaxis={
            "title": {"text": f"‖∂{h_t}/∂{h_s}‖ (log scale)"},
            "type": "log",
            "range": [np.log10(bottom) - 0.3, np.log10(top) + 0.3],
            "exponentformat": "power",
            **_log_axis_ticks(bottom, top),
            "gridcolor": LIGHT_GREY,
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
    # a dict layout: go.Figure validates it once (update_layout copies and re-validates)
    return go.Figure(data=traces, layout=layout)


# --------------------------------------------------------------------------- truncated vs full


def _panel_axes(count: int, gap: float = 0.07) -> list[tuple[float, float]]:
    width = (1.0 - gap * (count - 1)) / count
    return [(i * (width + gap), i * (width + gap) + width) for i in range(count)]


def truncation_panels(
    comparison: TruncationComparison, n: Notation, truncation: int | None, height: int = 420
) -> go.Figure:
    """Relative error, cosine and dropped share of the truncated gradient for k = 1..T.

    One line per parameter (``comparison.names``: the five arrays, then "all" = θ); a vertical
    line marks the chosen truncation (k ≥ T is full BPTT, drawn at T).
    """
    ks = np.asarray(comparison.ks)
    T = int(ks.size)
    kk = T if truncation is None else min(int(truncation), T)
    panels = (
        ("relative error ‖g<sub>k</sub> − g‖ / ‖g‖", comparison.rel_error, None),
        ("cosine(g<sub>k</sub>, g)", comparison.cosine, None),
        ("share of gradient mass dropped", comparison.dropped_share, [-0.03, 1.03]),
    )
    domains = _panel_axes(3)
    traces = []
    layout_axes: dict[str, dict] = {}
    annotations = []
    for p, (title, values, yrange) in enumerate(panels):
        xa, ya = ("x", "y") if p == 0 else (f"x{p + 1}", f"y{p + 1}")
        for c, name in enumerate(comparison.names):
            label = param_label(n, name)
            traces.append(
                dict(
                    type="scatter",
                    x=ks,
                    y=np.asarray(values)[:, c],
                    xaxis=xa,
                    yaxis=ya,
                    mode="lines+markers" if T <= 30 else "lines",
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
        suffix = "" if p == 0 else str(p + 1)
        layout_axes[f"xaxis{suffix}"] = {
            "domain": list(domains[p]),
            "anchor": ya,
            "title": {"text": "truncation k"},
            "range": [0.5, T + 0.5],
            "gridcolor": LIGHT_GREY,
            "zeroline": False,
        }
        layout_axes[f"yaxis{suffix}"] = {
            "anchor": xa,
            "gridcolor": LIGHT_GREY,
            "zeroline": False,
            **({"range": yrange} if yrange else {}),
        }
        annotations.append(
            {
                "text": f"<b>{title}</b>",
                "x": sum(domains[p]) / 2,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
            }
        )
    shapes = [
        {
            "type": "line",
            "xref": "x" if p == 0 else f"x{p + 1}",
            "yref": "paper",
            "x0": kk,
            "x1": kk,
            "y0": 0,
            "y1": 1,
            "line": {"color": BAND_COLOUR, "width": 3, "dash": "dash"},
        }
        for p in range(3)
    ]
    annotations.append(
        {
            "text": "full BPTT" if kk >= T else f"k = {kk}",
            "x": kk,
            "xref": "x",
            "y": 0.97,
            "yref": "paper",
            "yanchor": "top",
            "showarrow": False,
            "xanchor": "left" if kk < T * 0.8 else "right",
            "font": {"color": "#a14300"},
        }
    )
    layout = base_layout(
        "",
        height=height,
        annotations=annotations,
        shapes=shapes,
        showlegend=True,
        legend=legend_below(-0.2),
        **layout_axes,
    )
    layout["margin"] = {"l": 50, "r": 20, "t": 30, "b": 100}
    return go.Figure(data=traces, layout=layout)


# --------------------------------------------------------------------------- clipping


def _sample_entries(g: np.ndarray, limit: int = MAX_SCATTER_POINTS) -> np.ndarray:
    """Indices of at most ``limit`` entries: the largest half by |g|, the rest evenly spread."""
    P = g.size
    if P <= limit:
        return np.arange(P)
    half = limit // 2
    top = np.argsort(-np.abs(g), kind="stable")[:half]
    rest = np.setdiff1d(np.arange(P), top)
    spread = rest[np.linspace(0, rest.size - 1, limit - half).astype(np.int64)]
    return np.sort(np.concatenate([top, spread]))


def clipping_figure(comparison: ClippingComparison, n: Notation, height: int = 440) -> go.Figure:
    """Norm against value clipping of one gradient.

    Left: the share of each parameter in the gradient's length, ‖g_p‖/‖g‖, before and after
    each clipping (the balance between the parameters is part of the direction). Right: every
    entry's share of its vector, g_i/‖g‖ against ĝ_i/‖ĝ‖; on the diagonal = direction kept.
    """
    g = comparison.grads.flat()
    gn = comparison.by_norm.flat()
    gv = comparison.by_value.flat()
    c = comparison.threshold
    norms = np.asarray(comparison.param_norms, dtype=float)  # (3, 5)
    totals = np.array([comparison.norm, comparison.norm_after_norm, comparison.norm_after_value])
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = norms / np.where(totals > 0, totals, 1.0)[:, None]
    labels = [n.html(p) for p in PARAM_NAMES]
    series = (
        ("unclipped g", GREY, shares[0]),
        (f"norm-clipped (‖g‖ ≤ {c:.3g})", OKABE_ITO["blue"], shares[1]),
        (f"value-clipped (|g<sub>i</sub>| ≤ {c:.3g})", OKABE_ITO["vermillion"], shares[2]),
    )
    traces: list = [
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
        for name, colour, vals in series
    ]
    idx = _sample_entries(g)
    scale = [float(np.linalg.norm(v)) or 1.0 for v in (g, gn, gv)]
    x = g[idx] / scale[0]
    lim = float(np.abs(x).max(initial=0.0)) or 1.0
    for name, colour, vec, sc, symbol in (
        (series[1][0], OKABE_ITO["blue"], gn, scale[1], "circle"),
        (series[2][0], OKABE_ITO["vermillion"], gv, scale[2], "x"),
    ):
        y = vec[idx] / sc
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
    lim *= 1.08
    traces.append(
        dict(
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
    )
    left, right = (0.0, 0.42), (0.54, 1.0)
    layout = base_layout(
        "",
        height=height,
        barmode="group",
        showlegend=True,
        legend=legend_below(-0.2),
        xaxis={"domain": list(left), "anchor": "y", "title": {"text": "parameter"}},
        yaxis={
            "anchor": "x",
            "title": {"text": "‖part‖ / ‖whole gradient‖"},
            "range": [0, 1.05],
            "gridcolor": LIGHT_GREY,
        },
        xaxis2={
            "domain": list(right),
            "anchor": "y2",
            "title": {"text": "entry / ‖g‖ (before clipping)"},
            "range": [-lim, lim],
            "gridcolor": LIGHT_GREY,
            "zeroline": False,
        },
        yaxis2={
            "anchor": "x2",
            "title": {"text": "entry / ‖clipped g‖"},
            "range": [-lim, lim],
            "gridcolor": LIGHT_GREY,
            "zeroline": False,
        },
        annotations=[
            {
                "text": "<b>share of the length, by parameter</b>",
                "x": sum(left) / 2,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
            },
            {
                "text": "<b>every entry / its vector's length</b>",
                "x": sum(right) / 2,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
            },
        ],
    )
    layout["margin"] = {"l": 60, "r": 20, "t": 30, "b": 100}
    return go.Figure(data=traces, layout=layout)


# --------------------------------------------------------------------------- learning


def recall_figure(result: RecallGridResult, height: int = 420) -> go.Figure:
    """Settled recall loss against the truncation k: one panel per mode, one colour per N,
    every seed a point, the median a line, chance (ln 2) dashed."""
    grid = result.grid
    ks = grid.truncations
    K = len(ks)
    modes = grid.modes
    domains = _panel_axes(len(modes), gap=0.08)
    offsets = np.linspace(-0.18, 0.18, len(grid.n_fillers)) if len(grid.n_fillers) > 1 else [0.0]
    seed_jit = np.linspace(-0.05, 0.05, len(grid.seeds)) if len(grid.seeds) > 1 else np.zeros(1)
    chance = result.chance
    traces = []
    layout_axes: dict[str, dict] = {}
    annotations = []
    shapes = []
    values = [r.settled_recall_loss for r in result.runs.values()]
    lo = max(min(min(values), chance) / 2, 1e-5)
    hi = max(max(values), chance) * 2
    for p, mode in enumerate(modes):
        xa, ya = ("x", "y") if p == 0 else (f"x{p + 1}", f"y{p + 1}")
        for i, N in enumerate(grid.n_fillers):
            colour = N_COLOURS[i % len(N_COLOURS)]
            xs, ys, seeds_txt = [], [], []
            for j, k in enumerate(ks):
                settled = result.settled(mode, N, k)
                xs += list(j + offsets[i] + seed_jit)
                ys += list(settled)
                seeds_txt += [f"seed {s}" for s in grid.seeds]
            name = f"N = {N} fillers"
            traces.append(
                dict(
                    type="scatter",
                    x=xs,
                    y=ys,
                    mode="markers",
                    name=name,
                    legendgroup=name,
                    showlegend=False,
                    marker={"color": colour, "size": 7, "opacity": 0.55},
                    text=seeds_txt,
                    xaxis=xa,
                    yaxis=ya,
                    hovertemplate=f"{name}, %{{text}}: %{{y:.4f}}<extra></extra>",
                )
            )
            medians = [result.median(mode, N, k) for k in ks]
            traces.append(
                dict(
                    type="scatter",
                    x=np.arange(K) + offsets[i],
                    y=medians,
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=p == 0,
                    line={"color": colour, "width": 3},
                    marker={"size": 11, "symbol": "diamond", "color": colour},
                    text=[truncation_label(k) for k in ks],
                    xaxis=xa,
                    yaxis=ya,
                    hovertemplate=f"{name}, k = %{{text}}: median %{{y:.4f}}<extra></extra>",
                )
            )
        suffix = "" if p == 0 else str(p + 1)
        layout_axes[f"xaxis{suffix}"] = {
            "domain": list(domains[p]),
            "anchor": ya,
            "title": {"text": "truncation k" if mode == "window" else "chunk length k"},
            "tickmode": "array",
            "tickvals": list(range(K)),
            "ticktext": [truncation_label(k) for k in ks],
            "range": [-0.5, K - 0.5],
            "gridcolor": LIGHT_GREY,
            "zeroline": False,
        }
        layout_axes[f"yaxis{suffix}"] = {
            "anchor": xa,
            "type": "log",
            "range": [np.log10(lo), np.log10(hi)],
            "exponentformat": "power",
            **_log_axis_ticks(lo, hi),
            "gridcolor": LIGHT_GREY,
            **({"title": {"text": "settled recall loss (log scale)"}} if p == 0 else {}),
        }
        shapes.append(
            {
                "type": "line",
                "xref": f"{xa} domain",
                "yref": ya,
                "x0": 0,
                "x1": 1,
                "y0": chance,
                "y1": chance,
                "line": {"color": GREY, "width": 2, "dash": "dash"},
            }
        )
        annotations.append(
            {
                "text": f"chance: ln 2 = {chance:.3f}",
                "xref": f"{xa} domain",
                "yref": ya,
                "x": 1,
                "y": np.log10(chance),
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"color": "#555555", "size": 12},
            }
        )
        title = (
            "per-loss window (each L(t) reaches k copies)"
            if mode == "window"
            else "chunked TBPTT (no error crosses a chunk edge)"
        )
        annotations.append(
            {
                "text": f"<b>{title}</b>",
                "x": sum(domains[p]) / 2,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
            }
        )
    layout = base_layout(
        "",
        height=height,
        annotations=annotations,
        shapes=shapes,
        showlegend=True,
        legend=legend_below(-0.18),
        **layout_axes,
    )
    layout["margin"] = {"l": 60, "r": 20, "t": 30, "b": 90}
    return go.Figure(data=traces, layout=layout)


def curves_figure(curves: TruncationCurves, height: int = 360) -> go.Figure:
    """Loss per character against the update, one colour per truncation, one line per seed."""
    U = curves.loss_per_char.shape[2]
    x = np.arange(1, U + 1)
    traces = []
    for i, k in enumerate(curves.truncations):
        colour = K_COLOURS[i % len(K_COLOURS)]
        name = "full BPTT" if k is None else f"k = {k}"
        for j, seed in enumerate(curves.seeds):
            traces.append(
                dict(
                    type="scatter",
                    x=x,
                    y=curves.loss_per_char[i, j],
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    showlegend=j == 0,
                    line={"color": colour, "width": 2, "dash": "solid" if i == 0 else "dash"},
                    opacity=0.8,
                    hovertemplate=(
                        f"{name}, seed {seed}<br>update %{{x}}: %{{y:.4f}} per character"
                        "<extra></extra>"
                    ),
                )
            )
    layout = base_layout(
        f"“{html.escape(curves.text, quote=False)}”: loss per character while training",
        height=height,
        showlegend=True,
        legend=legend_below(-0.22),
        xaxis={"title": {"text": "update"}, "gridcolor": LIGHT_GREY},
        yaxis={
            "title": {"text": "loss per character (log)"},
            "type": "log",
            "exponentformat": "power",
            "dtick": 1,
            "gridcolor": LIGHT_GREY,
        },
    )
    layout["margin"] = {**layout["margin"], "b": 100}
    # a dict layout: go.Figure validates it once (update_layout copies and re-validates)
    return go.Figure(data=traces, layout=layout)
