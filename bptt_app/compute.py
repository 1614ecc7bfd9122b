"""Engine calls the pages share, cached on hashable arguments.

``ModelSpec`` names everything that determines the initial network and its traces; moving a
slider that does not enter a function's arguments never recomputes it. Caches are bounded
(``max_entries`` and a time to live) so a long class does not grow server memory without limit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import streamlit as st

from bptt_app.settings import Settings, init_arguments
from bptt_core.backward import BackwardTrace, backward_unchecked
from bptt_core.corpus import Corpus
from bptt_core.model import ForwardTrace, Params, RNNConfig, forward_unchecked, init_params

CACHE_ENTRIES = 48
CACHE_TTL = 3600  # seconds


@dataclass(frozen=True)
class ModelSpec:
    """What fixes the network and the sequence: text and architecture and initialisation."""

    text: str
    hidden_size: int
    activation: str
    output: str
    loss: str
    init: str  # xavier | scale | radius
    init_scale: float
    spectral_radius: float
    seed: int

    @staticmethod
    def from_settings(s: Settings, text: str | None = None) -> ModelSpec:
        """The Settings' fields of the same names; ``text`` replaces the Settings' text."""
        values = {f.name: getattr(s, f.name) for f in fields(ModelSpec)}
        if text is not None:
            values["text"] = text
        return ModelSpec(**values)

    def config(self, vocab_size: int) -> RNNConfig:
        return RNNConfig(
            vocab_size, self.hidden_size, vocab_size, self.activation, self.output, self.loss
        )

    def params(self, config: RNNConfig) -> Params:
        scheme, scale, radius = init_arguments(self.init, self.init_scale, self.spectral_radius)
        return init_params(config, self.seed, scheme=scheme, scale=scale, spectral_radius=radius)


@dataclass(frozen=True, eq=False)
class Unfolded:
    """One BPTT pass over a text with the initial parameters, ready to be stepped through."""

    corpus: Corpus
    config: RNNConfig
    params: Params
    fwd: ForwardTrace
    bwd: BackwardTrace
    running_max: dict[str, float]  # max |entry| of any running sum, per parameter
    contribution_max: dict[str, float]  # max |entry| of any single copy's contribution


def unfolded_pass(spec: ModelSpec, truncation: int | None) -> Unfolded:
    """Forward and backward pass of the initial network over ``spec.text`` (uncached)."""
    corpus = Corpus(spec.text)
    config = spec.config(corpus.V)
    params = spec.params(config)
    with np.errstate(all="ignore"):
        fwd = forward_unchecked(
            params, config, corpus.inputs, corpus.targets, np.zeros(config.hidden_size)
        )
        bwd = backward_unchecked(params, config, fwd, truncation)
    per_step = bwd.per_step  # small: the step page unfolds at most a few dozen copies
    running_max, contribution_max = {}, {}
    for name, arr in per_step.items():
        running = np.cumsum(arr[::-1], axis=0)  # sums over copies T..t
        running_max[name] = float(np.abs(running).max(initial=0.0)) or 1.0
        contribution_max[name] = float(np.abs(arr).max(initial=0.0)) or 1.0
    return Unfolded(corpus, config, params, fwd, bwd, running_max, contribution_max)


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_unfolded_pass(spec: ModelSpec, truncation: int | None) -> Unfolded:
    return unfolded_pass(spec, truncation)
