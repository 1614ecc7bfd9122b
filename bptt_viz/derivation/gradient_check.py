"""The gradient check, shown: central differences beside the BPTT gradient for every parameter.

``gradient_check`` asks the engine for three things on one network: the BPTT gradient
(``backward``), the central-difference estimate of the true gradient ∂L/∂θ
(``numerical_gradient``), and, when a truncation k < T is set, the truncated gradient g_k and the
central differences of the objective g_k is the exact gradient of (each L(t) computed from
h(t−k) held fixed). A gradient check measures the true gradient, so it cannot validate g_k: g_k
is biased by design; only differencing the truncated objective can.

Work: 2 forward passes per parameter entry for the true gradient, and T shorter ones per entry
for the truncated objective; ``check_cost`` estimates the seconds so the page can ask first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bptt_core.backward import backward
from bptt_core.gradcheck import numerical_gradient, relative_error
from bptt_core.model import PARAM_NAMES, Params, RNNConfig, forward

EPS = 1e-6  # central-difference step
PASS = 1e-6  # a relative error below this is a passed check (float64 gives about 1e-9)


@dataclass(frozen=True)
class GradientRow:
    name: str  # engine name (W_xh, W_hh, W_hy, b_h, b_y)
    bptt_norm: float  # ‖∂L/∂θ‖ from BPTT
    numeric_norm: float  # ‖central differences of L‖
    error: float  # worst entry error of BPTT against central differences, relative
    sample: str  # one entry side by side: "[1, 0]: 0.1234567 (BPTT), 0.1234567 (differences)"
    truncated_norm: float | None = None  # ‖g_k‖
    truncated_error: float | None = None  # g_k against the central differences of L
    surrogate_error: float | None = None  # g_k against the differences of its own objective


@dataclass(frozen=True)
class GradientCheckView:
    rows: tuple[GradientRow, ...]
    T: int
    k: int | None  # the truncation in effect (None: full BPTT, also when k ≥ T)
    requested_k: int | None  # the sidebar's k
    entries: int  # parameter entries checked
    eps: float = EPS

    @property
    def worst(self) -> float:
        return max(r.error for r in self.rows)

    @property
    def passed(self) -> bool:
        return bool(self.worst < PASS)


def check_cost(T: int, H: int, entries: int, k: int | None) -> float:
    """A rough estimate of the seconds ``gradient_check`` takes (2 forward passes per entry,
    plus T short ones per entry for a truncated objective)."""
    step = 2.0e-6 + H * H * 6e-11  # one timestep of the forward pass
    full = 2 * entries * (2.0e-5 + T * step)
    if k is None or k >= T:
        return full
    reach = sum(min(t + 1, k) for t in range(T))
    return full + 2 * entries * (T * 2.0e-5 + reach * step)


def _sample(numeric: np.ndarray, analytic: np.ndarray) -> str:
    """The entry with the largest gradient, both values to 8 digits: "[7, 0]: −1.015 / −1.015"."""
    if analytic.size == 0:
        return ""
    idx = np.unravel_index(int(np.argmax(np.abs(analytic))), analytic.shape)
    where = ", ".join(str(i) for i in idx)
    return f"[{where}]: {analytic[idx]:.8f} / {numeric[idx]:.8f}".replace("-", "−")


def _row(
    name: str, full: Params, true: Params, gk: Params | None, own: Params | None
) -> GradientRow:
    """One parameter: BPTT against the differences of L, and g_k against both checks."""
    a, n = getattr(full, name), getattr(true, name)
    base = (
        name,
        float(np.linalg.norm(a)),
        float(np.linalg.norm(n)),
        relative_error(n, a),
        _sample(n, a),
    )
    if gk is None or own is None:
        return GradientRow(*base)
    g = getattr(gk, name)
    return GradientRow(
        *base, float(np.linalg.norm(g)), relative_error(n, g), relative_error(getattr(own, name), g)
    )


def gradient_check(
    params: Params,
    config: RNNConfig,
    inputs: np.ndarray,
    targets: np.ndarray,
    truncation: int | None = None,
) -> GradientCheckView:
    """Central differences against BPTT (and against g_k when k < T) for every parameter.

    Parameters
    ----------
    params : Params, W_xh (H,I), W_hh (H,H), W_hy (O,H), b_h (H,), b_y (O,)
    config : RNNConfig
    inputs : (T, I) x(t);  targets : (T, O) d(t)
    truncation : the sidebar's k, or None
    """
    T = int(inputs.shape[0])
    k = truncation if truncation is not None and truncation < T else None
    gk = own = None
    with np.errstate(all="ignore"):
        trace = forward(params, config, inputs, targets)
        full = backward(params, config, trace).grads
        true = numerical_gradient(params, config, inputs, targets, eps=EPS)
        if k is not None:
            gk = backward(params, config, trace, truncation=k).grads
            own = numerical_gradient(params, config, inputs, targets, truncation=k, eps=EPS)
    rows = tuple(_row(name, full, true, gk, own) for name in PARAM_NAMES)
    return GradientCheckView(rows, T, k, truncation, int(params.flat().size))
