"""Drawings are legible for any graph, measured with the Agg renderer's own text extents: no two visible
texts overlap, none is under 7 pt, names fit their circles, nothing leaves the figure, and edges keep
clear of the nodes they do not touch. Checked on builders' graphs with random (long, tuple) names."""

import itertools

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from graphbp import backprop, bishop_network, irregular_network, mlp, random_dag, skip_mlp
from graphbp.drawing import MIN_FONT, _extent, draw, draw_paths, figure_for
from graphbp.network import read_network

DPI = 50  # legibility is measured in points, so a small dpi keeps the test fast


def visible_texts(fig):
    """Every visible, non-empty text of the figure (tick labels of the colour bar included)."""
    texts = [t for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text().strip()]
    return [t for t in texts if t.axes is None or t.axes.get_visible()]


def legibility_problems(fig, drawn, crossings_allowed=0.0):
    """What makes the figure hard to read; `crossings_allowed` is the fraction of edges that may pass
    through a node when no arc clears them all (dense random graphs)."""
    fig.set_dpi(DPI)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    texts = visible_texts(fig)
    boxes = {t: _extent(t, renderer) for t in texts}
    figure_box = fig.bbox
    for t, box in boxes.items():
        if t.get_fontsize() < MIN_FONT:
            problems.append(f"{t.get_text()!r} at {t.get_fontsize()} pt")
        if box.x0 < -1 or box.y0 < -1 or box.x1 > figure_box.x1 + 1 or box.y1 > figure_box.y1 + 1:
            problems.append(f"{t.get_text()[:30]!r} leaves the figure")
    for (s, a), (t, b) in itertools.combinations(boxes.items(), 2):
        if a.overlaps(b) and a.intersection(a, b).width > 1 and a.intersection(a, b).height > 1:
            problems.append(f"{s.get_text()[:30]!r} overlaps {t.get_text()[:30]!r}")
    crossings = []
    radius = np.sqrt(drawn["nodes"].get_sizes()[0]) / 2 * DPI / 72
    centres = {n: drawn["ax"].transData.transform(p) for n, p in drawn["pos"].items()}
    for n, text in drawn["names"].items():
        if text.get_visible() and boxes[text].width > 2 * radius:
            problems.append(f"name {text.get_text()!r} is wider than its circle")
    for (i, j), patch in drawn["edges"].items():
        paths = patch._get_path_in_displaycoord()[0]  # the arrow's shaft first, then its head
        shaft = paths[0] if isinstance(paths, list) else paths
        points = np.vstack(shaft.to_polygons(closed_only=False))  # the Bézier flattened, not its control points
        for n, centre in centres.items():
            if n in (i, j):
                continue
            if np.min(np.hypot(*(points - centre).T)) < radius * 0.9:
                crossings.append(f"edge {(i, j)!r} passes through node {n!r}")
    if len(crossings) > crossings_allowed * len(drawn["edges"]):
        problems += crossings
    return problems


NAMES = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=24),
    st.tuples(st.sampled_from(["layer", "h", "unit_long_name"]), st.integers(0, 99)),
    st.integers(0, 10**6),
)


@st.composite
def named_networks(draw_from):
    kind = draw_from(st.sampled_from(["mlp", "skip", "randwire", "chain"]))
    seed = draw_from(st.integers(0, 100))
    if kind == "mlp":
        sizes = [draw_from(st.integers(1, 3)), *draw_from(st.lists(st.integers(1, 6), min_size=1, max_size=3)),
                 draw_from(st.integers(1, 3))]
        G = mlp(sizes, seed=seed)
    elif kind == "skip":
        G = skip_mlp([2, *draw_from(st.lists(st.integers(1, 5), min_size=2, max_size=4)), 2], seed=seed)
    elif kind == "randwire":
        G = random_dag(draw_from(st.integers(1, 34)), draw_from(st.sampled_from(["watts_strogatz", "erdos_renyi"])),
                       n_inputs=draw_from(st.integers(1, 3)), n_outputs=draw_from(st.integers(1, 3)), seed=seed)
    else:  # a chain with one shortcut: the layout that used to draw as a row of overlapping circles
        n = draw_from(st.integers(3, 30))
        G = nx.DiGraph([(k, k + 1, {"weight": 0.5}) for k in range(n - 1)])
        G.add_edge(0, n - 1, weight=0.3)
    if len(G) > 40:
        G = nx.DiGraph(G.subgraph(list(nx.topological_sort(G))[:40]))
    names = draw_from(st.lists(NAMES, min_size=len(G), max_size=len(G), unique_by=str))
    mapping = dict(zip(G, names))
    H = nx.relabel_nodes(G, mapping)
    for key in ("inputs", "outputs"):
        if key in G.graph:
            H.graph[key] = [mapping[n] for n in G.graph[key] if n in mapping and n in H]
            if not H.graph[key] or any(H.in_degree(n) if key == "inputs" else False for n in H.graph[key]):
                del H.graph[key]
    return H


def sample_for(G, seed=0):
    net = read_network(G)
    rng = np.random.default_rng(seed)
    return rng.normal(size=len(net.inputs)), rng.normal(size=len(net.outputs))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking a drawing takes minutes
@given(G=named_networks(), edge_labels=st.booleans(), highlight=st.booleans())
def test_any_network_draws_legibly(G, edge_labels, highlight):
    x, t = sample_for(G)
    result = backprop(G, x, t)
    hidden = [n for n in read_network(G).order if G.out_degree(n)]
    j = hidden[0] if highlight and hidden else None
    fig, ax = figure_for(G, equation=j is not None)
    try:
        drawn = draw(G, result, ax=ax, values=("a", "delta"), edge_labels=edge_labels, highlight=j)
        ax.set_title("a title over the drawing", fontsize=9)
        assert legibility_problems(fig, drawn, crossings_allowed=0.05) == []
    finally:
        plt.close(fig)


def test_a_twelve_node_chain_with_a_shortcut_and_tuple_names():
    G = nx.DiGraph([(("layer", k), ("layer", k + 1), {"weight": 0.5}) for k in range(11)])
    G.add_edge(("layer", 0), ("layer", 11), weight=0.3)
    x, t = sample_for(G)
    fig, ax = figure_for(G)
    drawn = draw(G, backprop(G, x, t), ax=ax, edge_labels=True)
    assert legibility_problems(fig, drawn) == []
    assert drawn["key"] is not None and "('layer', 3)" in drawn["key"].get_text()
    plt.close(fig)


@pytest.mark.parametrize("network", [bishop_network, irregular_network])
def test_paths_figure_is_legible(network):
    G = network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    fig, ax = figure_for(G, extra_width=4.0)
    drawn = draw_paths(G, result, next(n for n in read_network(G).order if G.out_degree(n) > 1), ax=ax)
    assert legibility_problems(fig, drawn) == []
    plt.close(fig)


def test_one_outlier_does_not_wash_out_the_colours():
    G = nx.DiGraph([("x", f"h{k}", {"weight": 0.1 * (k + 1)}) for k in range(8)])
    for k in range(8):
        G.add_edge(f"h{k}", "y", weight=0.2)
    G.add_edge("x", "big", weight=0.001)
    G.graph.update(inputs=["x"], outputs=["y", "big"])
    result = backprop(G, [1.0], [0.0, 1000.0])  # δ_big = y_big - 1000, every other |δ| about 1 or less
    fig, ax = figure_for(G)
    drawn = draw(G, result, ax=ax)
    limit = drawn["colorbar"].norm.vmax
    deltas = sorted(abs(float(v)) for v in result.delta.values())
    assert limit < deltas[-1] / 2 and drawn["colorbar"].extend == "both"
    plt.close(fig)
