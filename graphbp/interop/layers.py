"""Dense layered networks (scikit-learn MLPs, torch ``Sequential``) as graphs, and back.

A network of L weight layers becomes a DAG whose node ``(l, u)`` is unit `u`
of layer `l`: ``(0, i)`` are the inputs, ``(L, k)`` the outputs. Layer `l`'s
matrix ``W`` of shape (units of layer l−1, units of layer l), the layout
scikit-learn's ``coefs_`` use, puts ``W[i, u]`` on edge ``((l−1, i), (l, u))``.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from ..activations import SOFTMAX, get_activation
from ..exceptions import ActivationError, GraphStructureError
from ..network import read_network

__all__ = ["from_layers", "read_layers"]


def from_layers(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activations: Sequence[str]) -> nx.DiGraph:
    """The DAG of a dense layered network.

    Parameters
    ----------
    weights : sequence of array, each (units in, units out)
    biases : sequence of array, each (units out,)
    activations : sequence of str
        The activation of each weight layer's units; the last may be ``"softmax"``.

    Returns
    -------
    networkx.DiGraph

    Examples
    --------
    >>> import numpy as np
    >>> G = from_layers([np.ones((2, 3)), np.ones((3, 1))], [np.zeros(3), np.zeros(1)], ["tanh", "identity"])
    >>> G.graph["inputs"], G.graph["outputs"], G.number_of_edges()
    ([(0, 0), (0, 1)], [(2, 0)], 9)
    """
    depth = len(weights)
    G = nx.DiGraph(
        inputs=[(0, i) for i in range(weights[0].shape[0])],
        outputs=[(depth, k) for k in range(weights[-1].shape[1])],
    )
    G.add_nodes_from(G.graph["inputs"])
    for layer, (matrix, bias, activation) in enumerate(zip(weights, biases, activations), start=1):
        matrix = np.asarray(matrix, dtype=np.float64)
        biases = np.asarray(bias, dtype=np.float64).tolist()
        G.add_nodes_from(((layer, u), {"activation": activation, "bias": b}) for u, b in enumerate(biases))
        G.add_edges_from(
            ((layer - 1, i), (layer, u), {"weight": w})
            for i, row in enumerate(matrix.tolist())
            for u, w in enumerate(row)
        )
    return G


def read_layers(
    G, sizes: Sequence[int], activations: Sequence[str], weight: str = "weight"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The weight matrices and bias vectors of `G`, checked against a layered network's shape.

    An edge of the layered network that `G` lacks reads as weight 0 (the
    network computes the same); anything the layers cannot hold is an error.

    Parameters
    ----------
    G : networkx.DiGraph
        Nodes ``(l, u)`` as :func:`from_layers` names them.
    sizes : sequence of int
        Units per layer, inputs first.
    activations : sequence of str
        The activation each weight layer's units must have.
    weight : str, default "weight"

    Returns
    -------
    weights, biases : list of numpy.ndarray
        Shapes (sizes[l−1], sizes[l]) and (sizes[l],).

    Raises
    ------
    GraphStructureError
        A node missing or extra, other inputs or outputs, or an edge that
        skips a layer or runs backwards (named).
    ActivationError
        A unit whose activation is not its layer's (named).
    GraphBPError
        Whatever :func:`graphbp.read_network` finds wrong with `G`.

    Examples
    --------
    >>> import numpy as np
    >>> G = from_layers([np.full((2, 1), 0.5)], [np.array([1.0])], ["identity"])
    >>> G.remove_edge((0, 1), (1, 0))
    >>> weights, biases = read_layers(G, [2, 1], ["identity"])
    >>> weights[0].tolist(), biases[0].tolist()
    ([[0.5], [0.0]], [1.0])
    """
    net = read_network(G, weight)
    depth = len(sizes) - 1
    expected_nodes = [(layer, u) for layer, size in enumerate(sizes) for u in range(size)]
    ends = {"inputs": [(0, i) for i in range(sizes[0])], "outputs": [(depth, k) for k in range(sizes[-1])]}
    for key, nodes in ends.items():
        if list(getattr(net, key)) != nodes:
            raise GraphStructureError(f"the graph's {key} are {list(getattr(net, key))}; this network's are {nodes}")
    for node in expected_nodes:
        if node not in G:
            raise GraphStructureError(f"node {node!r} of the layered network is not in the graph")
    if G.number_of_nodes() != len(expected_nodes):
        extra = next(n for n in G if n not in set(expected_nodes))
        raise GraphStructureError(f"node {extra!r} is not a unit of a layered network with sizes {list(sizes)}")
    for node in expected_nodes[sizes[0]:]:
        _check_activation(node, net.activation[node], activations[node[0] - 1])
    weights = [np.zeros((sizes[layer - 1], sizes[layer])) for layer in range(1, depth + 1)]
    for (source_layer, i), (layer, u), w in G.edges(data=weight):
        if layer != source_layer + 1:
            raise GraphStructureError(
                f"edge {((source_layer, i), (layer, u))!r} does not join consecutive layers; "
                "a layered network cannot hold it"
            )
        weights[layer - 1][i, u] = w
    biases = [np.array([net.bias[(layer, u)] for u in range(sizes[layer])]) for layer in range(1, depth + 1)]
    return weights, biases


def _check_activation(node, have, want: str) -> None:
    same = have == SOFTMAX if want == SOFTMAX else have is not SOFTMAX and have is get_activation(want)
    if not same:
        raise ActivationError(
            f"node {node!r} has activation {getattr(have, 'name', have)!r}; its layer computes {want!r}"
        )

