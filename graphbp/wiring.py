"""The wiring of a validated network: its nodes numbered and its edges as flat arrays, the plan every engine executes.

("Layout" is the drawing's word, for positions on a page: :func:`graphbp.drawing.layout`.)

This module sits below every engine: the numpy and numba backends of
:mod:`graphbp.compiled`, the torch module and :mod:`graphbp.params` all take
their node numbering, CSR arrays, level plan, parameter order and parameter
checks from here.

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

A unit's activation code is its entry's index in ``wiring.activations`` (the
element-wise table entries this network uses, in order of first use), or
:data:`INPUT` / :data:`SOFTMAX_CODE`: codes come from the table, never from a
list kept in step with it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate

import numpy as np

from .activations import SOFTMAX
from .exceptions import GraphStructureError, ParameterError, ShapeError
from .network import Network

__all__ = [
    "Wiring",
    "build_wiring",
    "build_wirings",
    "edge_order",
    "checked_vector",
    "beyond_range",
    "check_range",
    "parameter_keys_of",
    "read_values",
    "read_thetas",
    "write_values",
    "unit_levels",
    "level_units",
    "LevelPlan",
    "level_plans",
    "INPUT",
    "SOFTMAX_CODE",
]

INPUT = -1
SOFTMAX_CODE = -2


@dataclass(frozen=True)
class Wiring:
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
        and has activation code ``unit_code[u]``: an index into `activations`, or
        :data:`INPUT` or :data:`SOFTMAX_CODE`.
    activations : tuple of Activation
        The element-wise table entries the codes index.
    bias_rows : numpy.ndarray
        Positions of the non-input nodes, in order: the bias part of the parameter vector.
    input_rows, output_rows : numpy.ndarray
        Positions of the inputs and outputs, in column order of x and t.
    output_slot : numpy.ndarray
        For each position, its column among the outputs, or -1.
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
    activations: tuple
    bias_rows: np.ndarray
    input_rows: np.ndarray
    output_rows: np.ndarray
    output_slot: np.ndarray

    @cached_property
    def n_nodes(self) -> int:
        return len(self.net.order)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    @cached_property
    def max_unit(self) -> int:
        return int(np.diff(self.unit_ptr).max())

    @cached_property
    def bias_nodes(self) -> tuple:
        """The nodes at `bias_rows`: whose bias is a parameter, in parameter order."""
        order = self.net.order
        return tuple(order[p] for p in self.bias_rows.tolist())


def _unit_codes(net: Network) -> tuple[list[int], tuple]:
    """Each unit's code, and the element-wise entries the codes index (in order of first use)."""
    input_set, entries, codes = set(net.inputs), {}, []
    for unit in net.units:
        activation = net.activation[unit[0]]
        if unit[0] in input_set:
            codes.append(INPUT)
        elif activation is SOFTMAX:
            codes.append(SOFTMAX_CODE)
        else:  # entries by identity: hashing one hashes its functions, once per unit
            codes.append(entries.setdefault(id(activation), (len(entries), activation))[0])
    return codes, tuple(activation for _, activation in entries.values())


def edge_order(G, net: Network) -> list[tuple]:
    """Every edge (i, j) in parameter order: grouped by target j in ``net.order``, sources in ``G.nodes`` order.

    The weight part of :func:`graphbp.parameter_keys`; it depends on the nodes,
    edges and node insertion order only, so it survives ``G.copy()`` and a
    save/load round trip.
    """
    node_rank = {node: k for k, node in enumerate(G)}.__getitem__
    pred = G._pred  # the plain dict under G.pred: a view per node costs more than the sort
    # a node of a small network has one or two sources: a sort call costs more than the edges
    return [(i, j) for j in net.order for i in (pred[j] if len(pred[j]) < 2 else sorted(pred[j], key=node_rank))]


def parameter_keys_of(wiring: Wiring) -> list[tuple]:
    """``("weight", (i, j))`` and ``("bias", j)`` in the order of the wiring's θ (:func:`graphbp.parameter_keys`)."""
    return [("weight", edge) for edge in wiring.edges] + [("bias", node) for node in wiring.bias_nodes]


def checked_vector(theta, keys) -> np.ndarray:
    """`theta` as a float vector of len(keys) finite entries, or ShapeError naming the bad entry.

    `keys` are ``("weight", (i, j))`` / ``("bias", j)`` in vector order.
    """
    theta = np.asarray(theta, dtype=float)
    if theta.shape != (len(keys),):
        raise ShapeError(f"parameter vector has shape {theta.shape}; this network has {len(keys)} parameters")
    bad = np.flatnonzero(~np.isfinite(theta)) if not np.isfinite(theta.sum()) else ()  # one sum, a search only then
    if len(bad):
        kind, key = keys[bad[0]]
        raise ShapeError(f"parameter vector entry {bad[0]} ({kind} {key!r}) is {theta[bad[0]]}; it must be finite")
    return theta


def beyond_range(theta: np.ndarray, dtype) -> np.ndarray:
    """The indices of the entries of θ (float64) that the work `dtype` cannot hold: inf once cast (none in float64)."""
    limit = np.finfo(dtype).max
    if np.dtype(dtype) == np.float64 or not theta.size or np.abs(theta).max() <= limit:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.abs(theta) > limit)


def check_range(theta: np.ndarray, keys, dtype) -> None:
    """ParameterError naming the first parameter of θ beyond the work `dtype`'s range (a float32 compile of 1e160)."""
    beyond = beyond_range(theta, dtype)
    if beyond.size:
        kind, key = keys[beyond[0]]
        raise ParameterError(
            f"{kind} {key!r} is {float(theta[beyond[0]])!r}, beyond {np.dtype(dtype).name}'s range "
            f"(±{np.finfo(dtype).max:.3g}): use float64 (dtype=float64)"
        )


def build_wiring(G, net: Network) -> Wiring:
    """Number the nodes of a validated network and build its CSR arrays (one pass over the edges)."""
    return build_wirings([G], [net])[0]


# The integer arrays of a Wiring (its CSR arrays, codes and rows).
_ARRAYS = ("pred_ptr", "pred_index", "succ_ptr", "succ_index", "succ_edge", "unit_ptr", "unit_code", "bias_rows",
           "input_rows", "output_rows", "output_slot")  # fmt: skip


def build_wirings(graphs, nets) -> list[Wiring]:
    """:func:`build_wiring` of each graph and its validated reading, with one numpy array per field for all.

    A network of a population has a few dozen nodes, where one numpy call
    per array costs more than the Python list it is made from: every
    network's lists go into one list per field, made an array once, and
    each wiring's arrays are slices (views) of those.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import read_network
    >>> graphs = [nx.DiGraph([("x", "y", {"weight": 1.0})]), nx.path_graph(["x", "h", "y"], create_using=nx.DiGraph)]
    >>> nx.set_edge_attributes(graphs[1], 0.5, "weight")
    >>> small, chain = build_wirings(graphs, [read_network(G) for G in graphs])
    >>> chain.edges, chain.pred_ptr.tolist(), chain.pred_index.tolist()
    ([('x', 'h'), ('h', 'y')], [0, 0, 1, 2], [0, 1])
    >>> chain.pred_ptr.base is small.pred_ptr.base   # both slices of one array
    True
    """
    lists: dict = {name: [] for name in _ARRAYS}
    made = []  # each network's own objects, and where its part of every list ends
    for G, net in zip(graphs, nets):
        order = net.order
        position = dict(zip(order, range(len(order))))
        pred, succ = G._pred, G._succ  # plain dicts, as in edge_order
        edges = edge_order(G, net)
        edge_index = dict(zip(edges, range(len(edges))))
        output_rows = [position[k] for k in net.outputs]
        output_slot = [-1] * len(order)
        for k, p in enumerate(output_rows):
            output_slot[p] = k
        input_set = set(net.inputs)
        codes, activations = _unit_codes(net)
        lists["pred_ptr"] += accumulate((len(pred[j]) for j in order), initial=0)
        lists["pred_index"] += [position[i] for i, _ in edges]
        lists["succ_ptr"] += accumulate((len(succ[j]) for j in order), initial=0)
        lists["succ_index"] += [position[k] for j in order for k in succ[j]]
        lists["succ_edge"] += [edge_index[j, k] for j in order for k in succ[j]]
        lists["unit_ptr"] += accumulate(map(len, net.units), initial=0)
        lists["unit_code"] += codes
        lists["bias_rows"] += [p for p, node in enumerate(order) if node not in input_set]
        lists["input_rows"] += [position[i] for i in net.inputs]
        lists["output_rows"] += output_rows
        lists["output_slot"] += output_slot
        made.append((net, position, edges, edge_index, activations, [len(values) for values in lists.values()]))
    arrays = [np.array(values, dtype=np.int64) for values in lists.values()]
    wirings, starts = [], [0] * len(arrays)
    for net, position, edges, edge_index, activations, stops in made:
        views = {name: array[start:stop] for name, array, start, stop in zip(_ARRAYS, arrays, starts, stops)}
        wirings.append(
            Wiring(net=net, position=position, edges=edges, edge_index=edge_index, activations=activations, **views)
        )
        starts = stops
    return wirings


def read_values(G, wiring: Wiring, weight: str) -> tuple[np.ndarray, np.ndarray]:
    """The weights (parameter order) and the bias of every position (0 for inputs), read from `G`.

    Raises
    ------
    GraphStructureError
        If edges or nodes were added or removed since the wiring was built.
    ParameterError
        A missing or non-finite weight or bias (the edge or node is named).
    """
    adjacency, nodes = G._adj, G._node  # plain dicts: several times faster than G.adj's views on 400k edges
    if len(nodes) != wiring.n_nodes or sum(map(len, adjacency.values())) != wiring.n_edges:
        raise GraphStructureError(
            "the graph's nodes or edges changed since it was compiled; compile it again (graphbp.compile(G))"
        )
    try:
        weights = np.array([adjacency[i][j][weight] for i, j in wiring.edges], dtype=np.float64)
    except KeyError:
        i, j = next(edge for edge in wiring.edges if weight not in adjacency[edge[0]][edge[1]])
        raise ParameterError(f"edge ({i!r}, {j!r}) has no {weight!r} attribute") from None
    except (TypeError, ValueError):
        weights = None
    biases = np.zeros(wiring.n_nodes)
    try:
        biases[wiring.bias_rows] = [nodes[node].get("bias", 0.0) for node in wiring.bias_nodes]
    except (TypeError, ValueError):
        biases = None
    if weights is None or not np.isfinite(weights).all():
        i, j = next(e for e in wiring.edges if not _finite(adjacency[e[0]][e[1]][weight]))
        raise ParameterError(f"edge ({i!r}, {j!r}) has {weight} {adjacency[i][j][weight]!r}; it must be a finite number")
    if biases is None or not np.isfinite(biases).all():
        node = next(node for node in wiring.bias_nodes if not _finite(nodes[node].get("bias", 0.0)))
        raise ParameterError(f"node {node!r} has bias {nodes[node].get('bias')!r}; it must be a finite number")
    return weights, biases


def read_thetas(graphs, wirings, weight: str) -> np.ndarray | None:
    """Every graph's θ (its weights, then its biases), each graph's after the other, read in one numpy call.

    None when some graph fails a check of :func:`read_values` (it changed
    since its wiring was built, or has a missing, non-numeric or non-finite
    parameter): the caller then reads graph by graph, and read_values names
    the first bad one.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import read_network
    >>> G = nx.DiGraph([("x", "y", {"weight": 2.0})])
    >>> G.nodes["y"]["bias"] = -1.0
    >>> wirings = build_wirings([G, G], [read_network(G)] * 2)
    >>> read_thetas([G, G], wirings, "weight").tolist()
    [2.0, -1.0, 2.0, -1.0]
    >>> G.edges["x", "y"]["weight"] = float("nan")
    >>> read_thetas([G, G], wirings, "weight") is None   # read_values names the edge
    True
    """
    values: list = []
    for G, wiring in zip(graphs, wirings):
        adjacency, nodes = G._adj, G._node  # plain dicts, as in read_values
        if len(nodes) != wiring.n_nodes or sum(map(len, adjacency.values())) != wiring.n_edges:
            return None
        try:
            values += [adjacency[i][j][weight] for i, j in wiring.edges]
        except KeyError:
            return None
        values += [nodes[node].get("bias", 0.0) for node in wiring.bias_nodes]
    try:
        theta = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return theta if np.isfinite(theta).all() else None


def unit_levels(wiring: Wiring) -> np.ndarray:
    """Level of each unit: 0 without predecessors, else one more than its deepest predecessor."""
    # Python lists, not numpy calls per unit: a unit has few sources, and a call costs more than they do.
    node_level = [0] * wiring.n_nodes
    unit_level = []
    ptr, pred_ptr, pred_index = (array.tolist() for array in (wiring.unit_ptr, wiring.pred_ptr, wiring.pred_index))
    for first, last in zip(ptr[:-1], ptr[1:]):
        sources = pred_index[pred_ptr[first] : pred_ptr[last]]
        level = max(map(node_level.__getitem__, sources)) + 1 if sources else 0
        node_level[first:last] = [level] * (last - first)
        unit_level.append(level)
    return np.array(unit_level, dtype=np.int64)


def level_units(wiring: Wiring) -> list[np.ndarray]:
    """The units of each level, level 0 first: every unit depends only on units of earlier levels."""
    levels = unit_levels(wiring)
    by_level = np.argsort(levels, kind="stable")
    bounds = np.searchsorted(levels[by_level], np.arange(levels.max() + 2))
    return [by_level[bounds[L] : bounds[L + 1]] for L in range(levels.max() + 1)]


@dataclass(frozen=True)
class LevelPlan:
    """What one level computes (positions are indices into ``net.order``).

    The level's units are sorted by activation code, so the units sharing a
    code are one run of `rows` (each softmax group a run of its own): an
    executor that numbers the rows level after level (the torch level loop)
    gets every group as one slice, and one that works on positions (the numpy
    kernels) takes the same groups by position.

    Attributes
    ----------
    rows : numpy.ndarray
        Every position of the level's units, inputs included, grouped by activation code.
    groups : tuple of (int, int, int)
        ``(code, start, stop)``: ``rows[start:stop]`` share the unit code `code`
        (an index into ``wiring.activations``, :data:`INPUT` or :data:`SOFTMAX_CODE`).
    activations : tuple of Activation
        The wiring's element-wise table entries, which the codes index.
    """

    rows: np.ndarray
    groups: tuple
    activations: tuple

    @cached_property
    def computed(self) -> np.ndarray:
        """The positions whose a_j the level computes (its non-input rows)."""
        return np.concatenate(
            [self.rows[start:stop] for code, start, stop in self.groups if code != INPUT] or [np.empty(0)]
        ).astype(np.int64)

    @cached_property
    def elementwise(self) -> tuple:
        """``(Activation, positions)`` of each table entry the level's single-node units use, each entry once."""
        return tuple((self.activations[code], self.rows[start:stop]) for code, start, stop in self.groups if code >= 0)

    @cached_property
    def softmax(self) -> tuple:
        """The positions of each softmax group of the level."""
        return tuple(self.rows[start:stop] for code, start, stop in self.groups if code == SOFTMAX_CODE)


def level_plans(wiring: Wiring) -> list[LevelPlan]:
    """A :class:`LevelPlan` per level, level 0 first (see :func:`level_units`)."""
    ptr, codes = wiring.unit_ptr, wiring.unit_code
    plans = []
    for units in level_units(wiring):
        units = units[np.argsort(codes[units], kind="stable")]  # by code, then in topological order
        sizes = np.diff(ptr)[units]
        starts = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        groups = []
        for k, u in enumerate(units.tolist()):
            code = int(codes[u])
            if groups and groups[-1][0] == code != SOFTMAX_CODE:
                groups[-1][2] = starts[k + 1]
            else:
                groups.append([code, starts[k], starts[k + 1]])
        rows = np.concatenate([np.arange(ptr[u], ptr[u + 1]) for u in units.tolist()]).astype(np.int64)
        plans.append(LevelPlan(rows=rows, groups=tuple(map(tuple, groups)), activations=wiring.activations))
    return plans


def write_values(G, wiring: Wiring, weight: str, theta: np.ndarray) -> None:
    """Write a parameter vector (order of :func:`graphbp.parameter_keys`) into the graph's attributes."""
    n_edges = wiring.n_edges
    adjacency, nodes = G._adj, G._node  # plain dicts: G.adj's views cost more than the assignment itself
    for (i, j), value in zip(wiring.edges, theta[:n_edges].tolist()):
        adjacency[i][j][weight] = value
    for node, value in zip(wiring.bias_nodes, theta[n_edges:].tolist()):
        nodes[node]["bias"] = value


def _finite(value) -> bool:
    try:
        return bool(np.isfinite(float(value))) and not isinstance(value, bool)
    except (TypeError, ValueError):
        return False
