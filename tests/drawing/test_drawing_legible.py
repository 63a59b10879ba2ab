"""Drawings are legible for any graph, measured with the Agg renderer's own text extents: no two visible
texts overlap, none is under 7 pt, names fit their circles, nothing leaves the figure, and edges keep
clear of the nodes they do not touch. Checked on builders' graphs with random (long, tuple) names, on the
training plots, heat-maps, elimination panels, path figures and animation frames, and on every gallery
figure."""

import itertools

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from graphbp import (backprop, bishop_network, irregular_network, mlp, parameter_labels, random_dag, skip_mlp,
                     train)
from graphbp.animation import animate_backward
from graphbp.cli.gallery import GALLERY_INPUT, GALLERY_TARGET, gallery_figures
from graphbp.datasets import two_moons
from graphbp.drawing import MIN_FONT, draw, draw_heatmap, draw_paths, figure_for, text_extent
from graphbp.elimination import draw_elimination
from graphbp.network import read_network
from graphbp.training_plots import plot_decision_regions, plot_deltas_before_after, plot_fit, plot_loss

DPI = 100  # the dpi every writer uses by default (demo, graphbp draw, matplotlib); hinting at a far smaller one moves texts by a pixel


def visible_texts(fig):
    """Every text the figure draws: visible, non-empty, in a visible axes; tick labels only of the ticks
    drawn (an axes turned off draws none)."""
    tick_labels = {id(label) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                   for tick in axis.majorTicks + axis.minorTicks for label in (tick.label1, tick.label2)}
    drawn_ticks = [label for ax in fig.axes if ax.get_visible() and ax.axison
                   for axis in (ax.xaxis, ax.yaxis) if axis.get_visible()
                   for tick in axis._update_ticks() for label in (tick.label1, tick.label2)]
    texts = [t for t in fig.findobj(plt.Text) if id(t) not in tick_labels] + drawn_ticks
    texts = [t for t in texts if t.get_visible() and t.get_text().strip()]
    return [t for t in texts if t.axes is None or t.axes.get_visible()]


def text_problems(fig):
    """Texts under MIN_FONT, leaving the figure, or overlapping another text (measured at DPI)."""
    fig.set_dpi(DPI)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    boxes = {t: text_extent(t, renderer) for t in visible_texts(fig)}
    figure_box = fig.bbox
    for t, box in boxes.items():
        if t.get_fontsize() < MIN_FONT:
            problems.append(f"{t.get_text()!r} at {t.get_fontsize()} pt")
        if box.x0 < -1 or box.y0 < -1 or box.x1 > figure_box.x1 + 1 or box.y1 > figure_box.y1 + 1:
            problems.append(f"{t.get_text()[:30]!r} leaves the figure")
    for (s, a), (t, b) in itertools.combinations(boxes.items(), 2):
        if a.overlaps(b) and a.intersection(a, b).width > 1 and a.intersection(a, b).height > 1:
            problems.append(f"{s.get_text()[:30]!r} overlaps {t.get_text()[:30]!r}")
    return problems


def legibility_problems(fig, *drawings):
    """What makes the figure hard to read: :func:`text_problems`, and on each network drawing (what
    :func:`graphbp.draw` returned) names wider than their circles and edges through nodes they do not touch."""
    problems = text_problems(fig)
    renderer = fig.canvas.get_renderer()
    for drawn in drawings:
        radius = np.sqrt(drawn["nodes"].get_sizes()[0]) / 2 * DPI / 72
        centres = {n: drawn["ax"].transData.transform(p) for n, p in drawn["pos"].items()}
        for n, text in drawn["names"].items():
            if text.get_visible() and text_extent(text, renderer).width > 2 * radius:
                problems.append(f"name {text.get_text()!r} is wider than its circle")
        for (i, j), patch in drawn["edges"].items():
            paths = patch._get_path_in_displaycoord()[0]  # the arrow's shaft first, then its head
            shaft = paths[0] if isinstance(paths, list) else paths
            points = np.vstack(shaft.to_polygons(closed_only=False))  # the Bézier flattened, not its control points
            for n, centre in centres.items():
                if n not in (i, j) and np.min(np.hypot(*(points - centre).T)) < radius * 0.9:
                    problems.append(f"edge {(i, j)!r} passes through node {n!r}")
    return problems


def drawings(examples: int):
    """Hypothesis settings for drawing tests: `examples` graphs, no deadline, no shrinking (it takes minutes)."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])


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


@drawings(12)
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
        assert legibility_problems(fig, drawn) == []
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


def test_a_wide_equation_with_tuple_names_wraps_between_terms():
    G = nx.DiGraph([("x", "j", {"weight": 0.5})])
    for k in range(10):
        G.add_edge("j", ("unit_long_name", k), weight=0.1 * (k + 1))
    x, t = sample_for(G)
    fig, ax = figure_for(G, equation=True)
    drawn = draw(G, backprop(G, x, t), ax=ax, highlight="j")
    lines = drawn["equation"].get_text().split("\n")
    assert len(lines) > 3 and all(line.count("$") == 2 for line in lines)  # each line its own mathtext
    assert legibility_problems(fig, drawn) == []
    plt.close(fig)


# --- the other figures: training plots, heat-maps, elimination panels, animation frames, the gallery ----------

def small_networks():
    return named_networks().filter(lambda G: 2 <= len(G) <= 25)


@drawings(4)
@given(G=small_networks())
def test_deltas_before_and_after_are_legible(G):
    x, t = sample_for(G)
    after = G.copy()
    for i, j in after.edges:
        after.edges[i, j]["weight"] *= 0.5
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    try:
        drawn = plot_deltas_before_after(G, after, x[None, :], t[None, :], axes=axes)
        assert legibility_problems(fig, drawn["before"], drawn["after"]) == []
    finally:
        plt.close(fig)


@pytest.mark.parametrize("hidden", [["h"], [("unit_long_name", k) for k in range(8)]])
def test_training_plots_are_legible(hidden):
    G = nx.DiGraph()
    for k, h in enumerate(hidden):
        G.add_edge("x", h, weight=0.5 + 0.2 * k)
        G.add_edge(h, "y", weight=1.0 - 0.3 * k)
    x = np.linspace(-2, 2, 20)[:, None]
    history = train(G, x, np.sin(x), optimizer="L-BFGS-B", epochs=5, progress=False, validation_split=0.25)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    plot_loss(history, ax=axes[0])
    plot_fit(G, x, np.sin(x), ax=axes[1])
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    assert text_problems(fig) == []
    plt.close(fig)
    X, T = two_moons(40, seed=0)
    H = mlp([2, 4, 1], output_activation="logistic", seed=0)
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_decision_regions(H, X, T, ax=ax)
    ax.set_title("two moons", fontsize=9)
    fig.tight_layout()
    assert text_problems(fig) == []
    plt.close(fig)


@drawings(6)
@given(G=small_networks(), square=st.booleans())
def test_heatmap_is_legible_at_any_size(G, square):
    labels = [str(label) for label in parameter_labels(G)]
    rows = labels if square else [f"y_{k}" for k in range(3)]
    matrix = np.random.default_rng(0).normal(size=(len(rows), len(labels)))
    fig, ax = plt.subplots(figsize=(7.5, 7.0), layout="constrained")
    drawn = draw_heatmap(matrix, rows, labels, ax=ax, title="a heat-map")
    assert text_problems(fig) == []
    shown = [t.get_text() for t in drawn["ticks"] if t.get_text()]
    assert shown and set(shown) <= set(labels)
    plt.close(fig)


@drawings(4)
@given(G=small_networks())
def test_elimination_panels_are_legible(G):
    x, _ = sample_for(G)
    drawn = draw_elimination(G, x)
    fig = plt.gcf()
    fig.suptitle("a title over the panels", fontsize=10)
    try:
        assert text_problems(fig) == []
        assert len(drawn) == 3
    finally:
        plt.close(fig)


@drawings(4)
@given(G=small_networks())
def test_paths_of_any_network_are_legible(G):
    x, t = sample_for(G)
    result = backprop(G, x, t)
    counts = {j: len(list(nx.all_simple_paths(G, j, read_network(G).outputs))) for j in G if G.out_degree(j)}
    j = min(counts, key=lambda n: (abs(counts[n] - 4), str(n)), default=None)
    if j is None or counts[j] > 12:
        return
    fig, ax = figure_for(G, extra_width=4.0)
    try:
        drawn = draw_paths(G, result, j, ax=ax)
        assert legibility_problems(fig, drawn) == []
    finally:
        plt.close(fig)


@drawings(2)
@given(G=named_networks().filter(lambda G: len(G) <= 12))
def test_every_animation_frame_is_legible(G):
    x, t = sample_for(G)
    animation = animate_backward(G, backprop(G, x, t))
    try:
        for frame in frames_of(animation):
            assert legibility_problems(animation._fig, animation.drawn) == [], frame
    finally:
        plt.close(animation._fig)


def frames_of(animation):
    """Draw each frame of `animation` in turn, as its save does (which first stops it starting on a draw)."""
    animation._fig.canvas.mpl_disconnect(animation._first_draw_id)
    animation._draw_was_started = True  # as save's first draw sets it: no "deleted without rendering" warning
    for frame in animation.new_frame_seq():
        animation._func(frame)
        yield frame


def test_every_gallery_figure_is_legible():
    """Every PNG of the gallery, and every frame of its animation (irregular_network, the gallery's sample)."""
    problems = {}
    for name, fig in gallery_figures():
        problems[name] = text_problems(fig)
        plt.close(fig)
    G = irregular_network()
    animation = animate_backward(G, backprop(G, GALLERY_INPUT, GALLERY_TARGET))
    for frame in frames_of(animation):
        problems[f"backward_sweep.gif frame {frame}"] = legibility_problems(animation._fig, animation.drawn)
    plt.close(animation._fig)
    assert {name: found for name, found in problems.items() if found} == {}
