"""The update step that ends a pass of training: the gradient, clipping, the optimizer's rule with
its memory and its numbers, every matrix before and after, and what the new weights do.

Everything shown comes from the engine's ``UpdateRecord`` (the trainer's own arrays); the
representative entry of the equations is the W_hh entry with the largest gradient.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bptt_core.model import PARAM_NAMES
from bptt_core.records import UpdateRecord
from bptt_viz.equations import update_equation
from bptt_viz.notation import Notation
from bptt_viz.player import sums
from bptt_viz.player.steps import Step

OPTIMIZER_NAMES = {"sgd": "SGD", "momentum": "momentum", "adagrad": "Adagrad", "adam": "Adam"}


@dataclass(frozen=True, eq=False)
class UpdateInput:
    """The update that ends the pass, with what the page needs to tell it."""

    record: UpdateRecord
    optimizer: str  # sgd | momentum | adagrad | adam
    learning_rate: float
    clip: str  # none | value | norm
    clip_threshold: float
    loss: float  # Σ_t L(t) of this pass (before the update)
    loss_after: float  # Σ_t L(t) of the new weights on the same chunk
    updates_before: int  # the pass takes the network from this update to the next
    truncation: int | None  # k of the gradient (None: full BPTT)


def _entry(u: UpdateInput) -> tuple[int, int]:
    """(i, j) of the W_hh entry with the largest |gradient| (shown with its numbers)."""
    g = np.abs(np.nan_to_num(u.record.grads.W_hh))
    i, j = np.unravel_index(int(np.argmax(g)), g.shape)
    return int(i), int(j)


def _clip_line(u: UpdateInput) -> str:
    info, c = u.record.clip, u.clip_threshold
    norm = rf"\lVert g\rVert = {info.norm_before:.4g}"
    if u.clip == "none":
        return rf"{norm}\quad\text{{(no clipping)}}"
    if u.clip == "norm":
        if info.clipped:
            return rf"{norm} > c = {c:g}\ \Rightarrow\ g \leftarrow g\cdot\frac{{c}}{{\lVert g\rVert}} = g \cdot {c / info.norm_before:.4g}"
        return rf"{norm} \le c = {c:g}\quad\text{{(clipping by norm leaves it)}}"
    changed = int(
        sum(np.sum(getattr(u.record.grads, n) != getattr(u.record.used, n)) for n in PARAM_NAMES)
    )
    return rf"{norm};\ \text{{each entry clamped to }}[-{c:g}, {c:g}]\text{{: {changed} changed}}"


def _rule_lines(n: Notation, u: UpdateInput, i: int, j: int) -> list[str]:
    """The optimizer's rule, with the numbers of W_hh[i, j] (1-based in the text)."""
    r, W, eta = u.record, n.tex("W_hh"), n.tex("eta")
    at = f"_{{{i + 1}{j + 1}}}"
    g, step = r.used.W_hh[i, j], r.step.W_hh[i, j]
    before, after = r.before.W_hh[i, j], r.after.W_hh[i, j]
    lines = {
        "sgd": [
            rf"{W}{at} \leftarrow {W}{at} - {eta}\, g{at} = {before:.4f} - {u.learning_rate:g}\cdot({g:.4f})"
        ],
        "momentum": [
            rf"v \leftarrow \mu v + g,\quad {W} \leftarrow {W} - {eta}\, v \qquad (\mu = 0.9)",
            rf"v{at} = {_state(r, 'v', i, j)},\quad g{at} = {g:.4f}",
        ],
        "adagrad": [
            rf"m \leftarrow m + g^{{2}},\quad {W} \leftarrow {W} - {eta}\,\frac{{g}}{{\sqrt{{m + 10^{{-8}}}}}}",
            rf"m{at} = {_state(r, 'mem', i, j)},\quad g{at} = {g:.4f}",
        ],
        "adam": [
            r"m \leftarrow \beta_1 m + (1-\beta_1)\, g,\quad v \leftarrow \beta_2 v + (1-\beta_2)\, g^{2}"
            r"\qquad (\beta_1 = 0.9,\ \beta_2 = 0.999)",
            rf"{W} \leftarrow {W} - {eta}\,\frac{{m / (1-\beta_1^{{t}})}}{{\sqrt{{v/(1-\beta_2^{{t}})}} + 10^{{-8}}}}"
            rf"\qquad (t = {r.count})",
            rf"m{at} = {_state(r, 'm', i, j)},\quad v{at} = {_state(r, 'v', i, j)},\quad g{at} = {g:.4f}",
        ],
    }[u.optimizer]
    return [*lines, rf"{W}{at}:\ {before:.4f} \to {after:.4f}\quad(\text{{step }} {step:+.4f})"]


def _state(r: UpdateRecord, key: str, i: int, j: int) -> str:
    memory = r.state.get(key)
    return "—" if memory is None else f"{memory.W_hh[i, j]:.4g}"


def update_equations(n: Notation, u: UpdateInput) -> list[str]:
    """The lines of the update step (LaTeX)."""
    i, j = _entry(u)
    g = "g_k" if u.truncation is not None else "g"
    gradient = (
        rf"{g} = \sum_{{t}} \left(\frac{{\partial {n.tex('L')}}}{{\partial \theta}}\right)"
        rf"_{{\text{{copy }}t}}\quad\text{{(the running sums at the last backward step)}}"
    )
    lines = [gradient, _clip_line(u), *_rule_lines(n, u, i, j)]
    lines.append(rf"\text{{As the note writes it: }}{update_equation(n)}")
    change = u.loss_after - u.loss
    lines.append(
        rf"{n.tex('L')} = {u.loss:.4f}\ \text{{(this pass)}}\ \to\ {u.loss_after:.4f}"
        rf"\ \text{{with the new weights}}\quad({change:+.4f})"
    )
    return lines


def update_status(n: Notation, u: UpdateInput) -> str:
    """The status line of the update step (HTML)."""
    info = u.record.clip
    clipped = (
        " It was longer than the clipping threshold, so it was scaled down."
        if info.clipped and u.clip == "norm"
        else ""
    )
    what = "the truncated gradient g<sub>k</sub>" if u.truncation is not None else "the gradient"
    better = "lower" if u.loss_after < u.loss else "higher"
    return (
        f"<b>Update {u.updates_before} → {u.updates_before + 1}.</b> The running sums are "
        f"{what}, ‖g‖ = {info.norm_before:.4g}.{clipped} "
        f"{html.escape(OPTIMIZER_NAMES[u.optimizer])} (η = {u.learning_rate:g}) moves every weight "
        f"against it. The loss of this pass was {u.loss:.4f}; the new weights give "
        f"{u.loss_after:.4f} on the same text ({better}). <b>Next</b> starts the next pass with "
        "the new weights."
    )


def update_panel_svg(
    n: Notation, shapes: dict, units: Sequence[str], chars: Sequence[str], ranges: Sequence[float]
) -> str:
    """Three matrices per parameter: before | the update | after (values: see update_values)."""
    return sums.matrices_svg(n, shapes, units, chars, ("before", "the update", "after"), ranges)


def update_values(u: UpdateInput, steps: Sequence[Step]) -> tuple[list[np.ndarray], list[list]]:
    """Per step the panel's values and colour ranges (the same at every step: the panel is
    shown at the update step only)."""
    r = u.record
    parts = []
    for name in PARAM_NAMES:
        for arr in (r.before, r.step, r.after):
            parts.append(np.atleast_2d(getattr(arr, name)).ravel())
    shown = np.concatenate(parts)  # the panel is hidden at every other step: one row for all
    ranges = []
    for name in PARAM_NAMES:
        weights = max(_size(getattr(r.before, name)), _size(getattr(r.after, name)))
        ranges += [weights, _size(getattr(r.step, name)), weights]
    return [shown] * len(steps), [ranges] * len(steps)


def _size(a: np.ndarray) -> float:
    finite = np.abs(a[np.isfinite(a)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0
