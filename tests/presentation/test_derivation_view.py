"""The derivation page's view models: every known slip is on the page in its note, the numbers on
the default "hello" network, the gradient check, the cases lines are evaluated on, the tables."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bptt_app.derivation import network_context, note_view, run_gradient_check
from bptt_app.settings import Settings
from bptt_core.backward import backward
from bptt_core.model import RNNConfig
from bptt_viz.derivation import DERIVATIONS, resolve_case, tables
from bptt_viz.derivation.types import Case
from bptt_viz.notation import NOTATIONS

ARCH = Settings().training().architecture()

# Every slip of ../shared/seeds/README.md, of README.md's "Where the source notes are wrong" and
# of issue 12's list, checked against the notes' text: (note, where in the note, label start).
KNOWN_SLIPS = [
    ("levels", "update of $V$", "$V$ updated from $W$"),  # V(T) = W(T−1) + ΔV
    ("levels", "expansion", "index $i$ for $m$"),  # W_{m₁,i}, V_{m₂,i}
    ("guo", "eq. (22)–(23)", "$V$ for $W$"),  # e_oᵀ V
    ("guo", "eq. (25)", "recurrent weights called $W$"),
    ("guo", "eq. (12)", "$u_{ji}$ for $u_{jh}$"),
    ("guo", "eq. (14)–(15)", "$y(1-y)$ for softmax"),
    ("guo", "eq. (16)–(17), softmax", "binary cross-entropy"),
    ("guo", "eq. (19)", "$f'(s)$"),
    ("guo", "eq. (21)", "outer product transposed"),
    ("guo", "eq. (24)", "outer product transposed"),
    ("guo", "eq. (25)", "outer product transposed"),
    ("guo", "eq. (27)", "outer product transposed"),
    ("guo", "eq. (28)", "outer product transposed"),
    ("guo", "eq. (27)", "$z = 0..T$"),
    ("guo", "eq. (28)", "$z = 0..T$"),
    ("goodfellow", r"$\nabla_b L$", r"$\partial h^{(t)}/\partial b$"),
    ("goodfellow", "$L$", r"$\hat y_t$"),
    ("ng", "eq. (4)", "x(t), not a(t)"),
    ("ng", "$W_{ya}$, substituted", "softmax differentiated entry by entry"),
    ("ng", "$b_y$, per copy", "softmax differentiated entry by entry"),
    ("ng", "double sum, output factors", "softmax differentiated entry by entry"),
    ("ng", "double sum, hidden factors", "exponent N"),
    ("ng", "$b_a$, substituted", "exponent N"),
    ("ng", "$W_{aa}$, t = 3", "repeated bracket"),
    ("ng", "$b_a$, substituted", "direct path only"),
    ("ng", "$W_{ax}$, substituted", "direct path only"),
    ("ng", "$b_a$, substituted", "tanh applied twice"),
    ("ng", "$W_{ax}$, the sum", "spurious minus"),
    ("ng", "$W_{ya}$, the chain", "stray factor"),
    ("ng", "$b_y$, update", "n written for η"),
    ("ng", "double sum, substituted", "only the target's output sends error back"),
]


def hello_view(notation: str, **settings: object):
    s = Settings(notation=notation, **settings)  # type: ignore[arg-type]
    return note_view(s.text, s.training().architecture(), s.k, notation, s.learning_rate)


@pytest.mark.parametrize(("note", "ref", "label"), KNOWN_SLIPS)
def test_every_known_slip_is_flagged_in_its_note(note: str, ref: str, label: str) -> None:
    lines = [line for line in DERIVATIONS[note].lines if line.ref == ref]
    assert lines, f"note {note!r} has no line {ref!r}"
    labels = [s.label for line in lines for s in line.slips]
    assert any(x.startswith(label) for x in labels), f"{note} {ref}: {label!r} not in {labels}"


def test_the_notes_whose_double_sum_is_right_show_it_right() -> None:
    """The "hello" notes' closing double sum is correct: shown unflagged, equal to the engine."""
    view = hello_view("ng")
    line = next(x for x in view.lines if x.ref == "$W_{aa}$, the double sum")
    assert not line.flags and line.ok
    assert len(line.terms) == 10, "T = 4 gives 4 + 3 + 2 + 1 terms (i, k)"


@pytest.mark.parametrize("note", sorted(DERIVATIONS))
def test_every_flagged_line_shows_the_note_form_and_every_line_matches(note: str) -> None:
    for line in DERIVATIONS[note].lines:
        if line.slips:
            assert line.note_tex and line.note_tex != line.tex, f"{note} {line.ref}: no note form"
            for slip in line.slips:
                assert slip.reason.count(". ") == 0 or slip.reason.endswith("."), slip.reason
    view = hello_view(note)
    bad = [(x.index, x.ref, x.residual) for x in view.lines if not (x.ok or x.unavailable)]
    assert not bad, f"{note}: lines that do not match the engine on the default network: {bad}"
    assert view.all_right


def test_direct_path_numbers_on_the_default_hello_network() -> None:
    """Issue 12: ∂L/∂b_a with the direct path only is the k = 1 gradient, 72 % off."""
    view = hello_view("ng")
    line = next(x for x in view.lines if x.ref == "$b_a$, substituted")
    flag = next(f for f in line.flags if f.label == "direct path only")
    ctx = network_context("hello", ARCH, None, 0.05)
    net = ctx.net()
    g, g1 = net.bwd.grads.b_h, backward(ctx.params, ctx.config, net.fwd, truncation=1).grads.b_h
    off = np.linalg.norm(g1 - g) / np.linalg.norm(g)
    assert flag.distance == pytest.approx(off, rel=1e-12)
    assert 0.72 < off < 0.73
    assert "1.285" in flag.evidence and "3.928" in flag.evidence and "72.9 %" in flag.evidence


def test_lines_about_another_case_say_so_and_use_the_same_weights() -> None:
    view = hello_view("guo")
    sse = next(x for x in view.lines if x.ref == "eq. (5)")
    assert "squared error" in sse.case_note and "your weights" in sse.case_note
    assert not next(x for x in view.lines if x.ref == "eq. (20)").case_note
    # a sigmoid network under the "hello" notes: every line uses tanh, and the page says so
    sig = hello_view("ng", activation="sigmoid")
    assert "tanh hidden units" in sig.case_note and sig.all_right


def test_resolve_case_keeps_allowed_choices_and_fixes_forbidden_pairs() -> None:
    config = RNNConfig(3, 2, 3, "relu", "linear", "sse")
    ce = resolve_case(config, Case(loss=("cross_entropy",)))
    assert (ce.activation, ce.output, ce.loss) == ("relu", "softmax", "cross_entropy")
    same = resolve_case(config, Case(output=("linear", "sigmoid")))
    assert same == config


def test_gradient_check_full_and_truncated() -> None:
    full = run_gradient_check("hello", ARCH, None)
    assert full.passed and full.k is None and full.worst < 1e-7
    trunc = run_gradient_check("hello", ARCH, 2)
    assert trunc.k == 2
    rows = {r.name: r for r in trunc.rows}
    assert rows["W_xh"].truncated_error > 0.1, "g_2 must fail a check of the true gradient"
    assert rows["W_hy"].truncated_error < 1e-7, "the output weights are not truncated"
    assert all(r.surrogate_error < 1e-7 for r in trunc.rows), "g_k is exact for its objective"
    assert run_gradient_check("hello", ARCH, 9).k is None, "k ≥ T is full BPTT"


def test_tables_are_well_formed_markdown() -> None:
    n = NOTATIONS["guo"]
    view = hello_view("guo", truncation=2)
    texts = [tables.corrections_table(view)]
    texts += [tables.checks_table(x) for x in view.lines]
    texts += [tables.terms_table(x) for x in view.lines if x.terms]
    check = run_gradient_check("hello", ARCH, 2)
    texts += [tables.check_table(check, n), tables.truncation_table(check, n)]
    for text in texts:
        rows = [r for r in text.splitlines() if r.startswith("|")]
        widths = {len(re.findall(r"(?<!\\)\|", r)) for r in rows}
        assert len(widths) == 1, f"rows with different numbers of cells:\n{text}"
    assert "$g_{2}$" in tables.truncation_text(check)


RAW_TEX = re.compile(r"[_^]\{|\\[a-zA-Z]+|(?<![\w])_|_(?![\w])")


@pytest.mark.parametrize("note", sorted(DERIVATIONS))
def test_sentences_carry_no_raw_latex_outside_math(note: str) -> None:
    """Every sentence the page writes through Markdown keeps its LaTeX between $…$ (balanced):
    a stray ^{…} or _{…} would show as code-like text or turn into italics."""
    d = DERIVATIONS[note]
    texts = [("summary", d.summary), ("no_slips", d.no_slips), *(("extra", e) for e in d.extra)]
    for line in d.lines:
        texts += [(f"{line.ref}: title", line.title), (f"{line.ref}: remark", line.remark)]
        texts += [(f"{line.ref}: slip", s.reason) for s in line.slips]
        texts += [(f"{line.ref}: label", s.label) for s in line.slips]
    for line in hello_view(note, truncation=2).lines:
        texts += [(f"{line.ref}: text", line.text), (f"{line.ref}: case", line.case_note)]
        texts += [(f"{line.ref}: numbers", f.evidence) for f in line.flags]
    for where, text in texts:
        assert text.count("$") % 2 == 0, f"{note} {where}: unbalanced $ in {text!r}"
        outside = re.sub(r"\$[^$]*\$", "", text)
        assert not RAW_TEX.search(outside), f"{note} {where}: raw LaTeX outside $…$: {text!r}"
