"""A shared link to any page works for the very first visitor of a fresh server.

Streamlit keeps its legacy pages-folder mode until the first ``st.navigation`` call of a server
process; every page hands such a run over to the shell (``bptt_app.navigation.require_shell``).
Each case starts its own server, so the link is the server's very first request.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_no_exception, close_checked, open_app, serve_app

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/?hidden=5", "Step through BPTT"),
        ("/train?hidden=5", "Train live"),
        ("/truncation?hidden=5", "Truncation & vanishing gradients"),
    ],
)
def test_first_request_to_a_page_link_runs_the_shell(page: Page, path: str, heading: str):
    with serve_app() as url:  # a fresh server: no session has run app.py yet
        open_app(page, url + path, timeout_ms=60_000)
        assert_no_exception(page)
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
        body = page.locator("body").inner_text()  # toasts included
        assert "page not found" not in body.lower(), f"{path}: a 'Page not found' notice is shown"
        # the shared sidebar from app.py is there, seeded from the link
        sidebar = page.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_text("Training text")).to_be_visible()
        expect(sidebar.get_by_role("slider", name="Hidden units H")).to_have_attribute(
            "aria-valuetext", "5"
        )
        # the navigation lists every page, and the shell's URL binding kept the setting
        nav = sidebar.locator("[data-testid='stSidebarNav']")
        for title in ("Step through BPTT", "Truncation & vanishing gradients", "Train live"):
            expect(nav.get_by_text(title)).to_be_visible()
        assert "hidden=5" in page.url, f"{path}: the setting left the address bar ({page.url})"
        close_checked(page)  # console errors checked while the server still runs
