"""A Streamlit browser session replayed over its websocket (for tests and benchmarks).

``ReplayClient`` speaks the protocol Streamlit's frontend speaks on ``/_stcore/stream``:
``BackMsg.rerun_script`` with the page, the link's query string and the widget states (every
value set so far, triggers once), and it reads the ``ForwardMsg`` stream: the widgets drawn
(their ids, found by the ``key`` they end with: Streamlit 1.67 ids are ``$$ID-<hash>-<key>``),
exception boxes, fragment timers (``auto_rerun``, kept like the frontend keeps them when
``follow_timers``) and the end of every run. Loopback only; no browser.

    async with ReplayClient(url, "truncation", "hidden=8") as s:
        seconds = await s.rerun()                   # open the page: one full run
        seconds = await s.click("trunc_run")        # a button: a run with its trigger
        await s.send_raw(bytes([40, 1]))            # anything else a client could send
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.parse
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = ForwardMsg.ScriptFinishedStatus
DONE = {FINISHED.FINISHED_SUCCESSFULLY, FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


def value_text(state: WidgetState) -> str:
    """A widget value as the frontend writes it into the address."""
    kind = state.WhichOneof("value")
    value = getattr(state, kind)
    if kind == "double_array_value":
        value = value.data[0] if len(value.data) == 1 else ",".join(f"{v:g}" for v in value.data)
    return f"{value:g}" if isinstance(value, float) else str(value)


def with_param(query: str, name: str, text: str) -> str:
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k != name]
    return urllib.parse.urlencode([*pairs, (name, text)])


class ReplayClient:
    """One replayed browser tab on ``base``/``page`` (see the module docstring)."""

    def __init__(
        self, base: str, page: str = "", query: str = "", follow_timers: bool = False
    ) -> None:
        self.base, self.page, self.query = base.rstrip("/"), page, query
        self.follow_timers = follow_timers
        self.page_hash = ""
        self.widgets: dict[str, str] = {}  # key → widget id (last drawn)
        self.elements: dict[str, Any] = {}  # key → the widget's element proto
        self.fragment_of: dict[str, str] = {}  # key → id of the fragment that drew it ("")
        self.values: dict[str, WidgetState] = {}  # widget id → the value this client set
        self.exceptions: list[str] = []
        self.texts: list[str] = []  # markdown and alert bodies of the current run
        self.bytes_received = 0
        self.runs_done = 0
        self.timers: dict[str, asyncio.Task] = {}
        self.ws: Any = None
        self._reader: asyncio.Task | None = None
        self._finished = asyncio.Event()
        self.on_element_hook = None  # optional callable(element proto)

    # ------------------------------------------------------------------ connection

    async def __aenter__(self) -> ReplayClient:
        from websockets.asyncio.client import connect

        url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await connect(
            url, subprotocols=["streamlit"], origin=self.base, max_size=None, open_timeout=60
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for task in self.timers.values():
            task.cancel()
        self.timers.clear()
        if self._reader:
            self._reader.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def send_raw(self, data: bytes) -> None:
        await self.ws.send(data)

    # ------------------------------------------------------------------ sending

    def rerun_message(
        self, trigger: WidgetState | None = None, fragment_id: str = "", auto: bool = False
    ) -> bytes:
        m = BackMsg()
        r = m.rerun_script
        r.query_string = self.query
        r.page_script_hash = self.page_hash
        if not self.page_hash:
            r.page_name = self.page
        r.fragment_id = fragment_id
        r.is_auto_rerun = auto
        states = dict(self.values)
        if trigger is not None:
            states[trigger.id] = trigger
        for state in states.values():
            r.widget_states.widgets.add().CopyFrom(state)
        r.context_info.timezone = "UTC"
        r.context_info.locale = "en-US"
        r.context_info.url = f"{self.base}/{self.page}" + (f"?{self.query}" if self.query else "")
        return m.SerializeToString()

    async def rerun(
        self, trigger: WidgetState | None = None, fragment_id: str = "", timeout: float = 120
    ) -> float:
        """Send one rerun and wait until a run finishes; the seconds it took."""
        self._finished.clear()
        t0 = time.perf_counter()
        await self.ws.send(self.rerun_message(trigger, fragment_id))
        await asyncio.wait_for(self._finished.wait(), timeout)
        return time.perf_counter() - t0

    def widget_id(self, key: str) -> str:
        if key not in self.widgets:
            raise KeyError(f"no widget with key {key!r} drawn (have {sorted(self.widgets)})")
        return self.widgets[key]

    async def click(self, key: str, fragment_id: str = "", timeout: float = 120) -> float:
        trigger = WidgetState(id=self.widget_id(key), trigger_value=True)
        return await self.rerun(trigger, fragment_id, timeout)

    async def component_event(
        self, key: str, event: str, value: Any, timeout: float = 120, fragment: bool = True
    ) -> float:
        """A ``setTriggerValue(event, value)`` of the st.components.v2 component ``key``: a
        rerun of the fragment that drew it (a full run without ``fragment``)."""
        import json

        trigger_id = f"$$STREAMLIT_INTERNAL_KEY_{self.widget_id(key)}__events"
        payload = json.dumps([{"event": event, "value": value}])
        trigger = WidgetState(id=trigger_id, json_trigger_value=payload)
        fragment_id = self.fragment_of.get(key, "") if fragment else ""
        return await self.rerun(trigger, fragment_id, timeout)

    async def set_value(self, key: str, timeout: float = 120, **value: Any) -> float:
        """Set a widget (``int_value=3``, ``string_value="x"``, …) and rerun. A widget bound to
        the address (``bind="query-params"``) also changes the query string, as the frontend
        writes it into the address bar."""
        state = WidgetState(id=self.widget_id(key), **value)
        self.values[state.id] = state
        param = getattr(self.elements.get(key), "query_param_key", "")
        if param:
            self.query = with_param(self.query, param, value_text(state))
        return await self.rerun(timeout=timeout)

    # ------------------------------------------------------------------ receiving

    async def _read(self) -> None:
        async for raw in self.ws:
            self.bytes_received += len(raw)
            m = ForwardMsg()
            m.ParseFromString(raw)
            self.on_message(m)

    def on_message(self, m: ForwardMsg) -> None:
        kind = m.WhichOneof("type")
        if kind == "new_session" and not m.metadata.run.fragment_ids:
            self.texts = []
            self._stop_timers()  # a full run: the frontend drops every timer
        elif kind == "navigation":
            self.page_hash = m.navigation.page_script_hash
        elif kind == "page_info_changed":  # the frontend writes it into the address bar
            self.query = m.page_info_changed.query_string
        elif kind == "delta" and m.delta.WhichOneof("type") == "new_element":
            self.on_element(m.delta.new_element, m.delta.fragment_id)
        elif kind == "auto_rerun" and self.follow_timers:
            self._start_timer(m.auto_rerun.fragment_id, m.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            self._stop_timers(list(m.stop_auto_rerun.fragment_ids))
        elif kind == "script_finished" and m.script_finished in DONE:
            self.runs_done += 1
            self._finished.set()

    def on_element(self, el: Any, fragment_id: str = "") -> None:
        kind = el.WhichOneof("type")
        if kind == "exception":
            self.exceptions.append(f"{el.exception.type}: {el.exception.message}")
        elif kind in ("markdown", "alert"):
            self.texts.append(getattr(el, kind).body)
        widget = getattr(el, kind, None) if kind else None
        wid = getattr(widget, "id", "") if widget is not None else ""
        if isinstance(wid, str) and wid.startswith("$$ID-"):
            key = wid.rsplit("-", 1)[-1]
            self.widgets[key] = wid
            self.elements[key] = widget
            self.fragment_of[key] = fragment_id
        if self.on_element_hook is not None:
            self.on_element_hook(el)

    # ------------------------------------------------------------------ fragment timers

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        self._stop_timers([fragment_id])

        async def tick() -> None:
            while True:
                await asyncio.sleep(interval)
                m = self.rerun_message(fragment_id=fragment_id, auto=True)
                await self.ws.send(m)

        self.timers[fragment_id] = asyncio.create_task(tick())

    def _stop_timers(self, ids: list[str] | None = None) -> None:
        for fid in list(self.timers if ids is None else ids):
            task = self.timers.pop(fid, None)
            if task is not None:
                task.cancel()
