"""The derivation page's tables and labels as Markdown strings (no Streamlit).

Inputs are the plain view models of ``bptt_viz.derivation.view`` and ``.gradient_check``; the
page passes the strings to ``st.markdown``. LaTeX goes between $…$ (KaTeX); no cell contains a
"|" of its own.
"""

from __future__ import annotations

from bptt_viz.derivation.gradient_check import PASS, GradientCheckView
from bptt_viz.derivation.view import LineView, NoteView, fmt
from bptt_viz.notation import Notation

ALIGNED = (r"\begin{aligned}", r"\end{aligned}")


def residual_text(x: float) -> str:
    """A residual as '2.2e−16', or 'cannot be formed'."""
    if x == float("inf"):
        return "cannot be formed"
    return f"{x:.1e}".replace("-", "−")


def corrections_table(view: NoteView) -> str:
    """The short table at the top: each kind of slip of the note, where, and what is corrected
    (the full reason and its numbers stand at the line itself)."""
    if not view.corrections:
        return ""
    rows = "".join(
        f"| {c.refs} | {c.label} *({c.listed_in})* | ${c.short}$ |\n" for c in view.corrections
    )
    return "| where in the note | what is wrong | the note → corrected |\n|---|---|---|\n" + rows


def _strike(tex: str) -> str:
    return rf"\text{{\sout{{$\displaystyle {tex}$}}}}"


def struck(tex: str) -> str:
    """The note's wrong form struck through, row by row and cell by cell when it is stacked, so
    that no line reads as a fraction bar. KaTeX strikes text only (\\sout in math mode warns in
    the console), so each piece is math inside a struck text box."""
    begin, end = ALIGNED
    if not (tex.startswith(begin) and tex.endswith(end)):
        return _strike(tex)
    rows = tex[len(begin) : -len(end)].split(r" \\[2pt] ")
    cells = [" & ".join(_strike(c) if c.strip() else c for c in r.split("&")) for r in rows]
    return begin + r" \\[2pt] ".join(cells) + end


def line_heading(line: LineView) -> str:
    """'**3. eq. (4)** · The recurrence …' with a status word."""
    if line.unavailable:
        status = ":gray-badge[not evaluated here]"
    elif line.flags:
        status = ":orange-badge[corrected]"
    elif line.ok:
        status = ":green-badge[✓ matches the engine]"
    else:
        status = ":red-badge[does not match]"
    support = " :blue-badge[not in the note]" if line.support else ""
    return f"**{line.index}. {line.ref}** {status}{support}  \n{line.title}"


def expander_label(line: LineView) -> str:
    """The label of a line's evaluation expander."""
    if line.unavailable:
        return f"Line {line.index}: why it is not evaluated here"
    mark = "✓" if line.ok else "✗"
    return f"Line {line.index}: both sides on your network ({mark} largest difference {residual_text(line.residual)})"


def checks_table(line: LineView) -> str:
    """Every quantity of the line: the line's formula on the traces beside the engine's value."""
    rows = "".join(
        f"| ${c.label}$ | {c.value} | {c.reference} | {residual_text(c.residual)} "
        f"{'✓' if c.ok else '✗'} |\n"
        for c in line.checks
    )
    return (
        "| quantity | this line, evaluated | the engine | largest difference |\n"
        "|---|---|---|---|\n" + rows
    )


def sources(line: LineView) -> str:
    """Where the engine's values of a line come from, once each."""
    unique = list(dict.fromkeys(c.source for c in line.checks))
    return "The engine's values: " + "; ".join(unique) + "."


def terms_table(line: LineView) -> str:
    """The term-by-term table (e.g. the double sum), or empty."""
    if not line.terms:
        return ""
    jac = all(t.factor is not None for t in line.terms)
    head = "| term | ‖term‖, the note's formula | ‖term‖, the engine | largest difference |"
    head += (
        " ‖∏ ∂a(m)/∂a(m−1)‖₂ |\n|---|---:|---:|---:|---:|\n" if jac else "\n|---|---:|---:|---:|\n"
    )
    rows = "".join(
        f"| ${t.label}$ | {fmt(t.value_norm)} | {fmt(t.reference_norm)} | "
        f"{residual_text(t.residual)} |" + (f" {fmt(t.factor)} |" if jac else "") + "\n"
        for t in line.terms
    )
    more = (
        f"\n\n…and {line.terms_hidden} more terms, included in the sum above."
        if line.terms_hidden
        else ""
    )
    return head + rows + more


def gradient_summary(view: GradientCheckView) -> str:
    """One sentence: did BPTT pass the check?"""
    verdict = "passes" if view.passed else "does not pass"
    return (
        f"BPTT {verdict} the check: the worst relative error over all {view.entries} parameter "
        f"entries is {view.worst:.1e} (central differences with ε = {view.eps:g}; float64 gives "
        f"about 1e−9, and anything below {PASS:g} is agreement)."
    ).replace("e-", "e−")


def truncation_text(view: GradientCheckView) -> str:
    """Why a gradient check cannot validate a truncated gradient, with this network's numbers."""
    k = view.k
    g = f"$g_{{{k}}}$"
    off = max((r.truncated_error or 0.0) for r in view.rows)
    own = max((r.surrogate_error or 0.0) for r in view.rows)
    return (
        f"**Truncation k = {k} is on.** A gradient check differences the loss L itself, so it "
        f"measures the true gradient ∂L/∂θ. The truncated gradient {g} leaves out every path "
        f"longer than {k} copies on purpose: it is biased by design, so it fails that check "
        f"(here by up to {100 * off:.1f} % on one parameter) while being computed exactly right. "
        f"What {g} is the exact gradient of is a different objective: each L(t) computed from "
        f"h(t−{k}) held fixed. Differencing that objective agrees with {g} to {own:.1e}. The "
        "output weights and bias are not truncated (each loss reaches them in its own copy), so "
        "their numbers agree with the check of L."
    ).replace("e-", "e−")


def percent_or_small(x: float | None) -> str:
    if x is None:
        return "–"
    if x < 1e-3:
        return f"{x:.1e}".replace("-", "−")
    return f"{100 * x:.1f} %"


def truncation_table(view: GradientCheckView, n: Notation) -> str:
    """g_k beside the true gradient, and each against the checks."""
    g = f"$g_{{{view.k}}}$"
    head = (
        f"| parameter | ‖{g}‖ | ‖true gradient‖ | {g} against the check of L | "
        f"full BPTT against the check of L | {g} against the check of its own objective |\n"
        "|---|---:|---:|---:|---:|---:|\n"
    )
    body = "".join(
        f"| ${n.tex(r.name)}$ | {fmt(r.truncated_norm or 0.0)} | {fmt(r.numeric_norm)} | "
        f"{percent_or_small(r.truncated_error)} | {percent_or_small(r.error)} | "
        f"{percent_or_small(r.surrogate_error)} |\n"
        for r in view.rows
    )
    return head + body


def check_table(view: GradientCheckView, n: Notation) -> str:
    """BPTT beside central differences, parameters named in the notation ``n``."""
    head = (
        "| parameter | ‖BPTT gradient‖ | ‖central differences‖ | worst relative error | "
        "largest entry: BPTT / differences |\n|---|---:|---:|---:|---|\n"
    )
    body = "".join(
        f"| ${n.tex(r.name)}$ | {fmt(r.bptt_norm)} | {fmt(r.numeric_norm)} | "
        f"{r.error:.1e} | {r.sample} |\n".replace("e-", "e−")
        for r in view.rows
    )
    return head + body
