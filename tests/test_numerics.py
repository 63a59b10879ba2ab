"""Every engine at the edges of the numbers: logits of ±800, the kinks at a = 0, float32 work arrays.

Engines: the reference passes, the compiled engine (numba on one and two
threads, the numpy/scipy levels), the torch module of ``to_torch``, and the
independent torch oracle of ``torch_engine`` (losses by torch's own functions).
"""


import networkx as nx
import numpy as np
import pytest
import scipy.sparse

import graphbp
from graphbp.activations import LEAKY_RELU_SLOPE
from graphbp.compiled import backends as compiled_backends
from graphbp.generators import random_dag
from torch_engine import assert_matches_torch
from optional import missing

ENGINES = {
    "reference": None,
    "numba-1": {"backend": "numba", "threads": 1},
    "numba-2": {"backend": "numba", "threads": 2},
    "numpy": {"backend": "numpy"},
}


def run(engine, G, X, T, loss):
    if engine.startswith("numba") and not compiled_backends.numba_available():
        missing("numba", "pip install -e '.[fast]'")
    if ENGINES[engine] is None:
        return graphbp.backprop(G, X, T, loss=loss)
    return graphbp.compile(G, **ENGINES[engine]).backprop(X, T, loss=loss)


# --- logits of ±800 -----------------------------------------------------------------------


def huge_logits(output_activation):
    """x -> h (tanh) -> three outputs whose a_k reach ±800, a hidden logistic unit saturated both ways."""
    G = nx.DiGraph()
    G.add_weighted_edges_from([("x1", "h", 1.0), ("x2", "s", 400.0), ("h", "y1", 800.0), ("h", "y2", -800.0),
                               ("h", "y3", 1.0), ("s", "y3", 0.5), ("x2", "y1", 0.3), ("s", "y2", 0.1)])
    G.graph.update(inputs=["x1", "x2"], outputs=["y1", "y2", "y3"])
    G.nodes["h"]["activation"] = "tanh"
    G.nodes["s"]["activation"] = "logistic"
    for k in G.graph["outputs"]:
        G.nodes[k]["activation"] = output_activation
    X = np.array([[30.0, 2.0], [-30.0, -2.0], [0.0, 0.5], [30.0, -0.5]])  # tanh(±30) = ±1: a = ±800
    return G, X


CASES = {
    # ce: targets that do not sum to one (the Σ_j t_j factor of δ and of the curvature)
    "ce": ("softmax", np.array([[0.2, 0.5, 0.6], [1.0, 0.0, 0.0], [0.0, 0.3, 0.3], [0.1, 0.0, 0.9]])),
    "bce": ("logistic", np.array([[0.2, 0.5, 1.0], [1.0, 0.0, 0.0], [0.0, 0.3, 0.7], [0.9, 0.1, 0.5]])),
    "sse": ("logistic", np.array([[0.2, 0.5, 1.0], [1.0, 0.0, -1.0], [0.0, 0.3, 0.7], [0.9, 0.1, 0.5]])),
}


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("loss", sorted(CASES))
def test_logits_of_800_in_every_engine_equal_torch(loss, engine, torch):
    activation, T = CASES[loss]
    G, X = huge_logits(activation)
    result = run(engine, G, X, T, loss)
    assert np.abs(result.a["y1"]).max() >= 799 and np.abs(result.a["y2"]).max() >= 799
    assert np.isfinite(result.loss) and result.loss > (100 if loss != "sse" else 0.1)  # ce, bce: ~800 per miss
    assert_matches_torch(torch, G, result, X, T, loss, tol=1e-12)


def test_logits_of_800_in_the_torch_module(torch):
    from graphbp.torch_module import to_torch

    for activation in ("softmax", "logistic"):
        G, X = huge_logits(activation)
        y = to_torch(G, dtype=torch.float64)(torch.as_tensor(X)).detach().numpy()
        assert np.isfinite(y).all()
        np.testing.assert_allclose(y, graphbp.forward(G, X).y, rtol=1e-14, atol=1e-300)
        assert set(np.round(y[:2].ravel(), 12)) >= {0.0, 1.0}  # saturated, not NaN


def test_the_loss_of_a_saturated_wrong_answer_is_its_logit():
    """E = logsumexp(a) − a_t: with a = (800, −800, ~0) and t on the second class, E = 1600 to rounding."""
    G, X = huge_logits("softmax")
    result = graphbp.backprop(G, X[:1], [[0.0, 1.0, 0.0]], loss="ce")
    a = [result.a[k][0] for k in ("y1", "y2", "y3")]
    assert result.loss == pytest.approx(a[0] - a[1], rel=1e-15)
    np.testing.assert_allclose(result.y, [[1.0, 0.0, 0.0]], atol=1e-300)


# --- the kinks of relu and leaky_relu ----------------------------------------------------


def kinked(activation):
    """Hidden units with a_j = 0 exactly on some samples, others on either side."""
    G = nx.DiGraph()
    G.add_weighted_edges_from([("x1", "h1", 1.0), ("x2", "h1", -1.0), ("x1", "h2", 3.0), ("h1", "y", 1.5),
                               ("h2", "y", -0.5), ("h1", "h2", 1.0)])
    G.graph.update(inputs=["x1", "x2"], outputs=["y"])
    G.nodes["h1"]["activation"] = G.nodes["h2"]["activation"] = activation
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.25], [-0.5, 0.25], [-2.0, -2.0]])
    return G, X, np.array([[1.0], [1.0], [0.5], [2.0], [-0.5]])


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize(("activation", "slope"), [("relu", 0.0), ("leaky_relu", LEAKY_RELU_SLOPE)])
def test_kinks_follow_one_convention_in_every_engine(activation, slope, engine, torch):
    G, X, T = kinked(activation)
    result = run(engine, G, X, T, "sse")
    a_h1 = np.asarray(result.a["h1"])
    assert a_h1[0] == 0.0 and a_h1[1] == 0.0 and a_h1[4] == 0.0  # at the kink exactly
    through = 1.5 * np.asarray(result.delta["y"]) + 1.0 * np.asarray(result.delta["h2"])
    # h'(0) is the left-hand slope: 0 for relu, the leak for leaky_relu
    np.testing.assert_array_equal(np.asarray(result.delta["h1"])[[0, 1, 4]], slope * through[[0, 1, 4]])
    assert np.any(through[[0, 1, 4]] != 0)
    assert_matches_torch(torch, G, result, X, T, "sse", tol=1e-14)


@pytest.mark.parametrize(("activation", "slope"), [("relu", 0.0), ("leaky_relu", LEAKY_RELU_SLOPE)])
def test_kinks_in_the_torch_module(activation, slope, torch):
    from graphbp.torch_module import to_torch

    G, X, T = kinked(activation)
    module = to_torch(G, dtype=torch.float64)
    x = torch.as_tensor(X).requires_grad_(True)
    torch.nn.functional.mse_loss(module(x), torch.as_tensor(T), reduction="sum").mul(0.5).backward()
    reference = graphbp.backprop(G, X, T)
    np.testing.assert_allclose(x.grad.numpy()[:, 0], reference.delta["x1"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.grad.numpy()[:, 1], reference.delta["x2"], rtol=1e-12, atol=1e-15)
    assert np.any(reference.delta["x1"] != 0)


# --- float32 -------------------------------------------------------------------------------


def float_arrays(value, path="kernels", seen=None):
    """(path, dtype) of every floating array or sparse matrix held, at any depth, by the engine's objects."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, np.ndarray) or scipy.sparse.issparse(value):
        return [(path, value.dtype)] if value.dtype.kind == "f" else []
    if isinstance(value, (list, tuple)):
        return [found for k, item in enumerate(value) for found in float_arrays(item, f"{path}[{k}]", seen)]
    if isinstance(value, dict):
        return [found for k, item in value.items() for found in float_arrays(item, f"{path}[{k!r}]", seen)]
    if type(value).__module__.startswith("graphbp.") and hasattr(value, "__dict__"):
        return [found for k, item in vars(value).items() for found in float_arrays(item, f"{path}.{k}", seen)]
    return []


@pytest.mark.parametrize("engine", ["numba-1", "numba-2", "numpy"])
def test_float32_mode_keeps_every_work_array_in_float32(engine):
    G = random_dag(30, k=4, p=0.75, n_inputs=3, n_outputs=2, seed=8)
    rng = np.random.default_rng(8)
    X, T = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    run(engine, G, X[:1], T[:1], "sse")  # the skip, if any
    compiled = graphbp.compile(G, dtype=np.float32, **ENGINES[engine])
    result = compiled.backprop(X, T)
    loss, gradient = compiled.loss_and_gradient(X, T)
    held = float_arrays(compiled.kernels) + float_arrays(compiled.workspaces, "workspaces")
    assert len(held) >= 3, held  # weights, biases and work arrays were found
    assert [(path, dtype) for path, dtype in held if dtype != np.float32] == []
    for name in ("a", "z", "delta"):
        assert {getattr(result, name)[n].dtype for n in G} == {np.dtype(np.float32)}
    assert result.y.dtype == np.float32
    # float32 rounding is visible, and small: about 1e-7 relative, not 1e-16
    double = graphbp.backprop(G, X, T)
    assert 1e-10 < abs(loss - double.loss) / double.loss < 1e-5
    assert np.abs(gradient - graphbp.gradient_vector(G, double)).max() > 1e-12


# --- an error that overflows while every z and δ stays finite ---------------------------------------------


def _far_output(bias):
    """x -> y (identity) with y's bias `bias`: y ≈ bias, E_n = ½ y² for t = 0, δ_y = y and ∂E/∂x = y all finite."""
    G = nx.DiGraph([("x", "y", {"weight": 1.0})])
    G.nodes["y"]["bias"] = bias
    return G


PATHS = {  # every way an engine computes E: one call, chunk by chunk, the fast loss_and_gradient
    "backprop": lambda engine, G, X, T: run(engine, G, X, T, "sse").loss,
    "chunked": lambda engine, G, X, T: graphbp.compile(G, **ENGINES[engine]).backprop(X, T, chunk_size=1).loss,
    "loss_and_gradient": lambda engine, G, X, T: graphbp.compile(G, **ENGINES[engine]).loss_and_gradient(X, T)[0],
    "loss_and_gradient, chunks of 1": lambda engine, G, X, T: graphbp.compile(G, **ENGINES[engine]).loss_and_gradient(
        X, T, chunk_size=1)[0],
    "loss_and_gradient, 40 samples": lambda engine, G, X, T: graphbp.compile(G, **ENGINES[engine]).loss_and_gradient(
        np.resize(X, (40, 1)), np.resize(T, (40, 1)))[0],
}


@pytest.mark.filterwarnings("error::RuntimeWarning")  # named by graphbp, not warned by numpy
@pytest.mark.parametrize(
    ("engine", "path"),
    [(engine, path) for engine in sorted(ENGINES) for path in sorted(PATHS) if engine != "reference" or path == "backprop"],
)  # the reference has one path
def test_an_error_that_overflows_is_named_not_returned_as_inf(engine, path):
    if engine.startswith("numba") and not compiled_backends.numba_available():
        missing("numba", "pip install -e '.[fast]'")
    X, T = np.array([[1.0], [2.0], [0.5]]), np.zeros((3, 1))
    # E_n = ½ (1e160)² overflows in every sample; nothing else does
    with pytest.raises(graphbp.NumericalError, match=r"E_n is inf in sample 0 \(an overflow"):
        PATHS[path](engine, _far_output(1e160), X, T)
    # each E_n = ½ (1.2e154 + x)² ≈ 7.2e307 is finite, their sum is not
    with pytest.raises(graphbp.NumericalError, match=r"E = Σ_n E_n overflows float64 though every E_n is finite"):
        PATHS[path](engine, _far_output(1.2e154), X, T)
    # just under: a finite E equal to the reference's
    finite, rows = _far_output(1e153), 40 if "40" in path else 3
    expected = graphbp.backprop(finite, np.resize(X, (rows, 1)), np.resize(T, (rows, 1))).loss
    assert PATHS[path](engine, finite, X, T) == pytest.approx(expected, rel=1e-12)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # named by graphbp, not warned by numpy
def test_a_population_and_training_name_an_error_that_overflows():
    X, T = np.array([[1.0], [2.0]]), np.zeros((2, 1))
    population = graphbp.compile_many([_far_output(0.0), _far_output(1e160)], backend="numpy")
    with pytest.raises(graphbp.NumericalError, match=r"graph 1 of the population: E_n is inf in sample 0"):
        population.loss_and_gradient(X, T)
    with pytest.raises(graphbp.NumericalError, match=r"E_n is inf in sample 0"):
        graphbp.train(_far_output(1e160), X, T, epochs=2, progress=False)
