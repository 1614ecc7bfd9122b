"""Every Plotly figure of the pages, drawn one way: ready for slides, enlarged when presenting.

``show_figure`` puts the figure's title and the settings it was drawn with into the figure
(``bptt_viz.figures.slides.for_slides``), enlarges it in presentation mode, and hands Plotly a
config whose camera button (the modebar's toImage, shown on hover) downloads it as PNG at 1920
pixels wide or as SVG, whichever the sidebar's "Figures download as" says. plotly.js draws the
file in the browser: no server-side renderer (kaleido would need a Chrome on the server), nothing
fetched from another host.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from bptt_app.classroom import figure_format, presenting
from bptt_app.settings import Settings
from bptt_app.theme import page_theme
from bptt_viz.figures.slides import (
    WRAP_WIDTH,
    enlarged,
    export_config,
    file_name,
    for_slides,
    network_words,
    settings_line,
    training_words,
)

PRESENT_FACTOR = 1.3  # fonts, margins and heights on a projector


def caption(settings: Settings, extra: Sequence[str] = (), training: bool = True) -> str:
    """The settings line under a figure (``training``: the figure depends on training too)."""
    t = settings.training()
    more = training_words(t) if training else ()
    return settings_line(settings.text, network_words(t), more, extra)


def show_figure(
    fig: go.Figure,
    *,
    key: str,
    title: str,
    settings: Settings,
    extra: Sequence[str] = (),
    training: bool = True,
    container: object = None,
    line: str | None = None,
    share: float = 1.0,
    **kwargs: object,
) -> None:
    """Draw ``fig`` with its ``title`` and settings ``line`` (default: the sidebar's settings,
    with training's if ``training``, and ``extra``), downloadable for slides. ``share``: the
    part of the main column the figure gets (a column of st.columns), for wrapping the line."""
    line = line if line is not None else caption(settings, extra, training)
    wrap = WRAP_WIDTH * share if share < 1 else None
    slide = for_slides(fig, title, line, theme=page_theme(), wrap_width=wrap)
    if presenting():
        slide = enlarged(slide, PRESENT_FACTOR)
    fmt = figure_format()
    name = file_name("bptt", key.removeprefix("trunc_").removeprefix("train_"), settings.text[:20])
    target = container if container is not None else st
    target.plotly_chart(  # type: ignore[attr-defined]
        slide, key=key, config=export_config(slide, fmt, name), **kwargs
    )


@dataclass(frozen=True)
class FigureContext:
    """What every figure of a page is drawn with: the sidebar's settings and the page's own."""

    settings: Settings
    extra: tuple[str, ...] = ()  # e.g. “ρ(W_hh) = 0.5 on this page”
    training: bool = True  # the figures depend on the training settings (η, optimizer, …)

    def show(
        self,
        fig: go.Figure,
        *,
        key: str,
        title: str,
        extra: Sequence[str] = (),
        **kwargs: object,
    ) -> None:
        show_figure(
            fig,
            key=key,
            title=title,
            settings=self.settings,
            extra=(*self.extra, *extra),
            training=self.training,
            **kwargs,
        )
