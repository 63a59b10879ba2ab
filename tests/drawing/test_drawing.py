"""Drawings: the labels read back equal the computed δ, highlight draws exactly S_j, the box sums to δ_j."""

import re

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest

from graphbp import GraphBPError, GraphStructureError, backprop, bishop_network, irregular_network
from graphbp.animation import animate_backward
from graphbp.drawing import (draw, draw_edge_labels, draw_edges, draw_labels, draw_nodes, draw_paths, figure_for,
                             layout)
from graphbp.drawing.routing import course_beziers, edge_courses, points_along
from graphbp.generators import random_dag
from graph_snapshot import unchanged


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _number_after(prefix, text):
    return float(re.search(re.escape(prefix) + r"([-+]?[\d.]+(?:e[-+]\d+)?)", text).group(1))


@pytest.mark.parametrize("graph", [bishop_network, irregular_network])
def test_delta_labels_equal_computed_delta(graph):
    G = graph()
    result = backprop(G, [[0.5, -1.0], [0.3, 0.8]], [[1.0, 0.0], [0.0, 1.0]])
    fig, ax = figure_for(G)
    drawn = draw(G, result, sample=1, ax=ax, values=("a", "delta"))
    assert set(drawn["labels"]) == set(G)
    texts = {t.get_text() for t in ax.texts}
    for node, label in drawn["labels"].items():
        assert label in ax.texts and label.get_text() in texts
        assert _number_after("δ=", label.get_text()) == pytest.approx(result.delta[node][1], rel=5e-3, abs=1e-12)
        assert _number_after("a=", label.get_text()) == pytest.approx(result.a[node][1], rel=5e-3, abs=1e-12)
        assert drawn["names"][node].get_text() == str(node)
    limits = drawn["colorbar"].mappable.norm.vmin, drawn["colorbar"].mappable.norm.vmax
    largest = max(abs(result.delta[n][1]) for n in G)
    assert limits == pytest.approx((-largest, largest))     # centred at 0


def test_highlight_draws_exactly_S_j_and_the_box_sums_to_delta():
    G = irregular_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    for j in ["h1", "y1", "x2", "d"]:
        fig, ax = figure_for(G)
        drawn = draw(G, result, ax=ax, highlight=j)
        assert set(drawn["highlight_edges"]) == {(j, k) for k in G.successors(j)}
        assert all(patch in ax.patches for patch in drawn["highlight_edges"].values())
        for (_, k), text in drawn["terms"].items():
            w, d = G[j][k]["weight"], result.delta[k]
            assert float(text.get_text().split("= ")[-1].strip("()")) == pytest.approx(w * d, rel=5e-3, abs=1e-12)
        box = drawn["equation"].get_text()
        last = box.splitlines()[-1]
        value = float(last.rsplit("=", 1)[1].strip(" $()").replace("\\times 10^{", "e").replace("}", ""))
        assert value == pytest.approx(result.delta[j], rel=1e-3, abs=1e-12)
        plt.close(fig)


def test_box_sum_by_hand_on_bishop():
    G = bishop_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    box = draw(G, result, highlight="z2")["equation"].get_text()
    terms = 0.9 * result.delta["y2"] + (-0.2) * result.delta["y1"]
    assert "\\{\\mathrm{y1},\\ \\mathrm{y2}\\}" in box
    assert f"{terms:.4g}".lstrip("-") in box
    assert f"{result.delta['z2']:.4g}".lstrip("-") in box


def test_edges_by_weight_or_grad():
    G = irregular_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    drawn = draw(G, result, edge_values="grad", edge_labels=True)
    assert set(drawn["edges"]) == set(G.edges)
    for edge, text in drawn["edge_labels"].items():
        assert float(text.get_text()) == pytest.approx(result.grad_weight[edge], rel=5e-3, abs=1e-12)
    widths = {e: p.get_linewidth() for e, p in drawn["edges"].items()}
    largest = max(result.grad_weight, key=lambda e: abs(result.grad_weight[e]))
    assert max(widths, key=widths.get) == largest
    plt.figure()
    drawn = draw(G, edge_values="weight", edge_labels=True)
    assert {e: float(t.get_text()) for e, t in drawn["edge_labels"].items()} == \
        pytest.approx({(i, j): w for i, j, w in G.edges(data="weight")}, rel=5e-3)
    assert drawn["colorbar"] is None and drawn["labels"] == {}


def test_layout_columns_and_user_positions():
    G = irregular_network()
    pos = layout(G)
    assert pos["x1"][0] == pos["x2"][0] == 0.0
    assert pos["y2"][0] == max(x for x, _ in pos.values())        # a sink output goes right
    assert all(pos[i][0] < pos[j][0] for i, j in G.edges)         # flow left to right
    assert pos["x1"][1] > pos["x2"][1]                            # inputs keep x order, top first
    assert layout(G, pos={"d": (9.0, 9.0)})["d"] == (9.0, 9.0)
    drawn = draw(G, pos={"h1": (0.5, 3.0)})
    assert drawn["pos"]["h1"] == (0.5, 3.0)


def test_crossing_reduction_untangles_a_permuted_ladder():
    G = nx.DiGraph(inputs=["x1", "x2", "x3"], outputs=["y1", "y2", "y3"])
    for i, h in zip([1, 2, 3], ["c", "a", "b"]):
        G.add_edge(f"x{i}", h, weight=1.0)
        G.add_edge(h, f"y{i}", weight=1.0)
    pos = layout(G)
    assert pos["c"][1] > pos["a"][1] > pos["b"][1]     # same order as x1, x2, x3: no crossing


def test_two_hundred_nodes_draw_without_labels():
    G = random_dag(196, "erdos_renyi", p=0.03, n_inputs=2, n_outputs=2, seed=1)
    result = backprop(G, [0.1, 0.2], [0.0, 1.0])
    fig, ax = figure_for(G)
    drawn = draw(G, result, ax=ax, highlight=5)
    assert len(G) == 200 and drawn["labels"] == {} and drawn["names"] == {}
    assert set(drawn["highlight_edges"]) == {(5, k) for k in G.successors(5)}
    assert drawn["nodes"].get_sizes()[0] < 100


def test_draw_paths_lists_every_path():
    G = irregular_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    drawn = draw_paths(G, result, "h1")
    on_paths = {e for p in drawn["path_sum"].paths for e in zip(p, p[1:])}
    assert set(drawn["path_edges"]) == on_paths
    listing = drawn["listing"].get_text()
    assert listing.count("→") == sum(len(p) - 1 for p in drawn["path_sum"].paths)
    assert _number_after("sum", listing.replace(" ", "")) == pytest.approx(result.delta["h1"], rel=1e-3)


def test_animation_has_one_frame_per_node(tmp_path):
    G = bishop_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    path = tmp_path / "sweep.gif"
    anim = animate_backward(G, result, path, dpi=40)
    from PIL import Image
    with Image.open(path) as image:
        durations = []
        for frame in range(image.n_frames):
            image.seek(frame)
            durations.append(image.info["duration"])
    # one frame per node and a last one with every δ; each long enough to read, the last longer
    assert len(durations) == len(G) + 1 and min(durations) >= 2500 and durations[-1] > max(durations[:-1])
    assert len(list(anim.new_frame_seq())) == len(G) + 3


def test_errors():
    G = irregular_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    with unchanged(G), pytest.raises(GraphStructureError, match="highlight node 'zz' is not in the graph"):
        draw(G, result, highlight="zz")
    with unchanged(G), pytest.raises(GraphBPError, match="highlight needs a result"):
        draw(G, highlight="h1")
    with unchanged(G), pytest.raises(GraphBPError, match='edge_values="grad" needs a result'):
        draw(G, edge_values="grad")
    with unchanged(G), pytest.raises(GraphBPError, match="edge_values must be"):
        draw(G, result, edge_values="size")
    with unchanged(G), pytest.raises(GraphBPError, match=r"values may hold \['a', 'delta', 'z'\], got \['grad'\]"):
        draw(G, result, values=("grad",))
    with unchanged(G), pytest.raises(GraphBPError, match="sample 1 is not in the result"):
        draw(G, result, sample=1)


def test_the_parts_draw_what_draw_draws_and_name_a_node_without_position():
    """draw_nodes / draw_edges / draw_labels / draw_edge_labels on their own: one artist per node or edge,
    where `pos` puts it, along the courses edge_courses routes; a node missing from `pos` is named."""
    G = irregular_network()
    pos = layout(G)
    fig, ax = figure_for(G)
    ax.set_xlim(-0.5, 5.5)
    ax.set_ylim(-1.6, 1.45)
    courses = edge_courses(pos, list(G.edges), (90.0, 68.0), 12.0, ((-0.5, 5.5), (-1.6, 1.45)))
    arrows = draw_edges(G, pos, courses, ax=ax, width=[1.0] * len(courses))
    circles = draw_nodes(pos, list(G), ax=ax)
    names = draw_labels(pos, {n: n.upper() for n in G}, ax=ax, font_size={n: 8.0 for n in G})
    terms = draw_edge_labels(G, pos, courses, {(i, j): f"{i}{j}" for i, j in courses}, ax=ax)
    assert sorted(arrows) == sorted(terms) == sorted(G.edges)
    assert [tuple(p) for p in circles.get_offsets()] == [pos[n] for n in G]
    assert {n: (t.get_text(), t.get_position(), t.get_fontsize()) for n, t in names.items()} == {
        n: (n.upper(), pos[n], 8.0) for n in G}
    for (i, j), course in courses.items():  # each course keeps more than the radius from every other node
        points = points_along(course_beziers(pos[i], pos[j], course, (90.0, 68.0)), np.linspace(0, 1, 300))
        others = np.array([pos[n] for n in G if n not in (i, j)])
        assert np.hypot(*((points[:, None] - others[None]) * (90.0, 68.0)).transpose(2, 0, 1)).min() > 12.0, (i, j)
    del pos["h2"]
    for part in (lambda: draw_edges(G, pos, courses, ax=ax), lambda: draw_nodes(pos, list(G), ax=ax),
                 lambda: draw_labels(pos, {"h2": "h2"}, ax=ax),
                 lambda: draw_edge_labels(G, pos, courses, {e: "" for e in courses}, ax=ax)):
        with pytest.raises(GraphStructureError, match="node 'h2' has no position"):
            part()
    with pytest.raises(GraphStructureError, match=r"node 'h1' has position \(1, 2, 3\), not \(x, y\)"):
        draw_nodes({**pos, "h1": (1, 2, 3)}, ["h1"], ax=ax)
    plt.close(fig)
