"""Issue 12, the defects of Train live and of the shared sidebar, each as the user meets it.

These tests drive the app only through AppTest (no import of the app's modules), so the same
file runs against an older checkout too: each failed there before its fix.
"""

from __future__ import annotations

import pytest

from tests.conftest import assert_no_exception

TRAIN = "pages/train.py"
PAGES = ["pages/step.py", "pages/truncation.py", "pages/train.py"]
LIMIT = "5,000"


def shown_text(at) -> str:
    """Every message, caption and Markdown text of the last run (main area and sidebar)."""
    parts = [e.value for e in at.error] + [w.value for w in at.warning]
    parts += [i.value for i in at.info] + [c.value for c in at.caption]
    parts += [m.value for m in at.markdown]
    return "\n".join(parts)


def loss_metric(at) -> str:
    return next(m.value for m in at.metric if m.label.startswith("Loss"))


def test_9_the_text_counter_and_the_limit_agree(app_test):
    at = app_test(TRAIN)
    box = at.sidebar.text_area(key="text")
    assert box.proto.max_chars in (0, 5_000), (
        f"the text box counts to {box.proto.max_chars:,} while texts over {LIMIT} are refused"
    )
    captions = [c.value for c in at.sidebar.caption]
    assert any(f"5 / {LIMIT} characters" in c for c in captions), captions
    box.input("ab" * 3_000).run()  # 6,000 characters: refused with a message, never cut
    assert_no_exception(at)
    assert at.sidebar.text_area(key="text").value == "ab" * 3_000, "the text was cut"
    errors = " ".join(e.value for e in at.error)
    assert "6,000 characters" in errors and f"the limit is {LIMIT}" in errors, errors
    assert any("too long" in c.value for c in at.sidebar.caption)


def test_10_captions_name_the_orange_marks_orange(app_test):
    at = app_test(TRAIN)
    at.button(key="train_ten").click().run()
    text = shown_text(at).lower()
    for wrong in ("red dots", "red squares"):
        assert wrong not in text, f"a caption says “{wrong}” where the marks are orange"
    assert "orange dots" in text and "orange squares" in text


def test_11_a_loss_stuck_far_above_chance_is_explained(app_test):
    at = app_test(TRAIN, query={"lr": "5", "opt": "SGD", "clip": "none"})
    for _ in range(4):
        at.button(key="train_ten").click().run()
    assert_no_exception(at)
    warnings = " ".join(w.value for w in at.warning) + " ".join(e.value for e in at.error)
    assert "above chance" in warnings, f"no explanation of a loss ~20× chance: {warnings!r}"
    assert "learning rate" in warnings


def test_12_a_huge_loss_is_written_readably(app_test):
    at = app_test(TRAIN, query={"lr": "1000000", "opt": "SGD", "clip": "none", "act": "relu"})
    at.button(key="train_one").click().run()
    at.button(key="train_one").click().run()
    assert_no_exception(at)
    value = loss_metric(at)
    assert len(value) <= 10 and "e" in value, f"the loss metric reads {value!r}"
    assert float(value) > 1e6


@pytest.mark.parametrize("page", PAGES)
def test_13_ignored_link_values_are_named_with_what_was_used(app_test, page):
    at = app_test(page, query={"hidden": "100000", "k": "-3", "seed": "abc"})
    assert_no_exception(at)
    notes = " ".join(w.value for w in at.sidebar.warning)
    for said in ("Hidden units H “100000”", "Truncation k “\\-3”", "Random seed “abc”"):
        assert said in notes, f"{page}: the sidebar does not say {said!r}: {notes!r}"
    assert "8 is used instead" in notes and "0 is used instead" in notes
    at.sidebar.slider(key="hidden").set_value(5).run()  # a change of settings: note gone
    assert not at.sidebar.warning


def test_13_a_link_whose_values_all_fit_says_nothing(app_test):
    at = app_test(TRAIN, query={"hidden": "5", "lr": "0.1", "act": "relu", "text": "abcabd"})
    assert not at.sidebar.warning and not at.sidebar.error
    assert at.sidebar.slider(key="hidden").value == 5
