"""Step through BPTT: the forward pass t = 1..T, then the backward pass t = T..1, in the browser."""

from __future__ import annotations

import streamlit as st

from bptt_app.navigation import require_shell
from bptt_app.settings import settings_problems, text_problems
from bptt_app.state import current_settings, show_problems
from bptt_app.step_player import show_player, step_page_view
from bptt_app.ui import inline_math

require_shell()

s = current_settings()
n = s.notation_obj

st.title("Step through BPTT")
st.markdown(
    "Watch one pass of backpropagation through time. The **forward pass** computes the hidden "
    f"state {inline_math(n.tex('h'))} and the prediction {inline_math(n.tex('y'))} for "
    "t = 1, 2, …, T; the **backward pass** then walks back from T to 1, computing each copy's "
    "error and adding that copy's share to every weight's gradient. Step with the buttons, the "
    "slider or the keys **←** / **→** (a presenter's clicker works too), **Home** / **End**, "
    "and **space** to play; click a copy in the network or a column of a heatmap to jump to it."
)

if show_problems(text_problems(s.text) + settings_problems(s)):
    st.stop()

view = step_page_view(s, st.query_params.get("step"))
show_problems(view.notices)
show_player(view)

with st.expander(f"Reading {n.name.split(' (')[0]}'s notes: what to watch for"):
    for remark in n.remarks:
        st.markdown(f"- {remark}")
