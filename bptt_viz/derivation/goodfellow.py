"""Goodfellow et al., Deep Learning §10.2.2, as the note (seed 001) gives it.

The note's symbols: U, W, V the input, recurrent and output weights (the engine's W_xh, W_hh,
W_hy), b and c the biases (b_h, b_y), h^{(t)} the hidden state, o^{(t)} the logits, ŷ^{(t)} the
prediction and y^{(t)} the target (the reverse of the "hello" notes), ε the learning rate.
Written for softmax outputs with cross-entropy; the note writes the hidden activation as σ.

The note gives the forward equations and the five gradients; the recursion for ∇_{h^{(t)}}L that
those gradients use, and the update, are the book's and are added here as supporting lines.
"""

from __future__ import annotations

import numpy as np

from bptt_core import functions as F
from bptt_viz.derivation.common import (
    ENGINE_FWD,
    ENGINE_SGD,
    check,
    cross_entropy_terms,
    evidence,
    log_softmax,
    stack,
)
from bptt_viz.derivation.network import Context, Net
from bptt_viz.derivation.types import Case, Derivation, Evaluation, Evidence, Line, Slip

CASE = Case(
    output=("softmax",),
    loss=("cross_entropy",),
    why="softmax outputs with cross-entropy, as in the note",
)


def eval_a(net: Net, ctx: Context) -> Evaluation:
    p = net.params
    value = p.b_h + net.h_prev @ p.W_hh.T + net.x @ p.W_xh.T
    return Evaluation((check("a^{(t)}", value, net.fwd.a, ENGINE_FWD),))


def eval_h(net: Net, ctx: Context) -> Evaluation:
    value = F.activate(net.config.activation, net.fwd.a)
    return Evaluation(
        (check("h^{(t)}", value, net.fwd.h, ENGINE_FWD),),
        text=f"σ is evaluated as this network's hidden activation, {net.config.activation}.",
    )


def eval_o(net: Net, ctx: Context) -> Evaluation:
    value = net.params.b_y + net.fwd.h @ net.params.W_hy.T
    return Evaluation((check("o^{(t)}", value, net.fwd.o, ENGINE_FWD),))


def eval_softmax(net: Net, ctx: Context) -> Evaluation:
    o = net.fwd.o
    e = np.exp(o - o.max(axis=1, keepdims=True))
    return Evaluation(
        (check(r"\hat y^{(t)}", e / e.sum(axis=1, keepdims=True), net.fwd.y, ENGINE_FWD),)
    )


def eval_loss(net: Net, ctx: Context) -> Evaluation:
    per_t = cross_entropy_terms(net.d, log_softmax(net.fwd.o))
    return Evaluation(
        (
            check("L^{(t)}", per_t, net.fwd.losses, ENGINE_FWD),
            check("L", per_t.sum(), net.fwd.loss, ENGINE_FWD),
        ),
        text="log ŷ is computed from the logits (o − log Σ e^o), which is finite where ŷ "
        "underflows to 0.",
    )


def eval_grad_o(net: Net, ctx: Context) -> Evaluation:
    return Evaluation((check(r"\nabla_{o^{(t)}}L", net.fwd.y - net.d, net.bwd.delta_o),))


def eval_grad_h(net: Net, ctx: Context) -> Evaluation:
    p = net.params
    later = np.vstack([net.dL_dh[1:], np.zeros((1, net.config.hidden_size))])
    fp_next = np.vstack([net.fprime_of(net.fwd.a[1:]), np.zeros((1, net.config.hidden_size))])
    value = (fp_next * later) @ p.W_hh + net.bwd.delta_o @ p.W_hy
    return Evaluation(
        (check(r"\nabla_{h^{(t)}}L", value, net.dL_dh),),
        text=r"Evaluated with the engine's $\nabla_{h^{(t+1)}}L$ on the right: the recursion holds at "
        "every t (at t = T the first term is absent).",
    )


def eval_grad_c(net: Net, ctx: Context) -> Evaluation:
    return Evaluation((check(r"\nabla_c L", net.bwd.delta_o.sum(axis=0), net.bwd.grads.b_y),))


def local_factor(net: Net) -> np.ndarray:
    """(T, H) the diagonal of ∂h^{(t)}/∂b^{(t)} = diag(f′(a^{(t)})): copy t's bias alone."""
    return net.fprime_of(net.fwd.a)


def eval_grad_b(net: Net, ctx: Context) -> Evaluation:
    value = (local_factor(net) * net.dL_dh).sum(axis=0)
    return Evaluation((check(r"\nabla_b L", value, net.bwd.grads.b_h),))


def total_bias_jacobian(net: Net) -> np.ndarray:
    """(T, H, H) ∂h^{(t)}/∂b through every earlier copy: D(t) = diag(f′(a^{(t)}))(I + W D(t−1))."""
    T, H = net.T, net.config.hidden_size
    f, W = local_factor(net), net.params.W_hh
    D, prev = np.zeros((T, H, H)), np.zeros((H, H))
    for t in range(T):  # the chain rule unrolled through h^{(t−1)}
        prev = f[t][:, None] * (np.eye(H) + W @ prev)
        D[t] = prev
    return D


def slip_grad_b(net: Net, ctx: Context) -> Evidence:
    note = np.einsum("tij,ti->j", total_bias_jacobian(net), net.dL_dh)
    return evidence("∇b L", note, net.bwd.grads.b_h, true_label="the true gradient")


def eval_grad_V(net: Net, ctx: Context) -> Evaluation:
    value = np.einsum("ti,tj->ij", net.bwd.delta_o, net.fwd.h)
    return Evaluation((check(r"\nabla_V L", value, net.bwd.grads.W_hy),))


def eval_grad_W(net: Net, ctx: Context) -> Evaluation:
    value = np.einsum("ti,tj->ij", local_factor(net) * net.dL_dh, net.h_prev)
    per_copy = np.einsum("ti,tj->tij", local_factor(net) * net.dL_dh, net.h_prev)
    return Evaluation(
        (
            check(r"\text{copy } t\text{'s share}", per_copy, net.bwd.per_step.W_hh),
            check(r"\nabla_W L", value, net.bwd.grads.W_hh),
        )
    )


def eval_grad_U(net: Net, ctx: Context) -> Evaluation:
    value = np.einsum("ti,tj->ij", local_factor(net) * net.dL_dh, net.x)
    return Evaluation((check(r"\nabla_U L", value, net.bwd.grads.W_xh),))


def eval_update(net: Net, ctx: Context) -> Evaluation:
    new, g, p, eps = net.sgd_step(ctx.eta), net.bwd.grads, net.params, ctx.eta
    names = (("U", "W_xh"), ("W", "W_hh"), ("V", "W_hy"), ("b", "b_h"), ("c", "b_y"))
    return Evaluation(
        tuple(
            check(sym, getattr(p, n) - eps * getattr(g, n), getattr(new, n), ENGINE_SGD)
            for sym, n in names
        )
    )


LOSS_INDEX = Slip(
    r"$\hat y_t$ for the entries of $\hat y^{(t)}$",
    r"The prediction at time t is the vector $\hat y^{(t)}$, and the loss takes its entry at the "
    r"target, so the sum runs over t and over the output index i; a subscript t on $\hat y$ "
    "would pick entry t.",
    r"y^{(t)}\log\hat y_t \to \sum_i y_i^{(t)}\log\hat y_i^{(t)}",
    None,
    "seeds/README.md, issue 12",
)
BIAS_COPY = Slip(
    r"$\partial h^{(t)}/\partial b$ without the copy $b^{(t)}$",
    r"$\nabla_{h^{(t)}}L$ already carries every later loss, so the derivative beside it must be "
    r"that of copy t's bias alone, $\partial h^{(t)}/\partial b^{(t)} = \operatorname{diag}(f'(a^{(t)}))$; "
    r"the whole $\partial h^{(t)}/\partial b$ through all earlier copies counts those paths again.",
    r"\frac{\partial h^{(t)}}{\partial b} \to \frac{\partial h^{(t)}}{\partial b^{(t)}}",
    slip_grad_b,
    "seeds/README.md, issue 12",
)

LINES: tuple[Line, ...] = (
    Line(
        r"$a^{(t)}$",
        "The hidden layer's input: bias, previous state and input.",
        r"a^{(t)} = b + W\,h^{(t-1)} + U\,x^{(t)}",
        eval_a,
    ),
    Line(
        r"$h^{(t)}$",
        "The hidden state.",
        r"h^{(t)} = \sigma\big(a^{(t)}\big)",
        eval_h,
        remark="The note writes σ for the hidden nonlinearity (the book uses tanh); it stands "
        "for the network's activation f.",
    ),
    Line(r"$o^{(t)}$", "The logits.", r"o^{(t)} = c + V\,h^{(t)}", eval_o),
    Line(
        r"$\hat y^{(t)}$",
        "The predicted distribution.",
        r"\hat y^{(t)} = \operatorname{softmax}\big(o^{(t)}\big)",
        eval_softmax,
    ),
    Line(
        "$L$",
        "Cross-entropy summed over the sequence.",
        r"L = -\sum_{t=1}^{T}\sum_i y_i^{(t)}\log\hat y_i^{(t)} = \sum_{t=1}^{T} L^{(t)}",
        eval_loss,
        note_tex=r"L\big(\hat y^{(1:t)}, y^{(1:t)}\big) = -\sum_t y^{(t)}\log\hat y_t",
        slips=(LOSS_INDEX,),
        remark="The note also uses t both as the last time in (1:t) and as the summation "
        "index; the sequence runs to T.",
    ),
    Line(
        r"$\nabla_{o^{(t)}}L$",
        "The output error (not in the note: the book's first step back).",
        r"\nabla_{o^{(t)}}L = \hat y^{(t)} - y^{(t)}",
        eval_grad_o,
        support=True,
    ),
    Line(
        r"$\nabla_{h^{(t)}}L$",
        "The error of the hidden state, from its own output and from the next "
        "copy (not in the note: the book's recursion, which every gradient below uses).",
        stack(
            r"\nabla_{h^{(t)}}L &= W^{\top}\operatorname{diag}\big(f'(a^{(t+1)})\big)\,\nabla_{h^{(t+1)}}L"
            r" + V^{\top}\nabla_{o^{(t)}}L",
            r"\nabla_{h^{(T)}}L &= V^{\top}\nabla_{o^{(T)}}L",
        ),
        eval_grad_h,
        support=True,
        remark=r"For tanh, $f'(a^{(t+1)}) = 1 - (h^{(t+1)})^2$, the book's form.",
    ),
    Line(
        r"$\nabla_c L$",
        "The output bias: each copy's output error, summed.",
        r"\nabla_c L = \sum_t\Big(\frac{\partial o^{(t)}}{\partial c}\Big)^{\!\top}\nabla_{o^{(t)}}L"
        r" = \sum_t \nabla_{o^{(t)}}L",
        eval_grad_c,
    ),
    Line(
        r"$\nabla_b L$",
        "The hidden bias: copy t's own slope times the error of its hidden state.",
        stack(
            r"\nabla_b L &= \sum_t\Big(\frac{\partial h^{(t)}}{\partial b^{(t)}}\Big)^{\!\top}\nabla_{h^{(t)}}L",
            r"&= \sum_t \operatorname{diag}\big(f'(a^{(t)})\big)\,\nabla_{h^{(t)}}L",
        ),
        eval_grad_b,
        note_tex=r"\nabla_b L = \sum_t\Big(\frac{\partial h^{(t)}}{\partial b}\Big)^{\!\top}\nabla_{h^{(t)}}L",
        slips=(BIAS_COPY,),
    ),
    Line(
        r"$\nabla_V L$",
        "The output weights: every copy's output error times its hidden state.",
        stack(
            r"\nabla_V L &= \sum_t\sum_i \frac{\partial L}{\partial o_i^{(t)}}\,\nabla_V o_i^{(t)}",
            r"&= \sum_t \big(\nabla_{o^{(t)}}L\big)\,h^{(t)\top}",
        ),
        eval_grad_V,
    ),
    Line(
        r"$\nabla_W L$",
        "The recurrent weights: each copy's own step, summed.",
        stack(
            r"\nabla_W L &= \sum_t\sum_i \frac{\partial L}{\partial h_i^{(t)}}\,\nabla_{W^{(t)}} h_i^{(t)}",
            r"&= \sum_t \operatorname{diag}\big(f'(a^{(t)})\big)\big(\nabla_{h^{(t)}}L\big)\,h^{(t-1)\top}",
        ),
        eval_grad_W,
        remark=r"The book introduces copies $W^{(t)}$ (all equal to $W$) so that $\nabla_{W^{(t)}}$ "
        r"is the contribution of one time step; summed over t they give $\nabla_W L$.",
    ),
    Line(
        r"$\nabla_U L$",
        "The input weights, in the same way.",
        stack(
            r"\nabla_U L &= \sum_t\sum_i \frac{\partial L}{\partial h_i^{(t)}}\,\nabla_{U^{(t)}} h_i^{(t)}",
            r"&= \sum_t \operatorname{diag}\big(f'(a^{(t)})\big)\big(\nabla_{h^{(t)}}L\big)\,x^{(t)\top}",
        ),
        eval_grad_U,
    ),
    Line(
        "update",
        "One step against the summed gradient (not in the note: plain gradient "
        "descent with learning rate ε).",
        r"\theta \leftarrow \theta - \epsilon\,\nabla_\theta L,\qquad \theta \in \{U, W, V, b, c\}",
        eval_update,
        support=True,
    ),
)

DERIVATION = Derivation(
    notation="goodfellow",
    title="Goodfellow et al., Deep Learning §10.2.2 (seed 001)",
    summary=r"The RNN of the book: $a^{(t)} = b + W h^{(t-1)} + U x^{(t)}$, softmax outputs and "
    "cross-entropy. The note lists the gradients of c, b, V, W and U as sums over time of each "
    r"copy's share. It takes the errors $\nabla_{o^{(t)}}L$ and $\nabla_{h^{(t)}}L$ from the book; they are "
    "added here, marked as not in the note, so that every line can be evaluated. ŷ is the "
    "prediction and y the target.",
    case=CASE,
    lines=LINES,
)
