"""Figures for slides (bptt_viz.figures.slides): title and settings line in the figure, the
browser export's size, and the projector's larger type."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from bptt_viz.figures import slides


def figure(**layout: object) -> go.Figure:
    return go.Figure(go.Scatter(x=[1, 2], y=[3, 4]), layout={"height": 300, **layout})


def settings_annotation(fig: go.Figure) -> go.layout.Annotation:
    (found,) = [a for a in fig.layout.annotations if a.name == "settings"]
    return found


def test_the_title_and_the_settings_line_are_added_in_bands_of_their_own():
    fig = figure(margin={"l": 50, "r": 20, "t": 16, "b": 40})
    out = slides.for_slides(fig, "The loss", "“hello” · H = 8 · BPTT Explainer")
    assert out.layout.title.text == "The loss"
    note = settings_annotation(out)
    assert note.text == "“hello” · H = 8 · BPTT Explainer"
    assert note.yshift == -40, "the line starts under everything the figure had"
    assert out.layout.margin.b == 40 + slides.CAPTION_LINE + 6
    assert out.layout.margin.t == slides.TITLE_HEIGHT
    added = slides.CAPTION_LINE + 6 + slides.TITLE_HEIGHT - 16
    assert out.layout.height == 300 + added, "the plot area keeps its size"
    assert fig.layout.title.text is None, "the figure passed in is not changed"


def test_a_figure_with_its_own_title_keeps_it():
    out = slides.for_slides(figure(title={"text": "Own"}), "Other", "x · BPTT Explainer")
    assert out.layout.title.text == "Own"


def test_a_long_settings_line_wraps_at_its_dots_and_a_bottom_legend_moves_up():
    line = " · ".join(f"setting number {i}" for i in range(12))
    fig = figure(width=400, legend={"yref": "container", "y": 0.0, "yanchor": "bottom"})
    out = slides.for_slides(fig, "T", line)
    lines = settings_annotation(out).text.split("<br>")
    assert len(lines) > 1 and " · ".join(lines) == line
    limit = 400 / (slides.CAPTION_SIZE * slides.CHAR_WIDTH)
    assert all(len(x) <= limit for x in lines)
    band = slides.CAPTION_LINE * len(lines) + 6
    assert out.layout.legend.y == pytest.approx(band / out.layout.height)


@pytest.mark.parametrize(("theme", "colour"), [("light", "#ffffff"), ("dark", "#171614")])
def test_the_background_is_the_pages_so_an_export_reads_on_its_own(theme, colour):
    assert slides.for_slides(figure(), "T", "x", theme=theme).layout.paper_bgcolor == colour
    assert slides.for_slides(figure(), "T", "x").layout.paper_bgcolor is None


def test_enlarged_scales_every_font_margin_and_the_height():
    fig = slides.for_slides(figure(xaxis={"tickfont": {"size": 10}}), "T", "a · b")
    big = slides.enlarged(fig, 1.5)
    assert big.layout.font.size == 18, "plotly's default 12, enlarged"
    assert big.layout.xaxis.tickfont.size == 15
    assert big.layout.title.font.size == slides.TITLE_SIZE * 1.5
    assert settings_annotation(big).font.size == slides.CAPTION_SIZE * 1.5
    assert settings_annotation(big).yshift == settings_annotation(fig).yshift * 1.5
    assert big.layout.height == round(fig.layout.height * 1.5)
    assert big.layout.margin.b == round(fig.layout.margin.b * 1.5)
    assert big.layout.xaxis.automargin is True


@pytest.mark.parametrize(
    ("width", "fmt", "size"),
    [
        (None, "png", (1280, 420, 1.5)),
        (520, "png", (520, 420, 1920 / 520)),
        (None, "svg", (1280, 420, 1.0)),
    ],
)
def test_the_export_is_slide_sized(width, fmt, size):
    fig = figure(width=width, height=300)
    assert slides.export_size(fig, fmt) == size
    config = slides.export_config(fig, fmt, "bptt-loss-hello")
    options = config["toImageButtonOptions"]
    assert options == {
        "format": fmt,
        "filename": "bptt-loss-hello",
        "width": size[0],
        "height": size[1],
        "scale": size[2],
    }
    assert config["modeBarButtons"] == [["toImage"]] and config["displaylogo"] is False
    with pytest.raises(ValueError, match="Unknown figure format 'jpeg'"):
        slides.export_config(fig, "jpeg", "x")


def test_file_names_are_safe():
    assert slides.file_name("bptt", "flow_map", "hello, world!") == "bptt-flow-map-hello-world"
    assert slides.file_name("bptt", "", "😀") == "bptt"
    assert slides.file_name() == "figure"


@pytest.mark.parametrize(
    ("changes", "init_word"),
    [
        ({}, None),
        ({"spectral_radius": 0.5}, "ρ(W_hh) = 0.5 at init"),
        ({"init": "scale", "init_scale": 0.3}, "σ = 0.3 at init"),
        ({"hidden_size": 2, "initial_weights": (0.5,) * 14}, "weights set by hand"),
    ],
)
def test_the_settings_words_name_how_the_network_started(changes, init_word):
    from bptt_core.trainer import TrainingConfig

    t = TrainingConfig(**changes)
    words = slides.network_words(t)
    assert words[0] == f"H = {t.hidden_size}" and words[-1] == f"seed {t.seed}", words
    named = [w for w in words if "init" in w or "hand" in w]
    assert named == ([init_word] if init_word else []), (changes, words)


def test_the_training_words_name_truncation_step_size_and_clipping():
    from bptt_core.trainer import TrainingConfig

    assert slides.training_words(TrainingConfig()) == (
        "full BPTT",
        "η = 0.05 (adam)",
        "clip norm 5",
    )
    plain = TrainingConfig(truncation=3, optimizer="sgd", learning_rate=0.1, clip="none")
    assert slides.training_words(plain) == ("k = 3", "η = 0.1 (sgd)", "no clipping")


def test_on_a_light_page_the_greys_are_dark_enough_for_wcag_aa():
    fig = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]), layout={"height": 300})
    fig.add_annotation(text="chosen", font={"color": "#D55E00"}, x=0, y=0)
    fig.add_annotation(text="template's", x=1, y=1)
    light = slides.for_slides(fig, "A map", "“hello” · BPTT Explainer", theme="light")
    ink = slides.INK["light"]
    assert light.layout.xaxis.tickfont.color == ink and light.layout.yaxis.title.font.color == ink
    assert light.data[0].colorbar.tickfont.color == ink and light.layout.legend.font.color == ink
    colours = {a.text: a.font.color for a in light.layout.annotations}
    assert colours["chosen"] == "#D55E00", "a colour the figure chose is kept"
    assert colours["template's"] == ink and settings_annotation(light).font.color == ink
    dark = slides.for_slides(fig, "A map", "“hello” · BPTT Explainer", theme="dark")
    assert dark.layout.xaxis.tickfont.color is None, "the dark theme's greys already pass"
    assert settings_annotation(dark).font.color == slides.INK["dark"]
