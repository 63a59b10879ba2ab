"""Checks of what enters a pass beside the graph: the batches x and t, the loss, and the values computed.

Every engine calls these at its boundary, so a wrong shape, a NaN in the data
or an overflow in a pass is an error naming the sample and the node, never a
traceback from inside numpy or a silently wrong number.
"""

from __future__ import annotations

import math

import numpy as np

from .exceptions import NumericalError, ShapeError
from .losses import check_loss, get_loss
from .network import Network, read_network

__all__ = ["as_batch", "check_batch", "prepare", "check_finite", "check_pass_finite", "check_loss_finite",
           "loss_sum_overflow"]


def as_batch(values, nodes: tuple, name: str, finite: bool = True) -> tuple[np.ndarray, bool]:
    """Check `values` (``x`` or ``t``) against `nodes` and return it as an (N, len(nodes)) float array.

    A 1-D array is one sample; the flag returned says so, so results can be
    given back as plain floats. With ``finite=False`` NaN/inf are not looked
    for: the caller must then check what it computes from the values (and
    call again with ``finite=True`` to name the bad entry).

    Raises
    ------
    ShapeError
        Wrong shape, an empty batch, a non-numeric entry, or NaN/inf (the
        sample and the node of the first bad entry are named).

    Examples
    --------
    >>> batch, single = as_batch([1.0, 2.0], ("x1", "x2"), "x")
    >>> batch.shape, single
    ((1, 2), True)
    """
    try:
        array = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise ShapeError(f"{name} must be numeric, got {type(values).__name__}") from None
    single = array.ndim == 1
    if single:
        array = array[None, :]
    expected = len(nodes)
    if array.ndim != 2 or array.shape[1] != expected:
        shown = ", ".join(repr(n) for n in nodes)
        raise ShapeError(
            f"{name} has shape {np.shape(values)}; expected (N, {expected}) or ({expected},), "
            f"one column per node of [{shown}]"
        )
    if array.shape[0] == 0:
        raise ShapeError(f"{name} has shape {np.shape(values)}: an empty batch")
    if finite and not math.isfinite(array.sum()):  # one sum, then a search (a sum can overflow from finite values)
        for n, k in np.argwhere(~np.isfinite(array))[:1].tolist():
            raise ShapeError(f"{name}[{n}] has {array[n, k]} for node {nodes[k]!r}; values must be finite")
    return array, single


def check_finite(net: Network, values: dict, name: str, reverse: bool = False) -> None:
    """Raise if any node's array in `values` (a, z or δ over the batch) holds NaN or inf.

    Nodes are searched in topological order, or in reverse for backward
    quantities, so the node named is where the bad value first appeared.

    Raises
    ------
    NumericalError
        Naming that node and the sample.

    Examples
    --------
    >>> import networkx as nx
    >>> net = read_network(nx.DiGraph([("x", "y", {"weight": 1.0})]))
    >>> check_finite(net, {"x": np.array([1.0]), "y": np.array([np.inf])}, "z")
    Traceback (most recent call last):
    ...
    graphbp.exceptions.NumericalError: z of node 'y' is inf in sample 0 (an overflow, or an activation undefined there)
    """
    with np.errstate(over="ignore", invalid="ignore"):  # inf + (−inf) on the way to naming it
        total = np.concatenate([values[node] for node in net.order], axis=None).sum()
    if math.isfinite(total):
        return  # one sum for all (tiny networks pay per numpy call); one that overflows is searched below
    for node in reversed(net.order) if reverse else net.order:
        bad = ~np.isfinite(values[node])
        if bad.any():
            n = int(np.flatnonzero(bad)[0])
            raise NumericalError(
                f"{name} of node {node!r} is {values[node][n]} in sample {n} "
                "(an overflow, or an activation undefined there)"
            )


def check_pass_finite(net: Network, z: dict, delta: dict) -> None:
    """:func:`check_finite` of z and then of δ, after one sum over both (tiny networks pay per numpy call).

    z comes first, so a NaN/inf that appeared in the forward pass is named
    where it appeared, not at a δ it spoilt downstream.
    """
    if not math.isfinite(np.concatenate([*z.values(), *delta.values()], axis=None).sum()):
        check_finite(net, z, "z")
        check_finite(net, delta, "delta", reverse=True)


def check_loss_finite(sample_loss, start: int = 0) -> None:
    """Raise if E = Σ_n E_n is not finite though every z and δ is: E_n itself overflowed, or their sum did.

    `sample_loss` holds E_n of the samples ``start, start + 1, ...`` of the batch.

    Raises
    ------
    NumericalError
        Naming the first sample whose E_n is NaN or inf, or saying that the sum overflows.

    Examples
    --------
    >>> check_loss_finite(np.array([0.5, np.inf]))
    Traceback (most recent call last):
    ...
    graphbp.exceptions.NumericalError: E_n is inf in sample 1 (an overflow: outputs too far from their targets for float64)
    """
    sample_loss = np.asarray(sample_loss, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(sample_loss.sum()):
            return
    bad = np.flatnonzero(~np.isfinite(sample_loss))
    if bad.size:
        n = int(bad[0])
        raise NumericalError(
            f"E_n is {sample_loss[n]} in sample {start + n} (an overflow: outputs too far from their targets for float64)"
        )
    raise loss_sum_overflow(sample_loss.max())


def loss_sum_overflow(largest: float) -> NumericalError:
    """The error for an E = Σ_n E_n that overflows though every E_n, the largest `largest`, is finite."""
    return NumericalError(
        f"E = Σ_n E_n overflows float64 though every E_n is finite (the largest is {largest:.3g}): "
        "the outputs are too far from their targets"
    )


def prepare(G, x, t, loss, weight: str):
    """Validate everything a backward pass reads; return the network, X, T, the loss and the 1-D flag."""
    net = read_network(G, weight)
    return (net, *check_batch(net, x, t, loss))


def check_batch(net: Network, x, t, loss, finite: bool = True):
    """Validate `x`, `t` and `loss` against a network already read; return X, T, the loss and the 1-D flag.

    ``finite=False`` leaves NaN/inf in `x` and `t` to the caller (see :func:`as_batch`).
    """
    loss = get_loss(loss)
    X, single = as_batch(x, net.inputs, "x", finite)
    if t is None:
        raise ShapeError(f"targets t are required: one column per output node {list(net.outputs)}")
    T, single_t = as_batch(t, net.outputs, "t", finite)
    if single != single_t or X.shape[0] != T.shape[0]:
        raise ShapeError(
            f"x has shape {np.shape(x)} but t has shape {np.shape(t)}: they must hold the same samples"
        )
    check_loss(loss, net, T)
    return X, T, loss, single
