"""Stepping through training (issue 11): the step page shows the next pass of the session's
network (shared with Train live), ends it with the update, and moves on to the next pass."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bptt_app.settings import Settings
from bptt_app.step_player import cached_passes
from bptt_app.step_runs import JUMPS, TiedRun
from bptt_app.train_session import SESSION_KEY, TrainSession
from bptt_core import OPTIMIZERS, PARAM_NAMES, Trainer
from bptt_viz.player.payload import build_payload
from tests.conftest import assert_no_exception


def same(a, b) -> bool:
    return all(np.array_equal(getattr(a, n), getattr(b, n)) for n in PARAM_NAMES)


def player(at) -> dict:
    data = json.loads(at.get("bidi_component")[0].proto.json)
    data["pass"] = json.loads(data["pass"])
    return data


@pytest.mark.parametrize("schedule", ["sequence", "timestep"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("clip", ["none", "norm", "value"])
def test_stepping_n_updates_gives_the_trainers_weights_to_the_last_bit(optimizer, clip, schedule):
    settings = Settings(optimizer=optimizer, clip=clip, clip_threshold=0.5, schedule=schedule)
    sess = TrainSession(settings)
    reference = Trainer(settings.text, **settings.training().__dict__)
    for n in range(1, 6):
        shown = TiedRun(sess).records(1)[0]  # what the page shows before moving on
        online = schedule == "timestep"
        before = shown.steps[0].applied.before if online else shown.params
        assert shown.update == reference.updates and same(before, sess.trainer.params)
        TiedRun(sess).go("+1")
        reference.step()
        case = f"{optimizer}/{clip}/{schedule}: pass {n}"
        assert same(sess.trainer.params, reference.params), case
        last = shown.steps[-1].applied if online else shown.applied
        assert same(last.after, reference.params), f"{case}: the update shown is the one made"
    TiedRun(sess).go("+10")
    reference.train(10)
    assert same(sess.trainer.params, reference.params)
    assert sess.trainer.updates == reference.updates


def test_the_update_step_shows_the_loss_before_and_after():
    run = TiedRun(TrainSession(Settings()))
    record = run.records(1)[0]
    payload = build_payload(run.pass_input(record, "goodfellow"))
    assert payload["n"] == 9 and payload["labels"][8] == "Step 9 of 9 · update of the weights"
    status = next(p for p in payload["panels"] if p["id"] == "status")["slots"]["status"]
    last = status["table"][status["index"][8]]
    assert f"{record.fwd.loss:.4f}" in last and f"{record.loss_after:.4f}" in last
    assert record.loss_after < record.fwd.loss, "one update of 'hello' lowers its loss"
    update = next(p for p in payload["panels"] if p["id"] == "update")
    assert update["visible"] == [0] * 8 + [1]


def test_jumps_and_trained():
    sess = TrainSession(Settings())
    run = TiedRun(sess)
    run.go("+100")
    assert sess.trainer.updates == 100
    run.go("zero")
    assert sess.trainer.updates == 0
    run.go("trained")
    shown = run.records(1)[0]
    assert shown.fwd.loss / shown.fwd.T < 0.05, "“trained” opens a pass under 0.05 nats/char"
    assert 5 < sess.trainer.updates < 2000
    assert set(JUMPS) == {"+1", "+10", "+100"}


def test_the_pass_sent_ahead_is_the_pass_shown_after_moving_on():
    state: dict = {}
    run = TiedRun(TrainSession(Settings()))
    first, _, ahead = cached_passes(state, run, "goodfellow")
    run.go("+1")
    now, _, _ = cached_passes(state, run, "goodfellow")
    assert json.loads(now)["pass_id"] == json.loads(ahead)["pass_id"]
    assert json.loads(now)["update"] == 1 and json.loads(first)["update"] == 0


def test_a_link_opens_that_update_and_step_and_train_live_shows_the_same_network(app_test):
    at = app_test(query={"update": "25", "step": "3"})
    assert_no_exception(at)
    data = player(at)
    assert data["start"] == 2 and data["pass"]["update"] == 25
    assert data["pass"]["heading"].startswith("Pass 26 of training")
    reference = Trainer("hello")
    reference.train(25)
    sess = at.session_state[SESSION_KEY]
    assert same(sess.trainer.params, reference.params)
    at.switch_page("pages/train.py").run()
    assert_no_exception(at)
    assert at.session_state[SESSION_KEY] is sess and sess.trainer.updates == 25
    at.button(key="train_ten").click().run()
    at.switch_page("pages/step.py").run()
    assert_no_exception(at)
    assert player(at)["pass"]["update"] == 35, "the step page follows what Train live trained"
    assert at.query_params["update"] in ("35", ["35"])


@pytest.mark.parametrize("raw", ["abc", "-1", "999999999"])
def test_a_bad_update_in_a_link_gets_a_notice(app_test, raw):
    at = app_test(query={"update": raw})
    assert_no_exception(at)
    assert any("updates from 0 to" in w.value for w in at.warning), raw
    assert player(at)["pass"]["update"] == 0


def test_changing_the_architecture_restarts_with_a_notice(app_test):
    at = app_test(query={"update": "5"})
    at.sidebar.slider(key="hidden").set_value(6).run()
    assert_no_exception(at)
    assert any("restarted" in w.value for w in at.warning)
    assert player(at)["pass"]["update"] == 0


UNTIED = "untied: each copy its own"


def test_untied_copies_update_each_by_its_own_contribution(app_test):
    from bptt_core.untied import UntiedTrainer

    at = app_test(query={"tie": UNTIED, "update": "3"})
    assert_no_exception(at)
    data = player(at)["pass"]
    assert data["update"] == 3 and "untied copies after 3 updates" in data["heading"]
    ids = [p["id"] for p in data["panels"]]
    assert "update" in ids
    copies = next(p for p in data["panels"] if p["id"] == "update")
    assert copies["title"].startswith("Untied")
    reference = UntiedTrainer("hello")
    reference.train(3)
    run = at.session_state["_step_run"]
    for n in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(run.trainer.copies, n), getattr(reference.copies, n))
    # the shared tied network is untouched by untied stepping
    assert at.session_state[SESSION_KEY].trainer.updates == 0


def test_untied_needs_the_whole_text_in_one_pass(app_test):
    at = app_test(query={"tie": UNTIED})
    at.sidebar.text_area(key="text").input("abcdefghij" * 5).run()
    assert_no_exception(at)
    assert any("Untied copies need the whole text in one pass" in e.value for e in at.error)
    assert not at.get("bidi_component")


def test_an_online_pass_is_stepped_update_by_update(app_test):
    at = app_test(query={"sched": "online: one per timestep", "k": "2"})
    assert_no_exception(at)
    data = player(at)["pass"]
    # per t: forward, the error of L(t) at min(t, k) copies, the update: 4 + (1+2+2+2) + 4
    assert data["n"] == 15 and "online" in data["heading"]
    assert data["labels"][:4] == [
        "Step 1 of 15 · forward · copy t = 1",
        "Step 2 of 15 · the error of L(1) at copy 1",
        "Step 3 of 15 · update after L(1)",
        "Step 4 of 15 · forward · copy t = 2",
    ]
    reference = Trainer("hello", schedule="timestep", truncation=2)
    record = reference.step(record=True).record
    status = next(p for p in data["panels"] if p["id"] == "status")["slots"]["status"]
    assert f"{record.steps[1].trace.loss:.4f}" in status["table"][status["index"][3]]


def test_untied_copies_start_from_the_weights_set_by_hand_and_say_so():
    from bptt_app.step_runs import UntiedRun
    from bptt_core.untied import untie

    settings = Settings(text="abab", hidden_size=2, init="hand")
    assert settings.hand_weights_apply
    run = UntiedRun(settings)
    tied = Trainer(settings.text, **vars(settings.training())).params
    expected = untie(tied, run.trainer.corpus.T)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(
            getattr(run.trainer.copies, name), getattr(expected, name), err_msg=name
        )
    record = run.records(1)[0]
    caption = run.pass_input(record, settings.notation).caption
    assert "weights set by hand" in caption and "(sgd)" in caption, caption
    assert caption.endswith("untied"), caption
