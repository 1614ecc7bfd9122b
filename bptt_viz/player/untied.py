"""Untied copies on the step page: every copy's own W_hh, its own update, and how they drift.

At the update step of an untied pass the page shows, for every copy t, its recurrent weights
before the update, the update (−η times that copy's own contribution) and after, and says what
tying the weights changes. Values from the engine's ``UntiedPassRecord``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bptt_core.untied import UntiedPassRecord, spread
from bptt_viz.notation import Notation
from bptt_viz.player.steps import Step
from bptt_viz.player.svg import labels_attr, matrix_cells, num, template

ROWS = ("before", "the update", "after")
GAP, LEFT, TOP = 14.0, 96.0, 30.0


@dataclass(frozen=True, eq=False)
class UntiedInput:
    """The untied pass and its learning rate."""

    record: UntiedPassRecord
    learning_rate: float


def copies_svg(n: Notation, T: int, H: int) -> str:
    """A grid: rows before / the update / after, one column per copy, each an H × H W_hh."""
    cell = float(np.clip(72 / H, 5, 14))
    side = H * cell
    units = [f"h{j + 1}" for j in range(H)]
    out, first = [], 0
    for r, row in enumerate(ROWS):
        y = TOP + r * (side + GAP + 16)
        out.append(
            f'<text class="label title" x="{num(LEFT - 8)}" y="{num(y + side / 2 + 4)}" '
            f'text-anchor="end">{row}</text>'
        )
        for t in range(T):
            x = LEFT + t * (side + GAP)
            if r == 0:
                out.append(
                    f'<text class="label" x="{num(x + side / 2)}" y="{num(TOP - 8)}" '
                    f'text-anchor="middle">copy {n.index(t + 1)}</text>'
                )
            attrs = {
                "class": "m",
                "data-r": str(r),
                "data-tpl": template(
                    f"{n.plain('W_hh')} of copy {n.index(t + 1)}, {row}: [{{i}},{{j}}] = {{v}}"
                ),
                "data-rl": labels_attr(units),
                "data-cl": labels_attr(units),
            }
            out.append(matrix_cells(x, y, (H, H), (cell, cell), first, attrs))
            first += H * H
    width = LEFT + T * (side + GAP)
    height = TOP + 3 * (side + GAP + 16)
    return (
        f'<svg class="sums" style="--w:{num(width)}px" xmlns="http://www.w3.org/2000/svg" '
        f'width="{num(width)}" height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}">'
        + "".join(out)
        + "</svg>"
    )


def copies_values(u: UntiedInput, steps: Sequence[Step]) -> tuple[list, list]:
    """Per step: the grid's values at the update step (NaN before it) and the three ranges."""
    before, after = u.record.before.W_hh, u.record.after.W_hh
    moved = after - before
    shown = np.concatenate([before.ravel(), moved.ravel(), after.ravel()])
    weights = float(max(np.abs(before).max(initial=0), np.abs(after).max(initial=0))) or 1.0
    ranges = [weights, float(np.abs(moved).max(initial=0)) or 1.0, weights]
    return [shown] * len(steps), [ranges] * len(steps)  # the panel shows at the update only


def untied_status(n: Notation, u: UntiedInput) -> str:
    r = u.record
    drift = spread(r.after)["W_hh"]
    return (
        f"<b>Untied update {r.update} → {r.update + 1}.</b> Each copy moved by its own "
        f"contribution only, {html.escape(n.plain('W_hh'))}[t] ← "
        f"{html.escape(n.plain('W_hh'))}[t] − η·(∂L/∂{html.escape(n.plain('W_hh'))})<sub>copy t</sub>"
        f", so the copies now differ: the farthest is {drift:.4g} from their mean. The loss of "
        f"this pass was {r.fwd.loss:.4f}; the new copies give {r.loss_after:.4f}. Tied weights "
        "would all have moved by the same sum of the contributions: that is what makes the "
        "unfolded network one RNN, the same rule at every time step, for a text of any length. "
        "Untied, it is a deep feed-forward network of T layers that fits this text's positions."
    )


def untied_equations(n: Notation, u: UntiedInput) -> list[str]:
    r, W, eta = u.record, n.tex("W_hh"), n.tex("eta")
    own = rf"\left(\frac{{\partial {n.tex('L')}}}{{\partial {W}}}\right)_{{\text{{copy }}t}}"
    t = int(np.argmax(np.abs(r.bwd.per_step.W_hh).reshape(r.fwd.T, -1).max(axis=1))) + 1
    before, after = r.before.W_hh[t - 1, 0, 0], r.after.W_hh[t - 1, 0, 0]
    return [
        rf"\text{{untied: }} {W}[t] \leftarrow {W}[t] - {eta}\,{own}\quad\text{{for each copy }}t",
        rf"\text{{tied: }} {W} \leftarrow {W} - {eta} \sum_{{t}} {own}",
        rf"{W}[{n.index(t)}]_{{11}}:\ {before:.4f} \to {after:.4f}"
        rf"\quad({eta} = {u.learning_rate:g})",
        rf"\max_t \lVert {W}[t] - \operatorname{{mean}}_s {W}[s]\rVert = "
        rf"{spread(r.before)['W_hh']:.4g} \to {spread(r.after)['W_hh']:.4g}",
        rf"{n.tex('L')} = {r.fwd.loss:.4f}\ \to\ {r.loss_after:.4f}",
    ]
