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

Each piece is written once and shared by ``backward``, the flow analyses (``bptt_core.flow``) and
the Trainer's online step: ``local_errors`` (delta_o, dh_local, f'), ``errors_by_distance`` (the
recursion over j), ``full_hidden_deltas`` (full BPTT as a recursion over time, T times cheaper)
and ``gradients_from_deltas`` (the five sums above).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import NamedTuple

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
        return gradients_from_deltas(
            delta_o=self.delta_o[s],
            h=self.h[s],
            delta_h=self.delta_h[s],
            inputs=self.inputs[s],
            h_prev=self.h_prev[s],
        )


@dataclass(frozen=True, eq=False)
class LocalErrors:
    """What each loss term L(t) gives its own copy t, before anything crosses a recurrent edge."""

    delta_o: np.ndarray  # (T, O) ∂L(t)/∂o(t)
    dh_local: np.ndarray  # (T, H) ∂L(t)/∂h(t) = W_hyᵀ delta_o(t)
    fprime: np.ndarray  # (T, H) f'(a(t))


def local_errors(params: Params, config: RNNConfig, trace: ForwardTrace) -> LocalErrors:
    """The output error, the error each h(t) gets from its own output, and f'(a(t)).

    Parameters
    ----------
    params : Params the forward pass used (only W_hy is read)
    config : RNNConfig
    trace : ForwardTrace with a, h (T,H), y and targets (T,O)

    Returns
    -------
    LocalErrors with delta_o (T,O) = ∂L(t)/∂o(t), dh_local (T,H) = W_hyᵀ delta_o(t) and
    fprime (T,H) = f'(a(t)), each one array operation over all t.
    """
    # output layer: ∂L(t)/∂o(t) through the loss and g
    delta_o = F.output_delta(config.output, config.loss, trace.y, trace.targets)
    # backprop through o(t) = W_hy h(t) + b_y: ∂L(t)/∂h(t) = W_hyᵀ delta_o(t)
    dh_local = delta_o @ params.W_hy
    # the slope of h(t) = f(a(t)), used by every step back through f
    fprime = F.activation_derivative(config.activation, trace.a, trace.h)
    return LocalErrors(delta_o=delta_o, dh_local=dh_local, fprime=fprime)


class ErrorsAtDistance(NamedTuple):
    """One step of the recursion over distance j: the errors of the losses L(s+j) at copies s."""

    copies: slice  # the copies s reached (the rows of dh and e); the loss is L(s+j)
    dh: np.ndarray  # (m, H) ∂L(s+j)/∂h(s): dh_local(s) for j = 0, else W_hhᵀ e_{j−1}(s+1)
    e: np.ndarray  # (m, H) e_j(s) = ∂L(s+j)/∂a(s)


def errors_by_distance(
    W_hh: np.ndarray, fprime: np.ndarray, dh_local: np.ndarray
) -> Iterator[ErrorsAtDistance]:
    """The error of every loss term sent back one copy at a time: e_j for j = 0, 1, …, T−1.

    e_0(s) = f'(a(s)) ⊙ dh_local(s)        e_j(s) = f'(a(s)) ⊙ W_hhᵀ e_{j−1}(s+1)

    The loop is over the distance j, not over time: e_j(s) for all copies s is one matrix
    product. Stop iterating after k distances for truncation k.

    Parameters
    ----------
    W_hh : (H, H) hidden → hidden weights
    fprime : (T, H) f'(a(s)) of the copies s = 0..T−1
    dh_local : (n, H) ∂L(t)/∂h(t) of the last n losses t = T−n..T−1; n = T for every loss,
        n = 1 for the newest loss alone (the Trainer's online step)

    Yields
    ------
    ErrorsAtDistance for j = 0..T−1, with rows for the copies s = max(T−n−j, 0)..T−1−j: the
    losses L(s+j) that still have a copy j steps back. With n = T, e_j is (T−j, H) and row s is
    copy s.
    """
    T, n = fprime.shape[0], dh_local.shape[0]
    # backprop through f at each loss's own copy
    e = fprime[T - n :] * dh_local
    yield ErrorsAtDistance(copies=slice(T - n, T), dh=dh_local, e=e)
    for j in range(1, T):
        first = max(T - n - j, 0)  # the earliest copy reached at distance j
        # a loss whose e_{j−1} sits at copy 0 has no copy j steps back
        reaching = e if j <= T - n else e[1:]
        # backprop through the recurrent edge: ∂L(s+j)/∂h(s) = W_hhᵀ e_{j−1}(s+1)
        dh = reaching @ W_hh
        # backprop through f at copy s
        e = fprime[first : T - j] * dh
        yield ErrorsAtDistance(copies=slice(first, T - j), dh=dh, e=e)


def full_hidden_deltas(
    W_hh: np.ndarray, fprime: np.ndarray, dh_local: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Full BPTT, the recursion over time: one matrix-vector product per copy.

    delta_h(t) = f'(a(t)) ⊙ (dh_local(t) + dh_carried(t)),   dh_carried(t) = W_hhᵀ delta_h(t+1)

    It equals Σ_j e_j(t) over every distance (``errors_by_distance``) at about 2/T of the cost.
    Returns delta_h (T,H) and dh_carried (T,H).
    """
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
    W_hh: np.ndarray, fprime: np.ndarray, dh_local: np.ndarray, k: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Windowed truncation: every L(t) reaches copies t, t−1, …, t−k+1 (any k ≥ 1; None: all).

    delta_h(s) = Σ_{j=0}^{k−1} e_j(s),   dh_carried(s) = Σ_{j=1}^{k−1} W_hhᵀ e_{j−1}(s+1)

    ``fprime`` is (T,H); ``dh_local`` is (n,H), the last n losses (see ``errors_by_distance``).
    Returns delta_h (T,H) and dh_carried (T,H).
    """
    delta_h = np.zeros_like(fprime)
    carried = np.zeros_like(fprime)
    for j, step in enumerate(islice(errors_by_distance(W_hh, fprime, dh_local), k)):
        delta_h[step.copies] += step.e  # the error of the loss j steps later, at copy s
        if j > 0:  # error from a later loss, reaching h(s) through the recurrent edge
            carried[step.copies] += step.dh
    return delta_h, carried


def gradients_from_deltas(
    *,
    delta_o: np.ndarray,
    h: np.ndarray,
    delta_h: np.ndarray,
    inputs: np.ndarray,
    h_prev: np.ndarray,
) -> Params:
    """The five gradients: the sum over copies of each copy's local contribution.

    ∂L/∂W_xh = Σ_t delta_h(t) x(t)ᵀ    ∂L/∂W_hh = Σ_t delta_h(t) h(t−1)ᵀ    ∂L/∂b_h = Σ_t delta_h(t)
    ∂L/∂W_hy = Σ_t delta_o(t) h(t)ᵀ    ∂L/∂b_y = Σ_t delta_o(t)

    Parameters
    ----------
    delta_o : (n, O) with h (n, H): the output layer's copies
    delta_h : (m, H) with inputs (m, I) and h_prev (m, H): the hidden layer's copies
        (n and m may differ: the online step has one output copy and up to k hidden ones)
    """
    return Params(
        W_xh=delta_h.T @ inputs,  # through a(t) = W_xh x(t) + …
        W_hh=delta_h.T @ h_prev,  # through a(t) = … + W_hh h(t−1) + …
        W_hy=delta_o.T @ h,  # through o(t) = W_hy h(t) + b_y
        b_h=delta_h.sum(axis=0),
        b_y=delta_o.sum(axis=0),
    )


def backward_unchecked(
    params: Params, config: RNNConfig, trace: ForwardTrace, truncation: int | None
) -> BackwardTrace:
    """``backward`` without validation (for inner loops that already validated)."""
    errors = local_errors(params, config, trace)
    if truncation is None or truncation >= trace.T:
        delta_h, carried = full_hidden_deltas(params.W_hh, errors.fprime, errors.dh_local)
    else:
        delta_h, carried = truncated_hidden_deltas(
            params.W_hh, errors.fprime, errors.dh_local, truncation
        )
    h_prev = trace.h_prev
    grads = gradients_from_deltas(
        delta_o=errors.delta_o, h=trace.h, delta_h=delta_h, inputs=trace.inputs, h_prev=h_prev
    )
    return BackwardTrace(
        grads=grads,
        delta_o=errors.delta_o,
        delta_h=delta_h,
        dh_local=errors.dh_local,
        dh_carried=carried,
        fprime=errors.fprime,
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
