"""Reading Plotly figures back in tests: charts from AppTest and arrays Plotly 7 encoded.

Plotly 7 writes NumPy arrays as ``{"dtype": "f8", "bdata": <base64>, "shape": "8, 4"}``; lists
stay lists. ``array`` turns either form back into a float64 NumPy array (None → NaN).
"""

from __future__ import annotations

import base64
import json

import numpy as np


def array(value: object) -> np.ndarray:
    """A Plotly data value (list, nested list or binary dict) as a float64 array."""
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            data = data.reshape([int(s) for s in str(shape).split(",")])
        return data.astype(np.float64)
    return np.array(value, dtype=np.float64)


def chart(at, key: str) -> dict:
    """The figure (a dict) of the ``st.plotly_chart`` with this key in an AppTest run."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(key):
            return json.loads(el.proto.spec)
    keys = [el.proto.id.rsplit("-", 1)[-1] for el in at.get("plotly_chart")]
    raise AssertionError(f"no chart with key {key!r}; charts: {keys}")
