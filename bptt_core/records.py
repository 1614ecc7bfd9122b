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
