"""WCAG AA contrast of every text on every page, in the light and the dark theme, at a
projector's 1024 × 768 (issue 12.18): Streamlit's own widgets and captions, the Plotly figures
(ticks, axis titles, legends, annotations, the settings line), the step player and the derivation's
opened lines. A figure's background is the page's own, so an exported figure matches the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import (
    assert_no_console_errors,
    assert_no_exception,
    low_contrast,
    open_app,
    wait_idle,
    watch_console,
)

# Each page with what it shows once drawn (checked before the colours are read).
pytestmark = pytest.mark.browser

PAGES = {
    "/?step=6&k=2": ".st-key-step_player",
    "/truncation": "[data-testid='stBaseButton-primary']",
    "/train": ".st-key-train_play [data-testid='stBaseButton-primary']",
    "/derivation": "[data-testid='stExpander']",
}
FIGURES_DRAWN = """() => [...document.querySelectorAll("[data-testid='stPlotlyChart']")]
    .every(chart => chart.querySelector('.main-svg'))"""


def _open_every_line(page) -> None:
    for summary in page.locator("[data-testid='stExpander'] summary").all():
        summary.click()
    wait_idle(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", PAGES)
def test_every_text_meets_wcag_aa(browser: Browser, streamlit_server, path, scheme):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, color_scheme=scheme)
    page = context.new_page()
    errors = watch_console(page)
    open_app(page, f"{streamlit_server}{path}")
    assert_no_exception(page)
    page.locator(PAGES[path]).first.wait_for(state="visible")
    if path in ("/truncation", "/train"):
        page.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for(state="attached")
    page.wait_for_function(FIGURES_DRAWN)
    if path == "/derivation":
        _open_every_line(page)
    bad = low_contrast(page)
    assert not bad, f"{path}, {scheme} theme: {len(bad)} text(s) below WCAG AA: {bad[:10]}"
    backgrounds = page.evaluate(
        """() => [getComputedStyle(document.querySelector("[data-testid='stApp']")).backgroundColor,
                  ...[...document.querySelectorAll('.main-svg:first-child')]
                      .map(s => getComputedStyle(s).backgroundColor)]"""
    )
    app, figures = backgrounds[0], set(backgrounds[1:])
    assert figures <= {app}, f"{path}, {scheme}: figures on {figures}, the page is {app}"
    context.close()
    assert_no_console_errors(errors)
