"""Server-side rerun time of the Truncation page after a change of the truncation k.

    python benchmarks/bench_truncation_page.py            # T = 50, H = 32, 15 timed reruns

Runs the app with Streamlit's AppTest (the script runs exactly as on the server, without a
browser), opens "Truncation & vanishing gradients" with a 51-character text (T = 50) and H = 32,
warms the caches, then changes the sidebar's truncation k and times each rerun. Everything the
page computes that does not depend on k is cached, so a k change only redraws. Prints the median
and writes benchmarks/results/truncation_page.json. The target is a median under 200 ms.
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

from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

TEXT = "the quick brown fox jumps over the lazy dog; pack my"  # 52 characters, T = 51 → cut
TARGET_MS = 200.0


def follow_navigation() -> None:
    """Make AppTest follow st.navigation like the server (see tests/conftest.py)."""
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=50, help="timesteps (text length − 1)")
    parser.add_argument("--H", type=int, default=32, help="hidden units")
    parser.add_argument("--repeats", type=int, default=15, help="timed reruns")
    args = parser.parse_args()
    text = (TEXT * (args.T // len(TEXT) + 2))[: args.T + 1]

    follow_navigation()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["text"] = text
    at.query_params["hidden"] = str(args.H)
    at.run()
    at.switch_page("pages/truncation.py")
    at.run()
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception[0].value}")
    ks = [1, 3, 5, 8, 12, 20, 0]
    for k in ks:  # warm-up: first runs import and fill the caches
        at.number_input(key="k").set_value(k).run()
    times = []
    for i in range(args.repeats):
        k = ks[i % len(ks)]
        widget = at.number_input(key="k").set_value(k)
        t0 = time.perf_counter()
        widget.run()
        times.append((time.perf_counter() - t0) * 1000)
        if at.exception:
            raise SystemExit(f"the page raised: {at.exception[0].value}")
        expected = args.T if k == 0 else k
        assert at.slider(key="trunc_k").value == expected, "the page did not follow k"
    median = statistics.median(times)
    result = {
        "benchmark": "Truncation page: server-side rerun after a change of the truncation k",
        "T": args.T,
        "H": args.H,
        "repeats": args.repeats,
        "median_ms": round(median, 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "times_ms": [round(t, 1) for t in times],
        "target_ms": TARGET_MS,
        "meets_target": median < TARGET_MS,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured_with": "streamlit.testing.v1.AppTest (script run incl. AppTest overhead)",
    }
    out = ROOT / "benchmarks" / "results" / "truncation_page.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"Truncation page rerun after a k change (T = {args.T}, H = {args.H}): median "
        f"{median:.1f} ms (min {min(times):.1f}, max {max(times):.1f}, {args.repeats} runs); "
        f"target < {TARGET_MS:.0f} ms → {'OK' if median < TARGET_MS else 'TOO SLOW'}"
    )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
