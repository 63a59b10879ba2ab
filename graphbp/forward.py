"""The reference forward pass (Bishop PRML eqs. 5.48, 5.49), vectorised over a batch.

Nodes are visited in topological order; each a_j is one numpy expression over
the whole batch, so a pass costs O(V + E) array operations and no Python loop
over samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .activations import SOFTMAX, softmax
from .activations import softmax_product as group_product
from .batches import as_batch, check_finite
from .network import Network, read_network

__all__ = ["ForwardResult", "forward"]


@dataclass(frozen=True)
class ForwardResult:
    """What a forward pass computed.

    Attributes
    ----------
    inputs, outputs : tuple
        The input and output nodes, in column order.
    a, z : dict
        Node -> pre-activation a_j and activation z_j (for an input, a_i = z_i = x_i):
        arrays of length N for a batch, floats for a single 1-D sample.
    y : numpy.ndarray
        Outputs, shape (N, K) for a batch or (K,) for one sample.
    network : Network
        The checked network the pass ran on (with its parameters' fingerprint):
        explain, draw, path_sum, write_result and gradient_vector use it instead
        of validating the graph again (see :func:`graphbp.network.result_network`).
    """

    inputs: tuple
    outputs: tuple
    a: dict
    z: dict
    y: np.ndarray
    network: Network | None = field(default=None, repr=False, compare=False)


def stack_rows(values) -> np.ndarray:
    """One row per unit of a group: the members' arrays (or floats) broadcast to one shape and stacked."""
    return np.stack(np.broadcast_arrays(*values))


def softmax_product(z: np.ndarray, g: np.ndarray) -> np.ndarray:
    """:func:`graphbp.activations.softmax_product` (J g of a softmax group, rows = units), where `z` or `g`
    may also carry extra axes after the unit axis (g of an R-operator has one per direction)."""
    # Either may lack leading per-sample axes: pad after the unit axis, so the two broadcast.
    ndim = max(z.ndim, g.ndim)
    return group_product(*(v.reshape(v.shape[:1] + (1,) * (ndim - v.ndim) + v.shape[1:]) for v in (z, g)))


def propagate(G, net: Network, X: np.ndarray, shift: dict | None = None) -> tuple[dict, dict]:
    """Forward pass on an (N, inputs) batch; returns the dicts a and z of length-N arrays.

    `shift` adds a constant to chosen a_j after they are computed: the
    perturbation that defines δ_j = ∂E_n/∂a_j, used by the gradient check.
    """
    weight = net.weight
    column = {node: k for k, node in enumerate(net.inputs)}
    zero = np.zeros(X.shape[0])
    a, z = {}, {}
    for unit in net.units:
        for j in unit:
            if j in column:
                a[j] = X[:, column[j]]
            else:
                # eq. 5.48: a_j = b_j + Σ_{i ∈ predecessors(j)} w_ji z_i
                a[j] = net.bias[j] + sum((G[i][j][weight] * z[i] for i in G.predecessors(j)), zero)
            if shift and j in shift:
                a[j] = a[j] + shift[j]
        # eq. 5.49: z_j = h(a_j); a softmax group is one coupled step.
        if net.activation[unit[0]] is SOFTMAX:
            z.update(zip(unit, softmax(stack_rows(a[j] for j in unit))))
        else:
            (j,) = unit
            z[j] = net.activation[j].function(a[j])
    return a, z


def tangent_sweep(G, net: Network, a: dict, z: dict, seed: dict) -> dict:
    """Forward-mode derivatives ȧ_k = Σ_{i ∈ predecessors(k)} w_ki h'(a_i) ȧ_i, plus seed[k].

    The forward counterpart of :func:`graphbp.backward.backward_sweep`: the
    same chain-rule sum over paths, accumulated over predecessors in
    topological order instead of successors in reverse. With ``seed = {j: 1}``
    it gives ∂a_k/∂a_j for every k; seeded on input nodes, ∂a_k/∂x_i.
    Returns a dict node -> array (zeros where nothing flows).
    """
    weight = net.weight
    zero = np.zeros_like(next(iter(a.values())))
    a_dot, z_dot = {}, {}
    for unit in net.units:
        for k in unit:
            a_dot[k] = seed.get(k, 0.0) + sum((G[i][k][weight] * z_dot[i] for i in G.predecessors(k)), zero)
        z_dot.update(activation_tangent(net, unit, a, z, a_dot))
    return a_dot


def activation_tangent(net: Network, unit: tuple, a: dict, z: dict, a_dot: dict) -> dict:
    """ż_m = Σ_j ∂z_m/∂a_j ȧ_j for the nodes of one unit: h'(a_k) ȧ_k, or a softmax group's Jacobian times ȧ."""
    if net.activation[unit[0]] is SOFTMAX:
        # ż_m = Σ_j z_m (I_mj − z_j) ȧ_j
        return dict(zip(unit, softmax_product(stack_rows(z[m] for m in unit), stack_rows(a_dot[m] for m in unit))))
    (k,) = unit
    return {k: net.activation[k].derivative(a[k]) * a_dot[k]}


def stack_outputs(net: Network, values: dict) -> np.ndarray:
    """The output nodes' arrays as the columns of an (N, K) matrix."""
    return np.array([values[k] for k in net.outputs]).T


def per_sample(values: dict, single: bool) -> dict:
    """A dict of length-N arrays, or of floats when the batch was one 1-D sample."""
    return {n: v.item() for n, v in values.items()} if single else values


def forward(G, x, weight: str = "weight") -> ForwardResult:
    """Run the network on inputs `x`.

    Parameters
    ----------
    G : networkx.DiGraph
        The network (see :func:`graphbp.read_network` for the attributes read).
    x : array_like
        Shape (N, number of inputs), columns in input order; or a 1-D array
        for one sample, in which case per-node values are plain floats.
    weight : str, default "weight"
        Edge attribute holding the weight w_ji.

    Returns
    -------
    ForwardResult

    Raises
    ------
    GraphBPError
        An invalid network (see :func:`graphbp.read_network`), ``x`` of the
        wrong shape or with NaN/inf (:class:`~graphbp.exceptions.ShapeError`),
        or a pass that produced NaN/inf (:class:`~graphbp.exceptions.NumericalError`).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("x", "h", weight=2.0)
    >>> G.add_edge("h", "y", weight=3.0)
    >>> G.nodes["h"]["activation"] = "relu"
    >>> result = forward(G, [1.5])
    >>> result.a["h"], result.z["h"], result.y
    (3.0, 3.0, array([9.]))
    >>> forward(G, [[1.0], [-1.0]]).y[:, 0]
    array([6., 0.])
    """
    net = read_network(G, weight)
    X, single = as_batch(x, net.inputs, "x")
    with np.errstate(all="ignore"):  # an overflow is found and named below, not left to numpy's warning
        a, z = propagate(G, net, X)
    check_finite(net, z, "z")
    y = stack_outputs(net, z)
    return ForwardResult(
        net.inputs, net.outputs, per_sample(a, single), per_sample(z, single), y[0] if single else y, network=net
    )
