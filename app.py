"""BPTT Explainer: the shell. Navigation, the shared sidebar, session state. No maths here."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from bptt_app.gc_tuning import freeze_startup_objects
from bptt_app.navigation import app_pages, shell_run
from bptt_app.sidebar import render_sidebar
from bptt_app.state import store_settings

ICON = Path(__file__).parent / "assets" / "icon.png"  # served by the app: no third-party request

st.set_page_config(
    page_title="BPTT Explainer",
    page_icon=str(ICON),
    layout="wide",
    initial_sidebar_state="expanded",
)

# Less empty space above each page, so that a projector's 1024 × 768 shows the controls and the
# first figure without scrolling (Streamlit's default leaves about 6rem).
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }</style>")

freeze_startup_objects()  # once per process: Streamlit's full GC after every run stays cheap
navigation = st.navigation(app_pages(), position="sidebar")
store_settings(render_sidebar())
with shell_run():
    navigation.run()
