"""What a shared link asked for and what the sidebar could use: the values it had to ignore.

Streamlit seeds URL-bound widgets from the link and quietly drops what does not fit (a hidden
size of 100000, ``k=-3``, ``seed=abc``), then removes it from the address bar. This module
compares each value of the link with the value the widget ended up holding and says, in a
sentence (Markdown, user text escaped), which values were ignored, why, and what was used
instead. No Streamlit here: the sidebar passes the link's raw values and the widgets' values in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bptt_viz.markdown import md_text


@dataclass(frozen=True)
class LinkSetting:
    """One URL-bound sidebar widget, as far as checking a link is concerned."""

    key: str  # the URL parameter and widget key
    label: str  # what the sidebar calls it
    kind: str  # "int" | "float" | "choice" | "text"
    low: float | None = None  # smallest accepted number
    high: float | None = None  # largest accepted number
    choices: tuple[str, ...] = ()  # accepted labels of a "choice"
    max_chars: int | None = None  # longest text that can be trained on


@dataclass(frozen=True)
class LinkNotice:
    """A value of the link that was not used: level "error" (the training text) or "warning"."""

    level: str
    message: str


def _shown(raw: str, limit: int = 40) -> str:
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


def _number(raw: str) -> float | None:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _bound(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value}"
    return f"“{md_text(_shown(str(value)))}”"


def represents(raw: str, used: object, setting: LinkSetting) -> bool:
    """Whether the link's text ``raw`` stands for the widget value ``used``."""
    if setting.kind in ("choice", "text"):
        return raw == used
    number = _number(raw)
    if number is None or not math.isfinite(number):
        return False
    if setting.kind == "int" and not number.is_integer():
        return False
    return math.isclose(number, float(used), rel_tol=1e-12, abs_tol=0.0)  # type: ignore[arg-type]


def why_ignored(raw: str, setting: LinkSetting) -> str:
    """Why the widget could not take ``raw``: a short clause after “… in the link”."""
    if setting.kind == "text":
        return f"has {len(raw):,} characters; the limit is {setting.max_chars:,}"
    if setting.kind == "choice":
        return "is not one of the choices: " + ", ".join(md_text(c) for c in setting.choices)
    number = _number(raw)
    if number is None:
        return "is not a number"
    if not math.isfinite(number):
        return "is not a finite number"
    if (
        setting.low is not None
        and setting.high is not None
        and not (setting.low <= number <= setting.high)
    ):
        return f"is outside the range {_bound(setting.low)} to {_bound(setting.high)}"
    if setting.kind == "int" and not number.is_integer():
        return "is not a whole number"
    return "could not be used as given"


def ignored_values(
    raw_values: dict[str, list[str]], used: dict[str, object], settings: dict[str, LinkSetting]
) -> list[LinkNotice]:
    """One notice per link value the sidebar did not use, in the order of ``settings``."""
    out = []
    for key, setting in settings.items():
        values = raw_values.get(key)
        if not values or key not in used:
            continue
        level = "error" if setting.kind == "text" else "warning"
        label = setting.label[:1].upper() + setting.label[1:]
        if len(values) > 1:
            message = f"{label} appears {len(values)} times in the link: {_fmt(used[key])} is used."
        elif represents(values[0], used[key], setting):
            continue
        elif setting.kind == "text":
            message = (
                f"The text in the link {why_ignored(values[0], setting)}: the text "
                f"{_fmt(used[key])} is used instead."
            )
        else:
            message = (
                f"{label} {_fmt(values[0])} {why_ignored(values[0], setting)}: "
                f"{_fmt(used[key])} is used instead."
            )
        out.append(LinkNotice(level, message))
    return out
