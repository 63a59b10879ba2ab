"""A PyTorch ``nn.Sequential`` of ``Linear`` layers and activations, in and out.

Each ``Linear`` is a weight layer; the activation module after it (if any) is
its units' activation, and a ``Linear`` followed directly by another gets
identity units. ``Identity`` modules are skipped anywhere. The nodes are
named as for scikit-learn (:mod:`graphbp.interop.layers`): ``(0, i)`` the
inputs, ``(l, u)`` unit `u` of the `l`-th ``Linear``.

Supported activations: ``Tanh``, ``Sigmoid`` (graphbp's ``logistic``),
``ReLU``, ``LeakyReLU`` with the default slope 0.01, ``Softplus`` with
``beta=1`` (torch switches to the identity where a > ``threshold``, 20 by
default, graphbp keeps log(1 + e^a): they differ there by less than
log(1 + e^-20) ≈ 2.1e-9), and ``Softmax(dim=-1)`` or ``Softmax(dim=1)`` after
the last ``Linear`` (softmax outputs).
"""

from __future__ import annotations

import numpy as np

from ..activations import LEAKY_RELU_SLOPE
from ..exceptions import ActivationError, GraphBPError, GraphStructureError
from .layers import from_layers, read_layers

__all__ = ["from_sequential", "to_sequential"]


def _activation_name(index: int, module, last: bool) -> str:
    """graphbp's name for the activation `module` (entry `index` of the Sequential), or an error naming it."""
    from torch import nn

    simple = {nn.Tanh: "tanh", nn.Sigmoid: "logistic", nn.ReLU: "relu"}
    if type(module) in simple:
        return simple[type(module)]
    if isinstance(module, nn.LeakyReLU) and module.negative_slope == LEAKY_RELU_SLOPE:
        return "leaky_relu"
    if isinstance(module, nn.Softplus) and module.beta == 1:
        return "softplus"
    if isinstance(module, nn.Softmax) and module.dim in (-1, 1) and last:
        return "softmax"
    raise ActivationError(
        f"entry {index} of the Sequential, {module!r}, is not a supported activation here: Tanh, Sigmoid, ReLU, "
        f"LeakyReLU(negative_slope={LEAKY_RELU_SLOPE}), Softplus(beta=1), and Softmax(dim=-1) at the end only"
    )


def _layers(module) -> tuple[list, list[str]]:
    """The Linear modules of the Sequential and each one's activation name."""
    from torch import nn

    if not isinstance(module, nn.Sequential):
        raise GraphBPError(f"expected a torch.nn.Sequential, got {type(module).__name__}")
    entries = [(index, entry) for index, entry in enumerate(module) if not isinstance(entry, nn.Identity)]
    linears, activations, previous = [], [], None
    for position, (index, entry) in enumerate(entries):
        if isinstance(entry, nn.Linear):
            if linears and entry.in_features != linears[-1].out_features:
                raise GraphStructureError(
                    f"entry {index} of the Sequential takes {entry.in_features} features, "
                    f"but the Linear before it gives {linears[-1].out_features}"
                )
            linears.append(entry)
            activations.append("identity")
        else:
            name = _activation_name(index, entry, last=position == len(entries) - 1)
            if not isinstance(previous, nn.Linear):
                where = "before any Linear" if previous is None else "right after another activation"
                raise GraphStructureError(
                    f"entry {index} of the Sequential, {entry!r}, comes {where}: a graphbp unit applies one "
                    "activation to a weighted sum, so each activation must follow a Linear"
                )
            activations[-1] = name
        previous = entry
    if not linears:
        raise GraphStructureError("the Sequential has no Linear layer")
    return linears, activations


def from_sequential(module):
    """The network of a ``torch.nn.Sequential``, as a graphbp DiGraph (float64 values).

    Parameters
    ----------
    module : torch.nn.Sequential
        ``Linear`` layers, each optionally followed by one supported
        activation (see :mod:`graphbp.interop.torch_sequential`).

    Returns
    -------
    networkx.DiGraph
        Edge ``((l−1, i), (l, u))`` carries ``weight[u, i]`` of the `l`-th
        ``Linear``, node ``(l, u)`` its ``bias[u]`` (0 without a bias).

    Raises
    ------
    GraphBPError
        Not a Sequential; an entry that is neither ``Linear``, ``Identity``
        nor a supported activation, an activation not right after a
        ``Linear``, or a softmax before the end (the entry is named).

    Examples
    --------
    >>> import torch, graphbp
    >>> from graphbp.interop import from_sequential
    >>> _ = torch.manual_seed(0)
    >>> module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    >>> G = from_sequential(module)
    >>> x = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    >>> bool(abs(graphbp.forward(G, x.numpy()).y[0, 0] - module(x).item()) < 1e-12)
    True
    """
    linears, activations = _layers(module)
    weights = [linear.weight.detach().cpu().double().numpy().T for linear in linears]
    biases = [
        np.zeros(linear.out_features) if linear.bias is None else linear.bias.detach().cpu().double().numpy()
        for linear in linears
    ]
    return from_layers(weights, biases, activations)


def to_sequential(G, module, weight: str = "weight"):
    """Write the weights and biases of `G` into the ``Linear`` layers of `module`, in place.

    Parameters
    ----------
    G : networkx.DiGraph
        Shaped as :func:`from_sequential` makes it for this module.
    module : torch.nn.Sequential
        Its parameters keep their dtype and device.
    weight : str, default "weight"

    Returns
    -------
    module

    Raises
    ------
    GraphBPError
        As :func:`from_sequential` for the module; a graph of another shape
        (named); a nonzero bias for a ``Linear`` without one (named).

    Examples
    --------
    >>> import torch
    >>> from graphbp.interop import from_sequential, to_sequential
    >>> module = torch.nn.Sequential(torch.nn.Linear(1, 1))
    >>> G = from_sequential(module)
    >>> G.edges[(0, 0), (1, 0)]["weight"] = 3.0
    >>> to_sequential(G, module)[0].weight.item()
    3.0
    """
    import torch

    linears, activations = _layers(module)
    sizes = [linears[0].in_features, *(linear.out_features for linear in linears)]
    weights, biases = read_layers(G, sizes, activations, weight)
    for layer, (linear, bias) in enumerate(zip(linears, biases), start=1):
        if linear.bias is None and bias.any():
            unit = int(np.flatnonzero(bias)[0])
            raise GraphBPError(
                f"node {(layer, unit)!r} has bias {float(bias[unit])!r}, "
                f"but Linear layer {layer} has no bias to hold it"
            )
    with torch.no_grad():  # written only once everything is checked
        for linear, matrix, bias in zip(linears, weights, biases):
            linear.weight.copy_(torch.as_tensor(matrix.T))
            if linear.bias is not None:
                linear.bias.copy_(torch.as_tensor(bias))
    return module
