"""The view model of Train live (bptt_viz.train_view) against an independent engine run.

Each case trains a ``TrainSession`` (the page's session object) and, separately, a plain
``bptt_core.Trainer`` with the same hyperparameters; every number the view model hands the page
(curve points, moving average, chance level, counters, the browser panel's rows, predictions,
weights, the sample) must equal what the independent run gives, to 1e-12. Failure messages
name the case and the quantity. No Streamlit is imported here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from bptt_app.settings import Settings
from bptt_app.train_session import TrainSession
from bptt_core import Trainer
from bptt_core.health import chance_loss
from bptt_viz.figures.train_charts import CLIP_COLOR_NAME, TARGET_MARK_NAME
from bptt_viz.notation import NOTATIONS, get_notation
from bptt_viz.numbers import readable
from bptt_viz.train_view import (
    MAX_POSITIONS,
    curve_rows,
    curves,
    panel_data,
    predictions_view,
    sample_view,
    stuck_ratio,
    train_page_view,
    weights_view,
)

RTOL = 1e-12
CASES = {
    "hello": (Settings(), 12),
    "chunks": (Settings(text=("the cat sat on the mat. " * 6)[:130], seq_length=25), 11),
    "sigmoid-sse": (Settings(output="sigmoid", loss="sse", hidden_size=5, seed=3), 9),
    "relu-sgd-k2": (
        Settings(activation="relu", optimizer="sgd", learning_rate=0.1, truncation=2),
        10,
    ),
    "radius-adagrad": (Settings(init="radius", spectral_radius=1.4, optimizer="adagrad"), 7),
}


def ema(values: np.ndarray, span: int) -> np.ndarray:
    """pandas' ewm(span, adjust=True, ignore_na=True).mean(), written out: weights (1−α)^i."""
    alpha = 2.0 / (span + 1.0)
    out, num, den = [], 0.0, 0.0
    for v in values:
        if np.isfinite(v):
            num = v + (1 - alpha) * num
            den = 1.0 + (1 - alpha) * den
        out.append(num / den if den else np.nan)
    return np.array(out)


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    """(name, session, independent trainer, its step results) after n updates."""
    settings, n = CASES[request.param]
    sess = TrainSession(settings)
    sess.train(n)
    ref = Trainer(settings.text, **vars(settings.training()))
    initial = ref.predict(max_length=min(ref.settings.seq_length, ref.corpus.T)).loss
    results = ref.train(n)
    return request.param, sess, ref, results, initial


def close(actual, expected, what: str, name: str) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=RTOL,
        atol=0,
        err_msg=f"case {name}: {what}",
    )


def test_curve_points_are_the_engine_history(case):
    name, sess, ref, results, initial = case
    c = curve_rows(sess)
    n = len(results)
    assert c.update.tolist() == list(range(n + 1)), f"case {name}: update numbers"
    close(c.loss, [initial] + [r.loss for r in results], "loss per update", name)
    chance = chance_loss(ref.config)
    T0 = min(ref.settings.seq_length, ref.corpus.T)
    close(c.chance, [chance * T0] + [chance * r.chunk_length for r in results], "chance", name)
    close(c.grad_norm[1:], [r.grad_norm for r in results], "gradient norm", name)
    assert np.isnan(c.grad_norm[0]), f"case {name}: the untrained point has no gradient"
    assert c.clipped[1:].tolist() == [float(r.clipped) for r in results], f"case {name}: clipped"
    close(c.smoothed, ema(c.loss, c.smooth_span), "moving average", name)
    after = curve_rows(sess, after=n - 3)
    assert after.update.tolist() == [n - 2, n - 1, n], f"case {name}: rows after an update"
    close(after.smoothed, c.smoothed[-3:], "moving average of the last rows", name)


def test_counters_are_the_engine_numbers(case):
    name, sess, ref, results, initial = case
    view = train_page_view(sess, get_notation("goodfellow"))
    by_label = {c.label: c for c in view.counters}
    assert by_label["Updates"].value == f"{len(results):,}", f"case {name}"
    loss = next(c for label, c in by_label.items() if label.startswith("Loss"))
    assert loss.value == readable(results[-1].loss), f"case {name}: loss counter"
    assert loss.delta == f"{readable(results[-1].loss - initial, sign=True)} since the start"
    chance = chance_loss(ref.config) * results[-1].chunk_length
    assert by_label["Chance level"].value == readable(chance), f"case {name}: chance counter"
    assert by_label["Speed"].value == "paused"


def test_panel_rows_carry_the_same_numbers(case):
    name, sess, _ref, results, _initial = case
    data = panel_data(sess, get_notation("goodfellow"))
    json.dumps(data, allow_nan=False)  # valid JSON for the browser: no NaN, no infinity
    rows = data["rows"]
    assert [r[0] for r in rows] == list(range(len(results) + 1)), f"case {name}"
    close([r[1] for r in rows[1:]], [r.loss for r in results], "panel loss", name)
    close([r[4] for r in rows[1:]], [r.grad_norm for r in results], "panel gradient norm", name)
    assert rows[0][4] is None, f"case {name}: NaN travels as null"
    assert rows[-1][6] == readable(results[-1].loss) and rows[0][7] == "", f"case {name}"
    tail = panel_data(sess, get_notation("goodfellow"), after=len(results) - 2, fresh=2)
    assert tail["append"] and tail["after"] == len(results) - 2 and tail["fresh"] == 2
    assert [r[0] for r in tail["rows"]] == [len(results) - 1, len(results)], f"case {name}"


def test_predictions_weights_and_sample_are_the_engine_ones(case):
    name, sess, ref, _results, _initial = case
    n = get_notation("goodfellow")
    start = 3 if ref.corpus.T > MAX_POSITIONS else 0
    p = predictions_view(sess, start, n)
    y = ref.predict().y
    close(p.y, y[start : start + MAX_POSITIONS], "predictions y(t)", name)
    assert list(p.target_ids) == list(ref.corpus.ids[start + 1 : start + 1 + len(p.y)])
    assert p.first_t == start + 1
    w = weights_view(sess, n)
    for (label, matrix, _, _), engine_name in zip(
        w.matrices, ("W_xh", "W_hh", "W_hy"), strict=True
    ):
        close(matrix, getattr(ref.params, engine_name), f"{engine_name} ({label})", name)
    change = weights_view(sess, n, change=True)
    first = Trainer(ref.corpus.text, **vars(ref.settings)).params
    close(change.matrices[1][1], ref.params.W_hh - first.W_hh, "change of W_hh", name)
    seed = w.matrices[0][3][0].strip("“”")
    length = int(min(300, max(20, 3 * ref.corpus.T)))
    assert sample_view(sess, seed, 0.7) == ref.sample(
        length, seed_char=ref.corpus.vocab[0], temperature=0.7, rng_seed=0
    ), f"case {name}: sample"


def test_full_histories_are_averaged_in_buckets():
    sess = TrainSession(Settings())
    sess.train(300)
    c = curves(sess, max_points=100)
    assert c.bucket == 4 and c.update[-1] == 300 and len(c.update) == 75
    full = curve_rows(sess)
    close(c.loss[-1], full.loss[-4:].mean(), "bucket mean", "hello-300")


# --------------------------------------------------------------------------- sentences


def test_readable_numbers():
    assert readable(30943329971.3) == "3.09e10"
    assert readable(0.000041234) == "4.12e-5"
    assert readable(12.345678) == "12.3457"
    assert readable(-7.0889, sign=True) == "-7.0889"
    assert readable(3e10, sign=True) == "+3.00e10"
    assert readable(float("nan")) == "NaN"
    assert readable(0.0) == "0.0000"
    for x in (3.09e10, 4.12e-5, 12.3457, 99999.0, 1e-3):
        assert float(readable(x)) == pytest.approx(x, rel=5e-3)


def test_a_huge_loss_is_written_with_a_power_of_ten():
    """Issue 12.12: ``?lr=1000000&opt=SGD&clip=none&act=relu`` showed “30943329971…”."""
    sess = TrainSession(
        Settings(learning_rate=1e6, optimizer="sgd", clip="none", activation="relu")
    )
    sess.train(2)
    view = train_page_view(sess, get_notation("goodfellow"))
    loss = view.counters[1].value
    assert "e" in loss and len(loss) <= 10, loss
    assert view.trouble is not None and "e" in view.trouble.split("exploded at update")[1][:30]


def test_a_loss_stuck_far_above_chance_is_explained():
    """Issue 12.11: ``?lr=5&opt=SGD&clip=none`` sits near 20× chance without a word."""
    sess = TrainSession(Settings(learning_rate=5, optimizer="sgd", clip="none"))
    sess.train(40)
    view = train_page_view(sess, get_notation("goodfellow"))
    assert sess.trouble is None, "not an explosion: training goes on"
    assert view.stuck is not None, "no explanation of a loss stuck above chance"
    assert "stuck far above chance" in view.stuck and "lower the learning rate" in view.stuck
    healthy = TrainSession(Settings())
    healthy.train(40)
    assert train_page_view(healthy, get_notation("goodfellow")).stuck is None
    assert stuck_ratio(np.full(10, 2.9), np.log(4)) == pytest.approx(2.9 / np.log(4))
    assert stuck_ratio(np.full(9, 2.9), np.log(4)) is None  # too few updates to say
    assert stuck_ratio(np.full(10, 1.0), np.log(4)) is None


def test_captions_name_the_colours_the_figures_use():
    """Issue 12.10: “red squares” and “red dots” where the marks are orange."""
    sess = TrainSession(Settings())
    view = train_page_view(sess, get_notation("goodfellow"))
    words = " ".join([view.grad_caption, view.predictions_caption, view.loss_caption])
    assert "red" not in words.lower().split()
    assert f"{CLIP_COLOR_NAME} dots" in view.grad_caption
    assert f"{TARGET_MARK_NAME} squares" in view.predictions_caption


@pytest.mark.parametrize("key", list(NOTATIONS))
def test_every_notation_names_the_loss_and_weights(key):
    n = get_notation(key)
    sess = TrainSession(Settings(notation=key))
    view = train_page_view(sess, n)
    assert view.counters[1].label == f"Loss {n.plain('L')} of the last pass"
    assert [m[0] for m in weights_view(sess, n).matrices] == [
        n.html("W_xh"),
        n.html("W_hh"),
        n.html("W_hy"),
    ]
    assert panel_data(sess, n)["labels"]["loss_plain"] == n.plain("L")


def test_the_view_model_needs_no_streamlit():
    code = "import bptt_viz.train_view, sys; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
