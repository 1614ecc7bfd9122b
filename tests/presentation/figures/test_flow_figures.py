"""Figure builders of the Truncation page (bptt_viz.figures.gradient_flow, .clipping,
.truncation_cost): the figures carry exactly the numbers they are given, the truncation band
outlines exactly the kept terms, every label speaks the notation passed in, log axes stay legible
and every point lies inside its axes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bptt_core import (
    Corpus,
    Params,
    RNNConfig,
    backward,
    forward,
    gradient_bound,
    gradient_flow,
    init_params,
    jacobian_norms,
    norms_by_distance,
    sigma_max,
    truncation_comparison,
)
from bptt_core.clipping import compare_clipping
from bptt_core.recall import RecallRun
from bptt_core.truncation_cost import RecallGrid, RecallGridResult, TruncationCurves
from bptt_viz.figures.clipping import clipping_figure
from bptt_viz.figures.gradient_flow import (
    band_path,
    flow_map,
    jacobian_distance,
    truncation_panels,
)
from bptt_viz.figures.panels import MAX_DECADE_LABELS, decade_step, log_axis_ticks
from bptt_viz.figures.truncation_cost import hello_curves_figure, recall_figure
from bptt_viz.labels import display_char
from bptt_viz.notation import NOTATIONS
from tests.figdata import array

GOODFELLOW, GUO, NG = NOTATIONS["goodfellow"], NOTATIONS["guo"], NOTATIONS["ng"]


def spec(fig) -> dict:
    """The figure as Plotly JSON (what the browser receives)."""
    return json.loads(fig.to_json())


def problem(text: str = "hello there", H: int = 5, activation: str = "tanh"):
    corpus = Corpus(text)
    cfg = RNNConfig(corpus.V, H, corpus.V, activation)
    params = init_params(cfg, 3)
    trace = forward(params, cfg, corpus.inputs, corpus.targets)
    return corpus, cfg, params, trace


# --------------------------------------------------------------------------- band


def path_vertices(path: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", path)]


def inside(poly: list[tuple[float, float]], x: float, y: float) -> bool:
    """Ray casting point-in-polygon (the point is never on an edge here: cell centres)."""
    result = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


@pytest.mark.parametrize("T", [1, 2, 5, 9])
def test_band_outlines_exactly_the_kept_terms(T):
    for k in [*range(1, T + 2), None]:
        poly = path_vertices(band_path(T, k))
        kk = T if k is None else min(k, T)
        for t in range(1, T + 1):
            for s in range(1, T + 1):
                kept = t - kk < s <= t
                assert inside(poly, s, t) == kept, f"T={T} k={k}: cell t={t}, s={s}"
    assert band_path(T, None) == band_path(T, T) == band_path(T, T + 5)
    with pytest.raises(ValueError):
        band_path(0, 1)


def test_band_is_a_closed_staircase():
    assert (
        band_path(2, 1)
        == "M 0.5,0.5 L 1.5,0.5 L 1.5,1.5 L 2.5,1.5 L 2.5,2.5 L 1.5,2.5 L 1.5,1.5 L 0.5,1.5 Z"
    )


# --------------------------------------------------------------------------- the T × T map


def test_flow_map_carries_log10_of_the_engine_map_and_the_band():
    corpus, cfg, params, trace = problem()
    flow = gradient_flow(params, cfg, trace)
    T = trace.T
    ins = [display_char(c) for c in corpus.input_chars]
    outs = [display_char(c) for c in corpus.target_chars]
    fig = spec(flow_map(flow, ins, outs, GUO, 3))
    heat = fig["data"][0]
    z = array(heat["z"])
    lower = np.tril(np.ones((T, T), bool))
    np.testing.assert_allclose(z[lower], np.log10(flow[lower]), rtol=1e-12)
    assert np.isnan(z[~lower]).all(), "cells with s > t must be blank"
    shape = fig["layout"]["shapes"][0]
    assert shape["path"] == band_path(T, 3)
    assert "k = 3" in shape["name"]
    # axis labels are the text's characters; the title speaks Guo's notation
    xt = fig["layout"]["xaxis"]["ticktext"]
    assert xt[0] == "1 h" and xt[5] == "6 ␣"  # "hello there": the 6th input is a space
    assert fig["layout"]["yaxis"]["ticktext"][0] == "1 h→e"
    title = fig["layout"]["title"]["text"]
    assert "C(t)" in title and "net<sub>j</sub>(τ)" in title
    full = spec(flow_map(flow, ins, outs, NG, None))
    assert full["layout"]["shapes"][0]["path"] == band_path(T, T)
    assert "full BPTT" in full["layout"]["shapes"][0]["name"]
    assert "net<sub>a</sub>(τ)" in full["layout"]["title"]["text"]


def test_flow_map_escapes_markup_in_the_text_and_survives_zeros_and_overflow():
    flow = np.array([[1.0, 0, 0], [0.0, 2.0, 0], [np.inf, 1e-3, 3.0]])
    fig = spec(flow_map(flow, ["<", "b", "&"], ["b", "&", ">"], GOODFELLOW, 1))
    z = array(fig["data"][0]["z"])
    assert np.isnan(z[1, 0]) and np.isnan(z[2, 0]), "zero and infinite terms are drawn blank"
    assert z[2, 1] == pytest.approx(-3.0)
    assert fig["layout"]["xaxis"]["ticktext"][0] == "1 &lt;"
    assert fig["layout"]["yaxis"]["ticktext"][2] == "3 &amp;→&gt;"
    with pytest.raises(ValueError):
        flow_map(flow, ["a"], ["b"], GOODFELLOW, 1)


# --------------------------------------------------------------------------- Jacobians


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_jacobian_figure_shows_every_pair_and_the_bound(activation):
    _, cfg, params, trace = problem(activation=activation)
    norms = jacobian_norms(params, cfg, trace)
    d, values = norms_by_distance(norms)
    t, s = np.tril_indices(trace.T)
    bound = gradient_bound(cfg, params, trace.T - 1)
    sig = sigma_max(params.W_hh)
    fig = spec(jacobian_distance(t + 1, s + 1, values, bound, NG, cfg.gamma, sig))
    pairs, largest, line = fig["data"]
    np.testing.assert_array_equal(array(pairs["x"]), d)
    np.testing.assert_allclose(array(pairs["y"]), values, rtol=1e-15)
    np.testing.assert_allclose(
        array(line["y"]), (cfg.gamma * sig) ** np.arange(trace.T), rtol=1e-12
    )
    for dist in range(trace.T):
        assert array(largest["y"])[dist] == pytest.approx(values[d == dist].max())
    assert "W<sub>aa</sub>" in line["name"]
    assert f"{cfg.gamma * sig:.3g}" in line["name"]
    assert "a(t)" in fig["layout"]["title"]["text"]  # Ng's hidden state is a(t)
    assert fig["layout"]["yaxis"]["type"] == "log"


# --------------------------------------------------------------------------- truncated vs full


def test_truncation_panels_carry_the_comparison_for_every_parameter():
    _, cfg, params, trace = problem()
    comp = truncation_comparison(params, cfg, trace)
    fig = spec(truncation_panels(comp, GOODFELLOW, 4))
    P = len(comp.names)
    assert len(fig["data"]) == 3 * P
    for p, values in enumerate((comp.rel_error, comp.cosine, comp.dropped_share)):
        for c in range(P):
            trace_ = fig["data"][p * P + c]
            np.testing.assert_allclose(array(trace_["y"]), values[:, c], rtol=1e-15)
            np.testing.assert_array_equal(array(trace_["x"]), comp.ks)
    names = [tr["name"] for tr in fig["data"][:P]]
    assert names == ["U", "W", "V", "b", "c", "all of θ"]  # Goodfellow's names
    assert {sh["x0"] for sh in fig["layout"]["shapes"]} == {4}
    full = spec(truncation_panels(comp, GUO, None))
    assert {sh["x0"] for sh in full["layout"]["shapes"]} == {trace.T}
    assert [tr["name"] for tr in full["data"][:3]] == ["V", "U", "W"]


# --------------------------------------------------------------------------- clipping


def test_clipping_figure_shows_shares_and_normalised_entries():
    _, cfg, params, trace = problem()
    grads = backward(params, cfg, trace).grads
    cmp = compare_clipping(grads, 0.2)
    fig = spec(clipping_figure(cmp, GUO))
    bars = [tr for tr in fig["data"] if tr["type"] == "bar"]
    assert bars[0]["x"] == ["V", "U", "W", "b<sub>j</sub>", "b<sub>k</sub>"]
    totals = [cmp.norm, cmp.norm_after_norm, cmp.norm_after_value]
    for bar, row, total in zip(bars, cmp.param_norms, totals, strict=True):
        np.testing.assert_allclose(array(bar["y"]), row / total, rtol=1e-12)
    scatters = [tr for tr in fig["data"] if tr["type"] == "scatter" and tr["mode"] == "markers"]
    g = grads.flat()
    norm_pts, value_pts = scatters
    np.testing.assert_allclose(array(norm_pts["x"]), g / np.linalg.norm(g), rtol=1e-12)
    np.testing.assert_allclose(array(norm_pts["y"]), array(norm_pts["x"]), rtol=1e-12)
    gv = np.clip(g, -0.2, 0.2)
    np.testing.assert_allclose(array(value_pts["y"]), gv / np.linalg.norm(gv), rtol=1e-12)


def test_clipping_figure_samples_large_gradients():
    rng = np.random.default_rng(0)
    params = problem(H=60)[2]
    grads = Params(*(rng.normal(size=a.shape) for _, a in params.items()))
    cmp = compare_clipping(grads, 1.0)
    assert cmp.entries > 2_000
    fig = spec(clipping_figure(cmp, GOODFELLOW))
    pts = [tr for tr in fig["data"] if tr["type"] == "scatter" and tr["mode"] == "markers"]
    x = array(pts[0]["x"])
    assert x.size == 2_000
    g = grads.flat() / cmp.norm
    top = np.sort(np.abs(g))[-1000:]
    assert set(np.round(np.abs(x), 12)) >= set(np.round(top, 12)), "largest entries are kept"


# --------------------------------------------------------------------------- learning


def fake_run(N, k, mode, seed, value):
    return RecallRun(
        n_fillers=N,
        truncation=k,
        mode=mode,
        seed=seed,
        recall_loss=np.full(12, value),
        total_loss=np.full(12, value + 1),
        final_recall_loss=value,
        chance=float(np.log(2)),
    )


def test_recall_figure_draws_seeds_medians_and_chance():
    grid = RecallGrid(
        n_fillers=(4, 10), truncations=(1, None), seeds=(0, 1, 2), modes=("window", "chunked")
    )
    runs = {}
    for i, key in enumerate(grid.unique_runs()):
        mode, N, k, seed = key
        runs[key] = fake_run(N, k, mode, seed, 0.01 * (i + 1))
    result = RecallGridResult(grid, runs)
    fig = spec(recall_figure(result))
    medians = [tr for tr in fig["data"] if tr["mode"] == "lines+markers"]
    assert len(medians) == 4  # two modes × two N
    for tr, (mode, N) in zip(
        medians, [(m, N) for m in grid.modes for N in grid.n_fillers], strict=True
    ):
        expected = [result.median(mode, N, k) for k in grid.truncations]
        np.testing.assert_allclose(array(tr["y"]), expected, rtol=1e-15)
        assert tr["name"] == f"N = {N} fillers"
    points = [tr for tr in fig["data"] if tr["mode"] == "markers"]
    np.testing.assert_allclose(
        array(points[0]["y"]),
        np.concatenate([result.settled("window", 4, k) for k in grid.truncations]),
    )
    chance = [sh for sh in fig["layout"]["shapes"] if sh["type"] == "line"]
    assert len(chance) == 2 and all(sh["y0"] == pytest.approx(np.log(2)) for sh in chance)
    assert fig["layout"]["xaxis"]["ticktext"] == ["1", "full"]
    assert fig["layout"]["xaxis2"]["title"]["text"] == "chunk length k"
    titles = [a for a in fig["layout"]["annotations"] if a["text"].startswith("<b>")]
    assert [a["xanchor"] for a in titles] == ["center", "center"], "titles must not collide"
    assert titles[0]["x"] < 0.5 < titles[1]["x"]


def test_curves_figure_draws_every_run():
    values = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5) + 1
    curves = TruncationCurves("hello", (1, None), (0, 1, 2), values, np.zeros((2, 3), dtype=bool))
    fig = spec(hello_curves_figure(curves))
    assert len(fig["data"]) == 6
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(array(fig["data"][3 * i + j]["y"]), values[i, j])
    assert [tr["name"] for tr in fig["data"][::3]] == ["k = 1", "full BPTT"]
    assert [tr["showlegend"] for tr in fig["data"][:3]] == [True, False, False]


# --------------------------------------------------------------------------- legible log axes


def labelled_decades(axis: dict) -> list[int]:
    """The exponents a Plotly log axis labels: multiples of its dtick (from tick0 = 0) in range."""
    lo, hi = axis["range"]
    step = int(axis["dtick"])
    return [e for e in range(int(np.ceil(lo)), int(np.floor(hi)) + 1) if e % step == 0]


@pytest.mark.parametrize("radius", [0.1, 0.3, 1.0, 3.0])
def test_jacobian_axis_labels_at_most_seven_decades(radius):
    """Issue 12 item 14: at ρ = 0.1 the norms span 30 decades, and the axis stacked 31 labels."""
    corpus = Corpus("the quick brown fox jumps over the lazy dog")
    cfg = RNNConfig(corpus.V, 8, corpus.V)
    p = init_params(cfg, 0)
    W = p.W_hh * (radius / np.abs(np.linalg.eigvals(p.W_hh)).max())
    params = Params(p.W_xh, W, p.W_hy, p.b_h, p.b_y)
    trace = forward(params, cfg, corpus.inputs, corpus.targets)
    _, values = norms_by_distance(jacobian_norms(params, cfg, trace))
    t, s = np.tril_indices(trace.T)
    bound = gradient_bound(cfg, params, trace.T - 1)
    fig = spec(jacobian_distance(t + 1, s + 1, values, bound, GOODFELLOW, 1.0, sigma_max(W)))
    axis = fig["layout"]["yaxis"]
    lo, hi = axis["range"]
    if hi - lo >= 2:
        labels = labelled_decades(axis)
        assert 3 <= len(labels) <= MAX_DECADE_LABELS, f"ρ = {radius}: labels at 10^{labels}"
    shown = values[(values > 0) & (values >= 10**lo)]
    assert np.all(np.log10(shown) <= hi), f"ρ = {radius}: a norm above the axis"
    assert np.log10(values.max()) <= hi - 0.2, f"ρ = {radius}: largest norm at the very top"


@pytest.mark.parametrize(("lo", "hi"), [(1e-30, 1.0), (1e-3, 1e3), (1e-7, 2.0), (0.01, 5.0)])
def test_log_axis_ticks_thin_decades(lo, hi):
    ticks = log_axis_ticks(lo, hi)
    first, last = int(np.ceil(np.log10(lo))), int(np.floor(np.log10(hi)))
    step = decade_step(lo, hi)
    assert ticks["dtick"] == step
    count = len([e for e in range(first, last + 1) if e % step == 0])
    assert 2 <= count <= MAX_DECADE_LABELS, f"{lo:g}..{hi:g}: {count} labels every {step}"
    if last - first + 1 <= MAX_DECADE_LABELS:
        assert step == 1, f"{lo:g}..{hi:g}: every decade fits, so every decade is labelled"


def recall_result(values: dict[tuple[str, int, int | None], list[float]]) -> RecallGridResult:
    """A RecallGridResult whose settled losses are ``values[(mode, N, k)]`` (one per seed)."""
    modes = tuple(dict.fromkeys(m for m, _, _ in values))
    ns = tuple(dict.fromkeys(N for _, N, _ in values))
    ks = tuple(dict.fromkeys(k for _, _, k in values))
    seeds = tuple(range(len(next(iter(values.values())))))
    grid = RecallGrid(n_fillers=ns, truncations=ks, seeds=seeds, modes=modes, updates=12)
    runs = {
        key: fake_run(key[1], key[2], key[0], key[3], values[key[:3]][key[3]])
        for key in grid.unique_runs()
    }
    return RecallGridResult(grid, runs)


@pytest.mark.parametrize(
    "case",
    [
        {"window": [[1e-7, 2e-7, 5e-7], [0.7, 0.9, 3.1]]},  # far below the old 1e-5 floor
        {"window": [[np.nan, 0.01, 0.02], [0.7, 12.0, 40.0]]},  # a diverged seed first
        {"window": [[0.004, 0.005, 0.006], [0.69, 0.7, 0.71]]},  # everything near two values
    ],
    ids=["tiny", "nan-first", "narrow"],
)
def test_recall_figure_keeps_every_point_inside_its_axes(case):
    """Issue 12 item 15: every seed and every median sits inside its panel, markers included."""
    values = {("window", N, k): row for N, row in zip((4, 10), case["window"], strict=True)
              for k in (None,)}  # fmt: skip
    result = recall_result(values)
    fig = spec(recall_figure(result))
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert np.isfinite([lo, hi]).all(), "the axis range must be finite"
    for tr in fig["data"]:
        y = array(tr["y"])
        y = np.log10(y[np.isfinite(y) & (y > 0)])
        margin = 0.15  # decades: room for half a diamond marker
        assert np.all(y >= lo + margin) and np.all(y <= hi - margin), (
            f"{tr['name']} ({tr['mode']}): {y} outside [{lo:.2f}, {hi:.2f}] ± {margin}"
        )
