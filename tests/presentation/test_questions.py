"""Predict, then reveal: each question's answer is what the engine computed."""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import Corpus, RNNConfig, backward, forward, init_params
from bptt_viz.notation import get_notation
from bptt_viz.player.questions import questions
from bptt_viz.player.steps import pass_steps


@pytest.mark.parametrize("k", [None, 1, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_answer_is_the_engines(k, seed):
    c = Corpus("hello world")
    cfg = RNNConfig(c.V, 6, c.V)
    p = init_params(cfg, seed=seed)
    f = forward(p, cfg, c.inputs, c.targets)
    b = backward(p, cfg, f, k)
    steps = pass_steps(f.T, with_update=True)
    qs = questions(get_notation("goodfellow"), b, steps, list(c.vocab))
    backward_steps = [s for s in steps if s.phase == "backward"]
    assert set(qs) == {str(s.index) for s in backward_steps}, "one question per backward step"
    for s in backward_steps:
        q, t = qs[str(s.index)], s.t
        case = f"k={k} seed={seed} t={t}"
        assert 0 <= q["answer"] < len(q["choices"]) and len(set(q["choices"])) == len(q["choices"])
        if "most negative error" in q["q"]:
            want = c.vocab[int(np.argmin(b.delta_o[t - 1]))]
            assert q["choices"][q["answer"]] == f"“{want}”", case
            assert f"{b.delta_o[t - 1].min():+.4f}" in q["reveal"], case
        elif "Which part of" in q["q"]:
            own, carried = np.linalg.norm(b.dh_local[t - 1]), np.linalg.norm(b.dh_carried[t - 1])
            assert q["answer"] == int(carried > own), case
            assert f"{own:.4f}" in q["reveal"] and f"{carried:.4f}" in q["reveal"], case
        else:
            here, before = np.linalg.norm(b.delta_h[t - 1]), np.linalg.norm(b.delta_h[t])
            assert q["choices"][q["answer"]] == ("smaller" if here < before else "larger"), case
            assert f"{here:.4f}" in q["reveal"], case
