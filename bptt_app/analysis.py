"""The Truncation page's engine calls, cached on hashable arguments.

One route from the sidebar to the engine: ``Settings.training().architecture()`` (a
``bptt_core.trainer.TrainingConfig`` holding only what fixes the initial network) and the text.
Everything the page draws except the truncation band depends on the network alone (those
initial weights with W_hh rescaled to the page's spectral radius ρ), never on the truncation k:
the gradient-flow map, the Jacobian norms and the truncated-against-full comparison for *every* k
are computed once per network and cached, so moving k only redraws. The rescaled network itself
is built once per (text, architecture, ρ) and shared by every analysis of it.

Caches are bounded (``max_entries`` and a time to live) so a long class does not grow server
memory without limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from bptt_app.settings import FLOW_MAX_T
from bptt_core.clipping import ClippingDemo, clipping_demo
from bptt_core.corpus import Corpus
from bptt_core.flow import (
    TruncationComparison,
    gradient_bound,
    gradient_flow,
    jacobian_norms,
    norms_by_distance,
    sigma_max,
    truncation_comparison,
)
from bptt_core.model import (
    ForwardTrace,
    Params,
    RNNConfig,
    forward_unchecked,
    spectral_radius,
    with_spectral_radius,
)
from bptt_core.trainer import TrainingConfig

CACHE_ENTRIES = 48
CACHE_TTL = 3600  # seconds
# ‖∂h(t)/∂h(τ)‖ needs one SVD of an H × H matrix per pair τ ≤ t: about T²/2 · H³ work. Beyond
# this budget the Jacobian plot covers a prefix of the text (T = 80 with H = 32 fits).
JACOBIAN_WORK = 1.1e8


def analysed_text(text: str) -> tuple[str, bool]:
    """The part of ``text`` the T × T analyses use (at most FLOW_MAX_T timesteps), and whether
    it was cut."""
    if len(text) > FLOW_MAX_T + 1:
        return text[: FLOW_MAX_T + 1], True
    return text, False


def jacobian_steps(T: int, H: int) -> int:
    """How many timesteps the Jacobian-norm analysis covers: the largest T_j ≤ T with
    T_j (T_j + 1)/2 · H³ ≤ JACOBIAN_WORK (at least 2)."""
    if T * (T + 1) / 2 * H**3 <= JACOBIAN_WORK:
        return T
    pairs = JACOBIAN_WORK / H**3
    return max(2, min(T, int((np.sqrt(1 + 8 * pairs) - 1) / 2)))


# --------------------------------------------------------------------------- the network


@dataclass(frozen=True, eq=False)
class PageNetwork:
    """The sidebar's initial network over the page's text, and the same with W_hh rescaled."""

    corpus: Corpus
    config: RNNConfig
    initial: Params  # the sidebar's initial weights (TrainingConfig.initial_params)
    params: Params  # the same with W_hh rescaled to ``radius``
    initial_radius: float  # ρ(W_hh) of the initial weights
    radius: float  # ρ(W_hh) on this page


def build_page_network(text: str, architecture: TrainingConfig, radius: float) -> PageNetwork:
    """The initial network of ``architecture`` over ``text``, W_hh rescaled once to ``radius``."""
    corpus = Corpus(text)
    config = architecture.network(corpus.V)
    initial = architecture.initial_params(config)
    params = with_spectral_radius(initial, radius)
    return PageNetwork(
        corpus, config, initial, params, spectral_radius(initial.W_hh), float(radius)
    )


@st.cache_resource(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def page_network(text: str, architecture: TrainingConfig, radius: float) -> PageNetwork:
    """``build_page_network``, built once and shared (read-only) by every analysis below."""
    return build_page_network(text, architecture, radius)


def _forward(network: PageNetwork, steps: int | None = None) -> ForwardTrace:
    """Forward pass of the rescaled network from h(0) = 0 over the first ``steps`` inputs."""
    corpus, config = network.corpus, network.config
    with np.errstate(all="ignore"):
        return forward_unchecked(
            network.params,
            config,
            corpus.inputs[:steps],
            corpus.targets[:steps],
            np.zeros(config.hidden_size),
        )


# --------------------------------------------------------------------------- flow and truncation


@dataclass(frozen=True, eq=False)
class FlowAnalysis:
    """The page's network and everything about it that does not depend on k."""

    network: PageNetwork
    sigma: float  # σ_max(W_hh) after rescaling
    gamma: float  # γ = max |f'| of the activation
    trace: ForwardTrace  # forward pass from h(0) = 0
    flow: np.ndarray  # (T, T) ‖∂L(t)/∂a(τ)‖ (copy time τ)
    comparison: TruncationComparison  # truncated against full gradient, k = 1..T

    @property
    def T(self) -> int:
        return self.trace.T

    @property
    def finite(self) -> bool:
        """False if the forward pass overflowed (loss or hidden states not finite)."""
        return bool(np.isfinite(self.trace.loss) and np.isfinite(self.trace.h).all())


def flow_analysis(text: str, architecture: TrainingConfig, radius: float) -> FlowAnalysis:
    """Forward pass, gradient-flow map and truncation comparison of the page's network."""
    network = page_network(text, architecture, radius)
    trace = _forward(network)
    with np.errstate(all="ignore"):
        flow = gradient_flow(network.params, network.config, trace)
        comparison = truncation_comparison(network.params, network.config, trace)
    return FlowAnalysis(
        network=network,
        sigma=sigma_max(network.params.W_hh),
        gamma=network.config.gamma,
        trace=trace,
        flow=flow,
        comparison=comparison,
    )


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_flow_analysis(text: str, architecture: TrainingConfig, radius: float) -> FlowAnalysis:
    return flow_analysis(text, architecture, radius)


# --------------------------------------------------------------------------- Jacobian norms


@dataclass(frozen=True, eq=False)
class JacobianAnalysis:
    """‖∂h(t)/∂h(τ)‖ for every pair τ ≤ t of the first ``steps`` timesteps, and the bound."""

    steps: int  # T_j: timesteps covered (≤ T)
    t: np.ndarray  # (P,) 1-based t of each pair
    s: np.ndarray  # (P,) 1-based τ of each pair
    values: np.ndarray  # (P,) ‖∂h(t)/∂h(τ)‖₂
    bound: np.ndarray  # (T_j,) (γ·σ_max(W_hh))^d, d = 0..T_j−1


def jacobian_analysis(
    text: str, architecture: TrainingConfig, radius: float, steps: int
) -> JacobianAnalysis:
    """Jacobian norms of the page's network over its first ``steps`` timesteps."""
    network = page_network(text, architecture, radius)
    trace = _forward(network, steps)
    with np.errstate(all="ignore"):
        norms = jacobian_norms(network.params, network.config, trace)
    distance, values = norms_by_distance(norms)
    t, s = np.tril_indices(trace.T)  # the pairs, in the order norms_by_distance uses
    if not np.array_equal(t - s, distance):  # pragma: no cover - guards the engine's ordering
        raise RuntimeError("norms_by_distance changed its order of the pairs (t, τ).")
    return JacobianAnalysis(
        steps=trace.T,
        t=t + 1,
        s=s + 1,
        values=values,
        bound=gradient_bound(network.config, network.params, trace.T - 1),
    )


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_jacobian_analysis(
    text: str, architecture: TrainingConfig, radius: float, steps: int
) -> JacobianAnalysis:
    return jacobian_analysis(text, architecture, radius, steps)


# --------------------------------------------------------------------------- clipping


def clipping_analysis(
    text: str, architecture: TrainingConfig, radius: float, threshold: float
) -> ClippingDemo | str:
    """Norm against value clipping of the page's gradient, or why it cannot be shown.

    ``clipping_demo`` rescales the *initial* W_hh itself (to ``radius``, or to its fallback
    radius when that gradient needs no clipping), so the rescaling is done once, there.
    """
    network = page_network(text, architecture, radius)
    corpus = network.corpus
    try:
        return clipping_demo(
            network.initial, network.config, corpus.inputs, corpus.targets, radius, threshold
        )
    except ValueError as exc:
        return str(exc)


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_clipping_analysis(
    text: str, architecture: TrainingConfig, radius: float, threshold: float
) -> ClippingDemo | str:
    return clipping_analysis(text, architecture, radius, threshold)
