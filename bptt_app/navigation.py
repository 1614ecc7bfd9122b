"""The app's pages, and the guard that gives a direct link the shell on a fresh server.

``app.py`` runs every page through ``st.navigation`` inside ``shell_run()``. Streamlit keeps its
legacy pages-folder mode (a folder named ``pages/`` beside ``app.py``) until the first
``st.navigation`` call of the server process, so the very first request of a fresh server, if it
is a direct link such as ``/train?hidden=5``, runs ``pages/train.py`` alone, without ``app.py``.
Every page therefore starts with ``require_shell()``: when ``app.py`` did not run in this script
run, it calls ``st.navigation`` with the app's own pages (which ends the legacy mode for the
process) and reruns, so the visitor gets the shell, its sidebar and the linked page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import streamlit as st

SHELL_KEY = "_bptt_shell_running"  # session flag: app.py is running this script run


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to app.py
    title: str
    # No icons: Streamlit makes a page's icon its favicon, a Material icon would be fetched from
    # fonts.gstatic.com (the app contacts no other host) and an emoji shows as a box where the
    # computer has no emoji font (Debian's Chromium, some classroom machines).
    url_path: str


PAGE_SPECS: tuple[PageSpec, ...] = (
    PageSpec("pages/step.py", "Step through BPTT", "step"),
    PageSpec(
        "pages/truncation.py",
        "Truncation & vanishing gradients",
        "truncation",
    ),
    PageSpec("pages/train.py", "Train live", "train"),
    PageSpec("pages/derivation.py", "The derivation", "derivation"),
)


def app_pages() -> list[st.Page]:
    """The pages in navigation order; the first is the default (the app's root URL)."""
    return [
        st.Page(spec.path, title=spec.title, url_path=spec.url_path, default=(i == 0))
        for i, spec in enumerate(PAGE_SPECS)
    ]


@contextlib.contextmanager
def shell_run() -> Iterator[None]:
    """Mark this script run as started by app.py while the chosen page runs."""
    st.session_state[SHELL_KEY] = True
    try:
        yield
    finally:
        st.session_state[SHELL_KEY] = False


def require_shell() -> None:
    """First line of every page: hand a page run without app.py over to the shell."""
    if st.session_state.get(SHELL_KEY):
        return
    st.navigation(app_pages(), position="hidden")
    st.rerun()
