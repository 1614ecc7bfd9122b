"""Server memory per browser session: how many students one ``streamlit run`` process holds.

    python benchmarks/bench_sessions.py                  # up to 48 sessions (about 7 min)
    python benchmarks/bench_sessions.py --sessions 12 --batches 1 2 4 8 12

Starts the app on a fresh server, then opens browser sessions (headless Chromium, one
Playwright context each, all kept open) in growing batches. Every session uses the app the
way a student does: its own text in the URL, a few steps on "Step through BPTT", the
"Truncation & vanishing gradients" page, then 10 training updates on "Train live". After each
batch the resident memory (VmRSS) of the server's whole process group is read from /proc.
Reported: the RSS before any session, after the first (Python imports the pages, the engine
and Plotly once), the marginal MiB per further session (least-squares slope over the
batches), and the RSS after every session has been closed. Writes
benchmarks/results/sessions.json.

A single process serves every session on one Python interpreter; sessions keep only their
own state (a Trainer with a bounded history, widget values); the computed traces live in
shared caches bounded by ``max_entries`` and a TTL (bptt_app/step_player.py, analysis.py).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serve_app, wait_idle  # noqa: E402
from tests.reliability._support import (  # noqa: E402
    group_rss_mib,
    navigate,
    pid_listening_on,
    url,
)

RESULTS = ROOT / "benchmarks" / "results" / "sessions.json"
WORDS = ["hello", "backprop", "through", "time", "vanishing", "gradient", "unfold", "delta"]


def session_text(i: int) -> str:
    """A different text per session (so no two sessions share a cached trace)."""
    return f"{WORDS[i % len(WORDS)]} {i} {WORDS[(i * 3 + 1) % len(WORDS)]}"


def settle(pid: int, seconds: float = 2.0) -> float:
    """RSS after letting the server finish what the last clicks started."""
    time.sleep(seconds)
    return group_rss_mib(pid)


def slope(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=48, help="sessions held at the end")
    parser.add_argument(
        "--batches", type=int, nargs="*", default=None, help="session counts to measure at"
    )
    args = parser.parse_args()
    counts = sorted(set(args.batches or [1, 2, 4, 8, 16, 24, 32, 40, 48]) | {args.sessions})
    counts = [c for c in counts if c <= args.sessions]

    points: list[tuple[int, float]] = []
    started = time.monotonic()
    with serve_app() as base, sync_playwright() as pw:
        pid = pid_listening_on(int(base.rsplit(":", 1)[1]))
        baseline = settle(pid, 1.0)
        print(f"server pid {pid}: {baseline:.0f} MiB before any session")
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        contexts, pages = [], []
        for target in counts:
            batch = []
            while len(pages) < target:
                i = len(pages)
                ctx = browser.new_context(viewport={"width": 1200, "height": 800})
                ctx.set_default_timeout(120_000)
                page = ctx.new_page()
                page.goto(url(base, "step", {"text": session_text(i)}), wait_until="commit")
                contexts.append(ctx)
                pages.append(page)
                batch.append(page)
            for p in batch:
                wait_idle(p, timeout_ms=120_000)
            for step in ("next", "truncation", "train", "updates"):
                for p in batch:
                    if step == "next":
                        p.get_by_role("button", name="Next", exact=True).click()
                    elif step == "updates":
                        p.get_by_role("button", name="10 updates", exact=True).click()
                    else:
                        navigate(p, step, wait=False)
                for p in batch:
                    wait_idle(p, timeout_ms=120_000)
            rss = settle(pid)
            points.append((len(pages), rss))
            print(f"{len(pages):3d} sessions: {rss:7.1f} MiB", flush=True)
        for ctx in contexts:
            ctx.close()
        after_close = settle(pid, 5.0)
        browser.close()

    first = points[0][1] if points[0][0] == 1 else None
    later = [(n, r) for n, r in points if n >= 2] or points
    marginal = slope([n for n, _ in later], [r for _, r in later])
    held = points[-1][0]
    result = {
        "benchmark": "Server RSS (process group, VmRSS) per open browser session",
        "sessions_held": held,
        "baseline_mib": round(baseline, 1),
        "first_session_mib": None if first is None else round(first - baseline, 1),
        "marginal_mib_per_session": round(marginal, 2),
        "average_mib_per_session": round((points[-1][1] - baseline) / held, 2),
        "rss_mib_at_end": round(points[-1][1], 1),
        "rss_mib_after_closing_all": round(after_close, 1),
        "points": [{"sessions": n, "rss_mib": round(r, 1)} for n, r in points],
        "per_session_workload": "own text via URL; Next on the step page; truncation page; "
        "Train live with 10 updates",
        "seconds": round(time.monotonic() - started, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured_with": "streamlit run + Playwright/Chromium contexts, /proc/<pid>/status",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "points"}, indent=2))


if __name__ == "__main__":
    main()
