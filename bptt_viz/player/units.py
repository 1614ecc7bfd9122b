"""One unfolded copy unit by unit: every weight an edge, every unit a node.

Left: the input x(t) (one node per character) above the previous hidden state h(t−1); middle:
h(t); right: the prediction y(t). Drawn once per pass; a step is a value vector: the node values
of the copy it computes, then one value per edge — the weights on a forward step, this copy's
contribution to each weight's gradient on a backward step (what that step just computed). Node
colour: the diverging palette; edge colour: sign (orange positive, blue negative), width: size.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_core.model import ForwardTrace, Params
from bptt_viz.figures.style import svg_rich
from bptt_viz.notation import Notation
from bptt_viz.player.steps import Step
from bptt_viz.player.svg import labels_attr, num, template

MAX_HIDDEN, MAX_CHARS = 8, 30
ROW, TOP, COLS = 26.0, 48.0, (80.0, 230.0, 380.0)
WIDTH = 450
# data-r of the elements: 0 inputs, 1 hidden states, 2 outputs, 3 edges
RANGE_X, RANGE_H, RANGE_Y, RANGE_EDGE = 0, 1, 2, 3


@dataclass(frozen=True)
class UnitsPanel:
    svg: str
    values: list[np.ndarray]  # per step: nodes (I + 2H + O), then edges (HI + HH + OH)
    ranges: list[list[float]]  # per step: the four colour ranges
    captions: list[str]  # per step: what the edges show


def shown(H: int, V: int) -> bool:
    """Whether the unit view is drawn (small networks only)."""
    return H <= MAX_HIDDEN and V <= MAX_CHARS


def _positions(I: int, H: int, O: int) -> dict[str, np.ndarray]:  # noqa: E741
    y_in = TOP + ROW * np.arange(I)
    y_prev = TOP + ROW * (I + 1.4) + ROW * np.arange(H)
    mid = (TOP + y_prev[-1]) / 2
    return {
        "x": y_in,
        "hp": y_prev,
        "h": mid + ROW * (np.arange(H) - (H - 1) / 2),
        "y": mid + ROW * (np.arange(O) - (O - 1) / 2),
    }


def _edge_group(
    kind: str, label: str, first: int, lines: list[tuple[float, float, float, float]], tpl: str
) -> str:
    """One weight matrix's edges: a group with its hover template, each edge a value."""
    edges = "".join(
        f'<line x1="{num(a)}" y1="{num(b)}" x2="{num(c)}" y2="{num(d)}" data-v="{first + e}"/>'
        for e, (a, b, c, d) in enumerate(lines)
    )
    return (
        f'<g class="wedge {kind}" data-r="{RANGE_EDGE}" data-first="{first}" '
        f'data-tpl="{template(tpl.format(label=label))}">{edges}</g>'
    )


EDGE_TEMPLATES = {  # {label} filled here; {v} by the page
    "x": "{label}: input x(t) → hidden unit = {{v}}",
    "hp": "{label}: unit at t−1 → unit at t = {{v}}",
    "h": "{label}: hidden unit → output = {{v}}",
}


def units_svg(n: Notation, chars: Sequence[str], H: int) -> str:
    """The drawing for a vocabulary ``chars`` and H hidden units (labels in notation ``n``)."""
    I = O = len(chars)  # noqa: E741
    pos = _positions(I, H, O)
    col = {"x": COLS[0], "hp": COLS[0], "h": COLS[1], "y": COLS[2]}
    offsets = {"x": 0, "hp": I, "h": I + H, "y": I + 2 * H}
    out, first = [], I + 2 * H + O
    matrices = (("x", "W_xh", I, H), ("hp", "W_hh", H, H), ("h", "W_hy", H, O))
    for a, name, n_from, n_to in matrices:
        b = "y" if a == "h" else "h"
        lines = [
            (col[a] + 11, pos[a][i], col[b] - 11, pos[b][j])
            for j in range(n_to)
            for i in range(n_from)
        ]
        out.append(_edge_group(a, n.plain(name), first, lines, EDGE_TEMPLATES[a]))
        first += len(lines)
    ranges = {"x": RANGE_X, "hp": RANGE_H, "h": RANGE_H, "y": RANGE_Y}
    for g, count in (("x", I), ("hp", H), ("h", H), ("y", O)):
        nodes = "".join(
            f'<circle cx="{num(col[g])}" cy="{num(pos[g][i])}" r="10" data-v="{offsets[g] + i}"/>'
            for i in range(count)
        )
        tpl = template(_group_name(n, g) + (" “{c}” = {v}" if g in "xy" else " unit {j} = {v}"))
        cl = labels_attr(chars) if g in "xy" else labels_attr([str(j + 1) for j in range(H)])
        out.append(
            f'<g class="unit" data-r="{ranges[g]}" data-first="{offsets[g]}" '
            f'data-cols="{count}" data-tpl="{tpl}" data-cl="{cl}">{nodes}</g>'
        )
    out += _unit_labels(n, chars, pos, col, H)
    height = float(max(pos["hp"][-1], pos["y"][-1]) + 34)
    return (
        f'<svg class="units" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{num(height)}" viewBox="0 0 {WIDTH} {num(height)}">' + "".join(out) + "</svg>"
    )


def _group_name(n: Notation, g: str) -> str:
    return {"x": n.plain("x"), "hp": n.plain("h", "t-1"), "h": n.plain("h"), "y": n.plain("y")}[g]


def _unit_labels(n, chars, pos, col, H) -> list[str]:
    out = []
    for g, title in (("x", "x"), ("hp", "h_prev"), ("h", "h"), ("y", "y")):
        key, t = ("h", "t-1") if g == "hp" else (title, "t")
        y_title = pos[g][0] - 20
        out.append(
            f'<text class="label title" x="{col[g]:.1f}" y="{y_title:.1f}" '
            f'text-anchor="middle">{svg_rich(n.html(key, t))}</text>'
        )
    for i, c in enumerate(chars):
        out.append(
            f'<text class="label" x="{col["x"] - 16:.1f}" y="{pos["x"][i] + 4:.1f}" '
            f'text-anchor="end">“{html.escape(c)}”</text>'
        )
        out.append(
            f'<text class="label" x="{col["y"] + 16:.1f}" y="{pos["y"][i] + 4:.1f}">'
            f"“{html.escape(c)}”</text>"
        )
    for j in range(H):
        for g in ("hp", "h"):
            anchor, dx = ("end", -16) if g == "hp" else ("start", 14)
            dy = 4
            out.append(
                f'<text class="label small" x="{col[g] + dx:.1f}" y="{pos[g][j] + dy:.1f}" '
                f'text-anchor="{anchor}">{j + 1}</text>'
            )
    return out


def _flat_edges(p: Params) -> np.ndarray:
    return np.concatenate([p.W_xh.ravel(), p.W_hh.ravel(), p.W_hy.ravel()])


def units_panel(
    n: Notation,
    params: Params,
    fwd: ForwardTrace,
    bwd: BackwardTrace,
    chars: Sequence[str],
    steps: Sequence[Step],
    moved: Params | None = None,
    per_copy: Params | None = None,
) -> UnitsPanel:
    """The drawing and, per step, the values of the copy that step computes; at the update step
    (with ``moved``, the update's step θ_after − θ_before) the edges show how each weight moved."""
    per_step, H = bwd.per_step, params.W_hh.shape[0]
    weights = _flat_edges(params)
    contrib = np.concatenate(
        [getattr(per_step, name).reshape(fwd.T, -1) for name in ("W_xh", "W_hh", "W_hy")], axis=1
    )
    node_ranges = [1.0, _range(fwd.h, fwd.h0), _range(fwd.y)]
    edge_ranges = {"weights": _range(weights), "contributions": _range(contrib)}
    values, ranges, captions = [], [], []
    for step in steps:
        t = step.t if step.t else 1
        nodes = np.concatenate([fwd.inputs[t - 1], fwd.h_prev[t - 1], fwd.h[t - 1], fwd.y[t - 1]])
        if step.phase == "backward":
            edges, kind = contrib[t - 1], "contributions"
            caption = f"Edges: what copy t = {t} adds to each weight's gradient"
        elif step.phase == "update" and moved is not None:
            edges = _flat_edges(moved)
            kind, caption = "moved", "Edges: how much each weight moved in this update"
            edge_ranges["moved"] = _range(edges)
        elif per_copy is not None:  # untied: copy t's own weights
            edges, kind = _flat_edges(per_copy.map(lambda a, i=t - 1: a[i])), "moved"
            edge_ranges["moved"] = _range(_flat_edges(per_copy))
            caption = f"Edges: copy t = {t}'s own weights (untied)"
        else:
            edges, kind = weights, "weights"
            caption = "Edges: the weights (the same in every copy)"
        values.append(np.concatenate([nodes, edges]))
        ranges.append([*node_ranges, edge_ranges[kind]])
        captions.append(caption)
    return UnitsPanel(units_svg(n, chars, H), values, ranges, captions)


def _range(*arrays: np.ndarray) -> float:
    finite = np.concatenate([np.abs(a[np.isfinite(a)]).ravel() for a in arrays])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0
