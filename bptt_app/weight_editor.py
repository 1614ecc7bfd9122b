"""The weights set by hand in the session: their state, their link parameter and their editor.

The last valid weights are one tuple in ``st.session_state`` (``WEIGHTS_KEY``), read by the
sidebar into ``Settings.weights`` (and from there, through ``Settings.training()``, into the
session's network on every page). A link brings them as ``?w=…`` (``bptt_app.hand_weights``); the
sidebar keeps that parameter in the address bar while the initial weights are set by hand.

The editor (on the step page) is two ``st.data_editor`` tables of text cells. Each edit is
checked in the table's ``on_change`` callback: a valid edit becomes the new weights; a cell that
is not a number, not finite, beyond ±10 or empty is refused with a message naming it, and the
table is drawn again from the last valid weights (a new key), so what it shows is always what
the network uses.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from bptt_app import hand_weights as hw
from bptt_app.settings import Settings
from bptt_core.corpus import Corpus
from bptt_core.model import RNNConfig
from bptt_core.trainer import TrainingConfig

WEIGHTS_KEY = "_hand_weights"  # the last valid weights (tuple of 16 floats)
GEN_KEY = "_hand_editor_gen"  # bumped to redraw the tables from the weights
MESSAGE_KEY = "_hand_message"  # (level, Markdown) of the last edit
LINK_NOTICE_KEY = "_hand_link_notice"  # why the link's weights were not used
EDITOR_PREFIX = "hand_table"
URL_KEY = hw.URL_KEY
CELL_WIDTH = 60  # pixels: "-0.25" and a header with its edit icon fit


# --------------------------------------------------------------------------- state and link


def init_from_link() -> None:
    """On a session's first run: the link's ``w=`` (if valid) or the preset's weights."""
    if WEIGHTS_KEY in st.session_state:
        return
    weights, problem = hw.DEFAULT_WEIGHTS, ""
    raw = st.query_params.get(hw.URL_KEY)
    if raw:
        decoded, problem = hw.decode(raw)
        weights = decoded if decoded is not None else weights
    st.session_state[WEIGHTS_KEY] = weights
    if problem:
        st.session_state[LINK_NOTICE_KEY] = (
            f"{problem} The weights of the preset “By hand” are used instead."
        )


def current_weights() -> tuple[float, ...]:
    value = st.session_state.get(WEIGHTS_KEY)
    ok = isinstance(value, tuple) and len(value) == hw.SIZE
    return value if ok else hw.DEFAULT_WEIGHTS


def set_weights(weights: tuple[float, ...]) -> None:
    """New weights (already valid), and tables drawn afresh from them."""
    st.session_state[WEIGHTS_KEY] = tuple(float(w) for w in weights)
    st.session_state[GEN_KEY] = st.session_state.get(GEN_KEY, 0) + 1


def sync_link(settings: Settings) -> None:
    """``w=`` in the address bar while the initial weights are set by hand, else none."""
    if settings.init == "hand":
        value = hw.encode(settings.weights)
        if st.query_params.get(hw.URL_KEY) != value:
            st.query_params[hw.URL_KEY] = value
    elif hw.URL_KEY in st.query_params:
        del st.query_params[hw.URL_KEY]


def link_notice() -> str | None:
    return st.session_state.get(LINK_NOTICE_KEY)


# --------------------------------------------------------------------------- edits


def _editor_key(table: str) -> str:
    return f"{EDITOR_PREFIX}_{table}_{st.session_state.get(GEN_KEY, 0)}"


def _on_edit(table: hw.WeightTable, key: str) -> None:
    """A table's on_change: accept a valid edit, refuse a bad one (the last valid weights stay)."""
    st.session_state.pop(LINK_NOTICE_KEY, None)
    state = st.session_state.get(key) or {}
    before = current_weights()
    after, problems = hw.apply_edits(before, table, state.get("edited_rows") or {})
    if problems:
        st.session_state[MESSAGE_KEY] = ("error", refused_message(problems))
        set_weights(before)  # redraw the table from the weights still in use
        return
    changes = [
        f"{table.rows[r]}, {table.columns[c]}: {hw.shown(before[i])} → {hw.shown(after[i])}"
        for r, row in enumerate(table.cells)
        for c, i in enumerate(row)
        if before[i] != after[i]
    ]
    if changes:
        st.session_state[MESSAGE_KEY] = ("success", "Changed " + "; ".join(changes) + ".")
    set_weights(after)


def refused_message(problems: list[str]) -> str:
    return (
        "**Not changed:** "
        + "; ".join(problems)
        + f". Type a number from −{hw.MAX_ABS:g} to {hw.MAX_ABS:g} (e.g. 0.5 or -1.25); the "
        "network keeps the last valid weights, shown in the tables."
    )


def _round(decimals: int) -> None:
    set_weights(hw.rounded(current_weights(), decimals))
    st.session_state[MESSAGE_KEY] = (
        "success",
        f"Rounded every weight to {decimals} decimal{'s' * (decimals != 1)}.",
    )


def _random(settings: Settings) -> None:
    """The seed's Xavier draw for this network (H = 2, two characters), as the table's start."""
    config = RNNConfig(hw.V, hw.H, hw.V, settings.activation, settings.output, settings.loss)
    params = TrainingConfig(hidden_size=hw.H, seed=settings.seed).initial_params(config)
    set_weights(hw.rounded(tuple(float(v) for v in params.flat()), 2))
    st.session_state[MESSAGE_KEY] = (
        "success",
        f"Random (Xavier) weights of seed {settings.seed}, rounded to 2 decimals.",
    )


# --------------------------------------------------------------------------- the editor


def render_editor(settings: Settings) -> None:
    """The two tables, the rounding buttons and the last edit's message (step page)."""
    vocab = Corpus(settings.text).vocab
    hidden, output = hw.weight_tables(settings.notation_obj, vocab)
    weights = current_weights()
    with st.container(horizontal=True, gap="medium", key="hand_tables"):
        _table(hidden, weights)
        _table(output, weights)
    n = settings.notation_obj
    st.caption(
        f"Left: one row per hidden unit, its weights from the input character, from "
        f"{n.plain('h', 't−1')} (columns h1, h2) and its bias. Right: one row per character, "
        f"the weights of its output {n.plain('o')} from {n.plain('h')} and its bias. Type a "
        "number (±10 at most) and press Enter: every step below follows, and the link carries "
        "the weights (w=…)."
    )
    with st.container(horizontal=True, gap="small"):
        st.button("Round to 1 decimal", on_click=_round, args=(1,), key="hand_round_1")
        st.button("Round to 2 decimals", on_click=_round, args=(2,), key="hand_round_2")
        st.button(
            f"Random weights (seed {settings.seed}, 2 decimals)",
            on_click=_random,
            args=(settings,),
            key="hand_random",
        )
    message = st.session_state.get(MESSAGE_KEY)
    if message is not None:
        level, text = message
        (st.error if level == "error" else st.success)(text)


def _table(table: hw.WeightTable, weights: tuple[float, ...]) -> None:
    key = _editor_key(table.name)
    frame = pd.DataFrame(table.values(weights), index=list(table.rows), columns=list(table.columns))
    columns: dict[str, object] = {"_index": st.column_config.TextColumn(width=40, disabled=True)}
    columns |= {c: st.column_config.TextColumn(c, width=CELL_WIDTH) for c in table.columns}
    st.data_editor(
        frame,
        key=key,
        on_change=_on_edit,
        args=(table, key),
        num_rows="fixed",
        width="content",
        column_config=columns,
    )
