"""Irregular test networks shared by the Jacobian, Hessian and elimination tests."""

import networkx as nx
import numpy as np

from graphbp import irregular_network
from graphbp.generators import random_dag, skip_mlp


def softmax_network():
    """irregular_network with two softmax groups of two; output y1 (group a) also feeds h3."""
    G = irregular_network()
    G.add_weighted_edges_from([("h2", "y3", 0.4), ("h1", "y3", -0.7), ("h3", "y4", 0.9), ("x2", "y4", 0.3)])
    G.graph["outputs"] = ["y1", "y2", "y3", "y4"]
    for node, group in zip(["y1", "y2", "y3", "y4"], "abab"):
        G.nodes[node].update(activation="softmax", softmax_group=group, bias=0.1)
    return G


def odd_names_network():
    """Mixed node names (ints, tuples, strings), a skip x → y and three outputs."""
    G = nx.DiGraph()
    edges = [(("in", 0), 1, 0.7), (("in", 1), 1, -0.4), (1, "h", 1.1), (("in", 0), "h", 0.3), ("h", ("out", 0), -0.8),
             (1, ("out", 1), 0.6), (("in", 1), ("out", 2), 0.9), ("h", ("out", 2), 0.5), (("out", 0), ("out", 1), 0.4)]
    G.add_weighted_edges_from(edges)
    G.graph.update(inputs=[("in", 0), ("in", 1)], outputs=[("out", 0), ("out", 1), ("out", 2)])
    G.nodes[1].update(activation="softplus", bias=0.2)
    G.nodes["h"].update(activation="logistic", bias=-0.1)
    return G


def irregular_graphs():
    """(name, graph) pairs: skips, outputs feeding units, dead ends, multi-output heads, softmax groups."""
    return [
        ("irregular", irregular_network()),
        ("softmax", softmax_network()),
        ("odd_names", odd_names_network()),
        ("skip_mlp", skip_mlp([3, 4, 3, 2], p_skip=0.5, seed=3)),
        ("random_dag", random_dag(8, "erdos_renyi", n_inputs=3, n_outputs=3, seed=5, p=0.4)),
    ]


def sample_inputs(G, n, seed=0):
    inputs = G.graph.get("inputs") or [v for v in G if G.in_degree(v) == 0]
    return np.random.default_rng(seed).normal(size=(n, len(inputs)))


def softmax_twins(G, seed=0):
    """Give every output k a twin fed by k's predecessors, and make {k, twin} a softmax group of two.

    For a cross-entropy case whose outputs cannot share one group (an output feeds
    another) or that has a single output: a group of one has y = 1, so its loss and
    every gradient would be exactly 0 and a comparison of engines would compare 0 with 0.
    """
    rng = np.random.default_rng(seed)
    inputs = G.graph.get("inputs") or [v for v in G if G.in_degree(v) == 0]
    outputs = G.graph.get("outputs") or [v for v in G if G.out_degree(v) == 0]
    G.graph.update(inputs=list(inputs), outputs=[])
    for group, k in enumerate(outputs):
        twin = ("twin", k)
        G.add_weighted_edges_from((i, twin, float(rng.normal())) for i in list(G.predecessors(k)))
        for node in (k, twin):
            G.nodes[node].update(activation="softmax", softmax_group=group, bias=float(rng.normal(scale=0.5)))
        G.graph["outputs"] += [k, twin]
    return G
