"""Classes predicted by a network and classes of targets, and the accuracy they give."""

from __future__ import annotations

import numpy as np

from ..batches import as_batch
from ..exceptions import ShapeError
from ..forward import forward

__all__ = ["accuracy", "predict_classes", "target_classes"]


def predict_classes(G, x, weight: str = "weight") -> np.ndarray:
    """The class the network predicts for each sample of `x`, an int array of length N.

    One output: class 1 where y ≥ 0.5, else 0 (for 0/1 targets). Several
    outputs: the index of the largest y (for one-hot targets).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 1.0})])
    >>> predict_classes(G, [[0.0], [1.0], [2.0]])
    array([0, 1, 1])
    """
    return target_classes(np.atleast_2d(forward(G, x, weight).y))


def target_classes(t) -> np.ndarray:
    """Classes of targets of shape (N, 1) (0/1) or (N, K) (one-hot); see :func:`predict_classes`.

    A 1-D `t` is read as one column of N 0/1 targets.

    Examples
    --------
    >>> target_classes([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    array([1, 0])
    >>> target_classes([1.0, 0.0, 1.0])
    array([1, 0, 1])
    """
    t = np.asarray(t, dtype=float)
    t = t[:, None] if t.ndim == 1 else t
    return (t[:, 0] >= 0.5).astype(int) if t.shape[1] == 1 else t.argmax(axis=1)


def accuracy(G, x, t, weight: str = "weight") -> float:
    """Fraction of samples whose predicted class (:func:`predict_classes`) is the target's.

    `x` and `t` are shaped as for :func:`graphbp.backprop` (a 1-D pair is one sample).

    Raises
    ------
    GraphBPError
        What :func:`graphbp.forward` raises; :class:`ShapeError` for a `t`
        that does not fit the outputs or the samples of `x`.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 1.0})])
    >>> accuracy(G, [[0.0], [1.0], [2.0]], [[0.0], [1.0], [0.0]])
    0.6666666666666666
    """
    result = forward(G, x, weight)
    y = np.atleast_2d(result.y)
    T, _ = as_batch(t, result.outputs, "t")
    if T.shape[0] != y.shape[0]:
        raise ShapeError(f"x has {y.shape[0]} samples but t has {T.shape[0]}")
    return float(np.mean(target_classes(y) == target_classes(T)))
