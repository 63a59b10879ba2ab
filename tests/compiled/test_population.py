"""compile_many / CompiledPopulation and train_many: every graph's numbers are its own.

Each graph of a population must get what graphbp.backprop (the reference) and
graphbp.train give it alone: random irregular DAGs with odd node names, every
loss, Python-only activations, batches on both sides of the engine's
thresholds, float32; and every bad input is an error naming the graph.
"""

import re

import networkx as nx
import numpy as np
import pytest
from optional import missing

import graphbp
from graphbp import (
    Activation,
    GraphBPError,
    GraphStructureError,
    LossError,
    NumericalError,
    ShapeError,
)
from graphbp.compiled import backends as compiled_backends
from graphbp.generators import random_dag
from graphbp.optimizers import Adam, GradientDescent

try:
    from graphbp.compiled.kernels_numba import MIN_SAMPLES_PER_THREAD
except ImportError:  # no numba: the numpy backend still runs the batch sizes around the numba threshold
    MIN_SAMPLES_PER_THREAD = 16

ELEMENTWISE = ["identity", "tanh", "logistic", "relu", "leaky_relu", "softplus"]
CUBE = Activation("cube", lambda a: a**3 / 3, lambda a: a**2, lambda a: 2 * a)
# numba cannot compile np.where: this entry runs as Python between the kernels.
PYTHON_ONLY = Activation(
    "elu_where_population", lambda a: np.where(a > 0, a, np.expm1(a)), lambda a: np.where(a > 0, 1.0, np.exp(a)),
)
VARIANTS = {"numba-1": {"backend": "numba", "threads": 1}, "numba-2": {"backend": "numba", "threads": 2},
            "numpy": {"backend": "numpy"}}  # fmt: skip
KINDS = [("erdos_renyi", {"p": 0.4}), ("watts_strogatz", {}), ("barabasi_albert", {})]
pytestmark = pytest.mark.filterwarnings("ignore:activation 'elu_where_population' does not compile")


@pytest.fixture(autouse=True)
def _numba_or_skip(request):
    callspec = getattr(request.node, "callspec", None)
    if callspec and callspec.params.get("variant", "").startswith("numba") and not compiled_backends.numba_available():
        missing("numba", "pip install -e '.[fast]'")


def _odd_names(G, g):
    """`G` with its nodes renamed to tuples, ints and strings (insertion order kept), inputs and outputs listed."""
    net = graphbp.read_network(G)
    names = {node: [(g, k), 1000 * g + k, f"n{g}.{k}", (("t", g), str(k))][k % 4] for k, node in enumerate(G)}
    H = nx.relabel_nodes(G, names)
    H.graph.update(inputs=[names[n] for n in net.inputs], outputs=[names[n] for n in net.outputs])
    return H


def _population(loss, seed, size=7, python_only=(), n_outputs=4):
    """`size` random DAGs of 2-12 hidden units (2 inputs, `n_outputs` outputs), odd names, every activation kind.

    `python_only` places PYTHON_ONLY on "hidden" units, "outputs" (sse), or both. For "ce" the
    outputs are one softmax group in some graphs and two groups of two in others.
    """
    rng = np.random.default_rng(seed)
    graphs = []
    for g in range(size):
        kind, params = KINDS[g % len(KINDS)]
        G = random_dag(int(rng.integers(2, 13)), kind, n_inputs=2, n_outputs=n_outputs, seed=seed * 100 + g, **params)
        G = _odd_names(G, g)
        net = graphbp.read_network(G)
        hidden = [j for j in net.order if j not in net.inputs and j not in net.outputs]
        for k, j in enumerate(hidden):
            G.nodes[j]["activation"] = ([*ELEMENTWISE, CUBE] if "hidden" not in python_only else [PYTHON_ONLY, "tanh"])[
                (k + g) % (7 if "hidden" not in python_only else 2)]
        for k, j in enumerate(net.outputs):
            sse = PYTHON_ONLY if "outputs" in python_only and (k + g) % 2 else ELEMENTWISE[(k + g) % 6]
            G.nodes[j]["activation"] = {"sse": sse, "bce": "logistic", "ce": "softmax"}[loss]
            if loss == "ce":
                G.nodes[j]["softmax_group"] = k // 2 if g % 2 else 0
        for j in [*hidden, *net.outputs]:
            G.nodes[j]["bias"] = float(rng.normal(scale=0.5))
        graphs.append(G)
    return graphs


def _batch(loss, N, rng, n_outputs=4):
    X = rng.normal(size=(N, 2))
    T = {"sse": rng.normal(size=(N, n_outputs)), "bce": rng.random(size=(N, n_outputs)),
         "ce": np.eye(n_outputs)[rng.integers(n_outputs, size=N)]}[loss]  # fmt: skip
    return X, T


def _close(ours, theirs, tol):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max(initial=0.0) <= tol * max(np.abs(theirs).max(initial=0.0), 1.0), (ours, theirs)


def _assert_each_graph_is_its_own(population, graphs, X, T, loss, tol=1e-12):
    E, gradients = population.loss_and_gradient(X, T, loss=loss)
    ys = population.forward(X)
    assert E.dtype == np.float64 and E.shape == (len(graphs),) and len(gradients) == len(ys) == len(graphs)
    for G, e, gradient, y in zip(graphs, E, gradients, ys):
        reference = graphbp.backprop(G, X, T, loss=loss)
        _close(e, reference.loss, tol)
        _close(gradient, graphbp.gradient_vector(G, reference), tol)
        _close(y, reference.y, tol)
    assert any(np.abs(gradient).max() > 0 for gradient in gradients)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
def test_each_graph_equals_the_reference_for_every_loss(loss, variant):
    graphs = _population(loss, seed=len(loss))
    population = graphbp.compile_many(graphs, **VARIANTS[variant])
    assert len(population) == len(graphs) and population.backend == VARIANTS[variant]["backend"]
    rng = np.random.default_rng(1)
    for N in (1, 2, 2 * MIN_SAMPLES_PER_THREAD - 1, 2 * MIN_SAMPLES_PER_THREAD, 2 * MIN_SAMPLES_PER_THREAD + 1, 40):
        _assert_each_graph_is_its_own(population, graphs, *_batch(loss, N, rng), loss)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("placement", [("hidden",), ("outputs",), ("hidden", "outputs")])
def test_python_only_activations_in_every_placement(variant, placement):
    graphs = _population("sse", seed=5, size=4, python_only=placement)
    population = graphbp.compile_many(graphs, **VARIANTS[variant])
    rng = np.random.default_rng(2)
    for N in (1, 2 * MIN_SAMPLES_PER_THREAD - 1, 2 * MIN_SAMPLES_PER_THREAD, 40):
        _assert_each_graph_is_its_own(population, graphs, *_batch("sse", N, rng), "sse")


def test_auto_runs_python_only_activations_on_the_numpy_backend():
    """The numba backend calls a Python activation once per unit, the numpy one once per level."""
    python_only = graphbp.compile_many(_population("sse", seed=5, size=2, python_only=("hidden",)))
    compiled = graphbp.compile_many(_population("sse", seed=5, size=2))
    expected = "numba" if compiled_backends.numba_available() else "numpy"
    assert (python_only.backend, compiled.backend) == ("numpy", expected)


def test_one_sample_as_a_vector_and_a_graph_whose_output_feeds_another():
    G = graphbp.irregular_network()  # y1 feeds h3, and a dead end d
    graphs = [G, _odd_names(random_dag(5, n_outputs=2, seed=3), 1)]
    population = graphbp.compile_many(graphs)
    x, t = np.array([0.3, -0.2]), np.array([0.5, 0.1])
    E, gradients = population.loss_and_gradient(x, t)
    for G, e, gradient, y in zip(graphs, E, gradients, population.forward(x)):
        reference = graphbp.backprop(G, x, t)
        _close(e, reference.loss, 1e-12)
        _close(gradient, graphbp.gradient_vector(G, reference), 1e-12)
        assert y.shape == (2,)
        _close(y, reference.y, 1e-12)


def test_gradients_equal_central_differences_of_each_graphs_error():
    graphs = _population("ce", seed=3, size=3)
    population = graphbp.compile_many(graphs)
    X, T = _batch("ce", 5, np.random.default_rng(4))
    _, gradients = population.loss_and_gradient(X, T, "ce")
    thetas = population.get_parameters()
    eps = 1e-6
    for g, theta in enumerate(thetas):
        numeric = np.empty_like(theta)
        for k in range(theta.size):
            errors = []
            for step in (eps, -eps):
                moved = [t.copy() for t in thetas]
                moved[g][k] += step
                errors.append(population.set_parameters(moved).loss_and_gradient(X, T, "ce")[0][g])
            numeric[k] = (errors[0] - errors[1]) / (2 * eps)
        _close(gradients[g], numeric, 1e-7)
    population.set_parameters(thetas)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_float32_agrees_with_float64(variant):
    graphs = _population("sse", seed=8, size=5)
    X, T = _batch("sse", 40, np.random.default_rng(5))
    E64, gradients64 = graphbp.compile_many(graphs, **VARIANTS[variant]).loss_and_gradient(X, T)
    population = graphbp.compile_many(graphs, dtype=np.float32, **VARIANTS[variant])
    E32, gradients32 = population.loss_and_gradient(X, T)
    assert population.dtype == np.float32 and E32.dtype == np.float64
    _close(E32, E64, 1e-5)
    for ours, theirs in zip(gradients32, gradients64):
        _close(ours, theirs, 1e-4)


def test_numpy_backend_without_numba(monkeypatch):
    monkeypatch.setattr(compiled_backends, "numba_available", lambda: False)
    graphs = _population("bce", seed=2, size=3)
    population = graphbp.compile_many(graphs)
    assert population.backend == "numpy"
    _assert_each_graph_is_its_own(population, graphs, *_batch("bce", 6, np.random.default_rng(0)), "bce")


def test_parameters_round_trip_and_write_back():
    graphs = _population("sse", seed=4, size=3)
    population = graphbp.compile_many(graphs)
    keys = population.parameter_keys()
    assert keys == [graphbp.parameter_keys(G) for G in graphs]
    thetas = population.get_parameters()
    for G, theta in zip(graphs, thetas):
        _close(theta, graphbp.get_parameters(G), 0)
    new = [theta * 2 + 1 for theta in thetas]
    assert population.set_parameters(new) is population
    for G, theta in zip(graphs, thetas):  # the graphs are untouched until write_back
        _close(graphbp.get_parameters(G), theta, 0)
    assert population.write_back() == graphs
    for G, theta in zip(graphs, new):
        _close(graphbp.get_parameters(G), theta, 0)
    graphs[1].nodes[keys[1][-1][1]]["bias"] = 7.0
    assert population.refresh().get_parameters()[1][-1] == 7.0


def test_bad_input_is_named():
    graphs = _population("sse", seed=6, size=3)
    with pytest.raises(GraphBPError, match="at least one graph; got an empty list"):
        graphbp.compile_many([])
    other = random_dag(4, n_inputs=3, n_outputs=4, seed=0)
    with pytest.raises(ShapeError, match="graph 3 of the population has 3 inputs and 4 outputs, but graph 0 has 2 and 4"):
        graphbp.compile_many([*graphs, other])
    cyclic = graphs[1].copy()
    u, v = next(iter(cyclic.edges))
    cyclic.add_edge(v, u, weight=1.0)
    with pytest.raises(GraphStructureError, match="graph 1 of the population: the graph has a cycle") as caught:
        graphbp.compile_many([graphs[0], cyclic])
    # the member's index and its own message, for callers that name members otherwise (refine_neat: genome keys)
    assert caught.value.graph == 1
    with pytest.raises(GraphStructureError) as alone:
        graphbp.read_network(cyclic)
    assert caught.value.reason == str(alone.value)
    with pytest.raises(GraphBPError, match="dtype must be float64 or float32"):
        graphbp.compile_many(graphs, dtype=np.int32)
    population = graphbp.compile_many(graphs)
    X, T = _batch("sse", 3, np.random.default_rng(0))
    with pytest.raises(LossError, match="unknown loss 'mse'"):
        population.loss_and_gradient(X, T, loss="mse")
    with pytest.raises(LossError, match=r"graph 0 of the population: 'binary_cross_entropy' pairs with logistic"):
        population.loss_and_gradient(X, np.clip(T, 0, 1), loss="bce")
    mixed = [*_population("bce", seed=6, size=2), graphs[2]]
    with pytest.raises(LossError, match=r"graph 2 of the population: 'binary_cross_entropy' pairs with logistic"):
        graphbp.compile_many(mixed).loss_and_gradient(X, np.clip(T, 0, 1), loss="bce")
    with pytest.raises(ShapeError, match=r"x has shape \(3, 3\); expected \(N, 2\)"):
        population.loss_and_gradient(np.ones((3, 3)), T)
    with pytest.raises(ShapeError, match=r"x has shape \(3, 2\) but t has shape \(2, 4\)"):
        population.loss_and_gradient(X, T[:2])
    with pytest.raises(ShapeError, match=r"x\[1\] has nan"):
        population.forward(np.where([[False, False], [True, False], [False, False]], np.nan, X))
    thetas = population.get_parameters()
    with pytest.raises(ShapeError, match="one parameter vector per graph \\(3\\); got 2"):
        population.set_parameters(thetas[:2])
    with pytest.raises(ShapeError, match=rf"graph 1 of the population: parameter vector has shape \({thetas[1].size - 1},\)"):
        population.set_parameters([thetas[0], thetas[1][:-1], thetas[2]])
    bad = [theta.copy() for theta in thetas]
    bad[2][0] = np.inf
    kind, key = population.parameter_keys()[2][0]
    with pytest.raises(ShapeError, match=re.escape(f"graph 2 of the population: parameter vector entry 0 ({kind} {key!r}) is inf")):
        population.set_parameters(bad)


@pytest.mark.parametrize("change", ["nan", "text", "missing", "bias", "new edge", "new node", "fine"])
def test_refresh_reads_every_graph_at_once_and_names_the_graph_that_changed_badly(change):
    # refresh reads all θ in one numpy call; any bad graph sends it graph by graph, naming the first bad one
    graphs = _population("sse", seed=8, size=4)
    population = graphbp.compile_many(graphs)
    G = graphs[2]
    (i, j), node = next(iter(G.edges)), population.parameter_keys()[2][-1][1]
    if change == "nan":
        G.edges[i, j]["weight"] = np.nan
    elif change == "text":
        G.edges[i, j]["weight"] = "heavy"
    elif change == "missing":
        del G.edges[i, j]["weight"]
    elif change == "bias":
        G.nodes[node]["bias"] = np.inf
    elif change == "new edge":
        G.add_edge(i, node, weight=1.0) if not G.has_edge(i, node) else G.remove_edge(i, node)
    elif change == "new node":
        G.add_node("late")
    else:
        G.edges[i, j]["weight"] = 0.25
        G.nodes[node]["bias"] = -3
        theta = population.refresh().get_parameters()[2]
        assert theta[0] == 0.25 and theta[-1] == -3.0 and theta.dtype == np.float64
        _close(theta, graphbp.get_parameters(G), 0)
        return
    edge = f"edge ({i!r}, {j!r})"
    expected = {"nan": (graphbp.ParameterError, f"{edge} has weight nan"),
                "text": (graphbp.ParameterError, f"{edge} has weight 'heavy'"),
                "missing": (graphbp.ParameterError, f"{edge} has no 'weight' attribute"),
                "bias": (graphbp.ParameterError, f"node {node!r} has bias inf"),
                "new edge": (GraphStructureError, "the graph's nodes or edges changed since it was compiled"),
                "new node": (GraphStructureError, "the graph's nodes or edges changed since it was compiled")}[change]  # fmt: skip
    with pytest.raises(expected[0], match=re.escape("graph 2 of the population: " + expected[1])) as caught:
        population.refresh()
    assert caught.value.graph == 2


def test_refresh_of_unchanged_graphs_reads_them_in_one_go(monkeypatch):
    # graph by graph (read_values) only to name a bad graph: a generation of small graphs pays one numpy call
    from graphbp.compiled import population as population_module

    graphs = _population("sse", seed=8, size=4)
    population = graphbp.compile_many(graphs)
    graphs[3].nodes[population.parameter_keys()[3][-1][1]]["bias"] = 0.5

    def one_by_one(*args):
        raise AssertionError("refresh read graph by graph though every graph is fine")

    monkeypatch.setattr(population_module, "read_values", one_by_one)
    assert population.refresh().get_parameters()[3][-1] == 0.5


def test_wirings_built_together_equal_each_graphs_own():
    from graphbp.wiring import build_wiring

    graphs = _population("ce", seed=9, size=5)
    population = graphbp.compile_many(graphs)
    for G, together in zip(graphs, population.wirings):
        alone = build_wiring(G, graphbp.read_network(G))
        assert (together.edges, together.position, together.activations) == (alone.edges, alone.position, alone.activations)
        for name in ("pred_ptr", "pred_index", "succ_ptr", "succ_index", "succ_edge", "unit_ptr", "unit_code",
                     "bias_rows", "input_rows", "output_rows", "output_slot"):  # fmt: skip
            assert np.array_equal(getattr(together, name), getattr(alone, name)), name
    assert population.wiring.n_edges == sum(G.number_of_edges() for G in graphs)
    # the union's reading: each graph's units, inputs, outputs and softmax groups at its positions, shifted
    union, start, shifted = population.wiring.net, 0, {"units": [], "inputs": [], "outputs": [], "softmax_groups": []}
    for wiring in population.wirings:
        for name, items in shifted.items():
            nodes = getattr(wiring.net, name)
            items += ([tuple(start + wiring.position[n] for n in unit) for unit in nodes]
                      if name in ("units", "softmax_groups") else [start + wiring.position[n] for n in nodes])
        start += wiring.n_nodes
    assert {name: list(getattr(union, name)) for name in shifted} == shifted
    assert union.order == tuple(range(start)) and any(len(unit) > 1 for unit in union.units)


def test_non_finite_values_are_errors_naming_the_graph_and_node():
    G = nx.DiGraph()
    nx.add_path(G, ["x", "a", "b", "y"], weight=1e200)
    G.nodes["a"]["activation"] = G.nodes["b"]["activation"] = "identity"
    fine = nx.DiGraph([("x", "y", {"weight": 1.0})])
    population = graphbp.compile_many([fine, G])
    with pytest.raises(NumericalError, match=r"graph 1 of the population: z of node 'b' is inf in sample 1"):
        population.forward([[0.0], [1.0]])
    with pytest.raises(NumericalError, match=r"graph 1 of the population: z of node 'b' is inf in sample 1"):
        population.loss_and_gradient([[0.0], [1.0]], [[0.0], [0.0]])

@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_population_of_one_graph(variant):
    graphs = _population("bce", seed=4, size=1)
    population = graphbp.compile_many(graphs, **VARIANTS[variant])
    assert len(population) == 1 and population.wiring.n_edges == graphs[0].number_of_edges()
    _assert_each_graph_is_its_own(population, graphs, *_batch("bce", 3, np.random.default_rng(4)), "bce")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_users_loss_of_the_output_sums_gets_a_and_y_apart(variant):
    # E_n = ½ Σ_k (a_k − t_k)²: its direct term reads A, not Y (no built-in loss's does), on outputs of every kind
    on_a = graphbp.Loss("sse_of_a", None, lambda A, Y, T, groups: 0.5 * ((A - T) ** 2).sum(axis=1),
                        lambda A, Y, T, slope, groups: A - T)  # fmt: skip
    graphs = _population("sse", seed=11, size=4)
    assert {graphbp.read_network(G).activation[k].name for G in graphs for k in graphbp.read_network(G).outputs} - {
        "identity"}, "some output must have y ≠ a"
    population = graphbp.compile_many(graphs, **VARIANTS[variant])
    _assert_each_graph_is_its_own(population, graphs, *_batch("sse", 5, np.random.default_rng(2)), on_a)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_delta_overflow_with_finite_z_is_an_error_naming_the_graph_and_node(variant):
    # z stays finite (tanh, logistic), but δ_h = h'(a_h) (w δ_y1 + w δ_y2) overflows: found in the backward pass
    G = nx.DiGraph([("x", "h", {"weight": 0.5}), ("h", "y1", {"weight": 1.5e308}), ("h", "y2", {"weight": 1.5e308})])
    fine = nx.DiGraph([("x", "y1", {"weight": 1.0}), ("x", "y2", {"weight": -1.0})])
    for H in (G, fine):
        H.graph["outputs"] = ["y1", "y2"]
        for k in ("y1", "y2"):
            H.nodes[k]["activation"] = "logistic"
    population = graphbp.compile_many([fine, G], **VARIANTS[variant])
    assert all(np.isfinite(y).all() for y in population.forward([[0.5], [1.0]]))
    with pytest.raises(NumericalError, match=r"graph 1 of the population: delta of node 'h' is inf in sample 0"):
        population.loss_and_gradient([[0.5], [1.0]], np.zeros((2, 2)), loss="bce")



# -- train_many -----------------------------------------------------------------------------


class ClippedSteps:
    """A user's rule that is not element-wise in its state (a step count): stepped per graph by train_many."""

    def init(self, theta):
        return 0

    def step(self, theta, grad, count):
        return theta - 0.1 / (1 + count) * np.clip(grad, -1.0, 1.0), count + 1


def _frozen_population():
    graphs = _population("sse", seed=9, size=4, n_outputs=1)
    for G in graphs[::2]:
        i, j = next(iter(G.edges))
        G.edges[i, j].update(trainable=False, weight=0.0)  # a NEAT placeholder edge
    return graphs


@pytest.mark.parametrize(
    "optimizer, options",
    [("gd", {"epochs": 4}), ("momentum", {"epochs": 3, "batch_size": 3, "validation_split": 0.25}),
     ("adam", {"max_evaluations": 7, "batch_size": 2}), (Adam(0.05), {"epochs": 3, "batch_size": 4}),
     (GradientDescent(0.05, momentum=0.5), {"epochs": 3}), (ClippedSteps(), {"epochs": 3, "batch_size": 5}),
     ("BFGS", {"epochs": 3}), ("CG", {"epochs": 3, "validation_split": 0.25}), ("L-BFGS-B", {"max_evaluations": 6})],
)  # fmt: skip
def test_train_many_equals_train_on_each_graph(optimizer, options):
    graphs = _frozen_population()
    X, T = _batch("sse", 8, np.random.default_rng(3), n_outputs=1)
    alone = [G.copy() for G in graphs]
    histories = graphbp.train_many(graphs, X, T, optimizer=optimizer, seed=5, progress=False, **options)
    assert len(histories) == len(graphs)
    for G, H, history in zip(alone, graphs, histories):
        frozen = {e: G.edges[e]["weight"] for e in G.edges if G.edges[e].get("trainable", True) is False}
        expected = graphbp.train(G, X, T, optimizer=optimizer, seed=5, progress=False, **options)
        _close(graphbp.get_parameters(H), graphbp.get_parameters(G), 1e-10)
        for name in ("loss", "gradient_norm", "validation_loss"):
            ours, theirs = getattr(history, name), getattr(expected, name)
            assert (ours is None) == (theirs is None)
            if theirs is not None:
                _close(ours, theirs, 1e-10)
        assert history.evaluations.tolist() == expected.evaluations.tolist()
        assert (history.optimizer, history.message) == (expected.optimizer, expected.message)
        for e, w in frozen.items():  # bit for bit, in both
            assert H.edges[e]["weight"] == G.edges[e]["weight"] == w
    assert histories[1].loss[-1] < histories[1].loss[0]


def test_train_keeps_frozen_edges_bit_for_bit_with_every_optimizer():
    X, T = _batch("sse", 6, np.random.default_rng(1), n_outputs=1)
    for optimizer in ("adam", "momentum", ClippedSteps(), "BFGS", "CG", "L-BFGS-B"):
        G = _odd_names(random_dag(6, seed=2), 0)
        frozen = list(G.edges)[::3]
        for e in frozen:
            G.edges[e].update(trainable=False, weight=0.3 + 1e-17 * len(e))
        before = {e: G.edges[e]["weight"] for e in frozen}
        free = [e for e in G.edges if e not in before]
        start = {e: G.edges[e]["weight"] for e in free}
        graphbp.train(G, X, T, optimizer=optimizer, epochs=5, progress=False)
        assert {e: G.edges[e]["weight"] for e in frozen} == before
        assert any(G.edges[e]["weight"] != start[e] for e in free)
    assert graphbp.training.frozen_entries(G).tolist() == [
        k for k, (kind, key) in enumerate(graphbp.parameter_keys(G)) if kind == "weight" and key in before
    ]


def test_train_many_callback_sees_every_graph_and_can_stop():
    graphs = _population("sse", seed=2, size=3, n_outputs=1)
    X, T = _batch("sse", 4, np.random.default_rng(0), n_outputs=1)
    seen = []

    def callback(epoch, logs):
        seen.append((epoch, logs["loss"].shape, graphbp.get_parameters(graphs[0]).copy()))
        return epoch == 2

    histories = graphbp.train_many(graphs, X, T, epochs=10, callback=callback, progress=False)
    assert [(epoch, shape) for epoch, shape, _ in seen] == [(0, (3,)), (1, (3,)), (2, (3,))]
    assert [len(h.loss) for h in histories] == [3, 3, 3] and "callback stopped" in histories[0].message
    assert not np.array_equal(seen[0][2], seen[2][2])  # the graphs were written before each callback


def test_train_many_bad_input_is_named():
    graphs = _population("sse", seed=2, size=2, n_outputs=1)
    X, T = _batch("sse", 4, np.random.default_rng(0), n_outputs=1)
    with pytest.raises(GraphBPError, match="takes no callback"):
        graphbp.train_many(graphs, X, T, optimizer="BFGS", callback=lambda epoch, logs: None, progress=False)
    for optimizer in ("adam", "BFGS"):
        with pytest.raises(GraphBPError, match="at least one graph"):
            graphbp.train_many([], X, T, optimizer=optimizer, progress=False)
    with pytest.raises(GraphBPError, match="unknown optimizer 'sgd'"):
        graphbp.train_many(graphs, X, T, optimizer="sgd", progress=False)
    with pytest.raises(GraphBPError, match="epochs must be a positive int"):
        graphbp.train_many(graphs, X, T, epochs=0, progress=False)
    with pytest.raises(GraphBPError, match=r"validation_split must be in \[0, 1\)"):
        graphbp.train_many(graphs, X, T, validation_split=1.0, progress=False)
    with pytest.raises(LossError, match="graph 0 of the population: 'cross_entropy' pairs with softmax"):
        graphbp.train_many(graphs, X, T, loss="ce", progress=False)
