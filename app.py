"""BPTT Explainer: the shell. Navigation, the shared sidebar, session state. No maths here."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from bptt_app import classroom
from bptt_app.gc_tuning import freeze_startup_objects
from bptt_app.navigation import app_pages, shell_run
from bptt_app.sidebar import render_sidebar
from bptt_app.state import store_settings
from bptt_app.theme import page_theme

ICON = Path(__file__).parent / "assets" / "icon.png"  # served by the app: no third-party request

# Once per process, before any session's objects exist (the shell's imports above are 97 % of
# what the pages need): Streamlit's gc.collect(2) after every run, fragments included, then
# skips them (bptt_app/gc_tuning.py).
freeze_startup_objects()

classroom.init_from_link()  # ?present=1
st.set_page_config(
    page_title="BPTT Explainer",
    page_icon=str(ICON),
    layout="wide",
    initial_sidebar_state="collapsed" if classroom.presenting() else "expanded",
)

# Less empty space above each page, so that a projector's 1024 × 768 shows the controls and the
# first figure without scrolling (Streamlit's default leaves about 6rem).
# The preset buttons as compact chips, two rows in the sidebar at 1024 × 768.
st.html(
    """<style>
[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }
.st-key-presets { gap: 0.35rem; }
.st-key-presets button { min-height: 1.9rem; padding: 0.1rem 0.6rem; }
.st-key-presets button p { font-size: 0.875rem; }
/* WCAG AA (4.5:1): Streamlit 1.67 fades captions to opacity 0.6, 3.9:1 on white. */
[data-testid='stCaptionContainer'] { opacity: 0.75; }
</style>"""
)
if page_theme() == "dark":
    # The dark theme's primary colour (#56B4E9) is light: white on it is 2.3:1, dark text 8:1.
    # (A theme switched in the middle of a session applies from the next rerun.)
    st.html(
        """<style>
[data-testid='stBaseButton-primary'], [data-testid='stBaseButton-primary'] * { color: #0e1117; }
</style>"""
    )
if classroom.presenting():
    # Presentation mode: larger type everywhere (Streamlit sizes text in rem), the step player
    # scaled with it, less padding at the sides; figures are enlarged by bptt_app.slides.
    st.html(
        """<style>
html { font-size: 20px; }
[data-testid='stMainBlockContainer'] { padding-left: 1.5rem; padding-right: 1.5rem;
  padding-top: 3.2rem; max-width: 100%; }
[data-testid='stMainBlockContainer'] h1 { font-size: 2.1rem; padding-top: 0; }
.st-key-step_player { zoom: 1.2; }
</style>"""
    )

navigation = st.navigation(app_pages(), position="sidebar")
classroom.note_page(navigation.title)
settings = render_sidebar()
store_settings(settings)
classroom.follow_preset()
classroom.preset_note(settings, navigation.title)
with shell_run():
    navigation.run()
classroom.settle_after_page()
