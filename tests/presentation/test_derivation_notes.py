"""Every line of every note's derivation, evaluated on random small networks.

Each corrected line must equal the engine to 1e-10 (relative to the size of the engine's value,
at least 1); each slip that a number can show must not (so the flag is earned), except on the few
networks where the slip's form coincides with the right one by construction (listed in
``COINCIDES`` with the reason). Failure messages name the note, the line and the case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bptt_core.model import Params, RNNConfig
from bptt_viz.derivation import DERIVATIONS, Context, Net, evaluate_note
from bptt_viz.derivation.types import Evidence
from bptt_viz.derivation.view import EARNED, TOLERANCE

PAIRS = [
    ("softmax", "cross_entropy"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "sse"),
    ("sigmoid", "sse"),
    ("linear", "sse"),
]


@dataclass(frozen=True)
class Case:
    """A random small network and sequence, described in the failure messages."""

    I: int  # noqa: E741  (vocabulary size: inputs = outputs)
    H: int
    T: int
    activation: str
    output: str
    loss: str
    k: int | None
    seed: int
    scale: float

    def context(self) -> Context:
        rng = np.random.default_rng(self.seed)
        config = RNNConfig(self.I, self.H, self.I, self.activation, self.output, self.loss)
        params = Params(
            W_xh=rng.normal(0, self.scale, (self.H, self.I)),
            W_hh=rng.normal(0, self.scale, (self.H, self.H)),
            W_hy=rng.normal(0, self.scale, (self.I, self.H)),
            b_h=rng.normal(0, 0.3, self.H),
            b_y=rng.normal(0, 0.3, self.I),
        )
        ids = rng.integers(0, self.I, self.T + 1)
        eye = np.eye(self.I)
        eta = float(rng.uniform(0.01, 0.5))
        return Context(params, config, eye[ids[:-1]], eye[ids[1:]], eta, self.k)


@st.composite
def cases(draw) -> Case:
    I = draw(st.integers(2, 5))  # noqa: E741
    H = draw(st.sampled_from([1, 2, 3, I, 6]))  # I = H makes the notes' misfit products computable
    T = draw(st.integers(1, 6))
    output, loss = draw(st.sampled_from(PAIRS))
    k = draw(st.one_of(st.none(), st.integers(1, T + 1)))
    return Case(
        I=I,
        H=H,
        T=T,
        activation=draw(st.sampled_from(["tanh", "sigmoid", "relu", "linear"])),
        output=output,
        loss=loss,
        k=k,
        seed=draw(st.integers(0, 2**16)),
        scale=draw(st.sampled_from([0.3, 0.8, 1.5])),
    )


# Slips whose form equals the right one on some networks by construction: (label start, test).
COINCIDES: dict[str, object] = {
    # a single hidden unit: V_{i,i} is V_{i,m}; one timestep: no U^r(t+1) at all
    "index $i$ for $m$": lambda c, ref: c.H == 1 or c.T == 1,
    # one timestep: no earlier copy, no step back
    "direct path only": lambda c, ref: c.T == 1,
    "$\\partial h^{(t)}/\\partial b$": lambda c, ref: c.T == 1,
    # no number for the rest of T = 1: there is no pair s < t
    "$f'(s)$": lambda c, ref: c.T == 1,
}


def coincides(label: str, ref: str, case: Case, ev: Evidence, net: Net) -> bool:
    """True when the slip's form equals the right one on this network by construction."""
    if any(label.startswith(start) and test(case, ref) for start, test in COINCIDES.items()):
        return True
    if label.startswith("$z = 0..T$"):
        # equal when the τ-step unfolding leaves out nothing that is not zero: k ≥ T, or the
        # left-out copies multiply s(0) = 0 or a dead unit (the engine's own g_k equals ∂L/∂θ)
        k = case.k if case.k is not None and case.k < case.T else None
        name = "W_xh" if ref == "eq. (27)" else "W_hh"
        full = getattr(net.bwd.grads, name)
        return k is None or bool(
            np.allclose(full, getattr(net.truncated(k).grads, name), rtol=1e-9, atol=1e-14)
        )
    if label.startswith("outer product transposed") and ev.note is not None:
        true = np.asarray(ev.true)  # a symmetric increment (e.g. 1 × 1, or one live unit)
        if true.ndim >= 2 and true.shape[-1] == true.shape[-2]:
            return bool(np.allclose(true, np.swapaxes(true, -1, -2), rtol=1e-6, atol=1e-12))
    if not np.any(ev.true):
        return True  # everything is zero here: nothing can differ from it
    # ReLU units that are off at some copies cut paths exactly: the note's form can then equal
    # the right one entry for entry (exactly, not approximately)
    if case.activation == "relu" and ev.distance() == 0.0:
        return True
    # slips about the error crossing a recurrent edge: none crosses one on this network
    recurrent = ("direct path", "$\\partial h^{(t)}", "index $i$", "$f'(s)$")
    return label.startswith(recurrent) and not np.any(net.bwd.dh_carried)


def check_note(key: str, case: Case) -> None:
    derivation, ctx = DERIVATIONS[key], case.context()
    view = evaluate_note(derivation, ctx)
    for line, shown in zip(derivation.lines, view.lines, strict=True):
        where = f"note {key!r}, line {shown.index} ({line.ref}), case {case}"
        if shown.unavailable:
            assert case.T <= 3, f"{where}: not evaluated although T = {case.T}: {shown.unavailable}"
            continue
        for c in shown.checks:
            assert c.ok, (
                f"{where}: {c.label} differs from the engine by {c.residual:.3e} "
                f"(tolerance {TOLERANCE:g} × scale); line gives {c.value}, engine {c.reference}"
            )
        net = ctx.net(line.case or derivation.case)
        for slip, flag in zip(line.slips, shown.flags, strict=True):
            if slip.evaluate is None:
                continue  # notational: no number can show it
            ev = slip.evaluate(net, ctx)
            if coincides(slip.label, line.ref, case, ev, net):
                continue
            assert flag.earned and ev.distance() > EARNED, (
                f"{where}: the slip '{slip.label}' is flagged but the note's form equals the "
                f"true value (distance {ev.distance()}); {flag.evidence}"
            )


SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@pytest.mark.parametrize("key", sorted(DERIVATIONS))
@SETTINGS
@given(case=cases())
def test_every_line_of_the_note_on_random_networks(key: str, case: Case) -> None:
    check_note(key, case)


@pytest.mark.parametrize("key", sorted(DERIVATIONS))
def test_square_networks_evaluate_the_misfit_forms(key: str) -> None:
    """With I = H = O the notes' transposed or misplaced products can be computed: their numbers
    must still differ from the engine's."""
    for seed in range(5):
        case = Case(3, 3, 5, "tanh", "softmax", "cross_entropy", 2, seed, 0.8)
        view = evaluate_note(DERIVATIONS[key], case.context())
        for line in view.lines:
            for flag in line.flags:
                if flag.numeric:
                    assert flag.distance is not None and np.isfinite(flag.distance), (
                        f"note {key!r}, line {line.index} ({line.ref}): '{flag.label}' could not "
                        f"be computed on a square network: {flag.evidence}"
                    )
                    assert flag.distance > EARNED, (
                        f"note {key!r}, line {line.index}: {flag.evidence}"
                    )


@pytest.mark.parametrize("key", sorted(DERIVATIONS))
def test_every_line_is_right_on_a_diverging_network_or_says_why_not(key: str) -> None:
    """Huge weights saturate everything; the evaluation must still run and return numbers."""
    case = Case(4, 5, 6, "tanh", "softmax", "cross_entropy", None, 3, 30.0)
    view = evaluate_note(DERIVATIONS[key], case.context())
    assert len(view.lines) == len(DERIVATIONS[key].lines)
