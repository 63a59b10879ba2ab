"""Fingerprints: what a reading of a graph, and every result computed on it, depends on.

:func:`graphbp.read_network` keeps the last reading of each graph and returns
it again while the graph's fingerprint is unchanged, and a pass's result
carries the fingerprint of the parameters it ran with, so explaining or
drawing it checks in O(V + E) comparisons that it belongs to the graph at hand.
"""

from __future__ import annotations

import networkx as nx

from .activations import registry_version

__all__ = ["fingerprint", "graph_fingerprint", "graph_activations", "graph_listed"]


def fingerprint(nodes, edges, listed) -> tuple:
    """What a pass's result must match: everything a reading of a graph depends on.

    `nodes` holds ``(node, bias, activation, softmax_group)`` in ``G``'s node
    order (bias 0 for inputs; the attributes as set on the graph, None where
    unset), `edges` ``(i, j, w_ji)`` in ``G.edges`` order, `listed` the
    ``G.graph`` inputs and outputs. The table's version is added. Compared with
    ``==``, so equal numbers match whatever their type (2 and 2.0), and the
    reference and compiled engines give equal fingerprints for equal parameters.
    """
    return (tuple(nodes), tuple(edges), listed, registry_version())


def graph_fingerprint(G, weight: str = "weight") -> tuple | None:
    """:func:`fingerprint` of a graph as it is now: one O(V + E) pass, no validation. None for a non-DiGraph."""
    if not isinstance(G, nx.DiGraph):
        return None
    # The plain dicts under G's views: several times faster than G.nodes(data=...) on every call.
    nodes = [(n, d.get("bias", 0.0), d.get("activation"), d.get("softmax_group")) for n, d in G._node.items()]
    edges = [(i, j, data.get(weight)) for i, successors in G._adj.items() for j, data in successors.items()]
    return fingerprint(nodes, edges, graph_listed(G))


def graph_activations(G) -> list:
    """``(activation, softmax_group)`` as set on each node of `G`, in node order (part of its :func:`fingerprint`)."""
    return [(d.get("activation"), d.get("softmax_group")) for d in G._node.values()]


def graph_listed(G) -> tuple:
    """``G.graph["inputs"]`` and ``["outputs"]`` as tuples (a list changed in place must not change a stored copy)."""
    return tuple(tuple(v) if isinstance(v, (list, tuple)) else v for v in (G.graph.get("inputs"), G.graph.get("outputs")))
