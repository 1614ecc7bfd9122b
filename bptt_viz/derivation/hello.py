"""The handwritten "hello" notes (seed 003): every update rule of a character RNN, and
∂L/∂W_aa as a double sum over loss time and copy time of products of Jacobians.

The notes' symbols: a(t) is the hidden state (the engine's h), net_y(t) the logits (o), y(t) the
prediction, ŷ(t) the target (d), W_ax, W_aa, W_ya, b_a, b_y the weights (W_xh, W_hh, W_hy, b_h,
b_y), η the learning rate. Written for tanh hidden units, softmax outputs and cross-entropy.

Every evaluator returns the line's right-hand side on the engine's traces beside the engine's
value; ``chain_errors`` evaluates the notes' double sum (a product of Jacobians per term).
"""

from __future__ import annotations

import numpy as np

from bptt_core.flow import jacobian_norms
from bptt_core.model import forward
from bptt_viz.derivation.common import (
    ENGINE_FWD,
    ENGINE_SGD,
    chain_errors,
    check,
    cross_entropy_terms,
    evidence,
    jacobian_product_norms,
    log_softmax,
    outer_sum,
    product_or_problem,
    softmax_chain,
    stack,
)
from bptt_viz.derivation.network import Context, Net
from bptt_viz.derivation.types import Case, Derivation, Evaluation, Evidence, Line, Slip, Term

CASE = Case(
    activation=("tanh",),
    output=("softmax",),
    loss=("cross_entropy",),
    why="tanh hidden units, softmax outputs and cross-entropy, as in the notes",
)
ENGINE_ERRORS = "the engine's per-loss errors (differences of its truncated passes)"
JACOBIANS = "the engine's Jacobian norms (bptt_core.flow.jacobian_norms)"

# ----------------------------------------------------------------------------- shared numbers


def out_err(net: Net) -> np.ndarray:
    """(T, O) ∂L(t)/∂net_y(t) by the chain rule through the whole softmax Jacobian:
    (∂y/∂net_y)ᵀ (−ŷ/y), which is y(t) − ŷ(t)."""
    return softmax_chain(net.d, net.fwd.y)


def target_only_err(net: Net) -> np.ndarray:
    """(T, O) the notes' output error −ŷ(t)(1 − y(t)): softmax differentiated entry by entry,
    so only the target's output receives error."""
    return -net.d * (1.0 - net.fwd.y)


def tanh_factor(net: Net) -> np.ndarray:
    """(T, H) 1 − a(t)², the derivative of tanh written with the hidden state a(t)."""
    return 1.0 - net.fwd.h**2


def note_errors(net: Net, err: np.ndarray | None = None) -> np.ndarray:
    """(T, T, H) the double sum's terms ∂L(i)/∂net_a(k) (chain of Jacobians), for an output error
    (default: the correct y − ŷ, computed once per network)."""
    p = net.params
    if err is None:
        return net.memo(
            "hello.errors", lambda: chain_errors(p.W_hh, p.W_hy, tanh_factor(net), out_err(net))
        )
    return chain_errors(p.W_hh, p.W_hy, tanh_factor(net), err)


JAC_STEPS = 9  # Jacobian norms for loss times i ≤ 9: every term a table shows (45 ≥ MAX_TERMS)


def product_norms(net: Net) -> np.ndarray:
    """(n, n) ‖Π_{m=k+1}^{i} ∂a(m)/∂a(m−1)‖₂ from the notes' factors for i, k ≤ n = min(T, 9),
    once per network."""
    n = min(net.T, JAC_STEPS)
    return net.memo(
        "hello.products",
        lambda: jacobian_product_norms(net.params.W_hh, tanh_factor(net)[:n]),
    )


def engine_jacobian_norms(net: Net) -> np.ndarray:
    """(n, n) the engine's ‖∂h(t)/∂h(k)‖₂ for t, k ≤ n = min(T, 9), once per network (from the
    engine's forward pass over the first n steps: the forward pass only looks back)."""
    n = min(net.T, JAC_STEPS)

    def compute() -> np.ndarray:
        with np.errstate(all="ignore"):
            head = forward(net.params, net.config, net.x[:n], net.d[:n])
            return jacobian_norms(net.params, net.config, head)

    return net.memo("engine.jacobian_norms", compute)


def per_loss(E: np.ndarray, right: np.ndarray | None) -> np.ndarray:
    """Σ_k E[t, k] right(k)ᵀ for every loss t: (T, H, R) gradients of L(t), or (T, H) for biases
    (right None)."""
    if right is None:
        return E.sum(axis=1)
    return np.einsum("tkh,kr->thr", E, right)


def direct_path(net: Net) -> np.ndarray:
    """(T, H) the error of L(t) at its own copy only: (1 − a(t)²) ⊙ W_yaᵀ (y(t) − ŷ(t))."""
    return tanh_factor(net) * (out_err(net) @ net.params.W_hy)


# ----------------------------------------------------------------------------- forward lines


def eval_net_y(net: Net, ctx: Context) -> Evaluation:
    p = net.params
    return Evaluation(
        (check(r"\mathrm{net}_y(t)", net.fwd.h @ p.W_hy.T + p.b_y, net.fwd.o, ENGINE_FWD),)
    )


def eval_softmax(net: Net, ctx: Context) -> Evaluation:
    o = net.fwd.o
    e = np.exp(o - o.max(axis=1, keepdims=True))
    return Evaluation((check("y(t)", e / e.sum(axis=1, keepdims=True), net.fwd.y, ENGINE_FWD),))


def eval_loss(net: Net, ctx: Context) -> Evaluation:
    per_t = cross_entropy_terms(net.d, log_softmax(net.fwd.o))
    return Evaluation(
        (
            check("L(t)", per_t, net.fwd.losses, ENGINE_FWD),
            check("L", per_t.sum(), net.fwd.loss, ENGINE_FWD),
        )
    )


def eval_recurrence(net: Net, ctx: Context) -> Evaluation:
    p = net.params
    value = np.tanh(net.h_prev @ p.W_hh.T + net.x @ p.W_xh.T + p.b_h)
    return Evaluation((check("a(t)", value, net.fwd.h, ENGINE_FWD),))


def slip_recurrence(net: Net, ctx: Context) -> Evidence:
    p = net.params
    _, problem = product_or_problem(p.W_xh, net.fwd.h[0], "w_ax", "a(t)")
    note = None
    if not problem:  # I = H: the note's recurrence can be computed, with a(t) on both sides
        note = np.tanh(net.h_prev @ p.W_hh.T + net.fwd.h @ p.W_xh.T + p.b_h)
    return evidence("a(t)", note, net.fwd.h, problem, "the engine's a(t)")


# ----------------------------------------------------------------------------- W_ya and b_y


def eval_wya_chain(net: Net, ctx: Context) -> Evaluation:
    per_copy = np.einsum("to,th->toh", out_err(net), net.fwd.h)
    return Evaluation(
        (check(r"\partial L(t)/\partial W_{ya}", per_copy, net.bwd.per_step.W_hy),),
        text="The middle factor is the whole softmax Jacobian diag(y) − y yᵀ, so every output "
        "of copy t receives error.",
    )


def eval_wya_copy(net: Net, ctx: Context) -> Evaluation:
    value = np.einsum("to,th->toh", net.fwd.y - net.d, net.fwd.h)
    return Evaluation((check(r"\partial L(t)/\partial W_{ya}", value, net.bwd.per_step.W_hy),))


def slip_wya_copy(net: Net, ctx: Context) -> Evidence:
    note = np.einsum("to,th->toh", target_only_err(net), net.fwd.h)
    return evidence("∂L(t)/∂W_ya, every t", note, net.bwd.per_step.W_hy)


def eval_wya_update(net: Net, ctx: Context) -> Evaluation:
    grad = outer_sum(net.fwd.y - net.d, net.fwd.h)
    eta = ctx.eta
    return Evaluation(
        (
            check(r"\partial L/\partial W_{ya}", grad, net.bwd.grads.W_hy),
            check(r"\Delta W_{ya}", -eta * grad, -eta * net.bwd.grads.W_hy),
            check(
                r"W_{ya} + \Delta W_{ya}",
                net.params.W_hy - eta * grad,
                net.sgd_step(eta).W_hy,
                ENGINE_SGD,
            ),
        )
    )


def slip_wya_update(net: Net, ctx: Context) -> Evidence:
    note = ctx.eta * outer_sum(net.d * (1.0 - net.fwd.y), net.fwd.h)
    return evidence("ΔW_ya", note, -ctx.eta * net.bwd.grads.W_hy)


def eval_by_copy(net: Net, ctx: Context) -> Evaluation:
    return Evaluation((check(r"\partial L(t)/\partial b_y", out_err(net), net.bwd.per_step.b_y),))


def slip_by_copy(net: Net, ctx: Context) -> Evidence:
    return evidence("∂L(t)/∂b_y, every t", target_only_err(net), net.bwd.per_step.b_y)


def eval_by_update(net: Net, ctx: Context) -> Evaluation:
    step = -ctx.eta * (net.fwd.y - net.d).sum(axis=0)
    return Evaluation(
        (
            check(r"\Delta b_y", step, -ctx.eta * net.bwd.grads.b_y),
            check(
                r"b_y + \Delta b_y", net.params.b_y + step, net.sgd_step(ctx.eta).b_y, ENGINE_SGD
            ),
        )
    )


def slip_by_update(net: Net, ctx: Context) -> Evidence:
    note = ctx.eta * (net.d * (1.0 - net.fwd.y)).sum(axis=0)
    return evidence("Δb_y", note, -ctx.eta * net.bwd.grads.b_y)


# ----------------------------------------------------------------------------- W_aa


def _terms(net: Net, pairs: list[tuple[int, int]]) -> tuple[Term, ...]:
    """Terms (i, k) (1-based) of ∂L/∂W_aa: the notes' chain beside the engine's errors, each with
    the spectral norm of its product of Jacobians Π_{m=k+1}^{i} ∂a(m)/∂a(m−1) (for i ≤ 9)."""
    E, R = note_errors(net), net.errors
    hp = net.h_prev
    norms = product_norms(net)
    n = norms.shape[0]
    return tuple(
        Term(
            f"i={i},\\ k={k}",
            np.outer(E[i - 1, k - 1], hp[k - 1]),
            np.outer(R[i - 1, k - 1], hp[k - 1]),
            float(norms[i - 1, k - 1]) if i <= n else None,
        )
        for i, k in pairs
    )


def zero_start(net: Net) -> str:
    """The sentence for a(0) = 0, when it is."""
    if net.h_prev[0].any():
        return ""
    return "a(0) = 0, so every term with k = 1 (it multiplies a(0)ᵀ) is zero."


def eval_waa_sum(net: Net, ctx: Context) -> Evaluation:
    per = per_loss(note_errors(net), net.h_prev)
    ref = per_loss(net.errors, net.h_prev)
    terms = tuple(Term(f"t={t + 1}", per[t], ref[t]) for t in range(net.T))
    return Evaluation(
        (
            check(r"\partial L(t)/\partial W_{aa}", per, ref, ENGINE_ERRORS),
            check(r"\sum_t \partial L(t)/\partial W_{aa}", per.sum(axis=0), net.bwd.grads.W_hh),
        ),
        terms=terms,
        terms_caption="One term per loss L(t); the engine's side sums the errors loss t sends to "
        "every copy.",
    )


def _loss_time(net: Net, t: int) -> Evaluation:
    """∂L(t)/∂W_aa written out term by term: copies t, t−1, …, 1."""
    if net.T < t:
        return Evaluation(
            (), unavailable=f"The text has only T = {net.T} losses, so there is no L({t})."
        )
    terms = _terms(net, [(t, k) for k in range(t, 0, -1)])
    ref = per_loss(net.errors, net.h_prev)[t - 1]
    text = zero_start(net)
    return Evaluation(
        (
            check(
                rf"\partial L({t})/\partial W_{{aa}}",
                sum(x.value for x in terms),
                ref,
                ENGINE_ERRORS,
            ),
        ),
        terms=terms,
        terms_caption=f"Term k: the error of L({t}) at copy k times a(k−1)ᵀ.",
        text=text,
    )


def eval_waa_t1(net: Net, ctx: Context) -> Evaluation:
    return _loss_time(net, 1)


def eval_waa_t2(net: Net, ctx: Context) -> Evaluation:
    return _loss_time(net, 2)


def eval_waa_t3(net: Net, ctx: Context) -> Evaluation:
    return _loss_time(net, 3)


def eval_double_sum(net: Net, ctx: Context) -> Evaluation:
    T = net.T
    pairs = [(i, k) for i in range(1, T + 1) for k in range(i, 0, -1)]
    terms = _terms(net, pairs)
    n = min(T, JAC_STEPS)
    mine, ref = product_norms(net), engine_jacobian_norms(net)
    low = np.tril_indices(n)
    return Evaluation(
        (
            check(r"\partial L/\partial W_{aa}", sum(x.value for x in terms), net.bwd.grads.W_hh),
            check(
                r"\lVert \textstyle\prod_m \partial a(m)/\partial a(m-1) \rVert_2,\ "
                rf"\text{{every }} k \le i \le {n}",
                mine[low],
                ref[low],
                JACOBIANS,
            ),
        ),
        terms=terms,
        terms_caption="Term (i, k): the error of loss L(i) carried back to copy k through "
        "i − k Jacobians, times a(k−1)ᵀ. The terms far from the diagonal (large i − k) are the "
        "ones that vanish or explode; the last column is the size of their product of Jacobians.",
        text=zero_start(net),
    )


def eval_factors_out(net: Net, ctx: Context) -> Evaluation:
    return Evaluation(
        (
            check(r"\partial L(i)/\partial \mathrm{net}_y(i)", out_err(net), net.bwd.delta_o),
            check(
                r"\partial L(i)/\partial a(i)\ \text{(direct)}",
                out_err(net) @ net.params.W_hy,
                net.bwd.dh_local,
            ),
        ),
        text="∂L(i)/∂y(i) = −ŷ(i)/y(i) is −1/y at the target and 0 elsewhere; through the whole "
        "softmax Jacobian it gives y(i) − ŷ(i), an error at every output.",
    )


def slip_factors_out(net: Net, ctx: Context) -> Evidence:
    return evidence("∂L(i)/∂net_y(i), every i", target_only_err(net), net.bwd.delta_o)


def eval_factors_hidden(net: Net, ctx: Context) -> Evaluation:
    if net.T < 2:
        return Evaluation((), unavailable="With T = 1 there is no step from a(m−1) to a(m).")
    W, f = net.params.W_hh, tanh_factor(net)
    ref = engine_jacobian_norms(net)
    n = ref.shape[0]
    mine = np.array([np.linalg.norm(f[m][:, None] * W, ord=2) for m in range(1, n)])
    share = np.einsum("th,tk->thk", f * net.dL_dh, net.h_prev)
    return Evaluation(
        (
            check(
                rf"\lVert \partial a(m)/\partial a(m-1) \rVert_2,\ m=2..{n}",
                mine,
                ref[np.arange(1, n), np.arange(0, n - 1)],
                JACOBIANS,
            ),
            check(
                r"\frac{\partial L}{\partial a(k)} \cdot \frac{\partial^{+} a(k)}{\partial W_{aa}}",
                share,
                net.bwd.per_step.W_hh,
            ),
        ),
        text="∂⁺a(k)/∂W_aa is the derivative of copy k alone: entry (j, l) of W_aa moves a_j(k) "
        "by (1 − a_j(k)²) a_l(k−1). With ∂L/∂a(k) from the engine it gives copy k's share of "
        "the gradient.",
    )


def eval_waa_substituted(net: Net, ctx: Context) -> Evaluation:
    value = outer_sum(note_errors(net).sum(axis=0), net.h_prev)
    return Evaluation((check(r"\partial L/\partial W_{aa}", value, net.bwd.grads.W_hh),))


def slip_waa_substituted(net: Net, ctx: Context) -> Evidence:
    note = outer_sum(note_errors(net, target_only_err(net)).sum(axis=0), net.h_prev)
    return evidence("∂L/∂W_aa", note, net.bwd.grads.W_hh, true_label="the true gradient")


def eval_waa_update(net: Net, ctx: Context) -> Evaluation:
    grad = outer_sum(note_errors(net).sum(axis=0), net.h_prev)
    return Evaluation(
        (
            check(r"\Delta W_{aa}", -ctx.eta * grad, -ctx.eta * net.bwd.grads.W_hh),
            check(
                r"W_{aa} + \Delta W_{aa}",
                net.params.W_hh - ctx.eta * grad,
                net.sgd_step(ctx.eta).W_hh,
                ENGINE_SGD,
            ),
        )
    )


# ----------------------------------------------------------------------------- b_a and W_ax


def total_bias_derivative(net: Net) -> np.ndarray:
    """(T, H, H) ∂a(t)/∂b_a through every earlier copy: D(t) = diag(1 − a(t)²)(I + W_aa D(t−1))."""
    T, H = net.T, net.config.hidden_size
    f, W = tanh_factor(net), net.params.W_hh
    D = np.zeros((T, H, H))
    prev = np.zeros((H, H))
    for t in range(T):  # the recurrence of the derivative, as the chain rule unrolls it
        prev = f[t][:, None] * (np.eye(H) + W @ prev)
        D[t] = prev
    return D


def eval_ba_chain(net: Net, ctx: Context) -> Evaluation:
    dL_da = out_err(net) @ net.params.W_hy  # ∂L(t)/∂a(t) through y(t)
    per = np.einsum("thk,th->tk", total_bias_derivative(net), dL_da)
    ref = net.errors.sum(axis=1)
    return Evaluation(
        (
            check(r"\partial L(t)/\partial b_a", per, ref, ENGINE_ERRORS),
            check(r"\sum_t \partial L(t)/\partial b_a", per.sum(axis=0), net.bwd.grads.b_h),
        ),
        text="Here ∂a(t)/∂b_a is the whole derivative: b_a moves a(t) directly and through "
        "a(t−1), a(t−2), …, a(1).",
    )


def eval_ba_grad(net: Net, ctx: Context) -> Evaluation:
    E = note_errors(net)
    return Evaluation(
        (
            check(
                r"\partial L(t)/\partial b_a",
                per_loss(E, None),
                net.errors.sum(axis=1),
                ENGINE_ERRORS,
            ),
            check(r"\partial L/\partial b_a", E.sum(axis=(0, 1)), net.bwd.grads.b_h),
        )
    )


def slip_direct_ba(net: Net, ctx: Context) -> Evidence:
    return evidence(
        "∂L/∂b_a", direct_path(net).sum(axis=0), net.bwd.grads.b_h, true_label="the true gradient"
    )


def slip_target_ba(net: Net, ctx: Context) -> Evidence:
    note = note_errors(net, target_only_err(net)).sum(axis=(0, 1))
    return evidence("∂L/∂b_a", note, net.bwd.grads.b_h, true_label="the true gradient")


def slip_tanh_twice(net: Net, ctx: Context) -> Evidence:
    note = ((1.0 - np.tanh(net.fwd.h) ** 2) * net.dL_dh).sum(axis=0)
    return evidence("∂L/∂b_a", note, net.bwd.grads.b_h, true_label="the true gradient")


def eval_ba_update(net: Net, ctx: Context) -> Evaluation:
    grad = note_errors(net).sum(axis=(0, 1))
    return Evaluation(
        (
            check(r"\Delta b_a", -ctx.eta * grad, -ctx.eta * net.bwd.grads.b_h),
            check(
                r"b_a + \Delta b_a",
                net.params.b_h - ctx.eta * grad,
                net.sgd_step(ctx.eta).b_h,
                ENGINE_SGD,
            ),
        )
    )


def slip_direct_ba_update(net: Net, ctx: Context) -> Evidence:
    return evidence("Δb_a", -ctx.eta * direct_path(net).sum(axis=0), -ctx.eta * net.bwd.grads.b_h)


def slip_target_ba_update(net: Net, ctx: Context) -> Evidence:
    note = -ctx.eta * note_errors(net, target_only_err(net)).sum(axis=(0, 1))
    return evidence("Δb_a", note, -ctx.eta * net.bwd.grads.b_h)


def eval_wax_chain(net: Net, ctx: Context) -> Evaluation:
    per = per_loss(note_errors(net), net.x)
    ref = per_loss(net.errors, net.x)
    return Evaluation(
        (
            check(r"\partial L(t)/\partial W_{ax}", per, ref, ENGINE_ERRORS),
            check(r"\sum_t \partial L(t)/\partial W_{ax}", per.sum(axis=0), net.bwd.grads.W_xh),
        ),
        text="As for b_a, ∂a(t)/∂W_ax must be the whole derivative, through every earlier copy.",
    )


def slip_direct_wax_copy(net: Net, ctx: Context) -> Evidence:
    note = np.einsum("th,ti->thi", direct_path(net), net.x)
    return evidence("∂L(t)/∂W_ax, every t", note, per_loss(net.errors, net.x))


def slip_target_wax_copy(net: Net, ctx: Context) -> Evidence:
    note = per_loss(note_errors(net, target_only_err(net)), net.x)
    return evidence("∂L(t)/∂W_ax, every t", note, per_loss(net.errors, net.x))


def eval_wax_sum(net: Net, ctx: Context) -> Evaluation:
    per = per_loss(note_errors(net), net.x)
    return Evaluation((check(r"\partial L/\partial W_{ax}", per.sum(axis=0), net.bwd.grads.W_xh),))


def slip_minus_wax(net: Net, ctx: Context) -> Evidence:
    note = -per_loss(note_errors(net), net.x).sum(axis=0)
    return evidence("∂L/∂W_ax", note, net.bwd.grads.W_xh, true_label="the true gradient")


def eval_wax_update(net: Net, ctx: Context) -> Evaluation:
    grad = outer_sum(note_errors(net).sum(axis=0), net.x)
    return Evaluation(
        (
            check(r"\Delta W_{ax}", -ctx.eta * grad, -ctx.eta * net.bwd.grads.W_xh),
            check(
                r"W_{ax} + \Delta W_{ax}",
                net.params.W_xh - ctx.eta * grad,
                net.sgd_step(ctx.eta).W_xh,
                ENGINE_SGD,
            ),
        )
    )


def slip_direct_wax_update(net: Net, ctx: Context) -> Evidence:
    note = -ctx.eta * outer_sum(direct_path(net), net.x)
    return evidence("ΔW_ax", note, -ctx.eta * net.bwd.grads.W_xh)


def slip_target_wax_update(net: Net, ctx: Context) -> Evidence:
    note = -ctx.eta * outer_sum(note_errors(net, target_only_err(net)).sum(axis=0), net.x)
    return evidence("ΔW_ax", note, -ctx.eta * net.bwd.grads.W_xh)


# ----------------------------------------------------------------------------- the slips

SEEDS, ISSUE, HERE = "seeds/README.md", "seeds/README.md, issue 12", "found on this page"


def softmax_slip(evaluate) -> Slip:
    return Slip(
        "softmax differentiated entry by entry",
        "Softmax couples its outputs, so ∂y(t)/∂net_y(t) is the matrix diag(y) − y yᵀ and not "
        "y(1 − y) entry by entry; with cross-entropy the output error is the whole y(t) − ŷ(t), "
        "which gives error to every output, not only the target's.",
        r"-\hat y(t)\big(1-y(t)\big) \to y(t)-\hat y(t)",
        evaluate,
        SEEDS,
    )


def direct_path_slip(evaluate) -> Slip:
    return Slip(
        "direct path only",
        "The hidden bias and the input weights act in every copy, so L(t) depends on them "
        "through a(t), a(t−1), …, a(1); keeping only copy t's own derivative (1 − a(t)²) is the "
        "gradient truncated to k = 1.",
        r"\text{copy } t \text{ only} \to \textstyle\sum_{k\le t}",
        evaluate,
        ISSUE,
    )


def exponent_slip() -> Slip:
    return Slip(
        "exponent N",
        "tanh′ = 1 − tanh², and a(t) is already the tanh, so every factor written 1 − a^N is "
        "1 − a(t)² (for the copy's own a): the exponent is 2.",
        r"1-a^{N} \to 1-a^{2}",
        None,
        SEEDS,
    )


RECURRENCE = Slip(
    "x(t), not a(t), in the recurrence",
    "The input enters the hidden state through W_ax x(t); W_ax a(t) would feed a(t) into "
    "itself, and W_ax has one column per character, not per hidden unit.",
    r"w_{ax}\,a(t) \to W_{ax}\,x(t)",
    slip_recurrence,
    SEEDS,
)
STRAY = Slip(
    "stray factor ∂L/∂a",
    "The path from L(t) to W_ya runs L(t) → y(t) → net_y(t) → W_ya and does not pass through "
    "a(t), so the leading factor ∂L/∂a does not belong in the product (the next line drops it).",
    r"\tfrac{\partial L}{\partial a}\,\tfrac{\partial L(t)}{\partial y(t)}\cdots \to \tfrac{\partial L(t)}{\partial y(t)}\cdots",
    None,
    ISSUE,
)
TARGET_ONLY_UPDATE = Slip(
    "only the target's row of W_ya moves",
    "The update keeps only the row of the target character (the note says so: the neuron "
    "with target 1); with the whole error y(t) − ŷ(t) every row of W_ya moves.",
    r"\textstyle\sum_t (1-y(t))\,a(t) \to -\sum_t (y(t)-\hat y(t))\,a(t)^{\top}",
    slip_wya_update,
    SEEDS,
)
N_FOR_ETA = Slip(
    "n written for η",
    "The step of the b_y update is the learning rate η of every other update; the notes write "
    "it n.",
    r"n \to \eta",
    None,
    ISSUE,
)
TARGET_ONLY_BY = Slip(
    "only the target's bias moves",
    "Σ_t ŷ(t)(1 − y(t)) moves only the target character's bias; with y(t) − ŷ(t) every "
    "output's bias moves (and the biases of characters that are never the target go down).",
    r"\hat y(t)(1-y(t)) \to -(y(t)-\hat y(t))",
    slip_by_update,
    SEEDS,
)
SIDE_REMARK = Slip(
    "∂net_y(1)/∂W_aa taken for ∂a(1)/∂W_aa",
    "net_y(1) depends on W_aa only through a(1), so ∂net_y(1)/∂W_aa is W_ya ∂a(1)/∂W_aa; the "
    "side remark drops W_ya, which the boxed line restores as ∂net_y(1)/∂a(1) (both sides are "
    "zero here because a(0) = 0, so no number can show it).",
    r"\tfrac{\partial \mathrm{net}_y(1)}{\partial W_{aa}} = \tfrac{\partial a(1)}{\partial W_{aa}} \to W_{ya}\tfrac{\partial a(1)}{\partial W_{aa}}",
    None,
    HERE,
)
REPEATED = Slip(
    "repeated bracket",
    "∂a(2)/∂W_aa stands both before the bracket and inside it, a product of two derivatives "
    "with respect to W_aa; the notes' next line, with three terms, is the right expansion.",
    r"\tfrac{\partial a(2)}{\partial W_{aa}}[\dots] \to [\dots]",
    None,
    SEEDS,
)
INDEX = Slip(
    "ŷ(t) inside a sum over i",
    "Inside the sum over the loss time i the target is ŷ(i); ŷ(t) names a time that is not "
    "summed over.",
    r"\hat y(t) \to \hat y(i)",
    None,
    HERE,
)
TARGET_DOUBLE = Slip(
    "only the target's output sends error back",
    "The substituted double sum still uses the entry-by-entry softmax derivative (1 − y(i)), "
    "so only the target's output sends error back; with y(i) − ŷ(i) every output does.",
    r"-(1-y(i)) \to y(i)-\hat y(i)",
    slip_waa_substituted,
    SEEDS,
)
TANH_TWICE = Slip(
    "tanh applied twice",
    "a(t) is already the tanh of the pre-activation, so the factor is 1 − a(t)²; "
    "1 − tanh(a(t))² applies tanh a second time.",
    r"1-\tanh(a(t))^{N} \to 1-a(t)^{2}",
    slip_tanh_twice,
    ISSUE,
)
MINUS = Slip(
    "spurious minus",
    "∂L/∂W_ax is the plain sum Σ_t ∂L(t)/∂W_ax of the per-loss gradients; the minus sign "
    "flips the gradient (the notes' next line no longer has it).",
    r"-\textstyle\sum_t \to \sum_t",
    slip_minus_wax,
    ISSUE,
)


# ----------------------------------------------------------------------------- the lines


def frac(num: str, den: str) -> str:
    return rf"\frac{{\partial {num}}}{{\partial {den}}}"


def chain(t: str) -> str:
    """The notes' three output factors ∂L(t)/∂y(t) · ∂y(t)/∂net_y(t) · ∂net_y(t)/∂a(t)."""
    return (
        frac(f"L({t})", f"y({t})")
        + r"\,"
        + frac(f"y({t})", rf"\mathrm{{net}}_y({t})")
        + r"\,"
        + frac(rf"\mathrm{{net}}_y({t})", f"a({t})")
    )


def error_at_k(t: str) -> tuple[str, str]:
    """∂L(t)/∂net_a(k) written out in two rows: the error of loss t at copy k (the product runs
    with m increasing from left to right)."""
    first = (
        r"\operatorname{diag}\big(1-a(k)^2\big)\Big(\prod_{m=k+1}^{@} W_{aa}^{\top}"
        r"\operatorname{diag}\big(1-a(m)^2\big)\Big)"
    )
    return first.replace("@", t), r"W_{ya}^{\top}\big(y(@)-\hat y(@)\big)".replace("@", t)


NOTE_SOFTMAX = r"-\frac{\hat y(t)}{y(t)}\,y(t)\big(1-y(t)\big)"
NOTE_FACTORS = r"\big(1-y(t)\big)\big(1-(a(t))^{N}\big)\,\omega_{ya}"

LINES: tuple[Line, ...] = (
    Line(
        "eq. (1)",
        "The output layer's input: the logits of the next character.",
        r"\mathrm{net}_y(t) = W_{ya}\,a(t) + b_y",
        eval_net_y,
    ),
    Line(
        "eq. (2)",
        "Softmax turns the logits into the predicted distribution.",
        r"y(t) = \operatorname{softmax}\big(\mathrm{net}_y(t)\big),\quad y_j(t) = \frac{e^{\mathrm{net}_{y,j}(t)}}{\sum_q e^{\mathrm{net}_{y,q}(t)}}",
        eval_softmax,
    ),
    Line(
        "eq. (3)",
        "Cross-entropy at every step, summed over the sequence (never averaged).",
        r"L(t) = -\hat y(t)^{\top}\log y(t),\qquad L = \sum_{t=1}^{T} L(t)",
        eval_loss,
        remark="The notes write the four terms L(1) + L(2) + L(3) + L(4) of “hello”; a text of "
        "n characters has T = n − 1 of them. ŷ(t) is the one-hot target.",
    ),
    Line(
        "eq. (4)",
        "The recurrence: the new hidden state from the previous one and the input.",
        r"a(t) = \tanh\big(W_{aa}\,a(t-1) + W_{ax}\,x(t) + b_a\big)",
        eval_recurrence,
        note_tex=r"a(t) = \tanh\big[w_{aa}\,a(t-1) + w_{ax}\,a(t) + b_a\big]",
        slips=(RECURRENCE,),
    ),
    Line(
        r"$W_{ya}$, the chain",
        "Every loss reaches W_ya only through its own logits.",
        stack(
            frac("L", "W_{ya}") + r" &= \sum_t " + frac("L(t)", "W_{ya}"),
            frac("L(t)", "W_{ya}")
            + " &= "
            + frac("L(t)", "y(t)")
            + r"\,"
            + frac("y(t)", r"\mathrm{net}_y(t)")
            + r"\,"
            + frac(r"\mathrm{net}_y(t)", "W_{ya}"),
        ),
        eval_wya_chain,
        note_tex=frac("L(t)", "w_{ya}")
        + " = "
        + frac("L", "a")
        + r"\,"
        + frac("L(t)", "y(t)")
        + r"\,"
        + frac("y(t)", r"\mathrm{net}y(t)")
        + r"\,"
        + frac(r"\mathrm{net}y(t)", "w_{ya}"),
        slips=(STRAY,),
    ),
    Line(
        r"$W_{ya}$, substituted",
        "The chain multiplied out for softmax and cross-entropy.",
        frac("L(t)", "W_{ya}") + r" = \big(y(t)-\hat y(t)\big)\,a(t)^{\top}",
        eval_wya_copy,
        note_tex=stack(
            frac("L(t)", "w_{ya}") + " &= " + NOTE_SOFTMAX + r"\,a(t)",
            r" &= -\hat y(t)\big(1-y(t)\big)\,a(t)",
        ),
        slips=(softmax_slip(slip_wya_copy),),
    ),
    Line(
        r"$W_{ya}$, update",
        "Sum over the copies, step against the gradient.",
        stack(
            r"\Delta W_{ya} &= -\eta\,"
            + frac("L", "W_{ya}")
            + r" = -\eta\sum_t \big(y(t)-\hat y(t)\big)\,a(t)^{\top}",
            r"W_{ya} &\leftarrow W_{ya} + \Delta W_{ya}",
        ),
        eval_wya_update,
        note_tex=stack(
            frac("L", "w_{ya}") + r" &= -\sum_t \big(1-y(t)\big)\,a(t)",
            r"\Delta w_{ya} &= \eta\sum_t\big(1-y(t)\big)\,a(t)",
            r"w_{ya} &= w_{ya} + \Delta w_{ya}",
        ),
        slips=(TARGET_ONLY_UPDATE,),
    ),
    Line(
        r"$b_y$, per copy",
        "The output bias, the same chain with ∂net_y(t)/∂b_y = 1.",
        stack(
            frac("L(t)", "b_y")
            + " &= "
            + frac("L(t)", "y(t)")
            + r"\,"
            + frac("y(t)", r"\mathrm{net}_y(t)")
            + r"\,"
            + frac(r"\mathrm{net}_y(t)", "b_y"),
            r" &= y(t)-\hat y(t)",
        ),
        eval_by_copy,
        note_tex=stack(
            frac("L(t)", "b_y") + " &= " + NOTE_SOFTMAX + r"\cdot 1",
            r" &= -\hat y(t)\big(1-y(t)\big)",
        ),
        slips=(softmax_slip(slip_by_copy),),
    ),
    Line(
        r"$b_y$, update",
        "Sum over the copies, step against the gradient.",
        stack(
            r"\Delta b_y &= -\eta\," + frac("L", "b_y") + r" = -\eta\sum_t\big(y(t)-\hat y(t)\big)",
            r"b_y &\leftarrow b_y + \Delta b_y",
        ),
        eval_by_update,
        note_tex=stack(
            r"\Delta b_y &= -n\," + frac("L", "b_y") + r" = n\sum_t \hat y(t)\big(1-y(t)\big)",
            r"\Delta b_y &= n\sum_t\big(1-y(t)\big)",
        ),
        slips=(N_FOR_ETA, TARGET_ONLY_BY),
    ),
    Line(
        r"$W_{aa}$, one gradient per loss",
        "The recurrent weights: one gradient per loss term, summed.",
        r"\Delta W_{aa} = -\eta\,"
        + frac("L", "W_{aa}")
        + r",\qquad "
        + frac("L", "W_{aa}")
        + r" = \sum_{t=1}^{T}"
        + frac("L(t)", "W_{aa}"),
        eval_waa_sum,
    ),
    Line(
        r"$W_{aa}$, t = 1",
        "The first loss reaches W_aa through a(1) only.",
        frac("L(1)", "W_{aa}") + " = " + chain("1") + r"\," + frac("a(1)", "W_{aa}"),
        eval_waa_t1,
        note_tex=frac(r"\mathrm{net}y(1)", "W_{aa}") + " = " + frac("a(1)", "W_{aa}"),
        slips=(SIDE_REMARK,),
        remark="The boxed line of the notes (the corrected form here) is right; the flag is for "
        "the side remark beside its first form.",
    ),
    Line(
        r"$W_{aa}$, t = 2",
        "The second loss reaches W_aa in copy 2 and, through a(1), in copy 1.",
        frac("L(2)", "W_{aa}")
        + " = "
        + frac("L(2)", "a(2)")
        + r"\Big["
        + frac("^{+} a(2)", "W_{aa}")
        + " + "
        + frac("a(2)", "a(1)")
        + r"\,"
        + frac("^{+} a(1)", "W_{aa}")
        + r"\Big]",
        eval_waa_t2,
        remark="∂L(2)/∂a(2) abbreviates the notes' three factors ∂L(2)/∂y(2) · ∂y(2)/∂net_y(2) "
        "· ∂net_y(2)/∂a(2). ∂⁺a(k)/∂W_aa is the derivative of copy k alone, with a(k−1) held "
        "fixed; the notes write ∂ for it as well.",
    ),
    Line(
        r"$W_{aa}$, t = 3",
        "The third loss: three copies, one more Jacobian per step back.",
        stack(
            frac("L(3)", "W_{aa}")
            + " = "
            + frac("L(3)", "a(3)")
            + r"\Big[&"
            + frac("^{+} a(3)", "W_{aa}")
            + " + "
            + frac("a(3)", "a(2)")
            + frac("^{+} a(2)", "W_{aa}"),
            r"&+ "
            + frac("a(3)", "a(2)")
            + frac("a(2)", "a(1)")
            + frac("^{+} a(1)", "W_{aa}")
            + r"\Big]",
        ),
        eval_waa_t3,
        note_tex=stack(
            frac("L(3)", "W_{aa}") + " = " + frac("L(3)", "a(3)") + frac("a(3)", "W_{aa}") + r"&",
            r"+ "
            + frac("L(3)", "a(3)")
            + frac("a(3)", "a(2)")
            + frac("a(2)", "W_{aa}")
            + r"\Big["
            + frac("a(2)", "W_{aa}")
            + " + "
            + frac("a(2)", "a(1)")
            + frac("a(1)", "W_{aa}")
            + r"\Big]",
        ),
        slips=(REPEATED,),
        remark="Both forms abbreviate the notes' three leading factors as ∂L(3)/∂a(3).",
    ),
    Line(
        r"$W_{aa}$, the double sum",
        "All losses, all copies: the sum over loss time i and copy time k.",
        stack(
            frac("L", "W_{aa}") + r" = \sum_{i=1}^{T}\sum_{k=1}^{i}\, &" + chain("i"),
            r"&\cdot \Big(\prod_{m=k+1}^{i}"
            + frac("a(m)", "a(m-1)")
            + r"\Big)\,"
            + frac("^{+} a(k)", "W_{aa}"),
        ),
        eval_double_sum,
        remark="The product of Jacobians ∂a(m)/∂a(m−1) is what vanishes or explodes when i − k "
        "is large (see the page Truncation & vanishing gradients).",
    ),
    Line(
        "double sum, output factors",
        "The three factors of the output end of every term.",
        stack(
            frac("L(i)", "y(i)") + r" &= -\frac{\hat y(i)}{y(i)}",
            frac("y(i)", r"\mathrm{net}_y(i)")
            + r" &= \operatorname{diag}\big(y(i)\big) - y(i)\,y(i)^{\top}",
            frac(r"\mathrm{net}_y(i)", "a(i)") + " &= W_{ya}",
        ),
        eval_factors_out,
        note_tex=stack(
            frac("L", "y(i)") + r" &= -\frac{\hat y(t)}{y(i)}",
            frac("y(i)", r"\mathrm{net}y(i)") + r" &= y(i)\big(1-y(i)\big)",
            frac(r"\mathrm{net}y(i)", "a(i)") + " &= w_{ya}",
        ),
        slips=(softmax_slip(slip_factors_out), INDEX),
    ),
    Line(
        "double sum, hidden factors",
        "One step back in time, and the derivative of one copy.",
        stack(
            frac("a(m)", "a(m-1)") + r" &= \operatorname{diag}\big(1-a(m)^2\big)\,W_{aa}",
            r"\Big["
            + frac("^{+} a(k)", "W_{aa}")
            + r"\Big]_{j,l} &= \big(1-a_j(k)^2\big)\,a_l(k-1)",
        ),
        eval_factors_hidden,
        note_tex=stack(
            frac("a(m)", "a(m-1)") + r" &= w_{aa}\big[1-[a(m)]^{N}\big]",
            frac("a(k)", "w_{aa}") + r" &= a(k-1)\big(1-[a(k)]^{N}\big)",
        ),
        slips=(exponent_slip(),),
        remark="For matrices the diagonal factor stands on the left of W_aa; the notes' scalar "
        "form has them side by side.",
    ),
    Line(
        "double sum, substituted",
        "The factors put into the double sum.",
        stack(
            frac("L", "W_{aa}") + r" = \sum_{i}\sum_{k\le i}\Big[&" + error_at_k("i")[0],
            r"&\cdot " + error_at_k("i")[1] + r"\Big]\,a(k-1)^{\top}",
        ),
        eval_waa_substituted,
        note_tex=stack(
            frac("L", "w_{aa}") + r" = -\sum_{i=1}^{T}\big(1-y(i)\big)\,w_{ya} &\sum_{k=1}^{i}"
            r"\Big[\prod_{m=k+1}^{i} w_{aa}\big[1-[a(m)]^{N}\big]\Big]",
            r"&\cdot a(k-1)\big(1-[a(k)]^{N}\big)",
        ),
        slips=(TARGET_DOUBLE, exponent_slip()),
        remark="The product runs with m increasing from left to right.",
    ),
    Line(
        r"$W_{aa}$, update",
        "Step against the gradient.",
        r"\Delta W_{aa} = -\eta\,"
        + frac("L", "W_{aa}")
        + r",\qquad W_{aa} \leftarrow W_{aa} + \Delta W_{aa}",
        eval_waa_update,
    ),
    Line(
        r"$b_a$, the chain",
        "The hidden bias: one gradient per loss term, summed.",
        stack(
            frac("L", "b_a") + r" &= \sum_t" + frac("L(t)", "b_a"),
            frac("L(t)", "b_a") + " &= " + chain("t") + r"\," + frac("a(t)", "b_a"),
        ),
        eval_ba_chain,
        remark="Right as written, as long as ∂a(t)/∂b_a is the whole derivative through every "
        "earlier copy; the next line replaces it by copy t's own factor.",
    ),
    Line(
        r"$b_a$, substituted",
        "The chain multiplied out.",
        stack(
            frac("L", "b_a") + r" = \sum_{t=1}^{T}\sum_{k=1}^{t}\,&" + error_at_k("t")[0],
            r"&\cdot " + error_at_k("t")[1],
        ),
        eval_ba_grad,
        note_tex=stack(
            frac("L(t)", "b_a")
            + r" &= -\hat y(t)\big(1-y(t)\big)\,\omega_{ya}\big(1-[\tanh(a(t))]^{N}\big)",
            frac("L", "b_a")
            + r" &= -\sum_t\big(1-y(t)\big)\big(1-\tanh(a(t))^{N}\big)\,\omega_{ya}",
        ),
        slips=(
            direct_path_slip(slip_direct_ba),
            softmax_slip(slip_target_ba),
            TANH_TWICE,
            exponent_slip(),
        ),
        remark="The sum over copies k is what the engine's backward pass accumulates in one sweep "
        "from t = T down to 1.",
    ),
    Line(
        r"$b_a$, update",
        "Step against the gradient.",
        r"\Delta b_a = -\eta\," + frac("L", "b_a") + r",\qquad b_a \leftarrow b_a + \Delta b_a",
        eval_ba_update,
        note_tex=stack(
            r"\Delta b_a &= \eta\sum_t " + NOTE_FACTORS,
            r"b_a &= b_a + \Delta b_a",
        ),
        slips=(
            direct_path_slip(slip_direct_ba_update),
            softmax_slip(slip_target_ba_update),
            exponent_slip(),
        ),
    ),
    Line(
        r"$W_{ax}$, the chain",
        "The input weights: one gradient per loss term, summed.",
        stack(
            frac("L", "W_{ax}") + r" &= \sum_t" + frac("L(t)", "W_{ax}"),
            frac("L(t)", "W_{ax}") + " &= " + chain("t") + r"\," + frac("a(t)", "W_{ax}"),
        ),
        eval_wax_chain,
    ),
    Line(
        r"$W_{ax}$, substituted",
        "The chain multiplied out for one loss.",
        stack(
            frac("L(t)", "W_{ax}") + r" = \sum_{k=1}^{t}\Big[&" + error_at_k("t")[0],
            r"&\cdot " + error_at_k("t")[1] + r"\Big]\,x(k)^{\top}",
        ),
        eval_wax_chain,
        note_tex=stack(
            frac("L(t)", r"\omega_{ax}")
            + " &= "
            + NOTE_SOFTMAX
            + r"\,\omega_{ya}\big(1-(a(t))^{N}\big)\,x(t)",
            r" &= -\hat y(t)\big(1-y(t)\big)\big(1-(a(t))^{N}\big)\,\omega_{ya}\,x(t)",
        ),
        slips=(
            direct_path_slip(slip_direct_wax_copy),
            softmax_slip(slip_target_wax_copy),
            exponent_slip(),
        ),
    ),
    Line(
        r"$W_{ax}$, the sum",
        "The per-loss gradients added up.",
        frac("L", "W_{ax}") + r" = \sum_t" + frac("L(t)", "W_{ax}"),
        eval_wax_sum,
        note_tex=frac("L", r"\omega_{ax}") + r" = -\sum_t" + frac("L(t)", r"\omega_{ax}"),
        slips=(MINUS,),
    ),
    Line(
        r"$W_{ax}$, update",
        "Step against the gradient.",
        r"\Delta W_{ax} = -\eta\,"
        + frac("L", "W_{ax}")
        + r",\qquad W_{ax} \leftarrow W_{ax} + \Delta W_{ax}",
        eval_wax_update,
        note_tex=stack(
            frac("L", r"\omega_{ax}") + r" &= -\sum_t " + NOTE_FACTORS + r"\,x(t)",
            r"\Delta\omega_{ax} &= \eta\sum_t " + NOTE_FACTORS + r"\,x(t)",
        ),
        slips=(
            direct_path_slip(slip_direct_wax_update),
            softmax_slip(slip_target_wax_update),
            exponent_slip(),
        ),
    ),
)

DERIVATION = Derivation(
    notation="ng",
    title='The handwritten "hello" notes (seed 003)',
    summary="A character RNN learns “hello”. The notes write every update rule out: the output "
    "weights and bias first, then the recurrent weights W_aa, whose gradient becomes a double sum "
    "over the loss time i and the copy time k of products of Jacobians ∂a(m)/∂a(m−1), then the "
    "hidden bias and the input weights. Here a(t) is the hidden state, ŷ(t) the target and y(t) "
    "the prediction.",
    case=CASE,
    lines=LINES,
)
