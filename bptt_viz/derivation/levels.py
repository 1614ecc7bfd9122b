"""The layered derivation (seed 000): a network of levels whose level r is recurrent.

The note's symbols: X^{r−1}(t) the input (the engine's x), U^r(t) and X^r(t) the recurrent level's
total input and output (a, h), U^{r+1}(t) and X^{r+1}(t) the next level's (o, y), e the error (L),
α the learning rate. Its weights are indexed from → to: W^r_{l,i} joins node l of level r−1 to
node i of level r, so the note's matrices are the transposes of the engine's::

    W^r = W_xhᵀ (I, H)      V = W_hhᵀ (H, H)      W^{r+1} = W_hyᵀ (H, O)

The note has no biases; the app's network has b_h and b_y (zero at initialisation), added here in
brackets. The note fixes no activation, output or loss, so every network is its case.
"""

from __future__ import annotations

import numpy as np

from bptt_core import functions as F
from bptt_viz.derivation.common import (
    ENGINE_FWD,
    ENGINE_SGD,
    check,
    evidence,
    stack,
    sum_or_problem,
)
from bptt_viz.derivation.network import Context, Net
from bptt_viz.derivation.types import Case, Derivation, Evaluation, Evidence, Line, Slip


def note_weights(net: Net) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The note's W^r (I, H), V (H, H) and W^{r+1} (H, O), indexed from → to."""
    p = net.params
    return p.W_xh.T, p.W_hh.T, p.W_hy.T


def next_deltas(net: Net) -> np.ndarray:
    """(T, H) ∂e/∂U^r(t+1) from the engine, with zeros at t = T (nothing beyond the end)."""
    return np.vstack([net.bwd.delta_h[1:], np.zeros((1, net.config.hidden_size))])


def eval_value_flow(net: Net, ctx: Context) -> Evaluation:
    Wr, V, Wr1 = note_weights(net)
    U = np.einsum("tl,li->ti", net.x, Wr) + np.einsum("tm,mi->ti", net.h_prev, V) + net.params.b_h
    X = F.activate(net.config.activation, U)
    U_next = np.einsum("ti,il->tl", net.fwd.h, Wr1) + net.params.b_y
    return Evaluation(
        (
            check("U^{r}(t)", U, net.fwd.a, ENGINE_FWD),
            check("X^{r}(t)", X, net.fwd.h, ENGINE_FWD),
            check("U^{r+1}(t)", U_next, net.fwd.o, ENGINE_FWD),
        )
    )


def eval_two_paths(net: Net, ctx: Context) -> Evaluation:
    _, V, Wr1 = note_weights(net)
    up = net.bwd.delta_o @ Wr1.T  # Σ_l ∂e/∂U_l^{r+1}(t) ∂U_l^{r+1}(t)/∂X_i^r(t)
    later = next_deltas(net) @ V.T  # Σ_m ∂e/∂U_m^r(t+1) ∂U_m^r(t+1)/∂X_i^r(t)
    return Evaluation(
        (
            check(r"\text{path through } U^{r+1}(t)", up, net.bwd.dh_local),
            check(r"\text{path through } U^{r}(t+1)", later, net.bwd.dh_carried),
            check(r"\partial e/\partial X^{r}(t)", up + later, net.dL_dh),
        ),
        text="At t = T the second sum is empty: nothing comes back from beyond the end.",
    )


def eval_expansion(net: Net, ctx: Context) -> Evaluation:
    _, V, Wr1 = note_weights(net)
    value = np.einsum("tl,il->ti", net.bwd.delta_o, Wr1) + np.einsum(
        "tm,im->ti", next_deltas(net), V
    )
    return Evaluation((check(r"\partial e/\partial X^{r}(t)", value, net.dL_dh),))


def slip_expansion(net: Net, ctx: Context) -> Evidence:
    _, V, Wr1 = note_weights(net)
    # with V_{m2,i}, the derivative of Σ_{m2} V_{m2,i} X_{m2}^r(t) by X_i^r(t) is V_{i,i} for every m
    note = net.bwd.delta_o @ Wr1.T + next_deltas(net).sum(axis=1, keepdims=True) * np.diag(V)
    return evidence("∂e/∂X^r(t), every t", note, net.dL_dh, true_label="the engine's")


def eval_delta(net: Net, ctx: Context) -> Evaluation:
    _, V, Wr1 = note_weights(net)
    dX = net.bwd.delta_o @ Wr1.T + next_deltas(net) @ V.T
    value = dX * net.fprime_of(net.fwd.a)
    return Evaluation((check(r"\partial e/\partial U^{r}(t)", value, net.bwd.delta_h),))


def eval_grad_W(net: Net, ctx: Context) -> Evaluation:
    value = np.einsum("ti,tj->tij", net.x, net.bwd.delta_h)
    ref = net.bwd.per_step.W_xh.transpose(0, 2, 1)
    return Evaluation((check(r"\partial e/\partial W^{r}(t)", value, ref),))


def eval_grad_V(net: Net, ctx: Context) -> Evaluation:
    value = np.einsum("ti,tj->tij", net.h_prev, net.bwd.delta_h)
    ref = net.bwd.per_step.W_hh.transpose(0, 2, 1)
    return Evaluation((check(r"\partial e/\partial V(t)", value, ref),))


def eval_delta_W(net: Net, ctx: Context) -> Evaluation:
    a, g = ctx.eta, net.bwd.grads
    dWr = -a * np.einsum("ti,tj->ij", net.x, net.bwd.delta_h)
    dWr1 = -a * np.einsum("ti,tj->ij", net.fwd.h, net.bwd.delta_o)
    return Evaluation(
        (
            check(r"\Delta W^{r}", dWr, -a * g.W_xh.T),
            check(r"\Delta W^{r+1}", dWr1, -a * g.W_hy.T),
        ),
        text=r"For k = r + 1 the same rule reads $\partial e/\partial W^{r+1}_{i,j}(t) = \partial e/\partial U_j^{r+1}(t)\, X_i^r(t)$.",
    )


def eval_update_W(net: Net, ctx: Context) -> Evaluation:
    a, g = ctx.eta, net.bwd.grads
    Wr, _, Wr1 = note_weights(net)
    new = net.sgd_step(a)
    return Evaluation(
        (
            check(r"W^{r}(T)", Wr - a * g.W_xh.T, new.W_xh.T, ENGINE_SGD),
            check(r"W^{r+1}(T)", Wr1 - a * g.W_hy.T, new.W_hy.T, ENGINE_SGD),
        )
    )


def eval_delta_V(net: Net, ctx: Context) -> Evaluation:
    value = -ctx.eta * np.einsum("ti,tj->ij", net.h_prev, net.bwd.delta_h)
    return Evaluation((check(r"\Delta V", value, -ctx.eta * net.bwd.grads.W_hh.T),))


def eval_update_V(net: Net, ctx: Context) -> Evaluation:
    _, V, _ = note_weights(net)
    value = V - ctx.eta * net.bwd.grads.W_hh.T
    return Evaluation((check("V(T)", value, net.sgd_step(ctx.eta).W_hh.T, ENGINE_SGD),))


def slip_update_V(net: Net, ctx: Context) -> Evidence:
    Wr, _, _ = note_weights(net)
    note, problem = sum_or_problem(Wr, -ctx.eta * net.bwd.grads.W_hh.T, "W^r(T−1)", "ΔV")
    return evidence("V(T)", note, net.sgd_step(ctx.eta).W_hh.T, problem, "the engine's update")


EXPANSION = Slip(
    r"index $i$ for $m$ inside the expansion",
    r"$U_m^r(t+1)$ is built from the weights into node m, $W^r_{m_1,m}$ and $V_{m_2,m}$; with the "
    r"second index i the derivative by $X_i^r(t)$ would be $V_{i,i}$ for every m (the result on "
    r"the next line, with $V_{i,m}$, is right).",
    r"W^{r}_{m_1,i},\ V_{m_2,i} \to W^{r}_{m_1,m},\ V_{m_2,m}",
    slip_expansion,
    "seeds/README.md, issue 12",
)
LAST_UPDATE = Slip(
    r"$V$ updated from $W$",
    "The new recurrent weights are the old recurrent weights plus their increment, "
    "V(T) = V(T−1) + ΔV; the note starts from W(T−1).",
    r"W_{i,j}(T-1) \to V_{i,j}(T-1)",
    slip_update_V,
    "seeds/README.md, README",
)

DE = r"\frac{\partial e}"
PATH_SUMS = (
    r"\sum_l \frac{\partial e}{\partial U_l^{r+1}(t)}\,W^{r+1}_{i,l}"
    r" + \sum_m \frac{\partial e}{\partial U_m^{r}(t+1)}\,V_{i,m}"
)


def expanded(second: str) -> str:
    """The two inner derivatives written out; ``second`` is the weights' second index."""
    return stack(
        r"\frac{\partial e}{\partial X_i^{r}(t)} &= \sum_l \frac{\partial e}{\partial U_l^{r+1}(t)}\,"
        r"\frac{\partial\big(\sum_{l_1} W^{r+1}_{l_1,l} X_{l_1}^{r}(t)\big)}{\partial X_i^{r}(t)}",
        r"&+ \sum_m \frac{\partial e}{\partial U_m^{r}(t+1)}\,\frac{\partial}{\partial X_i^{r}(t)}"
        r"\Big(\sum_{m_1} W^{r}_{m_1,@} X_{m_1}^{r-1}(t+1)".replace("@", second),
        r"&\qquad\qquad + \sum_{m_2} V_{m_2,@} X_{m_2}^{r}(t)\Big)".replace("@", second),
    )


LINES: tuple[Line, ...] = (
    Line(
        "value flow",
        "The recurrent level adds the input from level r − 1 and its own output one step back.",
        stack(
            r"U_i^{r}(t) &= \sum_l W^{r}_{l,i}\,X_l^{r-1}(t) + \sum_m V_{m,i}\,X_m^{r}(t-1)\ \big[+\,b_i^{r}\big]",
            r"X_i^{r}(t) &= f_i^{r}\big(U_i^{r}(t)\big)",
        ),
        eval_value_flow,
        remark="The bracketed bias is the app's (zero at initialisation); the note has none. "
        r"The output level works the same way: $U_l^{r+1}(t) = \sum_i W^{r+1}_{i,l} X_i^r(t)\ [+\, b_l^{r+1}]$.",
    ),
    Line(
        r"error flow into $X^r(t)$",
        "X_i^r(t) reaches the error along two paths: up into level r + 1 at the same time, and "
        "into level r one step later.",
        r"\frac{\partial e}{\partial X_i^{r}(t)} = \sum_l \frac{\partial e}{\partial U_l^{r+1}(t)}\,"
        r"\frac{\partial U_l^{r+1}(t)}{\partial X_i^{r}(t)} + \sum_m \frac{\partial e}{\partial U_m^{r}(t+1)}\,"
        r"\frac{\partial U_m^{r}(t+1)}{\partial X_i^{r}(t)}",
        eval_two_paths,
    ),
    Line(
        "expansion",
        "The two inner derivatives with the total inputs written out.",
        expanded("m"),
        eval_expansion,
        note_tex=expanded("i"),
        slips=(EXPANSION,),
    ),
    Line(
        r"$\partial e/\partial X^r(t)$",
        "Only the terms with l₁ = i and m₂ = i survive the differentiation.",
        r"\frac{\partial e}{\partial X_i^{r}(t)} = " + PATH_SUMS,
        eval_expansion,
    ),
    Line(
        r"$\partial e/\partial U^r(t)$",
        "Through the activation: multiply by its slope at U_i^r(t).",
        stack(
            r"\frac{\partial e}{\partial U_i^{r}(t)} &= \frac{\partial e}{\partial X_i^{r}(t)}\,\partial f_i^{r}",
            r"&= \Big(\sum_l \frac{\partial e}{\partial U_l^{r+1}(t)}\,W^{r+1}_{i,l}",
            r"&\qquad + \sum_m \frac{\partial e}{\partial U_m^{r}(t+1)}\,V_{i,m}\Big)\,f^{r\,\prime}\big(U_i^{r}(t)\big)",
        ),
        eval_delta,
        remark="This is the recursion of BPTT: ∂e/∂U^r(t) needs ∂e/∂U^r(t+1), so it is computed "
        "from t = T down to 1.",
    ),
    Line(
        r"$\partial e/\partial W^r(t)$",
        "Copy t's share of the gradient of the input weights.",
        r"\frac{\partial e}{\partial W^{r}_{i,j}}(t) = \frac{\partial e}{\partial U_j^{r}(t)}\,"
        r"\frac{\partial U_j^{r}(t)}{\partial W^{r}_{i,j}} = \frac{\partial e}{\partial U_j^{r}(t)}\,X_i^{r-1}(t)",
        eval_grad_W,
        remark="The note leaves the time index off the right-hand side; both factors are copy t's.",
    ),
    Line(
        r"$\partial e/\partial V(t)$",
        "Copy t's share of the gradient of the recurrent weights: the input of V at t is X^r(t − 1).",
        r"\frac{\partial e}{\partial V_{i,j}}(t) = \frac{\partial e}{\partial U_j^{r}(t)}\,"
        r"\frac{\partial U_j^{r}(t)}{\partial V_{i,j}} = \frac{\partial e}{\partial U_j^{r}(t)}\,X_i^{r}(t-1)",
        eval_grad_V,
    ),
    Line(
        r"$\Delta W^k$",
        "All copies' shares are summed before one step against the gradient.",
        r"\Delta W^{k}_{i,j} = -\alpha\sum_{t=1}^{T}\frac{\partial e}{\partial W^{k}_{i,j}}(t)",
        eval_delta_W,
    ),
    Line(
        r"update of $W^k$",
        "The weights after this pass.",
        r"W^{k}_{i,j}(T) = W^{k}_{i,j}(T-1) + \Delta W^{k}_{i,j}",
        eval_update_W,
        remark="The argument counts passes over the sequence, not timesteps: the weights are "
        "updated once, after the whole sequence.",
    ),
    Line(
        r"$\Delta V$",
        "The same for the recurrent weights.",
        r"\Delta V_{i,j} = -\alpha\sum_{t=1}^{T}\frac{\partial e}{\partial V_{i,j}}(t)",
        eval_delta_V,
    ),
    Line(
        r"update of $V$",
        "The recurrent weights after this pass.",
        r"V_{i,j}(T) = V_{i,j}(T-1) + \Delta V_{i,j}",
        eval_update_V,
        note_tex=r"V_{i,j}(T) = W_{i,j}(T-1) + \Delta V_{i,j}",
        slips=(LAST_UPDATE,),
    ),
)

DERIVATION = Derivation(
    notation="levels",
    title="The layered derivation (seed 000)",
    summary="A network of levels in which level r feeds its output back into itself. The note "
    r"follows the value forward and the error back, writes $\partial e/\partial X^r(t)$ as the sum of two paths, "
    "passes it through the activation, and sums every copy's ∂e/∂W(t) and ∂e/∂V(t) over "
    "t = 1..T before one update with learning rate α. Its weights are indexed from → to, so its "
    r"$W^r$, $V$ and $W^{r+1}$ are the transposes of the app's input, recurrent and output matrices.",
    case=Case(why="any activation, output and loss: the note leaves them open"),
    lines=LINES,
)
