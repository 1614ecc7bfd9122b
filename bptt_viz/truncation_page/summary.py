"""The network the page analyses: ρ, σ_max and γ of W_hh, and what Pascanu's bound promises."""

from __future__ import annotations

from dataclasses import dataclass

from bptt_viz.notation import Notation
from bptt_viz.truncation_page.symbols import math, symbols

OVERFLOW_WARNING = (
    "The forward pass overflowed with this spectral radius (the loss or the hidden state is not "
    "a finite number), so some values below are missing. Lower ρ or pick tanh or sigmoid."
)


@dataclass(frozen=True)
class Metric:
    label: str  # Markdown-safe
    value: str
    help: str


@dataclass(frozen=True)
class NetworkSummary:
    """The numbers under the sliders and the verdict of the bound."""

    radius: float  # ρ(W_hh) on this page
    sigma: float  # σ_max(W_hh)
    gamma: float  # γ = max |f'|
    factor: float  # γ·σ_max, the bound's factor per step back
    metrics: tuple[Metric, ...]
    verdict: str  # Markdown: vanishing guaranteed, or not
    radius_caption: str  # Markdown: ρ before the page rescaled W_hh
    overflow_warning: str | None


def _metrics(n: Notation, activation: str, radius: float, sigma: float, gamma: float):
    W = symbols(n).W_plain
    return (
        Metric(f"ρ({W})", f"{radius:.2f}", "Spectral radius: the largest |eigenvalue|."),
        Metric(f"σ\\_max({W})", f"{sigma:.3f}", "Largest singular value ‖W_hh‖₂ ≥ ρ."),
        Metric(
            "γ = max |f′|",
            f"{gamma:g}",
            f"{activation}: γ = {gamma:g}, so 1/γ = {1 / gamma:g}.",
        ),
        Metric("γ · σ\\_max", f"{gamma * sigma:.3f}", "The factor of the bound per step back."),
    )


def network_summary(
    n: Notation,
    activation: str,
    initial_radius: float,
    radius: float,
    sigma: float,
    gamma: float,
    finite: bool,
) -> NetworkSummary:
    """The summary of the page's network: W_hh rescaled from ``initial_radius`` to ``radius``,
    σ_max(W_hh) = ``sigma``, γ = ``gamma``; ``finite`` is False if its forward pass overflowed."""
    W = symbols(n).W
    factor = gamma * sigma
    gs_w = math(r"\gamma\,\sigma_{\max}(" + W + ")")
    if factor < 1:
        promise = "< 1: the error is **guaranteed to vanish** (Pascanu et al. 2013)."
    else:
        promise = "≥ 1: vanishing is no longer guaranteed and the error **may explode**."
    return NetworkSummary(
        radius=radius,
        sigma=sigma,
        gamma=gamma,
        factor=factor,
        metrics=_metrics(n, activation, radius, sigma, gamma),
        verdict=f"{gs_w} = {factor:.3f} {promise} Activation f = {activation}, so 1/γ = "
        f"{1 / gamma:g}.",
        radius_caption=(
            f"The sidebar's {math(W)} has ρ = {initial_radius:.3f}; this page rescales it to "
            f"ρ = {radius:.2f}. Sections 1–4 use the rescaled network, section 5 its own."
        ),
        overflow_warning=None if finite else OVERFLOW_WARNING,
    )
