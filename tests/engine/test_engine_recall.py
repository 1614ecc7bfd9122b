"""The recall task: full BPTT carries the first character across N fillers, a short truncation
does not; "hello"-like short gaps are learned even with k = 1."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bptt_core.recall import recall_texts, train_recall

SEEDS = range(5)


def _runs(n_fillers: int, k: int | None, **kwargs):
    runs, seconds = [], []
    for seed in SEEDS:
        t0 = time.perf_counter()
        runs.append(train_recall(n_fillers, k, seed=seed, **kwargs))
        seconds.append(time.perf_counter() - t0)
    return runs, seconds


def _figures(runs) -> str:
    return ", ".join(
        f"seed {r.seed}: settled {r.settled_recall_loss:.3f} final {r.final_recall_loss:.3f}"
        for r in runs
    )


def test_recall_texts():
    assert recall_texts(4) == ("a----a", "b----b")
    assert recall_texts(0, symbols="xyz", filler=".") == ("xx", "yy", "zz")


def test_full_bptt_recalls_across_10_fillers_and_k5_does_not():
    full, t_full = _runs(10, None)
    short, t_short = _runs(10, 5)
    med_full = float(np.median([r.settled_recall_loss for r in full]))
    med_short = float(np.median([r.settled_recall_loss for r in short]))
    report = (
        f"full BPTT: median {med_full:.3f} ({_figures(full)}); "
        f"k=5: median {med_short:.3f} ({_figures(short)}); chance ln 2 = {np.log(2):.3f}"
    )
    assert med_full < 0.1, f"full BPTT should learn the recall: {report}"
    assert med_short > 0.5, f"k = 5 should not learn a gap of 11 steps: {report}"
    for r in (*full, *short):
        assert r.chance == pytest.approx(np.log(2))
        assert r.recall_loss.shape == (600,) and r.total_loss.shape == (600,)
        assert np.isfinite(r.recall_loss).all() and (r.total_loss >= r.recall_loss).all()
        assert r.n_fillers == 10 and r.mode == "window"
    assert [r.truncation for r in full] == [None] * 5 and [r.truncation for r in short] == [5] * 5
    # runtime stays reasonable (each run takes ~0.15 s; fail only if it becomes ~10× slower)
    times = t_full + t_short
    assert float(np.median(times)) < 1.5, f"recall runs take {np.round(times, 2)} s each"


def test_short_gap_is_learned_even_with_k1():
    runs, _ = _runs(4, 1)
    med = float(np.median([r.settled_recall_loss for r in runs]))
    assert med < 0.1, f"N = 4, k = 1: median settled recall loss {med:.3f} ({_figures(runs)})"


def test_k_at_least_T_is_identical_to_full_bptt():
    """N = 10 gives T = 11 inputs: k = 11 must reproduce full BPTT exactly."""
    a = train_recall(10, None, seed=1, updates=60)
    b = train_recall(10, 11, seed=1, updates=60)
    np.testing.assert_array_equal(a.recall_loss, b.recall_loss)
    c = train_recall(10, 10, seed=1, updates=60)
    assert not np.array_equal(a.recall_loss, c.recall_loss), "k = T − 1 must differ somewhere"


def test_chunked_mode_runs_and_is_reproducible():
    a = train_recall(6, 3, mode="chunked", seed=2, updates=50)
    b = train_recall(6, 3, mode="chunked", seed=2, updates=50)
    np.testing.assert_array_equal(a.recall_loss, b.recall_loss)
    assert a.mode == "chunked" and np.isfinite(a.final_recall_loss)
    w = train_recall(6, 3, mode="window", seed=2, updates=50)
    assert not np.array_equal(a.recall_loss, w.recall_loss), "chunked and window cut differently"
    progress = []
    train_recall(2, None, updates=7, progress=progress.append)
    assert progress == list(range(1, 8))
