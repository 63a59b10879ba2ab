"""Every path from a node to the outputs, drawn, and the products of local derivatives summing to its δ."""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx

from .network_figure import draw, draw_edge_labels, draw_edges
from .style import HIGHLIGHT_COLOR
from .text import declutter, text_extent

__all__ = ["draw_paths"]

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

    from ..paths import path_sum

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
    needed = (text_extent(listing, ax.figure.canvas.get_renderer()).width + 12) / ax.figure.bbox.width
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
    drawn["path_edges"] = draw_edges(G, drawn["pos"], bends, ax=ax,
                                     width=[1.5 + 3.0 * through[e] / most for e in bends],
                                     edge_color=HIGHLIGHT_COLOR, arrowsize=14, node_size=node_size)
    drawn["local_labels"] = draw_edge_labels(G, drawn["pos"], bends, {e: f"{local[e]:.3g}" for e in bends}, ax=ax,
                                             font_size=7.5, label_pos=0.5,
                                             bbox={"boxstyle": "round,pad=0.15", "fc": "#fff3dd",
                                                   "ec": HIGHLIGHT_COLOR, "lw": 0.6})
    drawn["terms"] = drawn["local_labels"]  # placed among the other texts like eq. 5.56's term boxes
    left_out = declutter(ax, {**drawn, "labels": {}, "edge_labels": {}}, node_size)
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
