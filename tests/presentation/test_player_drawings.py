"""The step player's drawings stay legible up to the page's limits (issue 12, items 16 and 17):
no overlapping copies at T = 40, thinned but present labels for 40 steps and 33+ characters,
legends for every fill, a colour scale for every matrix."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from bptt_app.settings import STEP_MAX_T
from bptt_core import Corpus, RNNConfig, backward, forward, init_params
from bptt_viz.notation import get_notation
from bptt_viz.player.payload import PassInput, build_payload

SVG = "{http://www.w3.org/2000/svg}"
TEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"  # 42 characters, 42 distinct


def payload(text: str, H: int = 8) -> dict:
    c = Corpus(text)
    cfg = RNNConfig(c.V, H, c.V)
    p = init_params(cfg, seed=0)
    f = forward(p, cfg, c.inputs, c.targets)
    b = backward(p, cfg, f)
    view = PassInput(
        get_notation("goodfellow"), cfg, p, f, b, c.vocab, c.input_chars, c.target_chars
    )
    return build_payload(view)


def svg_of(data: dict, pid: str) -> ET.Element:
    html = next(p for p in data["panels"] if p["id"] == pid)["html"]
    return ET.fromstring(html)


@pytest.mark.parametrize("T", [4, 29, 33, STEP_MAX_T])
def test_copies_never_overlap(T):
    root = svg_of(payload(TEXT[: T + 1]), "network")
    for row in ("x", "h", "y"):
        circles = [c for c in root.iter(f"{SVG}circle") if row in c.get("class", "").split()]
        xs = sorted(float(c.get("cx")) for c in circles)
        r = float(circles[0].get("r"))
        gaps = np.diff(xs)
        assert gaps.min() >= 2 * r + 4, f"T={T}, row {row}: circles {gaps.min():.1f} apart (r={r})"
    labels = [t for t in root.iter(f"{SVG}text") if "char" in t.get("class", "")]
    assert len(labels) == 2 * T, f"T={T}: every input and target character is written"


def _spacing(texts: list[ET.Element], attr: str) -> float:
    values = sorted(float(t.get(attr)) for t in texts)
    return float(np.diff(values).min()) if len(values) > 1 else np.inf


def test_heatmap_labels_are_thinned_not_lost():
    data = payload(TEXT[: STEP_MAX_T + 1], H=32)
    for pid, rows in (("delta_o", 40), ("delta_h", 32)):
        root = svg_of(data, pid)
        texts = list(root.iter(f"{SVG}text"))
        ticks = [t for t in texts if (t.text or "").isdigit()]
        row_labels = [t for t in texts if t.get("text-anchor") == "end" and t.text != "t ="]
        assert len(ticks) == STEP_MAX_T and _spacing(ticks, "x") >= 20, f"{pid}: time ticks"
        assert 8 <= len(row_labels) <= rows and _spacing(row_labels, "y") >= 11, f"{pid}: rows"


def test_matrix_labels_with_many_characters_are_thinned_not_lost():
    root = svg_of(payload(TEXT[:34], H=8), "sums")  # 33 distinct inputs
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "m"]
    assert len(groups) == 10, "running sum and this copy's contribution for five parameters"
    small = [t for t in root.iter(f"{SVG}text") if "small" in t.get("class", "")]
    by_row: dict[str, list] = {}
    for t in small:
        by_row.setdefault(t.get("y"), []).append(t)
    widest = max(by_row.values(), key=len)
    assert 8 <= len(widest) <= 34 and _spacing(widest, "x") >= 11, "column labels legible"


def test_every_fill_and_scale_is_explained():
    data = payload("hello")
    panels = {p["id"]: p for p in data["panels"]}
    network = panels["network"]["caption"]
    for what in ("computed", "prediction", "error computed", "this step's copy"):
        assert what in network, f"the network's legend lacks {what!r}"
    sums = ET.fromstring(panels["sums"]["html"])
    titles = [t.text for t in sums.iter(f"{SVG}text") if "title" in t.get("class", "")]
    assert len(titles) == 10 and all(re.search(r"\(±[0-9.e+-]+\)$", t) for t in titles), titles
    assert "cbar" in panels["sums"]["caption"], "a colour scale under the matrices"
    units = panels["units"]["slots"]["caption"]["table"][0]
    assert "cbar" in units and "orange positive, blue negative" in units
    assert "previous hidden state" in units and "input" in units, "both left groups named"
