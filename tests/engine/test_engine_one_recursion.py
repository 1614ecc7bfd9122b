"""The engine says each piece of maths once: one recursion over distance, one online step, one
spectral-radius rescaling.

- ``errors_by_distance`` (e_0(s) = f'(a(s)) ⊙ dh_local(s), e_j(s) = f'(a(s)) ⊙ W_hhᵀ e_{j−1}(s+1))
  against every loss term backpropagated alone through all its copies (the per-loss reference),
  and its three users (truncated ``backward``, ``gradient_flow``, ``truncation_comparison``)
  against the same reference;
- the Trainer's online ("timestep") schedule against a plain-NumPy reference written here: forward
  step, error of L(t) alone through at most k stored copies, clipping and every optimizer;
- ``with_spectral_radius``.

Indices are 0-based. Tolerances: float64 rounding only (1e-12 relative to each array's scale).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from bptt_core import (
    PARAM_NAMES,
    Params,
    RNNConfig,
    Trainer,
    backward,
    forward,
    gradient_flow,
    init_params,
    rescale_spectral_radius,
    spectral_radius,
    truncation_comparison,
    with_spectral_radius,
)
from bptt_core.backward import errors_by_distance, local_errors
from tests.engine._reference import (
    ACTIVATIONS,
    act_f,
    act_fprime,
    delta_o_t,
    loss_t,
    make_problem,
    ref_forward,
    ref_window_backward,
    rel_err,
)

EXACT = 1e-12
# the modules themselves (``bptt_core.backward`` the attribute is the function ``backward``)
backward_module = importlib.import_module("bptt_core.backward")
flow_module = importlib.import_module("bptt_core.flow")


# ----------------------------------------------------------------------------- per-loss reference


def ref_errors_per_loss(prob) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """E[t, s] = ∂L(t)/∂a(s) and D[t, s] = ∂L(t)/∂h(s) for s ≤ t (0 above), each (T, T, H):
    every loss term L(t) backpropagated alone through all its copies, one vector at a time.
    Also returns f'(a) (T, H) and ∂L(t)/∂h(t) (T, H), written from the reference forward pass."""
    cfg, p = prob.cfg, prob.params
    fw = ref_forward(p, cfg, prob.x, prob.d, prob.h0)
    T, H = prob.T, cfg.hidden_size
    E, D = np.zeros((T, T, H)), np.zeros((T, T, H))
    fprime = np.array([act_fprime(cfg.activation, fw.a[s]) for s in range(T)])
    own = np.array(
        [p.W_hy.T @ delta_o_t(cfg.output, cfg.loss, fw.o[t], prob.d[t]) for t in range(T)]
    )
    for t in range(T):
        dh = own[t]
        for s in range(t, -1, -1):
            D[t, s] = dh
            E[t, s] = fprime[s] * dh
            dh = p.W_hh.T @ E[t, s]
    return E, D, fprime, own


CASES = [
    (act, out, loss, T)
    for act in ACTIVATIONS
    for out, loss in (("softmax", "cross_entropy"), ("sigmoid", "sse"))
    for T in (1, 2, 5, 8)
]
CASE_IDS = [f"{a}-{o}-{lo}-T{T}" for a, o, lo, T in CASES]


@pytest.mark.parametrize(("activation", "output", "loss", "T"), CASES, ids=CASE_IDS)
def test_errors_by_distance_equal_the_per_loss_reference(activation, output, loss, T):
    prob = make_problem(activation, output, loss, T=T, seed=11 + T)
    E, D, fprime, own = ref_errors_per_loss(prob)
    W_hh = prob.params.W_hh
    for n in sorted({T, 1, min(3, T)}):  # the last n losses send error (n = T: all of them)
        steps = list(errors_by_distance(W_hh, fprime, own[T - n :]))
        assert len(steps) == T, f"n={n}: {len(steps)} distances, want T={T} for {prob.label()}"
        for j, step in enumerate(steps):
            first = max(T - n - j, 0)
            where = f"n={n} j={j} for {prob.label()}"
            assert step.copies == slice(first, T - j), f"copies reached, {where}"
            s = np.arange(first, T - j)
            assert rel_err(step.e, E[s + j, s]) <= EXACT, f"e_j(s) = ∂L(s+j)/∂a(s), {where}"
            assert rel_err(step.dh, D[s + j, s]) <= EXACT, f"∂L(s+j)/∂h(s), {where}"


@pytest.mark.parametrize(("activation", "output", "loss", "T"), CASES, ids=CASE_IDS)
def test_local_errors_equal_the_reference(activation, output, loss, T):
    prob = make_problem(activation, output, loss, T=T, seed=3 + T)
    _, _, fprime, own = ref_errors_per_loss(prob)
    trace = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    errors = local_errors(prob.params, prob.cfg, trace)
    fw = ref_forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    want_o = np.array([delta_o_t(output, loss, fw.o[t], prob.d[t]) for t in range(T)])
    assert rel_err(errors.delta_o, want_o) <= EXACT, f"delta_o for {prob.label()}"
    assert rel_err(errors.dh_local, own) <= EXACT, f"dh_local for {prob.label()}"
    assert rel_err(errors.fprime, fprime) <= EXACT, f"f'(a) for {prob.label()}"


@pytest.mark.parametrize(("activation", "output", "loss", "T"), CASES, ids=CASE_IDS)
def test_every_user_of_the_recursion_agrees_with_the_per_loss_reference(
    activation, output, loss, T
):
    prob = make_problem(activation, output, loss, T=T, seed=29 + T)
    E, _, _, _ = ref_errors_per_loss(prob)
    trace = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    for k in sorted({1, 2, 3, max(T - 1, 1)}):
        bt = backward(prob.params, prob.cfg, trace, truncation=k)
        ref = ref_window_backward(prob.params, prob.cfg, prob.x, prob.d, prob.h0, k)
        where = f"k={k} for {prob.label()}"
        assert rel_err(bt.delta_h, ref.delta_h) <= EXACT, f"truncated delta_h, {where}"
        assert rel_err(bt.dh_carried, ref.dh_carried) <= EXACT, f"truncated dh_carried, {where}"
        for name in PARAM_NAMES:
            got, want = getattr(bt.grads, name), ref.grads[name]
            assert rel_err(got, want) <= EXACT, f"truncated ∂L/∂{name}, {where}"
    flow = gradient_flow(prob.params, prob.cfg, trace)
    want_flow = np.linalg.norm(E, axis=2)  # ‖∂L(t)/∂a(s)‖, 0 above the diagonal
    assert rel_err(flow, want_flow) <= EXACT, f"gradient_flow for {prob.label()}"
    comparison = truncation_comparison(prob.params, prob.cfg, trace)
    want_dist = _distance_norms(prob, E)
    assert rel_err(comparison.distance_norms, want_dist) <= EXACT, (
        f"truncation_comparison's ‖G_j‖ for {prob.label()}"
    )


def _distance_norms(prob, E: np.ndarray) -> np.ndarray:
    """(T, 6) ‖G_j‖ per parameter and for θ as one vector, G_j = the gradient of the errors
    ∂L(s+j)/∂a(s), summed over the copies s (the output layer only at j = 0)."""
    fw = ref_forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    T, cfg = prob.T, prob.cfg
    out = np.zeros((T, len(PARAM_NAMES) + 1))
    for j in range(T):
        G = {n: np.zeros(s) for n, s in cfg.shapes().items()}
        for s in range(T - j):
            G["W_xh"] += np.outer(E[s + j, s], prob.x[s])
            G["W_hh"] += np.outer(E[s + j, s], fw.h_prev[s])
            G["b_h"] += E[s + j, s]
            if j == 0:
                do = delta_o_t(cfg.output, cfg.loss, fw.o[s], prob.d[s])
                G["W_hy"] += np.outer(do, fw.h[s])
                G["b_y"] += do
        norms = [np.linalg.norm(G[n]) for n in PARAM_NAMES]
        out[j] = [*norms, np.sqrt(sum(v * v for v in norms))]
    return out


def test_the_recursion_is_written_once(monkeypatch):
    """Truncated backward, both flow analyses and the Trainer's online step all go through
    ``errors_by_distance``."""
    calls: list[int] = []
    original = backward_module.errors_by_distance

    def spy(W_hh, fprime, dh_local):
        calls.append(dh_local.shape[0])
        return original(W_hh, fprime, dh_local)

    monkeypatch.setattr(backward_module, "errors_by_distance", spy)
    monkeypatch.setattr(flow_module, "errors_by_distance", spy)
    prob = make_problem("tanh", "softmax", "cross_entropy", T=5, seed=2)
    trace = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    users = {
        "backward(truncation=2)": lambda: backward(prob.params, prob.cfg, trace, truncation=2),
        "gradient_flow": lambda: gradient_flow(prob.params, prob.cfg, trace),
        "truncation_comparison": lambda: truncation_comparison(prob.params, prob.cfg, trace),
        "Trainer timestep": lambda: Trainer("abcab", schedule="timestep").step(),
    }
    for name, use in users.items():
        calls.clear()
        use()
        assert calls, f"{name} does not use errors_by_distance"
    assert calls == [1] * 4, f"the online step sends the newest loss alone: {calls}"


# ----------------------------------------------------------------------------- online schedule


class RefOptimizer:
    """SGD, momentum (μ = 0.9), Adagrad (ε = 1e−8) and Adam (0.9, 0.999, 1e−8), written out."""

    def __init__(self, name: str, eta: float) -> None:
        self.name, self.eta = name, eta
        self.state: dict[str, dict[str, np.ndarray]] = {n: {} for n in PARAM_NAMES}
        self.t = 0

    def update(self, p: dict[str, np.ndarray], g: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.t += 1
        return {n: p[n] - self._step(self.state[n], g[n]) for n in PARAM_NAMES}

    def _step(self, st: dict[str, np.ndarray], g: np.ndarray) -> np.ndarray:
        if self.name == "sgd":
            return self.eta * g
        if self.name == "momentum":
            st["v"] = 0.9 * st.get("v", np.zeros_like(g)) + g
            return self.eta * st["v"]
        if self.name == "adagrad":
            st["m"] = st.get("m", np.zeros_like(g)) + g * g
            return self.eta * g / np.sqrt(st["m"] + 1e-8)
        st["m"] = 0.9 * st.get("m", np.zeros_like(g)) + (1 - 0.9) * g
        st["v"] = 0.999 * st.get("v", np.zeros_like(g)) + (1 - 0.999) * g * g
        m_hat, v_hat = st["m"] / (1 - 0.9**self.t), st["v"] / (1 - 0.999**self.t)
        return self.eta * m_hat / (np.sqrt(v_hat) + 1e-8)


def ref_clip(g: dict[str, np.ndarray], method: str, c: float):
    """(clipped g, ‖g‖ before, whether anything changed)."""
    norm = float(np.sqrt(sum(np.sum(a * a) for a in g.values())))
    if method == "value":
        return (
            {n: np.clip(a, -c, c) for n, a in g.items()},
            norm,
            any((np.abs(a) > c).any() for a in g.values()),
        )
    if method == "norm" and norm > c:
        return {n: a * (c / norm) for n, a in g.items()}, norm, True
    return g, norm, False


def ref_online_pass(p, opt, cfg: RNNConfig, x, d, h0, k, clip, c):
    """One pass of Guo's online BPTT: at each t, the forward step with the current θ from the
    carried h, then L(t) alone back through at most k stored copies (a and h as they were
    computed), clipping, one update. Returns (θ, Σ_t L(t), last ‖g‖, h(T), updates clipped)."""
    T, H = x.shape[0], cfg.hidden_size
    a_hist, h_hist = np.zeros((T, H)), np.zeros((T + 1, H))
    h_hist[0] = h0
    total, norm, n_clipped = 0.0, float("nan"), 0
    for t in range(T):
        a_hist[t] = p["W_xh"] @ x[t] + p["W_hh"] @ h_hist[t] + p["b_h"]
        h_hist[t + 1] = act_f(cfg.activation, a_hist[t])
        o = p["W_hy"] @ h_hist[t + 1] + p["b_y"]
        total += loss_t(cfg.output, cfg.loss, o, d[t])
        do = delta_o_t(cfg.output, cfg.loss, o, d[t])
        g = {n: np.zeros_like(a) for n, a in p.items()}
        g["W_hy"] += np.outer(do, h_hist[t + 1])
        g["b_y"] += do
        dh = p["W_hy"].T @ do
        for s in range(t, (0 if k is None else max(0, t - k + 1)) - 1, -1):
            e = act_fprime(cfg.activation, a_hist[s]) * dh
            g["W_xh"] += np.outer(e, x[s])
            g["W_hh"] += np.outer(e, h_hist[s])
            g["b_h"] += e
            dh = p["W_hh"].T @ e
        g, norm, clipped = ref_clip(g, clip, c)
        n_clipped += clipped
        p = opt.update(p, g)
    return p, total, norm, h_hist[T], n_clipped


NETS = {  # activation, output, loss, H, seed, weight scale
    "tanh-softmax-ce-H5": ("tanh", "softmax", "cross_entropy", 5, 0, 0.6),
    "sigmoid-sigmoid-sse-H4": ("sigmoid", "sigmoid", "sse", 4, 1, 0.6),
    "relu-softmax-sse-H6": ("relu", "softmax", "sse", 6, 2, 0.6),
    "linear-linear-sse-H3": ("linear", "linear", "sse", 3, 3, 0.3),
}
CLIP_THRESHOLD = 0.1  # small enough that both clippings act on every net
TEXT, SEQ_LENGTH, PASSES = "abcadbcab", 4, 3  # 8 inputs: chunks at 0 and 4, then from 0 again


@pytest.mark.parametrize("clip", ["none", "value", "norm"])
@pytest.mark.parametrize("k", [None, 1, 2, 3], ids=["full", "k=1", "k=2", "k=3"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "adam"])
@pytest.mark.parametrize("net", list(NETS))
def test_timestep_schedule_equals_the_online_reference(net, optimizer, k, clip):
    activation, output, loss, H, seed, scale = NETS[net]
    case = f"{net} {optimizer} k={k} clip={clip}"
    tr = Trainer(
        TEXT,
        schedule="timestep",
        hidden_size=H,
        activation=activation,
        output=output,
        loss=loss,
        optimizer=optimizer,
        learning_rate=0.05,
        clip=clip,
        clip_threshold=CLIP_THRESHOLD,
        truncation=k,
        seq_length=SEQ_LENGTH,
    )
    rng = np.random.default_rng(seed)
    start = {n: rng.normal(size=s) * scale for n, s in tr.config.shapes().items()}
    tr.load(Params(**start))  # a random net with nonzero biases, a fresh optimizer
    p, opt = {n: a.copy() for n, a in start.items()}, RefOptimizer(optimizer, 0.05)
    ids, eye = tr.corpus.ids, np.eye(tr.corpus.V)
    position, hidden, clipped = 0, np.zeros(H), 0
    for i in range(PASSES):
        if position + 1 >= ids.size:  # the end of the text: again from h(0) = 0
            position, hidden = 0, np.zeros(H)
        chunk = ids[position : position + SEQ_LENGTH + 1]
        x, d = eye[chunk[:-1]], eye[chunk[1:]]
        h0 = hidden if position > 0 else np.zeros(H)
        p, total, norm, hidden, n = ref_online_pass(
            p, opt, tr.config, x, d, h0, k, clip, CLIP_THRESHOLD
        )
        clipped += n
        r = tr.step()
        where = f"{case}, pass {i + 1} (chunk at {position})"
        assert not r.diverged, f"{where}: {r.reason}"
        assert (r.chunk_start, r.updates) == (position, x.shape[0]), where
        assert r.loss == pytest.approx(total, rel=EXACT), f"Σ_t L(t), {where}"
        assert r.grad_norm == pytest.approx(norm, rel=EXACT), f"last ‖g‖ before clipping, {where}"
        for name in PARAM_NAMES:
            err = rel_err(getattr(tr.params, name), p[name])
            assert err <= EXACT, f"{name} off by {err:.1e} (relative), {where}"
        assert rel_err(tr.hidden, hidden) <= EXACT, f"the carried h(T), {where}"
        position += x.shape[0]
    if clip != "none":
        assert clipped > 0, f"{case}: clipping never acted, the test could not tell"


# ----------------------------------------------------------------------------- spectral radius


@pytest.mark.parametrize("radius", [0.0, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_with_spectral_radius_rescales_W_hh_only(seed, radius):
    cfg = RNNConfig(3, 6, 2)
    params = init_params(cfg, seed)
    W_hh_before = params.W_hh.copy()
    new = with_spectral_radius(params, radius)
    where = f"seed={seed} radius={radius}"
    assert spectral_radius(new.W_hh) == pytest.approx(radius, rel=EXACT, abs=1e-300), where
    np.testing.assert_array_equal(
        new.W_hh, rescale_spectral_radius(W_hh_before, radius), err_msg=where
    )
    np.testing.assert_array_equal(params.W_hh, W_hh_before, err_msg=f"input changed, {where}")
    for name in ("W_xh", "W_hy", "b_h", "b_y"):
        assert getattr(new, name) is getattr(params, name), f"{name} not shared, {where}"
    same = init_params(cfg, seed, spectral_radius=radius)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(
            getattr(same, name), getattr(new, name), err_msg=f"init_params {name}, {where}"
        )


@pytest.mark.parametrize(
    "radius", [-1.0, float("nan"), float("inf"), "big", None], ids=lambda r: repr(r)
)
def test_with_spectral_radius_rejects_bad_radii(radius):
    params = init_params(RNNConfig(2, 3, 2), 0)
    with pytest.raises(ValueError, match="spectral radius"):
        with_spectral_radius(params, radius)


def test_with_spectral_radius_rejects_a_nilpotent_W_hh_and_non_params():
    params = init_params(RNNConfig(2, 2, 2), 0)
    nilpotent = np.array([[0.0, 1.0], [0.0, 0.0]])  # every eigenvalue is 0
    flat = Params(params.W_xh, nilpotent, params.W_hy, params.b_h, params.b_y)
    with pytest.raises(ValueError, match="spectral radius 0"):
        with_spectral_radius(flat, 1.0)
    with pytest.raises(ValueError, match="Params"):
        with_spectral_radius({"W_hh": params.W_hh}, 1.0)  # type: ignore[arg-type]
