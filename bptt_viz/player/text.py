"""The words and tables of each step: the status line, the equations and the ledger of copies.

HTML built here from the traces (user characters escaped; equations as MathML from
``bptt_viz.mathml``), one entry per step.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_core.model import PARAM_NAMES, ForwardTrace, Params, RNNConfig
from bptt_viz.equations import backward_equations, forward_equations, update_equation
from bptt_viz.mathml import equation_html
from bptt_viz.notation import Notation
from bptt_viz.player.steps import Step

LEDGER_CODES = "hsc"  # rows as steps.copy_codes: not visited yet, visited, this step's


def _sym(n: Notation, key: str, t: int | str | None = None) -> str:
    """A notation symbol as inline HTML (its <sub>/<sup> kept)."""
    return f'<span class="sym">{n.html(key, t)}</span>'


def status_html(
    n: Notation, step: Step, fwd: ForwardTrace, bwd: BackwardTrace, chars: tuple[list, list]
) -> str:
    """One or two sentences on what this step computes, with its numbers."""
    inputs, targets = chars
    T, t = fwd.T, step.t
    if step.phase == "forward":
        total = float(fwd.losses[:t].sum())
        return (
            f"<b>Forward pass, t = {t}.</b> Input “{html.escape(inputs[t - 1])}”, target "
            f"“{html.escape(targets[t - 1])}”. The copy at t combines the input with the previous "
            f"hidden state, predicts the next character and pays the loss "
            f"{_sym(n, 'L_t', t)} = {fwd.losses[t - 1]:.4f} (running total "
            f"{_sym(n, 'L')} = {total:.4f})."
        )
    if step.phase == "update":
        return "<b>Update.</b> Every weight moves against the sum of its copies' contributions."
    k = bwd.truncation
    carried = (
        "nothing comes back from beyond T"
        if t == T
        else "k = 1: no error crosses a recurrent edge"
        if k == 1
        else "what comes back from the later copies"
    )
    visited = T - t + 1
    cut = (
        f" Truncation k = {k}: each loss sends its error back through {k} "
        f"cop{'y' if k == 1 else 'ies'} (its own included), so these deltas and sums are the "
        "truncated ones; after copy 1 the sums are the truncated gradient g<sub>k</sub>."
        if k is not None and k < T
        else ""
    )
    return (
        f"<b>Backward pass, t = {t}.</b> The error of copy {t} is its own output error plus "
        f"{carried}. Its contributions join the running sums of the gradients ({visited} of {T} "
        f"copies visited).{cut}"
    )


def equations_html(
    n: Notation,
    config: RNNConfig,
    params: Params,
    fwd: ForwardTrace,
    bwd: BackwardTrace,
    step: Step,
    chars: tuple[Sequence[str], Sequence[str]],
) -> str:
    """The equations of the step with the live numbers, typeset as MathML."""
    inputs, targets = chars
    t = step.t
    if step.phase == "forward":
        weights = {"W_xh": params.W_xh, "W_hh": params.W_hh, "b_h": params.b_h}
        lines = forward_equations(n, config, weights, fwd, t, inputs[t - 1], targets[t - 1])
    elif step.phase == "backward":
        lines = backward_equations(n, config, fwd, bwd, t)
    else:
        lines = [update_equation(n)]
    return lines_html(lines)


def lines_html(lines: Sequence[str]) -> str:
    """LaTeX lines typeset for the page, one block each."""
    return "".join(f'<div class="eq">{equation_html(line)}</div>' for line in lines)


def ledger_html(n: Notation, bwd: BackwardTrace, row_labels: Sequence[str]) -> str:
    """The table of every copy's contribution norms (rows marked data-i), the running row (a
    slot) and the engine's total."""
    norms = bwd.per_step_norms()
    head = "".join(f"<th>‖Δ{html.escape(n.plain(name))}‖</th>" for name in PARAM_NAMES)
    rows = []
    for i, label in enumerate(row_labels):
        cells = "".join(f"<td>{norms[name][i]:.4g}</td>" for name in PARAM_NAMES)
        rows.append(f'<tr data-i="{i}"><th>{html.escape(label)}</th>{cells}</tr>')
    total = "".join(
        f"<td>{np.linalg.norm(getattr(bwd.grads, name)):.4g}</td>" for name in PARAM_NAMES
    )
    which = "∂L/∂θ" if bwd.truncation is None else f"truncated gradient g_k (k = {bwd.truncation})"
    return (
        f'<table class="ledger"><thead><tr><th>copy</th>{head}</tr></thead><tbody>'
        + "".join(rows)
        + '<tr class="running" data-slot="ledger_running"></tr>'
        + f'<tr class="total"><th>engine total ‖{html.escape(which)}‖</th>{total}</tr>'
        + "</tbody></table>"
    )


def ledger_running_html(running: Params | None) -> str:
    """The ledger's running row: ‖Σ of the visited copies' contributions‖ per parameter."""
    if running is None:
        cells = "".join("<td>0</td>" for _ in PARAM_NAMES)
    else:
        cells = "".join(
            f"<td>{np.linalg.norm(getattr(running, name)):.4g}</td>" for name in PARAM_NAMES
        )
    return f"<th>Σ visited (‖running sum‖)</th>{cells}"
