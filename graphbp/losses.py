"""Error functions E = Σ_n E_n (Bishop eq. 5.44) and their output deltas.

Each loss gives, per sample, E_n and the direct part of δ_k = ∂E_n/∂a_k for
the output units (the part through y_k itself; what an output also receives
from units it feeds is added by the backward pass). For the canonical pairs
(sum-of-squares with linear outputs, binary cross-entropy with logistic
outputs, multiclass cross-entropy with a softmax group) that direct part is
y_k − t_k (eq. 5.54).

Outputs are columns of (N, K) arrays: ``A`` (a_k), ``Y`` (y_k), ``T`` (t_k).
``per_sample`` and ``output_delta`` are written with numpy functions numba
also compiles (no ``keepdims``, no ``max(axis=)``), so the compiled engine runs
these same functions inside its one-call pass (:func:`graphbp.compiled.kernels_numba.whole_pass`).
``slope`` holds h'(a_k) and ``bend`` h''(a_k) for element-wise outputs;
``groups`` lists the column indices of each softmax group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import SOFTMAX
from .exceptions import LossError

__all__ = ["Loss", "get_loss", "loss_names"]


@dataclass(frozen=True)
class Loss:
    """An error function paired with the output activation it expects.

    Attributes
    ----------
    name : str
    output_activation : str or None
        ``"logistic"`` or ``"softmax"`` when the loss needs that output
        activation on every output; None when any element-wise one will do.
    per_sample : callable
        ``(A, Y, T, groups) -> (N,)`` array of E_n.
    output_delta : callable
        ``(A, Y, T, slope, groups) -> (N, K)`` array of the direct ∂E_n/∂a_k.
    output_curvature : callable or None
        ``(A, Y, T, slope, bend, groups) -> (N, K, K)`` array of the direct
        ∂²E_n/∂a_k∂a_l, the derivative of `output_delta`; needed only for
        Hessians (:mod:`graphbp.hessian`). With ``bend = 0`` it is the
        Gauss-Newton output curvature (the residual term h''(a)(y − t) dropped).
    """

    name: str
    output_activation: str | None
    per_sample: Callable
    output_delta: Callable
    output_curvature: Callable | None = None


def _logsumexp(A: np.ndarray) -> np.ndarray:
    top = A[:, 0]
    for k in range(1, A.shape[1]):  # the row maximum, column by column (numba has no max(axis=))
        top = np.maximum(top, A[:, k])
    return top + np.log(np.exp(A - np.expand_dims(top, 1)).sum(axis=1))


def _sse(A, Y, T, groups):
    return 0.5 * ((Y - T) ** 2).sum(axis=1)


def _sse_delta(A, Y, T, slope, groups):
    return slope * (Y - T)


def _sse_curvature(A, Y, T, slope, bend, groups):
    # ∂/∂a_k of h'(a_k)(y_k − t_k) = h'(a_k)² + h''(a_k)(y_k − t_k); no coupling between outputs.
    return _diagonal(slope**2 + bend * (Y - T))


def _diagonal(values: np.ndarray) -> np.ndarray:
    """(N, K) -> (N, K, K) with each row on the diagonal."""
    return values[:, :, None] * np.eye(values.shape[1])


def _bce(A, Y, T, groups):
    # -[t ln σ(a) + (1 - t) ln(1 - σ(a))] = softplus(a) - t a, finite for any a.
    return (np.logaddexp(0.0, A) - T * A).sum(axis=1)


def _bce_delta(A, Y, T, slope, groups):
    return Y - T


def _bce_curvature(A, Y, T, slope, bend, groups):
    # ∂(y_k − t_k)/∂a_k = σ'(a_k) = y_k (1 − y_k)  (Bishop eq. 5.85's weights)
    return _diagonal(Y * (1.0 - Y))


def _cross_entropy(A, Y, T, groups):
    # -Σ_k t_k ln y_k with ln y_k = a_k - logsumexp over k's group.
    total = np.zeros(A.shape[0])
    for cols in groups:
        total -= (T[:, cols] * (A[:, cols] - np.expand_dims(_logsumexp(A[:, cols]), 1))).sum(axis=1)
    return total


def _cross_entropy_delta(A, Y, T, slope, groups):
    # ∂E_n/∂a_k = y_k Σ_{j in group} t_j − t_k: eq. 5.54's y_k − t_k when the targets sum to 1.
    delta = np.empty_like(Y)
    for cols in groups:
        delta[:, cols] = Y[:, cols] * np.expand_dims(T[:, cols].sum(axis=1), 1) - T[:, cols]
    return delta


def _cross_entropy_curvature(A, Y, T, slope, bend, groups):
    # ∂(y_k S − t_k)/∂a_l = S y_k (I_kl − y_l) within a group (S = Σ_j t_j); zero across groups.
    curvature = np.zeros(A.shape + A.shape[1:])
    for cols in groups:
        y = Y[:, cols]
        total = T[:, cols].sum(axis=1)[:, None, None]
        curvature[:, cols[:, None], cols[None, :]] = total * (_diagonal(y) - y[:, :, None] * y[:, None, :])
    return curvature


_LOSSES = {
    "sum_of_squares": Loss("sum_of_squares", None, _sse, _sse_delta, _sse_curvature),
    "binary_cross_entropy": Loss("binary_cross_entropy", "logistic", _bce, _bce_delta, _bce_curvature),
    "cross_entropy": Loss("cross_entropy", SOFTMAX, _cross_entropy, _cross_entropy_delta, _cross_entropy_curvature),
}
_ALIASES = {"sse": "sum_of_squares", "bce": "binary_cross_entropy", "ce": "cross_entropy"}


def loss_names() -> list[str]:
    """Names accepted by ``loss=``, short aliases included.

    Examples
    --------
    >>> loss_names()
    ['bce', 'binary_cross_entropy', 'ce', 'cross_entropy', 'sse', 'sum_of_squares']
    """
    return sorted([*_LOSSES, *_ALIASES])


def get_loss(loss) -> Loss:
    """Look up a loss by name (or pass a :class:`Loss` through).

    Raises
    ------
    LossError
        If the name is unknown; the message lists the known ones.

    Examples
    --------
    >>> get_loss("sse").name
    'sum_of_squares'
    """
    if isinstance(loss, Loss):
        return loss
    name = _ALIASES.get(loss, loss) if isinstance(loss, str) else None
    if name not in _LOSSES:
        raise LossError(f"unknown loss {loss!r}; known: {', '.join(loss_names())}")
    return _LOSSES[name]


def check_loss(loss: Loss, net, T: np.ndarray) -> None:
    """Check that `loss` can be used with the outputs of `net` and the targets `T`.

    Raises
    ------
    LossError
        A softmax group given to a loss that cannot use it, an output whose
        activation the loss does not pair with, or targets outside [0, 1]
        for a cross-entropy (the sample and node are named).
    """
    if loss.output_activation is None:
        if net.softmax_groups:
            raise LossError(
                f"softmax group {list(net.softmax_groups[0])} given to {loss.name!r}, which cannot use it "
                "(its units are coupled); use the cross_entropy loss (loss='ce' in Python, --loss ce on the command line)"
            )
        return
    for node in net.outputs:
        act = net.activation[node]
        name = act if act is SOFTMAX else act.name
        if name != loss.output_activation:
            raise LossError(
                f"{loss.name!r} pairs with {loss.output_activation} outputs, but output node {node!r} has "
                f"activation {name!r}; choose the loss for these outputs (loss= in Python, --loss on the command "
                "line): sse for any outputs, bce for logistic ones, ce for a softmax group"
            )
    outside = (T < 0) | (T > 1)
    if outside.any():
        n, k = map(int, np.argwhere(outside)[0])
        raise LossError(
            f"{loss.name!r} needs targets in [0, 1]; t[{n}] is {T[n, k]} for output node {net.outputs[k]!r}"
        )
