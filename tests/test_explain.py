"""explain: the eq. 5.56 expansion agrees with the result and its LaTeX parses as mathtext."""

import networkx as nx
import numpy as np
import pytest
from matplotlib.mathtext import MathTextParser

from graphbp import GraphStructureError, ShapeError, backprop, bishop_network, irregular_network
from graphbp.explain import explain
from graph_snapshot import unchanged


def _mathtext_ok(latex):
    parser = MathTextParser("path")
    for line in latex.splitlines():
        parser.parse(line)


def test_hidden_unit_by_hand():
    G = bishop_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    e = explain(G, result, "z1")
    a_z1 = 0.5 * 0.5 + (-0.3) * (-1.0)                      # eq. 5.48 by hand
    assert e.a == pytest.approx(a_z1)
    assert e.derivative == pytest.approx(1 - np.tanh(a_z1) ** 2)
    assert e.successors == ("y1", "y2")
    assert e.weights == (0.7, -0.4)
    assert e.successor_deltas == (result.delta["y1"], result.delta["y2"])
    assert e.terms == pytest.approx((0.7 * result.delta["y1"], -0.4 * result.delta["y2"]))
    assert e.derivative * e.total == pytest.approx(result.delta["z1"], rel=1e-14)
    assert e.delta == result.delta["z1"] and e.direct == 0.0 and e.role == "hidden"
    text = str(e)
    assert "S_z1 = G.successors('z1') = ['y1', 'y2']" in text
    assert f"{result.delta['z1']:+.6g}" in text.splitlines()[-1]
    _mathtext_ok(e.latex())


def test_output_feeding_another_shows_direct_term():
    G = irregular_network()
    result = backprop(G, [[0.5, -1.0], [0.1, 0.2]], [[1.0, 0.0], [0.0, 1.0]])
    e = explain(G, result, "y1", sample=1)
    assert e.role == "output" and e.successors == ("h3",) and e.sample == 1
    assert e.direct == pytest.approx(result.y[1, 0] - 0.0, rel=1e-12)   # identity output: y − t (eq. 5.54)
    # eq. 5.56 by hand: y1 feeds h3 only, with weight 0.5, and its h' is 1 (identity output)
    assert e.weights == (G["y1"]["h3"]["weight"],) == (0.5,) and e.derivative == 1.0
    assert e.total == pytest.approx(0.5 * result.delta["h3"][1], rel=1e-14)
    assert e.delta == pytest.approx(result.y[1, 0] + 0.5 * result.delta["h3"][1], rel=1e-12)
    assert "∂E_n/∂a_y1|direct" in e.text()
    _mathtext_ok(e.latex())


def test_input_and_dead_end():
    G = irregular_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    e = explain(G, result, "x1")
    assert e.role == "input" and e.derivative == 1.0
    assert e.total == pytest.approx(result.delta["x1"], rel=1e-14)
    assert explain(G, result, "d").delta == 0.0
    _mathtext_ok(e.latex())


def test_odd_node_names_in_latex():
    G = nx.DiGraph()
    names = ["x_1", (0, "a b"), "h^{2}$%#&~\\"]
    G.add_weighted_edges_from([(names[0], names[1], 0.5), (names[1], names[2], 2.0)])
    result = backprop(G, [1.0], [0.0])
    for node in names:
        _mathtext_ok(explain(G, result, node).latex())


def test_many_successors_elided_in_latex_not_in_text():
    G = nx.DiGraph()
    G.add_edge("x", "h", weight=1.0)
    G.add_weighted_edges_from([("h", f"y{k}", 0.1 * k) for k in range(10)])
    result = backprop(G, [0.3], np.zeros(10))
    e = explain(G, result, "h")
    assert len(e.terms) == 10 and e.text().count("  k = ") == 10
    assert r"(10\ \mathrm{terms})" in e.latex()
    _mathtext_ok(e.latex())


def test_errors():
    G = irregular_network()
    result = backprop(G, [[0.5, -1.0]], [[1.0, 0.0]])
    with unchanged(G), pytest.raises(GraphStructureError, match="node 'zz' is not in the graph"):
        explain(G, result, "zz")
    with unchanged(G), pytest.raises(ShapeError, match=r"sample 3 is not in the result, which holds samples 0..0"):
        explain(G, result, "h1", sample=3)
