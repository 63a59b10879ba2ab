"""The input-output Jacobian J_ki = ∂y_k/∂x_i (Bishop PRML eqs. 5.70-5.74), by either sweep.

Both modes add up the same products of local derivatives over all paths from
x_i to y_k; they differ in which end the sum starts from.

- **Reverse mode** (backprop, eq. 5.74): one backward sweep per output y_k,
  seeded with ∂y_k/∂a_m at the outputs and summing over *successors*
  (:func:`graphbp.backward.backward_sweep`); the sweep's δ at the inputs is
  row k of J.
- **Forward mode**: one tangent sweep per input x_i, seeded with ẋ_i = 1 and
  summing over *predecessors* (:func:`graphbp.forward.tangent_sweep`); the
  outputs' tangents are column i of J.

So reverse mode costs K sweeps and forward mode D sweeps (D inputs, K outputs);
``mode="auto"`` takes the cheaper (reverse on a tie).
"""

from __future__ import annotations

import numpy as np

from .backward import backward_sweep
from .exceptions import GraphBPError, NumericalError
from .forward import activation_tangent, propagate, stack_outputs, tangent_sweep
from .batches import as_batch, check_finite
from .network import Network, read_network

__all__ = ["jacobian"]

MODES = ("auto", "forward", "reverse")


def _unit_of(net: Network) -> dict:
    return {node: unit for unit in net.units for node in unit}


def _forward_mode(G, net: Network, a: dict, z: dict) -> np.ndarray:
    output_units = dict.fromkeys(_unit_of(net)[k] for k in net.outputs)
    columns = []
    for i in net.inputs:
        a_dot = tangent_sweep(G, net, a, z, {i: 1.0})  # ȧ_k = ∂a_k/∂x_i
        y_dot = {}
        for unit in output_units:
            y_dot.update(activation_tangent(net, unit, a, z, a_dot))  # ẏ_k = ∂y_k/∂x_i
        columns.append(stack_outputs(net, y_dot))
    return np.stack(columns, axis=2)


def _reverse_mode(G, net: Network, a: dict, z: dict) -> np.ndarray:
    unit_of = _unit_of(net)
    rows = []
    for k in net.outputs:
        # Seed: the direct ∂y_k/∂a_m of the outputs m (h'(a_k) alone, or a softmax group's
        # Jacobian row; that Jacobian z_m (I_mj − z_j) is symmetric, so the column e_k gives the row).
        unit = unit_of[k]
        direct = dict.fromkeys(net.outputs, 0.0)
        direct.update(activation_tangent(net, unit, a, z, {m: float(m == k) for m in unit}))
        delta = backward_sweep(G, net, a, z, direct)  # δ_j = ∂y_k/∂a_j, and ∂y_k/∂x_i at the inputs
        rows.append(np.column_stack([delta[i] for i in net.inputs]))
    return np.stack(rows, axis=1)


def jacobian(G, x, mode: str = "auto", weight: str = "weight") -> np.ndarray:
    """The Jacobian ∂y_k/∂x_i of the outputs with respect to the inputs, per sample.

    Parameters
    ----------
    G : networkx.DiGraph
        The network (see :func:`graphbp.read_network`).
    x : array_like
        Inputs, shape (N, D); or 1-D for one sample.
    mode : {"auto", "forward", "reverse"}, default "auto"
        ``"reverse"``: one backward sweep per output (eq. 5.74);
        ``"forward"``: one tangent sweep per input; ``"auto"``: whichever
        needs fewer sweeps (reverse when D >= K).
    weight : str, default "weight"
        Edge attribute holding the weight w_ji.

    Returns
    -------
    numpy.ndarray
        Shape (N, K, D), entry [n, k, i] = ∂y_k/∂x_i at sample n; (K, D)
        for a 1-D `x`. Rows follow the output order, columns the input order.

    Raises
    ------
    GraphBPError
        An unknown `mode`, an invalid network, or `x` of the wrong shape.
    NumericalError
        A z_j that overflows (the node named), or a ∂y_k/∂x_i that does (the output, input and sample named).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("x", "h", weight=2.0)
    >>> G.add_edge("h", "y", weight=3.0)
    >>> G.add_edge("x", "y", weight=-1.0)      # skip connection: a second path
    >>> jacobian(G, [0.0])                     # 3 · tanh'(0) · 2 + (−1)
    array([[5.]])
    >>> jacobian(G, [0.0], mode="forward")
    array([[5.]])
    """
    if mode not in MODES:
        raise GraphBPError(f"unknown Jacobian mode {mode!r}; use one of {', '.join(MODES)}")
    net = read_network(G, weight)
    X, single = as_batch(x, net.inputs, "x")
    with np.errstate(all="ignore"):  # an overflow is named below, not left to numpy's warning
        a, z = propagate(G, net, X)
        check_finite(net, z, "z")
        if mode == "auto":
            mode = "forward" if len(net.inputs) < len(net.outputs) else "reverse"
        J = _forward_mode(G, net, a, z) if mode == "forward" else _reverse_mode(G, net, a, z)
    if not np.isfinite(J).all():
        n, k, i = (int(index) for index in np.argwhere(~np.isfinite(J))[0])
        raise NumericalError(
            f"∂y/∂x is {J[n, k, i]} for output {net.outputs[k]!r} and input {net.inputs[i]!r} in sample {n}: an overflow"
        )
    return J[0] if single else J
