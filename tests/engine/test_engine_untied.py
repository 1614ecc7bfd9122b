"""Untied weights (bptt_core.untied): equal copies are the RNN; each copy learns on its own."""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import PARAM_NAMES, Corpus, RNNConfig, backward, forward, init_params
from bptt_core.untied import (
    UntiedTrainer,
    backward_untied,
    copy_params,
    forward_untied,
    spread,
    untie,
    untied_update,
)

COMBOS = [
    ("tanh", "softmax", "cross_entropy"),
    ("sigmoid", "sigmoid", "sse"),
    ("relu", "linear", "sse"),
]


def problem(combo, text="hello there", seed=0):
    c = Corpus(text)
    cfg = RNNConfig(c.V, 4, c.V, *combo)
    return c, cfg, init_params(cfg, seed=seed)


@pytest.mark.parametrize("combo", COMBOS)
@pytest.mark.parametrize("k", [None, 1, 3])
def test_equal_copies_are_the_tied_rnn(combo, k):
    c, cfg, p = problem(combo)
    copies = untie(p, c.T)
    h0 = np.zeros(cfg.hidden_size)
    fu, ft = (
        forward_untied(copies, cfg, c.inputs, c.targets, h0),
        forward(p, cfg, c.inputs, c.targets),
    )
    np.testing.assert_allclose(fu.h, ft.h, rtol=1e-13, atol=1e-15, err_msg=f"{combo} h")
    assert fu.loss == pytest.approx(ft.loss, rel=1e-13)
    bu, bt = backward_untied(copies, cfg, fu, k), backward(p, cfg, ft, k)
    for n in PARAM_NAMES:
        np.testing.assert_allclose(
            getattr(bu.grads, n),
            getattr(bt.grads, n),
            rtol=1e-11,
            atol=1e-14,
            err_msg=f"{combo} k={k} {n}",
        )
    np.testing.assert_allclose(bu.delta_h, bt.delta_h, rtol=1e-11, atol=1e-14)


def numeric_copy_gradient(copies, cfg, c, t, name, eps=1e-6):
    """Central differences of L with respect to copy t's ``name`` (independent reference)."""
    h0 = np.zeros(cfg.hidden_size)
    base = getattr(copies, name)
    out = np.zeros(base.shape[1:])
    for idx in np.ndindex(out.shape):
        losses = []
        for sign in (1, -1):
            arr = base.copy()
            arr[(t - 1, *idx)] += sign * eps
            moved = type(copies)(
                **{n: (arr if n == name else getattr(copies, n)) for n in PARAM_NAMES}
            )
            losses.append(forward_untied(moved, cfg, c.inputs, c.targets, h0).loss)
        out[idx] = (losses[0] - losses[1]) / (2 * eps)
    return out


@pytest.mark.parametrize("combo", COMBOS[:2])
def test_each_copys_gradient_is_its_own_derivative(combo):
    c, cfg, p = problem(combo, text="abcab")
    rng = np.random.default_rng(1)
    copies = untie(p, c.T).map(lambda a: a + 0.3 * rng.standard_normal(a.shape))  # copies differ
    f = forward_untied(copies, cfg, c.inputs, c.targets, np.zeros(cfg.hidden_size))
    own = backward_untied(copies, cfg, f).per_step
    for t in (1, 3, c.T):
        for name in ("W_hh", "W_xh", "W_hy", "b_h"):
            want = numeric_copy_gradient(copies, cfg, c, t, name)
            got = getattr(own, name)[t - 1]
            err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-12)
            assert err < 1e-7, f"{combo} copy {t} {name}: relative error {err:.2e}"


def test_one_untied_update_moves_each_copy_by_its_own_contribution_and_tied_by_the_sum():
    c, cfg, p = problem(COMBOS[0])
    copies = untie(p, c.T)
    f = forward_untied(copies, cfg, c.inputs, c.targets, np.zeros(cfg.hidden_size))
    b = backward_untied(copies, cfg, f)
    new = untied_update(copies, b.per_step, 0.1)
    for t in range(1, c.T + 1):
        np.testing.assert_allclose(
            copy_params(new, t).W_hh,
            p.W_hh - 0.1 * b.per_step.W_hh[t - 1],
            rtol=1e-14,
            err_msg=f"copy {t}",
        )
    tied_after = p.W_hh - 0.1 * backward(p, cfg, forward(p, cfg, c.inputs, c.targets)).grads.W_hh
    np.testing.assert_allclose(tied_after, p.W_hh - 0.1 * b.per_step.W_hh.sum(axis=0), rtol=1e-12)
    assert spread(copies)["W_hh"] < 1e-12 < spread(new)["W_hh"], "the copies drift apart"
    assert copies.W_hh is not new.W_hh and spread(copies)["W_hh"] < 1e-12, "input untouched"


def test_untied_training_starts_as_the_rnn_and_then_drifts():
    from bptt_core import Trainer
    from bptt_core.untied import UntiedTrainer

    untied = UntiedTrainer("hello", learning_rate=0.1)
    tied = Trainer("hello", optimizer="sgd", learning_rate=0.1, clip="none")
    first = untied.fork().step()
    assert first.fwd.loss == pytest.approx(tied.step().loss, rel=1e-13), "pass 1 is the RNN's"
    assert spread(first.before)["W_hh"] < 1e-12 < spread(first.after)["W_hh"]
    for t in range(1, 5):
        np.testing.assert_allclose(
            first.after.W_hh[t - 1],
            first.before.W_hh[t - 1] - 0.1 * first.bwd.per_step.W_hh[t - 1],
            rtol=1e-14,
            err_msg=f"copy {t}",
        )
    assert untied.updates == 0, "a fork leaves the trainer alone"
    untied.train(30)
    assert untied.updates == 30 and untied.fork().step().fwd.loss < first.fwd.loss


def test_the_untied_trainer_says_what_it_does_plain_steps_without_clipping():
    trainer = UntiedTrainer("hello", optimizer="adam", clip="norm", learning_rate=0.2)
    assert (trainer.settings.optimizer, trainer.settings.clip) == ("sgd", "none")
    assert trainer.settings.learning_rate == 0.2
