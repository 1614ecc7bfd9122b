"""Step through BPTT: the forward pass t = 1..T, then the backward pass t = T..1, one copy at a time."""

from __future__ import annotations

import html
import time

import numpy as np
import pandas as pd
import streamlit as st

from bptt_app.compute import ModelSpec, cached_unfolded_pass
from bptt_app.navigation import require_shell
from bptt_app.settings import STEP_MAX_T, settings_problems, text_problems
from bptt_app.state import current_settings, show_problems
from bptt_app.ui import inline_math, md_char
from bptt_core.model import PARAM_NAMES
from bptt_viz.equations import backward_equations, forward_equations, update_equation
from bptt_viz.figures.heatmaps import matrix_pairs, time_heatmap, time_heatmap_svg, time_labels
from bptt_viz.figures.network import unfolded_network, unfolded_network_svg, unit_network
from bptt_viz.figures.style import symmetric_range
from bptt_viz.labels import display_char
from bptt_viz.stepper import StepState, clamp_index, contribution_ledger, num_steps, step_state

require_shell()

STEP_KEY = "step"
PLAY_KEY = "step_playing"
SPEEDS = {"2 steps/s": 2.0, "5 steps/s": 5.0, "10 steps/s": 10.0, "15 steps/s": 15.0}
PLAY_RUN_S = 3.0  # while playing, one fragment run streams this many seconds of steps
UNIT_VIEW_MAX_H = 8
UNIT_VIEW_MAX_V = 30
CHART = {"displayModeBar": False}
THETA = r"\theta"
TOP = r"^{\top}"

s = current_settings()
n = s.notation_obj


def _grad(num: str, den: str) -> str:
    return rf"\partial {num} / \partial {den}"


st.title("Step through BPTT")
st.markdown(
    "Watch one pass of backpropagation through time. The **forward pass** computes the hidden "
    f"state {inline_math(n.tex('h'))} and the prediction {inline_math(n.tex('y'))} for t = 1, 2, …, T; the **backward "
    "pass** then walks back from T to 1, computing each copy's error and adding that copy's "
    "share to every weight's gradient. Use the buttons (or Play) to move one step at a time."
)


if show_problems(text_problems(s.text) + settings_problems(s)):
    st.stop()

text = s.text
if len(text) > STEP_MAX_T + 1:
    st.info(
        f"Your text has {len(s.text):,} characters. Stepping through is readable for short "
        f"sequences, so this page unfolds the first {STEP_MAX_T + 1} characters "
        f"(T = {STEP_MAX_T}). *Train live* uses the whole text.",
        icon=":material/info:",
    )
    text = text[: STEP_MAX_T + 1]

data = cached_unfolded_pass(ModelSpec.from_settings(s, text), s.k)
fwd, bwd, corpus, config = data.fwd, data.bwd, data.corpus, data.config
T, H, V = fwd.T, config.hidden_size, corpus.V
if s.k is not None and s.k >= T:
    st.info(
        f"Truncation k = {s.k} is at least T = {T}: every loss reaches every copy, so this is "
        "full BPTT.",
        icon=":material/info:",
    )
if not np.isfinite(fwd.loss):
    st.warning(
        "The forward pass overflowed with these initial weights (the loss is not a finite "
        "number). Lower the weight scale or the spectral radius.",
        icon=":material/warning:",
    )

inputs = [display_char(c) for c in corpus.input_chars]
targets = [display_char(c) for c in corpus.target_chars]
vocab = [display_char(c) for c in corpus.vocab]
ticks = time_labels(inputs, targets)


def _esc(labels: list[str]) -> list[str]:
    return [html.escape(x) for x in labels]


esc_ticks = _esc(ticks)
n_steps = num_steps(T)
zo, zh = symmetric_range(bwd.delta_o), symmetric_range(bwd.delta_h)  # fixed colour ranges


IDX_KEY = "step_index"  # the walk's position; the slider (key STEP_KEY) mirrors it


def _set_step(value: int) -> None:
    st.session_state[IDX_KEY] = clamp_index(value, T)


def _slider_moved() -> None:
    st.session_state[IDX_KEY] = clamp_index(int(st.session_state[STEP_KEY]), T)


def _toggle_play() -> None:
    playing = not st.session_state.get(PLAY_KEY, False)
    if playing and st.session_state.get(IDX_KEY, 0) >= n_steps - 1:
        st.session_state[IDX_KEY] = 0  # play from the start again
    st.session_state[PLAY_KEY] = playing


st.session_state[IDX_KEY] = clamp_index(int(st.session_state.get(IDX_KEY, 0)), T)
playing = bool(st.session_state.get(PLAY_KEY, False))
speed = SPEEDS.get(st.session_state.get("step_speed", "5 steps/s"), 5.0)


def status_text(state: StepState) -> str:
    t, idx = state.t, state.index
    if state.phase == "forward":
        return (
            f"**Forward pass, step {idx + 1} of {n_steps}: t = {t}.** Input "
            f"“{md_char(corpus.input_chars[t - 1])}”, target “{md_char(corpus.target_chars[t - 1])}”. "
            "The copy at t combines the input with the previous hidden state, predicts the next "
            f"character and pays the loss {inline_math(n.tex('L_t', t))} = {state.losses[t - 1]:.4f} "
            f"(running total {inline_math(n.tex('L'))} = {state.loss_so_far:.4f})."
        )
    return (
        f"**Backward pass, step {idx + 1} of {n_steps}: t = {t}.** The error of copy {t} is "
        f"its own output error plus what comes back from t + 1. Its contributions join the "
        f"running sums of the gradients ({T - t + 1} of {T} copies visited)."
    )


@st.fragment(run_every=PLAY_RUN_S if playing else None)
def walk() -> None:
    """The stepper and everything that changes with the step.

    Paused: one run draws the step with interactive figures. Playing: every PLAY_RUN_S the timer
    starts a run that streams that many seconds of steps; each frame redraws the status, the
    graph and the error heatmaps as static SVG (a browser draws those ten and more times a
    second, where remounting Plotly figures manages about three); the equations, the unit view
    and the weight panels return on Pause.
    """
    now_playing = bool(st.session_state.get(PLAY_KEY, False))
    idx = int(st.session_state[IDX_KEY])
    c = st.columns([1, 1, 1, 1, 1.2, 1.6])
    c[0].button(
        "First",
        icon=":material/first_page:",
        on_click=_set_step,
        args=(0,),
        key="step_first",
        width="stretch",
    )
    c[1].button(
        "Back",
        icon=":material/chevron_left:",
        on_click=_set_step,
        args=(idx - 1,),
        key="step_back",
        width="stretch",
    )
    c[2].button(
        "Next",
        icon=":material/chevron_right:",
        on_click=_set_step,
        args=(idx + 1,),
        key="step_next",
        width="stretch",
    )
    c[3].button(
        "Last",
        icon=":material/last_page:",
        on_click=_set_step,
        args=(n_steps - 1,),
        key="step_last",
        width="stretch",
    )
    label, icon = (
        ("Pause", ":material/pause:") if now_playing else ("Play", ":material/play_arrow:")
    )
    if c[4].button(
        label, icon=icon, on_click=_toggle_play, key="step_play", width="stretch", type="primary"
    ):
        st.rerun()  # start or stop the fragment's timer
    c[5].selectbox("Speed", list(SPEEDS), index=1, key="step_speed", label_visibility="collapsed")
    st.session_state[STEP_KEY] = idx
    st.slider(
        "Step",
        0,
        n_steps - 1,
        key=STEP_KEY,
        on_change=_slider_moved,
        help=f"Steps 0–{T - 1}: forward pass t = 1..{T}. Steps {T}–{n_steps - 1}: backward "
        f"pass t = {T}..1.",
    )
    status_slot = st.empty()
    graph, units = st.columns([1.7, 1])
    with graph:
        network_slot = st.empty()
        st.caption(
            "Bottom row: inputs; middle: hidden states (the recurrent edges carry them forward); "
            "top: predictions, with the character to predict above. Blue edges: what the forward "
            "step just used; orange: where the error flows on the backward step. Orange fill: "
            "copies already visited, darker = larger error. Hover a node for its numbers."
        )
    with units:
        units_box = st.container()
    equations_box = st.container()
    st.subheader("Errors at every timestep")
    d1, d2 = st.columns(2)
    with d1:
        delta_o_slot = st.empty()
        st.caption(
            f"{inline_math(n.tex('delta_o') + ' = ' + _grad(n.tex('L'), n.tex('o')))}. With softmax and "
            f"cross-entropy it is {inline_math(n.tex('y') + ' - ' + n.tex('d'))}: blue (negative) at the "
            "character that should have been predicted, orange wherever probability was wasted. "
            "Every output gets error, not only the target."
        )
    with d2:
        delta_h_slot = st.empty()
        st.caption(
            f"{inline_math(n.tex('delta_h') + ' = ' + _grad(n.tex('L'), n.tex('a')))}: the error of the hidden "
            "units, local output error plus what the recurrent edge carries back. The columns "
            "fill in from right to left during the backward pass."
        )
    updates_box = st.container()

    def draw_fast(idx: int, svg: bool = False) -> StepState:
        state = step_state(fwd, bwd, idx)
        status_slot.markdown(status_text(state))
        hl = state.t if state.phase == "backward" else None
        args = (state, inputs, targets, n, fwd.h0, bwd.truncation)
        o_labels, h_labels = [f"“{c}”" for c in vocab], [f"unit {j + 1}" for j in range(H)]
        o_title, h_title = f"Output error {n.html('delta_o')}", f"Hidden delta {n.html('delta_h')}"
        o_height, h_height = max(240, 60 + 22 * min(V, 40)), max(240, 60 + 22 * min(H, 32))
        if svg:
            network_slot.image(unfolded_network_svg(*args), width="stretch")
            delta_o_slot.image(
                time_heatmap_svg(
                    state.delta_o, esc_ticks, _esc(o_labels), o_title, zo, hl, o_height
                ),
                width="stretch",
            )
            delta_h_slot.image(
                time_heatmap_svg(state.delta_h, esc_ticks, h_labels, h_title, zh, hl, h_height),
                width="stretch",
            )
            return state
        network_slot.plotly_chart(unfolded_network(*args), key="step_network", config=CHART)
        delta_o_slot.plotly_chart(
            time_heatmap(
                state.delta_o, ticks, o_labels, o_title, zo, hl, n.plain("delta_o"), height=o_height
            ),
            key="step_delta_o",
            config=CHART,
        )
        delta_h_slot.plotly_chart(
            time_heatmap(
                state.delta_h, ticks, h_labels, h_title, zh, hl, n.plain("delta_h"), height=h_height
            ),
            key="step_delta_h",
            config=CHART,
        )
        return state

    state = draw_fast(idx, svg=now_playing)
    if not now_playing:
        with units_box:
            draw_units(state)
        with equations_box:
            draw_equations(state)
        with updates_box:
            draw_updates(state)
        return
    equations_box.info(
        "Playing: the equations, the unit-by-unit view and the weight updates of the current "
        "step appear when you press **Pause**. Hover values are back on Pause too.",
        icon=":material/pause_circle:",
    )
    # stream steps for about PLAY_RUN_S seconds; then the timer starts the next run
    start = time.monotonic()
    frame = 0
    while time.monotonic() - start < PLAY_RUN_S - 0.5 / speed:
        frame += 1
        time.sleep(max(0.0, start + frame / speed - time.monotonic()))
        if idx >= n_steps - 1:
            st.session_state[PLAY_KEY] = False
            st.rerun()  # the walk is over: stop the timer (the whole page reruns)
        idx += 1
        st.session_state[IDX_KEY] = idx
        draw_fast(idx, svg=True)


def draw_units(state: StepState) -> None:
    """The unit-by-unit view of the current copy (small nets only)."""
    t = state.t
    if H > UNIT_VIEW_MAX_H or V > UNIT_VIEW_MAX_V:
        st.info(
            f"The unit-by-unit view is drawn for H ≤ {UNIT_VIEW_MAX_H} hidden units and at "
            f"most {UNIT_VIEW_MAX_V} characters (now H = {H}, {V} characters).",
            icon=":material/info:",
        )
        return
    backward_phase = state.contribution is not None
    show = st.radio(
        "Edges show",
        ["weights", "gradient of this copy"],
        index=1 if backward_phase else 0,
        horizontal=True,
        key=f"unit_edges_{state.phase}",
        disabled=not backward_phase,
        help="In the forward pass the edges show the weights; in the backward pass they can "
        "show what this copy adds to each weight's gradient.",
    )
    shown = state.contribution if backward_phase and show != "weights" else data.params
    st.plotly_chart(
        unit_network(
            {"W_xh": shown.W_xh, "W_hh": shown.W_hh, "W_hy": shown.W_hy},
            vocab,
            vocab,
            n,
            t,
            fwd.inputs[t - 1],
            fwd.h_prev[t - 1],
            fwd.h[t - 1],
            fwd.y[t - 1],
            showing="weights" if shown is data.params else "gradients",
        ),
        key="step_units",
        config=CHART,
    )
    st.caption(
        "One line per weight: orange positive, blue negative, thicker = larger. "
        "Node colour: the unit's value."
    )


def draw_equations(state: StepState) -> None:
    """This step's equations with the live numbers."""
    t = state.t
    st.subheader("This step's equations")
    if state.phase == "forward":
        weights = {"W_xh": data.params.W_xh, "W_hh": data.params.W_hh, "b_h": data.params.b_h}
        lines = forward_equations(
            n, config, weights, fwd, t, corpus.input_chars[t - 1], corpus.target_chars[t - 1]
        )
    else:
        lines = backward_equations(n, config, fwd, bwd, t)
        if t == 1:
            lines.append(update_equation(n))
    for line in lines:
        st.latex(line)
    if H > 5 or V > 5:
        st.caption(
            "Vectors longer than five entries show their first five and ⋯; hover the "
            "graph for every number."
        )
    with st.expander(f"Reading {n.name.split(' (')[0]}'s notes: what to watch for"):
        for remark in n.remarks:
            st.markdown(f"- {remark}")


def draw_updates(state: StepState) -> None:
    """Running sums of the weight updates beside this copy's contribution, and the ledger."""
    st.subheader("The weight updates, accumulating")
    unit_lbl = [f"h{j + 1}" for j in range(H)]
    char_lbl = [f"“{c}”" for c in vocab]
    axis = {
        n.plain("W_xh"): (unit_lbl, char_lbl),
        n.plain("W_hh"): (unit_lbl, unit_lbl),
        n.plain("W_hy"): (char_lbl, unit_lbl),
        n.plain("b_h"): ((), unit_lbl),
        n.plain("b_y"): ((), char_lbl),
    }
    rows = []
    for nm in PARAM_NAMES:
        running = np.atleast_2d(getattr(state.running, nm))
        contrib = (
            None if state.contribution is None else np.atleast_2d(getattr(state.contribution, nm))
        )
        rows.append(
            (n.plain(nm), running, contrib, data.running_max[nm], data.contribution_max[nm])
        )
    visited = "no copies visited yet" if state.phase == "forward" else f"copies t = {state.t}..{T}"
    st.plotly_chart(
        matrix_pairs(
            rows,
            f"running sum ({visited})",
            "this copy's contribution",
            axis,
            px_per_row=22 if max(H, V) <= 16 else 10,
        ),
        key="step_updates",
        config=CHART,
    )
    st.caption(
        "Left: Σ of the contributions of the copies visited so far — at the last step it equals "
        f"the full gradient {inline_math(_grad(n.tex('L'), THETA))} the engine computed. Right: what copy "
        f"t adds ({inline_math(n.tex('delta_h') + n.tex('h', 't-1') + TOP)} for {inline_math(n.tex('W_hh'))}). "
        "The same weights are used by every copy, so their gradient is the sum over copies (tied "
        "weights). Colour scales are fixed across steps."
    )
    ledger = contribution_ledger(bwd, state)
    table = pd.DataFrame(
        ledger.per_copy,
        columns=[f"‖Δ{n.plain(nm)}‖" for nm in PARAM_NAMES],
        index=[f"t={i + 1}  {ticks[i].split(' ', 1)[1]}" for i in range(T)],
    )
    table.loc["Σ visited (‖running sum‖)"] = ledger.running
    table.loc["engine total ‖∂L/∂θ‖"] = ledger.total
    with st.expander("Ledger: each copy's contribution to each gradient (Frobenius norms)"):
        st.dataframe(table, width="stretch", key="step_ledger")
        st.caption(
            "Blank rows: copies not visited yet. The norm of a sum is at most the sum of the "
            "norms, so contributions can cancel."
        )


walk()
