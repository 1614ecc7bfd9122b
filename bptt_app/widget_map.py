"""The sidebar's widgets and the Settings they stand for, both ways (no Streamlit here).

Every widget is keyed (``hidden``, ``act``, ``opt`` …) and select boxes hold labels, not the
engine's names; ``settings_from_widgets`` reads Settings from such values, ``widget_values``
writes them (presets set every widget this way), and ``WIDGET_DEFAULTS`` are the defaults'.
"""

from __future__ import annotations

from bptt_app.settings import (
    CLIP_CHOICES,
    INIT_CHOICES,
    NOTATION_CHOICES,
    OPTIMIZER_CHOICES,
    OUTPUT_LOSS,
    SCHEDULE_CHOICES,
    Settings,
)

DEFAULTS = Settings()


def _label_of(choices: dict[str, str], value: str) -> str:
    return next(label for label, v in choices.items() if v == value)


def _output_label(output: str, loss: str) -> str:
    return next(label for label, pair in OUTPUT_LOSS.items() if pair == (output, loss))


def widget_values(s: Settings) -> dict[str, object]:
    """The widgets' values (keyed as the widgets) that give ``s``: the inverse of
    ``settings_from_widgets`` (the weights set by hand are not a widget)."""
    return {
        "text": s.text,
        "notation": _label_of(NOTATION_CHOICES, s.notation),
        "hidden": int(s.hidden_size),
        "act": s.activation,
        "out": _output_label(s.output, s.loss),
        "init": _label_of(INIT_CHOICES, s.init),
        "scale": float(s.init_scale),
        "radius": float(s.spectral_radius),
        "seed": int(s.seed),
        "k": int(s.truncation),
        "lr": float(s.learning_rate),
        "opt": _label_of(OPTIMIZER_CHOICES, s.optimizer),
        "clip": _label_of(CLIP_CHOICES, s.clip),
        "clipval": float(s.clip_threshold),
        "seq": int(s.seq_length),
        "sched": _label_of(SCHEDULE_CHOICES, s.schedule),
    }


# widget key → default widget value (labels for select boxes)
WIDGET_DEFAULTS: dict[str, object] = widget_values(DEFAULTS)


def settings_from_widgets(
    values: dict[str, object], weights: tuple[float, ...] = DEFAULTS.weights
) -> Settings:
    """The Settings of the widgets' values (keyed as the widgets) and the weights set by hand."""
    output, loss = OUTPUT_LOSS[str(values["out"])]
    return Settings(
        text=str(values["text"]),
        notation=NOTATION_CHOICES[str(values["notation"])],
        hidden_size=int(values["hidden"]),  # type: ignore[call-overload]
        activation=str(values["act"]),
        output=output,
        loss=loss,
        init=INIT_CHOICES[str(values["init"])],
        init_scale=float(values["scale"]),  # type: ignore[arg-type]
        spectral_radius=float(values["radius"]),  # type: ignore[arg-type]
        seed=int(values["seed"]),  # type: ignore[call-overload]
        truncation=int(values["k"]),  # type: ignore[call-overload]
        learning_rate=float(values["lr"]),  # type: ignore[arg-type]
        optimizer=OPTIMIZER_CHOICES[str(values["opt"])],
        clip=CLIP_CHOICES[str(values["clip"])],
        clip_threshold=float(values["clipval"]),  # type: ignore[arg-type]
        seq_length=int(values["seq"]),  # type: ignore[call-overload]
        schedule=SCHEDULE_CHOICES[str(values.get("sched", WIDGET_DEFAULTS["sched"]))],
        weights=weights,
    )
