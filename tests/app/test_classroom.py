"""AppTest of the classroom helpers (issue 14): presets, weights set by hand, presentation mode
and figures for slides.

What the step page shows is read from the player's payload (as in test_step_page.py) and compared
with an independent engine run on the same weights; the weights are written out here by hand,
in the engine's shapes, not taken from the app.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bptt_app import hand_weights as hw
from bptt_app.presets import PRESETS, PRESETS_BY_KEY
from bptt_app.settings import INIT_CHOICES, Settings
from bptt_app.state import SETTINGS_KEY
from bptt_app.widget_map import settings_from_widgets, widget_values
from bptt_core import PARAM_NAMES, Corpus, backward, forward
from bptt_core.model import Params, RNNConfig, init_params
from bptt_viz.player.encode import decode_float32_b64
from tests.app.test_step_page import last_running_sums, panel
from tests.conftest import assert_no_exception
from tests.figdata import array

HAND = next(label for label, v in INIT_CHOICES.items() if v == "hand")
PAGE_TITLES = {
    "pages/step.py": "Step through BPTT",
    "pages/truncation.py": "Truncation & vanishing gradients",
    "pages/train.py": "Train live",
}
# W_xh, W_hh, W_hy, b_h, b_y of the preset "By hand", written out in the engine's shapes
BY_HAND = Params(
    W_xh=np.array([[0.5, -0.5], [0.2, 0.4]]),
    W_hh=np.array([[0.3, -0.2], [0.1, 0.5]]),
    W_hy=np.array([[1.0, -0.5], [-1.0, 0.5]]),
    b_h=np.array([0.0, 0.1]),
    b_y=np.array([0.0, 0.0]),
)


def step_player(at) -> dict:
    """The step player's data (the page's one player, found by its key)."""
    found = [e for e in at.get("bidi_component") if getattr(e, "key", None) == "step_player"]
    assert len(found) == 1, f"expected the step player, found {len(found)}"
    data = json.loads(found[0].proto.json)
    data["pass"] = json.loads(data["pass"])
    return data


def hand_query(weights: str | None = None, **more: str) -> dict[str, str]:
    query = {"text": "aba", "hidden": "2", "init": HAND, "opt": "SGD", "clip": "none", **more}
    if weights is not None:
        query["w"] = weights
    return query


def engine_on(params: Params, text: str = "aba"):
    """Forward and backward pass of tanh / softmax + cross-entropy on ``params``."""
    corpus = Corpus(text)
    config = RNNConfig(corpus.V, 2, corpus.V)
    fwd = forward(params, config, corpus.inputs, corpus.targets)
    return fwd, backward(params, config, fwd)


def assert_player_is_engine(data: dict, params: Params, what: str) -> None:
    """Every loss, every hidden delta and the gradient the running sums reach."""
    fwd, bwd = engine_on(params)
    status = panel(data, "status")["slots"]["status"]["table"]
    for t, loss in enumerate(fwd.losses):
        assert f"= {loss:.4f}" in status[t], f"{what}: L({t + 1}) = {loss:.4f} not shown"
    heat = panel(data, "delta_h")["values"]
    shown = decode_float32_b64(heat["data"], (-1, heat["count"]))[0].reshape(bwd.delta_h.shape)
    np.testing.assert_allclose(shown, bwd.delta_h, rtol=1e-6, atol=1e-9, err_msg=what)
    sums = last_running_sums(data, bwd.grads)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(
            sums[name], getattr(bwd.grads, name), rtol=1e-6, atol=1e-9, err_msg=f"{what}: {name}"
        )


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize("preset", PRESETS, ids=[p.key for p in PRESETS])
def test_a_preset_sets_every_widget_and_opens_its_page(app_test, preset):
    at = app_test()
    at.sidebar.selectbox(key="notation").set_value("Guo / Mikolov (V, U, W)").run()
    at.sidebar.button(key=f"preset_{preset.key}").click().run()
    assert_no_exception(at)
    assert at.title[0].value == PAGE_TITLES[preset.page]
    expected = widget_values(preset.settings)
    for key, value in expected.items():
        if key != "notation":
            assert at.session_state[key] == value, f"{preset.key}: widget {key}"
    assert at.session_state["notation"] == "Guo / Mikolov (V, U, W)", "the notation is kept"
    shown = at.session_state[SETTINGS_KEY]
    assert shown == Settings(**{**preset.settings.__dict__, "notation": "guo"})
    assert at.session_state["rho"] == preset.rho
    query = dict(at.query_params)
    for key, value in expected.items():
        if value != widget_values(Settings())[key] and key != "notation":
            assert query.get(key) == str(value).removesuffix(".0"), f"{preset.key}: ?{key}="
    assert ("w" in query) == (preset.key == "hand")


@pytest.mark.parametrize("preset", PRESETS, ids=[p.key for p in PRESETS])
def test_the_preset_note_says_what_to_look_for_until_a_setting_changes(app_test, preset):
    at = app_test()
    at.sidebar.button(key=f"preset_{preset.key}").click().run()
    assert preset.note in [i.value for i in at.info]
    at.sidebar.number_input(key="seed").set_value(7).run()
    assert_no_exception(at)
    assert preset.note not in [i.value for i in at.info], "the settings are no longer the preset's"
    assert at.session_state[SETTINGS_KEY].seed == 7, "every setting can be changed afterwards"


def test_widget_values_are_the_inverse_of_the_sidebar():
    for preset in PRESETS:
        s = preset.settings
        assert settings_from_widgets(widget_values(s), s.weights) == s, preset.key


def test_the_presets_train_as_their_notes_say():
    """The claims of the notes, checked on the engine with the presets' own settings."""
    from bptt_core import Trainer

    truncation = PRESETS_BY_KEY["truncation"].settings
    cut = Trainer(truncation.text, **truncation.training().__dict__)
    cut.train(300)
    full = Trainer(truncation.text, **{**truncation.training().__dict__, "truncation": None})
    full.train(100)
    T = len(truncation.text) - 1
    assert cut.predict().loss / T > 0.2, "k = 3 leaves the recall unlearned"
    assert full.predict().loss / T < 0.05, "full BPTT learns it within 100 updates"


# --------------------------------------------------------------------------- weights by hand


def test_the_step_page_shows_the_engine_on_the_weights_set_by_hand(app_test):
    at = app_test()
    at.sidebar.button(key="preset_hand").click().run()
    assert_player_is_engine(step_player(at), BY_HAND, "the preset's weights")
    tables = at.data_editor
    assert len(tables) == 2, "the hidden and the output table"
    assert tables[0].value.to_numpy().tolist() == [
        ["0.5", "-0.5", "0.3", "-0.2", "0"],
        ["0.2", "0.4", "0.1", "0.5", "0.1"],
    ]


def test_edited_weights_in_the_link_are_the_network_everywhere(app_test):
    edited = BY_HAND.map(np.copy)
    edited.W_hh[0, 1] = -1.25
    edited.b_y[1] = 0.75
    link = hw.encode(tuple(float(v) for v in edited.flat()))
    at = app_test(query=hand_query(link))
    assert_no_exception(at)
    assert_player_is_engine(step_player(at), edited, "the link's weights")
    assert at.query_params["w"] == link
    at.switch_page("pages/train.py")
    at.run()
    assert_no_exception(at)
    trainer = at.session_state["train_session"].trainer
    np.testing.assert_array_equal(trainer.params.flat(), edited.flat())


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("abc", "“abc” is not a number"),
        ("nan", "“nan” is not a finite number"),
        ("1e300", "1e300 is outside −10 to 10"),
        ("", "is empty"),
    ],
    ids=["text", "nan", "1e300", "empty"],
)
def test_bad_weights_in_the_link_get_a_message_and_the_preset_weights(app_test, cell, words):
    parts = hw.encode(hw.DEFAULT_WEIGHTS).split("_")
    parts[5] = cell
    at = app_test(query=hand_query("_".join(parts)))
    assert_no_exception(at)
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert f"Weight number 6 in the link {words}." in warnings, warnings
    assert_player_is_engine(step_player(at), BY_HAND, f"after a bad link ({cell!r})")


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("abc", "h1, column W·h2: “abc” is not a number"),
        ("NaN", "h1, column W·h2: “NaN” is not a finite number"),
        ("1e300", "h1, column W·h2: 1e300 is outside −10 to 10"),
        ("", "h1, column W·h2: is empty"),
        (None, "h1, column W·h2: is empty"),
    ],
    ids=["text", "nan", "1e300", "empty", "cleared"],
)
def test_a_bad_cell_is_refused_and_the_last_valid_weights_stay(typed, words):
    hidden, _ = hw.weight_tables(Settings().notation_obj, ("a", "b"))
    before = hw.DEFAULT_WEIGHTS
    after, problems = hw.apply_edits(before, hidden, {0: {"U·a": "0.9", "W·h2": typed}})
    assert after == before, "nothing is changed when any cell is bad"
    assert problems == [words]


def test_a_valid_cell_changes_its_weight_only():
    hidden, output = hw.weight_tables(Settings().notation_obj, ("a", "b"))
    after, problems = hw.apply_edits(hw.DEFAULT_WEIGHTS, hidden, {1: {"W·h1": " −0.25 "}})
    assert not problems
    expected = BY_HAND.map(np.copy)
    expected.W_hh[1, 0] = -0.25
    assert after == tuple(expected.flat())
    after, _ = hw.apply_edits(after, output, {1: {"c": "1,5"}})
    assert after[15] == 1.5, "b_y of the second character (a decimal comma is read too)"


def test_rounding_and_the_link_parameter():
    weights = (0.25, -0.25, 0.15, 0.125, *hw.DEFAULT_WEIGHTS[4:])
    assert hw.rounded(weights, 1)[:4] == (0.3, -0.3, 0.2, 0.1), "halves away from zero"
    assert hw.rounded(weights, 2)[:4] == (0.25, -0.25, 0.15, 0.13)
    assert hw.decode(hw.encode(weights)) == (weights, "")
    assert (
        hw.encode(hw.DEFAULT_WEIGHTS) == "0.5_-0.5_0.2_0.4_0.3_-0.2_0.1_0.5_1_-0.5_-1_0.5_0_0.1_0_0"
    )
    assert hw.decode("1_2")[1].startswith("The link's weights w have 2 numbers")


def test_hand_weights_that_do_not_fit_fall_back_to_the_seed_with_a_warning(app_test):
    at = app_test(query={"init": HAND})  # "hello", H = 8
    assert_no_exception(at)
    assert any("Weights set by hand are for H = 2" in w.value for w in at.warning)
    s = at.session_state[SETTINGS_KEY]
    assert s.training().initial_weights is None
    assert not at.data_editor, "no table for a network the weights do not fit"
    data = step_player(at)
    corpus = Corpus("hello")
    config = RNNConfig(corpus.V, 8, corpus.V)
    params = init_params(config, 0)
    fwd = forward(params, config, corpus.inputs, corpus.targets)
    assert f"= {fwd.losses[0]:.4f}" in panel(data, "status")["slots"]["status"]["table"][0]


def test_hand_weights_reach_every_page_identically():
    from bptt_app.analysis import build_page_network
    from bptt_app.derivation import network_context
    from bptt_app.train_session import TrainSession

    s = PRESETS_BY_KEY["hand"].settings
    architecture = s.training().architecture()
    routes = {
        "train / step": TrainSession(s).trainer.params,
        "truncation": build_page_network(s.text, architecture, 1.0).initial,
        "derivation": network_context(s.text, architecture, s.k, s.learning_rate).params,
    }
    for route, params in routes.items():
        np.testing.assert_array_equal(params.flat(), BY_HAND.flat(), err_msg=route)


# --------------------------------------------------------------------------- presentation mode


def expander_labels(at) -> list[str]:
    return [e.label for e in at.expander]


@pytest.mark.parametrize(
    ("page", "folded"),
    [
        ("pages/step.py", "Backpropagation through time, a step at a time"),
        ("pages/truncation.py", "The backward pass sends the error"),
        ("pages/train.py", "Here the network **learns**"),
        ("pages/derivation.py", "The note behind the sidebar's notation"),
    ],
)
def test_presentation_mode_folds_the_explanations(app_test, page, folded):
    plain = app_test(page)
    assert "What this page shows" not in expander_labels(plain)
    at = app_test(page, query={"present": "1"})
    assert_no_exception(at)
    assert at.sidebar.toggle(key="present").value is True
    assert "What this page shows" in expander_labels(at)
    box = next(e for e in at.expander if e.label == "What this page shows")
    assert any(m.value.startswith(folded) for m in box.markdown), f"{page}: intro not folded"
    assert at.query_params["present"] == "1"


def test_presentation_mode_is_a_toggle_and_leaves_the_link_when_off(app_test):
    at = app_test()
    at.sidebar.toggle(key="present").set_value(True).run()
    assert at.query_params["present"] == "1"
    assert "What this page shows" in expander_labels(at)
    at.sidebar.toggle(key="present").set_value(False).run()
    assert_no_exception(at)
    assert "present" not in at.query_params
    assert "What this page shows" not in expander_labels(at)


# --------------------------------------------------------------------------- figures for slides


def charts(at) -> dict[str, tuple[dict, dict]]:
    """Every Plotly chart: key → (figure JSON, config)."""
    return {
        c.proto.id.rsplit("-", 1)[-1]: (json.loads(c.proto.spec), json.loads(c.proto.config))
        for c in at.get("plotly_chart")
    }


@pytest.mark.parametrize(
    ("page", "keys"),
    [
        (
            "pages/truncation.py",
            ("trunc_flow_map", "trunc_comparison", "trunc_jacobian", "trunc_clipping"),
        ),
        ("pages/train.py", ("train_pred_chart", "train_weights_chart")),
    ],
)
def test_every_figure_has_its_title_settings_and_a_slide_export(app_test, page, keys):
    at = app_test(page)
    found = charts(at)
    assert set(keys) <= set(found), f"{page}: {sorted(found)}"
    for key in keys:
        figure, config = found[key]
        layout = figure["layout"]
        assert layout["title"]["text"], f"{key}: no title"
        lines = [a["text"] for a in layout["annotations"] if a.get("name") == "settings"]
        assert lines and "“hello” · H = 8 · tanh" in lines[0], f"{key}: {lines}"
        assert lines[0].endswith("BPTT Explainer")
        options = config["toImageButtonOptions"]
        assert options["format"] == "png" and config["modeBarButtons"] == [["toImage"]]
        assert round(options["width"] * options["scale"]) == 1920, f"{key}: PNG not 1920 wide"
        assert options["filename"].startswith("bptt-") and "hello" in options["filename"]
    at.sidebar.segmented_control(key="fig_format").set_value("svg").run()
    assert all(c["toImageButtonOptions"]["format"] == "svg" for _, c in charts(at).values())


def test_the_training_curves_are_figures_for_slides_while_paused(app_test):
    at = app_test("pages/train.py")
    at.button(key="train_ten").click().run()
    assert "train_loss_figure" not in charts(at), "drawn only while opened"
    at.session_state["train_slides_open"] = True
    at.run()
    assert_no_exception(at)
    found = charts(at)
    loss_figure, config = found["train_loss_figure"]
    assert loss_figure["layout"]["title"]["text"] == "The loss while training"
    assert config["toImageButtonOptions"]["format"] == "png"
    raw = next(t for t in loss_figure["data"] if t.get("name") == "L per update")
    history = at.session_state["train_session"].trainer.history
    np.testing.assert_allclose(array(raw["y"])[1:], history["loss"].to_numpy(), rtol=1e-12)
    grad_figure, _ = found["train_grad_figure"]
    assert grad_figure["layout"]["title"]["text"] == "The gradient norm while training"


def test_rounding_and_random_weights_from_the_buttons(app_test):
    precise = BY_HAND.map(np.copy)
    precise.W_xh[0, 0] = 0.456
    precise.b_h[0] = -0.25
    at = app_test(query=hand_query(hw.encode(tuple(float(v) for v in precise.flat()))))
    at.button(key="hand_round_1").click().run()
    assert_no_exception(at)
    rounded = precise.map(np.copy)
    rounded.W_xh[0, 0], rounded.b_h[0] = 0.5, -0.3
    assert at.query_params["w"] == hw.encode(tuple(float(v) for v in rounded.flat()))
    assert_player_is_engine(step_player(at), rounded, "rounded to one decimal")
    assert "Rounded every weight to 1 decimal." in [s.value for s in at.success]
    at.button(key="hand_random").click().run()
    xavier = init_params(RNNConfig(2, 2, 2), 0).map(lambda a: np.round(a, 2))
    assert_player_is_engine(step_player(at), xavier, "the seed's random weights")
