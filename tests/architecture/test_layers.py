"""The three layers import one way: pages → bptt_app (Streamlit glue) → bptt_viz (presentation,
no Streamlit) → bptt_core (the engine: NumPy only)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules_after_import(package: str) -> set[str]:
    """Top-level module names in sys.modules after importing every module of ``package`` in a
    fresh interpreter."""
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_the_engine_imports_no_plotly_streamlit_or_pandas():
    loaded = _modules_after_import("bptt_core")
    assert not {"plotly", "streamlit", "pandas"} & loaded, (
        f"importing bptt_core loaded {sorted({'plotly', 'streamlit', 'pandas'} & loaded)}"
    )


def test_the_presentation_layer_imports_no_streamlit():
    loaded = _modules_after_import("bptt_viz")
    assert "streamlit" not in loaded, "importing bptt_viz loaded streamlit"
    assert "bptt_app" not in loaded, "bptt_viz must not import the Streamlit glue"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


FORBIDDEN = {
    "bptt_core": {"bptt_viz", "bptt_app", "streamlit", "plotly", "pandas"},
    "bptt_viz": {"bptt_app", "streamlit"},
    "bptt_app": set(),
    "pages": {"bptt_core"},  # pages ask the glue; they never call the engine themselves
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_run_one_way(layer: str):
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        wrong = _imports(path) & FORBIDDEN[layer]
        if layer == "bptt_core" and path.name in ("trainer.py", "history.py"):
            wrong -= {"pandas"}  # imported lazily, only to build the history table
        if wrong:
            bad.append(f"{path.relative_to(ROOT)} imports {sorted(wrong)}")
    assert not bad, "\n".join(bad)


def test_the_top_level_is_the_promised_layout():
    for name in ("pyproject.toml", "README.md", "app.py", "bptt_core", "pages", "tests"):
        assert (ROOT / name).exists(), f"{name} is missing from the top level"
    assert not (ROOT / "views").exists(), "the pages live in pages/, not views/"
    assert not (ROOT / "bptt_core" / "figures").exists(), "figures belong to bptt_viz"


def test_functions_read_at_a_glance():
    """No function of the app's code runs past 80 lines (the engine's stay within 40)."""
    long = []
    for layer, limit in (("bptt_core", 40), ("bptt_viz", 80), ("bptt_app", 80), ("pages", 80)):
        for path in sorted((ROOT / layer).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > limit:
                        long.append(f"{path.relative_to(ROOT)}:{node.name} ({lines} > {limit})")
    assert not long, "\n".join(long)
