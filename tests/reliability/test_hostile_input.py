"""Hostile input at every entry point: URL query parameters, the text box, uploads.

Each page runs under AppTest (the script exactly as the server runs it). What must hold every
time: no exception, the page's title, and either its normal content or a clear message (an
``st.error`` of at least one sentence). Hypothesis throws random and nasty values at the URL
parameters (the real widget keys, plus unknown ones), at the training text, and random bytes at
the upload; hand-picked cases cover the attacks by name (HTML and ``<script>``, markdown and
LaTeX specials, control characters, oversized text and files, pickles that would create a file
when unpickled, a zip bomb). A static check makes sure no user string can reach
``unsafe_allow_html`` or ``st.html``.
"""

from __future__ import annotations

import ast
import html.parser
import io
import json
import math
import os
import pathlib
import pickle
import zipfile
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bptt_app.settings import (
    CLIP_CHOICES,
    INIT_CHOICES,
    MAX_TEXT_CHARS,
    MAX_WIDGET_CHARS,
    NOTATION_CHOICES,
    OPTIMIZER_CHOICES,
    OUTPUT_LOSS,
    Settings,
)
from bptt_app.train_session import MAX_UPLOAD_BYTES, SESSION_KEY, TrainSession
from bptt_core.functions import ACTIVATIONS
from tests.conftest import assert_no_exception
from tests.reliability._support import (
    PAGE_DIR,
    PAGE_FILES,
    PAGE_TITLES,
    REPO_ROOT,
    WIDGET_KEYS,
)

# BPTT_FUZZ_EXAMPLES=500 for a deeper local run; CI runs the default.
FUZZ_EXAMPLES = int(os.environ.get("BPTT_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<b>bold</b><i>it</i>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "[click](javascript:alert(1))",
    "<iframe src=//example.com>",
    "&lt;b&gt;&amp;",
]
SPECIALS = [
    "$x^2$ and $$\\int$$",
    "\\",
    "\\\\ \\frac{1}{0} \\def\\a{\\a}\\a",
    "{}{}{",
    "}",
    "%&#_^~",
    "`code` **bold** # heading\n- list\n> quote",
    ":material/warning: :red[red]",
    "| a | b |\n|---|---|",
]
CONTROL = ["\x00\x01\x02", "a\x1b[31mred", "\u202eevil", "zero\u200bwidth\u200d", "\r\n\t\x0b\x0c"]
UNICODE = ["🙂🙃🙂", "日本語のテキスト", "ﷺ𒐫", "a\u0301\u0302\u0303", "\U0001f468\u200d\U0001f469"]
NUMBERS = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e309",
    "-1e309",
    "1e308",
    "-0",
    "0",
    "-1",
    "1e-320",
    "99999999999999999999999999",
    "-2147483649",
    "0x10",
    "1_000",
    "",
    " ",
    "3.5",
    "2**31",
    "None",
    "true",
]
HOSTILE_TEXTS = XSS + SPECIALS + CONTROL + UNICODE


def labels_for(key: str) -> list[str]:
    """Valid option labels of the select boxes (random ones are mostly invalid)."""
    return {
        "notation": list(NOTATION_CHOICES),
        "act": list(ACTIVATIONS),
        "out": list(OUTPUT_LOSS),
        "init": list(INIT_CHOICES),
        "opt": list(OPTIMIZER_CHOICES),
        "clip": list(CLIP_CHOICES),
    }.get(key, [])


ALL_LABELS = sorted({label for key in WIDGET_KEYS for label in labels_for(key)})
no_surrogates = st.characters(blacklist_categories=("Cs",))  # a URL cannot carry them
values = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(HOSTILE_TEXTS),
    st.sampled_from(ALL_LABELS),
    st.text(no_surrogates, max_size=40),
    st.integers(-(2**80), 2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(MAX_TEXT_CHARS - 5, MAX_WIDGET_CHARS + 5_000).map(lambda n: "ab" * (n // 2)),
)
queries = st.dictionaries(
    st.sampled_from([*WIDGET_KEYS, "bogus", "page", "__proto__", "embed"]),
    st.one_of(values, st.lists(values, min_size=2, max_size=3)),
    max_size=6,
)


# --------------------------------------------------------------------------- what must hold


def messages(at) -> list[str]:
    return [e.value for e in at.error]


def assert_clear_page(at, page: str, context: object = "") -> None:
    """No exception; the page's title; its normal content, or a clear error message."""
    assert_no_exception(at)
    titles = [t.value for t in at.title]
    assert PAGE_TITLES[page] in titles, f"{page}: title missing ({context!r}); titles {titles}"
    errors = messages(at)
    for e in errors:
        assert len(e.strip()) >= 20 and " " in e, f"unclear message {e!r} ({context!r})"
    if errors:
        return
    if page == "step":
        players = at.get("bidi_component")
        assert len(players) == 1, f"step page without its player ({context!r})"
    elif page == "truncation":
        assert len(at.get("plotly_chart")) > 0, f"truncation page without charts ({context!r})"
    elif page == "train":
        assert "Updates" in [m.label for m in at.metric], (
            f"train page without counters ({context!r})"
        )
    else:  # the derivation: the note's lines
        assert at.markdown, f"derivation page without its note ({context!r})"


def open_page(app_test, page: str, query: dict | None = None):
    return app_test(PAGE_FILES[page], query=query, timeout=60)


# --------------------------------------------------------------------------- URL parameters

# Streamlit 1.67 crashes on an integer st.number_input bound to the URL when the value parses to
# ±infinity (?seed=inf, ?k=1e999, ?seq=-inf): NumberInputSerde.deserialize calls int(inf).
# bptt_app.sidebar.drop_infinite_url_numbers removes such values before the widgets read them.
NUMBER_KEYS = ("hidden", "scale", "radius", "seed", "k", "lr", "clipval", "seq")


@pytest.mark.parametrize("value", ["inf", "-inf", "1e999", "-1e309", "Infinity"])
@pytest.mark.parametrize("key", NUMBER_KEYS)
def test_infinite_numbers_in_the_url(app_test, key, value):
    at = open_page(app_test, "step", {key: value})
    assert_clear_page(at, "step", {key: value})
    at.run()  # and the next run too
    assert_clear_page(at, "step", {key: value})


@FUZZ
@given(query=queries, page=st.sampled_from(list(PAGE_FILES)))
def test_fuzzed_url_parameters_give_a_working_page(app_test, query, page):
    at = open_page(app_test, page, query)
    assert_clear_page(at, page, query)
    # the widgets hold valid values whatever the URL said
    lr = at.sidebar.number_input(key="lr").value
    assert math.isfinite(lr) and 1e-6 <= lr <= 1e6
    assert 1 <= at.sidebar.slider(key="hidden").value <= 128
    assert len(at.sidebar.text_area(key="text").value) <= MAX_WIDGET_CHARS


@pytest.mark.parametrize("page", list(PAGE_FILES))
def test_named_url_attacks(app_test, page):
    for text in [*XSS, *SPECIALS[:4], CONTROL[0], ""]:
        query = {"text": text, "lr": "1e309", "hidden": "-5", "seed": "nan", "k": "1e20"}
        at = open_page(app_test, page, query)
        assert_clear_page(at, page, query)
        assert at.sidebar.text_area(key="text").value == text


def test_oversized_text_in_the_url_is_refused_with_a_message(app_test):
    for n in (MAX_TEXT_CHARS + 1, MAX_WIDGET_CHARS, MAX_WIDGET_CHARS * 3):
        for page in PAGE_FILES:
            at = open_page(app_test, page, {"text": "ab" * (n // 2 + 1)})
            assert_clear_page(at, page, n)
            shown = " ".join(messages(at))
            assert f"the limit is {MAX_TEXT_CHARS:,}" in shown, shown[:200]


# --------------------------------------------------------------------------- sidebar widgets

# (key, smallest, largest) of the sidebar's numeric widgets (bptt_app/sidebar.py)
NUMERIC_EXTREMES = [
    ("hidden", 1, 128),
    ("scale", 1e-4, 10.0),
    ("radius", 0.1, 3.0),
    ("seed", 0, 2**31 - 1),
    ("k", 0, 100_000),
    ("lr", 1e-6, 1e6),
    ("clipval", 1e-3, 1e6),
    ("seq", 1, 200),
]
SELECT_KEYS = ("notation", "act", "out", "init", "opt", "clip")


@pytest.mark.parametrize("init", list(INIT_CHOICES))
@pytest.mark.parametrize("end", ["smallest", "largest"])
@pytest.mark.parametrize("page", list(PAGE_FILES))
def test_every_sidebar_widget_at_its_extreme(app_test, page, end, init):
    """Every numeric widget at its bound and every select box at its first or last option (as
    a shared link would set them; disabled widgets too), on a text long enough to be chunked;
    on Train live, ten updates on top."""
    query = {key: str(low if end == "smallest" else high) for key, low, high in NUMERIC_EXTREMES}
    for key in SELECT_KEYS:
        options = labels_for(key)
        query[key] = options[0 if end == "smallest" else -1]
    query["init"] = init
    query["text"] = "the quick brown fox jumps over the lazy dog " * 3
    at = open_page(app_test, page, query)
    assert_clear_page(at, page, query)
    for key, low, high in NUMERIC_EXTREMES:
        widget = at.sidebar.slider(key=key) if key in ("hidden", "radius") else None
        value = (widget or at.sidebar.number_input(key=key)).value
        assert value == pytest.approx(low if end == "smallest" else high), (key, value)
    if page == "train" and not messages(at):
        at.button(key="train_ten").click().run()
        assert_clear_page(at, page, f"{end}, 10 updates")


# --------------------------------------------------------------------------- the text box

texts = st.one_of(
    st.text(no_surrogates, max_size=60),
    st.lists(st.sampled_from(HOSTILE_TEXTS), min_size=1, max_size=4).map("".join),
    st.text(st.sampled_from("$\\{}%&#_^~<>/\"'`*[]()!|\n\t\x00"), max_size=30),
    st.integers(MAX_TEXT_CHARS - 2, MAX_TEXT_CHARS + 2).map(
        lambda n: "xy" * (n // 2) + "z" * (n % 2)
    ),
    st.text(no_surrogates, min_size=250, max_size=400),  # more than 200 distinct characters
)


@FUZZ
@given(text=texts, page=st.sampled_from(list(PAGE_FILES)))
def test_fuzzed_text_box_gives_a_working_page(app_test, text, page):
    at = open_page(app_test, page, {"hidden": "5"})
    at.sidebar.text_area(key="text").input(text).run()
    assert_clear_page(at, page, text)
    assert at.sidebar.slider(key="hidden").value == 5, "another setting was lost"
    at.sidebar.text_area(key="text").input("hello").run()  # and the session recovers
    assert_clear_page(at, page, "hello after " + repr(text[:50]))
    assert not messages(at)


def test_bad_text_on_train_live_loses_nothing(app_test):
    at = open_page(app_test, "train")
    at.button(key="train_ten").click().run()
    at.button(key="train_one").click().run()
    assert_no_exception(at)
    for bad in ["", "x", "<script>alert(1)</script>" * 300, "".join(map(chr, range(300, 560)))]:
        at.sidebar.text_area(key="text").input(bad).run()
        assert_clear_page(at, "train", bad[:40])
        assert messages(at), f"no message for {bad[:40]!r}"
    at.sidebar.text_area(key="text").input("hello").run()
    assert_clear_page(at, "train")
    assert at.session_state[SESSION_KEY].trainer.updates == 11, "training was lost"


def test_user_html_is_escaped_in_every_markdown(app_test):
    """Markdown elements never carry a raw ``<`` from the text (md_char/md_text escape it)."""
    text = "<b>x</b><script>y</script>"
    for page in PAGE_FILES:
        at = open_page(app_test, page, {"text": text, "hidden": "3"})
        assert_clear_page(at, page)
        for el in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error]:
            body = el.value
            for tag in ("<b>", "<script>", "</b>", "</script>"):
                at_ = body.find(tag)
                assert at_ < 0 or (at_ > 0 and body[at_ - 1] == "\\"), (
                    f"{page}: unescaped {tag} in {body[:200]!r}"
                )
            assert not getattr(el.proto, "allow_html", False), f"{page}: HTML allowed: {body[:80]}"


SVG_TEXTS = [
    "<b>&amp;</b>\"'\x00\x1b\u202e$\\{}%🙂",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
]


class _Markup(html.parser.HTMLParser):
    """Every tag and attribute of an HTML/SVG/MathML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag.lower(), attrs))


def _markup_strings(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _markup_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _markup_strings(v)
    elif isinstance(value, str) and "<" in value:
        yield value


@pytest.mark.parametrize("text", SVG_TEXTS, ids=["specials", "script"])
def test_the_players_markup_has_the_text_as_text(app_test, text):
    """The step page's browser player puts markup from the server (status lines, equations,
    the network's SVG, questions) into the page: built from a hostile text it must hold no
    script, frame, image or event handler, and no javascript: link."""
    at = open_page(app_test, "step", {"text": text, "hidden": "3"})
    assert_no_exception(at)
    data = json.loads(at.get("bidi_component")[0].proto.json)
    payload = json.loads(data["pass"])
    # plain text, which step_player.js sets with textContent: the heading, the step labels and
    # the caption of a downloaded figure
    for key in ("heading", "labels", "caption"):
        payload.pop(key, None)
    fragments = list(_markup_strings(payload))
    assert len(fragments) > 10, "no markup in the player's pass"
    for fragment in fragments:
        parser = _Markup()
        parser.feed(fragment)
        for tag, attrs in parser.found:
            assert tag not in ("script", "iframe", "foreignobject", "img", "object"), (
                f"<{tag}> in {fragment[:120]!r}"
            )
            for name, value in attrs:
                assert not name.lower().startswith("on"), f"{name}= in {fragment[:120]!r}"
                assert "javascript:" not in (value or "").lower(), fragment[:120]


# --------------------------------------------------------------------------- static checks

HTML_SINKS = {"html"}  # st.html, components.html


def _python_files() -> list[pathlib.Path]:
    roots = [
        REPO_ROOT / "app.py",
        REPO_ROOT / PAGE_DIR,
        REPO_ROOT / "bptt_app",
        REPO_ROOT / "bptt_core",
    ]
    out = []
    for root in roots:
        out += [root] if root.is_file() else sorted(root.rglob("*.py"))
    return out


def _literal(node: ast.AST) -> bool:
    """A string built only from literals (an f-string with no placeholders counts)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _literal(node.left) and _literal(node.right)
    return False


def test_no_user_string_reaches_unsafe_html():
    """``unsafe_allow_html=True`` and ``st.html`` only ever get string literals."""
    offences = []
    for path in _python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            unsafe = any(
                kw.arg == "unsafe_allow_html"
                and not (isinstance(kw.value, ast.Constant) and kw.value.value is False)
                for kw in node.keywords
            )
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if unsafe or name in HTML_SINKS:
                args = node.args[:1] + [kw.value for kw in node.keywords if kw.arg == "body"]
                if not all(_literal(a) for a in args):
                    offences.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert not offences, f"non-literal strings rendered as HTML at {offences}"
    assert _python_files(), "no files scanned"


# --------------------------------------------------------------------------- uploads


class TouchOnUnpickle:
    """A pickle payload: unpickling it creates the file ``path`` (as an attacker's would run
    a command)."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = pathlib.Path(path)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def _replace_entry(npz: bytes, name: str, data: bytes) -> bytes:
    """The .npz ``npz`` with entry ``name`` replaced by ``data``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(npz)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, data if info.filename == name else src.read(info))
    return out.getvalue()


def _zip_bomb(unpacked: int = 70_000_000) -> bytes:
    """An .npz whose W_xh unpacks to ``unpacked`` bytes of zeros (about 70 kB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("W_xh.npy", "w", force_zip64=True) as f:
            n = unpacked // 8
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": (n,)}
            )
            chunk = bytes(1 << 20)
            for _ in range(unpacked // len(chunk)):
                f.write(chunk)
    return out.getvalue()


def hostile_files(marker: pathlib.Path, good: bytes) -> dict[str, bytes]:
    evil = TouchOnUnpickle(marker)
    return {
        "raw pickle": pickle.dumps(evil),
        "pickle named like a checkpoint": pickle.dumps({"W_xh": evil}),
        ".npy of objects": _npy(np.array([evil, 1], dtype=object)),
        ".npz with an object entry": _replace_entry(
            good, "W_hh.npy", _npy(np.array([evil], dtype=object))
        ),
        ".npz with an object vocab": _replace_entry(
            good, "vocab.npy", _npy(np.array([evil, "h"], dtype=object))
        ),
        "random bytes": bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
        "empty": b"",
        "2 MB": b"PK\x03\x04" + bytes(2_000_000),
        "zip bomb": _zip_bomb(),
        "truncated .npz": good[: len(good) // 2],
        "text": b"W_xh,W_hh\n1,2\n",
    }


@pytest.fixture
def marker(tmp_path: pathlib.Path) -> pathlib.Path:
    """A path that unpickling any of the payloads would create; proves the payload is live."""
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(TouchOnUnpickle(control)))  # the point of the test
    assert control.exists(), "the pickle payload does not work, so the test would prove nothing"
    return tmp_path / "unpickled"


def test_hostile_uploads_are_refused_and_never_unpickled(marker):
    sess = TrainSession(Settings())
    sess.train(3)
    before = sess.trainer.params
    files = hostile_files(marker, sess.params_file())
    for name, data in files.items():
        notice = sess.load_upload(data, f"{name}.npz")
        assert notice.level == "error", f"{name}: {notice}"
        assert "Nothing was changed" in notice.message, f"{name}: {notice.message}"
        assert not marker.exists(), f"{name}: the upload was unpickled"
        assert sess.trainer.updates == 3
        for a, b in zip(sess.trainer.params.items(), before.items(), strict=True):
            assert np.array_equal(a[1], b[1]), f"{name}: parameter {a[0]} changed"
    big = sess.load_upload(files["2 MB"], "big.npz").message
    assert f"limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB" in big, big
    assert "unpickling" in sess.load_upload(files[".npz with an object entry"]).message


@FUZZ
@given(data=st.binary(max_size=4096), prefix=st.sampled_from([b"", b"PK\x03\x04", b"\x93NUMPY"]))
def test_fuzzed_upload_bytes_are_refused_cleanly(data, prefix):
    sess = TrainSession(Settings())
    notice = sess.load_upload(prefix + data, "fuzz.npz")
    assert notice.level == "error" and len(notice.message) > 20


def test_hostile_uploads_through_the_page(app_test, marker):
    """The real file_uploader of Train live: refused with a message, the session intact."""
    at = open_page(app_test, "train")
    at.button(key="train_ten").click().run()
    good = at.session_state[SESSION_KEY].params_file()
    for name, data in hostile_files(marker, good).items():
        filename = f"<img src=x onerror=alert(1)> {name}.npz"
        at.file_uploader(key="train_upload").set_value((filename, data, "application/zip")).run()
        assert_clear_page(at, "train", name)
        shown = " ".join(messages(at))
        assert "Nothing was changed" in shown, f"{name}: {shown[:300]}"
        assert not marker.exists(), f"{name}: the upload was unpickled"
        assert at.session_state[SESSION_KEY].trainer.updates == 10, f"{name}: training lost"
    at.file_uploader(key="train_upload").set_value(("mine.npz", good, "application/zip")).run()
    assert_no_exception(at)
    assert [s.value for s in at.success], "a good file is loaded again after the bad ones"
