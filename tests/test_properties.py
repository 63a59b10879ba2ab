"""Property-based tests on random small DAGs (hypothesis)."""

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graphbp import backprop, check_gradients, read_network

SMOOTH = ["tanh", "logistic", "softplus", "identity"]


@st.composite
def networks(draw, dead_end=False):
    """A random DAG: every non-input node has a predecessor among earlier nodes, so all are reachable,
    and every input and hidden unit reaches an output (but for the optional dead end)."""
    n_in = draw(st.integers(1, 3))
    n_hidden = draw(st.integers(0, 5))
    n_out = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    inputs = [f"x{i}" for i in range(n_in)]
    hidden = [("h", i) for i in range(n_hidden)]
    outputs = list(range(100, 100 + n_out))
    G = nx.DiGraph(inputs=inputs, outputs=outputs)
    G.add_nodes_from(inputs)
    earlier = list(inputs)
    for node in hidden + outputs:
        G.add_node(node, activation=SMOOTH[rng.integers(len(SMOOTH))], bias=float(rng.normal()))
        chosen = {earlier[rng.integers(len(earlier))]} | {u for u in earlier if rng.random() < 0.4}
        for u in chosen:
            G.add_edge(u, node, weight=float(rng.normal()))
        if node in hidden:
            earlier.append(node)
    for node in earlier:  # every input and hidden unit feeds something, so sources/sinks are the io lists
        if G.out_degree(node) == 0:
            G.add_edge(node, outputs[rng.integers(n_out)], weight=float(rng.normal()))
    if dead_end:
        G.add_edge(earlier[-1], "dead", weight=float(rng.normal()))
    X = rng.normal(size=(3, n_in))
    T = rng.normal(size=(3, n_out))
    return G, X, T


@settings(max_examples=40, deadline=None)
@given(networks())
def test_finite_differences_agree(case):
    G, X, T = case
    report = check_gradients(G, X, T)
    assert report.max_rel_error <= 1e-6, str(report)


@settings(max_examples=30, deadline=None)
@given(networks(dead_end=True))
def test_dead_end_delta_is_zero(case):
    G, X, T = case
    r = backprop(G, X, T)
    assert read_network(G).dead_ends == ("dead",)
    np.testing.assert_array_equal(r.delta["dead"], np.zeros(len(X)))
    assert all(r.grad_weight[(u, "dead")] == 0.0 for u in G.predecessors("dead"))


def _reinserted(G, rng, keep_io_lists):
    H = nx.DiGraph()
    if keep_io_lists:
        H.graph.update(G.graph)
    nodes = list(G.nodes(data=True))
    edges = list(G.edges(data=True))
    for k in rng.permutation(len(nodes)):
        H.add_node(nodes[k][0], **nodes[k][1])
    for k in rng.permutation(len(edges)):
        H.add_edge(edges[k][0], edges[k][1], **edges[k][2])
    return H


@settings(max_examples=30, deadline=None)
@given(networks(), st.integers(0, 1000))
def test_insertion_order_changes_nothing_with_listed_io(case, seed):
    G, X, T = case
    H = _reinserted(G, np.random.default_rng(seed), keep_io_lists=True)
    r, s = backprop(G, X, T), backprop(H, X, T)
    assert s.loss == np.float64(r.loss) or abs(s.loss - r.loss) <= 1e-12 * abs(r.loss)
    np.testing.assert_allclose(s.y, r.y, rtol=1e-12, atol=1e-14)
    for node in G:
        np.testing.assert_allclose(s.delta[node], r.delta[node], rtol=1e-11, atol=1e-14)
    for edge in G.edges:
        np.testing.assert_allclose(s.grad_weight[edge], r.grad_weight[edge], rtol=1e-11, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(networks(), st.integers(0, 1000))
def test_insertion_order_only_reorders_derived_outputs(case, seed):
    G, X, T = case
    G.graph.clear()  # inputs and outputs now follow node insertion order
    H = _reinserted(G, np.random.default_rng(seed), keep_io_lists=False)
    r = backprop(G, X[:, : len(read_network(G).inputs)], T)
    perm_in = [r.inputs.index(n) for n in read_network(H).inputs]
    perm_out = [r.outputs.index(n) for n in read_network(H).outputs]
    s = backprop(H, X[:, perm_in], T[:, perm_out])
    np.testing.assert_allclose(s.y, r.y[:, perm_out], rtol=1e-12, atol=1e-14)
    assert abs(s.loss - r.loss) <= 1e-12 * max(1.0, abs(r.loss))
    for node in G:
        np.testing.assert_allclose(s.delta[node], r.delta[node], rtol=1e-11, atol=1e-14)
