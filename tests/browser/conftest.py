"""Real-browser fixtures: the app served by ``streamlit run``, driven by Playwright in Chromium.

A browser test module starts with ``pytestmark = pytest.mark.browser`` and uses the fixtures
and helpers here::

    import pytest

    from tests.browser.conftest import assert_no_exception, open_app, wait_idle

    pytestmark = pytest.mark.browser

    def test_step_page(page, streamlit_server):
        open_app(page, f"{streamlit_server}/step?hidden_size=8")
        page.get_by_role("button", name="Next").click()
        wait_idle(page)
        assert_no_exception(page)

Fixtures:
- ``streamlit_server`` (session): ``streamlit run serve.py`` (the launcher the Docker image and
  ``deploy/`` run: ``app.py`` with the server rules of ``bptt_app.server``; ``app.py`` itself in
  an app directory without ``serve.py``) on a free loopback port, in its own process group;
  yields the base URL (``http://127.0.0.1:PORT``), kills the group at the end.
  ``with serve_app() as url:`` starts a fresh server of its own for a test that needs one.
- ``browser`` (session): Debian's Chromium at ``/usr/bin/chromium``, headless, via Playwright.
- ``page`` (function): a fresh context (own cookies, so its own Streamlit session), viewport
  1400 x 1000, 30 s default timeout for every Playwright call.

Browser tests never skip. A missing Chromium is a failure: ``bash scripts/test.sh`` installs it
(``apt-get install chromium``). Never run ``playwright install``; it downloads its own browser,
which this project does not use.

``BPTT_SCREENSHOTS=1`` makes ``save_screenshot(page, name)`` write
``tests/browser/screenshots/<name>.png`` (gitignored). ``$BPTT_APP_DIR`` serves another app
directory instead of the repository root (see ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import app_dir

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(__file__).resolve().parent / "screenshots"
SERVER_START_TIMEOUT_S = 60
# Streamlit 1.67 sets this attribute on the app root: "initial" before the first run, then
# "running" / "rerunRequested" / "stopRequested" / "notRunning" / "compilationError".
IDLE_SELECTOR = "[data-testid='stApp'][data-test-script-state='notRunning']"
EXCEPTION_SELECTOR = "[data-testid='stException']"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health_ok(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` and its whole process group (a recipe's replicas and nginx share the
    script's group and may outlive it): SIGTERM, then SIGKILL, then SIGKILL to what is left."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=grace)
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class ServedApp(str):
    """The base URL of a served app (a ``str``), with the server's output so far."""

    output: Callable[[], str]


RUNNING: list[ServedApp] = []  # servers alive now (checked for tracebacks around every test)


def tracebacks(text: str) -> list[str]:
    """Every Python traceback in a server log, each with the lines that follow it."""
    lines = text.splitlines()
    return [
        "\n".join(lines[i : i + 25])
        for i, line in enumerate(lines)
        if "Traceback (most recent" in line
    ]


@contextlib.contextmanager
def serve_app(
    directory: Path | None = None, allow_tracebacks: bool = False, script: str | None = None
) -> Iterator[ServedApp]:
    """Run ``streamlit run serve.py`` in ``directory`` (default: ``app_dir()``; ``app.py`` if it
    has no ``serve.py``); yield its URL.

    The server runs in its own process group on a free loopback port and is killed, group and
    all, on exit. Use it directly for a test that needs a server of its own (a fresh one: the
    first request a Streamlit server gets can behave differently from later ones). A traceback
    in the server's output fails the test (unless ``allow_tracebacks``: a test that kills it).
    ``script`` serves another script of the directory (``"app.py"``: without the launcher).
    """
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    if script is None:
        script = "serve.py" if Path(directory or app_dir(), "serve.py").is_file() else "app.py"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.port",
        str(port),
        # Loopback only; also spares Streamlit its external-IP lookup at start.
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=directory or app_dir(),
            # students get no error details (.streamlit/config.toml); a failing test shows them
            env={**os.environ, "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole at the end
        )

        def server_output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")

        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not _health_ok(base_url):
                if process.poll() is not None:
                    pytest.fail(
                        f"streamlit exited with code {process.returncode} before answering "
                        f"{base_url}/_stcore/health:\n{server_output()}"
                    )
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"streamlit did not answer {base_url}/_stcore/health within "
                        f"{SERVER_START_TIMEOUT_S} s:\n{server_output()}"
                    )
                time.sleep(0.2)
            served = ServedApp(base_url)
            served.output = server_output
            RUNNING.append(served)
            try:
                yield served
            finally:
                RUNNING.remove(served)
            found = [] if allow_tracebacks else tracebacks(server_output())
            if found:
                pytest.fail(f"the server at {base_url} logged tracebacks:\n\n" + "\n\n".join(found))
        finally:
            kill_group(process)


@pytest.fixture(scope="session")
def streamlit_server() -> Iterator[ServedApp]:
    """The app served once for the whole session; yields its base URL (no trailing slash)."""
    with serve_app() as base_url:
        yield base_url


@pytest.fixture(autouse=True)
def no_server_tracebacks() -> Iterator[None]:
    """Fail the test if a server that is running logs a traceback while it runs."""
    start = {id(s): len(s.output()) for s in RUNNING}
    yield
    found = []
    for served in list(RUNNING):
        found += [
            f"{served}: {tb}" for tb in tracebacks(served.output()[start.get(id(served), 0) :])
        ]
    if found:
        pytest.fail("the server logged tracebacks during the test:\n\n" + "\n\n".join(found))


def watch_console(page: Page) -> list[str]:
    """Collect the console errors, KaTeX's warnings (a formula KaTeX renders with a complaint,
    e.g. a text-only command in math mode) and uncaught exceptions of ``page``."""
    errors: list[str] = []

    def on_console(message) -> None:
        text = message.text.lower()
        katex = message.type == "warning" and ("katex" in text or "latex-incompatible" in text)
        if message.type != "error" and not katex:
            return
        where = (message.location or {}).get("url", "")
        errors.append(f"console {message.type}: {message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught exception: {exc}"))
    return errors


def assert_no_console_errors(errors: list[str]) -> None:
    if errors:
        pytest.fail(f"{len(errors)} browser console error(s):\n" + "\n".join(errors[:20]))


def close_checked(page: Page) -> None:
    """Check ``page``'s console (from the ``page`` fixture) and close its context: for a test
    whose own server stops before the fixture's teardown (a closed server is no page error)."""
    errors = getattr(page, "bptt_console_errors", [])
    page.context.close()
    assert_no_console_errors(errors)
    errors.clear()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright (fails, never skips, if it is missing)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} not found: browser tests need Debian's Chromium. "
            "Run `bash scripts/test.sh` as root, or `apt-get install -y chromium`."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (a new Streamlit session), 1400 x 1000."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors = watch_console(page)
    page.bptt_console_errors = errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()
    assert_no_console_errors(errors)


def wait_idle(page: Page, timeout_ms: float = 30_000, quiet_ms: float = 300) -> None:
    """Wait until the script is not running and has stayed so for ``quiet_ms``.

    The quiet period covers the moment between a click and the rerun it triggers, when the
    app still reports the previous run as finished. A fragment with ``run_every`` reruns on
    its own, so on such a page this returns at one of its pauses.
    """
    page.wait_for_selector(IDLE_SELECTOR, state="attached", timeout=timeout_ms)
    page.wait_for_function(
        """([selector, quietMs]) => {
            const now = performance.now();
            if (!document.querySelector(selector)) {
                window.__bpttIdleSince = undefined;
                return false;
            }
            if (window.__bpttIdleSince === undefined) window.__bpttIdleSince = now;
            return now - window.__bpttIdleSince >= quietMs;
        }""",
        arg=[IDLE_SELECTOR, quiet_ms],
        polling=50,
        timeout=timeout_ms,
    )
    page.evaluate("() => { window.__bpttIdleSince = undefined; }")


def open_app(page: Page, url: str, timeout_ms: float = 30_000) -> None:
    """Load ``url`` (base URL, optionally with a page path and ``?query``) and wait for it."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_idle(page, timeout_ms=timeout_ms)


def assert_no_exception(page: Page) -> None:
    """Fail with the message and traceback of every exception box on the page."""
    boxes = page.locator(EXCEPTION_SELECTOR)
    if not boxes.count():
        return
    texts = []
    for box in boxes.all():
        message = box.locator("[data-testid='stExceptionMessage']")
        rows = box.locator("[data-testid='stExceptionTraceRow']").all_inner_texts()
        if message.count():
            texts.append("\n".join([message.first.inner_text(), *rows]))
        else:  # st.exception of an unusual shape: take the whole box
            texts.append(re.sub(r"\n{2,}", "\n", box.inner_text()).strip())
    pytest.fail(f"the page shows {len(texts)} exception box(es):\n\n" + "\n\n".join(texts))


def save_screenshot(page: Page, name: str) -> Path | None:
    """With ``BPTT_SCREENSHOTS=1``, save ``tests/browser/screenshots/<name>.png``; return it."""
    if os.environ.get("BPTT_SCREENSHOTS") != "1":
        return None
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Every visible text node of the page (shadow roots included: the step player, Train live's
# panel) against the background it is painted on: the nearest ancestors' backgrounds that cover
# its centre, composed with their alpha, its colour with every opacity on the way. WCAG AA:
# 4.5:1, or 3:1 for large text (24 px, or bold 18.66 px). Disabled controls are exempt (WCAG
# 1.4.3), as is text that is not painted (transparent, opacity 0, zero size).
CONTRAST_JS = r"""() => {
  const parse = (c) => {
    if (!c) return null;
    const n = (c.match(/-?[0-9.]+(e-?\d+)?/g) || []).map(Number);
    if (c.startsWith('color(')) return [n[0]*255, n[1]*255, n[2]*255, n.length > 3 ? n[3] : 1];
    return [n[0], n[1], n[2], n.length > 3 ? n[3] : 1];
  };
  const over = (top, bottom) => { const a = top[3]; return [0,1,2].map(i => top[i]*a + bottom[i]*(1-a)).concat([1]); };
  const lum = ([r,g,b]) => { const f = v => (v/=255) <= 0.03928 ? v/12.92 : ((v+0.055)/1.055)**2.4; return 0.2126*f(r)+0.7152*f(g)+0.0722*f(b); };
  const bgOf = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement || (e.getRootNode && e.getRootNode().host)) {
      if (!(e instanceof Element)) break;
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) {
        const r = e.getBoundingClientRect(), m = el.getBoundingClientRect();
        const cx = m.left + m.width / 2, cy = m.top + m.height / 2;
        if (cx < r.left || cx > r.right || cy < r.top || cy > r.bottom) continue;
        layers.push(c); if (c[3] >= 1) break;
      }
    }
    let base = [255,255,255,1];
    if (!layers.length || layers[layers.length-1][3] < 1) base = parse(getComputedStyle(document.querySelector("[data-testid='stApp']")).backgroundColor);
    for (let i = layers.length-1; i >= 0; i--) base = over(layers[i], base);
    return base;
  };
  const bad = [];
  const seen = new Set();
  const visit = (root) => {
    const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let n; while ((n = w.nextNode())) {
      const el = n.parentElement; if (!el || seen.has(el)) continue; seen.add(el);
      if (!n.textContent.trim()) continue;
      if (el.closest('.katex-mathml, script, style, noscript, [aria-hidden=true] .katex-mathml')) continue;
      const r = el.getBoundingClientRect(); if (r.width === 0 || r.height === 0) continue;
      const s = getComputedStyle(el);
      if (s.visibility === 'hidden' || +s.opacity === 0) continue;
      let fg = parse(el instanceof SVGElement ? s.fill : s.color); if (!fg || fg[3] === 0) continue;
      if (el.closest('[disabled], [aria-disabled=true], [data-disabled=true]')) continue;
      let op = el instanceof SVGElement ? +s.fillOpacity : 1;
      for (let e = el; e && e instanceof Element; e = e.parentElement) op *= +getComputedStyle(e).opacity;
      if (op === 0) continue;
      const bg = bgOf(el);
      fg = over([fg[0],fg[1],fg[2],fg[3]*op], bg);
      const [a,b] = [lum(fg), lum(bg)].sort((x,y)=>y-x);
      const ratio = (a+0.05)/(b+0.05);
      const size = parseFloat(s.fontSize), bold = +s.fontWeight >= 700;
      const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
      if (ratio < need) bad.push(`${el.tagName}.${(el.getAttribute('data-testid')||el.getAttribute('class')||'').slice(0,40)} "${n.textContent.trim().slice(0,40)}" ${ratio.toFixed(2)} (rgb(${fg.slice(0, 3).map(Math.round)}) on rgb(${bg.slice(0, 3).map(Math.round)}))`);
    }
    root.querySelectorAll('*').forEach(e => { if (e.shadowRoot) visit(e.shadowRoot); });
  };
  visit(document.body);
  return bad;
}"""


def low_contrast(page: Page) -> list[str]:
    """Every text of ``page`` below WCAG AA, as 'TAG.class "text" ratio (colour on background)'."""
    return page.evaluate(CONTRAST_JS)
