"""Small SVG helpers shared by the player's drawings: numbers, matrices of value cells, hover
templates.

A matrix of cells is a group that carries what its hover text needs once: a template with
``{i}``, ``{j}`` (1-based row and column), ``{r}``, ``{c}`` (their labels) and ``{v}`` (the value
the step gives the cell), the first value index, the number of columns and the labels; each cell
is only its position and its value index ``data-v``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

LABEL_SEP = "|"


def num(x: float) -> str:
    """A coordinate with at most one decimal ("12", "12.5")."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def labels_attr(labels: Sequence[str]) -> str:
    """Labels joined for a data attribute (the separator replaced inside a label)."""
    return html.escape(LABEL_SEP.join(s.replace(LABEL_SEP, "¦") for s in labels))


def matrix_cells(
    x0: float,
    y0: float,
    shape: tuple[int, int],
    size: tuple[float, float],
    first: int,
    group_attrs: dict[str, str],
) -> str:
    """A group of R × C cells; cell (i, j) is a (w−1) × (h−1) rectangle at (x0 + j·w, y0 + i·h)
    showing value ``first + i·C + j``. The group carries the grid (``data-grid="x0,y0,w,h,R,C"``)
    and the page lays the cells out from it: positions are decided here, sent once per matrix
    instead of once per cell.

    ``group_attrs``: extra attributes of the group (``data-tpl``, ``data-r``, ``data-rl``,
    ``data-cl``, ``class``), values already escaped."""
    R, C = shape
    w, h = size
    attrs = "".join(f' {k}="{v}"' for k, v in group_attrs.items())
    grid = ",".join(num(v) for v in (x0, y0, w, h, R, C))
    return f'<g{attrs} data-first="{first}" data-cols="{C}" data-grid="{grid}"></g>'


def template(text: str) -> str:
    """A hover template as an attribute value (escaped)."""
    return html.escape(text)
