"""Where the nodes go: one column per topological generation, barycenter sweeps, long layouts folded."""

from __future__ import annotations

import networkx as nx
import numpy as np

from ..network import read_network

__all__ = ["layout", "network_positions", "figure_for", "COLUMN_INCHES", "ROW_INCHES"]

COLUMN_INCHES = 1.25  # figure_for: room per column and per row of the layout


ROW_INCHES = 0.95


TARGET_ASPECT = 1.8


MAX_WIDTH_INCHES = 24.0  # a long chain is folded into bands to come near this width / height


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
    return network_positions(G, read_network(G, weight), pos, sweeps, aspect)


def network_positions(G, net, pos: dict | None, sweeps: int, aspect: float | None = TARGET_ASPECT) -> dict:
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
