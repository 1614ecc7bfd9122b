"""bptt_core: a pure-NumPy engine for backpropagation through time.

Public API (the contract of DESIGN.md section 3)::

    RNNConfig, Params, init_params, forward -> ForwardTrace, backward -> BackwardTrace,
    gradient_flow, jacobian_norms, gradcheck, Corpus, Trainer, save_params, load_params

plus what the pages need beside it: truncation comparisons, σ_max and the Pascanu bound,
optimizers and clipping, W_hh rescaled to a spectral radius (``with_spectral_radius``), the recall
task, a bounded training history and the chance level.
No Streamlit, no Plotly, no LaTeX; pandas only builds ``Trainer.history`` when it is read.
"""

from bptt_core.backward import BackwardTrace, backward, check_truncation
from bptt_core.corpus import Corpus, check_text
from bptt_core.flow import (
    TruncationComparison,
    gradient_bound,
    gradient_flow,
    jacobian_norms,
    norms_by_distance,
    sigma_max,
    truncation_comparison,
)
from bptt_core.functions import ACTIVATIONS, GAMMA, LOSSES, OUTPUTS
from bptt_core.gradcheck import gradcheck, numerical_gradient
from bptt_core.model import (
    PARAM_NAMES,
    ForwardTrace,
    Params,
    RNNConfig,
    forward,
    init_params,
    rescale_spectral_radius,
    spectral_radius,
    with_spectral_radius,
)
from bptt_core.optim import CLIPPING, OPTIMIZERS, clip_gradients, make_optimizer
from bptt_core.serialization import load_params, params_to_bytes, save_params
from bptt_core.trainer import SCHEDULES, StepResult, Trainer, TrainingConfig

__all__ = [
    "ACTIVATIONS",
    "CLIPPING",
    "GAMMA",
    "LOSSES",
    "OPTIMIZERS",
    "OUTPUTS",
    "PARAM_NAMES",
    "SCHEDULES",
    "BackwardTrace",
    "Corpus",
    "ForwardTrace",
    "Params",
    "RNNConfig",
    "StepResult",
    "Trainer",
    "TrainingConfig",
    "TruncationComparison",
    "backward",
    "check_text",
    "check_truncation",
    "clip_gradients",
    "forward",
    "gradcheck",
    "gradient_bound",
    "gradient_flow",
    "init_params",
    "jacobian_norms",
    "load_params",
    "make_optimizer",
    "norms_by_distance",
    "numerical_gradient",
    "params_to_bytes",
    "rescale_spectral_radius",
    "save_params",
    "sigma_max",
    "spectral_radius",
    "truncation_comparison",
    "with_spectral_radius",
]
