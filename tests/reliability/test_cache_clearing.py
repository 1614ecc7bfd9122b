"""No client message may drop the experiment runner or multiply its threads (issue 15).

Any client can send Streamlit's ``clear_cache`` websocket message (``BackMsg.clear_cache``,
bytes ``[40, 1]``; e.g. from the browser console). Streamlit 1.67 answers it, in
``AppSession._handle_clear_cache_request``, by clearing every ``st.cache_data`` and
``st.cache_resource`` of the process. When the Truncation page's experiment runner lived in an
``st.cache_resource``, every clear made a new runner with a thread of its own (20 rounds: 20
experiment threads, a core busy for minutes, every session's experiment lost).

Decided: no student may clear the server's caches. The launcher (``serve.py``) drops the message
(``bptt_app.server.IgnoreClearCache``); and the runner is a module-level object with one worker
thread for the whole process, so even ``streamlit run app.py`` (which honours the message) keeps
its runner, its jobs and its thread cap. Worker threads are named ``bptt-learning`` natively, so
the tests count them in ``/proc/<pid>/task/*/comm``.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import pytest
import streamlit as st

from bptt_app import experiments
from bptt_app.experiments import (
    MAX_EXPERIMENT_THREADS,
    MAX_PER_SESSION,
    THREAD_NAME,
    JobBoard,
    LearningSpec,
    learning_board,
    start_experiment,
)
from bptt_app.server import is_clear_cache
from bptt_core.truncation_cost import RecallGrid
from tests.browser.conftest import serve_app
from tests.reliability import _aio as aio
from tests.reliability._replay import ReplayClient
from tests.reliability._support import pid_listening_on

CLEAR_CACHE = bytes([40, 1])
PROGRESS_RE = re.compile(r"([\d,]+) of ([\d,]+) updates")


# --------------------------------------------------------------------------- in process


def test_clear_cache_frame_is_recognised_and_nothing_else():
    from streamlit.proto.BackMsg_pb2 import BackMsg

    assert is_clear_cache(CLEAR_CACHE)
    padded = CLEAR_CACHE + bytes([0xA2, 0x06, 0xF4, 0x03]) + b"x" * 500  # + unknown field 100
    assert is_clear_cache(padded), "a clear_cache padded with an unknown field is still one"
    rerun = BackMsg()
    rerun.rerun_script.query_string = "text=hello"
    for frame in (rerun.SerializeToString(), b"", b"\xff\xff\xff", BackMsg().SerializeToString()):
        assert not is_clear_cache(frame), frame


def test_clearing_streamlit_caches_keeps_the_one_runner():
    board = learning_board()
    st.cache_resource.clear()
    st.cache_data.clear()
    assert learning_board() is board, "clearing Streamlit's caches made a new runner"
    assert board.executor._max_workers == MAX_EXPERIMENT_THREADS == 1


def tiny_spec(seed: int) -> LearningSpec:
    grid = RecallGrid(n_fillers=(1,), truncations=(None,), seeds=(seed,), updates=1, hidden_size=2)
    return LearningSpec(grid, hello_truncations=(None,), hello_seeds=(0,), hello_updates=1)


def test_board_bounds_jobs_in_total_and_per_session(monkeypatch: pytest.MonkeyPatch):
    release = threading.Event()
    monkeypatch.setattr(experiments, "run_learning", lambda spec, progress: release.wait(30))
    board = JobBoard(max_workers=1, max_results=8, max_waiting=3)
    session: list[LearningSpec] = []
    monkeypatch.setattr(experiments, "requested_experiments", lambda: session)
    try:
        first = [start_experiment(board, tiny_spec(s)) for s in range(MAX_PER_SESSION)]
        assert all(first), "the session's first experiments must start"
        assert start_experiment(board, tiny_spec(99)) is None, "a third one per session is busy"
        assert start_experiment(board, tiny_spec(0)) is first[0], "joining its own job is free"
        session.clear()  # another session: the server holds 3 jobs in flight at most
        assert board.submit(tiny_spec(50)) is not None
        assert board.submit(tiny_spec(51)) is None, "the total bound must hold"
    finally:
        release.set()
        board.executor.shutdown(wait=True)
    assert threading.active_count() < 100


# --------------------------------------------------------------------------- served


def experiment_threads(pid: int) -> int:
    """Threads of process ``pid`` whose native name is THREAD_NAME."""
    count = 0
    for comm in Path(f"/proc/{pid}/task").glob("*/comm"):
        try:
            count += comm.read_text().strip() == THREAD_NAME[:15]
        except OSError:
            continue
    return count


async def start_on_truncation_page(base: str, choice: int, progress: list[int]) -> ReplayClient:
    """A student on the Truncation page who starts experiment ``choice`` (0 quick, 1 more)."""
    client = ReplayClient(base, "truncation", "hidden=8", follow_timers=True)

    def record(el) -> None:
        if el.WhichOneof("type") == "progress" and (m := PROGRESS_RE.search(el.progress.text)):
            progress.append(int(m.group(1).replace(",", "")))
        elif el.WhichOneof("type") == "progress" and el.progress.value == 100:
            progress.append(-1)  # done

    client.on_element_hook = record
    await client.__aenter__()
    await client.rerun()
    options = client.elements["trunc_experiment"].options
    await client.set_value("trunc_experiment", string_value=options[choice])
    await client.click("trunc_run")
    return client


async def clear_while_experiments_run(base: str, pid: int) -> dict[str, object]:
    quick: list[int] = []
    more: list[int] = []
    students = [
        await start_on_truncation_page(base, 1, more),
        await start_on_truncation_page(base, 0, quick),
    ]
    attacker = ReplayClient(base, "step")
    await attacker.__aenter__()
    await attacker.rerun()
    most = 0
    t_end = time.monotonic() + 12
    while time.monotonic() < t_end:  # 12 s of clear_cache, 8 a second
        await attacker.send_raw(CLEAR_CACHE)
        await asyncio.sleep(0.125)
        most = max(most, experiment_threads(pid))
    t_end = time.monotonic() + 180
    while -1 not in quick and time.monotonic() < t_end:  # the quick one still finishes
        await asyncio.sleep(0.5)
        most = max(most, experiment_threads(pid))
    for client in (*students, attacker):
        await client.close()
    exceptions = [e for c in (*students, attacker) for e in c.exceptions]
    return {"most": most, "quick": quick, "more": more, "exceptions": exceptions}


def check_run(result: dict, label: str) -> None:
    assert result["exceptions"] == [], f"{label}: exception boxes {result['exceptions']}"
    assert 1 <= result["most"] <= MAX_EXPERIMENT_THREADS, (
        f"{label}: {result['most']} experiment threads at once (cap {MAX_EXPERIMENT_THREADS})"
    )
    quick = [p for p in result["quick"] if p >= 0]
    assert -1 in result["quick"], f"{label}: the quick experiment never finished ({quick[-3:]})"
    more = [p for p in result["more"] if p >= 0]
    assert more == sorted(more), f"{label}: an experiment went back to the start: {more}"


@pytest.mark.slow
def test_served_app_ignores_clear_cache_and_keeps_one_experiment_thread():
    with serve_app() as url:
        pid = pid_listening_on(int(url.rsplit(":", 1)[1]))
        result = aio.run(clear_while_experiments_run(url, pid))
        log = url.output()
    check_run(result, "serve.py")
    assert "Ignored a client's clear_cache request" in log
    assert log.count("Ignored a client's clear_cache request") == 1, "logged once per connection"


@pytest.mark.slow
def test_plain_streamlit_run_clears_caches_but_not_the_runner():
    """``streamlit run app.py`` (development: no launcher) honours clear_cache; the runner,
    its job in flight and its one thread survive every clear."""
    with serve_app(script="app.py") as url:
        pid = pid_listening_on(int(url.rsplit(":", 1)[1]))
        result = aio.run(clear_while_experiments_run(url, pid))
        log = url.output()
    check_run(result, "app.py")
    assert "Ignored a client's clear_cache" not in log
