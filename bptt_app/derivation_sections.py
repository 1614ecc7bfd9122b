"""The derivation page's sections, rendered (pages/derivation.py lays them out).

Every number and formula comes from ``bptt_viz.derivation`` (the note's lines evaluated on the
sidebar's network) through the cached calls of ``bptt_app.derivation``; this module only
renders them.
"""

from __future__ import annotations

import streamlit as st

from bptt_app import derivation as glue  # glue.AUTO_CHECK_SECONDS read at each run (tests set it)
from bptt_app.classroom import explanation
from bptt_app.derivation import (
    DERIVATION_MAX_T,
    cached_gradient_check,
    check_seconds,
    derivation_text,
)
from bptt_app.settings import Settings
from bptt_core.trainer import TrainingConfig
from bptt_viz.derivation import tables
from bptt_viz.derivation.view import LineView, NoteView

INTRO = (
    "The note behind the sidebar's notation derives BPTT from the forward equations to the "
    "weight updates; here is that derivation, in its own symbols and order. Open any line to "
    "see both of its sides computed on your network. Where the note slips, its line is "
    "struck through above the corrected one, with the numbers that show the slip."
)


def render_intro() -> None:
    st.title("The derivation")
    with explanation("What this page shows"):
        st.markdown(INTRO)


def evaluated_text(s: Settings) -> str:
    """The part of the sidebar's text the page evaluates on, with a notice when it is cut."""
    text, cut = derivation_text(s.text)
    if cut:
        st.info(
            f"Your text has {len(s.text):,} characters; this page evaluates every line on its "
            f"first {DERIVATION_MAX_T + 1} (T = {DERIVATION_MAX_T}).",
            icon=":material/info:",
        )
    return text


def render_note(view: NoteView, s: Settings) -> None:
    """The note's title, what it is, and the network it is evaluated on."""
    st.subheader(view.title)
    with explanation("About this note"):
        st.markdown(view.summary)
        st.caption(
            f"Evaluated on the sidebar's initial network ({view.network}, T = {view.T}); the "
            f"learning rate of the update lines is the sidebar's, {s.learning_rate:g}."
        )
        if view.case_note:
            st.info(view.case_note, icon=":material/swap_horiz:")
        for remark in view.extra:
            st.caption(remark)


def render_corrections(view: NoteView, s: Settings) -> None:
    """The short table of the note's slips, and how truncation enters the page."""
    st.subheader("What this page corrects in the note")
    if view.corrections:
        st.markdown(tables.corrections_table(view))
        with explanation("Where these come from"):
            st.caption(
                "Each line below gives the reason in a sentence and the numbers that show it on "
                "your network. The reports are in ../shared/seeds/README.md, this project's "
                "README and issue 12; “found on this page” marks slips found while checking the "
                "notes for this page."
            )
    else:
        st.markdown(view.no_slips)
    if s.k is not None:
        st.caption(
            f"The notes derive the full gradient, so every line is compared with full BPTT; the "
            f"sidebar's truncation k = {s.k} enters the gradient check below"
            + (" and Guo's τ-step lines (τ = k − 1)." if s.notation == "guo" else ".")
        )


def render_lines(view: NoteView, notation: str) -> None:
    """Every line of the derivation in a box of its own."""
    st.subheader("The derivation, line by line")
    all_open = st.toggle(
        "Open every line's evaluation",
        key="derivation_all_open",
        help="Show both sides of every line at once, e.g. on a projector.",
    )
    for line in view.lines:
        with st.container(border=True, key=f"derivation_line_{line.index}"):
            render_line(line, notation, all_open)


def render_line(line: LineView, notation: str, all_open: bool) -> None:
    """One line: its heading, its form (or the note's form beside the corrected one), the
    reasons with their numbers, and an expander with both sides evaluated."""
    st.markdown(tables.line_heading(line))
    if line.flags:
        st.markdown(":red-badge[✗ as the note writes it]")
        st.latex(tables.struck(line.note_tex))
        st.markdown(":green-badge[✓ corrected]")
        st.latex(line.tex)
        for flag in line.flags:
            st.markdown(f"**{flag.label}.** {flag.reason} {flag.evidence}")
    elif line.code:
        st.code(line.tex, language="python")
    else:
        st.latex(line.tex)
    if line.remark:
        st.caption(line.remark)
    label = tables.expander_label(line)
    if all_open:  # every evaluation drawn and open (a projector, a printout)
        with st.expander(label, expanded=True):
            render_evaluation(line)
        return
    # opened on demand: an evaluation is drawn only while its expander is open, so the page's
    # 25 lines do not draw 25 tables (the numbers are computed and cached either way)
    box = st.expander(label, key=f"derivation_open_{notation}_{line.index}", on_change="rerun")
    if box.open:
        with box:
            render_evaluation(line)


def render_evaluation(line: LineView) -> None:
    """Both sides of the line on the sidebar's network, and the terms of a sum."""
    if line.unavailable:
        st.markdown(line.unavailable)
        return
    if line.case_note:
        st.caption(line.case_note)
    st.markdown(tables.checks_table(line))
    st.caption(tables.sources(line))
    if line.terms:
        st.caption(line.terms_caption)
        st.markdown(tables.terms_table(line))
    if line.text:
        st.caption(line.text)


def render_gradient_check(text: str, architecture: TrainingConfig, s: Settings) -> None:
    """The engine against central differences (on a button when it would take long)."""
    st.subheader("The gradient check")
    with explanation("What is checked"):
        st.markdown(
            "Every line above is compared with the engine's BPTT. Here the engine is compared "
            "with something that knows nothing of BPTT: central differences, (L(θ + ε) − "
            "L(θ − ε)) / 2ε, one parameter entry at a time."
        )
    seconds = check_seconds(text, architecture, s.k)
    check_key = f"derivation_check_{hash((text, architecture, s.k))}"
    if seconds > glue.AUTO_CHECK_SECONDS and not st.session_state.get(check_key):
        st.button(
            f"Run the gradient check (about {seconds:.0f} s for this network)",
            key="derivation_run_check",
            on_click=lambda: st.session_state.__setitem__(check_key, True),
        )
        return
    with st.spinner("Differencing every parameter entry…"):
        check = cached_gradient_check(text, architecture, s.k)
    st.markdown(tables.gradient_summary(check))
    st.markdown(tables.check_table(check, s.notation_obj))
    if check.k is not None:
        st.markdown(tables.truncation_text(check))
        st.markdown(tables.truncation_table(check, s.notation_obj))
    elif s.k is not None:
        st.caption(
            f"Truncation k = {s.k} reaches all T = {check.T} copies here, so g_k is the full "
            "gradient and the check above applies to it."
        )
