"""The sidebar shared by every page: keyed widgets bound to the URL, read into one Settings.

Every widget has a ``key`` (its value survives page changes) and ``bind="query-params"`` (the
value lives in the address bar, so a copied link opens the identical setup). Streamlit checks
the values a link brings: a number out of range, a word where a number belongs, an unknown
option is dropped and the default used. The sidebar says so (``bptt_app.link_values``): a note
at its top names every value of the link that was ignored and what was used instead. Widgets
that only apply to some choices are disabled rather than hidden, so their values are never lost.

The training text box has no length limit of its own (a limit there would make the browser
refuse a long paste without a word): the counter under it counts to ``MAX_TEXT_CHARS``, and a
longer text is refused by the pages with a message.
"""

from __future__ import annotations

import math

import streamlit as st
from streamlit.runtime.state.session_state_proxy import get_session_state

from bptt_app import weight_editor
from bptt_app.classroom import render_classroom
from bptt_app.link_values import LinkSetting, ignored_values
from bptt_app.settings import (
    CLIP_CHOICES,
    INIT_CHOICES,
    MAX_HIDDEN,
    MAX_TEXT_CHARS,
    MAX_WIDGET_CHARS,
    NOTATION_CHOICES,
    OPTIMIZER_CHOICES,
    OUTPUT_LOSS,
    SCHEDULE_CHOICES,
    Settings,
)
from bptt_app.widget_map import DEFAULTS, WIDGET_DEFAULTS, settings_from_widgets
from bptt_core.functions import ACTIVATIONS

BIND = "query-params"
NOTICES_KEY = "_link_notices"  # (notices, the Settings they were found with)


# what a link may set, and the range each widget accepts (the widgets below use these numbers)
LINK_SETTINGS: dict[str, LinkSetting] = {
    s.key: s
    for s in (
        LinkSetting("text", "the training text", "text", max_chars=MAX_TEXT_CHARS),
        LinkSetting("notation", "notation", "choice", choices=tuple(NOTATION_CHOICES)),
        LinkSetting("hidden", "hidden units H", "int", 1, MAX_HIDDEN),
        LinkSetting("act", "hidden activation f", "choice", choices=tuple(ACTIVATIONS)),
        LinkSetting("out", "output and loss", "choice", choices=tuple(OUTPUT_LOSS)),
        LinkSetting("init", "initial weights", "choice", choices=tuple(INIT_CHOICES)),
        LinkSetting("scale", "weight scale σ", "float", 1e-4, 10.0),
        LinkSetting("radius", "spectral radius ρ", "float", 0.1, 3.0),
        LinkSetting("seed", "random seed", "int", 0, 2**31 - 1),
        LinkSetting("k", "truncation k", "int", 0, 100_000),
        LinkSetting("lr", "learning rate η", "float", 1e-6, 1e6),
        LinkSetting("opt", "optimizer", "choice", choices=tuple(OPTIMIZER_CHOICES)),
        LinkSetting("clip", "gradient clipping", "choice", choices=tuple(CLIP_CHOICES)),
        LinkSetting("clipval", "clipping threshold c", "float", 1e-3, 1e6),
        LinkSetting("seq", "chunk length", "int", 1, 200),
        LinkSetting("sched", "updates", "choice", choices=tuple(SCHEDULE_CHOICES)),
    )
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


def _unusable(key: str, values: list[str]) -> bool:
    """±inf for a number (Streamlit 1.67 crashes on int(inf)); a text longer than the box
    keeps (MAX_WIDGET_CHARS)."""
    if key == "text":
        return any(len(v) > MAX_WIDGET_CHARS for v in values)
    return key in NUMERIC_KEYS and not all(_finite_number(v) for v in values)


def drop_infinite_url_numbers() -> None:
    """Remove ±inf (``?seed=inf``, ``?k=1e999``) and over-long texts from the URL before the
    widgets read it.

    Streamlit 1.67 ignores most invalid URL values, but an integer number_input seeded with an
    infinite value raises OverflowError (``int(inf)``) instead of falling back to its default.
    Widgets are seeded from the URL as it was when the page loaded, which Streamlit keeps apart
    from ``st.query_params``; both are cleaned here (Streamlit internals, pinned to 1.67 in
    pyproject.toml; ``tests/reliability/test_hostile_input.py`` checks the behaviour).
    """
    with get_session_state().query_params() as qp:
        initial = getattr(qp, "_initial_query_params", {})
        for key in (*NUMERIC_KEYS, "text"):
            values = initial.get(key) or (qp.get_all(key) if key in qp else [])
            if not _unusable(key, list(values)):
                continue
            initial.pop(key, None)
            if key in qp and not qp.is_bound(key):
                del qp[key]


def link_values_to_check() -> dict[str, list[str]]:
    """The raw values the link brings for widgets not yet seeded in this session (the values
    Streamlit is about to check), as lists of strings."""
    with get_session_state().query_params() as qp:
        initial = getattr(qp, "_initial_query_params", {})
        return {
            key: list(values)
            for key, values in initial.items()
            if key in LINK_SETTINGS and key not in st.session_state
        }


def render_sidebar() -> Settings:
    """Draw the sidebar and return the current Settings."""
    raw = link_values_to_check()
    drop_infinite_url_numbers()
    weight_editor.init_from_link()
    with st.sidebar:
        render_classroom()
        notices_box = st.container()
        values = {**_text_and_notation(), **_network_widgets(), **_training_widgets()}
        st.caption("The address bar holds these settings: copy it to share this exact setup.")
        st.button("Reset all settings", on_click=_reset_to_defaults, key="reset_settings")
    settings = settings_from_widgets(values, weight_editor.current_weights())
    weight_editor.sync_link(settings)
    if raw:
        st.session_state[NOTICES_KEY] = (ignored_values(raw, values, LINK_SETTINGS), settings)
    show_link_notices(notices_box, settings)
    hand_notice = weight_editor.link_notice()
    if hand_notice and settings.init == "hand":
        notices_box.warning(hand_notice, icon=":material/link_off:")
    return settings


def show_link_notices(box, settings: Settings) -> None:
    """The values the link brought that were ignored, until a setting is changed."""
    notices, found_with = st.session_state.get(NOTICES_KEY, ((), None))
    if not notices or found_with != settings:
        return
    errors = [n.message for n in notices if n.level == "error"]
    warnings = [n.message for n in notices if n.level != "error"]
    if errors:
        box.error("**The link's training text was not used.** " + " ".join(errors))
    if warnings:
        box.warning(
            "**Some values in the link could not be used:**\n\n"
            + "\n".join(f"- {m}" for m in warnings),
            icon=":material/link_off:",
        )


def _text_and_notation() -> dict[str, object]:
    text = st.text_area(
        "Training text",
        value=WIDGET_DEFAULTS["text"],
        key="text",
        height=80,
        bind=BIND,
        help=f"The network learns to predict each next character. Up to {MAX_TEXT_CHARS:,} "
        "characters: short texts (like “hello”) are unfolded in full, long ones are trained in "
        "chunks. Press Ctrl+Enter or click outside the box to apply.",
    )
    text = text if isinstance(text, str) else ""
    st.caption(text_counter(text))
    notation = st.selectbox(
        "Notation",
        list(NOTATION_CHOICES),
        key="notation",
        bind=BIND,
        help="Every label and equation uses the names of the note you follow.",
    )
    return {"text": text, "notation": notation}


def text_counter(text: str) -> str:
    """“5 / 5,000 characters” under the text box; over the limit it says so."""
    n = len(text)
    if n > MAX_TEXT_CHARS:
        return f"**{n:,} / {MAX_TEXT_CHARS:,} characters: too long**, shorten the text to train."
    return f"{n:,} / {MAX_TEXT_CHARS:,} characters"


def _network_widgets() -> dict[str, object]:
    with st.expander("Network", expanded=True):
        hidden = st.slider(
            "Hidden units H", 1, MAX_HIDDEN, int(DEFAULTS.hidden_size), key="hidden", bind=BIND
        )
        activation = st.selectbox("Hidden activation f", list(ACTIVATIONS), key="act", bind=BIND)
        out_label = st.selectbox("Output and loss", list(OUTPUT_LOSS), key="out", bind=BIND)
        init_label = _init_widget()
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
            "Random seed", 0, 2**31 - 1, int(DEFAULTS.seed), 1, key="seed", bind=BIND
        )
    return {
        **{"hidden": hidden, "act": activation, "out": out_label, "init": init_label},
        **{"scale": scale, "radius": radius, "seed": seed},
    }


def _init_widget() -> str:
    """The initialisation choice (its label); for weights set by hand, where to edit them."""
    label = st.selectbox(
        "Initial weights",
        list(INIT_CHOICES),
        key="init",
        bind=BIND,
        help="Random: Xavier, a fixed scale σ, or W_hh rescaled to a spectral radius ρ. "
        "By hand: weights you type in a table on Step through BPTT (H = 2, two characters).",
    )
    if INIT_CHOICES[label] == "hand":
        st.caption("The weights are in a table on **Step through BPTT**, above the player.")
    return label


def _training_widgets() -> dict[str, object]:
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
        clip_label = st.selectbox("Gradient clipping", list(CLIP_CHOICES), key="clip", bind=BIND)
        clipval = st.number_input(
            "Clipping threshold c",
            min_value=1e-3,
            max_value=1e6,
            value=float(DEFAULTS.clip_threshold),
            step=0.5,
            format="%g",
            key="clipval",
            bind=BIND,
            disabled=CLIP_CHOICES[clip_label] == "none",
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
        sched = st.selectbox(
            "Updates",
            list(SCHEDULE_CHOICES),
            key="sched",
            bind=BIND,
            help="Summed: one update per pass, from the gradient summed over the copies (BPTT "
            "as in every note). Online: one update after every timestep, from that step's loss "
            "alone (Guo's online updates, the Trainer's per-timestep schedule).",
        )
    return {
        **{"k": k, "lr": lr, "opt": opt_label, "clip": clip_label, "clipval": clipval},
        **{"seq": seq, "sched": sched},
    }
