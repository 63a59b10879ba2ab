"""The wiring module below every engine: parameter order, CSR arrays, level plans, vector checks."""

import networkx as nx
import numpy as np
import pytest

import graphbp
from graphbp import ShapeError
from graphbp.generators import from_edges, random_dag, skip_mlp
from graphbp.wiring import beyond_range, build_wiring, checked_vector, edge_order, level_plans, level_units

GRAPHS = {
    "bishop": graphbp.bishop_network,
    "irregular": graphbp.irregular_network,
    "skip_mlp": lambda: skip_mlp([3, 5, 4, 2], p_skip=0.5, seed=2),
    "random": lambda: random_dag(40, k=4, p=0.6, n_inputs=3, n_outputs=3, seed=4),
    "odd_names": lambda: from_edges([(0, ("h", 1)), ("x", ("h", 1)), (("h", 1), 2.5), (0, 2.5)],
                                    inputs=[0, "x"], outputs=[2.5], seed=1),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_edge_order_is_the_weight_part_of_parameter_keys_and_survives_a_copy(name):
    G = GRAPHS[name]()
    net = graphbp.read_network(G)
    weights = [key for kind, key in graphbp.parameter_keys(G) if kind == "weight"]
    assert edge_order(G, net) == weights
    assert build_wiring(G, net).edges == weights
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from(reversed(list(G.edges(data=True))))  # edges added in another order
    H.graph.update(G.graph)
    assert edge_order(H, graphbp.read_network(H)) == weights


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_csr_arrays_list_each_nodes_predecessors_and_successors(name):
    G = GRAPHS[name]()
    wiring = build_wiring(G, graphbp.read_network(G))
    order = wiring.net.order
    for p, j in enumerate(order):
        predecessors = [order[i] for i in wiring.pred_index[wiring.pred_ptr[p] : wiring.pred_ptr[p + 1]]]
        assert sorted(predecessors, key=list(G).index) == predecessors and set(predecessors) == set(G.pred[j])
        entries = range(wiring.succ_ptr[p], wiring.succ_ptr[p + 1])
        assert [order[wiring.succ_index[e]] for e in entries] == list(G.successors(j))  # S_j in G's order
        assert [wiring.edges[wiring.succ_edge[e]] for e in entries] == [(j, k) for k in G.successors(j)]


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_level_plan_puts_every_unit_after_all_its_predecessors(name):
    G = GRAPHS[name]()
    wiring = build_wiring(G, graphbp.read_network(G))
    levels = level_units(wiring)
    level_of = {}
    for L, units in enumerate(levels):
        for u in units.tolist():
            for p in range(wiring.unit_ptr[u], wiring.unit_ptr[u + 1]):
                level_of[wiring.net.order[p]] = L
    assert sorted(level_of, key=str) == sorted(G, key=str)  # every node exactly once
    assert all(level_of[i] < level_of[j] for i, j in G.edges)
    assert all(len(units) for units in levels)


def test_checked_vector_names_the_bad_entry():
    keys = [("weight", ("x", "y")), ("bias", "y")]
    assert checked_vector([1, 2], keys).dtype == np.float64
    with pytest.raises(ShapeError, match=r"shape \(3,\); this network has 2 parameters"):
        checked_vector([1.0, 2.0, 3.0], keys)
    with pytest.raises(ShapeError, match=r"entry 1 \(bias 'y'\) is nan; it must be finite"):
        checked_vector([1.0, np.nan], keys)


def test_compiled_and_plain_parameter_checks_are_the_same():
    G = graphbp.bishop_network()
    theta = graphbp.get_parameters(G)
    theta[3] = np.inf
    messages = []
    for set_parameters in (lambda v: graphbp.set_parameters(G.copy(), v),
                           lambda v: graphbp.compile(G, backend="numpy").set_parameters(v)):
        with pytest.raises(ShapeError) as error:
            set_parameters(theta)
        messages.append(str(error.value))
    assert messages[0] == messages[1] == "parameter vector entry 3 (weight ('x2', 'z2')) is inf; it must be finite"


def test_level_plans_group_each_levels_computed_rows_by_table_entry():
    G = graphbp.irregular_network()
    G.add_node("s1", activation="softmax")
    G.add_node("s2", activation="softmax")
    G.add_weighted_edges_from([("h3", "s1", 0.5), ("h1", "s2", -0.5)])
    G.graph["outputs"] = ["y1", "y2", "s1", "s2"]
    wiring = build_wiring(G, graphbp.read_network(G))
    order = wiring.net.order
    plans = level_plans(wiring)
    assert [order[p] for p in plans[0].rows] == ["x1", "x2"] and plans[0].computed.size == 0
    for plan in plans:
        grouped = [p for _, rows in plan.elementwise for p in rows.tolist()] + [p for g in plan.softmax for p in g]
        assert sorted(grouped) == sorted(plan.computed.tolist())
        assert len({activation for activation, _ in plan.elementwise}) == len(plan.elementwise)  # each entry once
        for activation, rows in plan.elementwise:
            assert all(wiring.net.activation[order[p]] is activation for p in rows.tolist())
    assert [[order[p] for p in g] for plan in plans for g in plan.softmax] == [["s1", "s2"]]


def test_a_wiring_is_read_only():
    # One wiring serves every thread and every engine built on it: no pass may rebind its arrays.
    import dataclasses

    G = graphbp.bishop_network()
    wiring = build_wiring(G, graphbp.read_network(G))
    with pytest.raises(dataclasses.FrozenInstanceError):
        wiring.edges = []


def test_compiled_layout_is_the_wiring_with_a_deprecation_warning():
    compiled = graphbp.compile(graphbp.bishop_network(), backend="numpy")
    with pytest.warns(DeprecationWarning, match="renamed CompiledNetwork.wiring"):
        assert compiled.layout is compiled.wiring
    assert compiled.wiring.n_edges == 12  # Bishop's 2-3-2 network: 2·3 + 3·2 weights


def test_beyond_range_keeps_the_largest_float32_and_names_what_is_past_it():
    largest = float(np.finfo(np.float32).max)
    theta = np.array([largest, -largest, 1e39, 0.0, -np.nextafter(largest, np.inf)])
    assert beyond_range(theta, np.float32).tolist() == [2, 4]
    assert beyond_range(theta, np.float64).size == 0
    assert beyond_range(np.array([largest, -largest]), np.float32).size == 0
