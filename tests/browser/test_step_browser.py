"""The "Step through BPTT" page in headless Chromium: load, step, play, switch notation."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_no_exception, open_app, save_screenshot, wait_idle

pytestmark = pytest.mark.browser


def status_line(page: Page) -> str:
    """The bold status line above the graph ("Forward pass, step 3 of 8: t = 3.")."""
    return page.evaluate(
        """() => {
            const el = [...document.querySelectorAll('strong')]
                .find(e => /^(Forward|Backward) pass, step/.test(e.textContent));
            return el ? el.textContent : '';
        }"""
    )


def network_title(page: Page) -> str:
    """The title of the unfolded-network figure, as Plotly drew it in the SVG."""
    return page.locator(".gtitle").first.text_content() or ""


def assert_no_katex_error(page: Page) -> None:
    errors = page.locator(".katex-error").all_inner_texts()
    assert not errors, f"KaTeX could not render: {errors[:3]}"


def click(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    wait_idle(page)


def test_step_page_walks_forward_and_backward(page: Page, streamlit_server: str):
    open_app(page, streamlit_server)
    assert_no_exception(page)
    assert_no_katex_error(page)
    expect(page.get_by_role("heading", name="Step through BPTT")).to_be_visible()
    assert "forward pass, t = 1 of 4" in network_title(page)
    for t in (2, 3, 4):
        click(page, "Next")
        expect(page.locator(".gtitle").first).to_contain_text(f"forward pass, t = {t} of 4")
    for t in (4, 3, 2, 1):
        click(page, "Next")
        expect(page.locator(".gtitle").first).to_contain_text(f"backward pass, t = {t} of 4")
        assert_no_katex_error(page)
    expect(page.get_by_text("Backward pass, step 8 of 8")).to_be_visible()
    save_screenshot(page, "step_last")
    click(page, "Back")
    expect(page.locator(".gtitle").first).to_contain_text("backward pass, t = 2 of 4")
    click(page, "First")
    expect(page.locator(".gtitle").first).to_contain_text("forward pass, t = 1 of 4")
    assert_no_exception(page)


def test_play_advances_several_steps_then_pauses(page: Page, streamlit_server: str):
    open_app(page, streamlit_server)
    page.get_by_role("button", name="Play", exact=True).click()
    seen = set()
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline and len(seen) < 5:
        seen.add(status_line(page))
        time.sleep(0.05)
    assert len(seen) >= 5, f"play showed only {len(seen)} distinct steps in 4 s: {sorted(seen)}"
    page.get_by_role("button", name="Pause", exact=True).click()
    wait_idle(page)
    paused = status_line(page)
    time.sleep(1.0)
    assert status_line(page) == paused, "the stepper kept moving after Pause"
    # paused: the interactive figure is back and shows the step the status line names
    step_t = paused.split("t = ")[1].rstrip(".")
    expect(page.locator(".gtitle").first).to_contain_text(f"t = {step_t} of 4")
    assert_no_katex_error(page)
    assert_no_exception(page)


def test_notation_switch_in_the_browser(page: Page, streamlit_server: str):
    open_app(page, streamlit_server)
    page.get_by_role("combobox", name="Notation").click()
    page.get_by_role("option", name="Guo / Mikolov (V, U, W)").click()
    wait_idle(page)
    assert_no_exception(page)
    assert_no_katex_error(page)
    assert "notation=Guo" in page.url.replace("+", " ").replace("%2F", "/"), page.url
    expect(page.locator(".katex", has_text="net").first).to_be_visible()
    save_screenshot(page, "step_guo")


def test_bad_url_and_bad_text_never_crash(page: Page, streamlit_server: str):
    open_app(page, f"{streamlit_server}/?hidden=abc&k=-5&act=bogus&lr=nan")
    assert_no_exception(page)
    expect(page.locator(".gtitle").first).to_contain_text("forward pass, t = 1 of 4")
    box = page.get_by_role("textbox", name="Training text")
    box.fill("")
    box.press("Control+Enter")
    wait_idle(page)
    expect(page.get_by_text("The training text is empty")).to_be_visible()
    assert_no_exception(page)
    box.fill("🙂🙃 naïve <b>x</b>")
    box.press("Control+Enter")
    wait_idle(page)
    assert_no_exception(page)
    assert_no_katex_error(page)
    # user text is shown as text, never interpreted as HTML
    assert page.locator("b", has_text="x").count() == 0
    click(page, "Last")
    expect(page.locator(".gtitle").first).to_contain_text("backward pass, t = 1 of")
    assert_no_exception(page)
