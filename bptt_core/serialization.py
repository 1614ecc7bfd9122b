"""Saving and loading parameters as ``.npz`` without pickle.

The file holds the five arrays under their engine names plus the architecture as plain arrays:
``sizes`` = [I, H, O] (int64) and ``kinds`` = [activation, output, loss] (unicode strings).
Loading uses ``allow_pickle=False``, so an object array (which would need unpickling) is refused;
anything missing, mis-shaped, non-finite or unknown is a ValueError that says what is wrong.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from typing import BinaryIO

import numpy as np

from bptt_core.model import PARAM_NAMES, Params, RNNConfig, check_params

FORMAT_VERSION = 1
MAX_UNPACKED_BYTES = 64_000_000  # refuse zip bombs before reading any array


def _short(exc: BaseException, limit: int = 200) -> str:
    """An exception's text, cut to ``limit`` characters (NumPy may quote a whole damaged header)."""
    text = str(exc)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def save_params(path: str | os.PathLike | BinaryIO, params: Params, config: RNNConfig) -> None:
    """Write ``params`` and ``config`` to an ``.npz`` file (a path or a binary file object)."""
    p = check_params(params, config)
    np.savez(
        path,
        **{name: getattr(p, name) for name in PARAM_NAMES},
        sizes=np.array([config.input_size, config.hidden_size, config.output_size], dtype=np.int64),
        kinds=np.array([config.activation, config.output, config.loss], dtype="<U32"),
        version=np.array(FORMAT_VERSION, dtype=np.int64),
    )


def params_to_bytes(params: Params, config: RNNConfig) -> bytes:
    """The ``.npz`` file contents as bytes (for a download button)."""
    buf = io.BytesIO()
    save_params(buf, params, config)
    return buf.getvalue()


def _open_archive(path: str | os.PathLike | BinaryIO | bytes) -> np.lib.npyio.NpzFile:
    """``np.load`` without pickle; anything that is not an ``.npz`` archive is a ValueError."""
    source = io.BytesIO(path) if isinstance(path, bytes | bytearray) else path
    try:
        archive = np.load(source, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, TypeError) as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(
                "This is not a parameter file saved by BPTT Explainer (.npz): it is neither a "
                "NumPy archive nor an array, and reading it any other way would mean unpickling "
                "it, which is refused (pickles can run code)."
            ) from None
        raise ValueError(
            f"This is not a parameter file saved by BPTT Explainer (.npz): {_short(exc)}"
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            "This is a single .npy array, not a parameter file (.npz) with five arrays."
        )
    return archive


def _read_member(archive: np.lib.npyio.NpzFile, name: str) -> np.ndarray:
    """One array of the archive; a damaged entry or one that needs unpickling is a ValueError."""
    try:
        array = archive[name]
    except ValueError as exc:
        if "pickle" in str(exc):  # object arrays need pickle, which is refused
            raise ValueError(
                f"The entry {name!r} cannot be read without unpickling, which is refused "
                f"for safety ({_short(exc)})."
            ) from None
        raise ValueError(f"The entry {name!r} is damaged: {_short(exc)}") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, MemoryError) as exc:
        # zlib.error: corrupt compressed data; MemoryError: a header declaring a huge array
        raise ValueError(f"The entry {name!r} is damaged: {_short(exc)}") from None
    if not isinstance(array, np.ndarray):  # a member that is not a .npy array
        raise ValueError(f"The entry {name!r} is not a NumPy array.")
    return array


def _read_members(archive: np.lib.npyio.NpzFile) -> dict[str, np.ndarray]:
    """The five parameter arrays, ``sizes`` and ``kinds``, after checking the unpacked size."""
    total = sum(info.file_size for info in archive.zip.infolist())
    if total > MAX_UNPACKED_BYTES:
        raise ValueError(
            f"The parameter file unpacks to {total / 1e6:.0f} MB, more than the "
            f"{MAX_UNPACKED_BYTES / 1e6:.0f} MB allowed."
        )
    names = set(archive.files)
    missing = [n for n in (*PARAM_NAMES, "sizes", "kinds") if n not in names]
    if missing:
        raise ValueError(f"The parameter file is missing: {', '.join(missing)}.")
    return {name: _read_member(archive, name) for name in (*PARAM_NAMES, "sizes", "kinds")}


def _config_from(sizes: np.ndarray, kinds: np.ndarray) -> RNNConfig:
    """The RNNConfig stored as ``sizes`` = [I, H, O] and ``kinds`` = [activation, output, loss]."""
    if sizes.shape != (3,) or sizes.dtype.kind not in "iu":
        raise ValueError("The entry 'sizes' must hold three whole numbers [I, H, O].")
    if kinds.shape != (3,) or kinds.dtype.kind != "U":
        raise ValueError("The entry 'kinds' must hold three strings [activation, output, loss].")
    if (sizes < 1).any() or (sizes > 100_000).any():
        raise ValueError(f"The sizes {sizes.tolist()} are out of range (1 to 100000).")
    return RNNConfig(
        int(sizes[0]), int(sizes[1]), int(sizes[2]), str(kinds[0]), str(kinds[1]), str(kinds[2])
    )


def load_params(path: str | os.PathLike | BinaryIO | bytes) -> tuple[Params, RNNConfig]:
    """Read an ``.npz`` written by ``save_params``; returns (params, config)."""
    with _open_archive(path) as archive:
        arrays = _read_members(archive)
    config = _config_from(arrays["sizes"], arrays["kinds"])
    for name in PARAM_NAMES:
        if arrays[name].dtype.kind not in "fiu":
            raise ValueError(f"Parameter {name} must hold numbers, not {arrays[name].dtype}.")
    params = check_params(Params(**{n: arrays[n] for n in PARAM_NAMES}), config)
    return params, config
