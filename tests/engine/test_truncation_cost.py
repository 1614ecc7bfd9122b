"""The learning experiments of the Truncation page (bptt_core.truncation_cost): the recall grid
must be exactly the runs of ``train_recall`` it names, and "hello" is learned with k = 1."""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import Trainer
from bptt_core.recall import train_recall
from bptt_core.truncation_cost import (
    RecallGrid,
    run_recall_grid,
    truncation_curves,
)
from bptt_viz.labels import truncation_label


def test_grid_normalises_and_validates():
    grid = RecallGrid(n_fillers=[2, 3], truncations=[1, None], seeds=[0], modes=["chunked"])
    assert grid.n_fillers == (2, 3) and grid.truncations == (1, None) and grid.modes == ("chunked",)
    assert hash(grid) == hash(
        RecallGrid(n_fillers=(2, 3), truncations=(1, None), seeds=(0,), modes=("chunked",))
    )
    for bad in (
        {"n_fillers": (-1,)},
        {"n_fillers": ()},
        {"n_fillers": (2, 2)},
        {"truncations": (0,)},
        {"truncations": (1.5,)},
        {"truncations": (None, None)},
        {"seeds": (True,)},
        {"modes": ("sliding",)},
        {"modes": ()},
        {"updates": 0},
        {"hidden_size": 0},
    ):
        with pytest.raises(ValueError):
            RecallGrid(**bad)


def test_full_bptt_is_trained_once_for_both_modes():
    grid = RecallGrid(
        n_fillers=(2,), truncations=(1, None), seeds=(0, 1), modes=("window", "chunked")
    )
    runs = grid.unique_runs()
    assert len(grid.keys()) == 8
    assert runs == (
        ("window", 2, 1, 0),
        ("window", 2, 1, 1),
        ("window", 2, None, 0),
        ("window", 2, None, 1),
        ("chunked", 2, 1, 0),
        ("chunked", 2, 1, 1),
    )
    assert grid.total_updates == 6 * grid.updates


def test_grid_runs_equal_train_recall_and_progress_counts_every_update():
    grid = RecallGrid(
        n_fillers=(2, 3),
        truncations=(1, None),
        seeds=(0, 4),
        modes=("window", "chunked"),
        updates=25,
    )
    ticks: list[int] = []
    result = run_recall_grid(grid, ticks.append)
    assert sum(ticks) == grid.total_updates == len(ticks)
    for mode, N, k, seed in grid.keys():
        ref = train_recall(N, k, mode=mode, seed=seed, updates=25)
        run = result.run(mode, N, k, seed)
        np.testing.assert_array_equal(
            run.recall_loss, ref.recall_loss, err_msg=f"{mode} N={N} k={k} seed={seed}"
        )
        assert run.truncation == k and run.n_fillers == N
    for mode in grid.modes:
        for N in grid.n_fillers:
            for k in grid.truncations:
                settled = [
                    train_recall(N, k, mode=mode, seed=s, updates=25).settled_recall_loss
                    for s in grid.seeds
                ]
                np.testing.assert_array_equal(result.settled(mode, N, k), settled)
                assert result.median(mode, N, k) == pytest.approx(np.median(settled))
    assert result.chance == pytest.approx(np.log(2))
    rows = result.rows()
    assert len(rows) == len(grid.keys())
    assert {r["k"] for r in rows} == {1, None}
    assert truncation_label(None) == "full" and truncation_label(7) == "7"


def test_quick_grid_shows_the_cost_of_truncation():
    """The page's default experiment: at N = 10 full BPTT learns the recall, k = 1 and k = 5 do
    not (medians over seeds 0–2), while at N = 4 every k learns."""
    result = run_recall_grid(RecallGrid())
    chance = np.log(2)
    report = {
        (N, truncation_label(k)): round(result.median("window", N, k), 3)
        for N in (4, 10)
        for k in (1, 2, 5, None)
    }
    assert result.median("window", 10, None) < 0.05, report
    assert result.median("window", 10, 5) > 0.8 * chance, report
    assert result.median("window", 10, 1) > 0.8 * chance, report
    for k in (1, 2, 5, None):
        assert result.median("window", 4, k) < 0.2, report


def test_hello_is_learned_with_k1_as_with_full_bptt():
    ticks: list[int] = []
    curves = truncation_curves("hello", (1, None), (0, 1), 60, ticks.append)
    assert curves.loss_per_char.shape == (2, 2, 60)
    assert sum(ticks) == 2 * 2 * 60
    assert not curves.diverged.any()
    final = curves.final()
    assert (final < 0.05).all(), f"final loss per character: {final}"
    # the curves are exactly the Trainer's history
    trainer = Trainer("hello", truncation=1, seed=1)
    for _ in range(60):
        trainer.step()
    np.testing.assert_array_equal(curves.loss_per_char[0, 1], trainer.history.loss_per_char)


def test_curves_record_divergence_and_validate():
    ticks: list[int] = []
    curves = truncation_curves(
        "hello",
        (None,),
        (0,),
        30,
        ticks.append,
        optimizer="sgd",
        learning_rate=1e6,
        clip="none",
        activation="linear",
    )
    assert curves.diverged[0, 0], curves.loss_per_char
    assert sum(ticks) == 30, "progress must count the updates skipped after a divergence too"
    assert np.isfinite(curves.loss_per_char[0, 0, 0]) and np.isnan(curves.loss_per_char[0, 0, -1])
    with pytest.raises(ValueError, match="truncation"):
        truncation_curves("hello", truncation=1)
    with pytest.raises(ValueError, match="Unknown training option"):
        truncation_curves("hello", colour="red")
    with pytest.raises(ValueError):
        truncation_curves("hello", updates=0)
    with pytest.raises(ValueError):
        truncation_curves("h")
