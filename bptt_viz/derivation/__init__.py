"""Each source note's derivation of BPTT, line by line, evaluable on the engine's traces.

One module per note, each a ``Derivation`` (data: lines in the note's order, with the correct
form, the note's form where it slips, and evaluators); ``evaluate_note`` turns one into a plain
view model on one network (``Context``). No Streamlit.

    levels      the layered derivation (seed 000)
    goodfellow  Goodfellow et al. §10.2.2 (seed 001)
    guo         Jiang Guo's report (seed 002)
    hello       the handwritten "hello" notes (seed 003)
    minchar     Karpathy's min-char-rnn, as code
"""

from __future__ import annotations

from bptt_viz.derivation import goodfellow, guo, hello, levels, minchar
from bptt_viz.derivation.network import Context, Net, resolve_case
from bptt_viz.derivation.types import Derivation
from bptt_viz.derivation.view import NoteView, evaluate_note

DERIVATIONS: dict[str, Derivation] = {
    d.notation: d
    for d in (
        goodfellow.DERIVATION,
        guo.DERIVATION,
        hello.DERIVATION,
        minchar.DERIVATION,
        levels.DERIVATION,
    )
}


def derivation_for(notation: str) -> Derivation:
    """The derivation of the note behind a notation key; unknown keys are a ValueError."""
    try:
        return DERIVATIONS[notation]
    except KeyError:
        raise ValueError(
            f"No derivation for notation {notation!r}; choose one of {', '.join(DERIVATIONS)}."
        ) from None


__all__ = [
    "DERIVATIONS",
    "Context",
    "Derivation",
    "Net",
    "NoteView",
    "derivation_for",
    "evaluate_note",
    "resolve_case",
]
