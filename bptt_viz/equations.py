"""The equation of each stepper step, in a chosen notation, with the live numbers substituted.

Pure string building (LaTeX for ``st.latex``) from the traces; no arithmetic beyond reading them,
except the two terms of ∂L/∂h(t) which the backward trace keeps separately (``dh_local`` and
``dh_carried``). Vectors longer than ``max_items`` are shown by their first entries and ⋯.
"""

from __future__ import annotations

import numpy as np

from bptt_core.backward import BackwardTrace
from bptt_core.model import ForwardTrace, RNNConfig
from bptt_viz.notation import Notation


def vec(v: np.ndarray, max_items: int = 5, digits: int = 3) -> str:
    """A vector as a LaTeX column written as a transposed row: [0.120  −0.031 ⋯]ᵀ."""
    v = np.asarray(v, dtype=float).ravel()
    items = [f"{x:.{digits}f}" for x in v[:max_items]]
    if v.size > max_items:
        items.append(r"\cdots")
    if v.size == 1:
        return items[0]
    return r"\begin{bmatrix}" + " & ".join(items) + r"\end{bmatrix}^{\top}"


def _dL(n: Notation, key: str, t: int) -> str:
    return rf"\frac{{\partial {n.tex('L')}}}{{\partial {n.tex(key, t)}}}"


def _fprime_formula(n: Notation, activation: str, t: int) -> str:
    h = n.tex("h", t)
    return {
        "tanh": rf"\left(1 - {h}^{{2}}\right)",
        "sigmoid": rf"{h} \odot \left(1 - {h}\right)",
        "relu": rf"\mathbb{{1}}\left[{n.tex('a', t)} > 0\right]",
        "linear": r"\mathbf{1}",
    }[activation]


def _activation_name(n: Notation, activation: str) -> str:
    return {
        "tanh": r"\tanh",
        "sigmoid": r"\sigma",
        "relu": r"\operatorname{relu}",
        "linear": r"\operatorname{id}",
    }[activation]


def _output_name(output: str) -> str:
    return {
        "softmax": r"\operatorname{softmax}",
        "sigmoid": r"\sigma",
        "linear": r"\operatorname{id}",
    }[output]


def loss_formula(n: Notation, config: RNNConfig, t: int, target_char: str | None = None) -> str:
    """L(t) in symbols for the configured output and loss."""
    y, d, L = n.tex("y", t), n.tex("d", t), n.tex("L_t", t)
    if config.loss == "sse":
        return rf"{L} = \tfrac{{1}}{{2}} \sum_j \left({d}_j - {y}_j\right)^2"
    if config.output == "softmax":
        if target_char is not None:
            return rf"{L} = -\log {y}_{{\text{{“{_tex_char(target_char)}”}}}}"
        return rf"{L} = -\sum_j {d}_j \log {y}_j"
    return rf"{L} = -\sum_j \left[{d}_j \log {y}_j + (1 - {d}_j)\log(1 - {y}_j)\right]"


def output_error_formula(n: Notation, config: RNNConfig, t: int) -> str:
    """delta_o(t) in symbols for the configured output and loss."""
    y, d, do = n.tex("y", t), n.tex("d", t), n.tex("delta_o", t)
    if config.loss == "cross_entropy":
        return rf"{do} = {y} - {d}"
    if config.output == "linear":
        return rf"{do} = {y} - {d}"
    if config.output == "sigmoid":
        return rf"{do} = ({y} - {d}) \odot {y} \odot (1 - {y})"
    return rf"{do} = {y} \odot \left(e - \langle e, {y} \rangle\right),\; e = {y} - {d}"


def _tex_char(c: str) -> str:
    special = {
        "\\": r"\backslash ",
        "{": r"\{",
        "}": r"\}",
        "_": r"\_",
        "^": r"\hat{}",
        "#": r"\#",
        "$": r"\$",
        "%": r"\%",
        "&": r"\&",
        "~": r"\sim ",
        " ": r"\ ",
    }
    if c in special:
        return special[c]
    if c.isascii() and c.isprintable():
        return c
    return f"U+{ord(c):04X}"


def forward_equations(
    n: Notation,
    config: RNNConfig,
    params_W: dict[str, np.ndarray],
    fwd: ForwardTrace,
    t: int,
    input_char: str,
    target_char: str,
    max_items: int = 5,
) -> list[str]:
    """The forward step at t (1-based): a(t), h(t), o(t), y(t), L(t) with numbers.

    params_W: {"W_xh", "W_hh", "b_h"} arrays, to show the three terms of a(t) separately.
    """
    i = t - 1
    h_prev = fwd.h0 if i == 0 else fwd.h[i - 1]
    term_x = params_W["W_xh"] @ fwd.inputs[i]
    term_h = params_W["W_hh"] @ h_prev
    b_h = params_W["b_h"]
    V = lambda v: vec(v, max_items)  # noqa: E731
    a, h, o, y = n.tex("a", t), n.tex("h", t), n.tex("o", t), n.tex("y", t)
    target_idx = int(np.argmax(fwd.targets[i]))
    return [
        rf"{a} = {n.tex('W_xh')}\,{n.tex('x', t)} + {n.tex('W_hh')}\,{n.tex('h', t - 1)} + {n.tex('b_h')}"
        rf" \quad {n.tex('x', t)} = \text{{one-hot “{_tex_char(input_char)}”}}",
        r"\begin{aligned}"
        rf"{n.tex('W_xh')}\,{n.tex('x', t)} &= {V(term_x)} \\ "
        rf"+\; {n.tex('W_hh')}\,{n.tex('h', t - 1)} &= {V(term_h)} \\ "
        rf"+\; {n.tex('b_h')} &= {V(b_h)} \\ "
        rf"{a} &= {V(fwd.a[i])}"
        r"\end{aligned}",
        rf"{h} = {_activation_name(n, config.activation)}\left({a}\right) = {V(fwd.h[i])}",
        rf"{o} = {n.tex('W_hy')}\,{h} + {n.tex('b_y')} = {V(fwd.o[i])}",
        rf"{y} = {_output_name(config.output)}\left({o}\right) = {V(fwd.y[i])}"
        rf",\quad {y}_{{\text{{“{_tex_char(target_char)}”}}}} = {fwd.y[i, target_idx]:.4f}",
        loss_formula(n, config, t, target_char) + rf" = {fwd.losses[i]:.4f}",
    ]


def backward_equations(
    n: Notation,
    config: RNNConfig,
    fwd: ForwardTrace,
    bwd: BackwardTrace,
    t: int,
    max_items: int = 5,
) -> list[str]:
    """The backward step at t (1-based): delta_o(t), the two parts of ∂L/∂h(t), delta_h(t), and the
    contributions of copy t to every gradient."""
    i, T = t - 1, fwd.T
    V = lambda v: vec(v, max_items)  # noqa: E731
    dh = n.tex("delta_h", t)
    k = bwd.truncation
    carried_name = n.tex("delta_h", t + 1)
    if t == T:
        carried = r"\mathbf{0}\ (\text{nothing comes back from beyond } T)"
    elif k == 1:
        carried = r"\mathbf{0}\ (k = 1:\ \text{no error crosses a recurrent edge})"
    else:
        carried = V(bwd.dh_carried[i])
    if k is None or k >= T:
        carried_sym = rf"{n.tex('W_hh')}^{{\top}} {carried_name}"
        carried_note = ""
    else:
        carried_sym = rf"\left[{n.tex('W_hh')}^{{\top}} {carried_name}\right]_{{k={k}}}"
        carried_note = (
            rf"\quad\text{{only errors of }} {n.tex('L_t', t + 1)} \ldots {n.tex('L_t', t + k - 1)}"
            if k > 1 and t < T
            else ""
        )
    h_prev = fwd.h0 if i == 0 else fwd.h[i - 1]
    lines = [
        output_error_formula(n, config, t) + f" = {V(bwd.delta_o[i])}",
        rf"{_dL(n, 'h', t)} = \underbrace{{{n.tex('W_hy')}^{{\top}} {n.tex('delta_o', t)}}}_{{\text{{from }}{n.tex('y', t)}}}"
        rf" + \underbrace{{{carried_sym}}}_{{\text{{carried back from }}t+1}}{carried_note}",
        r"\begin{aligned}"
        rf"{n.tex('W_hy')}^{{\top}} {n.tex('delta_o', t)} &= {V(bwd.dh_local[i])} \\ "
        rf"+\; {carried_sym} &= {carried} \\ "
        rf"{_dL(n, 'h', t)} &= {V(bwd.dh_local[i] + bwd.dh_carried[i])}"
        r"\end{aligned}",
        rf"{dh} = {_fprime_formula(n, config.activation, t)} \odot {_dL(n, 'h', t)} = {V(bwd.delta_h[i])}",
        rf"\Delta_{{t={t}}}\,{n.tex('W_hh')} = {dh}\,{n.tex('h', t - 1)}^{{\top}},\quad"
        rf"\left\lVert\cdot\right\rVert = {np.linalg.norm(bwd.delta_h[i]) * np.linalg.norm(h_prev):.4f}"
        + (
            rf"\quad\left({n.tex('h', 0)} = 0\text{{: the first copy adds nothing}}\right)"
            if t == 1 and not h_prev.any()
            else ""
        ),
        rf"\Delta_{{t={t}}}\,{n.tex('W_xh')} = {dh}\,{n.tex('x', t)}^{{\top}},\quad"
        rf"\Delta_{{t={t}}}\,{n.tex('b_h')} = {dh}",
        rf"\Delta_{{t={t}}}\,{n.tex('W_hy')} = {n.tex('delta_o', t)}\,{n.tex('h', t)}^{{\top}},\quad"
        rf"\Delta_{{t={t}}}\,{n.tex('b_y')} = {n.tex('delta_o', t)}",
    ]
    return lines


def update_equation(n: Notation) -> str:
    """The update after the backward pass, in the notation's own sign convention."""
    eta = n.tex("eta")
    if n.key == "guo":
        return (
            rf"{n.tex('W_hh')} \leftarrow {n.tex('W_hh')} + {eta} \sum_t \delta_j(t)\,s(t-1)^{{\top}}"
            r"\quad(\delta = -\partial C/\partial \mathrm{net}\text{, so Guo adds})"
        )
    return (
        rf"{n.tex('W_hh')} \leftarrow {n.tex('W_hh')} - {eta}\,\frac{{\partial {n.tex('L')}}}"
        rf"{{\partial {n.tex('W_hh')}}} = {n.tex('W_hh')} - {eta} \sum_{{t=1}}^{{T}} \Delta_t {n.tex('W_hh')}"
    )
