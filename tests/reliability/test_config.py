""".streamlit/config.toml hardened for serving, read three ways.

1. The file itself (``tomllib``): XSRF protection on, CORS not switched off, usage statistics off,
   no file watcher or run-on-save, headless, a 1 MB upload limit that matches the app's own
   check, a light and a dark theme whose chart colours are colour-blind-safe palettes.
2. What Streamlit makes of it (``streamlit config show`` in the app directory): the same values
   as effective options, so a misspelt key, which Streamlit would silently ignore, fails here.
3. A served app started with no command-line options at all (``serve_minimal``), so everything
   comes from the file: the XSRF cookie is set and an upload without its token is refused
   (403), an upload over 1 MB is refused by the server (413) and by the browser, the browser
   talks to nobody but the app (no usage statistics), and the dark and light themes follow the
   browser's colour scheme.
"""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from bptt_app.train_session import MAX_UPLOAD_BYTES
from tests.browser.conftest import (
    _free_port,
    _health_ok,
    assert_no_exception,
    kill_group,
    open_app,
    wait_idle,
)
from tests.conftest import app_dir
from tests.reliability._support import PAGE_PATHS, REPO_ROOT, new_page, run_in_browser

CONFIG = REPO_ROOT / ".streamlit" / "config.toml"

# Okabe & Ito (2008): distinguishable under every common colour-vision deficiency.
OKABE_ITO = {
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
}
NEUTRALS = {"#FFFFFF", "#999999", "#555555", "#CCCCCC"}
AA_PRIMARY = {"#0068A5"}  # Okabe-Ito blue #0072B2 darkened to WCAG AA (issue 12.18)
CIVIDIS_ENDS = ("#00224E", "#FEE838")  # cividis: dark blue → yellow, no red-green axis
RDBU_ENDS = ("#67001F", "#053061")  # ColorBrewer RdBu: red ↔ blue, safe for red-green CVD


def config() -> dict:
    return tomllib.loads(CONFIG.read_text())


# --------------------------------------------------------------------------- 1. the file


def test_config_file_is_hardened_for_serving():
    c = config()
    server, browser = c.get("server", {}), c.get("browser", {})
    assert server.get("enableXsrfProtection") is True, "XSRF protection must be on"
    assert server.get("enableCORS", True) is True, "CORS must not be switched off"
    assert browser.get("gatherUsageStats") is False, "usage statistics must be off"
    assert server.get("fileWatcherType") == "none", "no file watcher in production"
    assert server.get("runOnSave", False) is False
    assert server.get("headless") is True
    assert server.get("enableStaticServing", False) is False
    assert c.get("global", {}).get("developmentMode", False) is False
    assert server.get("maxUploadSize") == MAX_UPLOAD_BYTES / 1_000_000, (
        "the server's upload limit (MB) and the app's own check (bptt_app.train_session) disagree"
    )
    assert server.get("enableWebsocketCompression") is True
    assert server.get("maxCacheDataSize") == "64mb", "st.cache_data must be bounded in bytes"
    assert c.get("client", {}).get("showErrorDetails") == "none", "no error details for students"


def test_light_and_dark_themes_with_colour_blind_safe_charts():
    theme = config()["theme"]
    for mode in ("light", "dark"):
        assert mode in theme, f"no [theme.{mode}]"
        colours = [c.upper() for c in theme[mode]["chartCategoricalColors"]]
        assert len(colours) == 10, f"{mode}: Streamlit 1.67 drops lists that are not 10 long"
        assert len(set(colours)) == 10, f"{mode}: repeated colours"
        assert OKABE_ITO - {"#000000"} <= set(colours), f"{mode}: not the Okabe-Ito palette"
        assert set(colours) <= OKABE_ITO | NEUTRALS, f"{mode}: {set(colours) - OKABE_ITO}"
        # Okabe-Ito, or (light theme) its blue a shade darker for 4.5:1 as text on its own tint
        assert theme[mode]["primaryColor"].upper() in OKABE_ITO | AA_PRIMARY
    for key, ends in (("chartSequentialColors", CIVIDIS_ENDS), ("chartDivergingColors", RDBU_ENDS)):
        colours = [c.upper() for c in theme[key]]
        assert len(colours) == 10, f"{key}: must hold 10 colours"
        assert (colours[0], colours[-1]) == ends, f"{key}: {colours[0]} … {colours[-1]}"


# --------------------------------------------------------------------------- 2. Streamlit's reading


def effective_options() -> dict[str, str]:
    """``section.option`` → value as ``streamlit config show`` prints it (set options only)."""
    out = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=app_dir(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    options, section = {}, ""
    for line in out.splitlines():
        if m := re.match(r"^\[([\w.]+)\]\s*$", line):
            section = m.group(1)
        elif m := re.match(r"^(\w+) = (.+)$", line):
            options[f"{section}.{m.group(1)}"] = m.group(2).strip()
    return options


def test_streamlit_reads_the_hardened_options():
    o = effective_options()
    expected = {
        "server.enableXsrfProtection": "true",
        "server.fileWatcherType": '"none"',
        "server.runOnSave": "false",
        "server.headless": "true",
        "server.maxUploadSize": "1",
        "server.enableWebsocketCompression": "true",
        "server.maxCacheDataSize": '"64mb"',
        "client.showErrorDetails": '"none"',
        "browser.gatherUsageStats": "false",
    }
    wrong = {k: (o.get(k), v) for k, v in expected.items() if o.get(k) != v}
    assert not wrong, f"effective value differs from the intended one (got, want): {wrong}"

    # every key of the file is a real Streamlit option (a misspelt one is silently ignored)
    def keys(d: dict, prefix: str = "") -> Iterator[str]:
        for k, v in d.items():
            if isinstance(v, dict):
                yield from keys(v, f"{prefix}{k}.")
            elif not isinstance(v, list):
                yield prefix + k

    unknown = [k for k in keys(config()) if k not in o]
    assert not unknown, f"not Streamlit options (misspelt?): {unknown}"


# --------------------------------------------------------------------------- 3. served


@contextlib.contextmanager
def serve_minimal() -> Iterator[str]:
    """``streamlit run serve.py`` (the served command) with only a port and address: every other
    setting from the file."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "serve.py"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command,
            cwd=app_dir(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not _health_ok(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"the app did not start:\n{log.read().decode(errors='replace')}")
                time.sleep(0.2)
            yield url
        finally:
            kill_group(proc)


@pytest.fixture(scope="module")
def minimal_server() -> Iterator[str]:
    with serve_minimal() as url:
        yield url


def _put(url: str, headers: dict[str, str], body: bytes = b"x") -> int:
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_websocket_messages_are_compressed(minimal_server: str):
    """The step player's pass is one large message of text: permessage-deflate is negotiated."""
    host, port = minimal_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                "GET /_stcore/stream HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nOrigin: {minimal_server}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: streamlit\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
            ).encode()
        )
        reply = sock.recv(4096).decode(errors="replace")
    assert reply.startswith("HTTP/1.1 101"), reply[:200]
    assert "permessage-deflate" in reply.lower(), f"no compression negotiated:\n{reply}"


def test_xsrf_is_active_on_the_served_app(minimal_server: str):
    # Streamlit sets the cookie with the health check the page makes first
    with urllib.request.urlopen(minimal_server + "/_stcore/health", timeout=10) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
    xsrf = [c for c in cookies if c.startswith("_streamlit_xsrf=")]
    assert xsrf, f"no XSRF cookie: {cookies}"
    assert "samesite=lax" in xsrf[0].lower(), xsrf[0]
    token = xsrf[0].split(";")[0].split("=", 1)[1]
    upload = f"{minimal_server}/_stcore/upload_file/some-session/some-file"
    assert _put(upload, {}) == 403, "an upload without the XSRF token was not refused"
    forged = {"Cookie": f"_streamlit_xsrf={token}", "X-Xsrftoken": "2|00|00|0"}
    assert _put(upload, forged) == 403, "a forged XSRF token was accepted"


@pytest.mark.browser
def test_upload_limit_is_enforced_by_server_and_browser(minimal_server: str):
    run_in_browser(lambda browser: upload_limit(minimal_server, new_page(browser)))


def upload_limit(minimal_server: str, page: Page) -> None:
    open_app(page, minimal_server + PAGE_PATHS["train"])
    assert_no_exception(page)
    file_input = page.locator("input[type='file']")
    # the browser refuses a file over maxUploadSize before sending anything
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "upload_file" in r.url else None)
    big = {"name": "big.npz", "mimeType": "application/zip", "buffer": bytes(2_000_000)}
    file_input.set_input_files(files=[big])
    page.get_by_text(re.compile(r"must be 1(\.0)? ?MB or smaller", re.I)).first.wait_for()
    assert not sent, f"the browser sent a 2 MB file: {sent}"
    # a small one goes through: its URL names this session, whose uploads the server caps
    small = {"name": "small.npz", "mimeType": "application/zip", "buffer": b"not a zip"}
    with page.expect_request(lambda r: "upload_file" in r.url and r.method == "PUT") as req:
        file_input.set_input_files(files=[small])
    upload_url = req.value.url
    wait_idle(page)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "_streamlit_xsrf")
    headers = {"X-Xsrftoken": token}
    for size, expected in ((500_000, 204), (2_000_000, 413)):
        response = page.request.put(
            upload_url,
            headers=headers,
            multipart={
                "file": {"name": "x.npz", "mimeType": "application/zip", "buffer": bytes(size)}
            },
        )
        assert response.status == expected, f"{size} bytes: HTTP {response.status}"
    assert page.request.put(upload_url, multipart={"file": small}).status == 403


@pytest.mark.browser
def test_no_usage_statistics_and_themes_follow_the_browser(minimal_server: str):
    run_in_browser(lambda browser: statistics_and_themes(minimal_server, browser))


def statistics_and_themes(minimal_server: str, browser: Browser) -> None:
    backgrounds = {}
    for scheme in ("light", "dark"):
        ctx = browser.new_context(color_scheme=scheme, viewport={"width": 1200, "height": 800})
        page = ctx.new_page()
        own = minimal_server.split("/")[2]
        foreign: list[str] = []
        page.on(
            "request",
            lambda r, own=own, foreign=foreign: (
                foreign.append(r.url) if r.url.split("/")[2] != own else None
            ),
        )
        try:
            open_app(page, minimal_server + "/")
            assert_no_exception(page)
            page.wait_for_timeout(1000)  # usage statistics would be sent after the first run
            rgb = page.locator("[data-testid='stApp']").evaluate(
                "el => getComputedStyle(el).backgroundColor"
            )
            backgrounds[scheme] = [int(v) for v in re.findall(r"\d+", rgb)[:3]]
        finally:
            ctx.close()
        assert not foreign, f"{scheme}: the browser contacted {foreign}"
    light, dark = (sum(backgrounds[s]) / 3 for s in ("light", "dark"))
    assert light > 200 and dark < 60, f"backgrounds: {backgrounds}"
