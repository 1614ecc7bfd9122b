"""The notations of the source notes: one set of engine names, shown in the notation a user picks.

Each notation maps the engine's names (DESIGN §4) to a LaTeX form (for ``st.latex``) and an HTML
form (for Plotly titles, which understand <sub>/<sup> but not LaTeX). Time-indexed quantities are
templates with ``{t}``. The four notes disagree: Goodfellow's U, W, V are Guo's V, U, W, and the
"hello" notes call the hidden state a(t) (which is the pre-activation elsewhere) and the target ŷ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# keys: parameters, then time-indexed quantities
PARAM_KEYS = ("W_xh", "W_hh", "W_hy", "b_h", "b_y")
TIMED_KEYS = ("x", "a", "h", "o", "y", "d", "delta_h", "delta_o", "L_t")
OTHER_KEYS = ("L", "eta", "f", "g")


@dataclass(frozen=True)
class Notation:
    """One notation: LaTeX and HTML for every engine name."""

    key: str  # short identifier used in URLs
    name: str  # what the selector shows
    source: str  # which note it comes from
    tex_forms: dict[str, str] = field(hash=False)  # engine name → LaTeX (templates with {t})
    html_forms: dict[str, str] = field(hash=False)  # engine name → HTML (templates with {t})
    remarks: tuple[str, ...] = ()  # what a reader of that note must know
    time_offset: int = 0  # the note's index of time t (t = 1..T) is t + time_offset

    def index(self, t: int | str | None) -> str:
        """The note's own index of time ``t``: a number (t = 1..T, h(0) is t = 0) is shifted by
        ``time_offset`` (min-char-rnn counts from 0, so its h(0) is hs[-1]); a symbolic time
        such as "t-1" is written as it is; None is the letter t."""
        if t is None:
            return "t"
        if isinstance(t, int):
            return str(t + self.time_offset)
        return str(t)

    def tex(self, key: str, t: int | str | None = None) -> str:
        """LaTeX for ``key``; time-indexed keys take ``t`` (default the letter t). The result is
        one brace group, so a superscript can follow it (``{h^{(2)}}^{\\top}``)."""
        return "{" + self.tex_forms[key].replace("{t}", self.index(t)) + "}"

    def factor(self, key: str, t: int | str | None = None) -> str:
        """``tex`` bracketed when the form starts with a minus (Guo's −δ), so that it reads as one
        factor after another symbol: Wᵀ(−δ_k(3)), never "Wᵀ −δ_k(3)"."""
        form = self.tex(key, t)
        return rf"\left({form}\right)" if self.tex_forms[key].startswith("-") else form

    def html(self, key: str, t: int | str | None = None) -> str:
        """HTML (for Plotly) for ``key``; time-indexed keys take ``t``."""
        return self.html_forms[key].replace("{t}", self.index(t))

    def plain(self, key: str, t: int | str | None = None) -> str:
        """Plain text for ``key`` (tables, file names): <sub>x</sub> → _x, <sup>x</sup> → ^x."""
        text = self.html(key, t)
        for tag, mark in (("sub", "_"), ("sup", "^")):
            text = text.replace(f"<{tag}>", mark).replace(f"</{tag}>", "")
        return text


# fmt: off
GOODFELLOW = Notation(
    key="goodfellow",
    name="Goodfellow et al. (U, W, V)",
    source="Deep Learning §10.2.2 (seed 001)",
    tex_forms={
        "W_xh": "U", "W_hh": "W", "W_hy": "V", "b_h": "b", "b_y": "c",
        "x": "x^{({t})}", "a": "a^{({t})}", "h": "h^{({t})}", "o": "o^{({t})}",
        "y": r"\hat{y}^{({t})}", "d": "y^{({t})}",
        "delta_h": r"\nabla_{a^{({t})}}L", "delta_o": r"\nabla_{o^{({t})}}L",
        "L_t": "L^{({t})}", "L": "L", "eta": r"\epsilon", "f": r"\tanh", "g": r"\operatorname{softmax}",
    },
    html_forms={
        "W_xh": "U", "W_hh": "W", "W_hy": "V", "b_h": "b", "b_y": "c",
        "x": "x<sup>({t})</sup>", "a": "a<sup>({t})</sup>", "h": "h<sup>({t})</sup>",
        "o": "o<sup>({t})</sup>", "y": "ŷ<sup>({t})</sup>", "d": "y<sup>({t})</sup>",
        "delta_h": "∇<sub>a({t})</sub>L", "delta_o": "∇<sub>o({t})</sub>L",
        "L_t": "L<sup>({t})</sup>", "L": "L", "eta": "ε", "f": "tanh", "g": "softmax",
    },
    remarks=(
        "Goodfellow writes the prediction as ŷ and the target as y.",
        "The learning rate is ε.",
    ),
)

GUO = Notation(
    key="guo",
    name="Guo / Mikolov (V, U, W)",
    source="Jiang Guo, BackPropagation Through Time (seed 002)",
    tex_forms={
        "W_xh": "V", "W_hh": "U", "W_hy": "W", "b_h": "b_j", "b_y": "b_k",
        "x": "x({t})", "a": r"\mathrm{net}_j({t})", "h": "s({t})", "o": r"\mathrm{net}_k({t})",
        "y": "y({t})", "d": "d({t})",
        "delta_h": r"-\delta_j({t})", "delta_o": r"-\delta_k({t})",
        "L_t": "C({t})", "L": "C", "eta": r"\eta", "f": "f", "g": "g",
    },
    html_forms={
        "W_xh": "V", "W_hh": "U", "W_hy": "W", "b_h": "b<sub>j</sub>", "b_y": "b<sub>k</sub>",
        "x": "x({t})", "a": "net<sub>j</sub>({t})", "h": "s({t})", "o": "net<sub>k</sub>({t})",
        "y": "y({t})", "d": "d({t})",
        "delta_h": "−δ<sub>j</sub>({t})", "delta_o": "−δ<sub>k</sub>({t})",
        "L_t": "C({t})", "L": "C", "eta": "η", "f": "f", "g": "g",
    },
    remarks=(
        "Guo's δ is the negative gradient, δ = −∂C/∂net, so the values shown are −δ "
        "and his updates add η·δ·x where the others subtract η·∂L/∂w: the same update.",
        "Guo's eq. (22) multiplies the output error by V, his input weights; it must be W, the "
        "output weights. Eq. (25) calls the recurrent weights W; they are U.",
    ),
)

NG = Notation(
    key="ng",
    name='"hello" notes / Ng (W_ax, W_aa, W_ya)',
    source='handwritten "hello" notes (seed 003), Andrew Ng\'s course',
    tex_forms={
        "W_xh": "W_{ax}", "W_hh": "W_{aa}", "W_hy": "W_{ya}", "b_h": "b_a", "b_y": "b_y",
        "x": "x({t})", "a": r"\mathrm{net}_a({t})", "h": "a({t})", "o": r"\mathrm{net}_y({t})",
        "y": "y({t})", "d": r"\hat{y}({t})",
        "delta_h": r"\frac{\partial L}{\partial \mathrm{net}_a({t})}",
        "delta_o": r"\frac{\partial L}{\partial \mathrm{net}_y({t})}",
        "L_t": "L({t})", "L": "L", "eta": r"\eta", "f": r"\tanh", "g": r"\operatorname{softmax}",
    },
    html_forms={
        "W_xh": "W<sub>ax</sub>", "W_hh": "W<sub>aa</sub>", "W_hy": "W<sub>ya</sub>",
        "b_h": "b<sub>a</sub>", "b_y": "b<sub>y</sub>",
        "x": "x({t})", "a": "net<sub>a</sub>({t})", "h": "a({t})", "o": "net<sub>y</sub>({t})",
        "y": "y({t})", "d": "ŷ({t})",
        "delta_h": "∂L/∂net<sub>a</sub>({t})", "delta_o": "∂L/∂net<sub>y</sub>({t})",
        "L_t": "L({t})", "L": "L", "eta": "η", "f": "tanh", "g": "softmax",
    },
    remarks=(
        "These notes call the hidden state a(t) and write ŷ for the target, y for the prediction.",
        "Their eq. (4) reads w_ax·a(t); it is w_ax·x(t). With softmax and cross-entropy the whole "
        "output error is y(t) − ŷ(t): every output receives error, not only the target's, and "
        "the factors (1 − a(t)^N) are (1 − a(t)²).",
    ),
)

MINCHAR = Notation(
    key="minchar",
    name="min-char-rnn (Wxh, Whh, Why)",
    source="Karpathy's min-char-rnn.py",
    tex_forms={
        "W_xh": r"\mathtt{Wxh}", "W_hh": r"\mathtt{Whh}", "W_hy": r"\mathtt{Why}",
        "b_h": r"\mathtt{bh}", "b_y": r"\mathtt{by}",
        "x": r"\mathtt{xs}[{t}]", "a": r"\mathtt{hraw}[{t}]", "h": r"\mathtt{hs}[{t}]",
        "o": r"\mathtt{ys}[{t}]", "y": r"\mathtt{ps}[{t}]", "d": r"\mathtt{targets}[{t}]",
        "delta_h": r"\mathtt{dhraw}[{t}]", "delta_o": r"\mathtt{dy}[{t}]",
        "L_t": r"\mathtt{loss}[{t}]", "L": r"\mathtt{loss}", "eta": r"\mathtt{learning\_rate}",
        "f": r"\tanh", "g": r"\operatorname{softmax}",
    },
    html_forms={
        "W_xh": "Wxh", "W_hh": "Whh", "W_hy": "Why", "b_h": "bh", "b_y": "by",
        "x": "xs[{t}]", "a": "hraw[{t}]", "h": "hs[{t}]", "o": "ys[{t}]", "y": "ps[{t}]",
        "d": "targets[{t}]", "delta_h": "dhraw[{t}]", "delta_o": "dy[{t}]",
        "L_t": "loss[{t}]", "L": "loss", "eta": "learning_rate", "f": "tanh", "g": "softmax",
    },
    remarks=(
        "min-char-rnn calls the logits ys and the probabilities ps; hraw is our name for the "
        "pre-activation whose gradient it calls dhraw.",
        "It clips every gradient entry to [−5, 5] and updates with Adagrad.",
        "The program counts time from 0: the first input is xs[0] and the initial hidden state "
        "is hs[-1]; the symbols here use its indices (the app's t = 1 is its index 0).",
    ),
    time_offset=-1,
)

LEVELS = Notation(
    key="levels",
    name="levels (W^r, V, W^{r+1})",
    source="the layered derivation (seed 000)",
    tex_forms={
        "W_xh": "W^{r}", "W_hh": "V", "W_hy": "W^{r+1}", "b_h": "b^{r}", "b_y": "b^{r+1}",
        "x": "X^{r-1}({t})", "a": "U^{r}({t})", "h": "X^{r}({t})", "o": "U^{r+1}({t})",
        "y": "X^{r+1}({t})", "d": "d({t})",
        "delta_h": r"\frac{\partial e}{\partial U^{r}({t})}",
        "delta_o": r"\frac{\partial e}{\partial U^{r+1}({t})}",
        "L_t": "e({t})", "L": "e", "eta": r"\alpha", "f": "f^{r}", "g": "f^{r+1}",
    },
    html_forms={
        "W_xh": "W<sup>r</sup>", "W_hh": "V", "W_hy": "W<sup>r+1</sup>",
        "b_h": "b<sup>r</sup>", "b_y": "b<sup>r+1</sup>",
        "x": "X<sup>r−1</sup>({t})", "a": "U<sup>r</sup>({t})", "h": "X<sup>r</sup>({t})",
        "o": "U<sup>r+1</sup>({t})", "y": "X<sup>r+1</sup>({t})", "d": "d({t})",
        "delta_h": "∂e/∂U<sup>r</sup>({t})", "delta_o": "∂e/∂U<sup>r+1</sup>({t})",
        "L_t": "e({t})", "L": "e", "eta": "α", "f": "f<sup>r</sup>", "g": "f<sup>r+1</sup>",
    },
    remarks=(
        "This note indexes weights from → to (W_{i,j} joins node i of level k−1 to node j of "
        "level k), so its matrices are the transposes of the ones shown here; it has no biases "
        "(b^r, b^{r+1} are ours) and no symbol for the target (d(t) is ours).",
        "Its last update reads V(T) = W(T−1) + ΔV; it is V(T) = V(T−1) + ΔV.",
    ),
)

# fmt: on

NOTATIONS: dict[str, Notation] = {n.key: n for n in (GOODFELLOW, GUO, NG, MINCHAR, LEVELS)}
DEFAULT_NOTATION = "goodfellow"


def get_notation(key: str) -> Notation:
    """The notation with this key; unknown keys are a ValueError."""
    try:
        return NOTATIONS[key]
    except KeyError:
        raise ValueError(
            f"Unknown notation {key!r}; choose one of {', '.join(NOTATIONS)}."
        ) from None
