"""The path-sum view and forward mode give backprop's δ on irregular graphs."""

import networkx as nx
import numpy as np
import pytest

from graphbp import GraphBPError, GraphStructureError, backprop, irregular_network
from graphbp.generators import random_dag, skip_mlp
from graphbp.paths import count_paths, forward_mode, output_paths, path_sum
from graph_snapshot import unchanged


def _graphs():
    deep_supervision = nx.DiGraph(inputs=["x"], outputs=["y1", "y2"])
    deep_supervision.add_weighted_edges_from([("x", "h", 0.7), ("h", "y1", -1.2), ("y1", "g", 0.9),
                                              ("g", "y2", 1.5), ("h", "y2", 0.4), ("x", "y2", -0.3)])
    deep_supervision.nodes["g"]["activation"] = "logistic"
    return {
        "irregular": irregular_network(),
        "output feeds another": deep_supervision,
        "skip_mlp": skip_mlp([3, 4, 4, 2], p_skip=0.5, seed=3),
        "randwire": random_dag(14, "watts_strogatz", n_inputs=2, n_outputs=2, seed=5),
        "int and tuple names": nx.relabel_nodes(irregular_network(), {"h1": 1, "h2": (2, "b"), "h3": 3.5}),
    }


def _sample(G, seed):
    rng = np.random.default_rng(seed)
    inputs, outputs = G.graph["inputs"], G.graph["outputs"]
    return rng.normal(size=(3, len(inputs))), rng.normal(size=(3, len(outputs)))


@pytest.mark.parametrize("name", list(_graphs()))
def test_path_sum_and_forward_mode_equal_delta(name):
    G = _graphs()[name]
    x, t = _sample(G, 1)
    result = backprop(G, x, t)
    for node in G:
        for sample in (0, 2):
            expected = result.delta[node][sample]
            summed = path_sum(G, result, node, sample=sample)
            assert summed.total == pytest.approx(expected, rel=1e-12, abs=1e-14)
            assert forward_mode(G, result, node, sample=sample).total == pytest.approx(expected, rel=1e-12, abs=1e-14)
    assert sum(abs(result.delta[node][0]) > 1e-3 for node in G) >= 3  # enough non-zero δ to compare


def test_path_products_by_hand_on_deep_supervision():
    G = _graphs()["output feeds another"]
    result = backprop(G, [0.5], [0.2, -0.1])
    a = result.a
    dy1, dy2 = result.y[0] - 0.2, result.y[1] + 0.1       # direct terms of the linear outputs
    tanh_h = 1 - np.tanh(a["h"]) ** 2
    sig = 1 / (1 + np.exp(-a["g"]))
    summed = path_sum(G, result, "h")
    assert summed.paths == (("h", "y1"), ("h", "y1", "g", "y2"), ("h", "y2"))
    expected = [tanh_h * -1.2 * dy1, tanh_h * -1.2 * 1.0 * 0.9 * sig * (1 - sig) * 1.5 * dy2, tanh_h * 0.4 * dy2]
    assert summed.products == pytest.approx(expected, rel=1e-12)
    assert summed.total == pytest.approx(result.delta["h"], rel=1e-12)


@pytest.mark.parametrize("name", list(_graphs()))
def test_dp_count_equals_enumeration(name):
    G = _graphs()[name]
    counts = count_paths(G)
    for node in G:
        paths = output_paths(G, node)
        assert counts[node] == count_paths(G, node) == len(paths) == len(set(paths))
        outputs = set(G.graph["outputs"])
        assert all(p[0] == node and p[-1] in outputs for p in paths)
        assert all(G.has_edge(u, v) for p in paths for u, v in zip(p, p[1:]))


def test_count_by_hand_and_cap():
    G = irregular_network()
    assert count_paths(G, "h1") == 5      # h1→h2→y1, h1→h2→y1→h3→y2, h1→h2→h3→y2, h1→h3→y2, h1→y2
    assert count_paths(G, "d") == 0
    assert count_paths(G, "y1") == 2      # ends at y1, and y1→h3→y2
    with (
        unchanged(G),
        pytest.raises(GraphBPError, match=r"node 'x1' has 7 paths to the outputs, more than max_paths=3"),
    ):
        output_paths(G, "x1", max_paths=3)
    with unchanged(G), pytest.raises(GraphStructureError, match="node 'nope' is not in the graph"):
        count_paths(G, "nope")
    with unchanged(G), pytest.raises(GraphStructureError, match="node 'nope' is not in the graph"):
        forward_mode(G, backprop(G, [0.0, 1.0], [0.0, 0.0]), "nope")


def test_forward_mode_tangents_by_hand():
    G = nx.DiGraph([("x", "h", {"weight": 2.0}), ("h", "y", {"weight": -3.0}), ("x", "y", {"weight": 0.5})])
    result = backprop(G, [0.4], [1.0])
    slope = 1 - np.tanh(0.8) ** 2
    tangents = forward_mode(G, result, "x").tangents
    assert tangents == pytest.approx({"x": 1.0, "h": 2.0, "y": 0.5 + 2.0 * slope * -3.0}, rel=1e-14)
    assert forward_mode(G, result, "h").tangents == pytest.approx({"h": 1.0, "y": -3.0 * slope}, rel=1e-14)


def test_softmax_outputs_forward_mode_and_paths():
    G = nx.DiGraph(inputs=["x1", "x2"], outputs=["c1", "c2", "c3"])
    rng = np.random.default_rng(0)
    for i in ("x1", "x2"):
        for h in ("h1", "h2"):
            G.add_edge(i, h, weight=float(rng.normal()))
    for h in ("h1", "h2"):
        for c in ("c1", "c2", "c3"):
            G.add_edge(h, c, weight=float(rng.normal()))
    for c in ("c1", "c2", "c3"):
        G.nodes[c]["activation"] = "softmax"
    result = backprop(G, [[0.3, -0.7]], [[0.0, 1.0, 0.0]], loss="cross_entropy")
    for node in ("x1", "h1", "h2", "c2"):
        assert path_sum(G, result, node).total == pytest.approx(result.delta[node][0], rel=1e-12)
        assert forward_mode(G, result, node).total == pytest.approx(result.delta[node][0], rel=1e-12)
