"""The page's own controls: the truncation k and the spectral radius ρ of W_hh, and the intro.

The truncation slider belongs to this page (it never writes the sidebar's k): it starts at the
sidebar's k and follows it whenever the sidebar's k changes, so a shared link opens at the
linked k, while a student can try other k here without changing what *Train live* trains.
On the slider k runs 1..T; k = T keeps every term, so it is full BPTT.
"""

from __future__ import annotations

from dataclasses import dataclass

from bptt_viz.notation import Notation
from bptt_viz.truncation_page.symbols import math, symbols

RADIUS_RANGE = (0.1, 3.0, 1.0, 0.05)  # min, max, default, step of the ρ slider
FLOW_STEPS_NOTE = (
    "Your text has {chars:,} characters. The T × T analyses on this page compare every pair "
    "of timesteps, so they use the first {used} characters (T = {T}). *Train live* uses the "
    "whole text."
)


def page_truncation(value: int, T: int) -> int | None:
    """The engine's truncation for a slider value: None (full BPTT) from k = T on."""
    return None if value >= T else int(value)


def slider_value(k: int | None, T: int) -> int:
    """A truncation on the slider's 1..T scale (full BPTT, or any k ≥ T, is T)."""
    return T if k is None else max(1, min(int(k), T))


def reach_sentence(k: int | None) -> str:
    """What a truncation keeps, in words: grammatical for every k."""
    if k is None:
        return "Full BPTT: every loss reaches every copy."
    if k == 1:
        return "k = 1: each loss reaches only its own copy; no error crosses a recurrent edge."
    if k == 2:
        return "k = 2: each loss reaches its own copy and the one before it."
    return f"k = {k}: each loss reaches its own copy and the {k - 1} before it."


@dataclass(frozen=True)
class TruncationControl:
    """The page's k slider: range 1..T, its starting value, label, help and caption."""

    T: int
    start: int  # the sidebar's k on the 1..T scale
    label: str
    help: str


def truncation_control(T: int, sidebar_k: int | None) -> TruncationControl:
    """The slider for a text of T ≥ 2 timesteps, starting at the sidebar's k."""
    return TruncationControl(
        T=T,
        start=slider_value(sidebar_k, T),
        label=f"Truncation k on this page (k = {T}: full BPTT)",
        help="Each loss L(t) sends its error back through k copies, its own included. Starts at "
        "the sidebar's “Truncation k” and follows it; moving it here changes this page only.",
    )


def truncation_caption(page_k: int | None, sidebar_k: int | None, T: int) -> str:
    """The reach of the page's k, and where the sidebar's k stands."""
    sidebar = None if sidebar_k is None or sidebar_k >= T else sidebar_k
    if sidebar == page_k:
        where = "Set from the sidebar's k; moving it changes this page only."
    else:
        shown = "0 (full BPTT)" if sidebar_k is None else str(sidebar_k)
        where = (
            f"The sidebar's k is still {shown}: *Step through BPTT* and *Train live* use that one."
        )
    return f"{reach_sentence(page_k)}  \n{where}"


def untruncatable_note() -> str:
    return "**Truncation k**: with T = 1 there is nothing to truncate."


def sidebar_k_beyond_text(sidebar_k: int | None, T: int) -> str | None:
    """A note when the sidebar's k is at least T (it then means full BPTT)."""
    if sidebar_k is None or sidebar_k < T:
        return None
    return (
        f"The sidebar's truncation k = {sidebar_k} is at least T = {T}: every loss reaches every "
        "copy, so this is full BPTT."
    )


def text_cut_note(chars: int, used: int) -> str:
    return FLOW_STEPS_NOTE.format(chars=chars, used=used, T=used - 1)


@dataclass(frozen=True)
class RadiusControl:
    label: str
    help: str
    minimum: float
    maximum: float
    default: float
    step: float


def radius_control(n: Notation) -> RadiusControl:
    lo, hi, default, step = RADIUS_RANGE
    return RadiusControl(
        label=f"Spectral radius ρ({symbols(n).W_plain}) on this page",
        help="W_hh of the sidebar's network, rescaled to this spectral radius (largest "
        "|eigenvalue|). Everything above the learning experiment uses the rescaled network.",
        minimum=lo,
        maximum=hi,
        default=default,
        step=step,
    )


def introduction(n: Notation) -> tuple[str, str]:
    """The two paragraphs under the title: what the page shows, and how to use it."""
    sym = symbols(n)
    slope = math("f'")
    what = (
        f"The backward pass sends the error of every loss {math(sym.L_t)} back through the "
        f"unfolded copies t, t − 1, …, 1. Each step back multiplies it by the recurrent weights "
        f"{math(sym.W)} and the slope {slope} of the activation, so it shrinks (or grows) "
        "step after step. This page measures how far the error of the sidebar's network really "
        "travels, what a truncation **k** throws away, and what that costs when learning."
    )
    how = (
        "**How to use it:** move **k** to see which terms a truncation keeps (sections 1 and "
        "2); move **ρ** to make the error vanish or explode (sections 1, 3 and 4); switch the "
        "activation or the notation in the sidebar; press the button in section 5 to train."
    )
    return what, how
