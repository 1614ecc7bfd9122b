"""RNNConfig, Params, init_params, spectral radius."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bptt_core import (
    PARAM_NAMES,
    Params,
    RNNConfig,
    init_params,
    rescale_spectral_radius,
    spectral_radius,
)

CONFIGS = [
    RNNConfig(1, 1, 1),
    RNNConfig(4, 8, 4),
    RNNConfig(65, 100, 65, "sigmoid", "sigmoid", "sse"),
]


@pytest.mark.parametrize(
    "cfg", CONFIGS, ids=lambda c: f"I{c.input_size}H{c.hidden_size}O{c.output_size}"
)
@pytest.mark.parametrize("scheme", ["xavier", "scale"])
def test_init_params_shapes_zero_biases_and_reproducibility(cfg, scheme):
    I, H, O = cfg.input_size, cfg.hidden_size, cfg.output_size  # noqa: E741
    p = init_params(cfg, seed=3, scheme=scheme)
    want = {"W_xh": (H, I), "W_hh": (H, H), "W_hy": (O, H), "b_h": (H,), "b_y": (O,)}
    assert cfg.shapes() == want
    for name, shape in want.items():
        arr = getattr(p, name)
        assert arr.shape == shape and arr.dtype == np.float64, f"{name} ({scheme})"
        assert np.isfinite(arr).all()
    np.testing.assert_array_equal(p.b_h, 0.0)
    np.testing.assert_array_equal(p.b_y, 0.0)
    again = init_params(cfg, seed=3, scheme=scheme)
    other = init_params(cfg, seed=4, scheme=scheme)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(p, name), getattr(again, name), err_msg=name)
    for name in ("W_xh", "W_hh", "W_hy"):
        assert not np.array_equal(getattr(p, name), getattr(other, name)), f"seed ignored: {name}"


def test_init_scales():
    """scale: N(0, scale²); xavier: N(0, 1/fan_in) at the default scale 0.1."""
    cfg = RNNConfig(300, 400, 200)
    p = init_params(cfg, seed=0, scheme="scale", scale=0.01)
    for name in ("W_xh", "W_hh", "W_hy"):
        assert getattr(p, name).std() == pytest.approx(0.01, rel=0.02), name
    q = init_params(cfg, seed=0, scheme="xavier")
    assert q.W_xh.std() == pytest.approx(1 / np.sqrt(300), rel=0.02)
    assert q.W_hh.std() == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert q.W_hy.std() == pytest.approx(1 / np.sqrt(400), rel=0.02)


@pytest.mark.parametrize("radius", [0.1, 0.5, 0.9, 1.0, 1.5, 3.0])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_spectral_radius_option_is_exact(radius, seed):
    cfg = RNNConfig(5, 12, 5)
    p = init_params(cfg, seed=seed, spectral_radius=radius)
    rho = np.abs(np.linalg.eigvals(p.W_hh)).max()
    assert rho == pytest.approx(radius, rel=1e-12), f"ρ={rho} wanted {radius} (seed {seed})"
    assert spectral_radius(p.W_hh) == pytest.approx(radius, rel=1e-12)
    # only W_hh is rescaled, by a positive factor
    base = init_params(cfg, seed=seed)
    np.testing.assert_array_equal(p.W_xh, base.W_xh)
    np.testing.assert_array_equal(p.W_hy, base.W_hy)
    factor = p.W_hh / base.W_hh
    np.testing.assert_allclose(factor, factor.flat[0], rtol=1e-12)
    assert factor.flat[0] > 0


def test_rescale_spectral_radius():
    rng = np.random.default_rng(5)
    W = rng.normal(size=(6, 6))
    W_before = W.copy()
    for r in (0.25, 1.0, 2.5):
        R = rescale_spectral_radius(W, r)
        assert np.abs(np.linalg.eigvals(R)).max() == pytest.approx(r, rel=1e-12)
        np.testing.assert_allclose(R / W, r / np.abs(np.linalg.eigvals(W)).max(), rtol=1e-12)
    np.testing.assert_array_equal(rescale_spectral_radius(W, 0.0), 0.0)
    np.testing.assert_array_equal(W, W_before, err_msg="the input matrix must not change")
    for bad in (-1.0, float("nan"), float("inf"), "big"):
        with pytest.raises(ValueError, match="spectral radius"):
            rescale_spectral_radius(W, bad)
    with pytest.raises(ValueError, match="spectral radius 0"):
        rescale_spectral_radius(np.zeros((3, 3)), 1.0)
    nilpotent = np.array([[0.0, 1.0], [0.0, 0.0]])
    with pytest.raises(ValueError):
        rescale_spectral_radius(nilpotent, 1.0)


def test_config_is_frozen_hashable_and_knows_gamma():
    cfg = RNNConfig(2, 3, 2)
    assert (cfg.activation, cfg.output, cfg.loss) == ("tanh", "softmax", "cross_entropy")
    assert hash(cfg) == hash(RNNConfig(2, 3, 2)) and cfg == RNNConfig(2, 3, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.hidden_size = 4  # type: ignore[misc]
    gammas = {
        a: RNNConfig(1, 1, 1, activation=a).gamma for a in ("tanh", "sigmoid", "relu", "linear")
    }
    assert gammas == {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}
    assert RNNConfig(np.int64(2), 3, 2).input_size == 2


def test_params_helpers():
    cfg = RNNConfig(2, 3, 1)
    p = Params(
        W_xh=np.arange(6.0).reshape(3, 2),
        W_hh=np.arange(9.0).reshape(3, 3),
        W_hy=np.arange(3.0).reshape(1, 3),
        b_h=np.array([1.0, 2.0, 3.0]),
        b_y=np.array([4.0]),
    )
    assert [n for n, _ in p.items()] == list(PARAM_NAMES)
    flat = np.concatenate([np.arange(6.0), np.arange(9.0), np.arange(3.0), [1, 2, 3], [4]])
    np.testing.assert_array_equal(p.flat(), flat)
    assert p.global_norm() == pytest.approx(np.linalg.norm(flat), rel=1e-15)
    doubled = p.map(lambda a: 2 * a)
    np.testing.assert_array_equal(doubled.flat(), 2 * flat)
    np.testing.assert_array_equal(p.zip_map(doubled, np.add).flat(), 3 * flat)
    c = p.copy()
    c.W_xh[0, 0] = 99.0
    assert p.W_xh[0, 0] == 0.0, "copy must not share memory"
    assert p.all_finite()
    bad = p.copy()
    bad.b_y[0] = np.nan
    assert not bad.all_finite()
    z = Params.zeros(cfg)
    assert {n: a.shape for n, a in z.items()} == cfg.shapes()
    assert z.global_norm() == 0.0
