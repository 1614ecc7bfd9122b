"""Character-level text for the RNN: vocabulary, one-hot inputs and next-character targets.

For a text c_0 c_1 … c_N the inputs are x(t) = onehot(c_{t−1}) and the targets d(t) = onehot(c_t),
t = 1..T with T = N: "hello" gives T = 4 pairs h→e, e→l, l→l, l→o. The vocabulary lists the
distinct characters in order of first appearance (Unicode code points, text taken as given).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def check_text(text: object, *, min_chars: int = 2) -> str:
    """Validate training text: a str with at least ``min_chars`` characters."""
    if not isinstance(text, str):
        raise ValueError(f"The training text must be a string, got {type(text).__name__}.")
    n = len(text)
    if n < min_chars:
        shown = "empty" if n == 0 else f"only {n} character{'s' if n != 1 else ''} long"
        raise ValueError(
            f"The training text is {shown}; it needs at least {min_chars} characters, because "
            "the network learns to predict each next character from the one before."
        )
    return text


@dataclass(frozen=True, eq=False)
class Corpus:
    """A text with its vocabulary and one-hot encoding."""

    text: str
    vocab: tuple[str, ...] = field(init=False)  # (V,) characters in order of first appearance
    index: dict[str, int] = field(init=False)  # character → position in vocab
    ids: np.ndarray = field(init=False)  # (N+1,) int64 vocabulary index of each character
    inputs: np.ndarray = field(init=False)  # (T, V) one-hot of text[:-1]
    targets: np.ndarray = field(init=False)  # (T, V) one-hot of text[1:]

    def __post_init__(self) -> None:
        check_text(self.text)
        vocab = tuple(dict.fromkeys(self.text))
        index = {c: i for i, c in enumerate(vocab)}
        ids = np.fromiter((index[c] for c in self.text), dtype=np.int64, count=len(self.text))
        onehot = np.eye(len(vocab))[ids]
        object.__setattr__(self, "vocab", vocab)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "inputs", onehot[:-1])
        object.__setattr__(self, "targets", onehot[1:])

    @property
    def V(self) -> int:
        """Vocabulary size."""
        return len(self.vocab)

    @property
    def T(self) -> int:
        """Number of (input, target) pairs: len(text) − 1."""
        return len(self.text) - 1

    @property
    def input_chars(self) -> tuple[str, ...]:
        """The characters fed in at t = 1..T (text[:-1])."""
        return tuple(self.text[:-1])

    @property
    def target_chars(self) -> tuple[str, ...]:
        """The characters to predict at t = 1..T (text[1:])."""
        return tuple(self.text[1:])

    def one_hot(self, ids: np.ndarray) -> np.ndarray:
        """(n,) vocabulary indices → (n, V) one-hot rows."""
        return np.eye(self.V)[np.asarray(ids, dtype=np.int64)]

    def encode(self, s: str) -> np.ndarray:
        """Characters → vocabulary indices; unknown characters are a ValueError."""
        missing = sorted({c for c in s if c not in self.index})
        if missing:
            shown = ", ".join(repr(c) for c in missing[:5])
            raise ValueError(f"These characters are not in the training text: {shown}.")
        return np.fromiter((self.index[c] for c in s), dtype=np.int64, count=len(s))

    def decode(self, ids: np.ndarray) -> str:
        """Vocabulary indices → characters; indices outside 0..V−1 are a ValueError."""
        idx = np.asarray(ids).reshape(-1)
        if idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= self.V):
            raise ValueError(f"Vocabulary indices must be whole numbers from 0 to {self.V - 1}.")
        return "".join(self.vocab[int(i)] for i in idx)
