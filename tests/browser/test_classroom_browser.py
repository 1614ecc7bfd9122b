"""The classroom helpers in headless Chromium: presets, weights set by hand, presentation mode,
figures for slides.

- every preset: the address bar it leaves (every setting of the preset, the truncation page's ρ,
  the weights) and the page it opens;
- a weight edited in the table (a real cell edit): the link carries it and every loss the step
  player shows is the engine's on the edited weights; text, NaN, 1e300 and an emptied cell are
  refused with a message and change nothing;
- presentation mode at 1024 × 768 and 1280 × 720: the sidebar closes, the explanations fold, the
  type grows, nothing sticks out of the window, the stepper keys still step;
- every figure of Truncation and Train live: the camera button's PNG decodes 1920 pixels wide
  and its SVG parses, with the figure's title and settings line;
- screenshots at 1024 × 768 and 1440 × 900, light and dark (``$BPTT_SHOTS``, else a temporary
  folder).
"""

from __future__ import annotations

import os
import re
import struct
import time
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from bptt_app import hand_weights as hw
from bptt_app.presets import PRESETS
from bptt_app.settings import INIT_CHOICES, Settings
from bptt_app.widget_map import widget_values
from bptt_core import Corpus, forward
from bptt_core.model import Params, RNNConfig
from tests.browser.conftest import (
    assert_no_console_errors,
    assert_no_exception,
    open_app,
    wait_idle,
    watch_console,
)

pytestmark = pytest.mark.browser

HAND = next(label for label, v in INIT_CHOICES.items() if v == "hand")
HAND_QUERY = urllib.parse.urlencode(
    {"text": "aba", "hidden": "2", "init": HAND, "opt": "SGD", "clip": "none", "lr": "0.5"}
)
PATHS = {"pages/step.py": "/", "pages/truncation.py": "/truncation", "pages/train.py": "/train"}
ROOT = "document.querySelector(\"[data-testid='stBidiComponentIsolated']\").shadowRoot"
PLAYER = f"{ROOT}.querySelector('.player')"


def open_sized(browser: Browser, url: str, width: int, height: int, scheme: str = "light") -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": height}, color_scheme=scheme, accept_downloads=True
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.bptt_console_errors = watch_console(page)  # type: ignore[attr-defined]
    open_app(page, url)
    return page


def close(page: Page) -> None:
    errors = page.bptt_console_errors  # type: ignore[attr-defined]
    page.context.close()
    assert_no_console_errors(errors)


def query(page: Page) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))


def player_status(page: Page) -> tuple[int, str]:
    return tuple(
        page.evaluate(
            f"() => {{ const p = {PLAYER}; return [Number(p.dataset.step),"
            " p.querySelector('[data-slot=status]').textContent]; }"
        )
    )


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize("preset", PRESETS, ids=[p.key for p in PRESETS])
def test_a_preset_leaves_its_settings_in_the_link_and_opens_its_page(
    page: Page, streamlit_server: str, preset
):
    open_app(page, streamlit_server)
    page.get_by_role("button", name=preset.label, exact=True).click()
    path = PATHS[preset.page]
    page.wait_for_url(re.compile(re.escape(streamlit_server + path) + r"(\?|$)"))
    wait_idle(page)
    defaults = widget_values(Settings())
    wanted = {
        k: str(v).removesuffix(".0")
        for k, v in widget_values(preset.settings).items()
        if v != defaults[k]
    }
    if preset.rho != 1.0:
        wanted["rho"] = f"{preset.rho:g}"
    if preset.key == "hand":
        wanted["w"] = hw.encode(preset.settings.weights)
    page.wait_for_function(
        "wanted => Object.entries(wanted).every(([k, v]) =>"
        " new URL(location.href).searchParams.get(k) === v)",
        arg=wanted,
        timeout=10_000,
    )
    got = query(page)
    assert {k: got.get(k) for k in wanted} == wanted
    assert not set(got) - set(wanted) - {"update", "step"}, f"unexpected parameters: {got}"
    expect(page.locator("[data-testid='stSidebar'] textarea")).to_have_value(preset.settings.text)
    expect(page.get_by_text(preset.note.split("**")[1].strip(), exact=False).first).to_be_visible()
    assert_no_exception(page)


def test_a_presets_link_opens_the_same_setup_in_a_new_session(
    browser: Browser, streamlit_server: str
):
    first = open_sized(browser, streamlit_server, 1280, 900)
    try:
        first.get_by_role("button", name="Vanishing", exact=True).click()
        first.wait_for_function("() => new URL(location.href).searchParams.get('rho') === '0.5'")
        link = first.url
    finally:
        close(first)
    second = open_sized(browser, link, 1280, 900)
    try:
        thumb = second.locator(".st-key-rho [data-testid='stSliderThumbValue']")
        expect(thumb).to_have_text("0.50")
        expect(second.locator("[data-testid='stSidebar'] textarea")).to_have_value(
            "hello world, hello world"
        )
        assert_no_exception(second)
    finally:
        close(second)


# --------------------------------------------------------------------------- weights by hand


CELL_EDITOR = "#portal textarea, textarea.gdg-input"  # the grid's overlay editor
FOCUSED = "() => document.activeElement && document.activeElement.classList.contains('gdg-input')"


def edit_cell(page: Page, table: int, row: int, column: int, typed: str) -> None:
    """Type into a cell of a weight table ("" empties it) and press Enter, as a user does: select
    the cell, Enter opens its editor, select its text, type, Enter."""
    grid = page.locator("[data-testid='stDataFrame']").nth(table)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    x = box["x"] + 40 + hw_cell_width() * (column + 0.5)
    y = box["y"] + 35 * (row + 1.5)
    editor = page.locator(CELL_EDITOR)
    for _ in range(4):  # the first click after a redraw may only focus the grid
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.up()
        page.wait_for_timeout(150)
        page.keyboard.press("Enter")
        try:
            editor.first.wait_for(timeout=1500)
            page.wait_for_function(FOCUSED, timeout=1500)  # keys go to the editor from now
            break
        except Exception:  # Playwright's timeout: try the click again
            page.keyboard.press("Escape")
    else:
        raise AssertionError(f"the editor of cell ({row}, {column}) did not open")
    page.keyboard.press("Control+a")
    if typed:
        page.keyboard.type(typed)
    else:
        page.keyboard.press("Backspace")
    expect(editor.first).to_have_value(typed)
    page.wait_for_timeout(250)  # the grid takes the typed value on its next render, not at once
    page.keyboard.press("Enter")
    wait_idle(page)


def hw_cell_width() -> int:
    from bptt_app.weight_editor import CELL_WIDTH

    return CELL_WIDTH


def losses_shown(page: Page, T: int) -> list[str]:
    """The status line of the player at each forward step t = 1..T."""
    out = []
    page.keyboard.press("Home")
    for t in range(T):
        step, status = player_status(page)
        assert step == t + 1
        out.append(status)
        page.keyboard.press("ArrowRight")
    return out


def engine_losses(weights: tuple[float, ...]) -> np.ndarray:
    corpus = Corpus("aba")
    config = RNNConfig(2, 2, 2)
    fwd = forward(Params.from_flat(weights, config), config, corpus.inputs, corpus.targets)
    return fwd.losses


def test_an_edited_weight_is_the_network_and_bad_cells_change_nothing(
    browser: Browser, streamlit_server: str
):
    page = open_sized(browser, f"{streamlit_server}/?{HAND_QUERY}", 1280, 900)
    try:
        edit_cell(page, 0, 0, 3, "-1.25")  # h1, W·h2: W_hh[0, 1]
        edited = list(hw.DEFAULT_WEIGHTS)
        edited[5] = -1.25
        link = hw.encode(tuple(edited))
        page.wait_for_function(f"() => new URL(location.href).searchParams.get('w') === '{link}'")
        expect(page.get_by_text("Changed h1, W·h2: -0.2 → -1.25.")).to_be_visible()
        page.locator(".player[data-step]").wait_for()
        for status, loss in zip(losses_shown(page, 2), engine_losses(tuple(edited)), strict=True):
            assert f"{loss:.4f}" in status, f"{loss:.4f} not in {status!r}"
        for typed, words in (
            ("abc", "“abc” is not a number"),
            ("NaN", "“NaN” is not a finite number"),
            ("1e300", "1e300 is outside −10 to 10"),
            ("", "is empty"),
        ):
            edit_cell(page, 1, 1, 2, typed)  # output b, its bias
            expect(page.get_by_text(f"b, column c: {words}", exact=False)).to_be_visible()
            assert query(page)["w"] == link, f"{typed!r} changed the link"
        for status, loss in zip(losses_shown(page, 2), engine_losses(tuple(edited)), strict=True):
            assert f"{loss:.4f}" in status, "the last valid weights stay"
        assert_no_exception(page)
    finally:
        close(page)


# --------------------------------------------------------------------------- presentation mode

OUTSIDE = """() => {
  const out = [];
  const width = window.innerWidth;
  const main = document.querySelector("[data-testid='stMain']");
  for (const el of main.querySelectorAll("[data-testid='stElementContainer']")) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.left < -1 || r.right > width + 1)) {
      out.push(`${el.innerText.trim().slice(0, 40)} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
  }
  if (document.documentElement.scrollWidth > width + 1) out.push("the page scrolls sideways");
  const selector = "button, [data-testid^='stMetric'], h1, h2, h3";
  for (const el of main.querySelectorAll(selector)) {
    if (el.offsetParent && el.scrollWidth > el.clientWidth + 1
        && getComputedStyle(el).overflow !== 'visible') out.push(`cut: ${el.innerText.slice(0, 40)}`);
  }
  return out;
}"""


SIDEBAR_RIGHT = (
    "(document.querySelector(\"[data-testid='stSidebar']\") || {getBoundingClientRect: () =>"
    " ({right: 0})}).getBoundingClientRect().right"
)


def sidebar_width(page: Page) -> float:
    box = page.locator("[data-testid='stSidebar']").bounding_box()
    return 0.0 if box is None else max(0.0, box["x"] + box["width"])


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (1280, 720)])
def test_presentation_mode_fits_a_projector_and_the_keys_still_step(
    browser: Browser, streamlit_server: str, width: int, height: int
):
    page = open_sized(browser, streamlit_server, width, height)
    try:
        next_button = page.get_by_role("button", name="Next", exact=True)
        normal = next_button.bounding_box()["height"]
        page.locator(".st-key-present").get_by_text("Presentation mode").click()
        page.wait_for_function("() => new URL(location.href).searchParams.get('present') === '1'")
        wait_idle(page)
        page.wait_for_function(f"() => ({SIDEBAR_RIGHT}) <= 1")
        expect(page.get_by_text("What this page shows")).to_be_visible()
        assert next_button.bounding_box()["height"] > 1.15 * normal, "the player is not enlarged"
        size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 19, f"body text {size}px on a projector"
        page.mouse.click(width - 20, height // 2)
        for key, want in (("ArrowRight", 2), ("ArrowRight", 3), ("ArrowLeft", 2), ("End", 9)):
            page.keyboard.press(key)
            assert player_status(page)[0] == want, f"{key} in presentation mode"
        for path in ("/", "/truncation", "/train", "/derivation"):
            open_app(page, f"{streamlit_server}{path}?present=1")
            page.wait_for_timeout(500)
            assert not page.evaluate(OUTSIDE), f"{path} at {width}×{height}"
            assert sidebar_width(page) <= 1, f"{path}: the sidebar is open"
            assert_no_exception(page)
        leave_by_the_sidebar(page)
    finally:
        close(page)


def leave_by_the_sidebar(page: Page) -> None:
    """Opened to pick another page, the sidebar closes again on it; switched off, presentation
    mode opens the sidebar and leaves the address bar."""
    page.locator("[data-testid='stExpandSidebarButton']").click()
    page.wait_for_function(f"() => ({SIDEBAR_RIGHT}) > 100")
    page.locator("[data-testid='stSidebarNav']").get_by_text("Train live").click()
    page.wait_for_url(re.compile(r".*/train\?present=1"))
    page.wait_for_function(f"() => ({SIDEBAR_RIGHT}) <= 1")
    page.locator("[data-testid='stExpandSidebarButton']").click()
    page.locator(".st-key-present").get_by_text("Presentation mode").click()
    page.wait_for_function("() => !new URL(location.href).searchParams.has('present')")
    wait_idle(page)
    assert sidebar_width(page) > 100, "the sidebar is back"
    expect(page.get_by_text("What this page shows")).to_have_count(0)


# --------------------------------------------------------------------------- figures for slides


def download(page: Page, key: str) -> tuple[str, bytes]:
    chart = page.locator(f".st-key-{key}").first
    chart.scroll_into_view_if_needed()
    chart.hover()
    button = chart.locator(".modebar-btn[data-title^='Download']")
    with page.expect_download() as event:
        button.click()
    return event.value.suggested_filename, Path(event.value.path()).read_bytes()


def choose_format(page: Page, label: str) -> None:
    page.locator(".st-key-fig_format").get_by_text(label, exact=True).click()
    wait_idle(page)


def check_exports(page: Page, keys: tuple[str, ...], titles: dict[str, str]) -> None:
    """For every figure: the SVG parses and carries the title and settings line; the PNG is
    the same picture 1920 pixels wide."""
    sizes = {}
    choose_format(page, "SVG")
    for key in keys:
        name, data = download(page, key)
        assert name.startswith("bptt-") and name.endswith(".svg"), name
        root = ET.fromstring(data)
        text = "".join(root.itertext())
        assert titles[key] in text, f"{key}: title missing from the SVG"
        assert "BPTT Explainer" in text and "H = " in text, f"{key}: settings line missing"
        sizes[key] = (float(root.attrib["width"]), float(root.attrib["height"]))
    choose_format(page, "PNG (1920 px)")
    for key in keys:
        name, data = download(page, key)
        assert name.endswith(".png") and data[:8] == b"\x89PNG\r\n\x1a\n", name
        width, height = struct.unpack(">II", data[16:24])
        w, h = sizes[key]
        assert width == 1920 and abs(height - round(h * 1920 / w)) <= 1, (key, width, height)


def test_every_truncation_figure_downloads_for_slides(browser: Browser, streamlit_server: str):
    page = open_sized(browser, f"{streamlit_server}/truncation", 1280, 900)
    try:
        titles = {
            "trunc_flow_map": "‖∂L",
            "trunc_comparison": "What truncation throws away",
            "trunc_jacobian": "against the distance",
            "trunc_clipping": "Clipping the whole gradient",
        }
        check_exports(page, tuple(titles), titles)
        assert_no_exception(page)
    finally:
        close(page)


def test_every_train_figure_downloads_for_slides(browser: Browser, streamlit_server: str):
    page = open_sized(browser, f"{streamlit_server}/train", 1280, 900)
    try:
        page.get_by_role("button", name="10 updates", exact=True).click()
        wait_idle(page)
        page.get_by_text("The curves as figures for slides").click()
        wait_idle(page)
        titles = {
            "train_loss_figure": "The loss while training",
            "train_grad_figure": "The gradient norm while training",
            "train_pred_chart": "What the network predicts at every position",
            "train_weights_chart": "The weights",
        }
        check_exports(page, tuple(titles), titles)
        assert_no_exception(page)
    finally:
        close(page)


# --------------------------------------------------------------------------- screenshots

SHOTS = (
    ("hand", f"/?{HAND_QUERY}", False),
    ("vanishing", "", False),
    ("present_step", "/?present=1", True),
    ("present_truncation", "/truncation?present=1", True),
    ("present_train", "/train?present=1", True),
)


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (1440, 900)])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(
    browser: Browser, streamlit_server: str, tmp_path: Path, width: int, height: int, scheme: str
):
    out = Path(os.environ.get("BPTT_SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    page = open_sized(browser, streamlit_server, width, height, scheme)
    try:
        for name, path, _ in SHOTS:
            if name == "vanishing":
                page.get_by_role("button", name="Vanishing", exact=True).click()
                page.wait_for_url(re.compile(r".*/truncation\?.*rho=0\.5"))
            else:
                open_app(page, f"{streamlit_server}{path}")
            wait_idle(page)
            page.mouse.move(width // 2, 5)
            time.sleep(0.8)
            page.screenshot(path=str(out / f"classroom_{name}_{width}x{height}_{scheme}.png"))
            assert_no_exception(page)
    finally:
        close(page)
