"""Small named networks with fixed weights, for the demo, the figures and the docs."""

from __future__ import annotations

import networkx as nx

__all__ = ["bishop_network", "irregular_network"]


def bishop_network() -> nx.DiGraph:
    """The two-layer network of Bishop PRML §5.3.2: 2 inputs, 3 tanh hidden units, 2 linear outputs.

    Weights are fixed small values chosen for hand calculation; biases are 0.

    Examples
    --------
    >>> G = bishop_network()
    >>> G.graph["inputs"], G.graph["outputs"], G.number_of_edges()
    (['x1', 'x2'], ['y1', 'y2'], 12)
    """
    G = nx.DiGraph(inputs=["x1", "x2"], outputs=["y1", "y2"])
    first = {"z1": (0.5, -0.3), "z2": (0.2, 0.8), "z3": (-0.6, 0.4)}
    second = {"y1": (0.7, -0.2, 0.5), "y2": (-0.4, 0.9, 0.3)}
    for j, weights in first.items():
        G.add_node(j, activation="tanh", bias=0.0)
        for i, w in zip(["x1", "x2"], weights):
            G.add_edge(i, j, weight=w)
    for k, weights in second.items():
        G.add_node(k, activation="identity", bias=0.0)
        for j, w in zip(first, weights):
            G.add_edge(j, k, weight=w)
    return G


def irregular_network() -> nx.DiGraph:
    """A small network that no layered picture fits.

    A skip connection x1 → y1, a hidden unit h1 feeding three units at
    different depths (h2, h3, y2), an output y1 that also feeds h3, and a
    dead-end unit d that reaches no output (its δ is 0).

    Examples
    --------
    >>> G = irregular_network()
    >>> sorted(G.successors("h1"))
    ['h2', 'h3', 'y2']
    """
    G = nx.DiGraph(inputs=["x1", "x2"], outputs=["y1", "y2"])
    G.add_nodes_from(["x1", "x2"])
    G.add_node("h1", activation="tanh", bias=0.1)
    G.add_node("h2", activation="logistic", bias=-0.2)
    G.add_node("y1", activation="identity", bias=0.05)
    G.add_node("h3", activation="tanh", bias=0.0)
    G.add_node("d", activation="relu", bias=0.3)
    G.add_node("y2", activation="identity", bias=-0.1)
    G.add_weighted_edges_from(
        [
            ("x1", "h1", 0.8), ("x2", "h1", -0.5), ("x2", "h2", 0.6), ("h1", "h2", 1.1),
            ("x1", "y1", 0.4), ("h2", "y1", -0.9), ("h1", "h3", 0.7), ("y1", "h3", 0.5),
            ("h2", "h3", -0.3), ("h1", "y2", -0.6), ("h3", "y2", 1.2), ("h2", "d", 0.9),
        ]
    )
    return G
