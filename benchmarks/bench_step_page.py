"""Speed of the "Step through BPTT" page: server rerun, click-to-figure, and play rate.

    python benchmarks/bench_step_page.py

1. Server side (AppTest, the script exactly as the server runs it): a sidebar slider change
   (hidden units 7 ↔ 8 at otherwise default settings) and a click on "Next". Reported twice: the
   script's own run time (timed inside Streamlit's ScriptRunner) and the AppTest wall time,
   which adds AppTest's polling. Target: under 150 ms.
2. Chromium (Playwright, Debian's /usr/bin/chromium): time from the click on "Next" until the
   unfolded-network figure shows the next step, timed inside the page (performance.now and a
   MutationObserver on the figure's title). Target: under 400 ms.
3. Play mode in Chromium at "15 steps/s": distinct steps drawn per second, counted in the page by
   a MutationObserver on the status line (redrawn with the graph in every frame). Target: at least 10 per second.

Writes benchmarks/results/step_page.json and prints a Markdown table.
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

from playwright.sync_api import sync_playwright  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from streamlit.runtime.scriptrunner import script_runner  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    open_app,
    serve_app,
    wait_idle,
)

RESULTS = ROOT / "benchmarks" / "results" / "step_page.json"
SCRIPT_TIMES: list[float] = []


def instrument() -> None:
    """Follow st.navigation in AppTest (see tests/conftest.py) and time every script run."""
    original_init = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]
    original_run = script_runner.ScriptRunner._run_script

    def timed(self: object, *args: object, **kwargs: object) -> object:
        t0 = time.perf_counter()
        try:
            return original_run(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            SCRIPT_TIMES.append((time.perf_counter() - t0) * 1000)

    script_runner.ScriptRunner._run_script = timed  # type: ignore[method-assign]


def server_side(repeats: int = 15) -> dict[str, float]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    for value in (7, 8, 7, 8):  # warm the caches of both settings
        at.sidebar.slider(key="hidden").set_value(value).run()
    wall, script = [], []
    for i in range(repeats):
        widget = at.sidebar.slider(key="hidden").set_value(7 if i % 2 else 8)
        SCRIPT_TIMES.clear()
        t0 = time.perf_counter()
        widget.run()
        wall.append((time.perf_counter() - t0) * 1000)
        script.append(sum(SCRIPT_TIMES))
        assert not at.exception, at.exception[0].value
    nxt_wall, nxt_script = [], []
    for _ in range(7):
        SCRIPT_TIMES.clear()
        t0 = time.perf_counter()
        at.button(key="step_next").click().run()
        nxt_wall.append((time.perf_counter() - t0) * 1000)
        nxt_script.append(sum(SCRIPT_TIMES))
    return {
        "slider_rerun_script_ms": statistics.median(script),
        "slider_rerun_apptest_wall_ms": statistics.median(wall),
        "next_rerun_script_ms": statistics.median(nxt_script),
        "next_rerun_apptest_wall_ms": statistics.median(nxt_wall),
    }


TITLE_JS = "() => (document.querySelector('.gtitle') || {}).textContent || ''"
# Click "Next" in the page and resolve with the milliseconds until the figure's title changes
# (timed by the browser itself, so Playwright's own round trips are not counted).
CLICK_NEXT_JS = """() => new Promise(resolve => {
    const title = () => (document.querySelector('.gtitle') || {}).textContent || '';
    const before = title();
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
        if (title() !== before) { obs.disconnect(); resolve(performance.now() - t0); }
    });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true});
    [...document.querySelectorAll('button')].find(b => /Next$/.test(b.textContent.trim())).click();
})"""
# While playing, the graph is streamed as SVG images (no Plotly title): count the status line,
# which is redrawn together with the graph and the heatmaps in every frame.
OBSERVER_JS = """() => {
    window.__titles = [];
    const record = () => {
        const el = [...document.querySelectorAll('strong')]
            .find(e => /^(Forward|Backward) pass, step/.test(e.textContent));
        const text = el ? el.textContent : '';
        const last = window.__titles[window.__titles.length - 1];
        if (!last || last.text !== text) window.__titles.push({text, t: performance.now()});
    };
    new MutationObserver(record).observe(document.body, {subtree: true, childList: true,
                                                        characterData: true});
    record();
}"""


def browser_side() -> dict[str, float]:
    with serve_app(ROOT) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_app(page, url)
        clicks = []
        for _ in range(7):  # forward steps t = 2..4, then the backward steps
            wait_idle(page)
            page.get_by_role("button", name="Next", exact=True).wait_for()
            clicks.append(page.evaluate(CLICK_NEXT_JS))
            time.sleep(0.5)
        # play at 15 steps/s on a longer text, so the walk does not end during the count
        open_app(page, f"{url}/?text=the+quick+brown+fox+jumps+over+the+lazy+dog")
        page.get_by_role("combobox", name="Speed").click()
        page.get_by_role("option", name="15 steps/s").click()
        time.sleep(1.0)
        page.evaluate(OBSERVER_JS)
        page.get_by_role("button", name="Play", exact=True).click()
        time.sleep(1.0)  # let play settle into its rhythm
        n0 = page.evaluate("() => window.__titles.length")
        t0 = time.perf_counter()
        time.sleep(4.0)
        n1 = page.evaluate("() => window.__titles.length")
        elapsed = time.perf_counter() - t0
        page.get_by_role("button", name="Pause", exact=True).click()
        browser.close()
    return {
        "click_next_to_figure_ms_median": statistics.median(clicks),
        "click_next_to_figure_ms_max": max(clicks),
        "play_visible_steps_per_s": (n1 - n0) / elapsed,
    }


def main() -> None:
    instrument()
    result = {"server": server_side(), "browser": browser_side()}
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    result["date"] = time.strftime("%Y-%m-%d")
    result["command"] = "python benchmarks/bench_step_page.py"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    s, b = result["server"], result["browser"]
    print("| measurement | median | target |")
    print("|---|---|---|")
    print(
        f"| rerun after a slider change (script) | {s['slider_rerun_script_ms']:.0f} ms | < 150 ms |"
    )
    print(f"| same, AppTest wall time | {s['slider_rerun_apptest_wall_ms']:.0f} ms | |")
    print(f"| rerun after Next (script) | {s['next_rerun_script_ms']:.0f} ms | |")
    print(
        f"| click Next → figure updated (Chromium) | {b['click_next_to_figure_ms_median']:.0f} ms "
        f"(max {b['click_next_to_figure_ms_max']:.0f}) | < 400 ms |"
    )
    print(f"| play mode, visible steps per second | {b['play_visible_steps_per_s']:.1f} | ≥ 10 |")


if __name__ == "__main__":
    main()
