"""The reference passes on hand-checkable networks and on irregular topologies."""

import math

import networkx as nx
import numpy as np
import pytest

from graphbp import backprop, bishop_network, check_gradients, irregular_network, read_network, write_result
from torch_engine import assert_matches_torch


def test_bishop_section_5_3_2_by_hand():
    """Bishop §5.3.2: tanh hidden layer, linear outputs, sum-of-squares; every number worked out below."""
    G = bishop_network()
    x1, x2 = 1.0, -2.0
    t1, t2 = 0.5, -0.5
    # eq. 5.62: a_j = Σ_i w_ji x_i, z_j = tanh(a_j) — weights as set in bishop_network()
    a = {"z1": 0.5 * x1 - 0.3 * x2, "z2": 0.2 * x1 + 0.8 * x2, "z3": -0.6 * x1 + 0.4 * x2}
    assert a == pytest.approx({"z1": 1.1, "z2": -1.4, "z3": -1.4})
    z = {j: math.tanh(v) for j, v in a.items()}
    # eq. 5.64: y_k = Σ_j w_kj z_j
    y1 = 0.7 * z["z1"] - 0.2 * z["z2"] + 0.5 * z["z3"]
    y2 = -0.4 * z["z1"] + 0.9 * z["z2"] + 0.3 * z["z3"]
    # eq. 5.65: δ_k = y_k − t_k; eq. 5.66: δ_j = (1 − z_j²) Σ_k w_kj δ_k
    d1, d2 = y1 - t1, y2 - t2
    delta = {
        "z1": (1 - z["z1"] ** 2) * (0.7 * d1 - 0.4 * d2),
        "z2": (1 - z["z2"] ** 2) * (-0.2 * d1 + 0.9 * d2),
        "z3": (1 - z["z3"] ** 2) * (0.5 * d1 + 0.3 * d2),
    }
    result = backprop(G, [x1, x2], [t1, t2])
    assert result.loss == pytest.approx(0.5 * (d1**2 + d2**2), rel=1e-14)
    assert result.y == pytest.approx([y1, y2], rel=1e-14)
    assert result.delta["y1"] == pytest.approx(d1, rel=1e-14)
    assert result.delta["y2"] == pytest.approx(d2, rel=1e-14)
    for j in ("z1", "z2", "z3"):
        assert result.a[j] == pytest.approx(a[j], rel=1e-14)
        assert result.delta[j] == pytest.approx(delta[j], rel=1e-14)
    # eq. 5.67: ∂E/∂w_ji = δ_j x_i (first layer) and δ_k z_j (second layer)
    assert result.grad_weight[("x2", "z3")] == pytest.approx(delta["z3"] * x2, rel=1e-14)
    assert result.grad_weight[("z1", "y2")] == pytest.approx(d2 * z["z1"], rel=1e-14)
    # and the numbers themselves, to 6 digits by calculator: tanh(1.1) = 0.800499, tanh(-1.4) = -0.885352,
    # y1 = 0.560349 + 0.177070 - 0.442676, y2 = -0.320200 - 0.796817 - 0.265606,
    # δ_z1 = (1 - 0.800499²)(0.7·(-0.205256) - 0.4·(-0.882622)) = 0.359201 · 0.209370
    assert result.y == pytest.approx([0.294744, -1.382622], abs=2e-6)
    assert result.delta["z1"] == pytest.approx(0.075207, abs=2e-6)


def test_batch_equals_samples_one_by_one():
    G = irregular_network()
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    batch = backprop(G, X, T)
    singles = [backprop(G, X[n], T[n]) for n in range(5)]
    assert batch.loss == pytest.approx(sum(s.loss for s in singles), rel=1e-13)
    for node in G:
        np.testing.assert_allclose(batch.delta[node], [s.delta[node] for s in singles], rtol=1e-13)
        assert isinstance(singles[0].delta[node], float)
    for edge in G.edges:
        assert batch.grad_weight[edge] == pytest.approx(sum(s.grad_weight[edge] for s in singles), rel=1e-12)
    assert singles[0].y.shape == (2,) and batch.y.shape == (5, 2)


def _chain():
    G = nx.DiGraph()
    nx.add_path(G, ["in", "a", "b", "c", "out"])
    for u, v in G.edges:
        G.edges[u, v]["weight"] = 0.9
    return G


def _diamond():
    G = nx.DiGraph()
    G.add_weighted_edges_from([("x", "l", 0.7), ("x", "r", -1.1), ("l", "y", 0.8), ("r", "y", 0.6)])
    G.nodes["l"]["activation"] = "logistic"
    return G


def _three_depths():
    # h feeds u (depth 2), v (depth 3, via u too) and the output y directly.
    G = nx.DiGraph()
    G.add_weighted_edges_from(
        [("x1", "h", 0.5), ("x2", "h", -0.4), ("h", "u", 1.2), ("u", "v", -0.7), ("h", "v", 0.3),
         ("v", "y", 1.1), ("h", "y", -0.9), ("x1", "y", 0.2)]
    )
    G.nodes["u"]["activation"] = "softplus"
    return G


def _int_and_tuple_names():
    G = nx.DiGraph(inputs=[0, (1, "b")], outputs=[(9,), 7])
    G.add_weighted_edges_from(
        [(0, 3, 0.4), ((1, "b"), 3, -0.8), (3, (9,), 1.3), (0, (9,), 0.5), (3, 7, -0.6), ((9,), 7, 0.9)]
    )
    G.nodes[3]["activation"] = "leaky_relu"
    return G


TOPOLOGIES = {
    "irregular": irregular_network,
    "bishop": bishop_network,
    "chain": _chain,
    "diamond": _diamond,
    "three_depths": _three_depths,
    "int_and_tuple_names": _int_and_tuple_names,
}


@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
def test_finite_differences_and_torch_agree(name, torch):
    G = TOPOLOGIES[name]()
    rng = np.random.default_rng(len(name))
    net = read_network(G)
    n_in, n_out = len(net.inputs), len(net.outputs)
    X, T = rng.normal(size=(4, n_in)), rng.normal(size=(4, n_out))
    report = check_gradients(G, X, T)
    assert report.max_rel_error <= 1e-6, str(report)
    assert_matches_torch(torch, G, backprop(G, X, T), X, T, "sse")


def test_output_that_feeds_another_node_gets_both_terms():
    G = irregular_network()
    x, t = [0.3, -0.7], [0.2, 0.9]
    r = backprop(G, x, t)
    # y1 is an output (identity) that also feeds h3: δ_y1 = (y1 − t1) + w_{h3,y1} δ_h3
    assert r.delta["y1"] == pytest.approx((r.y[0] - t[0]) + 0.5 * r.delta["h3"], rel=1e-14)
    assert r.delta["d"] == 0.0


def test_softmax_groups_cross_entropy(torch):
    G = nx.DiGraph(outputs=["p1", "p2", "p3", "q1", "q2"])
    rng = np.random.default_rng(3)
    for h in ("h1", "h2"):
        for x in ("x1", "x2"):
            G.add_edge(x, h, weight=rng.normal())
    for k in ("p1", "p2", "p3", "q1", "q2"):
        G.add_node(k, activation="softmax", softmax_group=k[0], bias=rng.normal())
        for h in ("h1", "h2"):
            G.add_edge(h, k, weight=rng.normal())
    G.add_edge("x1", "q2", weight=0.4)  # a skip into one group
    X = rng.normal(size=(6, 2))
    T = np.zeros((6, 5))
    T[np.arange(6), rng.integers(0, 3, 6)] = 1
    T[np.arange(6), 3 + rng.integers(0, 2, 6)] = 1
    r = backprop(G, X, T, loss="ce")
    # each group's outputs sum to 1; one-hot targets make δ_k = y_k − t_k (eq. 5.54)
    np.testing.assert_allclose(r.y[:, :3].sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(r.y[:, 3:].sum(axis=1), 1.0, rtol=1e-14)
    for k, node in enumerate(r.outputs):
        np.testing.assert_allclose(r.delta[node], r.y[:, k] - T[:, k], rtol=1e-12, atol=1e-15)
    assert check_gradients(G, X, T, loss="ce").max_rel_error <= 1e-6
    assert_matches_torch(torch, G, r, X, T, "ce")


def test_softmax_output_feeding_another_output(torch):
    G = nx.DiGraph(outputs=["p1", "p2", "y"])
    G.add_weighted_edges_from([("x", "p1", 0.8), ("x", "p2", -0.5), ("p1", "y", 1.5), ("x", "y", 0.3)])
    G.nodes["p1"]["activation"] = G.nodes["p2"]["activation"] = "softmax"
    G.nodes["y"]["activation"] = "softmax"
    G.nodes["y"]["softmax_group"] = "other"
    G.add_edge("x", "y0", weight=0.2)
    G.nodes["y0"].update(activation="softmax", softmax_group="other")
    G.graph["outputs"] = ["p1", "p2", "y", "y0"]
    X = np.array([[0.4], [-1.2], [2.0]])
    T = np.array([[1, 0, 0, 1], [0, 1, 1, 0], [0.3, 0.7, 0.5, 0.5]], dtype=float)
    r = backprop(G, X, T, loss="cross_entropy")
    assert check_gradients(G, X, T, loss="ce").max_rel_error <= 1e-6
    assert_matches_torch(torch, G, r, X, T, "ce")


def test_binary_cross_entropy_is_canonical(torch):
    G = nx.DiGraph()
    G.add_weighted_edges_from([("x1", "h", 1.0), ("x2", "h", -2.0), ("h", "y1", 0.7), ("h", "y2", -0.3), ("x1", "y2", 2.0)])
    for k in ("y1", "y2"):
        G.nodes[k]["activation"] = "logistic"
    X = np.array([[0.5, 0.1], [-3.0, 4.0]])
    T = np.array([[1.0, 0.0], [0.25, 1.0]])
    r = backprop(G, X, T, loss="bce")
    np.testing.assert_allclose(r.delta["y1"], r.y[:, 0] - T[:, 0], rtol=1e-13)
    y = r.y
    by_hand = -(T * np.log(y) + (1 - T) * np.log(1 - y)).sum()
    assert r.loss == pytest.approx(by_hand, rel=1e-12)
    assert_matches_torch(torch, G, r, X, T, "bce")


def test_bce_stays_finite_for_saturated_logits():
    G = nx.DiGraph([("x", "y", {"weight": 1.0})])
    G.nodes["y"]["activation"] = "logistic"
    r = backprop(G, [[800.0], [-800.0]], [[0.0], [1.0]], loss="bce")
    assert r.loss == pytest.approx(1600.0)
    np.testing.assert_allclose(r.delta["y"], [1.0, -1.0])


def test_custom_activation_object_and_registered_name(torch):
    import graphbp

    cube = graphbp.Activation("cube", lambda a: a**3 / 3, lambda a: a**2, lambda a: 2 * a)
    G = nx.DiGraph([("x", "h", {"weight": 0.5}), ("h", "y", {"weight": 2.0})])
    G.nodes["h"]["activation"] = cube
    r = backprop(G, [3.0], [0.0])
    # a_h = 1.5, z_h = 1.125, y = 2.25, δ_y = 2.25, δ_h = 1.5² · 2 · 2.25
    assert (r.z["h"], r.y[0], r.delta["h"]) == pytest.approx((1.125, 2.25, 10.125))
    graphbp.register_activation("sine", np.sin, np.cos, lambda a: -np.sin(a))
    G.nodes["h"]["activation"] = "sine"
    assert check_gradients(G, [[0.3], [1.1]], [[1.0], [0.0]]).max_rel_error <= 1e-6


def test_constant_unit_without_predecessors():
    G = nx.DiGraph(inputs=["x"])
    G.add_weighted_edges_from([("x", "y", 2.0), ("c", "y", 3.0)])
    G.nodes["c"].update(bias=0.5, activation="identity")
    r = backprop(G, [[1.0], [2.0]], [[0.0], [0.0]])
    np.testing.assert_allclose(r.a["c"], [0.5, 0.5])
    np.testing.assert_allclose(r.y[:, 0], [3.5, 5.5])
    assert r.grad_bias["c"] == pytest.approx(3.0 * (3.5 + 5.5))


def test_write_result_stores_attributes():
    G = irregular_network()
    r = backprop(G, [[0.1, 0.2], [0.3, -0.4]], [[0.0, 1.0], [1.0, 0.0]])
    write_result(G, r, sample=1)
    assert G.nodes["h2"]["delta"] == r.delta["h2"][1]
    assert G.nodes["h2"]["z"] == r.z["h2"][1]
    assert G.edges["h1", "h3"]["grad"] == r.grad_weight[("h1", "h3")]
    assert G.nodes["y2"]["grad_bias"] == r.grad_bias["y2"]
    write_result(G, r)
    np.testing.assert_array_equal(G.nodes["h2"]["delta"], r.delta["h2"])
    # written attributes do not disturb a later pass
    assert backprop(G, [0.1, 0.2], [0.0, 1.0]).loss == pytest.approx(r.sample_loss[0])


def test_reference_leaves_graph_untouched():
    G = irregular_network()
    before = nx.node_link_data(G, edges="edges")
    backprop(G, [0.1, 0.2], [0.0, 1.0])
    check_gradients(G, [0.1, 0.2], [0.0, 1.0])
    assert nx.node_link_data(G, edges="edges") == before
