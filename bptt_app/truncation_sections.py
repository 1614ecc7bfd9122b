"""The "Truncation & vanishing gradients" page's sections, rendered (pages/truncation.py lays
them out): its two sliders, the network's summary, sections 1–4 from the views of
``bptt_app.truncation_page``, and section 5, a fragment following the background experiment.
"""

from __future__ import annotations

import streamlit as st

from bptt_app.classroom import explanation
from bptt_app.experiments import (
    EXPERIMENTS,
    Job,
    LearningSpec,
    learning_board,
    session_job,
    session_waiting,
    start_experiment,
)
from bptt_app.figures import FigureContext
from bptt_app.settings import Settings, settings_problems, text_problems
from bptt_app.state import show_problems
from bptt_app.truncation_page import (
    FIGURE_TITLES,
    PAGE_K_KEY,
    RADIUS_KEY,
    PageText,
    TruncationViews,
    follow_sidebar_truncation,
    hello_settings_line,
    recall_settings_line,
)
from bptt_viz.notation import Notation
from bptt_viz.truncation_page import clipping, flow_map, jacobians, learning, truncated_gradient
from bptt_viz.truncation_page.clipping import ClippingView
from bptt_viz.truncation_page.controls import (
    introduction,
    page_truncation,
    radius_control,
    truncation_caption,
    truncation_control,
    untruncatable_note,
)
from bptt_viz.truncation_page.flow_map import FlowMapView
from bptt_viz.truncation_page.jacobians import JacobianView
from bptt_viz.truncation_page.summary import NetworkSummary
from bptt_viz.truncation_page.truncated_gradient import TruncatedGradientView

EXPERIMENT_KEY = "trunc_experiment"
LEFT_SHARE = 1.2 / 2.2 - 0.03  # the left of st.columns([1.2, 1]), less half the gap
POLL_SECONDS = 0.5


def render_introduction(n: Notation) -> None:
    st.title("Truncation & vanishing gradients")
    with explanation("What this page shows"):
        for paragraph in introduction(n):
            st.markdown(paragraph)


def render_truncation_slider(page: PageText, sidebar_k: int | None) -> int | None:
    """The page's own k (None: full BPTT)."""
    if page.T < 2:
        st.markdown(untruncatable_note())
        return None
    control = truncation_control(page.T, sidebar_k)
    follow_sidebar_truncation(control, sidebar_k)
    value = st.slider(control.label, 1, control.T, key=PAGE_K_KEY, help=control.help)
    k = page_truncation(value, page.T)
    st.caption(truncation_caption(k, sidebar_k, page.T))
    return k


def render_radius_slider(n: Notation) -> float:
    c = radius_control(n)
    value = st.slider(
        c.label,
        c.minimum,
        c.maximum,
        c.default,
        c.step,
        key=RADIUS_KEY,
        bind="query-params",
        help=c.help,
    )
    return float(value)


def render_summary(summary: NetworkSummary) -> None:
    for column, metric in zip(st.columns(len(summary.metrics)), summary.metrics, strict=True):
        column.metric(metric.label, metric.value, help=metric.help)
    st.markdown(summary.verdict)
    st.caption(summary.radius_caption)


def render_flow_map(view: FlowMapView, fig: FigureContext) -> None:
    st.header(flow_map.TITLE, divider="gray")
    with explanation("How to read the map"):
        st.markdown(view.reading)
    # its own width (square cells, colour bar beside them), narrower if the column is
    fig.show(view.figure, key="trunc_flow_map", title=FIGURE_TITLES["flow"], width="content")
    with explanation("The band, the sum and what it means"):
        st.markdown(view.band)
        st.markdown(view.sum_intro)  # display equations get the full width (1024 px screens)
        st.latex(view.equation)
        st.markdown(view.notice)


def render_truncated_gradient(view: TruncatedGradientView, fig: FigureContext) -> None:
    st.header(truncated_gradient.TITLE, divider="gray")
    fig.show(view.figure, key="trunc_comparison", title=FIGURE_TITLES["comparison"])
    left, right = st.columns([1.2, 1], gap="medium")
    with left, explanation():
        st.markdown(view.explanation)
        st.markdown(view.notice)
    with right:
        st.markdown(view.table_heading)
        st.table(view.table.style.format(truncated_gradient.TABLE_FORMAT))


def render_jacobians(view: JacobianView, fig: FigureContext) -> None:
    st.header(jacobians.TITLE, divider="gray")
    with explanation("The product, its bound and the theory"):
        st.markdown(view.product_intro)  # display equations get the full width (1024 px)
        st.latex(view.product)
        st.markdown(view.bound_intro)
        st.latex(view.bound)
        st.markdown(view.theory)
    left, right = st.columns([1.2, 1], gap="medium")
    with left:
        fig.show(
            view.figure, key="trunc_jacobian", title=FIGURE_TITLES["jacobian"], share=LEFT_SHARE
        )
        if view.coverage:
            st.caption(view.coverage)
    with right:
        st.markdown(view.now)
        with explanation("What to try"):
            st.markdown(view.suggestion)


def render_clipping(view: ClippingView | str, fig: FigureContext) -> None:
    st.header(clipping.TITLE, divider="gray")
    if isinstance(view, str):
        st.warning(view, icon=":material/warning:")
        return
    fig.show(view.figure, key="trunc_clipping", title=FIGURE_TITLES["clipping"])
    left, right = st.columns([1.2, 1], gap="medium")
    with left, explanation():
        st.markdown(view.explanation)
        st.markdown(view.this_gradient)
    with right:
        st.table(view.table.style.format(clipping.TABLE_FORMAT))
    with explanation("Norm or value?"):
        st.markdown(view.notice)


def render_learning_intro() -> None:
    st.header(learning.TITLE, divider="gray")
    with explanation("The recall task"):
        st.markdown(learning.task_description(EXPERIMENTS["quick"].grid))
        st.markdown(learning.CUTS)


def render_experiment_result(job: Job, n: Notation, fig: FigureContext) -> None:
    result = job.result
    st.progress(1.0, text=learning.done_label(job.total, result.seconds))
    recall = learning.recall_view(result.recall)
    fig.show(
        recall.figure,
        key="trunc_recall",
        title=FIGURE_TITLES["recall"],
        line=recall_settings_line(job.spec),
    )
    with explanation("What the runs say"):
        st.markdown(recall.reading)
        st.markdown("\n".join(f"- {finding}" for finding in recall.findings))
    st.markdown("**Median settled recall loss**")
    st.table(recall.table.style.format(learning.TABLE_FORMAT))
    hello = learning.hello_view(result.hello, n)
    st.subheader(learning.HELLO_TITLE)
    left, right = st.columns([1.2, 1], gap="medium")
    fig.show(
        hello.figure,
        key="trunc_hello",
        title=FIGURE_TITLES["hello"],
        line=hello_settings_line(job.spec),
        container=left,
        share=LEFT_SHARE,
    )
    with right, explanation():
        st.markdown(hello.text)


def render_experiment_button(spec: LearningSpec, running: bool) -> None:
    """The start button: a click starts (or joins) the experiment and reruns the whole page."""
    if not st.button(
        "Train the recall task",
        key="trunc_run",
        type="primary",
        icon=":material/play_arrow:",
        disabled=running,
    ):
        return
    if start_experiment(learning_board(), spec) is None:
        st.warning(learning.BUSY, icon=":material/hourglass_empty:")
        return
    st.rerun()  # a full run: starts the polling timer (or shows a finished result)


def render_experiment(n: Notation, polling: bool, fig: FigureContext) -> None:
    """Start the experiment, follow its progress, draw its result. Run as a fragment
    (``experiment_fragment``); ``polling``: its timer runs (fixed at the last full run; a
    fragment rerun keeps its arguments)."""
    board = learning_board()
    choice = st.radio(
        "Experiment",
        list(EXPERIMENTS),
        format_func=lambda name: learning.experiment_label(
            name.capitalize(), EXPERIMENTS[name].grid, EXPERIMENTS[name].total
        ),
        key=EXPERIMENT_KEY,
    )
    spec = EXPERIMENTS[choice]
    job = session_job(board, spec)
    render_experiment_button(spec, job is not None and job.in_flight)
    if job is None:
        st.info(learning.START_HINT, icon=":material/touch_app:")
    elif job.in_flight:
        ahead = board.waiting_ahead(job)
        st.progress(
            job.fraction, text=learning.progress_label(job.state, ahead, job.done, job.total)
        )
        if not polling:
            st.rerun()  # started elsewhere (another session): poll from now on
    elif polling and not session_waiting(board):
        st.rerun()  # everything this session asked for is finished: stop the timer
    elif job.state == "failed":
        st.error(f"The experiment failed:\n\n{job.error}", icon=":material/error:")
    else:
        render_experiment_result(job, n, fig)


def blocked(settings: Settings) -> bool:
    """Show the settings' problems; True if the page cannot compute."""
    return show_problems(text_problems(settings.text) + settings_problems(settings))


def render_sections(views: TruncationViews, fig: FigureContext) -> None:
    render_flow_map(views.flow_map, fig)
    render_truncated_gradient(views.truncated_gradient, fig)
    render_jacobians(views.jacobians, fig)
    render_clipping(views.clipping, fig)


def experiment_fragment(n: Notation, fig: FigureContext) -> None:
    """Section 5 as a fragment: while an experiment of this session is in flight it reruns
    alone every POLL_SECONDS until it is done."""
    polling = session_waiting(learning_board())
    every = POLL_SECONDS if polling else None
    st.fragment(render_experiment, run_every=every)(n, polling, fig)
