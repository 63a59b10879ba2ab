import copy

import networkx as nx
import numpy as np
import pytest

from graphbp.activations import get_activation
from graphbp.exceptions import ActivationError, GraphStructureError
from graphbp.generators import from_edges, initialize_weights, mlp, random_dag, skip_mlp
from graph_snapshot import unchanged

KINDS = ["watts_strogatz", "erdos_renyi", "barabasi_albert"]

BUILDERS = {
    "mlp": lambda seed: mlp([3, 4, 4, 2], seed=seed),
    "skip_mlp": lambda seed: skip_mlp([3, 4, 4, 2], p_skip=0.5, seed=seed),
    "from_edges": lambda seed: from_edges([("a", "b"), ("a", "c", 0.25), ("b", "c"), ("b", "d")], seed=seed),
    **{kind: (lambda seed, kind=kind: random_dag(12, kind, seed=seed)) for kind in KINDS},
}


def snapshot(G):
    """Everything that makes two networks the same: orders, attributes, graph attributes."""
    return list(G.nodes(data=True)), list(G.edges(data=True)), G.graph


def weights(G):
    return np.array([w for _, _, w in G.edges(data="weight")])


# --- determinism -----------------------------------------------------------------


@pytest.mark.parametrize("name", BUILDERS)
def test_same_seed_same_graph(name):
    assert snapshot(BUILDERS[name](7)) == snapshot(BUILDERS[name](7))


@pytest.mark.parametrize("name", BUILDERS)
def test_different_seeds_differ(name):
    assert not np.array_equal(weights(BUILDERS[name](7)), weights(BUILDERS[name](8)))


@pytest.mark.parametrize("name", BUILDERS)
def test_every_builder_gives_a_weighted_dag(name):
    G = BUILDERS[name](0)
    assert nx.is_directed_acyclic_graph(G)
    assert all(isinstance(w, float) and np.isfinite(w) for w in weights(G))
    inputs, outputs = G.graph["inputs"], G.graph["outputs"]
    assert all(G.in_degree(x) == 0 and "activation" not in G.nodes[x] for x in inputs)
    assert all(G.nodes[y]["activation"] == "identity" for y in outputs)
    hidden = set(G) - set(inputs) - set(outputs)
    assert all(G.nodes[v]["activation"] == "tanh" for v in hidden)
    assert not any("bias" in data for _, data in G.nodes(data=True))


def test_generator_seed_is_consumed_deterministically():
    assert snapshot(skip_mlp([2, 3, 3, 1], seed=np.random.default_rng(3))) == snapshot(
        skip_mlp([2, 3, 3, 1], seed=np.random.default_rng(3))
    )


# --- initialize_weights --------------------------------------------------------------


def test_initialize_weights_keeps_user_weights_and_fills_the_rest():
    G = nx.DiGraph()
    G.add_edge("x1", "h", weight=0.5)
    G.add_edge("x2", "h")
    G.add_edge("h", "y", weight=-2.0)
    G.add_edge("x1", "y", weight=None)  # None counts as missing
    initialize_weights(G, seed=1)
    assert G.edges["x1", "h"]["weight"] == 0.5
    assert G.edges["h", "y"]["weight"] == -2.0
    assert isinstance(G.edges["x2", "h"]["weight"], float)
    assert isinstance(G.edges["x1", "y"]["weight"], float)
    # A second call has nothing left to fill.
    before = copy.deepcopy(snapshot(G))
    initialize_weights(G, seed=2)
    assert snapshot(G) == before


def test_initialize_weights_draws_in_edge_order_from_the_seed():
    G = nx.DiGraph([("a", "c"), ("b", "c"), ("c", "d")])
    initialize_weights(G, seed=5)
    # Nodes a, c, b, d, so G.edges is (a, c), (c, d), (b, c), with fan-ins 2, 1, 2:
    # standard normal draws in that order, scaled by 1/sqrt(fan_in).
    assert list(G.edges) == [("a", "c"), ("c", "d"), ("b", "c")]
    expected = np.random.default_rng(5).standard_normal(3) / np.sqrt([2.0, 1.0, 2.0])
    np.testing.assert_array_equal(weights(G), expected)


def test_initialize_weights_overwrite_redraws_everything():
    G = mlp([2, 2], seed=0)
    G.edges["x1", "y1"]["weight"] = 100.0
    initialize_weights(G, seed=0, overwrite=True)
    assert snapshot(G) == snapshot(mlp([2, 2], seed=0))


def test_initialize_weights_other_attribute_name():
    G = nx.DiGraph([("a", "b")])
    initialize_weights(G, seed=0, weight="w")
    assert list(G.edges["a", "b"]) == ["w"]


def test_initialize_weights_returns_the_same_graph():
    G = nx.DiGraph([("a", "b")])
    assert initialize_weights(G, seed=0) is G


def test_fan_in_variance_is_plausible():
    # Edges into the 300 hidden units have fan-in 200, into the 10 outputs 300:
    # w * sqrt(fan_in) is standard normal, so its mean is 0 and its square's mean is 1
    # (63000 samples: standard errors 0.004 and 0.006).
    G = mlp([200, 300, 10], seed=0)
    scaled = np.array([w * np.sqrt(G.in_degree(j)) for _, j, w in G.edges(data="weight")])
    assert scaled.size == 200 * 300 + 300 * 10
    assert abs(scaled.mean()) < 0.03
    assert abs((scaled**2).mean() - 1.0) < 0.03


@pytest.mark.parametrize("graph", [nx.Graph([(1, 2)]), nx.MultiDiGraph([(1, 2)])])
def test_initialize_weights_rejects_other_graph_types(graph):
    with unchanged(graph), pytest.raises(GraphStructureError, match=type(graph).__name__):
        initialize_weights(graph)


# --- mlp and skip_mlp ----------------------------------------------------------------


def test_mlp_names_and_counts():
    G = mlp([2, 3, 2], seed=0)
    assert list(G) == ["x1", "x2", "h1_1", "h1_2", "h1_3", "y1", "y2"]
    assert G.number_of_edges() == 2 * 3 + 3 * 2 == 12
    assert G.graph == {"inputs": ["x1", "x2"], "outputs": ["y1", "y2"]}
    assert list(G.successors("x2")) == ["h1_1", "h1_2", "h1_3"]
    assert list(G.predecessors("y2")) == ["h1_1", "h1_2", "h1_3"]


def test_mlp_two_hidden_layers_and_no_hidden_layer():
    G = mlp([1, 2, 3, 1], seed=0)
    assert list(G) == ["x1", "h1_1", "h1_2", "h2_1", "h2_2", "h2_3", "y1"]
    assert G.number_of_edges() == 1 * 2 + 2 * 3 + 3 * 1 == 11
    assert set(mlp([2, 2]).edges) == {("x1", "y1"), ("x1", "y2"), ("x2", "y1"), ("x2", "y2")}


def test_mlp_activations():
    G = mlp([2, 3, 2], activation="relu", output_activation="softmax")
    assert [G.nodes[v].get("activation") for v in G] == [None] * 2 + ["relu"] * 3 + ["softmax"] * 2
    linear = get_activation("identity")  # an Activation object is accepted too
    assert mlp([1, 1], output_activation=linear).nodes["y1"]["activation"] is linear


def test_skip_mlp_extremes():
    # [2, 3, 2]: the only skips go from the 2 inputs to the 2 outputs.
    assert set(skip_mlp([2, 3, 2], p_skip=0.0, seed=0).edges) == set(mlp([2, 3, 2]).edges)
    assert skip_mlp([2, 3, 2], p_skip=1.0, seed=0).number_of_edges() == 12 + 2 * 2
    # [2, 3, 3, 2]: layered 6 + 9 + 6 = 21; skips 0->2: 6, 0->3: 4, 1->3: 6.
    G = skip_mlp([2, 3, 3, 2], p_skip=1.0, seed=0)
    assert G.number_of_edges() == 21 + 6 + 4 + 6 == 37
    assert G.has_edge("x1", "h2_1") and G.has_edge("x1", "y2") and G.has_edge("h1_3", "y1")


def test_skip_mlp_only_adds_skips_of_two_or_more_layers():
    layered = set(mlp([3, 4, 4, 4, 2]).edges)
    G = skip_mlp([3, 4, 4, 4, 2], p_skip=0.5, seed=3)
    skips = set(G.edges) - layered
    assert layered <= set(G.edges)
    assert 0 < len(skips) < 12 + 12 + 6 + 16 + 8 + 8  # some, but not all, of the candidates
    prefixes = ["x", "h1_", "h2_", "h3_", "y"]
    layer_of = {v: index for index, prefix in enumerate(prefixes) for v in G if v.startswith(prefix)}
    assert all(layer_of[v] >= layer_of[u] + 2 for u, v in skips)


@pytest.mark.parametrize("builder", [mlp, skip_mlp])
@pytest.mark.parametrize(
    ("layer_sizes", "culprit"),
    [([3], r"\[3\]"),
     ([], r"\[\]"),
     ([2, 0, 1], r"layer_sizes\[1\].*0"),
     ([2, -1], r"layer_sizes\[1\].*-1"),
     ([2, 2.5], r"layer_sizes\[1\].*2\.5"),
     ([True, 2], r"layer_sizes\[0\].*True"),
     (["2", 1], r"layer_sizes\[0\].*'2'")],
)
def test_bad_layer_sizes(builder, layer_sizes, culprit):
    with pytest.raises(GraphStructureError, match=culprit):
        builder(layer_sizes)


@pytest.mark.parametrize("p_skip", [-0.1, 1.5, float("nan"), "0.3", None])
def test_bad_p_skip(p_skip):
    with pytest.raises(GraphStructureError, match="p_skip"):
        skip_mlp([2, 2, 2], p_skip=p_skip)


@pytest.mark.parametrize(
    "builder",
    [lambda **kw: mlp([2, 2], **kw), lambda **kw: skip_mlp([2, 2], **kw), lambda **kw: random_dag(5, **kw),
     lambda **kw: from_edges([("a", "b")], **kw)],
)
@pytest.mark.parametrize(
    ("activations", "culprit"),
    [({"activation": "swish"}, "swish"),
     ({"output_activation": "swish"}, "swish"),
     ({"activation": "softmax"}, "softmax"),
     ({"activation": 3}, "got 3")],
)
def test_bad_activations(builder, activations, culprit):
    with pytest.raises(ActivationError, match=culprit):
        builder(**activations)


# --- random_dag ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [2, 7, 40])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_dag_wiring(kind, n, seed):
    G = random_dag(n, kind, n_inputs=3, n_outputs=2, seed=seed)
    inputs, outputs = G.graph["inputs"], G.graph["outputs"]
    assert inputs == ["x1", "x2", "x3"] and outputs == ["y1", "y2"]
    assert list(G) == [*inputs, *range(n), *outputs]
    assert nx.is_directed_acyclic_graph(G)
    hidden = G.subgraph(range(n))
    assert all(u < v for u, v in hidden.edges)
    sources = [v for v in hidden if hidden.in_degree(v) == 0]
    sinks = [v for v in hidden if hidden.out_degree(v) == 0]
    # Inputs feed exactly the hidden sources, outputs are fed by exactly the hidden sinks.
    assert all(list(G.successors(x)) == sources and G.in_degree(x) == 0 for x in inputs)
    assert all(list(G.predecessors(y)) == sinks and G.out_degree(y) == 0 for y in outputs)
    assert all(set(G.predecessors(v)) == set(inputs) for v in sources)
    wiring = len(inputs) * len(sources) + len(sinks) * len(outputs)
    assert G.number_of_edges() == hidden.number_of_edges() + wiring
    # Every node is reached from the inputs and reaches the outputs.
    reached = set(inputs).union(*(nx.descendants(G, x) for x in inputs))
    reaching = set(outputs).union(*(nx.ancestors(G, y) for y in outputs))
    assert reached == reaching == set(G)


@pytest.mark.parametrize(
    ("kind", "params", "reference"),
    [("watts_strogatz", {}, lambda: nx.watts_strogatz_graph(30, 4, 0.75, seed=4)),
     ("watts_strogatz", {"k": 6, "p": 0.1}, lambda: nx.watts_strogatz_graph(30, 6, 0.1, seed=4)),
     ("erdos_renyi", {}, lambda: nx.erdos_renyi_graph(30, 0.3, seed=4)),
     ("erdos_renyi", {"p": 0.05}, lambda: nx.erdos_renyi_graph(30, 0.05, seed=4)),
     ("barabasi_albert", {}, lambda: nx.barabasi_albert_graph(30, 2, seed=4)),
     ("barabasi_albert", {"m": 5}, lambda: nx.barabasi_albert_graph(30, 5, seed=4))],
)
def test_random_dag_hidden_part_is_the_networkx_graph(kind, params, reference):
    G = random_dag(30, kind, seed=4, **params)
    assert set(G.subgraph(range(30)).edges) == {(min(e), max(e)) for e in reference().edges}


def test_random_dag_isolated_nodes_are_wired_both_ways():
    G = random_dag(5, "erdos_renyi", p=0.0, n_inputs=2, n_outputs=3, seed=0)
    assert G.number_of_edges() == 5 * (2 + 3)
    assert all(list(G.predecessors(v)) == ["x1", "x2"] for v in range(5))
    assert all(list(G.successors(v)) == ["y1", "y2", "y3"] for v in range(5))


def test_random_dag_defaults_are_clamped_for_small_n():
    assert set(random_dag(3, seed=0).subgraph(range(3)).edges) == {(0, 1), (0, 2), (1, 2)}  # k = 2, a triangle
    assert set(random_dag(2, "barabasi_albert", seed=0).subgraph(range(2)).edges) == {(0, 1)}  # m = 1
    assert random_dag(1, seed=0).number_of_edges() == 2 + 1


@pytest.mark.parametrize(
    ("args", "params", "culprit"),
    [((5, "small_world"), {}, "small_world.*barabasi_albert, erdos_renyi, watts_strogatz"),
     ((5, "erdos_renyi"), {"k": 2}, "erdos_renyi.*'k'"),
     ((5, "barabasi_albert"), {"p": 0.1}, "barabasi_albert.*'p'"),
     ((5, "watts_strogatz"), {"k": 5}, r"parameter k for n=5 .*\[0, 4\].*5"),
     ((5, "watts_strogatz"), {"k": -1}, "parameter k.*-1"),
     ((5, "watts_strogatz"), {"k": 2.0}, "parameter k.*2.0"),
     ((5, "watts_strogatz"), {"p": 1.5}, "parameter p.*1.5"),
     ((5, "erdos_renyi"), {"p": -0.5}, "parameter p.*-0.5"),
     ((5, "barabasi_albert"), {"m": 0}, "parameter m.*0"),
     ((5, "barabasi_albert"), {"m": 5}, "parameter m.*5"),
     ((1, "barabasi_albert"), {}, "parameter m for n=1"),
     ((0,), {}, "n must be.*0"),
     ((2.5,), {}, "n must be.*2.5"),
     ((5,), {"n_inputs": 0}, "n_inputs.*0"),
     ((5,), {"n_outputs": -2}, "n_outputs.*-2")],
)
def test_random_dag_bad_parameters(args, params, culprit):
    with pytest.raises(GraphStructureError, match=culprit):
        random_dag(*args, **params)


# --- from_edges ----------------------------------------------------------------------


def test_from_edges_keeps_weights_and_finds_inputs_and_outputs():
    G = from_edges([("b", "h", -0.75), ("a", "h"), ("h", "y"), ("a", "z", 3)], seed=0)
    assert list(G) == ["b", "h", "a", "y", "z"]
    assert G.graph == {"inputs": ["b", "a"], "outputs": ["y", "z"]}
    assert G.edges["b", "h"]["weight"] == -0.75
    assert G.edges["a", "z"]["weight"] == 3  # kept exactly, as given
    assert [G.nodes[v].get("activation") for v in G] == [None, "tanh", None, "identity", "identity"]
    # The other weights are drawn with fan-in scaling, as initialize_weights does.
    H = nx.DiGraph([("b", "h"), ("a", "h"), ("h", "y"), ("a", "z")])
    H.edges["b", "h"]["weight"], H.edges["a", "z"]["weight"] = -0.75, 3
    initialize_weights(H, seed=0)
    assert list(G.edges(data=True)) == list(H.edges(data=True))


def test_from_edges_explicit_roles_and_node_names():
    edges = [((0, 1), 2, 1.0), ((0, 0), 2, 2.0), (2, "out", 3.0), (2, "aux", 4.0)]
    G = from_edges(edges, inputs=[(0, 0), (0, 1)], outputs=["aux"], output_activation="logistic")
    assert G.graph == {"inputs": [(0, 0), (0, 1)], "outputs": ["aux"]}
    assert G.nodes["aux"]["activation"] == "logistic" and G.nodes["out"]["activation"] == "tanh"
    assert {(u, v): w for u, v, w in G.edges(data="weight")} == {(u, v): w for u, v, w in edges}


def test_from_edges_an_output_may_feed_on():
    G = from_edges([("x", "y1", 1.0), ("y1", "y2", 1.0)], outputs=["y1", "y2"])
    assert G.nodes["y1"]["activation"] == "identity"


@pytest.mark.parametrize(
    ("edges", "roles", "culprit"),
    [([("a", "b"), ("a",)], {}, r"\('a',\)"),
     ([("a", "b"), ("a", "b", 1.0, 2.0)], {}, r"\('a', 'b', 1.0, 2.0\)"),
     ([["a", "b"]], {}, r"\['a', 'b'\]"),
     ([], {}, "at least one edge"),
     ([("a", "b"), ("b", "c"), ("c", "b")], {}, r"cycle.*\('b', 'c'\)"),
     ([("a", "a")], {}, r"cycle.*\('a', 'a'\)"),
     ([("a", "b")], {"inputs": ["q"]}, "input 'q'"),
     ([("a", "b")], {"outputs": ["q"]}, "output 'q'"),
     ([("a", "b"), ("b", "c")], {"inputs": ["b"]}, r"input 'b' has predecessors \['a'\]"),
     ([("a", "b")], {"outputs": ["a", "b"]}, "'a'.*both")],
)
def test_from_edges_errors(edges, roles, culprit):
    with pytest.raises(GraphStructureError, match=culprit):
        from_edges(edges, **roles)



@pytest.mark.parametrize("bad", [3, "231", None])
def test_layer_sizes_not_a_sequence(bad):
    with pytest.raises(GraphStructureError, match="layer_sizes must be a sequence"):
        mlp(bad)
