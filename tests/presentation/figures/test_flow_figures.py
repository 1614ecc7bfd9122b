"""Figure builders of the Truncation page (bptt_viz.figures.flow): the figures carry exactly the
numbers they are given, the truncation band outlines exactly the kept terms, and every label
speaks the notation passed in."""

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
from bptt_viz.figures.flow import (
    band_path,
    clipping_figure,
    curves_figure,
    flow_map,
    jacobian_distance,
    recall_figure,
    truncation_panels,
)
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
    fig = spec(curves_figure(curves))
    assert len(fig["data"]) == 6
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(array(fig["data"][3 * i + j]["y"]), values[i, j])
    assert [tr["name"] for tr in fig["data"][::3]] == ["k = 1", "full BPTT"]
    assert [tr["showlegend"] for tr in fig["data"][:3]] == [True, False, False]
