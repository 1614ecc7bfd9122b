"""Every bad input of the API is a ValueError (never TypeError, KeyError, IndexError, …) with a
message that names what is wrong."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from bptt_core import (
    Corpus,
    Params,
    RNNConfig,
    Trainer,
    backward,
    forward,
    gradcheck,
    gradient_flow,
    init_params,
    jacobian_norms,
    make_optimizer,
    truncation_comparison,
)
from bptt_core.recall import recall_texts, train_recall
from bptt_viz.notation import get_notation

CFG = RNNConfig(2, 3, 2)
P = init_params(CFG, seed=0)
X = np.eye(2)[[0, 1, 0]]
D = np.eye(2)[[1, 0, 1]]
TRACE = forward(P, CFG, X, D)


def _with(**changes) -> Params:
    arrays = {n: a.copy() for n, a in P.items()}
    arrays.update(changes)
    return Params(**arrays)


def _nan_at(arr: np.ndarray) -> np.ndarray:
    out = np.array(arr, dtype=float)
    out.flat[0] = np.nan
    return out


# (call, a fragment the message must contain)
CASES: dict[str, tuple[Callable[[], object], str]] = {
    # text
    "text-empty": (lambda: Trainer(""), "empty"),
    "text-one-char": (lambda: Trainer("a"), "only 1 character"),
    "text-None": (lambda: Trainer(None), "string"),
    "text-bytes": (lambda: Corpus(b"hello"), "string"),
    # architecture
    "hidden-0": (lambda: RNNConfig(2, 0, 2), "hidden_size"),
    "hidden-str": (lambda: RNNConfig(2, "3", 2), "hidden_size"),
    "hidden-float": (lambda: RNNConfig(2, 3.0, 2), "hidden_size"),
    "hidden-bool": (lambda: RNNConfig(2, True, 2), "hidden_size"),
    "input-negative": (lambda: RNNConfig(-1, 3, 2), "input_size"),
    "activation-unknown": (lambda: RNNConfig(2, 3, 2, activation="swish"), "activation"),
    "activation-None": (lambda: RNNConfig(2, 3, 2, activation=None), "activation"),
    "activation-list": (lambda: RNNConfig(2, 3, 2, activation=["tanh"]), "activation"),
    "activation-case": (lambda: RNNConfig(2, 3, 2, activation="Tanh"), "activation"),
    "output-unknown": (lambda: RNNConfig(2, 3, 2, output="relu"), "output"),
    "loss-unknown": (lambda: RNNConfig(2, 3, 2, loss="mse"), "loss"),
    "linear-cross-entropy": (lambda: RNNConfig(2, 3, 2, output="linear"), "cross-entropy"),
    # sequences
    "inputs-wrong-columns": (lambda: forward(P, CFG, np.ones((3, 3)), D), "input_size"),
    "inputs-1d": (lambda: forward(P, CFG, np.ones(2), D), "dimension"),
    "inputs-3d": (lambda: forward(P, CFG, np.ones((3, 2, 1)), D), "dimension"),
    "inputs-empty": (lambda: forward(P, CFG, np.ones((0, 2)), np.ones((0, 2))), "empty"),
    "inputs-nan": (lambda: forward(P, CFG, _nan_at(X), D), "NaN"),
    "inputs-inf": (lambda: forward(P, CFG, np.full_like(X, np.inf), D), "infinite"),
    "inputs-strings": (lambda: forward(P, CFG, [["a", "b"]] * 3, D), "numbers"),
    "inputs-ragged": (lambda: forward(P, CFG, [[1.0, 0.0], [1.0]], D), "numbers"),
    "inputs-None": (lambda: forward(P, CFG, None, D), "inputs"),
    "inputs-complex": (lambda: forward(P, CFG, X + 1j, D), "numbers"),
    "targets-wrong-T": (lambda: forward(P, CFG, X, D[:2]), "targets"),
    "targets-wrong-O": (lambda: forward(P, CFG, X, np.ones((3, 3))), "targets"),
    "targets-nan": (lambda: forward(P, CFG, X, _nan_at(D)), "NaN"),
    "h0-wrong-size": (lambda: forward(P, CFG, X, D, np.zeros(4)), "h0"),
    "h0-2d": (lambda: forward(P, CFG, X, D, np.zeros((1, 3))), "h0"),
    "h0-nan": (lambda: forward(P, CFG, X, D, np.array([0.0, np.nan, 0.0])), "NaN"),
    # parameters
    "params-dict": (lambda: forward({"W_xh": P.W_xh}, CFG, X, D), "Params"),
    "params-None": (lambda: forward(None, CFG, X, D), "Params"),
    "params-W_hh-shape": (lambda: forward(_with(W_hh=np.zeros((3, 2))), CFG, X, D), "W_hh"),
    "params-W_xh-transposed": (lambda: forward(_with(W_xh=P.W_xh.T), CFG, X, D), "W_xh"),
    "params-b_h-2d": (lambda: forward(_with(b_h=np.zeros((3, 1))), CFG, X, D), "b_h"),
    "params-nan": (lambda: forward(_with(W_hy=_nan_at(P.W_hy)), CFG, X, D), "NaN"),
    "params-strings": (lambda: forward(_with(b_y=np.array(["a", "b"])), CFG, X, D), "b_y"),
    "config-not-a-config": (lambda: forward(P, "tanh", X, D), "RNNConfig"),
    "backward-wrong-params": (lambda: backward(_with(W_hh=np.zeros((2, 2))), CFG, TRACE), "W_hh"),
    "backward-not-a-trace": (lambda: backward(P, CFG, {"h": 1}), "ForwardTrace"),
    "flow-not-a-trace": (lambda: gradient_flow(P, CFG, None), "ForwardTrace"),
    "jacobian-not-a-trace": (lambda: jacobian_norms(P, CFG, "x"), "ForwardTrace"),
    "comparison-not-a-trace": (lambda: truncation_comparison(P, CFG, 3), "ForwardTrace"),
    "flow-bad-params": (lambda: gradient_flow(_with(W_hh=_nan_at(P.W_hh)), CFG, TRACE), "NaN"),
    # truncation
    **{
        f"truncation-{name}": (lambda k=k: backward(P, CFG, TRACE, truncation=k), "truncation")
        for name, k in {
            "0": 0,
            "-1": -1,
            "1.5": 1.5,
            "2.0": 2.0,
            "True": True,
            "False": False,
            "str-3": "3",
            "nan": float("nan"),
            "inf": float("inf"),
            "list": [3],
        }.items()
    },
    "gradcheck-truncation-0": (lambda: gradcheck(P, CFG, X, D, truncation=0), "truncation"),
    "gradcheck-eps-0": (lambda: gradcheck(P, CFG, X, D, eps=0.0), "ε"),
    "gradcheck-eps-negative": (lambda: gradcheck(P, CFG, X, D, eps=-1e-6), "ε"),
    # training options
    "lr-negative": (lambda: Trainer("hello", learning_rate=-0.1), "learning rate"),
    "lr-zero": (lambda: Trainer("hello", learning_rate=0), "learning rate"),
    "lr-nan": (lambda: Trainer("hello", learning_rate=float("nan")), "learning rate"),
    "lr-inf": (lambda: Trainer("hello", learning_rate=float("inf")), "learning rate"),
    "lr-str": (lambda: Trainer("hello", learning_rate="fast"), "learning rate"),
    "lr-None": (lambda: Trainer("hello", learning_rate=None), "learning rate"),
    "optimizer-unknown": (lambda: Trainer("hello", optimizer="rmsprop"), "optimizer"),
    "optimizer-make": (lambda: make_optimizer("lbfgs", 0.1), "optimizer"),
    "clip-unknown": (lambda: Trainer("hello", clip="max"), "clipping"),
    "clip-threshold-0": (lambda: Trainer("hello", clip="norm", clip_threshold=0), "threshold"),
    "clip-threshold-nan": (
        lambda: Trainer("hello", clip="value", clip_threshold=float("nan")),
        "threshold",
    ),
    "clip-threshold-str": (lambda: Trainer("hello", clip_threshold="big"), "threshold"),
    "schedule-unknown": (lambda: Trainer("hello", schedule="batch"), "schedule"),
    "init-unknown": (lambda: Trainer("hello", init="he"), "initialisation"),
    "init-scale-0": (lambda: Trainer("hello", init_scale=0), "scale"),
    "init-scale-str": (lambda: Trainer("hello", init_scale="x"), "scale"),
    "spectral-radius-negative": (lambda: Trainer("hello", spectral_radius=-1.0), "spectral radius"),
    "spectral-radius-nan": (
        lambda: Trainer("hello", spectral_radius=float("nan")),
        "spectral radius",
    ),
    "spectral-radius-str": (lambda: Trainer("hello", spectral_radius="x"), "spectral radius"),
    "seed-negative": (lambda: Trainer("hello", seed=-1), "seed"),
    "seed-float": (lambda: Trainer("hello", seed=1.5), "seed"),
    "seed-huge": (lambda: Trainer("hello", seed=2**40), "seed"),
    "seed-str": (lambda: Trainer("hello", seed="1"), "seed"),
    "seq-length-0": (lambda: Trainer("hello", seq_length=0), "sequence length"),
    "seq-length-float": (lambda: Trainer("hello", seq_length=2.5), "sequence length"),
    "hidden-size-trainer": (lambda: Trainer("hello", hidden_size=0), "hidden_size"),
    "truncation-trainer": (lambda: Trainer("hello", truncation=0), "truncation"),
    "unknown-option": (lambda: Trainer("hello", hidden=8), "Unknown training option"),
    "apply-unknown-option": (lambda: Trainer("hello").apply(lr=0.1), "Unknown training option"),
    "train-negative": (lambda: Trainer("hello").train(-1), "updates"),
    "train-str": (lambda: Trainer("hello").train("3"), "updates"),
    "init-params-seed-str": (lambda: init_params(CFG, seed="a"), "seed"),
    "init-params-scale-str": (lambda: init_params(CFG, scale="a"), "scale"),
    "init-params-scheme": (lambda: init_params(CFG, scheme="orthogonal"), "initialisation"),
    "init-params-radius": (lambda: init_params(CFG, spectral_radius=-2), "spectral radius"),
    # stepper, recall, notation
    "recall-fillers-negative": (lambda: recall_texts(-1), "fillers"),
    "recall-fillers-str": (lambda: recall_texts("3"), "fillers"),
    "recall-symbols": (lambda: recall_texts(3, symbols="a"), "symbols"),
    "recall-filler-is-symbol": (lambda: recall_texts(3, symbols="ab", filler="a"), "symbols"),
    "recall-mode": (lambda: train_recall(3, 2, mode="sliding", updates=1), "mode"),
    "recall-truncation": (lambda: train_recall(3, 0, updates=1), "truncation"),
    "recall-updates-0": (lambda: train_recall(3, updates=0), "updates"),
    "recall-clip-0": (lambda: train_recall(3, clip_threshold=0.0, updates=1), "threshold"),
    "recall-optimizer": (lambda: train_recall(3, optimizer="x", updates=1), "optimizer"),
    "notation-unknown": (lambda: get_notation("feynman"), "notation"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_a_value_error_with_a_clear_message(case):
    call, fragment = CASES[case]
    with pytest.raises(ValueError) as info:
        call()
    assert type(info.value) is ValueError or issubclass(type(info.value), ValueError)
    message = str(info.value)
    assert fragment.lower() in message.lower(), f"{case}: message {message!r} lacks {fragment!r}"
    assert message[0].isupper() or message.split()[0] in {
        "hidden_size",
        "input_size",
        "output_size",
        "inputs",
        "targets",
        "h0",
        "params",
        "config",
        "trace",
        "display_char",
        "max_length",
    }, f"{case}: {message!r} should read as a sentence"


def test_good_edge_inputs_are_accepted():
    """The validation must not reject what is valid: integer-valued arrays, lists, numpy ints,
    a truncation longer than the text, one timestep."""
    tr = forward(P, CFG, X.astype(int).tolist(), D.astype(np.int32))
    assert np.isfinite(tr.loss)
    assert backward(P, CFG, tr, truncation=np.int64(2)).grads.all_finite()
    assert backward(P, CFG, tr, truncation=10**9).grads.all_finite()
    one = forward(P, CFG, X[:1], D[:1])
    assert one.T == 1 and backward(P, CFG, one, truncation=1).grads.all_finite()
    assert RNNConfig(np.int32(2), np.int64(3), 2).hidden_size == 3
    assert (
        Trainer("hi", seed=np.int64(3), truncation=np.int64(50), seq_length=np.int64(2)).step().loss
        > 0
    )
