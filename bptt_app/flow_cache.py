"""The Truncation page's engine calls (cached) and the background runner of its experiments.

Everything the page draws except the truncation band depends on the network alone (the sidebar's
``ModelSpec`` with W_hh rescaled to the page's spectral radius), never on the truncation k: the
gradient-flow map, the Jacobian norms and the comparison of the truncated with the full gradient
for *every* k are computed once per network and cached, so moving k only redraws.

The learning experiments (recall task, "hello" with k = 1) take seconds, so they run in one
background thread shared by all sessions (``JobBoard``, kept by ``st.cache_resource``): a job is
keyed by its parameters, so a finished result is reused by every session that asks for the same
experiment, at most ``MAX_RESULTS`` results are kept and at most ``MAX_WAITING`` jobs queue.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from bptt_app.compute import CACHE_ENTRIES, CACHE_TTL, ModelSpec
from bptt_app.settings import FLOW_MAX_T
from bptt_core.clipping import ClippingDemo, clipping_demo
from bptt_core.corpus import Corpus
from bptt_core.flow import (
    TruncationComparison,
    gradient_bound,
    gradient_flow,
    jacobian_norms,
    norms_by_distance,
    sigma_max,
    truncation_comparison,
)
from bptt_core.model import (
    ForwardTrace,
    Params,
    RNNConfig,
    forward_unchecked,
    rescale_spectral_radius,
    spectral_radius,
)
from bptt_core.truncation_cost import (
    RecallGrid,
    RecallGridResult,
    TruncationCurves,
    run_recall_grid,
    truncation_curves,
)

# ‖∂h(t)/∂h(τ)‖ needs one SVD of an H × H matrix per pair τ ≤ t: about T²/2 · H³ work. Beyond
# this budget the Jacobian plot covers a prefix of the text (T = 80 with H = 32 fits).
JACOBIAN_WORK = 1.1e8


def flow_text(text: str) -> tuple[str, bool]:
    """The part of ``text`` the T × T analyses use (at most FLOW_MAX_T timesteps), and whether
    it was cut."""
    if len(text) > FLOW_MAX_T + 1:
        return text[: FLOW_MAX_T + 1], True
    return text, False


def jacobian_steps(T: int, H: int) -> int:
    """How many timesteps the Jacobian-norm analysis covers: the largest T_j ≤ T with
    T_j (T_j + 1)/2 · H³ ≤ JACOBIAN_WORK (at least 2)."""
    if T * (T + 1) / 2 * H**3 <= JACOBIAN_WORK:
        return T
    pairs = JACOBIAN_WORK / H**3
    return max(2, min(T, int((np.sqrt(1 + 8 * pairs) - 1) / 2)))


# --------------------------------------------------------------------------- the network


@dataclass(frozen=True, eq=False)
class FlowAnalysis:
    """The page's network (W_hh rescaled) and everything about it that does not depend on k."""

    corpus: Corpus
    config: RNNConfig
    params: Params  # the sidebar's initial network with W_hh rescaled to ``radius``
    initial_radius: float  # ρ(W_hh) as the sidebar initialised it
    radius: float  # ρ(W_hh) on this page
    sigma: float  # σ_max(W_hh) after rescaling
    gamma: float  # γ = max |f'| of the activation
    trace: ForwardTrace  # forward pass from h(0) = 0
    flow: np.ndarray  # (T, T) ‖∂L(t)/∂a(τ)‖ (copy time τ)
    comparison: TruncationComparison  # truncated against full gradient, k = 1..T

    @property
    def T(self) -> int:
        return self.trace.T

    @property
    def finite(self) -> bool:
        """False if the forward pass overflowed (loss or hidden states not finite)."""
        return bool(np.isfinite(self.trace.loss) and np.isfinite(self.trace.h).all())


def page_params(spec: ModelSpec, radius: float) -> tuple[Corpus, RNNConfig, Params, float]:
    """Corpus, config, initial parameters with W_hh rescaled to ``radius``, and ρ before."""
    corpus = Corpus(spec.text)
    config = spec.config(corpus.V)
    params = spec.params(config)
    rho0 = spectral_radius(params.W_hh)
    W_hh = rescale_spectral_radius(params.W_hh, radius)
    return (
        corpus,
        config,
        Params(params.W_xh, W_hh, params.W_hy, params.b_h, params.b_y),
        rho0,
    )


def flow_analysis(spec: ModelSpec, radius: float) -> FlowAnalysis:
    """Forward pass, gradient-flow map and truncation comparison of the page's network."""
    corpus, config, params, rho0 = page_params(spec, radius)
    with np.errstate(all="ignore"):
        trace = forward_unchecked(
            params, config, corpus.inputs, corpus.targets, np.zeros(config.hidden_size)
        )
        flow = gradient_flow(params, config, trace)
        comparison = truncation_comparison(params, config, trace)
    return FlowAnalysis(
        corpus=corpus,
        config=config,
        params=params,
        initial_radius=rho0,
        radius=float(radius),
        sigma=sigma_max(params.W_hh),
        gamma=config.gamma,
        trace=trace,
        flow=flow,
        comparison=comparison,
    )


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_flow_analysis(spec: ModelSpec, radius: float) -> FlowAnalysis:
    return flow_analysis(spec, radius)


@dataclass(frozen=True, eq=False)
class JacobianAnalysis:
    """‖∂h(t)/∂h(τ)‖ for every pair τ ≤ t of the first ``steps`` timesteps, and the bound."""

    steps: int  # T_j: timesteps covered (≤ T)
    t: np.ndarray  # (P,) 1-based t of each pair
    s: np.ndarray  # (P,) 1-based τ of each pair
    values: np.ndarray  # (P,) ‖∂h(t)/∂h(τ)‖₂
    bound: np.ndarray  # (T_j,) (γ·σ_max(W_hh))^d, d = 0..T_j−1


def jacobian_analysis(spec: ModelSpec, radius: float, steps: int) -> JacobianAnalysis:
    """Jacobian norms of the page's network over its first ``steps`` timesteps."""
    corpus, config, params, _ = page_params(spec, radius)
    x, d = corpus.inputs[:steps], corpus.targets[:steps]
    with np.errstate(all="ignore"):
        trace = forward_unchecked(params, config, x, d, np.zeros(config.hidden_size))
        norms = jacobian_norms(params, config, trace)
    distance, values = norms_by_distance(norms)
    t, s = np.tril_indices(trace.T)  # the pairs, in the order norms_by_distance uses
    if not np.array_equal(t - s, distance):  # pragma: no cover - guards the engine's ordering
        raise RuntimeError("norms_by_distance changed its order of the pairs (t, τ).")
    return JacobianAnalysis(
        steps=trace.T,
        t=t + 1,
        s=s + 1,
        values=values,
        bound=gradient_bound(config, params, trace.T - 1),
    )


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_jacobian_analysis(spec: ModelSpec, radius: float, steps: int) -> JacobianAnalysis:
    return jacobian_analysis(spec, radius, steps)


def clipping_analysis(spec: ModelSpec, radius: float, threshold: float) -> ClippingDemo | str:
    """Norm against value clipping of the page's gradient, or why it cannot be shown."""
    corpus, config, params, _ = page_params(spec, radius)
    try:
        return clipping_demo(params, config, corpus.inputs, corpus.targets, radius, threshold)
    except ValueError as exc:
        return str(exc)


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL, show_spinner=False)
def cached_clipping_analysis(
    spec: ModelSpec, radius: float, threshold: float
) -> ClippingDemo | str:
    return clipping_analysis(spec, radius, threshold)


# --------------------------------------------------------------------------- learning experiments


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
