"""AppTest of the "Train live" page, its session state (bptt_app.train_session) and the engine helpers
it adds (bptt_core.history, bptt_core.checkpoint).

What the page shows is compared with an independent Trainer run on the same settings: the same
seed gives the same initial weights, so the losses and weights must agree to the last digit.
"""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pandas as pd
import pytest

from bptt_app.settings import Settings
from bptt_app.train_session import (
    SESSION_KEY,
    TrainSession,
    describe_changes,
    event_label,
)
from bptt_core import PARAM_NAMES, Trainer, TrainingConfig, load_params, params_to_bytes
from bptt_core.checkpoint import checkpoint_bytes, load_checkpoint
from bptt_core.health import chance_loss, exploded
from bptt_core.history import History, LiveTrainer
from bptt_core.model import RNNConfig
from bptt_viz.messages import checkpoint_differences
from bptt_viz.series import downsample, smooth
from bptt_viz.train_view import ambiguous_input, current_loss, file_stem
from tests.conftest import assert_no_exception
from tests.figdata import array, chart

PAGE = "pages/train.py"
HUGE_LR = {"lr": "1000000", "clip": "none", "opt": "SGD"}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def updates(at) -> int:
    return int(metrics(at)["Updates"].replace(",", ""))


def loss(at) -> float:
    value = next(v for k, v in metrics(at).items() if k.startswith("Loss"))
    return float(value)


def panel(at) -> dict:
    """The data of the browser panel (counters while playing, loss and gradient curves)."""
    found = at.get("bidi_component")
    assert len(found) == 1, f"expected one live panel, found {len(found)}"
    return json.loads(found[0].proto.json)


def panel_updates(at) -> int:
    """The update the panel's newest row belongs to (what it counts up to while playing)."""
    return int(panel(at)["rows"][-1][0])


def sess(at) -> TrainSession:
    return at.session_state[SESSION_KEY]


def texts(at) -> str:
    parts = [e.value for e in at.error] + [e.value for e in at.warning] + [e.value for e in at.info]
    parts += [e.value for e in at.success] + [c.value for c in at.caption]
    parts += [md.value for md in at.markdown]
    return "\n".join(parts)


def reference(text: str = "hello", **hp: object) -> Trainer:
    return Trainer(text, **hp)


# ----------------------------------------------------------------------------- the page


def test_page_opens_untrained_with_the_engine_numbers(app_test):
    at = app_test(PAGE)
    assert_no_exception(at)
    assert at.title[0].value == "Train live"
    m = metrics(at)
    assert m["Updates"] == "0"
    ref = reference()
    assert loss(at) == pytest.approx(ref.predict().loss, abs=5e-5)
    assert float(m["Chance level"]) == pytest.approx(4 * np.log(4), abs=5e-5)
    for key in ("train_pred_chart", "train_weights_chart"):
        chart(at, key)  # present
    # the loss curve starts with the untrained network's loss at update 0
    data = panel(at)
    assert [row[0] for row in data["rows"]] == [0]
    assert data["rows"][0][1] == pytest.approx(ref.predict().loss, rel=1e-12)
    assert data["append"] is False and data["playing"] is False
    # the limit of the text length is documented on the page
    assert "5,000 characters" in texts(at)


def test_ten_updates_lower_the_loss_exactly_as_the_engine(app_test):
    at = app_test(PAGE)
    before = loss(at)
    at.button(key="train_ten").click().run()
    assert_no_exception(at)
    assert updates(at) == 10
    ref = reference()
    results = ref.train(10)
    assert loss(at) == pytest.approx(results[-1].loss, abs=5e-5)
    assert loss(at) < before / 2, f"ten updates did not lower the loss: {before} → {loss(at)}"
    rows = panel(at)["rows"]
    assert [row[0] for row in rows] == list(range(11))
    np.testing.assert_allclose(
        [row[1] for row in rows[1:]], [r.loss for r in results], rtol=1e-12, err_msg="loss"
    )
    np.testing.assert_allclose(
        [row[4] for row in rows[1:]], [r.grad_norm for r in results], rtol=1e-12, err_msg="grad"
    )
    weights = chart(at, "train_weights_chart")
    for i, name in enumerate(("W_xh", "W_hh", "W_hy")):
        np.testing.assert_allclose(
            array(weights["data"][i]["z"]), getattr(ref.params, name), rtol=1e-12, err_msg=name
        )
    # predictions are y(t) of the current weights from h(0) = 0
    pred = chart(at, "train_pred_chart")
    np.testing.assert_allclose(array(pred["data"][0]["z"]), ref.predict().y.T, rtol=1e-12)


def test_play_lowers_the_loss_and_pause_stops(app_test):
    at = app_test(PAGE)
    initial = loss(at)
    at.button(key="train_play").click().run()  # the first batch: a second's worth of updates
    assert_no_exception(at)
    assert sess(at).playing is True
    assert at.button(key="train_play").label == "Pause"
    assert not at.metric, "while playing the browser panel shows the counters"
    data = panel(at)
    assert data["playing"] is True and data["fresh"] == 20  # 20 updates/s, one second
    first = panel_updates(at)
    assert first == sess(at).trainer.updates == 20
    for _ in range(6):
        time.sleep(0.25)
        at.run()  # the next run of the page while playing
    assert panel_updates(at) > first
    ref = reference()
    ref.train(sess(at).trainer.updates)
    assert panel(at)["rows"][-1][1] == pytest.approx(ref.history["loss"].iloc[-1], rel=1e-12)
    assert panel(at)["rows"][-1][1] < 0.1 * initial, "playing did not lower the loss"
    at.button(key="train_play").click().run()
    assert sess(at).playing is False
    paused = updates(at)
    time.sleep(0.2)
    at.run()
    assert updates(at) == paused, "training went on after Pause"
    assert metrics(at)["Speed"] == "paused"


def test_the_speed_sets_the_updates_of_a_second_of_play(app_test):
    at = app_test(PAGE)
    at.selectbox(key="train_speed").set_value(100).run()
    at.button(key="train_play").click().run()
    assert sess(at).trainer.updates == 100  # the first batch is one second's worth
    at.button(key="train_play").click().run()
    assert updates(at) >= 100


def test_reset_restores_the_initial_loss(app_test):
    at = app_test(PAGE)
    initial = loss(at)
    at.button(key="train_ten").click().run()
    assert loss(at) < initial
    at.button(key="train_reset").click().run()
    assert_no_exception(at)
    assert updates(at) == 0
    assert loss(at) == initial
    at.button(key="train_one").click().run()
    assert loss(at) == initial  # the first pass after a reset sees the initial weights again


def test_changing_the_learning_rate_does_not_reset(app_test):
    at = app_test(PAGE)
    at.button(key="train_ten").click().run()
    params = sess(at).trainer.params
    at.sidebar.number_input(key="lr").set_value(0.1).run()
    assert_no_exception(at)
    assert updates(at) == 10, "a learning-rate change must not restart training"
    assert "Applied to the running training, no restart" in texts(at)
    assert "learning rate ε: 0.05 → 0.1" in texts(at)  # Goodfellow's name for η
    tr = sess(at).trainer
    assert tr.settings.learning_rate == 0.1
    assert tr.optimizer.learning_rate == 0.1
    np.testing.assert_array_equal(tr.params.W_hh, params.W_hh)
    assert sess(at).events == [(10, "ε=0.1")]
    for key, value in (("k", 2), ("seq", 3)):
        at.sidebar.number_input(key=key).set_value(value).run()
        assert updates(at) == 10, f"changing {key} restarted training"
    at.sidebar.selectbox(key="clip").set_value("none").run()
    at.sidebar.selectbox(key="opt").set_value("momentum").run()
    assert updates(at) == 10
    assert sess(at).trainer.settings == TrainingConfig(
        learning_rate=0.1, truncation=2, seq_length=3, clip="none", optimizer="momentum"
    )
    at.button(key="train_one").click().run()
    assert updates(at) == 11


@pytest.mark.parametrize(
    ("widget", "value", "says"),
    [
        ("hidden", 12, "hidden units H: 8 → 12"),
        ("act", "sigmoid", "hidden activation: tanh → sigmoid"),
        ("seed", 3, "random seed: 0 → 3"),
    ],
)
def test_changing_the_architecture_resets_with_a_notice(app_test, widget, value, says):
    at = app_test(PAGE)
    at.button(key="train_ten").click().run()
    control = {"hidden": at.sidebar.slider, "act": at.sidebar.selectbox}.get(
        widget, at.sidebar.number_input
    )
    control(key=widget).set_value(value).run()
    assert_no_exception(at)
    assert updates(at) == 0
    warnings = " ".join(w.value for w in at.warning)
    assert "Training restarted from new random weights" in warnings
    assert says in warnings
    hp = {"hidden": "hidden_size", "act": "activation", "seed": "seed"}[widget]
    ref = reference(**{hp: value})
    assert loss(at) == pytest.approx(ref.predict().loss, abs=5e-5)


def test_changing_the_text_resets_with_a_notice(app_test):
    at = app_test(PAGE)
    at.button(key="train_ten").click().run()
    at.sidebar.text_area(key="text").input("abcabd").run()
    assert_no_exception(at)
    assert updates(at) == 0
    assert "The training text changed" in " ".join(w.value for w in at.warning)
    at.button(key="train_ten").click().run()
    assert loss(at) == pytest.approx(reference("abcabd").train(10)[-1].loss, abs=5e-5)


def test_a_huge_learning_rate_is_caught_and_the_page_keeps_working(app_test):
    at = app_test(PAGE, query=HUGE_LR)
    assert_no_exception(at)
    at.button(key="train_play").click().run()
    assert_no_exception(at)
    s = sess(at)
    assert s.playing is False, "play must stop when the loss explodes"
    assert s.trouble is not None and s.trouble.kind == "exploded"
    errors = " ".join(e.value for e in at.error)
    assert "The loss exploded at update" in errors
    assert "lower the learning rate" in errors and "turn on gradient clipping" in errors
    assert s.trainer.params.all_finite()
    # the rest of the page still works
    assert len(at.get("plotly_chart")) == 2 and panel(at)["rows"]
    at.button(key="train_reset").click().run()
    assert_no_exception(at)
    assert updates(at) == 0 and sess(at).trouble is None
    # lowering η and turning clipping on lets training work again
    at.sidebar.number_input(key="lr").set_value(0.05).run()
    at.sidebar.selectbox(key="clip").set_value("global norm").run()
    at.button(key="train_ten").click().run()
    assert not at.error and loss(at) < 5.0


def test_a_non_finite_divergence_keeps_the_last_finite_weights(app_test):
    at = app_test(PAGE, query={**HUGE_LR, "act": "linear"})
    at.button(key="train_ten").click().run()
    assert_no_exception(at)
    assert sess(at).trouble.kind == "exploded"  # first the loss explodes (still finite) …
    for _ in range(5):  # … pressing on, the numbers overflow
        at.button(key="train_ten").click().run()
        assert_no_exception(at)
        if sess(at).trouble.kind == "diverged":
            break
    s = sess(at)
    assert s.trouble is not None and s.trouble.kind == "diverged"
    assert "Training diverged at update" in " ".join(e.value for e in at.error)
    assert "use tanh" in " ".join(e.value for e in at.error)
    assert metrics(at)["Loss L of the last pass"] == "NaN" or np.isfinite(loss(at))
    # an independent run: the weights after the last update that stayed finite
    ref = reference(learning_rate=1e6, clip="none", optimizer="sgd", activation="linear")
    kept = None
    for _ in range(20):
        before = ref.params
        r = ref.step()
        if r.diverged:
            kept = before
            break
    assert kept is not None
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(s.trainer.params, name), getattr(kept, name))
    assert s.trainer.params.all_finite()
    assert len(at.get("plotly_chart")) == 2 and panel(at)["rows"]


def test_too_long_text_is_refused_not_cut(app_test):
    at = app_test(PAGE)
    at.sidebar.text_area(key="text").input("ab" * 2501).run()
    assert_no_exception(at)
    assert any("limit is 5,000" in e.value and "Nothing was cut" in e.value for e in at.error)
    assert len(at.get("plotly_chart")) == 0 and not at.get("bidi_component")
    at.sidebar.text_area(key="text").input("hello").run()
    assert len(at.get("plotly_chart")) == 2  # predictions, weights (the curves: the panel)
    assert panel(at)["rows"][0][0] == 0


def test_a_long_text_is_trained_in_chunks_with_the_state_carried(app_test):
    text = ("the cat sat on the mat. " * 13)[:300]
    at = app_test(PAGE)
    at.sidebar.text_area(key="text").input(text).run()
    assert_no_exception(at)
    assert "trained in chunks of T = 25 steps" in texts(at)
    at.button(key="train_ten").click().run()
    hist = sess(at).trainer.history
    assert hist["chunk_start"].tolist() == list(range(0, 250, 25))
    ref = reference(text)
    np.testing.assert_allclose(hist["loss"], [r.loss for r in ref.train(10)], rtol=1e-12)
    assert float(metrics(at)["Chance level"]) == pytest.approx(25 * np.log(len(set(text))))
    at.slider(key="train_window").set_value(100).run()
    pred = chart(at, "train_pred_chart")
    assert array(pred["data"][0]["x"])[0] == 101


def test_the_notation_names_the_weights_and_the_loss(app_test):
    at = app_test(PAGE, query={"notation": '"hello" notes / Ng (W_ax, W_aa, W_ya)'})
    text = json.dumps(chart(at, "train_weights_chart")["layout"]["annotations"])
    for name in ("W<sub>ax</sub>", "W<sub>aa</sub>", "W<sub>ya</sub>"):
        assert name in text
    at = app_test(PAGE, query={"notation": "Guo / Mikolov (V, U, W)"})
    assert "Loss C of the last pass" in metrics(at)


def test_the_hello_captions_point_at_what_to_notice(app_test):
    at = app_test(PAGE)
    assert "followed by “l” and by “o”" in texts(at)
    assert "The column of “o” in" in texts(at)  # "o" is never an input
    at.button(key="train_ten").click().run()
    tr, start = sess(at).trainer, sess(at).initial_params
    np.testing.assert_array_equal(tr.params.W_xh[:, 3], start.W_xh[:, 3])


# ----------------------------------------------------------------------------- files


def trained_session(settings: Settings | None = None, n: int = 20) -> TrainSession:
    s = TrainSession(settings or Settings())
    s.train(n)
    return s


def pickled_npz() -> bytes:
    """A parameter file whose W_xh is an object array: reading it needs pickle."""
    good = np.load(io.BytesIO(trained_session(n=0).params_file()))
    entries = {k: good[k] for k in good.files}
    entries["W_xh"] = np.array([[object()]], dtype=object)
    buf = io.BytesIO()
    np.savez(buf, **entries)
    return buf.getvalue()


def test_download_params_load_with_bptt_core_and_history_csv():
    s = trained_session()
    params, config = load_params(s.params_file())
    assert config == s.trainer.config
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(params, name), getattr(s.trainer.params, name))
    assert load_checkpoint(s.params_file()).vocab == ("h", "e", "l", "o")
    hist = pd.read_csv(io.StringIO(s.history_csv()))
    assert hist["update"].tolist() == list(range(1, 21))
    np.testing.assert_allclose(hist["loss"], s.trainer.history["loss"], rtol=1e-15)
    assert file_stem(s) == "bptt-H8-tanh-update20"


def test_good_upload_continues_from_the_file():
    source = trained_session(n=60)
    target = trained_session(n=3)
    notice = target.load_upload(source.params_file(), "hello.npz")
    assert notice.level == "success", notice.message
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(
            getattr(target.trainer.params, name), getattr(source.trainer.params, name)
        )
    assert target.trainer.updates == 3 and target.events[-1] == (3, "loaded")
    assert current_loss(target) == pytest.approx(source.trainer.predict().loss)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: trained_session(Settings(hidden_size=4)).params_file(), "It has 4 hidden units"),
        (
            lambda: trained_session(Settings(activation="relu")).params_file(),
            "Its hidden activation is relu",
        ),
        (
            lambda: trained_session(Settings(text="abcda")).params_file(),
            "characters [a b c d]",
        ),
        (lambda: trained_session(Settings(text="hey")).params_file(), "[h e y] (3)"),
        (pickled_npz, "unpickling"),
        (lambda: b"this is not a zip file", "not a parameter file"),
        (lambda: b"", "is empty"),
        (lambda: b"x" * 1_000_001, "limit is 1 MB"),
        (
            lambda: params_to_bytes(
                trained_session(Settings(hidden_size=3)).trainer.params,
                RNNConfig(4, 3, 4),
            ),
            "It has 3 hidden units",
        ),
    ],
    ids=[
        "hidden",
        "activation",
        "vocabulary",
        "vocab-size",
        "pickle",
        "garbage",
        "empty",
        "huge",
        "no-vocab",
    ],
)
def test_bad_uploads_explain_and_change_nothing(make, expected):
    s = trained_session(n=7)
    before = s.trainer.params
    notice = s.load_upload(make(), "weights.npz")
    assert notice.level == "error"
    assert expected in notice.message, notice.message
    assert "Nothing was changed" in notice.message
    assert s.trainer.params is before and s.trainer.updates == 7


def test_upload_without_vocabulary_is_checked_by_size_only():
    s = trained_session(n=1)
    plain = params_to_bytes(trained_session(n=30).trainer.params, s.trainer.config)
    notice = s.load_upload(plain, "plain.npz")
    assert notice.level == "success" and "does not record its characters" in notice.message


def test_uploads_through_the_page(app_test):
    good = trained_session(n=80).params_file()
    at = app_test(PAGE)
    at.button(key="train_ten").click().run()
    kept = sess(at).trainer.params
    # a file for another network: refused, training untouched
    at.file_uploader(key="train_upload").upload(
        "h4.npz", trained_session(Settings(hidden_size=4)).params_file()
    ).run()
    assert_no_exception(at)
    assert any("does not fit the current network" in e.value for e in at.error)
    assert updates(at) == 10 and sess(at).trainer.params is kept
    # a pickled file: refused
    at.file_uploader(key="train_upload").set_value(
        ("evil.npz", pickled_npz(), "application/octet-stream")
    ).run()
    assert_no_exception(at)
    assert any("unpickling" in e.value for e in at.error)
    assert updates(at) == 10 and sess(at).trainer.params is kept
    # a good file: training continues from it
    at.file_uploader(key="train_upload").set_value(
        ("good.npz", good, "application/octet-stream")
    ).run()
    assert_no_exception(at)
    assert any("Loaded the parameters" in e.value for e in at.success)
    ref = reference()
    ref.load(load_checkpoint(good).params)
    assert loss(at) == pytest.approx(ref.predict().loss, abs=5e-5)
    assert loss(at) < 0.05
    at.button(key="train_one").click().run()  # training goes on; the file is not reloaded
    assert updates(at) == 11


def test_download_buttons_are_there(app_test):
    at = app_test(PAGE)
    keys = {el.proto.id.rsplit("-", 1)[-1] for el in at.get("download_button")}
    assert {"train_dl_params", "train_dl_history"} <= keys


# ----------------------------------------------------------------------------- session logic


def test_describe_changes_and_event_labels():
    old, new = TrainingConfig(), TrainingConfig(learning_rate=0.5, truncation=3)
    assert describe_changes(old, new, "η") == [
        "learning rate η: 0.05 → 0.5",
        "truncation k: full BPTT → k = 3",
    ]
    assert event_label(new, "η", old) == "η=0.5, k=3"


def test_ambiguous_input():
    assert ambiguous_input("hello") == ("l", ["l", "o"])
    assert ambiguous_input("abc") is None


def test_play_batches_follow_the_clock():
    s = TrainSession(Settings())
    s.playing = True
    assert len(s.play_batch(now=100.0)) == 20  # the first batch: one second at 20 updates/s
    assert len(s.play_batch(now=100.5)) == 10
    assert len(s.play_batch(now=110.0)) == 40  # at most two seconds are caught up
    s.speed = 5
    assert len(s.play_batch(now=110.01)) == 1  # at least one update per batch
    assert s.trainer.updates == 71


def test_rates_are_measured_from_ticks():
    s = TrainSession(Settings())
    s.ticks.extend([(10.0, 0), (10.5, 5), (11.0, 10)])
    assert s.rates(now=11.0) == pytest.approx((10.0, 2.0))
    assert s.rates(now=20.0) is None


# ----------------------------------------------------------------------------- engine helpers


def test_history_keeps_the_newest_rows_only():
    h = History(5)
    for i in range(1, 13):
        h.append(
            {
                "update": i,
                "loss": float(i),
                "loss_per_char": i / 4,
                "grad_norm": 1.0,
                "clipped": i % 2 == 0,
                "chunk_start": 0,
                "chunk_length": 4,
                "updates": 1,
                "learning_rate": 0.05,
                "diverged": False,
            }
        )
    assert len(h) == 5 and h.total == 12 and h.dropped == 7
    assert h.column("update").tolist() == [8, 9, 10, 11, 12]
    assert h.frame()["clipped"].tolist() == [True, False, True, False, True]
    assert h.last("loss") == 12.0
    with pytest.raises(ValueError, match="at least 1"):
        History(0)


def test_live_trainer_matches_trainer_and_bounds_memory():
    live, plain = LiveTrainer("hello", max_history=30), Trainer("hello")
    live.train(100)
    plain.train(100)
    assert len(live.history) == 30 and live.log.dropped == 70
    assert not live._rows, "Trainer's unbounded row list must stay empty"
    pd.testing.assert_frame_equal(
        live.history.reset_index(drop=True),
        plain.history.iloc[-30:].reset_index(drop=True),
        check_dtype=False,
    )
    live.reset()
    assert len(live.history) == 0


def test_chance_level_and_explosion():
    assert chance_loss(RNNConfig(4, 3, 4)) == pytest.approx(np.log(4), rel=1e-15)
    sig = chance_loss(RNNConfig(4, 3, 4, output="sigmoid"))
    assert sig == pytest.approx(-np.log(0.25) - 3 * np.log(0.75), rel=1e-12)
    assert chance_loss(RNNConfig(4, 3, 4, output="linear", loss="sse")) == pytest.approx(0.375)
    assert chance_loss(RNNConfig(1, 3, 1)) == 0.0
    assert exploded(200.0, np.log(4)) and not exploded(5.0, np.log(4))
    assert not exploded(float("nan"), np.log(4))


def test_smooth_and_downsample():
    y = np.array([1.0, np.nan, 3.0])
    s = smooth(y, 1)
    assert s[0] == 1.0 and s[2] == 3.0
    x = np.arange(1, 10_001)
    xs, (ys,), size = downsample(x, x.astype(float), max_points=1000)
    assert size == 10 and xs[-1] == 10_000 and xs.size == 1000
    assert ys[-1] == pytest.approx(np.mean(np.arange(9991, 10_001)))
    xs, (ys,), size = downsample(x[:7], x[:7] * 1.0, max_points=1000)
    assert size == 1 and xs.tolist() == list(range(1, 8))


def test_checkpoint_differences_name_everything():
    ck = load_checkpoint(trained_session(n=0).params_file())
    other = RNNConfig(5, 6, 5, activation="relu", output="sigmoid")
    diffs = " ".join(checkpoint_differences(ck, other, tuple("abcde")))
    for part in ("characters [h e l o]", "8 hidden units", "tanh", "softmax + cross_entropy"):
        assert part in diffs
    with pytest.raises(ValueError, match="single characters"):
        checkpoint_bytes(ck.params, ck.config, ("h", "e", "l"))


@pytest.mark.parametrize(
    "text",
    ["🙂🙃🙂🙃", "naïve café", "line\nbreak\ttab", "<b>x</b>$y$ *a* `c`", "a\u0301e\u0301", "aaaa"],
    ids=["emoji", "accents", "whitespace", "markup", "combining", "one-character-vocabulary"],
)
def test_odd_texts_train_without_errors(app_test, text):
    at = app_test(PAGE)
    at.sidebar.text_area(key="text").input(text).run()
    assert_no_exception(at)
    at.button(key="train_ten").click().run()
    assert_no_exception(at)
    assert updates(at) == 10
    assert loss(at) == pytest.approx(reference(text).train(10)[-1].loss, abs=5e-5)
    assert not at.error


# ----------------------------------------------------------------------------- every widget


def test_sample_widgets_and_another_sample(app_test):
    at = app_test(PAGE)
    at.button(key="train_ten").click().run()
    ref = reference()
    ref.train(10)
    first = at.code[0].value
    assert first == ref.sample(20, seed_char="h", temperature=1.0, rng_seed=0)
    at.button(key="train_new_sample").click().run()
    assert_no_exception(at)
    assert sess(at).sample_seed == 1
    assert at.code[0].value == ref.sample(20, seed_char="h", temperature=1.0, rng_seed=1)
    seed_box = next(s for s in at.selectbox if (s.key or "").startswith("train_seed_char_"))
    seed_box.set_value("l").run()
    at.slider(key="train_temperature").set_value(0.3).run()
    assert_no_exception(at)
    assert at.code[0].value == ref.sample(20, seed_char="l", temperature=0.3, rng_seed=1)
    assert updates(at) == 10, "sampling must not train"


def test_weights_view_shows_the_change_since_the_start(app_test):
    at = app_test(PAGE)
    at.button(key="train_ten").click().run()
    at.segmented_control(key="train_weights_view").set_value("change since the start").run()
    assert_no_exception(at)
    ref = reference()
    start = ref.params
    ref.train(10)
    weights = chart(at, "train_weights_chart")
    for i, name in enumerate(("W_xh", "W_hh", "W_hy")):
        np.testing.assert_allclose(
            array(weights["data"][i]["z"]),
            getattr(ref.params, name) - getattr(start, name),
            rtol=1e-12,
            atol=1e-15,
            err_msg=f"change of {name}",
        )


def test_the_panel_asks_for_the_whole_history_when_it_missed_rows(app_test):
    at = app_test(PAGE)
    at.button(key="train_ten").click().run()
    s = sess(at)
    s.train(5)  # rows the browser has not seen, then a run that only appends
    s.full_send_pending = False
    assert s.rows_to_send() == 10
    s.request_full_send()  # what the panel's "resync" trigger calls
    assert s.rows_to_send() is None
