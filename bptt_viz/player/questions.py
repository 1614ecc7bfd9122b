"""Predict, then reveal: one question before each step of the backward pass, answered by the
engine's own numbers.

A question is asked before a backward step is shown: which output gets the most negative error,
whether the error carried back is larger than the copy's own, whether the error grows or shrinks
on its way back. The answer and the sentence that reveals it come from the traces.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_viz.notation import Notation
from bptt_viz.player.steps import Step

MAX_CHOICES = 4


def _sym(n: Notation, key: str, t: int | str | None = None) -> str:
    return f'<span class="sym">{n.html(key, t)}</span>'


def _output_question(n: Notation, bwd: BackwardTrace, t: int, vocab: Sequence[str]) -> dict:
    """Which output unit of copy t gets the most negative error?"""
    delta = bwd.delta_o[t - 1]
    answer = int(np.argmin(delta))
    others = [int(i) for i in np.argsort(-np.abs(delta)) if i != answer][: MAX_CHOICES - 1]
    order = sorted([answer, *others])
    names = [f"“{html.escape(vocab[i])}”" for i in order]
    values = ", ".join(f"{names[j]} {delta[i]:+.3f}" for j, i in enumerate(order))
    return {
        "q": f"Before the error of copy {t} is computed: which output of {_sym(n, 'y', t)} will get "
        f"the most negative error {_sym(n, 'delta_o', t)} (the deepest blue)?",
        "choices": names,
        "answer": order.index(answer),
        "reveal": f"{names[order.index(answer)]}: {delta[answer]:+.4f}. The errors: {values}. With "
        "softmax and cross-entropy the error is y − d: negative only at the character that "
        "should have been predicted, positive wherever probability went elsewhere.",
    }


def _carried_question(n: Notation, bwd: BackwardTrace, t: int) -> dict:
    """Is the error carried back into h(t) larger than the error from its own output?"""
    own, carried = (float(np.linalg.norm(v[t - 1])) for v in (bwd.dh_local, bwd.dh_carried))
    larger = int(carried > own)
    return {
        "q": f"Copy {t} gets error from its own output and from the later copies. Which part of "
        f"∂{_sym(n, 'L')}/∂{_sym(n, 'h', t)} will be larger?",
        "choices": ["from its own output", "carried back from the later copies"],
        "answer": larger,
        "reveal": f"Own output: ‖·‖ = {own:.4f}; carried back: ‖·‖ = {carried:.4f}. The "
        "carried part is what makes this backpropagation through time: without it (k = 1) "
        "each copy would learn only from its own output.",
    }


def _growth_question(n: Notation, bwd: BackwardTrace, t: int) -> dict:
    """Will ‖delta_h(t)‖ be larger or smaller than ‖delta_h(t+1)‖?"""
    here, before = (float(np.linalg.norm(bwd.delta_h[i])) for i in (t - 1, t))
    return {
        "q": f"The hidden delta of copy {t + 1} has size ‖{_sym(n, 'delta_h', t + 1)}‖ = "
        f"{before:.4f}. Will ‖{_sym(n, 'delta_h', t)}‖ at copy {t} be larger or smaller?",
        "choices": ["larger", "smaller"],
        "answer": int(here < before),
        "reveal": f"‖{_sym(n, 'delta_h', t)}‖ = {here:.4f} ({here / before:.3g} × copy "
        f"{t + 1}'s). Each step back multiplies the carried error by "
        f"{_sym(n, 'W_hh')}<sup>⊤</sup> and the slope f′: when that shrinks it, step after step, "
        "the gradient vanishes.",
    }


def questions(
    n: Notation, bwd: BackwardTrace, steps: Sequence[Step], vocab: Sequence[str]
) -> dict[str, dict]:
    """step index (as a string, a JSON key) → question, for every backward step."""
    T, out = bwd.T, {}
    for step in steps:
        if step.phase != "backward":
            continue
        t = step.t
        if t == T:
            q = _output_question(n, bwd, t, vocab)
        elif (T - t) % 2 == 1 and bwd.truncation != 1:
            q = _carried_question(n, bwd, t)
        elif float(np.linalg.norm(bwd.delta_h[t])) > 0:
            q = _growth_question(n, bwd, t)
        else:
            q = _output_question(n, bwd, t, vocab)
        out[str(step.index)] = q
    return out
