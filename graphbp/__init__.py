"""graphbp: backpropagation on neural networks stored as networkx DAGs.

The network is an ``nx.DiGraph``: edge ``(i, j)`` carries the weight w_ji,
nodes carry ``activation`` and ``bias``. :func:`backprop` runs Bishop's
eqs. 5.48-5.56 on it and returns every a_j, z_j, δ_j and gradient.
"""

from .activations import Activation, activation_names, get_activation, register_activation
from .backward import BackpropResult, backprop
from .exceptions import (
    ActivationError,
    GraphBPError,
    GraphStructureError,
    LossError,
    ParameterError,
    SerializationError,
    ShapeError,
)
from .forward import ForwardResult, forward
from .losses import Loss, get_loss, loss_names
from .network import Network, describe, read_network

__all__ = [
    "Activation",
    "ActivationError",
    "BackpropResult",
    "ForwardResult",
    "GraphBPError",
    "GraphStructureError",
    "Loss",
    "LossError",
    "Network",
    "ParameterError",
    "SerializationError",
    "ShapeError",
    "activation_names",
    "backprop",
    "describe",
    "forward",
    "get_activation",
    "get_loss",
    "loss_names",
    "read_network",
    "register_activation",
]
