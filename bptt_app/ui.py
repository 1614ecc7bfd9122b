"""Small helpers for writing user text and maths into Streamlit markdown safely."""

from __future__ import annotations

from bptt_viz.labels import display_char

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|$<>~:&\"'")


def md_char(c: str) -> str:
    """One character of user text, made visible and escaped for markdown (never HTML)."""
    shown = display_char(c)
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in shown)


def md_text(s: str) -> str:
    """User text escaped for markdown: every markdown/HTML special character backslashed."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


def inline_math(tex: str) -> str:
    """Inline maths for st.markdown / st.caption (KaTeX)."""
    return f"${tex}$"
