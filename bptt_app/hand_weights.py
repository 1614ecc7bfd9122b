"""Weights set by hand: a network small enough to do on the board (H = 2, two characters).

No Streamlit here. The 16 weights live as one tuple in the engine's flat order (``Params.flat``:
W_xh, W_hh, W_hy row by row, then b_h, b_y), the form ``TrainingConfig.initial_weights`` takes.
The editor shows them as two tables whose rows are the sums a teacher writes on the board:

    hidden table, row i:  a_i(t) = W_xh[i,a]·x_a + W_xh[i,b]·x_b + W_hh[i,1]·h_1(t−1) + W_hh[i,2]·h_2(t−1) + b_h[i]
    output table, row j:  o_j(t) = W_hy[j,1]·h_1(t) + W_hy[j,2]·h_2(t) + b_y[j]

Every cell a student types is checked here (a number, finite, |w| ≤ MAX_ABS): a bad cell is a
sentence naming the cell, and the last valid weights stay. In a link the weights are one
parameter, ``w=0.5_-0.5_…`` (16 numbers joined by "_").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bptt_viz.notation import Notation

H = 2  # hidden units of a network checked by hand
V = 2  # characters (inputs = outputs)
SIZE = H * V + H * H + V * H + H + V  # 16 numbers
MAX_ABS = 10.0  # |w| ≤ 10: larger weights saturate every unit and say nothing on the board
URL_KEY = "w"
SEPARATOR = "_"

# The "check it by hand" preset's weights: one decimal each, every unit different, no zero sum.
DEFAULT_WEIGHTS: tuple[float, ...] = (
    *(0.5, -0.5, 0.2, 0.4),  # W_xh: rows unit 1, unit 2; columns the first, second character
    *(0.3, -0.2, 0.1, 0.5),  # W_hh: rows unit 1, unit 2; columns h_1(t−1), h_2(t−1)
    *(1.0, -0.5, -1.0, 0.5),  # W_hy: rows output 1, output 2; columns h_1(t), h_2(t)
    *(0.0, 0.1),  # b_h
    *(0.0, 0.0),  # b_y
)

# flat index of every cell: hidden table rows [x_1, x_2, h_1, h_2, b_h], output [h_1, h_2, b_y]
HIDDEN_CELLS: tuple[tuple[int, ...], ...] = tuple(
    (2 * i, 2 * i + 1, 4 + 2 * i, 5 + 2 * i, 12 + i) for i in range(H)
)
OUTPUT_CELLS: tuple[tuple[int, ...], ...] = tuple((8 + 2 * j, 9 + 2 * j, 14 + j) for j in range(V))


def fits(hidden_size: int, text: str) -> bool:
    """Whether weights set by hand fit this network: H = 2 and two distinct characters."""
    return hidden_size == H and len(set(text)) == V


def shown(value: float) -> str:
    """A weight as a cell shows it and a link writes it: the shortest text that reads back as
    the same float ("0.5", "-1", "0.125"), never "-0"."""
    if value == 0:
        return "0"
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def parse_cell(raw: object) -> tuple[float | None, str]:
    """A typed cell as a weight, or (None, why not) in a clause: “is empty”, …"""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, "is empty"
    text = str(raw).strip().replace("−", "-").replace(",", ".")
    quoted = text if len(text) <= 20 else text[:19] + "…"
    try:
        value = float(text)
    except ValueError:
        return None, f"“{quoted}” is not a number"
    if not math.isfinite(value):
        return None, f"“{quoted}” is not a finite number"
    if abs(value) > MAX_ABS:
        return None, f"{quoted} is outside −{MAX_ABS:g} to {MAX_ABS:g}"
    return value + 0.0, ""  # + 0.0 turns −0 into 0


def encode(weights: tuple[float, ...]) -> str:
    """The link parameter: ``0.5_-0.5_0.2_…``."""
    return SEPARATOR.join(shown(w) for w in weights)


def decode(raw: str) -> tuple[tuple[float, ...] | None, str]:
    """The weights of a link parameter, or (None, what is wrong with it) in a sentence."""
    parts = str(raw).replace(",", SEPARATOR).split(SEPARATOR)
    if len(parts) != SIZE:
        return (
            None,
            f"The link's weights w have {len(parts)} numbers; a network checked by hand has {SIZE}.",
        )
    values = []
    for i, part in enumerate(parts):
        value, why = parse_cell(part)
        if value is None:
            return None, f"Weight number {i + 1} in the link {why}."
        values.append(value)
    return tuple(values), ""


def rounded(weights: tuple[float, ...], decimals: int) -> tuple[float, ...]:
    """Every weight rounded to ``decimals`` places, halves away from zero (0.25 → 0.3, as on
    the board; Python's round would give 0.2)."""
    step = Decimal(1).scaleb(-decimals)
    return tuple(
        float(Decimal(shown(w)).quantize(step, rounding=ROUND_HALF_UP)) + 0.0 for w in weights
    )


@dataclass(frozen=True)
class WeightTable:
    """One editable table: row labels, column labels, and the flat index of every cell."""

    name: str  # "hidden" | "output"
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]  # cells[r][c] = flat index

    def values(self, weights: tuple[float, ...]) -> list[list[str]]:
        return [[shown(weights[i]) for i in row] for row in self.cells]


def _char(c: str) -> str:
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(c, c)


def weight_tables(n: Notation, vocab: tuple[str, ...]) -> tuple[WeightTable, WeightTable]:
    """The hidden and output tables, labelled in notation ``n`` for the characters ``vocab``."""
    a, b = (_char(c) for c in vocab)
    Wxh, Whh, Why = n.plain("W_xh"), n.plain("W_hh"), n.plain("W_hy")
    hidden = WeightTable(
        "hidden",
        ("h1", "h2"),
        (f"{Wxh}·{a}", f"{Wxh}·{b}", f"{Whh}·h1", f"{Whh}·h2", n.plain("b_h")),
        HIDDEN_CELLS,
    )
    output = WeightTable(
        "output",
        (a, b),
        (f"{Why}·h1", f"{Why}·h2", n.plain("b_y")),
        OUTPUT_CELLS,
    )
    return hidden, output


def apply_edits(
    weights: tuple[float, ...],
    table: WeightTable,
    edited_rows: Mapping[object, Mapping[str, object]],
) -> tuple[tuple[float, ...], list[str]]:
    """The weights with a table's edits (``st.data_editor``'s ``edited_rows``: row position →
    {column label: typed value}). Returns (new weights, problems); with any problem the
    weights are returned unchanged: the last valid weights stay."""
    new, problems = list(weights), []
    for row, changes in edited_rows.items():
        try:
            r = int(row)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            continue
        if not 0 <= r < len(table.rows):
            continue
        for column, raw in changes.items():
            if column not in table.columns:
                continue
            value, why = parse_cell(raw)
            cell = f"{table.rows[r]}, column {column}"
            if value is None:
                problems.append(f"{cell}: {why}")
            else:
                new[table.cells[r][table.columns.index(column)]] = value
    if problems:
        return weights, problems
    return tuple(new), []
