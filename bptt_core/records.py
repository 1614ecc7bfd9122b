"""What one pass of training did, kept for showing it step by step: the traces, the update.

``Trainer.step(record=True)`` returns these with its result; they hold the arrays the trainer
computed anyway (no recomputation), plus the optimizer's memory after the update and the loss
the new weights give on the same chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_core.model import ForwardTrace, Params
from bptt_core.optim import ClipInfo


@dataclass(frozen=True, eq=False)
class UpdateRecord:
    """One update θ ← θ + step: the gradient, clipping, the optimizer's rule with its state."""

    before: Params  # θ before the update
    grads: Params  # the gradient of the pass (summed over copies; g_k under truncation)
    clip: ClipInfo  # ‖g‖ before and after clipping, and whether it acted
    used: Params  # the gradient after clipping: what the optimizer received
    after: Params  # θ after the update
    state: dict[str, Params]  # the optimizer's memory after the update (m, v; v; mem; none)
    count: int  # updates this optimizer has made, this one included (Adam's t)

    @property
    def step(self) -> Params:
        """θ_after − θ_before (negative where a weight went down)."""
        return self.after.zip_map(self.before, np.subtract)


@dataclass(frozen=True, eq=False)
class PassRecord:
    """One pass of the "sequence" schedule: forward, backward over the chunk, one update."""

    update: int  # updates made before this pass (the pass takes the network to update + 1)
    chunk_start: int  # index in the text of the chunk's first input
    fwd: ForwardTrace  # the forward pass with ``params``
    bwd: BackwardTrace  # the backward pass (with the trainer's truncation)
    params: Params  # θ the pass ran with
    applied: UpdateRecord | None  # the update, or None when the pass diverged
    loss_after: float  # Σ_t L(t) of the new θ on the same chunk from the same h(0) (NaN if none)


@dataclass(frozen=True, eq=False)
class OnlineStep:
    """One update of the "timestep" schedule: copy t computed, L(t) sent back, one update."""

    t: int  # 1-based time of the loss L(t) (and of the copy computed)
    first: int  # 1-based oldest copy the error of L(t) reaches (t − k + 1, at least 1)
    trace: ForwardTrace  # copy t alone (one step), computed with ``applied.before``
    delta_o: np.ndarray  # (O,) ∂L(t)/∂o(t)
    dh_local: np.ndarray  # (H,) W_hyᵀ delta_o(t)
    delta_h: np.ndarray  # (t − first + 1, H) ∂L(t)/∂a(s), s = first..t
    carried: np.ndarray  # (t − first + 1, H) ∂L(t)/∂h(s) arriving from copy s + 1
    applied: UpdateRecord  # the update made from ∂L(t)/∂θ (``applied.grads``)


@dataclass(frozen=True, eq=False)
class OnlinePassRecord:
    """One pass of the "timestep" schedule: T updates, each after its own loss."""

    update: int  # updates made before this pass
    chunk_start: int  # index in the text of the chunk's first input
    inputs: np.ndarray  # (T, I) x(t)
    targets: np.ndarray  # (T, O) d(t)
    h: np.ndarray  # (T + 1, H) h(0..T), each as it was computed
    fprime: np.ndarray  # (T, H) f'(a(t)), each as it was computed
    steps: tuple[OnlineStep, ...]  # one per timestep

    @property
    def T(self) -> int:
        return int(self.inputs.shape[0])

    def loss_backward(self, i: int) -> BackwardTrace:
        """The backward pass of the loss of step i (0-based) alone, over the copies it reaches
        (rows: copies first..t): its deltas, and its contributions as ``per_step``."""
        step = self.steps[i]
        window = slice(step.first - 1, step.t)
        n = step.t - step.first + 1
        delta_o = np.zeros((n, step.delta_o.size))
        delta_o[-1] = step.delta_o  # only L(t) sends error
        dh_local = np.zeros_like(step.delta_h)
        dh_local[-1] = step.dh_local
        return BackwardTrace(
            grads=step.applied.grads,
            delta_o=delta_o,
            delta_h=step.delta_h,
            dh_local=dh_local,
            dh_carried=step.carried,
            fprime=self.fprime[window],
            truncation=None,
            inputs=self.inputs[window],
            h=self.h[1:][window],
            h_prev=self.h[:-1][window],
        )
