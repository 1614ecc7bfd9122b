"""The derivation page's engine calls, cached on hashable arguments.

One route from the sidebar to the engine: ``Settings.training().architecture()`` (the fields that
fix the initial network) and the text. The note's lines are evaluated per (text, architecture,
truncation, notation, learning rate): the learning rate enters the update lines. The gradient
check does not depend on the notation, so switching notation reuses it. Caches are bounded
(``max_entries`` and a time to live).
"""

from __future__ import annotations

import math

import streamlit as st

from bptt_core.corpus import Corpus
from bptt_core.trainer import TrainingConfig
from bptt_viz.derivation import Context, NoteView, derivation_for, evaluate_note
from bptt_viz.derivation.gradient_check import GradientCheckView, check_cost, gradient_check

CACHE_ENTRIES = 48
CACHE_TTL = 3600  # seconds
DERIVATION_MAX_T = 24  # the page evaluates at most this many timesteps (a prefix of the text)
AUTO_CHECK_SECONDS = 1.5  # a gradient check estimated to take longer waits for a click


def derivation_text(text: str) -> tuple[str, bool]:
    """The part of ``text`` the page evaluates, and whether it was cut."""
    if len(text) > DERIVATION_MAX_T + 1:
        return text[: DERIVATION_MAX_T + 1], True
    return text, False


def network_context(
    text: str, architecture: TrainingConfig, truncation: int | None, learning_rate: float
) -> Context:
    """The sidebar's initial network over ``text``, ready for the evaluators."""
    corpus = Corpus(text)
    config = architecture.network(corpus.V)
    params = architecture.initial_params(config)
    return Context(params, config, corpus.inputs, corpus.targets, learning_rate, truncation)


def note_view(
    text: str,
    architecture: TrainingConfig,
    truncation: int | None,
    notation: str,
    learning_rate: float,
) -> NoteView:
    """Every line of the note behind ``notation`` evaluated on the sidebar's network (uncached)."""
    ctx = network_context(text, architecture, truncation, learning_rate)
    return evaluate_note(derivation_for(notation), ctx)


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_note_view(
    text: str,
    architecture: TrainingConfig,
    truncation: int | None,
    notation: str,
    learning_rate: float,
) -> NoteView:
    return note_view(text, architecture, truncation, notation, learning_rate)


def check_seconds(text: str, architecture: TrainingConfig, truncation: int | None) -> float:
    """Estimated seconds of the gradient check on this network."""
    corpus = Corpus(text)
    config = architecture.network(corpus.V)
    entries = sum(math.prod(shape) for shape in config.shapes().values())
    return check_cost(corpus.T, config.hidden_size, entries, truncation)


def run_gradient_check(
    text: str, architecture: TrainingConfig, truncation: int | None
) -> GradientCheckView:
    """Central differences against BPTT on the sidebar's initial network (uncached)."""
    ctx = network_context(text, architecture, truncation, 1.0)
    return gradient_check(ctx.params, ctx.config, ctx.inputs, ctx.targets, truncation)


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_gradient_check(
    text: str, architecture: TrainingConfig, truncation: int | None
) -> GradientCheckView:
    return run_gradient_check(text, architecture, truncation)
