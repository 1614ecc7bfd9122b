"""The weight gradients accumulating: for every parameter, the running sum of the contributions of
the copies visited so far beside the contribution of the copy this step visits.

Drawn once as matrices of cells (``data-v`` = position in the step's value vector, ``data-r`` =
its colour range); each step is one value vector: running sums and contributions of the five
parameters, flattened in PARAM_NAMES order, NaN where there is nothing (the contribution during
the forward pass). Colour ranges are fixed per parameter over the whole pass.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_core.model import PARAM_NAMES, Params
from bptt_viz.notation import Notation
from bptt_viz.player.steps import Step
from bptt_viz.player.svg import labels_attr, matrix_cells, num, template

GAP, LABEL_W, TITLE_H, MAX_SIDE = 28.0, 44.0, 22.0, 230.0


@dataclass(frozen=True)
class SumsPanel:
    svg: str
    values: list[np.ndarray]  # per step: (m,) running sums and contributions, flattened
    ranges: list[float]  # colour range of each data-r (running, contribution per parameter)


def running_sums(bwd: BackwardTrace) -> Params:
    """Σ_{s ≥ t} of the contributions, for every t at once: arrays with a leading T axis."""
    return bwd.per_step.map(lambda a: np.cumsum(a[::-1], axis=0)[::-1])


def _axis_labels(name: str, units: Sequence[str], chars: Sequence[str]) -> tuple[list, list]:
    """(row labels, column labels) of a parameter drawn as a matrix (biases as one row)."""
    return {
        "W_xh": (units, chars),
        "W_hh": (units, units),
        "W_hy": (chars, units),
        "b_h": ([""], units),
        "b_y": ([""], chars),
    }[name]


def _labels(x0: float, y0: float, cell: float, rows: Sequence[str], cols: Sequence[str]) -> list:
    """Row labels left of a matrix and column labels above it, thinned to stay readable."""
    every = max(1, int(np.ceil(12 / cell)))
    out = [
        f'<text class="label" x="{num(x0 - 4)}" y="{num(y0 + (i + 0.5) * cell + 4)}" '
        f'text-anchor="end">{html.escape(rows[i])}</text>'
        for i in range(0, len(rows), every)
        if rows[i]
    ]
    out += [
        f'<text class="label small" x="{num(x0 + (j + 0.5) * cell)}" y="{num(y0 - 4)}" '
        f'text-anchor="middle">{html.escape(cols[j])}</text>'
        for j in range(0, len(cols), every)
    ]
    return out


def _template(label: str, is_bias: bool) -> str:
    """Hover text of a cell: “W_hh[2,3] (h2 ← h3) = …” or “b_h[2] (h2) = …”."""
    if is_bias:
        return template(f"{label}[{{j}}] ({{c}}) = {{v}}")
    return template(f"{label}[{{i}},{{j}}] ({{r}} ← {{c}}) = {{v}}")


def matrices_svg(
    n: Notation,
    shapes: dict[str, tuple[int, int]],
    units: Sequence[str],
    chars: Sequence[str],
    titles: Sequence[str],
    ranges: Sequence[float] | None = None,
) -> str:
    """One row per parameter of ``len(titles)`` matrices side by side. Matrix m of parameter p
    has colour range ``m + p·len(titles)`` and values after those of the matrices before it;
    with ``ranges``, each title shows its ± range."""
    out, y, first, width, cols = [], 8.0, 0, 0.0, len(titles)
    for p, name in enumerate(PARAM_NAMES):
        R, C = shapes[name]
        cell = float(np.clip(MAX_SIDE / max(R, C, 8), 6, 22))
        rows, col_labels = _axis_labels(name, units, chars)
        label = n.plain(name)
        y += TITLE_H + 16
        for side, what in enumerate(titles):
            x0 = LABEL_W + side * (C * cell + GAP + LABEL_W)
            scale = "" if ranges is None else f" (±{ranges[cols * p + side]:.3g})"
            out.append(
                f'<text class="label title" x="{num(x0)}" y="{num(y - 20)}">'
                f"{html.escape(label)}: {what}{scale}</text>"
            )
            attrs = {
                "class": "m",
                "data-r": str(cols * p + side),
                "data-tpl": _template(label, R == 1),
                "data-rl": labels_attr(rows),
                "data-cl": labels_attr(col_labels),
            }
            out.append(matrix_cells(x0, y, (R, C), (cell, cell), first, attrs))
            out += _labels(x0, y, cell, rows, col_labels)
            first += R * C
            width = max(width, x0 + C * cell + 8)
        y += R * cell + 6
    return (
        f'<svg class="sums" style="--w:{num(width)}px" xmlns="http://www.w3.org/2000/svg" '
        f'width="{num(width)}" height="{num(y)}" viewBox="0 0 {num(width)} {num(y)}">'
        + "".join(out)
        + "</svg>"
    )


def sums_svg(
    n: Notation,
    shapes: dict[str, tuple[int, int]],
    units: Sequence[str],
    chars: Sequence[str],
    ranges: Sequence[float],
) -> str:
    """Running sum | this copy's contribution, for every parameter."""
    return matrices_svg(n, shapes, units, chars, ("running sum", "this copy"), ranges)


def step_values(
    step: Step, running: Params, contributions: Params, zeros: Params, nans: Params
) -> np.ndarray:
    """The value vector of one step (see the module docstring)."""
    if step.phase == "forward":
        run, con = zeros, nans
    elif step.phase == "update":
        run, con = running.map(lambda a: a[0]), nans
    else:
        i = step.t - 1
        run, con = running.map(lambda a: a[i]), contributions.map(lambda a: a[i])
    parts = []
    for name in PARAM_NAMES:
        parts += [np.atleast_2d(getattr(run, name)).ravel()]
        parts += [np.atleast_2d(getattr(con, name)).ravel()]
    return np.concatenate(parts)


def sums_panel(
    n: Notation,
    bwd: BackwardTrace,
    units: Sequence[str],
    chars: Sequence[str],
    steps: Sequence[Step],
) -> SumsPanel:
    """The drawing, the value vector of every step, and the colour ranges."""
    per_step = bwd.per_step
    running = running_sums(bwd)
    shapes = {name: np.atleast_2d(getattr(bwd.grads, name)).shape for name in PARAM_NAMES}
    zeros = bwd.grads.map(np.zeros_like)
    nans = bwd.grads.map(lambda a: np.full_like(a, np.nan))
    values = [step_values(s, running, per_step, zeros, nans) for s in steps]
    ranges = []
    for name in PARAM_NAMES:
        for arr in (getattr(running, name), getattr(per_step, name)):
            finite = np.abs(arr[np.isfinite(arr)])
            ranges.append(float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
    return SumsPanel(sums_svg(n, shapes, units, chars, ranges), values, ranges)
