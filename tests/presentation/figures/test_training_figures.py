"""Figure builders of "Train live" (bptt_viz.figures.train_charts): every figure carries exactly the
numbers it is given, marks what it claims to mark, speaks the notation it is handed, and is a
valid Plotly figure (each is rebuilt here with Plotly's validation switched on)."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest

import bptt_viz.figures.train_charts as F
from bptt_core import Trainer
from bptt_viz.labels import display_char
from bptt_viz.notation import NOTATIONS
from tests.figdata import array


@pytest.fixture(autouse=True)
def validated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build every figure with Plotly's property validation (the app skips it for speed)."""
    monkeypatch.setattr(F, "VALIDATE", True)


@pytest.fixture(scope="module")
def trained() -> Trainer:
    tr = Trainer("hello")
    tr.train(40)
    return tr


def data(fig, i: int, key: str) -> np.ndarray:
    """A data array of trace i as the browser receives it (decoded from Plotly's JSON)."""
    return array(json.loads(pio.to_json(fig))["data"][i][key])


def test_loss_curve_carries_the_history(trained):
    h = trained.history
    update, loss = h["update"].to_numpy(), h["loss"].to_numpy()
    chance = np.log(4) * h["chunk_length"].to_numpy(float)
    smoothed = loss * 0.5
    fig = F.loss_curve(update, loss, smoothed, chance, loss_name="L", smooth_span=7)
    names = [t.name for t in fig.data]
    assert names == ["chance", "L per update", "moving average (7 updates)"]
    np.testing.assert_array_equal(data(fig, 0, "y"), chance)
    np.testing.assert_array_equal(data(fig, 1, "x"), update)
    np.testing.assert_array_equal(data(fig, 1, "y"), loss)
    np.testing.assert_array_equal(data(fig, 2, "y"), smoothed)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 1  # loss spans decades
    linear = F.loss_curve(update, loss, smoothed, chance, log_y=False)
    assert linear.layout.yaxis.type == "linear" and linear.layout.yaxis.rangemode == "tozero"
    pio.to_json(fig)


def test_loss_curve_starts_on_a_readable_axis_and_marks_events():
    fig = F.loss_curve(
        np.array([0, 1]),
        np.array([7.0, 6.0]),
        np.array([7.0, 6.5]),
        np.array([5.5, 5.5]),
        min_x_span=30,
        events=[(1, "η=0.5"), (-5, "too early")],
        bucket=4,
    )
    assert list(fig.layout.xaxis.range) == [0, 30]
    np.testing.assert_array_equal(data(fig, 0, "x"), [0, 1, 30])  # chance drawn across
    np.testing.assert_array_equal(data(fig, 0, "y"), [5.5, 5.5, 5.5])
    assert fig.data[1].name == "L, mean of 4 updates"
    assert [a.text for a in fig.layout.annotations] == ["η=0.5"]
    assert fig.layout.yaxis.dtick is None  # less than two decades: Plotly's own ticks
    assert fig.layout.shapes[0].x0 == 1


def test_grad_norm_curve_marks_clipped_updates_and_the_threshold():
    update = np.arange(1, 7)
    norm = np.array([9.0, 6.0, 4.0, 2.0, 7.0, 1.0])
    clipped = norm > 5
    fig = F.grad_norm_curve(update, norm, clipped, threshold=5.0)
    np.testing.assert_array_equal(data(fig, 0, "y"), norm)
    np.testing.assert_array_equal(data(fig, 1, "x"), [1, 2, 5])
    assert fig.data[2].name == "clipping threshold c = 5"
    np.testing.assert_array_equal(data(fig, 2, "y"), [5.0, 5.0])
    assert fig.layout.yaxis.type == "log"
    none = F.grad_norm_curve(update, norm, np.zeros(6, bool), threshold=None, clip_note="none")
    assert len(none.data) == 2 and none.layout.annotations[0].text == "none"


def test_prediction_heatmap_shows_y_and_marks_the_targets(trained):
    trace = trained.predict()
    c = trained.corpus
    vocab = [display_char(ch) for ch in c.vocab]
    ids = c.ids[1:]
    fig = F.prediction_heatmap(
        trace.y, list(c.input_chars), list(c.target_chars), vocab, ids, value_name="ŷ"
    )
    np.testing.assert_array_equal(data(fig, 0, "z"), trace.y.T)
    assert fig.data[0].zmin == 0 and fig.data[0].zmax == 1
    np.testing.assert_array_equal(data(fig, 1, "x"), [1, 2, 3, 4])
    np.testing.assert_array_equal(data(fig, 1, "y"), ids)  # the target of every column
    hover = fig.data[0].hovertext
    assert "← target" in hover[int(ids[0])][0] and "← target" not in hover[0][0]
    assert list(fig.layout.yaxis.ticktext) == ["“h”", "“e”", "“l”", "“o”"]
    assert list(fig.layout.xaxis.ticktext) == ["h→e", "e→l", "l→l", "l→o"]
    # a window further into the text is numbered from its first position
    shifted = F.prediction_heatmap(
        trace.y[2:], ["l", "l"], ["l", "o"], vocab, ids[2:], first_t=3, probabilities=False
    )
    np.testing.assert_array_equal(data(shifted, 0, "x"), [3, 4])
    assert shifted.data[0].zmin is None


@pytest.mark.parametrize("key", list(NOTATIONS))
def test_weight_heatmaps_show_the_matrices_in_the_notation(trained, key):
    n = NOTATIONS[key]
    p = trained.params
    units = [f"h{j + 1}" for j in range(8)]
    chars = list("helo")
    fig = F.weight_heatmaps(
        [
            (n.html("W_xh"), p.W_xh, units, chars),
            (n.html("W_hh"), p.W_hh, units, units),
            (n.html("W_hy"), p.W_hy, chars, units),
        ],
        roles=["input → hidden", "hidden → hidden", "hidden → output"],
    )
    for i, name in enumerate(("W_xh", "W_hh", "W_hy")):
        np.testing.assert_array_equal(data(fig, i, "z"), getattr(p, name))
    zmax = max(np.abs(getattr(p, m)).max() for m in ("W_xh", "W_hh", "W_hy"))
    assert fig.layout.coloraxis.cmax == pytest.approx(zmax)
    assert fig.layout.coloraxis.cmin == pytest.approx(-zmax)
    notes = [a.text for a in fig.layout.annotations]
    assert notes[0].startswith(f"<b>{n.html('W_xh')}</b> (8×4)") and "input → hidden" in notes[0]
    assert notes[2].startswith(f"<b>{n.html('W_hy')}</b> (4×8)")
    pio.to_json(fig)


def test_large_weight_matrices_hover_without_per_cell_text():
    big = np.ones((64, 100))
    labels = [str(i) for i in range(100)]
    fig = F.weight_heatmaps([("W", big, labels[:64], labels)])
    assert fig.data[0].hovertext is None and "%{z" in fig.data[0].hovertemplate
    assert fig.layout.xaxis.showticklabels is False


def test_figures_are_plain_json():
    fig = F.grad_norm_curve(np.arange(3), np.ones(3), np.zeros(3), threshold=1.0)
    assert json.loads(pio.to_json(fig))["data"][0]["type"] == "scatter"
