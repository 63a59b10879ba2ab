"""graphbp: backpropagation on neural networks stored as networkx DAGs.

The network is an ``nx.DiGraph``: edge ``(i, j)`` carries the weight w_ji,
nodes carry ``activation`` and ``bias``. :func:`backprop` runs Bishop's
eqs. 5.48-5.56 on it and returns every a_j, z_j, δ_j and gradient.
"""

from importlib import import_module

from .activations import Activation, activation_names, get_activation, register_activation
from .annotate import write_result
from .backward import BackpropResult
from .engines import backprop
from .examples import bishop_network, irregular_network
from .exceptions import (
    ActivationError,
    GraphBPError,
    GraphStructureError,
    LossError,
    NumericalError,
    ParameterError,
    SerializationError,
    ShapeError,
)
from .explain import Explanation, explain
from .forward import ForwardResult, forward
from .hessian import (
    HessianComparison,
    compare_hessians,
    diagonal_hessian,
    hessian,
    hvp,
    outer_product_hessian,
)
from .jacobian import jacobian
from .losses import Loss, get_loss, loss_names
from .network import Network, describe, read_network
from .params import (
    get_parameters,
    gradient_vector,
    loss_and_grad,
    parameter_keys,
    parameter_labels,
    set_parameters,
)

# Loaded on first use (module __getattr__, as networkx does with its backends), so that
# `import graphbp` pulls in neither scipy.sparse / numba (compiled), scipy.optimize / tqdm
# (training), the drawing code nor the tools built on the passes. A function named like its
# module (explain, hessian, jacobian) stays eager: importing the module later would otherwise
# bind the module over the name. `compile` is reachable as graphbp.compile but kept out of
# __all__, so `from graphbp import *` shadows no builtin.
_LAZY = {
    "CompiledNetwork": "compiled",
    "CompiledPopulation": "compiled",
    "compile": "compiled",
    "compile_many": "compiled",
    "History": "training",
    "accuracy": "training",
    "train": "training",
    "train_many": "training",
    "animate_backward": "animation",
    "draw": "drawing",
    "draw_heatmap": "drawing",
    "draw_paths": "drawing",
    "layout": "drawing",
    "Elimination": "elimination",
    "draw_elimination": "elimination",
    "draw_linearized": "elimination",
    "eliminate": "elimination",
    "elimination_costs": "elimination",
    "linearized_graph": "elimination",
    "write_html": "explorer",
    "from_neat": "interop",
    "from_sequential": "interop",
    "from_sklearn": "interop",
    "to_neat": "interop",
    "to_sequential": "interop",
    "to_sklearn": "interop",
    "from_edges": "generators",
    "initialize_weights": "generators",
    "mlp": "generators",
    "random_dag": "generators",
    "skip_mlp": "generators",
    "CheckedValue": "gradcheck",
    "GradientCheck": "gradcheck",
    "check_gradients": "gradcheck",
    "from_json_data": "io",
    "read_json": "io",
    "to_json_data": "io",
    "write_json": "io",
    "Adam": "optimizers",
    "GradientDescent": "optimizers",
    "ForwardMode": "paths",
    "PathSum": "paths",
    "count_paths": "paths",
    "forward_mode": "paths",
    "path_sum": "paths",
}


def __getattr__(name: str):
    if name == "__version__":  # read from the package metadata on first use
        from ._version import package_version

        return package_version()
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # the next lookup is a plain module attribute
        return value
    try:  # a submodule named as an attribute (graphbp.compiled, graphbp.explorer): imported on first use
        return import_module(f".{name}", __name__)
    except ModuleNotFoundError as missing:
        if missing.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module 'graphbp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Activation",
    "ActivationError",
    "Adam",
    "BackpropResult",
    "CheckedValue",
    "CompiledNetwork",
    "CompiledPopulation",
    "Elimination",
    "Explanation",
    "ForwardMode",
    "ForwardResult",
    "GradientCheck",
    "GradientDescent",
    "GraphBPError",
    "GraphStructureError",
    "HessianComparison",
    "History",
    "Loss",
    "LossError",
    "Network",
    "NumericalError",
    "ParameterError",
    "PathSum",
    "SerializationError",
    "ShapeError",
    "accuracy",
    "activation_names",
    "animate_backward",
    "backprop",
    "bishop_network",
    "check_gradients",
    "compare_hessians",
    "compile_many",
    "count_paths",
    "describe",
    "diagonal_hessian",
    "draw",
    "draw_elimination",
    "draw_heatmap",
    "draw_linearized",
    "draw_paths",
    "eliminate",
    "elimination_costs",
    "explain",
    "forward",
    "forward_mode",
    "from_edges",
    "from_json_data",
    "from_neat",
    "from_sequential",
    "from_sklearn",
    "get_activation",
    "get_loss",
    "get_parameters",
    "gradient_vector",
    "hessian",
    "hvp",
    "initialize_weights",
    "irregular_network",
    "jacobian",
    "layout",
    "linearized_graph",
    "loss_and_grad",
    "loss_names",
    "mlp",
    "outer_product_hessian",
    "parameter_keys",
    "parameter_labels",
    "path_sum",
    "random_dag",
    "read_json",
    "read_network",
    "register_activation",
    "set_parameters",
    "skip_mlp",
    "to_json_data",
    "to_neat",
    "to_sequential",
    "to_sklearn",
    "train",
    "train_many",
    "write_html",
    "write_json",
    "write_result",
]

