"""The sidebar's settings as one frozen, hashable value, validated into engine arguments.

No Streamlit here: ``Settings`` is built by ``bptt_app.sidebar`` from the widgets (or by tests from
plain values) and turned into what the engine needs. Anything a student can type that the engine
would refuse becomes a ``Problem`` with a sentence to show, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from bptt_app import hand_weights
from bptt_core.corpus import Corpus
from bptt_core.model import RNNConfig
from bptt_core.trainer import TrainingConfig
from bptt_viz.notation import DEFAULT_NOTATION, NOTATIONS, Notation, get_notation

MAX_TEXT_CHARS = 5_000  # longest training text accepted (Train live trains it in chunks)
MAX_WIDGET_CHARS = 20_000  # a link's text longer than this is not put in the box (with a message)
MAX_VOCAB = 200  # distinct characters (W_xh and W_hy have one column/row per character)
STEP_MAX_T = 40  # the step-through page unfolds at most this many timesteps
FLOW_MAX_T = 80  # the truncation page's T × T maps use at most this many timesteps
MAX_HIDDEN = 128

# (output, loss) pairs offered in the sidebar, by label
OUTPUT_LOSS: dict[str, tuple[str, str]] = {
    "softmax + cross-entropy": ("softmax", "cross_entropy"),
    "sigmoid + cross-entropy": ("sigmoid", "cross_entropy"),
    "softmax + squared error": ("softmax", "sse"),
    "sigmoid + squared error": ("sigmoid", "sse"),
    "linear + squared error": ("linear", "sse"),
}
INIT_CHOICES: dict[str, str] = {
    "Xavier (1/√fan-in)": "xavier",
    "fixed scale": "scale",
    "spectral radius of W_hh": "radius",
    "by hand (H = 2, two characters)": "hand",
}
OPTIMIZER_CHOICES: dict[str, str] = {
    "Adam": "adam",
    "Adagrad": "adagrad",
    "momentum": "momentum",
    "SGD": "sgd",
}
CLIP_CHOICES: dict[str, str] = {
    "global norm": "norm",
    "each value (±c)": "value",
    "none": "none",
}
SCHEDULE_CHOICES: dict[str, str] = {
    "summed: one per pass": "sequence",
    "online: one per timestep": "timestep",
}
NOTATION_CHOICES: dict[str, str] = {n.name: key for key, n in NOTATIONS.items()}

_DEFAULT_TRAINING = TrainingConfig()


def init_arguments(
    init: str, init_scale: float, spectral_radius: float
) -> tuple[str, float, float | None]:
    """The sidebar's initialisation choice (xavier | scale | radius | hand) as init_params
    arguments: (scheme, scale, spectral_radius or None). Weights set by hand that do not fit
    the network fall back to the Xavier draw of the seed."""
    scheme = "scale" if init == "scale" else "xavier"
    return (
        scheme,
        init_scale if init == "scale" else 0.1,
        (spectral_radius if init == "radius" else None),
    )


@dataclass(frozen=True)
class Settings:
    """Everything the sidebar sets. Defaults are the app's defaults (the Trainer's too)."""

    text: str = "hello"
    notation: str = DEFAULT_NOTATION  # key of bptt_viz.notation.NOTATIONS
    hidden_size: int = _DEFAULT_TRAINING.hidden_size
    activation: str = _DEFAULT_TRAINING.activation
    output: str = _DEFAULT_TRAINING.output
    loss: str = _DEFAULT_TRAINING.loss
    init: str = "xavier"  # xavier | scale | radius | hand
    init_scale: float = 0.1  # σ of N(0, σ²) for init = "scale"
    spectral_radius: float = 1.0  # ρ(W_hh) for init = "radius"
    seed: int = _DEFAULT_TRAINING.seed
    truncation: int = 0  # k; 0 means full BPTT
    learning_rate: float = _DEFAULT_TRAINING.learning_rate
    optimizer: str = _DEFAULT_TRAINING.optimizer
    clip: str = _DEFAULT_TRAINING.clip
    clip_threshold: float = _DEFAULT_TRAINING.clip_threshold
    seq_length: int = _DEFAULT_TRAINING.seq_length
    schedule: str = _DEFAULT_TRAINING.schedule  # sequence | timestep
    # the 16 weights of a network checked by hand (H = 2, two characters), engine flat order;
    # used when init = "hand" and they fit (see ``hand_weights_apply``)
    weights: tuple[float, ...] = hand_weights.DEFAULT_WEIGHTS

    @property
    def hand_weights_apply(self) -> bool:
        """init = "hand" and the network is one the weights fit (H = 2, two characters)."""
        return self.init == "hand" and hand_weights.fits(self.hidden_size, self.text)

    @property
    def k(self) -> int | None:
        """The engine's truncation argument: None for full BPTT."""
        return None if self.truncation <= 0 else int(self.truncation)

    @property
    def notation_obj(self) -> Notation:
        return get_notation(self.notation)

    def training(self) -> TrainingConfig:
        """The TrainingConfig for the Trainer (validated by TrainingConfig itself)."""
        scheme, scale, radius = init_arguments(self.init, self.init_scale, self.spectral_radius)
        return TrainingConfig(
            hidden_size=self.hidden_size,
            activation=self.activation,
            output=self.output,
            loss=self.loss,
            init=scheme,
            init_scale=scale,
            spectral_radius=radius,
            seed=self.seed,
            learning_rate=self.learning_rate,
            optimizer=self.optimizer,
            clip=self.clip,
            clip_threshold=self.clip_threshold,
            truncation=self.k,
            seq_length=self.seq_length,
            schedule=self.schedule,
            initial_weights=self.weights if self.hand_weights_apply else None,
        )

    def network(self, vocab_size: int) -> RNNConfig:
        return self.training().network(vocab_size)

    def with_text(self, text: str) -> Settings:
        return replace(self, text=text)


@dataclass(frozen=True)
class Problem:
    """Something about the settings that stops a page, with what to do about it."""

    message: str
    level: str = "error"  # "error" stops the computation; "warning" and "info" only inform


def text_problems(text: str) -> list[Problem]:
    """Problems with the training text: too short, too long, too many distinct characters."""
    n = len(text)
    if n == 0:
        return [Problem("The training text is empty. Type at least two characters, e.g. “hello”.")]
    if n == 1:
        return [
            Problem(
                f"The training text is a single character ({text!r}). BPTT needs at least two: "
                "the network learns to predict each next character from the ones before."
            )
        ]
    if n > MAX_TEXT_CHARS:
        return [
            Problem(
                f"The training text has {n:,} characters; the limit is {MAX_TEXT_CHARS:,}. "
                "Nothing was cut: shorten the text to train on it."
            )
        ]
    vocab = len(set(text))
    if vocab > MAX_VOCAB:
        return [
            Problem(
                f"The text uses {vocab} different characters; the limit is {MAX_VOCAB} "
                "(each one gets its own input and output unit)."
            )
        ]
    return []


def corpus_or_problems(text: str) -> tuple[Corpus | None, list[Problem]]:
    """A Corpus for ``text``, or the reasons it cannot be one."""
    problems = text_problems(text)
    if problems:
        return None, problems
    try:
        return Corpus(text), []
    except ValueError as exc:  # pragma: no cover - text_problems covers the engine's checks
        return None, [Problem(str(exc))]


def settings_problems(s: Settings) -> list[Problem]:
    """Problems with the hyperparameters (the text is checked by ``text_problems``)."""
    try:
        s.training()
    except ValueError as exc:
        return [Problem(str(exc))]
    out: list[Problem] = []
    if s.notation not in NOTATIONS:
        out.append(Problem(f"Unknown notation {s.notation!r}."))
    if s.init == "hand" and not s.hand_weights_apply:
        out.append(Problem(hand_weights_misfit(s), "warning"))
    return out


def hand_weights_misfit(s: Settings) -> str:
    """Why the weights set by hand are not used, and what to do."""
    chars = len(set(s.text))
    return (
        f"Weights set by hand are for H = 2 and a text of two different characters; this "
        f"network has H = {s.hidden_size} and {chars} different character{'s' * (chars != 1)}, "
        f"so it starts from random (Xavier) weights of seed {s.seed}. For the hand-checked "
        "network set H = 2 and a text such as “aba”, or click the preset “By hand”."
    )


def settings_from_dict(values: dict[str, object]) -> Settings:
    """Settings from a dict of field values (unknown keys ignored), for tests and links."""
    names = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in names})  # type: ignore[arg-type]
