"""The browser stepper of the "Step through BPTT" page: the component and the pass it shows.

The page steps through the session's network, the one "Train live" trains (one network per
session, ``bptt_app.train_session``): the pass shown is the next pass of that training, looked
at on a fork of the trainer (``Trainer.fork``, ``step(record=True)``) so that nothing changes
until the student moves on. Moving to another pass (the player's "Next" at the update step, or a
jump) makes the update(s) on the session's trainer itself, so both pages stay on one network.

Within a pass everything happens in the browser: the pass is turned into the player's payload
(``bptt_viz.player``) once, and the component (``assets/step_player.js``/``.css``, inline, no
build, nothing fetched from another host) steps through it. The step (``?step=``) and the update
(``?update=``) are in the address bar; a link's update is recomputed from the seed and settings.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from bptt_app.settings import STEP_MAX_T, Problem, Settings
from bptt_app.state import show_problems
from bptt_app.step_runs import TiedRun, UntiedRun, untied_run
from bptt_app.train_session import session
from bptt_viz.player.online import OnlineInput, build_online_payload
from bptt_viz.player.payload import build_payload
from bptt_viz.player.steps import parse_step

ASSETS = Path(__file__).parent / "assets"
PLAYER_KEY = "step_player"
PASS_KEY = "_step_pass"  # session: (key, payload JSON, steps, next JSON) of the pass shown
RUN_KEY = "_step_run"  # session: the run the page steps through (tied or untied)
AHEAD_KEY = "_step_ahead"  # session: (key, payload JSON, steps) of the pass sent ahead
WRITTEN_KEY = "_step_update_written"  # session: the ?update= this page last wrote
MAX_LINK_UPDATES = 20_000  # a link's ?update= beyond this is refused with a notice
TOO_LONG = (
    "A pass here would unfold {T} timesteps; the step page unfolds at most {M}. Set the chunk "
    "length to {M} or less."
)
UNTIED_ONE_PASS = (
    "Untied copies need the whole text in one pass (one copy per position), but it is trained "
    "in chunks of {T}: use a text of at most {T} + 1 characters, or a longer chunk length."
)
UNTIED_FRESH = (
    "Untied copies start from the sidebar's network, written as one copy per position, and "
    "train here only (plain gradient steps with η): Train live keeps the tied network."
)

_player = st.components.v2.component(
    "bptt_step_player",
    html="",
    css=(ASSETS / "step_player.css").read_text(encoding="utf-8"),
    js=(ASSETS / "step_player.js").read_text(encoding="utf-8"),
    isolate_styles=True,
)


@dataclass(frozen=True)
class StepPageView:
    """What the step page shows besides the player: notices, then the player's data."""

    notices: list[Problem]
    payload: str  # the pass as JSON text (bptt_viz.player format)
    steps: int  # number of steps of the pass
    ahead: str  # the next pass as JSON text ("" if there is none)
    start: int  # 0-based step to open at
    update: int  # updates made before the pass shown


# --------------------------------------------------------------------------- the pass

Run = TiedRun | UntiedRun


def to_json(run: Run, record: object, notation: str) -> tuple[str, int]:
    view = run.pass_input(record, notation)  # type: ignore[arg-type]
    with np.errstate(all="ignore"):
        if isinstance(view, OnlineInput):
            payload = build_online_payload(view)
        else:
            payload = build_payload(view)
    return json.dumps(payload, separators=(",", ":"), allow_nan=False), payload["n"]


def cached_passes(state: MutableMapping, run: Run, notation: str) -> tuple[str, int, str]:
    """(pass JSON, steps, next pass JSON or ""), kept in the session until the network or the
    notation changes. The next pass is sent ahead; once the student moved on to it, it is
    reused."""
    key = (*run.key(), notation)
    kept = state.get(PASS_KEY)
    if kept is not None and kept[0] == key:
        return kept[1:]
    records = run.records(2)
    ahead = state.get(AHEAD_KEY)
    shown = (
        ahead[1:] if ahead is not None and ahead[0] == key else to_json(run, records[0], notation)
    )
    after = to_json(run, records[1], notation) if len(records) > 1 else ("", 0)
    state[AHEAD_KEY] = ((*run.key(run.updates + 1), notation), *after)
    state[PASS_KEY] = (key, *shown, after[0])
    return (*shown, after[0])


def on_goto() -> None:
    """The player's trigger: another pass of training, on the run the page shows."""
    value = st.session_state.get(PLAYER_KEY)
    action = getattr(value, "goto", None) if value is not None else None
    if action is None and isinstance(value, dict):
        action = value.get("goto")
    run = st.session_state.get(RUN_KEY)
    if isinstance(action, str) and isinstance(run, TiedRun | UntiedRun):
        run.go(action)


# --------------------------------------------------------------------------- the page


def follow_link(run: Run, state: MutableMapping, raw: object) -> Problem | None:
    """A link's ?update=: recompute the network to that update (from the seed and settings)."""
    if raw is None or raw == state.get(WRITTEN_KEY) or raw == str(run.updates):
        return None
    text = str(raw).strip()
    if not text.isdigit() or int(text) > MAX_LINK_UPDATES:
        shown = text if len(text) <= 20 else text[:17] + "…"
        return Problem(
            f"The link asked for update “{shown}”; updates from 0 to {MAX_LINK_UPDATES:,} can be "
            f"opened. Showing update {run.updates:,}.",
            "warning",
        )
    run.reset_to(int(text))
    if run.updates < int(text):
        return Problem(
            f"The link asked for update {int(text):,}; training again from the seed reached "
            f"update {run.updates:,} in the time one link may take. Use +100 or “To trained” "
            "to go on.",
            "warning",
        )
    return Problem(
        f"Opened at update {run.updates:,} as the link asked: the network was trained again "
        "from its seed with these settings.",
        "info",
    )


def text_notices(settings: Settings, run: Run) -> list[Problem]:
    out = []
    T = run.sess.pass_length if isinstance(run, TiedRun) else run.trainer.corpus.T
    if len(settings.text) > T + 1:
        out.append(
            Problem(
                f"Your text has {len(settings.text):,} characters. Training goes through it in "
                f"chunks of {T} steps (the sidebar's chunk length): each pass below is one chunk, "
                "its hidden state carried over from the chunk before.",
                "info",
            )
        )
    k = settings.k
    if k is not None and k >= T:
        out.append(
            Problem(
                f"Truncation k = {k} is at least T = {T}: every loss reaches every copy, so this "
                "is full BPTT.",
                "info",
            )
        )
    return out


def choose_run(settings: Settings, untied: bool, notices: list[Problem]) -> Run | None:
    """The run this page steps through (the session's RNN, or untied copies), synced with the
    sidebar; None (with an error notice) when the passes are too long to unfold here."""
    state = st.session_state
    sess = session(state, settings)
    change = sess.sync(settings, settings.notation_obj)
    if change is not None:
        notices.append(Problem(change.message, change.level))
    T = sess.pass_length
    if untied and len(settings.text) - 1 > T:
        notices.append(Problem(UNTIED_ONE_PASS.format(T=T), "error"))
        return None
    if T > STEP_MAX_T:
        notices.append(Problem(TOO_LONG.format(T=T, M=STEP_MAX_T), "error"))
        return None
    if not untied:
        return TiedRun(sess)
    run, fresh = untied_run(state, settings)
    if fresh and state.get(RUN_KEY) is not None:
        notices.append(Problem(UNTIED_FRESH, "info"))
    return run


def step_page_view(settings: Settings, query: MutableMapping, untied: bool) -> StepPageView:
    """Sync the network with the sidebar, follow a link, and give the pass to show."""
    state, notices = st.session_state, []
    run = choose_run(settings, untied, notices)
    state[RUN_KEY] = run
    if run is None:
        return StepPageView(notices, "", 0, "", 0, 0)
    link = follow_link(run, state, query.get("update"))
    notices += [p for p in (link,) if p is not None] + text_notices(settings, run)
    payload, steps, ahead = cached_passes(state, run, settings.notation)
    start, problem = parse_step(query.get("step"), steps)
    if problem:
        notices.append(Problem(problem, "warning"))
    state[WRITTEN_KEY] = query["update"] = str(run.updates)
    return StepPageView(notices, payload, steps, ahead, start, run.updates)


@st.fragment
def stepper(settings: Settings, untied: bool = False) -> None:
    """The page's notices and the player, as one fragment: moving to another pass (the player's
    trigger) reruns only this, not the page and its sidebar."""
    view = step_page_view(settings, st.query_params, untied)
    if not show_problems(view.notices):
        show_player(view)


def show_player(view: StepPageView) -> None:
    """Mount the player (one per page; it keeps its step across reruns)."""
    _player(
        data={"pass": view.payload, "next": view.ahead, "start": view.start},
        key=PLAYER_KEY,
        height="content",
        on_goto_change=on_goto,
    )
