"""Sentences for the user about what the engine found (no Streamlit)."""

from __future__ import annotations

from bptt_core.checkpoint import Checkpoint
from bptt_core.model import RNNConfig
from bptt_viz.labels import display_char


def _chars(vocab: tuple[str, ...], limit: int = 30) -> str:
    shown = " ".join(display_char(c) for c in vocab[:limit])
    return shown + (" …" if len(vocab) > limit else "")


def checkpoint_differences(
    checkpoint: Checkpoint, config: RNNConfig, vocab: tuple[str, ...]
) -> list[str]:
    """Sentences naming every way the file does not fit the network (empty: it fits)."""
    out = []
    c = checkpoint.config
    if checkpoint.vocab is not None and checkpoint.vocab != tuple(vocab):
        out.append(
            f"It was trained on a text with the characters [{_chars(checkpoint.vocab)}] "
            f"({len(checkpoint.vocab)}); this text has [{_chars(tuple(vocab))}] ({len(vocab)})."
        )
    elif c.input_size != config.input_size or c.output_size != config.output_size:
        out.append(
            f"Its vocabulary has {c.input_size} characters (W_xh has {c.input_size} columns); "
            f"this text has {config.input_size}."
        )
    if c.hidden_size != config.hidden_size:
        out.append(
            f"It has {c.hidden_size} hidden units; the current network has {config.hidden_size}."
        )
    if c.activation != config.activation:
        out.append(
            f"Its hidden activation is {c.activation}; the current one is {config.activation}."
        )
    if (c.output, c.loss) != (config.output, config.loss):
        out.append(
            f"Its output and loss are {c.output} + {c.loss}; the current ones are "
            f"{config.output} + {config.loss}."
        )
    return out
