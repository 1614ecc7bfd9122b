"""An online pass, stepped: one update after every timestep (the Trainer's "timestep" schedule).

For t = 1..T: the forward step computes copy t with the weights as they are now; the error of
L(t) alone then goes back through the copies it reaches (t, t−1, …, at most k of them, one step
each, with the activations stored when they were computed); then the weights are updated from
∂L(t)/∂θ, and the next copy runs with the new weights. Everything comes from the engine's
``OnlinePassRecord``; this module only arranges it for the player (same panels as a summed pass).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_core.model import PARAM_NAMES, ForwardTrace, Params, RNNConfig
from bptt_core.records import OnlinePassRecord
from bptt_viz.equations import vec
from bptt_viz.notation import Notation
from bptt_viz.player import heatmaps, network, sums
from bptt_viz.player.encode import table, value_table
from bptt_viz.player.payload import finish_payload
from bptt_viz.player.steps import Step
from bptt_viz.player.text import lines_html
from bptt_viz.player.update import UpdateInput, update_equations


@dataclass(frozen=True, eq=False)
class OnlineInput:
    """An online pass of the session's trainer and how to show it."""

    notation: Notation
    config: RNNConfig
    record: OnlinePassRecord
    vocab: tuple[str, ...]  # shown characters, vocabulary order
    inputs: tuple[str, ...]  # shown x(1..T)
    targets: tuple[str, ...]  # shown d(1..T)
    optimizer: str
    learning_rate: float
    clip: str
    clip_threshold: float
    heading: str


def online_steps(record: OnlinePassRecord) -> list[Step]:
    """forward t, L(t) back to copies t..first, update t; for t = 1..T."""
    out: list[Step] = []
    for step in record.steps:
        out.append(Step(len(out), "forward", step.t))
        for s in range(step.t, step.first - 1, -1):
            out.append(Step(len(out), "backward", step.t, s))
        out.append(Step(len(out), "update", step.t))
    return out


def label(step: Step, count: int) -> str:
    where = {
        "forward": f"forward · copy t = {step.t}",
        "backward": f"the error of L({step.t}) at copy {step.copy}",
        "update": f"update after L({step.t})",
    }[step.phase]
    return f"Step {step.index + 1} of {count} · {where}"


def stitched(record: OnlinePassRecord) -> ForwardTrace:
    """The pass's forward trace as it was computed, copy by copy (each with its own weights)."""
    rows = [s.trace for s in record.steps]
    cat = lambda name: np.concatenate([getattr(r, name) for r in rows])  # noqa: E731
    losses = cat("losses")
    return ForwardTrace(
        inputs=record.inputs,
        targets=record.targets,
        h0=record.h[0],
        a=cat("a"),
        h=cat("h"),
        o=cat("o"),
        y=cat("y"),
        losses=losses,
        loss=float(losses.sum()),
    )


def loss_deltas(record: OnlinePassRecord) -> tuple[np.ndarray, np.ndarray]:
    """(T, T, H) ∂L(t)/∂a(s) (NaN where L(t) does not reach s) and (T, O) ∂L(t)/∂o(t)."""
    T, H = record.T, record.h.shape[1]
    deltas = np.full((T, T, H), np.nan)
    for i, step in enumerate(record.steps):
        deltas[i, step.first - 1 : step.t] = step.delta_h
    return deltas, np.stack([s.delta_o for s in record.steps])


def received(record: OnlinePassRecord) -> BackwardTrace:
    """What each copy received from all the losses of the pass (for the network's hover text
    and shading): the sum over t of ∂L(t)/∂a(s)."""
    deltas, delta_o = loss_deltas(record)
    h_total = np.nansum(deltas, axis=0)
    first = record.loss_backward(0)
    return BackwardTrace(
        grads=first.grads,
        delta_o=delta_o,
        delta_h=h_total,
        dh_local=h_total,
        dh_carried=np.zeros_like(h_total),
        fprime=record.fprime,
        truncation=None,
        inputs=record.inputs,
        h=record.h[1:],
        h_prev=record.h[:-1],
    )


def network_codes(step: Step, T: int) -> str:
    """The unfolded network's codes (``network.NODE_CODES`` …) for one online step."""
    t, s = step.t, step.copy
    nodes, edges = ["k"], []
    for c in range(1, T + 1):
        known = c <= t
        visited = step.phase == "backward" and s <= c <= t
        state = "v" if visited else "k" if known else "u"
        if step.phase == "forward" and c == t:
            state = "F"
        if step.phase == "backward" and c == s:
            state = "B"
        own = state if c == t or state not in ("v", "B") else "k"  # y(c) is in L(t) only if c = t
        nodes += ["F" if state == "F" else "n", state, own]
        hot = step.phase == "forward" and c == t
        done = "d" if known else "t"
        group = ["f" if hot else done] * 3
        if step.phase == "backward" and c == t == s:
            group[2] = "b"
        if step.phase == "backward" and c == s + 1 and c <= t:
            group[1] = "b"
        edges += group
    return "".join(nodes + edges)


def delta_h_codes(step: Step, T: int) -> str:
    if step.phase == "forward":
        return "h" * T
    lo = step.copy if step.phase == "backward" else 1
    return "".join(
        "c" if c == step.copy else "s" if lo <= c <= step.t else "h" for c in range(1, T + 1)
    )


def delta_o_codes(step: Step, T: int) -> str:
    last = step.t - (step.phase == "forward")
    return "".join(
        "c" if c == step.t and step.phase != "forward" else "s" if c <= last else "h"
        for c in range(1, T + 1)
    )


def update_input(o: OnlineInput, i: int) -> UpdateInput:
    step = o.record.steps[i]
    return UpdateInput(
        record=step.applied,
        optimizer=o.optimizer,
        learning_rate=o.learning_rate,
        clip=o.clip,
        clip_threshold=o.clip_threshold,
        loss=float(step.trace.loss),
        loss_after=float("nan"),
        updates_before=o.record.update + i,
        truncation=None,
    )


def status(o: OnlineInput, step: Step) -> str:
    n, r = o.notation, o.record
    t = step.t
    trace = r.steps[t - 1].trace
    L = f'<span class="sym">{n.html("L_t", t)}</span>'
    if step.phase == "forward":
        return (
            f"<b>Online, forward t = {t}.</b> Copy {t} runs with the weights as they are after "
            f"{t - 1} update{'s' * (t != 1)} of this pass: input “{html.escape(o.inputs[t - 1])}”, "
            f"target “{html.escape(o.targets[t - 1])}”, loss {L} = {trace.loss:.4f}. Its error "
            "goes back at once, before the next copy runs."
        )
    if step.phase == "backward":
        where = "its own copy" if step.copy == t else f"copy {step.copy}"
        return (
            f"<b>Online, the error of {L} at {where}.</b> Only this one loss sends error, "
            "through the copies stored when they were computed (their activations are not "
            "recomputed with the newer weights)."
        )
    g = r.steps[t - 1].applied.clip.norm_before
    return (
        f"<b>Online update {t} of {r.T} in this pass.</b> The weights move against the gradient "
        f"of {L} alone (‖g‖ = {g:.4g}); copy {t + 1} will run with them. A summed pass makes one "
        f"update from Σ<sub>t</sub> ∂L(t)/∂θ instead."
    )


def equations(o: OnlineInput, step: Step) -> list[str]:
    """The lines of one online step (LaTeX), with the numbers the trainer computed."""
    n, r, t = o.notation, o.record, step.t
    s = r.steps[t - 1]
    if step.phase == "update":
        return update_equations(n, update_input(o, t - 1))[:-1]
    if step.phase == "forward":
        return [
            rf"{n.tex('h', t)} = f\left({n.tex('W_xh')}\,{n.tex('x', t)} + {n.tex('W_hh')}\,"
            rf"{n.tex('h', t - 1)} + {n.tex('b_h')}\right) = {vec(s.trace.h[0])}",
            rf"{n.tex('y', t)} = {vec(s.trace.y[0])},\quad {n.tex('L_t', t)} = {s.trace.loss:.4f}",
        ]
    row = step.copy - s.first
    dL = rf"\frac{{\partial {n.tex('L_t', t)}}}"
    lines = []
    if step.copy == t:
        lines.append(rf"{dL}{{\partial {n.tex('o', t)}}} = {vec(s.delta_o)}")
        lines.append(
            rf"{dL}{{\partial {n.tex('h', t)}}} = {n.tex('W_hy')}^{{\top}} {dL}{{\partial {n.tex('o', t)}}} = {vec(s.dh_local)}"
        )
    else:
        lines.append(
            rf"{dL}{{\partial {n.tex('h', step.copy)}}} = {n.tex('W_hh')}^{{\top}} "
            rf"{dL}{{\partial {n.tex('a', step.copy + 1)}}} = {vec(s.carried[row])}"
        )
    lines.append(rf"{dL}{{\partial {n.tex('a', step.copy)}}} = {vec(s.delta_h[row])}")
    return lines


def build_online_payload(o: OnlineInput) -> dict:
    """The player's payload for an online pass (the format of ``bptt_viz.player``)."""
    r, T = o.record, o.record.T
    steps = online_steps(r)
    fwd, total = stitched(r), received(r)
    backs = [r.loss_backward(i) for i in range(T)]
    panels = [
        {
            "id": "status",
            "html": '<div data-slot="status"></div>',
            "slots": {"status": table([status(o, s) for s in steps])},
        },
        {
            "id": "equations",
            "title": "This step's equations, with its numbers",
            "html": '<div data-slot="eqs"></div>',
            "slots": {"eqs": table([lines_html(equations(o, s)) for s in steps])},
        },
        _network_panel(o, steps, fwd, total),
        _delta_panels(o, steps, r),
        _sums_panel(o, steps, backs),
    ]
    return finish_payload(
        [p for group in panels for p in (group if isinstance(group, list) else [group])],
        steps,
        [label(s, len(steps)) for s in steps],
        o.heading,
        r.update,
    )


def _network_panel(o: OnlineInput, steps: list[Step], fwd: ForwardTrace, total) -> dict:
    svg = network.unfolded_svg(o.notation, fwd, total, list(o.inputs), list(o.targets))
    titles = [f"Unfolded network: {s.phase} (online)" for s in steps]
    return {
        "id": "network",
        "title": "",
        "html": svg,
        "caption": "Online: each copy runs with the weights of its moment; hover a copy for "
        "what it computed and the error it received from all the losses.",
        "codes": table([network_codes(s, o.record.T) for s in steps]),
        "slots": {"title": table(titles)},
    }


def _delta_panels(o: OnlineInput, steps: list[Step], r: OnlinePassRecord) -> list[dict]:
    T = r.T
    deltas, delta_o = loss_deltas(r)
    ticks = [f"{a}→{b}" for a, b in zip(o.inputs, o.targets, strict=True)]
    jump = [0] * T
    n = o.notation
    out_values, zo = heatmaps.heatmap_values(delta_o)
    zh = float(np.nanmax(np.abs(deltas))) if np.isfinite(deltas).any() else 1.0
    zh = zh if zh > 0 else 1.0
    loss_of = [max(1, s.t - (s.phase == "forward")) for s in steps]
    units_labels = [f"unit {j + 1}" for j in range(o.config.hidden_size)]
    return [
        {
            "id": "delta_o",
            "title": f"Output error of each loss, {n.html('delta_o')}",
            "html": heatmaps.heatmap_svg(
                delta_o.shape, ticks, [f"“{c}”" for c in o.vocab], n.plain("delta_o"), jump
            ),
            "codes": table([delta_o_codes(s, T) for s in steps]),
            "values": value_table([out_values] * len(steps), [[zo]] * len(steps)),
        },
        {
            "id": "delta_h",
            "title": "Hidden delta of the current loss, ∂L(t)/∂a(s)",
            "html": heatmaps.heatmap_svg(
                (T, o.config.hidden_size), ticks, units_labels, "∂L(t)/∂a(s)", jump
            ),
            "codes": table([delta_h_codes(s, T) for s in steps]),
            "values": value_table([deltas[i - 1].ravel() for i in loss_of], [[zh]] * len(steps)),
        },
    ]


def _sums_panel(o: OnlineInput, steps: list[Step], backs: list[BackwardTrace]) -> dict:
    """The gradient of the current loss accumulating over the copies it reaches."""
    r = o.record
    shapes = {name: np.atleast_2d(getattr(backs[0].grads, name)).shape for name in PARAM_NAMES}
    zeros = backs[0].grads.map(np.zeros_like)
    nans = backs[0].grads.map(lambda a: np.full_like(a, np.nan))
    values = []
    for s in steps:
        bwd, first = backs[s.t - 1], r.steps[s.t - 1].first
        if s.phase == "forward":
            values.append(sums.step_values(s, zeros, zeros, zeros, nans))
            continue
        row = (s.copy if s.phase == "backward" else first) - first
        running = bwd.partial_sum(row)
        contribution = bwd.partial_sum(row, row + 1) if s.phase == "backward" else nans
        values.append(_flatten(running, contribution))
    ranges = _ranges(np.stack(values), shapes)
    vocab = [f"“{c}”" for c in o.vocab]
    units_labels = [f"h{j + 1}" for j in range(o.config.hidden_size)]
    return {
        "id": "sums",
        "title": "The gradient of the current loss, accumulating over the copies it reaches",
        "html": sums.sums_svg(o.notation, shapes, units_labels, vocab, ranges),
        "values": value_table(values, [ranges] * len(steps)),
    }


def _ranges(values: np.ndarray, shapes: dict) -> list[float]:
    """The colour range of each of the ten matrices (running, contribution per parameter)."""
    out, i = [], 0
    for name in PARAM_NAMES:
        size = int(np.prod(shapes[name]))
        for _ in range(2):
            block = np.abs(values[:, i : i + size])
            peak = float(np.nanmax(block)) if np.isfinite(block).any() else 0.0
            out.append(peak if peak > 0 else 1.0)
            i += size
    return out


def _flatten(running: Params, contribution: Params) -> np.ndarray:
    parts = []
    for name in PARAM_NAMES:
        parts += [np.atleast_2d(getattr(running, name)).ravel()]
        parts += [np.atleast_2d(getattr(contribution, name)).ravel()]
    return np.concatenate(parts)
