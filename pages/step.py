"""Step through BPTT: the forward pass t = 1..T, then the backward pass t = T..1, in the browser."""

from __future__ import annotations

import streamlit as st

from bptt_app.classroom import explanation
from bptt_app.navigation import require_shell
from bptt_app.settings import settings_problems, text_problems
from bptt_app.state import current_settings, show_problems
from bptt_app.step_player import stepper
from bptt_app.ui import inline_math
from bptt_app.weight_editor import render_editor

require_shell()

s = current_settings()
n = s.notation_obj

st.title("Step through BPTT")
with explanation("What this page shows"):
    st.markdown(
        "Backpropagation through time, a step at a time, on the network *Train live* trains: "
        f"the **forward pass** computes {inline_math(n.tex('h'))} and "
        f"{inline_math(n.tex('y'))} for t = 1, …, T; the **backward pass** walks back from T "
        "to 1 and adds each copy's share to every weight's gradient; the **update** moves "
        "every weight; then the next pass begins."
    )

if show_problems(text_problems(s.text) + settings_problems(s)):
    st.stop()

if s.hand_weights_apply:
    with st.expander("Weights set by hand", expanded=True, icon=":material/edit:"):
        render_editor(s)

TIED, UNTIED = "tied: one RNN", "untied: each copy its own"
choice = st.segmented_control(
    "Weights of the unfolded copies",
    [TIED, UNTIED],
    default=TIED,
    key="tie",
    bind="query-params",
    help="Tied (an RNN): every copy uses the same weights, so each weight's gradient is the sum "
    "of the copies' contributions and there is one update. Untied (Guo's other choice): each "
    "copy keeps and updates its own weights, like the layers of a deep feed-forward network.",
)
stepper(s, untied=choice == UNTIED)

with st.expander(f"What to watch for when reading {n.source}"):
    for remark in n.remarks:
        st.markdown(f"- {remark}")
