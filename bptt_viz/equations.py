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


def _contribution(n: Notation, key: str, t: int) -> str:
    """The contribution of copy t to the gradient of parameter ``key``: (∂L/∂W)_{copy t}. Never
    written Δ: in Guo's and seed 000's notes ΔW is an increment, of the opposite sign."""
    return (
        rf"\left(\frac{{\partial {n.tex('L')}}}{{\partial {n.tex(key)}}}\right)"
        rf"_{{\text{{copy }}{n.index(t)}}}"
    )


def truncated(k: int | None, T: int) -> bool:
    """Whether truncation k cuts a pass of T timesteps (k < T)."""
    return k is not None and k < T


def hidden_delta_symbol(n: Notation, t: int, k: int | None, T: int) -> str:
    """delta_h(t), or under truncation [delta_h(t)]_k: the truncated delta (only the losses
    L(t)..L(t+k−1) contribute), which is not ∂L/∂a(t)."""
    if truncated(k, T):
        return rf"\left[{n.tex('delta_h', t)}\right]_{{k={k}}}"
    return n.tex("delta_h", t)


def _carried(n: Notation, t: int, k: int | None, T: int) -> tuple[str, str]:
    """(symbol, why it is zero or "") of the error carried back into h(t) from later losses."""
    if t == T:
        return r"\mathbf{0}", r"\text{nothing comes back from beyond } T"
    if k == 1:
        return r"\mathbf{0}", r"k = 1\text{: no error crosses a recurrent edge}"
    if not truncated(k, T):
        return rf"{n.tex('W_hh')}^{{\top}} {n.factor('delta_h', t + 1)}", ""
    last = min(t + k - 1, T)  # type: ignore[operator]
    term = rf"\frac{{\partial {n.tex('L_t', 's')}}}{{\partial {n.tex('h', t)}}}"
    if last == t + 1:
        one = rf"\frac{{\partial {n.tex('L_t', t + 1)}}}{{\partial {n.tex('h', t)}}}"
        return one, ""
    return rf"\sum_{{s={n.index(t + 1)}}}^{{{n.index(last)}}} {term}", ""


def backward_equations(
    n: Notation,
    config: RNNConfig,
    fwd: ForwardTrace,
    bwd: BackwardTrace,
    t: int,
    max_items: int = 5,
) -> list[str]:
    """The backward step at t (1-based): delta_o(t), the two parts of ∂L/∂h(t), delta_h(t), and
    the contributions of copy t to every gradient. Under truncation k < T the carried part is the
    sum of the errors of the losses whose window reaches copy t (never Wᵀ times the truncated
    delta of t+1, which it is not), and the deltas are labelled as truncated."""
    i, T, k = t - 1, fwd.T, bwd.truncation
    V = lambda v: vec(v, max_items)  # noqa: E731
    dh = hidden_delta_symbol(n, t, k, T)
    dL_h = _dL(n, "h", t)
    if truncated(k, T):
        dL_h = rf"\left[{dL_h}\right]_{{k={k}}}"
    carried_sym, why_zero = _carried(n, t, k, T)
    carried_value = rf"\mathbf{{0}}\quad({why_zero})" if why_zero else V(bwd.dh_carried[i])
    local = rf"{n.tex('W_hy')}^{{\top}} {n.factor('delta_o', t)}"
    return [
        output_error_formula(n, config, t) + f" = {V(bwd.delta_o[i])}",
        rf"{dL_h} = \underbrace{{{local}}}_{{\text{{from }}{n.tex('y', t)}}}"
        rf" + \underbrace{{{carried_sym}}}_{{\text{{carried back from later copies}}}}",
        r"\begin{aligned}"
        rf"{local} &= {V(bwd.dh_local[i])} \\ "
        rf"+\; {carried_sym} &= {carried_value} \\ "
        rf"{dL_h} &= {V(bwd.dh_local[i] + bwd.dh_carried[i])}"
        r"\end{aligned}",
        rf"{dh} = {_fprime_formula(n, config.activation, t)} \odot {dL_h} = {V(bwd.delta_h[i])}",
        *_contribution_lines(n, fwd, bwd, t, dh),
    ]


def _contribution_lines(
    n: Notation, fwd: ForwardTrace, bwd: BackwardTrace, t: int, dh: str
) -> list[str]:
    """What copy t adds to each gradient (outer products of its deltas and its inputs)."""
    i = t - 1
    h_prev = fwd.h_prev[i]
    size = float(np.linalg.norm(bwd.delta_h[i]) * np.linalg.norm(h_prev))  # ‖u vᵀ‖ = ‖u‖‖v‖
    first = (
        rf"\quad\left({n.tex('h', 0)} = 0\text{{: the first copy adds nothing}}\right)"
        if t == 1 and not h_prev.any()
        else ""
    )
    do = n.factor("delta_o", t)
    return [
        rf"{_contribution(n, 'W_hh', t)} = {dh}\,{n.tex('h', t - 1)}^{{\top}},\quad"
        rf"\left\lVert\cdot\right\rVert = {size:.4f}{first}",
        rf"{_contribution(n, 'W_xh', t)} = {dh}\,{n.tex('x', t)}^{{\top}},\quad"
        rf"{_contribution(n, 'b_h', t)} = {dh}",
        rf"{_contribution(n, 'W_hy', t)} = {do}\,{n.tex('h', t)}^{{\top}},\quad"
        rf"{_contribution(n, 'b_y', t)} = {do}",
    ]


def update_equation(n: Notation) -> str:
    """The update after the backward pass, as the note writes it (its own sign convention)."""
    eta, W, L = n.tex("eta"), n.tex("W_hh"), n.tex("L")
    gradient = rf"\frac{{\partial {L}}}{{\partial {W}}}"
    total = rf"\sum_{{t}} {_contribution(n, 'W_hh', 't')}"
    if n.key == "guo":  # δ = −∂C/∂net: the increment ΔU = η Σ δ_j(t) s(t−1)ᵀ is added
        return (
            rf"{W} \leftarrow {W} + \Delta {W},\quad \Delta {W} = {eta} \sum_{{t}} "
            rf"\delta_j(t)\,s(t-1)^{{\top}} = -{eta}\,{gradient}"
        )
    if n.key == "levels":  # seed 000: ΔV is an increment, V(T) = V(T−1) + ΔV
        return rf"V(T) = V(T-1) + \Delta V,\quad \Delta V = -{eta}\,{gradient} = -{eta} {total}"
    if n.key == "minchar":  # the program: clip each entry to ±5, then Adagrad
        d, m = r"\mathtt{dWhh}", r"\mathtt{mWhh}"
        return (
            rf"{d} \leftarrow \operatorname{{clip}}({d}, -5, 5),\quad {m} \leftarrow {m} + {d}^{{2}},"
            rf"\quad {W} \leftarrow {W} - {eta}\,\frac{{{d}}}{{\sqrt{{{m} + 10^{{-8}}}}}}"
        )
    return rf"{W} \leftarrow {W} - {eta}\,{gradient} = {W} - {eta} {total}"
