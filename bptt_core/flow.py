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
from bptt_core.model import PARAM_NAMES, ForwardTrace, Params, RNNConfig, check_params

# The maps below cost O(T²·H²) time; beyond this length the page shows a prefix of the text.
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


def _local_errors(params: Params, config: RNNConfig, trace: ForwardTrace):
    delta_o = F.output_delta(config.output, config.loss, trace.y, trace.targets)
    dh_local = delta_o @ params.W_hy  # ∂L(t)/∂h(t)
    fprime = F.activation_derivative(config.activation, trace.a, trace.h)
    return delta_o, dh_local, fprime


def gradient_flow(params: Params, config: RNNConfig, trace: ForwardTrace) -> np.ndarray:
    """The T × T map ``[t, k] = ‖∂L(t)/∂a(k)‖₂`` for k ≤ t, else 0.

    Row t shows how the error of the single loss term L(t) spreads back over the copies
    k = t, t−1, …, 1: the term-by-term picture of the double sum Σ_t Σ_k of the "hello" notes.
    """
    p = check_params(params, config)
    _check_trace(trace)
    T = trace.T
    _check_flow_length(T)
    _, dh_local, fprime = _local_errors(p, config, trace)
    flow = np.zeros((T, T))
    e = fprime * dh_local  # e_0(s)
    idx = np.arange(T)
    flow[idx, idx] = np.linalg.norm(e, axis=1)
    for j in range(1, T):  # distance j: e_j(s) for all s at once
        e = fprime[: T - j] * (e[1:] @ p.W_hh)
        s = idx[: T - j]
        flow[s + j, s] = np.linalg.norm(e, axis=1)
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


def _param_parts(
    e: np.ndarray, j: int, trace: ForwardTrace, h_prev: np.ndarray, delta_o: np.ndarray
) -> Params:
    """G_j split by parameter: e (T−j, H) holds e_j(s) for s = 0..T−1−j."""
    n = e.shape[0]
    zero_out = np.zeros((delta_o.shape[1], trace.h.shape[1]))
    return Params(
        W_xh=e.T @ trace.inputs[:n],
        W_hh=e.T @ h_prev[:n],
        W_hy=delta_o.T @ trace.h if j == 0 else zero_out,  # the output layer sees no recurrence
        b_h=e.sum(axis=0),
        b_y=delta_o.sum(axis=0) if j == 0 else np.zeros(delta_o.shape[1]),
    )


def truncation_comparison(
    params: Params, config: RNNConfig, trace: ForwardTrace
) -> TruncationComparison:
    """Compare the truncated gradient with the full one for every k = 1..T (see the class)."""
    p = check_params(params, config)
    _check_trace(trace)
    T = trace.T
    _check_flow_length(T)
    delta_o, dh_local, fprime = _local_errors(p, config, trace)
    h_prev = trace.h_prev
    names = (*PARAM_NAMES, "all")
    parts: list[Params] = []
    e = fprime * dh_local
    for j in range(T):
        if j > 0:
            e = fprime[: T - j] * (e[1:] @ p.W_hh)
        parts.append(_param_parts(e, j, trace, h_prev, delta_o))
    flat_parts = np.stack([np.concatenate([v.ravel() for _, v in g.items()]) for g in parts])
    sizes = [getattr(parts[0], n).size for n in PARAM_NAMES]
    bounds = np.cumsum([0, *sizes])
    cums = np.cumsum(flat_parts, axis=0)  # (T, P): g_k for k = 1..T
    full = cums[-1]
    P = len(names)
    rel = np.zeros((T, P))
    cos = np.zeros((T, P))
    dist = np.zeros((T, P))
    for c in range(P):
        sl = slice(0, bounds[-1]) if c == P - 1 else slice(bounds[c], bounds[c + 1])
        g = full[sl]
        gk = cums[:, sl]
        dist[:, c] = np.linalg.norm(flat_parts[:, sl], axis=1)
        gn = np.linalg.norm(g)
        gkn = np.linalg.norm(gk, axis=1)
        if gn > 0:
            rel[:, c] = np.linalg.norm(gk - g, axis=1) / gn
            with np.errstate(invalid="ignore", divide="ignore"):
                cos[:, c] = np.where(gkn > 0, gk @ g / (gkn * gn), 0.0)
        else:
            cos[:, c] = 1.0
    total = dist.sum(axis=0)
    dropped = np.zeros((T, P))
    # dropped share for k: distances j = k..T−1 (reverse cumulative sum, shifted by one)
    tail = np.cumsum(dist[::-1], axis=0)[::-1]  # tail[j] = Σ_{i≥j} dist[i]
    dropped[:-1] = tail[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        dropped = np.where(total > 0, dropped / np.where(total > 0, total, 1.0), 0.0)
    return TruncationComparison(
        ks=np.arange(1, T + 1),
        names=names,
        rel_error=rel,
        cosine=cos,
        dropped_share=dropped,
        distance_norms=dist,
    )
