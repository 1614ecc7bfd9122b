"""Karpathy's min-char-rnn: the forward and backward loops of ``lossFun``, line by line as code.

The program's names: xs[t] one-hot inputs, hs[t] hidden states (hs[-1] = hprev, the state before
the chunk), ys[t] logits, ps[t] probabilities, targets[t] the next character's index; Wxh, Whh,
Why, bh, by the weights (the engine's W_xh, W_hh, W_hy, b_h, b_y). It counts from t = 0 and stores
column vectors; the engine stores rows, so hs[t] is the engine's h at position t. The program is
written for tanh, softmax and cross-entropy. Its backward pass is exact; after it, the program
clips every gradient entry to [−5, 5] and takes an Adagrad step.
"""

from __future__ import annotations

import numpy as np

from bptt_viz.derivation.common import ENGINE_FWD, check, log_softmax
from bptt_viz.derivation.network import Context, Net
from bptt_viz.derivation.types import Case, Derivation, Evaluation, Line

CASE = Case(
    activation=("tanh",),
    output=("softmax",),
    loss=("cross_entropy",),
    why="tanh, softmax and cross-entropy, the program's network",
)
CLIP = 5.0


def targets(net: Net) -> np.ndarray:
    """(T,) targets[t]: the index of the next character."""
    return net.d.argmax(axis=1)


def dy(net: Net) -> np.ndarray:
    """(T, O) dy for every t: a copy of ps[t] with 1 taken off at the target."""
    out = net.fwd.y.copy()
    out[np.arange(net.T), targets(net)] -= 1.0
    return out


def eval_hs(net: Net, ctx: Context) -> Evaluation:
    p = net.params
    hs = np.tanh(net.x @ p.W_xh.T + net.h_prev @ p.W_hh.T + p.b_h)
    return Evaluation((check(r"\mathtt{hs[t]},\ \text{every } t", hs, net.fwd.h, ENGINE_FWD),))


def eval_ys(net: Net, ctx: Context) -> Evaluation:
    ys = net.fwd.h @ net.params.W_hy.T + net.params.b_y
    return Evaluation((check(r"\mathtt{ys[t]},\ \text{every } t", ys, net.fwd.o, ENGINE_FWD),))


def eval_ps(net: Net, ctx: Context) -> Evaluation:
    e = np.exp(net.fwd.o)
    return Evaluation(
        (check(r"\mathtt{ps[t]}", e / e.sum(axis=1, keepdims=True), net.fwd.y, ENGINE_FWD),)
    )


def eval_loss(net: Net, ctx: Context) -> Evaluation:
    terms = -log_softmax(net.fwd.o)[np.arange(net.T), targets(net)]
    return Evaluation(
        (
            check(r"-\log \mathtt{ps[t][targets[t]]}", terms, net.fwd.losses, ENGINE_FWD),
            check(r"\mathtt{loss}", terms.sum(), net.fwd.loss, ENGINE_FWD),
        ),
        text="The logarithm is taken from the logits (ys − log Σ e^ys), the same number where "
        "ps does not underflow.",
    )


def eval_dhnext0(net: Net, ctx: Context) -> Evaluation:
    zero = np.zeros(net.config.hidden_size)
    return Evaluation(
        (check(r"\mathtt{dhnext}\ \text{at}\ t=T-1", zero, net.bwd.dh_carried[-1]),),
        text="Nothing comes back from beyond the last step of the chunk.",
    )


def eval_dy(net: Net, ctx: Context) -> Evaluation:
    return Evaluation((check(r"\mathtt{dy},\ \text{every } t", dy(net), net.bwd.delta_o),))


def eval_dWhy(net: Net, ctx: Context) -> Evaluation:
    share = np.einsum("to,th->toh", dy(net), net.fwd.h)
    return Evaluation(
        (
            check(r"\text{step } t\text{'s share of } \mathtt{dWhy}", share, net.bwd.per_step.W_hy),
            check(r"\mathtt{dWhy}\ \text{after the loop}", share.sum(axis=0), net.bwd.grads.W_hy),
        )
    )


def eval_dby(net: Net, ctx: Context) -> Evaluation:
    return Evaluation(
        (check(r"\mathtt{dby}\ \text{after the loop}", dy(net).sum(axis=0), net.bwd.grads.b_y),)
    )


def eval_dh(net: Net, ctx: Context) -> Evaluation:
    dh = dy(net) @ net.params.W_hy + net.bwd.dh_carried
    return Evaluation(
        (check(r"\mathtt{dh},\ \text{every } t", dh, net.dL_dh),),
        text="dhnext is the engine's error carried back from t + 1.",
    )


def eval_dhraw(net: Net, ctx: Context) -> Evaluation:
    dhraw = (1.0 - net.fwd.h * net.fwd.h) * net.dL_dh
    return Evaluation((check(r"\mathtt{dhraw},\ \text{every } t", dhraw, net.bwd.delta_h),))


def eval_dWxh(net: Net, ctx: Context) -> Evaluation:
    value = np.einsum("th,ti->hi", net.bwd.delta_h, net.x)
    return Evaluation((check(r"\mathtt{dWxh}\ \text{after the loop}", value, net.bwd.grads.W_xh),))


def eval_dWhh(net: Net, ctx: Context) -> Evaluation:
    share = np.einsum("th,tk->thk", net.bwd.delta_h, net.h_prev)
    return Evaluation(
        (
            check(r"\text{step } t\text{'s share of } \mathtt{dWhh}", share, net.bwd.per_step.W_hh),
            check(r"\mathtt{dWhh}\ \text{after the loop}", share.sum(axis=0), net.bwd.grads.W_hh),
        ),
        text="At t = 0, hs[-1] is hprev (zeros here), so the first step adds nothing to dWhh.",
    )


def eval_dbh(net: Net, ctx: Context) -> Evaluation:
    return Evaluation(
        (
            check(
                r"\mathtt{dbh}\ \text{after the loop}",
                net.bwd.delta_h.sum(axis=0),
                net.bwd.grads.b_h,
            ),
        )
    )


def eval_dhnext(net: Net, ctx: Context) -> Evaluation:
    value = net.bwd.delta_h[1:] @ net.params.W_hh
    return Evaluation(
        (check(r"\mathtt{dhnext}\ \text{for}\ t-1", value, net.bwd.dh_carried[:-1]),),
        text="The error handed to the previous step: Whhᵀ times this step's dhraw.",
    )


def eval_clip(net: Net, ctx: Context) -> Evaluation:
    clipped, _ = net.clipped_adagrad_step(ctx.eta, CLIP)
    g = net.bwd.grads
    names = ("W_xh", "W_hh", "W_hy", "b_h", "b_y")
    shown = ("dWxh", "dWhh", "dWhy", "dbh", "dby")
    return Evaluation(
        tuple(
            check(
                rf"\mathtt{{{s}}}",
                np.clip(getattr(g, n), -CLIP, CLIP),
                getattr(clipped, n),
                "the engine's clipping by value (bptt_core.optim)",
            )
            for s, n in zip(shown, names, strict=True)
        ),
        text="Clipping each entry can turn the gradient's direction; clipping by the global "
        "norm (the app's default) keeps it.",
    )


def eval_adagrad(net: Net, ctx: Context) -> Evaluation:
    clipped, new = net.clipped_adagrad_step(ctx.eta, CLIP)
    p = net.params
    names = ("W_xh", "W_hh", "W_hy", "b_h", "b_y")
    shown = ("Wxh", "Whh", "Why", "bh", "by")
    checks = []
    for s, n in zip(shown, names, strict=True):
        d = getattr(clipped, n)
        mem = d * d  # the memory starts at zero
        value = getattr(p, n) - ctx.eta * d / np.sqrt(mem + 1e-8)
        checks.append(
            check(
                rf"\mathtt{{{s}}}", value, getattr(new, n), "the engine's Adagrad (bptt_core.optim)"
            )
        )
    return Evaluation(
        tuple(checks),
        text=f"The first update, from empty memory, with learning_rate = {ctx.eta:g} (the "
        "sidebar's; the program uses 0.1). From empty memory every entry moves by about "
        "learning_rate, whatever its gradient.",
    )


LINES: tuple[Line, ...] = (
    Line(
        "forward",
        "The new hidden state, from the input and the previous state (hs[-1] = hprev).",
        "hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t-1]) + bh)",
        eval_hs,
        code=True,
    ),
    Line("forward", "The logits.", "ys[t] = np.dot(Why, hs[t]) + by", eval_ys, code=True),
    Line(
        "forward",
        "The probabilities.",
        "ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))",
        eval_ps,
        code=True,
        remark="The program exponentiates the logits directly; the engine subtracts their "
        "maximum first (the same numbers, without overflow for large logits).",
    ),
    Line(
        "forward",
        "Cross-entropy, added up over the chunk.",
        "loss += -np.log(ps[t][targets[t], 0])",
        eval_loss,
        code=True,
    ),
    Line(
        "backward, before the loop",
        "No error comes from beyond the last step.",
        "dhnext = np.zeros_like(hs[0])",
        eval_dhnext0,
        code=True,
    ),
    Line(
        "backward, for t in reversed(range(len(inputs)))",
        "Into the logits: the softmax probabilities with 1 taken off at the target.",
        "dy = np.copy(ps[t]); dy[targets[t]] -= 1",
        eval_dy,
        code=True,
    ),
    Line(
        "backward",
        "Copy t's share of the output weights' gradient.",
        "dWhy += np.dot(dy, hs[t].T)",
        eval_dWhy,
        code=True,
    ),
    Line("backward", "The output bias.", "dby += dy", eval_dby, code=True),
    Line(
        "backward",
        "Into h: from its own output and from the step after.",
        "dh = np.dot(Why.T, dy) + dhnext",
        eval_dh,
        code=True,
    ),
    Line(
        "backward",
        "Through tanh: its slope is 1 − hs[t]².",
        "dhraw = (1 - hs[t] * hs[t]) * dh",
        eval_dhraw,
        code=True,
    ),
    Line(
        "backward",
        "Copy t's share of the input weights' gradient.",
        "dWxh += np.dot(dhraw, xs[t].T)",
        eval_dWxh,
        code=True,
    ),
    Line(
        "backward",
        "Copy t's share of the recurrent weights' gradient.",
        "dWhh += np.dot(dhraw, hs[t-1].T)",
        eval_dWhh,
        code=True,
    ),
    Line("backward", "The hidden bias.", "dbh += dhraw", eval_dbh, code=True),
    Line(
        "backward",
        "The error handed to step t − 1.",
        "dhnext = np.dot(Whh.T, dhraw)",
        eval_dhnext,
        code=True,
    ),
    Line(
        "after the loop",
        "Every gradient entry clipped to [−5, 5].",
        "np.clip(dparam, -5, 5, out=dparam)",
        eval_clip,
        code=True,
    ),
    Line(
        "update",
        "Adagrad: each entry's step is scaled by its own gradient history.",
        "mem += dparam * dparam\nparam += -learning_rate * dparam / np.sqrt(mem + 1e-8)",
        eval_adagrad,
        code=True,
    ),
)

DERIVATION = Derivation(
    notation="minchar",
    title="Karpathy's min-char-rnn",
    summary="A whole character-level RNN in one short program. Its lossFun runs the forward "
    "pass over a chunk of 25 characters, then walks back from the last step to the first, "
    "adding each step's share to the five gradients and handing the error dhnext to the step "
    "before. The lines below are its forward and backward loops, with the program's own 0-based "
    "indices, and then its own update: clipping by value and Adagrad.",
    case=CASE,
    lines=LINES,
    no_slips="No line of the program is corrected: its backward pass is exact, and every line "
    "below matches the engine. Unlike the notes, it clips every gradient entry to [−5, 5] and "
    "updates with Adagrad, not plain gradient descent; those lines are shown as it runs them.",
)
