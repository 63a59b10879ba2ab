"""Reading and validating a network stored as a networkx DAG.

Every pass starts here: :func:`read_network` checks the graph once, at the
boundary, and returns a :class:`Network` (the validated reading: input and
output order, a topological order, resolved activations and biases), so the
passes themselves can stay as short as the equations they implement. The
weights stay on the user's graph; nothing here is a copy the user must keep in
sync.
"""

from __future__ import annotations

import heapq
import math
import numbers
import weakref
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import numpy as np

from .activations import (
    DEFAULT_HIDDEN_ACTIVATION,
    DEFAULT_OUTPUT_ACTIVATION,
    SOFTMAX,
    get_activation,
)
from .exceptions import ActivationError, GraphBPError, GraphStructureError, ParameterError
from .fingerprints import graph_fingerprint

__all__ = ["Network", "read_network", "describe", "result_network"]


@dataclass(frozen=True)
class Network:
    """The validated reading of a network graph (see :func:`read_network`).

    Attributes
    ----------
    inputs, outputs : tuple
        Input and output nodes; their order is the column order of ``x`` and ``t``.
    order : tuple
        Every node in a topological order in which the members of each softmax
        group are adjacent; ties go to the node added to ``G`` first.
    units : tuple of tuple
        `order` cut into the steps of a pass: a single node, or a whole softmax
        group (its units are coupled, so they are computed together).
    activation : dict
        Node -> :class:`~graphbp.activations.Activation` (identity for inputs),
        or, for members of a softmax group, the string
        :data:`~graphbp.activations.SOFTMAX` itself (test it with ``is``).
    bias : dict
        Non-input node -> float.
    softmax_groups : tuple of tuple
        Output nodes grouped by their ``softmax_group`` attribute.
    dead_ends : tuple
        Non-output nodes from which no output can be reached (their δ is 0).
    weight : str
        The edge attribute holding w_ji.
    fingerprint : tuple
        :func:`fingerprint` of the graph as read: its nodes, edges, weights,
        biases and activations. :func:`read_network` reuses this reading while
        the graph still has this fingerprint.
    """

    inputs: tuple
    outputs: tuple
    order: tuple
    units: tuple
    activation: dict
    bias: dict
    softmax_groups: tuple
    dead_ends: tuple
    weight: str = "weight"
    fingerprint: tuple | None = field(default=None, repr=False, compare=False)

    @cached_property
    def output_columns(self) -> tuple[list[int], list[np.ndarray]]:
        """Column indices (in `outputs`) of the element-wise outputs, and of each softmax group."""
        position = {node: k for k, node in enumerate(self.outputs)}
        groups = [np.array([position[n] for n in group]) for group in self.softmax_groups]
        in_group = {n for group in self.softmax_groups for n in group}
        return [k for k, node in enumerate(self.outputs) if node not in in_group], groups

    @property
    def hidden(self) -> tuple:
        """Nodes that are neither inputs nor outputs, in topological order."""
        io = set(self.inputs) | set(self.outputs)
        return tuple(n for n in self.order if n not in io)


def _node_list(G, key: str, default: list) -> list:
    """``G.graph[key]`` checked against the graph, or `default`."""
    if key not in G.graph or G.graph[key] is None:
        return default
    listed = G.graph[key]
    if isinstance(listed, (str, bytes)) or not hasattr(listed, "__iter__"):
        raise GraphStructureError(f'G.graph["{key}"] must be a list of nodes, got {listed!r}')
    listed = list(listed)
    for n in listed:
        if n not in G:
            raise GraphStructureError(f'G.graph["{key}"] names {n!r}, which is not a node of the graph')
    seen = set()
    for n in listed:
        if n in seen:
            raise GraphStructureError(f'G.graph["{key}"] lists node {n!r} twice')
        seen.add(n)
    return listed


def _check_structure(G) -> list:
    """Check that `G` is a DAG (the message names what is wrong); return its nodes in topological order,
    ties to the node added first (the order :func:`_units_in_order` takes without softmax groups)."""
    if not isinstance(G, nx.DiGraph):
        raise GraphStructureError(f"a network must be a networkx DiGraph, got {type(G).__name__}")
    if G.is_multigraph():
        raise GraphStructureError(
            "a network must be a DiGraph, not a MultiDiGraph: parallel edges would carry two weights "
            "w_ji for one pair; merge them (sum the weights) first"
        )
    if G.number_of_nodes() == 0:
        raise GraphStructureError("the graph is empty: a network needs at least one input and one output")
    position = {n: k for k, n in enumerate(G)}
    order = _lexicographic_order(G._succ, position.__getitem__)  # O(V + E log V); find_cycle is far slower
    if order is not None:
        return order
    for n in nx.nodes_with_selfloops(G):  # the shortest cycle, named as such
        raise GraphStructureError(f"self-loop on node {n!r}: a feed-forward network has no edge ({n!r}, {n!r})")
    cycle = nx.find_cycle(G)
    path = " -> ".join(repr(u) for u, _ in cycle) + f" -> {cycle[0][0]!r}"
    raise GraphStructureError(f"the graph has a cycle, so it is not a feed-forward network: {path}")


def _read_io(G) -> tuple[list, list]:
    # G._pred and G._succ: the plain dicts under G's views (a view per node costs more than the test)
    inputs = _node_list(G, "inputs", [n for n, sources in G._pred.items() if not sources])
    outputs = _node_list(G, "outputs", [n for n, targets in G._succ.items() if not targets])
    if not inputs:
        raise GraphStructureError('the network has no inputs (no node without predecessors, and no G.graph["inputs"])')
    if not outputs:
        raise GraphStructureError('the network has no outputs (no node without successors, and no G.graph["outputs"])')
    for n in inputs:
        if G.in_degree(n):
            first = next(iter(G.predecessors(n)))
            raise GraphStructureError(f"input node {n!r} has incoming edges (e.g. from {first!r}); inputs take x only")
    both = set(inputs) & set(outputs)
    if both:
        n = next(n for n in inputs if n in both)
        raise GraphStructureError(f"node {n!r} is both an input and an output (an isolated node?)")
    return inputs, outputs


def finite_number(value) -> bool:
    if type(value) is float:  # the common case, without the abstract-class check below
        return math.isfinite(value)
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the range of a float (e.g. 10**400 read from JSON)
        return False


def _all_finite_floats(values: list) -> bool:
    """Fast path: every value a Python float, and finite (their sum is: NaN and ±inf stay in a sum).

    False sends the caller looking value by value for the culprit, so a sum
    that overflows though every value is finite costs only that search.
    """
    return set(map(type, values)) <= {float} and math.isfinite(sum(values))


def _check_parameters(G, inputs, weight: str) -> dict:
    weights = [data.get(weight) for targets in G._adj.values() for data in targets.values()]  # G.edges' order
    if not _all_finite_floats(weights):  # only then look edge by edge for the culprit
        for i, j, data in G.edges(data=True):
            if weight not in data:
                raise ParameterError(f"edge ({i!r}, {j!r}) has no {weight!r} attribute")
            if not finite_number(data[weight]):
                raise ParameterError(f"edge ({i!r}, {j!r}) has {weight} {data[weight]!r}; it must be a finite number")
    nodes = G._node  # the plain dict under G.nodes, in node order
    for n in inputs:
        data = nodes[n]
        if data.get("bias", 0) != 0 or data.get("activation", "identity") not in ("identity", None):
            raise GraphStructureError(f"input node {n!r} carries a bias or activation; inputs pass x through unchanged")
    input_set = set(inputs)
    bias = {n: data.get("bias", 0.0) for n, data in nodes.items() if n not in input_set}
    if not _all_finite_floats(list(bias.values())):  # only then look node by node (and make ints floats)
        for n, b in bias.items():
            if not finite_number(b):
                raise ParameterError(f"node {n!r} has bias {b!r}; it must be a finite number")
            bias[n] = float(b)
    return bias


def _read_activations(G, inputs, outputs) -> tuple[dict, tuple]:
    input_set, output_set = set(inputs), set(outputs)
    activation, groups = {}, {}
    for n, data in G._node.items():  # the plain dict under G.nodes, in node order
        if n in input_set:
            activation[n] = get_activation("identity")
            continue
        default = DEFAULT_OUTPUT_ACTIVATION if n in output_set else DEFAULT_HIDDEN_ACTIVATION
        spec = data.get("activation", default)
        if spec is None:
            spec = default
        if spec == SOFTMAX:
            if n not in output_set:
                raise ActivationError(f"node {n!r} is a hidden unit; softmax is supported on output nodes only")
            group = data.get("softmax_group")
            try:
                groups.setdefault(group, []).append(n)
            except TypeError:  # a list or dict (e.g. read from JSON) cannot name a group
                raise ActivationError(
                    f"node {n!r}: softmax_group {group!r} is not hashable; use a name or a number"
                ) from None
            activation[n] = SOFTMAX
            continue
        try:
            activation[n] = get_activation(spec)
        except ActivationError as err:
            raise ActivationError(f"node {n!r}: {err}") from None
    # A softmax group is listed in output order, so its columns are contiguous in y.
    ordered = tuple(tuple(o for o in outputs if o in members) for members in groups.values())
    return activation, ordered


def _units_in_order(G, groups: tuple, order: list) -> tuple:
    """Topological order of nodes, each softmax group contracted to one step.

    Ties are broken by node insertion order, so the order depends on the
    nodes and edges alone, not on the order the edges were added. `order` is
    that order of the nodes themselves (:func:`_check_structure`).
    """
    if not groups:
        return tuple(zip(order))  # one 1-tuple per node
    position = {n: k for k, n in enumerate(G)}
    step_of = {n: (n,) for n in G}
    for group in groups:
        for n in group:
            step_of[n] = group
    for u, v in G.edges:
        if step_of[u] is step_of[v] and len(step_of[u]) > 1:
            raise GraphStructureError(
                f"softmax group {list(step_of[u])} has an edge ({u!r}, {v!r}) between two of its members; "
                "its units are coupled and must be computed together"
            )
    steps = nx.DiGraph()
    steps.add_nodes_from(dict.fromkeys(step_of[n] for n in G))
    steps.add_edges_from((step_of[u], step_of[v]) for u, v in G.edges if step_of[u] != step_of[v])
    order = _lexicographic_order(steps._succ, lambda step: position[step[0]])
    if order is None:
        group = next(g for g in groups if any(m in nx.descendants(G, n) for n in g for m in g))
        raise GraphStructureError(
            f"softmax group {list(group)} has a member that feeds another member through the graph; "
            "its units are coupled and must be computed together"
        )
    return tuple(order)


def _lexicographic_order(successors: dict, key) -> list | None:
    """The nodes of a DAG (node -> its successors) in topological order, ties to the smallest `key`; None on a cycle.

    The order of ``nx.lexicographical_topological_sort`` (Kahn's algorithm with
    a heap of ready nodes) over networkx's plain dicts: the views cost more
    than the sort on the small graphs of a population (:func:`graphbp.compile_many`).
    The keys must be distinct, so nodes themselves are never compared.
    """
    pending = dict.fromkeys(successors, 0)
    for targets in successors.values():
        for node in targets:
            pending[node] += 1
    ready = [(key(node), node) for node, count in pending.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)[1]
        order.append(node)
        for target in successors[node]:
            pending[target] -= 1
            if pending[target] == 0:
                heapq.heappush(ready, (key(target), target))
    return order if len(order) == len(pending) else None


def _check_reachability(G, inputs, outputs, order) -> tuple:
    pred, succ = G._pred, G._succ  # plain dicts, as in _read_io
    reached = set(inputs)
    for n in order:
        if n not in reached and not reached.isdisjoint(pred[n]):
            reached.add(n)
    for n in outputs:
        if n not in reached:
            raise GraphStructureError(f"output node {n!r} is not reachable from any input")
    output_set = set(outputs)
    reaches_output = set(outputs)
    for n in reversed(order):
        if n not in reaches_output and not reaches_output.isdisjoint(succ[n]):
            reaches_output.add(n)
    return tuple(n for n in order if n not in reaches_output and n not in output_set)


def read_network(G, weight: str = "weight") -> Network:
    """Validate a network graph and return its :class:`Network` reading.

    Parameters
    ----------
    G : networkx.DiGraph
        Edge ``(i, j)`` carries the weight w_ji in attribute `weight`; non-input
        nodes may carry ``activation`` (a name or an
        :class:`~graphbp.activations.Activation`; default ``"identity"`` for
        outputs, ``"tanh"`` for hidden units), ``bias`` (default 0) and, for
        softmax outputs, ``softmax_group`` (default: one group).
        ``G.graph["inputs"]``/``G.graph["outputs"]`` fix the inputs/outputs and
        their order; otherwise they are the sources/sinks in node order.
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    Network
        A graph read before and unchanged since (same :func:`fingerprint`:
        nodes, edges, weights, biases, activations) is not validated again:
        its earlier reading is returned.

    Raises
    ------
    GraphStructureError
        Not a DiGraph, a MultiDiGraph, empty, a self-loop, a cycle (shown), no
        inputs or outputs, an input with incoming edges, a node that is both
        input and output, an output no input reaches, or a softmax group whose
        members feed each other.
    ParameterError
        A missing or non-finite weight or bias (the edge or node is named).
    ActivationError
        An unknown activation (the known ones are listed) or softmax on a hidden unit.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "h", {"weight": 0.5}), ("h", "y", {"weight": -1.0})])
    >>> net = read_network(G)
    >>> net.inputs, net.outputs, net.activation["h"].name
    (('x',), ('y',), 'tanh')
    >>> G.add_edge("y", "x", weight=1.0)
    >>> read_network(G)
    Traceback (most recent call last):
    ...
    graphbp.exceptions.GraphStructureError: the graph has a cycle, so it is not a feed-forward network: 'x' -> 'h' -> 'y' -> 'x'
    """
    key = graph_fingerprint(G, weight)
    cached = _READINGS.get(G, {}).get(weight) if key is not None else None
    if cached is not None and cached.fingerprint == key:
        return cached  # validated before, and nothing it depends on has changed since
    net = _validate(G, weight, key)
    _READINGS.setdefault(G, {})[weight] = net
    return net


# Graph -> {weight attribute: its last reading}; a graph that is garbage collected drops out.
_READINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _validate(G, weight: str, key) -> Network:
    node_order = _check_structure(G)
    inputs, outputs = _read_io(G)
    bias = _check_parameters(G, inputs, weight)
    activation, groups = _read_activations(G, inputs, outputs)
    units = _units_in_order(G, groups, node_order)
    order = tuple(node_order) if not groups else tuple(n for unit in units for n in unit)
    dead_ends = _check_reachability(G, inputs, outputs, order)
    return Network(
        fingerprint=key,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        order=order,
        units=units,
        activation=activation,
        bias=bias,
        softmax_groups=groups,
        dead_ends=dead_ends,
        weight=weight,
    )


def result_network(G, result, weight: str = "weight") -> Network:
    """The checked network a pass's `result` carries, after making sure `G` is that network.

    A result remembers the :class:`Network` it was computed on (validated once,
    by the pass), so explaining or drawing it does not validate `G` again.
    `G` must be the same graph: the same nodes and edges in the same order and
    the same weights and biases, compared through :func:`fingerprint` (O(V + E)
    comparisons, far cheaper than validation). A result without a network (built
    by hand) falls back to :func:`read_network`. Activations, softmax groups
    and ``G.graph["inputs"]``/``["outputs"]`` are compared too.

    Raises
    ------
    GraphBPError
        If `G` differs from the graph `result` was computed on, or was changed
        since (a weight, a bias, a node or an edge), or uses another `weight`
        attribute.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import backprop
    >>> G = nx.DiGraph([("x", "y", {"weight": 2.0})])
    >>> result = backprop(G, [1.0], [0.0])
    >>> result_network(G, result).outputs
    ('y',)
    >>> G.edges["x", "y"]["weight"] = 3.0
    >>> result_network(G, result)
    Traceback (most recent call last):
    ...
    graphbp.exceptions.GraphBPError: the result was computed on another graph, or on this one before its nodes, edges, weights or biases changed: run the pass again on this graph
    """
    net = getattr(result, "network", None)
    if net is None:
        return read_network(G, weight)
    if net.weight != weight or net.fingerprint != graph_fingerprint(G, weight):
        raise GraphBPError(
            "the result was computed on another graph, or on this one before its nodes, edges, weights or "
            "biases changed: run the pass again on this graph"
        )
    return net


def describe(G, weight: str = "weight") -> dict:
    """Validate `G` and summarise it, reporting what is legal but worth knowing.

    Parameters
    ----------
    G : networkx.DiGraph
        A network (see :func:`read_network`).
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    dict
        ``inputs``, ``outputs``, ``hidden`` (lists), ``nodes``, ``edges``,
        ``depth`` (edges on the longest path), ``activations`` (name -> count),
        ``softmax_groups``, ``dead_ends`` (nodes that reach no output; their
        δ is 0), ``constant_units`` (non-input nodes without predecessors:
        a_j = b_j) and ``outputs_feeding_others`` (outputs with successors).

    Raises
    ------
    GraphBPError
        As :func:`read_network`.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": 1.0}),
    ...                 ("x", "dead", {"weight": 1.0})])
    >>> G.graph["outputs"] = ["y"]
    >>> info = describe(G)
    >>> info["dead_ends"], info["depth"]
    (['dead'], 2)
    """
    net = read_network(G, weight)
    input_set = set(net.inputs)
    counts: dict[str, int] = {}
    for node, act in net.activation.items():
        if node in input_set:
            continue
        name = act if act is SOFTMAX else act.name
        counts[name] = counts.get(name, 0) + 1
    return {
        "inputs": list(net.inputs),
        "outputs": list(net.outputs),
        "hidden": list(net.hidden),
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "depth": nx.dag_longest_path_length(G, weight=None),
        "activations": counts,
        "softmax_groups": [list(g) for g in net.softmax_groups],
        "dead_ends": list(net.dead_ends),
        "constant_units": [n for n in net.order if n not in input_set and G.in_degree(n) == 0],
        "outputs_feeding_others": [n for n in net.outputs if G.out_degree(n)],
    }
