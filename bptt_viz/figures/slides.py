"""Figures for slides and projectors: a title and a settings line in the figure, bigger type,
and the browser's own export at slide resolution.

Pure functions on Plotly figures (no Streamlit). The app's pages draw every Plotly figure
through them: ``for_slides`` puts the figure's title at its top and the settings it was drawn with
in a grey line at its bottom (so a downloaded image says what it shows); ``enlarged`` scales every
font, margin and the height for a projector; ``export_config`` is the Plotly ``config`` whose
camera button (the modebar's toImage, drawn by plotly.js in the browser, offline) downloads the
figure as PNG at 1920 pixels wide or as SVG.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

import plotly.graph_objects as go

from bptt_core.trainer import TrainingConfig

SLIDE_WIDTH_PX = 1920  # a PNG is this wide: full HD, the width of most projectors and slides
EXPORT_WIDTH = 1280  # CSS pixels the figure is laid out at for export (when it has no width)
EXPORT_MIN_HEIGHT = 420
CAPTION_SIZE = 11
CAPTION_LINE = 15  # pixels per line of the settings caption
CAPTION_COLOR = "#8a8a8a"  # the settings line when the page's theme is not known
# Text colours that meet WCAG AA (4.5:1) on each theme's background: Streamlit 1.67's Plotly
# theme draws ticks, axis titles and legends in #808495, 3.7:1 on white (fine on dark).
INK = {"light": "#555867", "dark": "#a6a6a6"}
CHAR_WIDTH = 0.55  # average character width, in font sizes (for wrapping the caption)
WRAP_WIDTH = 520  # pixels: the caption is wrapped for this width when the figure has none (the
# main column of a 1024 px screen beside the sidebar is about 560 px)
DEFAULT_HEIGHT = 450  # plotly.js's height when a figure sets none
TITLE_SIZE = 15
TITLE_HEIGHT = 44  # top margin for a title
FORMATS = ("png", "svg")
BACKGROUNDS = {
    "light": "#ffffff",
    "dark": "#171614",
}  # Streamlit 1.67's page backgrounds (measured)


def _margin(layout: dict) -> dict:
    margin = dict(layout.get("margin") or {})
    for side, default in (("l", 80), ("r", 80), ("t", 100), ("b", 80)):
        margin.setdefault(side, default)  # plotly.js's own defaults
    return margin


def wrap_caption(caption: str, width_px: float) -> list[str]:
    """The settings line cut at its " · " into lines that fit ``width_px`` at CAPTION_SIZE."""
    limit = max(30, int(width_px / (CAPTION_SIZE * CHAR_WIDTH)))
    lines: list[str] = []
    for part in caption.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= limit:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return lines


def _add_title(out: go.Figure, layout: dict, margin: dict, title: str) -> int:
    """Put ``title`` at the top unless the figure has one; returns the pixels added on top."""
    if (layout.get("title") or {}).get("text") or not title:
        return 0
    out.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": TITLE_SIZE}}
    )
    added = max(0, TITLE_HEIGHT - margin["t"])
    margin["t"] += added
    return added


def _lift_bottom_legend(out: go.Figure, layout: dict, height: float, band: float) -> None:
    """A legend anchored to the figure's bottom edge (yref "container") moves up over the
    caption band, so the two never overlap."""
    legend = layout.get("legend") or {}
    if legend.get("yref") == "container" and isinstance(legend.get("y"), int | float):
        out.update_layout(legend_y=(legend["y"] * height + band) / (height + band))


def for_slides(
    fig: go.Figure,
    title: str,
    caption: str,
    theme: str | None = None,
    wrap_width: float | None = None,
) -> go.Figure:
    """A copy of ``fig`` with ``title`` at its top (unless it has one) and ``caption`` (the
    settings it was drawn with) in small grey lines under everything else, in a band added at
    the bottom. With ``theme`` ("light" or "dark") the background is that page's colour, not
    transparent, so an exported image reads on its own, on any slide. ``wrap_width``: the pixels
    the caption's lines may take (default: the figure's width, else WRAP_WIDTH)."""
    # ``fig`` is valid already: copying it without Plotly's validation saves most of the cost
    # of this function, which runs for every figure on every rerun (st.plotly_chart validates
    # the result once more anyway).
    out = go.Figure(fig.to_dict(), _validate=False)
    layout = out.layout.to_plotly_json()
    margin = _margin(layout)
    height = layout.get("height") or DEFAULT_HEIGHT
    top = _add_title(out, layout, margin, title)
    lines = wrap_caption(caption, wrap_width or layout.get("width") or WRAP_WIDTH)
    band = CAPTION_LINE * len(lines) + 6
    out.add_annotation(
        text="<br>".join(lines),
        xref="paper",
        yref="paper",
        x=0.0,
        y=0.0,
        xanchor="left",
        yanchor="top",
        yshift=-margin["b"],
        xshift=-margin["l"] + 8,
        showarrow=False,
        align="left",
        font={"size": CAPTION_SIZE, "color": INK.get(theme or "", CAPTION_COLOR)},
        name="settings",
    )
    _lift_bottom_legend(out, layout, height, band)
    margin["b"] += band
    out.update_layout(margin=margin, height=height + top + band)
    if theme in BACKGROUNDS:
        out.update_layout(paper_bgcolor=BACKGROUNDS[theme])
    if theme == "light":
        _darker_greys(out, INK["light"])
    return out


def _darker_greys(out: go.Figure, ink: str) -> None:
    """Ticks, axis titles, legend, colour-bar labels and annotations in ``ink`` (where the
    figure has not chosen a colour of its own), for WCAG AA contrast on a light page."""
    for axis in [*out.select_xaxes(), *out.select_yaxes()]:
        if axis.tickfont.color is None:
            axis.tickfont.color = ink
        if axis.title.font.color is None:
            axis.title.font.color = ink
    if out.layout.legend.font.color is None:
        out.layout.legend.font.color = ink
    for note in out.layout.annotations:
        if note.font.color is None:
            note.font.color = ink
    bars = [getattr(t, "colorbar", None) for t in out.data]
    bars += [c.colorbar for c in out.select_coloraxes()]
    for bar in bars:
        if bar is not None and bar.tickfont.color is None:
            bar.tickfont.color = ink
            bar.title.font.color = bar.title.font.color or ink


_SHIFT_KEYS = ("xshift", "yshift", "borderpad")


def _scale_fonts(node: object, factor: float, parent: str = "") -> None:
    """Multiply in place every ``size`` of a ``…font`` dict, and every annotation shift."""
    if isinstance(node, dict):
        if parent.endswith("font") and isinstance(node.get("size"), int | float):
            node["size"] = round(node["size"] * factor, 1)
        for key in _SHIFT_KEYS:
            if isinstance(node.get(key), int | float):
                node[key] = node[key] * factor
        for key, value in node.items():
            if isinstance(value, dict | list):
                _scale_fonts(value, factor, key)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _scale_fonts(item, factor, parent)


def enlarged(fig: go.Figure, factor: float = 1.3) -> go.Figure:
    """A copy of ``fig`` for a projector: every font ``factor`` times larger (the default
    font too), margins and height grown to match, axes that make room for longer labels."""
    spec = copy.deepcopy(fig.to_plotly_json())
    layout = spec.setdefault("layout", {})
    font = layout.setdefault("font", {})
    font.setdefault("size", 12)  # plotly.js's default
    _scale_fonts(spec, factor)
    layout["margin"] = {
        side: round(v * factor) if isinstance(v, int | float) else v
        for side, v in _margin(layout).items()
    }
    if isinstance(layout.get("height"), int | float):
        layout["height"] = round(layout["height"] * factor)
    if isinstance(layout.get("width"), int | float):
        layout["width"] = round(layout["width"] * factor)
    for key, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", key) and isinstance(axis, dict):
            axis.setdefault("automargin", True)
    return go.Figure(spec)


def export_size(fig: go.Figure, fmt: str) -> tuple[int, int, float]:
    """(width, height, scale) of the exported image: laid out at the figure's own width (or
    EXPORT_WIDTH) and height (at least EXPORT_MIN_HEIGHT); a PNG scaled to SLIDE_WIDTH_PX wide."""
    width = fig.layout.width or EXPORT_WIDTH
    height = max(fig.layout.height or EXPORT_MIN_HEIGHT, EXPORT_MIN_HEIGHT)
    scale = SLIDE_WIDTH_PX / width if fmt == "png" else 1.0
    return int(width), int(height), scale


def export_config(fig: go.Figure, fmt: str, filename: str) -> dict:
    """Plotly ``config``: the modebar (on hover) with only the camera button, which downloads
    ``filename``.png (SLIDE_WIDTH_PX wide) or ``filename``.svg, drawn by plotly.js in the
    browser (no server-side renderer, nothing fetched)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown figure format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    width, height, scale = export_size(fig, fmt)
    return {
        "displayModeBar": "hover",
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {
            "format": fmt,
            "filename": filename,
            "width": width,
            "height": height,
            "scale": scale,
        },
    }


def network_words(t: TrainingConfig) -> tuple[str, ...]:
    """What fixes the initial network, in words: H, f, g + loss, the initialisation, the seed."""
    if t.initial_weights is not None:
        init = "weights set by hand"
    elif t.spectral_radius is not None:
        init = f"ρ(W_hh) = {t.spectral_radius:g} at init"
    elif t.init == "scale":
        init = f"σ = {t.init_scale:g} at init"
    else:
        init = ""
    words = (f"H = {t.hidden_size}", t.activation, f"{t.output} + {t.loss}", init)
    return (*(w for w in words if w), f"seed {t.seed}")


def training_words(t: TrainingConfig) -> tuple[str, ...]:
    """What training adds, in words: truncation, η and optimizer, clipping."""
    k = "full BPTT" if t.truncation is None else f"k = {t.truncation}"
    clip = "no clipping" if t.clip == "none" else f"clip {t.clip} {t.clip_threshold:g}"
    return (k, f"η = {t.learning_rate:g} ({t.optimizer})", clip)


def settings_line(
    text: str,
    network: Sequence[str],
    training: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> str:
    """The grey line under a figure: “hello” · H = 8 · tanh · … · BPTT Explainer. ``network``:
    what fixes the initial network; ``training``: what training adds (η, optimizer, k), only
    for figures that depend on it; ``extra``: the figure's own settings."""
    shown = text if len(text) <= 24 else text[:23] + "…"
    return " · ".join([f"“{shown}”", *network, *training, *extra, "BPTT Explainer"])


def file_name(*parts: str) -> str:
    """A safe file name (no extension) from words: "bptt-flow-map-hello"."""
    words = "-".join(p for p in parts if p)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", words).strip("-").lower()
    return (slug or "figure")[:80]
