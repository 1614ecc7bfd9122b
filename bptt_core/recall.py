"""The recall task: what truncation costs in learning.

Sequences "a" + N fillers + "a" and "b" + N fillers + "b" (more symbols if asked), each started
from h(0) = 0. Every next character is predictable except the last, which repeats the first: to
predict it the network must carry the first character N+1 steps. Its loss (the recall loss) can
only fall below ln 2 (for two symbols: chance) if error from that last loss reaches the first copy,
or if the forward pass happens to keep the first character anyway.

Two ways to cut the backward pass:
  "window":  the per-loss window of DESIGN §3: each L(t) reaches copies t, …, t−k+1;
  "chunked": TBPTT(k1, k2) with k1 = k2 = chunk length, as the Trainer does for long texts: the
             sequence is cut into chunks, h is carried forward across a cut but no error crosses
             it. A loss at position p of its chunk reaches p copies (between 1 and the chunk
             length), so the last loss of the sequence may reach more or fewer copies than k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bptt_core.backward import backward_unchecked, check_truncation
from bptt_core.model import Params, RNNConfig, forward_unchecked, init_params
from bptt_core.optim import check_clipping, clip_gradients, make_optimizer

RECALL_MODES: tuple[str, ...] = ("window", "chunked")


def recall_texts(n_fillers: int, symbols: str = "ab", filler: str = "-") -> tuple[str, ...]:
    """The training sequences, e.g. ("a----a", "b----b") for N = 4."""
    if isinstance(n_fillers, bool) or not isinstance(n_fillers, int | np.integer):
        raise ValueError(f"The number of fillers must be a whole number, got {n_fillers!r}.")
    if n_fillers < 0:
        raise ValueError(f"The number of fillers must be ≥ 0, got {n_fillers}.")
    if len(set(symbols)) != len(symbols) or len(symbols) < 2 or filler in symbols:
        raise ValueError("Give at least two distinct symbols, none equal to the filler.")
    return tuple(s + filler * n_fillers + s for s in symbols)


@dataclass(frozen=True, eq=False)
class RecallRun:
    """The outcome of training on the recall task."""

    n_fillers: int
    truncation: int | None  # k (window) or chunk length (chunked); None = full BPTT
    mode: str
    seed: int
    recall_loss: np.ndarray  # (updates,) mean over sequences of the last position's loss
    total_loss: np.ndarray  # (updates,) mean over sequences of Σ_t L(t)
    final_recall_loss: float  # recall loss of the trained network (forward pass only)
    chance: float  # ln(number of symbols)

    @property
    def settled_recall_loss(self) -> float:
        """Mean recall loss over the last sixth of the updates: a network that cannot tell the
        symbols apart oscillates around (or above) ln 2, so one snapshot would be noisy."""
        n = max(1, self.recall_loss.size // 6)
        return float(self.recall_loss[-n:].mean())


def _encode(texts: Sequence[str]) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    vocab = list(dict.fromkeys("".join(texts)))
    eye = np.eye(len(vocab))
    xs, ds = [], []
    for s in texts:
        ids = [vocab.index(c) for c in s]
        xs.append(eye[ids[:-1]])
        ds.append(eye[ids[1:]])
    return xs, ds, len(vocab)


def _grads_window(p: Params, cfg: RNNConfig, x, d, k: int | None):
    tr = forward_unchecked(p, cfg, x, d, np.zeros(cfg.hidden_size))
    return tr.losses, backward_unchecked(p, cfg, tr, k).grads


def _grads_chunked(p: Params, cfg: RNNConfig, x, d, chunk: int):
    h = np.zeros(cfg.hidden_size)
    total = Params.zeros(cfg)
    losses = []
    for s in range(0, x.shape[0], chunk):
        tr = forward_unchecked(p, cfg, x[s : s + chunk], d[s : s + chunk], h)
        g = backward_unchecked(p, cfg, tr, None).grads  # full BPTT inside the chunk only
        total = total.zip_map(g, np.add)
        losses.append(tr.losses)
        h = tr.h[-1]  # carried forward, but no error flows back across the cut
    return np.concatenate(losses), total


def _check_recall_options(
    mode: str, truncation: int | None, updates: int, clip_threshold: float
) -> int | None:
    """Validate ``train_recall``'s options; returns the truncation k (None: full BPTT)."""
    if mode not in RECALL_MODES:
        raise ValueError(f"Unknown mode {mode!r}; choose one of {', '.join(RECALL_MODES)}.")
    k = check_truncation(truncation)
    if isinstance(updates, bool) or not isinstance(updates, int | np.integer) or updates < 1:
        raise ValueError(f"The number of updates must be a whole number ≥ 1, got {updates!r}.")
    check_clipping("norm", clip_threshold)
    return k


def _summed_gradient(
    p: Params, cfg: RNNConfig, xs: list[np.ndarray], ds: list[np.ndarray], mode: str, k: int | None
) -> tuple[Params, float, float]:
    """The gradient summed over the sequences, and the mean over them of the recall loss (the
    last position's) and of Σ_t L(t)."""
    g_sum = Params.zeros(cfg)
    recall, total = 0.0, 0.0
    for x, d in zip(xs, ds, strict=True):
        if mode == "window" or k is None:
            losses, g = _grads_window(p, cfg, x, d, k)
        else:
            losses, g = _grads_chunked(p, cfg, x, d, k)
        g_sum = g_sum.zip_map(g, np.add)
        recall += float(losses[-1])
        total += float(losses.sum())
    return g_sum, recall / len(xs), total / len(xs)


def _final_recall_loss(
    p: Params, cfg: RNNConfig, xs: list[np.ndarray], ds: list[np.ndarray]
) -> float:
    """Mean over the sequences of the recall loss of ``p`` (forward passes only)."""
    h0 = np.zeros(cfg.hidden_size)
    return float(
        np.mean(
            [forward_unchecked(p, cfg, x, d, h0).losses[-1] for x, d in zip(xs, ds, strict=True)]
        )
    )


def train_recall(
    n_fillers: int,
    truncation: int | None = None,
    *,
    mode: str = "window",
    seed: int = 0,
    hidden_size: int = 16,
    updates: int = 600,
    learning_rate: float = 0.05,
    optimizer: str = "adagrad",
    clip_threshold: float = 5.0,
    symbols: str = "ab",
    progress: Callable[[int], None] | None = None,
) -> RecallRun:
    """Train a tanh RNN (softmax, cross-entropy) on the recall sequences, one update per pass
    over all of them (gradients summed), norm clipping at ``clip_threshold``."""
    k = _check_recall_options(mode, truncation, updates, clip_threshold)
    xs, ds, V = _encode(recall_texts(n_fillers, symbols))
    cfg = RNNConfig(V, hidden_size, V)
    p = init_params(cfg, seed)
    opt = make_optimizer(optimizer, learning_rate)
    recall_hist, total_hist = np.empty(updates), np.empty(updates)
    for u in range(updates):
        g_sum, recall_hist[u], total_hist[u] = _summed_gradient(p, cfg, xs, ds, mode, k)
        g_sum, _ = clip_gradients(g_sum, "norm", clip_threshold)
        p = opt.update(p, g_sum)
        if progress is not None:
            progress(u + 1)
    return RecallRun(
        n_fillers=n_fillers,
        truncation=k,
        mode=mode,
        seed=seed,
        recall_loss=recall_hist,
        total_loss=total_hist,
        final_recall_loss=_final_recall_loss(p, cfg, xs, ds),
        chance=float(np.log(len(symbols))),
    )
