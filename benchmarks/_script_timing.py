"""AppTest for the page benchmarks: follow ``st.navigation`` and time every script run.

``follow_navigation()`` once per process; or ``instrument()``, which also appends the wall
time in ms of every script run AppTest makes (fragments included) to ``SCRIPT_TIMES`` (clear it
before the run you measure).
"""

from __future__ import annotations

import time

from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner

SCRIPT_TIMES: list[float] = []


def follow_navigation() -> None:
    """Make AppTest follow st.navigation like the server (see tests/conftest.py)."""
    original_init = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]


def instrument() -> None:
    """Follow st.navigation in AppTest and time every script run."""
    follow_navigation()
    original_run = script_runner.ScriptRunner._run_script

    def timed(self: object, *args: object, **kwargs: object) -> object:
        t0 = time.perf_counter()
        try:
            return original_run(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            SCRIPT_TIMES.append((time.perf_counter() - t0) * 1000)

    script_runner.ScriptRunner._run_script = timed  # type: ignore[method-assign]
