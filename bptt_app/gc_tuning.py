"""Cheaper script runs: keep the objects that exist after the app's imports out of the garbage
collector's full passes.

Streamlit runs ``gc.collect(2)`` after every script run, fragment runs included (the config
option ``runner.postScriptGC``, on by default). A full pass visits every tracked object of the
process: with NumPy, pandas, Plotly and Streamlit imported that is over 100,000 objects and,
measured on this machine, about 50 ms of a core per run — 70 % of what a student playing
Train live costs the server. ``gc.freeze()`` moves the objects alive now into a permanent
generation that later passes skip; objects made afterwards (the sessions' state) are collected
as before, and reference counting frees everything as usual. Measured with 15 students training
live (``benchmarks/bench_train.py --class 15``): 82 % of a core and stalled runs before, 30 %
and 20 updates/s each after. Called once per process, after the imports (the first import of a
page that calls it).
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_startup_objects() -> bool:
    """``gc.freeze()`` once per process; True if this call did it."""
    global _frozen
    if _frozen:
        return False
    gc.collect()  # free what is already garbage before it is frozen for good
    gc.freeze()
    _frozen = True
    return True
