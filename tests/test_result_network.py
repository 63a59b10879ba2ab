"""Validate once: a pass's result carries its checked network; a result from another graph is refused."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import graphbp
from graphbp import GraphBPError
from graphbp import network as network_module
from graphbp.paths import forward_mode, path_sum

X, T = [[0.5, -1.0], [0.2, 0.3]], [[1.0, 0.0], [0.0, 1.0]]
STALE = "computed on another graph, or on this one before its nodes, edges, weights or biases changed"


def _uses(name, G, result):
    """Every function that reads a result together with its graph."""
    calls = {
        "explain": lambda: graphbp.explain(G, result, "h1"),
        "path_sum": lambda: path_sum(G, result, "h1"),
        "forward_mode": lambda: forward_mode(G, result, "h1"),
        "gradient_vector": lambda: graphbp.gradient_vector(G, result),
        "write_result": lambda: graphbp.write_result(G, result),
        "draw": lambda: graphbp.draw(G, result, ax=plt.figure().gca()),
        "draw_paths": lambda: graphbp.draw_paths(G, result, "h1", ax=plt.figure().gca()),
    }
    return calls[name]


NAMES = ["explain", "path_sum", "forward_mode", "gradient_vector", "write_result", "draw", "draw_paths"]
CHANGES = {
    "weight": lambda G: G.edges["x1", "h1"].update(weight=-2.0),
    "weight -2 to -1 (equal hashes)": lambda G: G.edges["x1", "h1"].update(weight=-1.0),
    "bias": lambda G: G.nodes["h2"].update(bias=0.25),
    "activation": lambda G: G.nodes["h3"].update(activation="relu"),
    "edge": lambda G: G.add_edge("x2", "h3", weight=0.1),
}


@pytest.mark.parametrize("name", NAMES)
def test_a_result_from_another_graph_is_refused(name):
    G, other = graphbp.irregular_network(), graphbp.irregular_network()
    other.edges["h1", "h2"]["weight"] = 1.2
    result = graphbp.backprop(other, X, T)
    with pytest.raises(GraphBPError, match=STALE):
        _uses(name, G, result)()
    _uses(name, other, result)()  # its own graph is accepted
    plt.close("all")


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_result_is_refused_after_its_graph_changed(change):
    G = graphbp.irregular_network()
    if change.startswith("weight -2"):
        G.edges["x1", "h1"]["weight"] = -2.0  # hash(-1.0) == hash(-2.0): compared by value, not by hash
    result = graphbp.backprop(G, X, T)
    CHANGES[change](G)
    with pytest.raises(GraphBPError, match=STALE):
        graphbp.explain(G, result, "h1")


def test_draw_paths_does_not_validate_the_graph_again(monkeypatch):
    G = graphbp.irregular_network()
    result = graphbp.backprop(G, X, T)
    validations = []
    original = network_module._validate
    monkeypatch.setattr(network_module, "_validate", lambda *args: validations.append(1) or original(*args))
    drawn = graphbp.draw_paths(G, result, "h1", ax=plt.figure().gca())
    graphbp.explain(G, result, "h2")
    graphbp.gradient_vector(G, result)
    plt.close("all")
    assert validations == [] and drawn["path_sum"].total == pytest.approx(result.delta["h1"][0], rel=1e-12)


def test_an_unchanged_graph_is_read_once_and_a_changed_one_again(monkeypatch):
    G = graphbp.irregular_network()
    validations = []
    original = network_module._validate
    monkeypatch.setattr(network_module, "_validate", lambda *args: validations.append(1) or original(*args))
    first = graphbp.read_network(G)
    assert graphbp.read_network(G) is first and len(validations) == 1
    G.graph["outputs"] = ["y2", "y1"]
    assert graphbp.read_network(G).outputs == ("y2", "y1") and len(validations) == 2
    graphbp.register_activation("tanh_again_for_the_test", np.tanh, lambda a: 1 - np.tanh(a) ** 2)
    graphbp.read_network(G)  # a registration may change what a name means: read again
    assert len(validations) == 3
    G.edges["x1", "h1"]["weight"] = float("nan")
    with pytest.raises(graphbp.ParameterError, match=r"edge \('x1', 'h1'\) has weight nan"):
        graphbp.read_network(G)


def test_a_compiled_result_follows_the_compiled_parameters():
    G = graphbp.irregular_network()
    net = graphbp.compile(G, backend="numpy")
    assert graphbp.explain(G, net.backprop(X, T), "h1").delta == pytest.approx(graphbp.backprop(G, X, T).delta["h1"][0])
    net.set_parameters(1.5 * net.get_parameters())
    result = net.backprop(X, T)
    with pytest.raises(GraphBPError, match=STALE):  # G still holds the old weights
        graphbp.explain(G, result, "h1")
    net.write_back()
    assert graphbp.explain(G, result, "h1").delta == pytest.approx(graphbp.backprop(G, X, T).delta["h1"][0], rel=1e-12)
