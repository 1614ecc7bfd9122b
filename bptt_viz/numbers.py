"""Numbers written for people: fixed decimals where they are short, powers of ten where not.

No Streamlit, no maths: ``readable(30943329971.3)`` is ``"3.09e10"``, not a cut-off
``"30943329971.3000"``. Every string parses back with ``float()``.
"""

from __future__ import annotations

import math

LARGE = 1e5  # from here on: mantissa and exponent
SMALL = 1e-3  # below this (and above 0): mantissa and exponent


def readable(x: float, decimals: int = 4, sign: bool = False) -> str:
    """``x`` with ``decimals`` decimals when 0.001 ≤ |x| < 100,000 (or x = 0), else with three
    significant digits and a power of ten: 3.09e10, 4.12e-5. NaN is "NaN", ±∞ is "inf"/"-inf".
    ``sign`` writes a leading "+" on positive numbers (for changes)."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    plus = "+" if sign and x > 0 else ""
    if math.isinf(x):
        return f"{plus}inf" if x > 0 else "-inf"
    magnitude = abs(x)
    if magnitude == 0 or SMALL <= magnitude < LARGE:
        text = f"{x:.{decimals}f}"
        return plus + text if not text.startswith("-") else text
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{plus}{mantissa}e{int(exponent)}"
