"""Seeded, deterministic builders of networks, and fan-in weight initialisation.

Every builder returns an ``nx.DiGraph`` in graphbp's conventions: edge ``(i, j)``
carries ``weight`` = w_ji, every non-input node carries an ``activation`` name,
biases are left out (their default is 0), and ``G.graph["inputs"]`` /
``G.graph["outputs"]`` list the input and output nodes in column order of ``x``
and ``t``. The same `seed` gives the same graph: same node and edge insertion
order, same weights.

A `seed` is an int, a ``numpy.random.Generator`` (consumed), or None (fresh
entropy), as in networkx.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Hashable, Iterable, Sequence

import networkx as nx
import numpy as np

from .activations import (
    DEFAULT_HIDDEN_ACTIVATION,
    DEFAULT_OUTPUT_ACTIVATION,
    SOFTMAX,
    Activation,
    get_activation,
)
from .exceptions import GraphStructureError

__all__ = ["initialize_weights", "mlp", "skip_mlp", "random_dag", "from_edges"]

Seed = int | np.random.Generator | None

# kind -> (networkx generator, its parameters after n with their defaults for a given n).
# Defaults that would exceed what n allows are clamped, so that e.g. random_dag(3) works.
_RANDOM_GRAPHS = {
    "erdos_renyi": (nx.erdos_renyi_graph, lambda n: {"p": 0.3}),
    "watts_strogatz": (nx.watts_strogatz_graph, lambda n: {"k": min(4, n - 1), "p": 0.75}),
    "barabasi_albert": (nx.barabasi_albert_graph, lambda n: {"m": min(2, n - 1)}),
}


def initialize_weights(
    G: nx.DiGraph, *, seed: Seed = None, weight: str = "weight", overwrite: bool = False
) -> nx.DiGraph:
    """Give every edge without a weight a fan-in scaled random weight, in place.

    Edge ``(i, j)`` gets w_ji ~ Normal(0, 1 / fan_in(j)) with fan_in(j) the
    in-degree of `j` (LeCun initialisation: it keeps the variance of a_j near
    that of the z_i feeding it). Weights are drawn in ``G.edges`` order, so the
    same graph and `seed` give the same weights. Biases are left as they are.

    Parameters
    ----------
    G : nx.DiGraph
        The network.
    seed : int, numpy.random.Generator or None, optional
        Seed of the random draws.
    weight : str, optional
        Edge attribute holding the weight.
    overwrite : bool, optional
        If True, redraw every weight; by default weights already set (not None)
        are kept.

    Returns
    -------
    nx.DiGraph
        `G` itself.

    Raises
    ------
    GraphStructureError
        If `G` is not a directed simple graph.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x1", "y1"), ("x2", "y1")])
    >>> G.edges["x1", "y1"]["weight"] = 0.5
    >>> G = initialize_weights(G, seed=0)
    >>> G.edges["x1", "y1"]["weight"], round(G.edges["x2", "y1"]["weight"], 4)
    (0.5, 0.0889)
    """
    if not G.is_directed() or G.is_multigraph():
        raise GraphStructureError(f"a network is an nx.DiGraph, got {type(G).__name__}")
    fan_in = dict(G.in_degree)
    missing = [
        (data, fan_in[j]) for _, j, data in G.edges(data=True) if overwrite or data.get(weight) is None
    ]
    scale = np.sqrt([fan for _, fan in missing])
    draws = np.random.default_rng(seed).standard_normal(len(missing)) / scale
    for (data, _), value in zip(missing, draws.tolist()):
        data[weight] = value
    return G


def mlp(
    layer_sizes: Sequence[int],
    *,
    activation: str | Activation = DEFAULT_HIDDEN_ACTIVATION,
    output_activation: str | Activation = DEFAULT_OUTPUT_ACTIVATION,
    seed: Seed = None,
) -> nx.DiGraph:
    """A fully connected layered network (multilayer perceptron).

    Nodes are named like Bishop's units, 1-based: inputs ``"x1".."xD"``, hidden
    unit `i` of hidden layer `l` ``"h{l}_{i}"``, outputs ``"y1".."yK"``. Each
    unit of a layer feeds every unit of the next.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, inputs first and outputs last: at least two positive ints.
    activation : str, optional
        Activation of the hidden units.
    output_activation : str, optional
        Activation of the output units; may be ``"softmax"``.
    seed : int, numpy.random.Generator or None, optional
        Seed of the weights (see :func:`initialize_weights`).

    Returns
    -------
    nx.DiGraph

    Raises
    ------
    GraphStructureError
        If `layer_sizes` has fewer than two entries or one is not a positive int.
    ActivationError
        If an activation is unknown, or `activation` is ``"softmax"``.

    Examples
    --------
    >>> G = mlp([2, 3, 1], seed=0)
    >>> list(G)
    ['x1', 'x2', 'h1_1', 'h1_2', 'h1_3', 'y1']
    >>> G.number_of_edges(), G.graph["inputs"], G.nodes["y1"]["activation"]
    (9, ['x1', 'x2'], 'identity')
    """
    G, _ = _layered_network(layer_sizes, activation, output_activation)
    return initialize_weights(G, seed=seed)


def skip_mlp(
    layer_sizes: Sequence[int],
    *,
    p_skip: float = 0.3,
    activation: str | Activation = DEFAULT_HIDDEN_ACTIVATION,
    output_activation: str | Activation = DEFAULT_OUTPUT_ACTIVATION,
    seed: Seed = None,
) -> nx.DiGraph:
    """A layered network plus random skip connections over one or more layers.

    Every pair of units `u` in layer `l` and `v` in layer `m` >= `l` + 2 is joined
    by an edge ``u -> v`` with probability `p_skip`, so inputs may feed outputs
    directly. Nodes are named as in :func:`mlp`.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, inputs first and outputs last: at least two positive ints.
    p_skip : float, optional
        Probability of each skip connection, in [0, 1].
    activation : str, optional
        Activation of the hidden units.
    output_activation : str, optional
        Activation of the output units; may be ``"softmax"``.
    seed : int, numpy.random.Generator or None, optional
        Seed of the skip connections and the weights.

    Returns
    -------
    nx.DiGraph

    Raises
    ------
    GraphStructureError
        If `layer_sizes` is invalid (see :func:`mlp`) or `p_skip` is not in [0, 1].
    ActivationError
        If an activation is unknown, or `activation` is ``"softmax"``.

    Examples
    --------
    >>> G = skip_mlp([2, 3, 1], p_skip=1.0, seed=0)
    >>> G.number_of_edges()  # 2*3 + 3*1 layered, 2*1 skipping the hidden layer
    11
    >>> G.has_edge("x1", "y1")
    True
    """
    _check_range("p_skip", p_skip, 0, 1, integer=False)
    G, layers = _layered_network(layer_sizes, activation, output_activation)
    rng = np.random.default_rng(seed)
    candidates = [
        (u, v) for index, layer in enumerate(layers) for later in layers[index + 2 :] for u in layer for v in later
    ]
    G.add_edges_from(itertools.compress(candidates, rng.random(len(candidates)) < p_skip))
    return initialize_weights(G, seed=rng)


def random_dag(
    n: int,
    kind: str = "watts_strogatz",
    *,
    n_inputs: int = 2,
    n_outputs: int = 1,
    activation: str | Activation = DEFAULT_HIDDEN_ACTIVATION,
    output_activation: str | Activation = DEFAULT_OUTPUT_ACTIVATION,
    seed: Seed = None,
    **params,
) -> nx.DiGraph:
    """A randomly wired network (RandWire style) from a networkx random graph.

    A random undirected graph on the hidden nodes ``0..n-1`` is oriented from
    lower to higher node number, which makes it a DAG. Every input
    ``"x1".."x{n_inputs}"`` feeds every source (a hidden node without
    predecessors) and every sink (without successors) feeds every output
    ``"y1".."y{n_outputs}"``; an isolated node is both. So every hidden node is
    reachable from the inputs and reaches the outputs.

    Parameters
    ----------
    n : int
        Number of hidden nodes, at least 1.
    kind : {"watts_strogatz", "erdos_renyi", "barabasi_albert"}, optional
        The networkx generator: ``watts_strogatz_graph(n, k, p)`` (defaults
        ``k=4``, ``p=0.75``; `k` // 2 neighbours on each side of the ring),
        ``erdos_renyi_graph(n, p)`` (default ``p=0.3``) or
        ``barabasi_albert_graph(n, m)`` (default ``m=2``). A default `k` or `m`
        is lowered to ``n - 1`` for small `n`.
    n_inputs, n_outputs : int, optional
        Number of input and output nodes, at least 1.
    activation : str, optional
        Activation of the hidden nodes.
    output_activation : str, optional
        Activation of the output nodes; may be ``"softmax"``.
    seed : int, numpy.random.Generator or None, optional
        Seed of the random graph and of the weights.
    **params
        Parameters of the generator: `k` and `p`, `p`, or `m`.

    Returns
    -------
    nx.DiGraph

    Raises
    ------
    GraphStructureError
        If `kind` is unknown (the message lists the known kinds), a parameter is
        unknown to `kind` or out of range (``0 <= p <= 1``, ``0 <= k <= n - 1``,
        ``1 <= m <= n - 1``), or `n`, `n_inputs` or `n_outputs` is not a
        positive int.
    ActivationError
        If an activation is unknown, or `activation` is ``"softmax"``.

    Examples
    --------
    >>> G = random_dag(6, "erdos_renyi", p=0.0, seed=0)  # six isolated nodes
    >>> G.number_of_edges()  # each fed by x1 and x2 and feeding y1
    18
    >>> G = random_dag(10, k=2, p=0.0, n_outputs=2, seed=0)  # a path 0 -> 1 -> ... -> 9
    >>> list(G.successors("x1")), list(G.predecessors("y2"))
    ([0], [9])
    """
    _check_range("n", n, 1)
    _check_range("n_inputs", n_inputs, 1)
    _check_range("n_outputs", n_outputs, 1)
    _check_activations(activation, output_activation)
    if kind not in _RANDOM_GRAPHS:
        known = ", ".join(sorted(_RANDOM_GRAPHS))
        raise GraphStructureError(f"unknown random graph kind {kind!r}; known: {known}")
    generator, defaults = _RANDOM_GRAPHS[kind]
    chosen = defaults(n)
    unknown = params.keys() - chosen.keys()
    if unknown:
        names = ", ".join(map(repr, sorted(unknown)))
        raise GraphStructureError(f"{kind} takes parameters {', '.join(chosen)}; got unknown {names}")
    chosen.update(params)
    limits = {"p": (0, 1), "k": (0, n - 1), "m": (1, n - 1)}
    for name, value in chosen.items():
        _check_range(f"{kind} parameter {name} for n={n}", value, *limits[name], integer=name != "p")

    undirected = generator(n, **chosen, seed=seed)
    inputs, outputs = _numbered("x", n_inputs), _numbered("y", n_outputs)
    # Oriented low -> high, a node is a source when it has no lower neighbour, a sink when
    # it has no higher one; an isolated node is both.
    sources = [v for v in range(n) if min(undirected[v], default=v) >= v]
    sinks = [v for v in range(n) if max(undirected[v], default=v) <= v]
    G = nx.DiGraph()
    G.add_nodes_from([*inputs, *range(n), *outputs])
    G.add_edges_from((min(u, v), max(u, v)) for u, v in undirected.edges())
    G.add_edges_from(itertools.product(inputs, sources))
    G.add_edges_from(itertools.product(sinks, outputs))
    _assign_roles(G, inputs, outputs, activation, output_activation)
    return initialize_weights(G, seed=seed)


def from_edges(
    edges: Iterable[tuple],
    *,
    inputs: Sequence[Hashable] | None = None,
    outputs: Sequence[Hashable] | None = None,
    activation: str | Activation = DEFAULT_HIDDEN_ACTIVATION,
    output_activation: str | Activation = DEFAULT_OUTPUT_ACTIVATION,
    seed: Seed = None,
) -> nx.DiGraph:
    """A network from a list of edges, with or without weights.

    Parameters
    ----------
    edges : iterable of tuple
        ``(u, v)`` pairs and ``(u, v, w)`` triples: unit `u` feeds unit `v`,
        with weight w_vu = `w` kept exactly. Pairs (and a `w` of None) get a
        fan-in scaled random weight (see :func:`initialize_weights`).
    inputs, outputs : sequence of node, optional
        Input and output nodes in column order of ``x`` and ``t``. By default
        the nodes without predecessors and without successors, in order of
        first appearance.
    activation : str, optional
        Activation of the nodes that are neither inputs nor outputs.
    output_activation : str, optional
        Activation of the output nodes; may be ``"softmax"``.
    seed : int, numpy.random.Generator or None, optional
        Seed of the missing weights.

    Returns
    -------
    nx.DiGraph

    Raises
    ------
    GraphStructureError
        If there are no edges, an edge is not a pair or triple, the graph has a
        cycle, or an input or output is not a node, an input has a predecessor,
        or a node is both input and output.
    ActivationError
        If an activation is unknown, or `activation` is ``"softmax"``.

    Examples
    --------
    >>> G = from_edges([("a", "b", 0.5), ("b", "c", -1.0), ("a", "c", 2.0)])
    >>> G.graph["inputs"], G.graph["outputs"], G.nodes["b"]["activation"]
    (['a'], ['c'], 'tanh')
    >>> G.edges["b", "c"]["weight"]
    -1.0
    """
    _check_activations(activation, output_activation)
    G = nx.DiGraph()
    for edge in edges:
        if not isinstance(edge, tuple) or len(edge) not in (2, 3):
            raise GraphStructureError(f"an edge is a (u, v) pair or a (u, v, w) triple, got {edge!r}")
        G.add_edge(*edge[:2])
        if len(edge) == 3:
            G.edges[edge[:2]]["weight"] = edge[2]
    if not G:
        raise GraphStructureError("from_edges needs at least one edge")
    if not nx.is_directed_acyclic_graph(G):
        raise GraphStructureError(f"a network is acyclic; these edges form a cycle: {nx.find_cycle(G)}")
    inputs = [v for v in G if not G.pred[v]] if inputs is None else list(inputs)
    outputs = [v for v in G if not G.succ[v]] if outputs is None else list(outputs)
    for role, nodes in (("input", inputs), ("output", outputs)):
        for v in nodes:
            if v not in G:
                raise GraphStructureError(f"{role} {v!r} is not a node of the edges")
    for v in inputs:
        if G.pred[v]:
            raise GraphStructureError(f"input {v!r} has predecessors {list(G.pred[v])}; only x feeds an input")
        if v in outputs:
            raise GraphStructureError(f"node {v!r} is listed as both an input and an output")
    _assign_roles(G, inputs, outputs, activation, output_activation)
    return initialize_weights(G, seed=seed)


def _numbered(prefix: str, count: int) -> list[str]:
    """Bishop's 1-based unit names: ``prefix1 .. prefix{count}``."""
    return [f"{prefix}{i}" for i in range(1, count + 1)]


def _check_range(name: str, value, low, high=math.inf, *, integer: bool = True):
    """Raise GraphStructureError unless `value` is an int (or real) with low <= value <= high."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        bounds = f"in [{low}, {high}]" if high != math.inf else f">= {low}"
        what = "an int" if integer else "a number"
        raise GraphStructureError(f"{name} must be {what} {bounds}, got {value!r}")


def _check_activations(activation, output_activation) -> None:
    """Raise ActivationError unless both are known; only outputs may be a softmax group."""
    get_activation(activation)
    if output_activation != SOFTMAX:
        get_activation(output_activation)


def _assign_roles(G: nx.DiGraph, inputs: list, outputs: list, activation, output_activation) -> None:
    """Record inputs and outputs in ``G.graph`` and give every non-input node its activation."""
    G.graph["inputs"] = inputs
    G.graph["outputs"] = outputs
    input_set, output_set = set(inputs), set(outputs)
    for v, data in G.nodes(data=True):
        if v not in input_set:
            data["activation"] = output_activation if v in output_set else activation


def _layered_network(layer_sizes, activation, output_activation) -> tuple[nx.DiGraph, list[list[str]]]:
    """The unweighted fully connected layered network, and its layers of node names."""
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Iterable):
        raise GraphStructureError(f"layer_sizes must be a sequence of layer sizes like [2, 3, 1], got {layer_sizes!r}")
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise GraphStructureError(f"layer_sizes needs at least 2 entries (inputs, outputs), got {sizes!r}")
    for index, size in enumerate(sizes):
        _check_range(f"layer_sizes[{index}]", size, 1)
    _check_activations(activation, output_activation)
    hidden = [_numbered(f"h{layer}_", size) for layer, size in enumerate(sizes[1:-1], start=1)]
    layers = [_numbered("x", sizes[0]), *hidden, _numbered("y", sizes[-1])]
    G = nx.DiGraph()
    G.add_nodes_from(itertools.chain.from_iterable(layers))
    G.add_edges_from((u, v) for lower, upper in itertools.pairwise(layers) for u in lower for v in upper)
    _assign_roles(G, layers[0], layers[-1], activation, output_activation)
    return G, layers
