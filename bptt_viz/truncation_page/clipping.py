"""Section 4: when the error explodes, clipping by norm against clipping by value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bptt_core.clipping import ClippingDemo
from bptt_viz.figures.clipping import NORM_COLOUR_NAME, VALUE_COLOUR_NAME, clipping_figure
from bptt_viz.notation import Notation
from bptt_viz.truncation_page.symbols import math, symbols

TITLE = "4 · When the error explodes: clipping"
TABLE_FORMAT = "{:.6f}"
NORM_G = math(r"\lVert g\rVert")
NORM_G_ABOVE_C = math(r"\lVert g\rVert > c")


@dataclass(frozen=True)
class ClippingView:
    figure: go.Figure
    explanation: str  # Markdown: the two ways to clip
    this_gradient: str  # Markdown: ‖g‖, c, clamped entries, and why ρ or c were changed
    table: pd.DataFrame  # rows norm / value clipping; length after, cosine with g
    turn_degrees: float  # angle between value-clipped g and g
    notice: str  # Markdown: what the numbers say


def clipping_unavailable(reason: str) -> str:
    return f"The clipping comparison cannot be shown: {reason}"


def _explanation() -> str:
    g, c = math("g"), math("c")
    return (
        f"Two ways to tame a large gradient {g}, both with a threshold {c}. **Norm clipping** "
        f"(Pascanu et al. 2013) rescales the whole vector when {NORM_G_ABOVE_C}: a "
        f"shorter step in the *same direction*. **Value clipping** (min-char-rnn) clamps every "
        f"entry to {math('[-c, c]')}: the big entries shrink, the small ones do not, so the step "
        "points *somewhere else*."
    )


def _adjustments(demo: ClippingDemo, n: Notation) -> str:
    """Why the demo used another ρ or another c than asked for (empty if it did not)."""
    notes = []
    if demo.fallback:
        notes.append(
            f"at ρ = {demo.requested_radius:.2f} the gradient "
            f"({NORM_G} ≤ {demo.requested_threshold:g}) needs no clipping, so "
            f"this uses {math(symbols(n).W)} rescaled to ρ = {demo.radius:g}"
        )
    if demo.threshold_lowered:
        notes.append(
            f"no entry exceeds the sidebar's c = {demo.requested_threshold:g}, so c is lowered "
            f"to {demo.comparison.threshold:.3g}, which one entry in ten exceeds"
        )
    return "  \n*Note:* " + "; ".join(notes) + "." if notes else ""


def clipping_view(demo: ClippingDemo, n: Notation) -> ClippingView:
    """Section 4 for the engine's clipping demonstration."""
    cc = demo.comparison
    turn = float(np.degrees(np.arccos(np.clip(cc.cosine_value, -1.0, 1.0))))
    this_gradient = (
        f"**This gradient** (ρ = {demo.radius:g}, loss {demo.loss:.3f}): "
        f"{NORM_G} = {cc.norm:.4g}, c = {cc.threshold:.4g}, "
        f"{cc.clipped_entries} of {cc.entries} entries exceed c." + _adjustments(demo, n)
    )
    table = pd.DataFrame(
        {
            "length after": [cc.norm_after_norm, cc.norm_after_value],
            "cosine with g": [cc.cosine_norm, cc.cosine_value],
        },
        index=["norm clipping", "value clipping"],
    )
    notice = (
        "**What to notice:** norm clipping's cosine is exactly 1 and its length exactly c; "
        f"value clipping's cosine is {cc.cosine_value:.4f}: the step has turned by {turn:.1f}°. "
        "Left: value clipping changes each parameter's share of the step. Right: a point on "
        f"the diagonal kept its share of the vector; value clipping ({VALUE_COLOUR_NAME} "
        "crosses) pulls the large entries in and so inflates the share of all the others, "
        f"while norm clipping's {NORM_COLOUR_NAME} dots stay on the diagonal."
    )
    return ClippingView(clipping_figure(cc, n), _explanation(), this_gradient, table, turn, notice)
