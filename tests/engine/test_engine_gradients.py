"""Forward pass against an independent re-implementation; gradients against central differences.

Every activation × every valid (output, loss) pair × full BPTT and truncations 1, 2, T−1, T, T+5,
with nonzero biases and a nonzero h0, at 1e-7 relative (float64; Richardson-extrapolated central
differences of bptt_core.gradcheck, see `richardson_gradient`); then hypothesis over
sizes, lengths, seeds and soft targets.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bptt_core import (
    PARAM_NAMES,
    Params,
    RNNConfig,
    backward,
    forward,
    gradcheck,
    numerical_gradient,
)
from bptt_core import functions as F
from tests.engine._reference import (
    ACTIVATIONS,
    COMBO_IDS,
    COMBOS,
    PAIRS,
    delta_o_t,
    grads_report,
    loss_t,
    make_problem,
    ref_forward,
    rel_err,
    richardson_gradient,
)

GRAD_TOL = 1e-7  # relative, float64 against central differences
T_GRID = 6
TRUNCATIONS = (None, 1, 2, T_GRID - 1, T_GRID, T_GRID + 5)


def _check_grads(prob, k, tol=GRAD_TOL) -> dict[str, float]:
    trace = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    analytic = backward(prob.params, prob.cfg, trace, truncation=k).grads
    numeric = richardson_gradient(prob, k)
    errors = {n: rel_err(getattr(numeric, n), getattr(analytic, n)) for n in PARAM_NAMES}
    bad = {n: e for n, e in errors.items() if not e <= tol}
    assert not bad, (
        f"gradient ≠ central differences for {prob.label()} truncation={k}: "
        f"{grads_report(bad)} (tolerance {tol:g}); all: {grads_report(errors)}"
    )
    return errors


# ----------------------------------------------------------------------------- forward pass


@pytest.mark.parametrize(("activation", "output", "loss"), COMBOS, ids=COMBO_IDS)
@pytest.mark.parametrize("soft", [False, True], ids=["hard-targets", "soft-targets"])
def test_forward_matches_independent_reference(activation, output, loss, soft):
    prob = make_problem(activation, output, loss, T=7, seed=11, soft_targets=soft)
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    ref = ref_forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    for name in ("a", "h", "o", "y", "losses"):
        err = rel_err(getattr(tr, name), getattr(ref, name))
        assert err <= 1e-12, (
            f"forward .{name} differs from the reference ({err:.2e}) for {prob.label()}"
        )
    np.testing.assert_array_equal(tr.h0, prob.h0, err_msg=f"h0 not kept for {prob.label()}")
    np.testing.assert_array_equal(tr.h_prev[0], prob.h0)
    np.testing.assert_array_equal(tr.h_prev[1:], tr.h[:-1])
    # L is the sum over time, never a mean
    assert tr.loss == pytest.approx(ref.losses.sum(), rel=1e-13, abs=1e-15), prob.label()
    assert isinstance(tr.loss, float)
    assert tr.T == prob.T
    shapes = {"a": (7, 4), "h": (7, 4), "o": (7, 3), "y": (7, 3), "losses": (7,)}
    for name, shape in shapes.items():
        assert getattr(tr, name).shape == shape, f"{name} shape for {prob.label()}"
        assert getattr(tr, name).dtype == np.float64


def test_loss_is_a_sum_not_a_mean():
    """With a zero recurrent matrix every L(t) depends on x(t) alone, so the loss of a sequence is
    the sum of the one-step losses, and repeating the sequence doubles it (a mean would not)."""
    prob = make_problem("tanh", "softmax", "cross_entropy", T=5, seed=3)
    q = prob.params
    p = Params(W_xh=q.W_xh, W_hh=np.zeros_like(q.W_hh), W_hy=q.W_hy, b_h=q.b_h, b_y=q.b_y)
    one = forward(p, prob.cfg, prob.x, prob.d).loss
    two = forward(p, prob.cfg, np.vstack([prob.x, prob.x]), np.vstack([prob.d, prob.d])).loss
    assert two == pytest.approx(2 * one, rel=1e-14)
    steps = [forward(p, prob.cfg, prob.x[t : t + 1], prob.d[t : t + 1]).loss for t in range(5)]
    assert one == pytest.approx(sum(steps), rel=1e-14)


def test_default_h0_is_zero():
    prob = make_problem("sigmoid", "sigmoid", "sse", seed=5)
    a = forward(prob.params, prob.cfg, prob.x, prob.d)
    b = forward(prob.params, prob.cfg, prob.x, prob.d, np.zeros(prob.cfg.hidden_size))
    np.testing.assert_array_equal(a.h, b.h)
    np.testing.assert_array_equal(a.h0, np.zeros(prob.cfg.hidden_size))


@pytest.mark.parametrize(("output", "loss"), PAIRS, ids=[f"{o}-{lo}" for o, lo in PAIRS])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_output_delta_equals_explicit_jacobian_product(output, loss, soft):
    """delta_o(t) = (∂y/∂o)ᵀ ∂L(t)/∂y with the full output Jacobian (the "hello" notes' slip:
    with softmax + cross-entropy every output receives error, not only the target's)."""
    rng = np.random.default_rng(2)
    from tests.engine._reference import out_g, random_targets

    o = rng.normal(size=(6, 5)) * 2
    d = random_targets(rng, output, 6, 5, soft)
    y = np.stack([out_g(output, row) for row in o])
    got = F.output_delta(output, loss, y, d)
    want = np.stack([delta_o_t(output, loss, o[t], d[t]) for t in range(6)])
    assert rel_err(got, want) <= 1e-12, f"output delta wrong for {output}/{loss} soft={soft}"
    lt = F.losses(output, loss, o, y, d)
    want_l = np.array([loss_t(output, loss, o[t], d[t]) for t in range(6)])
    assert rel_err(lt, want_l) <= 1e-12, f"L(t) wrong for {output}/{loss} soft={soft}"
    if output == "softmax" and loss == "cross_entropy" and not soft:
        assert (got != 0).all(), "softmax + cross-entropy: every output must receive error"


def test_large_logits_stay_finite_and_correct():
    """Softmax and sigmoid cross-entropy from logits of size ~1000 must neither overflow nor take
    log(0): the loss equals the log-sum-exp form, the gradient y − d."""
    o = np.array([[1000.0, -1000.0, 0.0], [-800.0, 900.0, 850.0]])
    d = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    y = F.softmax(o)
    L = F.losses("softmax", "cross_entropy", o, y, d)
    want = np.array([np.logaddexp.reduce(o[0]) - o[0, 1], np.logaddexp.reduce(o[1]) - o[1, 2]])
    np.testing.assert_allclose(L, want, rtol=1e-14)
    np.testing.assert_allclose(F.output_delta("softmax", "cross_entropy", y, d), y - d, rtol=1e-14)
    ys = F.sigmoid(o)
    Ls = F.losses("sigmoid", "cross_entropy", o, ys, d)
    want_s = (np.logaddexp(0, o) - d * o).sum(axis=1)  # −[d log σ(o) + (1−d) log(1−σ(o))]
    assert np.isfinite(Ls).all()
    np.testing.assert_allclose(Ls, want_s, rtol=1e-14)
    assert np.isfinite(F.sigmoid(np.array([-1e308, 1e308]))).all()


# ----------------------------------------------------------------------------- central differences


@pytest.mark.parametrize("k", TRUNCATIONS, ids=[f"k={k}" for k in TRUNCATIONS])
@pytest.mark.parametrize(("activation", "output", "loss"), COMBOS, ids=COMBO_IDS)
def test_gradients_equal_central_differences(activation, output, loss, k):
    prob = make_problem(activation, output, loss, T=T_GRID, seed=7)
    assert np.abs(prob.params.b_h).min() > 0 and np.abs(prob.h0).min() > 0  # the hard case
    _check_grads(prob, k)


@pytest.mark.parametrize("k", (None, 1, 3), ids=["full", "k=1", "k=3"])
@pytest.mark.parametrize(("activation", "output", "loss"), COMBOS, ids=COMBO_IDS)
def test_gradcheck_api_reports_small_errors(activation, output, loss, k):
    prob = make_problem(activation, output, loss, T=4, seed=21, soft_targets=True)
    errors = gradcheck(prob.params, prob.cfg, prob.x, prob.d, prob.h0, truncation=k)
    assert set(errors) == set(PARAM_NAMES)
    assert max(errors.values()) <= GRAD_TOL, f"{prob.label()} k={k}: {grads_report(errors)}"


def test_the_gradient_check_can_fail():
    """The check must discriminate: full-BPTT differences against a k = 1 gradient, and a
    gradient with one entry nudged by 1e-5, are both rejected."""
    prob = make_problem("tanh", "softmax", "cross_entropy", T=6, seed=7)
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    numeric = numerical_gradient(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    wrong = backward(prob.params, prob.cfg, tr, truncation=1).grads
    assert rel_err(numeric.W_hh, wrong.W_hh) > 1e-3
    right = backward(prob.params, prob.cfg, tr).grads
    nudged = right.W_xh.copy()
    nudged[1, 2] += 1e-5 * np.abs(nudged).max()
    assert rel_err(numeric.W_xh, nudged) > GRAD_TOL
    assert rel_err(numeric.W_xh, right.W_xh) <= GRAD_TOL


def test_linear_output_with_cross_entropy_is_rejected():
    with pytest.raises(ValueError, match=r"(?i)linear output with cross-entropy"):
        RNNConfig(2, 3, 2, output="linear", loss="cross_entropy")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    activation=st.sampled_from(ACTIVATIONS),
    pair=st.sampled_from(PAIRS),
    I=st.integers(1, 4),
    H=st.integers(1, 5),
    O=st.integers(1, 4),
    T=st.integers(1, 7),
    seed=st.integers(0, 2**31 - 1),
    k_offset=st.one_of(st.none(), st.integers(1, 9)),
    soft=st.booleans(),
)
def test_gradients_random_sizes(activation, pair, I, H, O, T, seed, k_offset, soft):  # noqa: E741
    output, loss = pair
    prob = make_problem(activation, output, loss, I=I, H=H, O=O, T=T, seed=seed, soft_targets=soft)
    # Central differences cannot resolve a gradient far below the rounding noise of L itself:
    # skip draws where the loss is ~0 (a perfect fit) or a whole gradient array is nonzero but
    # < 1e-4·(1 + L) (e.g. W_hh when T = 1 and h0 ≈ 0). ~10% of draws; the grid above is exact.
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    grads = backward(prob.params, prob.cfg, tr, truncation=k_offset).grads
    floor = 1e-4 * (1.0 + tr.loss)
    assume(tr.loss > 1e-3)
    assume(all(np.abs(g).max() == 0 or np.abs(g).max() > floor for _, g in grads.items()))
    _check_grads(prob, k_offset)
