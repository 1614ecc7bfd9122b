"""Faults a class meets: a server restart, a reload mid-play, 30 s without network, a closed tab,
and hundreds of sessions that came and went (issue 15).

What must hold: the page comes back by itself with the settings and the step of its address,
says what was lost (a network trained on Train live and not downloaded), never shows a
traceback, and "Download parameters" works after a restart (it used to do nothing: "session ID
mismatch"); a tab's work stops when it closes; memory does not grow with sessions that left.

How: ``serve.py`` closes a websocket that reconnects to a session the server no longer has
(code 4100, ``bptt_app.server.LostSessions``) and the page guard it puts into every page
(``bptt_app/assets/page_guard.js``) reloads the page from its address and shows a notice.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import assert_no_exception, open_app, wait_idle, watch_console
from tests.reliability import _aio as aio
from tests.reliability._replay import ReplayClient
from tests.reliability._servers import CuttableProxy, RestartableServer, cpu_seconds
from tests.reliability._support import metric, new_page, rss_kib, run_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTICE = "[data-testid='bpttSessionLost']"
TEXT = "abcdefgh"


def player(page: Page) -> dict[str, str]:
    """The step page player's step and update (its shadow DOM is open to Playwright)."""
    p = page.locator(".player[data-step]").first
    p.wait_for(timeout=60_000)
    return {"step": p.get_attribute("data-step"), "update": p.get_attribute("data-update")}


def wait_player(page: Page, step: int, update: int) -> None:
    deadline = time.monotonic() + 60
    while player(page) != {"step": str(step), "update": str(update)}:
        assert time.monotonic() < deadline, f"player at {player(page)}, not step {step}"
        page.wait_for_timeout(200)


def wait_updates(page: Page, want: str) -> None:
    deadline = time.monotonic() + 60
    while metric(page, "Updates") != want:
        assert time.monotonic() < deadline, f"Updates {metric(page, 'Updates')}, not {want}"
        page.wait_for_timeout(200)


# --------------------------------------------------------------------------- restart


def restart_scenario(browser: Browser, server: RestartableServer) -> None:
    step, train = new_page(browser), new_page(browser)
    errors = {id(p): watch_console(p) for p in (step, train)}
    open_app(step, f"{server.url}/?text={TEXT}&hidden=5&update=3&step=6", timeout_ms=90_000)
    wait_player(step, 6, 3)
    open_app(train, f"{server.url}/train?text={TEXT}&hidden=5")
    train.get_by_role("button", name="10 updates", exact=True).click()
    wait_updates(train, "10")

    server.restart()
    for p in (step, train):  # each page reloads by itself and says so
        expect(p.locator(NOTICE)).to_be_visible(timeout=90_000)
        errors[id(p)].clear()  # the outage's connection errors are the browser's, not ours
        wait_idle(p, timeout_ms=60_000)
        assert_no_exception(p)
    assert "lost" in step.locator(NOTICE).inner_text()
    wait_player(step, 6, 3)  # the step and the update came back from the address
    assert f"text={TEXT}" in step.url and "step=6" in step.url
    wait_updates(train, "0")  # the trained network is gone, as the notice says
    assert "Train live" in train.locator(NOTICE).inner_text()
    with train.expect_download(timeout=30_000) as download:
        train.get_by_role("button", name="Download parameters (.npz)").click()
    assert download.value.suggested_filename.endswith(".npz")
    train.locator(NOTICE).get_by_role("button", name="Dismiss").click()
    expect(train.locator(NOTICE)).to_have_count(0)
    for p in (step, train):
        assert errors[id(p)] == [], errors[id(p)]
        p.context.close()


def test_after_a_server_restart_pages_come_back_and_downloads_work():
    with RestartableServer() as server:
        run_in_browser(lambda browser: restart_scenario(browser, server))
        assert server.tracebacks() == []
        assert "which is gone: it reloads" in server.output()


# --------------------------------------------------------------------------- reload


def reload_scenario(browser: Browser, url: str) -> None:
    step = new_page(browser)
    errors = watch_console(step)
    open_app(step, f"{url}/?text={TEXT}&hidden=5", timeout_ms=90_000)
    step.get_by_role("button", name="Play", exact=True).click()
    step.wait_for_timeout(1500)
    step.reload(wait_until="domcontentloaded")  # mid-play
    wait_idle(step, timeout_ms=60_000)
    at = int(re.search(r"[?&]step=(\d+)", step.url).group(1))
    assert at > 1, "the player never wrote its step into the address"
    assert player(step)["step"] == str(at), "the reloaded page is not at its address's step"
    expect(step.locator(NOTICE)).to_have_count(0)  # nothing was lost on the step page
    assert_no_exception(step)

    train = new_page(browser)
    errors += watch_console(train)
    open_app(train, f"{url}/train?text={TEXT}&hidden=5")
    train.get_by_role("button", name="Play", exact=True).click()
    train.wait_for_timeout(3000)
    train.reload(wait_until="domcontentloaded")
    wait_idle(train, timeout_ms=60_000)
    expect(train.locator(NOTICE)).to_contain_text("Reloading started a new session")
    wait_updates(train, "0")
    assert f"text={TEXT}" in train.url
    assert_no_exception(train)
    assert errors == [], errors


def test_a_reload_mid_play_comes_back_from_the_address_and_says_what_is_lost():
    with RestartableServer() as server:
        run_in_browser(lambda browser: reload_scenario(browser, server.url))
        assert server.tracebacks() == []


# --------------------------------------------------------------------------- outage


def outage_scenario(browser: Browser, proxy: CuttableProxy) -> None:
    page = new_page(browser)
    open_app(page, f"{proxy.url}/train?text={TEXT}&hidden=5", timeout_ms=90_000)
    page.get_by_role("button", name="10 updates", exact=True).click()
    wait_updates(page, "10")
    proxy.cut()
    page.wait_for_timeout(30_000)  # 30 s without network
    proxy.restore()
    page.wait_for_function(  # reconnected: Streamlit's connection dialog is gone
        "() => !document.querySelector('[role=dialog]')", timeout=90_000
    )
    wait_idle(page, timeout_ms=60_000)
    expect(page.locator(NOTICE)).to_have_count(0)  # the same session: nothing lost
    assert metric(page, "Updates") == "10", "the session did not survive 30 s offline"
    page.get_by_role("button", name="10 updates", exact=True).click()
    wait_updates(page, "20")
    assert_no_exception(page)
    page.context.close()


def test_thirty_seconds_offline_keeps_the_session():
    with RestartableServer() as server:
        proxy = CuttableProxy(server.port)
        try:
            run_in_browser(lambda browser: outage_scenario(browser, proxy))
        finally:
            proxy.close()
        assert server.tracebacks() == []


# --------------------------------------------------------------------------- closed tab


async def play_then_vanish(url: str, pid: int) -> tuple[float, float]:
    """CPU share of the server while one replayed student plays Train live, and after the
    student's tab is gone (its websocket dropped mid-play)."""
    client = ReplayClient(url, "train", f"text={TEXT}", follow_timers=True)
    await client.__aenter__()
    await client.rerun()
    await client.click("train_play")
    await asyncio.sleep(4)
    c0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(6)
    playing = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
    client.ws.transport.abort()  # no close handshake: a killed tab
    await client.close()
    await asyncio.sleep(4)
    c0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(8)
    return playing, (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def test_a_tab_closed_mid_training_stops_costing_the_server():
    with RestartableServer() as server:
        playing, after = aio.run(play_then_vanish(server.url, server.pid))
        assert server.tracebacks() == []
    assert playing > 0.02, f"the student was not training ({playing:.3f} of a core)"
    assert after < 0.03, f"the server still works {after:.3f} of a core for a closed tab"


# --------------------------------------------------------------------------- memory

ROUNDS, PER_ROUND, AT_ONCE = 5, 100, 10
WARM_UP, LATE = 2, 2  # rounds that set the mark; last rounds whose floor is held to it
SESSION_TTL_S = 10  # server.disconnectedSessionTTL for this test (120 s in production)


async def one_student(url: str, i: int) -> list[str]:
    """A session that does what students do, then leaves: its own text on the step page and
    two more passes, 10 updates on Train live, the Truncation page."""
    text = f"student {i} writes {i * 7919 % 10007}"
    async with ReplayClient(url, "", f"text={text.replace(' ', '+')}&hidden=8") as s:
        await s.rerun()
        for _ in range(2):
            await s.component_event("step_player", "goto", "+1")
        s.page, s.page_hash = "train", ""
        await s.rerun()
        await s.click("train_ten")
        s.page, s.page_hash = "truncation", ""
        await s.rerun()
        return s.exceptions


async def a_round(url: str, first: int) -> list[str]:
    gate = asyncio.Semaphore(AT_ONCE)

    async def guarded(i: int) -> list[str]:
        async with gate:
            return await one_student(url, i)

    found = await asyncio.gather(*(guarded(first + i) for i in range(PER_ROUND)))
    return [e for f in found for e in f]


async def short_visit(url: str) -> None:
    async with ReplayClient(url, "derivation") as s:
        await s.rerun()


def settled_rss_mib(url: str, pid: int) -> float:
    """RSS once the round's sessions have expired (one short visit lets the store drop them)."""
    time.sleep(SESSION_TTL_S + 3)
    aio.run(short_visit(url))
    samples = []
    for _ in range(3):
        time.sleep(1)
        samples.append(rss_kib(pid) / 1024)
    return statistics.median(samples)


def test_memory_does_not_grow_with_sessions_that_came_and_went():
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(SESSION_TTL_S)}
    with RestartableServer(env=env) as server:
        rss = [rss_kib(server.pid) / 1024]
        for r in range(ROUNDS):
            exceptions = aio.run(a_round(server.url, r * PER_ROUND))
            assert exceptions == [], exceptions[:5]
            rss.append(settled_rss_mib(server.url, server.pid))
        assert server.tracebacks() == []
    # The first rounds set the high-water mark (imports, full caches, the allocator's arenas),
    # and the floor of the last rounds stays within 5 % of it. A settled RSS jumps up to ±7 %
    # from one round to the next with no trend (8 rounds: 316 301 305 306 308 303 323 292 MiB;
    # in CI: 289 282 300 293 315), so a single round, or a mean that one jump can carry, fails on
    # noise; a leak lifts every round, the floor too: 75 kB kept per session (7.5 MB a round)
    # lifts it 15 MB, 5 %, in the 2 rounds between the mark and the last rounds.
    rounds = [round(x) for x in rss[1:]]
    mark, floor = max(rss[1 : 1 + WARM_UP]), min(rss[-LATE:])
    print(f"RSS MiB: start {rss[0]:.0f}, after each round {rounds}")
    assert floor / mark - 1 <= 0.05, (
        f"RSS grew {floor / mark - 1:.1%} from the first {WARM_UP} rounds' mark ({mark:.0f} MiB) "
        f"to the floor of the last {LATE} rounds ({floor:.0f} MiB); after each round: {rounds}"
    )
