"""Section 5: what truncation costs in learning (the recall task), and "hello" with k = 1.

Every claim about the runs is computed from the runs. A median settled recall loss is called
*learned* below ``LEARNED`` × chance, *part of the way* below ``AT_CHANCE`` × chance, and *at or
above chance* from there on (chance = ln 2 for two symbols). How many copies the recall loss
(at t = N + 1) reaches is fixed by construction: min(k, N + 1) for a per-loss window, and
(N mod k) + 1 for chunks of k (its position in its chunk); it reaches copy 1, where the first
character entered, only when that is N + 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bptt_core.truncation_cost import RecallGrid, RecallGridResult, TruncationCurves
from bptt_viz.figures.truncation_cost import hello_curves_figure, recall_figure
from bptt_viz.labels import truncation_label
from bptt_viz.notation import Notation
from bptt_viz.truncation_page.symbols import join_words, k_label, math, symbols

TITLE = "5 · What truncation costs in learning"
HELLO_TITLE = "The honest counterpoint: “hello” with k = 1"
LEARNED = 0.1  # median below 0.1 · chance: the recall is learned
AT_CHANCE = 0.8  # median from 0.8 · chance on: no better than guessing
HELLO_LEARNED = 0.05  # nats per character: "hello" is learned (the Trainer's own target)
START_HINT = (
    "Press **Train the recall task** to run it. It trains in the background: the rest of the "
    "page and the app stay usable meanwhile."
)
BUSY = "The server is busy with other experiments; try again in a minute."
MODE_NAMES = {"window": "per-loss window", "chunked": "chunked TBPTT"}
TABLE_FORMAT = "{:.3f}"

TASK = (
    "**The recall task.** Two sequences, “a” + N fillers + “a” and “b” + N fillers + “b”, each "
    "started from a zero hidden state. Every next character is predictable except the last, "
    "which repeats the first: the network has to carry it across the N fillers. That last loss "
    "(the *recall loss*, at t = N + 1) can fall below chance, ln 2, only if its error reaches "
    "copy 1, N steps back, or if the forward pass happens to keep the first character anyway. "
    "(A tanh RNN with H = {H}, Adagrad, η = {eta:g}, {updates} updates; the *settled* loss is the "
    "mean over the last {settled} updates.)"
)
CUTS = (
    "Two ways to cut the backward pass. **Per-loss window** (the page's k): every loss reaches "
    "exactly its k most recent copies, so the recall loss reaches copy 1 only for k ≥ N + 1. "
    "**Chunked TBPTT(k, k)**, as used when training long texts: the sequence is cut into chunks "
    "of k; the hidden state is carried across a cut but no error crosses it, so a loss reaches "
    "between 1 and k copies depending on where it falls in its chunk — the recall loss at the "
    "end of an 11-step sequence cut into chunks of 5 reaches a single copy."
)


def copies_reached(mode: str, n_fillers: int, k: int | None) -> int:
    """How many copies the recall loss (t = N + 1) sends its error to."""
    steps = n_fillers + 1
    if k is None:
        return steps
    return min(k, steps) if mode == "window" else n_fillers % k + 1


def verdict(median: float, chance: float) -> str:
    """ "learned", "partly" or "chance" for a median settled recall loss."""
    if np.isfinite(median) and median < LEARNED * chance:
        return "learned"
    if np.isfinite(median) and median < AT_CHANCE * chance:
        return "partly"
    return "chance"


def task_description(grid: RecallGrid) -> str:
    settled = max(1, grid.updates // 6)
    return TASK.format(
        H=grid.hidden_size, eta=grid.learning_rate, updates=grid.updates, settled=settled
    )


def _ks(ks: list[int | None]) -> str:
    """ "k = 1, 2 and 5", "full BPTT", "k = 8 and full BPTT"."""
    numbers = [str(k) for k in ks if k is not None]
    words = (["k = " + join_words(numbers)] if numbers else []) + (
        ["full BPTT"] if None in ks else []
    )
    return " and ".join(words)


def _medians(values: list[float]) -> str:
    """ "median 0.005" or "medians 0.83 to 1.10"."""
    lo, hi = min(values), max(values)
    if len(values) == 1 or f"{lo:.3f}" == f"{hi:.3f}":
        return f"median {lo:.3f}" if len(values) == 1 else f"medians all {lo:.3f}"
    return f"medians {lo:.3f} to {hi:.3f}"


def _partly(result: RecallGridResult, mode: str, N: int, ks: list[int | None]) -> str:
    each = [
        f"{k_label(k)}: median {result.median(mode, N, k):.3f}, best seed "
        f"{np.nanmin(result.settled(mode, N, k)):.3f}"
        for k in ks
    ]
    verb = "gets" if len(ks) == 1 else "get"
    return f"{_ks(ks)} {verb} part of the way below chance ({'; '.join(each)})"


def recall_finding(result: RecallGridResult, mode: str, N: int) -> str:
    """What the runs of one (mode, N) say, in one Markdown sentence computed from them."""
    ks = list(result.grid.truncations)
    groups: dict[str, list[int | None]] = {"learned": [], "partly": [], "chance": []}
    for k in ks:
        groups[verdict(result.median(mode, N, k), result.chance)].append(k)
    parts = []
    if groups["learned"]:
        values = [result.median(mode, N, k) for k in groups["learned"]]
        everyone = "every k" if len(groups["learned"]) == len(ks) else _ks(groups["learned"])
        verb = "learns" if len(groups["learned"]) == 1 or everyone == "every k" else "learn"
        parts.append(f"{everyone} {verb} the recall ({_medians(values)})")
    if groups["partly"]:
        parts.append(_partly(result, mode, N, groups["partly"]))
    if groups["chance"]:
        values = [result.median(mode, N, k) for k in groups["chance"]]
        verb = "stays" if len(groups["chance"]) == 1 else "stay"
        parts.append(f"{_ks(groups['chance'])} {verb} at or above chance ({_medians(values)})")
    sentence = f"**{MODE_NAMES[mode]}, N = {N}:** " + "; ".join(parts) + "."
    return sentence + _forward_pass_remark(result, mode, N, groups)


def _forward_pass_remark(
    result: RecallGridResult, mode: str, N: int, groups: dict[str, list[int | None]]
) -> str:
    """Which successes happened although the recall loss's error never reached copy 1."""
    short = [k for k in groups["learned"] + groups["partly"] if copies_reached(mode, N, k) <= N]
    if not short:
        return ""
    reach = join_words([f"{copies_reached(mode, N, k)}" for k in short])
    return (
        f" For {_ks(short)} the recall loss's error reaches only {reach} of the {N + 1} copies, "
        "never copy 1: the forward pass carried the first character."
    )


def median_table(result: RecallGridResult) -> pd.DataFrame:
    """Median settled recall loss: one row per k, one column per (mode, N)."""
    grid = result.grid
    columns = {
        f"{mode}, N = {N}": [result.median(mode, N, k) for k in grid.truncations]
        for mode in grid.modes
        for N in grid.n_fillers
    }
    return pd.DataFrame(columns, index=[f"k = {truncation_label(k)}" for k in grid.truncations])


@dataclass(frozen=True)
class RecallView:
    figure: go.Figure
    reading: str  # Markdown: how to read the figure
    findings: tuple[str, ...]  # Markdown: one sentence per (mode, N), computed from the runs
    table: pd.DataFrame  # medians, rows k, columns "mode, N = …"


def recall_view(result: RecallGridResult) -> RecallView:
    grid = result.grid
    reading = (
        "Each point is one seed's settled recall loss (log scale); the diamonds and lines are "
        f"the medians; the dashed line is chance, ln 2 = {result.chance:.3f}. Where the recall "
        "loss's error never reaches copy 1 and the recall is still learned, the forward pass "
        "carried the first character: it survives in the hidden state and the output layer "
        "learns to read it. **What the runs say** (learned: median below "
        f"{LEARNED * result.chance:.3f}; at chance: from {AT_CHANCE * result.chance:.3f} on):"
    )
    findings = tuple(recall_finding(result, m, N) for m in grid.modes for N in grid.n_fillers)
    return RecallView(recall_figure(result), reading, findings, median_table(result))


@dataclass(frozen=True)
class HelloView:
    figure: go.Figure
    finals: dict[str, float]  # label ("k = 1", "full BPTT") → median final loss per character
    text: str  # Markdown


def _hello_comparison(finals: dict[str, float]) -> str:
    values = list(finals.values())
    listed = ", ".join(f"{label}: {value:.4f}" for label, value in finals.items())
    if all(np.isfinite(v) and v < HELLO_LEARNED for v in values):
        verdict_ = f"every truncation learns “hello” (below {HELLO_LEARNED} nats per character)"
    elif all(np.isfinite(v) for v in values) and max(values) <= 2 * min(values):
        verdict_ = "the truncations end within a factor of 2 of each other"
    else:
        verdict_ = "the truncations end far apart"
    return f"Final loss per character (median of the seeds): {listed}, so {verdict_}."


def hello_view(curves: TruncationCurves, n: Notation) -> HelloView:
    finals = {
        k_label(k): float(np.nanmedian(curves.final()[i])) for i, k in enumerate(curves.truncations)
    }
    sym = symbols(n)
    h_prev = math(n.tex("h", "t-1"))
    text = (
        "The same character RNN as *Train live* (its default settings), trained on “hello” "
        f"with each truncation. {_hello_comparison(finals)} To predict after the second “l” it "
        f"needs the character before, and that is already in {h_prev}: the forward pass "
        "carries it, whatever the truncated gradient asked for. With k = 1 the gradient of "
        f"{math(sym.W)} still learns how to *use* {h_prev}; what it cannot do is teach earlier "
        "copies to *store* something for later — which is exactly what the recall task needs."
    )
    return HelloView(hello_curves_figure(curves), finals, text)


def experiment_label(name: str, grid: RecallGrid, total_updates: int) -> str:
    """The radio label of an experiment, from its grid: "Quick: per-loss window, N ∈ {4, 10},
    k ∈ {1, 2, 5, full}, 3 seeds (15,000 updates)"."""
    modes = " and ".join(MODE_NAMES[m] for m in grid.modes)
    ns = ", ".join(str(N) for N in grid.n_fillers)
    ks = ", ".join(truncation_label(k) for k in grid.truncations)
    return (
        f"{name}: {modes}, N ∈ {{{ns}}}, k ∈ {{{ks}}}, {len(grid.seeds)} seeds "
        f"({total_updates:,} updates)"
    )


def progress_label(job_state: str, ahead: int, done: int, total: int) -> str:
    """The progress bar's text while an experiment is queued or running."""
    if job_state == "queued" and ahead:
        return f"Waiting for {ahead} experiment(s) ahead of this one…"
    return f"Training… {done:,} of {total:,} updates"


def done_label(total: int, seconds: float) -> str:
    return f"Done: {total:,} updates in {seconds:.1f} s."
