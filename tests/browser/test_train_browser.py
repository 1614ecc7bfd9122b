"""The "Train live" page in headless Chromium: play lowers the loss, pause stops, a huge learning
rate is caught, parameters go out as a file and come back in, bad files are refused.

(Visible updates per second are measured by benchmarks/bench_train.py, not asserted here.)
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bptt_core import load_params
from tests.browser.conftest import assert_no_exception, open_app, save_screenshot, wait_idle

pytestmark = pytest.mark.browser


def assert_no_katex_error(page: Page) -> None:
    errors = page.locator(".katex-error").all_inner_texts()
    assert not errors, f"KaTeX could not render: {errors[:3]}"


def open_train(page: Page, base: str, query: str = "") -> None:
    """Open the app (its default page first, as a visitor would) and go to Train live."""
    open_app(page, f"{base}/{query}")
    page.get_by_role("link", name="Train live").click()
    expect(page.get_by_role("heading", name="Train live")).to_be_visible()
    wait_idle(page)


def metric(page: Page, i: int) -> str:
    return page.locator("[data-testid='stMetricValue']").nth(i).inner_text()


def updates(page: Page) -> int:
    return int(metric(page, 0).replace(",", ""))


def loss(page: Page) -> float:
    return float(metric(page, 1))


def click(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def test_play_lowers_the_loss_and_pause_stops_it(page: Page, streamlit_server: str):
    open_train(page, streamlit_server)
    assert_no_exception(page)
    assert_no_katex_error(page)
    assert updates(page) == 0
    initial = loss(page)
    assert initial > 5.0, f"the untrained loss on “hello” should be near 4·ln 4, got {initial}"
    save_screenshot(page, "train_before")
    click(page, "Play")
    seen, deadline = set(), time.monotonic() + 15.0
    while time.monotonic() < deadline and updates(page) < 40:
        seen.add(metric(page, 0))
        time.sleep(0.05)
    assert updates(page) >= 40, f"only {updates(page)} updates after 15 s of play"
    assert len(seen) >= 5, f"the counter showed only {sorted(seen)} while playing"
    assert loss(page) < initial / 10, f"the loss did not fall: {initial} → {loss(page)}"
    assert "updates/s" in metric(page, 3)
    click(page, "Pause")
    wait_idle(page)
    paused = updates(page)
    time.sleep(1.0)
    assert updates(page) == paused, "training went on after Pause"
    assert metric(page, 3) == "paused"
    assert_no_exception(page)
    assert_no_katex_error(page)
    save_screenshot(page, "train_after")
    click(page, "Reset")
    wait_idle(page)
    assert updates(page) == 0 and loss(page) == initial


def test_a_huge_learning_rate_is_caught(page: Page, streamlit_server: str):
    open_train(page, streamlit_server, "?lr=1000000&clip=none&opt=SGD")
    click(page, "10 updates")
    wait_idle(page)
    expect(page.get_by_text("The loss exploded at update")).to_be_visible()
    assert_no_exception(page)
    assert_no_katex_error(page)
    click(page, "Play")  # play stops at once: the loss explodes again
    wait_idle(page)
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    click(page, "Reset")
    wait_idle(page)
    assert updates(page) == 0
    expect(page.get_by_text("The loss exploded at update")).to_have_count(0)
    assert_no_exception(page)


def test_download_then_upload_parameters(page: Page, streamlit_server: str, tmp_path: Path):
    open_train(page, streamlit_server)
    click(page, "10 updates")
    wait_idle(page)
    with page.expect_download() as info:
        click(page, "Download parameters (.npz)")
    saved = tmp_path / "params.npz"
    info.value.save_as(saved)
    params, config = load_params(saved)
    assert config.hidden_size == 8 and config.input_size == 4
    assert params.all_finite()
    trained_loss = loss(page)

    uploader = page.locator("[data-testid='stFileUploader'] input[type='file']")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip at all")
    uploader.set_input_files(str(junk))
    wait_idle(page)
    expect(page.get_by_text("cannot be loaded")).to_be_visible()
    assert updates(page) == 10 and loss(page) == trained_loss  # nothing lost
    assert_no_exception(page)

    click(page, "Reset")
    wait_idle(page)
    uploader.set_input_files(str(saved))
    wait_idle(page)
    expect(page.get_by_text("Loaded the parameters")).to_be_visible()
    # the first pass after loading sees the saved weights: its loss is below the untrained one
    click(page, "1 update")
    wait_idle(page)
    assert loss(page) < 2.0
    assert_no_exception(page)


def test_pressing_things_while_playing_leaves_the_server_log_clean(
    page: Page, streamlit_server: str
):
    """Issue 12.1: Pause, "10 updates", a new η and a page switch while playing once made the
    server log StreamlitInvalidLayoutContextError (a fragment writing into containers of the
    full run). The ``no_server_tracebacks`` fixture fails this test on any traceback."""
    open_train(page, streamlit_server)
    for _ in range(4):  # Pause at different moments of the fragment's streaming loop
        click(page, "Play")
        time.sleep(0.7)
        click(page, "Pause")
        wait_idle(page)
    click(page, "Play")
    time.sleep(1.2)
    click(page, "10 updates")
    time.sleep(1.2)
    lr = page.get_by_label("Learning rate η")
    lr.fill("0.02")
    lr.press("Enter")
    time.sleep(1.5)
    assert_no_exception(page)
    page.get_by_role("link", name="Step through BPTT").click()
    time.sleep(2.0)
    expect(page.get_by_role("heading", name="Step through BPTT").first).to_be_visible()
    assert_no_exception(page)
