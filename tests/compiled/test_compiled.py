"""The compiled engine equals the reference engine, on every variant, builder, loss and activation.

Every variant (numba on one thread, numba on two threads, the numpy/scipy
level-scheduled fallback forced with backend="numpy") is compared with the
reference backward pass, value by value: loss, E_n, every a_j, z_j, δ_j,
∂E/∂w_ji and ∂E/∂b_j, to 1e-12 relative (scaled by the largest magnitude of
each kind, since rounding in a sum of N terms is relative to the terms).
Independently, gradients are checked against central differences of the
compiled loss itself and against PyTorch autograd.
"""


import re

import networkx as nx
import numpy as np
import pytest

import graphbp
from graphbp import Activation, GraphBPError, GraphStructureError, NumericalError, ParameterError, ShapeError
from graphbp.compiled import backends as compiled_backends
from graphbp.generators import from_edges, mlp, random_dag, skip_mlp
from graphbp.testing import assert_results_close
from derivative_graphs import softmax_twins
from torch_engine import assert_matches_torch
from graph_snapshot import unchanged
from optional import missing, under_ci

ELEMENTWISE = ["identity", "tanh", "logistic", "relu", "leaky_relu", "softplus"]
CUBE = Activation("cube", lambda a: a**3 / 3, lambda a: a**2, lambda a: 2 * a)

VARIANTS = {
    "numba-1": {"backend": "numba", "threads": 1},
    "numba-2": {"backend": "numba", "threads": 2},
    # Dense blocks forced on: every (target level, source level) group a quarter full runs as a
    # matrix product (tests/compiled/test_dense_blocks.py checks the choice itself).
    "numba-dense": {"backend": "numba", "threads": 2, "dense": True},
    "numpy": {"backend": "numpy"},
}


@pytest.fixture(autouse=True)
def _numba_or_skip(request):
    """numba is the optional extra graphbp[fast]: its variants skip locally without it, and fail under CI."""
    callspec = getattr(request.node, "callspec", None)
    variant = callspec.params.get("variant", "") if callspec else ""
    if variant.startswith("numba") and not compiled_backends.numba_available():
        missing("numba", "pip install -e '.[fast]'")



def _available_variants() -> dict:
    """Every variant; without numba only the numpy one locally (and a failure under CI)."""
    if compiled_backends.numba_available():
        return VARIANTS
    if under_ci():
        missing("numba", "pip install -e '.[test]'")
    return {"numpy": VARIANTS["numpy"]}


BUILDERS = {
    "bishop": lambda seed: graphbp.bishop_network(),
    "irregular": lambda seed: graphbp.irregular_network(),
    "mlp": lambda seed: mlp([3, 5, 4, 2], seed=seed),
    "skip_mlp": lambda seed: skip_mlp([3, 6, 5, 4, 3], p_skip=0.4, seed=seed),
    "watts_strogatz": lambda seed: random_dag(40, k=6, p=0.75, n_inputs=3, n_outputs=3, seed=seed),
    "erdos_renyi": lambda seed: random_dag(25, "erdos_renyi", p=0.3, n_inputs=2, n_outputs=3, seed=seed),
    "barabasi_albert": lambda seed: random_dag(30, "barabasi_albert", m=3, n_inputs=4, n_outputs=2, seed=seed),
    "odd_names": lambda seed: from_edges(
        [(0, ("h", 1)), ("x", ("h", 1)), (("h", 1), 2.5), (0, 2.5), (("h", 1), "out"), (2.5, "out"), (0, "d")],
        inputs=[0, "x"], outputs=[2.5, "out"], seed=seed,
    ),
}


def _set_up(G, loss, rng, custom=False):
    """Random activations (every kind present), biases, and a batch of 40 samples for `loss`."""
    net = graphbp.read_network(G)
    hidden = [j for j in net.order if j not in net.inputs and j not in net.outputs]
    for position, j in enumerate(hidden):
        G.nodes[j]["activation"] = CUBE if custom and position % 3 == 0 else ELEMENTWISE[position % len(ELEMENTWISE)]
    for position, j in enumerate(net.outputs):
        G.nodes[j]["activation"] = {"sse": ELEMENTWISE[position % 6], "bce": "logistic", "ce": "softmax"}[loss]
        if loss == "ce":
            G.nodes[j]["softmax_group"] = position % 2 if len(net.outputs) > 3 else 0
    for j in [*hidden, *net.outputs]:
        G.nodes[j]["bias"] = float(rng.normal(scale=0.5))
    if loss == "ce" and any(nx.has_path(G, j, k) for j in net.outputs for k in net.outputs if j != k):
        softmax_twins(G, seed=len(G))  # an output feeding another: each in a group of two with its twin
    X = rng.normal(size=(40, len(net.inputs)))
    K = len(graphbp.read_network(G).outputs)
    T = {"sse": rng.normal(size=(40, K)), "bce": rng.random(size=(40, K)), "ce": np.eye(K)[rng.integers(K, size=40)]}
    return X, T[loss]


def _close(ours, theirs, tol):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    scale = max(np.abs(theirs).max(initial=0.0), 1e-300)
    assert np.abs(ours - theirs).max(initial=0.0) <= tol * scale, (ours, theirs)


def assert_same_result(result, reference, G, tol=1e-12):
    """graphbp.testing.assert_results_close on a case that is not trivial (a positive loss, a non-zero
    gradient) and covers every node and edge of G."""
    assert reference.loss > 0 and any(g != 0 for g in reference.grad_weight.values()), "a trivial case"
    assert set(reference.delta) == set(G) and set(reference.grad_weight) == set(G.edges)
    assert_results_close(result, reference, rtol=tol)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_compiled_equals_reference(builder, loss, variant):
    for seed in range(2):
        rng = np.random.default_rng([seed, len(builder), len(loss)])
        G = BUILDERS[builder](seed)
        X, T = _set_up(G, loss, rng)
        compiled = graphbp.compile(G, **VARIANTS[variant])
        assert (compiled.dense_edges > 0) == (variant == "numba-dense")
        assert_same_result(compiled.backprop(X, T, loss=loss), graphbp.backprop(G, X, T, loss=loss), G)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_custom_activation_and_dead_end_and_output_feeding_others(variant):
    """irregular_network has y1 -> h3 and a dead end d; user activations are Python calls between kernels."""
    G = graphbp.irregular_network()
    G.nodes["h2"]["activation"] = CUBE
    G.nodes["y2"]["activation"] = CUBE
    G.add_edge("d", "e", weight=0.7)
    G.nodes["e"]["activation"] = CUBE  # a custom dead end after a dead end
    rng = np.random.default_rng(3)
    X, T = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
    compiled = graphbp.compile(G, **VARIANTS[variant])
    result, reference = compiled.backprop(X, T), graphbp.backprop(G, X, T)
    assert_same_result(result, reference, G)
    assert np.all(result.delta["d"] == 0) and np.all(result.delta["e"] == 0)
    assert np.any(result.delta["y1"] != 0) and np.any(result.grad_weight[("y1", "h3")] != 0)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_custom_activations_on_random_graph(variant):
    G = random_dag(60, k=6, p=0.75, n_inputs=3, n_outputs=4, seed=11)
    rng = np.random.default_rng(11)
    X, T = _set_up(G, "sse", rng, custom=True)
    compiled = graphbp.compile(G, **VARIANTS[variant])
    assert_same_result(compiled.backprop(X, T), graphbp.backprop(G, X, T), G)


# numba cannot compile np.where: this entry always runs as Python between the kernels.
PYTHON_ONLY = Activation(
    "elu_where", lambda a: np.where(a > 0, a, np.expm1(a)), lambda a: np.where(a > 0, 1.0, np.exp(a)),
    lambda a: np.where(a > 0, 0.0, np.exp(a)),
)


@pytest.mark.filterwarnings("ignore:activation 'elu_where' does not compile")
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("placement", ["outputs", "one output", "hidden", "one hidden", "mixed"])
def test_python_only_activations_at_every_placement_and_batch_size(variant, placement):
    """A Python-only unit anywhere, the outputs alone included, at batches on both sides of the
    one-call threshold (2 x MIN_SAMPLES_PER_THREAD samples): once the outputs-only case gave a wrong E and a zero gradient."""
    G = mlp([2, 3, 2], seed=1)
    net = graphbp.read_network(G)
    hidden = [j for j in net.order if j not in net.inputs and j not in net.outputs]
    chosen = {"outputs": net.outputs, "one output": net.outputs[-1:], "hidden": hidden, "one hidden": hidden[:1],
              "mixed": [hidden[0], net.outputs[0]]}[placement]
    for j in chosen:
        G.nodes[j]["activation"] = PYTHON_ONLY
    compiled = graphbp.compile(G, **VARIANTS[variant])
    rng = np.random.default_rng(len(placement))
    for N in (1, 2, 4, 31, 32, 33, 40):
        X, T = rng.normal(size=(N, 2)), rng.normal(size=(N, 2))
        reference = graphbp.backprop(G, X, T)
        assert_same_result(compiled.backprop(X, T), reference, G)
        E, gradient = compiled.loss_and_gradient(X, T)
        _close(E, reference.loss, 1e-12)
        expected = [reference.grad_weight[key] if kind == "weight" else reference.grad_bias[key]
                    for kind, key in compiled.parameter_keys()]
        _close(gradient, expected, 1e-12)


def test_a_node_without_predecessors_is_a_constant_unit():
    G = nx.DiGraph([("x", "y", {"weight": 2.0}), ("c", "y", {"weight": 3.0})])
    G.graph.update(inputs=["x"], outputs=["y"])
    G.nodes["c"].update(bias=0.5, activation="tanh")
    for variant in _available_variants().values():
        assert_same_result(graphbp.compile(G, **variant).backprop([[1.0], [2.0]], [[0.0], [1.0]]),
                           graphbp.backprop(G, [[1.0], [2.0]], [[0.0], [1.0]]), G)


def test_bishop_by_hand_one_sample():
    """x = (1, 0): a_z1 = 0.5, a_z2 = 0.2, a_z3 = -0.6; y1 = 0.7 tanh .5 - 0.2 tanh .2 + 0.5 tanh(-.6)."""
    G = graphbp.bishop_network()
    for variant in _available_variants().values():
        result = graphbp.compile(G, **variant).backprop([1.0, 0.0], [0.0, 0.0])
        h = np.tanh([0.5, 0.2, -0.6])
        y1, y2 = 0.7 * h[0] - 0.2 * h[1] + 0.5 * h[2], -0.4 * h[0] + 0.9 * h[1] + 0.3 * h[2]
        assert result.y == pytest.approx([y1, y2], rel=1e-14)
        assert isinstance(result.delta["z1"], float) and isinstance(result.loss, float)
        assert result.delta["z1"] == pytest.approx((1 - h[0] ** 2) * (0.7 * y1 - 0.4 * y2), rel=1e-14)
        assert result.grad_weight[("z1", "y1")] == pytest.approx(y1 * h[0], rel=1e-14)
        assert result.grad_weight[("x2", "z1")] == 0.0
        assert result.delta["x1"] == pytest.approx(sum(
            w * (1 - hk**2) * (v1 * y1 + v2 * y2)
            for w, hk, v1, v2 in zip([0.5, 0.2, -0.6], h, [0.7, -0.2, 0.5], [-0.4, 0.9, 0.3])
        ), rel=1e-14)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_float32_agrees_with_float64(variant):
    G = random_dag(200, k=10, p=0.75, n_inputs=8, n_outputs=4, seed=5)
    rng = np.random.default_rng(5)
    X, T = _set_up(G, "sse", rng)
    single = graphbp.compile(G, dtype=np.float32, **VARIANTS[variant]).backprop(X, T)
    double = graphbp.compile(G, **VARIANTS[variant]).backprop(X, T)
    assert single.delta[0].dtype == np.float32
    assert_same_result(single, double, G, tol=1e-5)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("chunk_size", [1, 7, 40])
def test_chunked_batch_equals_whole_batch(variant, chunk_size):
    G = skip_mlp([4, 8, 8, 3], p_skip=0.4, seed=2)
    rng = np.random.default_rng(2)
    X, T = _set_up(G, "ce", rng)
    compiled = graphbp.compile(G, **VARIANTS[variant])
    whole = compiled.backprop(X, T, loss="ce")
    assert_same_result(compiled.backprop(X, T, loss="ce", chunk_size=chunk_size), whole, G, tol=1e-13)
    loss, gradient = compiled.loss_and_gradient(X, T, loss="ce", chunk_size=chunk_size)
    _close(loss, whole.loss, 1e-13)
    _close(gradient, graphbp.gradient_vector(G, whole), 1e-13)


def test_gradient_against_central_differences_of_the_compiled_loss():
    G = random_dag(30, k=4, p=0.75, n_inputs=3, n_outputs=2, seed=9)
    rng = np.random.default_rng(9)
    X, T = _set_up(G, "sse", rng)
    compiled = graphbp.compile(G)
    theta = compiled.get_parameters()
    _, gradient = compiled.loss_and_gradient(X, T)
    eps = 1e-6
    for k in rng.choice(theta.size, size=25, replace=False):
        step = np.zeros_like(theta)
        step[k] = eps
        plus = compiled.set_parameters(theta + step).loss_and_gradient(X, T)[0]
        minus = compiled.set_parameters(theta - step).loss_and_gradient(X, T)[0]
        assert gradient[k] == pytest.approx((plus - minus) / (2 * eps), rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
def test_compiled_matches_torch(loss, torch):
    G = random_dag(80, k=6, p=0.75, n_inputs=4, n_outputs=4, seed=4)
    rng = np.random.default_rng(4)
    X, T = _set_up(G, loss, rng)
    assert_matches_torch(torch, G, graphbp.compile(G).backprop(X, T, loss=loss), X, T, loss, tol=1e-10)


def test_parameter_vector_order_and_round_trip():
    G = random_dag(50, k=4, p=0.75, n_inputs=3, n_outputs=2, seed=1)
    rng = np.random.default_rng(1)
    X, T = _set_up(G, "sse", rng)
    compiled = graphbp.compile(G)
    assert compiled.parameter_keys() == graphbp.parameter_keys(G)
    np.testing.assert_array_equal(compiled.get_parameters(), graphbp.get_parameters(G))
    theta = rng.normal(size=compiled.get_parameters().size)
    compiled.set_parameters(theta)
    np.testing.assert_array_equal(graphbp.get_parameters(G) != theta, True)  # graph untouched so far
    _, gradient = compiled.loss_and_gradient(X, T)
    compiled.write_back()
    np.testing.assert_array_equal(graphbp.get_parameters(G), theta)  # exact round trip
    _close(gradient, graphbp.gradient_vector(G, graphbp.backprop(G, X, T)), 1e-12)


def test_refresh_reads_weights_changed_on_the_graph():
    G = graphbp.bishop_network()
    compiled = graphbp.compile(G)
    G.edges["x1", "z1"]["weight"] = 1.5
    G.nodes["y2"]["bias"] = -0.25
    assert compiled.get_parameters()[0] == 0.5
    compiled.refresh()
    assert compiled.get_parameters()[0] == 1.5 and compiled.get_parameters()[-1] == -0.25
    assert_same_result(compiled.backprop([0.3, -0.7], [1.0, 0.0]), graphbp.backprop(G, [0.3, -0.7], [1.0, 0.0]), G)


def test_engine_option_of_backprop():
    G = graphbp.irregular_network()
    X, T = [[0.2, -0.4], [1.0, 0.5]], [[0.1, 0.2], [0.3, -0.1]]
    assert_same_result(graphbp.backprop(G, X, T, engine="compiled"), graphbp.backprop(G, X, T), G)
    with unchanged(G), pytest.raises(GraphBPError, match="unknown engine 'fast'; known: compiled, reference"):
        graphbp.backprop(G, X, T, engine="fast")


def test_forward_equals_reference():
    G = skip_mlp([3, 5, 5, 2], seed=3)
    X = np.random.default_rng(3).normal(size=(6, 3))
    for variant in _available_variants().values():
        ours, theirs = graphbp.compile(G, **variant).forward(X), graphbp.forward(G, X)
        _close(ours.y, theirs.y, 1e-12)
        _close([ours.z[n] for n in G], [theirs.z[n] for n in G], 1e-12)
        assert ours.inputs == theirs.inputs and ours.outputs == theirs.outputs
    assert graphbp.compile(G).forward(X[0]).a["x1"] == X[0, 0]


def test_numpy_fallback_without_numba(monkeypatch):
    monkeypatch.setattr(compiled_backends, "numba_available", lambda: False)
    G = graphbp.irregular_network()
    compiled = graphbp.compile(G)
    assert compiled.backend == "numpy"
    X, T = [[0.2, -0.4]], [[0.1, 0.2]]
    assert_same_result(compiled.backprop(X, T), graphbp.backprop(G, X, T), G)
    with unchanged(G), pytest.raises(GraphBPError, match=r"backend='numba' needs numba: pip install 'graphbp\[fast\]'"):
        graphbp.compile(G, backend="numba")


def test_results_are_read_only_mappings_convertible_to_dicts():
    G = graphbp.bishop_network()
    result = graphbp.compile(G).backprop([[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [1.0, 1.0]])
    as_dict = dict(result.grad_weight)
    assert len(as_dict) == 12 and as_dict == result.grad_weight
    assert list(result.delta) == list(graphbp.read_network(G).order)
    assert "ArrayMapping" in repr(result.grad_bias)
    with pytest.raises(TypeError):
        result.grad_bias["z1"] = 0.0


def test_bad_input_is_named():
    G = graphbp.bishop_network()
    with unchanged(G), pytest.raises(GraphBPError, match="dtype must be float64 or float32, got int32"):
        graphbp.compile(G, dtype=np.int32)
    with unchanged(G), pytest.raises(GraphBPError, match="unknown backend 'cuda'; known: auto, numba, numpy"):
        graphbp.compile(G, backend="cuda")
    compiled = graphbp.compile(G)
    with pytest.raises(ShapeError, match=r"x has shape \(3,\); expected \(N, 2\)"):
        compiled.backprop([1.0, 2.0, 3.0], [0.0, 0.0])
    with pytest.raises(ShapeError, match="chunk_size must be a positive number of samples, got 0"):
        compiled.backprop([1.0, 2.0], [0.0, 0.0], chunk_size=0)
    with pytest.raises(ShapeError, match=r"parameter vector has shape \(3,\); this network has 17 parameters"):
        compiled.set_parameters([1.0, 2.0, 3.0])
    theta = compiled.get_parameters()
    theta[12] = np.nan
    with pytest.raises(ShapeError, match=r"entry 12 \(bias 'z1'\) is nan"):
        compiled.set_parameters(theta)
    G.edges["x1", "z1"]["weight"] = float("inf")
    with unchanged(G), pytest.raises(ParameterError, match=r"edge \('x1', 'z1'\) has weight inf"):
        compiled.refresh()
    G.edges["x1", "z1"]["weight"] = 0.5
    G.nodes["z2"]["bias"] = None
    with unchanged(G), pytest.raises(ParameterError, match="node 'z2' has bias None"):
        compiled.refresh()
    del G.nodes["z2"]["bias"]
    del G.edges["x2", "z3"]["weight"]
    with unchanged(G), pytest.raises(ParameterError, match=r"edge \('x2', 'z3'\) has no 'weight' attribute"):
        compiled.refresh()
    G.edges["x2", "z3"]["weight"] = 0.4
    G.add_edge("x1", "y1", weight=1.0)
    with unchanged(G), pytest.raises(GraphStructureError, match="changed since it was compiled"):
        compiled.refresh()
    with pytest.raises(GraphStructureError, match="cycle"):
        graphbp.compile(nx.DiGraph([("a", "b", {"weight": 1.0}), ("b", "a", {"weight": 1.0})]))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_non_finite_values_are_errors_naming_the_node(variant):
    """As the reference: an overflow in z or δ raises NumericalError at the node where it appears."""
    G = nx.DiGraph()
    nx.add_path(G, ["x", "a", "b", "y"], weight=1e200)
    G.nodes["a"]["activation"] = G.nodes["b"]["activation"] = "identity"
    compiled = graphbp.compile(G, **VARIANTS[variant])
    with pytest.raises(NumericalError, match=r"z of node 'b' is inf in sample 1"):
        compiled.forward([[0.0], [1.0]])
    with pytest.raises(NumericalError, match=r"z of node 'b' is inf in sample 1"):
        compiled.loss_and_gradient([[0.0], [1.0]], [[0.0], [0.0]])
    H = nx.DiGraph()
    nx.add_path(H, ["x", "h", "y"], weight=1e160)
    H.nodes["h"]["activation"] = "tanh"
    with np.errstate(over="ignore"), pytest.raises(NumericalError, match="delta of node 'h'"):
        graphbp.compile(H, **VARIANTS[variant]).backprop([[0.0]], [[1e170]])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_division_by_zero_in_an_activation_is_the_reference_error_naming_the_node(variant):
    """h(a) = 1/a at a = 0 is inf as in numpy (numba compiles the table's functions with numpy's error model,
    not Python's ZeroDivisionError); the finiteness check then names the node, as the reference does."""
    G = nx.DiGraph()
    nx.add_path(G, ["x", "h", "y"], weight=1.0)
    G.nodes["h"]["activation"] = Activation("reciprocal", lambda a: 1.0 / a, lambda a: -1.0 / (a * a))
    G.nodes["h"]["bias"] = 0.0
    message = r"z of node 'h' is inf in sample 1"
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(NumericalError, match=message):
        graphbp.backprop(G, [[1.0], [0.0]], [[0.0], [0.0]])
    with pytest.raises(NumericalError, match=message):
        graphbp.compile(G, **VARIANTS[variant]).loss_and_gradient([[1.0], [0.0]], [[0.0], [0.0]])


def test_without_a_thread_count_each_thread_takes_at_least_min_thread_work_edge_samples(numba, monkeypatch):
    """threads=None: one thread per 2^21 edge-samples at most (a smaller share costs more to hand over than it
    saves); a given thread count is used as given. The spans cover the batch's columns in order."""
    import numba as numba_module

    from graphbp.compiled.kernels_numba import MIN_THREAD_WORK

    monkeypatch.setattr(numba_module, "get_num_threads", lambda: 8)
    G = mlp([64, 256, 64], seed=0)  # 32,768 edges: 64 samples are 2^21 edge-samples
    assert G.number_of_edges() * 64 == MIN_THREAD_WORK
    automatic, given = graphbp.compile(G).kernels, graphbp.compile(G, threads=3).kernels
    assert automatic._spans(64) == [(0, 64)]
    assert automatic._spans(127) == [(0, 127)]
    assert automatic._spans(128) == [(0, 64), (64, 128)]
    assert automatic._spans(256) == [(0, 64), (64, 128), (128, 192), (192, 256)]
    assert given._spans(64) == [(0, 21), (21, 42), (42, 64)]
    assert given._spans(31) == [(0, 31)]  # under 2 x 16 samples: one thread either way


def test_the_row_kernels_of_plain_arithmetic_activations_are_vectorized(numba):
    """tanh and relu inline into the loop over a row, which LLVM turns into packed (SIMD) arithmetic:
    a call per number, or Python's division check, would keep it scalar."""
    import platform

    from graphbp.compiled.kernels_numba import row_kernels

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the packed-instruction names checked are x86's")
    for name in ("tanh", "relu"):
        for kernel in row_kernels(graphbp.get_activation(name)):
            assembly = kernel.inspect_asm(kernel.signatures[0])
            assert re.search(r"\bv?(mul|max|v?fn?madd\w*)pd\b", assembly), name


# ∂L/∂y of each built-in loss, so vjp(x, ∂L/∂y) must reproduce backprop's gradients and input deltas.
LOSS_OUTPUT_GRADIENT = {
    "sse": lambda y, t: y - t,
    "bce": lambda y, t: (y - t) / (y * (1 - y)),
    "ce": lambda y, t: -t / y,
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
@pytest.mark.parametrize("builder", ["irregular", "watts_strogatz", "odd_names"])
def test_vjp_of_a_loss_gradient_equals_backprop(builder, loss, variant):
    rng = np.random.default_rng(5)
    G = BUILDERS[builder](5)
    X, T = _set_up(G, loss, rng, custom=builder == "watts_strogatz")
    net = graphbp.compile(G, **VARIANTS[variant])
    reference = graphbp.backprop(G, X, T, loss=loss)
    grad_x, grad_theta = net.vjp(X, LOSS_OUTPUT_GRADIENT[loss](reference.y, T))
    _close(grad_theta, graphbp.gradient_vector(G, reference), 1e-12)
    _close(grad_x, np.stack([reference.delta[i] for i in net.network.inputs], axis=1), 1e-12)
    one_x, one_theta = net.vjp(X[0], LOSS_OUTPUT_GRADIENT[loss](reference.y[0], T[0]))
    single = graphbp.backprop(G, X[0], T[0], loss=loss)
    assert one_x.shape == (len(net.network.inputs),)
    _close(one_theta, graphbp.gradient_vector(G, single), 1e-12)


def test_vjp_bad_shapes_are_named():
    net = graphbp.compile(graphbp.bishop_network(), backend="numpy")
    with pytest.raises(ShapeError, match=r"grad_y has shape \(3, 1\); expected \(N, 2\)"):
        net.vjp(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ShapeError, match="must hold the same samples"):
        net.vjp(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ShapeError, match=r"grad_y\[0\] has nan for node 'y1'"):
        net.vjp(np.zeros((1, 2)), [[np.nan, 0.0]])


@pytest.fixture
def whole_calls(numba, monkeypatch):
    """The batch sizes of the passes run in one call (NumbaKernels.whole, not None), as they are made."""
    from graphbp.compiled.kernels_numba import NumbaKernels

    calls = []
    original = NumbaKernels.whole

    def counted(self, loss, X, T, work):
        done = original(self, loss, X, T, work)
        if done is not None:
            calls.append(X.shape[0])
        return done

    monkeypatch.setattr(NumbaKernels, "whole", counted)
    return calls


@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_small_batches_run_as_one_call_and_equal_the_reference(builder, loss, whole_calls):
    """Fewer than 32 samples: forward, the loss and backward in one numba call, same numbers as the reference."""
    rng = np.random.default_rng([len(builder), len(loss)])
    G = BUILDERS[builder](1)
    X, T = _set_up(G, loss, rng)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        compiled = graphbp.compile(G, backend="numba", dtype=dtype)
        for x, t in ((X[:5], T[:5]), (X[:31], T[:31]), (X[3], T[3])):
            reference = graphbp.backprop(G, x, t, loss=loss)
            assert_same_result(compiled.backprop(x, t, loss=loss), reference, G, tol)
            value, gradient = compiled.loss_and_gradient(x, t, loss=loss)
            _close(value, reference.loss, tol)
            _close(gradient, graphbp.gradient_vector(G, reference), tol)
    assert whole_calls == [5, 5, 31, 31, 1, 1] * 2  # backprop and loss_and_gradient
    compiled.backprop(X[:32], T[:32], loss=loss)
    compiled.backprop(X[:5], T[:5], loss=loss, chunk_size=2)
    assert len(whole_calls) == 12, "32 samples, or chunks, take the kernels one by one"


def test_small_batch_bad_values_are_named_as_on_the_other_path(whole_calls):
    """NaN/inf in x or t are looked for only when Σ z or Σ δ is not finite; the message is the reference's."""
    G = graphbp.bishop_network()
    compiled = graphbp.compile(G, backend="numba")
    x, t = np.ones((3, 2)), np.zeros((3, 2))
    for bad_x, bad_t, match in (
        (np.nan, 0.0, r"x\[1\] has nan for node 'x2'"),
        (np.inf, 0.0, r"x\[1\] has inf for node 'x2'"),
        (1.0, -np.inf, r"t\[1\] has -inf for node 'y2'"),
    ):
        X, T = x.copy(), t.copy()
        X[1, 1], T[1, 1] = bad_x, bad_t
        for run in (compiled.backprop, compiled.loss_and_gradient, lambda X, T: graphbp.backprop(G, X, T)):
            with pytest.raises(ShapeError, match=match):
                run(X, T)
    with pytest.raises(ShapeError, match=r"x has shape \(3, 3\)"):
        compiled.backprop(np.ones((3, 3)), t)
    assert len(whole_calls) == 6, "the bad values reached the one-call pass, which found them non-finite"


def test_a_users_loss_takes_the_kernels_one_by_one(whole_calls):
    """Only the built-in losses run inside the one-call pass; a user's Loss gets the same numbers the other way."""
    from graphbp.losses import Loss, get_loss

    sse = get_loss("sse")
    halved = Loss("half_sse", None, lambda A, Y, T, groups: sse.per_sample(A, Y, T, groups) / 2,
                  lambda A, Y, T, slope, groups: sse.output_delta(A, Y, T, slope, groups) / 2)  # fmt: skip
    G = graphbp.irregular_network()
    rng = np.random.default_rng(3)
    X, T = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    result = graphbp.compile(G, backend="numba").backprop(X, T, loss=halved)
    reference = graphbp.backprop(G, X, T)
    _close(result.loss, reference.loss / 2, 1e-12)
    _close([result.grad_weight[e] for e in G.edges], [reference.grad_weight[e] / 2 for e in G.edges], 1e-12)
    assert whole_calls == []


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_compiled_result_is_a_backprop_result_whose_fields_are_made_on_first_use(backend, request):
    """CompiledResult: the reference's values and types, its own arrays per pass, replace() and pickle work."""
    import dataclasses
    import pickle

    if backend == "numba":
        request.getfixturevalue("numba")  # skips without numba (fails under CI)
    G = graphbp.irregular_network()
    net = graphbp.compile(G, backend=backend)
    rng = np.random.default_rng(11)
    X, T = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
    for x, t in ((X[0], T[0]), (X[:3], T[:3]), (X, T)):  # one sample, the one-call pass (numba), 40 samples
        result, reference = net.backprop(x, t), graphbp.backprop(G, x, t)
        assert isinstance(result, graphbp.BackpropResult) and isinstance(result, graphbp.compiled.CompiledResult)
        assert "a" not in vars(result) and "y" not in vars(result), "made on first use"
        assert_same_result(result, reference, G)
        assert result.a is result.a and result.y is result.y, "made once"
        if x.ndim == 1:
            assert type(result.sample_loss) is float and type(result.a["x1"]) is float and result.y.shape == (2,)
            assert result.sample_loss == result.loss
        later = net.backprop(-2 * x, t)  # a later pass has its own arrays
        assert later.loss != result.loss
        assert_same_result(result, reference, G)
        changed = dataclasses.replace(result, loss=7.0)
        assert changed.loss == 7.0 and changed.delta is result.delta and changed.y is result.y
        assert_same_result(pickle.loads(pickle.dumps(result)), reference, G)
        assert graphbp.gradient_vector(G, result) == pytest.approx(graphbp.gradient_vector(G, reference), rel=1e-12)


def test_the_kernels_tanh_is_within_3_ulp_of_the_exact_value(numba):
    """np.tanh inside the numba kernels is graphbp.compiled.kernel_math.tanh: checked against extended precision
    (against libm's tanh with one ulp more where long double is a plain double)."""
    from graphbp.compiled.kernels_numba import row_kernels

    activate, _ = row_kernels(graphbp.get_activation("tanh"))
    rng = np.random.default_rng(5)
    switch = 0.2
    x = np.concatenate(
        [rng.normal(size=200_000) * scale for scale in (1e-9, 1e-3, 0.05, 0.2, 1.0, 4.0, 20.0)]
        + [np.linspace(-1.0, 1.0, 40_001), np.nextafter(switch, [-1.0, 2.0]), [switch, -switch, 1e-310, -1e-310, 710.0, -710.0]]
    )
    z = np.empty((1, x.size))
    activate(x[None, :], z, 0, 0, x.size)
    if np.finfo(np.longdouble).nmant > 52:  # x86: 64-bit mantissa, so tanh is exact to well under an ulp of a double
        exact, allowed = np.tanh(x.astype(np.longdouble)), 3.0
    else:  # long double is a double here: libm's tanh (within ~1 ulp) stands in, one ulp more allowed
        exact, allowed = np.tanh(x), 4.0
    ulp = np.spacing(np.abs(exact).astype(np.float64))
    assert np.max(np.abs(z[0] - exact) / ulp) <= allowed
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])
    out = np.empty((1, specials.size))
    activate(specials[None, :], out, 0, 0, specials.size)
    np.testing.assert_array_equal(out[0], [0.0, -0.0, 1.0, -1.0, np.nan])
    assert list(np.signbit(out[0, :2])) == [False, True]


@pytest.mark.parametrize("name", ["exp", "log"])
def test_the_kernels_exp_and_log_are_within_3_ulp_of_the_exact_value(numba, name):
    """np.exp and np.log inside the numba kernels are graphbp.compiled.kernel_math's: swept over all of float64
    (subnormals, overflow, the edges of the reduction) against extended precision, and numpy's special values."""
    from graphbp.compiled import kernel_math
    from graphbp.compiled.kernels_numba import row_kernels

    assert getattr(kernel_math.KERNEL_NUMPY, name) is getattr(kernel_math, name)
    ufunc = getattr(np, name)
    activate, _ = row_kernels(graphbp.activations.Activation(f"kernel {name}", ufunc, ufunc))

    def row(x, out):
        activate(x[None, :], out[None, :], 0, 0, x.size)

    rng = np.random.default_rng(7)
    if name == "exp":
        x = np.concatenate(
            [rng.uniform(-745.1, 709.78, 100_000), rng.normal(size=20_000), rng.normal(size=20_000) * 1e-9]
            + [np.arange(-1074, 1024) * np.log(2), [-745.13, 709.78, 1e-310]]
        )
        specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 709.79, 800.0, -745.14, -1e300]
        expected = [1.0, 1.0, np.inf, 0.0, np.nan, np.inf, np.inf, 0.0, 0.0]
    else:
        x = np.concatenate(
            [np.exp(rng.uniform(-744.0, 709.0, 100_000)), rng.uniform(0.5, 2.0, 20_000), 1.0 + rng.normal(size=20_000) * 1e-9]
            + [np.nextafter(np.sqrt(2.0), [0.0, 2.0]), [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1.0]]
        )
        specials = [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -5e-324, 1.0]
        expected = [-np.inf, -np.inf, np.inf, np.nan, np.nan, np.nan, np.nan, 0.0]
    z = np.empty_like(x)
    row(x, z)
    if np.finfo(np.longdouble).nmant > 52:  # x86: 64-bit mantissa, well under an ulp of a double
        exact, allowed = getattr(np, name)(x.astype(np.longdouble)), 3.0
    else:  # long double is a double here: libm stands in, one ulp more allowed
        exact, allowed = getattr(np, name)(x), 4.0
    ulp = np.spacing(np.abs(exact).astype(np.float64))
    assert np.max(np.abs(z - exact) / ulp) <= allowed
    out = np.empty(len(specials))
    row(np.array(specials), out)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # named by graphbp, not numpy's "overflow encountered in cast"
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_parameter_beyond_float32_is_named_in_a_float32_compile(backend):
    if backend == "numba" and not compiled_backends.numba_available():
        missing("numba", "pip install -e '.[fast]'")
    G = nx.DiGraph([("x", "h", {"weight": 1e160}), ("h", "y", {"weight": 1e-160})])
    G.nodes["h"]["activation"] = "identity"
    beyond = r"weight \('x', 'h'\) is 1e\+160, beyond float32's range \(±3.4e\+38\): use float64"
    with pytest.raises(graphbp.ParameterError, match=beyond):
        graphbp.compile(G, dtype=np.float32, backend=backend)
    assert graphbp.compile(G, backend=backend).loss_and_gradient([1.0], [0.0])[0] == pytest.approx(0.5)  # float64 holds it
    small = graphbp.compile(nx.DiGraph([("x", "y", {"weight": 1.0})]), dtype=np.float32, backend=backend)
    with pytest.raises(graphbp.ParameterError, match=r"bias 'y' is -4e\+38, beyond float32's range"):
        small.set_parameters([1.0, -4e38])
    assert small.set_parameters([1.0, -3e38]).get_parameters()[1] == -3e38  # inside the range: taken
    with pytest.raises(graphbp.ParameterError, match="graph 1 of the population: " + beyond):
        graphbp.compile_many([nx.DiGraph([("x", "y", {"weight": 1.0})]), G], dtype=np.float32, backend=backend)
