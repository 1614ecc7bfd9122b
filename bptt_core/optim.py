"""Gradient clipping and the update rules SGD, momentum, Adagrad and Adam.

All rules subtract: θ ← θ − η·(step). (Guo's report writes δ = −∂C/∂net and therefore adds
η·δ·x; it is the same update.) Optimizers keep their state per parameter array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bptt_core.model import PARAM_NAMES, Params

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "adagrad", "adam")
CLIPPING: tuple[str, ...] = ("none", "value", "norm")


@dataclass(frozen=True)
class ClipInfo:
    norm_before: float  # ‖g‖₂ over all parameters before clipping
    norm_after: float  # ‖g‖₂ after clipping
    clipped: bool  # whether clipping changed the gradient


def check_clipping(method: object, threshold: object) -> tuple[str, float]:
    if method not in CLIPPING:
        raise ValueError(f"Unknown clipping {method!r}; choose one of {', '.join(CLIPPING)}.")
    try:
        thr = float(threshold)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"The clipping threshold must be a number, got {threshold!r}.") from None
    if method != "none" and not (np.isfinite(thr) and thr > 0):
        raise ValueError(f"The clipping threshold must be a positive number, got {threshold!r}.")
    return str(method), thr


def clip_gradients(grads: Params, method: str, threshold: float) -> tuple[Params, ClipInfo]:
    """Clip a gradient.

    none:  unchanged.
    value: every entry clamped to [−threshold, threshold] (min-char-rnn, threshold 5). This can
           change the gradient's direction.
    norm:  g · threshold/‖g‖ when ‖g‖ > threshold (Pascanu et al. 2013); the direction is kept.
    """
    norm = grads.global_norm()
    if method == "none" or not np.isfinite(norm):
        return grads, ClipInfo(norm, norm, False)
    if method == "value":
        clipped = grads.map(lambda g: np.clip(g, -threshold, threshold))
        after = clipped.global_norm()
        return clipped, ClipInfo(norm, after, after != norm)
    if method == "norm":
        if norm > threshold:
            factor = threshold / norm
            return grads.map(lambda g: g * factor), ClipInfo(norm, threshold, True)
        return grads, ClipInfo(norm, norm, False)
    raise ValueError(f"Unknown clipping {method!r}; choose one of {', '.join(CLIPPING)}.")


class Optimizer:
    """Base class: ``update(params, grads)`` returns new Params; the learning rate may change.

    ``state()`` is a copy of what the rule remembers between updates (per parameter array),
    ``hyper`` its constants, ``count`` the updates made: enough to show the rule with its numbers.
    """

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = check_learning_rate(learning_rate)
        self.count = 0  # updates made
        self.hyper: dict[str, float] = {}  # the rule's constants (β₁, β₂, ε, μ)

    def _step(self, name: str, g: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _memory(self) -> dict[str, dict[str, np.ndarray]]:
        """The rule's per-parameter memory, by name (none for SGD)."""
        return {}

    def state(self) -> dict[str, Params]:
        """A copy of the memory as Params (only once every array has been updated)."""
        out = {}
        for key, arrays in self._memory().items():
            if all(n in arrays for n in PARAM_NAMES):
                out[key] = Params(*(arrays[n].copy() for n in PARAM_NAMES))
        return out

    def update(self, params: Params, grads: Params) -> Params:
        self.count += 1
        return Params(*(getattr(params, n) - self._step(n, getattr(grads, n)) for n in PARAM_NAMES))


class SGD(Optimizer):
    """θ ← θ − η g."""

    def _step(self, name: str, g: np.ndarray) -> np.ndarray:
        return self.learning_rate * g


class Momentum(Optimizer):
    """v ← μ v + g;  θ ← θ − η v   (μ = 0.9)."""

    def __init__(self, learning_rate: float, mu: float = 0.9) -> None:
        super().__init__(learning_rate)
        self.mu = mu
        self.hyper = {"mu": mu}
        self.v: dict[str, np.ndarray] = {}

    def _memory(self) -> dict[str, dict[str, np.ndarray]]:
        return {"v": self.v}

    def _step(self, name: str, g: np.ndarray) -> np.ndarray:
        v = self.v.get(name)
        v = g.copy() if v is None else self.mu * v + g
        self.v[name] = v
        return self.learning_rate * v


class Adagrad(Optimizer):
    """m ← m + g²;  θ ← θ − η g / √(m + 1e−8)   (min-char-rnn's update)."""

    def __init__(self, learning_rate: float, eps: float = 1e-8) -> None:
        super().__init__(learning_rate)
        self.eps = eps
        self.hyper = {"eps": eps}
        self.mem: dict[str, np.ndarray] = {}

    def _memory(self) -> dict[str, dict[str, np.ndarray]]:
        return {"mem": self.mem}

    def _step(self, name: str, g: np.ndarray) -> np.ndarray:
        m = self.mem.get(name)
        m = g * g if m is None else m + g * g
        self.mem[name] = m
        return self.learning_rate * g / np.sqrt(m + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; β₁ = 0.9, β₂ = 0.999, ε = 1e−8."""

    def __init__(
        self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.hyper = {"beta1": beta1, "beta2": beta2, "eps": eps}
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t: dict[str, int] = {}

    def _memory(self) -> dict[str, dict[str, np.ndarray]]:
        return {"m": self.m, "v": self.v}

    def _step(self, name: str, g: np.ndarray) -> np.ndarray:
        t = self.t.get(name, 0) + 1
        m = (
            (1 - self.beta1) * g
            if name not in self.m
            else self.beta1 * self.m[name] + (1 - self.beta1) * g
        )
        v = (
            (1 - self.beta2) * g * g
            if name not in self.v
            else self.beta2 * self.v[name] + (1 - self.beta2) * g * g
        )
        self.m[name], self.v[name], self.t[name] = m, v, t
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


def check_learning_rate(learning_rate: object) -> float:
    try:
        lr = float(learning_rate)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"The learning rate must be a number, got {learning_rate!r}.") from None
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(
            f"The learning rate must be a positive, finite number, got {learning_rate!r}."
        )
    return lr


def make_optimizer(name: str, learning_rate: float) -> Optimizer:
    """An optimizer by name: sgd, momentum, adagrad or adam."""
    classes = {"sgd": SGD, "momentum": Momentum, "adagrad": Adagrad, "adam": Adam}
    if name not in classes:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}.")
    return classes[name](learning_rate)
