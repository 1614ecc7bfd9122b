"""Speed of the "Step through BPTT" page: what the server does once, what the browser does always.

    python benchmarks/bench_step_page.py            # writes benchmarks/results/step_page.json
    python benchmarks/bench_step_page.py --quick    # fewer repeats

1. Server (AppTest, the script as the server runs it): a sidebar slider change (hidden units
   7 ↔ 8 at otherwise default settings), the script's own run time. Target: < 100 ms.
2. Payload: the bytes one pass sends to the browser, for "hello" (tens of kilobytes) and for
   T = 40, H = 32 (under 2 MB).
3. Chromium (Playwright, Debian's /usr/bin/chromium), served app: a real click on Next, and a
   real key press, → the next step painted, timed in the page (from the input event's timestamp
   to the first task after the next animation frame). Quiet, then again while 5 other browser
   sessions on the same server play the step page and one plays Train live. Target: median
   ≤ 50 ms, p95 ≤ 100 ms.
4. Play at 30 steps/s: distinct steps shown per second, counted in the page. Target ≥ 28.
5. Pause at 30 steps/s, 50 tries: steps drawn after the frame Pause was pressed on. Target 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import zlib
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _script_timing import SCRIPT_TIMES, instrument  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from bptt_app.settings import Settings  # noqa: E402
from bptt_app.step_player import to_json  # noqa: E402
from bptt_app.step_runs import TiedRun  # noqa: E402
from bptt_app.train_session import TrainSession  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, open_app, serve_app  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "step_page.json"
LONG_TEXT = "the+quick+brown+fox+jumps+over+the+lazy+dog"  # T = 40: 80 steps
PLAYER = (
    "document.querySelector(\"[data-testid='stBidiComponentIsolated']\")"
    ".shadowRoot.querySelector('.player')"
)


def server_side(repeats: int) -> dict[str, float]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    for value in (7, 8, 7, 8):  # warm the caches of both settings
        at.sidebar.slider(key="hidden").set_value(value).run()
    script = []
    for i in range(repeats):
        widget = at.sidebar.slider(key="hidden").set_value(7 if i % 2 else 8)
        SCRIPT_TIMES.clear()
        widget.run()
        script.append(sum(SCRIPT_TIMES))
        assert not at.exception, at.exception[0].value
    cold = []
    for seed in range(5):  # a new setting: the pass is computed and typeset, not cached
        widget = at.sidebar.number_input(key="seed").set_value(100 + seed)
        SCRIPT_TIMES.clear()
        widget.run()
        cold.append(sum(SCRIPT_TIMES))
    return {
        "slider_rerun_script_ms_median": statistics.median(script),
        "new_setting_rerun_script_ms_median": statistics.median(cold),
    }


def payload_sizes() -> dict[str, int]:
    """JSON bytes of one pass, and what permessage-deflate (on in .streamlit/config.toml) sends
    of them (zlib at its default level, as the websocket's deflate)."""

    def first_pass(settings: Settings) -> bytes:
        run = TiedRun(TrainSession(settings))
        return to_json(run, run.records(1)[0], "goodfellow")[0].encode()

    hello = first_pass(Settings())
    text = LONG_TEXT.replace("+", " ")
    big = first_pass(Settings(text=text, hidden_size=32, seq_length=40))
    return {
        "hello_bytes": len(hello),
        "hello_deflated_bytes": len(zlib.compress(hello)),
        "T40_H32_bytes": len(big),
        "T40_H32_deflated_bytes": len(zlib.compress(big)),
    }


# Every input event on the player (pointerdown, keydown) starts a clock; the step it causes is
# counted as painted at the first task after the next animation frame.
PAINT_JS = f"""() => {{
    const p = {PLAYER};
    window.__paints = [];
    let t0 = null;
    const start = (e) => {{ t0 = e.timeStamp; }};
    p.addEventListener('pointerdown', start, true);
    document.addEventListener('keydown', start, true);
    new MutationObserver(() => {{
        if (t0 === null) return;
        const s = t0; t0 = null;
        requestAnimationFrame(() => setTimeout(() => window.__paints.push(performance.now() - s)));
    }}).observe(p, {{attributes: true, attributeFilter: ['data-step']}});
}}"""


def click_and_key_to_paint(page: Page, clicks: int) -> dict[str, float]:
    page.evaluate(PAINT_JS)
    nxt = page.locator(".player [data-act=next]")
    first = page.locator(".player [data-act=first]")
    box = nxt.bounding_box()
    for i in range(clicks):
        if i % 7 == 0:
            first.click()
            time.sleep(0.1)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        time.sleep(0.12)
    mouse = page.evaluate("() => window.__paints.splice(0)")
    mouse = [m for i, m in enumerate(mouse) if i % 8 != 0]  # drop the First clicks
    for i in range(clicks):
        page.keyboard.press("Home" if i % 7 == 0 else "ArrowRight")
        time.sleep(0.12)
    keys = [k for i, k in enumerate(page.evaluate("() => window.__paints.splice(0)")) if i % 7]
    return {
        "click_median_ms": statistics.median(mouse),
        "click_p95_ms": sorted(mouse)[int(0.95 * (len(mouse) - 1))],
        "key_median_ms": statistics.median(keys),
        "key_p95_ms": sorted(keys)[int(0.95 * (len(keys) - 1))],
    }


# The floor: a click on a plain box of the page that only changes its text → painted, timed the
# same way. Under load this is what the shared CPU costs the browser itself, whatever it draws.
FLOOR_JS = """() => {
    const box = document.createElement('div');
    box.id = 'bench-floor';
    box.textContent = '0';
    box.style.cssText = 'position:fixed;right:24px;top:50%;width:60px;height:30px;'
        + 'z-index:2147483647;background:#fff;color:#000;font:14px sans-serif';
    document.body.appendChild(box);
    const r0 = box.getBoundingClientRect();
    if (document.elementFromPoint(r0.left + 30, r0.top + 15) !== box) {
        throw new Error('the floor box is covered by another element');
    }
    window.__floor = [];
    let n = 0;
    box.addEventListener('pointerdown', (e) => {
        const t0 = e.timeStamp;
        box.textContent = String(++n);
        requestAnimationFrame(() => setTimeout(() => window.__floor.push(performance.now() - t0)));
    });
    const r = box.getBoundingClientRect();
    return {x: r.left + r.width / 2, y: r.top + r.height / 2};
}"""


def paint_floor(page: Page, clicks: int) -> dict[str, float]:
    """Click → a trivial paint in the same page (median, p95): the browser's own latency."""
    at = page.evaluate(FLOOR_JS)
    for _ in range(clicks):
        page.mouse.click(at["x"], at["y"])
        time.sleep(0.12)
    times = page.evaluate(
        "() => { document.getElementById('bench-floor').remove(); return window.__floor; }"
    )
    return {
        "floor_median_ms": statistics.median(times),
        "floor_p95_ms": sorted(times)[int(0.95 * (len(times) - 1))],
    }


PLAY_JS = f"""async () => {{
    const p = {PLAYER};
    const sel = p.querySelector('select'); sel.value = '30'; sel.dispatchEvent(new Event('change'));
    const seen = [];
    const obs = new MutationObserver(() => seen.push([performance.now(), p.dataset.step]));
    obs.observe(p, {{attributes: true, attributeFilter: ['data-step']}});
    p.querySelector('[data-act=first]').click();
    p.querySelector('[data-act=play]').click();
    await new Promise(r => setTimeout(r, 2500));
    p.querySelector('[data-act=play]').click();
    obs.disconnect();
    const t0 = seen[0][0];
    const inWindow = seen.filter(([t]) => t - t0 >= 500 && t - t0 < 2500);
    return new Set(inWindow.map(([, s]) => s)).size / 2;
}}"""

PAUSE_JS = f"""async () => {{
    const p = {PLAYER};
    const sel = p.querySelector('select'); sel.value = '30'; sel.dispatchEvent(new Event('change'));
    const play = p.querySelector('[data-act=play]');
    let late = 0;
    for (let i = 0; i < 50; i++) {{
        p.querySelector('[data-act=first]').click();
        play.click();
        await new Promise(r => setTimeout(r, 40 + (i * 37) % 400));
        const at = p.dataset.step;
        play.click();
        await new Promise(r => setTimeout(r, 150));
        if (p.dataset.step !== at) late += 1;
    }}
    return late;
}}"""

# The click moving to another pass (Next at the update step, or a jump) → the new pass's first
# step painted, timed in the page from the click's timestamp.
PASS_JS = f"""async (selector) => {{
    const p = {PLAYER};
    const before = p.dataset.update;
    const button = p.querySelector(selector);
    let t0 = null;
    button.addEventListener('pointerdown', (e) => {{ t0 = e.timeStamp; }}, {{once: true}});
    const painted = new Promise(resolve => {{
        new MutationObserver((_, obs) => {{
            if (p.dataset.update === before) return;
            obs.disconnect();
            requestAnimationFrame(() => setTimeout(() => resolve(performance.now())));
        }}).observe(p, {{attributes: true, attributeFilter: ['data-update']}});
    }});
    button.dispatchEvent(new PointerEvent('pointerdown', {{bubbles: true}}));
    button.click();
    return (await painted) - t0;
}}"""


def pass_moves(page: Page, repeats: int) -> dict[str, float]:
    """Next at the update step (the next pass was sent ahead) and +100 (asks the server)."""
    nxt, hundred = [], []
    for _ in range(repeats):
        page.keyboard.press("End")
        nxt.append(page.evaluate(PASS_JS, ".controls [data-act=next]"))
        time.sleep(0.6)  # the server's answer (with the pass after) arrives
    for _ in range(max(3, repeats // 2)):
        hundred.append(page.evaluate(PASS_JS, ".passbar [data-go='+100']"))
        time.sleep(0.6)
    return {
        "next_pass_median_ms": statistics.median(nxt),
        "next_pass_max_ms": max(nxt),
        "plus_100_median_ms": statistics.median(hundred),
        "plus_100_max_ms": max(hundred),
    }


KEEP_PLAYING_JS = f"""(speed) => {{
    const p = {PLAYER};
    const sel = p.querySelector('select');
    sel.value = String(speed); sel.dispatchEvent(new Event('change'));
    const play = p.querySelector('[data-act=play]');
    setInterval(() => {{ if (play.getAttribute('aria-pressed') === 'false') play.click(); }}, 200);
}}"""


def load_sessions(browser, url: str) -> list:
    """Five sessions playing the step page (restarting at the end) and one playing Train live."""
    contexts = []
    for _ in range(5):
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        page = ctx.new_page()
        open_app(page, f"{url}/?text={LONG_TEXT}")
        page.locator(".player[data-step]").wait_for()
        page.evaluate(KEEP_PLAYING_JS, 30)
        contexts.append(ctx)
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    page = ctx.new_page()
    open_app(page, f"{url}/train")
    page.get_by_role("button", name="Play").first.click()
    contexts.append(ctx)
    return contexts


SET_SPEED_JS = f"""(speed) => {{
    const sel = {PLAYER}.querySelector('select');
    sel.value = String(speed); sel.dispatchEvent(new Event('change'));
}}"""


def cpu_seconds_by_kind() -> dict[str, float]:
    """CPU seconds used so far by the Chromium processes and by the Streamlit server (/proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"browsers": 0.0, "server": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = "browsers" if b"chromium" in cmd else "server" if b"streamlit run" in cmd else None
        if kind:
            used[kind] += (int(fields[11]) + int(fields[12])) / tick
    return used


def loaded_at(page: Page, others: list, speed: int, clicks: int) -> dict[str, float]:
    """Click/key → paint while the other step-page sessions play at ``speed`` steps/s, with the
    cores the browsers and the server used meanwhile."""
    for ctx in others[:5]:
        ctx.pages[0].evaluate(SET_SPEED_JS, speed)
    time.sleep(2.0)
    before, t0 = cpu_seconds_by_kind(), time.monotonic()
    result = click_and_key_to_paint(page, clicks) | paint_floor(page, clicks)
    after, wall = cpu_seconds_by_kind(), time.monotonic() - t0
    return result | {f"{kind}_cores": (after[kind] - before[kind]) / wall for kind in after}


def browser_side(clicks: int) -> dict[str, object]:
    with serve_app(ROOT) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_app(page, url)
        page.locator(".player[data-step]").wait_for()
        quiet = click_and_key_to_paint(page, clicks) | paint_floor(page, clicks)
        passes = pass_moves(page, max(5, clicks // 4))
        open_app(page, f"{url}/?seq=40&text={LONG_TEXT}")
        page.locator(".player[data-step]").wait_for()
        play_rate = page.evaluate(PLAY_JS)
        late = page.evaluate(PAUSE_JS)
        open_app(page, url)
        page.locator(".player[data-step]").wait_for()
        others = load_sessions(browser, url)
        loaded = loaded_at(page, others, 30, clicks)
        loaded_default = loaded_at(page, others, 5, clicks)
        for ctx in others:
            ctx.close()
        browser.close()
    return {
        "quiet": quiet,
        "loaded": loaded,
        "loaded_default_speed": loaded_default,
        "passes": passes,
        "play_steps_per_s": play_rate,
        "pause_late": late,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    instrument()
    result = {
        "server": server_side(5 if args.quick else 15),
        "payload": payload_sizes(),
        "browser": browser_side(14 if args.quick else 42),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/bench_step_page.py",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print("| measurement | figure | target |")
    print("|---|---|---|")
    for row in table_rows(result):
        print("| " + " | ".join(row) + " |")


def table_rows(result: dict) -> list[tuple[str, str, str]]:
    """The README's rows (measurement, figure, target) from a result of ``main``."""
    s, pl, b = result["server"], result["payload"], result["browser"]
    q, ld, ps, l5 = b["quiet"], b["loaded"], b["passes"], b["loaded_default_speed"]
    rows = [
        (
            "server rerun after a slider change (script)",
            f"{s['slider_rerun_script_ms_median']:.0f} ms",
            "< 100 ms",
        ),
        (
            "server rerun for a new setting (pass computed)",
            f"{s['new_setting_rerun_script_ms_median']:.0f} ms",
            "",
        ),
        (
            "one pass sent, “hello” (JSON; deflated on the wire)",
            f"{pl['hello_bytes'] / 1000:.0f} kB; {pl['hello_deflated_bytes'] / 1000:.0f} kB",
            "tens of kB",
        ),
        (
            "one pass sent, T = 40, H = 32",
            f"{pl['T40_H32_bytes'] / 1e6:.2f} MB; {pl['T40_H32_deflated_bytes'] / 1e6:.2f} MB",
            "< 2 MB",
        ),
        (
            "click Next → painted, quiet",
            f"{q['click_median_ms']:.0f} ms (p95 {q['click_p95_ms']:.0f})",
            "≤ 50 (p95 ≤ 100)",
        ),
        (
            "key → painted, quiet",
            f"{q['key_median_ms']:.0f} ms (p95 {q['key_p95_ms']:.0f})",
            "≤ 50 (p95 ≤ 100)",
        ),
        (
            "click → a trivial paint in the same page (the browser's own floor), quiet",
            f"{q['floor_median_ms']:.0f} ms (p95 {q['floor_p95_ms']:.0f})",
            "",
        ),
    ]
    for name, run in (("5 steps/s (the default)", l5), ("30 steps/s", ld)):
        rows += [
            (
                f"click Next → painted; key → painted: 5 others playing at {name} + 1 training",
                f"{run['click_median_ms']:.0f} ms (p95 {run['click_p95_ms']:.0f}); "
                f"{run['key_median_ms']:.0f} ms (p95 {run['key_p95_ms']:.0f})",
                "",
            ),
            (
                "… the floor meanwhile; cores used by the browsers, by the server",
                f"{run['floor_median_ms']:.0f} ms (p95 {run['floor_p95_ms']:.0f}); "
                f"{run['browsers_cores']:.2f}, {run['server_cores']:.2f} of 2",
                "",
            ),
        ]
    rows += [
        (
            "Next at the update step → the next pass painted",
            f"{ps['next_pass_median_ms']:.0f} ms (max {ps['next_pass_max_ms']:.0f})",
            "< 150 ms",
        ),
        (
            "+100 updates → that pass painted",
            f"{ps['plus_100_median_ms']:.0f} ms (max {ps['plus_100_max_ms']:.0f})",
            "< 300 ms",
        ),
        (
            "play at 30 steps/s: distinct steps shown per second",
            f"{b['play_steps_per_s']:.1f}",
            "≥ 28",
        ),
        ("pause at 30 steps/s: steps drawn after Pause (50 tries)", str(b["pause_late"]), "0"),
    ]
    return rows


if __name__ == "__main__":
    main()
