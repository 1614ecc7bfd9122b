"""Small helpers for writing user text and maths into Streamlit markdown safely.

The helpers live in the presentation layer (``bptt_viz.markdown``); the names stay here for the
pages that import them from the glue.
"""

from __future__ import annotations

from bptt_viz.markdown import inline_math, md_char, md_text

__all__ = ["inline_math", "md_char", "md_text"]
