"""Untied weights: every unfolded copy keeps, and updates, its own weights (Guo's second choice).

An RNN is one set of weights used by every copy (tied): the gradient of each weight is the sum of
the copies' contributions and there is one update. Untie them and the unfolded network becomes a
deep feed-forward network of T layers: copy t computes

    a(t) = W_xh[t] x(t) + W_hh[t] h(t−1) + b_h[t]      o(t) = W_hy[t] h(t) + b_y[t]

and learns from its own contribution only, θ[t] ← θ[t] − η ∂L/∂θ[t]. The copies then drift
apart: what position 3 learned is no longer used at position 4. ``UntiedParams`` is a ``Params``
whose arrays carry a leading T axis (one set per copy). Maths names as in ``bptt_core.backward``;
the error carried from copy t+1 back into h(t) crosses copy t+1's recurrent weights:
dh_carried(t) = W_hh[t+1]ᵀ delta_h(t+1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bptt_core import functions as F
from bptt_core.backward import BackwardTrace, check_truncation, gradients_from_deltas
from bptt_core.corpus import Corpus
from bptt_core.model import ForwardTrace, Params, RNNConfig
from bptt_core.trainer import TrainingConfig

UntiedParams = Params  # W_xh (T,H,I), W_hh (T,H,H), W_hy (T,O,H), b_h (T,H), b_y (T,O)


def untie(params: Params, T: int) -> UntiedParams:
    """T copies of ``params``: the tied network, written as an untied one."""
    return params.map(lambda a: np.repeat(a[None], T, axis=0))


def copy_params(copies: UntiedParams, t: int) -> Params:
    """The weights of copy t (1-based)."""
    return copies.map(lambda a: a[t - 1])


def forward_untied(
    copies: UntiedParams, config: RNNConfig, x: np.ndarray, d: np.ndarray, h0: np.ndarray
) -> ForwardTrace:
    """The forward pass with copy t's own weights at time t (x (T,I), d (T,O), h0 (H,))."""
    T, H = x.shape[0], config.hidden_size
    a, h = np.empty((T, H)), np.empty((T, H))
    h_prev = h0
    for t in range(T):  # the recurrence: copy t's weights at time t
        a[t] = copies.W_xh[t] @ x[t] + copies.W_hh[t] @ h_prev + copies.b_h[t]
        h_prev = h[t] = F.activate(config.activation, a[t])
    o = np.einsum("toh,th->to", copies.W_hy[:T], h) + copies.b_y[:T]  # (T, O)
    y = F.output(config.output, o)
    losses = F.losses(config.output, config.loss, o, y, d)
    return ForwardTrace(
        inputs=x, targets=d, h0=h0, a=a, h=h, o=o, y=y, losses=losses, loss=float(losses.sum())
    )


def _hidden_deltas(
    W_hh: np.ndarray, fprime: np.ndarray, dh_local: np.ndarray, k: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """delta_h (T,H) and dh_carried (T,H): each L(t) back through ≤ k copies, crossing copy
    s+1's own W_hh[s+1] on its way from copy s+1 to copy s."""
    T = dh_local.shape[0]
    reach = T if k is None else min(k, T)
    delta_h, carried = np.zeros_like(dh_local), np.zeros_like(dh_local)
    for t in range(T):  # the error of L(t) alone
        e = fprime[t] * dh_local[t]  # backprop through f at its own copy
        delta_h[t] += e
        for s in range(t - 1, t - reach, -1):
            if s < 0:
                break
            g = e @ W_hh[s + 1]  # through copy s+1's recurrent edge: W_hh[s+1]ᵀ e
            carried[s] += g
            e = fprime[s] * g  # through f at copy s
            delta_h[s] += e
    return delta_h, carried


def backward_untied(
    copies: UntiedParams, config: RNNConfig, trace: ForwardTrace, truncation: int | None = None
) -> BackwardTrace:
    """BPTT through the untied copies. ``per_step`` of the result is each copy's own gradient
    ∂L/∂θ[t]; ``grads`` their sum (what the tied update would use)."""
    k = check_truncation(truncation)
    T = trace.T
    delta_o = F.output_delta(config.output, config.loss, trace.y, trace.targets)  # ∂L/∂o(t)
    dh_local = np.einsum("to,toh->th", delta_o, copies.W_hy[:T])  # W_hy[t]ᵀ delta_o(t)
    fprime = F.activation_derivative(config.activation, trace.a, trace.h)
    delta_h, carried = _hidden_deltas(copies.W_hh[:T], fprime, dh_local, k)
    h_prev = trace.h_prev
    grads = gradients_from_deltas(
        delta_o=delta_o, h=trace.h, delta_h=delta_h, inputs=trace.inputs, h_prev=h_prev
    )
    return BackwardTrace(
        grads=grads,
        delta_o=delta_o,
        delta_h=delta_h,
        dh_local=dh_local,
        dh_carried=carried,
        fprime=fprime,
        truncation=k,
        inputs=trace.inputs,
        h=trace.h,
        h_prev=h_prev,
    )


def untied_update(copies: UntiedParams, own: UntiedParams, learning_rate: float) -> UntiedParams:
    """θ[t] ← θ[t] − η · (copy t's own gradient), for every copy (plain gradient steps).

    ``own`` holds each copy's gradient with the leading T axis (``BackwardTrace.per_step``);
    copies beyond its length (a shorter last chunk) are left as they are."""

    def step(theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        out = theta.copy()
        out[: g.shape[0]] -= learning_rate * g
        return out

    return copies.zip_map(own, step)


def spread(copies: UntiedParams) -> dict[str, float]:
    """How far the copies have drifted apart, per parameter: max_t ‖θ[t] − mean_t θ‖_F
    (0 for tied weights)."""
    out = {}
    for name, arr in copies.items():
        centred = arr - arr.mean(axis=0, keepdims=True)
        out[name] = float(np.sqrt((centred.reshape(arr.shape[0], -1) ** 2).sum(axis=1)).max())
    return out


@dataclass(frozen=True, eq=False)
class UntiedPassRecord:
    """One pass of untied training: forward and backward through the copies, each copy's update."""

    update: int  # updates made before this pass
    fwd: ForwardTrace  # forward pass, copy t's weights at time t
    bwd: BackwardTrace  # per_step: each copy's own gradient
    before: UntiedParams  # the copies' weights the pass ran with
    after: UntiedParams  # after θ[t] ← θ[t] − η ∂L/∂θ[t]
    loss_after: float  # Σ_t L(t) of the new copies on the same text


class UntiedTrainer:
    """Trains untied copies on a whole text in one pass (plain gradient steps, η).

    Starts from the tied network of ``TrainingConfig.initial_params`` written as T equal copies,
    so its first pass is exactly the tied RNN's first pass; only the updates differ.
    """

    def __init__(self, text: str, **hyperparameters: object) -> None:
        plain = {"optimizer": "sgd", "clip": "none"}  # what step() does, whatever was asked
        self.settings = TrainingConfig(**{**hyperparameters, **plain})  # type: ignore[arg-type]
        self.corpus = Corpus(text)
        self.config = self.settings.network(self.corpus.V)
        self.copies = untie(self.settings.initial_params(self.config), self.corpus.T)
        self.updates = 0

    def fork(self) -> UntiedTrainer:
        twin = object.__new__(UntiedTrainer)
        twin.__dict__.update(self.__dict__)  # arrays are replaced, never changed in place
        return twin

    def step(self) -> UntiedPassRecord:
        """One pass over the whole text and every copy's own update."""
        c, cfg = self.corpus, self.config
        h0 = np.zeros(cfg.hidden_size)
        with np.errstate(all="ignore"):
            fwd = forward_untied(self.copies, cfg, c.inputs, c.targets, h0)
            bwd = backward_untied(self.copies, cfg, fwd, self.settings.truncation)
            after = untied_update(self.copies, bwd.per_step, self.settings.learning_rate)
            loss_after = forward_untied(after, cfg, c.inputs, c.targets, h0).loss
        record = UntiedPassRecord(self.updates, fwd, bwd, self.copies, after, loss_after)
        if after.all_finite():
            self.copies, self.updates = after, self.updates + 1
        return record

    def train(self, n: int) -> None:
        for _ in range(int(n)):
            before = self.updates
            self.step()
            if self.updates == before:  # not finite: stay at the last finite copies
                break
