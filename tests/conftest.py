"""Shared test fixtures.

``app_test`` builds a ``streamlit.testing.v1.AppTest`` of ``app.py``, which follows
``st.navigation`` like the real server does::

    def test_step_page(app_test):
        at = app_test("pages/step.py", query={"hidden": "8"})
        assert_no_exception(at)
        assert at.sidebar.slider(key="hidden").value == 8

AppTest resets Streamlit's legacy pages-folder mode before every run and re-detects the
``pages/`` folder, so ``at.switch_page("pages/x.py")`` would run the page file alone. The
fixture keeps AppTest in ``st.navigation`` mode (as the real server is once app.py has run), so
a switched page runs inside app.py with the shared sidebar. The fresh server's first request
is checked in the browser (``tests/browser/test_direct_links.py``).

The app directory is the repository root, or ``$BPTT_APP_DIR`` when set (handy for trying the
fixtures on another app).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit import config as streamlit_config
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

REPO_ROOT = Path(__file__).resolve().parent.parent


def app_dir() -> Path:
    """Directory holding ``app.py``: ``$BPTT_APP_DIR`` if set, else the repository root."""
    return Path(os.environ.get("BPTT_APP_DIR") or REPO_ROOT).resolve()


def assert_no_exception(at: AppTest) -> None:
    """Fail with every exception message the last run of ``at`` displayed."""
    if len(at.exception):
        messages = "\n\n".join(
            f"{e.value}\n" + "\n".join(e.stack_trace or []) for e in at.exception
        )
        pytest.fail(f"the app showed {len(at.exception)} exception(s):\n{messages}")


AppTestFactory = Callable[..., AppTest]


@pytest.fixture(autouse=True)
def navigation_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every AppTest follow ``st.navigation`` (see the module docstring)."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def app_test() -> AppTestFactory:
    """Factory ``make(page=None, query=None, timeout=30) -> AppTest`` (already run).

    ``page`` is a path relative to ``app.py`` (``"pages/step.py"``): the app is run once, then
    switched to that page and run again, as a user clicking the navigation would. ``query``
    maps URL query parameters to values (a ``str``, or a ``list[str]`` for a repeated key, as
    ``?k=1&k=2``); widgets with ``bind="query-params"`` are seeded from it on the first run.
    ``timeout`` is in seconds per run and also becomes the instance's default for later
    ``at.run()`` calls.
    """

    def make(
        page: str | None = None, query: dict[str, object] | None = None, timeout: float = 30
    ) -> AppTest:
        # .streamlit/config.toml gives students no error details; a failing test wants them
        streamlit_config.set_option("client.showErrorDetails", "full")
        at = AppTest.from_file(app_dir() / "app.py", default_timeout=timeout)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if page is not None:
            at.switch_page(page)
            at.run()
        return at

    return make
