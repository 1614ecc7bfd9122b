"""The sidebar shared by every page: keyed widgets bound to the URL, read into one Settings.

Every widget has a ``key`` (its value survives page changes) and ``bind="query-params"`` (the
value lives in the address bar, so a copied link opens the identical setup). Streamlit validates
bound values from the URL: numbers are clamped to the widget's range, unknown options and garbage
are dropped and the default is used. Widgets that only apply to some choices are disabled rather
than hidden, so their values are never lost.
"""

from __future__ import annotations

import math

import streamlit as st
from streamlit.runtime.state.session_state_proxy import get_session_state

from bptt_app.settings import (
    CLIP_CHOICES,
    INIT_CHOICES,
    MAX_HIDDEN,
    MAX_WIDGET_CHARS,
    NOTATION_CHOICES,
    OPTIMIZER_CHOICES,
    OUTPUT_LOSS,
    Settings,
)
from bptt_core.functions import ACTIVATIONS

DEFAULTS = Settings()
BIND = "query-params"


def _label_of(choices: dict[str, str], value: str) -> str:
    return next(label for label, v in choices.items() if v == value)


def _output_label(output: str, loss: str) -> str:
    return next(label for label, pair in OUTPUT_LOSS.items() if pair == (output, loss))


# widget key → default widget value (labels for select boxes)
WIDGET_DEFAULTS: dict[str, object] = {
    "text": DEFAULTS.text,
    "notation": _label_of(NOTATION_CHOICES, DEFAULTS.notation),
    "hidden": DEFAULTS.hidden_size,
    "act": DEFAULTS.activation,
    "out": _output_label(DEFAULTS.output, DEFAULTS.loss),
    "init": _label_of(INIT_CHOICES, DEFAULTS.init),
    "scale": DEFAULTS.init_scale,
    "radius": DEFAULTS.spectral_radius,
    "seed": DEFAULTS.seed,
    "k": DEFAULTS.truncation,
    "lr": DEFAULTS.learning_rate,
    "opt": _label_of(OPTIMIZER_CHOICES, DEFAULTS.optimizer),
    "clip": _label_of(CLIP_CHOICES, DEFAULTS.clip),
    "clipval": DEFAULTS.clip_threshold,
    "seq": DEFAULTS.seq_length,
}


def _reset_to_defaults() -> None:
    for key, value in WIDGET_DEFAULTS.items():
        st.session_state[key] = value


NUMERIC_KEYS = ("hidden", "scale", "radius", "seed", "k", "lr", "clipval", "seq")


def _finite_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except (TypeError, ValueError):
        return True  # not a number at all: Streamlit drops it and uses the default


def drop_infinite_url_numbers() -> None:
    """Remove ±inf (e.g. ``?seed=inf``, ``?k=1e999``) from the URL before the widgets read it.

    Streamlit 1.67 ignores most invalid URL values, but an integer number_input seeded with an
    infinite value raises OverflowError (``int(inf)``) instead of falling back to its default.
    Widgets are seeded from the URL as it was when the page loaded, which Streamlit keeps apart
    from ``st.query_params``; both are cleaned here (Streamlit internals, pinned to 1.67 in
    pyproject.toml; ``tests/reliability/test_hostile_input.py`` checks the behaviour).
    """
    with get_session_state().query_params() as qp:
        initial = getattr(qp, "_initial_query_params", {})
        for key in NUMERIC_KEYS:
            values = initial.get(key) or (qp.get_all(key) if key in qp else [])
            if all(_finite_number(v) for v in values):
                continue
            initial.pop(key, None)
            if key in qp and not qp.is_bound(key):
                del qp[key]


def render_sidebar() -> Settings:
    """Draw the sidebar and return the current Settings."""
    drop_infinite_url_numbers()
    with st.sidebar:
        text = st.text_area(
            "Training text",
            value=WIDGET_DEFAULTS["text"],
            key="text",
            max_chars=MAX_WIDGET_CHARS,
            height=80,
            bind=BIND,
            help="The network learns to predict each next character. Short texts (like “hello”) "
            "are unfolded in full; long ones are trained in chunks.",
        )
        notation = st.selectbox(
            "Notation",
            list(NOTATION_CHOICES),
            key="notation",
            bind=BIND,
            help="Every label and equation uses the names of the note you follow.",
        )
        with st.expander("Network", expanded=True):
            hidden = st.slider(
                "Hidden units H", 1, MAX_HIDDEN, int(DEFAULTS.hidden_size), key="hidden", bind=BIND
            )
            activation = st.selectbox(
                "Hidden activation f", list(ACTIVATIONS), key="act", bind=BIND
            )
            out_label = st.selectbox("Output and loss", list(OUTPUT_LOSS), key="out", bind=BIND)
            init_label = st.selectbox("Initial weights", list(INIT_CHOICES), key="init", bind=BIND)
            init = INIT_CHOICES[init_label]
            scale = st.number_input(
                "Weight scale σ (fixed scale)",
                min_value=1e-4,
                max_value=10.0,
                value=float(DEFAULTS.init_scale),
                step=0.01,
                format="%.4f",
                key="scale",
                bind=BIND,
                disabled=init != "scale",
            )
            radius = st.slider(
                "Spectral radius ρ(W_hh)",
                0.1,
                3.0,
                float(DEFAULTS.spectral_radius),
                0.05,
                key="radius",
                bind=BIND,
                disabled=init != "radius",
            )
            seed = st.number_input(
                "Random seed",
                min_value=0,
                max_value=2**31 - 1,
                value=int(DEFAULTS.seed),
                step=1,
                key="seed",
                bind=BIND,
            )
        with st.expander("BPTT and training", expanded=True):
            k = st.number_input(
                "Truncation k (0 = full BPTT)",
                min_value=0,
                max_value=100_000,
                value=int(DEFAULTS.truncation),
                step=1,
                key="k",
                bind=BIND,
                help="Each loss L(t) sends its error back through k unfolded copies, its own "
                "included. k = 1: no error crosses a recurrent edge. k ≥ T: full BPTT.",
            )
            lr = st.number_input(
                "Learning rate η",
                min_value=1e-6,
                max_value=1e6,
                value=float(DEFAULTS.learning_rate),
                step=0.01,
                format="%g",
                key="lr",
                bind=BIND,
            )
            opt_label = st.selectbox("Optimizer", list(OPTIMIZER_CHOICES), key="opt", bind=BIND)
            clip_label = st.selectbox(
                "Gradient clipping", list(CLIP_CHOICES), key="clip", bind=BIND
            )
            clip = CLIP_CHOICES[clip_label]
            clipval = st.number_input(
                "Clipping threshold c",
                min_value=1e-3,
                max_value=1e6,
                value=float(DEFAULTS.clip_threshold),
                step=0.5,
                format="%g",
                key="clipval",
                bind=BIND,
                disabled=clip == "none",
            )
            seq = st.number_input(
                "Chunk length for long texts",
                min_value=1,
                max_value=200,
                value=int(DEFAULTS.seq_length),
                step=1,
                key="seq",
                bind=BIND,
                help="Texts longer than this are trained in chunks, the hidden state carried "
                "from one chunk to the next (TBPTT).",
            )
        st.caption("The address bar holds these settings: copy it to share this exact setup.")
        st.button("Reset all settings", on_click=_reset_to_defaults, key="reset_settings")
    output, loss = OUTPUT_LOSS[out_label]
    return Settings(
        text=text if isinstance(text, str) else "",
        notation=NOTATION_CHOICES[notation],
        hidden_size=int(hidden),
        activation=str(activation),
        output=output,
        loss=loss,
        init=init,
        init_scale=float(scale),
        spectral_radius=float(radius),
        seed=int(seed),
        truncation=int(k),
        learning_rate=float(lr),
        optimizer=OPTIMIZER_CHOICES[opt_label],
        clip=clip,
        clip_threshold=float(clipval),
        seq_length=int(seq),
    )
