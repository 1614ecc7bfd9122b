"""Section 3: vanishing or exploding (‖∂h(t)/∂h(τ)‖ against t − τ, with Pascanu's bound)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from bptt_viz.figures.gradient_flow import BOUND_COLOUR_NAME, jacobian_distance
from bptt_viz.notation import Notation
from bptt_viz.truncation_page.symbols import frac, math, symbols

TITLE = "3 · Vanishing or exploding"


@dataclass(frozen=True)
class JacobianView:
    figure: go.Figure
    coverage: str | None  # Markdown: only the first T_j of T timesteps were computed
    product_intro: str
    product: str  # LaTeX: the Jacobian as a product of one factor per step
    bound_intro: str
    bound: str  # LaTeX: Pascanu's bound
    theory: str  # Markdown: when the bound guarantees vanishing
    now: str  # Markdown: this network's numbers
    largest_far: float  # largest norm at the largest distance T_j − 1 (1 if T_j = 1)
    suggestion: str  # Markdown: what to try


def largest_at_distance(t: np.ndarray, s: np.ndarray, values: np.ndarray, distance: int) -> float:
    """The largest finite ‖∂h(t)/∂h(τ)‖ over the pairs with t − τ = ``distance`` (NaN if none)."""
    picked = values[(np.asarray(t) - np.asarray(s)) == distance]
    picked = picked[np.isfinite(picked)]
    return float(picked.max()) if picked.size else float("nan")


def _maths(n: Notation) -> tuple[str, str, str]:
    sym = symbols(n)
    product = (
        frac(sym.h_t, sym.h_tau)
        + r" = \prod_{m=\tau+1}^{t} \operatorname{diag}\!\big(f'("
        + n.tex("a", "m")
        + r")\big)\,"
        + sym.W
    )
    bound = (
        r"\left\lVert " + frac(sym.h_t, sym.h_tau) + r"\right\rVert \le \big(\gamma\,"
        r"\sigma_{\max}(" + sym.W + r")\big)^{t-\tau}"
    )
    gamma_def = math(r"\gamma = \max|f'|")
    sigma = math(r"\sigma_{\max}")
    vanishing = math(r"\sigma_{\max}(" + sym.W + r") < 1/\gamma")
    inverse_gamma = math(r"1/\gamma")
    saturated = math(r"f' \approx 0")
    theory = (
        f"with {gamma_def} (1 for tanh, ¼ for sigmoid) and {sigma} the largest singular value. "
        f"**Pascanu, Mikolov & Bengio (2013)**: if {vanishing} the bound shrinks geometrically, "
        "so the gradient is *guaranteed* to vanish; only above "
        f"{inverse_gamma} can it explode — possible, not certain, since saturated units have "
        f"{saturated}."
    )
    return product, bound, theory


def _now(radius: float, sigma: float, gamma: float, activation: str, steps: int, far: float) -> str:
    factor = gamma * sigma
    if factor < 1:
        verdict = f" < 1: every point must lie under the falling dashed {BOUND_COLOUR_NAME} line."
    else:
        verdict = " ≥ 1: the dashed line does not fall, so it guarantees nothing."
    far_text = f"{far:.3g}" if np.isfinite(far) else "not a finite number"
    far_sentence = f" The largest norm {steps - 1} steps back is {far_text}." if steps > 1 else ""
    return (
        f"**Now:** ρ = {radius:.2f}, σ_max = {sigma:.3f}, γ = {gamma:g} ({activation}), so "
        f"γ·σ_max = {factor:.3f}{verdict}{far_sentence}"
    )


def _suggestion(n: Notation) -> str:
    return (
        "**Try:** slide ρ from 0.5 to 2.5 and watch the cloud turn from falling to rising near "
        "ρ = 1/γ (far back, the norms change by about ρ times a typical f′ per step; the bound "
        "uses σ_max ≥ ρ and is pessimistic). Switch the sidebar's activation to sigmoid: with "
        f"γ = ¼ the error vanishes much sooner, and exploding needs σ_max({symbols(n).W_plain}) > 4."
    )


def jacobian_view(
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    bound: np.ndarray,
    n: Notation,
    network: tuple[float, float, float, str],
    T: int,
    hidden_size: int,
) -> JacobianView:
    """Section 3. ``pairs`` = (t, τ, ‖∂h(t)/∂h(τ)‖) of the first T_j timesteps (1-based, as
    ``bptt_core.flow.norms_by_distance`` orders them), ``bound`` = (γσ_max)^d for d < T_j,
    ``network`` = (ρ, σ_max, γ, activation); T is the text's length in timesteps."""
    t, s, values = (np.asarray(a) for a in pairs)
    radius, sigma, gamma, activation = network
    steps = int(t.max(initial=1))
    far = largest_at_distance(t, s, values, steps - 1) if steps > 1 else 1.0
    coverage = None
    if steps < T:
        coverage = (
            f"Computed for the first {steps} of {T} timesteps: each pair costs a singular value "
            f"decomposition of an H × H matrix (H = {hidden_size})."
        )
    product, bound_tex, theory = _maths(n)
    return JacobianView(
        figure=jacobian_distance(t, s, values, bound, n, gamma, sigma),
        coverage=coverage,
        product_intro="Between copy τ and copy t the error is multiplied by the Jacobian of the "
        "hidden states, a product of one factor per step:",
        product=product,
        bound_intro="and, since every factor stretches a vector by at most γ·σ_max,",
        bound=bound_tex,
        theory=theory,
        now=_now(radius, sigma, gamma, activation, steps, far),
        largest_far=far,
        suggestion=_suggestion(n),
    )
