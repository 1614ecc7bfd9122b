"""The Truncation page's learning experiments, run in the background for every session.

The recall task and "hello" with k = 1 take seconds, so they run on one background thread shared
by all sessions: the process's one ``JobBoard`` (``learning_board()``). A job is keyed by its
``LearningSpec``, so a finished result is reused by every session that asks for the same
experiment; at most ``MAX_RESULTS`` results are kept, at most ``MAX_IN_FLIGHT`` jobs are queued
or running at once (all sessions together) and at most ``MAX_PER_SESSION`` of them for one
session. Beyond either bound ``start_experiment`` returns None and the page says the server is
busy.

The board is a module-level object, not an ``st.cache_resource``: clearing Streamlit's caches
(a client's ``clear_cache`` message, ``st.cache_resource.clear()``) cannot drop it, lose the jobs
in flight or start a second executor. Its threads are capped at ``MAX_EXPERIMENT_THREADS`` for
the whole process and carry the native name ``bptt-learning`` (``/proc/<pid>/task/*/comm``), so
the cap can be checked from outside the process.
"""

from __future__ import annotations

import ctypes
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


MAX_EXPERIMENT_THREADS = 1  # experiment threads in the whole process
MAX_IN_FLIGHT = 4  # jobs queued or running, all sessions together
MAX_PER_SESSION = 2  # jobs in flight that one session asked for
MAX_RESULTS = 8  # finished results kept (the oldest are forgotten first)
THREAD_NAME = "bptt-learning"  # Python and native (Linux) name of the worker threads
_PR_SET_NAME = 15  # prctl option: name the calling thread (at most 15 bytes)


def _name_native_thread() -> None:
    """Give the calling worker thread the native name THREAD_NAME (Linux; else nothing)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, THREAD_NAME.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the Python thread name is enough
        pass


class JobBoard:
    """A bounded background runner: ``max_workers`` threads, jobs keyed by their LearningSpec."""

    def __init__(
        self,
        max_workers: int = MAX_EXPERIMENT_THREADS,
        max_results: int = MAX_RESULTS,
        max_waiting: int = MAX_IN_FLIGHT,
    ) -> None:
        self.executor = ThreadPoolExecutor(
            max_workers, thread_name_prefix=THREAD_NAME, initializer=_name_native_thread
        )
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


_BOARD = JobBoard()  # the process's only board: created at import, never cleared


def learning_board() -> JobBoard:
    """The one JobBoard of this server process (shared by every session)."""
    return _BOARD


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


def session_in_flight(board: JobBoard) -> int:
    """How many experiments this session asked for are still queued or running."""
    return sum(1 for spec in requested_experiments() if (job := board.get(spec)) and job.in_flight)


def start_experiment(board: JobBoard, spec: LearningSpec) -> Job | None:
    """Submit ``spec`` (or join its job) for this session; None if the server is busy: too many
    jobs in flight on the server, or MAX_PER_SESSION of this session's own."""
    joined = board.get(spec)
    if not (joined and joined.in_flight) and session_in_flight(board) >= MAX_PER_SESSION:
        return None
    job = board.submit(spec)
    if job is not None and spec not in requested_experiments():
        requested_experiments().append(spec)
    return job
