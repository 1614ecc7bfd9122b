"""The building blocks of a note's derivation: lines, slips, the cases they are evaluated on.

A derivation is data: a tuple of ``Line`` in the note's own order. Each line carries the correct
form (LaTeX, or a line of code), an evaluator that computes its right-hand side from the engine's
traces next to the engine's own value, and, when the note is wrong there, the note's form with one
``Slip`` per mistake: a one-sentence reason and, where a number can show it, an evaluator of the
note's form. No Streamlit here; the evaluators read ``bptt_viz.derivation.network.Net``.

Shapes follow the engine (``bptt_core``): T timesteps, I inputs, H hidden units, O outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only for type hints: the evaluators receive these
    from bptt_viz.derivation.network import Context, Net


@dataclass(frozen=True)
class Case:
    """Which networks a line is about. Each field lists the allowed values (empty: any).

    A line about, say, softmax outputs with the squared error is evaluated on the sidebar's
    weights with those choices swapped in when the sidebar's network differs; the weights have
    the same shapes whatever the activation, output or loss.
    """

    activation: tuple[str, ...] = ()  # f: tanh | sigmoid | relu | linear
    output: tuple[str, ...] = ()  # g: softmax | sigmoid | linear
    loss: tuple[str, ...] = ()  # cross_entropy | sse
    why: str = ""  # what the line is about, for the sentence shown when a choice is swapped


@dataclass(frozen=True)
class Check:
    """One quantity of a line: its value from the line's formula beside the engine's."""

    label: str  # LaTeX of the quantity, in the note's symbols
    value: np.ndarray | None  # the line's right-hand side evaluated on the traces (None: cannot)
    reference: np.ndarray  # the engine's value of the same quantity
    source: str  # where the reference comes from, in words ("the engine's backward pass")
    problem: str = ""  # why ``value`` could not be formed (shapes that do not fit), if None

    def residual(self) -> float:
        """max |value − reference| over all entries; inf when the value cannot be formed."""
        if self.value is None or np.shape(self.value) != np.shape(self.reference):
            return float("inf")
        diff = np.abs(np.asarray(self.value, float) - np.asarray(self.reference, float))
        return float(diff.max(initial=0.0))


@dataclass(frozen=True)
class Term:
    """One term of a sum shown term by term (e.g. the double sum's (i, k) term)."""

    label: str  # LaTeX index of the term, e.g. "i=3,\\ k=1"
    value: np.ndarray  # the term from the note's formula
    reference: np.ndarray  # the same term from the engine's traces
    factor: float | None = None  # ‖product of Jacobians‖₂ inside the term, when it has one


@dataclass(frozen=True)
class Evaluation:
    """Both sides of a line on one network."""

    checks: tuple[Check, ...]  # every quantity the line states
    terms: tuple[Term, ...] = ()  # optional term-by-term breakdown
    terms_caption: str = ""  # what the terms are and what their sum is
    text: str = ""  # a sentence about these numbers (e.g. "a(0) = 0, so copy 1 adds nothing")
    unavailable: str = ""  # non-empty: the line cannot be evaluated on this network, and why


@dataclass(frozen=True)
class Evidence:
    """The note's form evaluated beside the true value: the numbers that show a slip."""

    what: str  # plain words for the quantity ("∂L/∂b_a")
    note: np.ndarray | None  # the note's form on the traces (None: it cannot even be formed)
    true: np.ndarray  # the correct value (from the engine)
    problem: str = ""  # why ``note`` cannot be formed, when it is None
    true_label: str = "the true value"  # how to name ``true`` in the sentence
    caveat: str = ""  # a sentence the numbers need (e.g. why they agree on this network)

    def distance(self) -> float:
        """‖note − true‖ / ‖true‖ (Frobenius); inf when the note's form cannot be formed."""
        if self.note is None or np.shape(self.note) != np.shape(self.true):
            return float("inf")
        if not np.isfinite(self.note).all() and np.isfinite(self.true).all():
            return float("inf")  # the note's form overflows where the true value does not
        scale = float(np.linalg.norm(self.true))
        gap = float(np.linalg.norm(np.asarray(self.note) - np.asarray(self.true)))
        if scale == 0.0:
            return 0.0 if gap == 0.0 else float("inf")
        return gap / scale


Evaluator = Callable[["Net", "Context"], Evaluation]
SlipEvaluator = Callable[["Net", "Context"], Evidence]


@dataclass(frozen=True)
class Slip:
    """One mistake of the note in one line."""

    label: str  # a few words for the table at the top ("softmax derivative")
    reason: str  # one sentence: what is wrong and what is right
    short: str = ""  # LaTeX: the note's piece → the right piece (for the table)
    evaluate: SlipEvaluator | None = None  # the note's form in numbers; None: a notational slip
    listed_in: str = "seeds/README.md"  # where the slip was reported (or "found on this page")


@dataclass(frozen=True)
class Line:
    """One line of a note's derivation, in the note's order."""

    ref: str  # where it is in the note ("eq. (4)", "update of V")
    title: str  # what the line says, in the project's own words
    tex: str  # the correct form (LaTeX), or a line of code when ``code`` is True
    evaluate: Evaluator
    note_tex: str = ""  # the note's form as it wrote it (retyped), when it has slips
    slips: tuple[Slip, ...] = ()
    case: Case | None = None  # overrides the note's case for this line
    remark: str = ""  # what else a reader should know (not a mistake of the note)
    code: bool = False  # ``tex`` is a line of Python (min-char-rnn)
    support: bool = False  # not in the note: a step it takes for granted, added here

    @property
    def flagged(self) -> bool:
        return bool(self.slips)


@dataclass(frozen=True)
class Derivation:
    """One note's derivation of BPTT, from the forward equations to the weight updates."""

    notation: str  # key of bptt_viz.notation.NOTATIONS
    title: str  # the note, as the page names it
    summary: str  # two or three sentences: what the note derives and how (own words)
    case: Case  # the networks the note is written for
    lines: tuple[Line, ...]
    no_slips: str = ""  # what the table says when the note has no slip
    extra: tuple[str, ...] = field(default=())  # further remarks shown under the table
