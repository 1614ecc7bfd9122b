"""Speed of "Train live": engine updates per second, and visible updates per second in Chromium.

    python benchmarks/bench_train.py                  # both parts, 3 × 5 s of play in Chromium
    python benchmarks/bench_train.py --engine-only    # only Trainer.step in a loop

1. Engine: ``LiveTrainer("hello")`` at the default settings (H = 8, tanh, softmax +
   cross-entropy, Adam, norm clipping, full BPTT), ``step()`` in a loop, best of several
   repeats. Target: at least 1,000 BPTT updates per second.
2. Browser: ``streamlit run app.py`` on a free port, headless Debian Chromium through Playwright,
   the page "Train live" on "hello" at its default speed (1 update per refresh). After Play, a
   MutationObserver records every distinct value the "Updates" counter shows; visible updates
   per second = distinct counter values shown / seconds (each refresh makes one update). Also
   reported: the updates the server made in that time. Target: at least 10 visible per second
   (median over the repeats).

Writes benchmarks/results/train.json and prints it. Exits with status 1 if a target is missed.
Timings depend on the machine and on what else runs on it (2 shared cores here).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bptt_core.history import LiveTrainer  # noqa: E402
from bptt_core.trainer import Trainer  # noqa: E402

ENGINE_TARGET = 1000.0  # updates per second
VISIBLE_TARGET = 10.0  # visible updates per second in Chromium
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
OBSERVE = """() => {
  window.__seen = [];
  const read = () => {
    const el = document.querySelector("[data-testid='stMetricValue']");
    if (!el) return;
    const v = el.innerText, s = window.__seen;
    if (s.length === 0 || s[s.length - 1][1] !== v) s.push([performance.now(), v]);
  };
  new MutationObserver(read).observe(document.body,
    {subtree: true, childList: true, characterData: true});
  read();
}"""


def engine(updates: int, repeats: int) -> dict[str, float]:
    """Updates per second of Trainer.step and LiveTrainer.step on "hello" (best of repeats)."""
    out = {}
    for name, cls in (("Trainer", Trainer), ("LiveTrainer", LiveTrainer)):
        rates = []
        for _ in range(repeats):
            tr = cls("hello")
            tr.train(20)  # warm-up
            t0 = time.perf_counter()
            for _ in range(updates):
                tr.step()
            rates.append(updates / (time.perf_counter() - t0))
        out[name] = max(rates)
    return out


def _count(value: str) -> int:
    return int(value.replace(",", ""))


def browser(seconds: float, repeats: int) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serve_app

    runs = []
    with serve_app(ROOT) as url, sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)  # the first request goes to the default page (see tests/browser)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.goto(f"{url}/train")
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("heading", name="Train live").wait_for()
        page.evaluate(OBSERVE)
        for _ in range(repeats):
            page.get_by_role("button", name="Reset", exact=True).click()
            page.wait_for_selector(IDLE, timeout=30_000)
            time.sleep(0.5)
            page.get_by_role("button", name="Play", exact=True).click()
            time.sleep(1.0)  # let the timers start
            page.evaluate("() => { window.__seen = []; }")
            time.sleep(seconds)
            seen = page.evaluate("() => window.__seen")
            page.get_by_role("button", name="Pause", exact=True).click()
            page.wait_for_selector(IDLE, timeout=30_000)
            if len(seen) < 2:
                runs.append({"visible_per_s": 0.0, "server_updates_per_s": 0.0})
                continue
            made = _count(seen[-1][1]) - _count(seen[0][1])
            runs.append(
                {
                    "visible_per_s": round(len(seen) / seconds, 2),
                    "server_updates_per_s": round(made / seconds, 2),
                }
            )
        exceptions = page.locator("[data-testid='stException']").count()
        chromium.close()
    visible = statistics.median(r["visible_per_s"] for r in runs)
    return {"runs": runs, "visible_per_s_median": visible, "exception_boxes": exceptions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3000, help="engine updates per repeat")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of play per repeat")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each measurement")
    parser.add_argument("--engine-only", action="store_true", help="skip the browser part")
    args = parser.parse_args()

    result: dict[str, object] = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "engine_updates_per_s": {k: round(v) for k, v in engine(args.updates, 5).items()},
        "engine_target": ENGINE_TARGET,
    }
    ok = min(result["engine_updates_per_s"].values()) >= ENGINE_TARGET  # type: ignore[union-attr]
    if not args.engine_only:
        b = browser(args.seconds, args.repeats)
        result["browser"] = b
        result["visible_target"] = VISIBLE_TARGET
        ok = ok and b["visible_per_s_median"] >= VISIBLE_TARGET and not b["exception_boxes"]
    result["targets_met"] = ok
    out = ROOT / "benchmarks" / "results" / "train.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
