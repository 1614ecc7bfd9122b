"""Flow maps: ‖∂L(t)/∂a(k)‖, ‖∂h(t)/∂h(k)‖, the Pascanu bound, and truncation comparisons."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptt_core import (
    GAMMA,
    PARAM_NAMES,
    Params,
    RNNConfig,
    backward,
    forward,
    gradient_bound,
    gradient_flow,
    jacobian_norms,
    norms_by_distance,
    rescale_spectral_radius,
    sigma_max,
    truncation_comparison,
)
from bptt_core.flow import MAX_FLOW_T
from tests.engine._reference import (
    COMBO_IDS,
    COMBOS,
    act_f,
    act_fprime,
    delta_o_t,
    loss_t,
    make_problem,
    ref_forward,
    ref_state_jacobian,
    rel_err,
)

FLOW_COMBOS = [c for c in COMBOS if c[1:] in {("softmax", "cross_entropy"), ("sigmoid", "sse")}]
FLOW_IDS = [f"{a}-{o}-{lo}" for a, o, lo in FLOW_COMBOS]


def _loss_t_from_a_k(prob, ref, t: int, k: int, a_k: np.ndarray) -> float:
    """L(t) with a(k) replaced by ``a_k``: rerun the recurrence from copy k (0-based t ≥ k)."""
    p, cfg = prob.params, prob.cfg
    h = act_f(cfg.activation, a_k)
    for m in range(k + 1, t + 1):
        h = act_f(cfg.activation, p.W_xh @ prob.x[m] + p.W_hh @ h + p.b_h)
    return loss_t(cfg.output, cfg.loss, p.W_hy @ h + p.b_y, prob.d[t])


def _h_t_from_h_k(prob, t: int, k: int, h_k: np.ndarray) -> np.ndarray:
    p, cfg = prob.params, prob.cfg
    h = h_k
    for m in range(k + 1, t + 1):
        h = act_f(cfg.activation, p.W_xh @ prob.x[m] + p.W_hh @ h + p.b_h)
    return h


@pytest.mark.parametrize(("activation", "output", "loss"), FLOW_COMBOS, ids=FLOW_IDS)
def test_gradient_flow_equals_central_differences(activation, output, loss):
    prob = make_problem(activation, output, loss, T=5, seed=6)
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    ref = ref_forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    flow = gradient_flow(prob.params, prob.cfg, tr)
    T, H, eps = prob.T, prob.cfg.hidden_size, 1e-6
    assert flow.shape == (T, T)
    numeric = np.zeros((T, T))
    for t in range(T):
        for k in range(T):
            where = f"[t={t + 1}, k={k + 1}] {prob.label()}"
            if k > t:
                assert flow[t, k] == 0.0, f"above the diagonal must be 0: {where}"
                continue
            grad = np.zeros(H)
            for i in range(H):
                e = np.zeros(H)
                e[i] = eps
                up = _loss_t_from_a_k(prob, ref, t, k, ref.a[k] + e)
                down = _loss_t_from_a_k(prob, ref, t, k, ref.a[k] - e)
                grad[i] = (up - down) / (2 * eps)
            numeric[t, k] = np.linalg.norm(grad)
            # and the explicit Jacobian product: ∂L(t)/∂a(k) = f'(a(k)) ⊙ J(t,k)ᵀ W_hyᵀ δo(t)
            dL_dh_t = prob.params.W_hy.T @ delta_o_t(output, loss, ref.o[t], prob.d[t])
            J = ref_state_jacobian(prob.params, prob.cfg, ref.a, t, k)
            exact = act_fprime(activation, ref.a[k]) * (J.T @ dL_dh_t)
            assert flow[t, k] == pytest.approx(np.linalg.norm(exact), rel=1e-12, abs=1e-300), where
    # central differences: 1e-7 relative to the map's scale (the differences of L(t) carry an
    # absolute rounding error of ~1e-10, so tiny far-back entries are compared at that scale)
    err = rel_err(numeric, flow)
    assert err <= 1e-7, f"gradient_flow vs central differences: {err:.2e}, {prob.label()}"
    assert flow[np.tril_indices(T)].min() > 0, "every reachable entry carries some error"


def test_gradient_flow_columns_add_up_to_full_bptt_deltas():
    """Σ_t ∂L(t)/∂a(k) = delta_h(k): norms cannot be added, but the rows of a rank-one case
    can: with H = 1 the signed errors are ± the flow entries."""
    prob = make_problem("tanh", "softmax", "cross_entropy", H=1, T=6, seed=3)
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    flow = gradient_flow(prob.params, prob.cfg, tr)
    bt = backward(prob.params, prob.cfg, tr)
    ref = ref_forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    for k in range(prob.T):
        signed = 0.0
        for t in range(k, prob.T):
            dL_dh_t = prob.params.W_hy.T @ delta_o_t(
                "softmax", "cross_entropy", ref.o[t], prob.d[t]
            )
            J = ref_state_jacobian(prob.params, prob.cfg, ref.a, t, k)
            e = act_fprime("tanh", ref.a[k]) * (J.T @ dL_dh_t)
            assert abs(e[0]) == pytest.approx(flow[t, k], rel=1e-12)
            signed += e[0]
        assert signed == pytest.approx(bt.delta_h[k, 0], rel=1e-12), f"k={k + 1}"


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_jacobian_norms_against_products_and_central_differences(activation):
    prob = make_problem(activation, "softmax", "cross_entropy", T=6, H=4, seed=10, scale=1.5)
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    ref = ref_forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    norms = jacobian_norms(prob.params, prob.cfg, tr)
    T, H, eps = prob.T, prob.cfg.hidden_size, 1e-6
    assert norms.shape == (T, T)
    np.testing.assert_array_equal(np.diag(norms), 1.0)
    np.testing.assert_array_equal(norms[np.triu_indices(T, 1)], 0.0)
    for t in range(T):
        for k in range(t):
            where = f"[t={t + 1}, k={k + 1}] {prob.label()}"
            J = ref_state_jacobian(prob.params, prob.cfg, ref.a, t, k)
            spec = np.linalg.svd(J, compute_uv=False)[0]
            assert norms[t, k] == pytest.approx(spec, rel=1e-12, abs=1e-300), f"product {where}"
            Jn = np.zeros((H, H))
            for i in range(H):
                e = np.zeros(H)
                e[i] = eps
                Jn[:, i] = (
                    _h_t_from_h_k(prob, t, k, ref.h[k] + e)
                    - _h_t_from_h_k(prob, t, k, ref.h[k] - e)
                ) / (2 * eps)
            assert rel_err(Jn, J) <= 1e-7, f"central differences of h(t) wrt h(k) {where}"
            spec_n = np.linalg.svd(Jn, compute_uv=False)[0]
            assert norms[t, k] == pytest.approx(spec_n, rel=1e-7, abs=1e-12), where


def test_linear_activation_jacobian_is_a_matrix_power():
    prob = make_problem("linear", "linear", "sse", T=6, H=3, seed=1)
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    norms = jacobian_norms(prob.params, prob.cfg, tr)
    for t in range(6):
        for k in range(t + 1):
            want = np.linalg.norm(np.linalg.matrix_power(prob.params.W_hh, t - k), 2)
            assert norms[t, k] == pytest.approx(want, rel=1e-12), (t, k)


@settings(max_examples=100, deadline=None)
@given(
    activation=st.sampled_from(["tanh", "sigmoid", "relu", "linear"]),
    H=st.integers(1, 6),
    T=st.integers(2, 9),
    radius=st.floats(0.1, 3.0),
    seed=st.integers(0, 2**31 - 1),
    input_scale=st.sampled_from([0.0, 0.5, 3.0]),
)
def test_jacobian_norms_never_exceed_the_pascanu_bound(activation, H, T, radius, seed, input_scale):
    rng = np.random.default_rng(seed)
    cfg = RNNConfig(3, H, 2, activation=activation)
    W_hh = rescale_spectral_radius(rng.normal(size=(H, H)), radius)
    p = Params(
        W_xh=rng.normal(size=(H, 3)),
        W_hh=W_hh,
        W_hy=rng.normal(size=(2, H)),
        b_h=rng.normal(size=H) * 0.3,
        b_y=np.zeros(2),
    )
    x = rng.normal(size=(T, 3)) * input_scale
    d = np.eye(2)[rng.integers(0, 2, T)]
    tr = forward(p, cfg, x, d)
    norms = jacobian_norms(p, cfg, tr)
    bound = gradient_bound(cfg, p, T - 1)
    smax = np.linalg.svd(W_hh, compute_uv=False)[0]
    assert sigma_max(W_hh) == pytest.approx(smax, rel=1e-12)
    assert smax >= radius * (1 - 1e-9), "σ_max ≥ ρ"
    gamma = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}[activation]
    assert GAMMA[activation] == gamma and cfg.gamma == gamma
    np.testing.assert_allclose(bound, (gamma * smax) ** np.arange(T), rtol=1e-12)
    dist, vals = norms_by_distance(norms)
    worst = np.max(vals / bound[dist])
    assert worst <= 1 + 1e-10, (
        f"‖∂h(t)/∂h(k)‖ exceeds (γσ_max)^(t−k) by a factor {worst} for {activation}, H={H}, "
        f"T={T}, ρ={radius}, seed={seed}"
    )


def test_norms_by_distance_lists_the_lower_triangle():
    m = np.arange(16.0).reshape(4, 4)
    dist, vals = norms_by_distance(m)
    t, k = np.tril_indices(4)
    np.testing.assert_array_equal(dist, t - k)
    np.testing.assert_array_equal(vals, m[t, k])
    assert dist.dtype == np.int64


@pytest.mark.parametrize(("activation", "output", "loss"), COMBOS, ids=COMBO_IDS)
def test_truncation_comparison_matches_backward(activation, output, loss):
    prob = make_problem(activation, output, loss, T=6, seed=13, scale=1.3)
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    cmp = truncation_comparison(prob.params, prob.cfg, tr)
    T = prob.T
    names = (*PARAM_NAMES, "all")
    assert cmp.names == names
    np.testing.assert_array_equal(cmp.ks, np.arange(1, T + 1))
    for arr in (cmp.rel_error, cmp.cosine, cmp.dropped_share, cmp.distance_norms):
        assert arr.shape == (T, len(names))
    full = backward(prob.params, prob.cfg, tr).grads
    g = {n: getattr(full, n).ravel() for n in PARAM_NAMES}
    g["all"] = full.flat()
    prev = {n: np.zeros_like(v) for n, v in g.items()}
    for k in range(1, T + 1):
        gk_p = backward(prob.params, prob.cfg, tr, truncation=k).grads
        gk = {n: getattr(gk_p, n).ravel() for n in PARAM_NAMES}
        gk["all"] = gk_p.flat()
        for c, n in enumerate(names):
            where = f"{n}, k={k}, {prob.label()}"
            gn = np.linalg.norm(g[n])
            rel = np.linalg.norm(gk[n] - g[n]) / gn
            cos = gk[n] @ g[n] / (np.linalg.norm(gk[n]) * gn)
            assert cmp.rel_error[k - 1, c] == pytest.approx(rel, rel=1e-9, abs=1e-12), where
            assert cmp.cosine[k - 1, c] == pytest.approx(cos, rel=1e-9, abs=1e-12), where
            # G_{k−1}: the part carried over distance k−1 is g_k − g_{k−1}
            part = np.linalg.norm(gk[n] - prev[n])
            assert cmp.distance_norms[k - 1, c] == pytest.approx(part, rel=1e-9, abs=1e-12), where
        prev = gk
    total = cmp.distance_norms.sum(axis=0)
    for k in range(1, T + 1):
        want = cmp.distance_norms[k:].sum(axis=0) / np.where(total > 0, total, 1)
        np.testing.assert_allclose(cmp.dropped_share[k - 1], want, rtol=1e-12, atol=1e-15)
    # k = T is full BPTT
    np.testing.assert_allclose(cmp.rel_error[-1], 0.0, atol=1e-12)
    np.testing.assert_allclose(cmp.cosine[-1], 1.0, atol=1e-12)
    np.testing.assert_array_equal(cmp.dropped_share[-1], 0.0)
    # the output layer sees no recurrence: W_hy and b_y are exact for every k
    for n in ("W_hy", "b_y"):
        c = names.index(n)
        np.testing.assert_array_equal(cmp.rel_error[:, c], 0.0, err_msg=n)
        np.testing.assert_array_equal(cmp.dropped_share[:, c], 0.0, err_msg=n)
    # W_hh loses less the further the error may travel
    c = names.index("W_hh")
    steps = np.diff(cmp.dropped_share[:, c])
    assert (steps <= 1e-15).all(), f"W_hh dropped share increases with k: {cmp.dropped_share[:, c]}"
    assert cmp.dropped_share[0, c] > 0, "k = 1 drops part of W_hh's gradient"


def test_flow_maps_are_limited_in_length():
    cfg = RNNConfig(1, 2, 1, output="sigmoid")
    p = Params(np.ones((2, 1)), np.eye(2) * 0.5, np.ones((1, 2)), np.zeros(2), np.zeros(1))
    T = MAX_FLOW_T + 1
    tr = forward(p, cfg, np.ones((T, 1)), np.ones((T, 1)))
    for fn in (gradient_flow, jacobian_norms, truncation_comparison):
        with pytest.raises(ValueError, match=str(MAX_FLOW_T)):
            fn(p, cfg, tr)
    ok = forward(p, cfg, np.ones((MAX_FLOW_T, 1)), np.ones((MAX_FLOW_T, 1)))
    assert gradient_flow(p, cfg, ok).shape == (MAX_FLOW_T, MAX_FLOW_T)
