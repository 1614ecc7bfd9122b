"""When training goes wrong: the chance level of a network that knows nothing, and an exploded loss.

chance level   L(t) of a network that gives every one of the V characters probability 1/V: ln V
               for softmax with cross-entropy (so T·ln V per pass);
exploded       a pass whose loss per character is more than ``EXPLODED_FACTOR`` times the chance
               level: finite, but the updates are overshooting (a large η, no clipping).
"""

from __future__ import annotations

import numpy as np

from bptt_core import functions as F
from bptt_core.model import RNNConfig

EXPLODED_FACTOR = 100.0  # loss per character above this × chance: the training blew up
MIN_CHANCE = 0.1  # nats; floor of the chance level used by ``exploded`` (V = 1 has chance 0)


def chance_loss(config: RNNConfig) -> float:
    """L(t) when every output is 1/V (a network that knows nothing), for a one-hot target.

    softmax + cross-entropy: ln V.   sigmoid + cross-entropy: −ln(1/V) − (V−1)·ln(1 − 1/V).
    squared error: ½[(1 − 1/V)² + (V − 1)/V²] = ½(1 − 1/V).
    """
    V = config.output_size
    if V == 1:  # a single character is predicted with certainty
        return 0.0
    y = np.full((1, V), 1.0 / V)
    if config.output == "softmax":
        o = np.zeros((1, V))
    elif config.output == "sigmoid":
        o = np.full((1, V), -np.log(V - 1.0))  # logit(1/V)
    else:  # linear
        o = y.copy()
    d = np.zeros((1, V))
    d[0, 0] = 1.0
    return float(F.losses(config.output, config.loss, o, y, d)[0])


def exploded(loss_per_char: float, chance_per_char: float) -> bool:
    """True when a finite loss per character exceeds EXPLODED_FACTOR × the chance level."""
    if not np.isfinite(loss_per_char):
        return False  # non-finite losses are the engine's divergence, reported separately
    return loss_per_char > EXPLODED_FACTOR * max(chance_per_char, MIN_CHANCE)
