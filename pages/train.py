"""Train live: play / pause / single updates of BPTT training on the sidebar's text.

The page reads the session's training (``bptt_app.train_session``), asks the view model
(``bptt_viz.train_view``) for every number, sentence and figure input, and renders them. Three
fragments redraw the parts that change while training plays; each writes only into elements it
creates itself, so a click that reruns the page while a fragment runs never meets a container
from another run.
"""

from __future__ import annotations

import time

import streamlit as st

from bptt_app import train_session
from bptt_app.navigation import require_shell
from bptt_app.settings import MAX_TEXT_CHARS, settings_problems, text_problems
from bptt_app.state import current_settings, show_problems
from bptt_app.train_session import SPEEDS, TrainSession
from bptt_viz.figures.train_charts import (
    grad_norm_curve,
    loss_curve,
    prediction_heatmap,
    weight_heatmaps,
)
from bptt_viz.notation import Notation
from bptt_viz.train_view import (
    MAX_POSITIONS,
    TrainPageView,
    file_stem,
    intro,
    predictions_view,
    sample_view,
    train_page_view,
    vocab_key,
    weights_view,
)

require_shell()

RUN_SECONDS = 1.0  # while playing, the live area reruns once a second and streams frames
SLOW_SECONDS = 2.0  # while playing, predictions and weights are redrawn every 2 s
FRAMES_PER_SECOND = 20
CURVE_INTERVAL = 0.25  # seconds between redraws of the curves inside a streamed run
CHART = {"displayModeBar": False}
WEIGHTS_NOW, WEIGHTS_CHANGE = "weights now", "change since the start"


# ---------------------------------------------------------------------------- controls


def render_controls(sess: TrainSession) -> None:
    """Play / Pause, one or ten updates, Reset, and the speed while playing."""
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        label, icon = (
            ("Pause", ":material/pause:") if sess.playing else ("Play", ":material/play_arrow:")
        )
        st.button(label, icon=icon, on_click=sess.toggle_play, key="train_play", type="primary")
        st.button("1 update", on_click=sess.train, args=(1,), key="train_one")
        st.button("10 updates", on_click=sess.train, args=(10,), key="train_ten")
        st.button("Reset", icon=":material/restart_alt:", on_click=sess.reset, key="train_reset")
        sess.speed = st.selectbox(
            "Speed while playing",
            SPEEDS,
            index=SPEEDS.index(sess.speed) if sess.speed in SPEEDS else 0,
            format_func=lambda v: f"{v} updates/s",
            key="train_speed",
            width=180,
            help="Updates per second while playing (fewer when the server is busy; the "
            "measured speed is shown).",
        )


def render_warnings(view: TrainPageView) -> None:
    if view.trouble is not None:
        st.error(view.trouble, icon=":material/warning:")
    if view.stuck is not None:
        st.warning(view.stuck, icon=":material/trending_flat:")


# ---------------------------------------------------------------------------- the live area


def live_area(sess: TrainSession, notation: Notation) -> None:
    """Counters, the loss curve and the gradient norms; while playing, a second of training
    streamed into elements made here."""
    slots = [col.empty() for col in st.columns(4)]
    left, right = st.columns(2)
    with left:
        st.subheader("Loss", anchor=False)
        loss_slot = st.empty()
        log_y = st.toggle(
            "logarithmic axis",
            value=True,
            key="train_log_y",
            help="A log axis shows the progress from 5 down to 0.001 as evenly as from 5 to 1.",
        )
    with right:
        st.subheader("Gradient norm", anchor=False)
        grad_slot = st.empty()
    draw_live(sess, notation, slots, loss_slot, grad_slot, log_y, key="")
    if sess.playing:
        stream(sess, notation, slots, loss_slot, grad_slot, log_y)


def stream(sess, notation, slots, loss_slot, grad_slot, log_y) -> None:
    """About RUN_SECONDS of training, the counters redrawn every frame, the curves a few
    times a second."""
    fps = min(FRAMES_PER_SECOND, sess.speed)
    per_frame = max(1, round(sess.speed / fps))
    start = last_curves = time.monotonic()
    frame = 0
    while sess.playing and time.monotonic() - start < RUN_SECONDS:
        frame += 1
        sess.train(per_frame)
        if not sess.playing:
            st.rerun()  # it diverged or exploded: stop the timer and explain (full rerun)
        view = train_page_view(sess, notation, speed=sess.rates())
        draw_counters(view, slots)
        if time.monotonic() - last_curves >= CURVE_INTERVAL:
            last_curves = time.monotonic()
            draw_curves(view, loss_slot, grad_slot, log_y, key=f"f{frame}")
        time.sleep(max(0.0, start + frame / fps - time.monotonic()))
    draw_live(sess, notation, slots, loss_slot, grad_slot, log_y, key="end")


def draw_live(sess, notation, slots, loss_slot, grad_slot, log_y, key: str) -> None:
    view = train_page_view(sess, notation, speed=sess.rates() if sess.playing else None)
    draw_counters(view, slots)
    draw_curves(view, loss_slot, grad_slot, log_y, key=key)


def draw_counters(view: TrainPageView, slots: list) -> None:
    for slot, c in zip(slots, view.counters, strict=True):
        slot.metric(
            c.label,
            c.value,
            delta=c.delta,
            delta_color="inverse" if c.label.startswith("Loss") else "off",
            delta_arrow="auto" if c.label.startswith("Loss") else "off",
            help=c.help,
        )


def draw_curves(view: TrainPageView, loss_slot, grad_slot, log_y: bool, key: str) -> None:
    c, lab = view.curves, view.labels
    with loss_slot.container():
        st.plotly_chart(
            loss_curve(
                c.update,
                c.loss,
                c.smoothed,
                c.chance,
                loss_name=lab.loss_name,
                chance_label=lab.chance_label,
                bucket=c.bucket,
                smooth_span=c.smooth_span,
                log_y=log_y,
                events=lab.events,
                min_x_span=lab.min_x_span,
            ),
            key=f"{key}train_loss_chart",
            config=CHART,
        )
        if view.dropped:
            st.caption(view.dropped)
    with grad_slot.container():
        if view.no_updates:
            st.info(view.no_updates)
            return
        grads = c.update > 0
        st.plotly_chart(
            grad_norm_curve(
                c.update[grads],
                c.grad_norm[grads],
                c.clipped[grads],
                threshold=lab.clip_threshold,
                clip_note=lab.clip_note,
                bucket=c.bucket,
            ),
            key=f"{key}train_grad_chart",
            config=CHART,
        )


def render_curve_captions(view: TrainPageView) -> None:
    left, right = st.columns(2)
    left.caption(view.loss_caption)
    right.caption(view.grad_caption)


# ---------------------------------------------------------------------------- predictions, sample


def predictions_section(sess: TrainSession, notation: Notation, view: TrainPageView) -> None:
    pred_col, sample_col = st.columns([1.8, 1])
    with pred_col:
        start = 0
        if view.window_max is not None:
            start = st.slider(
                "First position shown",
                0,
                view.window_max,
                0,
                step=1,
                key="train_window",
                help=f"The text has {view.window_max + MAX_POSITIONS:,} positions; {MAX_POSITIONS} are shown at a time.",
            )
        p = predictions_view(sess, start, notation)
        st.plotly_chart(
            prediction_heatmap(
                p.y,
                p.input_chars,
                p.target_chars,
                p.vocab,
                p.target_ids,
                first_t=p.first_t,
                probabilities=p.probabilities,
                value_name=p.value_name,
            ),
            key="train_pred_chart",
            config=CHART,
        )
        st.caption(view.predictions_caption)
    with sample_col:
        sample_part(sess, view)


def sample_part(sess: TrainSession, view: TrainPageView) -> None:
    st.markdown("**Text sampled from the network**")
    first, second = st.columns(2)
    seed_label = first.selectbox(
        "Start with",
        view.vocab_labels,
        index=0,
        key=f"train_seed_char_{vocab_key(sess)}",
        help="The first character fed in; the network writes the rest.",
    )
    temperature = second.slider(
        "Temperature",
        0.1,
        2.0,
        1.0,
        0.1,
        key="train_temperature",
        help="Divides the logits before the softmax: below 1 the network picks its favourite "
        "more often, above 1 its choices get more random.",
    )
    st.code(sample_view(sess, seed_label, temperature), language=None, wrap_lines=True)
    st.button("Another sample", on_click=next_sample, args=(sess,), key="train_new_sample")
    st.caption(view.sample_caption)


def next_sample(sess: TrainSession) -> None:
    sess.sample_seed += 1


def weights_section(sess: TrainSession, notation: Notation, view: TrainPageView) -> None:
    shown = st.segmented_control(
        "Show",
        [WEIGHTS_NOW, WEIGHTS_CHANGE],
        default=WEIGHTS_NOW,
        required=True,
        key="train_weights_view",
        label_visibility="collapsed",
    )
    w = weights_view(sess, notation, change=shown == WEIGHTS_CHANGE)
    st.plotly_chart(
        weight_heatmaps(w.matrices, value_name=w.value_name, roles=w.roles),
        key="train_weights_chart",
        config=CHART,
    )


# ---------------------------------------------------------------------------- files


def render_files(sess: TrainSession, view: TrainPageView) -> None:
    st.divider()
    st.subheader("Save, load and limits", anchor=False)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.download_button(
            "Download parameters (.npz)",
            data=sess.params_file,
            file_name=f"{file_stem(sess)}.npz",
            mime="application/octet-stream",
            on_click="ignore",
            key="train_dl_params",
            icon=":material/download:",
            help="The five weight arrays, the sizes, the activation and the characters. Loads with "
            "bptt_core.load_params (no pickle).",
        )
        st.download_button(
            "Download history (.csv)",
            data=sess.history_csv,
            file_name=f"{file_stem(sess)}-history.csv",
            mime="text/csv",
            on_click="ignore",
            key="train_dl_history",
            icon=":material/download:",
            help="One row per update: loss, loss per character, gradient norm, clipping, learning rate.",
        )
    st.file_uploader(
        "Continue from saved parameters (.npz)",
        type=["npz"],
        key="train_upload",
        on_change=load_upload,
        args=(sess,),
        help="A file downloaded here, for the same text and network settings.",
    )
    show_notice(sess.upload_notice)
    st.caption(view.limits_caption)


def load_upload(sess: TrainSession) -> None:
    file = st.session_state.get("train_upload")
    if file is None:
        return
    try:
        data = file.getvalue()
    except Exception:  # a broken upload must never break the page
        data = b""
    sess.upload_notice = sess.load_upload(data, str(getattr(file, "name", "the file")))


def show_notice(notice: train_session.Notice | None) -> None:
    if notice is None:
        return
    icons = {"warning": ":material/restart_alt:", "info": ":material/tune:"}
    show = {"success": st.success, "error": st.error, "warning": st.warning, "info": st.info}
    show[notice.level](notice.message, icon=icons.get(notice.level))


# ---------------------------------------------------------------------------- the page


def main() -> None:
    settings = current_settings()
    notation = settings.notation_obj
    st.title("Train live")
    st.markdown(intro(notation))
    if show_problems(text_problems(settings.text) + settings_problems(settings)):
        st.caption(
            f"Your own text can have up to {MAX_TEXT_CHARS:,} characters; longer texts are "
            "refused, never cut silently."
        )
        return
    sess = train_session.session(st.session_state, settings)
    show_notice(sess.sync(settings, notation))
    view = train_page_view(
        sess, notation, speed=sess.rates() if sess.playing else None, max_text_chars=MAX_TEXT_CHARS
    )
    st.caption(view.summary)
    render_controls(sess)
    render_warnings(view)
    every = RUN_SECONDS if sess.playing else None
    st.fragment(live_area, run_every=every)(sess, notation)
    render_curve_captions(view)
    st.subheader("What the network predicts at every position", anchor=False)
    slow = SLOW_SECONDS if sess.playing else None
    st.fragment(predictions_section, run_every=slow)(sess, notation, view)
    st.subheader("The weights, changing", anchor=False)
    st.fragment(weights_section, run_every=slow)(sess, notation, view)
    st.caption(view.weights_caption)
    render_files(sess, view)


main()
