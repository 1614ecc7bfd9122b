"""Gradient clipping compared: rescale the whole gradient (norm) or clamp each entry (value).

Maths names as in ``bptt_core.model``. In addition, with the gradient ∂L/∂θ written as one
vector g over all five parameter arrays (P entries) and a threshold c > 0::

    norm clipping   g_n = g · min(1, c/‖g‖₂)              Pascanu, Mikolov & Bengio (2013)
    value clipping  g_v,i = min(max(g_i, −c), c)         min-char-rnn (c = 5)
    cos(u, v) = ⟨u, v⟩ / (‖u‖₂ ‖v‖₂)                     1 means "the same direction"

Norm clipping multiplies g by one positive number, so cos(g_n, g) = 1 and ‖g_n‖ = c whenever
‖g‖ > c. Value clipping shrinks only the entries with |g_i| > c and leaves the small ones
alone, so the step turns towards the small entries: cos(g_v, g) < 1 as soon as some, but not
all, entries are clamped by different factors.

No Streamlit, no Plotly: arrays in, frozen dataclasses out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bptt_core.backward import backward_unchecked
from bptt_core.model import (
    PARAM_NAMES,
    Params,
    RNNConfig,
    check_params,
    check_sequence,
    forward_unchecked,
    with_spectral_radius,
)
from bptt_core.optim import check_clipping, clip_gradients

FALLBACK_RADIUS = 2.5  # ρ(W_hh) used when the requested one gives a gradient below c
LOWERED_QUANTILE = 0.9  # c used when no entry exceeds the requested one: this quantile of |g_i|


def cosine(u: Params, v: Params) -> float:
    """cos(u, v) = ⟨u, v⟩ / (‖u‖ ‖v‖) over all five arrays as one vector.

    Returns NaN when either vector is zero (a zero vector has no direction).
    """
    fu, fv = u.flat(), v.flat()
    nu, nv = float(np.linalg.norm(fu)), float(np.linalg.norm(fv))
    if nu == 0.0 or nv == 0.0:
        return float("nan")
    # clamp rounding: |cos| ≤ 1 exactly
    return float(np.clip(np.dot(fu, fv) / (nu * nv), -1.0, 1.0))


@dataclass(frozen=True, eq=False)
class ClippingComparison:
    """One gradient clipped both ways, and how each result relates to the original."""

    threshold: float  # c
    grads: Params  # g, the unclipped gradient (shapes of Params)
    by_norm: Params  # g_n = g · min(1, c/‖g‖)
    by_value: Params  # g_v = clip(g, −c, c) entry by entry
    norm: float  # ‖g‖₂
    norm_after_norm: float  # ‖g_n‖₂ (= c when ‖g‖ > c)
    norm_after_value: float  # ‖g_v‖₂ (anything up to c·√P)
    cosine_norm: float  # cos(g_n, g): 1 (NaN only for g = 0)
    cosine_value: float  # cos(g_v, g): < 1 when value clipping turned the gradient
    clipped_entries: int  # number of entries with |g_i| > c (the ones value clipping changes)
    entries: int  # P, the number of entries of g
    param_norms: np.ndarray  # (3, 5) ‖·‖₂ of each parameter (PARAM_NAMES order) in g, g_n, g_v


def _finite_gradient(grads: Params) -> Params:
    """``grads`` as float64 arrays; a non-Params or non-finite gradient is a ValueError."""
    if not isinstance(grads, Params):
        raise ValueError(f"grads must be a bptt_core.Params, got {type(grads).__name__}.")
    arrays = [np.asarray(getattr(grads, n), dtype=np.float64) for n in PARAM_NAMES]
    if not all(np.isfinite(a).all() for a in arrays):
        raise ValueError(
            "The gradient contains infinite or NaN entries, so neither clipping can be compared "
            "(the forward pass probably overflowed)."
        )
    return Params(*arrays)


def compare_clipping(grads: Params, threshold: float) -> ClippingComparison:
    """Clip ``grads`` by its global norm and entry by entry at the same threshold ``c``.

    Parameters
    ----------
    grads : Params
        The gradient g (any shapes; every entry finite).
    threshold : float
        c > 0, used both as the norm limit and as the bound on each entry.

    Returns
    -------
    ClippingComparison
        Both clipped gradients, their norms, their cosines with g, the number of clamped entries
        and the norm of every parameter's part in g, g_n and g_v.
    """
    _, c = check_clipping("norm", threshold)
    g = _finite_gradient(grads)
    by_norm, info_norm = clip_gradients(g, "norm", c)
    by_value, info_value = clip_gradients(g, "value", c)
    flat = g.flat()
    param_norms = np.array(
        [[float(np.linalg.norm(a)) for _, a in p.items()] for p in (g, by_norm, by_value)]
    )
    return ClippingComparison(
        threshold=c,
        grads=g,
        by_norm=by_norm,
        by_value=by_value,
        norm=info_norm.norm_before,
        norm_after_norm=by_norm.global_norm(),
        norm_after_value=info_value.norm_after,
        cosine_norm=cosine(by_norm, g),
        cosine_value=cosine(by_value, g),
        clipped_entries=int(np.count_nonzero(np.abs(flat) > c)),
        entries=int(flat.size),
        param_norms=param_norms,
    )


@dataclass(frozen=True, eq=False)
class ClippingDemo:
    """The clipping comparison on the gradient of a network with a chosen ρ(W_hh)."""

    requested_radius: float  # ρ(W_hh) asked for
    radius: float  # ρ(W_hh) whose gradient was clipped (requested, or FALLBACK_RADIUS)
    fallback: bool  # True if the requested ρ gave ‖g‖ ≤ c, so FALLBACK_RADIUS was used
    requested_threshold: float  # c asked for
    threshold_lowered: bool  # True if no entry exceeded c, so c was lowered (see clipping_demo)
    loss: float  # L = Σ_t L(t) of the network whose gradient was clipped
    comparison: ClippingComparison


def _gradient(
    params: Params, config: RNNConfig, x: np.ndarray, d: np.ndarray, h0: np.ndarray, radius: float
) -> tuple[Params, float]:
    p = with_spectral_radius(params, radius)
    with np.errstate(all="ignore"):
        trace = forward_unchecked(p, config, x, d, h0)
        grads = backward_unchecked(p, config, trace, None).grads
    return grads, float(trace.loss)


def _gradient_to_clip(
    params: Params,
    config: RNNConfig,
    sequence: tuple[np.ndarray, np.ndarray, np.ndarray],
    radius: float,
    c: float,
    fallback_radius: float,
) -> tuple[Params, float, float, bool]:
    """The full-BPTT gradient g at ρ(W_hh) = ``radius``; if ‖g‖ ≤ c (nothing to clip) and
    ``radius < fallback_radius``, the gradient at ``fallback_radius`` instead.

    Returns (g, its loss, the ρ used, whether the fallback was used).
    """
    grads, loss = _gradient(params, config, *sequence, radius)
    norm = grads.global_norm()
    if np.isfinite(norm) and norm <= c and float(radius) < fallback_radius:
        grads, loss = _gradient(params, config, *sequence, fallback_radius)
        return grads, loss, float(fallback_radius), True
    return grads, loss, float(radius), False


def _threshold_that_clips(grads: Params, c: float) -> tuple[float, bool]:
    """c itself if some entry of g exceeds it; else (value clipping would not act) the 90th
    percentile of |g_i| (one entry in ten is clamped), or max|g_i| / 2 if that percentile is 0.
    Either way ‖g‖ ≥ max|g_i| > c, so norm clipping acts too. Returns (c, whether lowered)."""
    magnitudes = np.abs(grads.flat())
    largest = float(magnitudes.max(initial=0.0))
    if not (np.isfinite(largest) and 0.0 < largest <= c):
        return c, False
    lowered = float(np.quantile(magnitudes, LOWERED_QUANTILE))
    if not 0.0 < lowered < largest:
        lowered = largest / 2.0
    return lowered, True


def clipping_demo(
    params: Params,
    config: RNNConfig,
    inputs: np.ndarray,
    targets: np.ndarray,
    radius: float,
    threshold: float,
    *,
    fallback_radius: float = FALLBACK_RADIUS,
) -> ClippingDemo:
    """Compare norm and value clipping on an exploding gradient of this network.

    W_hh is rescaled to spectral radius ``radius`` (≥ 0; the other arrays are used as they are)
    and the full-BPTT gradient g of ``inputs`` (T,I), ``targets`` (T,O) is computed from
    h(0) = 0. If ‖g‖ ≤ c = ``threshold``, the gradient at ``fallback_radius`` is used instead
    (``_gradient_to_clip``); if no entry of g exceeds c, c is lowered so that value clipping acts
    (``_threshold_that_clips``). Bad arguments, or a gradient that overflowed, are a ValueError.

    Returns
    -------
    ClippingDemo: which ρ and c were used, and the comparison (see ``compare_clipping``).
    """
    p = check_params(params, config)
    _, requested = check_clipping("norm", threshold)
    sequence = check_sequence(config, inputs, targets, None)
    grads, loss, used, fallback = _gradient_to_clip(
        p, config, sequence, radius, requested, fallback_radius
    )
    c, lowered = _threshold_that_clips(grads, requested)
    return ClippingDemo(
        requested_radius=float(radius),
        radius=used,
        fallback=fallback,
        requested_threshold=requested,
        threshold_lowered=lowered,
        loss=loss,
        comparison=compare_clipping(grads, c),
    )
