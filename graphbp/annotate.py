"""Storing a pass's results on the graph, the networkx way: as attributes."""

from __future__ import annotations

import numpy as np

from .network import result_network

__all__ = ["write_result"]


def write_result(G, result, sample: int | None = None, grad: str = "grad"):
    """Store a :class:`~graphbp.BackpropResult` (or ``ForwardResult``) on `G`, in place.

    Node attributes ``a``, ``z`` and, after backprop, ``delta``; edge attribute
    `grad` (∂E/∂w_ji, summed over the batch) and node attribute ``grad_bias``.

    Parameters
    ----------
    G : networkx.DiGraph
        The network the result was computed on.
    result : ForwardResult or BackpropResult
    sample : int, optional
        For a batch result, store this sample's a, z, δ as floats; by default
        a batch stores arrays and a single-sample result floats.
    grad : str, default "grad"
        Edge attribute receiving ∂E/∂w.

    Returns
    -------
    G
        The same graph, for chaining.

    Raises
    ------
    IndexError
        If `sample` is outside the batch.
    GraphBPError
        If `result` was computed on another graph, or before `G` changed
        (:func:`graphbp.network.result_network`).

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import backprop
    >>> G = nx.DiGraph([("x", "y", {"weight": 2.0})])
    >>> G = write_result(G, backprop(G, [1.0], [0.0]))
    >>> G.nodes["y"]["delta"], G.edges["x", "y"]["grad"]
    (2.0, 2.0)
    """

    result_network(G, result, getattr(getattr(result, "network", None), "weight", "weight"))

    def pick(value):
        if sample is None or np.ndim(value) == 0:
            return value
        return float(np.asarray(value)[sample])

    names = ["a", "z"] + (["delta"] if getattr(result, "delta", None) is not None else [])
    for name in names:
        for node, value in getattr(result, name).items():
            G.nodes[node][name] = pick(value)
    if getattr(result, "grad_weight", None) is not None:
        for edge, value in result.grad_weight.items():
            G.edges[edge][grad] = value
        for node, value in result.grad_bias.items():
            G.nodes[node]["grad_bias"] = value
    return G
