"""Why the sum in eq. 5.55 works: δ_j as a sum over paths, and the same δ by forward mode.

Unrolled, δ_j = ∂E_n/∂a_j is a sum over every path j = v_0 → v_1 → ... → v_m
from j to an output v_m of the product of the local derivatives along it,

    ∂a_{v_{t+1}}/∂a_{v_t} = w_{v_{t+1} v_t} h'(a_{v_t}),

times the output's direct term ∂E_n/∂a_{v_m} (eq. 5.54). A path may pass
through an output that feeds other units and go on; it then counts once ending
there and once for each continuation. Backprop (eq. 5.56) is the dynamic
programme that adds these products in O(V + E) without listing the paths,
whose number can grow exponentially with depth: :func:`count_paths` counts
them the same way, :func:`path_sum` lists them (up to a cap).

:func:`forward_mode` is the counterpart that sums over predecessors: it
accumulates ∂a_k/∂a_j for every k downstream of j in topological order
(:func:`graphbp.forward.tangent_sweep`) and recovers δ_j = Σ_k ∂E_n/∂a_k|direct ·
∂a_k/∂a_j over the outputs k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable

import networkx as nx
import numpy as np

from .exceptions import GraphBPError, GraphStructureError
from .explain import direct_terms, sample_values
from .forward import tangent_sweep
from .network import read_network, result_network

__all__ = ["PathSum", "ForwardMode", "count_paths", "output_paths", "path_sum", "forward_mode"]

MAX_PATHS = 10_000


def _check_node(G, j) -> None:
    if j not in G:
        raise GraphStructureError(f"node {j!r} is not in the graph")


def count_paths(G, j: Hashable | None = None, weight: str = "weight"):
    """How many paths lead from `j` to an output, by dynamic programming in O(V + E).

    In reverse topological order, paths(j) = [j is an output] + Σ_{k ∈ S_j} paths(k):
    the same recursion as eq. 5.56, with every local derivative replaced by 1.

    Parameters
    ----------
    G : networkx.DiGraph
        A network.
    j : hashable, optional
        A node; by default the counts of every node are returned.
    weight : str, default "weight"
        Edge attribute holding the weight (read only to validate `G`).

    Returns
    -------
    int or dict
        The count for `j`, or a dict node -> count.

    Raises
    ------
    GraphBPError
        An invalid network, or `j` not a node of `G`.

    Examples
    --------
    A chain of 30 "diamonds" has 2**30 paths, counted without listing them:

    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> for d in range(30):
    ...     G.add_weighted_edges_from([(d, (d, "up"), 1.0), (d, (d, "down"), 1.0),
    ...                                ((d, "up"), d + 1, 1.0), ((d, "down"), d + 1, 1.0)])
    >>> count_paths(G, 0) == 2 ** 30
    True
    """
    net = read_network(G, weight)
    if j is not None:
        _check_node(G, j)
    count = _counts(G, net)
    return count if j is None else count[j]


def _counts(G, net) -> dict:
    outputs = set(net.outputs)
    count = {}
    for node in reversed(net.order):
        count[node] = int(node in outputs) + sum(count[k] for k in G.successors(node))
    return count


def output_paths(G, j: Hashable, max_paths: int = MAX_PATHS, weight: str = "weight") -> list[tuple]:
    """Every path from `j` to an output, each a tuple of nodes starting with `j`.

    A path may end at an output that also feeds other units, and continue
    from it as well (both are listed). Paths come in depth-first order along
    ``G.successors``.

    Parameters
    ----------
    G : networkx.DiGraph
        A network.
    j : hashable
        The start node.
    max_paths : int, default 10000
        Refuse (before enumerating) if there are more paths than this.
    weight : str, default "weight"
        Edge attribute holding the weight (read only to validate `G`).

    Returns
    -------
    list of tuple

    Raises
    ------
    GraphBPError
        An invalid network, `j` not in `G`, or more than `max_paths` paths
        (the count is given; :func:`count_paths` computes it without enumerating).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": 1.0}),
    ...                 ("x", "y", {"weight": 1.0})])
    >>> output_paths(G, "x")
    [('x', 'h', 'y'), ('x', 'y')]
    """
    _check_node(G, j)
    return _output_paths(G, read_network(G, weight), j, max_paths)


def _output_paths(G, net, j: Hashable, max_paths: int) -> list[tuple]:
    """:func:`output_paths` on a network already checked."""
    total = _counts(G, net)[j]
    if total > max_paths:
        raise GraphBPError(
            f"node {j!r} has {total} paths to the outputs, more than max_paths={max_paths}; "
            "backprop sums them all in O(V + E) without listing them. Raise max_paths to list them anyway"
        )
    outputs = set(net.outputs)
    paths, stack = [], [(j,)]
    while stack:  # depth first, without recursion: a path may be longer than Python's stack
        path = stack.pop()
        if path[-1] in outputs:
            paths.append(path)
        stack.extend(path + (k,) for k in reversed(list(G.successors(path[-1]))))
    return paths


@dataclass(frozen=True)
class PathSum:
    """δ_j as a sum over paths (see :func:`path_sum`).

    Attributes
    ----------
    node : hashable
        The node j.
    sample : int
        The sample of the batch used.
    paths : tuple of tuple
        Every path from j to an output.
    factors : tuple of tuple of float
        For each path v_0 → ... → v_m, the local derivatives
        w_{v_{t+1} v_t} h'(a_{v_t}) along it, then the direct term ∂E_n/∂a_{v_m}.
    products : tuple of float
        The product of each path's factors.
    total : float
        Σ of the products: equals `delta`.
    delta : float
        δ_j as backprop computed it.
    """

    node: Hashable
    sample: int
    paths: tuple
    factors: tuple
    products: tuple
    total: float
    delta: float

    def __str__(self) -> str:
        lines = [f"δ_{self.node!s} as a sum over its {len(self.paths)} paths to the outputs (sample {self.sample}):"]
        lines += [f"  {' → '.join(str(n) for n in path)}:  {' × '.join(f'{f:.4g}' for f in factors)} = {p:+.6g}"
                  for path, factors, p in zip(self.paths, self.factors, self.products)]
        lines.append(f"sum over paths = {self.total:+.10g};  backprop δ_{self.node!s} = {self.delta:+.10g}")
        return "\n".join(lines)


def path_sum(G, result, j: Hashable, sample: int = 0, max_paths: int = MAX_PATHS,
             weight: str = "weight") -> PathSum:
    """Enumerate the paths from `j` to the outputs and add their products: δ_j again.

    Parameters
    ----------
    G : networkx.DiGraph
        The network `result` was computed on.
    result : BackpropResult
        From :func:`graphbp.backprop`.
    j : hashable
        The node.
    sample : int, default 0
        For a batch result, the sample used.
    max_paths : int, default 10000
        Refuse if `j` has more paths than this.
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    PathSum

    Raises
    ------
    GraphBPError
        As :func:`output_paths`; a result computed on another graph, or before
        `G` changed (:func:`graphbp.network.result_network`); a path through a softmax group that feeds
        other units (the softmax couples its members, so the local derivative
        is not a single w h').

    Examples
    --------
    x feeds y directly and through h, so δ_x = w_yx δ_y + w_hx h'(a_h) w_yh δ_y:

    >>> import networkx as nx
    >>> from graphbp import backprop
    >>> G = nx.DiGraph([("x", "h", {"weight": 2.0}), ("h", "y", {"weight": 3.0}),
    ...                 ("x", "y", {"weight": 0.5})])
    >>> G.nodes["h"]["activation"] = "identity"
    >>> s = path_sum(G, backprop(G, [1.0], [0.0]), "x")      # y = 6.5, δ_y = 6.5
    >>> s.paths, s.products, s.delta
    ((('x', 'h', 'y'), ('x', 'y')), (39.0, 3.25), 42.25)
    """
    _check_node(G, j)
    net = result_network(G, result, weight)
    paths = _output_paths(G, net, j, max_paths)
    a, z, delta = sample_values(result, sample)
    direct = direct_terms(G, net, a, z, delta)
    coupled = {m for group in net.softmax_groups if any(G.out_degree(n) for n in group) for m in group}

    def local(i, k):
        if i in coupled:
            raise GraphBPError(
                f"the path {i!r} → {k!r} leaves a softmax group that feeds other units; the softmax couples "
                "its members, so the path-sum view does not apply there (forward_mode does)"
            )
        return G[i][k][weight] * float(net.activation[i].derivative(np.asarray(a[i])))

    factors = tuple(tuple(local(i, k) for i, k in nx.utils.pairwise(path)) + (direct[path[-1]],)
                    for path in paths)
    products = tuple(float(np.prod(f)) for f in factors)
    return PathSum(j, sample, tuple(paths), factors, products, float(sum(products)), delta[j])


@dataclass(frozen=True)
class ForwardMode:
    """δ_j by forward mode (see :func:`forward_mode`).

    Attributes
    ----------
    node : hashable
        The seeded node j.
    sample : int
        The sample of the batch used.
    tangents : dict
        Node k -> ∂a_k/∂a_j, for j and every node downstream of it.
    direct : dict
        Output k -> ∂E_n/∂a_k|direct (eq. 5.54).
    total : float
        Σ_{outputs k} ∂E_n/∂a_k|direct · ∂a_k/∂a_j: equals `delta`.
    delta : float
        δ_j as backprop computed it.
    """

    node: Hashable
    sample: int
    tangents: dict
    direct: dict
    total: float
    delta: float


def forward_mode(G, result, j: Hashable, sample: int = 0, weight: str = "weight") -> ForwardMode:
    """∂a_k/∂a_j for every k downstream of `j`, accumulated over predecessors; and δ_j from them.

    Seeds ȧ_j = 1 and sweeps the nodes in topological order with
    ȧ_k = Σ_{i ∈ predecessors(k)} w_ki h'(a_i) ȧ_i
    (:func:`graphbp.forward.tangent_sweep`); then
    δ_j = Σ_{outputs k} ∂E_n/∂a_k|direct · ȧ_k. One forward sweep per node j,
    where one backward sweep gives every δ: why backprop runs in reverse.

    Parameters
    ----------
    G : networkx.DiGraph
        The network `result` was computed on.
    result : BackpropResult
        From :func:`graphbp.backprop`.
    j : hashable
        The node to seed.
    sample : int, default 0
        For a batch result, the sample used.
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    ForwardMode

    Raises
    ------
    GraphBPError
        An invalid network, `j` not in `G`, or `sample` outside the result.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import backprop
    >>> G = nx.DiGraph([("x", "h", {"weight": 2.0}), ("h", "y", {"weight": 3.0})])
    >>> G.nodes["h"]["activation"] = "identity"
    >>> f = forward_mode(G, backprop(G, [1.0], [0.0]), "x")   # y = 6, δ_y = 6
    >>> f.tangents, f.total, f.delta
    ({'x': 1.0, 'h': 2.0, 'y': 6.0}, 36.0, 36.0)
    """
    _check_node(G, j)
    net = result_network(G, result, weight)
    a, z, delta = sample_values(result, sample)
    direct = direct_terms(G, net, a, z, delta)
    a_dot = tangent_sweep(G, net, {n: np.array([v]) for n, v in a.items()},
                          {n: np.array([v]) for n, v in z.items()}, {j: 1.0})
    downstream = nx.descendants(G, j) | {j}
    tangents = {k: float(a_dot[k][0]) for k in net.order if k in downstream}
    total = sum(direct[k] * tangents.get(k, 0.0) for k in net.outputs)
    return ForwardMode(j, sample, tangents, direct, float(total), delta[j])
