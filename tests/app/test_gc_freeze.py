"""The startup objects are frozen once per process, so Streamlit's gc after every run stays cheap.

Streamlit runs ``gc.collect(2)`` after every script and fragment run. Without ``gc.freeze()`` of
the objects the imports made, that pass visits over 100,000 objects per run; in the class
benchmark (``benchmarks/bench_class.py --quick``) losing the call took the server from 0.24 to
0.61 of a core and doubled the slider reruns.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from bptt_app import gc_tuning
from bptt_app.navigation import PAGE_SPECS
from tests.conftest import REPO_ROOT, AppTestFactory, assert_no_exception


@pytest.mark.parametrize("spec", PAGE_SPECS, ids=lambda spec: spec.url_path)
def test_every_page_run_reaches_the_freeze(
    spec, app_test: AppTestFactory, monkeypatch: pytest.MonkeyPatch
):
    calls: list[str] = []
    monkeypatch.setattr(gc_tuning, "freeze_startup_objects", lambda: calls.append("x") or True)
    at = app_test(spec.path)
    assert_no_exception(at)
    assert calls, (
        f"a run of {spec.path} never called freeze_startup_objects: Streamlit's full gc after "
        "every run would visit every imported object"
    )


def test_freeze_happens_once_per_process():
    code = (
        "import gc\n"
        "from bptt_app.gc_tuning import freeze_startup_objects as f\n"
        "first, second = f(), f()\n"
        "print(first, second, gc.get_freeze_count() > 1000)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "False", "True"], f"first call, second call, objects frozen: {out}"
