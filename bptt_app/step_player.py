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
from bptt_app.train_session import SESSION_KEY, TrainSession, session
from bptt_core.records import PassRecord
from bptt_viz.notation import get_notation
from bptt_viz.player.payload import PassInput, build_payload
from bptt_viz.player.steps import parse_step
from bptt_viz.player.update import UpdateInput

ASSETS = Path(__file__).parent / "assets"
PLAYER_KEY = "step_player"
PASS_KEY = "_step_pass"  # session: (key, payload JSON, steps, next JSON) of the pass shown
AHEAD_KEY = "_step_ahead"  # session: (key, payload JSON, steps) of the pass sent ahead
WRITTEN_KEY = "_step_update_written"  # session: the ?update= this page last wrote
TRAINED_PER_CHAR = 0.05  # "trained": the loss per character of "hello" the Trainer reaches
TRAINED_CAP = 2000  # … or at most this many updates
MAX_LINK_UPDATES = 20_000  # a link's ?update= beyond this is refused with a notice
JUMPS = {"+1": 1, "+10": 10, "+100": 100}

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


def pass_heading(record: PassRecord, T: int, text_length: int) -> str:
    """“Pass 4 of training: the network after 3 updates” (and which chunk, for long texts)."""
    u = record.update
    after = "the initial weights" if u == 0 else f"the network after {u:,} update{'s' * (u != 1)}"
    where = ""
    if T < text_length - 1:
        start = record.chunk_start
        where = f", characters {start + 1}–{start + T + 1} of {text_length:,}"
    return f"Pass {u + 1:,} of training: {after}{where}"


def pass_input(record: PassRecord, sess: TrainSession, notation: str) -> PassInput:
    """The player's view of one recorded pass of the session's trainer."""
    tr = sess.trainer
    s, corpus = tr.settings, tr.corpus
    T, start = record.fwd.T, record.chunk_start
    update = None
    if record.applied is not None:
        update = UpdateInput(
            record=record.applied,
            optimizer=s.optimizer,
            learning_rate=s.learning_rate,
            clip=s.clip,
            clip_threshold=s.clip_threshold,
            loss=record.fwd.loss,
            loss_after=record.loss_after,
            updates_before=record.update,
            truncation=s.truncation if s.truncation is not None and s.truncation < T else None,
        )
    text = corpus.text[start : start + T + 1]
    return PassInput(
        notation=get_notation(notation),
        config=tr.config,
        params=record.params,
        fwd=record.fwd,
        bwd=record.bwd,
        vocab=corpus.vocab,
        input_chars=tuple(text[:-1]),
        target_chars=tuple(text[1:]),
        update=update,
        heading=pass_heading(record, T, len(corpus.text)),
    )


def next_passes(sess: TrainSession, count: int = 2) -> list[PassRecord]:
    """The next ``count`` passes the session's network makes, recorded on a fork (nothing
    changes here): the one to show, and the one after it, sent ahead so that moving on to it
    needs no wait."""
    twin, out = sess.trainer.fork(), []
    with np.errstate(all="ignore"):
        for _ in range(count):
            result = twin.step(record=True)
            out.append(result.record)
            if result.diverged:
                break
    return out  # type: ignore[return-value]


def to_json(record: PassRecord, sess: TrainSession, notation: str) -> tuple[str, int]:
    with np.errstate(all="ignore"):
        payload = build_payload(pass_input(record, sess, notation))
    return json.dumps(payload, separators=(",", ":"), allow_nan=False), payload["n"]


def cached_passes(state: MutableMapping, sess: TrainSession, notation: str) -> tuple:
    """(pass JSON, steps, next pass JSON or ""), kept in the session until the network or the
    notation changes; when the student moved on to the pass sent ahead, it is reused."""
    tr = sess.trainer
    key = (id(tr), sess.epoch, sess.uploads, tr.updates, tr.settings, notation)
    kept = state.get(PASS_KEY)
    if kept is not None and kept[0] == key:
        return kept[1:]
    records = next_passes(sess)
    ahead = state.get(AHEAD_KEY)
    if ahead is not None and ahead[0] == key:  # the pass sent ahead is this one
        shown = ahead[1:]
    else:
        shown = to_json(records[0], sess, notation)
    after = to_json(records[1], sess, notation) if len(records) > 1 else ("", 0)
    next_key = (id(tr), sess.epoch, sess.uploads, tr.updates + 1, tr.settings, notation)
    state[AHEAD_KEY] = (next_key, *after)
    state[PASS_KEY] = (key, *shown, after[0])
    return (*shown, after[0])


# --------------------------------------------------------------------------- moving on


def train_until_trained(sess: TrainSession) -> None:
    """Updates until the next pass's loss per character is under TRAINED_PER_CHAR (or a cap)."""
    tr = sess.trainer
    for _ in range(TRAINED_CAP):
        with np.errstate(all="ignore"):
            result = tr.step(record=True)
        record = result.record
        if result.diverged or record is None:
            break
        if record.loss_after / result.chunk_length < TRAINED_PER_CHAR:
            break
    sess.last = None


def go(sess: TrainSession, action: str) -> None:
    """Make the updates a jump asks for on the session's network (shared with Train live)."""
    if action == "zero":
        sess.reset()
    elif action == "trained":
        train_until_trained(sess)
    elif action in JUMPS:
        sess.train(JUMPS[action])


def on_goto() -> None:
    """The player's trigger: another pass of training."""
    value = st.session_state.get(PLAYER_KEY)
    action = getattr(value, "goto", None) if value is not None else None
    if action is None and isinstance(value, dict):
        action = value.get("goto")
    if not isinstance(action, str):
        return
    sess = st.session_state.get(SESSION_KEY)
    if isinstance(sess, TrainSession):
        go(sess, action)


# --------------------------------------------------------------------------- the page


def follow_link(sess: TrainSession, state: MutableMapping, raw: object) -> Problem | None:
    """A link's ?update=: recompute the network to that update (from the seed and settings)."""
    if raw is None or raw == state.get(WRITTEN_KEY) or raw == str(sess.trainer.updates):
        return None
    text = str(raw).strip()
    if not text.isdigit() or int(text) > MAX_LINK_UPDATES:
        shown = text if len(text) <= 20 else text[:17] + "…"
        return Problem(
            f"The link asked for update “{shown}”; updates from 0 to {MAX_LINK_UPDATES:,} can be "
            f"opened. Showing update {sess.trainer.updates:,}.",
            "warning",
        )
    sess.reset()
    sess.train(int(text))
    return Problem(
        f"Opened at update {sess.trainer.updates:,} as the link asked: the network was trained "
        "again from its seed with these settings (Train live shows the same network).",
        "info",
    )


def text_notices(settings: Settings, sess: TrainSession) -> list[Problem]:
    out = []
    T = sess.pass_length
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


def step_page_view(settings: Settings, query: MutableMapping) -> StepPageView:
    """Sync the session's network with the sidebar, follow a link, and give the pass to show."""
    state = st.session_state
    sess = session(state, settings)
    notices = []
    change = sess.sync(settings, settings.notation_obj)
    if change is not None:
        notices.append(Problem(change.message, change.level))
    if sess.pass_length > STEP_MAX_T:
        notices.append(
            Problem(
                f"A pass here would unfold {sess.pass_length} timesteps; the step page unfolds "
                f"at most {STEP_MAX_T}. Set the chunk length to {STEP_MAX_T} or less.",
                "error",
            )
        )
        return StepPageView(notices, "", 0, "", 0, sess.trainer.updates)
    link = follow_link(sess, state, query.get("update"))
    notices += [p for p in (link,) if p is not None] + text_notices(settings, sess)
    payload, steps, ahead = cached_passes(state, sess, settings.notation)
    start, problem = parse_step(query.get("step"), steps)
    if problem:
        notices.append(Problem(problem, "warning"))
    updates = sess.trainer.updates
    state[WRITTEN_KEY] = query["update"] = str(updates)
    return StepPageView(notices, payload, steps, ahead, start, updates)


@st.fragment
def stepper(settings: Settings) -> None:
    """The page's notices and the player, as one fragment: moving to another pass (the player's
    trigger) reruns only this, not the page and its sidebar."""
    view = step_page_view(settings, st.query_params)
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
