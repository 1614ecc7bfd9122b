"""Classroom helpers across pages: presets, presentation mode, and explanations that fold away.

- **Presets** (``bptt_app.presets``): one button each at the top of the sidebar. A click writes
  every sidebar widget's key (and the truncation page's ρ, and the weights set by hand) into
  ``st.session_state`` in the button's callback, before the widgets are drawn, so the widgets
  and the address bar show the preset; then the shell opens the preset's page
  (``follow_preset``), where a note says what to look for.
- **Presentation mode**: a toggle (and ``?present=1`` in a link). It collapses the sidebar once
  when it is switched on (and opens it again when switched off), puts each page's explanations
  behind expanders (``explanation``), and app.py enlarges type and figures with its CSS.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st
from streamlit.runtime.state.session_state_proxy import get_session_state

from bptt_app import weight_editor
from bptt_app.navigation import PAGE_SPECS
from bptt_app.presets import PRESETS, PRESETS_BY_KEY, Preset, matches
from bptt_app.settings import Settings
from bptt_app.widget_map import widget_values
from bptt_viz.figures.slides import FORMATS

PRESENT_KEY = "present"  # the toggle; in the URL as present=1
PRESENT_URL_VALUES = ("1", "true", "yes", "on")
APPLIED_KEY = "_present_applied"  # (mode, page) the sidebar was last collapsed/opened for
PAGE_KEY = "_present_page"  # the title of the page this run shows
SWITCHES_KEY = "_present_switches"  # how many times the sidebar was switched (component keys)
FORMAT_KEY = "fig_format"  # "png" | "svg": what a figure's camera button downloads
GOTO_KEY = "_preset_goto"  # the page a preset button asked to open (set in its callback)
LAST_PRESET_KEY = "_preset_last"  # the key of the last preset applied in this session
RESYNC_KEY = "_preset_resync"  # {page slider key: value} to write into the URL once it exists
RADIUS_KEY = "rho"  # the truncation page's own ρ slider (bptt_app.truncation_page.RADIUS_KEY)
TIE_KEY = "tie"  # the step page's tied/untied choice (back to its default: tied)

_sidebar_switch = st.components.v2.component(
    "bptt_sidebar_switch",
    html="",
    isolate_styles=False,  # no shadow root: the step player stays the page's one isolated component
    js="""
export default function (component) {
  const collapse = Boolean(component.data && component.data.collapse);
  const doc = window.document;
  const sidebar = doc.querySelector('[data-testid="stSidebar"]');
  if (!sidebar) return;
  const open = sidebar.getAttribute("aria-expanded") !== "false";
  const button = collapse
    ? doc.querySelector('[data-testid="stSidebarCollapseButton"] button')
    : doc.querySelector('[data-testid="stExpandSidebarButton"]');
  if (button && open === collapse) button.click();
}
""",
)


# --------------------------------------------------------------------------- presentation mode


def init_from_link() -> None:
    """Before anything is drawn: a link's ``present=1`` switches presentation mode on."""
    if PRESENT_KEY not in st.session_state:
        raw = st.query_params.get(PRESENT_KEY)
        st.session_state[PRESENT_KEY] = str(raw).lower() in PRESENT_URL_VALUES


def presenting() -> bool:
    return bool(st.session_state.get(PRESENT_KEY, False))


def note_page(title: str) -> None:
    """The page this run shows (app.py, before the sidebar): presenting, a new page closes the
    sidebar again (it was opened to pick the page)."""
    st.session_state[PAGE_KEY] = title


def _follow_mode() -> None:
    """Keep ``present=1`` in the address bar while presenting; collapse the sidebar once when
    the mode is switched on or another page is opened in it, and reopen it when switched off."""
    on = presenting()
    if on and st.query_params.get(PRESENT_KEY) != "1":
        st.query_params[PRESENT_KEY] = "1"
    elif not on and PRESENT_KEY in st.query_params:
        del st.query_params[PRESENT_KEY]
    wanted = (True, st.session_state.get(PAGE_KEY)) if on else (False, None)
    applied = st.session_state.get(APPLIED_KEY)
    if applied is None and not on:
        applied = st.session_state[APPLIED_KEY] = wanted  # a normal first visit: leave it be
    if applied != wanted:
        st.session_state[APPLIED_KEY] = wanted
        count = st.session_state[SWITCHES_KEY] = st.session_state.get(SWITCHES_KEY, 0) + 1
        _sidebar_switch(data={"collapse": on}, key=f"sidebar_switch_{count}")  # a fresh mount


@contextlib.contextmanager
def explanation(label: str = "Explanation") -> Iterator[None]:
    """Long explanations: shown as they are, or folded into an expander while presenting."""
    if presenting():
        with st.expander(label, icon=":material/menu_book:"):
            yield
    else:
        yield


def figure_format() -> str:
    value = st.session_state.get(FORMAT_KEY)
    return value if value in FORMATS else FORMATS[0]


# --------------------------------------------------------------------------- presets


def apply_preset(key: str) -> None:
    """A preset button's callback: every setting of the preset into the widgets' keys (the
    notation stays the class's), then open its page (``follow_preset``)."""

    preset = PRESETS_BY_KEY[key]
    for name, value in widget_values(preset.settings).items():
        if name != "notation":
            st.session_state[name] = value
    st.session_state[RADIUS_KEY] = preset.rho
    if preset.rho != Settings().spectral_radius:
        st.session_state[RESYNC_KEY] = {RADIUS_KEY: preset.rho}
    st.session_state.pop(TIE_KEY, None)
    weight_editor.set_weights(preset.settings.weights)
    st.session_state[GOTO_KEY] = preset.page
    st.session_state[LAST_PRESET_KEY] = key


def follow_preset() -> None:
    """After the sidebar: open the page a preset button asked for (once). The page switch
    keeps the parameters no widget is bound to (w=, present=); the widgets' own parameters
    come back from the widgets on the page's first run (Streamlit restores a bound widget's
    non-default value after a page change)."""
    page = st.session_state.pop(GOTO_KEY, None)
    if page is None:
        return
    unbound = (weight_editor.URL_KEY, PRESENT_KEY)
    keep = {k: st.query_params.get_all(k) for k in unbound if k in st.query_params}
    st.switch_page(page, query_params=keep)


def settle_after_page() -> None:
    """At the end of the run that drew the preset's page: put its page widgets' values (the
    truncation page's ρ) into the address bar.

    A widget set through ``st.session_state`` before it was ever drawn takes the value, but
    Streamlit 1.67 writes a bound widget's value into the URL only when it is changed in the
    browser or set while the widget already exists. Here the widget exists and is bound, so the
    value is written the way Streamlit corrects a bound value itself (``set_corrected_value``,
    an internal pinned to 1.67 like ``sidebar.drop_infinite_url_numbers``)."""
    if st.session_state.get(GOTO_KEY):
        return  # the preset's page has not run yet
    pending = st.session_state.pop(RESYNC_KEY, None)
    if not pending:
        return
    with get_session_state().query_params() as qp:
        for key, value in pending.items():
            if qp.is_bound(key):
                qp.set_corrected_value(key, [value], "double_array_value")


def preset_note(settings: Settings, page_title: str) -> None:
    """What to look for, on the page the last preset opened, while its settings are unchanged."""
    preset: Preset | None = PRESETS_BY_KEY.get(st.session_state.get(LAST_PRESET_KEY, ""))
    titles = {spec.path: spec.title for spec in PAGE_SPECS}
    if preset is None or presenting() or titles.get(preset.page) != page_title:
        return
    if matches(preset, settings):
        st.info(preset.note, icon=":material/school:")


# --------------------------------------------------------------------------- the sidebar block


def render_classroom() -> None:
    """Presets, presentation mode and the figures' download format, at the top of the sidebar."""
    st.markdown(
        "**Presets**",
        help="One click sets every setting (and the link) for a "
        "classic demonstration and opens the page that shows it. Change anything after.",
    )
    with st.container(horizontal=True, gap="small", key="presets"):
        for preset in PRESETS:
            st.button(
                preset.label,
                key=f"preset_{preset.key}",
                on_click=apply_preset,
                args=(preset.key,),
                help=preset.help,
                type="secondary",
            )
    st.toggle(
        "Presentation mode",
        key=PRESENT_KEY,
        help="For a projector: larger type and figures, explanations folded away, the sidebar "
        "closed (open it with » at the top left). In a link: ?present=1.",
    )
    st.segmented_control(
        "Figures download as",
        list(FORMATS),
        format_func=lambda f: {"png": "PNG (1920 px)", "svg": "SVG"}[f],
        default=FORMATS[0],
        required=True,
        key=FORMAT_KEY,
        help="Hover over a figure and click its camera icon: the figure with its title and "
        "settings, for slides.",
    )
    _follow_mode()
