"""Train live: play / pause / single updates of BPTT training on the sidebar's text.

The page lays out the parts ``bptt_app.train_sections`` renders: the controls, the live area (a
fragment that trains a batch once a second while playing), the curves, the predictions, sample
and weights (a fragment every 3 s), and the files.
"""

from __future__ import annotations

import streamlit as st

from bptt_app import train_session
from bptt_app.classroom import explanation
from bptt_app.figures import FigureContext
from bptt_app.navigation import require_shell
from bptt_app.settings import MAX_TEXT_CHARS, settings_problems, text_problems
from bptt_app.state import current_settings, show_problems
from bptt_app.train_sections import (
    RUN_SECONDS,
    SNAPSHOT_SECONDS,
    live_area,
    render_controls,
    render_curve_captions,
    render_curve_figures,
    render_files,
    render_warnings,
    show_notice,
    snapshot_sections,
)
from bptt_viz.train_view import (
    intro,
    train_page_view,
)

require_shell()


def main() -> None:
    settings = current_settings()
    notation = settings.notation_obj
    st.title("Train live")
    with explanation("What this page shows"):
        st.markdown(intro(notation))
        about = st.container()  # the text's summary, once it is known
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
    about.caption(view.summary)
    render_controls(sess)
    render_warnings(view)
    sess.request_full_send()  # a full run redraws the panel: it gets the whole history
    every = RUN_SECONDS if sess.playing else None
    st.fragment(live_area, run_every=every)(sess, notation)
    render_curve_captions(view)
    figures = FigureContext(settings)
    render_curve_figures(sess, view, figures)
    slow = SNAPSHOT_SECONDS if sess.playing else None
    st.fragment(snapshot_sections, run_every=slow)(sess, notation, view, figures)
    render_files(sess, view)


main()
