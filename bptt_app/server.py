"""The served app's own HTTP and websocket rules, as ASGI middleware around Streamlit's server.

``serve.py`` hands these to ``st.App`` (Streamlit 1.67 serves with Starlette and uvicorn, and
``st.App(middleware=...)`` puts user middleware in front of its own routes)::

    app = st.App("app.py", middleware=server_middleware())

What they do, outermost first:

- ``SecurityHeaders``: every HTTP response says ``X-Frame-Options: SAMEORIGIN`` and
  ``Content-Security-Policy: frame-ancestors 'self'`` (no other site can frame the app and
  click through it), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (a
  link's training text is not sent to other sites), and over HTTPS
  ``Strict-Transport-Security`` and ``Secure`` on every cookie Streamlit sets (uvicorn takes
  the scheme from a trusted proxy's ``X-Forwarded-Proto``: 127.0.0.1 unless
  ``FORWARDED_ALLOW_IPS`` says otherwise).
- ``PagePaths``: ``/`` and every page's path get Streamlit's ``index.html`` with one script
  added (``assets/page_guard.js``) that tells the frontend where the server is
  (``window.__streamlit.BACKEND_BASE_URL``) and reloads the page when its session is lost (see
  ``LostSessions``). Without the first, the frontend, opened at ``/train``, first tries ``/train`` as the server's base URL
  (``/train/_stcore/health`` and ``/train/_stcore/host-config``: two 404s in the console), and
  at ``/train/extra/path`` it loads its scripts from ``/train/extra/static/…`` (index.html again:
  "Failed to load module script") and never finds the server. Any other path that is neither a
  page, nor Streamlit's (``_stcore``, ``media``, ``component``, ``static``, its root files), gets
  a 404 page that says so and links every page with the link's settings; Streamlit itself would
  run the default page after a "page not found" console error. ``/_stcore/metrics`` (session
  counts, cached function names and sizes) answers 404 unless ``BPTT_METRICS=1``.
- ``LostSessions``: a websocket that reconnects to a session this server does not have (the
  server restarted, nginx sent the browser to another replica, or the tab was away longer than
  ``server.disconnectedSessionTTL``) is closed with code ``LOST_SESSION_CODE``. Streamlit would
  give it a new, empty session while the page still shows the old one (its downloads then do
  nothing: "session ID mismatch"); the page guard reloads the page from its address instead,
  which holds the settings and the step, and says what was lost.
- ``IgnoreClearCache``: a client's ``clear_cache`` websocket message (``BackMsg.clear_cache``,
  bytes ``[40, 1]``) is dropped. Streamlit would clear every ``st.cache_data`` and
  ``st.cache_resource`` of the process for every student: the caches are shared, so no student
  may empty them (the operator restarts the replica instead).
"""

from __future__ import annotations

import html
import os
import urllib.parse
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import config, file_util
from streamlit.logger import get_logger
from streamlit.proto.BackMsg_pb2 import BackMsg

from bptt_app.navigation import PAGE_SPECS

_LOGGER = get_logger(__name__)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")
METRICS_ENV = "BPTT_METRICS"  # "1": serve /_stcore/metrics (otherwise 404)
STREAMLIT_PREFIXES = frozenset({"_stcore", "media", "component", "static", "app"})
APP_TITLE = "BPTT Explainer"
PAGE_GUARD = Path(__file__).parent / "assets" / "page_guard.js"
LOST_SESSION_CODE = 4100  # websocket close code: the session is gone (assets/page_guard.js)


# --------------------------------------------------------------------------- headers


def add_missing(headers: Iterable[tuple[bytes, bytes]], extra: Iterable[tuple[bytes, bytes]]):
    """``headers`` plus every header of ``extra`` whose name is not there yet."""
    out = list(headers)
    present = {name.lower() for name, _ in out}
    return out + [(name, value) for name, value in extra if name not in present]


def secure_cookies(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``; Secure`` added to every Set-Cookie that lacks it."""
    out = []
    for name, value in headers:
        if name.lower() == b"set-cookie" and b"secure" not in value.lower():
            value += b"; Secure"
        out.append((name, value))
    return out


class SecurityHeaders:
    """Add SECURITY_HEADERS to every HTTP response; over HTTPS also HSTS and Secure cookies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        extra = SECURITY_HEADERS + ((HSTS,) if https else ())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = add_missing(message.get("headers", ()), extra)
                message["headers"] = secure_cookies(headers) if https else headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------------- paths


def base_path() -> str:
    """``server.baseUrlPath`` as ``/path`` (``""`` at the root)."""
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


@cache
def streamlit_root_entries() -> frozenset[str]:
    """The files and folders at the top of Streamlit's static directory (favicon.png, …)."""
    return frozenset(os.listdir(file_util.get_static_dir()))


def classify(path: str, prefix: str = "") -> str:
    """What ``path`` is: "page", "metrics", "streamlit" (Streamlit answers it) or "unknown"."""
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        return "streamlit"
    rel = path[len(prefix) :].lstrip("/")
    if rel == "" or rel in {spec.url_path for spec in PAGE_SPECS}:
        return "page"
    if rel == "_stcore/metrics":
        return "metrics"
    if rel.endswith("/"):
        return "streamlit"  # Streamlit redirects /train/ to /train
    first = rel.split("/", 1)[0]
    if first in STREAMLIT_PREFIXES or first in streamlit_root_entries():
        return "streamlit"
    return "unknown"


@cache
def page_html(prefix: str) -> bytes:
    """Streamlit's index.html with the page guard, which knows the server is at ``prefix``."""
    index = Path(file_util.get_static_dir(), "index.html").read_text(encoding="utf-8")
    base = prefix.strip("/") + "/" if prefix else ""
    guard = PAGE_GUARD.read_text(encoding="utf-8").replace("__BASE__", base)
    guard = guard.replace("LOST_CODE = 4100", f"LOST_CODE = {LOST_SESSION_CODE}")
    if "<head>" not in index:  # pragma: no cover - guards a Streamlit upgrade
        raise RuntimeError("Streamlit's index.html has no <head>: check bptt_app.server")
    return index.replace("<head>", f"<head><script>{guard}</script>", 1).encode("utf-8")


def not_found_page(path: str, query: str, prefix: str = "") -> str:
    """A 404 page for ``path``: what happened, and every page with the link's settings."""
    suffix = f"?{query}" if query else ""
    links = "\n".join(
        f'<li><a href="{html.escape(prefix + "/" + spec.url_path + suffix)}">'
        f"{html.escape(spec.title)}</a></li>"
        for spec in PAGE_SPECS
    )
    shown = html.escape(urllib.parse.unquote(path))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>Page not found · {APP_TITLE}</title>
<style>body {{ font: 1.05rem/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;
padding: 0 1rem; }} code {{ overflow-wrap: anywhere; }}</style></head>
<body><h1>Page not found</h1>
<p>{APP_TITLE} has no page at <code>{shown}</code>. Its pages are below; each keeps the
settings of the link you followed.</p>
<ul>
{links}
</ul></body></html>
"""


def path_response(kind: str, scope: Scope, prefix: str) -> Response | None:
    """The response PagePaths gives for a request of ``kind``, or None to let Streamlit answer."""
    if kind == "page":
        return Response(
            page_html(prefix),
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )
    if kind == "metrics" and os.environ.get(METRICS_ENV) != "1":
        return PlainTextResponse("Not Found", status_code=404)
    if kind == "unknown":
        query = scope.get("query_string", b"").decode("latin-1")
        return HTMLResponse(not_found_page(scope["path"], query, prefix), status_code=404)
    return None


class PagePaths:
    """Answer the app's page paths, unknown paths and the metrics path (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            prefix = base_path()
            response = path_response(classify(scope["path"], prefix), scope, prefix)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)


# --------------------------------------------------------------------------- websocket


def is_clear_cache(data: bytes | None) -> bool:
    """Whether a websocket frame is a ``BackMsg`` asking to clear the server's caches."""
    if not data:
        return False
    message = BackMsg()
    try:
        message.ParseFromString(data)
    except Exception:  # not a BackMsg: Streamlit closes the connection itself
        return False
    return message.WhichOneof("type") == "clear_cache"


class IgnoreClearCache:
    """Drop ``clear_cache`` messages on Streamlit's websocket; everything else passes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or not scope["path"].endswith("/_stcore/stream"):
            await self.app(scope, receive, send)
            return
        ignored = 0

        async def receive_filtered() -> Message:
            nonlocal ignored
            while True:
                message = await receive()
                if message["type"] != "websocket.receive" or not is_clear_cache(
                    message.get("bytes")
                ):
                    return message
                ignored += 1
                if ignored == 1:  # once per connection: a client may repeat it
                    _LOGGER.warning("Ignored a client's clear_cache request (caches are shared)")

        await self.app(scope, receive_filtered, send)


def existing_session_id(scope: Scope) -> str | None:
    """The session a reconnecting websocket asks for: the third entry of its subprotocols
    (``streamlit, <xsrf token>, <session id>``, as Streamlit 1.67's frontend sends them)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"sec-websocket-protocol":
            entries = [v.strip() for v in value.decode("latin-1").split(",")]
            return entries[2] if len(entries) >= 3 and entries[2] else None
    return None


def session_known(session_id: str) -> bool:
    """Whether this server holds ``session_id`` (connected, or disconnected and resumable).
    True when it cannot tell: a lost session must never be reported wrongly."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return True
    manager = getattr(Runtime.instance(), "_session_mgr", None)  # Streamlit 1.67
    lookup = getattr(manager, "get_session_info", None)
    return True if lookup is None else lookup(session_id) is not None


class LostSessions:
    """Close a websocket that asks for a session this server does not have (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = None
        if scope["type"] == "websocket" and scope["path"].endswith("/_stcore/stream"):
            wanted = existing_session_id(scope)
        if wanted is None or session_known(wanted):
            await self.app(scope, receive, send)
            return
        _LOGGER.info("A page asked for session %s, which is gone: it reloads", wanted[:8])
        await receive()  # websocket.connect
        await send({"type": "websocket.accept", "subprotocol": "streamlit"})
        await send({"type": "websocket.close", "code": LOST_SESSION_CODE, "reason": "session lost"})


def server_middleware() -> list[Middleware]:
    """The middleware ``serve.py`` gives ``st.App``, outermost first."""
    return [
        Middleware(SecurityHeaders),
        Middleware(PagePaths),
        Middleware(LostSessions),
        Middleware(IgnoreClearCache),
    ]
