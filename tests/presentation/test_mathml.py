"""The LaTeX → MathML typesetter: every equation the app writes converts, to well-formed XML,
with user characters as text (never markup)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from bptt_core import Corpus, RNNConfig, backward, forward, init_params
from bptt_viz.equations import backward_equations, forward_equations, update_equation
from bptt_viz.mathml import equation_html, to_mathml
from bptt_viz.notation import NOTATIONS

COMBOS = [
    ("tanh", "softmax", "cross_entropy"),
    ("sigmoid", "sigmoid", "cross_entropy"),
    ("relu", "softmax", "sse"),
    ("linear", "linear", "sse"),
    ("sigmoid", "sigmoid", "sse"),
]


def parse(markup: str) -> ET.Element:
    return ET.fromstring(f"<root>{markup}</root>")


def every_equation(text: str, combo: tuple[str, str, str], k: int | None):
    c = Corpus(text)
    cfg = RNNConfig(c.V, 3, c.V, *combo)
    p = init_params(cfg, seed=2)
    f = forward(p, cfg, c.inputs, c.targets)
    b = backward(p, cfg, f, k)
    weights = {"W_xh": p.W_xh, "W_hh": p.W_hh, "b_h": p.b_h}
    for n in NOTATIONS.values():
        yield n.key, update_equation(n)
        for t in range(1, f.T + 1):
            chars = (c.input_chars[t - 1], c.target_chars[t - 1])
            for line in forward_equations(n, cfg, weights, f, t, *chars):
                yield n.key, line
            for line in backward_equations(n, cfg, f, b, t):
                yield n.key, line


@pytest.mark.parametrize(("combo", "k"), list(itertools.product(COMBOS, [None, 1, 2])))
def test_every_equation_of_every_notation_converts_to_well_formed_mathml(combo, k):
    for key, line in every_equation("hel{lo}_$ ~\\", combo, k):
        try:
            markup = equation_html(line)
        except ValueError as exc:
            pytest.fail(f"{key} {combo} k={k}: {exc}")
        root = parse(markup)
        assert root.iter("math"), f"{key}: no <math> in {markup[:80]}"


def test_structures():
    frac = parse(to_mathml(r"\frac{a}{b}"))
    assert frac.find("./math/mfrac") is not None
    sub_sup = parse(to_mathml(r"x_{1}^{2}"))
    assert sub_sup.find("./math/msubsup") is not None
    limits = parse(to_mathml(r"\sum_{t=1}^{T} x"))
    assert limits.find("./math/munderover") is not None
    matrix = parse(to_mathml(r"\begin{bmatrix}1 & -2.5\end{bmatrix}"))
    cells = [mn.text for mn in matrix.iter("mn")]
    assert cells == ["1", "−2.5"], cells  # a negative entry is one number, with a true minus
    assert parse(to_mathml("a - 2")).find("./math/mo").text == "−"


def test_aligned_blocks_become_a_table_of_two_columns():
    html = equation_html(r"\begin{aligned}a &= 1 \\ +\; b &= 2\end{aligned}")
    root = parse(html)
    rows = root.findall("./table/tr")
    assert len(rows) == 2 and all(len(r.findall("td")) == 2 for r in rows)
    assert rows[1].find("td/math/mo").text == "+"


@pytest.mark.parametrize("evil", ["<script>alert(1)</script>", "a&b", '"><img onerror=x>'])
def test_text_is_escaped(evil):
    markup = to_mathml(r"\text{" + evil.replace("&", r"\&") + "}")
    root = parse(markup)
    assert root.find("./math/mtext").text == evil
    assert "<script" not in markup and "<img" not in markup


def test_text_keeps_its_outer_spaces():
    assert to_mathml(r"\text{from }t").count("\u00a0") == 1


@pytest.mark.parametrize("bad", [r"\unknowncommand{x}", r"\frac{a}", "{a", r"\mathbb{R}"])
def test_unknown_or_broken_input_is_a_value_error(bad):
    with pytest.raises(ValueError):
        to_mathml(bad)


def test_vectors_keep_their_numbers():
    v = np.array([0.125, -0.5, 3.0])
    from bptt_viz.equations import vec

    root = parse(to_mathml(vec(v)))
    assert [mn.text for mn in root.iter("mn")] == ["0.125", "−0.500", "3.000"]
