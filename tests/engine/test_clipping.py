"""Norm against value clipping (bptt_core.clipping), checked against plain NumPy on flat vectors
and, for the demo's gradient, against central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptt_core import Corpus, Params, RNNConfig, init_params, numerical_gradient
from bptt_core.clipping import (
    FALLBACK_RADIUS,
    LOWERED_QUANTILE,
    clipping_demo,
    compare_clipping,
    cosine,
)
from bptt_core.model import PARAM_NAMES, rescale_spectral_radius, spectral_radius

CFG = RNNConfig(2, 2, 2)


def params_from_flat(flat: np.ndarray, config: RNNConfig = CFG) -> Params:
    """Split one vector into the five arrays of ``config`` (PARAM_NAMES order)."""
    out, i = [], 0
    for shape in config.shapes().values():
        size = int(np.prod(shape))
        out.append(np.asarray(flat[i : i + size], dtype=float).reshape(shape))
        i += size
    assert i == flat.size
    return Params(*out)


def ref_cos(u: np.ndarray, v: np.ndarray) -> float:
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def constructed() -> tuple[Params, np.ndarray]:
    """g with one entry of 10, one of 1 and zeros elsewhere (P = 2·2 + 2·2 + 2·2 + 2 + 2)."""
    flat = np.zeros(16)
    flat[0], flat[5] = 10.0, 1.0  # W_xh[0, 0] and W_hh[0, 1]
    return params_from_flat(flat), flat


def test_constructed_example_norm_keeps_direction_value_turns_it():
    g, flat = constructed()
    c = 2.0
    cmp = compare_clipping(g, c)
    # norm clipping: g · c/‖g‖, cosine exactly 1, length exactly c
    expected_norm = flat * (c / np.linalg.norm(flat))
    np.testing.assert_allclose(cmp.by_norm.flat(), expected_norm, rtol=1e-15, atol=0)
    assert cmp.cosine_norm == pytest.approx(1.0, abs=1e-15)
    assert cmp.norm_after_norm == pytest.approx(c, rel=1e-15)
    # value clipping: (10, 1) → (2, 1): a different direction, computed by hand
    expected_value = flat.copy()
    expected_value[0] = 2.0
    np.testing.assert_array_equal(cmp.by_value.flat(), expected_value)
    by_hand = (10 * 2 + 1 * 1) / (np.sqrt(101) * np.sqrt(5))
    assert cmp.cosine_value == pytest.approx(by_hand, rel=1e-14)
    assert cmp.cosine_value < 0.95, f"value clipping should turn g: cos = {cmp.cosine_value}"
    assert cmp.norm_after_value == pytest.approx(np.sqrt(5), rel=1e-15)
    assert cmp.norm == pytest.approx(np.sqrt(101), rel=1e-15)
    assert (cmp.clipped_entries, cmp.entries, cmp.threshold) == (1, 16, c)
    # per-parameter lengths: W_xh and W_hh carry everything
    np.testing.assert_allclose(
        cmp.param_norms,
        [
            [10.0, 1.0, 0.0, 0.0, 0.0],
            [10.0 * c / np.sqrt(101), 1.0 * c / np.sqrt(101), 0.0, 0.0, 0.0],
            [2.0, 1.0, 0.0, 0.0, 0.0],
        ],
        rtol=1e-14,
    )
    # the unclipped gradient is kept as given
    np.testing.assert_array_equal(cmp.grads.flat(), flat)


def test_below_the_threshold_nothing_changes():
    g, flat = constructed()
    cmp = compare_clipping(g, 100.0)
    np.testing.assert_array_equal(cmp.by_norm.flat(), flat)
    np.testing.assert_array_equal(cmp.by_value.flat(), flat)
    assert cmp.cosine_norm == pytest.approx(1.0, abs=1e-15)
    assert cmp.cosine_value == pytest.approx(1.0, abs=1e-15)
    assert cmp.clipped_entries == 0


def test_value_clipping_keeps_direction_only_when_all_entries_are_cut_alike():
    flat = np.zeros(16)
    flat[[0, 3, 7]] = [5.0, -5.0, 5.0]  # equal magnitudes, all above c
    cmp = compare_clipping(params_from_flat(flat), 1.0)
    assert cmp.cosine_value == pytest.approx(1.0, abs=1e-15)
    assert cmp.clipped_entries == 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=16, max_size=16).filter(
        lambda v: np.linalg.norm(v) > 1e-6
    ),
    st.floats(1e-3, 1e3),
)
def test_against_numpy_on_random_vectors(values, c):
    flat = np.array(values)
    cmp = compare_clipping(params_from_flat(flat), c)
    norm = np.linalg.norm(flat)
    by_norm = flat * min(1.0, c / norm)
    by_value = np.clip(flat, -c, c)
    np.testing.assert_allclose(cmp.by_norm.flat(), by_norm, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(cmp.by_value.flat(), by_value)
    assert cmp.cosine_norm == pytest.approx(1.0, abs=1e-12)
    if norm > c:
        assert cmp.norm_after_norm == pytest.approx(c, rel=1e-12)
    if np.linalg.norm(by_value) > 0:
        assert cmp.cosine_value == pytest.approx(ref_cos(by_value, flat), abs=1e-12)
    assert cmp.clipped_entries == int(np.sum(np.abs(flat) > c))
    assert cmp.norm_after_value <= c * np.sqrt(flat.size) * (1 + 1e-12)


def test_cosine_of_zero_vector_is_nan_and_is_bounded():
    zero = params_from_flat(np.zeros(16))
    g, _ = constructed()
    assert np.isnan(cosine(zero, g))
    assert cosine(g, g) == 1.0
    minus = g.map(lambda a: -a)
    assert cosine(g, minus) == -1.0


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "five", None])
def test_bad_threshold_is_a_value_error(bad):
    g, _ = constructed()
    with pytest.raises(ValueError, match="threshold"):
        compare_clipping(g, bad)


def test_non_finite_gradient_is_a_value_error():
    flat = np.zeros(16)
    flat[2] = np.inf
    with pytest.raises(ValueError, match="infinite or NaN"):
        compare_clipping(params_from_flat(flat), 1.0)
    with pytest.raises(ValueError, match="Params"):
        compare_clipping(np.ones(3), 1.0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the demo


def network(text: str = "hello", H: int = 6, seed: int = 0):
    corpus = Corpus(text)
    cfg = RNNConfig(corpus.V, H, corpus.V)
    return corpus, cfg, init_params(cfg, seed)


def rescaled(params: Params, radius: float) -> Params:
    W = rescale_spectral_radius(params.W_hh, radius)
    return Params(params.W_xh, W, params.W_hy, params.b_h, params.b_y)


def test_demo_clips_the_gradient_of_the_rescaled_network_checked_by_central_differences():
    corpus, cfg, p = network("abcabcabdabcab", H=5)
    demo = clipping_demo(p, cfg, corpus.inputs, corpus.targets, 1.7, 0.05)
    assert (demo.radius, demo.fallback, demo.threshold_lowered) == (1.7, False, False)
    numeric = numerical_gradient(rescaled(p, 1.7), cfg, corpus.inputs, corpus.targets)
    for name in PARAM_NAMES:
        got, ref = getattr(demo.comparison.grads, name), getattr(numeric, name)
        err = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12)
        assert err < 1e-7, f"{name}: demo gradient differs from central differences by {err:.2e}"
    g = demo.comparison.grads.flat()
    assert demo.comparison.threshold == 0.05
    assert demo.comparison.cosine_norm == pytest.approx(1.0, abs=1e-12)
    assert demo.comparison.norm_after_norm == pytest.approx(0.05, rel=1e-12)
    assert demo.comparison.cosine_value < 1 - 1e-3
    assert demo.comparison.cosine_value == pytest.approx(
        ref_cos(np.clip(g, -0.05, 0.05), g), abs=1e-12
    )
    assert spectral_radius(rescaled(p, 1.7).W_hh) == pytest.approx(1.7, rel=1e-12)


def test_demo_falls_back_to_a_large_radius_when_nothing_needs_clipping():
    corpus, cfg, p = network()
    g_small = numerical_gradient(rescaled(p, 0.5), cfg, corpus.inputs, corpus.targets)
    c = 2 * g_small.global_norm()  # well above the gradient's length at ρ = 0.5
    demo = clipping_demo(p, cfg, corpus.inputs, corpus.targets, 0.5, c)
    assert demo.fallback and demo.radius == FALLBACK_RADIUS and demo.requested_radius == 0.5
    g_fallback = numerical_gradient(
        rescaled(p, FALLBACK_RADIUS), cfg, corpus.inputs, corpus.targets
    )
    np.testing.assert_allclose(
        demo.comparison.grads.flat(), g_fallback.flat(), rtol=1e-6, atol=1e-8
    )


def test_demo_lowers_the_threshold_to_the_90th_percentile_when_no_entry_exceeds_it():
    corpus, cfg, p = network()
    demo = clipping_demo(p, cfg, corpus.inputs, corpus.targets, 1.0, 1e6)
    magnitudes = np.abs(demo.comparison.grads.flat())
    assert demo.threshold_lowered and demo.requested_threshold == 1e6
    assert demo.comparison.threshold == pytest.approx(np.quantile(magnitudes, LOWERED_QUANTILE))
    assert demo.comparison.threshold < magnitudes.max() < demo.comparison.norm
    assert demo.comparison.clipped_entries == int(np.sum(magnitudes > demo.comparison.threshold))
    assert demo.comparison.clipped_entries >= 1
    assert demo.comparison.cosine_norm == pytest.approx(1.0, abs=1e-12)
    assert demo.comparison.cosine_value < 1 - 1e-3


def test_demo_rejects_bad_arguments():
    corpus, cfg, p = network()
    with pytest.raises(ValueError, match="spectral radius"):
        clipping_demo(p, cfg, corpus.inputs, corpus.targets, -1.0, 5.0)
    with pytest.raises(ValueError, match="threshold"):
        clipping_demo(p, cfg, corpus.inputs, corpus.targets, 1.0, 0.0)
    with pytest.raises(ValueError, match="columns"):
        clipping_demo(p, cfg, corpus.inputs[:, :2], corpus.targets, 1.0, 5.0)
