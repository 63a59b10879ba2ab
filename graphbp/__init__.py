"""graphbp: backpropagation on neural networks stored as networkx DAGs.

The network is an ``nx.DiGraph``: edge ``(i, j)`` carries the weight w_ji,
nodes carry ``activation`` and ``bias``. :func:`backprop` runs Bishop's
eqs. 5.48-5.56 on it and returns every a_j, z_j, δ_j and gradient.
"""

from .annotate import write_result
from .activations import Activation, activation_names, get_activation, register_activation
from .backward import BackpropResult, backprop
from .compiled import CompiledNetwork, compile
from .exceptions import (
    ActivationError,
    GraphBPError,
    GraphStructureError,
    LossError,
    ParameterError,
    SerializationError,
    ShapeError,
)
from .examples import bishop_network, irregular_network
from .forward import ForwardResult, forward
from .generators import from_edges, initialize_weights, mlp, random_dag, skip_mlp
from .gradcheck import CheckedValue, GradientCheck, check_gradients
from .io import from_json_data, read_json, to_json_data, write_json
from .losses import Loss, get_loss, loss_names
from .network import Network, describe, read_network
from .params import get_parameters, gradient_vector, parameter_keys, set_parameters

__all__ = [
    "Activation",
    "ActivationError",
    "BackpropResult",
    "CheckedValue",
    "CompiledNetwork",
    "ForwardResult",
    "GradientCheck",
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
    "bishop_network",
    "check_gradients",
    "compile",
    "describe",
    "forward",
    "from_edges",
    "from_json_data",
    "get_activation",
    "get_loss",
    "get_parameters",
    "gradient_vector",
    "initialize_weights",
    "irregular_network",
    "loss_names",
    "mlp",
    "parameter_keys",
    "random_dag",
    "read_json",
    "read_network",
    "register_activation",
    "set_parameters",
    "skip_mlp",
    "to_json_data",
    "write_json",
    "write_result",
]
