"""LaTeX → MathML for the equations the app writes, so a browser typesets them with no library.

Chromium renders MathML Core natively; the browser stepper shows every step's equations as the
MathML made here, once per pass, with no typesetter shipped to the page. This is a typesetter for
the subset of LaTeX that ``bptt_viz.equations`` and ``bptt_viz.notation`` write, not a general one:
an unknown command is a ``ValueError`` (tests convert every equation of every notation).

Supported: groups ``{…}``, ``^`` and ``_``, ``\\frac``/``\\tfrac``, ``\\text``, ``\\mathrm``,
``\\operatorname``, ``\\mathtt``, ``\\mathbb{1}``, ``\\mathbf{0|1}``, ``\\hat``, ``\\underbrace{…}_{…}``,
``\\left … \\right``, the ``bmatrix`` and ``aligned`` environments, spacing, and the symbols below.
A whole-equation ``aligned`` block becomes an HTML table of one ``<math>`` per side, so the ``=``
signs line up without MathML table attributes that Chromium does not implement.
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

SYMBOLS: dict[str, tuple[str, str]] = {  # command → (element, character)
    "partial": ("mi", "∂"),
    "nabla": ("mi", "∇"),
    "odot": ("mo", "⊙"),
    "cdots": ("mo", "⋯"),
    "ldots": ("mo", "…"),
    "cdot": ("mo", "⋅"),
    "top": ("mi", "⊤"),
    "leftarrow": ("mo", "←"),
    "rightarrow": ("mo", "→"),
    "Rightarrow": ("mo", "⇒"),
    "to": ("mo", "→"),
    "langle": ("mo", "⟨"),
    "rangle": ("mo", "⟩"),
    "lVert": ("mo", "‖"),
    "rVert": ("mo", "‖"),
    "sim": ("mo", "∼"),
    "backslash": ("mo", "\\"),
    "infty": ("mi", "∞"),
    "le": ("mo", "≤"),
    "leq": ("mo", "≤"),
    "ge": ("mo", "≥"),
    "geq": ("mo", "≥"),
    "neq": ("mo", "≠"),
    "approx": ("mo", "≈"),
    "times": ("mo", "×"),
    "in": ("mo", "∈"),
    "prod": ("mo", "∏"),
    "sum": ("mo", "∑"),
    "Delta": ("mi", "Δ"),
    "alpha": ("mi", "α"),
    "beta": ("mi", "β"),
    "gamma": ("mi", "γ"),
    "delta": ("mi", "δ"),
    "epsilon": ("mi", "ϵ"),
    "varepsilon": ("mi", "ε"),
    "eta": ("mi", "η"),
    "theta": ("mi", "θ"),
    "lambda": ("mi", "λ"),
    "mu": ("mi", "μ"),
    "rho": ("mi", "ρ"),
    "sigma": ("mi", "σ"),
    "tau": ("mi", "τ"),
    "phi": ("mi", "φ"),
}
FUNCTIONS = {"log", "tanh", "exp", "max", "min", "sin", "cos", "diag"}
SPACES = {",": ".17em", ";": ".28em", ":": ".22em", " ": ".25em", "quad": "1em"}
SPACES["qquad"] = "2em"
TEXT_ESCAPES = {"{": "{", "}": "}", "_": "_", "#": "#", "$": "$", "%": "%", "&": "&", " ": " "}
TEXT_COMMANDS = {"backslash": "\\", "sim": "~", "hat{}": "^"}
BOLD_DIGITS = {"0": "𝟎", "1": "𝟏"}
LARGE_OPERATORS = {"∑", "∏"}
NBSP = "\u00a0"

_TOKEN = re.compile(r"\\([A-Za-z]+|.)|(\d+(?:\.\d+)?)|(\s+)|(.)", re.S)


class _Token(NamedTuple):
    kind: str  # "cmd" | "num" | "char"
    value: str
    start: int  # where it starts and ends in the source (to read \text arguments as written)
    end: int


def _tokens(tex: str) -> list[_Token]:
    """The tokens of ``tex`` without the spaces between them (maths ignores them)."""
    out = []
    for m in _TOKEN.finditer(tex):
        cmd, num, space, char = m.groups()
        if space is not None:
            continue
        kind, value = ("cmd", cmd) if cmd is not None else ("num", num) if num else ("char", char)
        out.append(_Token(kind, value, m.start(), m.end()))
    return out


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _mo(char: str, **attrs: str) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<mo{extra}>{_esc(char)}</mo>"


class _Parser:
    """Recursive descent over the token list; every parse_* returns a MathML string."""

    def __init__(self, tex: str) -> None:
        self.tex = tex
        self.tokens = _tokens(tex)
        self.i = 0
        self.cell_starts: set[int] = set()  # token positions that begin a table cell

    # ------------------------------------------------------------------ token access

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        if self.i >= len(self.tokens):
            raise ValueError(f"Unexpected end of the equation {self.tex!r}.")
        self.i += 1
        return self.tokens[self.i - 1]

    def expect_char(self, char: str) -> None:
        token = self.take()
        if token.kind != "char" or token.value != char:
            raise ValueError(f"Expected {char!r} in {self.tex!r}, found {token.value!r}.")

    def raw_group(self) -> str:
        """The source text of the next {…} group, as written (for \\text and friends)."""
        opening = self.take()
        if opening.kind != "char" or opening.value != "{":
            raise ValueError(f"Expected '{{' in {self.tex!r}, found {opening.value!r}.")
        depth = 1
        while True:
            token = self.take()
            if token.kind == "char" and token.value in "{}":
                depth += 1 if token.value == "{" else -1
                if depth == 0:
                    return self.tex[opening.end : token.start]

    # ------------------------------------------------------------------ structure

    def sequence(self, stops: tuple[str, ...] = ()) -> list[str]:
        """Atoms (with their scripts) until a stop: a closing brace, & or \\\\, \\right, \\end."""
        items: list[str] = []
        while (token := self.peek()) is not None:
            if token.kind == "char" and token.value in stops:
                break
            if token.kind == "cmd" and token.value in stops:
                break
            if token.kind == "char" and token.value in "^_":
                base = items.pop() if items else "<mrow></mrow>"
                items.append(self.scripts(base))
                continue
            items.append(self.atom())
        return items

    def scripts(self, base: str) -> str:
        sub = sup = None
        while (token := self.peek()) is not None and token.kind == "char" and token.value in "^_":
            self.take()
            if token.value == "_":
                sub = self.atom()
            else:
                sup = self.atom()
        large = any(f">{op}</mo>" in base for op in LARGE_OPERATORS) and base.startswith("<mo")
        under, over = ("munder", "mover") if large else ("msub", "msup")
        if sub is not None and sup is not None:
            tag = "munderover" if large else "msubsup"
            return f"<{tag}>{base}{sub}{sup}</{tag}>"
        if sub is not None:
            return f"<{under}>{base}{sub}</{under}>"
        return f"<{over}>{base}{sup}</{over}>"

    def row(self, items: list[str]) -> str:
        return items[0] if len(items) == 1 else "<mrow>" + "".join(items) + "</mrow>"

    def group(self) -> str:
        self.expect_char("{")
        items = self.sequence(("}",))
        self.expect_char("}")
        if len(items) == 3 and items[0] == "<mo>(</mo>" and items[2] == "<mo>)</mo>":
            number = re.fullmatch(r"<mn>([^<]+)</mn>", items[1])
            if number:  # a time index such as (35): one token, as it reads
                return f"<mn>({number.group(1)})</mn>"
        return items[0] if len(items) == 1 else "<mrow>" + "".join(items) + "</mrow>"

    def atom(self) -> str:
        token = self.peek()
        if token is None:
            raise ValueError(f"Missing argument in {self.tex!r}.")
        if token.kind == "char" and token.value == "{":
            return self.group()
        token = self.take()
        if token.kind == "num":
            return f"<mn>{token.value}</mn>"
        if token.kind == "cmd":
            return self.command(token.value)
        c = token.value
        if c.isalpha():
            return f"<mi>{_esc(c)}</mi>"
        if c == "-":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "num" and self._after_operator():
                return f"<mn>−{self.take().value}</mn>"  # a negative number, not a subtraction
            return _mo("−")
        if c == "'":
            return _mo("′")
        return _mo(c)

    def _after_operator(self) -> bool:
        """Whether the minus just taken starts its group (after {, &, =, or a cell start)."""
        j = self.i - 2
        if j < 0 or any(j < start <= self.i - 1 for start in self.cell_starts):
            return True
        before = self.tokens[j]
        return before.value in ("{", "&", "=", "(", ",") or (
            before.kind == "cmd" and before.value in ("\\", "quad", ",", ";")
        )

    # ------------------------------------------------------------------ commands

    def command(self, name: str) -> str:
        if name in SYMBOLS:
            element, char = SYMBOLS[name]
            if char in LARGE_OPERATORS:
                return _mo(char, largeop="true", movablelimits="false")
            return f"<{element}>{_esc(char)}</{element}>"
        if name in SPACES:
            return f'<mspace width="{SPACES[name]}"/>'
        if name in FUNCTIONS:
            return f'<mi mathvariant="normal">{name}</mi><mspace width=".17em"/>'
        if name in "{}_#$%&":
            return _mo(name)
        handler = getattr(self, f"cmd_{name}", None)
        if handler is None:
            raise ValueError(f"The equation typesetter does not know \\{name} (in {self.tex!r}).")
        return handler()

    def cmd_frac(self) -> str:
        return f"<mfrac>{self.atom()}{self.atom()}</mfrac>"

    def cmd_sqrt(self) -> str:
        return f"<msqrt>{self.atom()}</msqrt>"

    def cmd_tfrac(self) -> str:
        return f'<mstyle displaystyle="false"><mfrac>{self.atom()}{self.atom()}</mfrac></mstyle>'

    def cmd_text(self) -> str:
        # spaces at the ends of a text would be collapsed by the browser: keep them as no-break
        content = _text_content(self.raw_group())
        lead = NBSP * (len(content) - len(content.lstrip(" ")))
        trail = NBSP * (len(content) - len(content.rstrip(" ")))
        return f"<mtext>{lead}{_esc(content.strip(' '))}{trail}</mtext>"

    def cmd_mathrm(self) -> str:
        return f'<mi mathvariant="normal">{_esc(_text_content(self.raw_group()))}</mi>'

    cmd_operatorname = cmd_mathrm

    def cmd_mathtt(self) -> str:
        return f'<mtext class="tt">{_esc(_text_content(self.raw_group()))}</mtext>'

    def cmd_mathbb(self) -> str:
        content = self.raw_group()
        if content != "1":
            raise ValueError(f"\\mathbb{{{content}}} is not supported (in {self.tex!r}).")
        return "<mn>𝟙</mn>"

    def cmd_mathbf(self) -> str:
        content = self.raw_group()
        if content not in BOLD_DIGITS:
            raise ValueError(f"\\mathbf{{{content}}} is not supported (in {self.tex!r}).")
        return f"<mn>{BOLD_DIGITS[content]}</mn>"

    def cmd_hat(self) -> str:
        token = self.peek()
        if token is not None and token.kind == "char" and token.value == "{":
            inner = self.group()
            if inner == "<mrow></mrow>":
                return _mo("^")
        else:
            inner = self.atom()
        return f'<mover accent="true">{inner}{_mo("^")}</mover>'

    def cmd_overline(self) -> str:
        return f'<mover accent="true">{self.atom()}{_mo("‾")}</mover>'

    def cmd_underbrace(self) -> str:
        body = self.atom()
        brace = f"<munder>{body}{_mo('⏟', stretchy='true')}</munder>"
        token = self.peek()
        if token is not None and token.kind == "char" and token.value == "_":
            self.take()
            return f"<munder>{brace}{self.atom()}</munder>"
        return brace

    def delimiter(self) -> str:
        token = self.take()
        if token.kind == "char" and token.value == ".":
            return ""
        char = SYMBOLS[token.value][1] if token.kind == "cmd" else token.value
        return _mo(char)  # fences stretch by default (where the font can)

    def cmd_left(self) -> str:
        opening = self.delimiter()
        items = self.sequence(("right",))
        self.take()  # \right
        closing = self.delimiter()
        return "<mrow>" + opening + "".join(items) + closing + "</mrow>"

    def cmd_begin(self) -> str:
        env = self.raw_group()
        rows = self.table_rows(env)
        if env == "bmatrix":
            body = "".join(
                "<mtr>" + "".join(f"<mtd>{self.row(c)}</mtd>" for c in r) + "</mtr>" for r in rows
            )
            return f"<mrow>{_mo('[')}<mtable>{body}</mtable>{_mo(']')}</mrow>"
        if env == "aligned":
            body = "".join(
                "<mtr>" + "".join(f"<mtd>{self.row(c)}</mtd>" for c in r) + "</mtr>" for r in rows
            )
            return f"<mtable>{body}</mtable>"
        raise ValueError(f"The environment {env!r} is not supported (in {self.tex!r}).")

    def table_rows(self, env: str) -> list[list[list[str]]]:
        """Rows of cells of atoms up to \\end{env}."""
        rows: list[list[list[str]]] = [[]]
        while True:
            self.cell_starts.add(self.i)
            cell = self.sequence(("&", "\\", "end"))
            rows[-1].append(cell)
            token = self.take()
            if token.kind == "cmd" and token.value == "end":
                if self.raw_group() != env:
                    raise ValueError(f"Unbalanced \\begin{{{env}}} in {self.tex!r}.")
                return [r for r in rows if any(r)]
            if token.kind == "cmd" and token.value == "\\":
                rows.append([])


def _text_content(raw: str) -> str:
    """The characters a \\text{…} argument stands for (its escapes resolved)."""
    out = raw
    for command, char in TEXT_COMMANDS.items():
        out = re.sub(r"\\" + re.escape(command) + r"(?![A-Za-z])\s?", lambda _m, c=char: c, out)
    return re.sub(r"\\(.)", lambda m: TEXT_ESCAPES.get(m.group(1), m.group(1)), out)


def to_mathml(tex: str, display: bool = True) -> str:
    """One equation as a ``<math>`` element (block display unless ``display`` is False)."""
    parser = _Parser(tex)
    items = parser.sequence()
    if parser.peek() is not None:
        raise ValueError(f"Unbalanced braces in {tex!r}.")
    mode = "block" if display else "inline"
    return f'<math display="{mode}">' + "".join(items) + "</math>"


_ALIGNED = re.compile(r"^\s*\\begin\{aligned\}(.*)\\end\{aligned\}\s*$", re.S)


def equation_html(tex: str) -> str:
    """An equation for the page: ``<math>``, or for a whole ``aligned`` block an HTML table with
    the left sides right-aligned and the right sides (from ``=``) left-aligned."""
    match = _ALIGNED.match(tex)
    if match is None:
        return to_mathml(tex)
    rows = []
    for line in re.split(r"\\\\", match.group(1)):
        left, _, right = line.partition("&")
        rows.append(
            f'<tr><td class="lhs">{to_mathml(left, False)}</td>'
            f'<td class="rhs">{to_mathml(right, False)}</td></tr>'
        )
    return '<table class="aligned">' + "".join(rows) + "</table>"
