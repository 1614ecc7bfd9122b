"""Truncation semantics of DESIGN §3, exactly.

truncation=k lets each loss term L(t) send its error into a(t), a(t−1), …, a(t−k+1) only (k copies
counting its own); k = 1 sends no error across a recurrent edge; k ≥ T is full BPTT.
"""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import PARAM_NAMES, Params, RNNConfig, backward, forward
from bptt_core.backward import full_hidden_deltas, truncated_hidden_deltas
from tests.engine._reference import (
    COMBO_IDS,
    COMBOS,
    act_fprime,
    make_problem,
    ref_forward,
    ref_window_backward,
    rel_err,
)

EXACT = 1e-12


def _run(prob, k):
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    return tr, backward(prob.params, prob.cfg, tr, truncation=k)


@pytest.mark.parametrize(("activation", "output", "loss"), COMBOS, ids=COMBO_IDS)
def test_k_at_least_T_is_full_bptt(activation, output, loss):
    prob = make_problem(activation, output, loss, T=5, seed=4)
    _, full = _run(prob, None)
    assert full.truncation is None
    for k in (prob.T, prob.T + 1, prob.T + 5, 10**6):
        _, bt = _run(prob, k)
        assert bt.truncation == k
        for name in PARAM_NAMES:
            np.testing.assert_array_equal(
                getattr(bt.grads, name),
                getattr(full.grads, name),
                err_msg=f"k={k} ≥ T={prob.T} differs from full BPTT in {name} for {prob.label()}",
            )
        np.testing.assert_array_equal(bt.delta_h, full.delta_h)
        np.testing.assert_array_equal(bt.dh_carried, full.dh_carried)


@pytest.mark.parametrize(("activation", "output", "loss"), COMBOS, ids=COMBO_IDS)
def test_windowed_recursion_at_k_T_equals_full_recursion(activation, output, loss):
    """``backward`` dispatches to the full recursion for k ≥ T, so the windowed routine is checked
    on its own: at k = T and k = T + 3 it must reproduce the full recursion."""
    prob = make_problem(activation, output, loss, T=6, seed=8)
    _tr, bt = _run(prob, None)
    W_hh = prob.params.W_hh
    full_d, full_c = full_hidden_deltas(W_hh, bt.fprime, bt.dh_local)
    for k in (prob.T, prob.T + 3):
        win_d, win_c = truncated_hidden_deltas(W_hh, bt.fprime, bt.dh_local, k)
        assert rel_err(win_d, full_d) <= EXACT, f"delta_h k={k} for {prob.label()}"
        assert rel_err(win_c, full_c) <= EXACT, f"dh_carried k={k} for {prob.label()}"
    # and below T the two differ (the window really cuts)
    win_d, _ = truncated_hidden_deltas(W_hh, bt.fprime, bt.dh_local, prob.T - 1)
    assert rel_err(win_d, full_d) > 1e-10, prob.label()


@pytest.mark.parametrize(("activation", "output", "loss"), COMBOS, ids=COMBO_IDS)
def test_k1_sends_no_error_across_a_recurrent_edge(activation, output, loss):
    prob = make_problem(activation, output, loss, T=6, seed=9)
    _tr, bt = _run(prob, 1)
    ref = ref_forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    np.testing.assert_array_equal(bt.dh_carried, 0.0, err_msg=f"k=1 carried error: {prob.label()}")
    # delta_h(t) = f'(a(t)) ⊙ W_hyᵀ delta_o(t)
    want = act_fprime(prob.cfg.activation, ref.a) * (bt.delta_o @ prob.params.W_hy)
    assert rel_err(bt.delta_h, want) <= EXACT, prob.label()
    # W_hh still learns from its own step: Σ_t delta_h(t) h(t−1)ᵀ, h(0) = h0 included
    want_whh = sum(np.outer(want[t], ref.h_prev[t]) for t in range(prob.T))
    assert rel_err(bt.grads.W_hh, want_whh) <= EXACT, prob.label()
    assert np.linalg.norm(bt.grads.W_hh) > 1e-3 * np.linalg.norm(bt.grads.W_hy), (
        f"k=1 must still give W_hh a gradient: {prob.label()}"
    )


@pytest.mark.parametrize(("activation", "output", "loss"), COMBOS, ids=COMBO_IDS)
def test_truncation_equals_per_loss_window_reference_for_every_k(activation, output, loss):
    """The independent definition: backprop each L(t) alone through ≤ k copies, then sum."""
    prob = make_problem(activation, output, loss, T=7, seed=12, soft_targets=True)
    for k in (None, *range(1, prob.T + 3)):
        _tr, bt = _run(prob, k)
        ref = ref_window_backward(prob.params, prob.cfg, prob.x, prob.d, prob.h0, k)
        for name in PARAM_NAMES:
            err = rel_err(getattr(bt.grads, name), ref.grads[name])
            assert err <= EXACT, (
                f"{name} k={k}: {err:.2e} vs per-loss-window reference, {prob.label()}"
            )
        assert rel_err(bt.delta_h, ref.delta_h) <= EXACT, f"delta_h k={k} {prob.label()}"
        assert rel_err(bt.delta_o, ref.delta_o) <= EXACT, f"delta_o k={k} {prob.label()}"
        assert rel_err(bt.dh_carried, ref.dh_carried) <= EXACT, f"dh_carried k={k} {prob.label()}"
        # and the chain-rule bookkeeping of the trace itself
        np.testing.assert_allclose(bt.dh_local, bt.delta_o @ prob.params.W_hy, rtol=1e-13, atol=0)
        np.testing.assert_allclose(
            bt.delta_h, bt.fprime * (bt.dh_local + bt.dh_carried), rtol=1e-12, atol=1e-15
        )


def test_full_bptt_carried_error_recursion():
    """Full BPTT: dh_carried(t) = W_hhᵀ delta_h(t+1) and dh_carried(T) = 0."""
    prob = make_problem("tanh", "softmax", "cross_entropy", T=6, seed=1)
    _, bt = _run(prob, None)
    np.testing.assert_array_equal(bt.dh_carried[-1], 0.0)
    np.testing.assert_allclose(bt.dh_carried[:-1], bt.delta_h[1:] @ prob.params.W_hh, rtol=1e-13)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_britz_bptt_truncate_n_equals_k_n_plus_1(n):
    """Britz's loop (WildML tutorial) with bptt_truncate = n visits n+1 copies: equals k = n+1."""
    prob = make_problem("tanh", "softmax", "cross_entropy", T=7, seed=2)
    p, (T, H) = prob.params, (prob.T, prob.cfg.hidden_size)
    ref = ref_forward(p, prob.cfg, prob.x, prob.d, prob.h0)
    s = np.vstack([ref.h, prob.h0])  # s[-1] = h(0), as in Britz's code
    dU, dW = np.zeros((H, prob.cfg.input_size)), np.zeros((H, H))
    for t in range(T):
        delta_t = (p.W_hy.T @ (ref.y[t] - prob.d[t])) * (1 - s[t] ** 2)
        for step in range(t, max(0, t - n) - 1, -1):
            dW += np.outer(delta_t, s[step - 1])
            dU += np.outer(delta_t, prob.x[step])
            delta_t = (p.W_hh.T @ delta_t) * (1 - s[step - 1] ** 2)
    _, bt = _run(prob, n + 1)
    assert rel_err(bt.grads.W_hh, dW) <= EXACT, f"bptt_truncate={n} vs k={n + 1}"
    assert rel_err(bt.grads.W_xh, dU) <= EXACT, f"bptt_truncate={n} vs k={n + 1}"
    if n >= 1:  # the off-by-one reading (k = n) must not match
        _, off = _run(prob, n)
        assert rel_err(off.grads.W_hh, dW) > 1e-6, f"bptt_truncate={n} also matches k={n}"


# ----------------------------------------------------------------------------- by hand
#
# I = H = O = 1, linear activation, linear output, SSE, T = 3. Numbers chosen to be exact in
# binary:  W_xh = 1, W_hh = 0.5, W_hy = 2, b_h = 0.5, b_y = −1, h0 = 2, x = (1, −1, 0),
# d = (2, 0, 1).
#
# forward   a1 = 1·1 + 0.5·2 + 0.5 = 2.5      h1 = 2.5      o1 = 2·2.5 − 1 = 4       e1 = 4 − 2 = 2
#           a2 = −1 + 0.5·2.5 + 0.5 = 0.75    h2 = 0.75     o2 = 0.5                 e2 = 0.5
#           a3 = 0 + 0.5·0.75 + 0.5 = 0.875   h3 = 0.875    o3 = 0.75                e3 = −0.25
#           L = ½(2² + 0.5² + 0.25²) = ½(4 + 0.25 + 0.0625) = 2.15625
# output    delta_o = e = (2, 0.5, −0.25);  ∂L(t)/∂h(t) = W_hy e = (4, 1, −0.5);  f' = 1
#           ∂L/∂W_hy = Σ e h = 2·2.5 + 0.5·0.75 − 0.25·0.875 = 5.15625;  ∂L/∂b_y = Σ e = 2.25
# The error of L(t) at copy s is W_hh^(t−s) · ∂L(t)/∂h(t) (f' = 1):
#   L1 → copy1: 4;  L2 → copy2: 1, copy1: 0.5;  L3 → copy3: −0.5, copy2: −0.25, copy1: −0.125
# k = 1: delta_h = (4, 1, −0.5)
#        ∂L/∂W_xh = 4·1 + 1·(−1) + (−0.5)·0 = 3
#        ∂L/∂W_hh = 4·h0 + 1·h1 + (−0.5)·h2 = 8 + 2.5 − 0.375 = 10.125
#        ∂L/∂b_h  = 4 + 1 − 0.5 = 4.5
# k = 2: delta_h = (4 + 0.5, 1 − 0.25, −0.5) = (4.5, 0.75, −0.5)   (L3 → copy1 cut off)
#        ∂L/∂W_xh = 4.5 − 0.75 = 3.75
#        ∂L/∂W_hh = 4.5·2 + 0.75·2.5 − 0.5·0.75 = 9 + 1.875 − 0.375 = 10.5
#        ∂L/∂b_h  = 4.5 + 0.75 − 0.5 = 4.75
# k = 3 (= T, full): delta_h = (4.5 − 0.125, 0.75, −0.5) = (4.375, 0.75, −0.5)
#        ∂L/∂W_xh = 4.375 − 0.75 = 3.625
#        ∂L/∂W_hh = 4.375·2 + 0.75·2.5 − 0.5·0.75 = 8.75 + 1.875 − 0.375 = 10.25
#        ∂L/∂b_h  = 4.375 + 0.75 − 0.5 = 4.625

HAND_CFG = RNNConfig(1, 1, 1, activation="linear", output="linear", loss="sse")
HAND_PARAMS = Params(
    W_xh=np.array([[1.0]]),
    W_hh=np.array([[0.5]]),
    W_hy=np.array([[2.0]]),
    b_h=np.array([0.5]),
    b_y=np.array([-1.0]),
)
HAND_X = np.array([[1.0], [-1.0], [0.0]])
HAND_D = np.array([[2.0], [0.0], [1.0]])
HAND_H0 = np.array([2.0])
HAND_EXPECTED = {
    # k: (delta_h, W_xh, W_hh, b_h)
    1: ((4.0, 1.0, -0.5), 3.0, 10.125, 4.5),
    2: ((4.5, 0.75, -0.5), 3.75, 10.5, 4.75),
    3: ((4.375, 0.75, -0.5), 3.625, 10.25, 4.625),
    None: ((4.375, 0.75, -0.5), 3.625, 10.25, 4.625),
}


def test_hand_computed_forward():
    tr = forward(HAND_PARAMS, HAND_CFG, HAND_X, HAND_D, HAND_H0)
    np.testing.assert_array_equal(tr.a[:, 0], [2.5, 0.75, 0.875])
    np.testing.assert_array_equal(tr.h[:, 0], [2.5, 0.75, 0.875])
    np.testing.assert_array_equal(tr.o[:, 0], [4.0, 0.5, 0.75])
    np.testing.assert_array_equal(tr.losses, [2.0, 0.125, 0.03125])
    assert tr.loss == 2.15625


@pytest.mark.parametrize("k", [1, 2, 3, None], ids=["k=1", "k=2", "k=3", "full"])
def test_hand_computed_truncated_gradients(k):
    tr = forward(HAND_PARAMS, HAND_CFG, HAND_X, HAND_D, HAND_H0)
    bt = backward(HAND_PARAMS, HAND_CFG, tr, truncation=k)
    delta_h, w_xh, w_hh, b_h = HAND_EXPECTED[k]
    np.testing.assert_array_equal(bt.delta_o[:, 0], [2.0, 0.5, -0.25], err_msg=f"k={k}")
    np.testing.assert_array_equal(bt.delta_h[:, 0], delta_h, err_msg=f"delta_h k={k}")
    assert bt.grads.W_xh[0, 0] == w_xh, f"W_xh k={k}"
    assert bt.grads.W_hh[0, 0] == w_hh, f"W_hh k={k}"
    assert bt.grads.b_h[0] == b_h, f"b_h k={k}"
    assert bt.grads.W_hy[0, 0] == 5.15625, f"W_hy k={k}"
    assert bt.grads.b_y[0] == 2.25, f"b_y k={k}"
