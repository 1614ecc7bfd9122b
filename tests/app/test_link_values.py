"""bptt_app.link_values: which values of a shared link the sidebar ignored, said in words."""

from __future__ import annotations

import pytest

from bptt_app.link_values import LinkSetting, ignored_values, represents, why_ignored
from bptt_app.sidebar import LINK_SETTINGS, text_counter

HIDDEN = LinkSetting("hidden", "hidden units H", "int", 1, 128)
LR = LinkSetting("lr", "learning rate η", "float", 1e-6, 1e6)
ACT = LinkSetting("act", "hidden activation f", "choice", choices=("tanh", "relu"))


@pytest.mark.parametrize(
    ("raw", "used", "setting", "fits"),
    [
        ("8", 8, HIDDEN, True),
        ("8.0", 8, HIDDEN, True),
        ("5.5", 5, HIDDEN, False),
        ("0.05", 0.05, LR, True),
        ("5e-2", 0.05, LR, True),
        ("relu", "relu", ACT, True),
        ("ReLU", "tanh", ACT, False),
    ],
)
def test_represents(raw, used, setting, fits):
    assert represents(raw, used, setting) is fits


@pytest.mark.parametrize(
    ("raw", "setting", "reason"),
    [
        ("100000", HIDDEN, "is outside the range 1 to 128"),
        ("abc", HIDDEN, "is not a number"),
        ("inf", HIDDEN, "is not a finite number"),
        ("5.5", HIDDEN, "is not a whole number"),
        ("1e9", LR, "is outside the range 1e-06 to 1,000,000"),
        ("sigmoid", ACT, "is not one of the choices: tanh, relu"),
    ],
)
def test_why_ignored(raw, setting, reason):
    assert why_ignored(raw, setting) == reason


def test_notices_name_the_value_and_what_was_used():
    raw = {"hidden": ["100000"], "lr": ["0.1"], "act": ["<b>x</b>"], "seed": ["1", "2"]}
    used = {"hidden": 8, "lr": 0.1, "act": "tanh", "seed": 0}
    notices = ignored_values(raw, used, LINK_SETTINGS)
    messages = [n.message for n in notices]
    assert (
        messages[0] == "Hidden units H “100000” is outside the range 1 to 128: 8 is used instead."
    )
    assert "“\\<b\\>x\\</b\\>”" in messages[1], "user text is escaped for Markdown"
    assert messages[2] == "Random seed appears 2 times in the link: 0 is used."
    assert len(notices) == 3 and all(n.level == "warning" for n in notices)


def test_a_text_too_long_for_the_box_is_an_error_with_its_length():
    raw = {"text": ["ab" * 15_000]}
    (notice,) = ignored_values(raw, {"text": "hello"}, LINK_SETTINGS)
    assert notice.level == "error"
    assert "30,000 characters; the limit is 5,000" in notice.message
    assert "“hello” is used instead" in notice.message


def test_text_counter():
    assert text_counter("hello") == "5 / 5,000 characters"
    assert "too long" in text_counter("x" * 5_001) and "5,001 / 5,000" in text_counter("x" * 5_001)
