"""Truncation & vanishing gradients: how far error travels back in time, and what cutting it costs.

The page lays out the sections of ``bptt_app.truncation_sections``: the sidebar's Settings, its own two sliders (the truncation k, which
starts at the sidebar's k and never writes it, and the spectral radius ρ of W_hh), asks the glue
for the views of sections 1–4 and renders them; section 5 follows its background experiment.
"""

from __future__ import annotations

import streamlit as st

from bptt_app.figures import FigureContext
from bptt_app.navigation import require_shell
from bptt_app.state import current_settings
from bptt_app.truncation_page import (
    figure_settings,
    page_text,
    truncation_views,
)
from bptt_app.truncation_sections import (
    blocked,
    experiment_fragment,
    render_introduction,
    render_learning_intro,
    render_radius_slider,
    render_sections,
    render_summary,
    render_truncation_slider,
)

require_shell()

settings = current_settings()
notation = settings.notation_obj
render_introduction(notation)
if blocked(settings):
    st.stop()
text = page_text(settings.text, settings.k)
for note in text.notes:
    st.info(note, icon=":material/info:")
with st.container(border=True):
    k_column, radius_column = st.columns(2, gap="large")
    with k_column:
        k = render_truncation_slider(text, settings.k)
    with radius_column:
        radius = render_radius_slider(notation)
    views = truncation_views(text.text, settings.training(), notation, k, radius)
    render_summary(views.summary)
if views.summary.overflow_warning:
    st.warning(views.summary.overflow_warning, icon=":material/warning:")
figures = FigureContext(settings, figure_settings(k, radius, settings.training()), training=False)
render_sections(views, figures)
render_learning_intro()
experiment_fragment(notation, figures)
