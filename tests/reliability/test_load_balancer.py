"""The deployment recipe, run for real: two app replicas behind Debian's nginx on localhost.

``deploy/run_replicas.py`` starts two ``streamlit run`` processes (replicas ``a`` and ``b``,
``BPTT_REPLICA`` set) and an unprivileged nginx rendered from ``deploy/nginx.conf.template``.
Affinity is a hash of the ``bptt_route`` cookie, which nginx sets itself on a first visit, so
clients that all come from 127.0.0.1 are still spread over both replicas (``ip_hash`` would send
every one of them to the same replica). Which replica answered each request is read from
nginx's access log (``upstream=``, ``route=``); a websocket's line is written when it closes.

Checked: the cookie is set once and then hashed on; many routes use both replicas and each route
always the same one; browser sessions (fresh ones, whose cookie nginx sets, and ones with a
cookie chosen to reach the other replica) land on both replicas, keep one websocket for the
whole visit, keep their session state across clicks and page changes (the step advances, the
updates add up), and upload through the proxy to their own replica (a file refused by the app,
not by a replica that does not know the session).
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.conftest import assert_no_exception, kill_group, wait_idle
from tests.reliability import _access_log as access_log
from tests.reliability._support import (
    REPO_ROOT,
    alerts,
    metric,
    navigate,
    run_in_browser,
    step_of,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NGINX = "/usr/sbin/nginx"
SCRIPT = REPO_ROOT / "deploy" / "run_replicas.py"
START_TIMEOUT_S = 120


class Deployment:
    """The running recipe: its URL, the replicas' addresses and nginx's access log."""

    def __init__(self, info: dict) -> None:
        self.url: str = info["url"]
        self.replicas: dict[str, str] = info["replicas"]  # name → host:port
        self.access_log = Path(info["access_log"])
        self.run_dir = Path(info["config"]).parent
        parsed = urllib.parse.urlsplit(self.url)
        self.host, self.port = parsed.hostname, parsed.port

    def replica(self, upstream: str) -> str:
        return access_log.replica_name(self.replicas, upstream)

    def log(self) -> list[dict[str, str]]:
        return access_log.read(self.access_log)

    def get(self, path: str, cookie: str | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {"Cookie": f"bptt_route={cookie}"} if cookie else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    def route_replica(self, route: str) -> str:
        """Ask nginx once with this cookie; the replica that answered, from the log."""
        ask = functools.partial(self.get, "/_stcore/health", cookie=route)
        return access_log.route_replica(self.access_log, self.replicas, route, ask)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not os.access(NGINX, os.X_OK):
        pytest.fail(f"{NGINX} not found: `apt-get install -y nginx` (scripts/test.sh does it)")
    run_dir = tmp_path_factory.mktemp("replicas")
    output = run_dir / "run_replicas.out"
    with output.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(SCRIPT),
                "--replicas",
                "2",
                "--port",
                "0",
                "--run-dir",
                str(run_dir),
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        info_file = run_dir / "replicas.json"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not info_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                    for p in [*sorted(run_dir.glob("*.log")), output]
                )
                pytest.fail(f"run_replicas.py did not get ready (exit {proc.poll()}):\n{logs}")
            time.sleep(0.2)
        yield Deployment(json.loads(info_file.read_text()))
    finally:
        kill_group(proc)


def test_nginx_sets_the_route_cookie_once_and_hashes_on_it(deployment: Deployment) -> None:
    first = deployment.get("/")
    assert first.status == 200
    cookie = first.getheader("Set-Cookie") or ""
    match = re.fullmatch(r"bptt_route=([0-9a-f]{32}); Path=/; HttpOnly; SameSite=Lax", cookie)
    assert match, f"no route cookie on a first visit: {cookie!r}"
    again = deployment.get("/", cookie=match.group(1))
    assert again.getheader("Set-Cookie") is None, "the cookie is set again on every request"

    routes = [f"student-{i}" for i in range(24)]
    for _ in range(3):
        for route in routes:
            assert deployment.get("/_stcore/health", cookie=route).status == 200
    deployment.route_replica("flush")  # waits for its own line, so the ones before are in
    seen: dict[str, set[str]] = defaultdict(set)
    for row in deployment.log():
        if row["route"] in routes:
            seen[row["route"]].add(deployment.replica(row["upstream"]))
    assert set(seen) == set(routes)
    moved = {r: s for r, s in seen.items() if len(s) != 1}
    assert not moved, f"routes that changed replica: {moved}"
    used = {next(iter(s)) for s in seen.values()}
    assert used == set(deployment.replicas), f"24 clients from 127.0.0.1 all went to {used}"
    # The first visit is hashed on the value it is given in its cookie: same replica later.
    first_rows = [r for r in deployment.log() if r["route"] == match.group(1)]
    assert len({r["upstream"] for r in first_rows}) == 1


def _route_cookie(ctx: BrowserContext) -> str:
    values = [c["value"] for c in ctx.cookies() if c["name"] == "bptt_route"]
    assert values, "nginx set no bptt_route cookie in the browser"
    return values[0]


def test_browser_sessions_land_on_both_replicas_and_stay(deployment: Deployment) -> None:
    run_in_browser(lambda browser: browser_sessions(deployment, browser))


def browser_sessions(deployment: Deployment, browser: Browser) -> None:
    url = deployment.url
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    routes: list[str] = []
    try:
        # two fresh browsers: nginx picks a route for each
        for _ in range(2):
            ctx = browser.new_context(viewport={"width": 1300, "height": 900})
            ctx.set_default_timeout(60_000)
            contexts.append(ctx)
            pages.append(ctx.new_page())
            pages[-1].goto(url + "/", wait_until="commit")
        for p in pages:
            wait_idle(p, timeout_ms=60_000)
        routes += [_route_cookie(c) for c in contexts]
        placed = [deployment.route_replica(r) for r in routes]
        # two more whose cookie is chosen so that every replica gets at least two sessions
        candidates = (f"lecture-seat-{i}" for i in range(200))
        wanted = [name for name in deployment.replicas for _ in range(2 - placed.count(name))]
        for name in wanted:
            route = next(c for c in candidates if deployment.route_replica(c) == name)
            ctx = browser.new_context(viewport={"width": 1300, "height": 900})
            ctx.set_default_timeout(60_000)
            ctx.add_cookies([{"name": "bptt_route", "value": route, "url": url}])
            contexts.append(ctx)
            pages.append(ctx.new_page())
            pages[-1].goto(url + "/", wait_until="commit")
            routes.append(route)
        for p in pages:
            wait_idle(p, timeout_ms=60_000)
        replica_of = {r: deployment.route_replica(r) for r in routes}
        assert set(replica_of.values()) == set(deployment.replicas), replica_of

        # reruns: each session clicks Next a different number of times
        for rnd in range(len(pages)):
            active = [p for i, p in enumerate(pages) if i >= rnd]
            for p in active:
                p.get_by_role("button", name="Next", exact=True).click()
            for p in active:
                wait_idle(p, timeout_ms=60_000)
        for i, p in enumerate(pages):
            assert_no_exception(p)
            assert step_of(p)[0] == i + 2, f"session {i}: step {step_of(p)} after {i + 1} clicks"

        # another page, training and an upload: all on the session's own replica
        for p in pages:
            navigate(p, "train", wait=False)
        for p in pages:
            wait_idle(p, timeout_ms=60_000)
        for p in pages:
            p.get_by_role("button", name="10 updates", exact=True).click()
        for p in pages:
            wait_idle(p, timeout_ms=60_000)
        for i, p in enumerate(pages):
            p.locator("input[type='file']").set_input_files(
                files=[{"name": f"junk{i}.npz", "mimeType": "application/zip", "buffer": b"junk"}]
            )
        for i, p in enumerate(pages):
            p.get_by_text("cannot be loaded").first.wait_for(timeout=60_000)
            wait_idle(p, timeout_ms=60_000)
            assert_no_exception(p)
            assert metric(p, "Updates") == "10", f"session {i} lost its training"
            assert any(f"junk{i}.npz" in a for a in alerts(p)), f"session {i}: {alerts(p)}"
        for p in pages:
            navigate(p, "step", wait=False)
        for p in pages:
            wait_idle(p, timeout_ms=60_000)
            assert_no_exception(p)
    finally:
        for ctx in contexts:
            ctx.close()

    # nginx logs a websocket when it closes
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = deployment.log()
        sockets = [r for r in rows if r["path"].startswith("/_stcore/stream")]
        if {r["route"] for r in sockets} >= set(routes):
            break
        time.sleep(0.2)
    for route in routes:
        mine = [r for r in rows if r["route"] == route]
        upstreams = {deployment.replica(r["upstream"]) for r in mine}
        assert upstreams == {replica_of[route]}, f"route {route} was served by {upstreams}"
        ws = [r for r in mine if r["path"].startswith("/_stcore/stream")]
        assert len(ws) == 1 and ws[0]["status"] == "101", (
            f"route {route}: expected one websocket for the whole visit, got {ws}"
        )
        uploads = [r for r in mine if r["method"] == "PUT" and "upload_file" in r["path"]]
        assert uploads and all(r["status"] == "204" for r in uploads), uploads
    for name in deployment.replicas:
        log = (deployment.run_dir / f"replica-{name}.log").read_text(errors="replace")
        assert "Invalid session_id" not in log, f"replica {name} got a foreign session:\n{log}"
