"""The vanilla RNN: configuration, parameters, initialisation and the traced forward pass.

Maths names (column-vector convention of every source note; T timesteps, I inputs, H hidden
units, O outputs; arrays time-major, float64)::

    a(t) = W_xh x(t) + W_hh h(t−1) + b_h        h(t) = f(a(t))        h(0) = h0 (zeros by default)
    o(t) = W_hy h(t) + b_y                      y(t) = g(o(t))
    L    = Σ_t L(t)                              (a sum over time, never a mean)

Readable names: ``W_xh`` input → hidden weights, ``W_hh`` hidden → hidden (recurrent) weights,
``W_hy`` hidden → output weights, ``b_h`` hidden bias, ``b_y`` output bias.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from bptt_core import functions as F

PARAM_NAMES: tuple[str, ...] = ("W_xh", "W_hh", "W_hy", "b_h", "b_y")
SHAPE_SYMBOLS: dict[str, str] = {
    "W_xh": "H, I",
    "W_hh": "H, H",
    "W_hy": "O, H",
    "b_h": "H",
    "b_y": "O",
}


@dataclass(frozen=True)
class RNNConfig:
    """Architecture of the network; immutable and hashable (safe as a cache key)."""

    input_size: int  # I: size of x(t)
    hidden_size: int  # H: size of h(t)
    output_size: int  # O: size of y(t)
    activation: str = "tanh"  # f: tanh | sigmoid | relu | linear
    output: str = "softmax"  # g: softmax | sigmoid | linear
    loss: str = "cross_entropy"  # cross_entropy | sse

    def __post_init__(self) -> None:
        for name in ("input_size", "hidden_size", "output_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}.")
        if self.activation not in F.ACTIVATIONS:
            raise ValueError(
                f"Unknown activation {self.activation!r}; choose one of {', '.join(F.ACTIVATIONS)}."
            )
        if self.output not in F.OUTPUTS:
            raise ValueError(
                f"Unknown output {self.output!r}; choose one of {', '.join(F.OUTPUTS)}."
            )
        if self.loss not in F.LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}; choose one of {', '.join(F.LOSSES)}.")
        if self.output == "linear" and self.loss == "cross_entropy":
            raise ValueError(
                "A linear output with cross-entropy is not allowed: cross-entropy needs "
                "probabilities. Use softmax or sigmoid outputs, or the sse loss."
            )

    @property
    def gamma(self) -> float:
        """γ = max |f'(a)| of the hidden activation (1 for tanh, relu, linear; ¼ for sigmoid)."""
        return F.GAMMA[self.activation]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter array, by engine name."""
        I, H, O = self.input_size, self.hidden_size, self.output_size  # noqa: E741
        return {"W_xh": (H, I), "W_hh": (H, H), "W_hy": (O, H), "b_h": (H,), "b_y": (O,)}


@dataclass(frozen=True, eq=False)
class Params:
    """The five parameter arrays (or anything shaped like them: gradients, updates, sums)."""

    W_xh: np.ndarray  # (H, I) input → hidden
    W_hh: np.ndarray  # (H, H) hidden → hidden
    W_hy: np.ndarray  # (O, H) hidden → output
    b_h: np.ndarray  # (H,)   hidden bias
    b_y: np.ndarray  # (O,)   output bias

    def items(self) -> Iterator[tuple[str, np.ndarray]]:
        """(name, array) pairs in the fixed order W_xh, W_hh, W_hy, b_h, b_y."""
        for name in PARAM_NAMES:
            yield name, getattr(self, name)

    def map(self, fn: Callable[[np.ndarray], np.ndarray]) -> Params:
        """A new Params with ``fn`` applied to each array."""
        return Params(*(fn(getattr(self, n)) for n in PARAM_NAMES))

    def zip_map(self, other: Params, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Params:
        """A new Params with ``fn(mine, theirs)`` applied array by array."""
        return Params(*(fn(getattr(self, n), getattr(other, n)) for n in PARAM_NAMES))

    def copy(self) -> Params:
        return self.map(np.copy)

    def flat(self) -> np.ndarray:
        """All arrays concatenated into one vector (order of PARAM_NAMES)."""
        return np.concatenate([getattr(self, n).ravel() for n in PARAM_NAMES])

    def global_norm(self) -> float:
        """‖θ‖₂ over all five arrays together."""
        return float(np.sqrt(sum(float(np.vdot(v, v)) for _, v in self.items())))

    def all_finite(self) -> bool:
        return all(bool(np.isfinite(v).all()) for _, v in self.items())

    @staticmethod
    def zeros(config: RNNConfig) -> Params:
        return Params(*(np.zeros(s) for s in config.shapes().values()))

    @staticmethod
    def from_flat(values: object, config: RNNConfig) -> Params:
        """The inverse of ``flat``: one vector of every entry, in the order W_xh, W_hh, W_hy,
        b_h, b_y, each matrix row by row, cut into the shapes of ``config`` (validated: the
        right number of finite numbers, else a ValueError that says what is wrong)."""
        shapes = config.shapes()
        needed = sum(int(np.prod(s)) for s in shapes.values())
        vector = _as_float_array(values, "The list of initial weights", 1)
        if vector.size != needed:
            sizes = ", ".join(f"{name} {'×'.join(map(str, s))}" for name, s in shapes.items())
            raise ValueError(
                f"The initial weights have {vector.size} numbers, but this network "
                f"(H = {config.hidden_size}, I = {config.input_size}, O = {config.output_size}) "
                f"needs {needed}: {sizes}."
            )
        arrays, start = [], 0
        for shape in shapes.values():
            size = int(np.prod(shape))
            arrays.append(vector[start : start + size].reshape(shape).copy())
            start += size
        return Params(*arrays)


@dataclass(frozen=True, eq=False)
class ForwardTrace:
    """Everything the forward pass computed, kept for the backward pass and for display."""

    inputs: np.ndarray  # (T, I) x(t), t = 1..T
    targets: np.ndarray  # (T, O) d(t)
    h0: np.ndarray  # (H,)   h(0)
    a: np.ndarray  # (T, H) a(t) = W_xh x(t) + W_hh h(t−1) + b_h
    h: np.ndarray  # (T, H) h(t) = f(a(t))
    o: np.ndarray  # (T, O) o(t) = W_hy h(t) + b_y
    y: np.ndarray  # (T, O) y(t) = g(o(t))
    losses: np.ndarray  # (T,)   L(t)
    loss: float = field(default=0.0)  # L = Σ_t L(t)

    @property
    def T(self) -> int:
        return int(self.a.shape[0])

    @property
    def h_prev(self) -> np.ndarray:
        """(T, H) h(t−1) for t = 1..T, i.e. h0 followed by h(1..T−1)."""
        return np.concatenate([self.h0[None, :], self.h[:-1]], axis=0)


# ----------------------------------------------------------------------------- validation


def _as_float_array(value: object, what: str, ndim: int) -> np.ndarray:
    try:  # float64 conversion would silently drop an imaginary part
        is_complex = np.iscomplexobj(value)
    except (TypeError, ValueError):  # ragged or odd input: reported by the conversion below
        is_complex = False
    if is_complex:
        raise ValueError(f"{what} must be an array of real numbers, not complex ones.")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be an array of numbers ({exc}).") from None
    if arr.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimension(s), got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinite values; every entry must be a number.")
    return arr


def check_params(params: Params, config: RNNConfig) -> Params:
    """Validate shapes and finiteness of ``params`` against ``config``; return float64 copies."""
    if not isinstance(config, RNNConfig):
        raise ValueError(f"config must be a bptt_core.RNNConfig, got {type(config).__name__}.")
    if not isinstance(params, Params):
        raise ValueError(f"params must be a bptt_core.Params, got {type(params).__name__}.")
    out = {}
    for name, shape in config.shapes().items():
        arr = _as_float_array(getattr(params, name), f"Parameter {name}", len(shape))
        if arr.shape != shape:
            raise ValueError(
                f"Parameter {name} has shape {arr.shape}, but this network needs {shape} "
                f"({SHAPE_SYMBOLS[name]})."
            )
        out[name] = arr
    return Params(**out)


def check_sequence(
    config: RNNConfig, inputs: object, targets: object, h0: object = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate inputs (T,I), targets (T,O) and h0 (H,) against ``config``."""
    x = _as_float_array(inputs, "inputs", 2)
    d = _as_float_array(targets, "targets", 2)
    if x.shape[0] < 1:
        raise ValueError("The sequence is empty: inputs need at least one timestep.")
    if x.shape[1] != config.input_size:
        raise ValueError(
            f"inputs have {x.shape[1]} columns, but input_size is {config.input_size}."
        )
    if d.shape != (x.shape[0], config.output_size):
        raise ValueError(
            f"targets have shape {d.shape}, but must be (T, O) = "
            f"({x.shape[0]}, {config.output_size}) to match the inputs."
        )
    if h0 is None:
        h_init = np.zeros(config.hidden_size)
    else:
        h_init = _as_float_array(h0, "h0", 1)
        if h_init.shape != (config.hidden_size,):
            raise ValueError(f"h0 has shape {h_init.shape}, but must be ({config.hidden_size},).")
    return x, d, h_init


# ----------------------------------------------------------------------------- initialisation


def spectral_radius(W: np.ndarray) -> float:
    """ρ(W) = max |λ_i(W)| of a square matrix."""
    return float(np.abs(np.linalg.eigvals(W)).max())


def rescale_spectral_radius(W_hh: np.ndarray, radius: float) -> np.ndarray:
    """W_hh · radius / ρ(W_hh): the same matrix rescaled to spectral radius ``radius``."""
    try:
        radius = float(radius)
    except (TypeError, ValueError):
        raise ValueError(f"The spectral radius must be a number, got {radius!r}.") from None
    if not np.isfinite(radius) or radius < 0:
        raise ValueError(f"The spectral radius must be a finite number ≥ 0, got {radius!r}.")
    rho = spectral_radius(W_hh)
    if rho < 1e-12:
        raise ValueError(
            "W_hh has spectral radius 0 (all its eigenvalues vanish), so it cannot be rescaled."
        )
    return W_hh * (radius / rho)


def with_spectral_radius(params: Params, radius: float) -> Params:
    """The same network with W_hh rescaled to spectral radius ``radius``.

    W_hh ← W_hh · radius / ρ(W_hh) (``rescale_spectral_radius``); W_xh, W_hy, b_h and b_y are the
    very same arrays (shared, not copied). A negative, non-finite or non-numeric radius, or a W_hh
    whose eigenvalues all vanish, is a ValueError.
    """
    if not isinstance(params, Params):
        raise ValueError(f"params must be a bptt_core.Params, got {type(params).__name__}.")
    return replace(params, W_hh=rescale_spectral_radius(params.W_hh, radius))


INIT_SCHEMES: tuple[str, ...] = ("scale", "xavier")


def _check_init(scheme: str, scale: object, seed: object) -> float:
    """Validate ``init_params``' scheme, scale and seed; returns the scale as a float."""
    if scheme not in INIT_SCHEMES:
        raise ValueError(
            f"Unknown initialisation {scheme!r}; choose one of {', '.join(INIT_SCHEMES)}."
        )
    try:
        scale_value = float(scale)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        scale_value = float("nan")
    if not np.isfinite(scale_value) or scale_value <= 0:
        raise ValueError(f"The initial weight scale must be a positive number, got {scale!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"The seed must be a whole number ≥ 0, got {seed!r}.")
    return scale_value


def init_params(
    config: RNNConfig,
    seed: int = 0,
    *,
    scheme: str = "xavier",
    scale: float = 0.1,
    spectral_radius: float | None = None,
) -> Params:
    """Random initial parameters; biases start at zero.

    scheme="scale":  every weight ~ N(0, scale²) (min-char-rnn uses scale = 0.01).
    scheme="xavier": W ~ N(0, 1/fan_in)·scale·10, i.e. with the default scale 0.1 the
                     Xavier/Glorot-style variance 1/fan_in (fan_in = I for W_xh, H for W_hh and W_hy).
    spectral_radius: if given, W_hh is afterwards rescaled to exactly this spectral radius.
    """
    scale = _check_init(scheme, scale, seed)
    rng = np.random.default_rng(seed)
    I, H, O = config.input_size, config.hidden_size, config.output_size  # noqa: E741
    if scheme == "scale":
        s_xh = s_hh = s_hy = scale
    else:
        s_xh, s_hh, s_hy = (10.0 * scale / np.sqrt(n) for n in (I, H, H))
    W_xh = rng.standard_normal((H, I)) * s_xh
    W_hh = rng.standard_normal((H, H)) * s_hh
    W_hy = rng.standard_normal((O, H)) * s_hy
    params = Params(W_xh=W_xh, W_hh=W_hh, W_hy=W_hy, b_h=np.zeros(H), b_y=np.zeros(O))
    if spectral_radius is None:
        return params
    return with_spectral_radius(params, float(spectral_radius))


# ----------------------------------------------------------------------------- forward pass


def forward_unchecked(
    params: Params, config: RNNConfig, x: np.ndarray, d: np.ndarray, h0: np.ndarray
) -> ForwardTrace:
    """``forward`` without input validation (for inner loops that already validated)."""
    T, H = x.shape[0], config.hidden_size
    # everything not sequential is one array operation: W_xh x(t) + b_h for all t at once
    a = x @ params.W_xh.T + params.b_h  # (T, H), W_hh h(t−1) added in the loop
    h = np.empty((T, H))
    W_hh_T = params.W_hh.T
    h_prev = h0
    act = config.activation
    for t in range(T):  # the recurrence: the only Python loop
        a[t] += h_prev @ W_hh_T
        if act == "tanh":
            h_prev = np.tanh(a[t])
        else:
            h_prev = F.activate(act, a[t])
        h[t] = h_prev
    o = h @ params.W_hy.T + params.b_y  # (T, O)
    y = F.output(config.output, o)
    losses = F.losses(config.output, config.loss, o, y, d)
    return ForwardTrace(
        inputs=x, targets=d, h0=h0, a=a, h=h, o=o, y=y, losses=losses, loss=float(losses.sum())
    )


def forward(
    params: Params,
    config: RNNConfig,
    inputs: np.ndarray,
    targets: np.ndarray,
    h0: np.ndarray | None = None,
) -> ForwardTrace:
    """Run the RNN over a whole sequence and keep every intermediate value.

    Parameters
    ----------
    params : Params with W_xh (H,I), W_hh (H,H), W_hy (O,H), b_h (H,), b_y (O,)
    config : RNNConfig
    inputs : (T, I) x(1..T)
    targets : (T, O) d(1..T)
    h0 : (H,) initial hidden state h(0); zeros if None

    Returns
    -------
    ForwardTrace with a, h (T,H); o, y (T,O); losses (T,); loss = Σ_t L(t).
    """
    p = check_params(params, config)
    x, d, h_init = check_sequence(config, inputs, targets, h0)
    return forward_unchecked(p, config, x, d, h_init)
