"""Update rules (two steps each, against hand computations) and gradient clipping."""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import PARAM_NAMES, Params, clip_gradients, make_optimizer
from bptt_core.optim import check_clipping

ETA = 0.1


def _params(value: float) -> Params:
    """A tiny Params with every array filled from ``value`` (W_xh 2×1, W_hh 2×2, W_hy 1×2)."""
    return Params(
        W_xh=np.full((2, 1), value),
        W_hh=np.full((2, 2), value),
        W_hy=np.full((1, 2), value),
        b_h=np.full(2, value),
        b_y=np.full(1, value),
    )


THETA0 = 1.0
G1, G2 = 2.0, -1.0  # the gradients of the first and second step (every entry)

# Hand computations, η = 0.1, θ0 = 1, g1 = 2, g2 = −1:
#   sgd:      θ1 = 1 − 0.1·2 = 0.8;  θ2 = 0.8 − 0.1·(−1) = 0.9
#   momentum: v1 = 2, θ1 = 0.8;  v2 = 0.9·2 − 1 = 0.8, θ2 = 0.8 − 0.08 = 0.72
#   adagrad:  m1 = 4, θ1 = 1 − 0.1·2/√(4 + 1e−8);  m2 = 5, θ2 = θ1 + 0.1/√(5 + 1e−8)
#   adam:     m1 = 0.2, v1 = 0.004, m̂1 = 2, v̂1 = 4, θ1 = 1 − 0.1·2/(2 + 1e−8)
#             m2 = 0.9·0.2 + 0.1·(−1) = 0.08, v2 = 0.999·0.004 + 0.001·1 = 0.004996
#             m̂2 = 0.08/(1 − 0.81) = 0.08/0.19,  v̂2 = 0.004996/(1 − 0.998001) = 0.004996/0.001999
#             θ2 = θ1 − 0.1·m̂2/(√v̂2 + 1e−8)
_A1 = 1 - 0.1 * 2 / np.sqrt(4 + 1e-8)
_D1 = 1 - 0.1 * 2 / (2 + 1e-8)
EXPECTED = {
    "sgd": (0.8, 0.9),
    "momentum": (0.8, 0.72),
    "adagrad": (_A1, _A1 + 0.1 / np.sqrt(5 + 1e-8)),
    "adam": (_D1, _D1 - 0.1 * (0.08 / 0.19) / (np.sqrt(0.004996 / 0.001999) + 1e-8)),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_two_updates_match_hand_computation(name):
    opt = make_optimizer(name, ETA)
    theta0 = _params(THETA0)
    theta1 = opt.update(theta0, _params(G1))
    theta2 = opt.update(theta1, _params(G2))
    want1, want2 = EXPECTED[name]
    for pname in PARAM_NAMES:
        np.testing.assert_allclose(
            getattr(theta1, pname), want1, rtol=1e-14, err_msg=f"{name} step 1 {pname}"
        )
        np.testing.assert_allclose(
            getattr(theta2, pname), want2, rtol=1e-14, err_msg=f"{name} step 2 {pname}"
        )
    np.testing.assert_array_equal(theta0.W_hh, THETA0)  # the input is never modified


@pytest.mark.parametrize("name", list(EXPECTED))
def test_learning_rate_can_change_between_updates(name):
    a, b = make_optimizer(name, ETA), make_optimizer(name, ETA)
    p = _params(THETA0)
    a.update(p, _params(G1))
    b.update(p, _params(G1))
    b.learning_rate = 2 * ETA
    step_a = p.W_hh - a.update(p, _params(G2)).W_hh
    step_b = p.W_hh - b.update(p, _params(G2)).W_hh
    np.testing.assert_allclose(step_b, 2 * step_a, rtol=1e-14, err_msg=name)


def test_adagrad_keeps_its_memory_per_entry():
    opt = make_optimizer("adagrad", 1.0)
    g = Params(
        W_xh=np.full((2, 1), 3.0),
        W_hh=np.full((2, 2), 4.0),
        W_hy=np.full((1, 2), 1.0),
        b_h=np.full(2, 2.0),
        b_y=np.full(1, 0.5),
    )
    new = opt.update(_params(0.0), g)
    # each entry moves by −g/√(g² + 1e−8) ≈ −1 whatever its size: the memory is elementwise
    for name in PARAM_NAMES:
        gv = getattr(g, name)
        np.testing.assert_allclose(
            getattr(new, name), -gv / np.sqrt(gv**2 + 1e-8), rtol=1e-15, err_msg=name
        )


def _grads(values) -> Params:
    v = np.asarray(values, dtype=float)
    return Params(
        W_xh=v[:2].reshape(2, 1),
        W_hh=v[2:6].reshape(2, 2),
        W_hy=v[6:8].reshape(1, 2),
        b_h=v[8:10],
        b_y=v[10:11],
    )


GRAD = _grads([10.0, -0.1, 0.2, -7.0, 0.0, 1.0, 3.0, -0.5, 0.05, 2.0, -20.0])


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_value_clipping_clamps_entries_and_can_turn_the_gradient():
    clipped, info = clip_gradients(GRAD, "value", 5.0)
    np.testing.assert_array_equal(clipped.flat(), np.clip(GRAD.flat(), -5.0, 5.0))
    assert np.abs(clipped.flat()).max() == 5.0
    assert info.clipped
    assert info.norm_before == pytest.approx(np.linalg.norm(GRAD.flat()), rel=1e-15)
    assert info.norm_after == pytest.approx(np.linalg.norm(clipped.flat()), rel=1e-15)
    cos = _cos(clipped.flat(), GRAD.flat())
    assert cos < 0.99, f"value clipping should change the direction here (cosine {cos})"
    small, info2 = clip_gradients(GRAD, "value", 100.0)
    np.testing.assert_array_equal(small.flat(), GRAD.flat())
    assert not info2.clipped


def test_norm_clipping_keeps_direction_and_sets_the_norm():
    norm = np.linalg.norm(GRAD.flat())
    clipped, info = clip_gradients(GRAD, "norm", 5.0)
    assert np.linalg.norm(clipped.flat()) == pytest.approx(5.0, rel=1e-14)
    assert _cos(clipped.flat(), GRAD.flat()) == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(clipped.flat(), GRAD.flat() * 5.0 / norm, rtol=1e-14)
    assert info.clipped and info.norm_before == pytest.approx(norm) and info.norm_after == 5.0
    same, info2 = clip_gradients(GRAD, "norm", norm * 1.01)
    np.testing.assert_array_equal(same.flat(), GRAD.flat())
    assert not info2.clipped and info2.norm_after == pytest.approx(norm)


def test_no_clipping_and_non_finite_gradients_pass_through():
    same, info = clip_gradients(GRAD, "none", 1.0)
    np.testing.assert_array_equal(same.flat(), GRAD.flat())
    assert not info.clipped
    bad = GRAD.copy()
    bad.W_hh[0, 0] = np.inf
    for method in ("value", "norm"):
        _out, info = clip_gradients(bad, method, 1.0)
        assert not np.isfinite(info.norm_before), method  # reported, so the trainer can stop


@pytest.mark.parametrize(
    ("method", "threshold"),
    [
        ("max", 1.0),
        ("norm", 0.0),
        ("norm", -1.0),
        ("value", float("nan")),
        ("value", "x"),
        ("norm", None),
    ],
)
def test_bad_clipping_settings(method, threshold):
    with pytest.raises(ValueError):
        check_clipping(method, threshold)


@pytest.mark.parametrize(
    ("name", "lr"),
    [
        ("rmsprop", 0.1),
        ("SGD", 0.1),
        ("sgd", 0.0),
        ("sgd", -0.1),
        ("adam", float("nan")),
        ("adam", float("inf")),
        ("adam", "fast"),
        ("adam", None),
    ],
)
def test_bad_optimizer_settings(name, lr):
    with pytest.raises(ValueError):
        make_optimizer(name, lr)
