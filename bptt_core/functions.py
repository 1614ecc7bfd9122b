"""Elementwise nonlinearities, output functions and losses of the vanilla RNN.

Notation (used throughout ``bptt_core``): ``a`` hidden pre-activation, ``h = f(a)`` hidden state,
``o`` output pre-activation, ``y = g(o)`` prediction, ``d`` target. Arrays are time-major:
``(T, H)`` for hidden quantities and ``(T, O)`` for output quantities.

Everything here is pure NumPy, float64, and numerically careful: softmax and log-softmax subtract
the row maximum, the sigmoid never overflows, and sigmoid cross-entropy is computed from the
logits (softplus form) so it never takes ``log(0)``.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "relu", "linear")
OUTPUTS: tuple[str, ...] = ("softmax", "sigmoid", "linear")
LOSSES: tuple[str, ...] = ("cross_entropy", "sse")

# γ: the largest value of |f'(a)| over all a. It enters the bound of Pascanu, Mikolov & Bengio
# (2013): ‖∂h(t)/∂h(k)‖ ≤ (γ·σ_max(W_hh))^(t−k).
GAMMA: dict[str, float] = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + e^(−z)), written as ½(1 + tanh(z/2)) so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def activate(name: str, a: np.ndarray) -> np.ndarray:
    """Hidden nonlinearity h = f(a), elementwise, for any shape."""
    if name == "tanh":
        return np.tanh(a)
    if name == "sigmoid":
        return sigmoid(a)
    if name == "relu":
        return np.maximum(a, 0.0)
    if name == "linear":
        return a.copy()
    raise ValueError(f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}.")


def activation_derivative(name: str, a: np.ndarray, h: np.ndarray) -> np.ndarray:
    """f'(a), elementwise, written with h = f(a) where that is cheaper.

    tanh: 1 − h²;  sigmoid: h(1 − h);  relu: 1 where a > 0 else 0;  linear: 1.
    """
    if name == "tanh":
        return 1.0 - h * h
    if name == "sigmoid":
        return h * (1.0 - h)
    if name == "relu":
        return (a > 0.0).astype(np.float64)
    if name == "linear":
        return np.ones_like(a)
    raise ValueError(f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}.")


def log_softmax(o: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, stable for large logits: o − max − log Σ exp(o − max)."""
    shifted = o - o.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(o: np.ndarray) -> np.ndarray:
    """softmax over the last axis, stable for large logits."""
    shifted = o - o.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def output(name: str, o: np.ndarray) -> np.ndarray:
    """Output function y = g(o) over the last axis (softmax) or elementwise (sigmoid, linear)."""
    if name == "softmax":
        return softmax(o)
    if name == "sigmoid":
        return sigmoid(o)
    if name == "linear":
        return o.copy()
    raise ValueError(f"Unknown output {name!r}; choose one of {', '.join(OUTPUTS)}.")


def losses(
    output_name: str, loss_name: str, o: np.ndarray, y: np.ndarray, d: np.ndarray
) -> np.ndarray:
    """Per-timestep loss L(t), shape (T,), from logits o (T,O), predictions y (T,O), targets d (T,O).

    cross-entropy, softmax:  L(t) = −Σ_j d_j log y_j            (via log-softmax of o)
    cross-entropy, sigmoid:  L(t) = −Σ_j [d_j log y_j + (1−d_j) log(1−y_j)]
                                   = Σ_j [max(o_j, 0) − d_j o_j + log(1 + e^(−|o_j|))]
    sse:                     L(t) = ½ Σ_j (d_j − y_j)²
    """
    if loss_name == "sse":
        diff = d - y
        return 0.5 * np.einsum("to,to->t", diff, diff)
    if loss_name == "cross_entropy":
        if output_name == "softmax":
            return -np.einsum("to,to->t", d, log_softmax(o))
        if output_name == "sigmoid":
            terms = np.maximum(o, 0.0) - d * o + np.log1p(np.exp(-np.abs(o)))
            return terms.sum(axis=-1)
        raise ValueError(
            "Cross-entropy needs probabilities, so it cannot follow a linear output; "
            "use softmax or sigmoid outputs, or the sse loss."
        )
    raise ValueError(f"Unknown loss {loss_name!r}; choose one of {', '.join(LOSSES)}.")


def output_delta(output_name: str, loss_name: str, y: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Output error delta_o(t) = ∂L(t)/∂o(t), shape (T,O), from y (T,O) and d (T,O).

    cross-entropy after softmax:  y·Σ_j d_j − d   (= y − d for a one-hot or probability target)
    cross-entropy after sigmoid:  y − d
    sse:  e = y − d pushed through g':  linear e;  sigmoid e·y(1−y);  softmax y ⊙ (e − ⟨e, y⟩)
    """
    if loss_name == "cross_entropy":
        if output_name == "softmax":
            return y * d.sum(axis=-1, keepdims=True) - d
        if output_name == "sigmoid":
            return y - d
        raise ValueError("Cross-entropy cannot follow a linear output.")
    if loss_name == "sse":
        e = y - d
        if output_name == "linear":
            return e
        if output_name == "sigmoid":
            return e * y * (1.0 - y)
        if output_name == "softmax":
            return y * (e - np.einsum("to,to->t", e, y)[:, None])
    raise ValueError(f"Unknown output/loss pair {output_name!r}/{loss_name!r}.")
