"""Many students at once: eight browser sessions on one ``streamlit run`` server.

One fresh server (``serve_app``), one headless Chromium, eight Playwright contexts (each its own
cookies, so its own Streamlit session), driven in interleaved rounds: every session acts, then
every session is waited for, so the server always has eight sessions running side by side.
Each session opens the app with its own text and settings in the URL, walks the step page a
different number of steps, visits the truncation page, trains a different number of updates on
Train live, goes back to the step page and returns to Train live (client-side navigation, same
session). One session is driven into divergence (η = 10⁶, SGD, no clipping), one has an empty
text (an error message on every page), one has HTML with an ``onerror`` script as its text, one
LaTeX specials. Every round checks that each session still shows its own text, its own step and
its own number of updates, that no exception box appears anywhere, and that no injected script
ran. The server's resident memory (its whole process group) is read before and after.

Playwright's sync API is not thread-safe, so there are no threads: one event loop, eight pages.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page

from bptt_app.settings import STEP_MAX_T, Settings
from tests.browser.conftest import assert_no_exception, serve_app, wait_idle
from tests.reliability._support import (
    DIVERGE_QUERY,
    PAGE_DIR,
    PAGE_TITLES,
    REPO_ROOT,
    alerts,
    group_rss_mib,
    metric,
    navigate,
    pid_listening_on,
    run_in_browser,
    sidebar_text,
    step_of,
    url,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

XSS_TEXT = '<b>bold</b><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
LATEX_TEXT = r"$x^2$ \alpha {y}_1 %&#~"
WAIT_MS = 120_000  # eight sessions on two cores: a first load can take a while
MAX_MIB_PER_SESSION = 60.0  # generous: measured at about 5-10 MiB (benchmarks/bench_sessions.py)


@dataclass
class Session:
    name: str
    text: str
    query: dict[str, str] = field(default_factory=dict)
    next_clicks: int = 0  # clicks on Next on the step page
    train_clicks: tuple[str, ...] = ()  # buttons clicked on Train live, one per round
    page: Page | None = None

    @property
    def T(self) -> int:  # timesteps of one pass: a long text is trained in chunks
        return min(len(self.text) - 1, Settings().seq_length, STEP_MAX_T)

    @property
    def updates(self) -> int:
        return sum(10 if b == "10 updates" else 1 for b in self.train_clicks)

    @property
    def broken(self) -> bool:  # an empty text: every page shows an error instead
        return len(self.text) < 2


SESSIONS = [
    Session("diverges", "divergence!", dict(DIVERGE_QUERY), 1, ("10 updates",)),
    Session("empty text", "", {}, 0, ()),
    Session("html", XSS_TEXT, {"hidden": "3"}, 2, ("1 update",)),
    Session("latex", LATEX_TEXT, {"hidden": "4", "notation": "Guo / Mikolov (V, U, W)"}, 3, ()),
    Session("unicode", "héllo wörld ✓ 日本", {"hidden": "6"}, 1, ("10 updates",)),
    Session("plain", "abcabcabd", {"hidden": "2", "seed": "7"}, 2, ("10 updates", "1 update")),
    Session("long", "the quick brown fox", {"hidden": "12", "k": "3"}, 3, ("1 update",) * 2),
    Session("tiny", "ab", {"hidden": "1"}, 1, ("10 updates", "10 updates")),
]


def wait_all(sessions: list[Session]) -> None:
    for s in sessions:
        wait_idle(s.page, timeout_ms=WAIT_MS)


def check_common(s: Session, where: str) -> None:
    """No exception box, no injected script ran, the session's own text in the sidebar."""
    page = s.page
    assert_no_exception(page)
    assert page.evaluate("() => window.__pwned") is None, f"{s.name}: a script ran ({where})"
    assert page.locator("img[src='x']").count() == 0, f"{s.name}: HTML was interpreted"
    main_bold = page.locator("[data-testid='stMain'] b", has_text="bold")
    assert main_bold.count() == 0, f"{s.name}: <b> from the text became bold ({where})"
    assert sidebar_text(page) == s.text, f"{s.name}: sidebar shows another text ({where})"
    if s.broken:
        shown = " ".join(alerts(page))
        assert "The training text is empty" in shown, f"{s.name}: no message ({where}): {shown}"


def check_step_page(s: Session) -> None:
    check_common(s, "step page")
    if s.broken:
        return
    assert step_of(s.page) == (s.next_clicks + 1, 2 * s.T + 1), (  # + the update step
        f"{s.name}: expected step {s.next_clicks + 1} of {2 * s.T + 1}, page shows {step_of(s.page)}"
    )
    errors = s.page.locator(".katex-error").all_inner_texts()
    assert not errors, f"{s.name}: KaTeX could not render {errors[:2]}"


def check_train_page(s: Session) -> None:
    check_common(s, "train page")
    if s.broken:
        return
    shown = " ".join(alerts(s.page))
    troubled = "diverged" in shown or "exploded" in shown
    if s.name == "diverges":
        assert troubled, f"{s.name}: no divergence message after η = 10⁶; alerts: {shown}"
        return
    assert not troubled, f"{s.name}: shows another session's divergence: {shown}"
    got = int(metric(s.page, "Updates").replace(",", ""))
    assert got == s.updates, f"{s.name}: {got} updates shown, made {s.updates}"


def test_eight_sessions_at_once_stay_independent() -> None:
    run_in_browser(eight_sessions)


def eight_sessions(browser: Browser) -> None:
    started = time.monotonic()
    contexts = []
    with serve_app() as base:
        server = pid_listening_on(int(base.rsplit(":", 1)[1]))
        rss_before = group_rss_mib(server)
        try:
            for s in SESSIONS:
                ctx = browser.new_context(viewport={"width": 1300, "height": 900})
                ctx.set_default_timeout(WAIT_MS)
                contexts.append(ctx)
                s.page = ctx.new_page()
            # all eight open at once, each with its own text and settings in the URL
            for s in SESSIONS:
                s.page.goto(url(base, "step", {"text": s.text, **s.query}), wait_until="commit")
            wait_all(SESSIONS)
            for s in SESSIONS:
                check_common(s, "first load")

            # step page: a different number of Next clicks per session, one round per click
            for r in range(max(s.next_clicks for s in SESSIONS)):
                active = [s for s in SESSIONS if s.next_clicks > r]
                for s in active:
                    s.page.get_by_role("button", name="Next", exact=True).click()
                wait_all(active)
            for s in SESSIONS:
                check_step_page(s)

            # truncation page, all at once
            for s in SESSIONS:
                navigate(s.page, "truncation", wait=False)
            wait_all(SESSIONS)
            for s in SESSIONS:
                check_common(s, "truncation page")
                heading = s.page.get_by_role("heading", name=PAGE_TITLES["truncation"])
                assert heading.count() >= 1, f"{s.name}: truncation page not shown"

            # Train live: each session its own updates; one diverges
            for s in SESSIONS:
                navigate(s.page, "train", wait=False)
            wait_all(SESSIONS)
            for r in range(max(len(s.train_clicks) for s in SESSIONS)):
                active = [s for s in SESSIONS if len(s.train_clicks) > r]
                for s in active:
                    s.page.get_by_role("button", name=s.train_clicks[r], exact=True).click()
                wait_all(active)
            for s in SESSIONS:
                check_train_page(s)

            # away and back: the server kept each session's state (and only its own)
            for target in ("step", "train"):
                for s in SESSIONS:
                    navigate(s.page, target, wait=False)
                wait_all(SESSIONS)
            for s in SESSIONS:
                check_train_page(s)
            rss_after = group_rss_mib(server)
        finally:
            for ctx in contexts:
                ctx.close()
    per_session = (rss_after - rss_before) / len(SESSIONS)
    print(
        f"\n{len(SESSIONS)} sessions held at once in {time.monotonic() - started:.0f} s; "
        f"server RSS {rss_before:.0f} MiB before, {rss_after:.0f} MiB with every session "
        f"open: {per_session:.1f} MiB per session (one-time imports included)"
    )
    assert per_session < MAX_MIB_PER_SESSION, (
        f"{per_session:.1f} MiB per session (before {rss_before:.0f}, after {rss_after:.0f})"
    )


def test_server_caches_are_bounded() -> None:
    """Every ``st.cache_data`` has ``max_entries`` and a ``ttl``; a ``st.cache_resource`` with
    arguments has ``max_entries`` (one without arguments holds a single object)."""
    files = [REPO_ROOT / "app.py"]
    for folder in (PAGE_DIR, "bptt_app"):
        files += sorted((REPO_ROOT / folder).rglob("*.py"))
    found, unbounded = 0, []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for deco in node.decorator_list:
                call = deco if isinstance(deco, ast.Call) else None
                target = call.func if call else deco
                kind = target.attr if isinstance(target, ast.Attribute) else ""
                if kind not in ("cache_data", "cache_resource"):
                    continue
                found += 1
                keys = {kw.arg for kw in call.keywords} if call else set()
                takes_args = bool(node.args.args or node.args.kwonlyargs or node.args.vararg)
                needed = {"max_entries", "ttl"} if kind == "cache_data" else set()
                if kind == "cache_resource" and takes_args:
                    needed = {"max_entries"}
                if needed - keys:
                    where = f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}"
                    unbounded.append(f"{where} lacks {sorted(needed - keys)}")
    assert found, "no caches found: has the code moved?"
    assert not unbounded, "unbounded server-side caches:\n" + "\n".join(unbounded)
