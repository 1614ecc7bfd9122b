"""The sidebar's settings reach the engine identically on every page.

One route: ``Settings.training()`` → ``TrainingConfig`` → ``.network(V)`` (an ``RNNConfig``)
and ``.initial_params(config)``. For random settings (hypothesis), the network and the initial
weights each page works with must equal what a direct ``bptt_core`` call gives, with the
sidebar's choices mapped to engine arguments by hand here (independently of the app's code):

- Train live and the step page: the session's ``TrainSession`` (its LiveTrainer);
- Truncation & vanishing gradients: ``bptt_app.analysis.build_page_network``;
- The derivation: ``bptt_app.derivation.network_context``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bptt_app.settings import Settings
from bptt_app.train_session import TrainSession
from bptt_core import PARAM_NAMES
from bptt_core.corpus import Corpus
from bptt_core.model import RNNConfig, init_params
from bptt_core.trainer import TrainingConfig

OUTPUT_LOSS = [
    ("softmax", "cross_entropy"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "sse"),
    ("sigmoid", "sse"),
    ("linear", "sse"),
]


@st.composite
def sidebar_settings(draw) -> Settings:
    output, loss = draw(st.sampled_from(OUTPUT_LOSS))
    return Settings(
        text=draw(st.sampled_from(["hello", "abcabd", "the cat sat on the mat", "ab" * 30])),
        hidden_size=draw(st.integers(1, 24)),
        activation=draw(st.sampled_from(["tanh", "sigmoid", "relu", "linear"])),
        output=output,
        loss=loss,
        init=draw(st.sampled_from(["xavier", "scale", "radius"])),
        init_scale=draw(st.floats(1e-4, 10.0)),
        spectral_radius=draw(st.floats(0.1, 3.0)),
        seed=draw(st.integers(0, 2**31 - 1)),
        truncation=draw(st.integers(0, 40)),
        learning_rate=draw(st.floats(1e-6, 1e6)),
        optimizer=draw(st.sampled_from(["adam", "adagrad", "momentum", "sgd"])),
        clip=draw(st.sampled_from(["norm", "value", "none"])),
        clip_threshold=draw(st.floats(1e-3, 1e6)),
        seq_length=draw(st.integers(1, 200)),
    )


def direct(s: Settings):
    """The engine called directly: the sidebar's choices written out by hand."""
    V = Corpus(s.text).V
    config = RNNConfig(V, s.hidden_size, V, s.activation, s.output, s.loss)
    params = init_params(
        config,
        s.seed,
        scheme="scale" if s.init == "scale" else "xavier",
        scale=s.init_scale if s.init == "scale" else 0.1,
        spectral_radius=s.spectral_radius if s.init == "radius" else None,
    )
    training = TrainingConfig(
        hidden_size=s.hidden_size,
        activation=s.activation,
        output=s.output,
        loss=s.loss,
        init="scale" if s.init == "scale" else "xavier",
        init_scale=s.init_scale if s.init == "scale" else 0.1,
        spectral_radius=s.spectral_radius if s.init == "radius" else None,
        seed=s.seed,
        learning_rate=s.learning_rate,
        optimizer=s.optimizer,
        clip=s.clip,
        clip_threshold=s.clip_threshold,
        truncation=s.truncation or None,
        seq_length=s.seq_length,
    )
    return config, params, training


def routes(s: Settings) -> dict[str, tuple[RNNConfig, object]]:
    """(RNNConfig, initial Params) as each page builds them from ``s``."""
    from bptt_app.analysis import build_page_network
    from bptt_app.derivation import network_context

    session = TrainSession(s)
    architecture = s.training().architecture()
    page = build_page_network(s.text, architecture, radius=1.0)
    derivation = network_context(s.text, architecture, s.k, s.learning_rate)
    return {
        "Train live / step page (TrainSession)": (session.trainer.config, session.trainer.params),
        "truncation page (build_page_network)": (page.config, page.initial),
        "derivation page (network_context)": (derivation.config, derivation.params),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=sidebar_settings())
def test_the_settings_reach_the_engine_identically_on_every_page(s):
    config, params, training = direct(s)
    assert s.training() == training, f"Settings.training() differs for {s}"
    assert s.network(config.input_size) == config
    for route, (got_config, got_params) in routes(s).items():
        assert got_config == config, f"{route}: RNNConfig {got_config} ≠ {config} for {s}"
        for name in PARAM_NAMES:
            np.testing.assert_array_equal(
                getattr(got_params, name),
                getattr(params, name),
                err_msg=f"{route}: initial {name} differs for {s}",
            )
    assert TrainSession(s).trainer.settings == training, "the Trainer's hyperparameters"
