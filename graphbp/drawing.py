"""Drawing a network with its δ: layered layout, δ colours, and eq. 5.56 for a highlighted node.

matplotlib is imported inside the functions (as in ``networkx.drawing``), the
functions take ``ax=None`` (the current axes) and return what they drew, so
tests and users can read every label back.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable

import networkx as nx
import numpy as np

from .exceptions import GraphBPError, GraphStructureError
from .explain import explain, sample_values
from .network import read_network, result_network

__all__ = ["layout", "draw", "draw_paths", "draw_heatmap", "figure_for"]

# Above this many nodes, names and value labels are left out: they would overlap into mush.
MAX_LABELLED_NODES = 40
HIGHLIGHT_COLOR = "#e08000"
_ARC = "arc3,rad={rad}"
_SHORT_BEND = 0.06
_BEND_OFFSETS = (0.35, 0.7, 1.1)  # how far an arc's control point may move off the chord, layout units
_CLEARANCE = 0.45  # in layout units: a column is 1 wide, rows 1 apart
_LABEL_DROP = 0.3  # where the value label under a node sits, in layout units
_QUANTITY_SYMBOL = {"delta": "δ", "a": "a", "z": "z"}


def _columns(G, net) -> list[list]:
    """Nodes by topological generation, left to right; outputs that feed nothing go in the last column."""
    final = [n for n in net.outputs if G.out_degree(n) == 0]
    moved = set(final)
    columns = [[n for n in generation if n not in moved] for generation in nx.topological_generations(G)]
    columns = [c for c in [*columns, final] if c]
    # Inputs first in x-column order, outputs in t-column order; the rest in node order.
    rank = {n: r for r, n in enumerate([*net.inputs, *G.nodes])}
    return [sorted(c, key=lambda n: rank[n]) for c in columns]


def layout(G, pos: dict | None = None, sweeps: int = 4, weight: str = "weight") -> dict:
    """Positions showing the flow: one column per topological generation, inputs left, outputs right.

    Columns are ``nx.topological_generations(G)``, except that outputs feeding
    nothing share the last column. Within a column, nodes are ordered by a few
    barycenter sweeps (each node moves to the mean height of its neighbours in
    the previous columns, then the next ones), which removes most crossings;
    inputs and outputs keep their column order of x and t.

    Parameters
    ----------
    G : networkx.DiGraph
        A network.
    pos : dict, optional
        Positions to keep: these nodes are placed there, the others by the layout.
    sweeps : int, default 4
        Barycenter sweeps (each one left-to-right then right-to-left).
    weight : str, default "weight"
        Edge attribute holding the weight (read only to validate `G`).

    Returns
    -------
    dict
        Node -> (x, y); column index as x, centred rank as y (top first).

    Raises
    ------
    GraphBPError
        An invalid network.

    Examples
    --------
    >>> from graphbp import bishop_network
    >>> pos = layout(bishop_network())
    >>> pos["x1"], pos["z2"], pos["y2"]
    ((0.0, 0.5), (1.0, 0.0), (2.0, -0.5))
    """
    return _positions(G, read_network(G, weight), pos, sweeps)


def _positions(G, net, pos: dict | None, sweeps: int) -> dict:
    """:func:`layout` of a network already checked."""
    columns = _columns(G, net)
    fixed = set(net.inputs) | set(net.outputs)
    height = {}

    def place():
        for x, column in enumerate(columns):
            for r, n in enumerate(column):
                height[n] = (len(column) - 1) / 2 - r

    def reorder(column, neighbours):
        movable = [n for n in column if n not in fixed]
        if len(movable) < 2:
            return column
        def barycenter(n):
            near = [height[m] for m in neighbours(n)]
            return -np.mean(near) if near else -height[n]
        slots = iter(sorted(movable, key=barycenter))
        return [n if n in fixed else next(slots) for n in column]

    place()
    for _ in range(sweeps):
        for neighbours, indices in ((G.predecessors, range(len(columns))),
                                    (G.successors, reversed(range(len(columns))))):
            for x in indices:
                columns[x] = reorder(columns[x], neighbours)
                place()
    positions = {n: (float(x), float(height[n])) for x, column in enumerate(columns) for n in column}
    positions.update(pos or {})
    return positions


def figure_for(G, pos: dict | None = None, extra_height: float = 0.0):
    """A new figure and axes sized for drawing `G` (about 1.6 in per column, 0.9 in per row).

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Examples
    --------
    >>> from graphbp import bishop_network
    >>> fig, ax = figure_for(bishop_network())
    >>> [float(s) for s in fig.get_size_inches()]
    [6.5, 4.0]
    """
    import matplotlib.pyplot as plt

    positions = layout(G) if pos is None else pos
    xs, ys = zip(*positions.values())
    width = float(np.clip(2.5 + 2.0 * (max(xs) - min(xs)), 6.5, 16))
    height = float(np.clip(1.5 + 0.9 * (max(ys) - min(ys)), 4, 12)) + extra_height
    return plt.subplots(figsize=(width, height))


def _bends(positions, edgelist) -> dict:
    """Edge -> arc curvature: the least bend (either side) that keeps the arc clear of the other nodes.

    An edge spanning several columns would otherwise run straight through the
    nodes between; the arc is matplotlib's ``arc3`` (a quadratic Bézier with
    its control point `rad` × the chord length off the midpoint), sampled here.
    """
    nodes = list(positions)
    points = np.array([positions[n] for n in nodes], dtype=float)
    index = {n: r for r, n in enumerate(nodes)}
    t = np.linspace(0.1, 0.9, 9)[:, None]
    bends = {}
    for i, j in edgelist:
        start, end = points[index[i]], points[index[j]]
        others = np.delete(points, [index[i], index[j]], axis=0)
        others = np.vstack([others, others - [0.0, _LABEL_DROP]])  # each node and its label below it
        if not len(others):
            bends[(i, j)] = _SHORT_BEND
            continue
        chord = end - start
        normal = np.array([chord[1], -chord[0]])

        def clearance(rad):
            control = (start + end) / 2 + rad * normal
            curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end
            return np.min(np.linalg.norm(curve[:, None, :] - others[None, :, :], axis=2))

        # rad is relative to the chord; the offsets tried are absolute, so long edges do not swing wide.
        length = float(np.hypot(*chord))
        choices = [_SHORT_BEND, -_SHORT_BEND] + [side * offset / length for offset in _BEND_OFFSETS for side in (1, -1)]
        scores = {rad: clearance(rad) for rad in choices}
        bends[(i, j)] = round(next((rad for rad in choices if scores[rad] >= _CLEARANCE),
                                   max(scores, key=scores.get)), 3)
    return bends


def _by_bend(positions, edgelist) -> dict:
    groups: dict[float, list] = {}
    for edge, bend in _bends(positions, edgelist).items():
        groups.setdefault(bend, []).append(edge)
    return groups


def _draw_edges(G, positions, edgelist, ax, width, **style) -> dict:
    """Edges as arrows (edge -> FancyArrowPatch), bent as :func:`_bends` says."""
    width = dict(zip(edgelist, np.broadcast_to(width, len(edgelist))))
    arrows = {}
    for bend, edges in _by_bend(positions, edgelist).items():
        patches = nx.draw_networkx_edges(G, positions, edgelist=edges, width=[width[e] for e in edges], ax=ax,
                                         arrows=True, arrowstyle="-|>", connectionstyle=_ARC.format(rad=bend),
                                         **style)
        arrows.update(zip(edges, patches))
    return {e: arrows[e] for e in edgelist}


def _edge_values(G, result, edge_values, weight) -> dict:
    if edge_values is None:
        return {e: 1.0 for e in G.edges}
    if edge_values == "weight":
        return {(i, j): float(w) for i, j, w in G.edges(data=weight)}
    if edge_values == "grad":
        if result is None:
            raise GraphBPError('edge_values="grad" needs a result: draw(G, result, edge_values="grad")')
        return dict(result.grad_weight)
    raise GraphBPError(f'edge_values must be "weight", "grad" or None, got {edge_values!r}')


def draw(
    G,
    result=None,
    *,
    sample: int = 0,
    ax=None,
    pos: dict | None = None,
    values: Collection[str] = ("delta",),
    names: bool = True,
    edge_values: str | None = "weight",
    edge_labels: bool = False,
    highlight: Hashable | None = None,
    reveal: Collection | None = None,
    cmap: str = "RdBu_r",
    vmax: float | None = None,
    colorbar: bool = True,
    number_format: str = "{:.3g}",
    max_labelled: int = MAX_LABELLED_NODES,
    weight: str = "weight",
) -> dict:
    """Draw a network, its nodes coloured and labelled by δ, eq. 5.56 shown for one node.

    Parameters
    ----------
    G : networkx.DiGraph
        The network.
    result : BackpropResult, optional
        From :func:`graphbp.backprop` on `G`; without it only the structure is drawn.
    sample : int, default 0
        For a batch result, the sample drawn.
    ax : matplotlib Axes, optional
        Where to draw; by default the current axes (see :func:`figure_for` for a sized figure).
    pos : dict, optional
        Node -> (x, y) positions to keep; the others come from :func:`layout`.
    values : collection of {"delta", "a", "z"}, default ("delta",)
        The quantities written under each node, one line each.
    names : bool, default True
        Write each node's name inside it.
    edge_values : {"weight", "grad", None}, default "weight"
        Edge widths (and labels) follow |w_kj|, or |∂E/∂w_kj| (needs `result`), or are uniform.
    edge_labels : bool, default False
        Write the edge values on the edges.
    highlight : node, optional
        Node j to explain: j and its summation set S_j = ``G.successors(j)``
        stand out, each edge j→k carries its term w_kj·δ_k, and a text box
        shows eq. 5.56 with the numbers (needs `result`).
    reveal : collection, optional
        Only these nodes show their δ (colour and label); the others are grey
        with "δ=?". Used by the backward-sweep animation.
    cmap : str, default "RdBu_r"
        Diverging colormap for δ, centred at 0.
    vmax : float, optional
        Colour limits ±vmax; by default max |δ| of the sample.
    colorbar : bool, default True
        Add a colorbar for δ (when `result` is given).
    number_format : str, default "{:.3g}"
        Format of the numbers written.
    max_labelled : int, default 40
        Above this many nodes, names, value labels and edge labels are left out.
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    dict
        ``"ax"``; ``"pos"``; ``"nodes"`` (the PathCollection); ``"names"`` and
        ``"labels"`` (node -> Text); ``"edges"`` (edge -> FancyArrowPatch);
        ``"edge_labels"`` (edge -> Text); ``"highlight_edges"`` (edge j→k ->
        patch) and ``"terms"`` (edge j→k -> Text); ``"equation"`` (the eq. 5.56
        Text box, or None); ``"colorbar"`` (or None).

    Raises
    ------
    GraphBPError
        An invalid network, a `highlight` node not in `G`, `highlight` or
        ``edge_values="grad"`` without a result, an unknown quantity in `values`,
        or `sample` outside the result.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from graphbp import backprop, bishop_network
    >>> G = bishop_network()
    >>> result = backprop(G, [0.5, -1.0], [1.0, 0.0])
    >>> fig, ax = figure_for(G)
    >>> drawn = draw(G, result, ax=ax, highlight="z1")
    >>> drawn["labels"]["y1"].get_text() == f"δ={result.delta['y1']:.3g}"
    True
    >>> sorted(drawn["highlight_edges"])
    [('z1', 'y1'), ('z1', 'y2')]
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    net = read_network(G, weight) if result is None else result_network(G, result, weight)
    ax = plt.gca() if ax is None else ax
    unknown = set(values) - set(_QUANTITY_SYMBOL)
    if unknown:
        raise GraphBPError(f"values may hold {sorted(_QUANTITY_SYMBOL)}, got {sorted(unknown, key=str)}")
    if highlight is not None and highlight not in G:
        raise GraphStructureError(f"highlight node {highlight!r} is not in the graph")
    if highlight is not None and result is None:
        raise GraphBPError("highlight needs a result: draw(G, result, highlight=j)")
    positions = _positions(G, net, pos, sweeps=4)
    nodes = list(net.order)
    labelled = len(nodes) <= max_labelled
    node_size = float(np.clip(12000 / len(nodes), 40, 900))
    radius = np.sqrt(node_size) / 2  # points
    shown = set(nodes) if reveal is None else set(reveal)

    quantities = dict(zip(("a", "z", "delta"), sample_values(result, sample))) if result is not None else {}
    delta = quantities.get("delta", {})
    limit = vmax if vmax is not None else max([abs(v) for v in delta.values()] + [0.0]) or 1.0
    norm = Normalize(-limit, limit)
    colormap = plt.get_cmap(cmap)
    face = [colormap(norm(delta[n])) if n in delta and n in shown else (0.88, 0.88, 0.88, 1.0) for n in nodes]

    drawn = {"ax": ax, "pos": positions, "names": {}, "labels": {}, "edge_labels": {},
             "highlight_edges": {}, "terms": {}, "equation": None, "colorbar": None}
    edge_value = _edge_values(G, result, edge_values, weight)
    largest = max([abs(v) for v in edge_value.values()] + [0.0]) or 1.0
    edgelist = list(G.edges)
    thin = 0.3 if labelled else 0.15
    widths = [thin + (2.8 if labelled else 1.0) * abs(edge_value[e]) / largest for e in edgelist]
    arrows = _draw_edges(G, positions, edgelist, ax, width=widths, edge_color="0.45",
                         alpha=0.25 if highlight is not None else 0.8, arrowsize=10 if labelled else 5,
                         node_size=node_size)
    drawn["edges"] = arrows
    if edge_labels and labelled:
        for bend, edges in _by_bend(positions, edgelist).items():
            drawn["edge_labels"].update(nx.draw_networkx_edge_labels(
                G, positions, edge_labels={e: number_format.format(edge_value[e]) for e in edges},
                font_size=7, label_pos=0.7, connectionstyle=_ARC.format(rad=bend), ax=ax,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
            ))
    outline = ["black" if n == highlight else HIGHLIGHT_COLOR if highlight is not None and
               n in G.succ[highlight] else "0.3" for n in nodes]
    line_width = [3.0 if c != "0.3" else (1.0 if labelled else 0.4) for c in outline]
    drawn["nodes"] = ax.scatter(*zip(*(positions[n] for n in nodes)), s=node_size, c=face,
                                edgecolors=outline, linewidths=line_width, zorder=3)

    if labelled:
        for n, color in zip(nodes, face) if names else ():
            dark = sum(color[:3]) < 1.4  # white text on the saturated ends of the colormap
            drawn["names"][n] = ax.text(*positions[n], str(n), ha="center", va="center", zorder=4,
                                        fontsize=9 if len(nodes) <= 15 else 7, color="white" if dark else "black")
        for n in nodes if quantities and values else ():
            lines = [f"{_QUANTITY_SYMBOL[q]}=" + (number_format.format(quantities[q][n]) if n in shown else "?")
                     for q in values]
            drawn["labels"][n] = ax.annotate("\n".join(lines), positions[n], xytext=(0, -radius - 2),
                                             textcoords="offset points", ha="center", va="top",
                                             bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                                   "alpha": 0.75},
                                             fontsize=8 if len(nodes) <= 15 else 6.5, zorder=5)

    if highlight is not None:
        _draw_highlight(G, result, highlight, sample, positions, node_size, number_format, weight, drawn)
    if colorbar and result is not None:
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
        drawn["colorbar"] = ax.figure.colorbar(mappable, ax=ax, shrink=0.7, pad=0.02)
        drawn["colorbar"].set_label(r"$\delta_j = \partial E_n / \partial a_j$")
    ax.margins(0.12, 0.18)
    ax.set_axis_off()
    return drawn


def _draw_highlight(G, result, j, sample, positions, node_size, number_format, weight, drawn) -> None:
    """The edges j→k in S_j with their terms w_kj·δ_k, and the eq. 5.56 box."""
    ax = drawn["ax"]
    explanation = explain(G, result, j, sample, weight)
    edges = [(j, k) for k in explanation.successors]
    drawn["highlight_edges"] = _draw_edges(G, positions, edges, ax, width=3.0, edge_color=HIGHLIGHT_COLOR,
                                           arrowsize=16, node_size=node_size)
    def fmt(value):
        text = number_format.format(value)
        return f"({text})" if value < 0 else text

    for (_, k), w, d, term in zip(edges, explanation.weights, explanation.successor_deltas, explanation.terms):
        (x0, y0), (x1, y1) = positions[j], positions[k]
        drawn["terms"][(j, k)] = ax.text(
            x0 + 0.55 * (x1 - x0), y0 + 0.55 * (y1 - y0), f"{fmt(w)}·{fmt(d)}\n= {fmt(term)}",
            ha="center", va="center", fontsize=7.5, color="black", zorder=6,
            bbox={"boxstyle": "round,pad=0.2", "fc": "#fff3dd", "ec": HIGHLIGHT_COLOR, "lw": 0.8},
        )
    drawn["equation"] = ax.text(
        0.0, -0.02, explanation.latex(), transform=ax.transAxes, ha="left", va="top", fontsize=10,
        bbox={"boxstyle": "round,pad=0.5", "fc": "white", "ec": HIGHLIGHT_COLOR}, zorder=7,
    )


def draw_paths(G, result, j: Hashable, *, sample: int = 0, ax=None, pos: dict | None = None,
               max_paths: int = 12, max_listed: int = 12, weight: str = "weight") -> dict:
    """Draw every path from `j` to the outputs, and list their products summing to δ_j.

    Each edge on some path is drawn with a width growing with the number of
    paths through it and labelled with its local derivative w_kj h'(a_j); a
    text panel right of the axes lists each path's product and their sum,
    which equals δ_j (see :func:`graphbp.paths.path_sum`).

    Parameters
    ----------
    G : networkx.DiGraph
        The network `result` was computed on.
    result : BackpropResult
        From :func:`graphbp.backprop`.
    j : hashable
        The node whose paths are drawn.
    sample : int, default 0
        For a batch result, the sample used.
    ax : matplotlib Axes, optional
        Where to draw; by default the current axes.
    pos : dict, optional
        Positions to keep (see :func:`layout`).
    max_paths : int, default 12
        Refuse to draw more paths than this (a :class:`GraphBPError` gives the count).
    max_listed : int, default 12
        Paths listed one by one in the panel; the rest are summed in one line.
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    dict
        What :func:`draw` returns, plus ``"path_sum"`` (the
        :class:`~graphbp.paths.PathSum`), ``"path_edges"`` (edge -> patch),
        ``"local_labels"`` (edge -> Text) and ``"listing"`` (the panel's Text).

    Raises
    ------
    GraphBPError
        As :func:`graphbp.paths.path_sum`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from graphbp import backprop, irregular_network
    >>> G = irregular_network()
    >>> drawn = draw_paths(G, backprop(G, [0.5, -1.0], [1.0, 0.0]), "h1")
    >>> len(drawn["path_sum"].paths), drawn["listing"].get_text().count("→") >= 5
    (5, True)
    """
    import matplotlib.pyplot as plt

    from .paths import path_sum

    ax = plt.gca() if ax is None else ax
    summed = path_sum(G, result, j, sample=sample, max_paths=max_paths, weight=weight)
    drawn = draw(G, result, sample=sample, ax=ax, pos=pos, edge_values=None, colorbar=False, weight=weight)
    for patch in drawn["edges"].values():
        patch.set_alpha(0.2)
    through: dict = {}
    local: dict = {}
    for path, factors in zip(summed.paths, summed.factors):
        for edge, factor in zip(nx.utils.pairwise(path), factors):
            through[edge] = through.get(edge, 0) + 1
            local[edge] = factor
    edges = list(through)
    most = max(through.values(), default=1)
    node_size = drawn["nodes"].get_sizes()[0]
    drawn["path_edges"] = _draw_edges(G, drawn["pos"], edges, ax, width=[1.5 + 3.0 * through[e] / most for e in edges],
                                      edge_color=HIGHLIGHT_COLOR, arrowsize=14, node_size=node_size)
    drawn["local_labels"] = {}
    for bend, group in _by_bend(drawn["pos"], edges).items():
        drawn["local_labels"].update(nx.draw_networkx_edge_labels(
            G, drawn["pos"], edge_labels={e: f"{local[e]:.3g}" for e in group}, font_size=7.5, label_pos=0.5,
            connectionstyle=_ARC.format(rad=bend), ax=ax,
            bbox={"boxstyle": "round,pad=0.15", "fc": "#fff3dd", "ec": HIGHLIGHT_COLOR, "lw": 0.6},
        ))
    lines = [f"δ_{j!s} = Σ over {len(summed.paths)} paths of Π (w·h') × ∂E/∂a_out"]
    for path, product in list(zip(summed.paths, summed.products))[:max_listed]:
        lines.append(f"{' → '.join(str(n) for n in path):<28} {product:+.4g}")
    if len(summed.paths) > max_listed:
        rest = sum(summed.products[max_listed:])
        lines.append(f"{len(summed.paths) - max_listed} more paths{'':<15} {rest:+.4g}")
    lines += [f"{'sum':<28} {summed.total:+.4g}", f"{'backprop δ_' + str(j):<28} {summed.delta:+.4g}"]
    drawn["listing"] = ax.text(1.02, 0.5, "\n".join(lines), transform=ax.transAxes, ha="left", va="center",
                               fontsize=8.5, family="monospace",
                               bbox={"boxstyle": "round,pad=0.5", "fc": "white", "ec": HIGHLIGHT_COLOR})
    drawn["path_sum"] = summed
    return drawn


def draw_heatmap(matrix: np.ndarray, rows: list[str], columns: list[str], ax=None, title: str = "") -> dict:
    """A matrix as a heat-map on a symmetric colour scale; returns ``{"image": AxesImage, "ticks": labels}``.

    Parameters
    ----------
    matrix : numpy.ndarray
        A 2-D array (a Jacobian, a Hessian).
    rows, columns : list of str
        Tick labels.
    ax : matplotlib Axes, optional
        Where to draw (default: the current axes).
    title : str, optional

    Returns
    -------
    dict
        ``"image"``: the AxesImage; ``"ticks"``: the column tick labels.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> drawn = draw_heatmap(np.array([[1.0, -2.0]]), ["y"], ["a", "b"], ax=ax)
    >>> drawn["image"].get_array().tolist(), [t.get_text() for t in drawn["ticks"]]
    ([[1.0, -2.0]], ['a', 'b'])
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    limit = float(np.abs(matrix).max()) or 1.0
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_xticks(range(len(columns)), columns, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title, fontsize=10)
    return {"image": image, "ticks": ax.get_xticklabels()}
