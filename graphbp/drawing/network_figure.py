"""The network figure: nodes coloured by δ, edges routed round the nodes, names, values and eq. 5.56.

As networkx's ``nx_pylab`` does, the figure is made of small functions that
each draw one kind of thing on ``ax`` (the current axes by default) and return
their artists: :func:`draw_nodes`, :func:`draw_edges`, :func:`draw_labels`,
:func:`draw_edge_labels`; :func:`draw` puts them together, sized and
decluttered.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable

import networkx as nx
import numpy as np

from ..exceptions import GraphBPError, GraphStructureError
from ..explain import explain, latex_name, sample_values
from ..network import read_network, result_network
from .positions import network_positions
from .routing import edge_courses, points_along, route_segments
from .style import HIGHLIGHT_COLOR, LABEL_FONT, MAX_LABELLED_NODES, MIN_FONT
from .text import declutter, fit_footers, fitting_font, footer, key_text, node_names, stack_footers, text_points, \
    wrap_equation

__all__ = ["draw", "draw_nodes", "draw_edges", "draw_labels", "draw_edge_labels", "colour_limit", "points_per_unit",
           "node_diameter"]

_ARC = "arc3,rad={rad}"
_QUANTITY_SYMBOL = {"delta": "δ", "a": "a", "z": "z"}


def _placed(pos: dict, nodes) -> None:
    """Raise GraphStructureError naming the first of `nodes` that `pos` gives no (x, y)."""
    for n in nodes:
        if n not in pos or np.shape(pos[n]) != (2,):
            found = "no position" if n not in pos else f"position {pos[n]!r}, not (x, y)"
            raise GraphStructureError(f"node {n!r} has {found}")


def points_per_unit(ax) -> np.ndarray:
    """(x, y) size of one layout unit in points, from the axes' current limits and size."""
    origin, unit = ax.transData.transform([(0.0, 0.0), (1.0, 1.0)])
    return np.abs(unit - origin) * 72.0 / ax.figure.dpi


def _route_path(start, end, waypoints, trim: float):
    """The matplotlib Path of a routed edge in layout units, ending `trim` units short of each node centre
    (it leaves and meets the nodes horizontally, so the arrow's tip lands on the circle)."""
    from matplotlib.path import Path

    start, end = np.asarray(start, float) + [trim, 0.0], np.asarray(end, float) - [trim, 0.0]
    pieces = route_segments(start, end, waypoints)
    vertices = [pieces[0][0], *(point for piece in pieces for point in piece[1:])]
    codes = [Path.MOVETO] + [Path.CURVE4] * (len(vertices) - 1)
    return Path(vertices, codes)


def _by_bend(bends) -> dict:
    groups: dict[float, list] = {}
    for edge, bend in bends.items():
        groups.setdefault(bend, []).append(edge)
    return groups


def draw_edges(G, pos: dict, courses: dict, *, ax=None, width=1.0, edge_color="0.45", alpha: float | None = None,
               arrowsize: float = 10, node_size: float = 300) -> dict:
    """Draw edges as arrows, each bent or routed as `courses` says.

    Parameters
    ----------
    G : networkx.DiGraph
    pos : dict
        Node -> (x, y) in layout units.
    courses : dict
        Edge -> its course (see :func:`graphbp.drawing.routing.edge_courses`); only these edges are drawn.
    ax : matplotlib Axes, optional
        Where to draw; by default the current axes.
    width : float or sequence of float, default 1.0
        Line widths in points, one for all or one per edge of `courses`.
    edge_color, alpha, arrowsize, node_size
        As in ``networkx.draw_networkx_edges`` (`node_size` in points², for where the arrows stop).

    Returns
    -------
    dict
        Edge -> FancyArrowPatch, in the order of `courses`.

    Raises
    ------
    GraphStructureError
        A node without an (x, y) in `pos`, named.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from graphbp import bishop_network
    >>> from graphbp.drawing import layout
    >>> G = bishop_network()
    >>> arrows = draw_edges(G, layout(G), {("z1", "y1"): 0.06, ("x1", "z1"): ()}, ax=plt.subplots()[1])
    >>> sorted(arrows)
    [('x1', 'z1'), ('z1', 'y1')]
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    ax = plt.gca() if ax is None else ax
    edgelist = list(courses)
    _placed(pos, {n for edge in edgelist for n in edge})
    width = dict(zip(edgelist, np.broadcast_to(width, len(edgelist))))
    style = {"edge_color": edge_color, "alpha": alpha, "arrowsize": arrowsize, "node_size": node_size}
    arrows = {}
    for bend, edges in _by_bend(courses).items():
        if isinstance(bend, tuple):
            trim = np.sqrt(node_size) / 2 / points_per_unit(ax)[0]
            for i, j in edges:
                arrows[i, j] = FancyArrowPatch(
                    path=_route_path(pos[i], pos[j], bend, trim), arrowstyle="-|>", mutation_scale=arrowsize,
                    color=edge_color, linewidth=width[i, j], alpha=alpha, zorder=1)
                ax.add_patch(arrows[i, j])
            continue
        patches = nx.draw_networkx_edges(G, pos, edgelist=edges, width=[width[e] for e in edges], ax=ax,
                                         arrows=True, arrowstyle="-|>", connectionstyle=_ARC.format(rad=bend),
                                         **style)
        arrows.update(zip(edges, patches))
    for patch in arrows.values():
        patch.set_clip_on(False)  # an arc bent round other nodes may swing past the axes: draw it whole
    return {e: arrows[e] for e in edgelist}


def draw_nodes(pos: dict, nodelist: list, *, ax=None, node_size: float = 300, node_color="white",
               edgecolors="0.3", linewidths=1.0):
    """Draw the nodes of `nodelist` as circles at `pos` (one scatter); returns the PathCollection.

    Raises
    ------
    GraphStructureError
        A node without an (x, y) in `pos`, named.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> circles = draw_nodes({"a": (0, 0), "b": (1, 0)}, ["a", "b"], ax=plt.subplots()[1])
    >>> circles.get_offsets().tolist()
    [[0.0, 0.0], [1.0, 0.0]]
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    _placed(pos, nodelist)
    return ax.scatter(*zip(*(pos[n] for n in nodelist)), s=node_size, c=node_color, edgecolors=edgecolors,
                      linewidths=linewidths, zorder=3)


def draw_labels(pos: dict, labels: dict, *, ax=None, font_size=9.0, font_color="black") -> dict:
    """Write `labels` (node -> text) centred on their nodes; `font_size` and `font_color` are one value or a
    dict node -> value. Returns node -> Text.

    Raises
    ------
    GraphStructureError
        A node without an (x, y) in `pos`, named.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> texts = draw_labels({"a": (0, 0)}, {"a": "#1"}, ax=plt.subplots()[1], font_color={"a": "white"})
    >>> texts["a"].get_text(), texts["a"].get_color()
    ('#1', 'white')
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    _placed(pos, labels)

    def of(value, n):
        return value[n] if isinstance(value, dict) else value

    return {n: ax.text(*pos[n], text, ha="center", va="center", zorder=4, fontsize=of(font_size, n),
                       color=of(font_color, n)) for n, text in labels.items()}


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
        Colour limits ±vmax; by default max |δ| of the sample, unless one |δ|
        stands out (over twice the 95th percentile and the runner-up): then the
        scale stops there, the outlier is drawn in the end colour and the
        colour bar gets arrows saying so.
    colorbar : bool, default True
        Add a colorbar for δ (when `result` is given).
    number_format : str, default "{:.3g}"
        Format of the numbers written.
    max_labelled : int, default 40
        Above this many nodes, names, value labels and edge labels are left out.
        Below it, a name too long for its circle is written as #1, #2, ...
        with a key under the drawing, and a value or edge label that would
        cover another text or a node is left out (a note under the drawing
        says how many).
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    dict
        ``"ax"``; ``"pos"``; ``"nodes"`` (the PathCollection); ``"names"`` and
        ``"labels"`` (node -> Text); ``"edges"`` (edge -> FancyArrowPatch);
        ``"edge_labels"`` (edge -> Text); ``"highlight_edges"`` (edge j→k ->
        patch) and ``"terms"`` (edge j→k -> Text); ``"equation"`` (the eq. 5.56
        Text box, or None); ``"colorbar"`` (or None); ``"key"`` (the Text
        naming abbreviated nodes, or None); ``"note"`` (the Text saying what
        was left out, or None); ``"bends"`` (edge -> arc curvature used, or
        the waypoints of an edge routed round the columns it crosses).

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
    >>> from graphbp.drawing import figure_for
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
    _check_request(G, result, values, highlight)
    positions = network_positions(G, net, pos, sweeps=4)
    nodes = list(net.order)
    labelled = len(nodes) <= max_labelled
    shown = set(nodes) if reveal is None else set(reveal)
    quantities = dict(zip(("a", "z", "delta"), sample_values(result, sample))) if result is not None else {}
    delta = quantities.get("delta", {})
    limit, clipped = (vmax, False) if vmax is not None else colour_limit(list(delta.values()))
    norm = Normalize(-limit, limit)
    colormap = plt.get_cmap(cmap)
    face = [colormap(norm(delta[n])) if n in delta and n in shown else (0.88, 0.88, 0.88, 1.0) for n in nodes]
    drawn = {"ax": ax, "pos": positions, "names": {}, "labels": {}, "edge_labels": {}, "highlight_edges": {},
             "terms": {}, "equation": None, "colorbar": None, "key": None, "note": None}

    # The colour bar and the footers take their room from the axes first, so the geometry measured below is final.
    if colorbar and result is not None:
        drawn["colorbar"] = _colorbar(ax, plt.cm.ScalarMappable(norm=norm, cmap=colormap), limit, clipped)
    xs, ys = zip(*positions.values())
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.45)
    ax.set_axis_off()
    explanation = explain(G, result, highlight, sample, weight) if highlight is not None else None
    noted = labelled and (edge_labels or highlight is not None or len(nodes) > 15)
    names_shown, diameter = _fit_names(ax, drawn, nodes, labelled, names, explanation, noted)

    node_size, radius = diameter**2, diameter / 2
    bends = edge_courses(positions, list(G.edges), points_per_unit(ax), radius, (ax.get_xlim(), ax.get_ylim()))
    edge_value = _edge_values(G, result, edge_values, weight)
    widths = _edge_widths(edge_value, bends, labelled)
    drawn["edges"] = draw_edges(G, positions, bends, ax=ax, width=widths, edge_color="0.45",
                                alpha=0.25 if highlight is not None else 0.8, arrowsize=10 if labelled else 5,
                                node_size=node_size)
    outline = ["black" if n == highlight else HIGHLIGHT_COLOR if highlight is not None and
               n in G.succ[highlight] else "0.3" for n in nodes]
    line_width = [2.5 if c != "0.3" else (1.0 if labelled else 0.4) for c in outline]
    drawn["nodes"] = draw_nodes(positions, nodes, ax=ax, node_size=node_size, node_color=face, edgecolors=outline,
                                linewidths=line_width)
    dark = {n: sum(color[:3]) < 1.4 for n, color in zip(nodes, face)}  # white text on the colormap's saturated ends
    drawn["names"] = draw_labels(positions, names_shown, ax=ax,
                                 font_size={n: fitting_font(text, diameter, ax) for n, text in names_shown.items()},
                                 font_color={n: "white" if dark[n] else "black" for n in names_shown})
    if labelled and quantities and values:
        drawn["labels"] = _value_labels(positions, nodes, quantities, values, shown, number_format, radius, ax)
    if highlight is not None:
        drawn["highlight_edges"], drawn["terms"] = _highlight(G, positions, bends, explanation, number_format,
                                                              node_size, ax)
    if edge_labels and labelled:
        drawn["edge_labels"] = draw_edge_labels(G, positions, bends, {e: number_format.format(edge_value[e])
                                                                      for e in bends},
                                                ax=ax, font_size=MIN_FONT, label_pos=0.7,
                                                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                                      "alpha": 0.8})
    drawn["bends"] = bends
    _declutter_and_note(ax, drawn, node_size, len(nodes) if labelled and names and not names_shown else 0)
    return drawn


def _check_request(G, result, values, highlight) -> None:
    """Raise for an unknown quantity in `values`, or a `highlight` node not in `G` or without a result."""
    unknown = set(values) - set(_QUANTITY_SYMBOL)
    if unknown:
        raise GraphBPError(f"values may hold {sorted(_QUANTITY_SYMBOL)}, got {sorted(unknown, key=str)}")
    if highlight is not None and highlight not in G:
        raise GraphStructureError(f"highlight node {highlight!r} is not in the graph")
    if highlight is not None and result is None:
        raise GraphBPError("highlight needs a result: draw(G, result, highlight=j)")


def _edge_widths(edge_value: dict, edges, labelled: bool) -> list:
    """Line widths of `edges`, from thin to thick in proportion to |edge value| (thinner when not labelled)."""
    largest = max([abs(v) for v in edge_value.values()] + [0.0]) or 1.0
    thin = 0.3 if labelled else 0.15
    return [thin + (2.8 if labelled else 1.0) * abs(edge_value[e]) / largest for e in edges]


def _declutter_and_note(ax, drawn, node_size: float, names_left_out: int) -> None:
    """Leave out the texts that would cover others (:func:`declutter`) and say in the note how many, per kind."""
    left_out = declutter(ax, drawn, node_size)
    if names_left_out:
        left_out = {"names": names_left_out, **left_out}
    if drawn["note"] is not None:
        counts = [f"{count} {kind}" for kind, count in left_out.items() if count]
        drawn["note"].set_text(f"left out for room: {', '.join(counts)}" if counts else " ")


def _colorbar(ax, mappable, limit: float, clipped: bool):
    """The δ colour bar right of the axes; arrows at its ends when the scale stops short of an outlier."""
    bar = ax.figure.colorbar(mappable, ax=ax, shrink=0.7, pad=0.02, extend="both" if clipped else "neither")
    bar.set_label(r"$\delta_j = \partial E_n / \partial a_j$" + (f" (scale stops at ±{limit:.3g})" if clipped else ""),
                  fontsize=9)
    bar.ax.tick_params(labelsize=8)
    return bar


def _fit_names(ax, drawn, nodes, labelled: bool, names: bool, explanation, noted: bool) -> tuple[dict, float]:
    """(node -> the name written in it, the circles' diameter in points), with the footers under the axes
    (eq. 5.56 box, key, note; stored in `drawn`) placed for that diameter."""
    box = ax.get_position()
    shrink = 1.0
    for attempt in range(5):
        # Names that do not fit go in a key under the axes, which takes room from the axes, which shrinks the
        # circles: decide the names for a slightly smaller circle until the drawn circle holds them all; when
        # even #k does not fit (a long chain folded into a small panel), the names are left out (last attempt).
        ax.set_position(box)
        room = node_diameter(ax, labelled, widest=np.inf) * shrink
        names_shown = node_names(nodes, room, ax) if labelled and names and attempt < 4 else {}
        footers = []
        abbreviated = {n: text for n, text in names_shown.items() if text != str(n)}
        if explanation is not None:
            equation = explanation.latex()
            for node, short in abbreviated.items():  # the box names nodes as the drawing does
                equation = equation.replace(latex_name(node), latex_name(short))
            drawn["equation"] = footer(ax, wrap_equation(equation, ax), 10, HIGHLIGHT_COLOR)
            footers.append(drawn["equation"])
        if abbreviated:
            drawn["key"] = footer(ax, key_text(abbreviated, ax), MIN_FONT, "0.6")
            footers.append(drawn["key"])
        if noted or (labelled and attempt == 4):
            drawn["note"] = footer(ax, " ", MIN_FONT, None)  # filled in once we know what was left out
            footers.append(drawn["note"])
        stack_footers(ax, footers, drawn["colorbar"])
        fit_footers(ax, footers)
        widest = max((text_points(text, MIN_FONT, ax)[0] + 3 for text in names_shown.values()), default=0.0)
        diameter = node_diameter(ax, labelled, widest)
        if attempt == 4 or all(text_points(text, MIN_FONT, ax)[0] <= diameter - 3 for text in names_shown.values()):
            return names_shown, diameter
        for text in footers:
            text.remove()
        drawn.update(equation=None, key=None, note=None)
        shrink *= 0.8


def _value_labels(positions, nodes, quantities, values, shown, number_format, radius, ax) -> dict:
    """Node -> the Text under it: one line per quantity of `values`, "?" for a δ not yet revealed."""
    labels = {}
    for n in nodes:
        lines = [f"{_QUANTITY_SYMBOL[q]}=" + (number_format.format(quantities[q][n]) if n in shown else "?")
                 for q in values]
        labels[n] = ax.annotate("\n".join(lines), positions[n], xytext=(0, -radius - 1.5),
                                textcoords="offset points", ha="center", va="top",
                                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},
                                fontsize=LABEL_FONT if len(nodes) <= 15 else MIN_FONT, zorder=5)
    return labels


def _highlight(G, positions, bends, explanation, number_format, node_size, ax) -> tuple[dict, dict]:
    """The edges j→k of S_j drawn over the others, each with its term w_kj·δ_k of eq. 5.56."""
    edges = [(explanation.node, k) for k in explanation.successors]
    courses = {e: bends[e] for e in edges}
    arrows = draw_edges(G, positions, courses, ax=ax, width=3.0, edge_color=HIGHLIGHT_COLOR, arrowsize=16,
                        node_size=node_size)
    terms = {(j, k): f"{_signed(w, number_format)}·{_signed(d, number_format)}\n= {_signed(term, number_format)}"
             for (j, k), w, d, term in zip(edges, explanation.weights, explanation.successor_deltas,
                                           explanation.terms)}
    texts = draw_edge_labels(G, positions, courses, terms, ax=ax, font_size=7.5, label_pos=0.5,
                             bbox={"boxstyle": "round,pad=0.2", "fc": "#fff3dd", "ec": HIGHLIGHT_COLOR, "lw": 0.8})
    return arrows, texts


def colour_limit(values) -> tuple[float, bool]:
    """±limit of the δ colour scale, and whether it stops short of one outlying |δ|."""
    magnitudes = np.sort(np.abs(np.asarray(values, dtype=float)))
    if magnitudes.size == 0 or magnitudes[-1] == 0:
        return 1.0, False
    robust = float(np.percentile(magnitudes, 95, method="lower"))  # below the largest unless it is alone
    if robust > 0 and magnitudes[-1] > 2 * robust:
        return robust, True
    return float(magnitudes[-1]), False


def _signed(value, number_format) -> str:
    text = number_format.format(value)
    return f"({text})" if value < 0 else text


def node_diameter(ax, labelled: bool, widest: float = 0.0) -> float:
    """The node circles' diameter in points, from the spacing of the layout on the axes: 0.42 of it, or more
    (up to 0.6 of it, and 34 points) where the widest name needs `widest` points."""
    scale = min(points_per_unit(ax))
    if not labelled:
        return float(np.clip(0.3 * scale, 3.0, 12.0))
    return float(np.clip(max(0.42 * scale, min(widest, 0.6 * scale)), 6.0, 34.0))


def draw_edge_labels(G, pos: dict, courses: dict, texts: dict, *, ax=None, font_size: float = 7.0,
                     label_pos: float = 0.5, bbox: dict | None = None) -> dict:
    """Write `texts` (edge -> text) on their arrows, drawn as `courses` says, `label_pos` of the way from the head.

    Returns edge -> Text.

    Raises
    ------
    GraphStructureError
        A node without an (x, y) in `pos`, named.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from graphbp import bishop_network
    >>> from graphbp.drawing import layout
    >>> G = bishop_network()
    >>> texts = draw_edge_labels(G, layout(G), {("z1", "y1"): 0.06}, {("z1", "y1"): "w"}, ax=plt.subplots()[1])
    >>> texts[("z1", "y1")].get_text()
    'w'
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    _placed(pos, {n for edge in courses for n in edge})
    placed = {}
    for bend, edges in _by_bend(courses).items():
        if isinstance(bend, tuple):
            for i, j in edges:
                x, y = points_along(route_segments(pos[i], pos[j], bend), [1 - label_pos])[0]
                placed[i, j] = ax.text(x, y, texts[i, j], fontsize=font_size, ha="center", va="center", bbox=bbox)
            continue
        placed.update(nx.draw_networkx_edge_labels(
            G, pos, edge_labels={e: texts[e] for e in edges}, font_size=font_size, label_pos=label_pos,
            connectionstyle=_ARC.format(rad=bend), ax=ax, bbox=bbox, rotate=False,
        ))
    for text in placed.values():
        text.set_zorder(6)
    return placed
