"""Parameter files that also remember their characters, and how a file differs from a network.

A checkpoint is exactly the ``.npz`` of ``save_params`` (so ``load_params`` reads it) with one
more entry, ``vocab``: the training text's characters in vocabulary order, as a unicode array
(no pickle). Two texts with the same number of distinct characters give parameters of the same
shapes, but row j of W_hy means a different character in each (``bptt_viz.messages`` says so).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np

from bptt_core.model import Params, RNNConfig
from bptt_core.serialization import MAX_UNPACKED_BYTES, load_params, params_to_bytes

VOCAB_ENTRY = "vocab"


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """What a parameter file holds."""

    params: Params  # the five arrays
    config: RNNConfig  # I, H, O, activation, output, loss
    vocab: tuple[str, ...] | None  # the characters of W_xh's columns; None if not recorded


def checkpoint_bytes(params: Params, config: RNNConfig, vocab: tuple[str, ...]) -> bytes:
    """``params_to_bytes`` plus the ``vocab`` entry (one character per input unit)."""
    if len(vocab) != config.input_size or any(len(c) != 1 for c in vocab):
        raise ValueError(
            f"The vocabulary must list {config.input_size} single characters, one per input unit."
        )
    buf = io.BytesIO(params_to_bytes(params, config))
    entry = io.BytesIO()
    np.save(entry, np.array(vocab, dtype="<U1"), allow_pickle=False)
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{VOCAB_ENTRY}.npy", entry.getvalue())
    return buf.getvalue()


def load_checkpoint(data: bytes) -> Checkpoint:
    """Read a parameter file (``load_params`` checks everything but the vocabulary).

    A file without a ``vocab`` entry (written by ``save_params``) has ``vocab=None``; a ``vocab``
    entry that is not a list of single characters is a ValueError.
    """
    params, config = load_params(bytes(data))
    vocab = None
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        if VOCAB_ENTRY in archive.files:
            info = archive.zip.getinfo(f"{VOCAB_ENTRY}.npy")
            if info.file_size > MAX_UNPACKED_BYTES:
                raise ValueError("The entry 'vocab' is too large.")
            try:
                arr = archive[VOCAB_ENTRY]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
                reason = "it would need unpickling" if "pickle" in str(exc) else "it is damaged"
                raise ValueError(f"The entry 'vocab' cannot be read: {reason}.") from None
            if arr.dtype.kind != "U" or arr.ndim != 1 or any(len(c) != 1 for c in arr.tolist()):
                raise ValueError("The entry 'vocab' must be a list of single characters.")
            if arr.size != config.input_size:
                raise ValueError(
                    f"The entry 'vocab' lists {arr.size} characters but W_xh has "
                    f"{config.input_size} input columns."
                )
            vocab = tuple(arr.tolist())
    return Checkpoint(params, config, vocab)
