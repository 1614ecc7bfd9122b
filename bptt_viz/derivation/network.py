"""The engine's traces of the network a derivation is evaluated on.

``Context`` holds the sidebar's network (weights, text, learning rate, truncation). A line asks it
for a ``Net``: the engine's forward and backward pass of those weights, with the hidden activation,
output or loss swapped when the line is about another case (``Case``). Everything numeric comes
from ``bptt_core``; a ``Net`` only names and combines the engine's arrays.

Maths names as in ``bptt_core`` (T timesteps, I inputs, H hidden units, O outputs)::

    a(t) (T,H) pre-activation   h(t) (T,H) hidden state   o(t) (T,O) logits   y(t) (T,O) prediction
    delta_o(t) = ∂L/∂o(t) (T,O)      delta_h(t) = ∂L/∂a(t) (T,H)      dL_dh(t) = ∂L/∂h(t) (T,H)
    errors[t, s] = ∂L(t)/∂a(s) (T,T,H): the error of the single loss L(t) at copy s ≤ t
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

import numpy as np

from bptt_core import functions as F
from bptt_core.backward import BackwardTrace, backward
from bptt_core.model import ForwardTrace, Params, RNNConfig, forward
from bptt_core.optim import clip_gradients, make_optimizer
from bptt_viz.derivation.types import Case

T_ = TypeVar("T_")


@dataclass(frozen=True, eq=False)
class Net:
    """One network's engine traces (full BPTT) and what the evaluators read from them."""

    config: RNNConfig
    params: Params
    fwd: ForwardTrace
    bwd: BackwardTrace  # full BPTT: the notes derive the full gradient
    _truncated: dict[int, BackwardTrace] = field(default_factory=dict, repr=False)
    _memo: dict[str, object] = field(default_factory=dict, repr=False)

    def memo(self, key: str, compute: Callable[[], T_]) -> T_:
        """``compute()`` once per network: arrays several lines of a note share."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    @property
    def T(self) -> int:
        return self.fwd.T

    @property
    def x(self) -> np.ndarray:
        """(T, I) inputs x(t)."""
        return self.fwd.inputs

    @property
    def d(self) -> np.ndarray:
        """(T, O) targets d(t)."""
        return self.fwd.targets

    @property
    def h_prev(self) -> np.ndarray:
        """(T, H) h(t−1) for t = 1..T (h(0) first)."""
        return self.fwd.h_prev

    @property
    def dL_dh(self) -> np.ndarray:
        """(T, H) ∂L/∂h(t): the error from y(t) plus the error carried back from t + 1."""
        return self.bwd.dh_local + self.bwd.dh_carried

    def fprime_of(self, z: np.ndarray) -> np.ndarray:
        """f′ of the hidden activation evaluated at ``z`` (any shape), by the engine's formula."""
        act = self.config.activation
        return F.activation_derivative(act, z, F.activate(act, z))

    def truncated(self, k: int) -> BackwardTrace:
        """The engine's backward pass with truncation k (each loss reaches k copies)."""
        if k not in self._truncated:
            with np.errstate(all="ignore"):
                self._truncated[k] = backward(self.params, self.config, self.fwd, truncation=k)
        return self._truncated[k]

    @cached_property
    def errors(self) -> np.ndarray:
        """(T, T, H) errors[t, s] = ∂L(t)/∂a(s) for s ≤ t, else 0 (0-based positions).

        From the engine alone: with truncation j each loss reaches j copies, so the hidden
        deltas of truncations j + 1 and j differ by exactly the error that loss L(s + j) sends
        to copy s.
        """
        T = self.T
        out = np.zeros((T, T, self.config.hidden_size))
        previous = np.zeros_like(self.bwd.delta_h)
        idx = np.arange(T)
        for j in range(T):
            current = self.bwd.delta_h if j + 1 >= T else self.truncated(j + 1).delta_h
            gap = current - previous  # e_j(s) = ∂L(s + j)/∂a(s), s = 0..T−1−j
            s = idx[: T - j]
            out[s + j, s] = gap[: T - j]
            previous = current
        return out

    def sgd_step(self, eta: float, grads: Params | None = None) -> Params:
        """The engine's plain gradient-descent update θ − η·g (g: the full gradient)."""
        return make_optimizer("sgd", eta).update(self.params, grads or self.bwd.grads)

    def clipped_adagrad_step(self, eta: float, threshold: float = 5.0) -> tuple[Params, Params]:
        """min-char-rnn's first update by the engine: clip each entry to ±threshold, then
        Adagrad from empty memory. Returns (clipped gradient, new parameters)."""
        clipped, _ = clip_gradients(self.bwd.grads, "value", threshold)
        return clipped, make_optimizer("adagrad", eta).update(self.params, clipped)


def resolve_case(config: RNNConfig, case: Case | None) -> RNNConfig:
    """``config`` with every choice the case does not allow replaced by the case's first one."""
    if case is None:
        return config

    def pick(value: str, allowed: tuple[str, ...]) -> str:
        return value if not allowed or value in allowed else allowed[0]

    choices = (
        pick(config.activation, case.activation),
        pick(config.output, case.output),
        pick(config.loss, case.loss),
    )
    sizes = (config.input_size, config.hidden_size, config.output_size)
    try:
        return RNNConfig(*sizes, *choices)
    except ValueError:  # e.g. a linear output kept beside a loss the case forces
        firsts = (
            (case.activation or (config.activation,))[0],
            (case.output or ("softmax",))[0],
            (case.loss or ("cross_entropy",))[0],
        )
        return RNNConfig(*sizes, *firsts)


@dataclass(eq=False)
class Context:
    """The sidebar's network and text, and the variants the lines are evaluated on."""

    params: Params  # the weights (the same for every variant: shapes do not depend on f, g, loss)
    config: RNNConfig  # the sidebar's network
    inputs: np.ndarray  # (T, I) x(t)
    targets: np.ndarray  # (T, O) d(t)
    eta: float = 0.05  # learning rate for the update lines
    truncation: int | None = None  # the sidebar's k (None: full BPTT)
    _nets: dict[RNNConfig, Net] = field(default_factory=dict, repr=False)

    @property
    def T(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def tau(self) -> int:
        """Guo's unfolding depth τ: copies t, t−1, …, t−τ, i.e. τ = k − 1 (T − 1 when full)."""
        k = self.truncation
        return self.T - 1 if k is None or k >= self.T else k - 1

    def net(self, case: Case | None = None) -> Net:
        """The engine's traces of the weights on the network the case asks for."""
        config = resolve_case(self.config, case)
        if config not in self._nets:
            with np.errstate(all="ignore"):
                fwd = forward(self.params, config, self.inputs, self.targets)
                bwd = backward(self.params, config, fwd)
            self._nets[config] = Net(config, self.params, fwd, bwd)
        return self._nets[config]
