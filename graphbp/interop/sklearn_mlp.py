"""scikit-learn's fitted ``MLPRegressor`` / ``MLPClassifier`` in and out.

A fitted MLP holds ``coefs_`` (one (units in, units out) matrix per layer),
``intercepts_``, the hidden ``activation`` and the output activation
``out_activation_``: identity for regression (squared error), logistic for a
binary or multilabel classifier, softmax for a multiclass one. Those are
graphbp's ``identity``, ``logistic``, ``tanh``, ``relu`` and ``softmax``, and
the losses scikit-learn trains with are graphbp's ``"sse"``, ``"bce"`` and
``"ce"`` (:func:`sklearn_targets` turns labels into graphbp targets).

scikit-learn's gradient is that of the mean over samples of graphbp's E_n
(for squared error: ½ Σ_k (y_k − t_k)² per sample; its *reported* ``loss_``
also divides by the number of outputs, its gradient does not).
"""

from __future__ import annotations

import numpy as np

from ..exceptions import GraphBPError, ShapeError
from .layers import from_layers, read_layers

__all__ = ["from_sklearn", "to_sklearn", "sklearn_targets"]

_ACTIVATIONS = {"identity": "identity", "logistic": "logistic", "tanh": "tanh", "relu": "relu", "softmax": "softmax"}


def _check_estimator(estimator) -> None:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if not isinstance(estimator, (MLPClassifier, MLPRegressor)):
        raise GraphBPError(f"expected a scikit-learn MLPClassifier or MLPRegressor, got {type(estimator).__name__}")
    if not hasattr(estimator, "coefs_"):
        raise GraphBPError(f"the {type(estimator).__name__} is not fitted yet (it has no coefs_); call fit first")


def _layer_activations(estimator) -> list[str]:
    """graphbp's activation for each weight layer, or an error naming what it cannot express."""
    for role, name in (("activation", estimator.activation), ("out_activation_", estimator.out_activation_)):
        if name not in _ACTIVATIONS:
            raise GraphBPError(
                f"the estimator's {role} is {name!r}, which graphbp cannot express; "
                f"supported: {', '.join(_ACTIVATIONS)}"
            )
    hidden = [_ACTIVATIONS[estimator.activation]] * (len(estimator.coefs_) - 1)
    return [*hidden, _ACTIVATIONS[estimator.out_activation_]]


def from_sklearn(estimator):
    """The network of a fitted scikit-learn MLP, as a graphbp DiGraph.

    Its outputs are ``predict`` of an ``MLPRegressor`` (one column per
    target), and for an ``MLPClassifier`` ``predict_proba`` (multiclass and
    multilabel) or its last column (binary: one logistic output, the
    probability of ``classes_[1]``).

    Parameters
    ----------
    estimator : sklearn.neural_network.MLPRegressor or MLPClassifier
        Fitted.

    Returns
    -------
    networkx.DiGraph
        Node ``(l, u)`` is unit `u` of layer `l` (``(0, i)``: input feature
        `i`); edge ``((l−1, i), (l, u))`` carries ``coefs_[l−1][i, u]`` and node
        ``(l, u)`` the bias ``intercepts_[l−1][u]``.

    Raises
    ------
    GraphBPError
        Not an MLP, not fitted, or an activation graphbp lacks (e.g. the
        ``"exp"`` output of ``loss="poisson"``).

    Examples
    --------
    >>> import numpy as np, graphbp
    >>> from sklearn.neural_network import MLPRegressor
    >>> from graphbp.interop import from_sklearn
    >>> x = np.linspace(-1, 1, 20)[:, None]
    >>> mlp = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0).fit(x, np.sin(3 * x[:, 0]))
    >>> G = from_sklearn(mlp)
    >>> bool(np.allclose(graphbp.forward(G, x).y[:, 0], mlp.predict(x), rtol=0, atol=1e-12))
    True
    """
    _check_estimator(estimator)
    return from_layers(estimator.coefs_, estimator.intercepts_, _layer_activations(estimator))


def to_sklearn(G, estimator, weight: str = "weight"):
    """Write the weights and biases of `G` into the fitted MLP, in place.

    Afterwards ``predict`` / ``predict_proba`` compute what `G` computes. An
    edge `G` lacks is written as weight 0.

    Parameters
    ----------
    G : networkx.DiGraph
        Shaped as :func:`from_sklearn` makes it for this estimator.
    estimator : sklearn.neural_network.MLPRegressor or MLPClassifier
        Fitted; its ``coefs_`` and ``intercepts_`` are replaced (same shapes
        and dtype).
    weight : str, default "weight"

    Returns
    -------
    estimator

    Raises
    ------
    GraphBPError
        Not a fitted MLP; a graph of another shape (the node or edge is
        named); a unit whose activation differs from the estimator's.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from graphbp.interop import from_sklearn, to_sklearn
    >>> x = np.linspace(-1, 1, 20)[:, None]
    >>> mlp = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", random_state=0).fit(x, x[:, 0])
    >>> G = from_sklearn(mlp)
    >>> G.nodes[(2, 0)]["bias"] = 0.25
    >>> to_sklearn(G, mlp).intercepts_[1].tolist()
    [0.25]
    """
    _check_estimator(estimator)
    sizes = [estimator.coefs_[0].shape[0], *(matrix.shape[1] for matrix in estimator.coefs_)]
    weights, biases = read_layers(G, sizes, _layer_activations(estimator), weight)
    estimator.coefs_ = [w.astype(old.dtype) for w, old in zip(weights, estimator.coefs_)]
    estimator.intercepts_ = [b.astype(old.dtype) for b, old in zip(biases, estimator.intercepts_)]
    return estimator


def sklearn_targets(estimator, y) -> np.ndarray:
    """Targets `t` for graphbp from the labels or values `y` the estimator is fitted to.

    Regression: `y` as an (N, outputs) array (loss ``"sse"``). Binary: one
    column, 1 where y is ``classes_[1]`` (loss ``"bce"``). Multiclass: one-hot
    over ``classes_`` (loss ``"ce"``). Multilabel: the 0/1 indicator matrix
    itself (loss ``"bce"``).

    Raises
    ------
    GraphBPError
        Not a fitted MLP.
    ShapeError
        A label not among ``classes_`` (named), or `y` of the wrong shape.

    Examples
    --------
    >>> from sklearn.neural_network import MLPClassifier
    >>> from graphbp.interop import sklearn_targets
    >>> clf = MLPClassifier(hidden_layer_sizes=(2,), solver="lbfgs", random_state=0)
    >>> clf = clf.fit([[0.0], [1.0], [2.0]], ["a", "b", "c"])
    >>> sklearn_targets(clf, ["c", "a"]).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    _check_estimator(estimator)
    n_outputs = estimator.coefs_[-1].shape[1]
    multilabel = estimator.out_activation_ == "logistic" and n_outputs > 1
    if not hasattr(estimator, "classes_") or multilabel:
        t = np.asarray(y, dtype=float)
        t = t.reshape(len(t), -1) if t.ndim == 1 else t
        if t.ndim != 2 or t.shape[1] != n_outputs:
            raise ShapeError(f"y has shape {np.shape(y)}; this estimator has {n_outputs} outputs")
        return t
    labels = np.asarray(y)
    classes = list(estimator.classes_)
    unknown = [label for label in labels.tolist() if label not in classes]
    if labels.ndim != 1 or unknown:
        what = f"label {unknown[0]!r} is not one of classes_ {classes}" if unknown else f"y has shape {labels.shape}"
        raise ShapeError(f"{what}; expected a 1-D array of class labels")
    one_hot = (labels[:, None] == np.asarray(estimator.classes_)[None, :]).astype(float)
    return one_hot[:, 1:] if n_outputs == 1 else one_hot
