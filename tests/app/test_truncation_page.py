"""AppTest of the "Truncation & vanishing gradients" page: every control, and what it displays.

Expected values come from the engine run on a network rebuilt here (W_hh rescaled by hand with
NumPy), not from the page's cache layer, so a page that shows the wrong network disagrees.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from bptt_app import flow_cache
from bptt_app.compute import ModelSpec
from bptt_app.flow_cache import QUICK, LearningSpec, learning_board
from bptt_app.settings import FLOW_MAX_T, Settings
from bptt_core import Corpus, Params, forward, gradient_flow, truncation_comparison
from bptt_core.clipping import clipping_demo
from bptt_core.recall import train_recall
from bptt_core.truncation_cost import RecallGrid
from bptt_viz.figures.flow import band_path
from bptt_viz.notation import NOTATIONS
from tests.conftest import assert_no_exception
from tests.figdata import array, chart

PAGE = "pages/truncation.py"
CHARTS = ("trunc_flow_map", "trunc_comparison", "trunc_jacobian", "trunc_clipping")


def open_page(app_test, **query: str):
    at = app_test(PAGE, query=query or None, timeout=60)
    assert_no_exception(at)
    return at


def metrics(at) -> dict[str, str]:
    """Metric label (markdown escapes removed, as the browser shows it) → value."""
    return {m.label.replace("\\", ""): m.value for m in at.metric}


def all_text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [e.value for e in at.info] + [e.value for e in at.error] + [e.value for e in at.warning]
    )
    return "\n".join(parts)


def chart_keys(at) -> list[str]:
    return [el.proto.id.rsplit("-", 1)[-1] for el in at.get("plotly_chart")]


def network(settings: Settings, radius: float, text: str | None = None):
    """The page's network rebuilt independently: the sidebar's initial weights, W_hh times
    radius / max|eigenvalue|."""
    spec = ModelSpec.from_settings(settings, text)
    corpus = Corpus(spec.text)
    cfg = spec.config(corpus.V)
    p = spec.params(cfg)
    rho0 = float(np.abs(np.linalg.eigvals(p.W_hh)).max())
    W = p.W_hh * (radius / rho0)
    params = Params(p.W_xh, W, p.W_hy, p.b_h, p.b_y)
    trace = forward(params, cfg, corpus.inputs, corpus.targets)
    sigma = float(np.linalg.svd(W, compute_uv=False)[0])
    return corpus, cfg, params, trace, sigma, rho0


TABLES = {
    "trunc_table": lambda df: "relative error" in df.columns,
    "trunc_clip_table": lambda df: "cosine with g" in df.columns,
    "trunc_medians": lambda df: str(df.index[0]).startswith("k = "),
}


def table(at, key: str):
    """The st.dataframe ``key`` (AppTest does not expose dataframe keys: found by its shape)."""
    found = [df.value for df in at.dataframe if TABLES[key](df.value)]
    assert len(found) == 1, f"expected one table {key}, found {len(found)}"
    return found[0]


# --------------------------------------------------------------------------- default view


def test_default_page_states_the_network_and_draws_every_figure(app_test):
    at = open_page(app_test)
    assert at.title[0].value == "Truncation & vanishing gradients"
    _, cfg, params, trace, sigma, rho0 = network(Settings(), 1.0)
    shown = metrics(at)
    assert shown["σ_max(W)"] == f"{sigma:.3f}"
    assert shown["ρ(W)"] == "1.00"
    assert shown["γ = max |f′|"] == "1"
    assert shown["γ · σ_max"] == f"{sigma:.3f}"
    assert f"had ρ = {rho0:.3f}" in all_text(at)
    assert at.slider(key="rho").value == 1.0
    assert at.slider(key="trunc_k").value == 4  # "hello": T = 4, k = T is full BPTT
    for key in CHARTS:
        assert key in chart_keys(at), f"chart {key} missing: {chart_keys(at)}"
    # the map is the engine's ‖∂L(t)/∂a(s)‖ of that network, in log10, with the full band
    flow = gradient_flow(params, cfg, trace)
    fig = chart(at, "trunc_flow_map")
    z = array(fig["data"][0]["z"])
    lower = np.tril(np.ones((4, 4), bool))
    np.testing.assert_allclose(z[lower], np.log10(flow[lower]), rtol=1e-10)
    assert fig["layout"]["shapes"][0]["path"] == band_path(4, 4)
    assert fig["layout"]["xaxis"]["ticktext"] == ["1 h", "2 e", "3 l", "4 l"]
    assert "Press **Train the recall task**" in all_text(at)


# --------------------------------------------------------------------------- spectral radius


@pytest.mark.parametrize("radius", [0.3, 2.5])
def test_spectral_radius_slider_rescales_W_hh_everywhere(app_test, radius):
    at = open_page(app_test)
    before = metrics(at)["σ_max(W)"]
    at.slider(key="rho").set_value(radius).run()
    assert_no_exception(at)
    _, cfg, params, trace, sigma, _ = network(Settings(), radius)
    shown = metrics(at)
    assert shown["σ_max(W)"] == f"{sigma:.3f}" != before
    assert shown["ρ(W)"] == f"{radius:.2f}"
    text = all_text(at)
    if sigma < 1:
        assert "guaranteed to vanish" in text and "may explode" not in text
    else:
        assert "may explode" in text and "guaranteed to vanish" not in text
    flow = gradient_flow(params, cfg, trace)
    z = array(chart(at, "trunc_flow_map")["data"][0]["z"])
    lower = np.tril(np.ones((4, 4), bool))
    np.testing.assert_allclose(z[lower], np.log10(flow[lower]), rtol=1e-10)
    bound = chart(at, "trunc_jacobian")["data"][-1]
    np.testing.assert_allclose(array(bound["y"]), sigma ** np.arange(4), rtol=1e-10)
    comp = truncation_comparison(params, cfg, trace)
    panels = chart(at, "trunc_comparison")["data"]
    np.testing.assert_allclose(array(panels[1]["y"]), comp.rel_error[:, 1], rtol=1e-10)


def test_spectral_radius_from_the_url(app_test):
    at = open_page(app_test, rho="0.5")
    assert at.slider(key="rho").value == 0.5
    _, _, _, _, sigma, _ = network(Settings(), 0.5)
    assert metrics(at)["σ_max(W)"] == f"{sigma:.3f}"


# --------------------------------------------------------------------------- truncation k


def test_truncation_from_the_url_outlines_the_band_and_fills_the_table(app_test):
    at = open_page(app_test, k="2")
    assert at.sidebar.number_input(key="k").value == 2
    assert at.slider(key="trunc_k").value == 2
    assert "Each loss reaches its own copy and the 1 before it." in all_text(at)
    fig = chart(at, "trunc_flow_map")
    assert fig["layout"]["shapes"][0]["path"] == band_path(4, 2)
    assert "kept by truncation k = 2" in fig["layout"]["shapes"][0]["name"]
    panels = chart(at, "trunc_comparison")
    assert {sh["x0"] for sh in panels["layout"]["shapes"]} == {2}
    _, cfg, params, trace, _, _ = network(Settings(), 1.0)
    comp = truncation_comparison(params, cfg, trace)
    df = table(at, "trunc_table")
    assert list(df.index) == ["U", "W", "V", "b", "c", "all of θ"]
    np.testing.assert_allclose(df["relative error"].to_numpy(), comp.rel_error[1], rtol=1e-12)
    np.testing.assert_allclose(df["cosine"].to_numpy(), comp.cosine[1], rtol=1e-12)
    np.testing.assert_allclose(df["share dropped"].to_numpy(), comp.dropped_share[1], rtol=1e-12)
    # the output weights never lose anything
    assert df.loc["V", "relative error"] == 0 and df.loc["V", "cosine"] == pytest.approx(1)


def test_page_slider_and_sidebar_truncation_stay_in_step(app_test):
    at = open_page(app_test)
    at.slider(key="trunc_k").set_value(1).run()
    assert_no_exception(at)
    assert at.sidebar.number_input(key="k").value == 1
    assert chart(at, "trunc_flow_map")["layout"]["shapes"][0]["path"] == band_path(4, 1)
    at.slider(key="trunc_k").set_value(4).run()  # k = T: full BPTT, stored as 0
    assert at.sidebar.number_input(key="k").value == 0
    assert "Full BPTT: every loss reaches every copy." in all_text(at)
    at.sidebar.number_input(key="k").set_value(3).run()
    assert at.slider(key="trunc_k").value == 3
    assert chart(at, "trunc_flow_map")["layout"]["shapes"][0]["path"] == band_path(4, 3)
    assert "**At k = 3**" in all_text(at)


def test_truncation_beyond_the_text_is_full_bptt(app_test):
    at = open_page(app_test, k="50")
    assert at.sidebar.number_input(key="k").value == 50
    assert at.slider(key="trunc_k").value == 4
    assert any("at least T = 4" in i.value for i in at.info)
    assert chart(at, "trunc_flow_map")["layout"]["shapes"][0]["path"] == band_path(4, 4)


# --------------------------------------------------------------------------- activation, notation


def test_activation_switch_to_sigmoid_quarters_gamma(app_test):
    at = open_page(app_test)
    at.sidebar.selectbox(key="act").set_value("sigmoid").run()
    assert_no_exception(at)
    settings = Settings(activation="sigmoid")
    _, cfg, params, trace, sigma, _ = network(settings, 1.0)
    shown = metrics(at)
    assert shown["γ = max |f′|"] == "0.25"
    assert shown["γ · σ_max"] == f"{0.25 * sigma:.3f}"
    bound = chart(at, "trunc_jacobian")["data"][-1]
    np.testing.assert_allclose(array(bound["y"]), (0.25 * sigma) ** np.arange(4), rtol=1e-10)
    z = array(chart(at, "trunc_flow_map")["data"][0]["z"])
    flow = gradient_flow(params, cfg, trace)
    np.testing.assert_allclose(np.diag(z), np.log10(np.diag(flow)), rtol=1e-10)
    assert "sigmoid" in all_text(at)


@pytest.mark.parametrize(
    ("notation", "W", "W_html", "loss_html"),
    [
        ("Guo / Mikolov (V, U, W)", "U", "U", "C(t)"),
        ('"hello" notes / Ng (W_ax, W_aa, W_ya)', "W_aa", "W<sub>aa</sub>", "L(t)"),
        ("min-char-rnn (Wxh, Whh, Why)", "Whh", "Whh", "loss[t]"),
    ],
)
def test_notation_switch_renames_every_label(app_test, notation, W, W_html, loss_html):
    at = open_page(app_test, k="2")
    at.sidebar.selectbox(key="notation").set_value(notation).run()
    assert_no_exception(at)
    labels = set(metrics(at))
    assert f"σ_max({W})" in labels and f"ρ({W})" in labels, labels
    assert f"ρ({W}) on this page" in at.slider(key="rho").label.replace("\\", "")
    df = table(at, "trunc_table")
    assert list(df.index)[1] == W
    assert loss_html in chart(at, "trunc_flow_map")["layout"]["title"]["text"]
    assert W_html in chart(at, "trunc_jacobian")["data"][-1]["name"]
    names = [tr["name"] for tr in chart(at, "trunc_comparison")["data"][:3]]
    assert names[1] == W_html
    n = next(nt for nt in NOTATIONS.values() if nt.name == notation)
    latex = "\n".join(el.value for el in at.latex)
    assert rf"\frac{{\partial {n.tex('L')}}}{{\partial {n.tex('W_hh')}}}" in latex, latex


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("query", "rho", "k"),
    [
        ({"rho": "abc"}, 1.0, 0),
        ({"rho": "99"}, 1.0, 0),
        ({"rho": "-1"}, 1.0, 0),
        ({"k": "-5"}, 1.0, 0),
        ({"k": "two"}, 1.0, 0),
        ({"k": "3", "rho": "nan"}, 1.0, 3),
    ],
)
def test_bad_url_values_fall_back_without_an_exception(app_test, query, rho, k):
    at = open_page(app_test, **query)
    assert at.slider(key="rho").value == rho
    assert at.sidebar.number_input(key="k").value == k
    assert at.slider(key="trunc_k").value == (k or 4)
    assert len(at.get("plotly_chart")) == len(CHARTS)


@pytest.mark.parametrize(
    ("text", "message"), [("", "The training text is empty"), ("x", "single character")]
)
def test_bad_text_shows_the_problem_and_stops(app_test, text, message):
    at = open_page(app_test)
    at.sidebar.text_area(key="text").set_value(text).run()
    assert_no_exception(at)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert not at.get("plotly_chart"), "the page must stop before drawing"
    assert not at.metric
    at.sidebar.text_area(key="text").set_value("hello").run()  # and it recovers
    assert_no_exception(at)
    assert len(at.get("plotly_chart")) == len(CHARTS)


def test_long_text_uses_the_first_flow_max_t_steps(app_test):
    text = ("abcdefghij" * 12)[:100]
    at = open_page(app_test, text=text)
    assert any(f"first {FLOW_MAX_T + 1} characters" in i.value for i in at.info)
    z = array(chart(at, "trunc_flow_map")["data"][0]["z"])
    assert z.shape == (FLOW_MAX_T, FLOW_MAX_T)
    assert at.slider(key="trunc_k").value == FLOW_MAX_T
    _, cfg, params, trace, _, _ = network(Settings(text=text), 1.0, text[: FLOW_MAX_T + 1])
    flow = gradient_flow(params, cfg, trace)
    np.testing.assert_allclose(np.diag(z), np.log10(np.diag(flow)), rtol=1e-10)


def test_an_exploding_linear_network_is_drawn_and_called_exploding(app_test):
    at = open_page(app_test, rho="3", text="abc" * 27)  # T = 80
    at.sidebar.selectbox(key="out").set_value("linear + squared error").run()
    at.sidebar.selectbox(key="act").set_value("linear").run()
    assert_no_exception(at)
    assert metrics(at)["γ = max |f′|"] == "1"
    text = all_text(at)
    assert "may explode" in text
    jac = chart(at, "trunc_jacobian")
    largest = array(jac["data"][1]["y"])
    assert np.isfinite(largest).all() and largest[-1] > 1e20, largest[-1]
    assert len(at.get("plotly_chart")) == len(CHARTS)


# --------------------------------------------------------------------------- clipping


def test_clipping_section_matches_the_engine(app_test):
    at = open_page(app_test, rho="2")
    corpus, cfg, params, *_ = network(Settings(), 1.0)
    demo = clipping_demo(params, cfg, corpus.inputs, corpus.targets, 2.0, 5.0)
    df = table(at, "trunc_clip_table")
    np.testing.assert_allclose(
        df["cosine with g"].to_numpy(),
        [demo.comparison.cosine_norm, demo.comparison.cosine_value],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        df["length after"].to_numpy(),
        [demo.comparison.norm_after_norm, demo.comparison.norm_after_value],
        rtol=1e-12,
    )
    assert df.loc["norm clipping", "cosine with g"] == pytest.approx(1.0, abs=1e-12)
    assert df.loc["value clipping", "cosine with g"] < 0.999
    assert f"{demo.comparison.clipped_entries} of {demo.comparison.entries} entries" in all_text(at)
    if demo.threshold_lowered:
        assert "is lowered to" in all_text(at)


# --------------------------------------------------------------------------- learning experiment


def wait_for_result(at, timeout_s: float = 90.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        at.run()
        assert_no_exception(at)
        bars = at.get("progress")
        if bars and bars[0].proto.text.startswith("Done"):
            return at
        time.sleep(0.3)
    pytest.fail(f"the experiment did not finish within {timeout_s} s")


def test_experiment_button_trains_in_the_background_and_shows_the_result(app_test):
    learning_board.clear()  # a fresh board: this test must see the job run
    at = open_page(app_test)
    assert "trunc_recall" not in chart_keys(at)
    t0 = time.monotonic()
    at.button(key="trunc_run").click().run()
    assert_no_exception(at)
    assert time.monotonic() - t0 < 5, "clicking must not wait for the training"
    bars = at.get("progress")
    assert bars and "of 15,000 updates" in bars[0].proto.text, [b.proto.text for b in bars]
    assert at.button(key="trunc_run").disabled, "no second start while it runs"
    # the rest of the page keeps working while the job runs
    t1 = time.monotonic()
    at.slider(key="rho").set_value(0.7).run()
    assert time.monotonic() - t1 < 5
    assert metrics(at)["ρ(W)"] == "0.70"
    at.slider(key="rho").set_value(1.0).run()
    wait_for_result(at)
    assert {"trunc_recall", "trunc_hello"} <= set(chart_keys(at))
    medians = table(at, "trunc_medians")
    assert list(medians.index) == ["k = 1", "k = 2", "k = 5", "k = full"]
    assert list(medians.columns) == ["window, N = 4", "window, N = 10"]
    # independent runs of the engine's recall task for two cells of the grid
    for N, k, col in ((10, None, "k = full"), (10, 5, "k = 5")):
        settled = [train_recall(N, k, seed=s).settled_recall_loss for s in (0, 1, 2)]
        assert medians.loc[col, f"window, N = {N}"] == pytest.approx(np.median(settled))
    assert medians.loc["k = full", "window, N = 10"] < 0.05
    assert medians.loc["k = 5", "window, N = 10"] > 0.5
    fig = chart(at, "trunc_recall")
    line = next(
        tr for tr in fig["data"] if tr["name"] == "N = 10 fillers" and "lines" in tr["mode"]
    )
    np.testing.assert_allclose(array(line["y"]), medians["window, N = 10"].to_numpy())
    hello = chart(at, "trunc_hello")
    assert [tr["name"] for tr in hello["data"] if tr["showlegend"]] == ["k = 1", "full BPTT"]
    assert "final loss per character k = 1:" in all_text(at)
    assert not at.button(key="trunc_run").disabled


def test_a_finished_experiment_is_reused_by_another_session(app_test):
    board = learning_board()
    job = board.submit(QUICK)
    deadline = time.monotonic() + 90
    while job.in_flight and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.state == "done"
    at = open_page(app_test)
    at.button(key="trunc_run").click().run()
    assert_no_exception(at)
    bars = at.get("progress")
    assert bars and bars[0].proto.text.startswith("Done"), "a finished result shows at once"
    assert board.get(QUICK) is job
    assert "trunc_recall" in chart_keys(at)


def test_more_experiment_shows_window_and_chunked(app_test, monkeypatch):
    tiny = LearningSpec(
        RecallGrid(
            n_fillers=(2,),
            truncations=(1, 2, None),
            seeds=(0,),
            modes=("window", "chunked"),
            updates=20,
        ),
        hello_updates=5,
        hello_seeds=(0,),
    )
    monkeypatch.setitem(flow_cache.EXPERIMENTS, "more", tiny)
    at = open_page(app_test)
    at.radio(key="trunc_experiment").set_value("more").run()
    at.button(key="trunc_run").click().run()
    wait_for_result(at)
    fig = chart(at, "trunc_recall")
    assert fig["layout"]["xaxis2"]["title"]["text"] == "chunk length k"
    medians = table(at, "trunc_medians")
    assert list(medians.columns) == ["window, N = 2", "chunked, N = 2"]
    result = learning_board().get(tiny).result
    assert medians.loc["k = 2", "chunked, N = 2"] == pytest.approx(
        result.recall.median("chunked", 2, 2)
    )
    assert medians.loc["k = 2", "chunked, N = 2"] == pytest.approx(
        train_recall(2, 2, mode="chunked", seed=0, updates=20).settled_recall_loss
    )
    assert "In chunked mode the cut falls" in all_text(at)


def test_job_board_is_bounded():
    board = flow_cache.JobBoard(max_results=2, max_waiting=1)
    slow = LearningSpec(
        RecallGrid(n_fillers=(10,), truncations=(None,), seeds=(0,), updates=3000),
        hello_updates=1,
        hello_seeds=(0,),
    )
    specs = [
        LearningSpec(
            RecallGrid(n_fillers=(1,), truncations=(1,), seeds=(s,), updates=3),
            hello_updates=1,
            hello_seeds=(0,),
        )
        for s in range(3)
    ]
    first = board.submit(slow)
    assert first is not None and first.in_flight
    assert board.submit(specs[0]) is None, "max_waiting = 1: a second job must be refused"
    assert board.submit(slow) is first, "the same experiment is the same job"
    deadline = time.monotonic() + 60

    def finish(job):
        assert job is not None
        while job.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job.state == "done", job.error
        assert job.done == job.total and job.fraction == 1.0

    finish(first)
    for spec in specs:  # one at a time: each waits for the previous to finish
        finish(board.submit(spec))
    kept = [s for s in [slow, *specs] if board.get(s) is not None]
    assert kept == specs[1:], "only the two newest finished results are kept"
    assert board.submit(specs[2]) is board.get(specs[2]), "a finished job is reused"
