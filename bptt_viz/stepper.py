"""A stepper over one BPTT pass: the forward steps t = 1..T, then the backward steps t = T..1.

Step indices run 0..2T−1: index i < T is the forward step at t = i+1, index i ≥ T the backward
step at t = 2T−i (1-based times). Everything a step shows is read off the finished traces, never
recomputed: at forward step t, h(1..t), y(1..t) and L(1..t) exist; at backward step t the copies
T..t have been visited, their deltas exist, and the running sum of the weight updates is the sum of
their contributions, Σ_{s=t}^{T} per_step[s].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_core.model import ForwardTrace, Params

Phase = Literal["forward", "backward"]


def num_steps(T: int) -> int:
    """Number of stepper positions for a sequence of T timesteps (T forward + T backward)."""
    return 2 * T


def phase_and_time(index: int, T: int) -> tuple[Phase, int]:
    """(phase, t) of a step index, t 1-based."""
    for name, value in (("Step index", index), ("T", T)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if T < 1:
        raise ValueError("The sequence must have at least one timestep.")
    if not 0 <= index < 2 * T:
        raise ValueError(f"Step index {index} is outside 0..{2 * T - 1}.")
    if index < T:
        return "forward", index + 1
    return "backward", 2 * T - index


def clamp_index(index: int, T: int) -> int:
    """Clamp any integer to a valid step index for T timesteps."""
    return int(min(max(index, 0), 2 * T - 1))


@dataclass(frozen=True, eq=False)
class StepState:
    """What is known at one step of the walk through the traces."""

    index: int  # 0..2T−1
    phase: Phase  # "forward" or "backward"
    t: int  # 1-based time of the copy computed at this step
    T: int  # sequence length
    h_known: np.ndarray  # (T,) bool: h(t) computed so far
    delta_known: np.ndarray  # (T,) bool: delta_o(t), delta_h(t) computed so far
    h: np.ndarray  # (T, H) h(t), NaN where not yet computed
    y: np.ndarray  # (T, O) y(t), NaN where not yet computed
    losses: np.ndarray  # (T,) L(t), NaN where not yet computed
    delta_o: np.ndarray  # (T, O) ∂L/∂o(t), NaN where not yet computed
    delta_h: np.ndarray  # (T, H) ∂L/∂a(t), NaN where not yet computed
    running: Params  # Σ of the contributions of the copies visited (zeros during the forward pass)
    contribution: Params | None  # contribution of copy t (backward steps only)
    loss_so_far: float  # Σ of the L(t) computed so far

    @property
    def is_last(self) -> bool:
        return self.index == 2 * self.T - 1


def _masked(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    out = values.astype(np.float64, copy=True)
    out[~known] = np.nan
    return out


def step_state(fwd: ForwardTrace, bwd: BackwardTrace, index: int) -> StepState:
    """The state of the walk at step ``index`` (see the module docstring)."""
    T = fwd.T
    phase, t = phase_and_time(index, T)
    times = np.arange(1, T + 1)
    if phase == "forward":
        h_known = times <= t
        delta_known = np.zeros(T, dtype=bool)
        zeros = Params(*(np.zeros_like(v) for _, v in bwd.grads.items()))
        running, contribution = zeros, None
    else:
        h_known = np.ones(T, dtype=bool)
        delta_known = times >= t
        running = bwd.partial_sum(t - 1)  # copies t..T (0-based t−1..T−1)
        contribution = bwd.partial_sum(t - 1, t)
    return StepState(
        index=index,
        phase=phase,
        t=t,
        T=T,
        h_known=h_known,
        delta_known=delta_known,
        h=_masked(fwd.h, h_known),
        y=_masked(fwd.y, h_known),
        losses=_masked(fwd.losses, h_known),
        delta_o=_masked(bwd.delta_o, delta_known),
        delta_h=_masked(bwd.delta_h, delta_known),
        running=running,
        contribution=contribution,
        loss_so_far=float(fwd.losses[h_known].sum()),
    )


@dataclass(frozen=True, eq=False)
class Ledger:
    """Frobenius norms of the contributions, for a table: rows are copies, columns parameters."""

    per_copy: np.ndarray  # (T, 5) ‖contribution of copy t‖ per parameter, NaN if not visited
    running: np.ndarray  # (5,) ‖running sum‖ per parameter
    total: np.ndarray  # (5,) ‖∂L/∂θ‖ per parameter (the engine's gradient)


def contribution_ledger(bwd: BackwardTrace, state: StepState) -> Ledger:
    """The ledger at ``state``: columns in the order W_xh, W_hh, W_hy, b_h, b_y."""
    norms = bwd.per_step_norms()
    names = list(norms)
    per_copy = np.stack([norms[nm] for nm in names], axis=1)
    per_copy[~state.delta_known] = np.nan
    running = np.array([np.linalg.norm(getattr(state.running, nm)) for nm in names])
    total = np.array([np.linalg.norm(getattr(bwd.grads, nm)) for nm in names])
    return Ledger(per_copy=per_copy, running=running, total=total)
