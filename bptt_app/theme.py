"""The page's theme as the browser reports it: "light", "dark", or None when not known.

Right from a session's first run (the browser sends it with the first message); a theme
switched in the middle of a session reaches the server with the next rerun.
"""

from __future__ import annotations

import streamlit as st


def page_theme() -> str | None:
    try:
        kind = st.context.theme.type
    except AttributeError:  # pragma: no cover - a bare run without a browser
        return None
    return kind if kind in ("light", "dark") else None
