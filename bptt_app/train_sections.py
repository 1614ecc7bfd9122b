"""Train live's sections, rendered (pages/train.py lays them out).

Reads the session's training (``bptt_app.train_session``), asks the view model
(``bptt_viz.train_view``) for every number, sentence and figure input, and renders them. Two
fragments redraw what changes while training plays: the live area (once a second: it trains a
batch and hands the new history rows to the browser panel, ``bptt_app.live_panel``, which counts
and draws them one by one) and the predictions, sample and weights (every 3 s). Each writes only
into elements it creates itself, so a click that reruns the page while a fragment runs never
meets a container from another run.
"""

from __future__ import annotations

import streamlit as st

from bptt_app import train_session
from bptt_app.classroom import explanation
from bptt_app.figures import FigureContext
from bptt_app.live_panel import render_live_panel
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
    Counter,
    TrainPageView,
    file_stem,
    panel_data,
    predictions_view,
    sample_view,
    train_page_view,
    vocab_key,
    weights_view,
)

RUN_SECONDS = 1.0  # while playing, the live area trains a batch once a second
SNAPSHOT_SECONDS = 3.0  # while playing, predictions, sample and weights follow every 3 s
COUNTER_WIDTH = 210  # pixels: four in a row on a wide screen, two and two at 1024 × 768
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
    """While playing, train one batch; then the counters (st.metric while paused, drawn by
    the browser panel while playing) and the panel with the rows it has not seen yet."""
    fresh = sess.play_batch() if sess.playing else []
    if fresh and not sess.playing:
        st.rerun()  # it diverged or exploded: stop the timer and explain (full rerun)
    if not sess.playing:
        render_counters(train_page_view(sess, notation).counters)
    data = panel_data(
        sess,
        notation,
        after=sess.rows_to_send(),
        fresh=len(fresh),
        playing=sess.playing,
        interval=RUN_SECONDS,
    )
    render_live_panel(data, on_resync=sess.request_full_send)
    sess.mark_sent()


def render_counters(counters: tuple[Counter, ...]) -> None:
    """The four counters in a row that wraps (two and two on a narrow screen)."""
    with st.container(horizontal=True, gap="medium"):
        for c in counters:
            render_counter(c)


def render_counter(c: Counter) -> None:
    loss = c.label.startswith("Loss")
    st.metric(
        c.label,
        c.value,
        delta=c.delta,
        delta_color="inverse" if loss else "off",
        delta_arrow="auto" if loss else "off",
        help=c.help,
        width=COUNTER_WIDTH,
    )


def render_curve_captions(view: TrainPageView) -> None:
    with explanation("How to read the curves"):
        left, right = st.columns(2)
        left.caption(view.loss_caption)
        right.caption(view.grad_caption)


def render_curve_figures(sess: TrainSession, view: TrainPageView, fig: FigureContext) -> None:
    """The loss and gradient-norm curves as Plotly figures, for slides (while paused: the
    live panel draws them on a canvas while playing)."""
    if sess.playing or not len(sess.trainer.log):
        return
    box = st.expander(
        "The curves as figures for slides",
        icon=":material/slideshow:",
        key="train_slides_open",
        on_change="rerun",
    )
    if not box.open:  # drawn only while open: two more figures on every paused run otherwise
        return
    with box:
        curve_slides(view, fig)


def curve_slides(view: TrainPageView, fig: FigureContext) -> None:
    """The loss and the gradient norm of the whole history, as Plotly figures."""
    c, labels = view.curves, view.labels
    fig.show(
        loss_curve(
            c.update,
            c.loss,
            c.smoothed,
            c.chance,
            loss_name=labels.loss_name,
            chance_label=labels.chance_label,
            bucket=c.bucket,
            smooth_span=c.smooth_span,
            events=labels.events,
            min_x_span=labels.min_x_span,
        ),
        key="train_loss_figure",
        title="The loss while training",
    )
    fig.show(
        grad_norm_curve(
            c.update,
            c.grad_norm,
            c.clipped,
            threshold=labels.clip_threshold,
            clip_note=labels.clip_note,
            bucket=c.bucket,
        ),
        key="train_grad_figure",
        title="The gradient norm while training",
    )


# ---------------------------------------------------------------------------- predictions, sample


def predictions_section(
    sess: TrainSession, notation: Notation, view: TrainPageView, fig: FigureContext
) -> None:
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
        fig.show(
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
            title="What the network predicts at every position",
            extra=(f"after {sess.trainer.updates:,} updates",),
            share=1.8 / 2.8 - 0.03,  # st.columns([1.8, 1]), less half the gap
        )
        with explanation():
            st.caption(view.predictions_caption)
    with sample_col:
        sample_part(sess, view)


def sample_part(sess: TrainSession, view: TrainPageView) -> None:
    st.markdown("**Text sampled from the network**")
    seed_label = st.selectbox(
        "Start with",
        view.vocab_labels,
        index=0,
        key=f"train_seed_char_{vocab_key(sess)}",
        help="The first character fed in; the network writes the rest.",
    )
    temperature = st.slider(
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


def snapshot_sections(
    sess: TrainSession, notation: Notation, view: TrainPageView, fig: FigureContext
) -> None:
    """What the network predicts, a sample and the weights, as they are now: redrawn every
    SNAPSHOT_SECONDS while playing (redrawing Plotly heatmaps every second would keep the
    browser too busy to animate the counters)."""
    st.subheader("What the network predicts at every position", anchor=False)
    predictions_section(sess, notation, view, fig)
    st.subheader("The weights, changing", anchor=False)
    weights_section(sess, notation, fig)
    with explanation():
        st.caption(view.weights_caption)


def weights_section(sess: TrainSession, notation: Notation, fig: FigureContext) -> None:
    shown = st.segmented_control(
        "Show",
        [WEIGHTS_NOW, WEIGHTS_CHANGE],
        default=WEIGHTS_NOW,
        required=True,
        key="train_weights_view",
        label_visibility="collapsed",
    )
    w = weights_view(sess, notation, change=shown == WEIGHTS_CHANGE)
    fig.show(
        weight_heatmaps(w.matrices, value_name=w.value_name, roles=w.roles),
        key="train_weights_chart",
        title="The weights" if shown == WEIGHTS_NOW else "How much each weight has changed",
        extra=(f"after {sess.trainer.updates:,} updates",),
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
