"""Independent reference implementations and problem generators for the engine tests.

Nothing here imports the engine's maths: the forward pass, the output errors (through the explicit
Jacobian of the output function), the per-loss-window truncated BPTT (an explicit loop over loss
times) and the Jacobian products ∂h(t)/∂h(k) are written out again, directly from DESIGN §3, so
that a wrong engine disagrees with them. Only the containers (RNNConfig, Params) are shared.

Indices are 0-based: position t holds time t+1 of the notes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bptt_core import Params, RNNConfig, numerical_gradient

PARAM_ORDER = ("W_xh", "W_hh", "W_hy", "b_h", "b_y")

ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")
# every valid (output, loss) pair; linear + cross_entropy is rejected by the engine
PAIRS = (
    ("softmax", "cross_entropy"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "sse"),
    ("sigmoid", "sse"),
    ("linear", "sse"),
)
COMBOS = tuple((act, out, loss) for act in ACTIVATIONS for out, loss in PAIRS)
COMBO_IDS = tuple(f"{act}-{out}-{loss}" for act, out, loss in COMBOS)


# ----------------------------------------------------------------------------- elementwise maths


def act_f(name: str, a: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.tanh(a)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-a))
    if name == "relu":
        return np.where(a > 0, a, 0.0)
    if name == "linear":
        return np.array(a, dtype=float)
    raise AssertionError(name)


def act_fprime(name: str, a: np.ndarray) -> np.ndarray:
    """f'(a) written from a (not from h, unlike the engine)."""
    if name == "tanh":
        return 1.0 / np.cosh(a) ** 2
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-a))
        return s * (1.0 - s)
    if name == "relu":
        return np.where(a > 0, 1.0, 0.0)
    if name == "linear":
        return np.ones_like(a)
    raise AssertionError(name)


def out_g(name: str, o: np.ndarray) -> np.ndarray:
    """g(o) for one vector o."""
    if name == "softmax":
        e = np.exp(o - o.max())
        return e / e.sum()
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-o))
    if name == "linear":
        return np.array(o, dtype=float)
    raise AssertionError(name)


def out_jacobian(name: str, o: np.ndarray) -> np.ndarray:
    """∂y/∂o, (O, O), for one vector o."""
    y = out_g(name, o)
    if name == "softmax":
        return np.diag(y) - np.outer(y, y)
    if name == "sigmoid":
        return np.diag(y * (1.0 - y))
    if name == "linear":
        return np.eye(o.size)
    raise AssertionError(name)


def loss_t(output: str, loss: str, o: np.ndarray, d: np.ndarray) -> float:
    """L(t) for one timestep, straight from the definitions of DESIGN §3."""
    y = out_g(output, o)
    if loss == "sse":
        return float(0.5 * np.sum((d - y) ** 2))
    if output == "softmax":
        return float(-np.sum(d * np.log(y)))
    if output == "sigmoid":
        return float(-np.sum(d * np.log(y) + (1.0 - d) * np.log(1.0 - y)))
    raise AssertionError((output, loss))


def dloss_dy(output: str, loss: str, y: np.ndarray, d: np.ndarray) -> np.ndarray:
    if loss == "sse":
        return y - d
    if output == "softmax":
        return -d / y
    if output == "sigmoid":
        return -d / y + (1.0 - d) / (1.0 - y)
    raise AssertionError((output, loss))


def delta_o_t(output: str, loss: str, o: np.ndarray, d: np.ndarray) -> np.ndarray:
    """∂L(t)/∂o(t) = (∂y/∂o)ᵀ ∂L(t)/∂y: the chain rule through the full output Jacobian."""
    y = out_g(output, o)
    return out_jacobian(output, o).T @ dloss_dy(output, loss, y, d)


# ----------------------------------------------------------------------------- forward / backward


@dataclass
class RefForward:
    a: np.ndarray  # (T, H)
    h: np.ndarray  # (T, H)
    h_prev: np.ndarray  # (T, H) h(t−1)
    o: np.ndarray  # (T, O)
    y: np.ndarray  # (T, O)
    losses: np.ndarray  # (T,)


def ref_forward(
    params: Params, cfg: RNNConfig, x: np.ndarray, d: np.ndarray, h0: np.ndarray
) -> RefForward:
    T = x.shape[0]
    H, O = cfg.hidden_size, cfg.output_size  # noqa: E741
    a, h, hp = np.zeros((T, H)), np.zeros((T, H)), np.zeros((T, H))
    o, y, losses = np.zeros((T, O)), np.zeros((T, O)), np.zeros(T)
    prev = np.array(h0, dtype=float)
    for t in range(T):
        hp[t] = prev
        a[t] = params.W_xh @ x[t] + params.W_hh @ prev + params.b_h
        h[t] = act_f(cfg.activation, a[t])
        o[t] = params.W_hy @ h[t] + params.b_y
        y[t] = out_g(cfg.output, o[t])
        losses[t] = loss_t(cfg.output, cfg.loss, o[t], d[t])
        prev = h[t]
    return RefForward(a=a, h=h, h_prev=hp, o=o, y=y, losses=losses)


@dataclass
class RefBackward:
    grads: dict[str, np.ndarray]
    delta_o: np.ndarray  # (T, O)
    delta_h: np.ndarray  # (T, H) Σ over the loss terms that reach each copy
    dh_carried: np.ndarray  # (T, H) error reaching h(s) from later losses (within the window)


def ref_window_backward(
    params: Params,
    cfg: RNNConfig,
    x: np.ndarray,
    d: np.ndarray,
    h0: np.ndarray,
    k: int | None,
) -> RefBackward:
    """Truncated BPTT by its definition: for every loss time t, backpropagate L(t) *alone*
    through the copies t, t−1, …, t−k+1 (all copies if k is None), then sum over t."""
    fw = ref_forward(params, cfg, x, d, h0)
    T, H, O = x.shape[0], cfg.hidden_size, cfg.output_size  # noqa: E741
    g = {
        "W_xh": np.zeros((H, cfg.input_size)),
        "W_hh": np.zeros((H, H)),
        "W_hy": np.zeros((O, H)),
        "b_h": np.zeros(H),
        "b_y": np.zeros(O),
    }
    delta_o = np.zeros((T, O))
    delta_h = np.zeros((T, H))
    carried = np.zeros((T, H))
    for t in range(T):  # one loss term L(t) at a time
        do = delta_o_t(cfg.output, cfg.loss, fw.o[t], d[t])
        delta_o[t] = do
        g["W_hy"] += np.outer(do, fw.h[t])
        g["b_y"] += do
        dL_dh = params.W_hy.T @ do  # ∂L(t)/∂h(t)
        first = 0 if k is None else max(0, t - k + 1)
        for s in range(t, first - 1, -1):  # copies t, t−1, …, first
            if s < t:
                carried[s] += dL_dh
            e = act_fprime(cfg.activation, fw.a[s]) * dL_dh  # ∂L(t)/∂a(s)
            delta_h[s] += e
            g["W_xh"] += np.outer(e, x[s])
            g["W_hh"] += np.outer(e, fw.h_prev[s])
            g["b_h"] += e
            dL_dh = params.W_hh.T @ e  # ∂L(t)/∂h(s−1)
    return RefBackward(grads=g, delta_o=delta_o, delta_h=delta_h, dh_carried=carried)


def ref_state_jacobian(params: Params, cfg: RNNConfig, a: np.ndarray, t: int, k: int) -> np.ndarray:
    """∂h(t)/∂h(k) = A(t) A(t−1) ⋯ A(k+1), A(m) = diag(f'(a(m))) W_hh (0-based t ≥ k)."""
    J = np.eye(cfg.hidden_size)
    for m in range(k + 1, t + 1):
        J = (act_fprime(cfg.activation, a[m])[:, None] * params.W_hh) @ J
    return J


# ----------------------------------------------------------------------------- problems


@dataclass
class Problem:
    cfg: RNNConfig
    params: Params
    x: np.ndarray  # (T, I)
    d: np.ndarray  # (T, O)
    h0: np.ndarray  # (H,)
    seed: int

    @property
    def T(self) -> int:
        return int(self.x.shape[0])

    def label(self) -> str:
        c = self.cfg
        return (
            f"{c.activation}/{c.output}/{c.loss} I={c.input_size} H={c.hidden_size} "
            f"O={c.output_size} T={self.T} seed={self.seed}"
        )


def random_targets(rng: np.random.Generator, output: str, T: int, O: int, soft: bool) -> np.ndarray:  # noqa: E741
    if output == "softmax":
        if soft:  # probability vectors, not one-hot
            p = rng.uniform(0.05, 1.0, size=(T, O))
            return p / p.sum(axis=1, keepdims=True)
        return np.eye(O)[rng.integers(0, O, size=T)]
    if output == "sigmoid":
        return rng.uniform(0.0, 1.0, size=(T, O)) if soft else rng.integers(0, 2, (T, O)) * 1.0
    return rng.normal(size=(T, O))


def make_problem(
    activation: str,
    output: str,
    loss: str,
    *,
    I: int = 3,  # noqa: E741
    H: int = 4,
    O: int = 3,  # noqa: E741
    T: int = 6,
    seed: int = 0,
    scale: float = 0.9,
    soft_targets: bool = False,
    kink_margin: float = 5e-3,
) -> Problem:
    """A random problem with nonzero biases and a nonzero h0. For relu, seeds are advanced until
    no pre-activation lies within ``kink_margin`` of the kink at 0 (central differences with
    ε = 1e-6 then never straddle it)."""
    cfg = RNNConfig(I, H, O, activation, output, loss)
    s = seed
    for _ in range(200):
        rng = np.random.default_rng(s)
        params = Params(
            W_xh=rng.normal(size=(H, I)) * scale,
            W_hh=rng.normal(size=(H, H)) * scale / np.sqrt(H),
            W_hy=rng.normal(size=(O, H)) * scale,
            b_h=rng.normal(size=H) * 0.5,
            b_y=rng.normal(size=O) * 0.5,
        )
        x = rng.normal(size=(T, I))
        d = random_targets(rng, output, T, O, soft_targets)
        h0 = rng.normal(size=H) * 0.5
        if activation != "relu":
            return Problem(cfg, params, x, d, h0, s)
        a = ref_forward(params, cfg, x, d, h0).a
        if np.abs(a).min() > kink_margin and (a > 0).any():
            return Problem(cfg, params, x, d, h0, s)
        s += 1_000_003
    raise AssertionError("could not find a relu problem away from the kink")


# ----------------------------------------------------------------------------- comparisons


def richardson_gradient(prob: Problem, k: int | None, eps: float = 2e-4) -> Params:
    """Central differences from ``bptt_core.gradcheck`` at steps ε and ε/2, combined by Richardson
    extrapolation, (4·D(ε/2) − D(ε))/3: error O(ε⁴) instead of O(ε²), so a larger ε can be used
    and the rounding noise of the difference quotient (~1e-16·|L|/ε) stays ~1e-12·|L|. Plain
    ε = 1e-6 differences carry ~2e-10·|L| of noise, too much for 1e-7 relative on gradient
    arrays that are small next to L (a saturated tanh unit, for example)."""
    args = (prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    coarse = numerical_gradient(*args, truncation=k, eps=eps)
    fine = numerical_gradient(*args, truncation=k, eps=eps / 2)
    return coarse.zip_map(fine, lambda c, f: (4.0 * f - c) / 3.0)


def rel_err(numeric: np.ndarray, analytic: np.ndarray) -> float:
    """max_i |n_i − a_i| / max(max|n|, max|a|) (0 when both are exactly 0)."""
    scale = max(np.abs(numeric).max(initial=0.0), np.abs(analytic).max(initial=0.0))
    err = np.abs(np.asarray(numeric) - np.asarray(analytic)).max(initial=0.0)
    return float(err / scale) if scale > 0 else float(err)


def grads_report(errors: dict[str, float]) -> str:
    return ", ".join(f"{n}: {e:.2e}" for n, e in errors.items())
