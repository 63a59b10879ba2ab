"""The reference backward pass: Bishop PRML eqs. 5.53-5.56 on a networkx DAG.

Nodes are visited in reverse topological order. For each node j,

    δ_j = ∂E_n/∂a_j = h'(a_j) · Σ_{k ∈ S_j} w_kj δ_k   (+ the direct term if j is an output),

where S_j = ``G.successors(j)``: a_j changes E only through the units it
feeds, each first step j→k is a separate route, so the chain rule adds them
(eq. 5.55). The sum below iterates ``G.successors(j)`` literally.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import SOFTMAX
from .batches import check_loss_finite, check_pass_finite, prepare
from .forward import ForwardResult, per_sample, propagate, softmax_product, stack_outputs, stack_rows
from .network import Network

__all__ = ["BackpropResult", "backprop"]


@dataclass(frozen=True)
class BackpropResult(ForwardResult):
    """What :func:`backprop` computed, beside the forward values.

    Attributes
    ----------
    loss : float
        E = Σ_n E_n (eq. 5.44).
    sample_loss : numpy.ndarray or float
        E_n for each sample (a float for one 1-D sample).
    delta : dict
        Node -> δ_j = ∂E_n/∂a_j per sample (for an input node, ∂E_n/∂x_i).
    grad_weight : dict
        Edge (i, j) -> ∂E/∂w_ji = Σ_n δ_j z_i (eq. 5.53).
    grad_bias : dict
        Non-input node j -> ∂E/∂b_j = Σ_n δ_j.
    loss_name : str
        The loss used.
    """

    loss: float = 0.0
    sample_loss: np.ndarray | float = 0.0
    delta: dict | None = None
    grad_weight: dict | None = None
    grad_bias: dict | None = None
    loss_name: str = ""


def successor_sum(G, j, delta: dict, weight: str = "weight", zero=0.0):
    """Σ_{k ∈ S_j} w_kj δ_k with S_j = ``G.successors(j)``: the sum of eq. 5.56.

    a_j reaches E only through the units it feeds, one first step j→k each
    (eq. 5.55), so the chain rule adds one term per successor.
    """
    return sum((G[j][k][weight] * delta[k] for k in G.successors(j)), zero)


def softmax_backward(unit: tuple, z: dict, through: dict) -> dict:
    """δ of a softmax group's members from their successor sums: Jᵀ g, the group's Jacobian applied explicitly."""
    return dict(zip(unit, softmax_product(stack_rows(z[j] for j in unit), stack_rows(through[j] for j in unit))))


def backward_sweep(G, net: Network, a: dict, z: dict, direct: dict) -> dict:
    """δ for every node, given the loss's direct ∂E_n/∂a_k of the outputs (eqs. 5.54-5.56)."""
    weight = net.weight
    zero = np.zeros_like(next(iter(a.values())))
    delta = {}
    for unit in reversed(net.units):
        # eq. 5.55: a_j reaches E only through the units it feeds, Σ_{k ∈ G.successors(j)} w_kj δ_k.
        if net.activation[unit[0]] is SOFTMAX:
            backward = softmax_backward(unit, z, {j: successor_sum(G, j, delta, weight, zero) for j in unit})
            delta.update({j: direct[j] + backward[j] for j in unit})
        else:
            (j,) = unit
            # eq. 5.56: δ_j = h'(a_j) Σ_k w_kj δ_k, plus an output's own term ∂E_n/∂a_j (eq. 5.54).
            delta[j] = net.activation[j].slope(a[j], z[j]) * successor_sum(G, j, delta, weight, zero)
            if j in direct:
                delta[j] = direct[j] + delta[j]
    return delta


def loss_terms(net: Network, loss, a: dict, z: dict, T: np.ndarray) -> tuple[np.ndarray, dict]:
    """E_n for each sample and the outputs' direct ∂E_n/∂a_k (a dict node -> array)."""
    A, Y = stack_outputs(net, a), stack_outputs(net, z)
    elementwise, groups = net.output_columns
    slope = np.ones(A.shape)
    for k in elementwise:
        node = net.outputs[k]
        slope[:, k] = net.activation[node].slope(a[node], z[node])
    direct = loss.output_delta(A, Y, T, slope, groups)
    return loss.per_sample(A, Y, T, groups), {node: direct[:, k] for k, node in enumerate(net.outputs)}


def backward_pass(G, net: Network, X: np.ndarray, T: np.ndarray, loss) -> tuple[dict, dict, np.ndarray, dict]:
    """a, z, E_n and δ of a batch (eqs. 5.48-5.56), checked for NaN/inf: what backprop and the training objective run."""
    with np.errstate(all="ignore"):  # an overflow is found and named below, not left to numpy's warning
        a, z = propagate(G, net, X)
        sample_loss, direct = loss_terms(net, loss, a, z, T)
        delta = backward_sweep(G, net, a, z, direct)
    check_pass_finite(net, z, delta)
    check_loss_finite(sample_loss)
    return a, z, sample_loss, delta


def backprop(G, x, t, loss="sum_of_squares", weight: str = "weight") -> BackpropResult:
    """Error, every δ_j and every gradient of a network, by backpropagation: the reference engine.

    :func:`graphbp.backprop` with ``engine="reference"`` (its default) is this
    function: the same parameters, results and errors, computed by the
    equations as written. This module imports nothing of the compiled engine.

    See Also
    --------
    graphbp.backprop : the parameters, results and errors in full.

    Examples
    --------
    One tanh hidden unit between an input and a linear output:

    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("x", "h", weight=0.5)
    >>> G.add_edge("h", "y", weight=2.0)
    >>> r = backprop(G, x=[0.0], t=[1.0])
    >>> r.y, r.loss                      # a_h = 0, z_h = 0, y = 0, E = ½(0 − 1)²
    (array([0.]), 0.5)
    >>> r.delta["y"], r.delta["h"]       # δ_h = h'(0) · w_yh δ_y = 1 · 2 · (−1)
    (-1.0, -2.0)
    >>> r.grad_bias["h"], r.grad_weight[("x", "h")]   # Σ_n δ_h and Σ_n δ_h x (eq. 5.53)
    (-2.0, -0.0)
    """
    net, X, T, loss, single = prepare(G, x, t, loss, weight)
    a, z, sample_loss, delta = backward_pass(G, net, X, T, loss)
    # eq. 5.53: ∂E/∂w_ji = Σ_n δ_j z_i, and likewise ∂E/∂b_j = Σ_n δ_j (the rows stacked, one sum for all).
    grad_weight = {(i, j): float(np.dot(delta[j], z[i])) for i, j in G.edges}
    grad_bias = dict(zip(net.bias, np.array([delta[j] for j in net.bias]).sum(axis=1).tolist()))
    y = stack_outputs(net, z)
    return BackpropResult(
        inputs=net.inputs,
        outputs=net.outputs,
        a=per_sample(a, single),
        z=per_sample(z, single),
        y=y[0] if single else y,
        loss=float(sample_loss.sum()),
        sample_loss=float(sample_loss[0]) if single else sample_loss,
        delta=per_sample(delta, single),
        grad_weight=grad_weight,
        grad_bias=grad_bias,
        loss_name=loss.name,
        network=net,
    )
