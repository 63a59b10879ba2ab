"""Drawing a network with its δ: layered layout, δ colours, and eq. 5.56 for a highlighted node.

matplotlib is imported inside the functions (as in ``networkx.drawing``), the
functions take ``ax=None`` (the current axes) and return what they drew, so
tests and users can read every label back.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Hashable

import networkx as nx
import numpy as np

from .exceptions import GraphBPError, GraphStructureError
from .explain import explain, latex_name, sample_values
from .network import read_network, result_network

__all__ = ["layout", "draw", "draw_paths", "draw_heatmap", "figure_for"]

# Above this many nodes, names and value labels are left out: they would overlap into mush.
MAX_LABELLED_NODES = 40
HIGHLIGHT_COLOR = "#e08000"
MIN_FONT = 7.0  # points: no text is drawn smaller
NAME_FONT = 9.0
LABEL_FONT = 8.0
COLUMN_INCHES = 1.25  # figure_for: room per column and per row of the layout
ROW_INCHES = 0.95
TARGET_ASPECT = 1.8
MAX_WIDTH_INCHES = 24.0  # a long chain is folded into bands to come near this width / height
_ARC = "arc3,rad={rad}"
_BENDS = (0.06, 0.12, 0.2, 0.3, 0.4, 0.55, 0.75, 1.0)  # arc curvatures tried, each to either side, least first
_CLEARANCE_POINTS = 4.0  # gap an edge keeps from the circles of nodes it does not touch
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


def layout(G, pos: dict | None = None, sweeps: int = 4, weight: str = "weight",
           aspect: float | None = TARGET_ASPECT) -> dict:
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
    aspect : float or None, default 1.8
        A layout wider than :func:`figure_for`'s widest figure (24 in) is
        folded into bands of columns stacked top to bottom, the number of
        bands chosen to come nearest this width / height; None never folds.

    Returns
    -------
    dict
        Node -> (x, y); column index as x, centred rank as y (top first); in a
        folded layout, band b holds the next columns and is shifted down.

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
    return _positions(G, read_network(G, weight), pos, sweeps, aspect)


def _positions(G, net, pos: dict | None, sweeps: int, aspect: float | None = TARGET_ASPECT) -> dict:
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
    per_band, rows = _bands(len(columns), max(map(len, columns)), aspect)
    positions = {n: (float(x % per_band), float(height[n] - (x // per_band) * (rows + 1)))
                 for x, column in enumerate(columns) for n in column}
    positions.update(pos or {})
    return positions


def _bands(n_columns: int, rows: int, aspect: float | None) -> tuple[int, int]:
    """(columns per band, rows per band): one band unless the layout is far wider than `aspect`."""
    def ratio(bands):
        return (-(-n_columns // bands) * COLUMN_INCHES) / ((bands * (rows + 1) - 1) * ROW_INCHES)

    # Folding costs long edges between bands: only a layout wider than figure_for's widest figure is folded.
    if aspect is None or n_columns * COLUMN_INCHES <= MAX_WIDTH_INCHES - 3.0:
        return n_columns, rows
    bands = min(range(1, n_columns + 1), key=lambda b: abs(np.log(ratio(b) / aspect)))
    return -(-n_columns // bands), rows


def figure_for(G, pos: dict | None = None, extra_height: float = 0.0, *, equation: bool = False,
               extra_width: float = 0.0):
    """A new figure and axes sized from the layout of `G`: 1.25 in per column, 0.95 in per row of nodes,
    plus room for a title and a colour bar; `equation` adds room for the eq. 5.56 box of
    ``draw(..., highlight=j)``, `extra_height` and `extra_width` (inches) for anything else
    (:func:`draw_paths`' listing takes about 4 in).

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Examples
    --------
    >>> from graphbp import bishop_network
    >>> fig, ax = figure_for(bishop_network())
    >>> [float(s) for s in fig.get_size_inches()]
    [5.5, 4.6]
    """
    import matplotlib.pyplot as plt

    positions = layout(G) if pos is None else pos
    xs, ys = zip(*positions.values())
    width = float(np.clip(3.0 + COLUMN_INCHES * (max(xs) - min(xs)), 5.0, MAX_WIDTH_INCHES)) + extra_width
    height = float(np.clip(2.7 + ROW_INCHES * (max(ys) - min(ys)), 3.5, 18.0)) + extra_height + 1.5 * equation
    return plt.subplots(figsize=(width, height))


def _points_per_unit(ax) -> np.ndarray:
    """(x, y) size of one layout unit in points, from the axes' current limits and size."""
    origin, unit = ax.transData.transform([(0.0, 0.0), (1.0, 1.0)])
    return np.abs(unit - origin) * 72.0 / ax.figure.dpi


def _bends(positions, edgelist, scale, radius, bounds) -> dict:
    """Edge -> its course: an arc curvature (float), or the waypoints (tuple of (x, y)) of a routed edge.

    An arc is matplotlib's ``arc3`` (a quadratic Bézier with its control point
    `rad` × the chord off the midpoint), sampled here; the least bend (either
    side) that keeps it `radius` + a few points clear of every node it does not
    touch, measured in points on the drawing, is taken; a bend that leaves
    `bounds` ((xmin, xmax), (ymin, ymax) in layout units) is not. When no arc
    clears every node (a long edge across full columns), the edge is routed
    instead (see :func:`_route`) through the gaps of the columns it crosses;
    only when that fails too (an edge running right to left, between the bands
    of a folded layout) is the arc passing farthest from the nodes taken.
    """
    low, high = np.array([bounds[0][0], bounds[1][0]]) * scale, np.array([bounds[0][1], bounds[1][1]]) * scale
    nodes = list(positions)
    points = np.array([positions[n] for n in nodes], dtype=float) * scale
    index = {n: r for r, n in enumerate(nodes)}
    need = radius + _CLEARANCE_POINTS
    columns = _node_columns(points, radius)
    t = np.linspace(0.0, 1.0, 41)[:, None]
    bends = {}
    for i, j in edgelist:
        start, end = points[index[i]], points[index[j]]
        others = np.delete(points, [index[i], index[j]], axis=0)
        chord = end - start
        normal = np.array([chord[1], -chord[0]])

        def clearance(rad):
            control = (start + end) / 2 + rad * normal
            curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end
            inside = not ((curve < low).any() or (curve > high).any())
            return _distance(curve, others), inside

        choices = [side * rad for rad in _BENDS for side in (1, -1)]
        scores = {rad: clearance(rad) for rad in choices}
        inside = [rad for rad in choices if scores[rad][1]] or choices[:2]
        bend = next((rad for rad in inside if scores[rad][0] >= need), max(inside, key=lambda rad: scores[rad][0]))
        if scores[bend][0] < need:
            waypoints = _route(start, end, columns, need, low[1], high[1])
            if waypoints is not None and _distance(_route_curve(start, end, waypoints), others) > scores[bend][0]:
                bend = tuple((float(x), float(y)) for x, y in waypoints / scale)
        bends[(i, j)] = bend
    return bends


def _distance(curve, others) -> float:
    """Least distance from the points of `curve` to the points `others` (inf when there are none)."""
    return float(np.min(np.linalg.norm(curve[:, None, :] - others[None, :, :], axis=2), initial=np.inf))


def _node_columns(points, radius) -> list[tuple[float, np.ndarray]]:
    """(x, sorted heights of its nodes) of each column of nodes: nodes less than a circle apart in x share one."""
    columns: list[list] = []
    for x, y in sorted(map(tuple, points)):
        if columns and x - columns[-1][0][-1] < radius:
            columns[-1][0].append(x)
            columns[-1][1].append(y)
        else:
            columns.append([[x], [y]])
    return [(float(np.mean(xs)), np.sort(ys)) for xs, ys in columns]


def _route(start, end, columns, need, bottom, top) -> np.ndarray | None:
    """Waypoints (in points) of an edge from `start` to `end` through one gap of each column it crosses.

    A gap is the middle between two nodes of a column at least 2 × `need`
    apart, or `need` above its top node or below its bottom one (kept within
    `bottom`, `top`); the gaps chosen are those of least vertical travel
    (a shortest path over the columns, by dynamic programming). No waypoints
    when it crosses no column; an edge running right to left (from one band of
    a folded layout to the next) takes a :func:`_detour`. None when a column
    it crosses has no gap.
    """
    if end[0] - start[0] < 2 * need:
        return _detour(start, end, columns, need)
    crossed = [(x, ys) for x, ys in columns if start[0] + need < x < end[0] - need]
    if not crossed:  # adjacent columns: leaving and meeting the nodes level clears the others of their columns
        return np.empty((0, 2))
    lanes = []
    for x, ys in crossed:
        gaps = [(a + b) / 2 for a, b in zip(ys[:-1], ys[1:]) if b - a >= 2 * need]
        gaps += [y for y in (ys[0] - need * 1.3, ys[-1] + need * 1.3) if bottom <= y <= top]
        if not gaps:
            return None
        lanes.append((x, np.array(gaps)))
    # Shortest vertical travel, column by column: cost[k] is the least travel to reach gap k of this column.
    cost, back, previous = np.zeros(1), [], np.array([start[1]])
    for _, gaps in lanes:
        total = cost[:, None] + np.abs(gaps[None, :] - previous[:, None])
        back.append(np.argmin(total, axis=0))
        cost, previous = np.min(total, axis=0), gaps
    k = int(np.argmin(cost + np.abs(previous - end[1])))
    chosen = []
    for (x, gaps), pointer in zip(reversed(lanes), reversed(back)):
        chosen.append((x, gaps[k]))
        k = int(pointer[k])
    return np.array(chosen[::-1])


def _detour(start, end, columns, need) -> np.ndarray | None:
    """Waypoints of an edge running right to left: out of `start` to the right, between the columns down (or
    up) to the widest empty row between the two nodes, along it, and between the columns into `end` from
    the left, in straight lines. None when no empty row is 2 × `need` high."""
    xs = np.array([x for x, _ in columns])
    spacing = float(np.min(np.diff(xs))) if len(xs) > 1 else 4 * need
    after = xs[xs > start[0] + need]
    before = xs[xs < end[0] - need]
    out = (start[0] + after[0]) / 2 if after.size else start[0] + spacing / 2
    into = (end[0] + before[-1]) / 2 if before.size else end[0] - spacing / 2
    low, high = sorted((start[1], end[1]))
    heights = np.unique(np.concatenate([[low, high], *(ys[(ys > low) & (ys < high)] for _, ys in columns)]))
    widest = int(np.argmax(np.diff(heights))) if heights.size > 1 else None
    if widest is None or heights[widest + 1] - heights[widest] < 2 * need:
        return None
    lane = (heights[widest] + heights[widest + 1]) / 2
    return np.array([(out, start[1]), (out, lane), (into, lane), (into, end[1])])


def _route_segments(start, end, waypoints) -> list[np.ndarray]:
    """The cubic Bézier pieces (4 × 2 control points each) of a routed edge: through each waypoint
    horizontally, so that it crosses a column in the middle of its gap, with handles half a step long."""
    stops = [np.asarray(start, float), *np.asarray(waypoints, float), np.asarray(end, float)]
    pieces = []
    for a, b in zip(stops[:-1], stops[1:]):
        handle = np.array([(b[0] - a[0]) / 2, 0.0])
        pieces.append(np.array([a, a + handle, b - handle, b]))
    return pieces


def _route_curve(start, end, waypoints, samples: int = 25) -> np.ndarray:
    """Points along a routed edge, `samples` per piece."""
    t = np.linspace(0.0, 1.0, samples)[:, None]
    weights = [(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3]
    return np.vstack([sum(w * p for w, p in zip(weights, piece)) for piece in _route_segments(start, end, waypoints)])


def _route_path(start, end, waypoints, trim: float):
    """The matplotlib Path of a routed edge in layout units, ending `trim` units short of each node centre
    (it leaves and meets the nodes horizontally, so the arrow's tip lands on the circle)."""
    from matplotlib.path import Path

    start, end = np.asarray(start, float) + [trim, 0.0], np.asarray(end, float) - [trim, 0.0]
    pieces = _route_segments(start, end, waypoints)
    vertices = [pieces[0][0], *(point for piece in pieces for point in piece[1:])]
    codes = [Path.MOVETO] + [Path.CURVE4] * (len(vertices) - 1)
    return Path(vertices, codes)


def _by_bend(bends) -> dict:
    groups: dict[float, list] = {}
    for edge, bend in bends.items():
        groups.setdefault(bend, []).append(edge)
    return groups


def _draw_edges(G, positions, bends, ax, width, **style) -> dict:
    """Edges as arrows (edge -> FancyArrowPatch), bent or routed as `bends` says (see :func:`_bends`)."""
    from matplotlib.patches import FancyArrowPatch

    edgelist = list(bends)
    width = dict(zip(edgelist, np.broadcast_to(width, len(edgelist))))
    arrows = {}
    for bend, edges in _by_bend(bends).items():
        if isinstance(bend, tuple):
            trim = np.sqrt(style["node_size"]) / 2 / _points_per_unit(ax)[0]
            for i, j in edges:
                arrows[i, j] = FancyArrowPatch(
                    path=_route_path(positions[i], positions[j], bend, trim), arrowstyle="-|>",
                    mutation_scale=style["arrowsize"], color=style["edge_color"], linewidth=width[i, j],
                    alpha=style.get("alpha"), zorder=1)
                ax.add_patch(arrows[i, j])
            continue
        patches = nx.draw_networkx_edges(G, positions, edgelist=edges, width=[width[e] for e in edges], ax=ax,
                                         arrows=True, arrowstyle="-|>", connectionstyle=_ARC.format(rad=bend),
                                         **style)
        arrows.update(zip(edges, patches))
    for patch in arrows.values():
        patch.set_clip_on(False)  # an arc bent round other nodes may swing past the axes: draw it whole
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
    shown = set(nodes) if reveal is None else set(reveal)
    quantities = dict(zip(("a", "z", "delta"), sample_values(result, sample))) if result is not None else {}
    delta = quantities.get("delta", {})
    limit, clipped = (vmax, False) if vmax is not None else _colour_limit(list(delta.values()))
    norm = Normalize(-limit, limit)
    colormap = plt.get_cmap(cmap)
    face = [colormap(norm(delta[n])) if n in delta and n in shown else (0.88, 0.88, 0.88, 1.0) for n in nodes]
    drawn = {"ax": ax, "pos": positions, "names": {}, "labels": {}, "edge_labels": {}, "highlight_edges": {},
             "terms": {}, "equation": None, "colorbar": None, "key": None, "note": None}

    # The colour bar and the footers take their room from the axes first, so the geometry measured below is final.
    if colorbar and result is not None:
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
        drawn["colorbar"] = ax.figure.colorbar(mappable, ax=ax, shrink=0.7, pad=0.02,
                                               extend="both" if clipped else "neither")
        drawn["colorbar"].set_label(r"$\delta_j = \partial E_n / \partial a_j$"
                                    + (f" (scale stops at ±{limit:.3g})" if clipped else ""), fontsize=9)
        drawn["colorbar"].ax.tick_params(labelsize=8)
    xs, ys = zip(*positions.values())
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.45)
    ax.set_axis_off()
    box = ax.get_position()
    shrink = 1.0
    for attempt in range(5):
        # Names that do not fit go in a key under the axes, which takes room from the axes, which shrinks the
        # circles: decide the names for a slightly smaller circle until the drawn circle holds them all; when
        # even #k does not fit (a long chain folded into a small panel), the names are left out (last attempt).
        ax.set_position(box)
        room = _diameter(ax, labelled, widest=np.inf) * shrink
        names_shown = _node_names(nodes, room, ax) if labelled and names and attempt < 4 else {}
        footers = []
        abbreviated = {n: text for n, text in names_shown.items() if text != str(n)}
        if highlight is not None:
            explanation = explain(G, result, highlight, sample, weight)
            equation = explanation.latex()
            for node, short in abbreviated.items():  # the box names nodes as the drawing does
                equation = equation.replace(latex_name(node), latex_name(short))
            drawn["equation"] = _footer(ax, _wrap_equation(equation, ax), 10, HIGHLIGHT_COLOR)
            footers.append(drawn["equation"])
        if abbreviated:
            drawn["key"] = _footer(ax, _key_text(abbreviated, ax), MIN_FONT, "0.6")
            footers.append(drawn["key"])
        if labelled and (edge_labels or highlight is not None or len(nodes) > 15 or attempt == 4):
            drawn["note"] = _footer(ax, " ", MIN_FONT, None)  # filled in once we know what was left out
            footers.append(drawn["note"])
        _stack_footers(ax, footers, drawn["colorbar"])
        _fit_footers(ax, footers)
        widest = max((_text_points(text, MIN_FONT, ax)[0] + 3 for text in names_shown.values()), default=0.0)
        diameter = _diameter(ax, labelled, widest)
        if attempt == 4 or all(_text_points(text, MIN_FONT, ax)[0] <= diameter - 3 for text in names_shown.values()):
            break
        for text in footers:
            text.remove()
        drawn.update(equation=None, key=None, note=None)
        shrink *= 0.8

    scale = _points_per_unit(ax)
    node_size, radius = diameter**2, diameter / 2
    bends = _bends(positions, list(G.edges), scale, radius, (ax.get_xlim(), ax.get_ylim()))
    edge_value = _edge_values(G, result, edge_values, weight)
    largest = max([abs(v) for v in edge_value.values()] + [0.0]) or 1.0
    thin = 0.3 if labelled else 0.15
    widths = [thin + (2.8 if labelled else 1.0) * abs(edge_value[e]) / largest for e in bends]
    drawn["edges"] = _draw_edges(G, positions, bends, ax, width=widths, edge_color="0.45",
                                 alpha=0.25 if highlight is not None else 0.8, arrowsize=10 if labelled else 5,
                                 node_size=node_size)
    outline = ["black" if n == highlight else HIGHLIGHT_COLOR if highlight is not None and
               n in G.succ[highlight] else "0.3" for n in nodes]
    line_width = [2.5 if c != "0.3" else (1.0 if labelled else 0.4) for c in outline]
    drawn["nodes"] = ax.scatter(*zip(*(positions[n] for n in nodes)), s=node_size, c=face,
                                edgecolors=outline, linewidths=line_width, zorder=3)

    for n, color in zip(nodes, face):
        if n in names_shown:
            dark = sum(color[:3]) < 1.4  # white text on the saturated ends of the colormap
            drawn["names"][n] = ax.text(*positions[n], names_shown[n], ha="center", va="center", zorder=4,
                                        fontsize=_fitting_font(names_shown[n], diameter, ax),
                                        color="white" if dark else "black")
    for n in nodes if labelled and quantities and values else ():
        lines = [f"{_QUANTITY_SYMBOL[q]}=" + (number_format.format(quantities[q][n]) if n in shown else "?")
                 for q in values]
        drawn["labels"][n] = ax.annotate("\n".join(lines), positions[n], xytext=(0, -radius - 1.5),
                                         textcoords="offset points", ha="center", va="top",
                                         bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                               "alpha": 0.75},
                                         fontsize=LABEL_FONT if len(nodes) <= 15 else MIN_FONT, zorder=5)
    if highlight is not None:
        edges = [(highlight, k) for k in explanation.successors]
        drawn["highlight_edges"] = _draw_edges(G, positions, {e: bends[e] for e in edges}, ax, width=3.0,
                                               edge_color=HIGHLIGHT_COLOR, arrowsize=16, node_size=node_size)
        terms = {(j, k): f"{_signed(w, number_format)}·{_signed(d, number_format)}\n= {_signed(term, number_format)}"
                 for (j, k), w, d, term in zip(edges, explanation.weights, explanation.successor_deltas,
                                               explanation.terms)}
        drawn["terms"] = _edge_texts(G, positions, {e: bends[e] for e in edges}, terms, ax, 7.5, 0.5,
                                     {"boxstyle": "round,pad=0.2", "fc": "#fff3dd", "ec": HIGHLIGHT_COLOR, "lw": 0.8})
    if edge_labels and labelled:
        drawn["edge_labels"] = _edge_texts(G, positions, bends, {e: number_format.format(edge_value[e]) for e in bends},
                                           ax, MIN_FONT, 0.7, {"boxstyle": "round,pad=0.1", "fc": "white",
                                                               "ec": "none", "alpha": 0.8})
    drawn["bends"] = bends
    left_out = _declutter(ax, drawn, node_size)
    if labelled and names and not names_shown:
        left_out = {"names": len(nodes), **left_out}
    if drawn["note"] is not None:
        counts = [f"{count} {kind}" for kind, count in left_out.items() if count]
        drawn["note"].set_text(f"left out for room: {', '.join(counts)}" if counts else " ")
    return drawn


def _colour_limit(values) -> tuple[float, bool]:
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


def _text_points(text: str, fontsize: float, ax) -> np.ndarray:
    """(width, height) of `text` at `fontsize`, in points, as the figure's renderer draws it."""
    probe = ax.text(0, 0, text, fontsize=fontsize)
    extent = probe.get_window_extent(ax.figure.canvas.get_renderer())
    probe.remove()
    return np.array([extent.width, extent.height]) * 72.0 / ax.figure.dpi


def _fitting_font(text: str, diameter: float, ax) -> float:
    """The name font: NAME_FONT when the name fits the circle at it, else MIN_FONT."""
    return NAME_FONT if _text_points(text, NAME_FONT, ax)[0] <= diameter - 3 else MIN_FONT


def _diameter(ax, labelled: bool, widest: float = 0.0) -> float:
    """The node circles' diameter in points, from the spacing of the layout on the axes: 0.42 of it, or more
    (up to 0.6 of it, and 34 points) where the widest name needs `widest` points."""
    scale = min(_points_per_unit(ax))
    if not labelled:
        return float(np.clip(0.3 * scale, 3.0, 12.0))
    return float(np.clip(max(0.42 * scale, min(widest, 0.6 * scale)), 6.0, 34.0))


def _node_names(nodes, diameter: float, ax) -> dict:
    """Node -> the text written in its circle: str(node), or #k when that does not fit at MIN_FONT."""
    names, k = {}, 0
    for n in nodes:
        if _text_points(str(n), MIN_FONT, ax)[0] <= diameter - 3:
            names[n] = str(n)
        else:
            k += 1
            names[n] = f"#{k}"
    return names


def _key_text(abbreviated: dict, ax) -> str:
    """'#1 = name   #2 = name ...' in as many lines as the axes' width needs."""
    entries = [f"{short} = {node!r}" for node, short in abbreviated.items()]
    entries[0] = "key: " + entries[0]
    width = ax.get_window_extent().width * 72.0 / ax.figure.dpi - 6  # the box's padding
    lines, line = [], ""
    for entry in entries:
        candidate = f"{line}   {entry}" if line else entry
        if line and _text_points(candidate, MIN_FONT, ax)[0] > width:
            lines.append(line)
            candidate = entry
        line = candidate
    return "\n".join([*lines, line])


def _wrap_equation(equation: str, ax, fontsize: float = 10) -> str:
    """Break each mathtext line of `equation` that is wider than the axes (so that it stays clear of the
    colour bar) at its sums and lists, continuing on indented lines."""
    room = ax.get_window_extent().width * 72.0 / ax.figure.dpi - 16
    lines = []
    for line in equation.split("\n"):
        if _text_points(line, fontsize, ax)[0] <= room:
            lines.append(line)
            continue
        body = line.strip("$").replace(r"\left(", "(").replace(r"\right)", ")")
        pieces: list[str] = []
        for piece in re.split(r"(?= \+ |,\\ )", body):
            if pieces and _open_braces(pieces[-1]):  # inside a name such as \mathrm{(0,\ 1)}: not a break
                pieces[-1] += piece
            else:
                pieces.append(piece)
        current = ""
        for piece in pieces:
            if current and _text_points(f"${current}{piece}$", fontsize, ax)[0] > room:
                lines.append(f"${current}$")
                current = r"\quad " + piece.lstrip(",")
            else:
                current += piece
        lines.append(f"${current}$")
    return "\n".join(lines)


def _fit_title(ax, title: str, fontsize: float = 10.0):
    """``ax.set_title`` at a smaller font (down to MIN_FONT), then broken at spaces, until each line is narrower
    than the figure: a title never runs off the figure's sides."""
    box, width = ax.get_position(), ax.figure.get_figwidth() * 72.0
    centre = (box.x0 + box.x1) / 2 * width  # a title is centred on its axes, not on the figure
    room = 2 * min(centre, width - centre) - 24  # 12 points clear of each side
    while fontsize > MIN_FONT and max(_text_points(line, fontsize, ax)[0] for line in title.split("\n")) > room:
        fontsize = max(MIN_FONT, fontsize - 0.5)
    lines = []
    for line in title.split("\n"):
        current = ""
        for word in line.split(" "):
            if current and _text_points(f"{current} {word}", fontsize, ax)[0] > room:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        lines.append(current)
    return ax.set_title("\n".join(lines), fontsize=fontsize)


def _open_braces(mathtext: str) -> int:
    """How many groups `mathtext` opens and leaves open (escaped braces \\{ \\} are text, not groups)."""
    return len(re.findall(r"(?<!\\){", mathtext)) - len(re.findall(r"(?<!\\)}", mathtext))


def _footer(ax, text: str, fontsize: float, edge_color) -> object:
    """A text under the axes (placed by :func:`_stack_footers`)."""
    box = {"boxstyle": "round,pad=0.4", "fc": "white", "ec": edge_color} if edge_color else None
    return ax.text(0.0, 0.0, text, transform=ax.transAxes, ha="left", va="top", fontsize=fontsize, bbox=box,
                   zorder=7)


def _stack_footers(ax, footers, colorbar=None) -> None:
    """Shrink the axes (and the colour bar) from below to make room for the footers, and put them there,
    one under the other."""
    if not footers:
        return
    renderer = ax.figure.canvas.get_renderer()
    figure_height = ax.figure.bbox.height
    heights = [_extent(text, renderer).height / figure_height + 0.012 for text in footers]
    box = ax.get_position()
    room = min(sum(heights) + 0.01, 0.6 * box.height)
    ax.set_position([box.x0, box.y0 + room, box.width, box.height - room])
    if colorbar is not None:
        bar = colorbar.ax.get_position()
        # its lowest tick label reaches half a line below the bar: keep that clear of the footers too
        bottom = max(bar.y0, box.y0 + room + 10 * ax.figure.dpi / 72 / figure_height)
        colorbar.ax.set_position([bar.x0, bottom, bar.width, bar.y1 - bottom])
    top = -0.01
    for text, height in zip(footers, heights):
        # axes fraction: the axes is now (box.height - room) of the figure high
        text.set_y(top - 0.006 / (box.height - room))
        top -= height / (box.height - room)


def _fit_footers(ax, footers) -> None:
    """Shrink a footer's font (down to MIN_FONT) until it ends within the axes' width."""
    renderer = ax.figure.canvas.get_renderer()
    for text in footers:
        while _extent(text, renderer).x1 > ax.get_window_extent().x1 and text.get_fontsize() > MIN_FONT:
            text.set_fontsize(max(MIN_FONT, text.get_fontsize() - 0.5))


def _extent(text, renderer):
    """The window extent of a text including its box."""
    from matplotlib.transforms import Bbox

    extent = text.get_window_extent(renderer)
    patch = text.get_bbox_patch()
    if patch is None:
        return extent
    text.update_bbox_position_size(renderer)  # the box follows its text only when drawn, or asked to
    return Bbox.union([extent, patch.get_window_extent(renderer)])


def _edge_texts(G, positions, bends, texts, ax, fontsize, label_pos, bbox) -> dict:
    """Edge -> Text placed on its (bent or routed) arrow, `label_pos` of the way from the head."""
    placed = {}
    for bend, edges in _by_bend(bends).items():
        if isinstance(bend, tuple):
            for i, j in edges:
                curve = _route_curve(positions[i], positions[j], bend)
                along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(curve, axis=0).T))])
                x, y = curve[np.searchsorted(along, (1 - label_pos) * along[-1])]
                placed[i, j] = ax.text(x, y, texts[i, j], fontsize=fontsize, ha="center", va="center", bbox=bbox)
            continue
        placed.update(nx.draw_networkx_edge_labels(
            G, positions, edge_labels={e: texts[e] for e in edges}, font_size=fontsize, label_pos=label_pos,
            connectionstyle=_ARC.format(rad=bend), ax=ax, bbox=bbox, rotate=False,
        ))
    for text in placed.values():
        text.set_zorder(6)
    return placed


def _declutter(ax, drawn, node_size) -> dict:
    """Hide the value labels, term boxes and edge labels that would cover a kept text or another node.

    Every text already in the figure stays (names, the equation box, the key,
    the colour bar's ticks, other panels' texts); then, in this order, each
    value label, term box and edge label is kept only if its box is inside the
    figure and overlaps nothing kept so far and no node circle other than its own.
    Returns how many of each kind were hidden.
    """
    from matplotlib.text import Text

    ax.figure.canvas.draw()  # networkx places edge labels on their arcs only when drawn
    renderer = ax.figure.canvas.get_renderer()
    radius_px = np.sqrt(node_size) / 2 * ax.figure.dpi / 72.0
    figure = ax.figure.bbox
    centres = {n: ax.transData.transform(p) for n, p in drawn["pos"].items()}
    deciding = {id(t) for kind in ("labels", "terms", "edge_labels") for t in drawn[kind].values()}
    # Everything already shown stays: names, the equation box, the key, colour-bar ticks, other panels' texts.
    kept = [_extent(t, renderer) for t in ax.figure.findobj(Text)
            if id(t) not in deciding and t.get_visible() and t.get_text().strip()]
    left_out = {}
    for kind, texts in (("value labels", drawn["labels"]), ("term boxes", drawn["terms"]),
                        ("edge labels", drawn["edge_labels"])):
        left_out[kind] = 0
        for owner, text in texts.items():
            box = _extent(text, renderer).padded(2.0 * ax.figure.dpi / 72)  # 2 points between texts
            touching = set(owner) if isinstance(owner, tuple) and kind != "value labels" else set()
            covers_node = any(_box_hits_circle(box, c, radius_px) for n, c in centres.items()
                              if n not in touching and not (kind == "value labels" and n == owner))
            outside = not figure.contains(box.x0, box.y0) or not figure.contains(box.x1, box.y1)
            if outside or covers_node or any(box.overlaps(other) for other in kept):
                text.set_visible(False)
                left_out[kind] += 1
            else:
                kept.append(box)
    return left_out


def _box_hits_circle(box, centre, radius) -> bool:
    nearest = np.clip(centre, [box.x0, box.y0], [box.x1, box.y1])
    return bool(np.hypot(*(nearest - centre)) < radius)


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
    lines = [f"δ_{j!s} = Σ over {len(summed.paths)} paths of Π (w·h') × ∂E/∂a_out"]
    for path, product in list(zip(summed.paths, summed.products))[:max_listed]:
        lines += _path_lines(path, product)
    if len(summed.paths) > max_listed:
        rest = sum(summed.products[max_listed:])
        lines.append(f"{f'{len(summed.paths) - max_listed} more paths':<{_LISTING_WIDTH}} {rest:+.4g}")
    lines += [f"{'sum':<{_LISTING_WIDTH}} {summed.total:+.4g}",
              f"{'backprop δ_' + str(j):<{_LISTING_WIDTH}} {summed.delta:+.4g}"]
    # The listing goes right of the drawing: the axes give up that room before anything is drawn.
    listing = ax.text(1.02, 0.5, "\n".join(lines), transform=ax.transAxes, ha="left", va="center",
                      fontsize=8, family="monospace",
                      bbox={"boxstyle": "round,pad=0.5", "fc": "white", "ec": HIGHLIGHT_COLOR})
    box = ax.get_position()
    needed = (_extent(listing, ax.figure.canvas.get_renderer()).width + 12) / ax.figure.bbox.width
    ax.set_position([box.x0, box.y0, max(box.width - needed, 0.3 * box.width), box.height])
    drawn = draw(G, result, sample=sample, ax=ax, pos=pos, edge_values=None, colorbar=False, weight=weight)
    for patch in drawn["edges"].values():
        patch.set_alpha(0.2)
    through: dict = {}
    local: dict = {}
    for path, factors in zip(summed.paths, summed.factors):
        for edge, factor in zip(nx.utils.pairwise(path), factors):
            through[edge] = through.get(edge, 0) + 1
            local[edge] = factor
    bends = {e: drawn["bends"][e] for e in through}
    most = max(through.values(), default=1)
    node_size = drawn["nodes"].get_sizes()[0]
    drawn["path_edges"] = _draw_edges(G, drawn["pos"], bends, ax, width=[1.5 + 3.0 * through[e] / most for e in bends],
                                      edge_color=HIGHLIGHT_COLOR, arrowsize=14, node_size=node_size)
    drawn["local_labels"] = _edge_texts(G, drawn["pos"], bends, {e: f"{local[e]:.3g}" for e in bends}, ax, 7.5, 0.5,
                                        {"boxstyle": "round,pad=0.15", "fc": "#fff3dd", "ec": HIGHLIGHT_COLOR,
                                         "lw": 0.6})
    drawn["terms"] = drawn["local_labels"]  # placed among the other texts like eq. 5.56's term boxes
    left_out = _declutter(ax, {**drawn, "labels": {}, "edge_labels": {}}, node_size)
    if left_out["term boxes"]:  # said in the listing, which has room for one more line
        listing.set_text(f"{listing.get_text()}\n({left_out['term boxes']} w·h' labels hidden for room)")
    drawn["listing"] = listing
    drawn["path_sum"] = summed
    return drawn


_LISTING_WIDTH = 36  # characters of a path in draw_paths' listing before it continues on the next line


def _path_lines(path, product) -> list[str]:
    """'a → b → c   +0.1' for the listing, broken after _LISTING_WIDTH characters (at an arrow) onto
    indented lines; the product ends the last one."""
    lines, current = [], str(path[0])
    for n in path[1:]:
        piece = f" → {n}"
        if len(current) + len(piece) > _LISTING_WIDTH:
            lines.append(current)
            current = "  " + piece
        else:
            current += piece
    return [*lines, f"{current:<{_LISTING_WIDTH}} {product:+.4g}"]


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
        ``"image"``: the AxesImage; ``"ticks"``: the column tick labels
        (every k-th column's when all would overlap).

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
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    # A label every k-th cell, k such that two labels are a line and a half apart: they never overlap.
    box = ax.get_window_extent()  # the cells are square: the longer side of the matrix sets their size
    cell = min(box.width / len(columns), box.height / len(rows)) * 72.0 / ax.figure.dpi * 0.8  # room for a layout
    for set_ticks, labels in ((ax.set_xticks, columns), (ax.set_yticks, rows)):
        step = int(np.ceil(1.5 * MIN_FONT / cell))
        set_ticks(range(0, len(labels), step), labels[::step], fontsize=MIN_FONT,
                  **({"rotation": 90} if set_ticks == ax.set_xticks else {}))
    ax.set_title(title, fontsize=10)
    return {"image": image, "ticks": ax.get_xticklabels()}
