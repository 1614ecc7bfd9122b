"""AppTest of the "Truncation & vanishing gradients" page: every control, and what it displays.

Expected values come from the engine run on a network rebuilt here (the sidebar's settings through
``TrainingConfig.initial_params``, W_hh rescaled by hand with NumPy), not from the page's cache
layer, so a page that shows the wrong network disagrees.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from bptt_app import analysis, experiments
from bptt_app.experiments import QUICK, LearningSpec, learning_board
from bptt_app.settings import FLOW_MAX_T, Settings
from bptt_core import Corpus, Params, forward, gradient_flow, truncation_comparison
from bptt_core.clipping import clipping_demo
from bptt_core.recall import train_recall
from bptt_core.truncation_cost import RecallGrid
from bptt_viz.figures.gradient_flow import band_path
from bptt_viz.notation import NOTATIONS
from bptt_viz.truncation_page.learning import recall_view
from tests.conftest import assert_no_exception
from tests.figdata import array, chart

PAGE = "pages/truncation.py"
CHARTS = ("trunc_flow_map", "trunc_comparison", "trunc_jacobian", "trunc_clipping")
LOWER4 = np.tril(np.ones((4, 4), bool))


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
    training = settings.training()
    corpus = Corpus(settings.text if text is None else text)
    cfg = training.network(corpus.V)
    p = training.initial_params(cfg)
    rho0 = float(np.abs(np.linalg.eigvals(p.W_hh)).max())
    W = p.W_hh * (radius / rho0)
    params = Params(p.W_xh, W, p.W_hy, p.b_h, p.b_y)
    trace = forward(params, cfg, corpus.inputs, corpus.targets)
    sigma = float(np.linalg.svd(W, compute_uv=False)[0])
    return corpus, cfg, params, trace, sigma, rho0


TABLES = {
    "gradient": lambda df: "relative error" in df.columns,
    "clipping": lambda df: "cosine with g" in df.columns,
    "medians": lambda df: str(df.index[0]).startswith("k = "),
}


def table(at, name: str):
    """The st.table ``name`` (found by its shape)."""
    found = [t.value for t in at.table if TABLES[name](t.value)]
    assert len(found) == 1, f"expected one table {name}, found {len(found)}"
    return found[0]


def band(at) -> str:
    return chart(at, "trunc_flow_map")["layout"]["shapes"][0]["path"]


def page_k(at) -> int:
    return at.slider(key="trunc_k").value


def sidebar_k(at) -> int:
    return at.sidebar.number_input(key="k").value


# --------------------------------------------------------------------------- default view


def test_default_page_states_the_network_and_draws_every_figure(app_test):
    at = open_page(app_test)
    assert at.title[0].value == "Truncation & vanishing gradients"
    _, cfg, params, trace, sigma, rho0 = network(Settings(), 1.0)
    assert metrics(at) == {
        "ρ(W)": "1.00",
        "σ_max(W)": f"{sigma:.3f}",
        "γ = max |f′|": "1",
        "γ · σ_max": f"{sigma:.3f}",
    }
    assert f"has ρ = {rho0:.3f}" in all_text(at)
    assert at.slider(key="rho").value == 1.0
    assert page_k(at) == 4  # "hello": T = 4, k = T is full BPTT
    for key in CHARTS:
        assert key in chart_keys(at), f"chart {key} missing: {chart_keys(at)}"
    flow = gradient_flow(params, cfg, trace)
    fig = chart(at, "trunc_flow_map")
    z = array(fig["data"][0]["z"])
    np.testing.assert_allclose(z[LOWER4], np.log10(flow[LOWER4]), rtol=1e-10)
    assert band(at) == band_path(4, 4)
    assert fig["layout"]["xaxis"]["ticktext"] == ["1 h", "2 e", "3 l", "4 l"]
    assert "Full BPTT: every loss reaches every copy." in all_text(at)
    assert "Press **Train the recall task**" in all_text(at)


def test_one_route_from_the_settings_and_one_rescaling_per_network(app_test, monkeypatch):
    """The page's network is TrainingConfig.initial_params with W_hh rescaled once, however
    many analyses use it."""
    calls = []
    original = analysis.with_spectral_radius

    def counting(params, radius):
        calls.append(radius)
        return original(params, radius)

    monkeypatch.setattr(analysis, "with_spectral_radius", counting)
    for cached in (analysis.page_network, analysis.cached_flow_analysis,
                   analysis.cached_jacobian_analysis, analysis.cached_clipping_analysis):  # fmt: skip
        cached.clear()
    at = open_page(app_test, rho="0.65", seed="7", hidden="5")
    assert calls == [0.65], calls
    *_, sigma, rho0 = network(Settings(seed=7, hidden_size=5), 0.65)
    assert metrics(at)["σ_max(W)"] == f"{sigma:.3f}"
    assert f"has ρ = {rho0:.3f}" in all_text(at)


def test_sidebar_initialisation_reaches_the_page(app_test):
    """The sidebar's "spectral radius of W_hh" initialisation is the ρ the page starts from."""
    at = open_page(app_test)
    at.sidebar.selectbox(key="init").set_value("spectral radius of W_hh").run()
    at.sidebar.slider(key="radius").set_value(0.5).run()
    assert_no_exception(at)
    assert "has ρ = 0.500; this page rescales it to ρ = 1.00" in all_text(at)
    settings = Settings(init="radius", spectral_radius=0.5)
    *_, sigma, rho0 = network(settings, 1.0)
    assert rho0 == pytest.approx(0.5, rel=1e-12)
    assert metrics(at)["σ_max(W)"] == f"{sigma:.3f}"


def test_training_only_settings_change_nothing_here(app_test, monkeypatch):
    """η, the optimizer and the chunk length are not part of TrainingConfig.architecture(): the
    page's analyses stay cached and every figure stays the same."""
    at = open_page(app_test, rho="0.85")
    before = {key: chart(at, key) for key in CHARTS}
    calls = []
    monkeypatch.setattr(
        analysis, "with_spectral_radius", lambda *a: calls.append(a) or pytest.fail("rebuilt")
    )
    at.sidebar.number_input(key="lr").set_value(0.2).run()
    at.sidebar.selectbox(key="opt").set_value("SGD").run()
    at.sidebar.number_input(key="seq").set_value(7).run()
    assert_no_exception(at)
    assert not calls
    assert {key: chart(at, key) for key in CHARTS} == before


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
    np.testing.assert_allclose(z[LOWER4], np.log10(flow[LOWER4]), rtol=1e-10)
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


def test_smallest_spectral_radius_keeps_the_jacobian_axis_legible(app_test):
    """Issue 12 item 14, on the page: at ρ = 0.1 over a long text, at most 7 decade labels."""
    at = open_page(app_test, rho="0.1", text="the quick brown fox jumps over the lazy dog")
    axis = chart(at, "trunc_jacobian")["layout"]["yaxis"]
    lo, hi = axis["range"]
    assert hi - lo > 25, "the norms span many decades here"
    labels = [e for e in range(int(np.ceil(lo)), int(np.floor(hi)) + 1) if e % axis["dtick"] == 0]
    assert len(labels) <= 7, labels


# --------------------------------------------------------------------------- truncation k


def test_sidebar_k_from_the_url_sets_the_pages_k(app_test):
    at = open_page(app_test, k="2")
    assert sidebar_k(at) == 2 and page_k(at) == 2
    assert "k = 2: each loss reaches its own copy and the one before it." in all_text(at)
    assert "Set from the sidebar's k" in all_text(at)
    fig = chart(at, "trunc_flow_map")
    assert band(at) == band_path(4, 2)
    assert "kept by truncation k = 2" in fig["layout"]["shapes"][0]["name"]
    panels = chart(at, "trunc_comparison")
    assert {sh["x0"] for sh in panels["layout"]["shapes"]} == {2}
    _, cfg, params, trace, _, _ = network(Settings(), 1.0)
    comp = truncation_comparison(params, cfg, trace)
    df = table(at, "gradient")
    assert list(df.index) == ["U", "W", "V", "b", "c", "all of θ"]
    np.testing.assert_allclose(df["relative error"].to_numpy(), comp.rel_error[1], rtol=1e-12)
    np.testing.assert_allclose(df["cosine"].to_numpy(), comp.cosine[1], rtol=1e-12)
    np.testing.assert_allclose(df["share dropped"].to_numpy(), comp.dropped_share[1], rtol=1e-12)
    assert df.loc["V", "relative error"] == 0 and df.loc["V", "cosine"] == pytest.approx(1)


def test_page_slider_never_writes_the_sidebars_k(app_test):
    """Issue 9: only the sidebar writes the sidebar's keys. The page's k is its own."""
    at = open_page(app_test)
    at.slider(key="trunc_k").set_value(1).run()
    assert_no_exception(at)
    assert sidebar_k(at) == 0, "the sidebar's k must stay at full BPTT"
    assert "k" not in at.query_params
    assert band(at) == band_path(4, 1)
    text = all_text(at)
    assert "k = 1: each loss reaches only its own copy" in text
    assert "The sidebar's k is still 0 (full BPTT)" in text
    assert "**At k = 1**" in text
    at.slider(key="trunc_k").set_value(3).run()  # the page's k stays where the student put it
    at.sidebar.selectbox(key="act").set_value("sigmoid").run()
    assert page_k(at) == 3 and band(at) == band_path(4, 3)
    at.slider(key="trunc_k").set_value(4).run()
    assert "Full BPTT: every loss reaches every copy." in all_text(at)
    assert "Set from the sidebar's k" in all_text(at)


def test_page_k_follows_a_change_of_the_sidebars_k(app_test):
    at = open_page(app_test)
    at.slider(key="trunc_k").set_value(1).run()
    at.sidebar.number_input(key="k").set_value(3).run()
    assert_no_exception(at)
    assert page_k(at) == 3 and band(at) == band_path(4, 3)
    assert "**At k = 3**" in all_text(at)
    at.sidebar.number_input(key="k").set_value(0).run()
    assert page_k(at) == 4 and band(at) == band_path(4, 4)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_truncation_caption_reads_right_for_small_k(app_test, k):
    """Issue 12 item 10: at k = 1 the caption said "its own copy and the 0 before it"."""
    at = open_page(app_test)
    at.slider(key="trunc_k").set_value(k).run()
    captions = "\n".join(c.value for c in at.caption)
    assert "the 0 before" not in captions and "the 1 before" not in captions, captions
    expected = {
        1: "k = 1: each loss reaches only its own copy; no error crosses a recurrent edge.",
        2: "k = 2: each loss reaches its own copy and the one before it.",
        3: "k = 3: each loss reaches its own copy and the 2 before it.",
    }[k]
    assert expected in captions


def test_truncation_beyond_the_text_is_full_bptt(app_test):
    at = open_page(app_test, k="50")
    assert sidebar_k(at) == 50 and page_k(at) == 4
    assert any("at least T = 4" in i.value for i in at.info)
    assert band(at) == band_path(4, 4)


def test_a_two_character_text_has_nothing_to_truncate(app_test):
    at = open_page(app_test, text="ab")
    assert_no_exception(at)
    assert not [s for s in at.slider if s.key == "trunc_k"]
    assert "with T = 1 there is nothing to truncate" in all_text(at)
    assert "0 steps back" not in all_text(at)
    assert len(at.get("plotly_chart")) == len(CHARTS)


# --------------------------------------------------------------------------- activation, notation


def test_activation_switch_to_sigmoid_quarters_gamma(app_test):
    at = open_page(app_test)
    at.sidebar.selectbox(key="act").set_value("sigmoid").run()
    assert_no_exception(at)
    _, cfg, params, trace, sigma, _ = network(Settings(activation="sigmoid"), 1.0)
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
    df = table(at, "gradient")
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
    assert sidebar_k(at) == k
    assert page_k(at) == (k or 4)
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
    assert page_k(at) == FLOW_MAX_T
    _, cfg, params, trace, _, _ = network(Settings(text=text), 1.0, text[: FLOW_MAX_T + 1])
    flow = gradient_flow(params, cfg, trace)
    np.testing.assert_allclose(np.diag(z), np.log10(np.diag(flow)), rtol=1e-10)
    at.sidebar.text_area(key="text").set_value("hello there").run()  # T changes: k follows
    assert_no_exception(at)
    assert page_k(at) == 10


def test_an_exploding_linear_network_is_drawn_and_called_exploding(app_test):
    at = open_page(app_test, rho="3", text="abc" * 27)  # T = 80
    at.sidebar.selectbox(key="out").set_value("linear + squared error").run()
    at.sidebar.selectbox(key="act").set_value("linear").run()
    assert_no_exception(at)
    assert metrics(at)["γ = max |f′|"] == "1"
    assert "may explode" in all_text(at)
    largest = array(chart(at, "trunc_jacobian")["data"][1]["y"])
    assert np.isfinite(largest).all() and largest[-1] > 1e20, largest[-1]
    assert len(at.get("plotly_chart")) == len(CHARTS)


# --------------------------------------------------------------------------- clipping


@pytest.mark.parametrize(("rho", "clipval"), [("2", None), ("2.5", "0.5")])
def test_clipping_section_matches_the_engine(app_test, rho, clipval):
    at = open_page(app_test, rho=rho)
    if clipval is not None:
        at.sidebar.number_input(key="clipval").set_value(float(clipval)).run()
        assert_no_exception(at)
    corpus, cfg, *_ = network(Settings(), 1.0)
    training = Settings().training()
    initial = training.initial_params(cfg)
    threshold = 5.0 if clipval is None else float(clipval)
    demo = clipping_demo(initial, cfg, corpus.inputs, corpus.targets, float(rho), threshold)
    df = table(at, "clipping")
    cc = demo.comparison
    np.testing.assert_allclose(
        df["cosine with g"].to_numpy(), [cc.cosine_norm, cc.cosine_value], rtol=1e-12
    )
    np.testing.assert_allclose(
        df["length after"].to_numpy(), [cc.norm_after_norm, cc.norm_after_value], rtol=1e-12
    )
    assert df.loc["norm clipping", "cosine with g"] == pytest.approx(1.0, abs=1e-12)
    assert df.loc["value clipping", "cosine with g"] < 0.999
    assert f"{cc.clipped_entries} of {cc.entries} entries" in all_text(at)
    assert ("is lowered to" in all_text(at)) == demo.threshold_lowered


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


def test_experiment_button_trains_in_the_background_and_shows_the_result(app_test, monkeypatch):
    # a fresh board (the process's one is never cleared): this test must see the job run
    monkeypatch.setattr(experiments, "_BOARD", experiments.JobBoard())
    at = open_page(app_test)
    assert "trunc_recall" not in chart_keys(at)
    t0 = time.monotonic()
    at.button(key="trunc_run").click().run()
    assert_no_exception(at)
    assert time.monotonic() - t0 < 5, "clicking must not wait for the training"
    bars = at.get("progress")
    assert bars and "of 15,000 updates" in bars[0].proto.text, [b.proto.text for b in bars]
    assert at.button(key="trunc_run").disabled, "no second start while it runs"
    t1 = time.monotonic()  # the rest of the page keeps working while the job runs
    at.slider(key="rho").set_value(0.7).run()
    assert time.monotonic() - t1 < 5
    assert metrics(at)["ρ(W)"] == "0.70"
    at.slider(key="rho").set_value(1.0).run()
    wait_for_result(at)
    assert {"trunc_recall", "trunc_hello"} <= set(chart_keys(at))
    medians = table(at, "medians")
    assert list(medians.index) == ["k = 1", "k = 2", "k = 5", "k = full"]
    assert list(medians.columns) == ["window, N = 4", "window, N = 10"]
    for N, k, row in ((10, None, "k = full"), (10, 5, "k = 5")):  # independent engine runs
        settled = [train_recall(N, k, seed=s).settled_recall_loss for s in (0, 1, 2)]
        assert medians.loc[row, f"window, N = {N}"] == pytest.approx(np.median(settled))
    assert medians.loc["k = full", "window, N = 10"] < 0.05
    assert medians.loc["k = 5", "window, N = 10"] > 0.5
    line = next(
        tr
        for tr in chart(at, "trunc_recall")["data"]
        if tr["name"] == "N = 10 fillers" and "lines" in tr["mode"]
    )
    np.testing.assert_allclose(array(line["y"]), medians["window, N = 10"].to_numpy())
    hello = chart(at, "trunc_hello")
    assert [tr["name"] for tr in hello["data"] if tr["showlegend"]] == ["k = 1", "full BPTT"]
    assert "k = 1: 0.0" in all_text(at) and "full BPTT: 0.0" in all_text(at)
    assert not at.button(key="trunc_run").disabled


def test_recall_findings_on_the_page_are_computed_from_its_runs(app_test):
    """Issue 12 item 6: every finding shown is the view model's sentence for this very result."""
    board = learning_board()
    job = board.submit(QUICK)
    deadline = time.monotonic() + 90
    while job.in_flight and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.state == "done", job.error
    at = open_page(app_test)
    at.button(key="trunc_run").click().run()
    bars = at.get("progress")
    assert bars and bars[0].proto.text.startswith("Done"), "a finished result shows at once"
    assert board.get(QUICK) is job
    shown = all_text(at)
    view = recall_view(job.result.recall)
    for finding in view.findings:
        assert finding in shown, finding
    assert "only a window that reaches all N + 1 copies" not in shown
    medians = table(at, "medians")
    for k in QUICK.grid.truncations:
        m = job.result.recall.median("window", 10, k)
        label = "full" if k is None else str(k)
        assert medians.loc[f"k = {label}", "window, N = 10"] == pytest.approx(m, rel=1e-12)


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
    monkeypatch.setitem(experiments.EXPERIMENTS, "more", tiny)
    at = open_page(app_test)
    at.radio(key="trunc_experiment").set_value("more").run()
    at.button(key="trunc_run").click().run()
    wait_for_result(at)
    fig = chart(at, "trunc_recall")
    assert fig["layout"]["xaxis2"]["title"]["text"] == "chunk length k"
    medians = table(at, "medians")
    assert list(medians.columns) == ["window, N = 2", "chunked, N = 2"]
    result = learning_board().get(tiny).result
    assert medians.loc["k = 2", "chunked, N = 2"] == pytest.approx(
        result.recall.median("chunked", 2, 2)
    )
    assert medians.loc["k = 2", "chunked, N = 2"] == pytest.approx(
        train_recall(2, 2, mode="chunked", seed=0, updates=20).settled_recall_loss
    )
    assert "**chunked TBPTT, N = 2:**" in all_text(at)


def test_job_board_is_bounded():
    board = experiments.JobBoard(max_results=2, max_waiting=1)
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
