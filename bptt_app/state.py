"""Session state shared by app.py and the pages: the current Settings and common messages."""

from __future__ import annotations

import streamlit as st

from bptt_app.settings import Problem, Settings

SETTINGS_KEY = "_settings"


def store_settings(settings: Settings) -> None:
    st.session_state[SETTINGS_KEY] = settings


def current_settings() -> Settings:
    """The Settings the sidebar produced on this run (defaults if a page runs on its own)."""
    value = st.session_state.get(SETTINGS_KEY)
    return value if isinstance(value, Settings) else Settings()


def show_problems(problems: list[Problem]) -> bool:
    """Show each problem; True if any of them is an error (the page should stop computing)."""
    blocking = False
    for p in problems:
        if p.level == "error":
            st.error(p.message, icon=":material/error:")
            blocking = True
        elif p.level == "warning":
            st.warning(p.message)
        else:
            st.info(p.message)
    return blocking
