"""Server-side rerun time of the Truncation page after moving the truncation k.

    python benchmarks/bench_truncation_page.py            # T = 50, H = 32, 15 timed reruns
    python benchmarks/bench_truncation_page.py --app-dir /tmp/old   # the same on another tree

Runs the app with Streamlit's AppTest (the script runs exactly as on the server, without a
browser), opens "Truncation & vanishing gradients" with a 51-character text (T = 50) and H = 32,
warms the caches, then moves the page's own truncation slider and times each rerun; then does the
same with the sidebar's k (which the page's slider follows). Everything the page computes that
does not depend on k is cached, so a k change only redraws. Prints the medians and writes
benchmarks/results/truncation_page.json (not with --app-dir). The target is a median under
200 ms.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _script_timing import follow_navigation

ROOT = Path(__file__).resolve().parent.parent

TEXT = "the quick brown fox jumps over the lazy dog; pack my"  # 52 characters, T = 51 → cut
TARGET_MS = 200.0
KS = [1, 3, 5, 8, 12, 20, 0]  # 0: full BPTT (the sidebar's encoding)


def open_page(app_dir: Path, T: int, H: int):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(app_dir / "app.py"), default_timeout=120)
    at.query_params["text"] = (TEXT * (T // len(TEXT) + 2))[: T + 1]
    at.query_params["hidden"] = str(H)
    at.run()
    at.switch_page("pages/truncation.py")
    at.run()
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception[0].value}")
    return at


def time_reruns(at, move: Callable[[int], object], T: int, repeats: int) -> list[float]:
    """Milliseconds of each rerun after ``move(k)`` (k = 0: full BPTT), after a warm-up."""
    for k in KS:  # warm-up: first runs import and fill the caches
        move(k).run()
    times = []
    for i in range(repeats):
        k = KS[i % len(KS)]
        widget = move(k)
        t0 = time.perf_counter()
        widget.run()
        times.append((time.perf_counter() - t0) * 1000)
        if at.exception:
            raise SystemExit(f"the page raised: {at.exception[0].value}")
        assert at.slider(key="trunc_k").value == (k or T), "the page did not follow k"
    return times


def summary(times: list[float]) -> dict[str, object]:
    return {
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "times_ms": [round(t, 1) for t in times],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=50, help="timesteps (text length − 1)")
    parser.add_argument("--H", type=int, default=32, help="hidden units")
    parser.add_argument("--repeats", type=int, default=15, help="timed reruns")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the app to measure")
    args = parser.parse_args()
    sys.path.insert(0, str(args.app_dir))
    follow_navigation()
    at = open_page(args.app_dir, args.T, args.H)
    page = time_reruns(
        at, lambda k: at.slider(key="trunc_k").set_value(k or args.T), args.T, args.repeats
    )
    sidebar = time_reruns(at, lambda k: at.number_input(key="k").set_value(k), args.T, args.repeats)
    median = statistics.median(page)
    result = {
        "benchmark": "Truncation page: server-side rerun after moving the truncation k",
        "T": args.T,
        "H": args.H,
        "repeats": args.repeats,
        **summary(page),
        "sidebar_k": summary(sidebar),
        "target_ms": TARGET_MS,
        "meets_target": median < TARGET_MS,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured_with": "streamlit.testing.v1.AppTest (script run incl. AppTest overhead)",
    }
    print(
        f"Truncation page rerun after moving k (T = {args.T}, H = {args.H}, {args.repeats} runs "
        f"each): page slider median {median:.1f} ms (min {min(page):.1f}, max {max(page):.1f}); "
        f"sidebar k median {statistics.median(sidebar):.1f} ms; target < {TARGET_MS:.0f} ms → "
        f"{'OK' if median < TARGET_MS else 'TOO SLOW'}"
    )
    if args.app_dir.resolve() == ROOT:
        out = ROOT / "benchmarks" / "results" / "truncation_page.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
