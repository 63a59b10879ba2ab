"""The activation table is the one source of h, h', h'' for every engine: numpy, numba and torch."""

import math
import types

import numpy as np
import pytest

import graphbp
from graphbp import Activation, ActivationError
from graphbp.activations import rebind, torch_activation
from graphbp.wiring import INPUT, SOFTMAX_CODE, build_wiring

BUILTIN = ["identity", "tanh", "logistic", "relu", "leaky_relu", "softplus"]
GRID = np.concatenate([np.linspace(-40.0, 40.0, 81), [-1e-3, 1e-3, 0.37, -2.9]])  # no kink hit exactly
SOFTSIGN = Activation(
    "softsign_test",
    lambda a: a / (1.0 + np.abs(a)),
    lambda a: 1.0 / (1.0 + np.abs(a)) ** 2,
    lambda a: -2.0 * np.sign(a) / (1.0 + np.abs(a)) ** 3,
)
# np.where cannot give one float for one float inside numba: the engine must fall back to Python.
WHERE_RELU = Activation("where_relu", lambda a: np.where(a > 0, a, 0.0), lambda a: np.where(a > 0, 1.0, 0.0))


def _net_with(activation, seed=5):
    G = graphbp.random_dag(30, k=4, p=0.5, n_inputs=3, n_outputs=2, activation=activation, seed=seed)
    rng = np.random.default_rng(seed)
    for n in G:
        if G.in_degree(n):
            G.nodes[n]["bias"] = float(rng.normal(scale=0.3))
    return G, rng.normal(size=(20, 3)), rng.normal(size=(20, 2))


def _assert_same(result, reference, G):
    scale = max(abs(v) for v in reference.grad_weight.values())
    assert abs(result.loss - reference.loss) <= 1e-12 * abs(reference.loss)
    assert max(abs(result.grad_weight[e] - reference.grad_weight[e]) for e in G.edges) <= 1e-12 * scale
    assert max(abs(result.grad_bias[n] - reference.grad_bias[n]) for n in reference.grad_bias) <= 1e-12 * scale


@pytest.mark.parametrize("name", BUILTIN + ["sigmoid"])
def test_each_entry_derivatives_match_central_differences(name):
    act = graphbp.get_activation(name)
    a, eps = GRID[np.abs(GRID) > 1e-2], 1e-6
    assert np.allclose(act.derivative(a), (act.function(a + eps) - act.function(a - eps)) / (2 * eps), atol=1e-8)
    assert np.allclose(act.second_derivative(a), (act.derivative(a + eps) - act.derivative(a - eps)) / (2 * eps),
                       atol=1e-7)


def test_logistic_is_exact_in_both_tails():
    """exp of a non-positive number only: σ(-800) is e^-800, σ(800) is 1, no overflow warning."""
    logistic = graphbp.get_activation("logistic").function
    with np.errstate(over="raise"):
        values = logistic(np.array([-800.0, -30.0, 0.0, 30.0, 800.0]))
    assert values[0] == 0.0 and values[-1] == 1.0 and values[2] == 0.5
    assert values[1] == pytest.approx(math.exp(-30.0) / (1 + math.exp(-30.0)), rel=1e-15)


def test_rebind_runs_an_entry_on_another_array_library():
    """The same function object, with np meaning plain Python floats: same numbers, helpers rebound too."""
    floats = types.SimpleNamespace(tanh=math.tanh, exp=math.exp, abs=abs, minimum=min, maximum=max)
    for name in ("tanh", "logistic", "relu"):  # logistic's derivative calls the _logistic helper
        act = graphbp.get_activation(name)
        for a in (-3.0, -0.2, 0.0, 1.7):
            value = rebind(act.derivative, floats)(a)
            assert type(value) is float and value == pytest.approx(float(act.derivative(np.array(a))), rel=1e-14)


@pytest.mark.parametrize("name", BUILTIN)
def test_numba_compiles_the_table_functions_to_the_same_numbers(numba, name):
    from graphbp.compiled.kernels_numba import compiled_activation

    act = graphbp.get_activation(name)
    h, slope = compiled_activation(act)
    # numba's libm and numpy's own tanh/exp may differ in the last ulp; 1 - tanh² cancels, so compare on h's scale.
    assert np.allclose([h(v) for v in GRID], act.function(GRID), rtol=1e-14, atol=1e-15)
    assert np.allclose([slope(v) for v in GRID], act.derivative(GRID), rtol=1e-14, atol=1e-15)


def test_kernel_codes_are_indices_into_the_table_entries_the_network_uses():
    G = graphbp.irregular_network()
    G.nodes["h3"]["activation"] = SOFTSIGN
    net = graphbp.read_network(G)
    wiring = build_wiring(G, net)
    assert wiring.activations == (graphbp.get_activation("tanh"), graphbp.get_activation("logistic"),
                                  graphbp.get_activation("identity"), SOFTSIGN, graphbp.get_activation("relu"))
    for unit, code in zip(net.units, wiring.unit_code.tolist()):
        if unit[0] in net.inputs:
            assert code == INPUT
        else:
            assert code != SOFTMAX_CODE and wiring.activations[code] is net.activation[unit[0]]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_registered_activation_runs_inside_the_numba_kernels(numba, threads):
    from graphbp.compiled.kernels_numba import PYTHON

    G, X, T = _net_with(SOFTSIGN)
    compiled = graphbp.compile(G, backend="numba", threads=threads)
    assert PYTHON not in compiled.kernels.codes  # compiled, not a Python call between kernel runs
    _assert_same(compiled.backprop(X, T), graphbp.backprop(G, X, T), G)


@pytest.mark.parametrize("name", BUILTIN)
def test_an_output_derivative_is_the_derivative_written_from_z(name):
    act = graphbp.get_activation(name)
    if act.output_derivative is not None:
        assert np.allclose(act.output_derivative(GRID, act.function(GRID)), act.derivative(GRID), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_numba_backward_uses_a_registered_output_derivative(numba, dtype):
    # softsign: z = a / (1 + |a|), so h'(a) = 1 / (1 + |a|)² = (1 − |z|)², written from z alone.
    from_z = Activation("softsign_from_z", SOFTSIGN.function, SOFTSIGN.derivative,
                        output_derivative=lambda a, z: (1.0 - np.abs(z)) ** 2)
    G, X, T = _net_with(from_z)
    reference = graphbp.backprop(G, X, T)
    result = graphbp.compile(G, backend="numba", dtype=dtype).backprop(X, T)
    if dtype == np.float64:
        _assert_same(result, reference, G)
    else:
        assert np.allclose(graphbp.gradient_vector(G, result), graphbp.gradient_vector(G, reference), rtol=1e-4, atol=1e-5)
    # A wrong h'(a, z) changes the gradient: the kernels read it, not h'(a).
    wrong = Activation("softsign_wrong_slope", SOFTSIGN.function, SOFTSIGN.derivative,
                       output_derivative=lambda a, z: 2.0 * (1.0 - np.abs(z)) ** 2)
    G_wrong, _, _ = _net_with(wrong)
    off = graphbp.compile(G_wrong, backend="numba", dtype=dtype).backprop(X, T)
    assert off.loss == pytest.approx(reference.loss, rel=1e-5)  # forward untouched
    assert not np.allclose(graphbp.gradient_vector(G_wrong, off), graphbp.gradient_vector(G, reference), rtol=1e-3)


def test_an_activation_numba_cannot_compile_falls_back_with_a_warning_saying_why(numba):
    from graphbp.compiled.kernels_numba import PYTHON

    G, X, T = _net_with(WHERE_RELU)
    with pytest.warns(UserWarning, match=r"activation 'where_relu' does not compile with numba \(.+\); .*once per node"):
        compiled = graphbp.compile(G, backend="numba")
    assert PYTHON in compiled.kernels.codes
    _assert_same(compiled.backprop(X, T), graphbp.backprop(G, X, T), G)


def test_to_torch_runs_a_registered_activation_with_the_reference_gradient(torch):
    from graphbp.torch_module import to_torch

    G, X, T = _net_with(SOFTSIGN)
    module = to_torch(G, dtype=torch.float64)
    y = module(torch.as_tensor(X))
    assert np.allclose(y.detach().numpy(), graphbp.forward(G, X).y, rtol=1e-13, atol=1e-15)
    (0.5 * ((y - torch.as_tensor(T)) ** 2).sum()).backward()
    reference = graphbp.backprop(G, X, T)
    assert np.allclose(torch.cat([module.weight.grad, module.bias.grad]).numpy(), graphbp.gradient_vector(G, reference),
                       rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("name", "slope_at_zero"), [("relu", 0.0), ("leaky_relu", 0.01), ("identity", 1.0)])
def test_torch_gradient_is_the_table_derivative_even_at_a_kink(torch, name, slope_at_zero):
    a = torch.tensor([-1.5, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    torch_activation(name)(a).sum().backward()
    table = graphbp.get_activation(name).derivative(np.array([-1.5, 0.0, 2.0]))
    assert a.grad.tolist() == table.tolist() and a.grad[1].item() == slope_at_zero


def test_an_activation_without_a_torch_version_is_named(torch):
    scalar_only = Activation("scalar_only", np.vectorize(math.tanh), lambda a: 1 - np.tanh(a) ** 2)
    with pytest.raises(ActivationError, match="activation 'scalar_only' has no torch version"):
        torch_activation(scalar_only)


# The softmax group: one forward and one Jacobian product, run by every engine.
GROUP_A = np.array([[0.3, -700.0, 2.0, 800.0], [-1.2, -701.5, 2.0, 0.0], [0.9, -699.0, -3.0, 799.0]])
GROUP_G = np.array([[1.0, -0.5, 0.25, 2.0], [0.0, 1.5, -1.0, 0.5], [-2.0, 0.75, 3.0, -1.0]])


def test_softmax_and_its_jacobian_product_match_central_differences_and_torch_autograd(torch):
    from graphbp.activations import softmax, softmax_product

    z = softmax(GROUP_A)
    assert np.isfinite(z).all() and np.allclose(z.sum(axis=0), 1.0, rtol=1e-15)
    assert np.allclose(z, torch.softmax(torch.as_tensor(GROUP_A), dim=0).numpy(), rtol=1e-14, atol=1e-300)
    eps = 1e-6  # J g by central differences along g: (z(a + εg) − z(a − εg)) / 2ε
    numeric = (softmax(GROUP_A + eps * GROUP_G) - softmax(GROUP_A - eps * GROUP_G)) / (2 * eps)
    assert np.allclose(softmax_product(z, GROUP_G), numeric, atol=1e-9)
    a = torch.as_tensor(GROUP_A).requires_grad_()
    (torch.softmax(a, dim=0) * torch.as_tensor(GROUP_G)).sum().backward()  # Jᵀ g by torch autograd (J is symmetric)
    assert np.allclose(softmax_product(z, GROUP_G), a.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_numba_and_torch_run_the_same_softmax_functions_to_the_same_numbers(numba, torch):
    from graphbp.activations import softmax, softmax_product, torch_softmax
    from graphbp.compiled.kernels_numba.rows import (
        compiled_softmax,
        compiled_softmax_product,
    )

    z, product = softmax(GROUP_A), softmax_product(softmax(GROUP_A), GROUP_G)
    assert compiled_softmax.py_func.__code__ is softmax.__code__
    assert compiled_softmax_product.py_func.__code__ is softmax_product.__code__
    # A group's rows and a thread's columns: a non-contiguous slice, as the kernels pass it.
    wide = np.zeros((5, 9))
    wide[1:4, 2:6] = GROUP_A
    assert np.allclose(compiled_softmax(wide[1:4, 2:6]), z, rtol=1e-14, atol=1e-300)
    assert np.allclose(compiled_softmax_product(z, GROUP_G), product, rtol=1e-14, atol=1e-15)
    forward, torch_product = torch_softmax()
    assert np.allclose(forward(torch.as_tensor(GROUP_A)).numpy(), z, rtol=1e-14, atol=1e-300)
    assert np.allclose(torch_product(torch.as_tensor(z), torch.as_tensor(GROUP_G)).numpy(), product, rtol=1e-14, atol=1e-15)
