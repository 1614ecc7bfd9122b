"""The deployment recipe hardened, run for real: two replicas behind Debian's nginx over TLS.

``deploy/run_replicas.py --tls-cert --tls-key`` with a throw-away self-signed certificate. Checked
through nginx: HSTS (once), the app's own security headers, ``Secure`` on nginx's affinity
cookie and on Streamlit's XSRF cookie, ``/_stcore/metrics`` closed (in nginx and in the app),
the longest link the app can make (5,000 four-byte characters: a 60,000-character URL) accepted
and opened in Chromium, per-browser request and connection limits (429) that leave other
browsers alone, enough worker connections for a lecture hall; a replica killed with SIGKILL: the
other keeps serving its students, it comes back on its port; every replica down at once: nginx
says the server is restarting instead of its own error page.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import assert_no_exception, kill_group, open_app, watch_console
from tests.reliability import _access_log as access_log
from tests.reliability import _aio as aio
from tests.reliability._support import REPO_ROOT, run_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NGINX = "/usr/sbin/nginx"
SCRIPT = REPO_ROOT / "deploy" / "run_replicas.py"
START_TIMEOUT_S = 120
UNVERIFIED = ssl._create_unverified_context()  # our own self-signed certificate


class Recipe:
    """The running recipe over HTTPS: URL, replicas, pids, logs."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.info_file = run_dir / "replicas.json"
        info = self.info()
        self.url: str = info["url"]
        self.port = urllib.parse.urlsplit(self.url).port

    def info(self) -> dict:
        return json.loads(self.info_file.read_text())

    def request(
        self, path: str, cookie: str | None = None, port: int | None = None, tls: bool = True
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        cls = http.client.HTTPSConnection if tls else http.client.HTTPConnection
        kwargs = {"context": UNVERIFIED} if tls else {}
        conn = cls("127.0.0.1", port or self.port, timeout=30, **kwargs)
        conn.request("GET", path, headers={"Cookie": f"bptt_route={cookie}"} if cookie else {})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, response.headers, body

    def burst(self, path: str, cookie: str, n: int) -> list[int]:
        """``n`` requests as fast as one keep-alive connection goes; their statuses."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=UNVERIFIED)
        statuses = []
        for _ in range(n):
            conn.request("GET", path, headers={"Cookie": f"bptt_route={cookie}"})
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        conn.close()
        return statuses

    def replica_of(self, route: str) -> str:
        """The replica nginx sends ``route`` to (asked once, read from the access log)."""
        ask = functools.partial(self.request, "/_stcore/health", cookie=route)
        replicas = self.info()["replicas"]
        return access_log.route_replica(self.run_dir / "access.log", replicas, route, ask)


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
    subprocess.run(
        [*command, "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recipe]:
    if not os.access(NGINX, os.X_OK):
        pytest.fail(f"{NGINX} not found: `apt-get install -y nginx` (scripts/test.sh does it)")
    run_dir = tmp_path_factory.mktemp("tls-replicas")
    cert, key = self_signed(run_dir)
    out = (run_dir / "run_replicas.out").open("wb")
    command = [sys.executable, str(SCRIPT), "--replicas", "2", "--port", "0"]
    command += ["--run-dir", str(run_dir), "--tls-cert", str(cert), "--tls-key", str(key)]
    proc = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (run_dir / "replicas.json").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in run_dir.glob("*.*"))
                pytest.fail(f"run_replicas.py did not get ready:\n{logs}")
            time.sleep(0.2)
        yield Recipe(run_dir)
    finally:
        kill_group(proc)
        out.close()


# --------------------------------------------------------------------------- configuration


def test_nginx_is_sized_for_a_lecture_hall(recipe: Recipe):
    conf = (recipe.run_dir / "nginx.conf").read_text()
    assert re.search(r"^worker_processes auto;", conf, re.M)
    assert int(re.search(r"worker_connections (\d+);", conf)[1]) >= 8192
    assert re.search(r"large_client_header_buffers \d+ 64k;", conf)
    assert "limit_conn bptt_conn_browser" in conf and "limit_req zone=bptt_req_browser" in conf
    assert "listen 127.0.0.1:" in conf and " ssl;" in conf


# --------------------------------------------------------------------------- headers and paths


def test_https_headers_secure_cookies_and_closed_metrics(recipe: Recipe):
    status, headers, body = recipe.request("/train")
    assert status == 200 and b"BACKEND_BASE_URL" in body
    assert headers.get_all("Strict-Transport-Security") == ["max-age=31536000"], "HSTS once"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    route = headers["Set-Cookie"]
    assert re.fullmatch(r"bptt_route=[0-9a-f]{32}; Path=/; HttpOnly; SameSite=Lax; Secure", route)
    _, headers, _ = recipe.request("/_stcore/health", cookie="x")
    xsrf = [c for c in headers.get_all("Set-Cookie") or [] if c.startswith("_streamlit_xsrf=")]
    assert xsrf and xsrf[0].endswith("; Secure"), f"the XSRF cookie over HTTPS: {xsrf}"
    assert recipe.request("/_stcore/metrics")[0] == 404
    for address in recipe.info()["replicas"].values():  # the replicas close it themselves too
        port = int(address.rsplit(":", 1)[1])
        assert recipe.request("/_stcore/metrics", port=port, tls=False)[0] == 404
    status, _, body = recipe.request("/nonexistent?hidden=5")
    assert status == 404 and b"/train?hidden=5" in body


def longest_link(page: str = "train") -> str:
    """The longest link the app makes: 5,000 four-byte characters and every other setting."""
    query = {"text": "😀" * 5000, "hidden": "128", "seed": "2147483647", "k": "100000"}
    query |= {"lr": "0.001", "notation": "Guo / Mikolov (seed 002)", "opt": "Adam"}
    return f"/{page}?" + urllib.parse.urlencode(query)


def test_every_link_the_app_makes_passes_nginx(recipe: Recipe):
    for page in ("", "train", "truncation", "derivation"):
        link = longest_link(page)
        assert len(link) > 60_000
        status, _, _ = recipe.request(link)
        assert status == 200, f"{len(link)}-character link to /{page}: {status}"
    greek = "/train?" + urllib.parse.urlencode({"text": "αβγδε" * 980})  # issue 12.3: 414 before
    assert recipe.request(greek)[0] == 200


def open_long_links(browser: Browser, url: str) -> None:
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1300, "height": 900})
    context.set_default_timeout(90_000)
    page = context.new_page()
    errors = watch_console(page)
    for text, link in (("αβγδε" * 980, None), ("😀" * 5000, longest_link())):
        link = link or "/train?" + urllib.parse.urlencode({"text": text})
        open_app(page, url + link, timeout_ms=120_000)
        box = page.get_by_role("textbox", name="Training text")
        expect(box).to_have_value(text, timeout=60_000)
        assert_no_exception(page)
    context.close()
    assert errors == [], errors


def test_long_links_open_in_chromium_through_nginx(recipe: Recipe):
    run_in_browser(lambda browser: open_long_links(browser, recipe.url))


# --------------------------------------------------------------------------- limits


async def _websockets(url: str, cookie: str, n: int) -> list[int]:
    """Open ``n`` websockets with one route cookie; the handshake status of each."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    ws_url = url.replace("https", "wss") + "/_stcore/stream"
    sockets, statuses = [], []
    for _ in range(n):
        try:
            ws = await connect(
                ws_url,
                subprotocols=["streamlit"],
                origin=url,
                ssl=UNVERIFIED,
                additional_headers={"Cookie": f"bptt_route={cookie}"},
            )
            sockets.append(ws)
            statuses.append(101)
        except InvalidStatus as exc:
            statuses.append(exc.response.status_code)
    for ws in sockets:
        await ws.close()
    return statuses


def test_one_browser_is_limited_and_the_others_are_not(recipe: Recipe):
    statuses = recipe.burst("/_stcore/health", "greedy", 200)
    assert 429 in statuses, "200 requests at once from one browser were all served"
    assert statuses[:100].count(200) == 100, "a page load's burst must pass"
    assert recipe.request("/_stcore/health", cookie="polite")[0] == 200, "others are not limited"
    assert all(recipe.request("/_stcore/health")[0] == 200 for _ in range(30)), "a class arriving"
    sockets = aio.run(_websockets(recipe.url, "many-tabs", 20))
    assert sockets.count(101) == 16 and sockets.count(429) == 4, sockets
    assert aio.run(_websockets(recipe.url, "one-tab", 1)) == [101]


# --------------------------------------------------------------------------- faults


def wait_restarted(recipe: Recipe, name: str, old_pid: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = recipe.info()
        port = int(info["replicas"][name].rsplit(":", 1)[1])
        if info["pids"].get(name) not in (None, old_pid):
            try:
                if recipe.request("/_stcore/health", port=port, tls=False)[2] == b"ok":
                    return
            except OSError:
                pass
        time.sleep(0.5)
    raise AssertionError(f"replica {name} did not come back within {timeout} s")


def test_a_killed_replica_comes_back_and_the_other_keeps_serving(recipe: Recipe):
    routes = {f"seat-{i}": recipe.replica_of(f"seat-{i}") for i in range(12)}
    victim = routes["seat-0"]
    pid = recipe.info()["pids"][victim]
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    for route in routes:  # the victim's students included: nginx passes them on
        status, _, body = recipe.request("/_stcore/health", cookie=route)
        assert (status, body) == (200, b"ok"), f"{route}: {status} {body[:80]!r}"
    wait_restarted(recipe, victim, pid)
    assert recipe.info()["restarts"][victim] >= 1
    assert recipe.replica_of("seat-0") == victim, "the route goes back to its replica"


def test_with_every_replica_down_nginx_says_it_is_restarting(recipe: Recipe):
    pids = dict(recipe.info()["pids"])
    for name in recipe.info()["replicas"]:
        os.kill(pids[name], signal.SIGKILL)
    status, headers, body = recipe.request("/_stcore/health", cookie="seat-0")
    assert status == 503, (status, body[:200])
    assert b"restarting" in body and headers["Retry-After"] == "5"
    for name in recipe.info()["replicas"]:
        wait_restarted(recipe, name, pids[name])
    assert recipe.request("/_stcore/health", cookie="seat-0")[2] == b"ok"
