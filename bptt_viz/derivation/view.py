"""A note's derivation evaluated on one network, as plain data for the page (no Streamlit).

``evaluate_note(derivation, ctx)`` runs every line's evaluator and every slip's evaluator and
turns the arrays into short strings and numbers: the view model the page renders and the cache
keeps (no callables, no large arrays). A line is *right* when every quantity it states equals
the engine's to ``TOLERANCE`` (relative to the size of the engine's value, at least 1); a slip's
flag is *earned* when the note's form, evaluated the same way, does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bptt_core.model import RNNConfig
from bptt_viz.derivation.network import Context, resolve_case
from bptt_viz.derivation.types import Case, Check, Derivation, Evidence, Line, Slip, Term

TOLERANCE = 1e-10  # a line is right when |value − engine| ≤ TOLERANCE · max(1, max |engine|)
EARNED = 1e-6  # a slip's numbers show it when ‖note − true‖ > EARNED · ‖true‖
MAX_TERMS = 40  # rows of a term-by-term table

CHOICE_WORDS = {
    "tanh": "tanh hidden units",
    "sigmoid": "sigmoid hidden units",
    "relu": "ReLU hidden units",
    "linear": "linear hidden units",
}
OUTPUT_WORDS = {
    "softmax": "softmax outputs",
    "sigmoid": "sigmoid outputs",
    "linear": "linear outputs",
}
LOSS_WORDS = {"cross_entropy": "cross-entropy", "sse": "the squared error"}


@dataclass(frozen=True)
class CheckRow:
    label: str  # LaTeX of the quantity
    value: str  # the line's formula on the traces, summarised
    reference: str  # the engine's value, summarised
    source: str  # where the engine's value comes from
    residual: float  # max |value − reference| (inf: the value cannot be formed)
    ok: bool


@dataclass(frozen=True)
class TermRow:
    label: str  # LaTeX index of the term
    value_norm: float  # ‖term‖ from the note's formula
    reference_norm: float  # ‖term‖ from the engine
    residual: float
    factor: float | None = None  # ‖product of Jacobians‖₂ of the term, when it has one


@dataclass(frozen=True)
class FlagView:
    label: str
    reason: str
    short: str  # LaTeX: the note's piece → the right one
    listed_in: str
    numeric: bool  # the note's form was evaluated
    earned: bool | None  # numeric: the numbers differ; None for a notational slip
    evidence: str  # the sentence with the numbers (markdown)
    distance: float | None  # ‖note − true‖/‖true‖ (inf: cannot be formed)
    true_norm: float | None = None  # ‖true‖: 0 means nothing can differ from it here


@dataclass(frozen=True)
class LineView:
    index: int  # 1-based position in the note's derivation
    ref: str
    title: str
    tex: str
    code: bool
    note_tex: str
    remark: str
    support: bool
    case_note: str  # non-empty when the line is evaluated with other choices than the note's
    flags: tuple[FlagView, ...]
    checks: tuple[CheckRow, ...]
    terms: tuple[TermRow, ...]
    terms_caption: str
    terms_hidden: int  # terms not listed (their sum is still in the checks)
    text: str
    unavailable: str
    residual: float  # the largest residual of the line's checks
    ok: bool  # every check within TOLERANCE (False when unavailable)


@dataclass(frozen=True)
class CorrectionRow:
    refs: str  # every equation of the note with this slip, in order
    label: str
    short: str
    reason: str
    listed_in: str


@dataclass(frozen=True)
class NoteView:
    notation: str
    title: str
    summary: str
    case_note: str  # when the note's network differs from the sidebar's
    network: str  # the network the lines are evaluated on, in words
    corrections: tuple[CorrectionRow, ...]
    no_slips: str
    extra: tuple[str, ...]
    lines: tuple[LineView, ...]
    T: int

    @property
    def all_right(self) -> bool:
        return all(line.ok or line.unavailable for line in self.lines)


# ----------------------------------------------------------------------------- numbers as text


def fmt(x: float) -> str:
    """A number for a sentence or a table: 4 significant digits, − for minus."""
    if not np.isfinite(x):
        return "not a number" if np.isnan(x) else ("∞" if x > 0 else "−∞")
    return "0" if x == 0 else f"{x:.4g}".replace("-", "−")


def percent(x: float) -> str:
    """A relative difference as '72.9 %' (smaller ones with their exponent)."""
    if not np.isfinite(x):
        return fmt(x)
    return f"{100 * x:.1f} %" if 100 * x >= 0.1 else f"{fmt(100 * x)} %"


def summary(a: np.ndarray | None, problem: str = "") -> str:
    """An array in a few characters: the number, a short vector, or its norm and first entry."""
    if a is None:
        return f"cannot be formed: {problem}" if problem else "cannot be formed"
    arr = np.asarray(a, dtype=float)
    if arr.size == 1:
        return fmt(float(arr.ravel()[0]))
    flat = arr.ravel()
    if arr.ndim == 1 and arr.size <= 3:
        return "[" + ", ".join(fmt(v) for v in flat) + "]"
    if arr.size == 0:
        return "(nothing here)"
    return f"‖·‖ = {fmt(float(np.linalg.norm(flat)))}; first {fmt(float(flat[0]))}"


def within(c: Check) -> bool:
    scale = max(1.0, float(np.abs(c.reference).max(initial=0.0)))
    res = c.residual()
    return bool(np.isfinite(res) and res <= TOLERANCE * scale)


def check_row(c: Check) -> CheckRow:
    return CheckRow(
        c.label,
        summary(c.value, c.problem),
        summary(c.reference),
        c.source,
        c.residual(),
        within(c),
    )


def term_row(t: Term) -> TermRow:
    diff = float(np.abs(t.value - t.reference).max(initial=0.0))
    return TermRow(
        t.label, float(np.linalg.norm(t.value)), float(np.linalg.norm(t.reference)), diff, t.factor
    )


def largest_gap(note: np.ndarray, true: np.ndarray) -> str:
    """'entry [i, j]: a against b' for the entry where the two arrays differ most."""
    gap = np.abs(note - true)
    if note.size <= 1 or not np.isfinite(gap).any():
        return ""
    idx = np.unravel_index(int(np.nanargmax(gap)), gap.shape)
    where = ", ".join(str(i) for i in idx)
    return (
        f"; largest gap at entry [{where}] (counted from 0): {fmt(float(note[idx]))} against "
        f"{fmt(float(true[idx]))}"
    )


def evidence_text(ev: Evidence) -> str:
    """The sentence with the numbers that show a slip (or say why none can)."""
    true_norm = fmt(float(np.linalg.norm(ev.true)))
    if ev.note is None:
        text = f"Here the note's form of {ev.what} cannot even be computed: {ev.problem}."
    elif np.shape(ev.note) != np.shape(ev.true):
        text = f"Here the note's form of {ev.what} has the wrong shape {np.shape(ev.note)}."
    else:
        d = ev.distance()
        note_norm = fmt(float(np.linalg.norm(ev.note)))
        if d <= EARNED:
            text = (
                f"Here the note's form and {ev.true_label} agree on {ev.what} "
                f"(‖·‖ = {note_norm}): no difference on this network."
            )
        else:
            text = (
                f"Here the note's form of {ev.what} has ‖·‖ = {note_norm}; {ev.true_label}: ‖·‖ = "
                f"{true_norm}, off by {percent(d)} of it"
                + largest_gap(np.asarray(ev.note), np.asarray(ev.true))
                + "."
            )
    return text + (" " + ev.caveat if ev.caveat else "")


def flag_view(slip: Slip, ev: Evidence | None) -> FlagView:
    if ev is None:
        return FlagView(
            slip.label,
            slip.reason,
            slip.short,
            slip.listed_in,
            False,
            None,
            "A slip of notation: no number can show it, the corrected line is evaluated instead.",
            None,
        )
    d = ev.distance()
    return FlagView(
        slip.label,
        slip.reason,
        slip.short,
        slip.listed_in,
        True,
        bool(d > EARNED),
        evidence_text(ev),
        d,
        float(np.linalg.norm(ev.true)),
    )


# ----------------------------------------------------------------------------- cases in words


def describe(config: RNNConfig) -> str:
    """'tanh hidden units, softmax outputs and cross-entropy'."""
    return (
        f"{CHOICE_WORDS[config.activation]}, {OUTPUT_WORDS[config.output]} and "
        f"{LOSS_WORDS[config.loss]}"
    )


def case_note(sidebar: RNNConfig, used: RNNConfig, case: Case, whose: str) -> str:
    """A sentence when ``used`` differs from the sidebar's network (else empty)."""
    if used == sidebar:
        return ""
    return (
        f"{whose} is about {case.why}, so it is evaluated with {describe(used)}: your weights and "
        f"text, with your network's {describe(sidebar)} swapped where they differ."
    )


# ----------------------------------------------------------------------------- evaluation


def line_view(index: int, line: Line, derivation: Derivation, ctx: Context) -> LineView:
    """Evaluate one line and its slips on the network its case asks for."""
    case = line.case or derivation.case
    net = ctx.net(case)
    note_config = resolve_case(ctx.config, derivation.case)
    case_text = ""
    if line.case is not None and net.config != note_config:
        case_text = case_note(ctx.config, net.config, line.case, "This line")
    with np.errstate(all="ignore"):
        ev = line.evaluate(net, ctx)
        flags = tuple(
            flag_view(s, s.evaluate(net, ctx) if s.evaluate else None) for s in line.slips
        )
    checks = tuple(check_row(c) for c in ev.checks)
    residual = max((c.residual for c in checks), default=0.0)
    return LineView(
        index=index,
        ref=line.ref,
        title=line.title,
        tex=line.tex,
        code=line.code,
        note_tex=line.note_tex,
        remark=line.remark,
        support=line.support,
        case_note=case_text,
        flags=flags,
        checks=checks,
        terms=tuple(term_row(t) for t in ev.terms[:MAX_TERMS]),
        terms_caption=ev.terms_caption,
        terms_hidden=max(0, len(ev.terms) - MAX_TERMS),
        text=ev.text,
        unavailable=ev.unavailable,
        residual=residual,
        ok=bool(checks) and all(c.ok for c in checks) and not ev.unavailable,
    )


def corrections(derivation: Derivation) -> tuple[CorrectionRow, ...]:
    """One row per kind of slip, in the order the note first makes it, with every equation
    where it appears: the short table at the top of the page."""
    rows: dict[str, tuple[list[str], Slip]] = {}
    for line in derivation.lines:
        for slip in line.slips:
            refs, _ = rows.setdefault(slip.label, ([], slip))
            if line.ref not in refs:
                refs.append(line.ref)
    return tuple(
        CorrectionRow("; ".join(refs), slip.label, slip.short, slip.reason, slip.listed_in)
        for refs, slip in rows.values()
    )


def evaluate_note(derivation: Derivation, ctx: Context) -> NoteView:
    """Every line of ``derivation`` evaluated on the network of ``ctx``."""
    used = resolve_case(ctx.config, derivation.case)
    return NoteView(
        notation=derivation.notation,
        title=derivation.title,
        summary=derivation.summary,
        case_note=case_note(ctx.config, used, derivation.case, "This note"),
        network=describe(used),
        corrections=corrections(derivation),
        no_slips=derivation.no_slips,
        extra=derivation.extra,
        lines=tuple(
            line_view(i + 1, line, derivation, ctx) for i, line in enumerate(derivation.lines)
        ),
        T=ctx.T,
    )
