"""A validated network turned once into flat arrays: the compiled engine's data.

Nodes are numbered by their position in :attr:`graphbp.Network.order` (a
topological order with softmax groups adjacent). The edges are stored twice:

* by target, as CSR over predecessors (``pred_ptr``, ``pred_index``): the
  edges ``pred_ptr[j]:pred_ptr[j+1]`` of node ``j`` list its predecessors in
  ``G.nodes`` order. This is exactly the weight part of the
  parameter vector of :func:`graphbp.parameter_keys`, so ``weight[e]`` is
  θ_e and the forward sum of eq. 5.48 reads it in order;
* by source, as CSR over successors (``succ_ptr``, ``succ_index``) in
  ``G.successors(j)`` order, with ``succ_edge`` giving each entry's ``e``:
  the summation set S_j of eq. 5.56, which the backward pass gathers over.

Activations are small integer codes so the kernels can switch on them;
:data:`CUSTOM` marks a user's :class:`~graphbp.Activation`, whose Python
functions the engine calls between kernel runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import SOFTMAX, get_activation
from ..exceptions import GraphStructureError, ParameterError
from ..network import Network

__all__ = ["Layout", "build_layout", "read_values", "write_values", "unit_levels", "ACTIVATION_CODES", "INPUT", "CUSTOM", "SOFTMAX_CODE"]

# Codes understood by the kernels. The built-in Activation objects are captured
# here, so a user's re-registered "tanh" is a CUSTOM activation, never the kernel's.
ACTIVATION_CODES = {
    get_activation(name): code
    for code, name in enumerate(["identity", "tanh", "logistic", "relu", "leaky_relu", "softplus"])
}
SOFTMAX_CODE = 6
INPUT = 7
CUSTOM = 8


@dataclass(frozen=True)
class Layout:
    """The arrays of a compiled network (positions are indices into ``net.order``).

    Attributes
    ----------
    net : Network
        The validated reading the arrays were built from.
    position : dict
        Node -> position.
    edges : list
        Edge (i, j) for each parameter index e (the weight order of ``parameter_keys``).
    edge_index : dict
        Edge (i, j) -> e.
    pred_ptr, pred_index : numpy.ndarray
        CSR over predecessors: for node position j, edges ``pred_ptr[j]:pred_ptr[j+1]``
        come from positions ``pred_index[...]``.
    succ_ptr, succ_index, succ_edge : numpy.ndarray
        CSR over successors: node j feeds ``succ_index[...]`` through edges ``succ_edge[...]``.
    unit_ptr, unit_code : numpy.ndarray
        Unit u (a node, or a whole softmax group) spans positions ``unit_ptr[u]:unit_ptr[u+1]``
        and has activation code ``unit_code[u]``.
    bias_rows : numpy.ndarray
        Positions of the non-input nodes, in order: the bias part of the parameter vector.
    input_rows, output_rows : numpy.ndarray
        Positions of the inputs and outputs, in column order of x and t.
    output_slot : numpy.ndarray
        For each position, its column among the outputs, or -1.
    custom_units : tuple of int
        Units whose activation is a user's Python function.
    """

    net: Network
    position: dict
    edges: list
    edge_index: dict
    pred_ptr: np.ndarray
    pred_index: np.ndarray
    succ_ptr: np.ndarray
    succ_index: np.ndarray
    succ_edge: np.ndarray
    unit_ptr: np.ndarray
    unit_code: np.ndarray
    bias_rows: np.ndarray
    input_rows: np.ndarray
    output_rows: np.ndarray
    output_slot: np.ndarray
    custom_units: tuple

    @property
    def n_nodes(self) -> int:
        return len(self.net.order)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    @property
    def max_unit(self) -> int:
        return int(np.diff(self.unit_ptr).max())


def _unit_code(net: Network, unit: tuple) -> int:
    node = unit[0]
    if node in net.inputs:
        return INPUT
    activation = net.activation[node]
    if activation == SOFTMAX:
        return SOFTMAX_CODE
    return ACTIVATION_CODES.get(activation, CUSTOM)


def build_layout(G, net: Network) -> Layout:
    """Number the nodes of a validated network and build its CSR arrays (one pass over the edges)."""
    position = {node: p for p, node in enumerate(net.order)}
    pred, succ = G.pred, G.succ
    # Within a unit, predecessors in G.nodes order: the order of graphbp.parameter_keys.
    node_rank = {node: k for k, node in enumerate(G)}
    edges = [(i, j) for j in net.order for i in sorted(pred[j], key=node_rank.__getitem__)]
    edge_index = {edge: e for e, edge in enumerate(edges)}
    degree_in = np.fromiter((len(pred[j]) for j in net.order), dtype=np.int64, count=len(position))
    degree_out = np.fromiter((len(succ[j]) for j in net.order), dtype=np.int64, count=len(position))
    pred_ptr = np.concatenate([[0], np.cumsum(degree_in)])
    succ_ptr = np.concatenate([[0], np.cumsum(degree_out)])
    pred_index = np.fromiter((position[i] for i, _ in edges), dtype=np.int64, count=len(edges))
    succ_index = np.fromiter((position[k] for j in net.order for k in succ[j]), dtype=np.int64, count=len(edges))
    succ_edge = np.fromiter(
        (edge_index[j, k] for j in net.order for k in succ[j]), dtype=np.int64, count=len(edges)
    )
    sizes = [len(unit) for unit in net.units]
    input_set = set(net.inputs)
    output_slot = np.full(len(position), -1, dtype=np.int64)
    output_rows = np.array([position[k] for k in net.outputs], dtype=np.int64)
    output_slot[output_rows] = np.arange(len(output_rows))
    codes = [_unit_code(net, unit) for unit in net.units]
    return Layout(
        net=net,
        position=position,
        edges=edges,
        edge_index=edge_index,
        pred_ptr=pred_ptr,
        pred_index=pred_index,
        succ_ptr=succ_ptr,
        succ_index=succ_index,
        succ_edge=succ_edge,
        unit_ptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        unit_code=np.array(codes, dtype=np.int64),
        bias_rows=np.array([p for p, node in enumerate(net.order) if node not in input_set], dtype=np.int64),
        input_rows=np.array([position[i] for i in net.inputs], dtype=np.int64),
        output_rows=output_rows,
        output_slot=output_slot,
        custom_units=tuple(u for u, code in enumerate(codes) if code == CUSTOM),
    )


def read_values(G, layout: Layout, weight: str) -> tuple[np.ndarray, np.ndarray]:
    """The weights (parameter order) and the bias of every position (0 for inputs), read from `G`.

    Raises
    ------
    GraphStructureError
        If edges or nodes were added or removed since the layout was built.
    ParameterError
        A missing or non-finite weight or bias (the edge or node is named).
    """
    if G.number_of_edges() != layout.n_edges or G.number_of_nodes() != layout.n_nodes:
        raise GraphStructureError(
            "the graph's nodes or edges changed since it was compiled; compile it again (graphbp.compile(G))"
        )
    try:
        adjacency = G._adj  # plain dicts: several times faster than G.adj's views on 400k edges
        weights = np.array([adjacency[i][j][weight] for i, j in layout.edges], dtype=np.float64)
    except KeyError:
        i, j = next(edge for edge in layout.edges if weight not in G.adj[edge[0]][edge[1]])
        raise ParameterError(f"edge ({i!r}, {j!r}) has no {weight!r} attribute") from None
    except (TypeError, ValueError):
        weights = None
    order = layout.net.order
    biases = np.zeros(len(order))
    try:
        biases[layout.bias_rows] = [G.nodes[order[p]].get("bias", 0.0) for p in layout.bias_rows]
    except (TypeError, ValueError):
        biases = None
    if weights is None or not np.isfinite(weights).all():
        i, j = next(e for e in layout.edges if not _finite(G.adj[e[0]][e[1]][weight]))
        raise ParameterError(f"edge ({i!r}, {j!r}) has {weight} {G.adj[i][j][weight]!r}; it must be a finite number")
    if biases is None or not np.isfinite(biases).all():
        node = next(order[p] for p in layout.bias_rows if not _finite(G.nodes[order[p]].get("bias", 0.0)))
        raise ParameterError(f"node {node!r} has bias {G.nodes[node].get('bias')!r}; it must be a finite number")
    return weights, biases


def unit_levels(layout: Layout) -> np.ndarray:
    """Level of each unit: 0 without predecessors, else one more than its deepest predecessor."""
    node_level = np.zeros(layout.n_nodes, dtype=np.int64)
    unit_level = np.zeros(len(layout.unit_code), dtype=np.int64)
    ptr, pred_ptr, pred_index = layout.unit_ptr, layout.pred_ptr, layout.pred_index
    for u in range(len(unit_level)):
        sources = pred_index[pred_ptr[ptr[u]] : pred_ptr[ptr[u + 1]]]
        unit_level[u] = node_level[sources].max() + 1 if sources.size else 0
        node_level[ptr[u] : ptr[u + 1]] = unit_level[u]
    return unit_level


def write_values(G, layout: Layout, weight: str, theta: np.ndarray) -> None:
    """Write a parameter vector (order of :func:`graphbp.parameter_keys`) into the graph's attributes."""
    n_edges, order = layout.n_edges, layout.net.order
    adjacency, nodes = G._adj, G._node  # plain dicts: G.adj's views cost more than the assignment itself
    for (i, j), value in zip(layout.edges, theta[:n_edges].tolist()):
        adjacency[i][j][weight] = value
    for p, value in zip(layout.bias_rows.tolist(), theta[n_edges:].tolist()):
        nodes[order[p]]["bias"] = value


def _finite(value) -> bool:
    try:
        return bool(np.isfinite(float(value))) and not isinstance(value, bool)
    except (TypeError, ValueError):
        return False
