"""One test per validation error: the exception type, and a message that names the culprit."""

import math

import networkx as nx
import numpy as np
import pytest

import graphbp
from graphbp import (
    ActivationError,
    GraphBPError,
    GraphStructureError,
    LossError,
    NumericalError,
    ParameterError,
    ShapeError,
    backprop,
    describe,
    forward,
    read_network,
)
from graph_snapshot import unchanged


def small():
    G = nx.DiGraph()
    G.add_edge("x1", "h", weight=0.5)
    G.add_edge("x2", "h", weight=-0.5)
    G.add_edge("h", "y", weight=1.5)
    return G


def test_errors_are_value_errors():
    assert issubclass(GraphBPError, ValueError)
    for cls in (GraphStructureError, ParameterError, ActivationError, ShapeError, LossError):
        assert issubclass(cls, GraphBPError)


def test_cycle_is_shown():
    G = small()
    G.add_edge("y", "h", weight=1.0)
    with unchanged(G), pytest.raises(GraphStructureError, match=r"cycle.*'h' -> 'y' -> 'h'|cycle.*'y' -> 'h' -> 'y'"):
        read_network(G)


def test_self_loop_names_node():
    G = small()
    G.add_edge("h", "h", weight=1.0)
    with unchanged(G), pytest.raises(GraphStructureError, match="self-loop on node 'h'"):
        backprop(G, [0.0, 0.0], [0.0])


def test_multidigraph_refused():
    G = nx.MultiDiGraph(small())
    with unchanged(G), pytest.raises(GraphStructureError, match="MultiDiGraph"):
        read_network(G)


def test_undirected_graph_refused():
    G = nx.Graph([(1, 2)])
    with unchanged(G), pytest.raises(GraphStructureError, match="DiGraph, got Graph"):
        read_network(G)


def test_empty_graph():
    G = nx.DiGraph()
    with unchanged(G), pytest.raises(GraphStructureError, match="empty"):
        forward(G, np.zeros((1, 0)))


@pytest.mark.parametrize("value", [None, "0.5", math.nan, math.inf, -math.inf, True])
def test_bad_weight_names_edge(value):
    G = small()
    G.edges["x2", "h"]["weight"] = value
    with unchanged(G), pytest.raises(ParameterError, match=r"edge \('x2', 'h'\)"):
        forward(G, [1.0, 2.0])


def test_missing_weight_names_edge_and_attribute():
    G = small()
    del G.edges["h", "y"]["weight"]
    with unchanged(G), pytest.raises(ParameterError, match=r"edge \('h', 'y'\) has no 'weight'"):
        forward(G, [1.0, 2.0])


def test_custom_weight_attribute_is_read():
    G = nx.DiGraph([("x", "y", {"w": 3.0})])
    assert forward(G, [2.0], weight="w").y[0] == 6.0
    with unchanged(G), pytest.raises(ParameterError, match="no 'weight'"):
        forward(G, [2.0])


@pytest.mark.parametrize("value", [math.nan, math.inf, "1", None])
def test_bad_bias_names_node(value):
    G = small()
    G.nodes["h"]["bias"] = value
    with unchanged(G), pytest.raises(ParameterError, match="node 'h' has bias"):
        forward(G, [1.0, 2.0])


def test_unknown_activation_lists_known():
    G = small()
    G.nodes["h"]["activation"] = "swish"
    with unchanged(G), pytest.raises(ActivationError, match=r"node 'h': unknown activation 'swish'; known: .*tanh"):
        forward(G, [1.0, 2.0])


def test_activation_of_wrong_type():
    G = small()
    G.nodes["h"]["activation"] = 3
    with unchanged(G), pytest.raises(ActivationError, match="node 'h'"):
        forward(G, [1.0, 2.0])


def test_softmax_on_hidden_unit():
    G = small()
    G.nodes["h"]["activation"] = "softmax"
    with unchanged(G), pytest.raises(ActivationError, match="node 'h' is a hidden unit"):
        forward(G, [1.0, 2.0])


def test_no_inputs_listed():
    G = small()
    G.graph["inputs"] = []
    with unchanged(G), pytest.raises(GraphStructureError, match="no inputs"):
        read_network(G)


def test_no_outputs_listed():
    G = small()
    G.graph["outputs"] = []
    with unchanged(G), pytest.raises(GraphStructureError, match="no outputs"):
        read_network(G)


def test_listed_input_with_incoming_edges():
    G = small()
    G.graph["inputs"] = ["x1", "h"]
    with unchanged(G), pytest.raises(GraphStructureError, match="input node 'h' has incoming edges"):
        read_network(G)


def test_listed_node_not_in_graph():
    G = small()
    G.graph["outputs"] = ["y", "ghost"]
    with unchanged(G), pytest.raises(GraphStructureError, match="'ghost', which is not a node"):
        read_network(G)


def test_node_listed_twice():
    G = small()
    G.graph["inputs"] = ["x1", "x2", "x1"]
    with unchanged(G), pytest.raises(GraphStructureError, match="lists node 'x1' twice"):
        read_network(G)


def test_isolated_node_is_input_and_output():
    G = small()
    G.add_node("lonely")
    with unchanged(G), pytest.raises(GraphStructureError, match="'lonely' is both an input and an output"):
        read_network(G)


def test_output_not_reachable_from_inputs():
    G = small()
    G.add_edge("c", "h2", weight=1.0)  # c has no predecessor, but is not a listed input
    G.add_edge("h2", "y2", weight=1.0)
    G.graph["inputs"] = ["x1", "x2"]
    with unchanged(G), pytest.raises(GraphStructureError, match="output node 'y2' is not reachable from any input"):
        read_network(G)


def test_input_with_bias_refused():
    G = small()
    G.nodes["x1"]["bias"] = 1.0
    with unchanged(G), pytest.raises(GraphStructureError, match="input node 'x1'"):
        read_network(G)


@pytest.mark.parametrize(
    "x, pattern",
    [
        ([1.0, 2.0, 3.0], r"x has shape \(3,\); expected \(N, 2\) or \(2,\)"),
        ([[1.0, 2.0, 3.0]], r"x has shape \(1, 3\)"),
        (np.zeros((2, 2, 2)), r"x has shape \(2, 2, 2\)"),
        (np.zeros((0, 2)), "empty batch"),
        ("abc", "x must be numeric"),
    ],
)
def test_wrong_x_shape(x, pattern):
    G = small()
    with unchanged(G), pytest.raises(ShapeError, match=pattern):
        forward(G, x)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_x_names_sample_and_node(bad):
    G = small()
    with unchanged(G), pytest.raises(ShapeError, match=r"x\[1\] has (nan|inf) for node 'x2'"):
        forward(G, [[0.0, 0.0], [0.0, bad]])


def test_wrong_t_shape_names_outputs():
    G = small()
    with unchanged(G), pytest.raises(ShapeError, match=r"t has shape \(2, 2\); expected \(N, 1\).*'y'"):
        backprop(G, [[0.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]])


def test_t_with_nan():
    G = small()
    with unchanged(G), pytest.raises(ShapeError, match=r"t\[0\] has nan for node 'y'"):
        backprop(G, [[0.0, 0.0]], [[math.nan]])


def test_x_and_t_sample_counts_differ():
    G = small()
    with unchanged(G), pytest.raises(ShapeError, match="same samples"):
        backprop(G, np.zeros((3, 2)), np.zeros((2, 1)))


def test_missing_targets():
    G = small()
    with unchanged(G), pytest.raises(ShapeError, match="targets t are required"):
        backprop(G, [0.0, 0.0], None)


def test_unknown_loss_lists_known():
    G = small()
    with unchanged(G), pytest.raises(LossError, match=r"unknown loss 'hinge'; known: .*cross_entropy"):
        backprop(G, [0.0, 0.0], [0.0], loss="hinge")


def test_targets_outside_unit_interval_for_cross_entropy():
    G = small()
    G.nodes["y"]["activation"] = "logistic"
    with unchanged(G), pytest.raises(LossError, match=r"targets in \[0, 1\]; t\[1\] is 1.5 for output node 'y'"):
        backprop(G, [[0.0, 0.0], [1.0, 1.0]], [[1.0], [1.5]], loss="bce")


def test_softmax_group_given_to_sum_of_squares():
    G = small()
    G.add_edge("h", "y2", weight=1.0)
    G.nodes["y"]["activation"] = G.nodes["y2"]["activation"] = "softmax"
    with unchanged(G), pytest.raises(LossError, match=r"softmax group \['y', 'y2'\] given to 'sum_of_squares'"):
        backprop(G, [0.0, 0.0], [1.0, 0.0], loss="sse")


def test_bce_needs_logistic_outputs():
    G = small()
    with unchanged(G), pytest.raises(LossError, match="output node 'y' has activation 'identity'"):
        backprop(G, [0.0, 0.0], [1.0], loss="bce")


def test_cross_entropy_needs_softmax_outputs():
    G = small()
    with unchanged(G), pytest.raises(LossError, match="output node 'y' has activation 'identity'"):
        backprop(G, [0.0, 0.0], [1.0], loss="cross_entropy")


def test_softmax_group_members_feeding_each_other():
    G = small()
    G.add_edge("y", "m", weight=1.0)
    G.add_edge("m", "y2", weight=1.0)
    G.graph["outputs"] = ["y", "y2"]
    G.nodes["y"]["activation"] = G.nodes["y2"]["activation"] = "softmax"
    with (
        unchanged(G),
        pytest.raises(GraphStructureError, match=r"softmax group \['y', 'y2'\] has a member that feeds another"),
    ):
        read_network(G)


def test_register_activation_checks():
    with pytest.raises(ActivationError, match="softmax"):
        graphbp.register_activation("softmax", np.exp, np.exp)
    with pytest.raises(ActivationError, match="derivative must be callable"):
        graphbp.register_activation("bad", np.exp, 3.0)


def test_dead_end_allowed_and_reported():
    G = small()
    G.add_edge("h", "dead", weight=2.0)
    G.graph["outputs"] = ["y"]
    info = describe(G)
    assert info["dead_ends"] == ["dead"]
    result = backprop(G, [[1.0, 2.0], [0.5, -1.0]], [[0.0], [1.0]])
    np.testing.assert_array_equal(result.delta["dead"], [0.0, 0.0])
    assert result.grad_weight[("h", "dead")] == 0.0


def test_describe_reports_constant_units_and_outputs_feeding_others():
    G = small()
    G.add_edge("const", "h", weight=1.0)
    G.add_edge("y", "y2", weight=1.0)
    G.graph.update(inputs=["x1", "x2"], outputs=["y", "y2"])
    info = describe(G)
    assert info["constant_units"] == ["const"]
    assert info["outputs_feeding_others"] == ["y"]
    assert info["depth"] == 3 and info["edges"] == 5


def test_overflow_in_forward_names_the_node():
    G = nx.DiGraph()
    nx.add_path(G, ["x", "a", "b", "y"], weight=1e200)
    G.nodes["a"]["activation"] = G.nodes["b"]["activation"] = "identity"
    with (
        unchanged(G),
        np.errstate(over="ignore"),
        pytest.raises(NumericalError, match=r"z of node 'b' is inf in sample 1"),
    ):
        forward(G, [[0.0], [1.0]])


def test_activation_undefined_names_the_node():
    graphbp.register_activation("log", np.log, lambda a: 1 / a)
    G = small()
    G.nodes["h"]["activation"] = "log"
    with (
        unchanged(G),
        np.errstate(all="ignore"),
        pytest.raises(NumericalError, match="z of node 'h' is nan in sample 0"),
    ):
        backprop(G, [[-1.0, 1.0]], [[0.0]])


def test_overflowing_delta_names_the_node():
    G = nx.DiGraph()
    nx.add_path(G, ["x", "h", "y"], weight=1e160)
    G.nodes["h"]["activation"] = "tanh"
    with unchanged(G), np.errstate(over="ignore"), pytest.raises(NumericalError, match="delta of node 'h'"):
        backprop(G, [[0.0]], [[1e170]])


def test_softmax_group_members_joined_by_an_edge():
    G = small()
    G.add_edge("h", "y2", weight=1.0)
    G.add_edge("y", "y2", weight=0.5)
    G.graph["outputs"] = ["y", "y2"]
    G.nodes["y"]["activation"] = G.nodes["y2"]["activation"] = "softmax"
    with (
        unchanged(G),
        pytest.raises(GraphStructureError, match=r"softmax group \['y', 'y2'\] has an edge \('y', 'y2'\)"),
    ):
        backprop(G, [0.0, 0.0], [1.0, 0.0], loss="ce")
