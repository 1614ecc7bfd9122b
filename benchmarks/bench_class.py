"""A whole class at once, behind the deployment recipe: what each student feels, what the server
spends, and what one student's worst link costs the others (issue 15).

    python benchmarks/bench_class.py                          # 30 students, 1 and 2 replicas
    python benchmarks/bench_class.py --replicas 1 --seconds 60 --no-fairness   # shorter
    python benchmarks/bench_class.py --quick                  # 12 students, 40 s, 1 replica

Loopback only, bounded: every run is ``deploy/run_replicas.py`` (nginx + N ``streamlit run
serve.py`` replicas) on free ports, stopped at the end; at most ``--students`` sessions, each
phase a fixed number of seconds.

1. Arrival: every student opens the teacher's link (``TEACHER``: the step page on "hello world")
   within the same 10 s. ``--browsers`` of them are real Chromium contexts (Playwright, Debian's
   /usr/bin/chromium), the rest replay over the websocket exactly what the frontend sends
   (``tests/reliability/_replay.py``: widget ids are deterministic; the same protocol as
   ``benchmarks/bench_train.py``'s class). Time to the first finished run is recorded.
2. The mix, ``--seconds`` long: the Chromium students click Next on the step page about three
   times a second (stepping within a pass runs in the browser; Next at the update step moves to
   the next pass, a fragment rerun) and every click → the step painted is timed in the page
   (``benchmarks/bench_step_page.py``'s clock). Of the replayed students: "players" play the
   step page at 5 steps/s, which asks the server for the next pass (trigger ``goto``) every
   21 steps; "clickers" do so at one step a second; "trainers" play Train live at its default
   speed, keeping the fragment timers the server asks for, and count the updates delivered;
   "truncation" students move the page's k and ρ sliders (one starts the Quick experiment);
   "slider" students move a sidebar slider (hidden units, then the seed) on the step page.
   Every rerun's time (message sent → its run finished) is recorded per kind. The server's CPU
   (utime + stime of each replica, /proc) and RSS are sampled every 2 s.
3. Everyone leaves: RSS 20 s later, and once Streamlit has dropped the sessions
   (``server.disconnectedSessionTTL`` = 120 s, + 10 s).
4. Fairness (with ``--replicas`` 1 only, the worst case: everyone in one process): a prober moves
   the seed slider every 1.5 s on the step page; its rerun times at rest, then while one student
   runs each of the worst things a link can start — H = 128 on the step page asking for +100
   updates, the Truncation page at its limits (H = 128, T = 80, moving ρ: every analysis
   recomputed), the "More" experiment, Train live at 200 updates/s on a 5,000-character text with
   H = 128 and chunks of 200 — and all of them at once. Target: the prober's median at most 2×
   its median at rest.

Targets (issue 15): 0 exception boxes, 0 server tracebacks, click → paint p95 ≤ 100 ms, slider
rerun p95 ≤ 1 s, every trainer ≥ 10 updates/s, the worst link ≤ 2×. Writes
benchmarks/results/class.json and prints it; exits 1 if a target is missed. The machine's load
average is recorded: the figures depend on what else runs (2 shared cores here).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.proto.Common_pb2 import DoubleArray  # noqa: E402

from tests.browser.conftest import tracebacks  # noqa: E402
from tests.reliability._replay import ReplayClient  # noqa: E402
from tests.reliability._servers import cpu_seconds  # noqa: E402
from tests.reliability._support import rss_kib  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "class.json"
TEACHER = "text=hello+world&hidden=8"  # the teacher's link: the step page on "hello world"
STEPS_PER_PASS = 21  # T = 10: 10 forward, 10 backward, the update
ROLE_SHARES = (("player", 11), ("clicker", 4), ("trainer", 6), ("truncation", 4), ("slider", 2))
TARGETS = {"click_p95_ms": 100.0, "slider_p95_s": 1.0, "trainer_min_per_s": 10.0, "worst": 2.0}
SESSION_TTL_S = 120


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))], 4)


def summary(values: list[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values),
        "median": pct(values, 0.5),
        "p95": pct(values, 0.95),
        "max": pct(values, 1.0),
    }


# ---------------------------------------------------------------------------- the recipe


def snapshot(ref: str = "HEAD") -> Path:
    """The committed app (``git archive``) in a temporary directory: others may be editing the
    working tree while the benchmark runs."""
    target = Path(tempfile.mkdtemp(prefix="bench-class-app-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


class Recipe:
    """``deploy/run_replicas.py`` with ``replicas`` replicas on free ports (a context manager)."""

    def __init__(self, replicas: int, app_dir: Path = ROOT) -> None:
        self.replicas, self.app_dir = replicas, app_dir
        self.run_dir = Path(tempfile.mkdtemp(prefix="bench-class-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict = {}

    def __enter__(self) -> Recipe:
        command = [sys.executable, str(ROOT / "deploy" / "run_replicas.py")]
        command += ["--replicas", str(self.replicas), "--port", "0", "--run-dir", str(self.run_dir)]
        command += ["--app-dir", str(self.app_dir)]
        out = (self.run_dir / "run_replicas.out").open("wb")
        self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 180
        while not (self.run_dir / "replicas.json").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the recipe did not start: see {self.run_dir}")
            time.sleep(0.3)
        self.info = json.loads((self.run_dir / "replicas.json").read_text())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=30)

    @property
    def url(self) -> str:
        return self.info["url"]

    @property
    def pids(self) -> list[int]:
        return [pid for name, pid in self.info["pids"].items() if name != "nginx"]

    def tracebacks(self) -> int:
        logs = [p.read_text(errors="replace") for p in self.run_dir.glob("replica-*.log")]
        # a replayed student that leaves closes its socket mid-read: not an app error
        return sum("WebSocketDisconnect" not in t for log in logs for t in tracebacks(log))


def run_queue_wait(pid: int) -> float:
    """Seconds the threads of ``pid`` have waited, runnable, for a CPU (/proc schedstat): what
    the rest of the machine took from the server."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(stat.read_text().split()[1])
    return total / 1e9


class Sampler:
    """CPU share (of one core) and RSS of the replicas every ``every`` seconds, in a thread."""

    def __init__(self, pids: list[int], every: float = 2.0) -> None:
        self.pids, self.every = pids, every
        self.samples: list[dict[str, float]] = []
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> tuple[float, float, float]:
        """(replicas' CPU s, replicas' seconds waiting for a CPU, this process's CPU s)."""
        cpu = sum(cpu_seconds(p) for p in self.pids)
        return cpu, sum(run_queue_wait(p) for p in self.pids), cpu_seconds(os.getpid())

    def _run(self) -> None:
        t0 = self.t0 = time.monotonic()
        last = self._read()
        while not self._stop.wait(self.every):
            now = self._read()
            cpu, wait, client = ((n - b) / self.every for n, b in zip(now, last, strict=True))
            rss = sum(rss_kib(p) for p in self.pids) / 1024
            self.samples.append(
                {
                    "t": round(time.monotonic() - t0, 1),
                    "cpu": round(cpu, 3),
                    "waiting_for_cpu": round(wait, 3),
                    "client_cpu": round(client, 3),
                    "rss": round(rss),
                    "load": round(os.getloadavg()[0], 1),
                }
            )
            last = now

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def between(self, t0: float, t1: float) -> list[dict[str, float]]:
        """The samples taken between the monotonic times ``t0`` and ``t1``."""
        return [s for s in self.samples if t0 - self.t0 <= s["t"] <= t1 - self.t0]


# ---------------------------------------------------------------------------- replayed students


class Stats:
    """Everything the replayed students measured."""

    def __init__(self) -> None:
        self.open: list[float] = []  # seconds to the first finished run
        self.reruns: dict[str, list[float]] = {}  # kind → seconds
        self.updates: list[list[tuple[float, int]]] = []  # per trainer: (time, update number)
        self.exceptions: list[str] = []
        self.failures: list[str] = []
        self.quick_started = False

    def add(self, kind: str, seconds: float) -> None:
        self.reruns.setdefault(kind, []).append(seconds)


async def until(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; True if it was."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def on_step_page(c: ReplayClient, stop: asyncio.Event, stats: Stats, every: float) -> None:
    """Ask for the next pass every ``every`` seconds (a step-page student at some speed)."""
    while not await until(stop, every * random.uniform(0.8, 1.2)):
        stats.add("next_pass", await c.component_event("step_player", "goto", "+1"))


async def sliding(c: ReplayClient, stop: asyncio.Event, stats: Stats) -> None:
    """Move a sidebar slider every ~10 s: hidden units 7 ↔ 9, then the seed."""
    i = 0
    while not await until(stop, random.uniform(8, 12)):
        i += 1
        if i % 3:
            seconds = await c.set_value("hidden", double_array_value=slider(7 + 2 * (i % 2)))
        else:
            seconds = await c.set_value("seed", int_value=i)
        stats.add("slider", seconds)


def slider(value: float) -> DoubleArray:
    """A one-handle st.slider's widget value."""
    return DoubleArray(data=[value])


async def on_truncation(c: ReplayClient, stop: asyncio.Event, stats: Stats) -> None:
    """The Truncation page: start Quick (the first student), move k and ρ now and then."""
    if not stats.quick_started:
        stats.quick_started = True
        options = c.elements["trunc_experiment"].options
        await c.set_value("trunc_experiment", string_value=options[0])
        await c.click("trunc_run")
    i = 0
    while not await until(stop, random.uniform(6, 10)):
        i += 1
        if i % 2:
            seconds = await c.set_value("trunc_k", double_array_value=slider(1 + i % 10))
            stats.add("truncation_k", seconds)
        else:
            rho = [0.5, 0.9, 1.0, 1.1, 1.5][i // 2 % 5]
            stats.add("truncation_rho", await c.set_value("rho", double_array_value=slider(rho)))


def count_updates(track: list[tuple[float, int]]):
    """An element hook that records the update numbers Train live delivers."""

    def hook(el) -> None:
        kind = el.WhichOneof("type")
        numbers = []
        if kind == "metric" and el.metric.label == "Updates":
            numbers = [int(el.metric.body.replace(",", ""))]
        elif kind == "bidi_component":
            data = json.loads(el.bidi_component.json or "null")
            rows = data.get("rows", []) if isinstance(data, dict) else []
            numbers = [int(row[0]) for row in rows]
        for n in numbers:
            if not track or track[-1][1] != n:
                track.append((time.monotonic(), n))

    return hook


async def student(base: str, role: str, arrive: float, stop: asyncio.Event, stats: Stats) -> None:
    """One replayed student: arrive, open the teacher's link, then play their role."""
    await asyncio.sleep(arrive)
    page = {"trainer": "train", "truncation": "truncation"}.get(role, "")
    c = ReplayClient(base, page, TEACHER, follow_timers=role == "trainer")
    try:
        async with c:
            stats.open.append(await c.rerun(timeout=180))
            if role == "trainer":
                stats.updates.append(track := [])
                c.on_element_hook = count_updates(track)
                await c.click("train_play")
                await stop.wait()
            elif role == "truncation":
                await on_truncation(c, stop, stats)
            elif role == "slider":
                await sliding(c, stop, stats)
            else:
                every = STEPS_PER_PASS / (5.0 if role == "player" else 1.0)
                await on_step_page(c, stop, stats, every)
            stats.exceptions += c.exceptions
    except Exception as exc:  # a student who got stuck is a finding, not a crash
        stats.failures.append(f"{role}: {type(exc).__name__}: {exc}")


def roles_for(n: int) -> list[str]:
    """``n`` roles in the proportions of ROLE_SHARES (27 replayed students: 11, 4, 6, 4, 2)."""
    total = sum(share for _, share in ROLE_SHARES)
    roles = [role for role, share in ROLE_SHARES for _ in range(round(share * n / total))]
    return (roles + ["player"] * n)[:n]


def trainer_rates(stats: Stats, t0: float, t1: float) -> list[float]:
    rates = []
    for track in stats.updates:
        inside = [(t, u) for t, u in track if t0 <= t <= t1]
        rates.append((inside[-1][1] - inside[0][1]) / (t1 - t0) if len(inside) > 1 else 0.0)
    return rates


# ---------------------------------------------------------------------------- Chromium students


PAINT_JS = """() => {
    const p = document.querySelector("[data-testid='stBidiComponentIsolated']")
        .shadowRoot.querySelector('.player');
    window.__paints = [];
    let t0 = null, update = p.dataset.update;
    p.addEventListener('pointerdown', (e) => { t0 = e.timeStamp; }, true);
    new MutationObserver(() => {
        if (t0 === null) return;
        const s = t0, kind = p.dataset.update === update ? 'step' : 'pass';
        t0 = null;
        update = p.dataset.update;
        requestAnimationFrame(() => setTimeout(
            () => window.__paints.push([kind, performance.now() - s])));
    }).observe(p, {attributes: true, attributeFilter: ['data-step', 'data-update']});
}"""


def chromium_students(base: str, n: int, arrive: list[float], stop: threading.Event, out: dict):
    """``n`` Chromium students on the step page, clicking Next ~3 times a second each."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, wait_idle

    out.update(paints=[], pass_paints=[], open=[], exceptions=0, console_errors=[])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pages, t0 = [], time.monotonic()
        for delay in sorted(arrive):
            time.sleep(max(0.0, t0 + delay - time.monotonic()))
            page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
            page.on("console", lambda m: m.type == "error" and out["console_errors"].append(m.text))
            start = time.monotonic()
            page.goto(f"{base}/?{TEACHER}", wait_until="commit")
            page.locator(".player[data-step]").wait_for(timeout=180_000)
            wait_idle(page, timeout_ms=180_000)
            out["open"].append(time.monotonic() - start)
            page.evaluate(PAINT_JS)
            pages.append(page)
        click_until(pages, stop, out)
        out["exceptions"] = sum(p.locator("[data-testid='stException']").count() for p in pages)
        browser.close()


def click_until(pages: list, stop: threading.Event, out: dict) -> None:
    boxes = [p.locator(".player [data-act=next]").bounding_box() for p in pages]
    while not stop.is_set():
        for page, box in zip(pages, boxes, strict=True):
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        time.sleep(max(0.05, 0.33 - 0.02 * len(pages)))
        if random.random() < 0.1:
            collect_paints(pages, out)
    collect_paints(pages, out)


def collect_paints(pages: list, out: dict) -> None:
    """Move the pages' click → paint times (ms) into ``out``: steps, and moves to a new pass."""
    for page in pages:
        for kind, ms in page.evaluate("() => window.__paints.splice(0)"):
            out["paints" if kind == "step" else "pass_paints"].append(ms)


# ---------------------------------------------------------------------------- the class


async def replayed_class(base: str, roles: list[str], arrive: list[float], seconds: float):
    """Run the replayed students: arrival, the mix for ``seconds``; (stats, mix start, end)."""
    stats, stop = Stats(), asyncio.Event()
    tasks = [
        asyncio.create_task(student(base, role, delay, stop, stats))
        for role, delay in zip(roles, arrive, strict=True)
    ]
    await asyncio.sleep(12.0)  # everyone has arrived (10 s) and opened the page
    t0 = time.monotonic()
    stats.reruns.clear()  # the mix only (the arrival is stats.open)
    await asyncio.sleep(seconds)
    t1 = time.monotonic()
    stop.set()
    await asyncio.gather(*tasks)
    return stats, t0, t1


def _chromium_process(base: str, n: int, arrive: list[float], stop, path: str) -> None:
    out: dict = {}
    try:
        chromium_students(base, n, arrive, stop, out)
    except Exception as exc:  # recorded; the replayed class goes on
        out["error"] = f"{type(exc).__name__}: {exc}"
    Path(path).write_text(json.dumps(out))


def chromium_process(base: str, n: int, arrive: list[float]):
    """The Chromium students in a process of their own (the replayed students' event loop
    and Playwright must not wait for each other's share of one Python process)."""
    import multiprocessing

    stop = multiprocessing.Event()
    path = tempfile.mktemp(prefix="bench-class-chromium-", suffix=".json")
    proc = multiprocessing.Process(target=_chromium_process, args=(base, n, arrive, stop, path))
    proc.start()

    def finish() -> dict:
        stop.set()
        proc.join(timeout=180)
        return json.loads(Path(path).read_text()) if Path(path).exists() else {"error": "none"}

    return finish


def class_result(stats: Stats, browsers: dict, sampler: Sampler, t0: float, t1: float) -> dict:
    mix = sampler.between(t0, t1)
    rates = trainer_rates(stats, t0, t1)
    sliders = stats.reruns.get("slider", []) + [
        s for k in ("truncation_k", "truncation_rho") for s in stats.reruns.get(k, [])
    ]
    return {
        "open_page_s": summary(stats.open + browsers.get("open", [])),
        "click_to_paint_ms": summary(browsers.get("paints", [])),
        "click_to_next_pass_painted_ms": summary(browsers.get("pass_paints", [])),
        "rerun_s": {kind: summary(v) for kind, v in sorted(stats.reruns.items())},
        "slider_rerun_s": summary(sliders),
        "trainer_updates_per_s": {
            "each": [round(r, 1) for r in rates],
            "min": round(min(rates), 1) if rates else None,
        },
        "cpu_share_of_one_core": summary([s["cpu"] for s in mix]),
        "server_waiting_for_a_cpu_share": summary([s["waiting_for_cpu"] for s in mix]),
        "benchmark_client_cpu_share": summary([s["client_cpu"] for s in mix]),
        "load_average": summary([s["load"] for s in mix]),
        "rss_mib": summary([s["rss"] for s in mix]),
        "timeline": sampler.samples,
        "exception_boxes": len(stats.exceptions) + browsers.get("exceptions", 0),
        "stuck_students": stats.failures,
        "chromium_console_errors": browsers.get("console_errors", [])[:10],
        "chromium_error": browsers.get("error"),
    }


def run_class(recipe: Recipe, students: int, browsers: int, seconds: float) -> dict:
    arrive = [random.uniform(0, 10) for _ in range(students)]
    roles = roles_for(students - browsers)
    with Sampler(recipe.pids) as sampler:
        finish = chromium_process(recipe.url, browsers, arrive[:browsers])
        stats, t0, t1 = asyncio.run(replayed_class(recipe.url, roles, arrive[browsers:], seconds))
        result = class_result(stats, finish(), sampler, t0, t1)
    result["rss_after_everyone_left_mib"] = after_leaving(recipe)
    result["server_tracebacks"] = recipe.tracebacks()
    return result


def after_leaving(recipe: Recipe) -> dict[str, float]:
    """RSS 20 s after everyone left, and once the sessions have expired."""
    out = {}
    for label, wait in (("after_20_s", 20), (f"after_{SESSION_TTL_S + 10}_s", SESSION_TTL_S - 10)):
        time.sleep(wait)
        out[label] = round(sum(rss_kib(p) for p in recipe.pids) / 1024)
    return out


# ---------------------------------------------------------------------------- fairness

WORST = {
    "step_H128_plus_100": ("", {"hidden": "128", "seq": "40", "text": "worst link " * 4}),
    "truncation_at_its_limits": (
        "truncation",
        {"hidden": "128", "text": "".join(chr(0x391 + i % 60) for i in range(81))},
    ),
    "more_experiment": ("truncation", {}),
    "train_live_fastest": ("train", {"hidden": "128", "seq": "200", "text": "a long text. " * 384}),
}


async def worst_student(base: str, what: str, stop: asyncio.Event) -> None:
    page, query = WORST[what]
    c = ReplayClient(base, page, urllib.parse.urlencode(query), follow_timers=True)
    async with c:
        await c.rerun(timeout=300)
        if what == "more_experiment":
            options = c.elements["trunc_experiment"].options
            await c.set_value("trunc_experiment", string_value=options[1])
            await c.click("trunc_run")
        elif what == "train_live_fastest":
            await c.set_value("train_speed", string_value="200 updates/s")
            await c.click("train_play")
        i = 0
        while not await until(stop, 0.2):
            i += 1
            if what == "step_H128_plus_100":
                await c.component_event("step_player", "goto", "+100", timeout=300)
            elif what == "truncation_at_its_limits":  # every ρ a new network: all recomputed
                rho = 3.0 - 0.01 * (i % 200)
                await c.set_value("rho", double_array_value=slider(rho), timeout=300)


async def probe(base: str, stop: asyncio.Event, times: list[float]) -> None:
    """Another student: a sidebar slider (the seed) every 1.5 s on the step page."""
    async with ReplayClient(base, "", TEACHER) as c:
        await c.rerun()
        i = 0
        while not await until(stop, 1.5):
            i += 1
            times.append(await c.set_value("seed", int_value=i % 1000, timeout=300))


async def probe_while(base: str, worst: list[str], seconds: float) -> list[float]:
    stop, times = asyncio.Event(), []
    tasks = [asyncio.create_task(worst_student(base, w, stop)) for w in worst]
    await asyncio.sleep(5 if worst else 0)  # the worst student is under way
    prober = asyncio.create_task(probe(base, stop, times))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(prober, *tasks, return_exceptions=True)
    return times


def run_fairness(recipe: Recipe, seconds: float) -> dict:
    rest = asyncio.run(probe_while(recipe.url, [], seconds))
    out = {"at_rest_s": summary(rest)}
    cases = [[w] for w in WORST] + [list(WORST)]
    for case in cases:
        times = asyncio.run(probe_while(recipe.url, case, seconds))
        name = case[0] if len(case) == 1 else "all_at_once"
        ratio = statistics.median(times) / statistics.median(rest) if times and rest else None
        out[name] = {**summary(times), "ratio_of_medians": round(ratio, 2) if ratio else None}
        time.sleep(3)
    out["server_tracebacks"] = recipe.tracebacks()
    return out


# ---------------------------------------------------------------------------- main


def git_head() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True)
    return out.stdout.decode().strip()


def targets_met(result: dict) -> bool:
    ok = True
    for c in result["classes"]:
        p95 = c["click_to_paint_ms"]["p95"]
        ok &= p95 is not None and p95 <= TARGETS["click_p95_ms"]
        ok &= (c["slider_rerun_s"]["p95"] or 99) <= TARGETS["slider_p95_s"]
        ok &= (c["trainer_updates_per_s"]["min"] or 0) >= TARGETS["trainer_min_per_s"]
        ok &= c["exception_boxes"] == 0 and c["server_tracebacks"] == 0
    for case in (result.get("fairness") or {}).values():
        if isinstance(case, dict) and "ratio_of_medians" in case:
            ok &= (case["ratio_of_medians"] or 99) <= TARGETS["worst"]
    return bool(ok)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30, help="students at once (≤ 60)")
    parser.add_argument("--browsers", type=int, default=3, help="of which real Chromium (≤ 5)")
    parser.add_argument("--seconds", type=float, default=180.0, help="the mix (≤ 600 s)")
    parser.add_argument("--replicas", type=int, nargs="*", default=[1, 2], help="replica counts")
    parser.add_argument("--fairness-seconds", type=float, default=25.0, help="each case")
    parser.add_argument("--no-fairness", action="store_true", help="skip the worst-link cases")
    parser.add_argument("--quick", action="store_true", help="12 students, 40 s, 1 replica")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON file to write")
    parser.add_argument(
        "--app-dir", type=Path, help="serve this checkout (default: a snapshot of HEAD)"
    )
    args = parser.parse_args()
    if args.quick:
        args.students, args.seconds, args.replicas, args.fairness_seconds = 12, 40.0, [1], 15.0
    args.students, args.browsers = min(args.students, 60), min(args.browsers, 5, args.students)
    args.seconds = min(args.seconds, 600.0)
    return args


def main() -> None:
    args = parse_args()
    students, browsers, seconds = args.students, args.browsers, args.seconds
    result: dict = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores",
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
        "students": students,
        "chromium_students": browsers,
        "roles_of_replayed": roles_for(students - browsers),
        "mix_seconds": seconds,
        "targets": TARGETS,
        "classes": [],
    }
    app_dir = args.app_dir or snapshot()
    result["app_dir"] = str(app_dir) if args.app_dir else f"HEAD {git_head()} (snapshot)"
    for n in args.replicas:
        with Recipe(n, app_dir) as recipe:
            one = {"replicas": n, **run_class(recipe, students, browsers, seconds)}
            result["classes"].append(one)
            print(json.dumps({k: v for k, v in one.items() if k != "timeline"}), flush=True)
            if n == 1 and not args.no_fairness:
                result["fairness"] = run_fairness(recipe, args.fairness_seconds)
                print(json.dumps({"fairness": result["fairness"]}), flush=True)
    result["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    result["targets_met"] = targets_met(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "classes"}, indent=2))
    if not result["targets_met"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
