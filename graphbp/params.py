"""All weights and biases of a network as one flat vector, in a stable order.

The order (:func:`parameter_keys`) is: first every weight w_ji, grouped by
the unit j they feed, units in the network's topological order
(:attr:`graphbp.Network.order`) and, within a unit, predecessors i in the
order of ``G.nodes``; then every bias b_j, units in the same order. It
depends only on the graph's nodes, edges and node insertion order, never on
the values or on the order edges were added, so it survives ``G.copy()`` and
a save/load round trip, and a vector from one call can be written back after
another.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .backward import backward_pass
from .batches import prepare
from .wiring import checked_vector, edge_order
from .network import read_network, result_network

__all__ = [
    "parameter_keys",
    "parameter_labels",
    "get_parameters",
    "set_parameters",
    "gradient_vector",
    "loss_and_grad",
]


def parameter_keys(G, weight: str = "weight") -> list[tuple]:
    """The meaning of each entry of the parameter vector.

    Returns
    -------
    list of tuple
        ``("weight", (i, j))`` for w_ji and ``("bias", j)`` for b_j, in vector order.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x1", "h", {"weight": 1.0}), ("x2", "h", {"weight": 1.0}), ("h", "y", {"weight": 1.0})])
    >>> parameter_keys(G)
    [('weight', ('x1', 'h')), ('weight', ('x2', 'h')), ('weight', ('h', 'y')), ('bias', 'h'), ('bias', 'y')]
    """
    return _keys(G, read_network(G, weight))


def _keys(G, net) -> list[tuple]:
    return [("weight", edge) for edge in edge_order(G, net)] + [("bias", j) for j in net.order if j in net.bias]


def get_parameters(G, weight: str = "weight") -> np.ndarray:
    """The weights and biases of `G` as one float vector (order: :func:`parameter_keys`).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 2.0})])
    >>> G.nodes["y"]["bias"] = -1.0
    >>> get_parameters(G)
    array([ 2., -1.])
    """
    net = read_network(G, weight)
    return np.array(
        [G.edges[key][weight] if kind == "weight" else net.bias[key] for kind, key in parameter_keys(G, weight)],
        dtype=float,
    )


def set_parameters(G, theta, weight: str = "weight"):
    """Write a parameter vector back into the graph's ``weight`` and ``bias`` attributes, in place.

    Returns
    -------
    G
        The same graph, for chaining.

    Raises
    ------
    ShapeError
        If `theta` is not a 1-D vector of the right length, or holds NaN/inf
        (the parameter is named).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 2.0})])
    >>> set_parameters(G, [0.5, 0.25]).edges["x", "y"]["weight"], G.nodes["y"]["bias"]
    (0.5, 0.25)
    """
    keys = parameter_keys(G, weight)
    theta = checked_vector(theta, keys)
    for (kind, key), value in zip(keys, theta.tolist()):
        if kind == "weight":
            G.edges[key][weight] = value
        else:
            G.nodes[key]["bias"] = value
    return G


def gradient_vector(G, result, weight: str = "weight") -> np.ndarray:
    """∂E/∂θ from a :class:`~graphbp.BackpropResult`, in the order of :func:`parameter_keys`.

    Uses the network the result carries (no second validation of `G`).

    Raises
    ------
    GraphBPError
        If `result` was computed on another graph, or before `G` changed
        (:func:`graphbp.network.result_network`).

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import backprop
    >>> G = nx.DiGraph([("x", "y", {"weight": 2.0})])
    >>> gradient_vector(G, backprop(G, [1.0], [0.0]))   # y = 2: δ_y = 2, ∂E/∂w = 2·1, ∂E/∂b = 2
    array([2., 2.])
    """
    keys = _keys(G, result_network(G, result, weight))
    return np.array([result.grad_weight[key] if kind == "weight" else result.grad_bias[key] for kind, key in keys])


def loss_and_grad(
    G, x, t, loss="sum_of_squares", weight: str = "weight"
) -> Callable[..., tuple[float, np.ndarray]]:
    """E and ∂E/∂θ as a function of the parameter vector θ, ready for ``scipy.optimize.minimize``.

    The graph, `x`, `t` and the loss are validated once, here. The returned
    function works on a private copy of `G`: calling it never changes the
    user's graph. Write a result back with :func:`set_parameters`.

    Parameters
    ----------
    G : networkx.DiGraph
        The network; its structure fixes the meaning of θ (:func:`parameter_keys`).
    x, t : array_like
        Inputs (N, number of inputs) and targets (N, number of outputs).
    loss : str, default "sum_of_squares"
        A loss name (see :func:`graphbp.backprop`).
    weight : str, default "weight"
        Edge attribute holding the weight w_ji.

    Returns
    -------
    callable
        ``fun(theta, samples=None) -> (E, grad)``: E = Σ_n E_n (eq. 5.44) as a
        float and its gradient in :func:`parameter_keys` order (eq. 5.53).
        `samples` (an index array) restricts both sums to those rows of `x`
        and `t`, for mini-batches.

    Raises
    ------
    GraphBPError
        What :func:`graphbp.backprop` raises for the network, `x`, `t` and
        `loss`; from the function, :class:`ShapeError` for a θ of the wrong
        length or with NaN/inf and :class:`NumericalError` (naming the node)
        when θ makes a pass overflow.

    Examples
    --------
    >>> import networkx as nx
    >>> from scipy.optimize import minimize
    >>> G = nx.DiGraph([("x", "y", {"weight": 0.0})])
    >>> fun = loss_and_grad(G, [[0.0], [1.0]], [[1.0], [3.0]])   # fit y = w x + b
    >>> fun(get_parameters(G))     # E = ½(0 − 1)² + ½(0 − 3)²; ∂E/∂w = −3, ∂E/∂b = −4
    (5.0, array([-3., -4.]))
    >>> fit = minimize(fun, get_parameters(G), jac=True, method="BFGS")
    >>> G = set_parameters(G, fit.x)
    >>> round(G.edges["x", "y"]["weight"], 4), round(G.nodes["y"]["bias"], 4)
    (2.0, 1.0)
    """
    net, X, T, loss, _ = prepare(G, x, t, loss, weight)
    # A deep copy keeps every predecessor and successor list in G's order (G.copy() does not),
    # so the sums of eqs. 5.48 and 5.56 add in the same order as backprop(G, ...).
    private = copy.deepcopy(G)
    keys = parameter_keys(G, weight)
    n_weights = sum(kind == "weight" for kind, _ in keys)
    edges = [key for _, key in keys[:n_weights]]
    units = [key for _, key in keys[n_weights:]]

    def fun(theta, samples=None) -> tuple[float, np.ndarray]:
        theta = checked_vector(theta, keys)
        for (i, j), value in zip(edges, theta[:n_weights].tolist()):
            private[i][j][weight] = value
        # The validated reading is reused; only its biases change with θ.
        current = replace(net, bias=dict(zip(units, theta[n_weights:].tolist())))
        rows = slice(None) if samples is None else samples
        _, z, sample_loss, delta = backward_pass(private, current, X[rows], T[rows], loss)
        # eq. 5.53: ∂E/∂w_ji = Σ_n δ_j z_i and ∂E/∂b_j = Σ_n δ_j.
        grad = [np.dot(delta[j], z[i]) for i, j in edges] + [delta[j].sum() for j in units]
        return float(sample_loss.sum()), np.array(grad, dtype=float)

    return fun


def parameter_labels(G, weight: str = "weight") -> list[str]:
    """Readable names ``w[i→j]`` and ``b[j]`` for each entry of the parameter vector.

    Examples
    --------
    >>> import networkx as nx
    >>> parameter_labels(nx.DiGraph([("x", "y", {"weight": 1.0})]))
    ['w[x→y]', 'b[y]']
    """
    return [f"w[{key[0]}→{key[1]}]" if kind == "weight" else f"b[{key}]" for kind, key in parameter_keys(G, weight)]
