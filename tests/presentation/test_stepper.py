"""The stepper: 2T positions, forward t = 1..T then backward t = T..1, masks and running sums."""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import PARAM_NAMES, backward, forward
from bptt_viz.stepper import clamp_index, num_steps, phase_and_time, step_state
from tests.engine._reference import make_problem, rel_err


def _traces(T=5, k=None, seed=0, act="tanh"):
    prob = make_problem(act, "softmax", "cross_entropy", T=T, seed=seed)
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    return tr, backward(prob.params, prob.cfg, tr, truncation=k)


@pytest.mark.parametrize("T", [1, 2, 5, 9])
def test_order_of_steps(T):
    assert num_steps(T) == 2 * T
    order = [phase_and_time(i, T) for i in range(num_steps(T))]
    want = [("forward", t) for t in range(1, T + 1)] + [("backward", t) for t in range(T, 0, -1)]
    assert order == want, f"T={T}"
    assert clamp_index(-5, T) == 0 and clamp_index(10**6, T) == 2 * T - 1


@pytest.mark.parametrize("bad", [-1, 10, 2.0, "1", None, True])
def test_bad_step_index_is_a_value_error(bad):
    tr, bt = _traces(T=5)
    with pytest.raises(ValueError):
        step_state(tr, bt, bad)


@pytest.mark.parametrize("k", [None, 1, 2, 5], ids=["full", "k=1", "k=2", "k=T"])
def test_every_step_state(k):
    tr, bt = _traces(T=5, k=k)
    T = tr.T
    ps = bt.per_step  # the reference for contributions (built here on purpose)
    times = np.arange(1, T + 1)
    for i in range(num_steps(T)):
        st = step_state(tr, bt, i)
        where = f"k={k}, step {i} ({st.phase} t={st.t})"
        assert (st.index, st.T) == (i, T)
        assert st.is_last == (i == 2 * T - 1), where
        if i < T:
            assert (st.phase, st.t) == ("forward", i + 1), where
            np.testing.assert_array_equal(st.h_known, times <= st.t, err_msg=where)
            assert not st.delta_known.any(), where
            assert st.contribution is None, where
            for name in PARAM_NAMES:
                np.testing.assert_array_equal(getattr(st.running, name), 0.0, err_msg=where)
                assert getattr(st.running, name).shape == getattr(bt.grads, name).shape
        else:
            assert (st.phase, st.t) == ("backward", 2 * T - i), where
            assert st.h_known.all(), where
            np.testing.assert_array_equal(st.delta_known, times >= st.t, err_msg=where)
            s = st.t - 1  # 0-based copy index
            for name in PARAM_NAMES:
                arr = getattr(ps, name)
                contrib = getattr(st.contribution, name)
                assert rel_err(contrib, arr[s]) <= 1e-13, f"contribution.{name}, {where}"
                running = getattr(st.running, name)
                assert rel_err(running, arr[s:].sum(axis=0)) <= 1e-12, f"running.{name}, {where}"
        # values where known, NaN elsewhere
        for name, known in (("h", st.h_known), ("y", st.h_known), ("losses", st.h_known)):
            got, full = getattr(st, name), getattr(tr, name)
            np.testing.assert_array_equal(got[known], full[known], err_msg=f"{name}, {where}")
            assert np.isnan(got[~known]).all(), f"{name} must be NaN where unknown, {where}"
        for name in ("delta_o", "delta_h"):
            got, full = getattr(st, name), getattr(bt, name)
            np.testing.assert_array_equal(got[st.delta_known], full[st.delta_known], err_msg=where)
            assert np.isnan(got[~st.delta_known]).all(), f"{name} NaN where unknown, {where}"
        assert st.loss_so_far == pytest.approx(tr.losses[st.h_known].sum(), rel=1e-14), where
    # the last step: the running sums are the gradients
    last = step_state(tr, bt, num_steps(T) - 1)
    for name in PARAM_NAMES:
        assert rel_err(getattr(last.running, name), getattr(bt.grads, name)) <= 1e-12, name
    assert last.loss_so_far == pytest.approx(tr.loss, rel=1e-14)


def test_stepper_does_not_change_the_traces():
    tr, bt = _traces(T=4)
    h, dh = tr.h.copy(), bt.delta_h.copy()
    for i in range(8):
        st = step_state(tr, bt, i)
        st.h[:] = 0.0
        st.delta_h[:] = 0.0
    np.testing.assert_array_equal(tr.h, h)
    np.testing.assert_array_equal(bt.delta_h, dh)
