"""Backpropagation through time: full and truncated, with every intermediate error kept.

Maths names as in ``bptt_core.model``; in addition::

    delta_o(t) = ∂L/∂o(t)                                   (T, O)   output error
    dh_local(t) = W_hyᵀ delta_o(t) = ∂L(t)/∂h(t)             (T, H)   error from y(t) itself
    dh_carried(t) = ∂(L(t+1) + … )/∂h(t)                     (T, H)   error carried back from t+1
    delta_h(t) = ∂L/∂a(t) = f'(a(t)) ⊙ (dh_local(t) + dh_carried(t))

Full BPTT: dh_carried(t) = W_hhᵀ delta_h(t+1), dh_carried(T) = 0.

Truncation k (k ≥ 1): each loss L(t) sends its error into a(t), a(t−1), …, a(t−k+1) only, i.e. k
unfolded copies counting its own. With e_j(s) = ∂L(s+j)/∂a(s) (the error of the loss j steps
later arriving at copy s)::

    e_0(s) = f'(a(s)) ⊙ dh_local(s)
    e_j(s) = f'(a(s)) ⊙ W_hhᵀ e_{j−1}(s+1)
    delta_h(s) = Σ_{j=0}^{k−1} e_j(s)

k = 1 sends no error across a recurrent edge; k ≥ T is full BPTT. The gradient of every weight is
then the sum over unfolded copies of its local contribution::

    ∂L/∂W_xh = Σ_t delta_h(t) x(t)ᵀ      ∂L/∂W_hh = Σ_t delta_h(t) h(t−1)ᵀ     ∂L/∂b_h = Σ_t delta_h(t)
    ∂L/∂W_hy = Σ_t delta_o(t) h(t)ᵀ      ∂L/∂b_y = Σ_t delta_o(t)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bptt_core import functions as F
from bptt_core.model import ForwardTrace, Params, RNNConfig, check_params


def check_truncation(truncation: object) -> int | None:
    """Validate a truncation length: None (full BPTT) or a whole number k ≥ 1."""
    if truncation is None:
        return None
    if isinstance(truncation, bool) or not isinstance(truncation, int | np.integer):
        raise ValueError(
            f"The truncation k must be a whole number of at least 1 (or None for full BPTT), "
            f"got {truncation!r}."
        )
    if truncation < 1:
        raise ValueError(
            f"The truncation k must be at least 1 (k = 1 keeps only each loss's own copy), "
            f"got {truncation}."
        )
    return int(truncation)


@dataclass(frozen=True, eq=False)
class BackwardTrace:
    """The gradients and every error the backward pass computed.

    ``per_step`` (the contribution of each unfolded copy) is built only when it is first read:
    it holds T copies of every weight matrix, which for long texts is large.
    """

    grads: Params  # ∂L/∂θ (the sum over copies of per_step)
    delta_o: np.ndarray  # (T, O) ∂L/∂o(t)
    delta_h: np.ndarray  # (T, H) ∂L/∂a(t)
    dh_local: np.ndarray  # (T, H) ∂L(t)/∂h(t) = W_hyᵀ delta_o(t)
    dh_carried: np.ndarray  # (T, H) error reaching h(t) from later losses (within the truncation)
    fprime: np.ndarray  # (T, H) f'(a(t))
    truncation: int | None  # k, or None for full BPTT
    inputs: np.ndarray  # (T, I) x(t), kept to build per_step
    h: np.ndarray  # (T, H) h(t)
    h_prev: np.ndarray  # (T, H) h(t−1)

    @property
    def T(self) -> int:
        return int(self.delta_h.shape[0])

    @cached_property
    def per_step(self) -> Params:
        """Contribution of unfolded copy t, each array with a leading T axis.

        W_xh[t] = delta_h(t) x(t)ᵀ (T,H,I); W_hh[t] = delta_h(t) h(t−1)ᵀ (T,H,H);
        W_hy[t] = delta_o(t) h(t)ᵀ (T,O,H); b_h[t] = delta_h(t) (T,H); b_y[t] = delta_o(t) (T,O).
        Summed over t these are ``grads``.
        """
        return Params(
            W_xh=np.einsum("th,ti->thi", self.delta_h, self.inputs),
            W_hh=np.einsum("th,tk->thk", self.delta_h, self.h_prev),
            W_hy=np.einsum("to,th->toh", self.delta_o, self.h),
            b_h=self.delta_h.copy(),
            b_y=self.delta_o.copy(),
        )

    def per_step_norms(self) -> dict[str, np.ndarray]:
        """‖contribution of copy t‖_F for each parameter, shape (T,) each, without building
        per_step (the Frobenius norm of an outer product u vᵀ is ‖u‖·‖v‖)."""
        nh = np.linalg.norm(self.delta_h, axis=1)
        no = np.linalg.norm(self.delta_o, axis=1)
        return {
            "W_xh": nh * np.linalg.norm(self.inputs, axis=1),
            "W_hh": nh * np.linalg.norm(self.h_prev, axis=1),
            "W_hy": no * np.linalg.norm(self.h, axis=1),
            "b_h": nh,
            "b_y": no,
        }

    def partial_sum(self, start: int, stop: int | None = None) -> Params:
        """Σ of the contributions of copies start..stop−1 (0-based, half-open), without per_step."""
        s = slice(start, stop)
        dh, do = self.delta_h[s], self.delta_o[s]
        return Params(
            W_xh=dh.T @ self.inputs[s],
            W_hh=dh.T @ self.h_prev[s],
            W_hy=do.T @ self.h[s],
            b_h=dh.sum(axis=0),
            b_y=do.sum(axis=0),
        )


def full_hidden_deltas(
    W_hh: np.ndarray, fprime: np.ndarray, dh_local: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Full BPTT recursion. Returns delta_h (T,H) and dh_carried (T,H)."""
    T, H = dh_local.shape
    delta_h = np.empty((T, H))
    carried = np.empty((T, H))
    nxt = np.zeros(H)  # nothing comes back from beyond T
    for t in range(T - 1, -1, -1):  # the recurrence, backwards
        carried[t] = nxt
        # backprop through f: ∂L/∂a(t) = f'(a(t)) ⊙ (∂L(t)/∂h(t) + ∂L_{>t}/∂h(t))
        delta_h[t] = fprime[t] * (dh_local[t] + nxt)
        # backprop through the recurrent edge: ∂L/∂h(t−1) from later losses = W_hhᵀ delta_h(t)
        nxt = delta_h[t] @ W_hh
    return delta_h, carried


def truncated_hidden_deltas(
    W_hh: np.ndarray, fprime: np.ndarray, dh_local: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Windowed truncation: every L(t) reaches copies t, t−1, …, t−k+1 (any k ≥ 1).

    Loops over the distance j (not over time): e_j(s) for all s at once is one matrix product.
    Returns delta_h (T,H) and dh_carried (T,H).
    """
    T, _ = dh_local.shape
    e = fprime * dh_local  # e_0(s) = ∂L(s)/∂a(s): backprop through f at the loss's own copy
    delta_h = e.copy()
    carried = np.zeros_like(dh_local)
    for j in range(1, min(k, T)):
        # e_j(s) for s = 0..T−1−j: through the recurrent edge, then through f at copy s
        g = e[1:] @ W_hh  # (T−j, H): ∂L(s+j)/∂h(s) = W_hhᵀ e_{j−1}(s+1)
        carried[: T - j] += g
        e = fprime[: T - j] * g
        delta_h[: T - j] += e
    return delta_h, carried


def backward_unchecked(
    params: Params, config: RNNConfig, trace: ForwardTrace, truncation: int | None
) -> BackwardTrace:
    """``backward`` without validation (for inner loops that already validated)."""
    T = trace.a.shape[0]
    # output layer: ∂L(t)/∂o(t), one array operation for all t
    delta_o = F.output_delta(config.output, config.loss, trace.y, trace.targets)
    # backprop into h(t) from its own output: W_hyᵀ delta_o(t)
    dh_local = delta_o @ params.W_hy
    fprime = F.activation_derivative(config.activation, trace.a, trace.h)
    if truncation is None or truncation >= T:
        delta_h, carried = full_hidden_deltas(params.W_hh, fprime, dh_local)
    else:
        delta_h, carried = truncated_hidden_deltas(params.W_hh, fprime, dh_local, truncation)
    h_prev = np.concatenate([trace.h0[None, :], trace.h[:-1]], axis=0)
    grads = Params(
        W_xh=delta_h.T @ trace.inputs,  # Σ_t delta_h(t) x(t)ᵀ
        W_hh=delta_h.T @ h_prev,  # Σ_t delta_h(t) h(t−1)ᵀ
        W_hy=delta_o.T @ trace.h,  # Σ_t delta_o(t) h(t)ᵀ
        b_h=delta_h.sum(axis=0),
        b_y=delta_o.sum(axis=0),
    )
    return BackwardTrace(
        grads=grads,
        delta_o=delta_o,
        delta_h=delta_h,
        dh_local=dh_local,
        dh_carried=carried,
        fprime=fprime,
        truncation=truncation,
        inputs=trace.inputs,
        h=trace.h,
        h_prev=h_prev,
    )


def backward(
    params: Params, config: RNNConfig, trace: ForwardTrace, truncation: int | None = None
) -> BackwardTrace:
    """Backpropagate the summed loss of ``trace`` through time.

    Parameters
    ----------
    params : the Params the forward pass used
    config : RNNConfig
    trace : ForwardTrace from ``forward``
    truncation : None for full BPTT, or k ≥ 1: each L(t) sends error to k copies, its own included

    Returns
    -------
    BackwardTrace with grads (a Params of ∂L/∂θ), delta_o (T,O), delta_h (T,H), and per_step.
    """
    if not isinstance(trace, ForwardTrace):
        raise ValueError(
            f"trace must be a ForwardTrace from forward(), got {type(trace).__name__}."
        )
    p = check_params(params, config)
    k = check_truncation(truncation)
    return backward_unchecked(p, config, trace, k)
