"""User text and maths written safely into Markdown (Streamlit's ``st.markdown`` and captions).

No Streamlit: strings in, strings out.
"""

from __future__ import annotations

from bptt_viz.labels import display_char

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|$<>~:&\"'")


def md_text(s: str) -> str:
    """User text escaped for Markdown: every Markdown/HTML special character backslashed."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


def md_char(c: str) -> str:
    """One character of user text, made visible (``display_char``) and escaped for Markdown."""
    return md_text(display_char(c))


def inline_math(tex: str) -> str:
    """Inline maths for st.markdown / st.caption (KaTeX)."""
    return f"${tex}$"
