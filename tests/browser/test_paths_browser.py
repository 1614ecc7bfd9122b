"""Page paths, unknown paths and framing, in Chromium, on the app served by ``serve.py``.

Issue 12.2: Streamlit's frontend, opened at ``/train``, used to probe ``/train/_stcore/health``
and ``/train/_stcore/host-config`` (two 404s in the console) before the server's root; at
``/train/extra/path`` it loaded its scripts from the wrong folder (a blank page, "Failed to load
module script"); ``/nonexistent`` silently ran the step page. ``bptt_app.server`` tells the
frontend where the server is, and answers unknown paths with a 404 page that links every page
with the link's settings. The ``page`` fixture fails on any console error: no excuse is left.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import assert_no_exception, open_app, watch_console

pytestmark = pytest.mark.browser

PROBE = re.compile(r"/[^/?#]+/_stcore/")


def test_page_links_ask_the_server_root_only(page: Page, streamlit_server: str):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    for path in ("/train?hidden=5", "/truncation", "/derivation", "/"):
        open_app(page, streamlit_server + path)
        assert_no_exception(page)
    probes = [u for u in requests if PROBE.search(u.removeprefix(streamlit_server))]
    assert not probes, f"the frontend probed a page path as the server: {probes}"
    assert any(u.endswith("/_stcore/host-config") for u in requests)


@pytest.mark.parametrize("path", ["/nonexistent", "/train/extra/path", "/Train", "/step.php"])
def test_unknown_paths_say_so_and_lead_back_with_the_settings(
    browser: Browser, streamlit_server: str, path: str
):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = context.new_page()
        errors = watch_console(page)
        response = page.goto(f"{streamlit_server}{path}?hidden=5&seed=3")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(page.get_by_text(path, exact=False).first).to_be_visible()
        # the only console line is the browser's own report of the document's 404
        others = [e for e in errors if "status of 404" not in e]
        assert others == [] and len(errors) <= 1, errors
        errors.clear()
        page.get_by_role("link", name="Train live").click()
        page.wait_for_url(re.compile(r"/train\?hidden=5&seed=3$"))
        open_app(page, page.url)
        assert_no_exception(page)
        expect(page.get_by_role("heading", name="Train live").first).to_be_visible()
        sidebar = page.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_role("slider", name="Hidden units H")).to_have_attribute(
            "aria-valuetext", "5"
        )
        assert errors == [], errors
    finally:
        context.close()


def test_another_site_cannot_frame_the_app(browser: Browser, streamlit_server: str):
    context = browser.new_context()
    try:
        page = context.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "frame" in m.text else None)
        # a page of another origin (about:blank here) that frames the app
        page.set_content(f'<iframe id="app" src="{streamlit_server}/train" width=800 height=600>')
        page.wait_for_timeout(3000)
        frame = page.frame_locator("#app")
        assert frame.locator("[data-testid='stApp']").count() == 0, "the app rendered in a frame"
        assert blocked, "Chromium reported no refused frame"
    finally:
        context.close()
