"""Corpus: vocabulary, one-hot inputs and targets, odd Unicode, visible labels."""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import Corpus, Trainer
from bptt_viz.labels import display_char


def test_hello():
    c = Corpus("hello")
    assert c.vocab == ("h", "e", "l", "o")
    assert (c.V, c.T) == (4, 4)
    assert c.input_chars == ("h", "e", "l", "l")
    assert c.target_chars == ("e", "l", "l", "o")
    pairs = [
        (c.vocab[int(np.argmax(x))], c.vocab[int(np.argmax(d))])
        for x, d in zip(c.inputs, c.targets, strict=True)
    ]
    assert pairs == [("h", "e"), ("e", "l"), ("l", "l"), ("l", "o")]
    np.testing.assert_array_equal(c.inputs, np.eye(4)[[0, 1, 2, 2]])
    np.testing.assert_array_equal(c.targets, np.eye(4)[[1, 2, 2, 3]])
    np.testing.assert_array_equal(c.ids, [0, 1, 2, 2, 3])
    assert c.inputs.dtype == np.float64 and c.inputs.shape == (4, 4)


ODD_TEXTS = {
    "emoji": "👋🌍👋🎉👋",
    "zwj-family": "👨‍👩‍👧 👨‍👩‍👧",
    "combining": "e\u0301te\u0301 cafe\u0301",
    "newlines": "a\nb\r\nc\td a",
    "hebrew-rtl": "שלום עולם",
    "arabic-rtl": "مرحبا بالعالم",
    "mixed-direction": "abc \u202eבגד\u202c xyz",
    "cjk": "你好，世界。你好！",
    "two-chars": "ab",
    "same-char": "aaaa",
    "nul-and-bom": "\x00\ufeffa\x00",
}


@pytest.mark.parametrize("text", list(ODD_TEXTS.values()), ids=list(ODD_TEXTS))
def test_odd_unicode(text):
    c = Corpus(text)
    assert c.vocab == tuple(dict.fromkeys(text)), "vocabulary in order of first appearance"
    assert len(set(c.vocab)) == c.V
    assert c.T == len(text) - 1
    assert c.decode(c.ids) == text
    np.testing.assert_array_equal(c.encode(text), c.ids)
    assert c.decode(c.inputs.argmax(axis=1)) == text[:-1]
    assert c.decode(c.targets.argmax(axis=1)) == text[1:]
    np.testing.assert_array_equal(c.inputs.sum(axis=1), 1.0)
    np.testing.assert_array_equal(c.targets.sum(axis=1), 1.0)
    for ch in c.vocab:
        label = display_char(ch)
        assert isinstance(label, str) and label and label.isprintable(), repr(ch)
    tr = Trainer(text, hidden_size=4)
    r = tr.step()
    assert np.isfinite(r.loss) and not r.diverged
    s = tr.sample(10, seed_char=text[0])
    assert len(s) == 11 and set(s) <= set(c.vocab)


@pytest.mark.parametrize(
    "text", ["", "a", "👋", "\n"], ids=["empty", "one", "one-emoji", "newline"]
)
def test_fewer_than_two_characters_is_a_value_error(text):
    with pytest.raises(ValueError, match="at least 2 characters"):
        Corpus(text)


@pytest.mark.parametrize(
    "bad", [None, 5, b"hello", ["h", "i"]], ids=["None", "int", "bytes", "list"]
)
def test_non_text_is_a_value_error(bad):
    with pytest.raises(ValueError, match="must be a string"):
        Corpus(bad)


def test_encode_and_decode_errors():
    c = Corpus("hello")
    with pytest.raises(ValueError, match="'z'"):
        c.encode("hz")
    for bad in ([4], [-1], [0.5]):
        with pytest.raises(ValueError):
            c.decode(np.array(bad))
    assert c.decode([]) == ""
    np.testing.assert_array_equal(c.one_hot(np.array([3, 0])), np.eye(4)[[3, 0]])


@pytest.mark.parametrize(
    ("char", "label"),
    [
        ("a", "a"),
        (" ", "␣"),
        ("\n", "↵"),
        ("\t", "⇥"),
        ("\r", "␍"),
        ("\u0301", "U+0301"),  # combining acute accent (Mn)
        ("\u20dd", "U+20DD"),  # combining enclosing circle (Me)
        ("\u200f", "U+200F"),  # right-to-left mark (Cf)
        ("\u00a0", "U+00A0"),  # no-break space (Zs)
        ("\x00", "U+0000"),
        ("👋", "👋"),
        ("ש", "ש"),
    ],
)
def test_display_char(char, label):
    assert display_char(char) == label


@pytest.mark.parametrize("bad", ["", "ab", None, 7])
def test_display_char_needs_one_character(bad):
    with pytest.raises(ValueError, match="one character"):
        display_char(bad)
