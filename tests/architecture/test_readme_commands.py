"""The README's two commands stay true: the first serves the launcher that exists, the second is
exactly what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", readme, re.S)
    assert block, "README.md has no ```bash block under '## Two commands'"
    lines = [ln.strip() for ln in block.group(1).splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def test_the_readme_has_exactly_two_commands():
    assert len(_commands()) == 2, _commands()


def test_the_first_command_installs_the_app_and_serves_a_script_that_exists():
    first = _commands()[0]
    assert "pip install -e ." in first, first
    served = re.search(r"streamlit run (\S+)", first)
    assert served, f"the first command starts no app: {first}"
    assert (ROOT / served.group(1)).is_file(), f"{served.group(1)} does not exist"
    assert "[test]" not in first, "the app's command must not need the test tools"


def test_ci_runs_exactly_the_second_command():
    second = _commands()[1]
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert run[-1].strip() == second, f".ci/run ends with {run[-1]!r}, README says {second!r}"
    assert any("apt-get install -y chromium" in ln for ln in run), ".ci/run installs no chromium"
