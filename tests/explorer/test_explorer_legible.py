"""The δ explorer is legible in a real browser: its rendered geometry is measured in the page.

For Bishop's network, the irregular one, RandWire DAGs of 60 and 400 units and a network with long
tuple names, each with and without a pinned unit, the page is opened in headless chromium and every visible text, unit circle
and edge path is read back with getBoundingClientRect / getPointAtLength; then no two visible texts
overlap, no text covers a unit it does not belong to, no edge passes through a unit it does not join
(points sampled every pixel along each path), every visible text is at least 9 px, and the drawing
fills the pane. One browser session for every case; skipped without chromium locally, a failure under CI=true.
"""

import json
import urllib.parse

import networkx as nx
import numpy as np
import pytest

from chromium import Chromium, chromium_for_tests, find_browser
from graphbp import backprop, bishop_network, irregular_network, mlp, random_dag, read_network
from graphbp.explorer import write_html

MIN_TEXT_PX = 9.0

# Runs in the page. A text belongs to the units named by its data-owner (space-separated indices) or,
# without one, to the unit nearest its anchor; an edge joins the units nearest its two ends.
MEASURE = r"""
(() => {
  const graph = document.getElementById("graph"), pane = graph.getBoundingClientRect();
  const inPane = r => r.width > 0 && r.height > 0 && r.right > pane.left && r.left < pane.right &&
                      r.bottom > pane.top && r.top < pane.bottom;
  const shown = el => { const s = getComputedStyle(el); return s.visibility !== "hidden" && s.display !== "none" &&
                                                              Number(s.opacity) > 0; };
  const units = [...graph.querySelectorAll("circle[data-node]")].map(c => {
    const r = c.getBoundingClientRect();
    return { index: Number(c.dataset.index), x: r.x + r.width / 2, y: r.y + r.height / 2, r: r.width / 2,
             visible: inPane(r) && shown(c) };
  }).filter(u => u.visible);
  const byIndex = new Map(units.map(u => [u.index, u]));
  const nearest = (x, y) => units.reduce((best, u) =>
    Math.hypot(u.x - x, u.y - y) < Math.hypot(best.x - x, best.y - y) ? u : best, units[0]);
  const texts = [...graph.querySelectorAll("text")].filter(t => t.textContent.trim() && shown(t)).map(t => {
    const r = t.getBoundingClientRect(), m = t.getScreenCTM();
    const size = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    let owners;
    if (t.dataset.owner !== undefined) owners = t.dataset.owner.split(" ").filter(Boolean).map(Number);
    else if (t.classList.contains("term")) owners = [...graph.querySelectorAll("circle.selected, circle.successor")]
      .map(c => Number(c.dataset.index));
    else owners = units.length ? [nearest(r.x + r.width / 2, r.y + r.height / 2).index] : [];
    return { text: t.textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, size, owners,
             visible: inPane(r) };
  }).filter(t => t.visible);
  const overlap = (a, b) => Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > 0.5 &&
                            Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > 0.5;
  const covers = (t, u) => Math.hypot(Math.max(t.x0, Math.min(u.x, t.x1)) - u.x,
                                      Math.max(t.y0, Math.min(u.y, t.y1)) - u.y) < u.r - 0.5;
  const overlaps = [], covered = [], small = [], crossings = [];
  texts.forEach((a, k) => texts.slice(k + 1).forEach(b => { if (overlap(a, b)) overlaps.push([a.text, b.text]); }));
  for (const t of texts) {
    for (const u of units) if (!t.owners.includes(u.index) && covers(t, u)) covered.push([t.text, u.index]);
    if (t.size < """ + str(MIN_TEXT_PX) + r""" - 0.01) small.push([t.text, t.size]);
  }
  // The units by grid cell, so that each point along an edge is checked against its neighbourhood only.
  const cell = Math.max(8, 2 * Math.max(0, ...units.map(u => u.r))), grid = new Map();
  for (const u of units) {
    const key = `${Math.floor(u.x / cell)},${Math.floor(u.y / cell)}`;
    grid.set(key, [...(grid.get(key) || []), u]);
  }
  const near = (x, y) => [-1, 0, 1].flatMap(dx => [-1, 0, 1].flatMap(dy =>
    grid.get(`${Math.floor(x / cell) + dx},${Math.floor(y / cell) + dy}`) || []));
  const paths = [...graph.querySelectorAll("path.edge, path.hl-edge")].filter(shown);
  let edgeCount = 0;
  for (const path of paths) {
    const m = path.getScreenCTM();
    // One path element may hold many edges (one subpath each): measure each subpath on its own, sampled
    // every pixel or so from its M, L, Q and C commands (in the path's own coordinates, mapped to the screen).
    const pieces = (path.getAttribute("d").match(/M[^M]*/g) || []);
    const zoom = Math.hypot(m.a, m.b);
    for (const d of pieces) {
      const numbers = (d.match(/-?[\d.]+(?:e-?\d+)?/g) || []).map(Number), commands = d.match(/[MLQC]/g);
      const points = [];
      let at = [numbers[0], numbers[1]], k = 2;
      points.push(at);
      for (const command of commands.slice(1)) {
        const count = { L: 1, Q: 2, C: 3 }[command], control = [at];
        for (let c = 0; c < count; c++, k += 2) control.push([numbers[k], numbers[k + 1]]);
        const end = control[control.length - 1];
        const steps = Math.max(4, Math.ceil(zoom * control.slice(1).reduce((s, p, c) =>
          s + Math.hypot(p[0] - control[c][0], p[1] - control[c][1]), 0)));
        for (let s = 1; s <= steps; s++) {
          const t = s / steps;
          let layer = control;
          while (layer.length > 1) layer = layer.slice(1).map((p, c) => [layer[c][0] + t * (p[0] - layer[c][0]),
                                                                        layer[c][1] + t * (p[1] - layer[c][1])]);
          points.push(layer[0]);
        }
        at = end;
      }
      for (const p of points) { const [x, y] = p; p[0] = m.a * x + m.c * y + m.e; p[1] = m.b * x + m.d * y + m.f; }
      edgeCount += 1;
      if (!units.length) continue;
      const ends = [nearest(...points[0]), nearest(...points[points.length - 1])];
      const source = path.dataset.source !== undefined ? byIndex.get(Number(path.dataset.source)) : ends[0];
      const target = path.dataset.target !== undefined ? byIndex.get(Number(path.dataset.target)) : ends[1];
      const hit = points.map(([x, y]) => near(x, y).find(u => u !== source && u !== target &&
                                                           Math.hypot(x - u.x, y - u.y) < u.r - 0.5)).find(Boolean);
      if (hit) crossings.push([path.dataset.source ?? ends[0].index, path.dataset.target ?? ends[1].index, hit.index]);
    }
  }
  const xs = units.flatMap(u => [u.x - u.r, u.x + u.r]), ys = units.flatMap(u => [u.y - u.r, u.y + u.r]);
  return { overlaps, covered, small, crossings, texts: texts.length, units: units.length, edges: edgeCount,
           fill_x: (Math.max(...xs) - Math.min(...xs)) / pane.width,
           fill_y: (Math.max(...ys) - Math.min(...ys)) / pane.height,
           named: texts.filter(t => t.owners.length === 1).map(t => t.owners[0]),
           selected: [...graph.querySelectorAll("circle.selected")].map(c => Number(c.dataset.index)) };
})()
"""


def tuple_names():
    """A two-layer network whose hidden units are named by tuples too long for their circles."""
    G = nx.relabel_nodes(mlp([2, 3, 2], seed=2), lambda n: ("a unit with a long name", n) if n.startswith("h") else n)
    G.graph.update(inputs=["x1", "x2"], outputs=["y1", "y2"])
    return G


def networks():
    """(name, G, result, pinned unit) for each network the test measures."""
    rng = np.random.default_rng(0)
    cases = []
    for name, G, pinned in [("bishop", bishop_network(), "z1"), ("irregular", irregular_network(), "h1"),
                            ("randwire60", random_dag(60, "watts_strogatz", k=4, n_inputs=3, n_outputs=2, seed=2),
                             None),
                            ("randwire400", random_dag(400, "watts_strogatz", k=4, n_inputs=4, n_outputs=3, seed=3),
                             None), ("tuples", tuple_names(), ("a unit with a long name", "h1_2"))]:
        net = read_network(G)
        result = backprop(G, rng.normal(size=(2, len(net.inputs))), rng.normal(size=(2, len(net.outputs))))
        hidden = [n for n in G if n not in net.inputs and n not in net.outputs]
        pinned = pinned if pinned is not None else max(hidden, key=G.out_degree)
        cases.append((name, G, result, pinned))
    return cases


def measure_all(browser, folder) -> dict:
    """(network, pinned or None) -> the page's measured geometry."""
    measured = {}
    for name, G, result, pinned in networks():
        page = write_html(G, result, folder / f"{name}.html").read_bytes()
        for unit in (None, pinned):
            # one file each: a new fragment on the same file would not load the page again
            path = folder / f"{name}-{unit is not None}.html"
            path.write_bytes(page)
            browser.open(path.as_uri() + ("" if unit is None else "#node=" + urllib.parse.quote(str(unit))))
            measured[name, unit] = browser.evaluate(MEASURE)
    return measured


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    with chromium_for_tests() as browser:
        result = measure_all(browser, tmp_path_factory.mktemp("legible"))
        assert browser.errors == []
    return result


CASES = [(name, pinned) for name in ("bishop", "irregular", "randwire60", "randwire400", "tuples")
         for pinned in (False, True)]


@pytest.mark.parametrize("name, pinned", CASES)
def test_the_explorer_is_legible(measured, name, pinned):
    (key,) = [k for k in measured if k[0] == name and (k[1] is not None) == pinned]
    page = measured[key]
    assert page["units"] > 0 and page["edges"] > 0
    assert page["overlaps"] == [], f"texts overlap: {page['overlaps'][:5]}"
    assert page["covered"] == [], f"texts over units: {page['covered'][:5]}"
    assert page["small"] == [], f"texts under {MIN_TEXT_PX} px: {page['small'][:5]}"
    assert page["crossings"] == [], f"edges through units (source, target, unit): {page['crossings'][:5]}"
    # The drawing fills the pane in one direction at least.
    assert max(page["fill_x"], page["fill_y"]) > 0.75
    if pinned:  # the pinned unit is named, at any size
        assert len(page["selected"]) == 1 and page["selected"][0] in page["named"]


if __name__ == "__main__":  # prints the counts per network: python tests/explorer/test_explorer_legible.py
    import tempfile
    from pathlib import Path

    with Chromium(find_browser()) as browser, tempfile.TemporaryDirectory() as folder:
        for (name, unit), page in measure_all(browser, Path(folder)).items():
            print(json.dumps({"network": name, "pinned": unit, **{k: len(page[k]) for k in
                              ("overlaps", "covered", "small", "crossings")},
                              "fill": [round(page["fill_x"], 2), round(page["fill_y"], 2)],
                              "named": page["selected"][0] in page["named"] if unit is not None else None,
                              "texts": page["texts"], "units": page["units"], "edges": page["edges"]}))
