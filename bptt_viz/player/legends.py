"""Titles, captions and legends of the player's panels: what each panel shows and how to read it.

HTML with the notation's symbols; the swatches reuse the classes the drawings use, so a legend
looks exactly like what it explains.
"""

from __future__ import annotations

from bptt_viz.figures.style import DIVERGING
from bptt_viz.notation import Notation


def sym(n: Notation, key: str, t: int | str | None = None) -> str:
    return f'<span class="sym">{n.html(key, t)}</span>'


def _node(code: str, row: str = "h") -> str:
    return (
        f'<svg class="sw" viewBox="0 0 20 20"><circle class="node {row}" data-c="{code}" '
        'cx="10" cy="10" r="7"/></svg>'
    )


def _edge(code: str) -> str:
    return (
        f'<svg class="sw" viewBox="0 0 24 20"><line class="edge" data-c="{code}" '
        'x1="2" y1="10" x2="22" y2="10"/></svg>'
    )


def _band() -> str:
    return '<svg class="sw" viewBox="0 0 24 20"><rect class="band" x="2" y="3" width="20" height="14" rx="3"/></svg>'


def colour_bar(low: str = "negative", high: str = "positive") -> str:
    """The diverging palette as a small bar: blue (negative), white (zero), orange (positive)."""
    stops = ", ".join(f"{colour} {100 * pos:.0f}%" for pos, colour in DIVERGING)
    return (
        f'<span class="cbar-wrap">{low} <span class="cbar" '
        f'style="background: linear-gradient(90deg, {stops})"></span> {high}</span>'
    )


def network_caption(n: Notation, truncated: bool) -> str:
    items = [
        (_node("k"), "computed"),
        (_node("k", "y"), f"prediction {sym(n, 'y')}"),
        (_node("v"), "error computed (darker: larger)"),
        (_node("F"), "this step's copy"),
        (_edge("f"), "used by this forward step"),
        (_edge("b"), "error flowing on this backward step"),
    ]
    if truncated:
        items.append((_band(), "copies the loss of this copy reaches (truncation)"))
    legend = "".join(f'<span class="key">{swatch}{text}</span>' for swatch, text in items)
    return (
        f'<span class="legend">{legend}</span><br>Bottom: inputs {sym(n, "x")}; middle: hidden '
        f"states {sym(n, 'h')}, joined by the recurrent edges; top: predictions, with the "
        "character to predict above. Hover a node for its numbers; click a copy to jump to it."
    )


def units_caption(n: Notation) -> str:
    return (
        f"Nodes: the units of this copy, coloured by value {colour_bar()}. Edges: one per weight, "
        "orange positive, blue negative, thicker = larger. Left: the input "
        f"{sym(n, 'x')} (one unit per character) above the previous hidden state "
        f"{sym(n, 'h', 't-1')}; middle: {sym(n, 'h')}; right: {sym(n, 'y')}."
    )


def delta_title(n: Notation, key: str) -> str:
    what = "Output error" if key == "delta_o" else "Hidden delta"
    den = "o" if key == "delta_o" else "a"
    return f"{what} {sym(n, key)} = ∂{sym(n, 'L')}/∂{sym(n, den)}"


def delta_caption(n: Notation, key: str, softmax_ce: bool) -> str:
    scale = f" {colour_bar()}; one fixed scale for the whole pass."
    if key == "delta_o":
        if softmax_ce:
            return (
                f"With softmax and cross-entropy it is {sym(n, 'y')} − {sym(n, 'd')}: blue "
                "(negative) at the character that should have been predicted, orange wherever "
                "probability was wasted. Every output gets error, not only the target." + scale
            )
        return "The error of every output unit at every time." + scale
    return (
        "The error of the hidden units: their own output error plus what the recurrent edge "
        "carries back. The columns fill in from right to left during the backward pass; click "
        "one to jump to its step." + scale
    )


def sums_caption(n: Notation, truncation: int | None) -> str:
    total = (
        f"the engine's gradient ∂{sym(n, 'L')}/∂θ"
        if truncation is None
        else f"the truncated gradient g<sub>k</sub> (k = {truncation}), not the full ∂"
        f"{sym(n, 'L')}/∂θ"
    )
    return (
        "Left: the sum of the contributions of the copies visited so far; after the last "
        f"backward step it equals {total}. Right: what this copy adds (for "
        f"{sym(n, 'W_hh')}: {sym(n, 'delta_h')} {sym(n, 'h', 't-1')}<sup>⊤</sup>). Every copy "
        "uses the same weights, so each weight's gradient is the sum over the copies (tied "
        f"weights). {colour_bar()}; each matrix on its own fixed scale (its largest |value| in "
        "the pass, shown as ±), so colours compare across steps."
    )


def ledger_caption() -> str:
    return (
        "Frobenius norm of each copy's contribution to each gradient. Blank rows: copies not "
        "visited yet. The norm of a sum is at most the sum of the norms: contributions can "
        "cancel."
    )


def update_caption(n: Notation, optimizer: str) -> str:
    rule = {
        "sgd": "plain gradient descent: the step is −η times the gradient",
        "momentum": "momentum: the step follows a running sum of past gradients",
        "adagrad": "Adagrad: each weight's step is scaled by the gradients it has seen",
        "adam": "Adam: each weight's step comes from running averages of its gradient and its "
        "square, so it is not simply −η times the gradient",
    }[optimizer]
    return (
        f"Left: the weights this pass used; middle: what the update added ({rule}); right: the "
        f"weights the next pass uses. {colour_bar()}; each matrix on its own scale (±)."
    )


def copies_caption() -> str:
    return (
        "One column per unfolded copy. Tied weights would keep every column the same; untied, "
        f"each copy follows only its own gradient and the columns drift apart. {colour_bar()}; "
        "one scale for the weights, one for the updates."
    )
