"""Time × unit heatmaps of the output error and the hidden delta, filling in as the pass goes back.

Every cell is drawn once (``data-v`` = t·N + u into the heatmap's one value vector, coloured with
the diverging palette over one fixed range, so a colour keeps its meaning); a step only says, per
time column (``data-i``), whether it is hidden (``h``: not computed yet), shown (``s``) or the
column this step computes (``c``), see ``steps.copy_codes``. A click on a column jumps to the
backward step of its time.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from bptt_viz.player.svg import labels_attr, matrix_cells, num, template

CELL, LEFT, TOP, BOTTOM = 22.0, 92.0, 8.0, 34.0
MAX_ROW_LABELS = 40


def heatmap_svg(
    shape: tuple[int, int],
    time_ticks: Sequence[str],
    row_labels: Sequence[str],
    value_name: str,
    jump_back: Sequence[int],
) -> str:
    """A (T, N) heatmap: time across, rows down. ``jump_back[t]`` is the step index a click on
    column t jumps to. The hover text reads “t = 3 (l→l), unit 2: δ = +0.01234”."""
    T, N = shape
    cell_h = CELL if N <= 16 else max(8.0, 16 * CELL / N)
    width, height = LEFT + T * CELL + 8, TOP + N * cell_h + BOTTOM
    tpl = template(f"t = {{i}} ({{r}}), {{c}}: {value_name} = {{v}}")
    out = [
        f'<svg class="heatmap" style="--w:{num(width)}px" xmlns="http://www.w3.org/2000/svg" width="{num(width)}" '
        f'height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}" data-r="0" '
        f'data-tpl="{tpl}" data-first="0" data-cols="{N}" data-rl="{labels_attr(time_ticks)}" '
        f'data-cl="{labels_attr(row_labels)}">'
    ]
    for t in range(T):
        x = LEFT + t * CELL
        out.append(f'<g class="col" data-i="{t}" data-jb="{jump_back[t]}">')
        out.append(matrix_cells(x + 0.5, TOP + 0.5, (N, 1), (CELL, cell_h), t * N, {}))
        out.append(
            f'<rect class="outline" x="{num(x)}" y="{num(TOP)}" width="{num(CELL)}" '
            f'height="{num(N * cell_h)}"/></g>'
        )
    out += _axis_labels(T, N, cell_h, row_labels)
    out.append("</svg>")
    return "".join(out)


def _axis_labels(T: int, N: int, cell_h: float, row_labels: Sequence[str]) -> list[str]:
    """Row labels (thinned to stay readable) and t = 1, 2, … under the columns."""
    out = []
    row_every = max(1, int(np.ceil(12 / cell_h)))
    for u in range(0, N, row_every):
        out.append(
            f'<text class="label" x="{num(LEFT - 6)}" y="{num(TOP + (u + 0.5) * cell_h + 4)}" '
            f'text-anchor="end">{html.escape(row_labels[u])}</text>'
        )
    for t in range(T):
        out.append(
            f'<text class="label" x="{num(LEFT + (t + 0.5) * CELL)}" '
            f'y="{num(TOP + N * cell_h + 16)}" text-anchor="middle">{t + 1}</text>'
        )
    out.append(
        f'<text class="label" x="{num(LEFT - 6)}" y="{num(TOP + N * cell_h + 16)}" '
        'text-anchor="end">t =</text>'
    )
    return out


def heatmap_values(values: np.ndarray) -> tuple[np.ndarray, float]:
    """The value vector (time-major) and the fixed colour range of a (T, N) heatmap."""
    finite = np.abs(values[np.isfinite(values)])
    zmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return np.asarray(values, dtype=float).ravel(), zmax
