"""TrainingConfig.initial_weights: given weights instead of a random draw (a network to check
by hand). Flattened in PARAM_NAMES order, validated against the network's shapes, part of the
architecture (a change restarts training), hashable."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bptt_core import PARAM_NAMES, Corpus, Trainer, backward, forward
from bptt_core.model import Params, RNNConfig, init_params
from bptt_core.trainer import ARCHITECTURE_FIELDS, TrainingConfig

CONFIG = RNNConfig(2, 2, 2)  # I = H = O = 2: 4 + 4 + 4 + 2 + 2 = 16 numbers
WEIGHTS = tuple(round(v / 10 - 0.8, 10) for v in range(1, 17))


def test_the_weights_are_cut_in_param_names_order_row_by_row():
    p = TrainingConfig(hidden_size=2, initial_weights=WEIGHTS).initial_params(CONFIG)
    np.testing.assert_array_equal(p.W_xh, [[-0.7, -0.6], [-0.5, -0.4]])
    np.testing.assert_array_equal(p.W_hh, [[-0.3, -0.2], [-0.1, 0.0]])
    np.testing.assert_allclose(p.W_hy, [[0.1, 0.2], [0.3, 0.4]])
    np.testing.assert_allclose(p.b_h, [0.5, 0.6])
    np.testing.assert_allclose(p.b_y, [0.7, 0.8])
    np.testing.assert_array_equal(p.flat(), np.array(WEIGHTS))


def test_from_flat_inverts_flat_for_any_shape():
    config = RNNConfig(3, 4, 5)
    p = init_params(config, seed=3)
    q = Params.from_flat(tuple(p.flat()), config)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(q, name), getattr(p, name), err_msg=name)


def test_the_trainer_starts_from_the_given_weights_and_its_first_pass_matches_the_engine():
    text = "aba"
    tr = Trainer(text, hidden_size=2, initial_weights=WEIGHTS, optimizer="sgd", clip="none")
    np.testing.assert_array_equal(tr.params.flat(), np.array(WEIGHTS))
    corpus = Corpus(text)
    params = Params.from_flat(WEIGHTS, tr.config)
    fwd = forward(params, tr.config, corpus.inputs, corpus.targets)
    grads = backward(params, tr.config, fwd).grads
    result = tr.step()
    assert result.loss == pytest.approx(fwd.loss, rel=1e-12)
    expected = params.zip_map(grads, lambda w, g: w - 0.05 * g)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(
            getattr(tr.params, name), getattr(expected, name), rtol=1e-12, err_msg=name
        )


def test_the_weights_are_part_of_the_architecture():
    assert "initial_weights" in ARCHITECTURE_FIELDS
    a = TrainingConfig(hidden_size=2, initial_weights=WEIGHTS)
    assert a.architecture().initial_weights == WEIGHTS
    assert hash(a) == hash(TrainingConfig(hidden_size=2, initial_weights=WEIGHTS))
    tr = Trainer("aba", hidden_size=2, initial_weights=WEIGHTS)
    tr.train(3)
    changed = (0.25, *WEIGHTS[1:])
    assert tr.apply(initial_weights=changed), "new initial weights restart training"
    assert tr.updates == 0
    assert tr.params.W_xh[0, 0] == 0.25
    assert tr.apply(initial_weights=None), "back to a random draw restarts too"
    np.testing.assert_array_equal(tr.params.W_xh, init_params(tr.config, 0, scheme="xavier").W_xh)


@pytest.mark.parametrize(
    ("weights", "words"),
    [
        ((0.1,) * 15, "have 15 numbers, but this network (H = 2, I = 2, O = 2) needs 16"),
        ((0.1,) * 17, "have 17 numbers"),
    ],
)
def test_weights_that_do_not_fit_the_network_are_a_sentence(weights, words):
    config = TrainingConfig(hidden_size=2, initial_weights=weights)
    with pytest.raises(ValueError, match=re.escape(words)):
        config.initial_params(CONFIG)
    with pytest.raises(ValueError, match="W_xh 2×2, W_hh 2×2, W_hy 2×2, b_h 2, b_y 2"):
        config.initial_params(CONFIG)


@pytest.mark.parametrize(
    ("weights", "words"),
    [
        ((0.1, float("nan")), "number 2 is nan; every weight must be finite"),
        ((float("inf"),), "number 1 is inf"),
        ((0.1, "0.2"), "number 2 is '0.2', not a number"),
        ((True,), "not a number"),
        ([0.1, 0.2], "must be a non-empty tuple"),
        ((), "must be a non-empty tuple"),
    ],
)
def test_bad_weights_are_refused_when_the_config_is_made(weights, words):
    with pytest.raises(ValueError, match=words):
        TrainingConfig(initial_weights=weights)
