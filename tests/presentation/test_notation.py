"""The notations of the source notes (DESIGN §4)."""

from __future__ import annotations

import pytest

from bptt_viz.notation import (
    DEFAULT_NOTATION,
    NOTATIONS,
    OTHER_KEYS,
    PARAM_KEYS,
    TIMED_KEYS,
    get_notation,
)

ALL_KEYS = (*PARAM_KEYS, *TIMED_KEYS, *OTHER_KEYS)

# DESIGN §4: W_xh, W_hh, W_hy in each notation (HTML form, tags stripped)
TABLE = {
    "goodfellow": ("U", "W", "V"),
    "guo": ("V", "U", "W"),
    "ng": ("Wax", "Waa", "Wya"),
    "minchar": ("Wxh", "Whh", "Why"),
    "levels": ("Wr", "V", "Wr+1"),
}


def _strip(html: str) -> str:
    for tag in ("<sub>", "</sub>", "<sup>", "</sup>"):
        html = html.replace(tag, "")
    return html


@pytest.mark.parametrize("key", list(NOTATIONS))
def test_every_notation_defines_every_key(key):
    n = NOTATIONS[key]
    assert n.key == key and n.name and n.source
    for form in ("tex_forms", "html_forms"):
        table = getattr(n, form)
        missing = [k for k in ALL_KEYS if k not in table or not table[k].strip()]
        assert not missing, f"{key}.{form} lacks {missing}"
    for k in TIMED_KEYS:
        assert "{t}" in n.tex_forms[k] and "{t}" in n.html_forms[k], (
            f"{key}: {k} must be time-indexed"
        )
        shown3, shown7 = str(3 + n.time_offset), str(7 + n.time_offset)  # the note's own index
        assert n.tex(k, 3) == "{" + n.tex_forms[k].replace("{t}", shown3) + "}", f"{key}: {k}"
        assert n.html(k) == n.html_forms[k].replace("{t}", "t")
        assert n.html(k, 7) == n.html_forms[k].replace("{t}", shown7)
        assert n.html(k, "t-1") == n.html_forms[k].replace("{t}", "t-1"), "symbolic times as given"
    for k in (*PARAM_KEYS, *OTHER_KEYS):
        assert "{t}" not in n.tex_forms[k], f"{key}: {k} is not time-indexed"
    assert set(NOTATIONS) == set(TABLE)


@pytest.mark.parametrize(("key", "names"), list(TABLE.items()))
def test_weight_names_follow_the_design_table(key, names):
    n = get_notation(key)
    got = tuple(_strip(n.html(k)) for k in ("W_xh", "W_hh", "W_hy"))
    assert got == names, f"{key}: {got} ≠ {names}"


def test_goodfellow_and_guo_swap_letters():
    """Goodfellow's U, W, V are Guo's V, U, W: the same letter names different matrices."""
    g, j = get_notation("goodfellow"), get_notation("guo")
    assert (g.tex_forms["W_xh"], g.tex_forms["W_hh"], g.tex_forms["W_hy"]) == ("U", "W", "V")
    assert (j.tex_forms["W_xh"], j.tex_forms["W_hh"], j.tex_forms["W_hy"]) == ("V", "U", "W")
    assert g.tex("W_hh") == j.tex("W_hy") == "{W}"  # one brace group, safe before a superscript
    assert (g.tex_forms["b_h"], g.tex_forms["b_y"]) == ("b", "c")
    assert "s(" in j.tex_forms["h"] and j.tex_forms["L"] == "C"
    assert "δ" in j.html("delta_h") and j.html("delta_h").startswith("−"), (
        "Guo's δ is the negative gradient"
    )
    assert g.tex("h", 2) == "{h^{(2)}}"
    assert get_notation("ng").html("h", 1) == "a(1)", "the hello notes call the hidden state a(t)"


def test_default_and_unknown():
    assert DEFAULT_NOTATION in NOTATIONS
    for bad in ("Goodfellow", "", "feynman"):
        with pytest.raises(ValueError, match="Unknown notation"):
            get_notation(bad)


def test_min_char_rnn_counts_time_from_zero():
    """min-char-rnn's first input is xs[0] and its initial hidden state hs[-1] (issue 12.8)."""
    m = get_notation("minchar")
    assert m.time_offset == -1
    assert m.html("x", 1) == "xs[0]" and m.html("h", 0) == "hs[-1]"
    assert all(NOTATIONS[k].time_offset == 0 for k in NOTATIONS if k != "minchar")
