"""Vertex elimination on the linearised graph: same Jacobian in every order, counts worked by hand."""

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest
from derivative_graphs import irregular_graphs, sample_inputs

from graphbp import GraphBPError, ShapeError, bishop_network
from graphbp.elimination import (
    OutputCopy,
    draw_elimination,
    draw_linearized,
    eliminate,
    elimination_costs,
    linearized_graph,
)
from graphbp.jacobian import jacobian
from graph_snapshot import unchanged

GRAPHS = irregular_graphs()


def hand_graph():
    """x1, x2, x3 → a → b → y, with x3 → b and a → y; tanh units at x = 0, so c_ji = w_ji."""
    G = nx.DiGraph(inputs=["x1", "x2", "x3"], outputs=["y"])
    G.add_weighted_edges_from([("x1", "a", 1.0), ("x2", "a", 2.0), ("x3", "a", 3.0), ("a", "b", 0.5),
                               ("x3", "b", -1.0), ("b", "y", 2.0), ("a", "y", 1.0)])
    return G


def test_counts_and_jacobian_worked_by_hand():
    L = linearized_graph(hand_graph(), [0.0, 0.0, 0.0])
    # Paths: x1 → a → y (1·1) and x1 → a → b → y (1·0.5·2): ∂y/∂x1 = 2; ∂y/∂x2 = 2·2 = 4;
    # ∂y/∂x3 = 3·2 + (−1)·2 = 4.
    # forward (a, b): a has preds {x1, x2, x3}, succs {b, y}: 3·2 = 6; then b: preds {x1, x2, x3}, succ y: 3. Total 9
    #   = Σ_v |X_v| outdeg(v) = 3·2 + 3·1.
    # reverse (b, a): b has preds {a, x3}, succ y: 2·1 = 2; then a: preds {x1, x2, x3}, succ {y}: 3. Total 5
    #   = Σ_v indeg(v) |Y_v| = 3·1 + 2·1.
    # Markowitz: a costs 3·2 = 6, b costs 2·1 = 2, so b first (2), then a (3): 5.
    # Sweeps: |E| = 7 edges; forward mode 3 inputs · 7 = 21, reverse mode 1 output · 7 = 7.
    expected = {"forward": (("a", "b"), (6, 3)), "reverse": (("b", "a"), (2, 3)), "markowitz": (("b", "a"), (2, 3))}
    for order, (vertices, costs) in expected.items():
        result = eliminate(L, order)
        assert (result.order, result.costs, result.multiplications) == (vertices, costs, sum(costs))
        np.testing.assert_allclose(result.jacobian, [[2.0, 4.0, 4.0]], atol=1e-15)
    assert elimination_costs(hand_graph(), [0.0, 0.0, 0.0]) == {
        "forward": 9, "reverse": 5, "markowitz": 5, "forward_mode": 21, "reverse_mode": 7}
    assert L.number_of_edges() == 7  # the input graph is untouched


@pytest.mark.parametrize("G", [G for _, G in GRAPHS], ids=[name for name, _ in GRAPHS])
def test_every_order_gives_the_jacobian_and_the_documented_counts(G):
    x = sample_inputs(G, 1, seed=7)[0]
    L = linearized_graph(G, x)
    expected = jacobian(G, x)
    inner = [v for v in L if v not in L.graph["inputs"] and v not in L.graph["outputs"]]
    rng = np.random.default_rng(0)
    orders = ["forward", "reverse", "markowitz"] + [list(rng.permutation(len(inner))) for _ in range(3)]
    for order in orders:
        result = eliminate(L, order if isinstance(order, str) else [inner[k] for k in order])
        np.testing.assert_allclose(result.jacobian, expected, rtol=0, atol=1e-12)
        assert result.multiplications == sum(result.costs) and len(result.order) == len(inner)
    # The documented formulas, with X_v, Y_v found independently by networkx.
    inputs, outputs = set(L.graph["inputs"]), set(L.graph["outputs"])
    forward_formula = sum(len(nx.ancestors(L, v) & inputs) * L.out_degree(v) for v in inner)
    reverse_formula = sum(L.in_degree(v) * len(nx.descendants(L, v) & outputs) for v in inner)
    costs = elimination_costs(G, x)
    assert (costs["forward"], costs["reverse"]) == (forward_formula, reverse_formula)
    assert costs["forward"] <= costs["forward_mode"] and costs["reverse"] <= costs["reverse_mode"]


def test_linearised_graph_edges_are_local_partials():
    G = bishop_network()
    L = linearized_graph(G, [0.5, -1.0])
    a_z1 = 0.5 * 0.5 + (-0.3) * (-1.0)
    assert L.edges["x1", "z1"]["partial"] == pytest.approx((1 - np.tanh(a_z1) ** 2) * 0.5, abs=1e-15)
    assert L.edges["z1", "y1"]["partial"] == 0.7  # identity output: h' = 1
    irregular = GRAPHS[0][1]
    L = linearized_graph(irregular, [0.5, -1.0])
    assert "d" not in L and L.has_edge("y1", OutputCopy("y1"))  # dead end dropped; y1 feeds h3
    assert L.graph["outputs"] == [OutputCopy("y1"), "y2"]


def test_bad_orders_and_inputs():
    L = linearized_graph(hand_graph(), [0.0, 0.0, 0.0])
    with unchanged(L), pytest.raises(GraphBPError, match="unknown elimination order 'random'"):
        eliminate(L, "random")
    with unchanged(L), pytest.raises(GraphBPError, match="names 'x1', which is not an intermediate"):
        eliminate(L, ["x1", "a"])
    with unchanged(L), pytest.raises(GraphBPError, match=r"missing \['b'\]"):
        eliminate(L, ["a"])
    with pytest.raises(ShapeError, match="one sample"):
        linearized_graph(hand_graph(), [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


def test_drawings_show_the_stages_and_labels(tmp_path):
    G = GRAPHS[0][1]
    drawn = draw_elimination(G, [0.5, -1.0], order="reverse")
    L = linearized_graph(G, [0.5, -1.0])
    assert len(drawn) == 3
    assert set(drawn[0]["vertices"]) == set(L)
    for edge, text in drawn[0]["edges"].items():
        assert text.get_text() == f"{L.edges[edge]['partial']:.2f}"
    final = eliminate(L, "reverse")
    assert set(drawn[2]["edges"]) == set(final.graph.edges)
    path = tmp_path / "stages.png"
    plt.gcf().savefig(path, dpi=50)
    assert plt.imread(path).shape[:2] == (200, 630)  # 3 panels of 4.2 x 4.0 inches at 50 dpi
    plt.close("all")
    fig, ax = plt.subplots()
    assert draw_linearized(L, ax=ax)["vertices"]["h1"].axes is ax
    plt.close(fig)
