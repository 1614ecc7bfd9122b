""" "The derivation" page in headless Chromium: open it, expand lines, switch notation, fit 1024 px.

The fixtures fail a test on exception boxes, browser console errors and server tracebacks.
"""

from __future__ import annotations

import urllib.parse

import pytest
from playwright.sync_api import Page, expect

from bptt_app.settings import NOTATION_CHOICES
from tests.browser.conftest import (
    assert_no_exception,
    close_checked,
    open_app,
    save_screenshot,
    serve_app,
    wait_idle,
)

pytestmark = pytest.mark.browser

LINE = "[class*='st-key-derivation_line_']"
# every equation and table of the main area that is wider than the block holding it
OVERFLOW_JS = """() => {
    const main = document.querySelector('[data-testid=stMain]');
    const wide = [];
    for (const el of main.querySelectorAll('.katex-display, table')) {
        const box = el.closest('[data-testid=stMarkdownContainer]') || el.parentElement;
        if (el.getBoundingClientRect().width > box.getBoundingClientRect().width + 4) {
            const line = el.closest("[class*='st-key-derivation_line_']");
            wide.push((line ? [...line.classList].find(c => c.startsWith('st-key')) : 'top') +
                      ': ' + el.textContent.slice(0, 60));
        }
    }
    return wide;
}"""


def url_for(base: str, notation: str, extra: str = "") -> str:
    return f"{base}/derivation?notation={urllib.parse.quote(notation)}{extra}"


def assert_no_katex_error(page: Page) -> None:
    errors = page.locator(".katex-error").all_inner_texts()
    assert not errors, f"KaTeX could not render: {errors[:3]}"


def expand(page: Page, index: int) -> None:
    """Open the evaluation of line ``index`` (1-based) and wait for the page to settle."""
    box = page.locator(f".st-key-derivation_line_{index}")
    box.scroll_into_view_if_needed()
    box.locator("summary").first.click()
    wait_idle(page)
    expect(box.locator("table").first).to_be_visible()


def test_the_page_opens_and_lines_expand(page: Page, streamlit_server: str) -> None:
    open_app(page, url_for(streamlit_server, '"hello" notes / Ng (W_ax, W_aa, W_ya)'))
    assert_no_exception(page)
    assert_no_katex_error(page)
    expect(page.get_by_role("heading", name="The derivation", exact=True)).to_be_visible()
    expect(
        page.get_by_role("heading", name='The handwritten "hello" notes (seed 003)')
    ).to_be_visible()
    assert page.locator(LINE).count() == 25
    for index in (4, 14, 20):  # the recurrence (flagged), the double sum, ∂L/∂b_a (flagged)
        expand(page, index)
    box = page.locator(".st-key-derivation_line_14")
    expect(box.get_by_text("i=4, k=1", exact=False).first).to_be_attached()
    table = box.locator("table").first.inner_text()
    assert "✓" in table and "✗" not in table, table
    flagged = page.locator(".st-key-derivation_line_20")
    expect(flagged.get_by_text("as the note writes it")).to_be_visible()
    expect(flagged.get_by_text("72.9 %", exact=False)).to_be_visible()
    assert_no_exception(page)
    assert_no_katex_error(page)
    save_screenshot(page, "derivation_hello")


def test_switching_notation_in_the_sidebar(page: Page, streamlit_server: str) -> None:
    open_app(page, f"{streamlit_server}/derivation")
    expect(
        page.get_by_role("heading", name="Goodfellow et al., Deep Learning §10.2.2 (seed 001)")
    ).to_be_visible()
    notation = page.locator("[data-testid='stSidebar']").get_by_role("combobox", name="Notation")
    notation.click()
    page.get_by_role("option", name="min-char-rnn (Wxh, Whh, Why)").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Karpathy's min-char-rnn")).to_be_visible()
    expect(page.get_by_text("dhraw = (1 - hs[t] * hs[t]) * dh")).to_be_visible()
    expand(page, 10)
    assert_no_exception(page)
    assert_no_katex_error(page)


@pytest.mark.parametrize("notation", list(NOTATION_CHOICES))
def test_every_equation_and_table_fits_at_1024(
    page: Page, streamlit_server: str, notation: str
) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    open_app(page, url_for(streamlit_server, notation, "&k=2"))
    page.get_by_text("Open every line's evaluation").click()  # the toggle draws every table
    wait_idle(page)
    expect(page.locator(f"{LINE} table").first).to_be_visible()
    assert_no_exception(page)
    assert_no_katex_error(page)
    wide = page.evaluate(OVERFLOW_JS)
    assert not wide, f"{notation}: wider than the page at 1024 px:\n" + "\n".join(wide)


def test_a_direct_link_on_a_fresh_server(page: Page) -> None:
    with serve_app() as url:  # the link is the server's very first request
        open_app(page, url_for(url, "levels (W^r, V, W^{r+1})"), timeout_ms=60_000)
        assert_no_exception(page)
        expect(
            page.get_by_role("heading", name="The layered derivation (seed 000)")
        ).to_be_visible()
        assert "page not found" not in page.locator("body").inner_text().lower()
        expand(page, 11)  # V(T) = W(T−1) + ΔV, flagged
        close_checked(page)
