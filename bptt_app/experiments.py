"""The Truncation page's learning experiments, run in the background for every session.

The recall task and "hello" with k = 1 take seconds, so they run in one background thread shared
by all sessions (``JobBoard``, kept by ``st.cache_resource``): a job is keyed by its
``LearningSpec``, so a finished result is reused by every session that asks for the same
experiment, at most ``max_results`` results are kept and at most ``max_waiting`` jobs queue.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import streamlit as st

from bptt_core.truncation_cost import (
    RecallGrid,
    RecallGridResult,
    TruncationCurves,
    run_recall_grid,
    truncation_curves,
)


@dataclass(frozen=True)
class LearningSpec:
    """One learning experiment: the recall grid and the "hello" comparison (k = 1 vs full)."""

    grid: RecallGrid
    hello_text: str = "hello"
    hello_truncations: tuple[int | None, ...] = (1, None)
    hello_seeds: tuple[int, ...] = (0, 1, 2)
    hello_updates: int = 100

    @property
    def total(self) -> int:
        """Updates in all (the unit of progress)."""
        hello = len(self.hello_truncations) * len(self.hello_seeds) * self.hello_updates
        return self.grid.total_updates + hello


QUICK = LearningSpec(RecallGrid())
MORE = LearningSpec(
    RecallGrid(
        n_fillers=(4, 10),
        truncations=(1, 2, 3, 5, 8, 11, None),
        modes=("window", "chunked"),
    )
)
EXPERIMENTS: dict[str, LearningSpec] = {"quick": QUICK, "more": MORE}


@dataclass(frozen=True, eq=False)
class LearningResult:
    spec: LearningSpec
    recall: RecallGridResult
    hello: TruncationCurves
    seconds: float  # wall time of the whole experiment


def run_learning(spec: LearningSpec, progress=None) -> LearningResult:
    """Run the experiment (blocking). ``progress(n)`` is called with every n updates done."""
    t0 = time.perf_counter()
    recall = run_recall_grid(spec.grid, progress)
    hello = truncation_curves(
        spec.hello_text,
        spec.hello_truncations,
        spec.hello_seeds,
        spec.hello_updates,
        progress,
    )
    return LearningResult(spec, recall, hello, time.perf_counter() - t0)


@dataclass(eq=False)
class Job:
    """One experiment on the board. ``done`` grows while it runs (read without a lock: an int)."""

    spec: LearningSpec
    total: int
    done: int = 0
    state: str = "queued"  # queued | running | done | failed
    result: LearningResult | None = None
    error: str = ""
    submitted: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def in_flight(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def fraction(self) -> float:
        return 1.0 if self.state == "done" else min(1.0, self.done / max(1, self.total))

    def add(self, n: int) -> None:
        self.done += n
        time.sleep(0)  # hand the GIL over: the server's threads must not wait for the job


class JobBoard:
    """A bounded background runner: one worker thread, jobs keyed by their LearningSpec."""

    def __init__(self, max_workers: int = 1, max_results: int = 8, max_waiting: int = 4) -> None:
        self.executor = ThreadPoolExecutor(max_workers, thread_name_prefix="bptt-learning")
        self.max_results = max_results
        self.max_waiting = max_waiting
        self._lock = threading.Lock()
        self._jobs: OrderedDict[LearningSpec, Job] = OrderedDict()

    def get(self, spec: LearningSpec) -> Job | None:
        with self._lock:
            return self._jobs.get(spec)

    def waiting_ahead(self, job: Job) -> int:
        """Jobs submitted before ``job`` that have not finished yet."""
        with self._lock:
            return sum(
                1 for j in self._jobs.values() if j.in_flight and j.submitted < job.submitted
            )

    def submit(self, spec: LearningSpec) -> Job | None:
        """The job for ``spec``: the existing one (running or finished), else a new one.

        Returns None if too many jobs are waiting already (the server is busy).
        """
        with self._lock:
            job = self._jobs.get(spec)
            if job is not None and job.state != "failed":
                self._jobs.move_to_end(spec)
                return job
            if sum(1 for j in self._jobs.values() if j.in_flight) >= self.max_waiting:
                return None
            job = Job(spec=spec, total=spec.total)
            self._jobs[spec] = job
            self._evict()
        self.executor.submit(self._run, job)
        return job

    def _evict(self) -> None:
        """Forget the oldest finished jobs beyond max_results (call with the lock held)."""
        finished = [s for s, j in self._jobs.items() if not j.in_flight]
        for spec in finished[: max(0, len(finished) - self.max_results)]:
            del self._jobs[spec]

    def _run(self, job: Job) -> None:
        job.state = "running"
        try:
            result = run_learning(job.spec, job.add)
        except Exception as exc:  # shown on the page; the worker thread must survive
            job.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
            job.state = "failed"
        else:
            job.result = result
            job.state = "done"
        job.finished = time.monotonic()
        with self._lock:
            self._evict()


@st.cache_resource(show_spinner=False)
def learning_board() -> JobBoard:
    """The one JobBoard of this server process (shared by every session)."""
    return JobBoard()


# --------------------------------------------------------------------------- this session's requests

REQUESTED_KEY = "trunc_requested"  # session: the experiments this session asked for


def requested_experiments() -> list[LearningSpec]:
    """The experiments this session started (their results are shown when chosen again)."""
    return st.session_state.setdefault(REQUESTED_KEY, [])


def session_job(board: JobBoard, spec: LearningSpec) -> Job | None:
    """The board's job for ``spec`` if this session asked for it, else None."""
    return board.get(spec) if spec in requested_experiments() else None


def session_waiting(board: JobBoard) -> bool:
    """Whether an experiment this session asked for is still queued or running."""
    return any(
        (job := board.get(spec)) is not None and job.in_flight for spec in requested_experiments()
    )


def start_experiment(board: JobBoard, spec: LearningSpec) -> Job | None:
    """Submit ``spec`` (or join its job) for this session; None if the server is busy."""
    job = board.submit(spec)
    if job is not None and spec not in requested_experiments():
        requested_experiments().append(spec)
    return job
