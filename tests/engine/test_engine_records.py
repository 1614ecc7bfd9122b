"""Trainer.step(record=True) and Trainer.fork(): what a pass did, recorded without changing it."""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import OPTIMIZERS, PARAM_NAMES, Trainer, backward, forward
from bptt_core.optim import clip_gradients


def same(a, b) -> bool:
    return all(np.array_equal(getattr(a, n), getattr(b, n)) for n in PARAM_NAMES)


CASES = [
    (opt, clip, k) for opt in OPTIMIZERS for clip in ("none", "norm", "value") for k in (None, 2)
]


@pytest.mark.parametrize(("optimizer", "clip", "k"), CASES)
def test_recording_changes_nothing_and_records_what_happened(optimizer, clip, k):
    kw = {"optimizer": optimizer, "clip": clip, "clip_threshold": 0.5, "truncation": k}
    plain, recorded = Trainer("hello world", **kw), Trainer("hello world", **kw)
    for update in range(4):
        before = recorded.params
        a, b = plain.step(), recorded.step(record=True)
        case = f"{optimizer}/{clip}/k={k} update {update}"
        assert same(plain.params, recorded.params), f"{case}: recording changed the weights"
        assert a.loss == b.loss and a.grad_norm == b.grad_norm, case
        r = b.record
        assert r.update == update and same(r.params, before) and r.applied is not None, case
        # the traces are the engine's forward and backward over that chunk
        fwd = forward(before, recorded.config, r.fwd.inputs, r.fwd.targets, r.fwd.h0)
        np.testing.assert_array_equal(r.fwd.h, fwd.h, err_msg=case)
        bwd = backward(before, recorded.config, fwd, k)
        assert same(r.bwd.grads, bwd.grads) and same(r.applied.grads, bwd.grads), case
        used, info = clip_gradients(bwd.grads, clip, 0.5)
        assert same(r.applied.used, used) and r.applied.clip == info, case
        assert same(r.applied.after, recorded.params), case
        step = r.applied.step
        for n in PARAM_NAMES:
            np.testing.assert_array_equal(
                getattr(step, n), getattr(recorded.params, n) - getattr(before, n), err_msg=case
            )
        after = forward(recorded.params, recorded.config, r.fwd.inputs, r.fwd.targets, r.fwd.h0)
        assert r.loss_after == after.loss, f"{case}: loss of the new weights"
        assert r.applied.count == update + 1


def test_sgd_step_is_minus_eta_times_the_used_gradient_and_adam_keeps_its_moments():
    sgd = Trainer("hello", optimizer="sgd", learning_rate=0.3, clip="none")
    r = sgd.step(record=True).record.applied
    for n in PARAM_NAMES:
        np.testing.assert_allclose(
            getattr(r.step, n), -0.3 * getattr(r.used, n), rtol=1e-12, atol=1e-15
        )
    assert r.state == {}
    adam = Trainer("hello", optimizer="adam", learning_rate=0.05)
    first = adam.step(record=True).record.applied
    m, v = first.state["m"], first.state["v"]
    for n in PARAM_NAMES:
        g = getattr(first.used, n)
        np.testing.assert_allclose(getattr(m, n), 0.1 * g, rtol=1e-12, err_msg=n)
        np.testing.assert_allclose(getattr(v, n), 0.001 * g * g, rtol=1e-12, err_msg=n)
    second = adam.step(record=True).record.applied
    g = second.used.W_hh
    np.testing.assert_allclose(second.state["m"].W_hh, 0.9 * m.W_hh + 0.1 * g, rtol=1e-12)
    assert second.count == 2
    assert first.state["m"].W_hh is not second.state["m"].W_hh, "the state is a copy"


@pytest.mark.parametrize("schedule", ["sequence", "timestep"])
def test_a_fork_steps_exactly_like_the_original_and_leaves_it_alone(schedule):
    tr = Trainer("the cat sat on the mat", seq_length=6, schedule=schedule)
    tr.train(5)
    params, position, updates = tr.params, tr.position, tr.updates
    twin = tr.fork()
    assert len(twin.history) == 0 and twin.updates == updates
    twin_results = [twin.step() for _ in range(3)]
    assert same(tr.params, params) and tr.position == position and tr.updates == updates
    results = [tr.step() for _ in range(3)]
    assert same(tr.params, twin.params), f"{schedule}: the fork went elsewhere"
    assert [r.loss for r in results] == [r.loss for r in twin_results]


@pytest.mark.parametrize("k", [None, 1, 2])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_online_passes_record_every_update_without_changing_them(k, optimizer):
    kw = {"schedule": "timestep", "truncation": k, "optimizer": optimizer}
    plain, recorded = Trainer("hello", **kw), Trainer("hello", **kw)
    for _ in range(2):
        before = recorded.params
        plain.step()
        record = recorded.step(record=True).record
        assert same(plain.params, recorded.params), f"k={k} {optimizer}: recording changed it"
        assert len(record.steps) == record.T == 4
        assert same(record.steps[0].applied.before, before)
        for i, step in enumerate(record.steps):
            t = i + 1
            assert step.t == t and step.first == (1 if k is None else max(1, t - k + 1))
            np.testing.assert_array_equal(step.trace.h[0], record.h[t])
            if i + 1 < len(record.steps):
                assert same(step.applied.after, record.steps[i + 1].applied.before)
            bwd = record.loss_backward(i)
            total = bwd.partial_sum(0)
            for n in PARAM_NAMES:  # the contributions over the reached copies sum to the gradient
                np.testing.assert_allclose(
                    getattr(total, n), getattr(step.applied.grads, n), rtol=1e-12, atol=1e-15
                )
        assert same(record.steps[-1].applied.after, recorded.params)
