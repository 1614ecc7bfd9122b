"""Section 1: where the error of each loss goes (the T × T map of ‖∂L(t)/∂a(τ)‖)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from bptt_viz.figures.gradient_flow import BAND_COLOUR_NAME, flow_map
from bptt_viz.labels import display_char
from bptt_viz.notation import Notation
from bptt_viz.truncation_page.symbols import TAU, TOP, frac, math, symbols

TITLE = "1 · Where the error of each loss goes"


@dataclass(frozen=True)
class FlowMapView:
    figure: go.Figure
    reading: str  # Markdown: what a row, a column and a cell are
    band: str  # Markdown: which terms the band keeps
    sum_intro: str  # Markdown: the gradient of W_hh is the sum of the drawn terms
    equation: str  # LaTeX: the gradient of W_hh as the double sum of the drawn terms
    notice: str  # Markdown: what the numbers of this network say
    own_error: float  # ‖∂L(T)/∂a(T)‖: the last loss at its own copy (NaN if T < 2 or overflow)
    first_error: float  # ‖∂L(T)/∂a(1)‖: the last loss at copy 1
    dropped_share: float | None  # share of Σ‖∂L(t)/∂a(τ)‖ outside the band (None: full BPTT)


def dropped_term_share(flow: np.ndarray, k: int | None) -> float | None:
    """Σ of the finite terms with t − τ ≥ k over Σ of all finite terms τ ≤ t (None: full)."""
    if k is None:
        return None
    T = flow.shape[0]
    distance = np.subtract.outer(np.arange(T), np.arange(T))
    lower = (distance >= 0) & np.isfinite(flow)
    total = float(flow[lower].sum())
    return float(flow[lower & (distance >= k)].sum()) / total if total > 0 else 0.0


def map_height(T: int) -> int:
    """Pixels: room for T rows (square cells), between 460 and 640."""
    return int(np.clip(300 + 22 * T, 460, 640))


def _last_row_sentence(n: Notation, T: int, own: float, first: float) -> str:
    if T < 2 or not (np.isfinite(own) and np.isfinite(first) and own > 0):
        return ""
    change = first / own
    trend = f"shrank to {change:.3g} of its size" if change < 1 else f"grew {change:.3g}-fold"
    return (
        f"The last loss, {math(n.tex('L_t', T))}, has error {own:.3g} at its own copy and "
        f"{first:.3g} at copy 1: over {T - 1} steps back it {trend}. "
    )


def _dropped_sentence(k: int | None, share: float | None) -> str:
    if k is None or share is None:
        return "Move k to see which terms a truncation keeps."
    return (
        f"With k = {k} the terms outside the band make up {100 * share:.3g}% of the summed "
        "term sizes."
    )


def _texts(n: Notation) -> tuple[str, str, str, str]:
    """(reading, band, sum_intro, equation)."""
    sym = symbols(n)
    reading = (
        f"Row t is the loss {math(sym.L_t)} (predicting the character after input t); column τ "
        f"is unfolded copy τ. Each cell is the size of {math(frac(sym.L_t, sym.a_tau))}: how "
        "much of that one loss's error arrives at copy τ."
    )
    window = math(r"t - k < \tau \le t")
    band = (
        f"Truncation keeps only the terms inside the {BAND_COLOUR_NAME} band, {window}: k = 1 "
        "keeps the diagonal, k = T everything."
    )
    sum_intro = (
        f"The gradient of {math(sym.W)} is the sum of all these terms, each times the state the "
        "copy started from — the double sum of the “hello” notes, drawn term by term:"
    )
    equation = (
        frac(n.tex("L"), sym.W)
        + r" = \sum_{t=1}^{T}\sum_{\tau=1}^{t} "
        + frac(sym.L_t, sym.a_tau)
        + n.tex("h", TAU + "-1")
        + TOP
    )
    return reading, band, sum_intro, equation


def flow_map_view(
    flow: np.ndarray,
    input_chars: Sequence[str],
    target_chars: Sequence[str],
    n: Notation,
    k: int | None,
) -> FlowMapView:
    """Section 1 for the engine's map ``flow`` (T, T) = ‖∂L(t)/∂a(τ)‖ and truncation ``k``
    (None: full BPTT; always < T otherwise)."""
    T = flow.shape[0]
    own, first = (float(flow[T - 1, T - 1]), float(flow[T - 1, 0])) if T >= 2 else (np.nan,) * 2
    share = dropped_term_share(flow, k)
    sym = symbols(n)
    notice = (
        "**What to notice:** each step back multiplies the error by the Jacobian "
        f"{math(frac(sym.h_tau, sym.h_tau_prev))}, so along a row the colour changes steadily "
        "away from the diagonal — darker when it vanishes, brighter when it explodes (log "
        "scale: a colour step is a factor of 10). "
        + _last_row_sentence(n, T, own, first)
        + _dropped_sentence(k, share)
    )
    reading, band, sum_intro, equation = _texts(n)
    figure = flow_map(
        flow,
        [display_char(c) for c in input_chars],
        [display_char(c) for c in target_chars],
        n,
        k,
        height=map_height(T),
    )
    return FlowMapView(figure, reading, band, sum_intro, equation, notice, own, first, share)
