"""The step player's view model: what it sends for every step equals what the engine computed.

Numbers travel as float32 (the page shows five decimals), so they are compared with the
engine's float64 to float32 precision (relative 1e-6); everything else exactly.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bptt_core import PARAM_NAMES, Corpus, RNNConfig, backward, forward, init_params
from bptt_viz.equations import vec
from bptt_viz.notation import get_notation
from bptt_viz.player.encode import decode_float32_b64
from bptt_viz.player.payload import PassInput, build_payload
from bptt_viz.player.steps import parse_step

RTOL, ATOL = 1e-6, 1e-9


def make(text="hello", H=8, k=None, combo=("tanh", "softmax", "cross_entropy"), key="goodfellow"):
    c = Corpus(text)
    cfg = RNNConfig(c.V, H, c.V, *combo)
    p = init_params(cfg, seed=3)
    f = forward(p, cfg, c.inputs, c.targets)
    b = backward(p, cfg, f, k)
    view = PassInput(get_notation(key), cfg, p, f, b, c.vocab, c.input_chars, c.target_chars)
    return build_payload(view), c, cfg, p, f, b


def panel(payload, pid):
    return next(p for p in payload["panels"] if p["id"] == pid)


def values_at(pan, step):
    v = pan["values"]
    table = decode_float32_b64(v["data"], (-1, v["count"]))
    return table[v["index"][step]], v["ranges"][v["index"][step]]


def codes_at(pan, step):
    return pan["codes"]["table"][pan["codes"]["index"][step]]


def slot_at(pan, name, step):
    slot = pan["slots"][name]
    return slot["table"][slot["index"][step]]


def split_sums(vector, grads):
    """The sums panel's vector → {name: (running, contribution)} in the engine's shapes."""
    out, i = {}, 0
    for name in PARAM_NAMES:
        shape = getattr(grads, name).shape
        size = int(np.prod(shape))
        out[name] = (
            vector[i : i + size].reshape(shape),
            vector[i + size : i + 2 * size].reshape(shape),
        )
        i += 2 * size
    return out


def test_steps_are_numbered_once_the_same_everywhere():
    payload, *_ = make()
    assert payload["n"] == 8
    assert payload["labels"][0] == "Step 1 of 8 · forward pass · t = 1"
    assert payload["labels"][5] == "Step 6 of 8 · backward pass · t = 3"
    assert payload["labels"][7] == "Step 8 of 8 · backward pass · t = 1"
    assert payload["phase"] == [0, 0, 0, 0, 1, 1, 1, 1]


@pytest.mark.parametrize("k", [None, 1, 2], ids=["full", "k=1", "k=2"])
def test_running_sums_and_contributions_at_every_step_equal_the_engine(k):
    payload, *_, f, b = make(k=k)
    sums = panel(payload, "sums")
    T = f.T
    for step in range(2 * T):
        vector, _ = values_at(sums, step)
        parts = split_sums(vector, b.grads)
        if step < T:
            for name, (running, contribution) in parts.items():
                assert not running.any(), f"step {step + 1}: running sum of {name} before backward"
                assert np.isnan(contribution).all(), f"step {step + 1}: {name} contribution"
            continue
        t = 2 * T - step
        want_running, want_contribution = b.partial_sum(t - 1), b.partial_sum(t - 1, t)
        for name, (running, contribution) in parts.items():
            np.testing.assert_allclose(
                running, getattr(want_running, name), RTOL, ATOL, err_msg=f"k={k} t={t} {name}"
            )
            np.testing.assert_allclose(
                contribution, getattr(want_contribution, name), RTOL, ATOL, err_msg=f"{name} t={t}"
            )
    last = split_sums(values_at(sums, 2 * T - 1)[0], b.grads)
    for name in PARAM_NAMES:  # the truncated gradient g_k under truncation
        np.testing.assert_allclose(last[name][0], getattr(b.grads, name), RTOL, ATOL, err_msg=name)


def test_delta_heatmaps_show_the_engine_deltas_filling_in_from_the_right():
    payload, _, _, _, f, b = make()
    T = f.T
    for key, want in (("delta_o", b.delta_o), ("delta_h", b.delta_h)):
        pan = panel(payload, key)
        vector, ranges = values_at(pan, 0)
        np.testing.assert_allclose(vector.reshape(want.shape), want, RTOL, ATOL, err_msg=key)
        assert ranges == [pytest.approx(np.abs(want).max())]
        assert codes_at(pan, 0) == "h" * T, f"{key}: nothing shown in the forward pass"
        assert codes_at(pan, T) == "hhhc", f"{key}: backward t = T outlines the last column"
        assert codes_at(pan, 2 * T - 2) == "hcss", f"{key}: backward t = 2"


def test_network_codes_follow_the_walk():
    payload, _, _, _, f, _ = make()
    codes = panel(payload, "network")["codes"]
    T = f.T
    h_codes = lambda s: codes["table"][codes["index"][s]][2 : 1 + 3 * T : 3]  # noqa: E731
    assert h_codes(0) == "Fuuu" and h_codes(2) == "kkFu", "forward: computed so far"
    assert h_codes(T) == "kkkB" and h_codes(T + 2) == "kBvv", "backward: visited from T"


def test_status_and_equations_carry_the_engine_numbers():
    payload, *_, f, b = make()
    status, equations = panel(payload, "status"), panel(payload, "equations")
    for step in range(f.T):
        assert f"= {f.losses[step]:.4f}" in slot_at(status, "status", step), f"L({step + 1})"
    for t in (4, 2):
        html = slot_at(equations, "eqs", 2 * f.T - t)
        shown = [float(x.replace("−", "-")) for x in re.findall(r"<mn>(−?[0-9.]+)</mn>", html)]
        for value in b.delta_h[t - 1][:5]:
            assert round(float(value), 3) in [round(x, 3) for x in shown], f"delta_h({t})"
        assert vec(b.delta_h[t - 1]) not in html, "LaTeX must arrive typeset, not as source"


def test_unit_view_shows_the_copy_and_its_weights_or_contributions():
    payload, c, _, p, f, b = make(H=4)
    units = panel(payload, "units")
    I, H, O, T = c.V, 4, c.V, f.T  # noqa: E741
    weights = np.concatenate([p.W_xh.ravel(), p.W_hh.ravel(), p.W_hy.ravel()])
    for step in (1, T + 1):
        vector, ranges = values_at(units, step)
        t = step + 1 if step < T else 2 * T - step
        nodes = np.concatenate([f.inputs[t - 1], f.h_prev[t - 1], f.h[t - 1], f.y[t - 1]])
        np.testing.assert_allclose(vector[: I + 2 * H + O], nodes, RTOL, ATOL, err_msg=f"t={t}")
        edges = vector[I + 2 * H + O :]
        if step < T:
            np.testing.assert_allclose(edges, weights, RTOL, ATOL)
        else:
            ps = b.per_step
            want = np.concatenate([getattr(ps, n)[t - 1].ravel() for n in ("W_xh", "W_hh", "W_hy")])
            np.testing.assert_allclose(edges, want, RTOL, ATOL, err_msg=f"contribution t={t}")
        assert len(ranges) == 4


def test_ledger_rows_and_total_are_the_engine_norms():
    payload, *_, b = make(k=2)
    ledger = panel(payload, "ledger")
    for name in PARAM_NAMES:
        assert f"<td>{np.linalg.norm(getattr(b.grads, name)):.4g}</td>" in ledger["html"], name
    assert "truncated gradient g_k (k = 2)" in ledger["html"]
    running = slot_at(ledger, "ledger_running", 5)  # backward t = 3
    want = b.partial_sum(2)
    for name in PARAM_NAMES:
        assert f"<td>{np.linalg.norm(getattr(want, name)):.4g}</td>" in running, name


def test_payload_sizes_stay_small():
    hello, *_ = make()
    size = len(json.dumps(hello, separators=(",", ":")))
    assert size < 120_000, f'"hello" sends {size:,} bytes'
    text = "the quick brown fox jumps over the lazy dog again"[:41]
    big, *_ = make(text=text, H=32)
    size = len(json.dumps(big, separators=(",", ":")))
    assert size < 2_000_000, f"T = 40, H = 32 sends {size:,} bytes"


@pytest.mark.parametrize("combo", [("relu", "linear", "sse"), ("linear", "softmax", "sse")])
def test_overflowing_pass_is_still_json_safe(combo):
    c = Corpus("abcabcabc")
    cfg = RNNConfig(c.V, 4, c.V, *combo)
    p = init_params(cfg, seed=0, scheme="scale", scale=10.0)
    p = p.map(lambda a: a * 1e150)
    with np.errstate(all="ignore"):
        f = forward(p, cfg, c.inputs, c.targets)
        b = backward(p, cfg, f)
        assert not np.isfinite(f.loss) or not np.isfinite(b.grads.flat()).all(), "no overflow"
        view = PassInput(get_notation("ng"), cfg, p, f, b, c.vocab, c.input_chars, c.target_chars)
        json.dumps(build_payload(view), allow_nan=False)


def test_user_characters_never_become_markup():
    payload, *_ = make(text="<b>&<s")
    text = json.dumps(payload, ensure_ascii=False)
    for raw in ("“<”", "“&”", "“>”", "<b>&", "&<s"):
        assert raw not in text, f"{raw!r} reached the page unescaped"
    assert "“&lt;”" in text and "“&amp;”" in text


@pytest.mark.parametrize(
    ("raw", "start", "notice"),
    [
        (None, 0, False),
        ("6", 5, False),
        ("1", 0, False),
        ("8", 7, False),
        ("9", 0, True),
        ("0", 0, True),
        ("-2", 0, True),
        ("abc", 0, True),
        ("2.5", 0, True),
        ("", 0, False),
    ],
)
def test_step_from_the_address_bar(raw, start, notice):
    got, message = parse_step(raw, 8)
    assert got == start, raw
    assert (message is not None) == notice, raw
    if notice:
        assert "showing step 1" in message and "1 to 8" in message
