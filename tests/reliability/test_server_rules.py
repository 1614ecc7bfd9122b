"""The launcher's server rules (``bptt_app.server``), called as ASGI apps in this process.

Served for real (headers on every response of ``streamlit run serve.py``, through nginx over
TLS, in Chromium) in ``test_recipe_hardening.py`` and ``tests/browser/test_paths_browser.py``.
"""

from __future__ import annotations

import html.parser
from pathlib import Path

import pytest
from streamlit import file_util
from streamlit.proto.BackMsg_pb2 import BackMsg

from bptt_app import server
from bptt_app.navigation import PAGE_SPECS
from bptt_app.server import (
    IgnoreClearCache,
    PagePaths,
    SecurityHeaders,
    classify,
    not_found_page,
    page_html,
)
from tests.reliability import _aio as aio

Headers = dict[str, list[str]]


async def _inner(scope, receive, send) -> None:
    """Stands for Streamlit: 200, a cookie, the body "streamlit"."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"set-cookie", b"_xsrf=abc; Path=/")],
        }
    )
    await send({"type": "http.response.body", "body": b"streamlit"})


def call(app, path: str, scheme: str = "http", query: bytes = b"") -> tuple[int, Headers, bytes]:
    """GET ``path`` from the ASGI ``app``: (status, headers by lower-case name, body)."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "scheme": scheme,
        "headers": [],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1),
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    aio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers: Headers = {}
    for name, value in start["headers"]:
        headers.setdefault(name.decode().lower(), []).append(value.decode())
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, body


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/", "page"),
        *[(f"/{spec.url_path}", "page") for spec in PAGE_SPECS],
        ("/nonexistent", "unknown"),
        ("/train/extra/path", "unknown"),
        ("/train/_stcore/health", "unknown"),
        ("/Train", "unknown"),
        ("/_stcore/metrics", "metrics"),
        ("/_stcore/health", "streamlit"),
        ("/_stcore/stream", "streamlit"),
        ("/_stcore/upload_file/x/y", "streamlit"),
        ("/static/js/anything.js", "streamlit"),
        ("/favicon.png", "streamlit"),
        ("/manifest.json", "streamlit"),
        ("/media/abc.png", "streamlit"),
        ("/component/x/index.html", "streamlit"),
        ("/train/", "streamlit"),
    ],
)
def test_every_path_has_one_owner(path: str, kind: str):
    assert classify(path) == kind


def test_paths_under_a_base_url():
    assert classify("/bptt", "/bptt") == "page"
    assert classify("/bptt/train", "/bptt") == "page"
    assert classify("/bptt/nope", "/bptt") == "unknown"
    assert classify("/other/train", "/bptt") == "streamlit"  # not ours: Streamlit answers


def test_page_html_tells_the_frontend_where_the_server_is_and_guards_its_session():
    index = Path(file_util.get_static_dir(), "index.html").read_text(encoding="utf-8")
    served = page_html("").decode("utf-8")
    script = served[served.index("<head>") + 6 : served.index("</script>") + 9]
    assert "BACKEND_BASE_URL" in script and 'window.location.origin + "/"' in script
    assert served.replace(script, "", 1) == index, "nothing else of index.html may change"
    assert served.index("BACKEND_BASE_URL") < served.index('type="module"'), "must run first"
    assert 'window.location.origin + "/bptt/"' in page_html("/bptt").decode()
    assert f"LOST_CODE = {server.LOST_SESSION_CODE};" in script


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [v for k, v in attrs if k == "href" and tag == "a"]


def test_not_found_page_escapes_the_path_and_keeps_the_settings():
    hostile = "/<script>alert(1)</script>"
    query = 'text=a"><img src=x onerror=alert(2)>&hidden=5'
    page = not_found_page(hostile, query)
    tags = _Tags()
    tags.feed(page)
    assert "script" not in tags.tags and "img" not in tags.tags, tags.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert tags.hrefs == [f"/{spec.url_path}?{query}" for spec in PAGE_SPECS]


def test_unknown_paths_get_a_404_page_and_pages_get_the_app():
    app = PagePaths(_inner)
    status, headers, body = call(app, "/nonexistent", query=b"hidden=5")
    assert status == 404 and headers["content-type"][0].startswith("text/html")
    assert b"Page not found" in body and b"/train?hidden=5" in body
    status, headers, body = call(app, "/train")
    assert status == 200 and b"BACKEND_BASE_URL" in body
    assert headers["cache-control"] == ["no-cache"]
    assert call(app, "/_stcore/health")[2] == b"streamlit"


def test_metrics_are_closed_unless_asked_for(monkeypatch: pytest.MonkeyPatch):
    app = PagePaths(_inner)
    monkeypatch.delenv(server.METRICS_ENV, raising=False)
    assert call(app, "/_stcore/metrics")[0] == 404
    monkeypatch.setenv(server.METRICS_ENV, "1")
    assert call(app, "/_stcore/metrics")[2] == b"streamlit"


# --------------------------------------------------------------------------- headers


def test_security_headers_on_every_response_and_hsts_only_over_https():
    app = SecurityHeaders(PagePaths(_inner))
    for path in ("/", "/train", "/nonexistent", "/_stcore/health", "/_stcore/metrics"):
        _, headers, _ = call(app, path)
        assert headers["x-frame-options"] == ["SAMEORIGIN"], path
        assert headers["content-security-policy"] == ["frame-ancestors 'self'"], path
        assert headers["x-content-type-options"] == ["nosniff"], path
        assert headers["referrer-policy"] == ["same-origin"], path
        assert "strict-transport-security" not in headers, f"{path}: HSTS over plain HTTP"
    _, headers, _ = call(app, "/_stcore/health")
    assert headers["set-cookie"] == ["_xsrf=abc; Path=/"], "cookies untouched over HTTP"
    _, headers, _ = call(app, "/_stcore/health", scheme="https")
    assert headers["strict-transport-security"] == ["max-age=31536000"]
    assert headers["set-cookie"] == ["_xsrf=abc; Path=/; Secure"]


def test_a_header_streamlit_already_sends_is_not_doubled():
    async def framing(scope, receive, send):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"X-Frame-Options", b"DENY")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    _, headers, _ = call(SecurityHeaders(framing), "/x")
    assert headers["x-frame-options"] == ["DENY"]


# --------------------------------------------------------------------------- websocket


def _websocket(app, headers: list[tuple[bytes, bytes]]) -> list[dict]:
    """Open a websocket to ``app`` with ``headers``; what it sent back."""
    sent: list[dict] = []
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "websocket", "path": "/_stcore/stream", "headers": headers}
    aio.run(app(scope, receive, send))
    return sent


def test_a_reconnect_to_a_lost_session_is_closed_with_its_code(monkeypatch: pytest.MonkeyPatch):
    reached: list[str] = []

    async def streamlit_ws(scope, receive, send):
        reached.append(server.existing_session_id(scope) or "new")

    known = {"alive-session"}
    monkeypatch.setattr(server, "session_known", lambda sid: sid in known)
    app = server.LostSessions(streamlit_ws)
    protocols = b"streamlit, xsrf-token, "
    assert _websocket(app, [(b"sec-websocket-protocol", protocols + b"alive-session")]) == []
    assert _websocket(app, [(b"sec-websocket-protocol", b"streamlit, xsrf-token")]) == []
    assert reached == ["alive-session", "new"], "known and new sessions go to Streamlit"
    sent = _websocket(app, [(b"sec-websocket-protocol", protocols + b"gone-session")])
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert sent[1]["code"] == server.LOST_SESSION_CODE and reached == ["alive-session", "new"]


def test_session_lookup_never_reports_a_lost_session_without_a_runtime(
    monkeypatch: pytest.MonkeyPatch,
):
    from streamlit.runtime import Runtime

    monkeypatch.setattr(Runtime, "_instance", None)
    assert server.session_known("anything")  # no Runtime in this process: cannot tell


def test_clear_cache_never_reaches_streamlit_and_everything_else_does():
    rerun = BackMsg()
    rerun.rerun_script.query_string = "a=1"
    frames = [bytes([40, 1]), rerun.SerializeToString(), bytes([40, 1]), b"\x00garbage"]
    incoming = [{"type": "websocket.connect"}]
    incoming += [{"type": "websocket.receive", "bytes": f} for f in frames]
    incoming.append({"type": "websocket.disconnect", "code": 1000})
    seen: list[dict] = []

    async def streamlit_ws(scope, receive, send):
        while (message := await receive())["type"] != "websocket.disconnect":
            seen.append(message)
        seen.append(message)

    async def receive():
        return incoming.pop(0)

    async def send(message):
        pass

    scope = {"type": "websocket", "path": "/_stcore/stream", "headers": []}
    aio.run(IgnoreClearCache(streamlit_ws)(scope, receive, send))
    got = [m.get("bytes") for m in seen if m["type"] == "websocket.receive"]
    assert got == [rerun.SerializeToString(), b"\x00garbage"]
    assert seen[0]["type"] == "websocket.connect" and seen[-1]["type"] == "websocket.disconnect"
