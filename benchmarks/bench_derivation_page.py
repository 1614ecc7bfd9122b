"""Speed of "The derivation" page: the server-side rerun after switching notation at defaults.

    .venv/bin/python benchmarks/bench_derivation_page.py

The page is run by AppTest exactly as the server runs it (app.py, the sidebar, then the page).
Each measurement switches the sidebar's notation to the next of the five and reruns; reported is
the script's own run time (timed inside Streamlit's ScriptRunner) and the AppTest wall time,
which adds AppTest's polling. Two cases:

- warm: every notation's evaluation is already in the page's cache (a class switching back and
  forth, or any second visit): the rerun renders the note;
- cold: the page's caches are cleared before every switch, so the rerun also evaluates every line
  of the note and runs the gradient check (the first visit of a notation).

Target: under 200 ms at defaults. Also, in Chromium (Playwright, Debian's /usr/bin/chromium) on a
served app: the time from choosing another notation in the sidebar until the new note's heading
is on the page, timed inside the page (performance.now and a MutationObserver), warm caches.

Writes benchmarks/results/derivation_page.json and prints a Markdown table.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _script_timing import SCRIPT_TIMES, instrument  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from bptt_app.derivation import cached_gradient_check, cached_note_view  # noqa: E402
from bptt_app.settings import NOTATION_CHOICES  # noqa: E402
from bptt_viz.derivation import DERIVATIONS  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, open_app, serve_app, wait_idle  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "derivation_page.json"
LABELS = list(NOTATION_CHOICES)


def switches(at: AppTest, rounds: int, cold: bool) -> tuple[list[float], list[float]]:
    """Switch through the five notations ``rounds`` times; (script ms, wall ms) per switch."""
    script, wall = [], []
    for i in range(rounds * len(LABELS)):
        if cold:
            cached_note_view.clear()
            cached_gradient_check.clear()
        widget = at.sidebar.selectbox(key="notation").set_value(LABELS[(i + 1) % len(LABELS)])
        SCRIPT_TIMES.clear()
        t0 = time.perf_counter()
        widget.run()
        wall.append((time.perf_counter() - t0) * 1000)
        script.append(sum(SCRIPT_TIMES))
        assert not at.exception, at.exception[0].value
    return script, wall


# Start watching for an h3 with the given text; window.__bpttHeading resolves with the
# milliseconds from now until it is in the page.
WATCH_JS = """(title) => {
    const t0 = performance.now();
    const found = () => [...document.querySelectorAll('h3')].some(h => h.textContent.trim() === title);
    window.__bpttHeading = new Promise(resolve => {
        const obs = new MutationObserver(() => {
            if (found()) { obs.disconnect(); resolve(performance.now() - t0); }
        });
        obs.observe(document.body, {subtree: true, childList: true, characterData: true});
    });
}"""


def browser_switches(rounds: int = 2) -> list[float]:
    """Milliseconds from the click on a notation to its note's heading, in Chromium."""
    keys = list(NOTATION_CHOICES.values())
    times: list[float] = []
    with serve_app() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        open_app(page, f"{url}/derivation", timeout_ms=60_000)
        box = page.locator("[data-testid='stSidebar']").get_by_role("combobox", name="Notation")
        for i in range(rounds * len(LABELS) + len(LABELS)):  # the first round warms the caches
            label = LABELS[(i + 1) % len(LABELS)]
            title = DERIVATIONS[keys[(i + 1) % len(keys)]].title
            box.click()
            page.evaluate(WATCH_JS, title)
            page.get_by_role("option", name=label, exact=True).click()
            ms = float(page.evaluate("() => window.__bpttHeading"))
            wait_idle(page)
            if i >= len(LABELS):
                times.append(ms)
        browser.close()
    return times


def main() -> None:
    instrument()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/derivation.py")
    at.run()
    switches(at, 1, cold=False)  # warm the caches of every notation
    warm_script, warm_wall = switches(at, 4, cold=False)
    cold_script, cold_wall = switches(at, 2, cold=True)
    chromium = browser_switches()
    result = {
        "warm_switch_script_ms_median": statistics.median(warm_script),
        "warm_switch_script_ms_max": max(warm_script),
        "warm_switch_apptest_wall_ms_median": statistics.median(warm_wall),
        "cold_switch_script_ms_median": statistics.median(cold_script),
        "cold_switch_script_ms_max": max(cold_script),
        "cold_switch_apptest_wall_ms_median": statistics.median(cold_wall),
        "chromium_switch_to_heading_ms_median": statistics.median(chromium),
        "chromium_switch_to_heading_ms_max": max(chromium),
        "switches_warm": len(warm_script),
        "switches_cold": len(cold_script),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print("| rerun after switching notation (defaults) | median | max |")
    print("|---|---:|---:|")
    print(
        f"| warm cache, script time | {result['warm_switch_script_ms_median']:.1f} ms | "
        f"{result['warm_switch_script_ms_max']:.1f} ms |"
    )
    print(
        f"| cold cache (every line evaluated, gradient check run), script time | "
        f"{result['cold_switch_script_ms_median']:.1f} ms | {result['cold_switch_script_ms_max']:.1f} ms |"
    )
    print(
        f"| Chromium: notation chosen → new note's heading on the page | "
        f"{result['chromium_switch_to_heading_ms_median']:.0f} ms | "
        f"{result['chromium_switch_to_heading_ms_max']:.0f} ms |"
    )
    print(
        f"| warm / cold, AppTest wall time | {result['warm_switch_apptest_wall_ms_median']:.1f} ms "
        f"/ {result['cold_switch_apptest_wall_ms_median']:.1f} ms | |"
    )


if __name__ == "__main__":
    main()
