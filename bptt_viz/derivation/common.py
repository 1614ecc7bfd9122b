"""Small pieces the notes' evaluators share: the chain of Jacobians a loss's error travels along,
the softmax Jacobian, and shape-checked products for the notes' forms that do not fit together.

Maths names as in ``bptt_viz.derivation.network``. Everything here evaluates a formula of a note on
the engine's traces; none of it is a second BPTT to trust instead of the engine's.
"""

from __future__ import annotations

import numpy as np

from bptt_viz.derivation.types import Check, Evidence

ENGINE = "the engine's backward pass"
ENGINE_FWD = "the engine's forward pass"
ENGINE_SGD = "the engine's SGD update (bptt_core.optim)"


def chain_errors(
    W_hh: np.ndarray, W_hy: np.ndarray, fprime: np.ndarray, out_err: np.ndarray
) -> np.ndarray:
    """The error each single loss sends back along the chain of Jacobians.

    Parameters
    ----------
    W_hh : (H, H) recurrent weights;  W_hy : (O, H) output weights
    fprime : (T, H) the factor f′ used at every copy (the true f′(a(s)) or a note's variant)
    out_err : (T, O) ∂L(t)/∂o(t) (or a note's variant of it)

    Returns
    -------
    (T, T, H) E[t, s] = f′(s) ⊙ (∂a(s+1)/∂a(s))ᵀ ⋯ (∂a(t)/∂a(t−1))ᵀ W_hyᵀ out_err(t) for s ≤ t:
    the term of loss t at copy s in the "hello" notes' double sum, with
    ∂a(m)/∂a(m−1) = diag(f′(m)) W_hh; zero for s > t.
    """
    T, H = fprime.shape
    E = np.zeros((T, T, H))
    idx = np.arange(T)
    e = fprime * (out_err @ W_hy)  # distance 0: the loss's own copy
    E[idx, idx] = e
    for j in range(1, T):  # one Jacobian further back for every loss at once
        e = fprime[: T - j] * (e[1:] @ W_hh)
        E[idx[: T - j] + j, idx[: T - j]] = e
    return E


def jacobian_product_norms(W_hh: np.ndarray, fprime: np.ndarray) -> np.ndarray:
    """(T, T) ‖Π_{m=k+1}^{t} diag(f′(m)) W_hh‖₂ for k ≤ t (1 on the diagonal), else 0.

    The products for one k are built by the recurrence P(t) = diag(f′(t)) W_hh P(t−1), and their
    largest singular values taken in one batched call.
    """
    T, H = fprime.shape
    out = np.eye(T)
    for k in range(T - 1):
        products = np.empty((T - 1 - k, H, H))
        P = np.eye(H)
        for j, t in enumerate(range(k + 1, T)):
            P = (fprime[t][:, None] * W_hh) @ P
            products[j] = P
        out[k + 1 :, k] = np.linalg.svd(products, compute_uv=False)[:, 0]
    return out


def softmax_jacobian(y: np.ndarray) -> np.ndarray:
    """(T, O, O) ∂y(t)/∂o(t) = diag(y(t)) − y(t) y(t)ᵀ of a softmax output y (T, O)."""
    return np.einsum("ti,ij->tij", y, np.eye(y.shape[1])) - np.einsum("ti,tj->tij", y, y)


def outer_sum(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Σ_t left(t) right(t)ᵀ for left (T, A) and right (T, B): an (A, B) matrix."""
    return left.T @ right


def product_or_problem(
    A: np.ndarray, B: np.ndarray, a_name: str, b_name: str
) -> tuple[np.ndarray | None, str]:
    """A @ B when the shapes fit, else (None, a sentence naming both shapes).

    ``B`` may be (n,) or (n, m); for a vector quantity over time pass one timestep's vector
    (the message names it) and apply the product to all timesteps yourself when it fits.
    """
    if A.shape[-1] != B.shape[0]:
        return None, f"{a_name} ({_shape(A)}) times {b_name} ({_shape(B)}) cannot be formed"
    return A @ B, ""


def sum_or_problem(
    A: np.ndarray, B: np.ndarray, a_name: str, b_name: str
) -> tuple[np.ndarray | None, str]:
    """A + B when the shapes agree, else (None, a sentence naming both shapes)."""
    if A.shape != B.shape:
        return None, f"{a_name} ({_shape(A)}) and {b_name} ({_shape(B)}) cannot be added"
    return A + B, ""


def _shape(a: np.ndarray) -> str:
    if a.ndim == 1:
        return f"{a.shape[0]} entries"
    return " × ".join(str(n) for n in a.shape)


def check(
    label: str,
    value: np.ndarray | None,
    reference: np.ndarray,
    source: str = ENGINE,
    problem: str = "",
) -> Check:
    """A Check with float arrays."""
    v = None if value is None else np.asarray(value, dtype=float)
    return Check(label, v, np.asarray(reference, dtype=float), source, problem)


def evidence(
    what: str,
    note: np.ndarray | None,
    true: np.ndarray,
    problem: str = "",
    true_label: str = "the true value",
) -> Evidence:
    """An Evidence with float arrays."""
    n = None if note is None else np.asarray(note, dtype=float)
    return Evidence(what, n, np.asarray(true, dtype=float), problem, true_label)


def stack(*rows: str) -> str:
    """Rows of an equation one under the other (KaTeX ``aligned``; put & where rows align)."""
    return r"\begin{aligned}" + r" \\[2pt] ".join(rows) + r"\end{aligned}"


def log_softmax(o: np.ndarray) -> np.ndarray:
    """(T, O) log y(t) of a softmax output, from the logits o (T, O): finite where y underflows."""
    shifted = o - o.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy_terms(d: np.ndarray, log_y: np.ndarray) -> np.ndarray:
    """(T,) −Σ_j d_j log y_j with 0 · log 0 taken as 0 (only the entries with d_j > 0 count)."""
    return -np.where(d > 0, d * log_y, 0.0).sum(axis=1)


def softmax_chain(d: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(T, O) (∂y/∂o)ᵀ ∂L/∂y for softmax y and cross-entropy, ∂L/∂y = −d/y.

    diag(y)(−d/y) − y yᵀ(−d/y) = −d + (Σ_j d_j) y: the y/y cancels before it is computed, so
    the chain stays finite where an output underflows to 0.
    """
    return -d + d.sum(axis=1, keepdims=True) * y
