"""Figure builders and equations of the step page: they draw exactly the numbers they are given."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bptt_core import Corpus, RNNConfig, backward, forward, init_params
from bptt_viz.equations import backward_equations, forward_equations, vec
from bptt_viz.figures.heatmaps import (
    diverging_colours,
    matrix_pairs,
    time_heatmap,
    time_heatmap_svg,
    time_labels,
)
from bptt_viz.figures.network import (
    unfolded_geometry,
    unfolded_network,
    unfolded_network_svg,
    unit_network,
)
from bptt_viz.notation import NOTATIONS, get_notation
from bptt_viz.stepper import step_state
from tests.figdata import array


def traces(text: str = "a<b&a", H: int = 3, k: int | None = None):
    c = Corpus(text)
    cfg = RNNConfig(c.V, H, c.V)
    p = init_params(cfg, seed=1)
    f = forward(p, cfg, c.inputs, c.targets)
    return c, cfg, p, f, backward(p, cfg, f, truncation=k)


@pytest.mark.parametrize("index", [0, 2, 4, 7])
def test_svg_and_plotly_networks_draw_the_same_geometry(index):
    c, _, _, f, b = traces()
    state = step_state(f, b, index)
    args = (state, list(c.input_chars), list(c.target_chars), get_notation("goodfellow"), f.h0)
    g = unfolded_geometry(*args)
    fig = unfolded_network(*args).to_dict()
    svg = unfolded_network_svg(*args)
    nodes = next(tr for tr in fig["data"] if tr.get("mode") == "markers")
    assert len(nodes["x"]) == len(g.node_x) == svg.count("<circle"), f"step {index}"
    assert list(nodes["marker"]["color"]) == list(g.node_fill)
    segments = sum(len(group.segments) for group in g.edges)
    assert svg.count("<line") == segments, f"step {index}: SVG edges"
    assert fig["layout"]["title"]["text"] == g.title
    assert g.title.split("—")[1].strip() in svg


def test_user_characters_are_escaped_in_svg_and_hover():
    c, _, _, f, b = traces("a<b&a")
    state = step_state(f, b, 7)
    args = (state, list(c.input_chars), list(c.target_chars), get_notation("goodfellow"), f.h0)
    svg = unfolded_network_svg(*args)
    assert "“&lt;”" in svg and "“&amp;”" in svg
    assert "“<”" not in svg and "“&”" not in svg
    hover = "\n".join(unfolded_geometry(*args).node_hover)
    assert "“&lt;”" in hover and "“<”" not in hover


def test_truncation_band_covers_the_copies_one_loss_reaches():
    c, _, _, f, b = traces("abcdefgh", k=3)
    T = f.T
    for index in range(T, 2 * T):  # backward steps
        state = step_state(f, b, index)
        g = unfolded_geometry(
            state, list(c.input_chars), list(c.target_chars), get_notation("guo"), f.h0, 3
        )
        t = state.t
        assert g.band == (max(1, t - 2) - 0.45, t + 0.45), f"t={t}"


@pytest.mark.parametrize("index", [0, 3, 5, 7])
def test_time_heatmap_shows_known_values_and_blanks(index):
    c, _, _, f, b = traces()
    state = step_state(f, b, index)
    ticks = time_labels(list(c.input_chars), list(c.target_chars))
    fig = time_heatmap(state.delta_h, ticks, ["u1", "u2", "u3"], "δ", 1.0, state.t).to_dict()
    z = array(fig["data"][0]["z"])
    np.testing.assert_array_equal(np.isnan(z), np.isnan(state.delta_h.T))
    np.testing.assert_allclose(z[~np.isnan(z)], state.delta_h.T[~np.isnan(state.delta_h.T)])
    svg = time_heatmap_svg(state.delta_h, ticks, ["u1", "u2", "u3"], "δ", 1.0, state.t)
    finite = int(np.isfinite(state.delta_h).sum())
    assert svg.count("<rect") == finite + 1, f"cells + highlight at step {index}"


def test_diverging_colours_are_centred_on_zero():
    cols = diverging_colours(np.array([-2.0, -1.0, 0.0, 1.0, 2.0, np.nan]), 1.0)
    assert cols[0] == cols[1] == "#0b4f8a"  # clipped at −zmax
    assert cols[2] == "#f7f7f7"
    assert cols[3] == cols[4] == "#a14300"
    assert cols[5] == ""


def test_matrix_pairs_carry_their_matrices_and_do_not_overlap():
    rng = np.random.default_rng(0)
    rows = [
        ("A", rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), 2.0, 1.0),
        ("b", rng.standard_normal((1, 4)), None, 1.0, 1.0),
    ]
    fig = matrix_pairs(rows, "left", "right", {"A": (["r1", "r2", "r3"], list("wxyz"))}).to_dict()
    z = [array(tr["z"]) for tr in fig["data"]]
    np.testing.assert_array_equal(z[0], rows[0][1])
    np.testing.assert_array_equal(z[1], rows[0][2])
    assert np.isnan(z[3]).all(), "a missing right-hand matrix is drawn blank"
    domains = [fig["layout"][name]["domain"] for name in ("yaxis", "yaxis3")]
    assert domains[0][0] > domains[1][1], f"rows overlap: {domains}"
    assert fig["data"][0]["zmax"] == 2.0 and fig["data"][1]["zmax"] == 1.0


def test_unit_network_edges_carry_every_weight():
    c, _, p, f, _ = traces()
    fig = unit_network(
        {"W_xh": p.W_xh, "W_hh": p.W_hh, "W_hy": p.W_hy},
        list(c.vocab),
        list(c.vocab),
        get_notation("ng"),
        2,
        f.inputs[1],
        f.h[0],
        f.h[1],
        f.y[1],
    ).to_dict()
    hover = "\n".join(fig["data"][-2]["hovertext"])
    for name, W in (
        ("W<sub>ax</sub>", p.W_xh),
        ("W<sub>aa</sub>", p.W_hh),
        ("W<sub>ya</sub>", p.W_hy),
    ):
        assert hover.count(name + "[") == W.size, name
        for value in W.ravel():
            assert f"{value:+.4f}" in hover


@pytest.mark.parametrize("key", list(NOTATIONS))
def test_equations_substitute_the_trace_numbers(key):
    n = get_notation(key)
    _, cfg, p, f, b = traces("hello")
    weights = {"W_xh": p.W_xh, "W_hh": p.W_hh, "b_h": p.b_h}
    lines = forward_equations(n, cfg, weights, f, 2, "e", "l")
    joined = "\n".join(lines)
    assert f"{f.losses[1]:.4f}" in joined, f"{key}: L(2)"
    assert vec(f.h[1]) in joined, f"{key}: h(2)"
    assert n.tex("W_hh") in joined
    lines = backward_equations(n, cfg, f, b, 2)
    joined = "\n".join(lines)
    assert vec(b.delta_h[1]) in joined, f"{key}: delta_h(2)"
    assert vec(b.dh_carried[1]) in joined, f"{key}: carried part"
    assert vec(b.dh_local[1] + b.dh_carried[1]) in joined


def test_equations_escape_latex_specials_in_characters():
    _, cfg, p, f, _ = traces("{a}_$%")
    weights = {"W_xh": p.W_xh, "W_hh": p.W_hh, "b_h": p.b_h}
    line = forward_equations(get_notation("goodfellow"), cfg, weights, f, 1, "{", "a")[0]
    assert r"\{" in line and not re.search(r"“\{”", line)


def test_vec_shows_the_first_entries_and_an_ellipsis():
    assert vec(np.array([1.0, -2.5])) == r"\begin{bmatrix}1.000 & -2.500\end{bmatrix}^{\top}"
    long = vec(np.arange(8.0))
    assert long.count("&") == 5 and r"\cdots" in long
    assert vec(np.array([0.25])) == "0.250"
