"""A shared link to any page works for the very first visitor of a fresh server."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_no_exception, open_app, serve_app

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/train?hidden=5", "Train live"),
        ("/truncation?hidden=5", "Truncation & vanishing gradients"),
    ],
)
def test_first_request_to_a_page_link_runs_the_shell(page: Page, path: str, heading: str):
    with serve_app() as url:  # a fresh server: no session has run app.py yet
        open_app(page, url + path, timeout_ms=60_000)
        assert_no_exception(page)
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
        # the shared sidebar from app.py is there, seeded from the link
        sidebar = page.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_text("Training text")).to_be_visible()
        expect(sidebar.get_by_role("slider", name="Hidden units H")).to_have_attribute(
            "aria-valuetext", "5"
        )
