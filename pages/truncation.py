"""Truncation & vanishing gradients: how far error travels back in time, and what cutting it costs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from bptt_app.compute import ModelSpec
from bptt_app.flow_cache import (
    EXPERIMENTS,
    FlowAnalysis,
    LearningResult,
    cached_clipping_analysis,
    cached_flow_analysis,
    cached_jacobian_analysis,
    flow_text,
    jacobian_steps,
    learning_board,
)
from bptt_app.navigation import require_shell
from bptt_app.settings import FLOW_MAX_T, settings_problems, text_problems
from bptt_app.state import current_settings, show_problems
from bptt_app.ui import inline_math, md_text
from bptt_core.clipping import ClippingDemo
from bptt_core.model import PARAM_NAMES
from bptt_viz.figures.flow import (
    clipping_figure,
    curves_figure,
    flow_map,
    jacobian_distance,
    recall_figure,
    truncation_panels,
)
from bptt_viz.labels import display_char, truncation_label

require_shell()

CHART = {"displayModeBar": False}
K_SLIDER = "trunc_k"  # the page's copy of the sidebar's truncation (widget key "k")
RHO = "rho"  # spectral radius of W_hh on this page (bound to the URL)
EXPERIMENT = "trunc_experiment"
REQUESTED = "trunc_requested"  # session: the experiments this session asked for
POLL_SECONDS = 0.5
EXPERIMENT_LABELS = {
    "quick": "Quick: per-loss window, N ∈ {4, 10}, k ∈ {1, 2, 5, full}, 3 seeds (a few seconds)",
    "more": "More: window and chunked, N ∈ {4, 10}, k ∈ {1, 2, 3, 5, 8, 11, full}, 3 seeds "
    "(about 40 s)",
}
TOP = r"^{\top}"
TAU = r"\tau"  # copy time (s would clash with Guo's hidden state s(t))
FPRIME = inline_math("f'")
NORM_G = inline_math(r"\lVert g\rVert")
NORM_G_GT_C = inline_math(r"\lVert g\rVert > c")
REL_ERR = inline_math(r"\lVert g_k - g\rVert / \lVert g\rVert")
GAMMA_DEF = inline_math(r"\gamma = \max|f'|")
SIGMA = inline_math(r"\sigma_{\max}")
INV_GAMMA = inline_math(r"1/\gamma")
F_SAT = inline_math(r"f' \approx 0")

s = current_settings()
n = s.notation_obj
W, L_t, a_s, h_t, h_s = (
    n.tex("W_hh"),
    n.tex("L_t", "t"),
    n.tex("a", TAU),
    n.tex("h", "t"),
    n.tex("h", TAU),
)
W_p = md_text(n.plain("W_hh"))
h_tau, h_tau_prev = n.tex("h", TAU), n.tex("h", TAU + "-1")
GS_W = inline_math(r"\gamma\,\sigma_{\max}(" + W + ")")
SIGMA_W_LT = inline_math(r"\sigma_{\max}(" + W + r") < 1/\gamma")


def frac(num: str, den: str) -> str:
    return rf"\frac{{\partial {num}}}{{\partial {den}}}"


st.title("Truncation & vanishing gradients")
st.markdown(
    f"The backward pass sends the error of every loss {inline_math(L_t)} back through the unfolded copies "
    f"t, t − 1, …, 1. Each step back multiplies it by the recurrent weights {inline_math(W)} and the "
    f"slope {FPRIME} of the activation, so it shrinks (or grows) step after step. This page "
    "measures how far the error of the sidebar's network really travels, what a truncation "
    "**k** throws away, and what that costs when learning."
)
st.markdown(
    "**How to use it:** move **k** to see which terms a truncation keeps (sections 1 and 2); "
    "move **ρ** to make the error vanish or explode (sections 1, 3 and 4); switch the "
    "activation or the notation in the sidebar; press the button in section 5 to train."
)

if show_problems(text_problems(s.text) + settings_problems(s)):
    st.stop()

text, cut = flow_text(s.text)
T = len(text) - 1
spec = ModelSpec.from_settings(s, text)
if cut:
    st.info(
        f"Your text has {len(s.text):,} characters. The T × T analyses on this page compare "
        f"every pair of timesteps, so they use the first {FLOW_MAX_T + 1} characters "
        f"(T = {FLOW_MAX_T}). *Train live* uses the whole text.",
        icon=":material/info:",
    )


def _k_from_page(T: int) -> None:
    """The page slider writes the sidebar's truncation (k = T means full BPTT, stored as 0)."""
    value = int(st.session_state[K_SLIDER])
    st.session_state["k"] = 0 if value >= T else value


with st.container(border=True):
    c_k, c_rho = st.columns(2, gap="large")
    with c_k:
        if T >= 2:
            st.session_state[K_SLIDER] = T if s.k is None else min(s.k, T)
            st.slider(
                f"Truncation k (k = {T}: full BPTT)",
                1,
                T,
                key=K_SLIDER,
                on_change=_k_from_page,
                args=(T,),
                help="The sidebar's “Truncation k”: each loss L(t) sends its error back through "
                "k copies, its own included. k = 1: no error crosses a recurrent edge.",
            )
        else:
            st.markdown("**Truncation k**: with T = 1 there is nothing to truncate.")
        k_used = None if s.k is None or s.k >= T else s.k
        st.caption(
            "Full BPTT: every loss reaches every copy."
            if k_used is None
            else f"Each loss reaches its own copy and the {k_used - 1} before it."
        )
    with c_rho:
        radius = st.slider(
            f"Spectral radius ρ({W_p}) on this page",
            0.1,
            3.0,
            1.0,
            0.05,
            key=RHO,
            bind="query-params",
            help="W_hh of the sidebar's network, rescaled to this spectral radius (largest "
            "|eigenvalue|). Everything above the learning experiment uses the rescaled network.",
        )
    data: FlowAnalysis = cached_flow_analysis(spec, float(radius))
    base = data.gamma * data.sigma
    with c_rho:
        st.caption(
            f"The sidebar's {inline_math(W)} had ρ = {data.initial_radius:.3f}; this page rescales it. "
            "Everything but the learning experiment (section 5) uses the rescaled network."
        )
    c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1, 2.4])
    c1.metric(f"ρ({W_p})", f"{data.radius:.2f}", help="Spectral radius: largest |eigenvalue|.")
    c2.metric(f"σ_max({W_p})", f"{data.sigma:.3f}", help="Largest singular value ‖W_hh‖₂ ≥ ρ.")
    c3.metric(
        "γ = max |f′|",
        f"{data.gamma:g}",
        help=f"{s.activation}: γ = {data.gamma:g}, so 1/γ = {1 / data.gamma:g}.",
    )
    c4.metric("γ · σ_max", f"{base:.3f}", help="The factor of the bound per step back.")
    with c5:
        st.markdown(
            f"{GS_W} = {base:.3f} "
            + (
                "< 1: the error is **guaranteed to vanish** (Pascanu et al. 2013)."
                if base < 1
                else "≥ 1: vanishing is no longer guaranteed and the error **may explode**."
            )
            + f"  \nActivation f = {s.activation}, so 1/γ = {1 / data.gamma:g}."
        )

if not data.finite:
    st.warning(
        "The forward pass overflowed with this spectral radius (the loss or the hidden state is "
        "not a finite number), so some values below are missing. Lower ρ or pick tanh/sigmoid.",
        icon=":material/warning:",
    )
if s.k is not None and s.k >= T:
    st.info(
        f"Truncation k = {s.k} is at least T = {T}: every loss reaches every copy, so this is "
        "full BPTT.",
        icon=":material/info:",
    )

inputs = [display_char(c) for c in data.corpus.input_chars]
targets = [display_char(c) for c in data.corpus.target_chars]

# --------------------------------------------------------------------------- 1. the T × T map
st.header("1 · Where the error of each loss goes", divider="gray")
left, right = st.columns([1.5, 1], gap="large")
with left:
    st.plotly_chart(
        flow_map(
            data.flow, inputs, targets, n, k_used, height=int(np.clip(250 + 22 * T, 400, 620))
        ),
        key="trunc_flow_map",
        config=CHART,
    )
with right:
    st.markdown(
        f"Row t is the loss {inline_math(L_t)} (predicting the character after input t); column τ is "
        f"unfolded copy τ. Each cell is the size of {inline_math(frac(L_t, a_s))}: how much of that one "
        f"loss's error arrives at copy τ. The gradient of {inline_math(W)} is the sum of all these "
        "terms, each times the state the copy started from:"
    )
    st.latex(
        frac(n.tex("L"), W)
        + r" = \sum_{t=1}^{T}\sum_{\tau=1}^{t} "
        + frac(L_t, a_s)
        + n.tex("h", TAU + "-1")
        + TOP
    )
    st.markdown(
        "— the double sum of the “hello” notes, drawn term by term. Truncation keeps only the "
        "terms inside the orange band, "
        + inline_math(r"t - k < \tau \le t")
        + ": k = 1 keeps the diagonal, k = T everything."
    )
    dist = np.subtract.outer(np.arange(T), np.arange(T))
    lower = (dist >= 0) & np.isfinite(data.flow)
    dropped = lower & (dist >= (T if k_used is None else k_used))
    total = float(data.flow[lower].sum())
    dropped_share = float(data.flow[dropped].sum()) / total if total > 0 else 0.0
    own, first = float(data.flow[T - 1, T - 1]), float(data.flow[T - 1, 0])
    if T >= 2 and np.isfinite(own) and np.isfinite(first) and own > 0:
        change = first / own
        trend = f"shrank to {change:.3g} of its size" if change < 1 else f"grew {change:.3g}-fold"
        last_row = (
            f"The last loss, {inline_math(n.tex('L_t', T))}, has error {own:.3g} at its own copy and "
            f"{first:.3g} at copy 1: over {T - 1} steps back it {trend}. "
        )
    else:
        last_row = ""
    st.markdown(
        "**What to notice:** each step back multiplies the error by the Jacobian "
        f"{inline_math(frac(h_tau, h_tau_prev))}, so along a row the colour changes "
        "steadily away from the diagonal — darker when it vanishes, brighter when it "
        "explodes (log scale: a colour step is a factor of 10). "
        + last_row
        + (
            f"With k = {k_used} the terms outside the band make up {100 * dropped_share:.3g}% "
            "of the summed term sizes."
            if k_used is not None
            else "Move k to see which terms a truncation keeps."
        )
    )

# --------------------------------------------------------------------------- 2. truncated vs full
st.header("2 · What truncation throws away", divider="gray")
st.plotly_chart(truncation_panels(data.comparison, n, k_used), key="trunc_comparison", config=CHART)
comp = data.comparison
k_row = (T if k_used is None else k_used) - 1
names = list(comp.names)
table = pd.DataFrame(
    {
        "relative error": comp.rel_error[k_row],
        "cosine": comp.cosine[k_row],
        "share dropped": comp.dropped_share[k_row],
    },
    index=[("all of θ" if nm == "all" else n.plain(nm)) for nm in names],
)
worst = max(PARAM_NAMES, key=lambda nm: comp.rel_error[k_row, names.index(nm)])
t_left, t_right = st.columns([1.25, 1], gap="large")
with t_left:
    st.markdown(
        f"For every k from 1 to T the truncated gradient {inline_math('g_k')} (only the terms in the "
        f"band) is compared with the full one {inline_math('g')}, per parameter: the **relative error** "
        f"{REL_ERR}, the **cosine** between them (1 = the "
        "same direction) and the **share of the gradient mass** in the dropped terms "
        f"(the terms carried over t − τ ≥ k steps). The dashed line is the current k."
    )
    W_HY_GRAD = inline_math(
        frac(n.tex("L"), n.tex("W_hy"))
        + r" = \sum_t "
        + n.tex("delta_o")
        + r"\,"
        + n.tex("h")
        + TOP
    )
    st.markdown(
        f"**What to notice:** the weights that feed the pre-activation {inline_math(a_s)} "
        f"({inline_math(W)}, {inline_math(n.tex('W_xh'))} and {inline_math(n.tex('b_h'))}) lose the dropped terms. "
        f"{inline_math(n.tex('W_hy'))} and {inline_math(n.tex('b_y'))} lose nothing for any k: their gradient "
        f"{W_HY_GRAD} "
        "is made of terms computed at the copy where each loss is paid; it never crosses a "
        f"recurrent edge, so there is nothing to cut. ({inline_math(W)}'s term at copy 1 is zero as "
        f"well: it multiplies {inline_math(n.tex('h', 0))} = 0.)"
    )
with t_right:
    if k_used is None:
        st.markdown("**At full BPTT** nothing is dropped: move k to compare.")
    else:
        st.markdown(f"**At k = {k_used}** (most affected: {inline_math(n.tex(worst))})")
    st.dataframe(table.style.format("{:.4f}"), key="trunc_table", width="stretch")

# --------------------------------------------------------------------------- 3. vanishing/exploding
st.header("3 · Vanishing or exploding", divider="gray")
steps = jacobian_steps(T, data.config.hidden_size)
jac = cached_jacobian_analysis(spec, float(radius), steps)
j_left, j_right = st.columns([1.25, 1], gap="large")
with j_left:
    st.plotly_chart(
        jacobian_distance(jac.t, jac.s, jac.values, jac.bound, n, data.gamma, data.sigma),
        key="trunc_jacobian",
        config=CHART,
    )
    if steps < T:
        st.caption(
            f"Computed for the first {steps} of {T} timesteps: each pair costs a singular value "
            f"decomposition of an H × H matrix (H = {data.config.hidden_size})."
        )
with j_right:
    st.markdown(
        "Between copy τ and copy t the error is multiplied by the Jacobian of the hidden "
        "states, a product of one factor per step:"
    )
    st.latex(
        frac(h_t, h_s)
        + r" = \prod_{m=\tau+1}^{t} \operatorname{diag}\!\big(f'("
        + n.tex("a", "m")
        + r")\big)\,"
        + W
    )
    st.markdown("and, since every factor stretches a vector by at most γ·σ_max,")
    st.latex(
        r"\left\lVert "
        + frac(h_t, h_s)
        + r"\right\rVert \le \big(\gamma\,\sigma_{\max}("
        + W
        + r")\big)^{t-\tau}"
    )
    st.markdown(
        f"with {GAMMA_DEF} (1 for tanh, ¼ for sigmoid) and "
        f"{SIGMA} the largest singular value. **Pascanu, Mikolov & Bengio "
        f"(2013)**: if {SIGMA_W_LT} the bound shrinks "
        "geometrically, so the gradient is *guaranteed* to vanish; only above "
        f"{INV_GAMMA} can it explode — possible, not certain, since saturated units have "
        f"{F_SAT}."
    )
    largest_far = float(np.nanmax(jac.values[(jac.t - jac.s) == steps - 1])) if steps > 1 else 1.0
    st.markdown(
        f"**Now:** ρ = {data.radius:.2f}, σ_max = {data.sigma:.3f}, γ = {data.gamma:g} "
        f"({s.activation}), so γ·σ_max = {base:.3f}"
        + (
            " < 1: every point must lie under the falling dashed line."
            if base < 1
            else " ≥ 1: the dashed line does not fall, so it guarantees nothing."
        )
        + f" The largest norm {steps - 1} steps back is {largest_far:.3g}."
    )
    st.markdown(
        "**Try:** slide ρ from 0.5 to 2.5 and watch the cloud turn from falling to rising "
        "near ρ = 1/γ (far back, the norms change by about ρ times a typical f′ per step; the "
        "bound uses σ_max ≥ ρ and is pessimistic). Switch the sidebar's activation to "
        "sigmoid: with γ = ¼ the error vanishes much sooner, and exploding needs "
        f"σ_max({W_p}) > 4."
    )

# --------------------------------------------------------------------------- 4. clipping
st.header("4 · When the error explodes: clipping", divider="gray")
demo: ClippingDemo | str = cached_clipping_analysis(spec, float(radius), float(s.clip_threshold))
if isinstance(demo, str):
    st.warning(f"The clipping comparison cannot be shown: {demo}", icon=":material/warning:")
else:
    cc = demo.comparison
    st.plotly_chart(clipping_figure(cc, n), key="trunc_clipping", config=CHART)
    c_left, c_right = st.columns([1.25, 1], gap="large")
    with c_left:
        st.markdown(
            f"Two ways to tame a large gradient {inline_math('g')}, both with a threshold {inline_math('c')}. "
            f"**Norm clipping** (Pascanu et al. 2013) rescales the whole vector when "
            f"{NORM_G_GT_C}: a shorter step in the *same direction*. **Value "
            f"clipping** (min-char-rnn) clamps every entry to {inline_math('[-c, c]')}: the big entries "
            "shrink, the small ones do not, so the step points *somewhere else*."
        )
        notes = []
        if demo.fallback:
            notes.append(
                f"at ρ = {demo.requested_radius:.2f} the gradient ({NORM_G} ≤ "
                f"{demo.requested_threshold:g}) needs no clipping, so this uses "
                f"{inline_math(W)} rescaled to ρ = {demo.radius:g}"
            )
        if demo.threshold_lowered:
            notes.append(
                f"no entry exceeds the sidebar's c = {demo.requested_threshold:g}, so c is "
                f"lowered to {cc.threshold:.3g}, which one entry in ten exceeds"
            )
        st.markdown(
            f"**This gradient** (ρ = {demo.radius:g}, loss {demo.loss:.3f}): "
            f"{NORM_G} = {cc.norm:.4g}, c = {cc.threshold:.4g}, "
            f"{cc.clipped_entries} of {cc.entries} entries exceed c."
            + ("  \n*Note:* " + "; ".join(notes) + "." if notes else "")
        )
    with c_right:
        clip_table = pd.DataFrame(
            {
                "length after": [cc.norm_after_norm, cc.norm_after_value],
                "cosine with g": [cc.cosine_norm, cc.cosine_value],
            },
            index=["norm clipping", "value clipping"],
        )
        st.dataframe(clip_table.style.format("{:.6f}"), key="trunc_clip_table", width="stretch")
        st.markdown(
            f"**What to notice:** norm clipping's cosine is exactly 1 and its length exactly c; "
            f"value clipping's cosine is {cc.cosine_value:.4f}: the step has turned by "
            f"{np.degrees(np.arccos(np.clip(cc.cosine_value, -1, 1))):.1f}°. Left: value "
            "clipping changes each parameter's share of the step. Right: a point on the "
            "diagonal kept its share of the vector; value clipping pulls the large entries in "
            "and so inflates the share of all the others."
        )

# --------------------------------------------------------------------------- 5. learning
st.header("5 · What truncation costs in learning", divider="gray")
st.markdown(
    "**The recall task.** Two sequences, “a” + N fillers + “a” and “b” + N fillers + “b”, "
    "each started from a zero hidden state. Every next character is predictable except the "
    "last, which repeats the first: the network has to carry it across the N fillers. That "
    "last loss (the *recall loss*, at t = N + 1) can fall below chance, ln 2, only if its "
    "error reaches copy 1, N steps back — a window of k ≥ N + 1 copies — or if the forward "
    "pass happens to keep the first character anyway. (A tanh RNN with H = 16, Adagrad, η = 0.05, 600 updates; the *settled* "
    "loss is the mean over the last 100 updates.)"
)
st.markdown(
    "Two ways to cut the backward pass. **Per-loss window** (the sidebar's k): every loss "
    "reaches exactly its k most recent copies. **Chunked TBPTT(k, k)**, as used when training "
    "long texts: the sequence is cut into chunks of k; the hidden state is carried across a "
    "cut but no error crosses it, so a loss reaches between 1 and k copies depending on where "
    "it falls in its chunk — the recall loss at the end of an 11-step sequence cut into chunks "
    "of 5 reaches a single copy."
)

board = learning_board()
requested: list = st.session_state.setdefault(REQUESTED, [])
polling = any((j := board.get(sp)) is not None and j.in_flight for sp in requested)


def median_table(result: LearningResult) -> pd.DataFrame:
    """Median settled recall loss: one row per k, one column per (mode, N)."""
    rec = result.recall
    columns = {
        f"{mode}, N = {N}": [rec.median(mode, N, k) for k in rec.grid.truncations]
        for mode in rec.grid.modes
        for N in rec.grid.n_fillers
    }
    index = [f"k = {truncation_label(k)}" for k in rec.grid.truncations]
    return pd.DataFrame(columns, index=index)


@st.fragment(run_every=POLL_SECONDS if polling else None)
def learning_section() -> None:
    """Start the experiment, follow its progress, draw its result (reruns alone while polling)."""
    choice = st.radio(
        "Experiment",
        list(EXPERIMENT_LABELS),
        format_func=EXPERIMENT_LABELS.get,
        key=EXPERIMENT,
    )
    spec_l = EXPERIMENTS[choice]
    job = board.get(spec_l) if spec_l in st.session_state[REQUESTED] else None
    running = job is not None and job.in_flight
    if st.button(
        "Train the recall task",
        key="trunc_run",
        type="primary",
        icon=":material/play_arrow:",
        disabled=running,
    ):
        job = board.submit(spec_l)
        if job is None:
            st.warning(
                "The server is busy with other experiments; try again in a minute.",
                icon=":material/hourglass_empty:",
            )
            return
        if spec_l not in st.session_state[REQUESTED]:
            st.session_state[REQUESTED].append(spec_l)
        st.rerun()  # a full run: starts the polling timer (or shows a finished result)
    if job is None:
        st.info(
            "Press **Train the recall task** to run it. It trains in the background: the rest "
            "of the page and the app stay usable meanwhile.",
            icon=":material/touch_app:",
        )
        return
    if job.in_flight:
        ahead = board.waiting_ahead(job)
        label = (
            f"Waiting for {ahead} experiment(s) ahead of this one…"
            if job.state == "queued" and ahead
            else f"Training… {job.done:,} of {job.total:,} updates"
        )
        st.progress(job.fraction, text=label)
        if not polling:
            st.rerun()  # started elsewhere (another session): poll from now on
        return
    if polling and not any(
        (j := board.get(sp)) is not None and j.in_flight for sp in st.session_state[REQUESTED]
    ):
        st.rerun()  # everything this session asked for is finished: stop the timer
    if job.state == "failed":
        st.error(f"The experiment failed:\n\n{job.error}", icon=":material/error:")
        return
    result = job.result
    if result is None:  # pragma: no cover - a finished job always has a result
        return
    st.progress(1.0, text=f"Done: {job.total:,} updates in {result.seconds:.1f} s.")
    st.plotly_chart(recall_figure(result.recall), key="trunc_recall", config=CHART)
    r_left, r_right = st.columns([1.25, 1], gap="large")
    with r_left:
        st.markdown(
            "Each point is one seed's settled recall loss (log scale); the diamonds and lines "
            f"are the medians; the dashed line is chance, ln 2 = {result.recall.chance:.3f}. "
            "**What to notice:** with N = 10 only a window that reaches all N + 1 copies (here "
            "full BPTT) learns the recall; shorter ones stay near or above chance. With N = 4 "
            "even k = 1 succeeds: the random forward pass still carries the first character "
            "four steps, and the output layer learns to read it."
            + (
                " In chunked mode the cut falls wherever the chunk ends, so k = N + 1 is not "
                "enough unless the whole sequence fits in one chunk."
                if "chunked" in result.recall.grid.modes
                else ""
            )
        )
    with r_right:
        st.markdown("**Median settled recall loss**")
        st.dataframe(
            median_table(result).style.format("{:.3f}"), key="trunc_medians", width="stretch"
        )
    st.subheader("The honest counterpoint: “hello” with k = 1")
    h_left, h_right = st.columns([1.25, 1], gap="large")
    with h_left:
        st.plotly_chart(curves_figure(result.hello), key="trunc_hello", config=CHART)
    with h_right:
        final = result.hello.final()
        labels = ["full BPTT" if k is None else f"k = {k}" for k in result.hello.truncations]
        st.markdown(
            "The same character RNN as *Train live* (its default "
            "settings) learns “hello” just as well with k = 1 as with full BPTT — final loss "
            "per character "
            + ", ".join(f"{lab}: {np.nanmedian(final[i]):.4f}" for i, lab in enumerate(labels))
            + " (median of the seeds). To predict after the second “l” it needs the character "
            f"before, and that is already in {inline_math(n.tex('h', 't-1'))}: the forward pass carries it, "
            "whatever the truncated gradient asked for. With k = 1 the gradient of "
            f"{inline_math(W)} still learns how to *use* {inline_math(n.tex('h', 't-1'))}; what it cannot do is "
            "teach earlier copies to *store* something for later — which is exactly what the "
            "recall task needs."
        )


learning_section()
