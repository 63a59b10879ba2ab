"""The user-facing gradient check, the parameter vector, and the demo command."""

import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

import graphbp
from graphbp import (
    ShapeError,
    backprop,
    check_gradients,
    get_parameters,
    gradient_vector,
    irregular_network,
    parameter_keys,
    set_parameters,
)
from graph_snapshot import unchanged


def _clipped_at(a_h, kinks):
    """x → h → y with h(a) = min(a, 1) (h' jumps at a = 1) and a_h = `a_h` for the one sample."""
    clip = graphbp.Activation("clip_at_1", lambda a: np.minimum(a, 1.0), lambda a: 1.0 * (a <= 1.0),
                              kinks=kinks)
    G = nx.DiGraph([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": 2.0})])
    G.nodes["h"].update(activation=clip, bias=a_h - 0.5)
    return G, [[0.5]], [[3.0]]


def test_gradient_check_reads_the_kinks_from_the_activation_entry():
    # a_h = 1 + 1e-5: the differences at ε = 1e-4 straddle the kink at 1, where h' jumps from 1 to 0
    G, X, T = _clipped_at(1.0 + 1e-5, kinks=(1.0,))
    report = check_gradients(G, X, T)
    skipped = {(v.quantity, v.key) for v in report.at_kink}
    assert {("weight", ("x", "h")), ("bias", "h"), ("delta", ("h", 0))} <= skipped
    assert report.max_rel_error < 1e-8 and "cross a kink" in str(report)
    # the same function without its kink declared: the straddling difference is compared, and is wrong
    G, X, T = _clipped_at(1.0 + 1e-5, kinks=())
    report = check_gradients(G, X, T)
    assert report.at_kink == () and report.max_rel_error > 0.1
    # far from the kink nothing is set apart
    G, X, T = _clipped_at(0.3, kinks=(1.0,))
    assert check_gradients(G, X, T).at_kink == ()


def test_relu_family_kinks_live_in_the_table():
    assert graphbp.get_activation("relu").kinks == (0.0,)
    assert graphbp.get_activation("leaky_relu").kinks == (0.0,)
    assert graphbp.get_activation("tanh").kinks == ()
    two = graphbp.Activation("two_kinks", np.abs, np.sign, kinks=[1, -2])
    assert two.kinks == (-2.0, 1.0)  # stored sorted, as floats
    for bad in ([np.nan], ["left"], 3.0):
        with pytest.raises(graphbp.ActivationError, match="two_kinks.*kinks must be finite numbers"):
            graphbp.Activation("two_kinks", np.abs, np.sign, kinks=bad)


def test_gradient_check_catches_a_wrong_derivative():
    wrong = graphbp.Activation("wrong_tanh", np.tanh, lambda a: 1.01 * (1 - np.tanh(a) ** 2))
    G = irregular_network()
    G.nodes["h1"]["activation"] = wrong
    report = check_gradients(G, [[0.5, -1.0], [0.2, 0.3]], [[1.0, 0.0], [0.0, 1.0]])
    assert report.max_rel_error > 1e-3
    assert "h1" in str(report.worst.key)  # the worst value is h1's δ, bias or an edge into h1
    assert "worst relative error" in str(report)


@pytest.mark.parametrize("richardson, bound", [(True, 1e-8), (False, 1e-6)])
def test_gradient_check_orders(richardson, bound):
    G = irregular_network()
    report = check_gradients(G, [[0.5, -1.0], [0.2, 0.3]], [[1.0, 0.0], [0.0, 1.0]],
                             eps=1e-4 if richardson else 1e-5, richardson=richardson)
    n_params = G.number_of_edges() + G.number_of_nodes() - 2
    assert len(report.values) == n_params + 2 * G.number_of_nodes()
    assert report.max_rel_error <= bound


def test_gradient_check_perturbs_a_to_check_delta():
    G = nx.DiGraph([("x", "y", {"weight": 3.0})])
    report = check_gradients(G, [[2.0], [1.0]], [[0.0], [0.0]])
    deltas = {v.key: v.numeric for v in report.values if v.quantity == "delta"}
    # y = 3x, δ_y = y − t = 6 and 3; δ_x = w δ_y = 18 and 9
    assert deltas == pytest.approx({("y", 0): 6.0, ("y", 1): 3.0, ("x", 0): 18.0, ("x", 1): 9.0}, rel=1e-9)


def test_parameter_vector_round_trip_is_exact():
    G = irregular_network()
    theta = get_parameters(G)
    keys = parameter_keys(G)
    assert len(theta) == len(keys) == G.number_of_edges() + 6
    assert keys[-1] == ("bias", "y2") and keys[0][0] == "weight"
    new = np.random.default_rng(1).normal(size=theta.size)
    set_parameters(G, new)
    np.testing.assert_array_equal(get_parameters(G), new)
    for value, (kind, key) in zip(new, keys):
        stored = G.edges[key]["weight"] if kind == "weight" else G.nodes[key]["bias"]
        assert stored == value


def test_gradient_vector_matches_finite_differences_of_the_vector():
    G = irregular_network()
    X, T = np.array([[0.5, -1.0], [0.2, 0.3]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    theta = get_parameters(G)
    grad = gradient_vector(G, backprop(G, X, T))
    eps = 1e-6
    for k in (0, 5, len(theta) - 1):
        step = np.zeros_like(theta)
        step[k] = eps
        up = backprop(set_parameters(G.copy(), theta + step), X, T).loss
        down = backprop(set_parameters(G.copy(), theta - step), X, T).loss
        assert grad[k] == pytest.approx((up - down) / (2 * eps), rel=1e-6)


def test_set_parameters_errors():
    G = irregular_network()
    with unchanged(G), pytest.raises(ShapeError, match=r"shape \(3,\); this network has 18 parameters"):
        set_parameters(G, [1.0, 2.0, 3.0])
    bad = get_parameters(G)
    bad[2] = np.nan
    with unchanged(G), pytest.raises(ShapeError, match=r"entry 2 \(weight \('x2', 'h2'\)\) is nan"):
        set_parameters(G, bad)


def test_demo_command_prints_every_delta():
    from graphbp.cli.gallery import GALLERY_INPUT, GALLERY_TARGET

    out = subprocess.run([sys.executable, "-m", "graphbp", "demo", "--out", "none"], capture_output=True, text=True,
                         check=True).stdout
    result = backprop(irregular_network(), GALLERY_INPUT, GALLERY_TARGET)
    for node, delta in result.delta.items():
        assert f"{delta:11.6f}" in out, node
    assert "gradient check: worst relative error" in out


def test_cli_help_and_bad_command():
    assert subprocess.run([sys.executable, "-m", "graphbp", "--help"], capture_output=True).returncode == 0
    bad = subprocess.run([sys.executable, "-m", "graphbp", "nonsense"], capture_output=True, text=True)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_parameter_order_survives_copy_and_edge_insertion_order():
    G = irregular_network()
    H = nx.DiGraph()
    H.graph.update(G.graph)
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from(reversed(list(G.edges(data=True))))  # same network, edges added in another order
    assert parameter_keys(G) == parameter_keys(G.copy()) == parameter_keys(H)
    np.testing.assert_array_equal(get_parameters(H), get_parameters(G))
