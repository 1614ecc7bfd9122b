"""Shared helpers of the reliability tests (and of ``benchmarks/bench_sessions.py``).

Pages are named in one place: ``PAGE_FILES`` for AppTest (paths relative to ``app.py``, so
renaming the folder is one edit of ``PAGE_DIR``) and ``PAGE_PATHS`` for a browser (URL paths,
which do not depend on the folder). Memory is read from ``/proc``: the resident set (VmRSS) of
a server and of every process in its process group.
"""

from __future__ import annotations

import os
import re
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, wait_idle

REPO_ROOT = Path(__file__).resolve().parents[2]

PAGE_DIR = "pages"  # the folder of the page files, relative to app.py
PAGE_FILES = {
    "step": f"{PAGE_DIR}/step.py",
    "truncation": f"{PAGE_DIR}/truncation.py",
    "train": f"{PAGE_DIR}/train.py",
    "derivation": f"{PAGE_DIR}/derivation.py",
}
PAGE_PATHS = {
    "step": "/",
    "truncation": "/truncation",
    "train": "/train",
    "derivation": "/derivation",
}
PAGE_TITLES = {
    "step": "Step through BPTT",
    "truncation": "Truncation & vanishing gradients",
    "train": "Train live",
    "derivation": "The derivation",
}
# The sidebar's URL-bound widget keys (bptt_app/widget_map.py, WIDGET_DEFAULTS).
WIDGET_KEYS = (
    "text",
    "notation",
    "hidden",
    "act",
    "out",
    "init",
    "scale",
    "radius",
    "seed",
    "k",
    "lr",
    "opt",
    "clip",
    "clipval",
    "seq",
)
# Sidebar labels that make Train live diverge at once (bptt_app/settings.py).
DIVERGE_QUERY = {"lr": "1000000", "clip": "none", "opt": "SGD"}

# The step page's browser player labels its position "Step 6 of 9 · …" (bptt_app/step_player.py).
STEP_RE = re.compile(r"Step (\d+) of (\d+)")


# --------------------------------------------------------------------------- memory


def pid_listening_on(port: int) -> int:
    """The pid of the ``streamlit run`` started with ``--server.port PORT`` (from /proc)."""
    wanted = ["--server.port", str(port)]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "streamlit" in " ".join(args) and any(
            args[i : i + 2] == wanted for i in range(len(args) - 1)
        ):
            return int(entry.name)
    raise LookupError(f"no streamlit process with --server.port {port}")


def rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def group_rss_mib(pid: int) -> float:
    """Summed VmRSS (MiB) of every process in the process group of ``pid``."""
    pgid = os.getpgid(pid)
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) == pgid:
                total += rss_kib(int(entry.name))
        except (ProcessLookupError, PermissionError):
            continue
    return total / 1024


# --------------------------------------------------------------------------- browser

T = TypeVar("T")


def run_in_browser(scenario: Callable[[Browser], T]) -> T:
    """Run ``scenario(browser)`` with a headless Chromium of its own, in a thread of its own.

    Why a thread: the ``browser`` fixture of ``tests/browser`` is session-scoped and keeps its
    sync Playwright (an asyncio loop driven through greenlets) alive in the main thread until
    the session ends, and a second sync Playwright refuses to start in a thread whose loop is
    running. Fixtures of ``tests/browser`` are not visible here, so these tests start their own
    Playwright in a fresh thread, use it only there and close it before returning; failures
    (assertions, ``pytest.fail``) are re-raised in the test's thread.
    """
    if not os.access(CHROMIUM, os.X_OK):
        raise AssertionError(
            f"{CHROMIUM} not found: the browser tests need Debian's Chromium "
            "(`apt-get install -y chromium`; scripts/test.sh installs it)."
        )
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
                )
                try:
                    outcome["value"] = scenario(browser)
                finally:
                    browser.close()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="playwright", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def new_page(browser: Browser, **options: object) -> Page:
    """A page in a fresh context (its own cookies: its own Streamlit session)."""
    context = browser.new_context(viewport={"width": 1300, "height": 900}, **options)
    context.set_default_timeout(60_000)
    return context.new_page()


def url(base: str, page: str, query: dict[str, str] | None = None) -> str:
    """``base`` + the URL path of ``page`` + an encoded query string."""
    q = "?" + urllib.parse.urlencode(query) if query else ""
    return f"{base}{PAGE_PATHS[page]}{q}"


def navigate(page: Page, name: str, wait: bool = True) -> None:
    """Click the sidebar link to ``name`` (same session: client-side navigation)."""
    path = PAGE_PATHS[name]
    links = page.locator("[data-testid='stSidebarNav'] a")
    hrefs = links.evaluate_all("els => els.map(a => new URL(a.href).pathname)")
    matches = [i for i, h in enumerate(hrefs) if h.rstrip("/") == path.rstrip("/")]
    assert matches, f"no sidebar link to {path}; links: {hrefs}"
    links.nth(matches[0]).click()
    if wait:
        wait_idle(page)


def step_of(page: Page) -> tuple[int, int]:
    """(step, number of steps) as the step page's player says (its shadow DOM is open)."""
    label = page.locator(".player .where").first
    match = STEP_RE.search(label.inner_text())
    assert match, f"no step label on the page: {label.inner_text()!r}"
    return int(match.group(1)), int(match.group(2))


def metric(page: Page, label: str) -> str:
    """The value of the ``st.metric`` whose label starts with ``label``."""
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=label)
    )
    return box.first.locator("[data-testid='stMetricValue']").inner_text().strip()


def sidebar_text(page: Page) -> str:
    return page.get_by_role("textbox", name="Training text").input_value()


def alerts(page: Page) -> list[str]:
    """The texts of every st.error / st.warning / st.info box on the page."""
    return page.locator("[data-testid='stAlertContainer']").all_inner_texts()
