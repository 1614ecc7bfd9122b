"""Glue of the "Truncation & vanishing gradients" page: its own controls' state and its views.

The page reads the sidebar's Settings, draws its two sliders and asks ``truncation_views`` for
everything sections 1–4 show. The page's truncation slider never writes the sidebar's key ``k``:
``follow_sidebar_truncation`` sets the page's own key to the sidebar's k whenever the sidebar's k
(or the text's length) changes, and leaves it alone otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from bptt_app.analysis import (
    analysed_text,
    cached_clipping_analysis,
    cached_flow_analysis,
    cached_jacobian_analysis,
    jacobian_steps,
)
from bptt_app.experiments import LearningSpec
from bptt_core.clipping import ClippingDemo
from bptt_core.trainer import TrainingConfig
from bptt_viz.notation import Notation
from bptt_viz.truncation_page.clipping import ClippingView, clipping_unavailable, clipping_view
from bptt_viz.truncation_page.controls import (
    TruncationControl,
    sidebar_k_beyond_text,
    text_cut_note,
)
from bptt_viz.truncation_page.flow_map import FlowMapView, flow_map_view
from bptt_viz.truncation_page.jacobians import JacobianView, jacobian_view
from bptt_viz.truncation_page.summary import NetworkSummary, network_summary
from bptt_viz.truncation_page.truncated_gradient import (
    TruncatedGradientView,
    truncated_gradient_view,
)

PAGE_K_KEY = "trunc_k"  # the page's truncation slider (never the sidebar's "k")
PAGE_K_ORIGIN_KEY = "_trunc_k_origin"  # (sidebar k, T) the page's slider was last set from
RADIUS_KEY = "rho"  # the page's spectral radius of W_hh (bound to the URL)


@dataclass(frozen=True)
class PageText:
    """The part of the sidebar's text the page analyses, and the notes about it."""

    text: str
    T: int
    notes: tuple[str, ...]  # Markdown: text cut to FLOW_MAX_T, sidebar k beyond the text


def page_text(text: str, sidebar_k: int | None) -> PageText:
    used, cut = analysed_text(text)
    T = len(used) - 1
    notes = [text_cut_note(len(text), len(used))] if cut else []
    beyond = sidebar_k_beyond_text(sidebar_k, T)
    return PageText(used, T, tuple(notes + ([beyond] if beyond else [])))


def follow_sidebar_truncation(control: TruncationControl, sidebar_k: int | None) -> None:
    """Start the page's k slider at the sidebar's k, and move it whenever the sidebar's k or
    the text's length changes (call before drawing the slider)."""
    origin = (sidebar_k, control.T)
    state = st.session_state
    if state.get(PAGE_K_ORIGIN_KEY) != origin or PAGE_K_KEY not in state:
        state[PAGE_K_KEY] = control.start
        state[PAGE_K_ORIGIN_KEY] = origin


@dataclass(frozen=True)
class TruncationViews:
    """Everything sections 1–4 and the summary show, for one network, k and ρ."""

    summary: NetworkSummary
    flow_map: FlowMapView
    truncated_gradient: TruncatedGradientView
    jacobians: JacobianView
    clipping: ClippingView | str  # str: why the comparison cannot be shown


def _clipping(demo: ClippingDemo | str, n: Notation) -> ClippingView | str:
    return clipping_unavailable(demo) if isinstance(demo, str) else clipping_view(demo, n)


def truncation_views(
    text: str, training: TrainingConfig, n: Notation, k: int | None, radius: float
) -> TruncationViews:
    """The views of the page for ``text`` (already cut to the analysed part), the sidebar's
    ``training`` config, truncation ``k`` (None: full BPTT) and spectral radius ``radius``."""
    architecture = training.architecture()
    flow = cached_flow_analysis(text, architecture, radius)
    network = flow.network
    steps = jacobian_steps(flow.T, network.config.hidden_size)
    jac = cached_jacobian_analysis(text, architecture, radius, steps)
    demo = cached_clipping_analysis(text, architecture, radius, training.clip_threshold)
    corpus, activation = network.corpus, network.config.activation
    return TruncationViews(
        summary=network_summary(
            n, activation, network.initial_radius, radius, flow.sigma, flow.gamma, flow.finite
        ),
        flow_map=flow_map_view(flow.flow, corpus.input_chars, corpus.target_chars, n, k),
        truncated_gradient=truncated_gradient_view(flow.comparison, n, k),
        jacobians=jacobian_view(
            (jac.t, jac.s, jac.values),
            jac.bound,
            n,
            (radius, flow.sigma, flow.gamma, activation),
            flow.T,
            network.config.hidden_size,
        ),
        clipping=_clipping(demo, n),
    )


# --------------------------------------------------------------------------- figures for slides

FIGURE_TITLES = {
    "flow": "Where the error of each loss goes: ‖∂L(t)/∂a(τ)‖",
    "comparison": "What truncation throws away: the truncated gradient against the full one",
    "jacobian": "Vanishing or exploding: ‖∂h(t)/∂h(τ)‖ against the distance t − τ",
    "clipping": "Clipping the whole gradient by its norm, or each entry by value",
    "recall": "What truncation costs: the recall loss after training",
    "hello": "“hello” is learned with k = 1 too",
}


def figure_settings(k: int | None, radius: float, training: TrainingConfig) -> tuple[str, ...]:
    """The page's own settings (and the clipping threshold its section 4 uses), for the line
    under its figures."""
    page = f"ρ(W_hh) = {radius:g} and {'full BPTT' if k is None else f'k = {k}'} on this page"
    return (page, f"clipping threshold {training.clip_threshold:g}")


def _seeds(seeds: tuple[int, ...]) -> str:
    return f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}–{seeds[-1]}"


def recall_settings_line(spec: LearningSpec) -> str:
    """The recall experiment's own settings (it does not use the sidebar's)."""
    g = spec.grid
    fillers = ", ".join(str(n) for n in g.n_fillers)
    return (
        f"recall task, N = {fillers} fillers · H = {g.hidden_size} · tanh · Adagrad η = "
        f"{g.learning_rate:g} · {g.updates} updates · {_seeds(g.seeds)} · BPTT Explainer"
    )


def hello_settings_line(spec: LearningSpec) -> str:
    return (
        f"“{spec.hello_text}” · the app's default network · {spec.hello_updates} updates · "
        f"{_seeds(spec.hello_seeds)} · BPTT Explainer"
    )
