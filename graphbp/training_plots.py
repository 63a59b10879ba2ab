"""Figures of training: loss curves, 1-D fits with their hidden units (Bishop's Figure 5.3), decision regions,
and the network's δ before and after training.

Each function draws on `ax` (default: the current axes), imports matplotlib
only when called, and returns what it drew, so tests and users can reach the
artists.
"""

from __future__ import annotations

import numpy as np

from .backward import backprop
from .exceptions import ShapeError
from .forward import forward
from .network import read_network
from .training import History, predict_classes, target_classes

__all__ = ["plot_loss", "plot_fit", "plot_decision_regions", "plot_deltas_before_after"]

# Light fills for the regions and strong colours for the points of each class.
_REGION_COLOURS = ["#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#d9d9d9"]
_POINT_COLOURS = ["#2171b5", "#d94801", "#238b45", "#6a51a3", "#cb181d", "#525252"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def plot_loss(history: History, ax=None, log: bool = True) -> dict:
    """Training (and validation) loss per epoch.

    Parameters
    ----------
    history : History
        From :func:`graphbp.train`.
    ax : matplotlib Axes, optional
    log : bool, default True
        Logarithmic loss axis.

    Returns
    -------
    dict
        ``"train"`` (and ``"validation"``, when recorded) -> Line2D.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import train
    >>> G = nx.DiGraph([("x", "y", {"weight": 0.0})])
    >>> lines = plot_loss(train(G, [[1.0]], [[2.0]], optimizer="gd", epochs=5, progress=False))
    >>> float(lines["train"].get_ydata()[0])     # ½ (0 − 2)² before training
    2.0
    """
    ax = _axes(ax)
    lines = {"train": ax.plot(history.epoch, history.loss, label="training", color=_POINT_COLOURS[0])[0]}
    if history.validation_loss is not None:
        lines["validation"] = ax.plot(
            history.epoch, history.validation_loss, label="validation", color=_POINT_COLOURS[1]
        )[0]
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean error per sample")
    ax.set_title(history.optimizer.split("(")[0])
    ax.legend()
    return lines


def plot_fit(G, x, t, ax=None, hidden: bool = True, resolution: int = 200, weight: str = "weight") -> dict:
    """A one-input, one-output network's curve over the data, with each hidden unit's output dashed.

    Drawn with the data as in Bishop PRML Figure 5.3: the points (x, t), the
    network function y(x) on a grid spanning the data, and z_j(x) of every
    hidden unit j as a dashed curve.

    Parameters
    ----------
    G : networkx.DiGraph
        A network with one input and one output.
    x, t : array_like
        The data, shape (N, 1) each.
    ax : matplotlib Axes, optional
    hidden : bool, default True
        Draw the hidden units' outputs.
    resolution : int, default 200
        Grid points of the curves.
    weight : str, default "weight"

    Returns
    -------
    dict
        ``"data"`` -> PathCollection, ``"fit"`` -> Line2D, ``"hidden"`` ->
        dict hidden node -> Line2D.

    Raises
    ------
    ShapeError
        If the network has more than one input or output.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "h", {"weight": 2.0}), ("h", "y", {"weight": 1.0})])
    >>> drawn = plot_fit(G, [[-1.0], [1.0]], [[0.0], [1.0]], resolution=3)
    >>> drawn["fit"].get_xydata().round(4).tolist()        # y = tanh(2x) at x = −1, 0, 1
    [[-1.0, -0.964], [0.0, 0.0], [1.0, 0.964]]
    >>> list(drawn["hidden"])
    ['h']
    """
    net = read_network(G, weight)
    if len(net.inputs) != 1 or len(net.outputs) != 1:
        raise ShapeError(
            f"plot_fit draws a network with one input and one output; this one has inputs {list(net.inputs)} "
            f"and outputs {list(net.outputs)}"
        )
    ax = _axes(ax)
    x, t = np.asarray(x, dtype=float).ravel(), np.asarray(t, dtype=float).ravel()
    grid = np.linspace(x.min(), x.max(), resolution)
    result = forward(G, grid[:, None], weight)
    drawn = {
        "data": ax.scatter(x, t, s=18, color=_POINT_COLOURS[0], zorder=3, label="data"),
        "fit": ax.plot(grid, result.y[:, 0], color=_POINT_COLOURS[4], lw=2, label="network y(x)")[0],
        "hidden": {},
    }
    if hidden:
        for k, node in enumerate(net.hidden):
            drawn["hidden"][node] = ax.plot(
                grid,
                result.z[node],
                ls="--",
                lw=1,
                color=_POINT_COLOURS[(k + 1) % len(_POINT_COLOURS)],
                label=f"hidden unit {node}" if k < 6 else None,
            )[0]
    ax.set_xlabel("x")
    ax.set_ylabel("t, y")
    return drawn


def plot_decision_regions(G, x, t, ax=None, resolution: int = 150, weight: str = "weight") -> dict:
    """The class a two-input classifier predicts over the plane, with the data on top.

    Classes as in :func:`graphbp.training.predict_classes`: one output
    thresholded at 0.5, or the largest of several outputs.

    Parameters
    ----------
    G : networkx.DiGraph
        A network with two inputs.
    x : array_like
        The data, shape (N, 2).
    t : array_like
        0/1 targets (N, 1) or one-hot targets (N, K).
    ax : matplotlib Axes, optional
    resolution : int, default 150
        Grid cells along each axis.
    weight : str, default "weight"

    Returns
    -------
    dict
        ``"regions"`` -> QuadMesh (its array holds the predicted class of each
        cell), ``"classes"`` -> the (resolution, resolution) int array drawn,
        ``"data"`` -> dict class -> PathCollection.

    Raises
    ------
    ShapeError
        If the network has not two inputs.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x1", "y", {"weight": 1.0}), ("x2", "y", {"weight": 0.0})])   # class 1 where x1 ≥ 0.5
    >>> drawn = plot_decision_regions(G, [[0.0, 0.0], [1.0, 1.0]], [[0.0], [1.0]], resolution=4)
    >>> drawn["classes"][0].tolist()         # along x1 on the first row of the grid
    [0, 0, 1, 1]
    """
    net = read_network(G, weight)
    if len(net.inputs) != 2:
        raise ShapeError(f"plot_decision_regions needs a network with two inputs; this one has {list(net.inputs)}")
    from matplotlib.colors import ListedColormap

    ax = _axes(ax)
    x = np.asarray(x, dtype=float)
    labels = target_classes(t)
    n_classes = max(len(net.outputs), 2)
    low, high = x.min(axis=0), x.max(axis=0)
    margin = 0.1 * (high - low)
    u = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    v = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    U, V = np.meshgrid(u, v)
    classes = predict_classes(G, np.column_stack([U.ravel(), V.ravel()]), weight).reshape(U.shape)
    colours = [_REGION_COLOURS[c % len(_REGION_COLOURS)] for c in range(n_classes)]
    drawn = {
        "regions": ax.pcolormesh(
            U, V, classes, cmap=ListedColormap(colours), vmin=-0.5, vmax=n_classes - 0.5, shading="nearest"
        ),
        "classes": classes,
        "data": {},
    }
    for c in range(n_classes):
        mine = labels == c
        drawn["data"][c] = ax.scatter(
            x[mine, 0], x[mine, 1], s=16, color=_POINT_COLOURS[c % len(_POINT_COLOURS)],
            edgecolor="white", linewidth=0.5, label=f"class {c}",
        )
    ax.set_xlabel(f"input {net.inputs[0]}")
    ax.set_ylabel(f"input {net.inputs[1]}")
    ax.set_aspect("equal")
    return drawn


def plot_deltas_before_after(
    before, after, x, t, loss="sum_of_squares", sample: int = 0, axes=None, weight: str = "weight"
) -> dict:
    """The same network drawn twice, every node coloured and labelled by its δ for one sample.

    Both panels share one layout and one colour scale, so the δ that training
    drove towards zero show as colours fading out.

    Parameters
    ----------
    before, after : networkx.DiGraph
        The network before training (e.g. a ``copy.deepcopy`` taken first) and after.
    x, t : array_like
        The data; `sample` picks the row whose δ are drawn.
    loss : str, default "sum_of_squares"
    sample : int, default 0
    axes : pair of matplotlib Axes, optional
        Default: a new figure with two panels.

    Returns
    -------
    dict
        ``"before"`` and ``"after"``: what :func:`graphbp.draw` drew on each
        panel; ``"results"``: the two :class:`~graphbp.BackpropResult`.

    Examples
    --------
    >>> import copy
    >>> import matplotlib.pyplot as plt
    >>> from graphbp import mlp, train
    >>> from graphbp.datasets import xor
    >>> x, t = xor(signed=True)
    >>> G = mlp([2, 2, 1], seed=1)
    >>> start = copy.deepcopy(G)
    >>> _ = train(G, x, t, optimizer="L-BFGS-B", epochs=200, progress=False)
    >>> drawn = plot_deltas_before_after(start, G, x, t, sample=1)
    >>> bool(abs(drawn["results"][1].delta["y1"][1]) < abs(drawn["results"][0].delta["y1"][1]))
    True
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    from .drawing import draw, layout

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    results = [backprop(G, x, t, loss=loss, weight=weight) for G in (before, after)]
    vmax = max(float(np.max(np.abs(np.atleast_2d(np.column_stack(list(r.delta.values())))[sample]))) for r in results)
    pos = layout(before, weight=weight)
    drawn = {}
    for name, G, result, ax in zip(("before", "after"), (before, after), results, axes):
        drawn[name] = draw(G, result, sample=sample, ax=ax, pos=pos, vmax=vmax or 1.0, colorbar=name == "after",
                           edge_values="weight", weight=weight)
        ax.set_title(f"{name} training: E = {result.loss:.4g}; δ for sample {sample}", fontsize=9)
    drawn["results"] = results
    return drawn
