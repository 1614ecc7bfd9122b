"""The derivation: the chosen note's own derivation of BPTT, line by line, on the sidebar's network.

The page lays out the sections ``bptt_app.derivation_sections`` renders: the note, the slips it
corrects, every line with both sides evaluated, and the gradient check.
"""

from __future__ import annotations

import streamlit as st

from bptt_app.derivation import cached_note_view
from bptt_app.derivation_sections import (
    evaluated_text,
    render_corrections,
    render_gradient_check,
    render_intro,
    render_lines,
    render_note,
)
from bptt_app.navigation import require_shell
from bptt_app.settings import settings_problems, text_problems
from bptt_app.state import current_settings, show_problems

require_shell()

s = current_settings()
render_intro()
if show_problems(text_problems(s.text) + settings_problems(s)):
    st.stop()
text = evaluated_text(s)
architecture = s.training().architecture()
view = cached_note_view(text, architecture, s.k, s.notation, s.learning_rate)
render_note(view, s)
render_corrections(view, s)
render_lines(view, s.notation)
render_gradient_check(text, architecture, s)
