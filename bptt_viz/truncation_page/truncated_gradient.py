"""Section 2: what truncation throws away (the truncated gradient g_k against the full g)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bptt_core.flow import TruncationComparison
from bptt_core.model import PARAM_NAMES
from bptt_viz.figures.gradient_flow import BAND_COLOUR_NAME, truncation_panels
from bptt_viz.notation import Notation
from bptt_viz.truncation_page.symbols import TOP, frac, math, symbols

TITLE = "2 · What truncation throws away"
TABLE_COLUMNS = ("relative error", "cosine", "share dropped")
TABLE_FORMAT = "{:.4f}"


@dataclass(frozen=True)
class TruncatedGradientView:
    figure: go.Figure
    explanation: str  # Markdown: what the three panels compare
    notice: str  # Markdown: which parameters lose terms and why
    table_heading: str  # Markdown
    table: pd.DataFrame  # one row per parameter (notation names, then "all of θ"), TABLE_COLUMNS
    most_affected: str | None  # engine name of the parameter with the largest relative error


def comparison_table(comparison: TruncationComparison, n: Notation, k: int) -> pd.DataFrame:
    """Relative error, cosine and dropped share of g_k for every parameter (k in 1..T)."""
    row = k - 1
    return pd.DataFrame(
        {
            TABLE_COLUMNS[0]: comparison.rel_error[row],
            TABLE_COLUMNS[1]: comparison.cosine[row],
            TABLE_COLUMNS[2]: comparison.dropped_share[row],
        },
        index=[("all of θ" if name == "all" else n.plain(name)) for name in comparison.names],
    )


def most_affected(comparison: TruncationComparison, k: int) -> str:
    """The parameter (engine name) whose truncated gradient is furthest from the full one."""
    errors = [comparison.rel_error[k - 1, comparison.names.index(p)] for p in PARAM_NAMES]
    return PARAM_NAMES[int(np.nanargmax(errors))] if np.isfinite(errors).any() else PARAM_NAMES[1]


def _explanation() -> str:
    rel_err = math(r"\lVert g_k - g\rVert / \lVert g\rVert")
    return (
        f"For every k from 1 to T the truncated gradient {math('g_k')} (only the terms in the "
        f"band) is compared with the full one {math('g')}, per parameter: the **relative "
        f"error** {rel_err}, the **cosine** between them (1 = the same direction) and the "
        "**share of the gradient mass** in the dropped terms (the terms carried over t − τ ≥ k "
        f"steps). The dashed {BAND_COLOUR_NAME} line is the current k."
    )


def _notice(n: Notation) -> str:
    sym = symbols(n)
    w_hy_gradient = math(
        frac(n.tex("L"), n.tex("W_hy"))
        + r" = \sum_t "
        + n.tex("delta_o")
        + r"\,"
        + n.tex("h")
        + TOP
    )
    W, W_xh, b_h = math(sym.W), math(n.tex("W_xh")), math(n.tex("b_h"))
    return (
        f"**What to notice:** the weights that feed the pre-activation {math(sym.a_tau)} "
        f"({W}, {W_xh} and {b_h}) lose the dropped terms. {math(n.tex('W_hy'))} and "
        f"{math(n.tex('b_y'))} lose nothing for any k: their gradient {w_hy_gradient} is made "
        "of terms computed at the copy where each loss is paid; it never crosses a recurrent "
        f"edge, so there is nothing to cut. ({W}'s term at copy 1 is zero as well: it "
        f"multiplies {math(n.tex('h', 0))} = 0.)"
    )


def truncated_gradient_view(
    comparison: TruncationComparison, n: Notation, k: int | None
) -> TruncatedGradientView:
    """Section 2 for the engine's comparison of g_k with g (k = 1..T) at truncation ``k``."""
    T = int(np.asarray(comparison.ks).size)
    row_k = T if k is None else k
    worst = None if k is None else most_affected(comparison, k)
    if worst is None:
        heading = "**At full BPTT** nothing is dropped: move k to compare."
    else:
        heading = f"**At k = {k}** (most affected: {math(n.tex(worst))})"
    return TruncatedGradientView(
        figure=truncation_panels(comparison, n, k),
        explanation=_explanation(),
        notice=_notice(n),
        table_heading=heading,
        table=comparison_table(comparison, n, row_k),
        most_affected=worst,
    )
