"""Short readable labels for the things the engine computes: characters, parameters, truncations.

No Streamlit, no maths: strings for axes, tables, captions and hover text.
"""

from __future__ import annotations

import unicodedata

PARAM_LABELS: dict[str, str] = {  # engine name → readable name
    "W_xh": "input → hidden weights",
    "W_hh": "hidden → hidden weights",
    "W_hy": "hidden → output weights",
    "b_h": "hidden bias",
    "b_y": "output bias",
}

_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


def display_char(c: str) -> str:
    """A visible label for one character: space as ␣, newline as ↵, invisible ones as U+XXXX."""
    if not isinstance(c, str) or len(c) != 1:
        raise ValueError(f"display_char takes exactly one character, got {c!r}.")
    if c in _VISIBLE:
        return _VISIBLE[c]
    category = unicodedata.category(c)
    if category[0] in ("C", "Z") or category in ("Mn", "Me"):
        return f"U+{ord(c):04X}"
    return c


def truncation_label(k: int | None) -> str:
    """ "full" for None, else the number: the tick label of a truncation."""
    return "full" if k is None else str(int(k))
