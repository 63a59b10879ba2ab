"""Jacobian accumulation by vertex elimination on the linearised computational graph.

Griewank & Walther (*Evaluating Derivatives*, ch. 9-10) cast forward mode,
reverse mode and everything between as one operation on a graph whose edges
carry local partial derivatives.

**The linearised graph** (:func:`linearized_graph`, one sample). Its vertices
are the network's nodes, each standing for its value z_j (x_i for an input);
the edge i → j carries c_ji = ∂z_j/∂z_i = h'(a_j) w_ji (for a softmax group,
c_mi = Σ_j ∂z_m/∂a_j w_ji from every predecessor i of the group to every
member m). So a_j is folded into its edge labels: one vertex per unit, not two.
An output that also feeds other units gets a separate sink vertex
(:class:`OutputCopy`, edge label 1), so that every output is a sink; vertices
on no input-to-output path (dead ends, constant units) are dropped.

**Vertex elimination** (:func:`eliminate`). Eliminating an intermediate vertex
v adds, for every predecessor u and successor w, c_wv·c_vu to the edge u → w
(creating it if absent) and removes v: |pred(v)|·|succ(v)| multiplications.
When every intermediate vertex is gone, the edge x_i → y_k carries ∂y_k/∂x_i;
any order gives the same Jacobian (the sum over paths of the products of edge
labels), at a different cost.

**Counts** (a vertex v, n inputs, m outputs, |E| edges of the linearised graph):

- forward order (topological): when v is eliminated its predecessors are the
  inputs that reach it, X_v, and its successors are its original ones, so the
  cost is ``Σ_v |X_v| · outdeg(v)``;
- reverse order: symmetrically ``Σ_v indeg(v) · |Y_v|``, Y_v the outputs v reaches;
- Markowitz order: greedily the vertex with the fewest |pred|·|succ| now (ties
  broken by topological position); a heuristic, not always the cheapest;
- forward-mode sweeps (:func:`graphbp.forward.tangent_sweep`): one per input,
  each multiplying every edge label once, ``n · |E|``; reverse-mode sweeps
  (:func:`graphbp.backward.backward_sweep`) ``m · |E|``. Elimination skips
  the products with zero tangents and with the unit seed.

None of the counts includes forming the edge labels themselves (|E|
multiplications, shared by every method).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .exceptions import GraphBPError, ShapeError
from .forward import activation_tangent, propagate
from .batches import as_batch
from .network import read_network

__all__ = [
    "Elimination",
    "OutputCopy",
    "draw_elimination",
    "draw_linearized",
    "eliminate",
    "elimination_costs",
    "linearized_graph",
]

PARTIAL = "partial"
ORDERS = ("forward", "reverse", "markowitz")


@dataclass(frozen=True)
class OutputCopy:
    """The sink vertex standing for output `node` when that node also feeds other units."""

    node: Hashable

    def __str__(self) -> str:
        return f"{self.node}*"


def linearized_graph(G, x, weight: str = "weight") -> nx.DiGraph:
    """The linearised computational graph of `G` at one sample: local partials on the edges.

    Parameters
    ----------
    G : networkx.DiGraph
        The network (see :func:`graphbp.read_network`).
    x : array_like
        One sample, shape (D,).
    weight : str, default "weight"
        Edge attribute holding the weight w_ji.

    Returns
    -------
    networkx.DiGraph
        Edge attribute ``"partial"`` = c_ji = ∂z_j/∂z_i; ``graph["inputs"]``
        the inputs and ``graph["outputs"]`` the sink vertex of each output
        (the node itself, or its :class:`OutputCopy`), both in column order.

    Raises
    ------
    GraphBPError
        An invalid network, or `x` not one sample of the right length.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "h", {"weight": 2.0}), ("h", "y", {"weight": 3.0})])
    >>> L = linearized_graph(G, [0.0])
    >>> L.edges["x", "h"]["partial"], L.edges["h", "y"]["partial"]   # tanh'(0)·2, identity'·3
    (2.0, 3.0)
    """
    net = read_network(G, weight)
    X, single = as_batch(x, net.inputs, "x")
    if not single:
        raise ShapeError(f"x has shape {np.shape(x)}; the linearised graph is for one sample, shape ({len(net.inputs)},)")
    a, z = propagate(G, net, X)
    L = nx.DiGraph()
    L.add_nodes_from(net.order)
    for unit in net.units:
        for i in dict.fromkeys(p for j in unit for p in G.predecessors(j)):
            # ∂z_m/∂z_i for each m of the unit: the tangent of the unit when ȧ_j = w_ji.
            seed = {j: G[i][j][weight] if G.has_edge(i, j) else 0.0 for j in unit}
            for m, partial in activation_tangent(net, unit, a, z, seed).items():
                L.add_edge(i, m, **{PARTIAL: float(partial[0])})
    sinks = []
    for k in net.outputs:
        if L.out_degree(k):
            L.add_edge(k, OutputCopy(k), **{PARTIAL: 1.0})
            k = OutputCopy(k)
        sinks.append(k)
    reached = set(net.inputs).union(*(nx.descendants(L, i) for i in net.inputs))
    reaching = set(sinks).union(*(nx.ancestors(L, k) for k in sinks))
    kept = (reached & reaching) | set(net.inputs) | set(sinks)
    L.remove_nodes_from([v for v in list(L) if v not in kept])
    L.graph.update(inputs=list(net.inputs), outputs=sinks)
    return L


def _intermediates(L) -> list:
    ends = set(L.graph["inputs"]) | set(L.graph["outputs"])
    return [v for v in nx.topological_sort(L) if v not in ends]


def _eliminate_vertex(L, v) -> int:
    """Remove v, adding c_wv c_vu to each edge u → w; returns the multiplications (|pred|·|succ|)."""
    predecessors, successors = list(L.predecessors(v)), list(L.successors(v))
    for u in predecessors:
        for w in successors:
            product = L[v][w][PARTIAL] * L[u][v][PARTIAL]
            if L.has_edge(u, w):
                L[u][w][PARTIAL] += product
            else:
                L.add_edge(u, w, **{PARTIAL: product})  # fill-in
    L.remove_node(v)
    return len(predecessors) * len(successors)


@dataclass(frozen=True)
class Elimination:
    """What :func:`eliminate` did.

    Attributes
    ----------
    order : tuple
        The vertices eliminated, in order.
    costs : tuple of int
        Multiplications of each elimination (|pred|·|succ| at that moment).
    multiplications : int
        Their sum.
    graph : networkx.DiGraph
        The graph left afterwards.
    jacobian : numpy.ndarray or None
        (outputs, inputs) ∂y_k/∂x_i read off the edges once every
        intermediate vertex is gone; None after a partial elimination.
    """

    order: tuple
    costs: tuple
    multiplications: int
    graph: nx.DiGraph
    jacobian: np.ndarray | None


def eliminate(L, order: str | Sequence = "forward", steps: int | None = None) -> Elimination:
    """Eliminate the intermediate vertices of a linearised graph, counting multiplications.

    Parameters
    ----------
    L : networkx.DiGraph
        From :func:`linearized_graph`; not modified.
    order : {"forward", "reverse", "markowitz"} or sequence
        Topological, reverse topological, greedy Markowitz (fewest
        |pred|·|succ| first), or an explicit order of all intermediate vertices.
    steps : int, optional
        Stop after this many eliminations (for drawing the stages).

    Returns
    -------
    Elimination

    Raises
    ------
    GraphBPError
        An unknown order name, or a sequence that is not an ordering of the
        intermediate vertices (the vertex is named).

    Examples
    --------
    A chain x → h → g → y: each elimination costs 1·1.

    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "h", {"weight": 2.0}), ("h", "g", {"weight": 1.0}), ("g", "y", {"weight": 3.0})])
    >>> for node in ("h", "g"):
    ...     G.nodes[node]["activation"] = "identity"
    >>> result = eliminate(linearized_graph(G, [1.0]), "reverse")
    >>> result.order, result.multiplications, result.jacobian
    (('g', 'h'), 2, array([[6.]]))
    """
    remaining = _intermediates(L)
    if isinstance(order, str):
        if order not in ORDERS:
            raise GraphBPError(f"unknown elimination order {order!r}; use one of {', '.join(ORDERS)} or a list")
        if order == "reverse":
            remaining.reverse()
    else:
        order = list(order)
        for v in order:
            if v not in remaining:
                raise GraphBPError(f"elimination order names {v!r}, which is not an intermediate vertex")
        if len(set(order)) != len(order) or len(order) != len(remaining):
            missing = [v for v in remaining if v not in order]
            raise GraphBPError(
                f"an elimination order must list each intermediate vertex once; missing {missing}"
                if missing else "an elimination order must list each intermediate vertex once; it repeats one"
            )
        remaining = order
    H = L.copy()
    done, costs = [], []
    while remaining and (steps is None or len(done) < steps):
        if order == "markowitz":
            v = min(remaining, key=lambda u: H.in_degree(u) * H.out_degree(u))  # first on ties
        else:
            v = remaining[0]
        remaining.remove(v)
        costs.append(_eliminate_vertex(H, v))
        done.append(v)
    J = None
    if not remaining:
        inputs, outputs = L.graph["inputs"], L.graph["outputs"]
        J = np.array([[H[i][k][PARTIAL] if H.has_edge(i, k) else 0.0 for i in inputs] for k in outputs])
    return Elimination(tuple(done), tuple(costs), sum(costs), H, J)


def elimination_costs(G, x, weight: str = "weight") -> dict:
    """Multiplications to accumulate the Jacobian at one sample, by each method.

    Parameters
    ----------
    G, x, weight
        As for :func:`linearized_graph`.

    Returns
    -------
    dict
        ``"forward"``, ``"reverse"``, ``"markowitz"``: vertex elimination in
        that order; ``"forward_mode"``, ``"reverse_mode"``: n·|E| and m·|E|,
        one sweep per input or per output.

    Examples
    --------
    >>> from graphbp import bishop_network
    >>> elimination_costs(bishop_network(), [0.5, -1.0])
    {'forward': 12, 'reverse': 12, 'markowitz': 12, 'forward_mode': 24, 'reverse_mode': 24}
    """
    L = linearized_graph(G, x, weight)
    costs = {order: eliminate(L, order).multiplications for order in ORDERS}
    edges = L.number_of_edges()
    costs["forward_mode"] = len(L.graph["inputs"]) * edges
    costs["reverse_mode"] = len(L.graph["outputs"]) * edges
    return costs


def _layout(L) -> dict:
    """Vertices in columns by longest distance from an input, spread vertically."""
    depth = {}
    for v in nx.topological_sort(L):
        depth[v] = max((depth[u] + 1 for u in L.predecessors(v)), default=0)
    last = max(depth.values())
    for k in L.graph["outputs"]:
        depth[k] = last  # every output in the last column
    columns = {}
    for v, d in depth.items():
        columns.setdefault(d, []).append(v)
    # alternate columns up and down a little, so an edge that skips a column does not run through it
    return {v: (d, (len(col) - 1) / 2 - r + 0.4 * (-1) ** d) for d, col in columns.items() for r, v in enumerate(col)}


def draw_linearized(L, ax=None, pos: dict | None = None, highlight=None) -> dict:
    """Draw a linearised graph with its edge labels c_ji.

    Parameters
    ----------
    L : networkx.DiGraph
        From :func:`linearized_graph` or :attr:`Elimination.graph`.
    ax : matplotlib.axes.Axes, optional
        Defaults to the current axes.
    pos : dict, optional
        Vertex -> (x, y); default: columns by depth.
    highlight : vertex, optional
        Drawn in red (e.g. the next vertex to eliminate).

    Returns
    -------
    dict
        ``"vertices"``: vertex -> Text label; ``"edges"``: (u, w) -> Text of
        c_wu, for every edge whose label fits without covering another;
        ``"note"``: the Text under the axes saying how many were left out and
        naming the vertices written #1, #2, ... (or None).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from graphbp import bishop_network
    >>> drawn = draw_linearized(linearized_graph(bishop_network(), [0.5, -1.0]))
    >>> drawn["edges"]["z1", "y1"].get_text()
    '0.70'
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    from .drawing import MIN_FONT, key_text, node_names, text_extent

    ax = plt.gca() if ax is None else ax
    pos = _layout(L) if pos is None else pos
    colors = ["tab:red" if v == highlight else "tab:blue" if v in L.graph["inputs"] else "lightgray" for v in L]
    nx.draw_networkx_nodes(L, pos, ax=ax, node_color=colors, node_size=600)
    nx.draw_networkx_edges(L, pos, ax=ax, node_size=600, arrowsize=12, connectionstyle=f"arc3,rad={_RAD}")
    names = node_names(list(L), np.sqrt(600), ax)  # #1, #2, ... for a name wider than its circle
    vertices = nx.draw_networkx_labels(L, pos, ax=ax, labels=names, font_size=MIN_FONT)
    ax.set_axis_off()
    xs, ys = zip(*pos.values())
    ax.set_xlim(min(xs) - 0.4, max(xs) + 0.4)  # the limits are final before the labels are placed
    ax.set_ylim(min(ys) - 0.4, max(ys) + 0.4)
    # Each c_ji goes at the first place along its arc where it covers no name and no label placed before it.
    renderer = ax.figure.canvas.get_renderer()
    pad = 2.0 * ax.figure.dpi / 72
    kept = [text_extent(text, renderer).padded(pad) for text in vertices.values()]
    edges, left_out = {}, 0
    for u, w in L.edges:
        for fraction in _LABEL_PLACES:
            text = ax.text(*_on_arc(ax, pos[u], pos[w], fraction), f"{L.edges[u, w][PARTIAL]:.2f}", fontsize=MIN_FONT,
                           ha="center", va="center", zorder=4,
                           bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
            box = text_extent(text, renderer).padded(pad)
            if not any(box.overlaps(other) for other in kept):
                kept.append(box)
                edges[u, w] = text
                break
            text.remove()
        else:
            left_out += 1
    lines = [f"{left_out} edge labels left out for room"] if left_out else []
    abbreviated = {v: short for v, short in names.items() if short != str(v)}
    if abbreviated:
        lines.append(key_text(abbreviated, ax))
    note = None
    if lines:
        note = ax.text(0.0, 0.0, "\n".join(lines), transform=ax.transAxes, ha="left", va="top", fontsize=MIN_FONT)
    return {"vertices": vertices, "edges": edges, "note": note}


_RAD = 0.08  # the arcs' bend (matplotlib's arc3)
_LABEL_PLACES = (0.65, 0.5, 0.8, 0.35, 0.2)  # where a c_ji may sit along its arc, from the tail, first choice first


def _on_arc(ax, start, end, fraction) -> tuple[float, float]:
    """The point `fraction` of the way along the arc3 arrow from `start` to `end` (data coordinates)."""
    to_display = ax.transData
    a, b = to_display.transform([start, end])
    control = (a + b) / 2 + _RAD * np.array([b[1] - a[1], a[0] - b[0]])
    point = (1 - fraction) ** 2 * a + 2 * (1 - fraction) * fraction * control + fraction**2 * b
    return tuple(to_display.inverted().transform(point))


def draw_elimination(G, x, order: str | Sequence = "markowitz", stages: Sequence[int] | None = None,
                     axes=None, weight: str = "weight") -> list[dict]:
    """Draw the linearised graph at several stages of an elimination, side by side.

    Parameters
    ----------
    G, x, weight
        As for :func:`linearized_graph`.
    order
        As for :func:`eliminate`.
    stages : sequence of int, optional
        Numbers of vertices eliminated at each drawing; default: none, half,
        and all of them.
    axes : sequence of matplotlib.axes.Axes, optional
        One per stage; default: a new figure with a row of subplots.

    Returns
    -------
    list of dict
        :func:`draw_linearized`'s artists for each stage.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from graphbp import irregular_network
    >>> drawn = draw_elimination(irregular_network(), [0.5, -1.0], stages=[0, 4])
    >>> len(drawn), sorted(map(str, drawn[1]["vertices"]))
    (2, ['x1', 'x2', 'y1*', 'y2'])
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    L = linearized_graph(G, x, weight)
    total = len(_intermediates(L))
    stages = [0, total // 2, total] if stages is None else list(stages)
    created = axes is None
    if created:
        fig, axes = plt.subplots(1, len(stages), figsize=(4.2 * len(stages), 4.0), squeeze=False)
        # fixed margins before any label is placed (room above for the panel titles and a figure title)
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.06, top=0.8, wspace=0.08)
        axes = axes[0]
    pos = _layout(L)
    full = eliminate(L, order)

    def panels():
        drawn = []
        for ax, step in zip(axes, stages):
            stage = eliminate(L, full.order, steps=step) if step < total else full
            upcoming = full.order[step] if step < total else None
            drawn.append(draw_linearized(stage.graph, ax=ax, pos=pos, highlight=upcoming))
            ax.set_title(f"{step} eliminated, {stage.multiplications} mult."
                         + (f"\nnext: {upcoming}" if upcoming is not None else "\nJacobian on the edges"), fontsize=9)
        return drawn

    drawn = panels()
    notes = [panel["note"] for panel in drawn if panel["note"] is not None]
    if created and notes:  # room under the panels for the longest note, then the labels placed again
        renderer = fig.canvas.get_renderer()
        bottom = 0.02 + max(note.get_window_extent(renderer).height for note in notes) / fig.bbox.height
        fig.subplots_adjust(bottom=min(bottom + 0.02, 0.5))
        for ax in axes:
            ax.clear()
        drawn = panels()
    return drawn
