"""The "Train live" page in headless Chromium: play lowers the loss and the browser panel counts
every update, pause stops, clicks while playing leave the server log clean, a huge learning
rate is caught, parameters go out as a file and come back in, the page works at 1024×768 in
both themes.

(Visible updates per second are measured by benchmarks/bench_train.py, not asserted here.)
``BPTT_SHOTS=/tmp/shots`` makes ``test_screenshots`` keep its ``train_*.png`` there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bptt_core import load_params
from tests.browser.conftest import (
    assert_no_console_errors,
    assert_no_exception,
    open_app,
    save_screenshot,
    wait_idle,
    watch_console,
)

pytestmark = pytest.mark.browser

PANEL_UPDATES = "[data-testid='trainLive'] [data-counter='updates'] .value"


def assert_no_katex_error(page: Page) -> None:
    errors = page.locator(".katex-error").all_inner_texts()
    assert not errors, f"KaTeX could not render: {errors[:3]}"


def open_train(page: Page, base: str, query: str = "") -> None:
    """Open the app (its default page first, as a visitor would) and go to Train live."""
    open_app(page, f"{base}/{query}")
    page.get_by_role("link", name="Train live").click()
    expect(page.get_by_role("heading", name="Train live")).to_be_visible()
    wait_idle(page)


def metric(page: Page, label: str) -> str:
    """The value of the st.metric whose label starts with ``label`` (paused)."""
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=label)
    )
    return box.first.locator("[data-testid='stMetricValue']").inner_text().strip()


def updates(page: Page) -> int:
    return int(metric(page, "Updates").replace(",", ""))


def loss(page: Page) -> float:
    return float(metric(page, "Loss"))


def panel_updates(page: Page) -> int:
    """The Updates counter of the browser panel (while playing)."""
    return int(page.locator(PANEL_UPDATES).inner_text(timeout=5000).replace(",", "") or 0)


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
    expect(page.locator(PANEL_UPDATES)).to_be_visible()
    seen, deadline = set(), time.monotonic() + 15.0
    while time.monotonic() < deadline and panel_updates(page) < 60:
        seen.add(panel_updates(page))
        time.sleep(0.03)
    assert panel_updates(page) >= 60, f"only {panel_updates(page)} updates after 15 s of play"
    assert len(seen) >= 20, f"the panel counted in jumps: {sorted(seen)}"
    speed = page.locator("[data-testid='trainLive'] [data-counter='speed'] .value").inner_text()
    assert "updates/s" in speed, speed
    click(page, "Pause")
    wait_idle(page)
    paused = updates(page)
    assert paused >= 60
    time.sleep(1.5)
    assert updates(page) == paused, "training went on after Pause"
    assert metric(page, "Speed") == "paused"
    assert loss(page) < initial / 10, f"the loss did not fall: {initial} → {loss(page)}"
    assert_no_exception(page)
    assert_no_katex_error(page)
    save_screenshot(page, "train_after")
    click(page, "Reset")
    wait_idle(page)
    assert updates(page) == 0 and loss(page) == initial


def test_pressing_things_while_playing_leaves_the_server_log_clean(
    page: Page, streamlit_server: str
):
    """Issue 12.1: Pause, "10 updates", a new η and a page switch while playing once made the
    server log StreamlitInvalidLayoutContextError (a fragment writing into containers of the
    full run). The ``no_server_tracebacks`` fixture fails this test on any traceback."""
    open_train(page, streamlit_server)
    for _ in range(4):  # Pause at different moments of the fragments' runs
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
    page.get_by_role("link", name="Truncation & vanishing gradients").click()
    time.sleep(3.0)
    assert_no_exception(page)
    log = streamlit_server.output()
    assert log.count("does not exist anymore") <= 2, "a play timer outlived its fragment"


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


# --------------------------------------------------------------------------- 1024 × 768, themes

CLIPPED = """() => {
  const out = [];
  const main = document.querySelector("[data-testid='stMain']") || document.body;
  const selector = "button, [data-testid^='stMetric'], [data-counter] > div";
  const found = [...main.querySelectorAll(selector)];
  for (const host of main.querySelectorAll('*')) {
    if (host.shadowRoot) found.push(...host.shadowRoot.querySelectorAll(selector));
  }
  for (const el of found) {
    if (!el.offsetParent) continue;
    for (const t of [el, ...el.querySelectorAll('*')]) {
      if (t.scrollWidth > t.clientWidth + 1 && getComputedStyle(t).overflow !== 'visible') {
        out.push((el.innerText || '').trim().slice(0, 40));
        break;
      }
    }
  }
  return out;
}"""


def open_sized(browser: Browser, base: str, width: int, height: int, scheme: str) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.bptt_console_errors = watch_console(page)  # type: ignore[attr-defined]
    open_train(page, base)
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_works_at_1024_by_768(browser: Browser, streamlit_server: str, scheme: str):
    """Issue 12.19: at 1024×768 the button labels shrank to “1 up…”."""
    page = open_sized(browser, streamlit_server, 1024, 768, scheme)
    try:
        click(page, "10 updates")
        wait_idle(page)
        clipped = page.evaluate(CLIPPED)
        assert not clipped, f"cut-off labels or numbers at 1024×768: {clipped}"
        for name in ("Play", "1 update", "10 updates", "Reset"):
            box = page.get_by_role("button", name=name, exact=True).bounding_box()
            assert box and box["x"] + box["width"] <= 1024, f"{name} is off the screen"
        click(page, "Play")
        expect(page.locator(PANEL_UPDATES)).to_be_visible()
        time.sleep(2.5)
        assert not page.evaluate(CLIPPED)
        click(page, "Pause")
        wait_idle(page)
        assert_no_exception(page)
    finally:
        errors = page.bptt_console_errors  # type: ignore[attr-defined]
        page.context.close()
    assert_no_console_errors(errors)


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (1024, 768)])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(
    browser: Browser, streamlit_server: str, tmp_path: Path, width: int, height: int, scheme: str
):
    """The page at a projector's and a laptop's size, light and dark: top, playing, the
    predictions and the weights (into ``$BPTT_SHOTS``, else a temporary folder)."""
    out = Path(os.environ.get("BPTT_SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    page = open_sized(browser, streamlit_server, width, height, scheme)
    try:
        name = f"train_{width}x{height}_{scheme}"
        click(page, "10 updates")
        wait_idle(page)
        page.screenshot(path=str(out / f"{name}_top.png"))
        click(page, "Play")
        time.sleep(3.5)
        page.screenshot(path=str(out / f"{name}_playing.png"))
        click(page, "Pause")
        wait_idle(page)
        page.get_by_role(
            "heading", name="What the network predicts at every position"
        ).scroll_into_view_if_needed()
        page.screenshot(path=str(out / f"{name}_predictions.png"))
        page.get_by_role("heading", name="Save, load and limits").scroll_into_view_if_needed()
        page.screenshot(path=str(out / f"{name}_weights.png"))
        assert_no_exception(page)
    finally:
        errors = page.bptt_console_errors  # type: ignore[attr-defined]
        page.context.close()
    assert_no_console_errors(errors)
