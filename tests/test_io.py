import copy
import json

import networkx as nx
import numpy as np
import pytest

from graphbp.activations import Activation
from graphbp.backward import backprop
from graphbp.exceptions import ParameterError, SerializationError
from graphbp.generators import from_edges, mlp, random_dag, skip_mlp
from graphbp.io import FORMAT_KEY, PlainNodeLinkWarning, from_json_data, read_json, to_json_data, write_json
from graph_snapshot import unchanged


def snapshot(G):
    """Node and edge order and attributes, every node's predecessor order, graph attributes."""
    return (
        list(G.nodes(data=True)),
        list(G.edges(data=True)),
        [list(G.predecessors(v)) for v in G],
        G.graph,
    )


def network(names, output_activation="softmax"):
    """A small network on the given node names, with biases, activations and mixed weights.

    Its node order is x1, h, x2, y1, y2, so G.edges lists (x1, y2) before (h, y2), while
    y2's predecessors are [h, x1]: replaying G.edges alone would reverse them.
    """
    x1, x2, h, y1, y2 = names
    G = from_edges(
        [(x1, h, 0.5), (x2, h, -1.25), (h, y1, 2.0), (x2, y1, 0.1), (h, y2, 1e-300), (x1, y2, -3.0)],
        output_activation=output_activation,
    )
    G.nodes[h]["bias"] = 0.3
    G.nodes[y2]["bias"] = -1.0
    return G


NAMES = {
    "str": ["x1", "x2", "h", "y1", "y2"],
    "int": [0, 1, 2, 3, 4],
    "tuple": [("x", 1), ("x", 2), ("h", (1, 1)), ("y", 1), ((("y",),), 2)],
    "mixed": ["x1", 7, ("h", 1), ("y", (1, "a")), -2],
}


def round_trip(G, tmp_path):
    path = tmp_path / "net.json"
    write_json(G, path)
    return read_json(path)


@pytest.mark.parametrize("kind", NAMES)
def test_round_trip_is_exact(kind, tmp_path):
    G = network(NAMES[kind])
    y2 = NAMES[kind][4]
    assert list(G.predecessors(y2)) == [NAMES[kind][2], NAMES[kind][0]]
    H = round_trip(G, tmp_path)
    assert snapshot(H) == snapshot(G)
    assert [type(v) for v in H] == [type(v) for v in G]
    assert H.graph["inputs"] == NAMES[kind][:2] and H.graph["outputs"] == NAMES[kind][3:]
    assert type(H) is nx.DiGraph


@pytest.mark.parametrize(
    "build",
    [lambda: mlp([3, 4, 2], seed=0), lambda: skip_mlp([2, 3, 3, 2], p_skip=0.5, seed=1),
     lambda: random_dag(30, "barabasi_albert", n_outputs=3, seed=2)],
    ids=["mlp", "skip_mlp", "random_dag"],
)
def test_round_trip_of_generated_networks(build, tmp_path):
    G = build()
    assert snapshot(round_trip(G, tmp_path)) == snapshot(G)


def test_predecessor_order_survives_even_where_edge_order_disagrees(tmp_path):
    # Nodes a, b, c exist first; c's in-edges are then added b first. G.edges lists
    # (a, c) before (b, c), so replaying G.edges would give c the predecessors [a, b].
    G = nx.DiGraph()
    G.add_nodes_from("abcd")
    G.add_edge("b", "c", weight=1.0)
    G.add_edge("a", "d", weight=2.0)
    G.add_edge("a", "c", weight=3.0)
    G.add_edge("b", "d", weight=4.0)
    assert list(G.predecessors("c")) == ["b", "a"]
    assert list(G.edges) == [("a", "d"), ("a", "c"), ("b", "c"), ("b", "d")]
    assert snapshot(round_trip(G, tmp_path)) == snapshot(G)


def test_file_is_networkx_node_link(tmp_path):
    G = mlp([2, 3, 2], output_activation="softmax", seed=0)
    G.nodes["h1_2"]["bias"] = 0.5
    path = tmp_path / "net.json"
    write_json(G, path)
    data = json.loads(path.read_text())
    assert data["graph"][FORMAT_KEY] == 1
    H = nx.node_link_graph(data, edges="edges")
    assert list(H.edges(data=True)) == list(G.edges(data=True))
    expected = nx.node_link_data(G, edges="edges")
    expected["graph"] = {**G.graph, FORMAT_KEY: 1}
    assert data == expected


def test_numpy_values_become_python_values():
    G = nx.DiGraph()
    G.add_edge("x", "y", weight=np.float64(0.5), count=np.int64(3), flag=np.bool_(True))
    G.nodes["y"]["bias"] = np.float32(0.25)
    G.nodes["y"]["z"] = np.array([[1.0, 2.0], [3.0, 4.0]])
    G.nodes["y"]["delta"] = np.arange(3)
    G.graph["note"] = ("a", 1)
    data = json.loads(json.dumps(to_json_data(G)))
    H = from_json_data(data)
    edge, y = H.edges["x", "y"], H.nodes["y"]
    assert edge == {"weight": 0.5, "count": 3, "flag": True}
    assert [type(value) for value in edge.values()] == [float, int, bool]
    assert y == {"bias": 0.25, "z": [[1.0, 2.0], [3.0, 4.0]], "delta": [0, 1, 2]}
    assert H.graph == {"note": ["a", 1]}  # only node names and inputs/outputs get their tuples back


def test_int_weight_is_saved_as_float():
    G = nx.DiGraph([("x", "y", {"weight": 2})])
    assert to_json_data(G)["edges"][0]["weight"] == 2.0
    assert isinstance(to_json_data(G)["edges"][0]["weight"], float)


def test_other_weight_attribute_name():
    G = nx.DiGraph([("x", "y", {"w": 2, "weight": "not checked"})])
    expected = {"w": 2.0, "weight": "not checked", "source": "x", "target": "y"}
    assert to_json_data(G, weight="w")["edges"][0] == expected
    with unchanged(G), pytest.raises(SerializationError, match=r"edge \('x', 'y'\): 'weight' must be a number"):
        to_json_data(G)


def test_to_json_data_does_not_touch_the_graph():
    G = network(NAMES["tuple"])
    before = copy.deepcopy(snapshot(G))
    to_json_data(G)
    assert snapshot(G) == before and FORMAT_KEY not in G.graph


# --- what cannot be written ----------------------------------------------------------


CUBE = Activation("cube", lambda a: a**3, lambda a: 3 * a**2)
NODE_H = "node 'h'"
EDGE_H_Y1 = r"edge \('h', 'y1'\)"


@pytest.mark.parametrize(
    ("where", "attrs", "culprit"),
    [("h", {"activation": CUBE}, f"{NODE_H}: activation Activation\\(name='cube'.*register_activation"),
     ("h", {"activation": np.tanh}, f"{NODE_H}: activation <ufunc 'tanh'>.*register_activation"),
     ("y1", {"bias": float("nan")}, "node 'y1': attribute 'bias' holds nan"),
     ("h", {"z": np.array([1.0, np.inf])}, f"{NODE_H}: attribute 'z' holds inf"),
     ("h", {"meta": {"fn": print}}, f"{NODE_H}, attribute 'meta': attribute 'fn' is a builtin"),
     ("h", {"meta": {1: 2}}, f"{NODE_H}, attribute 'meta': attribute name 1"),
     ("h", {"id": "h"}, f"{NODE_H}: attribute 'id' is a node-link key"),
     (("h", "y1"), {"weight": float("inf")}, f"{EDGE_H_Y1}: attribute 'weight' holds inf"),
     (("h", "y1"), {"weight": "0.5"}, f"{EDGE_H_Y1}: 'weight' must be a number, got '0.5'"),
     (("h", "y1"), {"weight": True}, f"{EDGE_H_Y1}: 'weight' must be a number, got True"),
     (("h", "y1"), {"weight": 1 + 2j}, f"{EDGE_H_Y1}: 'weight' must be a number"),
     (("h", "y1"), {"source": "h"}, f"{EDGE_H_Y1}: attribute 'source' is a node-link key"),
     (("x1", "h"), {"note": {1, 2}}, r"edge \('x1', 'h'\): attribute 'note' is a set"),
     ("graph", {"callback": print}, "the graph: attribute 'callback'")],
)
def test_unsavable_attributes_are_named(where, attrs, culprit, tmp_path):
    G = network(NAMES["str"])
    spoiled_dict = G.graph if where == "graph" else G.edges[where] if isinstance(where, tuple) else G.nodes[where]
    spoiled_dict.update(attrs)
    path = tmp_path / "net.json"
    with unchanged(G), pytest.raises(SerializationError, match=culprit):
        write_json(G, path)
    assert not path.exists()


def test_unsavable_node_name(tmp_path):
    G = network(NAMES["str"])
    G.add_edge("h", frozenset({"f"}))
    with unchanged(G), pytest.raises(SerializationError, match=r"node frozenset\(\{'f'\}\): its name is a frozenset"):
        write_json(G, tmp_path / "net.json")


@pytest.mark.parametrize("graph", [nx.Graph([(1, 2)]), nx.MultiDiGraph([(1, 2)])])
def test_only_digraphs_are_written(graph, tmp_path):
    with unchanged(graph), pytest.raises(SerializationError, match=type(graph).__name__):
        write_json(graph, tmp_path / "net.json")


def test_unwritable_path(tmp_path):
    with pytest.raises(SerializationError, match="no_dir"):
        write_json(mlp([1, 1], seed=0), tmp_path / "no_dir" / "net.json")


# --- what cannot be read -------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(SerializationError, match="absent.json.*cannot read"):
        read_json(tmp_path / "absent.json")


def test_malformed_json_says_where(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"graph": {\n  "inputs": [1, 2,,]\n}}')
    with pytest.raises(SerializationError, match="broken.json.*line 2, column 19"):
        read_json(path)


def test_binary_file(tmp_path):
    path = tmp_path / "net.bin"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(SerializationError, match="net.bin.*UTF-8"):
        read_json(path)


def valid_data():
    return to_json_data(network(NAMES["str"]))


def spoiled(**changes):
    return {**valid_data(), **changes}


@pytest.mark.parametrize(
    ("data", "culprit"),
    [([1, 2], FORMAT_KEY),
     ({**nx.node_link_data(nx.DiGraph([(1, 2)]), edges="edges"), "graph": [1]}, FORMAT_KEY),
     (nx.node_link_data(nx.Graph([(1, 2)]), edges="edges"), "directed"),
     (spoiled(graph={FORMAT_KEY: 2}), f"{FORMAT_KEY} is 2"),
     (spoiled(directed=False), "directed"),
     (spoiled(multigraph=True), "multigraph"),
     (spoiled(nodes={"id": "x"}), "'nodes'"),
     (spoiled(nodes=[{"name": "x"}]), r"'nodes'.*\['id'\]"),
     (spoiled(edges=[{"source": "x1"}]), r"'edges'.*\['source', 'target'\]"),
     (spoiled(edges=["x1"]), "'edges'"),
     (spoiled(nodes=[{"id": {"a": 1}}], edges=[]), "node name.*JSON object"),
     (spoiled(graph={FORMAT_KEY: 1, "inputs": "x1"}), "'inputs'"),
     (spoiled(graph={FORMAT_KEY: 1, "outputs": 3}), "'outputs'")],
)
def test_not_a_graphbp_network(data, culprit, tmp_path):
    with pytest.raises(SerializationError, match=culprit):
        from_json_data(data)
    path = tmp_path / "other.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SerializationError, match=f"other.json.*{culprit}"):
        read_json(path)


# --- backprop does not see the difference --------------------------------------------


@pytest.mark.parametrize(
    "build",
    [*(lambda names=names: network(names, output_activation="identity") for names in NAMES.values()),
     # Skips are added after the layered edges: most predecessor orders disagree with G.edges.
     lambda: skip_mlp([4, 6, 6, 6, 3], p_skip=0.5, seed=0)],
    ids=[*NAMES, "skip_mlp"],
)
def test_backprop_identical_after_round_trip(build, tmp_path):
    G = build()
    H = round_trip(G, tmp_path)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, len(G.graph["inputs"])))
    t = rng.standard_normal((5, len(G.graph["outputs"])))
    before, after = backprop(G, x, t, loss="sse"), backprop(H, x, t, loss="sse")
    assert after.loss == before.loss
    assert before.delta.keys() == after.delta.keys() and before.grad_weight.keys() == after.grad_weight.keys()
    for node in before.delta:
        np.testing.assert_array_equal(after.delta[node], before.delta[node])
    for edge in before.grad_weight:
        assert after.grad_weight[edge] == before.grad_weight[edge]


# --- plain networkx node-link data ---------------------------------------------------


@pytest.mark.parametrize("edges_key", ["edges", "links"])
@pytest.mark.parametrize("kind", ["str", "mixed"])
def test_plain_node_link_data_loads_with_a_warning(kind, edges_key, tmp_path):
    G = network(NAMES[kind], output_activation="identity")
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(nx.node_link_data(G, edges=edges_key)))  # tuples become lists
    with pytest.warns(PlainNodeLinkWarning, match=f"no '{FORMAT_KEY}'.*'weight'"):
        H = read_json(path)
    assert list(H.nodes(data=True)) == list(G.nodes(data=True)) and H.graph == G.graph
    assert sorted(H.edges(data=True), key=repr) == sorted(G.edges(data=True), key=repr)
    x, t = [[0.5, -1.0], [2.0, 0.25]], [[1.0, 0.0], [0.0, -1.0]]
    before, after = backprop(G, x, t), backprop(H, x, t)
    # No predecessor order in plain data: the same sums, perhaps added in another order.
    assert after.loss == pytest.approx(before.loss, rel=1e-14)
    for edge, value in before.grad_weight.items():
        assert after.grad_weight[edge] == pytest.approx(value, rel=1e-12, abs=1e-300)


def test_plain_node_link_data_without_weights_names_the_edge():
    data = json.loads(json.dumps(nx.node_link_data(nx.DiGraph([("x", ("h", 1)), (("h", 1), "y")]), edges="edges")))
    data["edges"][0]["weight"] = 0.5
    with pytest.warns(PlainNodeLinkWarning):
        H = from_json_data(data)
    assert H.nodes[("h", 1)] == {} and H.graph == {}
    with pytest.raises(ParameterError, match=r"edge \(\('h', 1\), 'y'\) has no 'weight'"):
        backprop(H, [1.0], [0.0])
