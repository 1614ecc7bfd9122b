"""per_step: the contribution of every unfolded copy, its sums and norms, and its laziness."""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import PARAM_NAMES, BackwardTrace, Trainer, backward, forward
from tests.engine._reference import make_problem, ref_forward, rel_err

CASES = [
    ("tanh", "softmax", "cross_entropy", None),
    ("tanh", "softmax", "cross_entropy", 1),
    ("sigmoid", "sigmoid", "cross_entropy", 2),
    ("relu", "softmax", "sse", 3),
    ("linear", "linear", "sse", None),
]
CASE_IDS = [f"{a}-{o}-{lo}-k={k}" for a, o, lo, k in CASES]


def _trace(case, T=6, seed=3):
    act, out, loss, k = case
    prob = make_problem(act, out, loss, T=T, seed=seed)
    tr = forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    return prob, tr, backward(prob.params, prob.cfg, tr, truncation=k)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_per_step_is_the_outer_product_of_each_copy(case):
    prob, _tr, bt = _trace(case)
    ref = ref_forward(prob.params, prob.cfg, prob.x, prob.d, prob.h0)
    ps = bt.per_step
    T, (I, H, O) = prob.T, (prob.cfg.input_size, prob.cfg.hidden_size, prob.cfg.output_size)  # noqa: E741
    shapes = {"W_xh": (T, H, I), "W_hh": (T, H, H), "W_hy": (T, O, H), "b_h": (T, H), "b_y": (T, O)}
    for name, shape in shapes.items():
        assert getattr(ps, name).shape == shape, f"per_step.{name} shape, case {case}"
    for t in range(T):
        want = {
            "W_xh": np.outer(bt.delta_h[t], prob.x[t]),
            "W_hh": np.outer(bt.delta_h[t], ref.h_prev[t]),  # h(0) = h0 at t = 1
            "W_hy": np.outer(bt.delta_o[t], ref.h[t]),
            "b_h": bt.delta_h[t],
            "b_y": bt.delta_o[t],
        }
        for name in PARAM_NAMES:
            err = rel_err(getattr(ps, name)[t], want[name])
            assert err <= 1e-14, f"per_step.{name}[{t}] ≠ outer product ({err:.1e}), case {case}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_per_step_sums_to_grads(case):
    _, _, bt = _trace(case)
    for name in PARAM_NAMES:
        err = rel_err(getattr(bt.per_step, name).sum(axis=0), getattr(bt.grads, name))
        assert err <= 1e-12, f"Σ_t per_step.{name} ≠ grads.{name} ({err:.1e}), case {case}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_per_step_norms_and_partial_sums_agree_with_per_step(case):
    _, _, bt = _trace(case, T=7)
    norms = bt.per_step_norms()
    assert "per_step" not in bt.__dict__, "per_step_norms must not build per_step"
    sums = {
        (0, None): bt.partial_sum(0),
        (2, 5): bt.partial_sum(2, 5),
        (6, 7): bt.partial_sum(6, 7),
        (3, 3): bt.partial_sum(3, 3),
        (4, None): bt.partial_sum(4),
    }
    assert "per_step" not in bt.__dict__, "partial_sum must not build per_step"
    ps = bt.per_step
    for name in PARAM_NAMES:
        arr = getattr(ps, name)
        frob = np.sqrt((arr.reshape(arr.shape[0], -1) ** 2).sum(axis=1))
        assert rel_err(norms[name], frob) <= 1e-13, f"per_step_norms[{name}], case {case}"
        for (a, b), got in sums.items():
            want = arr[a:b].sum(axis=0)
            assert rel_err(getattr(got, name), want) <= 1e-12, (
                f"partial_sum({a},{b}).{name}, {case}"
            )
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(sums[(3, 3)], name), 0.0)


def test_per_step_is_built_lazily_and_cached():
    _, _, bt = _trace(CASES[0])
    assert "per_step" not in bt.__dict__, "backward must not build per_step"
    first = bt.per_step
    assert "per_step" in bt.__dict__
    assert bt.per_step is first, "per_step must be cached, not rebuilt"


@pytest.mark.parametrize(
    "options",
    [{}, {"truncation": 2}, {"schedule": "timestep"}, {"seq_length": 3}],
    ids=["defaults", "k=2", "timestep", "chunked"],
)
def test_trainer_step_never_builds_per_step(monkeypatch, options):
    def boom(self):
        raise AssertionError("Trainer built per_step")

    monkeypatch.setattr(BackwardTrace, "per_step", property(boom))
    # the patch is live: reading per_step now fails
    _, _, bt = _trace(CASES[0])
    with pytest.raises(AssertionError, match="built per_step"):
        _ = bt.per_step
    trainer = Trainer("hello world", **options)
    for _ in range(5):
        r = trainer.step()
        assert not r.diverged, options
    assert len(trainer.history) == 5
