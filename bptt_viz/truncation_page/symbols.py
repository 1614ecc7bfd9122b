"""The page's mathematical symbols in the chosen notation, and small text helpers.

Copy time is τ (s would clash with Guo's hidden state s(t)).
"""

from __future__ import annotations

from dataclasses import dataclass

from bptt_viz.notation import Notation

TAU = r"\tau"
TOP = r"^{\top}"
_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|$<>~:&\"'")


def math(tex: str) -> str:
    """Inline maths for Markdown (KaTeX)."""
    return f"${tex}$"


def markdown_literal(text: str) -> str:
    """Plain text shown literally by Markdown: every special character backslashed."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)


def frac(num: str, den: str) -> str:
    r"""\frac{∂num}{∂den} in LaTeX."""
    return rf"\frac{{\partial {num}}}{{\partial {den}}}"


def k_label(k: int | None) -> str:
    """ "full BPTT" or "k = 3"."""
    return "full BPTT" if k is None else f"k = {k}"


def join_words(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class Symbols:
    """LaTeX (``*_tex``) and Markdown-safe plain names of the page's quantities."""

    W: str  # W_hh
    L_t: str  # L(t)
    a_tau: str  # a(τ)
    h_t: str  # h(t)
    h_tau: str  # h(τ)
    h_tau_prev: str  # h(τ−1)
    W_plain: str  # W_hh as Markdown-safe plain text (widget and metric labels)


def symbols(n: Notation) -> Symbols:
    return Symbols(
        W=n.tex("W_hh"),
        L_t=n.tex("L_t", "t"),
        a_tau=n.tex("a", TAU),
        h_t=n.tex("h", "t"),
        h_tau=n.tex("h", TAU),
        h_tau_prev=n.tex("h", TAU + "-1"),
        W_plain=markdown_literal(n.plain("W_hh")),
    )
