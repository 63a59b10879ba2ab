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

import numpy as np

from .exceptions import ShapeError
from .network import read_network

__all__ = ["parameter_keys", "get_parameters", "set_parameters", "gradient_vector"]


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
    net = read_network(G, weight)
    position = {node: k for k, node in enumerate(G)}
    units = [j for j in net.order if j in net.bias]
    edges = [("weight", (i, j)) for j in units for i in sorted(G.predecessors(j), key=position.__getitem__)]
    return edges + [("bias", j) for j in units]


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
    theta = np.asarray(theta, dtype=float)
    if theta.shape != (len(keys),):
        raise ShapeError(f"parameter vector has shape {theta.shape}; this network has {len(keys)} parameters")
    bad = np.flatnonzero(~np.isfinite(theta))
    if bad.size:
        kind, key = keys[bad[0]]
        raise ShapeError(f"parameter vector entry {bad[0]} ({kind} {key!r}) is {theta[bad[0]]}; it must be finite")
    for (kind, key), value in zip(keys, theta.tolist()):
        if kind == "weight":
            G.edges[key][weight] = value
        else:
            G.nodes[key]["bias"] = value
    return G


def gradient_vector(G, result, weight: str = "weight") -> np.ndarray:
    """∂E/∂θ from a :class:`~graphbp.BackpropResult`, in the order of :func:`parameter_keys`.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import backprop
    >>> G = nx.DiGraph([("x", "y", {"weight": 2.0})])
    >>> gradient_vector(G, backprop(G, [1.0], [0.0]))   # y = 2: δ_y = 2, ∂E/∂w = 2·1, ∂E/∂b = 2
    array([2., 2.])
    """
    return np.array(
        [
            result.grad_weight[key] if kind == "weight" else result.grad_bias[key]
            for kind, key in parameter_keys(G, weight)
        ]
    )
