"""The δ explorer page: its data (no browser), its safety, its errors, and ``graphbp explore``."""

import json
import re
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

import graphbp
from graphbp import backprop, bishop_network, explain, irregular_network, random_dag, read_network
from graphbp.drawing.routing import course_beziers, edge_courses
from graphbp.exceptions import GraphBPError, ShapeError
from graphbp.explorer import page_data, to_html, write_html
from optional import require


def batch(G, samples, seed=0, loss="sse"):
    net = read_network(G)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, len(net.inputs)))
    t = rng.normal(size=(samples, len(net.outputs)))
    return x, t


def embedded(page: str) -> dict:
    """The JSON the page's script reads."""
    match = re.search(r'<script type="application/json" id="graphbp-data">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def softmax_network():
    G = nx.DiGraph()
    for i, h in [("x1", "h"), ("x2", "h"), ("x1", "g")]:
        G.add_edge(i, h, weight=0.7)
    for k, w in [("c1", 0.5), ("c2", -1.2), ("c3", 0.3)]:
        G.add_edge("h", k, weight=w)
        G.add_edge("g", k, weight=-w)
        G.nodes[k].update(activation="softmax", softmax_group="class")
    return G


@pytest.mark.parametrize("make, loss, t", [
    (bishop_network, "sse", None),
    (irregular_network, "sse", None),
    (softmax_network, "ce", [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
])
def test_page_numbers_are_the_results(make, loss, t):
    G = make()
    x, t_random = batch(G, 3)
    result = backprop(G, x, t_random if t is None else t, loss=loss)
    data = page_data(G, result, sample=2)
    net = read_network(G)
    assert [n["repr"] for n in data["nodes"]] == [repr(n) for n in net.order]
    assert data["shown"] == 2 and [s["sample"] for s in data["samples"]] == [0, 1, 2]
    for s in data["samples"]:
        n = s["sample"]
        assert s["loss"] == pytest.approx(result.sample_loss[n], rel=1e-15)
        for i, node in enumerate(net.order):
            assert s["delta"][i] == result.delta[node][n]
            assert (s["a"][i], s["z"][i]) == (result.a[node][n], result.z[node][n])
            if net.activation[node] == "softmax":
                assert s["slope"][i] is None
                continue
            e = explain(G, result, node, sample=n)
            assert s["slope"][i] == pytest.approx(1.0 if node in net.inputs else e.derivative, rel=1e-15)
            assert s["direct"][i] == pytest.approx(e.direct, abs=1e-15)
            # eq. 5.56 from the page's own numbers, as its script computes it, gives backprop's δ.
            total = sum(e["weight"] * s["delta"][e["target"]] for e in data["edges"] if e["source"] == i)
            assert s["direct"][i] + s["slope"][i] * total == pytest.approx(s["delta"][i], rel=1e-12, abs=1e-15)
    assert {(data["nodes"][e["source"]]["repr"], data["nodes"][e["target"]]["repr"]): (e["weight"], e["grad"])
            for e in data["edges"]} == {
        (repr(i), repr(j)): (G[i][j]["weight"], result.grad_weight[(i, j)]) for i, j in G.edges}
    # The step control replays the backward sweep: reverse topological order, a softmax group as one step.
    assert [[net.order[i] for i in unit] for unit in data["sweep"]] == [list(u) for u in reversed(net.units)]


def test_softmax_direct_terms_are_the_deltas():
    G = softmax_network()
    result = backprop(G, [0.3, -0.8], [0.0, 1.0, 0.0], loss="ce")
    data = page_data(G, result)
    index = {n["repr"]: i for i, n in enumerate(data["nodes"])}
    for k, target in zip(["c1", "c2", "c3"], [0.0, 1.0, 0.0]):
        i = index[repr(k)]
        assert data["samples"][0]["direct"][i] == pytest.approx(result.z[k] - target, rel=1e-14)


def test_odd_names_cannot_break_the_page():
    G = nx.DiGraph()
    hostile = "</script><script>alert(1)</script>"
    G.add_edge((0, 1), hostile, weight=0.5)
    G.add_edge(hostile, 3, weight=-1.0)
    G.add_edge((0, 1), "3", weight=2.0)   # prints like the int 3: both shown by repr
    G.add_edge("3", 3, weight=0.25)
    G.add_edge("<!--", 3, weight=1.0)
    result = backprop(G, [0.5, 1.0], [0.2])
    page = to_html(G, result, title="<b>a & b</b> __DATA__")
    assert page.count("</script>") == 2 and "<!--" not in page and "<b>a" not in page
    assert page.count("id=\"graphbp-data\"") == 1
    labels = {n["repr"]: n["label"] for n in embedded(page)["nodes"]}
    assert labels == {repr((0, 1)): "(0, 1)", repr(hostile): hostile, "3": "3", "'3'": "'3'", "'<!--'": "<!--"}
    assert "&lt;b&gt;a &amp; b&lt;/b&gt; __DATA__" in page


def test_page_is_self_contained():
    G = bishop_network()
    page = to_html(G, backprop(G, [0.5, -1.0], [1.0, 0.0]))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "default-src 'none'" in page   # the browser itself refuses any fetch


def test_samples_offered():
    G = bishop_network()
    x, t = batch(G, 250)
    result = backprop(G, x, t)
    data = page_data(G, result, sample=200, max_samples=100)
    assert [s["sample"] for s in data["samples"]] == [*range(100), 200]
    assert data["shown"] == 100 and data["batch"] == 250
    single = page_data(G, backprop(G, x[0], t[0]))
    assert [s["sample"] for s in single["samples"]] == [0] and single["batch"] == 1


@pytest.mark.parametrize("sample", [-1, 3, 1.0, True])
def test_bad_sample(sample):
    G = bishop_network()
    result = backprop(G, *batch(G, 3))
    with pytest.raises(ShapeError, match=r"sample .* holds samples 0\.\.2"):
        to_html(G, result, sample=sample)


@pytest.mark.parametrize("max_samples", [0, -3, 2.5])
def test_bad_max_samples(max_samples):
    G = bishop_network()
    with pytest.raises(GraphBPError, match="max_samples"):
        to_html(G, backprop(G, *batch(G, 2)), max_samples=max_samples)


def test_result_of_another_graph():
    G = bishop_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    other = nx.relabel_nodes(G, {"z2": "hidden"})
    with pytest.raises(GraphBPError, match="no δ for node 'hidden'"):
        to_html(other, result)


@pytest.mark.parametrize("result", [None, "forward"])
def test_not_a_backprop_result(result):
    G = bishop_network()
    result = graphbp.forward(G, [0.5, -1.0]) if result == "forward" else result
    with pytest.raises(GraphBPError, match="needs a backprop result"):
        to_html(G, result)


def test_result_of_another_wiring():
    G = bishop_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    G.remove_edge("z1", "y2")
    G.add_edge("x1", "y2", weight=0.3)
    with pytest.raises(GraphBPError, match=r"no ∂E/∂w for edge \('x1', 'y2'\)"):
        to_html(G, result)


def test_positions_kept_and_numpy_safe():
    G = bishop_network()
    data = page_data(G, backprop(G, [0.5, -1.0], [1.0, 0.0]), pos={"z2": np.array([1.0, 3.5])})
    z2 = next(n for n in data["nodes"] if n["label"] == "z2")
    assert (z2["x"], z2["y"]) == (1.0, 3.5)
    json.dumps(data, allow_nan=False)


def test_invalid_network_is_named():
    G = bishop_network()
    result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    G.add_edge("y1", "x1", weight=1.0)
    with pytest.raises(GraphBPError, match="cycle"):
        to_html(G, result)


def test_write_html_and_cli(tmp_path):
    G = irregular_network()
    graphbp.write_json(G, tmp_path / "net.json")
    out = write_html(G, backprop(G, *batch(G, 2)), tmp_path / "page.html", sample=1)
    assert embedded(out.read_text(encoding="utf-8"))["shown"] == 1
    command = [sys.executable, "-m", "graphbp", "explore", str(tmp_path / "net.json"), "--samples", "4",
               "--sample", "3", "-o", str(tmp_path / "cli.html")]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    data = embedded((tmp_path / "cli.html").read_text(encoding="utf-8"))
    assert data["batch"] == 4 and data["samples"][data["shown"]]["sample"] == 3
    bad = subprocess.run([*command[:-4], "--sample", "9", "-o", str(tmp_path / "bad.html")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "sample 9 is not in the result" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad.html").exists()


def test_show_gives_an_iframe():
    require("IPython")
    G = bishop_network()
    shown = graphbp.explorer.show(G, backprop(G, [0.5, -1.0], [1.0, 0.0]), height=400)
    assert '<iframe srcdoc="&lt;!DOCTYPE html&gt;' in shown.data and "height:400px" in shown.data


def test_compiled_result_gives_the_same_page():
    G = irregular_network()
    x, t = batch(G, 3)
    reference = page_data(G, backprop(G, x, t), sample=2)
    compiled = page_data(G, graphbp.compile(G, backend="numpy").backprop(x, t), sample=2)
    for quantity in ("a", "z", "delta", "slope", "direct"):
        np.testing.assert_allclose(compiled["samples"][2][quantity], reference["samples"][2][quantity],
                                   rtol=1e-12, atol=1e-15)
    assert [e["path"] for e in compiled["edges"]] == [e["path"] for e in reference["edges"]]
    np.testing.assert_allclose([(e["weight"], e["grad"]) for e in compiled["edges"]],
                               [(e["weight"], e["grad"]) for e in reference["edges"]], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make", [irregular_network, lambda: random_dag(30, k=4, n_inputs=3, n_outputs=2, seed=4)])
def test_edges_take_the_drawing_routes_clear_of_the_units(make):
    """Each edge's path is graphbp.drawing's course for it (its Bézier control points, by name), from its source
    to its target, and keeps clear of every unit it does not join; its term label's places lie on it."""
    G = make()
    x, t = batch(G, 1)
    data = page_data(G, backprop(G, x, t))
    scale, radius = np.array([data["scale"]["x"], data["scale"]["y"]]), data["radius"]
    centres = np.array([(n["x"], n["y"]) for n in data["nodes"]]) * scale
    positions = {n: (node["x"], node["y"]) for n, node in zip(read_network(G).order, data["nodes"])}
    xs, ys = np.array(list(positions.values())).T
    margin = (radius + data["margin"]) / scale
    courses = edge_courses(positions, list(G.edges), scale, radius,
                           ((xs.min() - margin[0], xs.max() + margin[0]), (ys.min() - margin[1], ys.max() + margin[1])))
    t = np.linspace(0, 1, 400)[:, None]
    for (i, j), edge in zip(G.edges, data["edges"]):
        path = np.array([(p["x"], p["y"]) for p in edge["path"]])
        expected = course_beziers(positions[i], positions[j], courses[i, j], scale)
        np.testing.assert_allclose(path, [expected[0][0], *(p for piece in expected for p in piece[1:])], atol=1e-5)
        assert (len(path) - 1) % 3 == 0 and tuple(path[0]) == positions[i] and tuple(path[-1]) == positions[j]
        pieces = [path[k - 1:k + 3] for k in range(1, len(path), 3)]
        points = np.vstack([(1 - t) ** 3 * q[0] + 3 * (1 - t) ** 2 * t * q[1] + 3 * (1 - t) * t**2 * q[2] + t**3 * q[3]
                            for q in pieces]) * scale
        others = np.delete(centres, [edge["source"], edge["target"]], axis=0)
        assert np.hypot(*(points[:, None, :] - others[None]).transpose(2, 0, 1)).min() > radius, (i, j)
        on_path = np.hypot(*(np.array([(p["x"], p["y"]) for p in edge["label_at"]])[:, None, :] * scale
                             - points[None]).transpose(2, 0, 1)).min(axis=1)
        assert on_path.max() < 2.0  # pixels: each place is a point of the path
