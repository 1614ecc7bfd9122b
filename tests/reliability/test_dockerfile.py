"""The Dockerfile, checked without Docker (no engine runs on the test machine).

Static: the instructions the deployment needs are there (``python:3.11-slim``, ``pip install .``,
``OPENBLAS_NUM_THREADS=1``, a non-root ``USER`` before ``CMD``, ``EXPOSE 8501``, a
``HEALTHCHECK`` on ``/_stcore/health``, ``streamlit run serve.py --server.address=0.0.0.0``, the
script ``deploy/run_replicas.py`` runs), every ``COPY`` source exists, and the build context that
``.dockerignore`` leaves holds everything the app needs (``serve.py``, ``app.py``, every page
``app.py`` names, both packages, ``.streamlit/config.toml``) and nothing it should not (tests,
git, virtualenvs, secrets).

Dynamic, as far as it goes without an image: the build context is copied to a temporary
directory, the app is served from that copy, and the ``HEALTHCHECK`` command itself (taken from
the Dockerfile) is run against it, then a browser opens every page of it.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import assert_no_exception, open_app, serve_app
from tests.reliability._support import (
    PAGE_PATHS,
    PAGE_TITLES,
    REPO_ROOT,
    new_page,
    run_in_browser,
)

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


# --------------------------------------------------------------------------- parsing


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs; continuation lines joined, comment lines dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus ``**``) as a regex on a relative path."""
    pattern = pattern.strip().lstrip("/").rstrip("/")
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):  # "**/" also matches no directory at all
                out = out[:-2] + "(?:.*/)?"
                i += 1
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c) if c != "[" else "[")
        if c == "[":
            end = pattern.index("]", i)
            out = out[:-1] + pattern[i : end + 1]
            i = end
        i += 1
    return re.compile(out + r"\Z")


def ignore_rules() -> list[tuple[re.Pattern[str], bool]]:
    rules = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        rules.append((_pattern_regex(line[1:] if negate else line), negate))
    return rules


def ignored(relpath: str, rules: list[tuple[re.Pattern[str], bool]]) -> bool:
    """Docker's rule: the last pattern matching the path (or a parent directory) decides."""
    parts = relpath.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for regex, negate in rules:
        if any(regex.match(p) for p in prefixes):
            verdict = not negate
    return verdict


def build_context() -> list[str]:
    """Relative paths of the files ``docker build .`` would send (directories pruned early)."""
    rules = ignore_rules()
    can_unignore = any(negate for _, negate in rules)
    files = []
    stack = [REPO_ROOT]
    while stack:
        folder = stack.pop()
        for entry in folder.iterdir():
            rel = entry.relative_to(REPO_ROOT).as_posix()
            if entry.is_dir() and not entry.is_symlink():
                if can_unignore or not ignored(rel, rules):
                    stack.append(entry)
            elif not ignored(rel, rules):
                files.append(rel)
    return sorted(files)


def page_files_named_by_app() -> list[str]:
    """The page files of the app's navigation (``bptt_app.navigation.PAGE_SPECS``)."""
    from bptt_app.navigation import PAGE_SPECS

    return [spec.path for spec in PAGE_SPECS]


def exec_form(args: str) -> list[str]:
    """A CMD/HEALTHCHECK CMD in JSON (exec) form."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


# --------------------------------------------------------------------------- static checks


def test_dockerfile_has_what_the_deployment_needs():
    ins = instructions()
    names = [name for name, _ in ins]
    assert names[0] == "FROM", "the Dockerfile must start with FROM"
    froms = [args for name, args in ins if name == "FROM"]
    assert froms == ["python:3.11-slim"], f"base image: {froms}"
    env = " ".join(args for name, args in ins if name == "ENV")
    assert re.search(r"\bOPENBLAS_NUM_THREADS=1\b", env), env
    runs = [args for name, args in ins if name == "RUN"]
    assert any(re.search(r"\bpip install\b.*\s\.(\s|$)", r) for r in runs), runs
    assert "ADD" not in names, "use COPY (ADD fetches URLs and unpacks archives)"

    users = [(i, args.split(":")[0]) for i, (name, args) in enumerate(ins) if name == "USER"]
    assert users, "no USER: the app would run as root"
    last_user_at, last_user = users[-1]
    assert last_user not in ("root", "0"), f"runs as {last_user}"
    cmd_at = max(i for i, (name, _) in enumerate(ins) if name == "CMD")
    assert last_user_at < cmd_at, "USER must come before CMD"
    assert any(re.search(rf"\b(useradd|adduser)\b.*\b{last_user}\b", r) for r in runs), (
        f"USER {last_user} is never created"
    )

    assert ("EXPOSE", "8501") in ins
    health = [args for name, args in ins if name == "HEALTHCHECK"]
    assert len(health) == 1, health
    options, _, command = health[0].partition("CMD ")
    assert "/_stcore/health" in command and "8501" in command, command
    assert re.search(r"--interval=\d+s", options) and re.search(r"--timeout=\d+s", options)
    exec_form(command)

    cmds = [args for name, args in ins if name == "CMD"]
    assert len(cmds) == 1, cmds
    cmd = exec_form(cmds[0])
    assert cmd[:3] == ["streamlit", "run", "serve.py"], cmd
    assert "--server.address=0.0.0.0" in cmd, cmd
    assert cmd[2] == run_replicas_script(), "the image and deploy/run_replicas.py serve the same"


def run_replicas_script() -> str:
    """The script each replica of ``deploy/run_replicas.py`` serves (its ``SCRIPT``)."""
    tree = ast.parse((REPO_ROOT / "deploy" / "run_replicas.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SCRIPT":
            return ast.literal_eval(node.value)
    raise AssertionError("deploy/run_replicas.py has no SCRIPT")


def test_every_copy_source_exists_and_is_in_the_build_context():
    context = set(build_context())
    for name, args in instructions():
        if name != "COPY":
            continue
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        assert not any(p.startswith("--from") for p in shlex.split(args))
        for source in parts[:-1]:
            if source == ".":
                continue
            path = REPO_ROOT / source
            assert path.exists(), f"COPY {source}: not in the repository"
            inside = [f for f in context if f == source or f.startswith(source.rstrip("/") + "/")]
            assert inside, f"COPY {source}: .dockerignore leaves it out of the build context"


def test_build_context_holds_the_app_and_nothing_else():
    context = set(build_context())
    needed = ["serve.py", "app.py", "pyproject.toml", ".streamlit/config.toml"]
    needed += page_files_named_by_app()
    needed += [p.relative_to(REPO_ROOT).as_posix() for p in REPO_ROOT.glob("bptt_*/**/*.py")]
    missing = [f for f in needed if f not in context]
    assert not missing, f"the image would lack {missing}"
    assert len(page_files_named_by_app()) == len(PAGE_PATHS)
    unwanted = [
        f
        for f in context
        if f.split("/")[0] in {"tests", ".git", ".venv", "venv", "benchmarks", "docs", "deploy"}
        or "__pycache__" in f
        or f.endswith((".pyc", "secrets.toml"))
    ]
    assert not unwanted, f"the build context would include {unwanted[:10]}"
    size = sum((REPO_ROOT / f).stat().st_size for f in context)
    assert size < 5_000_000, f"build context of {size / 1e6:.1f} MB"


def test_dockerignore_rules_behave_like_docker():
    rules = [(_pattern_regex(p), False) for p in ("**/__pycache__", "*.md", "tests")]
    assert ignored("bptt_core/__pycache__/x.pyc", rules)
    assert ignored("__pycache__/x.pyc", rules)
    assert ignored("README.md", rules) and not ignored("docs/README.md", rules)
    assert ignored("tests/app/test_x.py", rules) and not ignored("bptt_app/tests.py", rules)


# --------------------------------------------------------------------------- the image's files, run


def every_page_opens(page: Page, url: str) -> None:
    for name, path in PAGE_PATHS.items():
        open_app(page, url + path)
        assert_no_exception(page)
        heading = page.get_by_role("heading", name=PAGE_TITLES[name])
        assert heading.count() >= 1, f"{path}: {PAGE_TITLES[name]} not shown"


@pytest.mark.browser
@pytest.mark.slow
def test_app_runs_from_the_build_context_and_passes_the_healthcheck(tmp_path: Path) -> None:
    ctx = tmp_path / "context"
    for rel in build_context():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, ctx / rel)
    health = next(args for name, args in instructions() if name == "HEALTHCHECK")
    command = exec_form(health.partition("CMD ")[2])
    assert command[0] == "python"
    with serve_app(ctx) as url:
        port = url.rsplit(":", 1)[1]
        check = [sys.executable, *[c.replace("8501", port) for c in command[1:]]]
        result = subprocess.run(check, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"HEALTHCHECK failed: {result.stderr}"
        run_in_browser(lambda browser: every_page_opens(new_page(browser), url))
    with serve_app(ctx) as url:  # and a stopped server fails it
        port = url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, *[c.replace("8501", port) for c in command[1:]]],
        capture_output=True,
        timeout=30,
    )
    assert result.returncode != 0, "the HEALTHCHECK passes with no server"
