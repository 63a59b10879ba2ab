"""An interactive δ explorer: one self-contained HTML page per network and result.

The page shows the network as :func:`graphbp.drawing.draw` lays it out: the
positions of :func:`graphbp.drawing.layout`, each edge along the course
:func:`graphbp.drawing.routing.edge_courses` routes round the units it does not
join (shipped as Bézier control points) with an arrowhead, every node coloured
and labelled by its δ. The drawing fills its pane; a name, value or term is
written where it covers no unit but its own and no other text, at 9 px or more,
else left out until zoomed in (the pinned unit and its successors first). Clicking (or hovering) a node j lights up
its summation set S_j = ``G.successors(j)`` and spells out eq. 5.56 with the
numbers, the output's direct term included; a step control replays the
backward sweep in reverse topological order; a selector switches between the
samples of a batch; a, z and ∂E/∂w are shown on demand. Everything (data,
scripts, styles) is inline and the page's content security policy forbids any
fetch, so the file works offline, attached to a mail or in a notebook.

The page is also a test contract. Each node is drawn as one SVG ``circle``
carrying ``data-node`` (the node's name, ``str(node)``) and ``data-delta`` (its
δ for the sample shown, written by the page's script). After a click on node j,
j's circle has the class ``selected`` and exactly the circles of S_j have the
class ``successor`` (and ``data-highlight`` set to the same word). Each edge is
one ``path.edge`` (``path.hl-edge`` over it while its source is selected)
carrying ``data-source`` and ``data-target``, the ``data-index`` of its units;
each text of the drawing carries ``data-owner``, the indices of the units it
belongs to (none for a term of eq. 5.56, which covers no unit).
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np

from .activations import SOFTMAX
from .drawing import MAX_LABELLED_NODES, layout
from .drawing.routing import BENDS, course_beziers, edge_courses, points_along
from .exceptions import GraphBPError
from .explain import direct_terms, sample_values
from .network import read_network

__all__ = ["write_html", "to_html", "show", "page_data"]

# The drawing pane of the page at its usual size, in pixels: edges are routed round the units at this scale, and
# the page only ever enlarges it (the pane's shape may stretch one direction more), which keeps them clear.
REFERENCE_PANE = (840.0, 600.0)
MAX_COLUMN_PX, MAX_ROW_PX = 220.0, 130.0  # a small network is not spread thinner than this
PAGE_MARGIN = 28.0  # pixels the page leaves round the units' circles (page.js fit(): room for a text beside)
# Above this many edges every edge takes draw's least bend unmeasured: routing takes seconds per thousand edges,
# and the units of so large a network are dots until zoomed in.
MAX_ROUTED_EDGES = 3000
# Where along an edge (fractions of its length from its tail) a term label of eq. 5.56 may go, best first.
LABEL_FRACTIONS = (0.5, 0.38, 0.62, 0.26, 0.74, 0.16, 0.84)
# Characters that could end the data's <script> block or open an HTML comment in it; JSON escapes them.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _labels(nodes) -> list[str]:
    """``str(node)`` for each node, or ``repr(node)`` where two nodes print alike (3 and "3")."""
    counts: dict[str, int] = {}
    for n in nodes:
        counts[str(n)] = counts.get(str(n), 0) + 1
    return [str(n) if counts[str(n)] == 1 else repr(n) for n in nodes]


def _batch_size(G, result) -> int:
    if getattr(result, "delta", None) is None:
        raise GraphBPError(f"the explorer needs a backprop result (graphbp.backprop(G, x, t)), got {type(result).__name__}")
    missing = [n for n in G if n not in result.delta]
    if missing:
        raise GraphBPError(f"the result was not computed on this graph: it has no δ for node {missing[0]!r}")
    missing = [e for e in G.edges if e not in result.grad_weight]
    if missing:
        raise GraphBPError(f"the result was not computed on this graph: it has no ∂E/∂w for edge {missing[0]!r}")
    return int(np.size(result.delta[next(iter(G))]))


def _shown_samples(result, size: int, sample: int, max_samples: int) -> list[int]:
    sample_values(result, sample)  # raises ShapeError for a sample outside the batch
    if isinstance(max_samples, bool) or not isinstance(max_samples, (int, np.integer)) or max_samples < 1:
        raise GraphBPError(f"max_samples must be a positive integer, got {max_samples!r}")
    return sorted(set(range(min(size, max_samples))) | {int(sample)})


def page_data(G, result, sample: int = 0, *, pos: dict | None = None, max_samples: int = 100,
              max_labelled: int = MAX_LABELLED_NODES, weight: str = "weight") -> dict:
    """Everything the page shows, as plain JSON-ready Python (see :func:`to_html`).

    Nodes are listed in the topological order of the passes; per-node numbers
    of each sample shown are lists in that order: a, z, δ, h'(a) (None in a
    softmax group, coupled by its Jacobian) and the loss's direct term
    ∂E_n/∂a_j (0 except at outputs). Each edge carries its course as
    :func:`graphbp.drawing.draw` routes it round the units ("path": the control
    points of its cubic Bézier pieces in layout units, "scale" pixels per unit)
    and the points along it where its term label may go ("label_at", best first).

    Examples
    --------
    >>> from graphbp import backprop, bishop_network
    >>> G = bishop_network()
    >>> data = page_data(G, backprop(G, [0.5, -1.0], [1.0, 0.0]))
    >>> [n["label"] for n in data["nodes"]][:3], len(data["edges"]), data["sweep"][0]
    (['x1', 'x2', 'z1'], 12, [6])
    >>> sorted(data["edges"][0])
    ['grad', 'label_at', 'path', 'source', 'target', 'weight']
    """
    net = read_network(G, weight)
    size = _batch_size(G, result)
    samples = _shown_samples(result, size, sample, max_samples)
    order = list(net.order)
    index = {n: i for i, n in enumerate(order)}
    positions = layout(G, pos, weight=weight)

    def rows(values):
        return {n: np.atleast_1d(np.asarray(values[n], dtype=float))[samples] for n in order}

    a, z, delta = rows(result.a), rows(result.z), rows(result.delta)
    direct = [direct_terms(G, net, *({n: float(v[n][c]) for n in order} for v in (a, z, delta)))
              for c in range(len(samples))]
    slope = {n: None if net.activation[n] is SOFTMAX else net.activation[n].derivative(a[n]) for n in order}
    role = {**{n: "hidden" for n in order}, **{n: "output" for n in net.outputs}, **{n: "input" for n in net.inputs}}
    dead = set(net.dead_ends)
    scale, radius, courses = _courses(G, positions)
    nodes = [
        {"label": label, "repr": repr(n), "x": float(positions[n][0]), "y": float(positions[n][1]), "role": role[n],
         "activation": "identity" if role[n] == "input" else
         SOFTMAX if net.activation[n] is SOFTMAX else net.activation[n].name,
         "bias": float(net.bias.get(n, 0.0)), "dead": n in dead}
        for n, label in zip(order, _labels(order))
    ]
    edges = []
    for i, j, w in G.edges(data=weight):
        pieces = course_beziers(positions[i], positions[j], courses[i, j], scale)
        edges.append({"source": index[i], "target": index[j], "weight": float(w),
                      "grad": float(result.grad_weight[(i, j)]),
                      "path": _rounded([pieces[0][0], *(point for piece in pieces for point in piece[1:])]),
                      "label_at": _rounded(points_along(pieces, LABEL_FRACTIONS))})
    per_sample = [
        {"sample": s,
         "loss": float(np.atleast_1d(result.sample_loss)[s]),
         "a": [float(a[n][c]) for n in order],
         "z": [float(z[n][c]) for n in order],
         "delta": [float(delta[n][c]) for n in order],
         "slope": [None if slope[n] is None else float(slope[n][c]) for n in order],
         "direct": [direct[c].get(n, 0.0) for n in order]}
        for c, s in enumerate(samples)
    ]
    return {
        "nodes": nodes,
        "edges": edges,
        "grad_bias": [float(result.grad_bias[n]) if n in result.grad_bias else None for n in order],
        "sweep": [[index[n] for n in unit] for unit in reversed(net.units)],
        "samples": per_sample,
        "shown": samples.index(int(sample)),
        "batch": size,
        "loss": float(result.loss),
        "loss_name": result.loss_name,
        "max_labelled": int(max_labelled),
        "scale": {"x": scale[0], "y": scale[1]},
        "radius": radius,
        "margin": PAGE_MARGIN,
    }


def _courses(G, positions) -> tuple[tuple[float, float], float, dict]:
    """(pixels per layout unit in x and y, the units' radius in pixels, edge -> course) for the page's pane.

    The courses are :func:`graphbp.drawing.routing.edge_courses`', as in
    :func:`graphbp.drawing.draw`: each edge bends or is routed to keep clear of
    the units it does not join, measured at :data:`REFERENCE_PANE` (up to
    :data:`MAX_ROUTED_EDGES` edges).
    """
    xs, ys = np.array(list(positions.values()), dtype=float).T
    room = np.array(REFERENCE_PANE) - 2 * (PAGE_MARGIN + 12)  # the pane less the margins round the circles
    scale = (min(MAX_COLUMN_PX, room[0] / max(np.ptp(xs), 1.0)), min(MAX_ROW_PX, room[1] / max(np.ptp(ys), 1.0)))
    # as draw's circles: a fifth of the spacing, within what a click and a short name need
    radius = float(np.clip(0.21 * min(scale), 3.0, 18.0))
    # The page keeps this margin round the units (its fit()): an edge may run round a full column through it.
    margin = (radius + PAGE_MARGIN) / np.array(scale)
    bounds = ((xs.min() - margin[0], xs.max() + margin[0]), (ys.min() - margin[1], ys.max() + margin[1]))
    if G.number_of_edges() > MAX_ROUTED_EDGES:
        return scale, radius, {edge: BENDS[0] for edge in G.edges}
    return scale, radius, edge_courses(positions, list(G.edges), scale, radius, bounds)


def _rounded(points) -> list[dict]:
    """Points as {"x", "y"} objects, 5 decimals: the page draws them at far less than 1e-5 of a layout unit."""
    return [{"x": round(float(x), 5), "y": round(float(y), 5)} for x, y in points]


def _asset(name: str) -> str:
    return resources.files("graphbp").joinpath("explorer_assets", name).read_text(encoding="utf-8")


def to_html(G, result, sample: int = 0, *, title: str | None = None, pos: dict | None = None,
            max_samples: int = 100, max_labelled: int = MAX_LABELLED_NODES, weight: str = "weight") -> str:
    """The explorer page for `G` and `result`, as one HTML string (see :func:`write_html`)."""
    data = page_data(G, result, sample, pos=pos, max_samples=max_samples, max_labelled=max_labelled, weight=weight)
    payload = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).translate(_SCRIPT_SAFE)
    heading = title if title is not None else f"δ explorer: {G.number_of_nodes()} units, {G.number_of_edges()} edges"
    parts = {"TITLE": html.escape(heading), "STYLE": _asset("page.css"), "SCRIPT": _asset("page.js"),
             "DATA": payload}
    # One pass over the template only: a title or node name holding "__DATA__" stays text.
    return re.sub(r"__(TITLE|STYLE|SCRIPT|DATA)__", lambda match: parts[match.group(1)], _asset("page.html"))


def write_html(G, result, path, sample: int = 0, *, title: str | None = None, pos: dict | None = None,
               max_samples: int = 100, max_labelled: int = MAX_LABELLED_NODES, weight: str = "weight") -> Path:
    """Write the interactive δ explorer of a network and its result to one self-contained HTML file.

    Parameters
    ----------
    G : networkx.DiGraph
        The network.
    result : BackpropResult
        From :func:`graphbp.backprop` (or a compiled engine) on `G`.
    path : str or path-like
        The ``.html`` file to write.
    sample : int, default 0
        The sample shown first; the page's selector offers the others.
    title : str, optional
        The page's heading (default: the network's size).
    pos : dict, optional
        Node -> (x, y) positions to keep; the others come from :func:`graphbp.drawing.layout`.
    max_samples : int, default 100
        The selector offers samples 0 .. max_samples − 1 of a batch (and `sample`); each costs
        about 4 numbers per node in the file.
    max_labelled : int, default 40
        Above this many nodes, each unit's value, and a name too long for its circle, appear only once
        zoomed in; the pinned unit's and its successors' are shown at any size where there is room.
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    GraphBPError
        An invalid network, a result not computed on `G`, or a bad `max_samples`.
    ShapeError
        `sample` is not a sample of the result.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from graphbp import backprop, bishop_network
    >>> G = bishop_network()
    >>> result = backprop(G, [[0.5, -1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]])
    >>> page = write_html(G, result, pathlib.Path(tempfile.mkdtemp()) / "bishop.html", sample=1)
    >>> text = page.read_text(encoding="utf-8")
    >>> "<script src" in text, 'id="graphbp-data"' in text
    (False, True)
    """
    path = Path(path)
    path.write_text(to_html(G, result, sample, title=title, pos=pos, max_samples=max_samples,
                            max_labelled=max_labelled, weight=weight), encoding="utf-8")
    return path


def show(G, result, sample: int = 0, *, height: int = 560, **options):
    """The explorer inline in a Jupyter notebook: an ``IPython.display.HTML`` iframe holding the page.

    The page travels inside the iframe's ``srcdoc``, so a saved or rendered
    notebook keeps it working. `options` are those of :func:`to_html`.
    """
    from IPython.display import HTML

    page = to_html(G, result, sample, **options)
    return HTML(f'<div class="graphbp-explorer"><iframe srcdoc="{html.escape(page, quote=True)}" '
                f'style="width:100%;height:{int(height)}px;border:1px solid #ccc" sandbox="allow-scripts"></iframe></div>')

