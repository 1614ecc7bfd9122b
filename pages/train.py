"""Train live: play / pause / single updates of BPTT training on the sidebar's text.

While playing, one fragment (``live``, rerun by ``run_every`` every second) trains and streams:
in each run it redraws the slower charts once (gradient norms, predictions, sample, weights),
then loops for about a second, making ``updates per refresh`` updates per frame and replacing
the counters every frame and the loss curve a few times a second. Replacing elements inside one
run costs the browser far less than a rerun per frame, so the counters keep up with 20 frames
a second. The rest of the page (controls, explanations) is drawn once by the full run; the
fragment writes into containers that run laid out, and is called last so that a full run has
drawn everything before it starts looping.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np
import streamlit as st

from bptt_app import train_session as training
from bptt_app.navigation import require_shell
from bptt_app.settings import MAX_TEXT_CHARS, settings_problems, text_problems
from bptt_app.state import current_settings, show_problems
from bptt_app.ui import inline_math, md_char, md_text
from bptt_core.health import EXPLODED_FACTOR
from bptt_viz.figures.train_charts import (
    grad_norm_curve,
    loss_curve,
    prediction_heatmap,
    weight_heatmaps,
)
from bptt_viz.labels import display_char
from bptt_viz.series import downsample, smooth

require_shell()

PER_TICK = [1, 2, 5, 10, 25, 100]  # updates per refresh (frame)
RATES = [5, 10, 20, 30]  # refreshes (frames) per second
DEFAULT_PER_TICK, DEFAULT_RATE = 1, 20
RUN_SECONDS = 1.0  # run_every of the fragment: one streamed run per second while playing
CURVE_INTERVAL = 0.25  # seconds between redraws of the loss curve while playing
MAX_PLOT_POINTS = 1500  # the loss and gradient charts average buckets beyond this
MAX_POSITIONS = 40  # positions of the text in the prediction heatmap at a time
CHART = {"displayModeBar": False}
WEIGHTS_NOW, WEIGHTS_CHANGE = "weights now", "change since the start"

s = current_settings()
n = s.notation_obj
SUM_T = r"\sum_t "
LOSS_SUM = n.tex("L") + "=" + SUM_T + n.tex("L_t")

st.title("Train live")
st.markdown(
    "Here the network **learns** the training text. Each **update** runs one BPTT pass — forward "
    f"through the text, computing every {inline_math(n.tex('h'))} and {inline_math(n.tex('y'))}, then backward, summing "
    "each weight's gradient over the unfolded copies — and moves every weight a small step "
    f"against its gradient ({inline_math(n.tex('eta'))} sets the size of the step). Press **Play** and watch "
    "the loss fall, the predictions sharpen and the weights take shape. Every setting in the "
    "sidebar applies."
)


if show_problems(text_problems(s.text) + settings_problems(s)):
    st.caption(
        f"Your own text can have up to {MAX_TEXT_CHARS:,} characters; longer texts are refused, "
        "never cut silently."
    )
    st.stop()

sess = training.session(st.session_state, s)
notice = sess.sync(s, n)
if notice is not None:
    if notice.level == "warning":
        st.warning(notice.message, icon=":material/restart_alt:")
    else:
        st.info(notice.message, icon=":material/tune:")
st.caption(md_text(training.text_summary(sess)))

tr = sess.trainer
corpus = tr.corpus
vocab_labels = [display_char(ch) for ch in corpus.vocab]


# ---------------------------------------------------------------------------- controls


def _toggle_play() -> None:
    sess.playing = not sess.playing
    sess.ticks.clear()


def _train(k: int) -> None:
    sess.train(k)


def _reset() -> None:
    sess.reset()


def _new_sample() -> None:
    sess.sample_seed += 1


c = st.columns([1.1, 1, 1, 1, 1.25, 1.25], vertical_alignment="bottom")
label, icon = ("Pause", ":material/pause:") if sess.playing else ("Play", ":material/play_arrow:")
c[0].button(
    label, icon=icon, on_click=_toggle_play, key="train_play", type="primary", width="stretch"
)
c[1].button("1 update", on_click=_train, args=(1,), key="train_one", width="stretch")
c[2].button("10 updates", on_click=_train, args=(10,), key="train_ten", width="stretch")
c[3].button(
    "Reset", icon=":material/restart_alt:", on_click=_reset, key="train_reset", width="stretch"
)
per_tick = c[4].selectbox(
    "Updates per refresh",
    PER_TICK,
    index=PER_TICK.index(DEFAULT_PER_TICK),
    key="train_per_tick",
    help="How many updates are made between two redraws while playing.",
)
rate = c[5].selectbox(
    "Refreshes per second",
    RATES,
    index=RATES.index(DEFAULT_RATE),
    key="train_rate",
    help="How often the counters are redrawn while playing (the measured speed is shown). The "
    "loss curve follows four times a second, the other charts once a second.",
)


def _explain_trouble() -> None:
    trouble = sess.trouble
    if trouble is None:
        return
    cfg = tr.settings
    eta = n.plain("eta")
    advice = []
    if cfg.learning_rate > 0.1:
        advice.append(f"lower the learning rate {eta} (now {cfg.learning_rate:g}; try 0.05)")
    if cfg.clip == "none":
        advice.append("turn on gradient clipping (“global norm”, c = 5)")
    if cfg.activation in ("linear", "relu"):
        advice.append(
            f"or use tanh: a {cfg.activation} hidden layer does not squash, so h can grow "
            "without bound"
        )
    if not advice:
        advice.append(f"lower the learning rate {eta} or the clipping threshold")
    if trouble.kind == "diverged":
        what = (
            f"**Training diverged at update {trouble.update + 1}:** {trouble.reason}. The "
            "numbers overflowed the range of floating point, so that update was not applied: "
            f"the weights are still the last finite ones (after update {trouble.update})."
        )
    else:
        what = (
            f"**The loss exploded at update {trouble.update + 1}:** {trouble.loss:.3g}, more "
            f"than {EXPLODED_FACTOR:.0f} times the chance level {trouble.chance:.3g} of a "
            "network that knows nothing. The weights are still finite, but the predictions are "
            "confidently wrong."
        )
    st.error(
        what + " **Why:** each update moves every weight by the learning rate times its "
        "gradient; when that step is too large it overshoots the valley of the loss and lands "
        "where the gradient is even larger, so the next step is larger again and the weights "
        "blow up. Clipping caps the length of each step. **To fix it:** "
        + "; ".join(advice)
        + ". Then press **Reset** to start again from fresh weights (or continue from the "
        "current ones with the new settings). The rest of the page keeps working.",
        icon=":material/warning:",
    )


_explain_trouble()

# ---------------------------------------------------------------------------- layout
# Containers filled by the fragments below; explanations are drawn once, by the full run.

metrics_box = st.container()
last_chunk = corpus.T - (sess.chunks_per_sweep - 1) * tr.settings.seq_length
chunk_note = (
    f" The last chunk of the text is shorter (T = {last_chunk}), so every "
    f"{sess.chunks_per_sweep} updates the loss and the chance level dip together."
    if sess.chunks_per_sweep > 1 and last_chunk < tr.settings.seq_length
    else ""
)
left, right = st.columns(2)
with left:
    st.subheader("Loss", anchor=False)
    loss_box = st.container()
    log_y = st.toggle(
        "logarithmic axis",
        value=True,
        key="train_log_y",
        help="A log axis shows the progress from 5 down to 0.001 as evenly as from 5 to 1.",
    )
    st.caption(
        f"The loss {inline_math(LOSS_SUM)} of each pass (a sum over the T steps, never a mean), measured "
        "before that pass's update; the thick line is its moving average. The dashed line is "
        "what guessing gives (every character probability 1/V): below it the network has learned "
        "something. Purple marks: a setting changed or parameters were loaded." + chunk_note
    )
with right:
    st.subheader("Gradient norm", anchor=False)
    grad_box = st.container()
    st.caption(
        "The length ‖∂L/∂θ‖ of the whole gradient (all five arrays together) before clipping. "
        "Norm clipping rescales any gradient longer than the threshold c down to length c; red "
        "dots mark the updates it changed: the direction is kept, the step is capped. Spikes "
        "here are exploding gradients."
    )

st.subheader("What the network predicts at every position", anchor=False)
pred_col, sample_col = st.columns([1.8, 1])
with pred_col:
    window_start = 0
    if corpus.T > MAX_POSITIONS:
        window_start = st.slider(
            "First position shown",
            0,
            corpus.T - MAX_POSITIONS,
            0,
            step=1,
            key="train_window",
            help=f"The text has {corpus.T:,} positions; {MAX_POSITIONS} are shown at a time.",
        )
    pred_box = st.container()
    amb = training.ambiguous_input(corpus.text)
    memory_note = (
        ""
        if amb is None
        else f" Look at the inputs “{md_char(amb[0])}”: the same input is followed by "
        + " and by ".join(f"“{md_char(c)}”" for c in amb[1][:3])
        + " at different places, so only the hidden state, the network's memory of what came "
        "before, can tell those positions apart."
    )
    output_note = {
        "softmax": "With softmax each column sums to 1.",
        "sigmoid": "Sigmoid outputs are separate yes/no probabilities; a column need not sum to 1.",
        "linear": "Linear outputs are not probabilities; the colours follow their values.",
    }[tr.config.output]
    st.caption(
        f"Column t is the prediction {inline_math(n.tex('y'))} after reading the text up to the input shown "
        "below it (from h(0) = 0, with the current weights); brighter = more probable. The red "
        "squares mark the characters that really come next: training moves probability into "
        f"them. {output_note}{memory_note}"
    )
with sample_col:
    st.markdown("**Text sampled from the network**")
    vocab_id = hashlib.sha1("".join(corpus.vocab).encode()).hexdigest()[:8]
    s1, s2 = st.columns(2)
    seed_label = s1.selectbox(
        "Start with",
        vocab_labels,
        index=0,
        key=f"train_seed_char_{vocab_id}",
        help="The first character fed in; the network writes the rest.",
    )
    temperature = s2.slider(
        "Temperature",
        0.1,
        2.0,
        1.0,
        0.1,
        key="train_temperature",
        help="Divides the logits before the softmax: below 1 the network picks its favourite "
        "more often, above 1 its choices get more random.",
    )
    sample_box = st.container()
    st.button("Another sample", on_click=_new_sample, key="train_new_sample")
    st.caption(
        f"Feed in a character, draw the next one at random from {inline_math(n.tex('y'))}, feed that in, "
        "and so on. Once the text is learned the samples repeat it"
        + (
            f": “{md_char(corpus.text[0])}” gives “{md_text(''.join(map(display_char, corpus.text[:12])))}…”"
            if len(corpus.text) > 2
            else ""
        )
        + f". After the last “{md_char(corpus.text[-1])}” the network has never seen anything "
        "follow, so there it guesses."
    )

st.subheader("The weights, changing", anchor=False)
view = st.segmented_control(
    "Show",
    [WEIGHTS_NOW, WEIGHTS_CHANGE],
    default=WEIGHTS_NOW,
    required=True,
    key="train_weights_view",
    label_visibility="collapsed",
)
weights_box = st.container()
never_input = [ch for ch in corpus.vocab if ch not in corpus.text[:-1]]
never_note = (
    ""
    if not never_input
    else f" The column of “{md_char(never_input[0])}” in {inline_math(n.tex('W_xh'))} never changes: that "
    "character is never an input, so its x(t) entry is never 1 and its gradient is always zero."
)
st.caption(
    f"{inline_math(n.tex('W_xh'))}: input → hidden (one column per character); {inline_math(n.tex('W_hh'))}: hidden → "
    f"hidden (the recurrence, shared by every unfolded copy); {inline_math(n.tex('W_hy'))}: hidden → "
    "output (one row per character). Orange positive, blue negative, one colour scale for all "
    "three; hover a cell for its value. “Change since the start” shows what training has "
    "added to the initial random weights." + never_note
)

# ---------------------------------------------------------------------------- drawing


def draw_metrics(slots: list, every: bool = True) -> None:
    """The four counters, each into its own placeholder. ``every=False`` redraws only the two
    that change with every update (the update count and the loss)."""
    loss_now = sess.current_loss()
    T_last = sess.last.chunk_length if sess.last is not None else sess.pass_length
    chance_pass = sess.chance_per_char * T_last
    speeds = sess.rates() if sess.playing else None
    finite = bool(np.isfinite(loss_now))
    delta = loss_now - sess.initial_loss if finite and sess.last is not None else None
    k = slots
    k[0].metric("Updates", f"{tr.updates:,}", help="Parameter updates since the start.")
    k[1].metric(
        f"Loss {n.plain('L')} of the last pass",
        f"{loss_now:.4f}" if finite else "NaN",
        delta=None if delta is None else f"{delta:+.4f} since the start",
        delta_color="inverse",
        help="The summed loss Σ_t L(t) of the latest BPTT pass, computed before its "
        "update. Before the first update: the loss of the untrained network on the first "
        "pass.",
    )
    if not every:
        return
    k[2].metric(
        "Chance level",
        f"{chance_pass:.4f}",
        help=f"The loss of a network that knows nothing and gives each of the "
        f"V = {corpus.V} characters probability 1/V: T·ln V = {T_last}·ln {corpus.V} for "
        "softmax with cross-entropy.",
    )
    k[3].metric(
        "Speed",
        "paused" if speeds is None else f"{speeds[0]:,.0f} updates/s",
        delta=None if speeds is None else f"{speeds[1]:.1f} refreshes/s",
        delta_color="off",
        delta_arrow="off",
        help="Measured while playing, over the last few seconds.",
    )


def draw_loss(slot, key: str) -> None:
    """The loss curve into its placeholder."""
    log = tr.log
    updates = log.column("update")
    loss = log.column("loss")
    chance = sess.chance_per_char * log.column("chunk_length").astype(float)
    # the untrained network's loss at update 0, so the curve starts where training started
    if sess.initial_update == 0 and (updates.size == 0 or updates[0] == 1):
        updates = np.concatenate([[0], updates])
        loss = np.concatenate([[sess.initial_loss], loss])
        chance = np.concatenate([[sess.chance_per_char * sess.pass_length], chance])
    span = int(min(50, max(5, sess.chunks_per_sweep)))
    x, (y_loss, y_smooth, y_chance), bucket = downsample(
        updates, loss, smooth(loss, span), chance, max_points=MAX_PLOT_POINTS
    )
    softmax_ce = tr.config.output == "softmax" and tr.config.loss == "cross_entropy"
    with slot.container():
        st.plotly_chart(
            loss_curve(
                x,
                y_loss,
                y_smooth,
                y_chance,
                loss_name=n.html("L"),
                chance_label=f"chance level T·ln V (V = {corpus.V})"
                if softmax_ce
                else "chance level (every output 1/V)",
                bucket=bucket,
                smooth_span=span,
                log_y=log_y,
                events=sess.events,
                min_x_span=30,
            ),
            key=key,
            config=CHART,
        )
        if log.dropped:
            st.caption(
                f"Showing the last {log.capacity:,} updates ({log.dropped:,} older ones were let "
                "go to keep memory bounded)."
            )


def draw_details() -> None:
    """The gradient norms, the predictions, a sample and the weights."""
    log = tr.log
    with grad_box:
        if len(log) == 0:
            st.info("No updates yet: press **Play**, **1 update** or **10 updates**.")
        else:
            cfg = tr.settings
            note = {
                "none": "no clipping",
                "value": f"clipping each entry to ±{cfg.clip_threshold:g} (no norm threshold)",
                "norm": "",
            }[cfg.clip]
            x, (y_norm, y_clip), bucket = downsample(
                log.column("update"),
                log.column("grad_norm"),
                log.column("clipped").astype(float),
                max_points=MAX_PLOT_POINTS,
            )
            st.plotly_chart(
                grad_norm_curve(
                    x,
                    y_norm,
                    y_clip,
                    threshold=cfg.clip_threshold if cfg.clip == "norm" else None,
                    clip_note=note,
                    bucket=bucket,
                ),
                key="train_grad_chart",
                config=CHART,
            )
    with pred_box:
        y, ins, tgs, ids = sess.predictions(window_start, MAX_POSITIONS)
        st.plotly_chart(
            prediction_heatmap(
                y,
                ins,
                tgs,
                vocab_labels,
                ids,
                first_t=window_start + 1,
                probabilities=tr.config.output in ("softmax", "sigmoid"),
                value_name=n.html("y"),
            ),
            key="train_pred_chart",
            config=CHART,
        )
    with sample_box:
        length = int(min(300, max(20, 3 * corpus.T)))
        seed_char = corpus.vocab[vocab_labels.index(seed_label)]
        st.code(sess.sample(length, seed_char, temperature), language=None, wrap_lines=True)
    with weights_box:
        p = tr.params
        if view == WEIGHTS_CHANGE:
            p = p.zip_map(sess.initial_params, np.subtract)
        units = [f"h{j + 1}" for j in range(tr.config.hidden_size)]
        chars = [f"“{ch}”" for ch in vocab_labels]
        st.plotly_chart(
            weight_heatmaps(
                [
                    (n.html("W_xh"), p.W_xh, units, chars),
                    (n.html("W_hh"), p.W_hh, units, units),
                    (n.html("W_hy"), p.W_hy, chars, units),
                ],
                value_name="Δ" if view == WEIGHTS_CHANGE else "weight",
                roles=["input → hidden", "hidden → hidden", "hidden → output"],
            ),
            key="train_weights_chart",
            config=CHART,
        )


# ---------------------------------------------------------------------------- files

st.divider()
st.subheader("Save, load and limits", anchor=False)
d1, d2, d3 = st.columns([1, 1, 2])
d1.download_button(
    "Download parameters (.npz)",
    data=sess.params_file,
    file_name=f"{sess.file_stem()}.npz",
    mime="application/octet-stream",
    on_click="ignore",
    key="train_dl_params",
    icon=":material/download:",
    help="The five weight arrays, the sizes, the activation and the characters. Loads with "
    "bptt_core.load_params (no pickle).",
)
d2.download_button(
    "Download history (.csv)",
    data=sess.history_csv,
    file_name=f"{sess.file_stem()}-history.csv",
    mime="text/csv",
    on_click="ignore",
    key="train_dl_history",
    icon=":material/download:",
    help="One row per update: loss, loss per character, gradient norm, clipping, learning rate.",
)


def _on_upload() -> None:
    file = st.session_state.get("train_upload")
    if file is None:
        return
    try:
        data = file.getvalue()
    except Exception:  # a broken upload must never break the page
        data = b""
    sess.upload_notice = sess.load_upload(data, str(getattr(file, "name", "the file")))


with d3:
    st.file_uploader(
        "Continue from saved parameters (.npz)",
        type=["npz"],
        key="train_upload",
        on_change=_on_upload,
        help="A file downloaded here, for the same text and network settings.",
    )
if sess.upload_notice is not None:
    show = {"success": st.success, "error": st.error, "warning": st.warning, "info": st.info}
    show[sess.upload_notice.level](sess.upload_notice.message)
st.caption(
    f"**Your own text:** type it in the sidebar, up to {MAX_TEXT_CHARS:,} characters (longer "
    "text is refused with a message, never cut). Long texts are trained in chunks of the "
    "sidebar's chunk length, the hidden state carried from one chunk to the next. **Memory:** "
    f"the charts and the history file keep the last {tr.log.capacity:,} updates; beyond "
    f"{MAX_PLOT_POINTS:,} points the charts average neighbouring updates."
)


# ---------------------------------------------------------------------------- the live area


@st.fragment(run_every=RUN_SECONDS if sess.playing else None)
def live() -> None:
    """Draw the training area; while playing, train and stream frames for about a second."""
    draw_details()
    with metrics_box:
        slots = [col.empty() for col in st.columns(4)]
    with loss_box:
        loss_slot = st.empty()
    draw_metrics(slots)
    draw_loss(loss_slot, "train_loss_chart")
    if not sess.playing:
        return
    frame_s = 1.0 / float(rate)
    start = time.monotonic()
    last_curve = start
    frame = 0
    while sess.playing and time.monotonic() - start < RUN_SECONDS:
        frame += 1
        sess.train(int(per_tick))
        if not sess.playing:
            st.rerun()  # it diverged or exploded: stop the timer and explain (full rerun)
        now = time.monotonic()
        slow = now - last_curve >= CURVE_INTERVAL
        draw_metrics(slots, every=slow)
        if slow:
            last_curve = now
            draw_loss(loss_slot, f"f{frame}_train_loss_chart")
        time.sleep(max(0.0, start + frame * frame_s - time.monotonic()))
    draw_loss(loss_slot, "end_train_loss_chart")


live()
