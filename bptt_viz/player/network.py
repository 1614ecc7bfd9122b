"""The unfolded network x(t) → h(t) → y(t) as one SVG, and its state at every step as codes.

Drawn once per pass: every node, edge and truncation band is an element marked ``data-i``; a
step is a string of one-letter codes, one per element (``NODE_CODES``, ``EDGE_CODES``,
``BAND_CODES``), which the page's CSS turns into fills, outlines and visibility. Hover text for
each state of a node is written into the node (``data-tip-<code>``); a click on a copy jumps to
its forward step or, during the backward pass, its backward step (``data-jf``, ``data-jb``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_core.model import ForwardTrace
from bptt_viz.figures.style import fmt_vector, svg_rich
from bptt_viz.notation import Notation
from bptt_viz.player.steps import Step

# node codes: u not computed yet, k computed, v its error computed (backward pass),
# F the copy this forward step computes, B the copy this backward step visits
NODE_CODES = "ukvFB"
EDGE_CODES = "tdfb"  # still to come, done, this forward step's, this backward step's
BAND_CODES = "hs"  # hidden, shown (the copies one loss may reach under truncation)

SPACING, RADIUS, LEFT, RIGHT = 46.0, 14.0, 70.0, 30.0
ROWS = {"x": 214.0, "h": 132.0, "y": 50.0}  # SVG y of the three rows (y down)
HEIGHT = 266


@dataclass(frozen=True)
class NetworkPanel:
    svg: str  # the drawing, every element marked
    codes: list[str]  # per step: one code per data-i element


def _x(s: int) -> float:
    """SVG x of copy s (s = 0 is h(0))."""
    return LEFT + s * SPACING


def _edges(T: int) -> list[tuple[int, str, str]]:
    """(copy s, from row, to row) for x→h, h(s−1)→h, h→y of every copy, in element order."""
    return [(s, a, b) for s in range(1, T + 1) for a, b in (("x", "h"), ("hp", "h"), ("h", "y"))]


def _edge_svg(i: int, s: int, a: str, b: str) -> str:
    x0 = _x(s - 1) if a == "hp" else _x(s)
    y0 = ROWS["h"] if a == "hp" else ROWS[a]
    x1, y1 = _x(s), ROWS[b]
    if a == "hp":  # horizontal: from the right edge of h(s−1) to the left edge of h(s)
        x0, x1 = x0 + RADIUS, x1 - RADIUS
    else:  # vertical, upwards: from the top of the lower node to the bottom of the upper one
        y0, y1 = y0 - RADIUS, y1 + RADIUS
    return (
        f'<line class="edge" data-i="{i}" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}"/>'
    )


def _node_svg(i: int, s: int, row: str, tips: dict[str, str], jumps: tuple[int, int]) -> str:
    attrs = "".join(f' data-tip-{code}="{html.escape(tip)}"' for code, tip in tips.items())
    jf, jb = jumps
    jump = f' data-jf="{jf}" data-jb="{jb}"' if s > 0 else ""
    return (
        f'<circle class="node {row}" data-i="{i}" cx="{_x(s):.1f}" cy="{ROWS[row]:.1f}" '
        f'r="{RADIUS}"{attrs}{jump}/>'
    )


def _tips(
    n: Notation, fwd: ForwardTrace, bwd: BackwardTrace, s: int, target: str
) -> dict[str, dict[str, str]]:
    """Hover texts of copy s's h and y nodes for every code (plain text with our symbols)."""
    i = s - 1
    h = f"{n.plain('h', s)} = {fmt_vector(fwd.h[i])}"
    dh = f"{n.plain('delta_h', s)} = {fmt_vector(bwd.delta_h[i])}"
    y = (
        f"{n.plain('y', s)} = {fmt_vector(fwd.y[i])}; target “{target}”; "
        f"{n.plain('L_t', s)} = {fwd.losses[i]:.4f}"
    )
    do = f"{n.plain('delta_o', s)} = {fmt_vector(bwd.delta_o[i])}"
    # codes F and B show the tips of k and v (the page falls back to them): sent once
    h_tips = {"u": f"{n.plain('h', s)}: not computed yet", "k": h, "v": f"{h}\n{dh}"}
    y_tips = {"u": f"{n.plain('y', s)}: not computed yet", "k": y, "v": f"{y}\n{do}"}
    return {"h": h_tips, "y": y_tips}


def _nodes(
    n: Notation,
    fwd: ForwardTrace,
    bwd: BackwardTrace,
    inputs: Sequence[str],
    targets: Sequence[str],
) -> list[str]:
    """Elements 0..3T: h(0), then x(s), h(s), y(s) for every copy s (in that order)."""
    T = fwd.T
    out = [
        _node_svg(0, 0, "h", {"k": f"{n.plain('h', 0)} = {fmt_vector(fwd.h0)}"}, (0, 0)),
    ]
    norms = np.linalg.norm(bwd.delta_h, axis=1)
    top = float(norms.max()) if np.isfinite(norms).all() and norms.max() > 0 else 1.0
    for s in range(1, T + 1):
        jumps = (s - 1, 2 * T - s)
        tips = _tips(n, fwd, bwd, s, targets[s - 1])
        x_tip = {"n": f"{n.plain('x', s)} = one-hot “{inputs[s - 1]}”"}
        out.append(_node_svg(len(out), s, "x", x_tip, jumps))
        alpha = 0.25 + 0.75 * float(np.nan_to_num(norms[s - 1] / top))
        node = _node_svg(len(out), s, "h", tips["h"], jumps)
        out.append(node.replace("/>", f' style="--a:{alpha:.3f}"/>'))
        out.append(_node_svg(len(out), s, "y", tips["y"], jumps))
    return out


def _labels(n: Notation, inputs: Sequence[str], targets: Sequence[str]) -> list[str]:
    T = len(inputs)
    out = []
    for row, y in ROWS.items():
        out.append(
            f'<text class="label row" x="{LEFT - 30:.1f}" y="{y + 5:.1f}" text-anchor="end">'
            f"{svg_rich(n.html(row))}</text>"
        )
    for s in range(1, T + 1):
        out.append(
            f'<text class="label char" x="{_x(s):.1f}" y="{ROWS["x"] + 34:.1f}" '
            f'text-anchor="middle">“{html.escape(inputs[s - 1])}”</text>'
        )
        out.append(
            f'<text class="label char" x="{_x(s):.1f}" y="{ROWS["y"] - 24:.1f}" '
            f'text-anchor="middle">“{html.escape(targets[s - 1])}”</text>'
        )
        out.append(
            f'<text class="label tick" x="{_x(s):.1f}" y="{HEIGHT - 6}" '
            f'text-anchor="middle">t = {s}</text>'
        )
    return out


def _bands(T: int, first: int, k: int | None) -> list[str]:
    """One truncation band per copy t: the copies t−k+1..t that the loss of t reaches (marked
    ``data-i`` first..first+T−1; none without truncation)."""
    if not cut(k, T):
        return []
    out = []
    for t in range(1, T + 1):
        k_lo = max(1, t - k + 1)  # type: ignore[operator]
        x0, x1 = _x(k_lo) - SPACING / 2 + 4, _x(t) + SPACING / 2 - 4
        out.append(
            f'<rect class="band" data-i="{first + t - 1}" x="{x0:.1f}" y="{ROWS["y"] - 38:.1f}" '
            f'width="{x1 - x0:.1f}" height="{ROWS["x"] - ROWS["y"] + 70:.1f}" rx="8"/>'
        )
    return out


def unfolded_svg(
    n: Notation,
    fwd: ForwardTrace,
    bwd: BackwardTrace,
    inputs: Sequence[str],
    targets: Sequence[str],
) -> str:
    """The drawing: bands first (behind), then edges, nodes, labels. Elements are numbered
    nodes 0..3T, edges 3T+1..6T, bands 6T+1..7T under truncation (see ``step_codes``)."""
    T = fwd.T
    nodes = _nodes(n, fwd, bwd, inputs, targets)
    edges = [_edge_svg(len(nodes) + j, s, a, b) for j, (s, a, b) in enumerate(_edges(T))]
    bands = _bands(T, len(nodes) + len(edges), bwd.truncation)
    width = _x(T) + RIGHT + RADIUS
    return (
        f'<svg class="network" style="--w:{width:.0f}px" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{HEIGHT}" viewBox="0 0 {width:.0f} {HEIGHT}">'
        + "".join(bands + edges + nodes + _labels(n, inputs, targets))
        + "</svg>"
    )


def step_codes(step: Step, T: int, truncation: int | None) -> str:
    """The code string of one step: nodes (h0, then x, h, y per copy), edges, bands."""
    t, phase = step.t, step.phase
    nodes, edges, bands = ["k"], [], []
    for s in range(1, T + 1):
        known = phase != "forward" or s <= t
        visited = phase == "update" or (phase == "backward" and s >= t)
        here = s == t and phase != "update"
        state = "v" if visited else "k" if known else "u"
        if here:
            state = "F" if phase == "forward" else "B"
        nodes += ["F" if here and phase == "forward" else "n", state, state]
        hot_f = phase == "forward" and s == t
        done = "d" if known else "t"
        edges += ["f" if hot_f else done, "f" if hot_f else done, "f" if hot_f else done]
        if phase == "backward" and s == t:
            edges[-1] = "b"  # the error enters h(t) from y(t)
        if phase == "backward" and s == t + 1 and (truncation is None or truncation > 1):
            edges[-2] = "b"  # and comes back over the recurrent edge from t+1
        if cut(truncation, T):
            bands.append("s" if phase == "backward" and s == t else "h")
    return "".join(nodes + edges + bands)


def cut(truncation: int | None, T: int) -> bool:
    """Whether truncation k cuts this pass (k < T), i.e. the band is drawn."""
    return truncation is not None and truncation < T


def unfolded_panel(
    n: Notation,
    fwd: ForwardTrace,
    bwd: BackwardTrace,
    inputs: Sequence[str],
    targets: Sequence[str],
    steps: Sequence[Step],
) -> NetworkPanel:
    """The drawing and the codes of every step of the pass."""
    svg = unfolded_svg(n, fwd, bwd, inputs, targets)
    return NetworkPanel(svg, [step_codes(s, fwd.T, bwd.truncation) for s in steps])
