"""The classroom's presets: the standard demonstrations, one click each.

No Streamlit here. A preset is a whole ``Settings`` value (every sidebar setting but the
notation, which stays the class's), the spectral radius the truncation page rescales W_hh to,
and the page that shows it best; ``bptt_app.classroom`` writes it into the widgets' keys (and so
into the address bar) and opens that page. The texts and settings were chosen by training them
(see the notes of each preset); every value can still be changed afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from bptt_app import hand_weights
from bptt_app.settings import Settings

STEP, TRUNCATION, TRAIN = "pages/step.py", "pages/truncation.py", "pages/train.py"
LONGER_TEXT = "hello world, hello world"  # T = 23: long enough for error to fade (or grow)
RECALL_TEXT = "a---------ab---------b"  # the recall task as one text: 9 fillers


@dataclass(frozen=True)
class Preset:
    key: str  # widget key suffix and test handle
    label: str  # the button
    settings: Settings  # every sidebar setting (the notation is kept from the session)
    page: str  # the page it opens
    rho: float  # ρ(W_hh) of the truncation page's own slider
    note: str  # Markdown: what to look for, shown on the page it opens
    help: str  # the button's tooltip


PRESETS: tuple[Preset, ...] = (
    Preset(
        "hello",
        "hello",
        Settings(),
        STEP,
        1.0,
        "**Preset “hello”**, the app's defaults: step through the forward pass, the backward "
        "pass and the update of a network learning “hello”.",
        "The defaults: “hello”, H = 8, tanh, Adam. Opens Step through BPTT.",
    ),
    Preset(
        "vanishing",
        "Vanishing",
        Settings(text=LONGER_TEXT, activation="sigmoid", init="radius", spectral_radius=0.5),
        TRUNCATION,
        0.5,
        "**Preset “Vanishing”**: sigmoid units (slope at most ¼) and ρ(W_hh) = 0.5. Each step "
        "back shrinks the error: in the T × T map the error of a late loss has faded by many "
        "orders of magnitude before it reaches the early copies, and ‖∂h(t)/∂h(τ)‖ falls "
        "along its bound.",
        "Sigmoid, ρ(W_hh) = 0.5, a 24-character text. Opens Truncation & vanishing gradients.",
    ),
    Preset(
        "exploding",
        "Exploding",
        Settings(
            text=LONGER_TEXT,
            activation="tanh",
            init="radius",
            spectral_radius=2.0,
            clip="none",
            optimizer="sgd",
            learning_rate=0.1,
        ),
        TRUNCATION,
        2.0,
        "**Preset “Exploding”**: tanh and ρ(W_hh) = 2, no clipping. The error grows as it "
        "travels back: in the T × T map the last loss's error is larger at the first copy "
        "than at its own. On Train live, plain SGD without clipping makes the loss jump "
        "around instead of falling; set clipping to “global norm” and press Reset, and it "
        "learns.",
        "Tanh, ρ(W_hh) = 2, no clipping, SGD η = 0.1. Opens Truncation & vanishing gradients.",
    ),
    Preset(
        "truncation",
        "Truncation hurts",
        Settings(text=RECALL_TEXT, hidden_size=16, truncation=3),
        TRAIN,
        1.0,
        "**Preset “Truncation hurts”**: the recall task in one text. The character after the "
        "nine dashes repeats the one before them, so its error must travel 10 steps back; "
        "with k = 3 it cannot. Press Play: the loss stays up and the predictions miss the two "
        "recalled characters. Then set the truncation k to 0 (full BPTT) in the sidebar and "
        "press Reset: within about 100 updates both are learned.",
        "The recall text “a---------ab---------b”, H = 16, k = 3. Opens Train live.",
    ),
    Preset(
        "hand",
        "By hand",
        Settings(
            text="aba",
            hidden_size=2,
            init="hand",
            weights=hand_weights.DEFAULT_WEIGHTS,
            optimizer="sgd",
            learning_rate=0.5,
            clip="none",
        ),
        STEP,
        1.0,
        "**Preset “By hand”**: H = 2, the text “aba” (two steps), weights with one decimal "
        "and plain SGD, η = 0.5: small enough for one forward and backward pass on the board. "
        "Edit the weights in the table below; every number the steps show follows them.",
        "H = 2, “aba”, weights you can edit (one decimal), SGD. Opens Step through BPTT.",
    ),
)
PRESETS_BY_KEY: dict[str, Preset] = {p.key: p for p in PRESETS}


def matches(preset: Preset, settings: Settings) -> bool:
    """Whether ``settings`` are still the preset's (whatever the notation)."""
    return settings == Settings(**{**preset.settings.__dict__, "notation": settings.notation})
