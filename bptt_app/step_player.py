"""The browser stepper of the "Step through BPTT" page: the component and the pass it shows.

The pass is computed by the engine and turned into the player's payload (``bptt_viz.player``)
once per change of settings (cached, as JSON text); the component (``assets/step_player.js`` and
``.css``, inline, no build step, nothing fetched from another host) steps through it in the
browser. The step lives in the browser and in the address bar (``?step=``); the server only
reads it when the page opens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from bptt_app.settings import STEP_MAX_T, Problem, Settings
from bptt_core.backward import backward_unchecked
from bptt_core.corpus import Corpus
from bptt_core.model import forward_unchecked
from bptt_core.trainer import TrainingConfig
from bptt_viz.notation import get_notation
from bptt_viz.player.payload import PassInput, build_payload
from bptt_viz.player.steps import parse_step

ASSETS = Path(__file__).parent / "assets"
CACHE_ENTRIES, CACHE_TTL = 48, 3600
PLAYER_KEY = "step_player"

_player = st.components.v2.component(
    "bptt_step_player",
    html="",
    css=(ASSETS / "step_player.css").read_text(encoding="utf-8"),
    js=(ASSETS / "step_player.js").read_text(encoding="utf-8"),
    isolate_styles=True,
)


@dataclass(frozen=True)
class StepPageView:
    """What the step page shows besides the player: notices, then the player's data."""

    notices: list[Problem]
    payload: str  # the pass as JSON text (bptt_viz.player format)
    steps: int  # number of steps of the pass
    start: int  # 0-based step to open at


def pass_payload(text: str, training: TrainingConfig, notation: str) -> tuple[str, int, bool]:
    """One BPTT pass of the initial network over ``text`` as the player's JSON, its number of
    steps, and whether the forward pass stayed finite (uncached)."""
    corpus = Corpus(text)
    config = training.network(corpus.V)
    params = training.initial_params(config)
    with np.errstate(all="ignore"):
        fwd = forward_unchecked(
            params, config, corpus.inputs, corpus.targets, np.zeros(config.hidden_size)
        )
        bwd = backward_unchecked(params, config, fwd, training.truncation)
    view = PassInput(
        get_notation(notation),
        config,
        params,
        fwd,
        bwd,
        corpus.vocab,
        corpus.input_chars,
        corpus.target_chars,
    )
    payload = build_payload(view)
    finite = bool(np.isfinite(fwd.loss) and np.isfinite(fwd.h).all())
    return json.dumps(payload, separators=(",", ":"), allow_nan=False), payload["n"], finite


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_pass_payload(
    text: str, training: TrainingConfig, notation: str
) -> tuple[str, int, bool]:
    return pass_payload(text, training, notation)


def step_page_view(settings: Settings, step_in_url: object) -> StepPageView:
    """The notices and the player's data for ``settings`` (already checked to be valid)."""
    notices, text = [], settings.text
    if len(text) > STEP_MAX_T + 1:
        notices.append(
            Problem(
                f"Your text has {len(text):,} characters. Stepping through is readable for short "
                f"sequences, so this page unfolds the first {STEP_MAX_T + 1} characters "
                f"(T = {STEP_MAX_T}). *Train live* uses the whole text.",
                "info",
            )
        )
        text = text[: STEP_MAX_T + 1]
    T = len(text) - 1
    k = settings.k
    if k is not None and k >= T:
        notices.append(
            Problem(
                f"Truncation k = {k} is at least T = {T}: every loss reaches every copy, so this "
                "is full BPTT.",
                "info",
            )
        )
    payload, steps, finite = cached_pass_payload(text, settings.training(), settings.notation)
    if not finite:
        notices.append(
            Problem(
                "The forward pass overflowed with these initial weights (the loss is not a finite "
                "number). Lower the weight scale or the spectral radius.",
                "warning",
            )
        )
    start, problem = parse_step(step_in_url, steps)
    if problem:
        notices.append(Problem(problem, "warning"))
    return StepPageView(notices, payload, steps, start)


def show_player(view: StepPageView) -> None:
    """Mount the player (one per page; it keeps its step across reruns)."""
    _player(data={"pass": view.payload, "start": view.start}, key=PLAYER_KEY, height="content")
