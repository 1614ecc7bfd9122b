"""save_params / load_params: round trips, and every malformed file is a clear ValueError."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

from bptt_core import (
    PARAM_NAMES,
    Params,
    RNNConfig,
    init_params,
    load_params,
    params_to_bytes,
    save_params,
)
from bptt_core import serialization as S

CFG = RNNConfig(4, 6, 4, activation="sigmoid", output="sigmoid", loss="sse")


def _params() -> Params:
    p = init_params(CFG, seed=5)
    return Params(
        W_xh=p.W_xh, W_hh=p.W_hh, W_hy=p.W_hy, b_h=np.linspace(-1, 1, 6), b_y=np.arange(4.0)
    )


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _archive(**members: bytes | np.ndarray) -> bytes:
    """An .npz by hand: each member a .npy (arrays are serialised, bytes written as given)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, value in members.items():
            zf.writestr(f"{name}.npy", value if isinstance(value, bytes) else _npy(value))
    return buf.getvalue()


def _good_members() -> dict[str, np.ndarray]:
    p = _params()
    return {
        **{n: getattr(p, n) for n in PARAM_NAMES},
        "sizes": np.array([4, 6, 4], dtype=np.int64),
        "kinds": np.array(["sigmoid", "sigmoid", "sse"]),
    }


def _assert_round_trip(loaded: tuple[Params, RNNConfig]) -> None:
    p2, cfg2 = loaded
    assert cfg2 == CFG
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(p2, name), getattr(_params(), name), err_msg=name)
        assert getattr(p2, name).dtype == np.float64


def test_round_trip_through_a_path(tmp_path):
    path = tmp_path / "weights.npz"
    save_params(path, _params(), CFG)
    _assert_round_trip(load_params(path))
    _assert_round_trip(load_params(str(path)))


def test_round_trip_through_bytes_and_file_objects():
    data = params_to_bytes(_params(), CFG)
    assert isinstance(data, bytes) and data[:2] == b"PK"
    _assert_round_trip(load_params(data))
    _assert_round_trip(load_params(bytearray(data)))
    _assert_round_trip(load_params(io.BytesIO(data)))
    buf = io.BytesIO()
    save_params(buf, _params(), CFG)
    assert buf.getvalue() == data


def test_hand_built_archive_loads():
    _assert_round_trip(load_params(_archive(**_good_members())))


def test_saving_invalid_params_is_a_value_error():
    bad = _params().copy()
    bad.W_hh[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        params_to_bytes(bad, CFG)
    with pytest.raises(ValueError, match="shape"):
        params_to_bytes(_params(), RNNConfig(4, 5, 4))


def _with(**changes) -> bytes:
    members = _good_members()
    for k, v in changes.items():
        if v is None:
            members.pop(k)
        else:
            members[k] = v
    return _archive(**members)


def _object_array() -> np.ndarray:
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = "x", {"evil": True}
    return arr


def _corrupt_stored() -> bytes:
    data = bytearray(params_to_bytes(_params(), CFG))
    data[200:220] = b"\x00" * 20
    return bytes(data)


def _corrupt_deflated() -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **_good_members())
    data = bytearray(buf.getvalue())
    data[60:80] = b"\xff" * 20
    return bytes(data)


def _huge_header() -> bytes:
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        hdr, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    return _with(W_xh=hdr.getvalue() + b"\x00" * 64)


MALFORMED = {
    "random-bytes": (lambda: np.random.default_rng(0).bytes(2000), "not a parameter file"),
    "empty": (lambda: b"", "not a parameter file"),
    "plain-npy": (lambda: _npy(np.zeros((3, 3))), "single .npy"),
    "pickle": (lambda: pickle.dumps({"W_xh": [[1.0]]}), "not a parameter file"),
    "truncated-zip": (lambda: params_to_bytes(_params(), CFG)[:300], "not a parameter file"),
    "text": (lambda: b"W_xh = [[1, 2], [3, 4]]\n", "not a parameter file"),
    "object-array": (lambda: _with(W_hh=_object_array()), "unpickling"),
    "object-kinds": (lambda: _with(kinds=_object_array()), "unpickling"),
    "missing-W_hh": (lambda: _with(W_hh=None), "missing: W_hh"),
    "missing-sizes": (lambda: _with(sizes=None), "missing: sizes"),
    "missing-everything": (lambda: _archive(other=np.zeros(2)), "missing"),
    "wrong-shape-W_hy": (lambda: _with(W_hy=np.zeros((4, 5))), "W_hy"),
    "wrong-ndim-b_h": (lambda: _with(b_h=np.zeros((6, 1))), "b_h"),
    "nan": (lambda: _with(W_xh=np.full((6, 4), np.nan)), "NaN"),
    "inf": (lambda: _with(b_y=np.array([0, np.inf, 0, 0])), "NaN or infinite"),
    "strings-as-weights": (lambda: _with(W_hh=np.full((6, 6), "a")), "numbers"),
    "complex-weights": (lambda: _with(W_hh=np.zeros((6, 6), complex)), "numbers"),
    "sizes-float": (lambda: _with(sizes=np.array([4.0, 6.0, 4.0])), "sizes"),
    "sizes-two": (lambda: _with(sizes=np.array([4, 6])), "sizes"),
    "sizes-zero": (lambda: _with(sizes=np.array([4, 0, 4])), "out of range"),
    "sizes-negative": (lambda: _with(sizes=np.array([4, -6, 4])), "out of range"),
    "sizes-huge": (lambda: _with(sizes=np.array([4, 10**9, 4])), "out of range"),
    "sizes-mismatch": (lambda: _with(sizes=np.array([4, 5, 4])), "shape"),
    "kinds-unknown-activation": (
        lambda: _with(kinds=np.array(["swish", "sigmoid", "sse"])),
        "activation",
    ),
    "kinds-linear-ce": (
        lambda: _with(kinds=np.array(["tanh", "linear", "cross_entropy"])),
        "linear output",
    ),
    "kinds-bytes": (lambda: _with(kinds=np.array([b"tanh", b"sigmoid", b"sse"])), "kinds"),
    "kinds-two": (lambda: _with(kinds=np.array(["tanh", "sigmoid"])), "kinds"),
    "crc-damaged": (_corrupt_stored, "damaged"),
    "deflate-damaged": (_corrupt_deflated, "damaged"),
    "member-not-npy": (lambda: _with(W_xh=b"just some bytes"), "not a NumPy array"),
    "member-bad-header": (lambda: _with(W_xh=b"\x93NUMPY\x01\x00garbage"), "damaged"),
    "member-short-data": (lambda: _with(W_xh=_npy(np.zeros((6, 4)))[:-8]), "damaged"),
    "header-declares-7TB": (_huge_header, "damaged"),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_files_are_value_errors(case):
    make, message = MALFORMED[case]
    with pytest.raises(ValueError, match=message) as info:
        load_params(make())
    assert len(str(info.value)) < 400, f"{case}: the message should be a sentence, not a dump"


def test_zip_bomb_is_refused_before_reading(tmp_path):
    """An archive that unpacks to more than MAX_UNPACKED_BYTES (65 MB of zeros, ~64 kB packed)."""
    path = tmp_path / "bomb.npz"
    members = _good_members()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in members.items():
            zf.writestr(f"{name}.npy", _npy(arr))
        chunk = b"\x00" * (1 << 20)
        with zf.open("padding.npy", "w", force_zip64=True) as f:
            for _ in range(S.MAX_UNPACKED_BYTES // len(chunk) + 2):
                f.write(chunk)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ValueError, match="MB"):
        load_params(path)


def test_non_file_arguments_are_value_errors(tmp_path):
    for bad in (None, 5, 3.5, tmp_path, tmp_path / "missing.npz"):
        with pytest.raises(ValueError, match="not a parameter file"):
            load_params(bad)
