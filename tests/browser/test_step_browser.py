"""The "Step through BPTT" page in headless Chromium: the player steps in the browser.

Every click, key and Play frame is answered by the player without a server run (counted), the
step is in the address bar, the numbers shown are the engine's, and Pause stops on its frame.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from bptt_app.settings import Settings
from bptt_core import Corpus, backward, forward
from bptt_viz.figures.style import fmt_vector
from tests.browser.conftest import (
    CHROMIUM_ARGS,  # noqa: F401  (documented launch flags; the fixture uses them)
    assert_no_console_errors,
    assert_no_exception,
    low_contrast,
    open_app,
    save_screenshot,
    wait_idle,
    watch_console,
)

pytestmark = pytest.mark.browser

ROOT = "document.querySelector(\"[data-testid='stBidiComponentIsolated']\").shadowRoot"
PLAYER = f"{ROOT}.querySelector('.player')"


def state(page: Page) -> dict:
    return page.evaluate(
        f"""() => {{
            const p = {PLAYER};
            return {{step: Number(p.dataset.step), pass: p.dataset.pass,
                     update: p.dataset.update === '' ? null : Number(p.dataset.update),
                     label: p.querySelector('.where').textContent,
                     status: p.querySelector('[data-slot=status]').textContent,
                     eqs: p.querySelector('[data-slot=eqs]').innerHTML}};
        }}"""
    )


def open_player(page: Page, url: str) -> None:
    open_app(page, url)
    page.locator(".player[data-step]").wait_for()


def count_runs(page: Page) -> None:
    """Start counting the script runs the server starts (the app's run state going "running")."""
    page.evaluate(
        """() => {
            window.__runs = 0;
            const app = document.querySelector("[data-testid='stApp']");
            new MutationObserver(() => {
                if (app.dataset.testScriptState === 'running') window.__runs += 1;
            }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
        }"""
    )


def runs(page: Page) -> int:
    return page.evaluate("() => window.__runs")


def step_in_url(page: Page, want: int | None = None) -> str:
    """The ?step= of the address bar (the player writes it a quarter of a second after a step);
    with ``want``, wait until it says so."""
    if want is not None:
        page.wait_for_function(
            f"() => new URL(location.href).searchParams.get('step') === '{want}'", timeout=5000
        )
    return re.search(r"[?&]step=(\d+)", page.url).group(1)


def engine(text: str = "hello", **settings):
    s = Settings(text=text, **settings)
    corpus = Corpus(text)
    training = s.training()
    config = training.network(corpus.V)
    params = training.initial_params(config)
    fwd = forward(params, config, corpus.inputs, corpus.targets)
    return fwd, backward(params, config, fwd, training.truncation)


def test_buttons_keys_and_slider_step_without_a_server_run(page: Page, streamlit_server: str):
    open_player(page, streamlit_server)
    assert state(page)["step"] == 1 and step_in_url(page, 1) == "1"
    count_runs(page)
    for i in range(2, 10):
        page.get_by_role("button", name="Next", exact=True).click()
        assert state(page)["step"] == i
    assert state(page)["label"] == "Step 9 of 9 · update of the weights"
    assert step_in_url(page, 9) == "9"
    page.get_by_role("button", name="Back").click()
    page.get_by_role("button", name="First", exact=True).click()
    assert state(page)["step"] == 1
    page.get_by_role("button", name="Last").click()
    assert state(page)["step"] == 9
    for key, want in (("Home", 1), ("ArrowRight", 2), ("PageDown", 3), ("ArrowLeft", 2)):
        page.keyboard.press(key)
        assert state(page)["step"] == want, f"after {key}"
    page.keyboard.press("PageUp")
    page.keyboard.press("End")
    assert state(page)["step"] == 9
    page.locator(".player input[type=range]").fill("5")
    assert state(page)["step"] == 5 and step_in_url(page, 5) == "5"
    page.wait_for_timeout(300)
    assert runs(page) == 0, f"{runs(page)} server runs for stepping in the browser"
    assert_no_exception(page)


def test_play_shows_every_step_and_pause_stops_on_its_frame(page: Page, streamlit_server: str):
    """Play walks every step of the pass in order, through the update, then on into the next
    pass; Pause stops on the frame it is pressed on (50 tries at 30 steps/s). How many steps a
    second a browser paints is measured by benchmarks/bench_step_page.py, not here."""
    text = "the quick brown fox jumps over the lazy dog"  # T = 40 in one chunk: 81 steps
    open_player(page, f"{streamlit_server}/?seq=40&text={text.replace(' ', '+')}")
    count_runs(page)
    page.locator(".player select").select_option("30")
    walk = page.evaluate(
        f"""async () => {{
            const p = {PLAYER};
            const seen = [];
            const obs = new MutationObserver(() => seen.push(Number(p.dataset.step)));
            obs.observe(p, {{attributes: true, attributeFilter: ['data-step']}});
            p.querySelector('[data-act=play]').click();
            await new Promise(r => {{
                const check = () => p.dataset.update === '1' ? r() : setTimeout(check, 20);
                check();
            }});
            obs.disconnect();
            p.querySelector('[data-act=play]').click();  // pause in the next pass
            return seen;
        }}"""
    )
    shown = [s for i, s in enumerate(walk) if i == 0 or s != walk[i - 1]]
    assert shown[:81] == [*range(2, 82), 1], f"{shown[:5]} … {shown[78:84]}"
    assert runs(page) <= 2, "only the move to the next pass asks the server"
    late = page.evaluate(
        f"""async () => {{
            const p = {PLAYER};
            const play = p.querySelector('[data-act=play]');
            let late = 0;
            for (let i = 0; i < 50; i++) {{
                p.querySelector('[data-act=first]').click();
                play.click();
                await new Promise(r => setTimeout(r, 40 + (i * 37) % 400));
                const at = p.dataset.step;
                play.click();
                await new Promise(r => setTimeout(r, 120));
                if (p.dataset.step !== at) late += 1;
            }}
            return late;
        }}"""
    )
    assert late == 0, f"{late} of 50 pauses drew a step after Pause"


def test_play_at_the_end_of_a_pass_plays_on_into_the_next_pass(page: Page, streamlit_server):
    open_player(page, f"{streamlit_server}/?step=9")
    assert state(page)["step"] == 9 and state(page)["update"] == 0
    page.evaluate(
        f"""() => {{
            const p = {PLAYER};
            window.__firstStep = null;
            new MutationObserver(() => {{
                if (window.__firstStep === null) window.__firstStep = Number(p.dataset.step);
            }}).observe(p, {{attributes: true, attributeFilter: ['data-update']}});
        }}"""
    )
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => {PLAYER}.dataset.update === '1'")
    page.wait_for_function(f"() => Number({PLAYER}.dataset.step) >= 2")
    page.get_by_role("button", name="Pause").click()
    assert page.evaluate("() => window.__firstStep") == 1, "the next pass opens at its step 1"


def test_three_passes_with_the_keyboard_then_a_shared_link(
    page: Page, browser: Browser, streamlit_server
):
    """Forward, backward and update, three times, with the keys; each pass's loss is lower than
    the one before; the link of the pass and step opens there in a fresh browser."""
    open_player(page, streamlit_server)
    losses = []
    for update in range(3):
        assert state(page)["update"] == update
        for _ in range(8):
            page.keyboard.press("ArrowRight")
        assert state(page)["label"] == "Step 9 of 9 · update of the weights"
        status = state(page)["status"]
        this, after = (
            float(x)
            for x in re.findall(r"was ([0-9.]+); the new weights give ([0-9.]+)", status)[0]
        )
        losses.append(this)
        assert after < this, f"update {update}: the new weights do worse ({status})"
        page.keyboard.press("ArrowRight")  # on into the next pass
        page.wait_for_function(f"() => {PLAYER}.dataset.update === '{update + 1}'")
        assert state(page)["step"] == 1
    assert losses == sorted(losses, reverse=True) and len(set(losses)) == 3, losses
    fwd, _ = engine()
    assert losses[0] == pytest.approx(fwd.loss, abs=1e-4), "pass 1 is the initial network"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    step_in_url(page, 3)
    link = page.url
    assert "update=3" in link
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    fresh = context.new_page()
    errors = watch_console(fresh)
    open_player(fresh, link)
    assert state(fresh)["update"] == 3 and state(fresh)["step"] == 3
    assert state(fresh)["pass"] == state(page)["pass"], "the link rebuilt the same network"
    assert_no_exception(fresh)
    context.close()
    assert_no_console_errors(errors)


def test_every_panel_shows_the_engines_numbers(page: Page, streamlit_server: str):
    fwd, bwd = engine()
    open_player(page, f"{streamlit_server}/?step=2")
    s = state(page)
    assert f"{fwd.losses[1]:.4f}" in s["status"]
    for value in fwd.h[1][:5]:
        assert f"{value:.3f}".replace("-", "−") in s["eqs"], f"h(2) entry {value}"
    node = page.locator("circle.node.h[data-i='5']")  # h(2): h0, then x, h, y per copy
    node.hover()
    assert fmt_vector(fwd.h[1]) in page.locator(".tip").inner_text()
    page.get_by_role("button", name="Last").click()
    cells = page.locator(".panel.sums svg g.m").nth(2).locator("rect")  # W_hh: running sum
    cells.nth(1).hover()
    tip = page.locator(".tip").inner_text()
    want = bwd.grads.W_hh[0, 1]
    shown = float(re.search(r"= ([+−-][0-9.e+−-]+)$", tip).group(1).replace("−", "-"))
    assert shown == pytest.approx(want, rel=1e-4, abs=1e-6), tip
    for t in (3, 1):
        page.get_by_role("button", name="First", exact=True).click()
        for _ in range(2 * fwd.T - t):
            page.keyboard.press("ArrowRight")
        eqs = state(page)["eqs"]
        for value in bwd.delta_h[t - 1][:5]:
            assert f"{value:.3f}".replace("-", "−") in eqs, f"delta_h({t}) entry {value}"


def test_clicks_on_the_drawings_jump_to_their_step(page: Page, streamlit_server: str):
    open_player(page, streamlit_server)
    page.locator("circle.node.y[data-i='9']").click()  # y(3)
    assert state(page)["step"] == 3
    page.get_by_role("button", name="Last").click()
    page.locator("circle.node.h[data-i='5']").click()  # h(2) during the backward pass
    assert state(page)["label"] == "Step 7 of 9 · backward pass · t = 2"
    page.locator("svg.heatmap g.col[data-i='3'] rect").first.click()  # column t = 4
    assert state(page)["label"] == "Step 5 of 9 · backward pass · t = 4"


def test_a_shared_link_opens_at_its_step_in_a_fresh_browser(browser: Browser, streamlit_server):
    for query, want, warned in (("?step=6", 6, False), ("?step=99", 1, True)):
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        errors = watch_console(page)
        open_player(page, f"{streamlit_server}/{query}")
        assert state(page)["step"] == want, query
        text = page.locator("[data-testid='stAlertContentWarning']").all_inner_texts()
        assert any("showing step 1" in w for w in text) == warned, (query, text)
        context.close()
        assert_no_console_errors(errors)


def test_a_setting_change_keeps_the_step(page: Page, streamlit_server: str):
    open_player(page, f"{streamlit_server}/?step=6")
    first = state(page)["pass"]
    slider = page.get_by_role("slider", name="Hidden units H")
    slider.focus()
    page.keyboard.press("ArrowLeft")  # H = 7
    wait_idle(page)
    page.wait_for_function(f"() => {PLAYER}.dataset.pass !== '{first}'")
    assert state(page)["step"] == 6 and step_in_url(page, 6) == "6"
    text = page.get_by_role("textbox", name="Training text")
    text.fill("hi")
    text.press("Control+Enter")
    wait_idle(page)
    page.wait_for_function(f"() => {PLAYER}.querySelector('.where').textContent.includes('of 3')")
    assert state(page)["step"] == 3, "the step is kept in range of the new pass (its last)"
    assert_no_exception(page)


def test_notation_switch_retypesets_the_equations(page: Page, streamlit_server: str):
    open_player(page, f"{streamlit_server}/?step=5")
    page.get_by_role("combobox", name="Notation").click()
    page.get_by_role("option", name="Guo / Mikolov (V, U, W)").click()
    wait_idle(page)
    page.wait_for_function(
        f"() => {PLAYER}.querySelector('[data-slot=eqs]').textContent.includes('δ')"
    )
    eqs = state(page)["eqs"]
    assert "<math" in eqs and "δ" in eqs
    assert state(page)["step"] == 5


def test_bad_url_and_bad_text_never_crash(page: Page, streamlit_server: str):
    open_app(page, f"{streamlit_server}/?hidden=abc&k=-3&step=<x>&notation=%3Cb%3E")
    assert_no_exception(page)
    page.locator(".player[data-step]").wait_for()
    text = page.get_by_role("textbox", name="Training text")
    text.fill("x")
    text.press("Control+Enter")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("[data-testid='stAlertContentError']").count() >= 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1440, 900), (1280, 720), (1024, 768)])
def test_readable_at_projector_sizes_in_both_themes(
    browser: Browser, streamlit_server, scheme, size
):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = context.new_page()
    errors = watch_console(page)
    open_player(page, f"{streamlit_server}/?step=6&k=2")
    bad = low_contrast(page)
    assert not bad, f"{scheme} {width}×{height}: text below WCAG AA 4.5:1: {bad[:8]}"
    clipped = page.evaluate(
        f"""() => [...{ROOT}.querySelectorAll('.controls button')]
            .filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.textContent)"""
    )
    assert not clipped, f"{width}×{height}: button labels cut: {clipped}"
    overflow = page.evaluate(
        """() => { const m = document.querySelector("[data-testid='stMain']");
                   return m.scrollWidth - m.clientWidth; }"""
    )
    assert overflow <= 1, f"{width}×{height}: the page scrolls sideways by {overflow}px"
    save_screenshot(page, f"step_{scheme}_{width}x{height}")
    context.close()
    assert_no_console_errors(errors)


def test_predict_then_reveal_asks_before_each_backward_step(page: Page, streamlit_server: str):
    _, bwd = engine()
    open_player(page, f"{streamlit_server}/?step=4")
    page.get_by_role("button", name="Predict first").click()
    page.get_by_role("button", name="Next", exact=True).click()
    assert state(page)["step"] == 4, "the question comes before the step"
    quiz = page.locator(".quiz")
    assert "most negative error" in quiz.inner_text()
    want = "“" + "hello"[4] + "”"  # the target of t = 4: softmax + cross-entropy
    page.locator(".quiz [data-choice]").filter(has_text=want).click()
    assert state(page)["step"] == 5, "answering reveals the step"
    assert quiz.inner_text().startswith("Right.")
    assert f"{bwd.delta_o[3].min():+.4f}" in quiz.inner_text(), "the reveal has the engine's number"
    assert page.locator(".score").inner_text() == "Score: 1 of 1"
    page.keyboard.press("ArrowRight")  # the next backward step asks again
    assert state(page)["step"] == 5 and "Which part of" in quiz.inner_text()
    own, carried = np.linalg.norm(bwd.dh_local[2]), np.linalg.norm(bwd.dh_carried[2])
    wrong = 0 if carried > own else 1
    page.locator(f".quiz [data-choice='{wrong}']").click()
    assert quiz.inner_text().startswith("Not quite")
    assert page.locator(".score").inner_text() == "Score: 1 of 2"


def test_every_figure_downloads_as_svg_and_png(page: Page, streamlit_server: str, tmp_path):
    open_player(page, f"{streamlit_server}/?step=6")
    sections = page.locator(".panel:not([hidden]) [data-save=svg]")
    assert sections.count() >= 5, "network, units, two heatmaps, sums"
    for i in range(sections.count()):
        section = sections.nth(i).locator("xpath=ancestor::section")
        name = section.get_attribute("class")
        with page.expect_download() as svg_download:
            section.locator("[data-save=svg]").click()
        svg_path = tmp_path / f"{i}.svg"
        svg_download.value.save_as(svg_path)
        root = ET.parse(svg_path).getroot()  # the SVG parses
        texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
        assert "H = 8" in texts and "seed 0" in texts, f"{name}: the settings are written under it"
        with page.expect_download() as png_download:
            section.locator("[data-save=png]").click()
        png_path = tmp_path / f"{i}.png"
        png_download.value.save_as(png_path)
        data = png_path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{name}: not a PNG"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 1900 and height > 200, f"{name}: {width}×{height} is not slide resolution"


def test_the_link_keeps_the_step_when_the_server_answers_after_the_keys(
    page: Page, streamlit_server: str
):
    """The next pass is shown before the server has made it; the server's answer (which carries
    its own idea of the link, from before the keys) must not put an old step back in the link.
    The server's messages are held back until the keys have been pressed, as on a busy server."""
    held: list[str | bytes] = []
    sockets = []

    def relay(ws) -> None:
        server = ws.connect_to_server()
        sockets.append(ws)
        server.on_message(lambda m: held.append(m) if holding else ws.send(m))
        ws.on_message(server.send)

    holding = False
    page.route_web_socket(re.compile(r".*/_stcore/stream"), relay)
    open_player(page, f"{streamlit_server}/?step=9")
    assert state(page)["label"] == "Step 9 of 9 · update of the weights"
    holding = True
    for _ in range(3):  # into the next pass (sent ahead), then two steps in it
        page.keyboard.press("ArrowRight")
    assert (state(page)["update"], state(page)["step"]) == (1, 3)
    step_in_url(page, 3)
    assert "update=1" in page.url, f"the link names the pass shown: {page.url}"
    page.wait_for_timeout(500)
    assert held, "the server was asked for the next pass and had not answered yet"
    holding = False
    for message in held:
        sockets[-1].send(message)
    held.clear()
    wait_idle(page)
    page.wait_for_timeout(1000)  # past the player's URL_DELAY
    assert (state(page)["update"], state(page)["step"]) == (1, 3)
    link = page.url
    assert re.search(r"[?&]step=3\b", link) and "update=1" in link, link
    assert_no_exception(page)
