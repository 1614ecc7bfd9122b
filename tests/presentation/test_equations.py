"""The equations of each step: the trace's numbers substituted, every note's conventions, and the
corrections of issue 12 (truncation capped at T and labelled truncated, Guo's −δ bracketed and
no Δ for a gradient, min-char-rnn's own indices and update)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bptt_core import Corpus, RNNConfig, backward, forward, init_params
from bptt_viz.equations import backward_equations, forward_equations, update_equation, vec
from bptt_viz.notation import NOTATIONS, get_notation


def traces(text: str = "a<b&a", H: int = 3, k: int | None = None):
    c = Corpus(text)
    cfg = RNNConfig(c.V, H, c.V)
    p = init_params(cfg, seed=1)
    f = forward(p, cfg, c.inputs, c.targets)
    return c, cfg, p, f, backward(p, cfg, f, truncation=k)


def weights(p):
    return {"W_xh": p.W_xh, "W_hh": p.W_hh, "b_h": p.b_h}


@pytest.mark.parametrize("key", list(NOTATIONS))
def test_equations_substitute_the_trace_numbers(key):
    n = get_notation(key)
    _, cfg, p, f, b = traces("hello")
    joined = "\n".join(forward_equations(n, cfg, weights(p), f, 2, "e", "l"))
    assert f"{f.losses[1]:.4f}" in joined, f"{key}: L(2)"
    assert vec(f.h[1]) in joined, f"{key}: h(2)"
    assert n.tex("W_hh") in joined
    joined = "\n".join(backward_equations(n, cfg, f, b, 2))
    assert vec(b.delta_h[1]) in joined, f"{key}: delta_h(2)"
    assert vec(b.dh_carried[1]) in joined, f"{key}: carried part"
    assert vec(b.dh_local[1] + b.dh_carried[1]) in joined


def test_equations_escape_latex_specials_in_characters():
    _, cfg, p, f, _ = traces("{a}_$%")
    line = forward_equations(get_notation("goodfellow"), cfg, weights(p), f, 1, "{", "a")[0]
    assert r"\{" in line and not re.search(r"“\{”", line)


def test_vec_shows_the_first_entries_and_an_ellipsis():
    assert vec(np.array([1.0, -2.5])) == r"\begin{bmatrix}1.000 & -2.500\end{bmatrix}^{\top}"
    long = vec(np.arange(8.0))
    assert long.count("&") == 5 and r"\cdots" in long
    assert vec(np.array([0.25])) == "0.250"


@pytest.mark.parametrize(("k", "t"), [(3, 3), (2, 3), (3, 2), (3, 1)])
def test_truncated_carried_term_names_only_losses_up_to_T(k, t):
    """Issue 12.4: with k = 3 and T = 4 the note at t = 3 named L(4) … L(5); the sum of the
    carried losses must stop at T (and a single loss is written alone)."""
    n = get_notation("goodfellow")
    _, cfg, _, f, b = traces("hello", k=k)  # T = 4
    line = backward_equations(n, cfg, f, b, t)[1]
    last = min(t + k - 1, 4)
    assert "L^{(5)}" not in line, f"k={k}, t={t}: names a loss past T: {line}"
    if last == t + 1:
        assert rf"{{L^{{({t + 1})}}}}" in line and r"\sum" not in line, line
    else:
        assert rf"\sum_{{s={t + 1}}}^{{{last}}}" in line, line


def test_truncated_quantities_are_labelled_truncated_not_as_W_transpose_delta():
    """Issue 12.5: under truncation the carried term is not Wᵀ times the delta of t+1 shown, and
    the deltas are the truncated ones."""
    n = get_notation("goodfellow")
    _, cfg, p, f, b = traces("hello", k=2)
    lines = backward_equations(n, cfg, f, b, 2)
    joined = "\n".join(lines)
    assert r"{W}^{\top} {\nabla_{a^{(3)}}L}" not in joined, "carried term written as Wᵀ δ(t+1)"
    assert r"\left[{\nabla_{a^{(2)}}L}\right]_{k=2}" in joined, "the truncated delta is not marked"
    # and the value is really not Wᵀ δ(3) of the truncated trace (so the old label was wrong)
    assert not np.allclose(b.dh_carried[1], p.W_hh.T @ b.delta_h[2])
    full = backward_equations(n, cfg, f, backward(p, cfg, f), 2)
    assert r"{W}^{\top} {\nabla_{a^{(3)}}L}" in "\n".join(full), "full BPTT keeps Wᵀ δ(t+1)"


def test_guo_negative_delta_is_bracketed_and_no_delta_symbol_names_a_gradient():
    """Issue 12.7: "W^⊤ −δ_k(3)" reads as W minus δ; and Guo's Δ is an increment, not ∂C/∂U."""
    n = get_notation("guo")
    _, cfg, _, f, b = traces("hello")
    joined = "\n".join(backward_equations(n, cfg, f, b, 3))
    assert r"{W}^{\top} \left({-\delta_k(3)}\right)" in joined, joined
    assert r"^{\top} {-\delta" not in joined
    assert r"\Delta" not in joined, "a copy's gradient contribution written with Guo's Δ"
    assert r"\Delta {U}" in update_equation(n) and "+" in update_equation(n)


def test_min_char_rnn_uses_its_own_indices_and_update():
    """Issue 12.8: the program's first step is hs[0] = tanh(Wxh xs[0] + Whh hs[-1] + bh), and it
    clips each entry to ±5 and updates with Adagrad."""
    n = get_notation("minchar")
    _, cfg, p, f, _ = traces("hello")
    first = forward_equations(n, cfg, weights(p), f, 1, "h", "e")[0]
    assert r"\mathtt{xs}[0]" in first and r"\mathtt{hs}[-1]" in first, first
    assert r"\mathtt{hraw}[0]" in first
    update = update_equation(n)
    assert r"\operatorname{clip}" in update and "-5, 5" in update and r"\sqrt" in update
    assert r"\mathtt{mWhh}" in update


@pytest.mark.parametrize("key", list(NOTATIONS))
def test_every_note_writes_its_update_with_its_own_sign(key):
    line = update_equation(get_notation(key))
    if key in ("guo", "levels"):
        assert r"\Delta" in line and "+" in line, f"{key}: Δ is an increment that is added"
    if key == "levels":
        assert "V(T) = V(T-1) + \\Delta V" in line, "seed 000's slip corrected: V(T−1), not W(T−1)"
