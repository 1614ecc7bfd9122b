"""The "Truncation & vanishing gradients" page in headless Chromium: sliders, experiment, notation.

Every test fails on an exception box and on any KaTeX error (``.katex-error``). With
``BPTT_SCREENSHOTS=1`` the tests save full-page screenshots (tests/browser/screenshots/).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_no_exception, open_app, save_screenshot, wait_idle

pytestmark = pytest.mark.browser

EXPERIMENT_TIMEOUT_MS = 120_000


def open_truncation(page: Page, base_url: str, query: str = "") -> None:
    """Open the page by its URL. The app's root is loaded first: the very first request a fresh
    server gets runs the file it names without st.navigation (legacy pages folder)."""
    open_app(page, base_url)
    open_app(page, f"{base_url}/truncation{query}")
    expect(page.get_by_role("heading", name="Truncation & vanishing gradients")).to_be_visible()
    assert_clean(page)


def assert_clean(page: Page) -> None:
    assert_no_exception(page)
    errors = page.locator(".katex-error").all_inner_texts()
    assert not errors, f"KaTeX could not render: {errors[:3]}"


def metric(page: Page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def query_value(page: Page, key: str) -> str | None:
    match = re.search(rf"[?&]{key}=([^&]*)", page.url)
    return None if match is None else match.group(1)


def press(page: Page, slider_name: str, key: str, times: int = 1) -> None:
    slider = page.get_by_role("slider", name=slider_name)
    slider.focus()
    for _ in range(times):
        slider.press(key)
    wait_idle(page)


def test_sliders_move_the_page_and_the_experiment_finishes(page: Page, streamlit_server: str):
    open_truncation(page, streamlit_server)
    trunc = page.get_by_role("slider", name="Truncation k")
    expect(trunc).to_have_attribute("aria-valuetext", "4")
    expect(page.get_by_text("Full BPTT: every loss reaches every copy.")).to_be_visible()
    sigma_before = metric(page, "σ_max")

    # truncation: 4 (full) → 2; the sidebar's k and the URL follow
    press(page, "Truncation k", "ArrowLeft", 2)
    expect(trunc).to_have_attribute("aria-valuetext", "2")
    expect(page.get_by_text("Each loss reaches its own copy and the 1 before it.")).to_be_visible()
    assert query_value(page, "k") == "2", page.url
    sidebar_k = page.locator("[data-testid='stSidebar']").get_by_role(
        "spinbutton", name="Truncation k (0 = full BPTT)"
    )
    expect(sidebar_k).to_have_value("2")
    expect(page.get_by_text("At k = 2")).to_be_visible()
    assert_clean(page)

    # spectral radius: 1.00 → 1.50 (ten steps of 0.05); σ_max and the URL follow
    press(page, "on this page", "ArrowRight", 10)
    rho = page.get_by_role("slider", name="on this page")
    expect(rho).to_have_attribute("aria-valuetext", "1.50")
    expect(page.locator("[data-testid='stMetric']").filter(has_text="ρ(W)").first).to_contain_text(
        "1.50"
    )
    assert metric(page, "σ_max") != sigma_before
    assert query_value(page, "rho") == "1.5", page.url
    assert_clean(page)
    save_screenshot(page, "truncation_sliders")

    # the learning experiment runs in the background and finishes
    page.get_by_role("button", name="Train the recall task").click()
    expect(page.get_by_text(re.compile(r"Training…|Waiting for|Done:"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Done: 15,000 updates"))).to_be_visible(
        timeout=EXPERIMENT_TIMEOUT_MS
    )
    wait_idle(page)
    expect(page.get_by_text("Median settled recall loss")).to_be_visible()
    expect(
        page.locator(".gtitle").filter(has_text="loss per character while training")
    ).to_be_visible()
    expect(page.get_by_text("per-loss window (each L(t) reaches k copies)")).to_be_visible()
    # the page still answers after the experiment: k back to full BPTT
    press(page, "Truncation k", "End")
    expect(trunc).to_have_attribute("aria-valuetext", "4")
    assert query_value(page, "k") is None, page.url  # k = 0 (full) is the default: not in the URL
    assert_clean(page)
    save_screenshot(page, "truncation_experiment")


def test_sigmoid_and_a_notation_switch(page: Page, streamlit_server: str):
    open_truncation(page, streamlit_server, "?act=sigmoid&rho=0.5&k=3")
    expect(
        page.locator("[data-testid='stMetric']").filter(has_text="γ = max").first
    ).to_contain_text("0.25")
    expect(page.get_by_text("guaranteed to vanish").first).to_be_visible()
    # Streamlit 1.67 draws a select box as a combobox <input>: its value is not page text
    notation = page.locator("[data-testid='stSidebar']").get_by_role("combobox", name="Notation")
    expect(notation).to_have_value("Goodfellow et al. (U, W, V)")
    notation.click()
    page.get_by_role("option", name="Guo / Mikolov (V, U, W)").click()
    wait_idle(page)
    assert_clean(page)
    expect(page.locator("[data-testid='stMetric']").filter(has_text="σ_max(U)")).to_have_count(1)
    expect(page.locator(".gtitle").filter(has_text="C(t)").first).to_be_visible()
    save_screenshot(page, "truncation_guo_sigmoid")


def test_bad_url_values_and_a_bad_text(page: Page, streamlit_server: str):
    open_truncation(page, streamlit_server, "?rho=abc&k=-3")
    expect(page.get_by_role("slider", name="on this page")).to_have_attribute(
        "aria-valuetext", "1.00"
    )
    expect(page.get_by_role("slider", name="Truncation k")).to_have_attribute("aria-valuetext", "4")
    text = page.locator("[data-testid='stSidebar'] textarea")
    text.fill("x")
    text.press("Control+Enter")
    wait_idle(page)
    expect(page.get_by_text("single character", exact=False)).to_be_visible()
    assert_clean(page)
    expect(page.locator(".js-plotly-plot")).to_have_count(0)
