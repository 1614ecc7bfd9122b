"""Run a coroutine to completion from a synchronous test, whatever else the thread is running.

Playwright's sync API (the browser tests' session-wide Chromium) leaves its event loop marked as
running in the main thread for the rest of the session, so ``asyncio.run`` there raises
"cannot be called from a running event loop" once any browser test has run. ``run`` gives the
coroutine a fresh loop in a thread of its own and hands back its result or its exception.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` in a new thread; returns its value or re-raises its exception."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="test-asyncio-run")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
