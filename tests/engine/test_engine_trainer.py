"""Trainer: learning "hello", summed losses, chunked long texts, history, divergence, apply,
load, sample, and the online ("timestep") schedule."""

from __future__ import annotations

import numpy as np
import pytest

from bptt_core import (
    PARAM_NAMES,
    Corpus,
    Params,
    Trainer,
    TrainingConfig,
    backward,
    clip_gradients,
    forward,
)

HISTORY_COLUMNS = [
    "update",
    "loss",
    "loss_per_char",
    "grad_norm",
    "clipped",
    "chunk_start",
    "chunk_length",
    "updates",
    "learning_rate",
    "diverged",
]


def _assert_params_equal(a: Params, b: Params, what: str, rtol: float = 0.0) -> None:
    for name in PARAM_NAMES:
        np.testing.assert_allclose(
            getattr(a, name), getattr(b, name), rtol=rtol, atol=0, err_msg=f"{name}: {what}"
        )


# ----------------------------------------------------------------------------- learning "hello"


@pytest.mark.parametrize("schedule", ["sequence", "timestep"])
def test_defaults_learn_hello_within_100_updates_for_every_seed(schedule):
    failures, firsts = [], {}
    for seed in range(20):
        tr = Trainer("hello", seed=seed, schedule=schedule)
        first = None
        for i in range(100):
            r = tr.step()
            assert not r.diverged, f"seed {seed} diverged at pass {i + 1}: {r.reason}"
            if first is None and r.loss / 4 < 0.05:
                first = i + 1
        final = tr.predict().loss / 4  # after the last update
        firsts[seed] = first
        if first is None or not final < 0.05:
            failures.append(f"seed {seed}: first pass below 0.05 = {first}, final {final:.4f}")
        if schedule == "timestep":
            assert tr.updates == 100 * 4, f"seed {seed}: {tr.updates} updates, want T = 4 per pass"
        else:
            assert tr.updates == 100
    assert not failures, f"{schedule}: not learned to < 0.05 nats/char: {failures}; {firsts}"


def test_trained_model_samples_hello():
    tr = Trainer("hello", seed=0)
    tr.train(100)
    assert tr.sample(4, seed_char="h", temperature=0.01) == "hello"


# ----------------------------------------------------------------------------- one pass


@pytest.mark.parametrize("truncation", [None, 1, 2])
@pytest.mark.parametrize("clip", ["none", "value", "norm"])
def test_sequence_step_is_one_bptt_pass_and_one_update(truncation, clip):
    tr = Trainer(
        "hello there",
        optimizer="sgd",
        learning_rate=0.3,
        clip=clip,
        clip_threshold=0.5,
        truncation=truncation,
        seed=2,
    )
    c = Corpus("hello there")
    before = tr.params.copy()
    r = tr.step()
    fw = forward(before, tr.config, c.inputs, c.targets)
    g = backward(before, tr.config, fw, truncation=truncation).grads
    g_clipped, info = clip_gradients(g, clip, 0.5)
    want = before.zip_map(g_clipped, lambda p, d: p - 0.3 * d)
    where = f"truncation={truncation} clip={clip}"
    _assert_params_equal(tr.params, want, where, rtol=1e-13)
    assert r.loss == pytest.approx(fw.loss, rel=1e-13), f"the loss of a pass is Σ L(t): {where}"
    assert r.grad_norm == pytest.approx(g.global_norm(), rel=1e-13), where
    assert r.clipped == info.clipped and (clip == "none") == (not r.clipped), where
    assert (r.updates, r.chunk_start, r.chunk_length, r.diverged) == (1, 0, 10, False)
    h = tr.history
    assert list(h.columns) == HISTORY_COLUMNS
    assert len(h) == 1
    row = h.iloc[0]
    assert row["loss"] == r.loss and row["loss_per_char"] == pytest.approx(r.loss / 10)
    assert row["update"] == 1 and not row["diverged"] and row["learning_rate"] == 0.3


def test_loss_of_a_pass_is_a_sum_over_characters():
    tr = Trainer("abcabcabcab", seed=1)
    before = tr.params.copy()
    r = tr.step()
    c = tr.corpus
    fw = forward(before, tr.config, c.inputs, c.targets)
    assert r.loss == pytest.approx(fw.losses.sum(), rel=1e-14)
    assert r.loss > fw.losses.mean() * 5, "a sum over 10 characters, not a mean"


def test_history_has_one_row_per_step():
    tr = Trainer("hello", seed=3)
    results = tr.train(7)
    h = tr.history
    assert list(h.columns) == HISTORY_COLUMNS
    assert len(h) == 7
    assert h["update"].tolist() == list(range(1, 8))
    np.testing.assert_allclose(h["loss"], [r.loss for r in results], rtol=0)
    np.testing.assert_allclose(h["loss_per_char"], [r.loss / 4 for r in results], rtol=1e-15)
    np.testing.assert_allclose(h["grad_norm"], [r.grad_norm for r in results], rtol=0)
    assert h["chunk_length"].tolist() == [4] * 7 and h["chunk_start"].tolist() == [0] * 7
    assert not h["diverged"].any()
    assert tr.train(0) == [] and len(tr.history) == 7


# ----------------------------------------------------------------------------- long texts


def test_long_text_is_trained_in_chunks_with_the_hidden_state_carried():
    text = "the quick brown fox"  # 19 characters: 18 inputs → chunks 0–4, 5–9, 10–14, 15–17
    tr = Trainer(text, seq_length=5, optimizer="sgd", learning_rate=0.2, clip="none", seed=4)
    c = Corpus(text)
    ids = c.ids
    eye = np.eye(c.V)
    expected_chunks = [(0, 5), (5, 5), (10, 5), (15, 3), (0, 5), (5, 5)]
    h_carried = np.zeros(tr.config.hidden_size)
    last_h_of_chunk = {}
    for i, (start, T) in enumerate(expected_chunks):
        before = tr.params.copy()
        h0 = h_carried if start > 0 else np.zeros(tr.config.hidden_size)
        x, d = eye[ids[start : start + T]], eye[ids[start + 1 : start + T + 1]]
        fw = forward(before, tr.config, x, d, h0)
        g = backward(before, tr.config, fw).grads
        r = tr.step()
        where = f"pass {i + 1} (chunk at {start})"
        assert (r.chunk_start, r.chunk_length) == (start, T), where
        assert r.loss == pytest.approx(fw.loss, rel=1e-13), where
        _assert_params_equal(tr.params, before.zip_map(g, lambda p, q: p - 0.2 * q), where, 1e-13)
        h_carried = fw.h[-1]  # from the forward pass, before the update
        last_h_of_chunk[i] = fw.h[-1]
    # the second chunk started from the last hidden state of the first (not from zeros)
    assert np.abs(last_h_of_chunk[0]).min() > 0
    assert tr.history["chunk_start"].tolist() == [s for s, _ in expected_chunks]


def test_second_chunk_really_uses_the_carried_state():
    text = "abcdefabcdef"
    tr = Trainer(text, seq_length=4, optimizer="sgd", learning_rate=1e-9, clip="none", seed=0)
    r1 = tr.step()
    p = tr.params.copy()
    r2 = tr.step()
    c = Corpus(text)
    x, d = c.inputs[4:8], c.targets[4:8]
    first = forward(p, tr.config, c.inputs[:4], c.targets[:4])  # params barely moved (η = 1e−9)
    carried = forward(p, tr.config, x, d, first.h[-1]).loss
    fresh = forward(p, tr.config, x, d).loss
    assert r1.chunk_start == 0 and r2.chunk_start == 4
    assert r2.loss == pytest.approx(carried, rel=1e-6)
    assert abs(r2.loss - fresh) > 1e-3, "with h = 0 the loss would differ; the test could not tell"


def test_text_of_exactly_seq_length_plus_one_is_one_sequence():
    tr = Trainer("abcdef", seq_length=5)
    for _ in range(3):
        r = tr.step()
        assert (r.chunk_start, r.chunk_length) == (0, 5)


# ----------------------------------------------------------------------------- divergence


DIVERGING = {
    "update-inf": dict(activation="tanh", learning_rate=1e308),
    "loss-nan": dict(activation="sigmoid", learning_rate=1e308),
    "gradient-inf": dict(activation="linear", learning_rate=1e3),
    "linear-1e100": dict(activation="linear", learning_rate=1e100),
    "relu-1e100": dict(activation="relu", learning_rate=1e100),
}


@pytest.mark.parametrize("options", list(DIVERGING.values()), ids=list(DIVERGING))
def test_divergence_is_caught_and_params_kept(options):
    tr = Trainer("hello", optimizer="sgd", clip="none", **options)
    diverged_at = None
    for i in range(50):
        before = tr.params.copy()
        r = tr.step()
        if r.diverged:
            diverged_at = i
            break
    assert diverged_at is not None, f"{options} never diverged; the test needs a blow-up"
    assert tr.diverged and r.reason, options
    assert r.updates == 0
    assert tr.params.all_finite(), f"parameters not finite after divergence: {options}"
    _assert_params_equal(tr.params, before, f"params must be the last finite ones: {options}")
    h = tr.history
    assert len(h) == diverged_at + 1 and bool(h["diverged"].iloc[-1])
    assert not h["diverged"].iloc[:-1].any()


def test_divergence_in_the_timestep_schedule_keeps_the_last_finite_params():
    tr = Trainer(
        "hello",
        optimizer="sgd",
        clip="none",
        activation="relu",
        learning_rate=1e100,
        schedule="timestep",
    )
    returned: list[Params] = []
    original = tr.optimizer.update

    def recording(params, grads):
        new = original(params, grads)
        returned.append(new)
        return new

    tr.optimizer.update = recording  # type: ignore[method-assign]
    start = tr.params.copy()
    r = tr.step()
    assert r.diverged and tr.diverged, "relu with η = 1e100 should blow up within one pass"
    finite = [p for p in returned if p.all_finite()]
    last = finite[-1] if finite else start
    assert r.updates == len(finite)
    assert tr.params.all_finite()
    _assert_params_equal(tr.params, last, "timestep schedule: last finite params")


def test_a_huge_learning_rate_with_clipping_does_not_diverge_to_nan():
    tr = Trainer("hello", learning_rate=1e6, optimizer="sgd", clip="norm", clip_threshold=1.0)
    for r in tr.train(20):
        assert np.isfinite(r.loss) or r.diverged
    assert tr.params.all_finite()


# ----------------------------------------------------------------------------- apply / load


@pytest.mark.parametrize(
    "change",
    [
        {"hidden_size": 5},
        {"activation": "sigmoid"},
        {"seed": 9},
        {"init": "scale"},
        {"spectral_radius": 0.5},
        {"output": "sigmoid"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_apply_resets_on_architecture_change(change):
    tr = Trainer("hello", seed=1)
    tr.train(3)
    assert tr.apply(**change) is True
    assert len(tr.history) == 0 and tr.updates == 0
    fresh = Trainer("hello", **{"seed": 1, **change})
    _assert_params_equal(tr.params, fresh.params, f"reset to the fresh init for {change}")
    assert getattr(tr.settings, next(iter(change))) == next(iter(change.values()))


@pytest.mark.parametrize(
    "change",
    [
        {"learning_rate": 0.01},
        {"clip": "value"},
        {"truncation": 2},
        {"seq_length": 3},
        {"optimizer": "sgd"},
        {"clip_threshold": 1.0},
    ],
    ids=lambda c: next(iter(c)),
)
def test_apply_keeps_training_state_otherwise(change):
    tr = Trainer("hello", seed=1)
    tr.train(3)
    params, optimizer = tr.params.copy(), tr.optimizer
    assert tr.apply(**change) is False
    assert len(tr.history) == 3 and tr.updates == 3
    _assert_params_equal(tr.params, params, f"no reset for {change}")
    if "optimizer" in change:
        assert type(tr.optimizer).__name__.lower() == "sgd"
    else:
        assert tr.optimizer is optimizer, "optimizer state (e.g. Adam's moments) must be kept"
    assert tr.optimizer.learning_rate == tr.settings.learning_rate
    r = tr.step()
    assert not r.diverged and tr.history["learning_rate"].iloc[-1] == tr.settings.learning_rate


def test_apply_the_same_settings_is_a_no_op_and_bad_settings_change_nothing():
    tr = Trainer("hello", seed=1)
    tr.train(2)
    assert tr.apply(learning_rate=tr.settings.learning_rate) is False
    settings = tr.settings
    for bad in (
        {"learning_rate": -1},
        {"init_scale": "x"},
        {"spectral_radius": -1.0},
        {"truncation": 0},
        {"hidden_size": 0},
        {"nonsense": 1},
    ):
        with pytest.raises(ValueError):
            tr.apply(**bad)
        assert tr.settings == settings, f"a rejected apply({bad}) changed the settings"
    assert len(tr.history) == 2


def test_load_continues_from_given_params():
    a = Trainer("hello", seed=1)
    a.train(30)
    b = Trainer("hello", seed=7)
    b.train(2)
    b.load(a.params)
    _assert_params_equal(b.params, a.params, "load")
    assert not b.diverged
    assert b.predict().loss == pytest.approx(a.predict().loss, rel=1e-14)
    wrong = Trainer("hello world", seed=0).params
    with pytest.raises(ValueError, match="shape"):
        b.load(wrong)
    bad = a.params.copy()
    bad.W_hh[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        b.load(bad)
    _assert_params_equal(b.params, a.params, "a rejected load changes nothing")


# ----------------------------------------------------------------------------- sample / predict


def test_sample():
    tr = Trainer("hello world", seed=0)
    tr.train(5)
    vocab = set(tr.corpus.vocab)
    for seed_char in (None, "w", " "):
        s = tr.sample(30, seed_char=seed_char, rng_seed=3)
        assert len(s) == 31
        assert s[0] == (seed_char or "h")
        assert set(s) <= vocab, set(s) - vocab
        assert s == tr.sample(30, seed_char=seed_char, rng_seed=3), "sampling must be reproducible"
    assert tr.sample(0, "o") == "o"
    for t in (0.1, 1.0, 10.0, 1e6):
        assert set(tr.sample(20, temperature=t)) <= vocab


@pytest.mark.parametrize(
    "kwargs",
    [
        {"temperature": 0},
        {"temperature": -1.0},
        {"temperature": float("nan")},
        {"temperature": float("inf")},
        {"temperature": "hot"},
        {"temperature": None},
        {"length": -1},
        {"length": 2.5},
        {"length": "3"},
        {"seed_char": "z"},
        {"seed_char": "he"},
        {"seed_char": 5},
        {"rng_seed": -1},
        {"rng_seed": "x"},
    ],
    ids=lambda k: f"{next(iter(k))}={next(iter(k.values()))!r}",
)
def test_sample_rejects_bad_arguments(kwargs):
    tr = Trainer("hello")
    args = {"length": 5, **kwargs}
    with pytest.raises(ValueError):
        tr.sample(**args)


def test_predict():
    tr = Trainer("hello", seed=2)
    fw = tr.predict()
    c = tr.corpus
    assert fw.loss == pytest.approx(
        forward(tr.params, tr.config, c.inputs, c.targets).loss, rel=1e-14
    )
    assert tr.predict(2).T == 2
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError):
            tr.predict(bad)


def test_timestep_schedule_first_update_is_the_gradient_of_L1_alone():
    """With T = 1 the online schedule is one update from ∂L(1)/∂θ."""
    tr = Trainer("ab", schedule="timestep", optimizer="sgd", learning_rate=0.5, clip="none", seed=3)
    before = tr.params.copy()
    c = tr.corpus
    fw = forward(before, tr.config, c.inputs, c.targets)
    g = backward(before, tr.config, fw).grads
    r = tr.step()
    assert r.updates == 1 and r.loss == pytest.approx(fw.loss, rel=1e-13)
    _assert_params_equal(
        tr.params, before.zip_map(g, lambda p, q: p - 0.5 * q), "timestep T=1", 1e-13
    )


def test_timestep_schedule_makes_T_updates_per_pass():
    tr = Trainer("hello world", schedule="timestep", seq_length=4)
    r = tr.step()
    assert r.updates == 4 and tr.updates == 4 and r.chunk_length == 4
    r = tr.step()
    assert tr.updates == 8 and tr.history["update"].tolist() == [4, 8]


def test_training_config_defaults():
    s = TrainingConfig()
    assert (s.hidden_size, s.activation, s.output, s.loss) == (
        8,
        "tanh",
        "softmax",
        "cross_entropy",
    )
    assert (s.optimizer, s.clip, s.truncation, s.schedule) == ("adam", "norm", None, "sequence")
    assert hash(s) == hash(TrainingConfig())


@pytest.mark.parametrize("k", [None, 1, 2, 3], ids=["full", "k=1", "k=2", "k=3"])
def test_timestep_schedule_reproduced_by_hand(k):
    """Guo's online BPTT: after each L(t), backpropagate L(t) alone through ≤ k stored copies
    (their a and h kept from when they were computed), update with SGD, go on from the new
    parameters. Written out here independently with the reference maths."""
    from tests.engine._reference import act_f, act_fprime, delta_o_t

    text, eta = "abcab", 0.4
    tr = Trainer(
        text,
        schedule="timestep",
        optimizer="sgd",
        learning_rate=eta,
        clip="none",
        truncation=k,
        seed=5,
    )
    c, cfg = tr.corpus, tr.config
    p = {n: a.copy() for n, a in tr.params.items()}
    T, H = c.T, cfg.hidden_size
    a_hist, h_hist = np.zeros((T, H)), np.zeros((T + 1, H))
    total = 0.0
    for t in range(T):
        x, d = c.inputs[t], c.targets[t]
        a_hist[t] = p["W_xh"] @ x + p["W_hh"] @ h_hist[t] + p["b_h"]
        h_hist[t + 1] = act_f(cfg.activation, a_hist[t])
        o = p["W_hy"] @ h_hist[t + 1] + p["b_y"]
        total += float(-np.log(np.exp(o - o.max())[d.argmax()] / np.exp(o - o.max()).sum()))
        do = delta_o_t(cfg.output, cfg.loss, o, d)
        g = {n: np.zeros_like(a) for n, a in p.items()}
        g["W_hy"] += np.outer(do, h_hist[t + 1])
        g["b_y"] += do
        dh = p["W_hy"].T @ do
        for s in range(t, (0 if k is None else max(0, t - k + 1)) - 1, -1):
            e = act_fprime(cfg.activation, a_hist[s]) * dh
            g["W_xh"] += np.outer(e, c.inputs[s])
            g["W_hh"] += np.outer(e, h_hist[s])
            g["b_h"] += e
            dh = p["W_hh"].T @ e
        p = {n: p[n] - eta * g[n] for n in p}
    r = tr.step()
    assert r.updates == T
    assert r.loss == pytest.approx(total, rel=1e-12), f"k={k}"
    _assert_params_equal(tr.params, Params(**p), f"timestep schedule, k={k}", rtol=1e-12)
