"""Jiang Guo's report "BackPropagation Through Time" (seed 002): the Elman / RNNLM network.

The report's symbols: V the input weights v_ji, U the recurrent weights u_jh, W the output weights
w_kj (the engine's W_xh, W_hh, W_hy, in the same orientation: row = the unit fed), s(t) the hidden
state, net_j(t) and net_k(t) the pre-activations, y(t) the output, d(t) the target, C the cost, η
the learning rate. Its error is the *negative* gradient: δ = −∂C/∂net, e_o = d − y, and its updates
add η·δ·x. Section 2 is plain backpropagation at every step (each hidden error stops at its own
copy: the engine's truncation k = 1); section 3 unfolds τ steps back (k = τ + 1 copies).
"""

from __future__ import annotations

import numpy as np

from bptt_core import functions as F
from bptt_viz.derivation.common import (
    ENGINE_FWD,
    chain_errors,
    check,
    cross_entropy_terms,
    evidence,
    log_softmax,
    product_or_problem,
    softmax_jacobian,
    stack,
)
from bptt_viz.derivation.network import Context, Net
from bptt_viz.derivation.types import Case, Derivation, Evaluation, Evidence, Line, Slip

CASE = Case(
    output=("softmax", "sigmoid"),
    loss=("cross_entropy",),
    why="cross-entropy with softmax or sigmoid outputs, the report's language-model case",
)
SSE = Case(loss=("sse",), why="the summed squared error of eq. (5)")
SIGMOID_SSE = Case(output=("sigmoid",), loss=("sse",), why="sigmoid outputs with the squared error")
SOFTMAX_SSE = Case(output=("softmax",), loss=("sse",), why="softmax outputs with the squared error")
SIGMOID_CE = Case(output=("sigmoid",), loss=("cross_entropy",), why="sigmoid outputs, eq. (16)")
SOFTMAX_CE = Case(output=("softmax",), loss=("cross_entropy",), why="softmax outputs, eq. (17)")
SQUASHING = Case(
    activation=("sigmoid", "tanh"),
    output=("softmax", "sigmoid"),
    loss=("cross_entropy",),
    why="sigmoid or tanh hidden units (for ReLU and linear units f′(s) and f′(net) coincide)",
)
K1 = "the engine's backward pass with truncation k = 1"


def e_o(net: Net) -> np.ndarray:
    """(T, O) Guo's output error δ_k(t) = −∂C/∂net_k(t), from the engine."""
    return -net.bwd.delta_o


def hidden_k1(net: Net) -> np.ndarray:
    """(T, H) eq. (9) / (22): δ_j(t) = f′(net_j(t)) Σ_k δ_k(t) w_kj, the error of copy t alone."""
    return (e_o(net) @ net.params.W_hy) * net.fprime_of(net.fwd.a)


def back_pairs(net: Net, fprime_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step of eq. (19)/(26) for every loss t and copy s < t, from the engine's errors.

    Returns (value, reference), each (number of pairs, H): δ^{(t)}(s) computed from the engine's
    δ^{(t)}(s+1) with the factor ``fprime_prev`` (T, H) at copy s, and the engine's δ^{(t)}(s).
    """
    G = -net.errors  # Guo's δ^{(t)}(s) = −∂C(t)/∂net(s)
    t_idx, s_idx = np.tril_indices(net.T, k=-1)  # s < t
    value = fprime_prev[s_idx] * (G[t_idx, s_idx + 1] @ net.params.W_hh)
    return value, G[t_idx, s_idx]


def unfolded_sum(net: Net, ctx: Context, right: np.ndarray, depth: int) -> np.ndarray:
    """η Σ_t Σ_{z=0}^{depth} e_h^{(t)}(t−z) right(t−z)ᵀ, copies before t = 1 left out."""
    E = chain_errors(net.params.W_hh, net.params.W_hy, net.fprime_of(net.fwd.a), net.bwd.delta_o)
    t_idx, s_idx = np.tril_indices(net.T)
    keep = t_idx - s_idx <= depth
    G = -E[t_idx[keep], s_idx[keep]]  # Guo's e_h^{(t)}(s) for the copies within reach
    return ctx.eta * G.T @ right[s_idx[keep]]


def transposed(note: np.ndarray, true: np.ndarray, what: str, note_name: str) -> Evidence:
    """Evidence for an outer product written the wrong way round (s eᵀ for e sᵀ)."""
    if note.shape != true.shape:
        shape = " × ".join(str(n) for n in note.shape[-2:])
        want = " × ".join(str(n) for n in true.shape[-2:])
        problem = f"{note_name} is {shape}, the matrix it is added to is {want}"
        return evidence(what, None, true, problem)
    return evidence(what, note, true)


# ----------------------------------------------------------------------------- section 1 and 2


def eval_hidden(net: Net, ctx: Context) -> Evaluation:
    p = net.params
    net_j = net.x @ p.W_xh.T + net.h_prev @ p.W_hh.T + p.b_h
    return Evaluation(
        (
            check(r"\mathrm{net}_j(t)", net_j, net.fwd.a, ENGINE_FWD),
            check("s_j(t)", F.activate(net.config.activation, net_j), net.fwd.h, ENGINE_FWD),
        )
    )


def eval_output(net: Net, ctx: Context) -> Evaluation:
    net_k = net.fwd.h @ net.params.W_hy.T + net.params.b_y
    return Evaluation(
        (
            check(r"\mathrm{net}_k(t)", net_k, net.fwd.o, ENGINE_FWD),
            check("y_k(t)", F.output(net.config.output, net_k), net.fwd.y, ENGINE_FWD),
        )
    )


def eval_sse(net: Net, ctx: Context) -> Evaluation:
    value = 0.5 * ((net.d - net.fwd.y) ** 2).sum()
    return Evaluation((check("C", value, net.fwd.loss, ENGINE_FWD),))


def eval_rule(net: Net, ctx: Context) -> Evaluation:
    value = -ctx.eta * np.einsum("tk,tj->kj", net.bwd.delta_o, net.fwd.h)
    return Evaluation(
        (
            check(
                r"\Delta w_{kj} = -\eta\,\partial C/\partial w_{kj}",
                value,
                -ctx.eta * net.bwd.grads.W_hy,
            ),
        ),
        text="Shown for the output weights: ∂net_k(t)/∂w_kj = s_j(t), the input of the weight.",
    )


def eval_delta_sse(net: Net, ctx: Context) -> Evaluation:
    y = net.fwd.y
    value = (net.d - y) * y * (1.0 - y)
    return Evaluation((check(r"\delta_k(t)", value, e_o(net)),))


def eval_hidden_delta(net: Net, ctx: Context) -> Evaluation:
    return Evaluation(
        (check(r"\delta_j(t)", hidden_k1(net), -net.truncated(1).delta_h, K1),),
        text="Each hidden error here comes from its own output only: the app's truncation k = 1.",
    )


def eval_dw(net: Net, ctx: Context) -> Evaluation:
    value = ctx.eta * np.einsum("tk,tj->kj", e_o(net), net.fwd.h)
    return Evaluation((check(r"\Delta w_{kj}", value, -ctx.eta * net.bwd.grads.W_hy),))


def eval_dv(net: Net, ctx: Context) -> Evaluation:
    value = ctx.eta * np.einsum("tj,ti->ji", hidden_k1(net), net.x)
    return Evaluation((check(r"\Delta v_{ji}", value, -ctx.eta * net.truncated(1).grads.W_xh, K1),))


def eval_du(net: Net, ctx: Context) -> Evaluation:
    value = ctx.eta * np.einsum("tj,th->jh", hidden_k1(net), net.h_prev)
    return Evaluation((check(r"\Delta u_{jh}", value, -ctx.eta * net.truncated(1).grads.W_hh, K1),))


def eval_softmax_sse(net: Net, ctx: Context) -> Evaluation:
    y, r = net.fwd.y, net.d - net.fwd.y
    value = y * (r - (r * y).sum(axis=1, keepdims=True))
    via_jacobian = np.einsum("tq,tqk->tk", r, softmax_jacobian(y))
    return Evaluation(
        (
            check(r"\delta_k(t)", value, e_o(net)),
            check(
                r"\sum_q (d_q-y_q)\,\partial y_q/\partial \mathrm{net}_k", via_jacobian, e_o(net)
            ),
        )
    )


def slip_softmax_sse(net: Net, ctx: Context) -> Evidence:
    y = net.fwd.y
    return evidence(
        "δ_k(t), every t", (net.d - y) * y * (1.0 - y), e_o(net), true_label="the engine's"
    )


def eval_sigmoid_ce(net: Net, ctx: Context) -> Evaluation:
    o, d = net.fwd.o, net.d
    # ln y = −ln(1 + e^{−o}) and ln(1 − y) = −ln(1 + e^{o}) for y = σ(o): finite where y is 0 or 1
    C = (d * np.logaddexp(0.0, -o) + (1 - d) * np.logaddexp(0.0, o)).sum()
    return Evaluation(
        (
            check("C", C, net.fwd.loss, ENGINE_FWD),
            check(r"\delta_k(t) = d_k - y_k", d - net.fwd.y, e_o(net)),
        )
    )


def eval_softmax_ce(net: Net, ctx: Context) -> Evaluation:
    C = cross_entropy_terms(net.d, log_softmax(net.fwd.o)).sum()
    return Evaluation(
        (
            check("C", C, net.fwd.loss, ENGINE_FWD),
            check(r"\delta_k(t) = d_k - y_k", net.d - net.fwd.y, e_o(net)),
        )
    )


def slip_softmax_ce(net: Net, ctx: Context) -> Evidence:
    y, d = net.fwd.y, net.d
    with np.errstate(all="ignore"):
        minus_dC_dy = d / y - (1 - d) / (1 - y)  # −∂C₁₆/∂y of the binary cross-entropy
    note = np.einsum("tq,tqk->tk", minus_dC_dy, softmax_jacobian(y))
    return evidence("δ_k(t) = −∂C₁₆/∂net_k(t), every t", note, d - y, true_label="d − y")


def eval_dw_ce(net: Net, ctx: Context) -> Evaluation:
    value = ctx.eta * np.einsum("tk,tj->kj", net.d - net.fwd.y, net.fwd.h)
    return Evaluation((check(r"\Delta w_{kj}", value, -ctx.eta * net.bwd.grads.W_hy),))


# ----------------------------------------------------------------------------- section 3


def eval_back(net: Net, ctx: Context) -> Evaluation:
    if net.T < 2:
        return Evaluation((), unavailable="With T = 1 there is no earlier copy to send error to.")
    value, ref = back_pairs(net, net.fprime_of(net.fwd.a))
    return Evaluation(
        (check(r"\delta^{(t)}_j(s),\ s<t", value, ref, "the engine's per-loss errors"),),
        text=r"$\delta^{(t)}(s)$ is the error the loss at time t sends to copy s; each row is one step "
        r"back from the engine's $\delta^{(t)}(s+1)$, for every loss t and copy s < t.",
    )


def slip_back(net: Net, ctx: Context) -> Evidence:
    if net.T < 2:
        return evidence("δ(t−1)", None, np.zeros(1), "with T = 1 there is no step back")
    value, ref = back_pairs(net, net.fprime_of(net.fwd.h))
    return evidence("δⱼ(s) of every loss t, every s < t", value, ref, true_label="the engine's")


def eval_eo(net: Net, ctx: Context) -> Evaluation:
    return Evaluation((check(r"\mathbf e_o(t)", net.d - net.fwd.y, e_o(net)),))


def eval_W_online(net: Net, ctx: Context) -> Evaluation:
    value = ctx.eta * np.einsum("tk,tj->tkj", e_o(net), net.fwd.h)
    return Evaluation(
        (
            check(
                r"\eta\,\mathbf e_o(t)\,\mathbf s(t)^{\top}",
                value,
                -ctx.eta * net.bwd.per_step.W_hy,
            ),
        ),
        text="The report updates after every step; evaluated with the weights held fixed, each "
        "step's increment against −η times the engine's share of copy t.",
    )


def slip_W_online(net: Net, ctx: Context) -> Evidence:
    note = ctx.eta * np.einsum("tj,tk->tjk", net.fwd.h, e_o(net))
    return transposed(
        note, -ctx.eta * net.bwd.per_step.W_hy, "the increment of W", "η s(t) e_o(t)ᵀ"
    )


def eval_eh(net: Net, ctx: Context) -> Evaluation:
    return Evaluation((check(r"\mathbf e_h(t)", hidden_k1(net), -net.truncated(1).delta_h, K1),))


def slip_eh(net: Net, ctx: Context) -> Evidence:
    p, true = net.params, -net.truncated(1).delta_h
    row, problem = product_or_problem(e_o(net)[0], p.W_xh, "e_o(t)ᵀ", "V")
    if row is not None and row.shape[0] != true.shape[1]:
        problem = f"e_o(t)ᵀV has {row.shape[0]} entries, f′(net_j(t)) has {true.shape[1]}"
    if problem:
        return evidence("e_h(t)", None, true, problem)
    return evidence("e_h(t), every t", (e_o(net) @ p.W_xh) * net.fprime_of(net.fwd.a), true)


def eval_V_online(net: Net, ctx: Context) -> Evaluation:
    value = ctx.eta * np.einsum("tj,ti->tji", hidden_k1(net), net.x)
    ref = -ctx.eta * net.truncated(1).per_step.W_xh
    return Evaluation((check(r"\eta\,\mathbf e_h(t)\,\mathbf x(t)^{\top}", value, ref, K1),))


def slip_V_online(net: Net, ctx: Context) -> Evidence:
    note = ctx.eta * np.einsum("ti,tj->tij", net.x, hidden_k1(net))
    ref = -ctx.eta * net.truncated(1).per_step.W_xh
    return transposed(note, ref, "the increment of V", "η x(t) e_h(t)ᵀ")


def eval_U_online(net: Net, ctx: Context) -> Evaluation:
    value = ctx.eta * np.einsum("tj,th->tjh", hidden_k1(net), net.h_prev)
    ref = -ctx.eta * net.truncated(1).per_step.W_hh
    return Evaluation((check(r"\eta\,\mathbf e_h(t)\,\mathbf s(t-1)^{\top}", value, ref, K1),))


def slip_U_online(net: Net, ctx: Context) -> Evidence:
    note = ctx.eta * np.einsum("th,tj->thj", net.h_prev, hidden_k1(net))
    ref = -ctx.eta * net.truncated(1).per_step.W_hh
    return transposed(note, ref, "the increment of U", "η s(t−1) e_h(t)ᵀ")


def _truncated_ref(net: Net, ctx: Context, name: str) -> tuple[np.ndarray, str]:
    k = ctx.tau + 1
    grads = net.bwd.grads if k >= net.T else net.truncated(k).grads
    return -ctx.eta * getattr(
        grads, name
    ), f"the engine's backward pass with truncation k = τ + 1 = {k}"


def eval_V_bptt(net: Net, ctx: Context) -> Evaluation:
    ref, source = _truncated_ref(net, ctx, "W_xh")
    value = unfolded_sum(net, ctx, net.x, ctx.tau)
    return Evaluation(
        (
            check(
                r"\sum_t \eta\sum_{z=0}^{\tau}\mathbf e_h(t-z)\,\mathbf x(t-z)^{\top}",
                value,
                ref,
                source,
            ),
        ),
        text=f"τ = {ctx.tau}: each loss's error reaches its own copy and {ctx.tau} before it. "
        "Summed over every t with the weights held fixed, the increments are −η times the "
        "truncated gradient.",
    )


def eval_U_bptt(net: Net, ctx: Context) -> Evaluation:
    ref, source = _truncated_ref(net, ctx, "W_hh")
    value = unfolded_sum(net, ctx, net.h_prev, ctx.tau)
    return Evaluation(
        (
            check(
                r"\sum_t \eta\sum_{z=0}^{\tau}\mathbf e_h(t-z)\,\mathbf s(t-z-1)^{\top}",
                value,
                ref,
                source,
            ),
        ),
        text=f"τ = {ctx.tau}, as for V.",
    )


def _range_caveat(ctx: Context) -> str:
    base = "Copies t − z ≤ 0 do not exist (there is no x(0) or s(−1)); they are left out."
    if ctx.tau >= ctx.T - 1:
        return (
            base
            + " With τ = T − 1 the unfolding reaches every copy anyway, so both sums agree here; set a truncation k < T in the sidebar to see them differ."
        )
    return base


def slip_range_V(net: Net, ctx: Context) -> Evidence:
    ref, _ = _truncated_ref(net, ctx, "W_xh")
    ev = evidence("Σ_t of the increments of V", unfolded_sum(net, ctx, net.x, net.T), ref)
    return Evidence(ev.what, ev.note, ev.true, "", "the τ-step sum", _range_caveat(ctx))


def slip_range_U(net: Net, ctx: Context) -> Evidence:
    ref, _ = _truncated_ref(net, ctx, "W_hh")
    ev = evidence("Σ_t of the increments of U", unfolded_sum(net, ctx, net.h_prev, net.T), ref)
    return Evidence(ev.what, ev.note, ev.true, "", "the τ-step sum", _range_caveat(ctx))


def slip_T_V(net: Net, ctx: Context) -> Evidence:
    ref, _ = _truncated_ref(net, ctx, "W_xh")
    return transposed(unfolded_sum(net, ctx, net.x, ctx.tau).T, ref, "ΔV", "η Σ x(t−z) e_h(t−z)ᵀ")


def slip_T_U(net: Net, ctx: Context) -> Evidence:
    ref, _ = _truncated_ref(net, ctx, "W_hh")
    return transposed(
        unfolded_sum(net, ctx, net.h_prev, ctx.tau).T, ref, "ΔU", "η Σ s(t−z−1) e_h(t−z)ᵀ"
    )


# ----------------------------------------------------------------------------- slips and lines

LISTED = "seeds/README.md, issue 12"


def outer_slip(eq: str, note_piece: str, right_piece: str) -> Slip:
    """The outer product of eq. ``eq`` written the wrong way round (one label for all of them,
    so the table at the top lists the equations together)."""
    return Slip(
        "outer product transposed",
        "By eq. (4) the first index of a weight is the unit it feeds (w_kj, v_ji, u_jh), so the "
        f"increment in {eq} is the error times the input transposed, ${right_piece}$, "
        f"not ${note_piece}$.",
        r"\text{input}\cdot\text{error}^{\top} \to \text{error}\cdot\text{input}^{\top}",
        None,
        LISTED,
    )


def with_evaluator(slip: Slip, evaluate) -> Slip:
    return Slip(slip.label, slip.reason, slip.short, evaluate, slip.listed_in)


INDEX_12 = Slip(
    r"$u_{ji}$ for $u_{jh}$",
    "The recurrent weight joins hidden unit h at t − 1 to hidden unit j at t, so it is u_jh, "
    "as the right-hand side s_h(t−1) says; i indexes the inputs.",
    r"\Delta u_{ji} \to \Delta u_{jh}",
    None,
    LISTED,
)
SOFTMAX_14 = Slip(
    r"$y(1-y)$ for softmax",
    "Softmax couples its outputs, ∂y_q/∂net_k = y_q(1[q = k] − y_k); y_k(1 − y_k) is only the "
    "diagonal of that Jacobian, so eq. (14) does not hold for softmax and δ_k needs the sum over q.",
    r"y_k(1-y_k) \to y_q(\mathbb 1[q=k]-y_k)",
    slip_softmax_sse,
    LISTED,
)
BINARY_16 = Slip(
    "binary cross-entropy with softmax",
    "Eq. (16) is the binary cross-entropy of independent sigmoid outputs; with softmax outputs "
    "δ = d − y of eq. (17) is the gradient of the categorical cross-entropy −Σ_k d_k ln y_k.",
    r"-\sum[d\ln y + (1-d)\ln(1-y)] \to -\sum d\ln y",
    slip_softmax_ce,
    LISTED,
)
FPRIME_19 = Slip(
    r"$f'(s)$ for $f'(\mathrm{net})$",
    "The slope of the hidden unit is taken at its input net_j(t−1), not at its output "
    "s_j(t−1) = f(net_j(t−1)), as eq. (23) has it.",
    r"f'(s_j(t-1)) \to f'(\mathrm{net}_j(t-1))",
    slip_back,
    LISTED,
)
V_22 = Slip(
    r"$V$ for $W$ in eq. (22)",
    "The output error reaches the hidden layer through the output weights W (w_kj); V holds "
    "the input weights.",
    r"\mathbf e_o(t)^{\top}\mathbf V \to \mathbf e_o(t)^{\top}\mathbf W",
    slip_eh,
    "seeds/README.md, README",
)
NAME_25 = Slip(
    r"recurrent weights called $W$",
    "The sentence before eq. (25) calls the recurrent weights W; they are U (W is the output "
    "matrix), as the equation itself writes.",
    r"\mathbf W \to \mathbf U",
    None,
    "seeds/README.md, README",
)
RANGE = Slip(
    r"$z = 0..T$ for $z = 0..\tau$",
    "The unfolding keeps τ steps back, so the sum runs z = 0..τ; up to T it would reach every "
    "copy (full BPTT) and copies before the start.",
    r"\sum_{z=0}^{T} \to \sum_{z=0}^{\tau}",
    None,
    LISTED,
)

EQ2 = r"\mathrm{net}_j(t) = \sum_i x_i(t)\,v_{ji} + \sum_h s_h(t-1)\,u_{jh} + b_j"
UPD27 = r"\mathbf V(t+1) = \mathbf V(t) + \eta\sum_{z=0}^{%s} %s"
UPD28 = r"\mathbf U(t+1) = \mathbf U(t) + \eta\sum_{z=0}^{%s} %s"

LINES: tuple[Line, ...] = (
    Line(
        "eq. (1)–(2)",
        "The hidden layer: inputs, the previous state and a bias.",
        stack(r"s_j(t) &= f\big(\mathrm{net}_j(t)\big)", EQ2.replace(" = ", " &= ", 1)),
        eval_hidden,
    ),
    Line(
        "eq. (3)–(4)",
        "The output layer.",
        r"y_k(t) = g\big(\mathrm{net}_k(t)\big),\qquad \mathrm{net}_k(t) = \sum_j s_j(t)\,w_{kj} + b_k",
        eval_output,
    ),
    Line(
        "eq. (5)",
        "The summed squared error.",
        r"C = \frac{1}{2}\sum_p\sum_k \big(d_{pk} - y_{pk}\big)^2",
        eval_sse,
        case=SSE,
        remark="p runs over the training samples; for the RNN here, over the T positions of "
        "the text.",
    ),
    Line(
        "eq. (6)–(7)",
        "Gradient descent, with the error δ = −∂C/∂net of each unit.",
        stack(
            r"\Delta w &= -\eta\,\frac{\partial C}{\partial w} = -\eta\,\frac{\partial C}{\partial \mathrm{net}}\,"
            r"\frac{\partial \mathrm{net}}{\partial w}",
            r"\delta &= -\frac{\partial C}{\partial \mathrm{net}}",
        ),
        eval_rule,
    ),
    Line(
        "eq. (8), (13)–(14)",
        "The output error for the squared error; for sigmoid outputs g′(net) = y(1 − y).",
        stack(
            r"\delta_{pk} &= -\frac{\partial C}{\partial y_{pk}}\,\frac{\partial y_{pk}}{\partial \mathrm{net}_{pk}}"
            r" = \big(d_{pk} - y_{pk}\big)\,g'(\mathrm{net}_{pk})",
            r"g'(\mathrm{net}) &= y(1-y)",
        ),
        eval_delta_sse,
        case=SIGMOID_SSE,
    ),
    Line(
        "eq. (9)",
        "The hidden error: every output unit's error, weighted back.",
        r"\delta_{pj} = \sum_k \delta_{pk}\,w_{kj}\,f'(\mathrm{net}_{pj})",
        eval_hidden_delta,
    ),
    Line(
        "eq. (10)",
        "The output weights.",
        r"\Delta w_{kj} = \eta\sum_p \delta_{pk}\,s_{pj}",
        eval_dw,
    ),
    Line(
        "eq. (11)",
        "The input weights, with the hidden errors of eq. (9).",
        r"\Delta v_{ji} = \eta\sum_p \delta_{pj}\,x_{pi}",
        eval_dv,
    ),
    Line(
        "eq. (12)",
        "The recurrent weights: their input is the previous state.",
        r"\Delta u_{jh} = \eta\sum_p \delta_{pj}\,s_{ph}(t-1)",
        eval_du,
        note_tex=r"\Delta u_{ji} = \eta\sum_p \delta_{pj}\,s_{ph}(t-1)",
        slips=(INDEX_12,),
    ),
    Line(
        "eq. (14)–(15)",
        "Softmax outputs with the squared error: the whole Jacobian.",
        stack(
            r"\frac{\partial y_q}{\partial \mathrm{net}_k} &= y_q\big(\mathbb 1[q=k] - y_k\big)",
            r"\delta_k &= y_k\Big[(d_k - y_k) - \sum_q (d_q - y_q)\,y_q\Big]",
        ),
        eval_softmax_sse,
        case=SOFTMAX_SSE,
        note_tex=stack(
            r"g(\mathrm{net}_k) &= \frac{e^{\mathrm{net}_k}}{\sum_q e^{\mathrm{net}_q}}",
            r"g'(\mathrm{net}_k) &= y_k(1-y_k)\ \ \text{(eq. 14 said to hold)}",
        ),
        slips=(SOFTMAX_14,),
    ),
    Line(
        "eq. (16)–(17), sigmoid",
        "Cross-entropy for sigmoid outputs, and its simple error.",
        stack(
            r"C &= -\sum_p\sum_k\big[d_{pk}\ln y_{pk} + (1-d_{pk})\ln(1-y_{pk})\big]",
            r"\delta_{pk} &= d_{pk} - y_{pk}",
        ),
        eval_sigmoid_ce,
        case=SIGMOID_CE,
        remark="Brackets added: the minus sign applies to both logarithms.",
    ),
    Line(
        "eq. (16)–(17), softmax",
        "Cross-entropy for softmax outputs: the categorical one.",
        r"C = -\sum_p\sum_k d_{pk}\ln y_{pk},\qquad \delta_{pk} = d_{pk} - y_{pk}",
        eval_softmax_ce,
        case=SOFTMAX_CE,
        note_tex=stack(
            r"C &= -\sum_p\sum_k d_{pk}\ln y_{pk} + (1-d_{pk})\ln(1-y_{pk})",
            r"\delta_{pk} &= d_{pk} - y_{pk}",
        ),
        slips=(BINARY_16,),
    ),
    Line(
        "eq. (18)",
        "The output weights with cross-entropy.",
        r"\Delta w_{kj} = \eta\sum_p \delta_{pk}\,s_{pj} = \eta\sum_p\big(d_{pk} - y_{pk}\big)\,s_{pj}",
        eval_dw_ce,
    ),
    Line(
        "eq. (19)",
        "Unfolding: the error travels one copy further back.",
        r"\delta_{pj}(t-1) = \sum_h \delta_{ph}(t)\,u_{hj}\,f'\big(\mathrm{net}_{pj}(t-1)\big)",
        eval_back,
        case=SQUASHING,
        note_tex=r"\delta_{pj}(t-1) = \sum_h \delta_{ph}(t)\,u_{hj}\,f'\big(s_{pj}(t-1)\big)",
        slips=(FPRIME_19,),
    ),
    Line(
        "eq. (20)",
        "The output error in vector form.",
        r"\mathbf e_o(t) = \mathbf d(t) - \mathbf y(t)",
        eval_eo,
    ),
    Line(
        "eq. (21)",
        "The output weights after step t.",
        r"\mathbf W(t+1) = \mathbf W(t) + \eta\,\mathbf e_o(t)\,\mathbf s(t)^{\top}",
        eval_W_online,
        note_tex=r"\mathbf W(t+1) = \mathbf W(t) + \eta\,\mathbf s(t)\,\mathbf e_o(t)^{\top}",
        slips=(
            with_evaluator(
                outer_slip(
                    "(21)", r"\mathbf s\,\mathbf e_o^{\top}", r"\mathbf e_o\,\mathbf s^{\top}"
                ),
                slip_W_online,
            ),
        ),
    ),
    Line(
        "eq. (22)–(23)",
        "The hidden error through the output weights.",
        stack(
            r"\mathbf e_h(t) &= d_h\big(\mathbf e_o(t)^{\top}\mathbf W, t\big)",
            r"d_{hj}(x, t) &= x\,f'\big(\mathrm{net}_j(t)\big)",
        ),
        eval_eh,
        note_tex=r"\mathbf e_h(t) = d_h\big(\mathbf e_o(t)^{\top}\mathbf V, t\big)",
        slips=(V_22,),
    ),
    Line(
        "eq. (24)",
        "The input weights after step t.",
        r"\mathbf V(t+1) = \mathbf V(t) + \eta\,\mathbf e_h(t)\,\mathbf x(t)^{\top}",
        eval_V_online,
        note_tex=r"\mathbf V(t+1) = \mathbf V(t) + \eta\,\mathbf x(t)\,\mathbf e_h(t)^{\top}",
        slips=(
            with_evaluator(
                outer_slip(
                    "(24)", r"\mathbf x\,\mathbf e_h^{\top}", r"\mathbf e_h\,\mathbf x^{\top}"
                ),
                slip_V_online,
            ),
        ),
    ),
    Line(
        "eq. (25)",
        "The recurrent weights U after step t.",
        r"\mathbf U(t+1) = \mathbf U(t) + \eta\,\mathbf e_h(t)\,\mathbf s(t-1)^{\top}",
        eval_U_online,
        note_tex=r"\text{(called }\mathbf W\text{ in the text)}\quad \mathbf U(t+1) = \mathbf U(t) + \eta\,\mathbf s(t-1)\,\mathbf e_h(t)^{\top}",
        slips=(
            NAME_25,
            with_evaluator(
                outer_slip(
                    "(25)", r"\mathbf s\,\mathbf e_h^{\top}", r"\mathbf e_h\,\mathbf s^{\top}"
                ),
                slip_U_online,
            ),
        ),
    ),
    Line(
        "eq. (26)",
        "BPTT: the hidden error passed back one copy at a time.",
        r"\mathbf e_h(t-\tau-1) = d_h\big(\mathbf e_h(t-\tau)^{\top}\mathbf U,\ t-\tau-1\big)",
        eval_back,
        remark="A row vector times U is Uᵀ times the column: the transpose that carries error back.",
    ),
    Line(
        "eq. (27)",
        "The input weights from the τ-step unfolding.",
        UPD27 % (r"\tau", r"\mathbf e_h(t-z)\,\mathbf x(t-z)^{\top}"),
        eval_V_bptt,
        note_tex=UPD27 % ("T", r"\mathbf x(t-z)\,\mathbf e_h(t-z)^{\top}"),
        slips=(
            with_evaluator(
                outer_slip(
                    "(27)", r"\mathbf x\,\mathbf e_h^{\top}", r"\mathbf e_h\,\mathbf x^{\top}"
                ),
                slip_T_V,
            ),
            with_evaluator(RANGE, slip_range_V),
        ),
        remark="e_h(t−z) here is the error of the loss at time t, z copies back. τ steps back are "
        "τ + 1 copies: the app's truncation k = τ + 1 (Britz's bptt_truncate = n is likewise "
        "k = n + 1).",
    ),
    Line(
        "eq. (28)",
        "The recurrent weights from the τ-step unfolding.",
        UPD28 % (r"\tau", r"\mathbf e_h(t-z)\,\mathbf s(t-z-1)^{\top}"),
        eval_U_bptt,
        note_tex=UPD28 % ("T", r"\mathbf s(t-z-1)\,\mathbf e_h(t-z)^{\top}"),
        slips=(
            with_evaluator(
                outer_slip(
                    "(28)", r"\mathbf s\,\mathbf e_h^{\top}", r"\mathbf e_h\,\mathbf s^{\top}"
                ),
                slip_T_U,
            ),
            with_evaluator(RANGE, slip_range_U),
        ),
    ),
)

DERIVATION = Derivation(
    notation="guo",
    title='Jiang Guo, "BackPropagation Through Time" (seed 002)',
    summary="The Elman network of recurrent language models. The report first treats each time "
    "step as a two-layer network (errors δ = −∂C/∂net, updates that add η δ x), for the squared "
    "error and for cross-entropy, then writes the updates in matrix form and unfolds the network "
    "τ steps back in time (truncated BPTT), summing the unfolded copies' changes into one "
    "change of the tied weights.",
    case=CASE,
    lines=LINES,
    extra=(
        "Guo's δ and e are negative gradients, so his updates add η·δ·x where the other notes "
        "subtract η·∂L/∂w: the same step.",
    ),
)
