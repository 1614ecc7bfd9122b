"""AppTest of the "Step through BPTT" page and of the shared sidebar it is opened with.

Everything the page shows is compared with an independent engine run: the same ModelSpec
(through ``bptt_app.compute.unfolded_pass``, uncached) gives the traces the page must display.
"""

from __future__ import annotations

import numpy as np
import pytest

from bptt_app.compute import ModelSpec, unfolded_pass
from bptt_app.settings import STEP_MAX_T, Settings
from bptt_core.model import PARAM_NAMES
from tests.conftest import assert_no_exception
from tests.figdata import array, chart

PAGE = "pages/step.py"


def step(at) -> int:
    return int(at.slider(key="step").value)


def expected(settings: Settings, text: str | None = None):
    return unfolded_pass(ModelSpec.from_settings(settings, text), settings.k)


def all_text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [e.value for e in at.info] + [e.value for e in at.error] + [e.value for e in at.warning]
    )
    return "\n".join(parts)


def test_default_page_opens_on_the_first_forward_step(app_test):
    at = app_test()
    assert_no_exception(at)
    assert at.title[0].value == "Step through BPTT"
    assert step(at) == 0
    assert "Forward pass, step 1 of 8: t = 1" in all_text(at)
    keys = {el.proto.id.rsplit("-", 1)[-1] for el in at.get("plotly_chart")}
    for key in ("step_network", "step_units", "step_delta_o", "step_delta_h", "step_updates"):
        assert any(k.endswith(key) for k in keys), f"chart {key} missing; have {keys}"


def test_next_back_first_last_walk_forward_then_backward(app_test):
    at = app_test()
    T = 4  # "hello"
    for i in range(1, 2 * T):
        at.button(key="step_next").click().run()
        assert_no_exception(at)
        assert step(at) == i, f"after {i} clicks on Next the step is {step(at)}"
    text = all_text(at)
    assert "Backward pass, step 8 of 8: t = 1" in text, text[:500]
    at.button(key="step_next").click().run()  # already at the last step: stays there
    assert step(at) == 2 * T - 1
    at.button(key="step_back").click().run()
    assert step(at) == 2 * T - 2
    assert "Backward pass, step 7 of 8: t = 2" in all_text(at)
    at.button(key="step_first").click().run()
    assert step(at) == 0
    at.button(key="step_back").click().run()  # already at the first step
    assert step(at) == 0
    at.button(key="step_last").click().run()
    assert step(at) == 2 * T - 1


def test_forward_step_shows_the_engine_loss_and_hidden_state(app_test):
    at = app_test()
    ref = expected(Settings())
    for t in (1, 2, 3):
        if t > 1:
            at.button(key="step_next").click().run()
        text = all_text(at)
        assert f"= {ref.fwd.losses[t - 1]:.4f}" in text, f"loss L({t}) not shown"
        fig = chart(at, "step_network")
        nodes = next(tr for tr in fig["data"] if tr.get("mode") == "markers")
        hover = "\n".join(nodes["hovertext"])
        assert f"{ref.fwd.h[t - 1, 0]:.3f}" in hover, f"h({t}) not in the graph's hover text"
        # the hidden state of later copies is not computed yet
        assert f"h<sup>({t + 1})</sup>: not computed yet" in hover


def test_running_sums_reach_the_engine_gradient_at_the_last_step(app_test):
    at = app_test()
    ref = expected(Settings())
    at.button(key="step_last").click().run()
    fig = chart(at, "step_updates")
    heatmaps = [tr for tr in fig["data"] if tr["type"] == "heatmap"]
    assert len(heatmaps) == 2 * len(PARAM_NAMES)
    for i, name in enumerate(PARAM_NAMES):
        running = array(heatmaps[2 * i]["z"])
        want = np.atleast_2d(getattr(ref.bwd.grads, name))
        np.testing.assert_allclose(
            running, want, rtol=1e-12, atol=1e-14, err_msg=f"running sum of {name} at t=1"
        )
        contrib = array(heatmaps[2 * i + 1]["z"])
        np.testing.assert_allclose(
            contrib,
            np.atleast_2d(getattr(ref.bwd.per_step, name)[0]),
            rtol=1e-12,
            atol=1e-14,
            err_msg=f"contribution of copy 1 to {name}",
        )


def test_backward_step_running_sum_is_the_sum_of_visited_copies(app_test):
    at = app_test()
    ref = expected(Settings())
    T = ref.fwd.T
    at.button(key="step_last").click().run()
    at.button(key="step_back").click().run()  # backward step t = 2: copies 4, 3, 2 visited
    fig = chart(at, "step_updates")
    running = array(fig["data"][2]["z"])  # W_hh running sum
    want = ref.bwd.per_step.W_hh[1:].sum(axis=0)
    np.testing.assert_allclose(running, want, rtol=1e-12, atol=1e-14)
    delta_h = array(chart(at, "step_delta_h")["data"][0]["z"]).T  # (T, H)
    assert np.isnan(delta_h[0]).all(), "delta_h(1) must not be known yet at backward step t=2"
    np.testing.assert_allclose(delta_h[1:], ref.bwd.delta_h[1:], rtol=1e-12)
    assert T == 4


def test_play_streams_steps_and_pause_stops(app_test):
    at = app_test(query={"text": "the quick brown fox"})  # T = 18: 36 steps
    at.button(key="step_play").click().run()  # one fragment run streams three seconds of steps
    assert_no_exception(at)
    assert at.session_state["step_playing"] is True
    advanced = at.session_state["step_index"]
    assert 8 <= advanced <= 16, f"three seconds of play at 5 steps/s moved to step {advanced}"
    # the streamed frames are real steps: the last status line and SVG graph match the index
    statuses = [m.value for m in at.markdown if "pass, step" in m.value]
    t = advanced + 1 if advanced < 18 else 36 - advanced
    assert f"step {advanced + 1} of 36: t = {t}." in statuses[-1], (advanced, statuses)
    frames = at.get("image")
    assert len(frames) == 3, f"expected the graph and two heatmaps as SVG frames, got {len(frames)}"
    assert any("Equations" in i.value or "Pause" in i.value for i in at.info)
    at.button(key="step_play").click().run()
    assert at.session_state["step_playing"] is False
    paused_at = at.session_state["step_index"]
    at.run()
    assert at.session_state["step_index"] == paused_at, "paused stepper still moved"
    assert step(at) == paused_at, "the slider does not show the paused step"


def test_play_stops_at_the_last_step_and_restarts_from_the_first(app_test):
    at = app_test()  # "hello": 8 steps, fewer than three seconds of play
    at.button(key="step_last").click().run()
    at.session_state["step_playing"] = True
    at.run()
    assert at.session_state["step_playing"] is False, "play must stop at the last step"
    assert step(at) == 7
    # Play at the end walks again from the start (a longer text: 36 steps, more than 3 s of play)
    at.sidebar.text_area(key="text").input("the quick brown fox").run()
    at.button(key="step_last").click().run()
    at.button(key="step_play").click().run()
    assert at.session_state["step_playing"] is True
    assert 1 <= at.session_state["step_index"] <= 20, at.session_state["step_index"]


def test_slider_jumps_to_a_step(app_test):
    at = app_test()
    at.slider(key="step").set_value(5).run()
    assert_no_exception(at)
    assert at.session_state["step_index"] == 5
    assert "Backward pass, step 6 of 8: t = 3" in all_text(at)
    at.button(key="step_next").click().run()
    assert step(at) == 6


@pytest.mark.parametrize(
    ("notation", "must_contain"),
    [
        ("Guo / Mikolov (V, U, W)", r"\mathrm{net}_j"),
        ('"hello" notes / Ng (W_ax, W_aa, W_ya)', "W_{ax}"),
        ("min-char-rnn (Wxh, Whh, Why)", r"\mathtt{Wxh}"),
        ("levels (W^r, V, W^{r+1})", "X^{r-1}"),
        ("Goodfellow et al. (U, W, V)", r"\hat{y}"),
    ],
)
def test_notation_switch_changes_equations_and_labels(app_test, notation, must_contain):
    at = app_test()
    at.sidebar.selectbox(key="notation").set_value(notation).run()
    assert_no_exception(at)
    latex = "\n".join(el.value for el in at.latex)
    assert must_contain in latex, f"{notation}: {must_contain!r} not in equations"
    at.button(key="step_last").click().run()
    latex = "\n".join(el.value for el in at.latex)
    assert latex.count(r"\Delta_{t=1}") >= 3, f"{notation}: contributions missing"


def test_guo_notation_labels_the_delta_as_minus_delta(app_test):
    at = app_test(query={"notation": "Guo / Mikolov (V, U, W)"})
    fig = chart(at, "step_delta_h")
    assert "−δ<sub>j</sub>" in fig["layout"]["title"]["text"]


def test_url_parameters_set_up_the_page(app_test):
    at = app_test(query={"text": "abcab", "hidden": "3", "k": "2", "act": "sigmoid"})
    assert_no_exception(at)
    assert at.sidebar.text_area(key="text").value == "abcab"
    assert at.sidebar.slider(key="hidden").value == 3
    at.button(key="step_last").click().run()
    assert "Backward pass, step 8 of 8" in all_text(at)
    ref = expected(Settings(text="abcab", hidden_size=3, truncation=2, activation="sigmoid"))
    delta_h = array(chart(at, "step_delta_h")["data"][0]["z"]).T
    np.testing.assert_allclose(delta_h, ref.bwd.delta_h, rtol=1e-12)


@pytest.mark.parametrize(
    "query",
    [
        {"hidden": "abc"},
        {"hidden": "-4"},
        {"hidden": "100000"},
        {"k": "-3"},
        {"k": "1e99"},
        {"act": "bogus"},
        {"lr": "nan"},
        {"lr": "-1"},
        {"seed": "x"},
        {"notation": "<script>alert(1)</script>"},
        {"radius": "inf"},
        {"out": ""},
    ],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()),
)
def test_bad_url_values_never_crash(app_test, query):
    at = app_test(query=query)
    assert_no_exception(at)
    assert at.title[0].value == "Step through BPTT"
    assert len(at.get("plotly_chart")) >= 4, "the page did not draw with a bad URL value"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("x", "single character"),
        ("a" * 5001, "limit is 5,000"),
    ],
    ids=["empty", "one-char", "too-long"],
)
def test_bad_text_gets_a_message_and_the_session_carries_on(app_test, text, message):
    at = app_test()
    at.sidebar.slider(key="hidden").set_value(5).run()
    at.sidebar.text_area(key="text").input(text).run()
    assert_no_exception(at)
    errors = " ".join(e.value for e in at.error)
    assert message in errors, f"expected {message!r} in {errors!r}"
    assert len(at.get("plotly_chart")) == 0
    # the rest of the session is intact: fixing the text brings the page back
    assert at.sidebar.slider(key="hidden").value == 5
    at.sidebar.text_area(key="text").input("hello").run()
    assert_no_exception(at)
    assert len(at.get("plotly_chart")) >= 4


@pytest.mark.parametrize(
    "text",
    [
        "🙂🙃🙂🙃",
        "naïve café",
        "مرحبا بالعالم",
        "a\u0301e\u0301",
        "line\nbreak\ttab",
        "<b>x</b>$y$",
    ],
    ids=["emoji", "accents", "rtl", "combining", "whitespace", "markup"],
)
def test_odd_unicode_text_works(app_test, text):
    at = app_test()
    at.sidebar.text_area(key="text").input(text).run()
    assert_no_exception(at)
    at.button(key="step_last").click().run()
    assert_no_exception(at)
    ref = expected(Settings(text=text))
    fig = chart(at, "step_delta_o")
    np.testing.assert_allclose(array(fig["data"][0]["z"]).T, ref.bwd.delta_o, rtol=1e-12)


def test_long_text_is_cut_for_stepping_with_a_message(app_test):
    at = app_test()
    at.sidebar.text_area(key="text").input("abcdefghij" * 200).run()  # 2,000 characters
    assert_no_exception(at)
    assert any(f"first {STEP_MAX_T + 1} characters" in i.value for i in at.info)
    at.button(key="step_last").click().run()
    assert f"step {2 * STEP_MAX_T} of {2 * STEP_MAX_T}" in all_text(at)


def test_truncation_larger_than_the_text_is_full_bptt(app_test):
    at = app_test(query={"k": "50"})
    assert any("this is full BPTT" in i.value for i in at.info)
    at.button(key="step_last").click().run()
    ref = expected(Settings())  # full BPTT
    fig = chart(at, "step_updates")
    np.testing.assert_allclose(array(fig["data"][2]["z"]), ref.bwd.grads.W_hh)


def test_truncation_one_carries_nothing_back(app_test):
    at = app_test(query={"k": "1"})
    at.button(key="step_last").click().run()
    at.button(key="step_back").click().run()  # backward t = 2
    latex = "\n".join(el.value for el in at.latex)
    assert "no error crosses a recurrent edge" in latex


def test_changing_the_text_keeps_the_step_in_range(app_test):
    at = app_test()
    at.button(key="step_last").click().run()
    assert step(at) == 7
    at.sidebar.text_area(key="text").input("hi").run()  # T = 1: two steps
    assert_no_exception(at)
    assert step(at) == 1


def test_unit_view_shows_gradients_in_the_backward_pass(app_test):
    at = app_test()
    ref = expected(Settings())
    at.button(key="step_last").click().run()
    fig = chart(at, "step_units")
    assert "this copy’s gradient" in fig["layout"]["title"]["text"]
    hover = "\n".join(fig["data"][-2]["hovertext"])  # edge midpoints
    contribution = ref.bwd.per_step.W_hh[0]  # copy t = 1
    assert f"{contribution[0, 1]:+.4f}" in hover
    at.radio(key="unit_edges_backward").set_value("weights").run()
    fig = chart(at, "step_units")
    hover = "\n".join(fig["data"][-2]["hovertext"])
    assert f"{ref.params.W_hh[0, 1]:+.4f}" in hover


def test_unit_view_is_replaced_by_a_note_for_large_nets(app_test):
    at = app_test(query={"hidden": "20"})
    assert_no_exception(at)
    assert any("unit-by-unit view is drawn for H ≤ 8" in i.value for i in at.info)


def test_settings_survive_a_page_switch(app_test):
    at = app_test()
    at.sidebar.slider(key="hidden").set_value(4).run()
    at.switch_page("pages/train.py").run()
    at.switch_page("pages/step.py").run()
    assert at.sidebar.slider(key="hidden").value == 4
    assert_no_exception(at)


def test_reset_settings_restores_defaults(app_test):
    at = app_test(query={"hidden": "3", "k": "2"})
    at.sidebar.button(key="reset_settings").click().run()
    assert at.sidebar.slider(key="hidden").value == Settings().hidden_size
    assert at.sidebar.number_input(key="k").value == 0
