"""Everything the step page shows for every step of one pass, as one JSON-safe payload.

``build_payload(PassInput)`` is the page's view model: the player in the browser receives it once
per change of settings and steps through it without asking the server (see the package docstring
for the format). Pure Python and NumPy; the traces come from the engine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_core.model import PARAM_NAMES, ForwardTrace, Params, RNNConfig
from bptt_core.untied import copy_params
from bptt_viz.figures.style import DIVERGING
from bptt_viz.labels import display_char
from bptt_viz.notation import Notation
from bptt_viz.player import (
    heatmaps,
    legends,
    network,
    questions,
    sums,
    text,
    units,
    untied,
    update,
)
from bptt_viz.player.encode import table, value_table
from bptt_viz.player.steps import PHASE_CODES, Step, copy_codes, pass_steps, step_label
from bptt_viz.player.untied import UntiedInput
from bptt_viz.player.update import UpdateInput


@dataclass(frozen=True, eq=False)
class PassInput:
    """One BPTT pass of the engine and how to show it."""

    notation: Notation
    config: RNNConfig
    params: Params  # the weights the pass ran with
    fwd: ForwardTrace
    bwd: BackwardTrace
    vocab: tuple[str, ...]  # characters in vocabulary order
    input_chars: tuple[str, ...]  # x(1..T)
    target_chars: tuple[str, ...]  # d(1..T)
    update: UpdateInput | None = None  # the update that ends the pass (training), if any
    untied: UntiedInput | None = None  # … or the copies' own updates (untied weights)
    heading: str = ""  # what this pass is ("Pass 4 of training: …"), shown above the steps
    caption: str = ""  # the settings it was drawn with (written under downloaded figures)

    def weights(self, t: int) -> Params:
        """The weights copy t ran with (every copy's the same unless untied)."""
        return self.params if self.untied is None else copy_params(self.untied.record.before, t)

    @property
    def ends_with_update(self) -> bool:
        return self.update is not None or self.untied is not None

    @property
    def T(self) -> int:
        return self.fwd.T


def _chars(p: PassInput) -> tuple[list[str], list[str], list[str]]:
    shown = [display_char(c) for c in p.vocab]
    return (
        shown,
        [display_char(c) for c in p.input_chars],
        [display_char(c) for c in p.target_chars],
    )


def network_panel(p: PassInput, steps: list[Step]) -> dict:
    _, inputs, targets = _chars(p)
    panel = network.unfolded_panel(p.notation, p.fwd, p.bwd, inputs, targets, steps)
    titles = [
        "Unfolded network: "
        + ("after the backward pass" if s.phase == "update" else f"{s.phase} pass, t = {s.t}")
        for s in steps
    ]
    return {
        "id": "network",
        "title": "",
        "html": panel.svg,
        "caption": legends.network_caption(p.notation, network.cut(p.bwd.truncation, p.T)),
        "codes": table(panel.codes),
        "slots": {"title": table(titles)},
    }


def units_panel(p: PassInput, steps: list[Step]) -> dict | None:
    vocab, _, _ = _chars(p)
    if not units.shown(p.config.hidden_size, len(vocab)):
        return None
    moved = None if p.update is None else p.update.record.step
    per_copy = None if p.untied is None else p.untied.record.before
    panel = units.units_panel(p.notation, p.params, p.fwd, p.bwd, vocab, steps, moved, per_copy)
    titles = [
        "The update, unit by unit" if s.phase == "update" else f"Copy t = {s.t}, unit by unit"
        for s in steps
    ]
    captions = [f"{c}. {legends.units_caption(p.notation)}" for c in panel.captions]
    return {
        "id": "units",
        "title": "",
        "html": panel.svg,
        "caption": "",
        "values": value_table(panel.values, panel.ranges),
        "slots": {"title": table(titles), "caption": table(captions)},
        "visible": [int(p.untied is None or s.phase != "update") for s in steps],
    }


def delta_panels(p: PassInput, steps: list[Step]) -> list[dict]:
    vocab, inputs, targets = _chars(p)
    ticks = [f"{a}→{b}" for a, b in zip(inputs, targets, strict=True)]
    jump_back = [2 * p.T - t for t in range(1, p.T + 1)]
    codes = table([copy_codes(s, p.T) for s in steps])
    n = p.notation
    units_labels = [f"unit {j + 1}" for j in range(p.config.hidden_size)]
    spec = (
        ("delta_o", p.bwd.delta_o, [f"“{c}”" for c in vocab]),
        ("delta_h", p.bwd.delta_h, units_labels),
    )
    panels = []
    for key, values, labels in spec:
        flat, zmax = heatmaps.heatmap_values(values)
        svg = heatmaps.heatmap_svg(values.shape, ticks, labels, n.plain(key), jump_back)
        softmax_ce = p.config.output == "softmax" and p.config.loss == "cross_entropy"
        panels.append(
            {
                "id": key,
                "title": legends.delta_title(n, key),
                "html": svg,
                "caption": legends.delta_caption(n, key, softmax_ce),
                "codes": codes,
                "values": value_table([flat] * len(steps), [[zmax]] * len(steps)),
            }
        )
    return panels


def sums_panel(p: PassInput, steps: list[Step]) -> dict:
    vocab, _, _ = _chars(p)
    units_labels = [f"h{j + 1}" for j in range(p.config.hidden_size)]
    panel = sums.sums_panel(p.notation, p.bwd, units_labels, [f"“{c}”" for c in vocab], steps)
    return {
        "id": "sums",
        "title": "The weight gradients, accumulating",
        "html": panel.svg,
        "caption": legends.sums_caption(
            p.notation, p.bwd.truncation if network.cut(p.bwd.truncation, p.T) else None
        ),
        "values": value_table(panel.values, [panel.ranges] * len(steps)),
    }


def ledger_panel(p: PassInput, steps: list[Step]) -> dict:
    _, inputs, targets = _chars(p)
    labels = [f"t = {i + 1}  {a}→{b}" for i, (a, b) in enumerate(zip(inputs, targets, strict=True))]
    running = sums.running_sums(p.bwd)
    rows = [
        text.ledger_running_html(
            None if s.phase == "forward" else running.map(lambda a, i=(s.t or 1) - 1: a[i])
        )
        for s in steps
    ]
    return {
        "id": "ledger",
        "title": "Ledger: each copy's share of each gradient",
        "html": text.ledger_html(p.notation, p.bwd, labels),
        "caption": legends.ledger_caption(),
        "codes": table([copy_codes(s, p.T) for s in steps]),
        "slots": {"ledger_running": table(rows)},
    }


def _updates_before(p: PassInput) -> int | None:
    if p.untied is not None:
        return p.untied.record.update
    return None if p.update is None else p.update.updates_before


def _update_status(p: PassInput, s: Step) -> str:
    if s.phase != "update":
        return ""
    if p.untied is not None:
        return untied.untied_status(p.notation, p.untied)
    return update.update_status(p.notation, p.update) if p.update is not None else ""


def _update_equations(p: PassInput, s: Step) -> str:
    if s.phase != "update":
        return ""
    if p.untied is not None:
        return text.lines_html(untied.untied_equations(p.notation, p.untied))
    if p.update is not None:
        return text.lines_html(update.update_equations(p.notation, p.update))
    return ""


def text_panels(p: PassInput, steps: list[Step]) -> list[dict]:
    _, inputs, targets = _chars(p)
    chars = (inputs, targets)
    n = p.notation
    status = [_update_status(p, s) or text.status_html(n, s, p.fwd, p.bwd, chars) for s in steps]
    eqs = [
        _update_equations(p, s)
        or text.equations_html(n, p.config, p.weights(s.t or 1), p.fwd, p.bwd, s, chars)
        for s in steps
    ]
    return [
        {
            "id": "status",
            "html": '<div data-slot="status"></div>',
            "slots": {"status": table(status)},
        },
        {
            "id": "equations",
            "title": "This step's equations, with its numbers",
            "html": '<div data-slot="eqs"></div>',
            "caption": "Vectors longer than five entries show their first five and ⋯; hover the "
            "drawings for every number.",
            "slots": {"eqs": table(eqs)},
        },
    ]


def update_panel(p: PassInput, steps: list[Step]) -> dict | None:
    """Every matrix before, the update, and after: shown at the update step only."""
    if p.untied is not None:
        return copies_panel(p, steps)
    if p.update is None:
        return None
    vocab, _, _ = _chars(p)
    units_labels = [f"h{j + 1}" for j in range(p.config.hidden_size)]
    shapes = {name: np.atleast_2d(getattr(p.params, name)).shape for name in PARAM_NAMES}
    values, ranges = update.update_values(p.update, steps)
    chars = [f"“{c}”" for c in vocab]
    svg = update.update_panel_svg(p.notation, shapes, units_labels, chars, ranges[0])
    return {
        "id": "update",
        "title": "The update: every matrix before, the step, after",
        "html": svg,
        "caption": legends.update_caption(p.notation, p.update.optimizer),
        "values": value_table(values, ranges),
        "visible": [int(s.phase == "update") for s in steps],
    }


def copies_panel(p: PassInput, steps: list[Step]) -> dict:
    """Untied: every copy's own W_hh before, its own update, after (at the update step)."""
    assert p.untied is not None
    values, ranges = untied.copies_values(p.untied, steps)
    return {
        "id": "update",
        "title": f"Untied: each copy's own {p.notation.plain('W_hh')}, before, its update, after",
        "html": untied.copies_svg(p.notation, p.T, p.config.hidden_size),
        "caption": legends.copies_caption(),
        "values": value_table(values, ranges),
        "visible": [int(s.phase == "update") for s in steps],
    }


def build_payload(p: PassInput, start: int = 0) -> dict:
    """The whole pass for the browser; ``start`` is the step to open at (0-based)."""
    steps = pass_steps(p.T, with_update=p.ends_with_update)
    panels = [
        *text_panels(p, steps),
        network_panel(p, steps),
        units_panel(p, steps),
        update_panel(p, steps),
        *delta_panels(p, steps),
        sums_panel(p, steps),
        ledger_panel(p, steps),
    ]
    labels = [step_label(s, len(steps)) for s in steps]
    payload = finish_payload(panels, steps, labels, p.heading, _updates_before(p), start)
    vocab, _, _ = _chars(p)
    payload["questions"] = questions.questions(p.notation, p.bwd, steps, vocab)
    payload["caption"] = p.caption
    return payload


def finish_payload(
    panels: list,
    steps: list[Step],
    labels: list[str],
    heading: str,
    update: int | None,
    start: int = 0,
) -> dict:
    """The payload around its panels: steps, labels, phases, palette, and an id of its content."""
    payload = {
        "heading": heading,
        "update": update,
        "n": len(steps),
        "labels": labels,
        "phase": [PHASE_CODES[s.phase] for s in steps],
        "palette": DIVERGING,
        "panels": [panel for panel in panels if panel is not None],
        "start": int(start),
    }
    body = json.dumps(payload["panels"], sort_keys=True).encode()
    payload["pass_id"] = hashlib.sha1(body).hexdigest()[:16]
    return payload
