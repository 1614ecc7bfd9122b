"""AppTest of "The derivation" page in every notation.

What the page shows is compared with an independent, uncached evaluation of the same settings
(``bptt_app.derivation.note_view`` and ``run_gradient_check``).
"""

from __future__ import annotations

import pytest

import bptt_app.derivation as glue
from bptt_app.derivation import DERIVATION_MAX_T, note_view, run_gradient_check
from bptt_app.settings import NOTATION_CHOICES, Settings
from bptt_viz.derivation import tables
from tests.conftest import assert_no_exception

PAGE = "pages/derivation.py"
ARCH = Settings().training().architecture()
LABEL_OF = {key: label for label, key in NOTATION_CHOICES.items()}


def main_text(at) -> str:
    main = at.main
    parts = [m.value for m in main.markdown] + [c.value for c in main.caption]
    parts += [e.value for e in main.info] + [e.value for e in main.error]
    parts += [e.value for e in main.latex] + [e.value for e in main.code]
    return "\n".join(parts)


def expected(notation: str, k: int | None = None):
    return note_view("hello", ARCH, k, notation, Settings().learning_rate)


@pytest.mark.parametrize("notation", sorted(LABEL_OF))
def test_the_page_shows_the_note_of_every_notation(app_test, notation: str) -> None:
    at = app_test(PAGE, query={"notation": LABEL_OF[notation]})
    assert_no_exception(at)
    view = expected(notation)
    assert at.title[0].value == "The derivation"
    assert view.title in [h.value for h in at.main.subheader], f"{notation}: note title missing"
    labels = [e.label for e in at.main.expander]
    assert labels == [tables.expander_label(line) for line in view.lines], notation
    assert "| quantity |" not in main_text(at), "evaluations are drawn only when opened"
    at.toggle(key="derivation_all_open").set_value(True).run()
    assert_no_exception(at)
    assert [e.label for e in at.main.expander] == labels
    text = main_text(at)
    for line in view.lines:
        assert line.tex in text, f"{notation} line {line.index}: its equation is not shown"
        for flag in line.flags:
            assert flag.evidence in text, (
                f"{notation} line {line.index}: numbers of the slip missing"
            )
            assert tables.struck(line.note_tex) in text, f"{notation} line {line.index}: note form"
        assert tables.checks_table(line) in text, f"{notation} line {line.index}: evaluation"
    if view.corrections:
        assert tables.corrections_table(view) in text
    else:
        assert view.no_slips in text
    assert view.all_right


def test_the_gradient_check_is_shown_beside_bptt(app_test) -> None:
    at = app_test(PAGE)
    check = run_gradient_check("hello", ARCH, None)
    text = main_text(at)
    assert tables.gradient_summary(check) in text
    assert "passes the check" in text
    assert tables.check_table(check, Settings().notation_obj) in text


def test_truncation_shows_why_the_check_cannot_validate_g_k(app_test) -> None:
    at = app_test(PAGE, query={"k": "2", "notation": LABEL_OF["guo"]})
    assert_no_exception(at)
    check = run_gradient_check("hello", ARCH, 2)
    text = main_text(at)
    assert tables.truncation_text(check) in text
    assert "biased by design" in text
    n = Settings(notation="guo").notation_obj
    assert tables.truncation_table(check, n) in text
    # Guo's τ-step lines use τ = k − 1 = 1 against the engine's g_2
    view = expected("guo", 2)
    eq27 = next(x for x in view.lines if x.ref == "eq. (27)")
    assert "k = τ + 1 = 2" in eq27.checks[0].source
    at.session_state["derivation_open_guo_21"] = True  # open line 21, eq. (27), by itself
    at.run()
    assert tables.checks_table(eq27) in main_text(at)


def test_one_line_opens_by_itself(app_test) -> None:
    at = app_test(PAGE, query={"notation": LABEL_OF["ng"]})
    view = expected("ng")
    double_sum = next(x for x in view.lines if x.ref == "$W_{aa}$, the double sum")
    at.session_state[f"derivation_open_ng_{double_sum.index}"] = True
    at.run()
    assert_no_exception(at)
    text = main_text(at)
    assert tables.checks_table(double_sum) in text and tables.terms_table(double_sum) in text
    drawn = [m.value.strip() for m in at.main.markdown if m.value.startswith("| quantity |")]
    assert drawn == [tables.checks_table(double_sum).strip()], "only the opened line draws a table"


def test_switching_notation_switches_the_note(app_test) -> None:
    at = app_test(PAGE)
    for notation in ("ng", "minchar", "levels", "guo", "goodfellow"):
        at.sidebar.selectbox(key="notation").set_value(LABEL_OF[notation]).run()
        assert_no_exception(at)
        assert expected(notation).title in [h.value for h in at.main.subheader], notation


def test_min_char_rnn_shows_its_own_code_lines(app_test) -> None:
    at = app_test(PAGE, query={"notation": LABEL_OF["minchar"]})
    code = [c.value for c in at.main.code]
    assert "dhraw = (1 - hs[t] * hs[t]) * dh" in code
    assert any("np.sqrt(mem + 1e-8)" in c for c in code), "its own Adagrad update"
    assert "hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t-1]) + bh)" in code


def test_a_network_outside_the_note_is_evaluated_with_the_notes_choices(app_test) -> None:
    at = app_test(PAGE, query={"notation": LABEL_OF["ng"], "act": "sigmoid"})
    assert_no_exception(at)
    info = "\n".join(e.value for e in at.main.info)
    assert "tanh hidden units" in info and "sigmoid hidden units" in info


def test_bad_text_is_a_message_not_an_exception(app_test) -> None:
    at = app_test(PAGE, query={"text": "a"})
    assert_no_exception(at)
    assert at.main.error, "a one-character text must be refused with a message"
    assert not at.main.expander


def test_a_long_text_is_evaluated_on_a_prefix(app_test) -> None:
    text = "the quick brown fox jumps over the lazy dog"
    at = app_test(PAGE, query={"text": text, "notation": LABEL_OF["ng"]})
    assert_no_exception(at)
    info = "\n".join(e.value for e in at.main.info)
    assert f"T = {DERIVATION_MAX_T}" in info
    view = note_view(text[: DERIVATION_MAX_T + 1], ARCH, None, "ng", Settings().learning_rate)
    assert [e.label for e in at.main.expander] == [tables.expander_label(x) for x in view.lines]
    at.toggle(key="derivation_all_open").set_value(True).run()
    assert_no_exception(at)
    text_all = main_text(at)
    assert all(tables.checks_table(x) in text_all for x in view.lines if not x.unavailable)


def test_a_slow_gradient_check_waits_for_a_click(app_test, monkeypatch) -> None:
    monkeypatch.setattr(glue, "AUTO_CHECK_SECONDS", 0.0)
    at = app_test(PAGE)
    assert_no_exception(at)
    button = at.button(key="derivation_run_check")
    assert "Run the gradient check" in button.label
    assert "passes the check" not in main_text(at)
    button.click().run()
    assert_no_exception(at)
    assert "passes the check" in main_text(at)
