"""The δ explorer in a real browser: headless chromium through the DevTools protocol.

Each page is loaded from a file, its script run, and then read back: every node
drawn with its δ, a real mouse click lighting exactly S_j = G.successors(j), the
sample selector and the backward-sweep control; any console error, uncaught
exception or blocked fetch fails the test. Skipped without chromium locally;
under CI=true a missing chromium is a failure.
"""

import json

import networkx as nx
import numpy as np
import pytest

from chromium import chromium_for_tests
from graphbp import backprop, bishop_network, irregular_network, random_dag, read_network
from graphbp.explorer import write_html

CIRCLES = "[...document.querySelectorAll('circle[data-node]')]"


@pytest.fixture(scope="module")
def browser():
    with chromium_for_tests() as chromium:
        yield chromium


@pytest.fixture
def page(browser, tmp_path):
    """Write a network's explorer page, open it, and check that no error was reported meanwhile."""
    def open_page(G, result, sample=0, fragment="", **options):
        path = write_html(G, result, tmp_path / "page.html", sample=sample, **options)
        browser.open(path.as_uri() + fragment)
        return browser

    browser.errors.clear()
    yield open_page
    assert browser.errors == []


def drawn(browser) -> dict:
    """data-node -> data-delta as floats, for every node element of the page."""
    pairs = browser.evaluate(f"{CIRCLES}.map(c => [c.dataset.node, c.dataset.delta])")
    assert len({name for name, _ in pairs}) == len(pairs)
    return {name: float(delta) for name, delta in pairs}


def highlighted(browser, kind: str) -> list:
    """The nodes drawn as `kind` ("selected" or "successor"), by class and by data-highlight alike."""
    by_class = browser.evaluate(f"{CIRCLES}.filter(c => c.classList.contains('{kind}')).map(c => c.dataset.node)")
    by_data = browser.evaluate(f"{CIRCLES}.filter(c => c.dataset.highlight === '{kind}').map(c => c.dataset.node)")
    assert by_class == by_data
    return sorted(by_class)


def click_node(browser, name: str) -> None:
    index = browser.evaluate(f"{CIRCLES}.find(c => c.dataset.node === {json.dumps(name)}).dataset.index")
    browser.click(f'circle[data-index="{index}"]')


def deltas(G, result, sample):
    return {str(n): float(np.atleast_1d(result.delta[n])[sample]) for n in G}


def test_bishop_every_node_click_and_sample(page):
    G = bishop_network()
    result = backprop(G, [[0.5, -1.0], [1.0, 0.3], [-0.2, 0.1]], [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    browser = page(G, result, sample=1)
    assert drawn(browser) == deltas(G, result, 1)        # exact: the page writes each float's shortest repr
    for j in G:
        click_node(browser, j)
        assert highlighted(browser, "selected") == [j]
        assert highlighted(browser, "successor") == sorted(G.successors(j))
    click_node(browser, "z1")
    panel = browser.evaluate("document.getElementById('panel').textContent")
    w, d = G["z1"]["y1"]["weight"], result.delta["y1"][1]
    assert "S z1 = G.successors('z1') = {y1, y2}".replace(" ", "") in panel.replace(" ", "")
    four_digits = [float(f"{value:.4g}") for value in (result.delta["z1"][1], w, d, w * d)]
    assert all(str(value) in panel for value in four_digits)
    browser.evaluate("(() => { const s = document.getElementById('sample'); s.value = '2';"
                     " s.dispatchEvent(new Event('change')); })()")
    assert drawn(browser) == deltas(G, result, 2)
    assert highlighted(browser, "successor") == ["y1", "y2"]   # the pinned unit stays explained


def test_irregular_network_clicks(page):
    G = irregular_network()
    net = read_network(G)
    rng = np.random.default_rng(3)
    result = backprop(G, rng.normal(size=(2, len(net.inputs))), rng.normal(size=(2, len(net.outputs))))
    browser = page(G, result)
    assert drawn(browser) == deltas(G, result, 0)
    for j in G:
        click_node(browser, str(j))
        assert highlighted(browser, "successor") == sorted(str(k) for k in G.successors(j))
    browser.evaluate("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}))")
    assert highlighted(browser, "selected") == highlighted(browser, "successor") == []


def test_backward_sweep_steps_in_reverse_topological_order(page):
    G = irregular_network()
    net = read_network(G)
    result = backprop(G, np.ones(len(net.inputs)), np.zeros(len(net.outputs)))
    browser = page(G, result)
    revealed = f"{CIRCLES}.filter(c => c.dataset.revealed === 'true').map(c => c.dataset.node)"
    browser.click("#sweep-reset")
    assert browser.evaluate(revealed) == []
    for step, unit in enumerate(reversed(net.units), start=1):
        browser.click("#sweep-step")
        assert sorted(browser.evaluate(revealed)) == sorted(str(n) for u in list(reversed(net.units))[:step]
                                                            for n in u)
        assert highlighted(browser, "selected") == [str(unit[0])]
        # every successor of the unit just computed already has its δ: the order of eq. 5.56
        assert set(highlighted(browser, "successor")) <= set(browser.evaluate(revealed))
    browser.click("#sweep-all")
    assert len(browser.evaluate(revealed)) == G.number_of_nodes()


def test_odd_names_softmax_and_a_link(page):
    G = nx.DiGraph()
    hostile = "</script><script>alert(1)</script>"
    G.add_edge((0, 1), hostile, weight=0.5)
    G.add_edge((0, 1), 7, weight=-0.4)
    for k, w in [("c 1", 0.5), ("c&2", -1.2)]:
        G.add_edge(hostile, k, weight=w)
        G.add_edge(7, k, weight=0.3)
        G.nodes[k].update(activation="softmax", softmax_group="g")
    result = backprop(G, [0.4], [0.0, 1.0], loss="ce")
    browser = page(G, result, fragment="#node=" + "%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert drawn(browser) == deltas(G, result, 0)
    assert highlighted(browser, "selected") == [hostile]            # opened from the link
    assert highlighted(browser, "successor") == ["c 1", "c&2"]
    assert browser.evaluate("document.querySelectorAll('script').length") == 2


def test_two_thousand_units(page):
    G = random_dag(2000, "watts_strogatz", k=6, n_inputs=4, n_outputs=3, seed=1)
    rng = np.random.default_rng(0)
    result = backprop(G, rng.normal(size=(2, 4)), rng.normal(size=(2, 3)))
    browser = page(G, result)
    assert drawn(browser) == deltas(G, result, 0)
    busiest = max(G, key=G.out_degree)
    # Zoomed out, 2,000 units overlap: find it first (the page centres it at full size), then click it.
    browser.evaluate(f"(() => {{ const f = document.getElementById('find'); f.value = {json.dumps(str(busiest))};"
                     " f.dispatchEvent(new Event('change')); })()")
    browser.evaluate("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}))")
    assert highlighted(browser, "successor") == []
    click_node(browser, str(busiest))
    assert highlighted(browser, "successor") == sorted(str(k) for k in G.successors(busiest))
