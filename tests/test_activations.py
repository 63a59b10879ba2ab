"""The activation table against torch autograd: h, h' and h'' of every built-in, kinks and ±800 included.

torch gives h by its own functions and h', h'' by differentiating them twice,
so the table's hand-written derivatives are checked against an engine that
shares nothing with it. At the kinks of relu and leaky_relu (a = 0 exactly)
graphbp's convention is torch's: the left-hand slope (0 and the leak), h'' = 0.
"""

import numpy as np
import pytest

from graphbp import Activation, ActivationError, get_activation, register_activation
from graphbp.activations import LEAKY_RELU_SLOPE, _REGISTRY, activation_names

POINTS = np.array([-800.0, -40.0, -3.0, -1.0, -0.5, -1e-300, 0.0, 1e-300, 0.25, 1.0, 2.5, 40.0, 800.0])
TORCH = {
    "identity": lambda torch, a: a * 1.0,
    "tanh": lambda torch, a: torch.tanh(a),
    "logistic": lambda torch, a: torch.sigmoid(a),
    "sigmoid": lambda torch, a: torch.sigmoid(a),
    "relu": lambda torch, a: torch.relu(a),
    "leaky_relu": lambda torch, a: torch.nn.functional.leaky_relu(a, LEAKY_RELU_SLOPE),
    "softplus": lambda torch, a: torch.nn.functional.softplus(a),  # linear above a = 20, to rounding
}


def test_every_built_in_has_a_torch_counterpart():
    assert set(activation_names()) - {"softmax"} >= set(TORCH)


def _torch_derivatives(torch, name, points):
    a = torch.tensor(points, requires_grad=True)
    h = TORCH[name](torch, a)
    (first,) = torch.autograd.grad(h.sum(), a, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), a, allow_unused=True) if first.requires_grad else (None,)
    second = torch.zeros_like(a) if second is None else second
    return h.detach().numpy(), first.detach().numpy(), second.detach().numpy()


@pytest.mark.parametrize("name", sorted(TORCH))
def test_table_entry_equals_torch(name, torch):
    act = get_activation(name)
    h, first, second = _torch_derivatives(torch, name, POINTS)
    for ours, theirs in ((act.function(POINTS), h), (act.derivative(POINTS), first),
                         (act.second_derivative(POINTS), second)):
        ours = np.asarray(ours)
        assert ours.shape == POINTS.shape and np.isfinite(ours).all()
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-16)  # exp(-40) underflows in 1 - σ
    # not all flat: every entry but identity bends somewhere, and its slope varies
    assert name == "identity" or np.ptp(act.derivative(POINTS)) > 0


@pytest.mark.parametrize(("name", "slope"), [("relu", 0.0), ("leaky_relu", LEAKY_RELU_SLOPE)])
def test_kink_convention_is_the_left_slope(name, slope, torch):
    act = get_activation(name)
    at = np.array([-1e-300, 0.0, -0.0, 1e-300])
    np.testing.assert_array_equal(act.function(at), [slope * -1e-300, 0.0, 0.0, 1e-300])
    np.testing.assert_array_equal(act.derivative(at), [slope, slope, slope, 1.0])
    np.testing.assert_array_equal(act.second_derivative(at), 0.0)
    _, first, _ = _torch_derivatives(torch, name, at)
    np.testing.assert_array_equal(first, [slope, slope, slope, 1.0])


def test_registered_entry_is_used_by_name_and_replaced_by_a_second_registration():
    cube = register_activation("test_cube", lambda a: a**3, lambda a: 3 * a**2)
    try:
        assert get_activation("test_cube") is cube and cube.second_derivative is None
        assert "test_cube" in activation_names()
        again = register_activation("test_cube", np.sin, np.cos, lambda a: -np.sin(a))
        assert get_activation("test_cube") is again and again.derivative(0.0) == 1.0
    finally:
        del _REGISTRY["test_cube"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", np.tanh, np.cos), "name must be a non-empty string, got ''"),
        ((None, np.tanh, np.cos), "name must be a non-empty string, got None"),
        ((3, np.tanh, np.cos), "name must be a non-empty string, got 3"),
        (("softmax", np.exp, np.exp), "'softmax' is built in"),
        (("f", 1.0, np.cos), "activation 'f': function must be callable, got 1.0"),
        (("f", np.sin, "cos"), "activation 'f': derivative must be callable, got 'cos'"),
        (("f", np.sin, np.cos, 0.0), "activation 'f': second_derivative must be callable, got 0.0"),
    ],
)
def test_register_activation_refuses_bad_entries(args, message):
    before = dict(_REGISTRY)
    with pytest.raises(ActivationError, match=message.replace("(", r"\(")):
        register_activation(*args)
    assert _REGISTRY == before  # nothing half-registered


def test_an_activation_object_is_checked_when_built():
    with pytest.raises(ActivationError, match="activation 'g': derivative must be callable, got None"):
        Activation("g", np.sin, None)
    with pytest.raises(ActivationError, match="name must be a non-empty string"):
        Activation("", np.sin, np.cos)
    assert Activation("g", np.sin, np.cos).second_derivative is None


@pytest.mark.parametrize("spec", [3, None, np.tanh, ("tanh",)])
def test_get_activation_refuses_what_is_not_a_name_or_entry(spec):
    with pytest.raises(ActivationError, match=r"an activation must be a name or an Activation object.*known names: "):
        get_activation(spec)


def test_get_activation_names_softmax_and_unknown_names():
    with pytest.raises(ActivationError, match="'softmax' couples its units"):
        get_activation("softmax")
    with pytest.raises(ActivationError, match="unknown activation 'Tanh'; known: identity, leaky_relu"):
        get_activation("Tanh")
