"""AppTest of the "Step through BPTT" page and of the shared sidebar it is opened with.

The page hands one pass to the browser player (a components.v2 element whose data is the pass's
JSON); stepping happens in the browser (tests/browser/test_step_browser.py). Here: what the
server sends for every setting equals an independent engine run, and bad input never breaks it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bptt_app.settings import STEP_MAX_T, Settings
from bptt_core import PARAM_NAMES, Corpus, backward, forward
from bptt_viz.player.encode import decode_float32_b64
from tests.conftest import assert_no_exception

PAGE = "pages/step.py"


def player(at) -> dict:
    """The data the page gives the player: {"pass": payload, "start": 0-based step}."""
    elements = at.get("bidi_component")
    assert len(elements) == 1, f"expected one player, found {len(elements)}"
    data = json.loads(elements[0].proto.json)
    data["pass"] = json.loads(data["pass"])
    return data


def panel(data: dict, pid: str) -> dict:
    return next(p for p in data["pass"]["panels"] if p["id"] == pid)


def engine(settings: Settings, text: str | None = None):
    """An independent engine run for ``settings`` (initial weights, h(0) = 0)."""
    corpus = Corpus(text or settings.text)
    training = settings.training()
    config = training.network(corpus.V)
    params = training.initial_params(config)
    fwd = forward(params, config, corpus.inputs, corpus.targets)
    return fwd, backward(params, config, fwd, training.truncation)


def last_running_sums(data: dict, grads) -> dict[str, np.ndarray]:
    """The running sums after the last backward step (the step before the update)."""
    sums = panel(data, "sums")["values"]
    table = decode_float32_b64(sums["data"], (-1, sums["count"]))
    vector = table[sums["index"][data["pass"]["n"] - 2]]
    out, i = {}, 0
    for name in PARAM_NAMES:
        shape = getattr(grads, name).shape
        size = int(np.prod(shape))
        out[name] = vector[i : i + size].reshape(shape)
        i += 2 * size
    return out


def all_text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(parts + [e.value for e in (*at.info, *at.error, *at.warning)])


def test_default_page_sends_the_pass_of_hello(app_test):
    at = app_test()
    assert_no_exception(at)
    assert at.title[0].value == "Step through BPTT"
    data = player(at)
    assert data["start"] == 0
    assert data["pass"]["n"] == 9, "forward 4, backward 4, the update"
    assert data["pass"]["labels"][5] == "Step 6 of 9 · backward pass · t = 3"
    ids = [p["id"] for p in data["pass"]["panels"]]
    for pid in ("status", "network", "units", "equations", "delta_o", "delta_h", "sums", "ledger"):
        assert pid in ids, f"panel {pid} missing: {ids}"


@pytest.mark.parametrize("k", ["0", "1", "2"])
def test_the_sums_at_the_last_step_are_the_engines_gradient(app_test, k):
    at = app_test(query={"k": k})
    _, bwd = engine(Settings(truncation=int(k)))
    sums = last_running_sums(player(at), bwd.grads)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(
            sums[name], getattr(bwd.grads, name), rtol=1e-6, atol=1e-9, err_msg=f"k={k} {name}"
        )


def test_a_shared_link_opens_at_its_step(app_test):
    at = app_test(query={"step": "6"})
    assert_no_exception(at)
    assert player(at)["start"] == 5
    assert not at.warning


@pytest.mark.parametrize("raw", ["99", "0", "abc", "-1", "2.5"])
def test_an_invalid_step_gets_a_notice_and_step_1(app_test, raw):
    at = app_test(query={"step": raw})
    assert_no_exception(at)
    assert player(at)["start"] == 0
    warnings = " ".join(w.value for w in at.warning)
    assert "showing step 1" in warnings, f"?step={raw}: {warnings!r}"


def test_changing_a_setting_sends_a_new_pass(app_test):
    at = app_test()
    first = player(at)["pass"]["pass_id"]
    at.sidebar.slider(key="hidden").set_value(5).run()
    assert_no_exception(at)
    data = player(at)
    assert data["pass"]["pass_id"] != first
    fwd, _ = engine(Settings(hidden_size=5))
    assert f"= {fwd.losses[0]:.4f}" in panel(data, "status")["slots"]["status"]["table"][0]


@pytest.mark.parametrize(
    ("notation", "must_contain"),
    [
        ("Guo / Mikolov (V, U, W)", "δ<sub>k</sub>"),
        ("min-char-rnn (Wxh, Whh, Why)", "dy["),
        ('"hello" notes / Ng (W_ax, W_aa, W_ya)', "net<sub>y</sub>"),
    ],
)
def test_notation_switch_changes_labels(app_test, notation, must_contain):
    at = app_test()
    at.sidebar.selectbox(key="notation").set_value(notation).run()
    assert_no_exception(at)
    assert must_contain in json.dumps(player(at)["pass"], ensure_ascii=False)


def test_url_parameters_set_up_the_page(app_test):
    at = app_test(query={"text": "abcab", "hidden": "3", "k": "2", "act": "sigmoid"})
    assert_no_exception(at)
    assert at.sidebar.text_area(key="text").value == "abcab"
    _, bwd = engine(Settings(text="abcab", hidden_size=3, truncation=2, activation="sigmoid"))
    heat = panel(player(at), "delta_h")["values"]
    shown = decode_float32_b64(heat["data"], (-1, heat["count"]))[0].reshape(bwd.delta_h.shape)
    np.testing.assert_allclose(shown, bwd.delta_h, rtol=1e-6, atol=1e-9)


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
        {"seed": "x"},
        {"notation": "<script>alert(1)</script>"},
        {"radius": "inf"},
        {"out": ""},
        {"step": "<script>"},
    ],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()),
)
def test_bad_url_values_never_crash(app_test, query):
    at = app_test(query=query)
    assert_no_exception(at)
    assert at.title[0].value == "Step through BPTT"
    assert player(at)["pass"]["n"] >= 2, "the page did not draw with a bad URL value"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("x", "single character"), ("a" * 5001, "limit is 5,000")],
    ids=["empty", "one-char", "too-long"],
)
def test_bad_text_gets_a_message_and_the_session_carries_on(app_test, text, message):
    at = app_test()
    at.sidebar.slider(key="hidden").set_value(5).run()
    at.sidebar.text_area(key="text").input(text).run()
    assert_no_exception(at)
    errors = " ".join(e.value for e in at.error)
    assert message in errors, f"expected {message!r} in {errors!r}"
    assert not at.get("bidi_component"), "no player for a bad text"
    assert at.sidebar.slider(key="hidden").value == 5
    at.sidebar.text_area(key="text").input("hello").run()
    assert_no_exception(at)
    assert player(at)["pass"]["n"] == 9


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
    _, bwd = engine(Settings(text=text))
    heat = panel(player(at), "delta_o")["values"]
    shown = decode_float32_b64(heat["data"], (-1, heat["count"]))[0].reshape(bwd.delta_o.shape)
    np.testing.assert_allclose(shown, bwd.delta_o, rtol=1e-6, atol=1e-9)


def test_a_long_text_is_stepped_chunk_by_chunk_as_it_is_trained(app_test):
    at = app_test()
    at.sidebar.text_area(key="text").input("abcdefghij" * 200).run()  # 2,000 characters
    assert_no_exception(at)
    assert any("chunks of 25 steps" in i.value for i in at.info)
    data = player(at)["pass"]
    assert data["n"] == 2 * 25 + 1 and "characters 1–26 of 2,000" in data["heading"]


def test_a_chunk_longer_than_the_page_unfolds_is_refused_with_a_message(app_test):
    at = app_test(query={"seq": "60"})
    at.sidebar.text_area(key="text").input("abcdefghij" * 20).run()
    assert_no_exception(at)
    assert any(f"at most {STEP_MAX_T}" in e.value for e in at.error)
    assert not at.get("bidi_component")


def test_truncation_larger_than_the_text_is_full_bptt(app_test):
    at = app_test(query={"k": "50"})
    assert any("this is full BPTT" in i.value for i in at.info)
    _, bwd = engine(Settings())
    sums = last_running_sums(player(at), bwd.grads)
    np.testing.assert_allclose(sums["W_hh"], bwd.grads.W_hh, rtol=1e-6, atol=1e-9)


def test_truncation_one_carries_nothing_back(app_test):
    at = app_test(query={"k": "1"})
    eqs = panel(player(at), "equations")["slots"]["eqs"]
    backward_t2 = eqs["table"][eqs["index"][6]]
    assert "no error crosses a recurrent edge" in backward_t2


def test_unit_view_only_for_small_nets(app_test):
    at = app_test(query={"hidden": "20"})
    assert_no_exception(at)
    ids = [p["id"] for p in player(at)["pass"]["panels"]]
    assert "units" not in ids and "network" in ids


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


def test_the_notes_expander_names_the_note_properly(app_test):
    """Issue 12.10: it read “Reading levels's notes”."""
    at = app_test(query={"notation": "levels (W^r, V, W^{r+1})"})
    assert_no_exception(at)
    label = at.expander[0].label
    assert label == "What to watch for when reading the layered derivation (seed 000)", label
    assert "'s notes" not in label
