"""How far error travels back in time: gradient-flow maps, Jacobian norms, bounds, truncation.

Maths names as in ``bptt_core.model`` and ``bptt_core.backward``. In addition::

    e_j(s) = ∂L(s+j)/∂a(s)                      error of the loss j steps later at copy s
    J(t, k) = ∂h(t)/∂h(k) = Π_{m=k+1}^{t} diag(f'(a(m))) W_hh      (H, H), J(t, t) = I
    ‖J(t, k)‖₂ ≤ (γ · σ_max(W_hh))^(t−k)        Pascanu, Mikolov & Bengio (2013), |f'| ≤ γ

Arrays indexed [t, k] use 0-based positions for the times t = 1..T and k = 1..T.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bptt_core import functions as F
from bptt_core.backward import errors_by_distance, gradients_from_deltas, local_errors
from bptt_core.model import PARAM_NAMES, ForwardTrace, Params, RNNConfig, check_params

# The engine's hard limit on T for the T × T analyses below (they cost O(T²·H²) time): longer
# sequences are refused with a ValueError. It is not the length a page shows: a caller that wants
# a shorter prefix of its text cuts it before calling.
MAX_FLOW_T = 400


def _check_trace(trace: object) -> None:
    if not isinstance(trace, ForwardTrace):
        raise ValueError(
            f"trace must be a ForwardTrace from forward(), got {type(trace).__name__}."
        )


def _check_flow_length(T: int) -> None:
    if T > MAX_FLOW_T:
        raise ValueError(
            f"This analysis compares every pair of timesteps, so it is limited to {MAX_FLOW_T} "
            f"timesteps; the sequence has {T}."
        )


def sigma_max(W: np.ndarray) -> float:
    """Largest singular value σ_max(W) = ‖W‖₂."""
    return float(np.linalg.norm(W, ord=2))


def gradient_bound(config: RNNConfig, params: Params, max_distance: int) -> np.ndarray:
    """(γ·σ_max(W_hh))^d for d = 0..max_distance, shape (max_distance+1,)."""
    base = config.gamma * sigma_max(params.W_hh)
    with np.errstate(over="ignore"):
        return base ** np.arange(max_distance + 1, dtype=np.float64)


def gradient_flow(params: Params, config: RNNConfig, trace: ForwardTrace) -> np.ndarray:
    """The T × T map ``[t, k] = ‖∂L(t)/∂a(k)‖₂`` for k ≤ t, else 0.

    Row t shows how the error of the single loss term L(t) spreads back over the copies
    k = t, t−1, …, 1: the term-by-term picture of the double sum Σ_t Σ_k of the "hello" notes.
    Entry [s+j, s] is ‖e_j(s)‖ from the recursion over distance (``errors_by_distance``).

    Parameters
    ----------
    params : Params the forward pass used
    config : RNNConfig
    trace : ForwardTrace from ``forward`` (T ≤ MAX_FLOW_T)

    Returns
    -------
    (T, T) array, lower triangular.
    """
    p = check_params(params, config)
    _check_trace(trace)
    T = trace.T
    _check_flow_length(T)
    errors = local_errors(p, config, trace)
    flow = np.zeros((T, T))
    for j, step in enumerate(errors_by_distance(p.W_hh, errors.fprime, errors.dh_local)):
        s = np.arange(T - j)  # the copies s reached at distance j, by the losses s + j
        # ‖e_j(s)‖ = ‖∂L(s+j)/∂a(s)‖₂ (what np.linalg.norm(axis=1) computes, without its checks)
        flow[s + j, s] = np.sqrt((step.e * step.e).sum(axis=1))
    return flow


def jacobian_norms(params: Params, config: RNNConfig, trace: ForwardTrace) -> np.ndarray:
    """The T × T map ``[t, k] = ‖∂h(t)/∂h(k)‖₂`` (spectral norm) for k ≤ t (1 on the diagonal),
    else 0.

    ∂h(t)/∂h(k) = A(t) A(t−1) ⋯ A(k+1) with A(m) = diag(f'(a(m))) W_hh; all pairs at one
    distance d are one batched matrix product.
    """
    p = check_params(params, config)
    _check_trace(trace)
    T = trace.T
    _check_flow_length(T)
    fprime = F.activation_derivative(config.activation, trace.a, trace.h)
    A = fprime[:, :, None] * p.W_hh[None, :, :]  # (T, H, H): A(m) = ∂h(m)/∂h(m−1)
    norms = np.zeros((T, T))
    idx = np.arange(T)
    norms[idx, idx] = 1.0
    J = A[1:]  # J(k+1, k) for k = 0..T−2
    for d in range(1, T):
        s = idx[: T - d]
        norms[s + d, s] = np.linalg.svd(J, compute_uv=False)[:, 0]  # σ_max of each
        if d < T - 1:
            J = A[d + 1 :] @ J[:-1]  # J(k+d+1, k) = A(k+d+1) J(k+d, k)
    return norms


def norms_by_distance(norm_map: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten a lower-triangular [t, k] map into (distance t−k, value) pairs, k ≤ t."""
    T = norm_map.shape[0]
    t, k = np.tril_indices(T)
    return (t - k).astype(np.int64), norm_map[t, k]


@dataclass(frozen=True, eq=False)
class TruncationComparison:
    """Truncated BPTT against full BPTT for every truncation k = 1..T.

    For each parameter (columns in PARAM_NAMES order, plus "all" for θ as one vector) and each k:
    relative error ‖g_k − g‖/‖g‖, cosine ⟨g_k, g⟩/(‖g_k‖‖g‖), and the dropped share
    Σ_{j≥k} ‖G_j‖ / Σ_j ‖G_j‖, where G_j is the part of the gradient carried over distance j
    (the error of L(s+j) arriving at copy s) and g_k = Σ_{j<k} G_j.
    """

    ks: np.ndarray  # (T,) k = 1..T
    names: tuple[str, ...]  # parameter names, then "all"
    rel_error: np.ndarray  # (T, P+1)
    cosine: np.ndarray  # (T, P+1)
    dropped_share: np.ndarray  # (T, P+1)
    distance_norms: np.ndarray  # (T, P+1) ‖G_j‖ for j = 0..T−1


def _parts_by_distance(params: Params, config: RNNConfig, trace: ForwardTrace) -> np.ndarray:
    """(T, P) the gradient carried over distance j, G_j, as one flat vector (PARAM_NAMES order)
    for j = 0..T−1: the gradients of the errors e_j(s) = ∂L(s+j)/∂a(s), summed over the copies s."""
    errors = local_errors(params, config, trace)
    h_prev = trace.h_prev
    parts = []
    for j, step in enumerate(errors_by_distance(params.W_hh, errors.fprime, errors.dh_local)):
        out = slice(None) if j == 0 else slice(0)  # the output layer sees no recurrence
        G_j = gradients_from_deltas(
            delta_o=errors.delta_o[out],
            h=trace.h[out],
            delta_h=step.e,
            inputs=trace.inputs[step.copies],
            h_prev=h_prev[step.copies],
        )
        parts.append(G_j.flat())
    return np.stack(parts)


def _compare_columns(
    parts: np.ndarray, columns: list[slice]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative error, cosine and ‖G_j‖ (each (T, C)) of g_k = Σ_{j<k} G_j against g = Σ_j G_j,
    for each column group of ``parts`` (T, P)."""
    cums = np.cumsum(parts, axis=0)  # (T, P): g_k for k = 1..T
    full = cums[-1]
    shape = (parts.shape[0], len(columns))
    rel, cos, dist = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for c, sl in enumerate(columns):
        g, gk = full[sl], cums[:, sl]
        dist[:, c] = np.linalg.norm(parts[:, sl], axis=1)
        gn = np.linalg.norm(g)
        gkn = np.linalg.norm(gk, axis=1)
        if gn > 0:
            rel[:, c] = np.linalg.norm(gk - g, axis=1) / gn
            with np.errstate(invalid="ignore", divide="ignore"):
                cos[:, c] = np.where(gkn > 0, gk @ g / (gkn * gn), 0.0)
        else:
            cos[:, c] = 1.0
    return rel, cos, dist


def _dropped_share(dist: np.ndarray) -> np.ndarray:
    """(T, C) Σ_{j≥k} ‖G_j‖ / Σ_j ‖G_j‖ for k = 1..T, from dist[j] = ‖G_j‖ (0 where all vanish)."""
    total = dist.sum(axis=0)
    dropped = np.zeros_like(dist)
    # dropped share for k: distances j = k..T−1 (reverse cumulative sum, shifted by one)
    tail = np.cumsum(dist[::-1], axis=0)[::-1]  # tail[j] = Σ_{i≥j} dist[i]
    dropped[:-1] = tail[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, dropped / np.where(total > 0, total, 1.0), 0.0)


def truncation_comparison(
    params: Params, config: RNNConfig, trace: ForwardTrace
) -> TruncationComparison:
    """Compare the truncated gradient with the full one for every k = 1..T (see the class).

    Parameters
    ----------
    params : Params the forward pass used
    config : RNNConfig
    trace : ForwardTrace from ``forward`` (T ≤ MAX_FLOW_T)

    Returns
    -------
    TruncationComparison with (T, P+1) arrays, one row per k and one column per parameter
    (and "all").
    """
    p = check_params(params, config)
    _check_trace(trace)
    T = trace.T
    _check_flow_length(T)
    parts = _parts_by_distance(p, config, trace)  # (T, P)
    bounds = np.cumsum([0, *(int(np.prod(s)) for s in config.shapes().values())])
    columns = [slice(bounds[c], bounds[c + 1]) for c in range(len(PARAM_NAMES))]
    rel, cos, dist = _compare_columns(parts, [*columns, slice(0, bounds[-1])])
    return TruncationComparison(
        ks=np.arange(1, T + 1),
        names=(*PARAM_NAMES, "all"),
        rel_error=rel,
        cosine=cos,
        dropped_share=_dropped_share(dist),
        distance_norms=dist,
    )
