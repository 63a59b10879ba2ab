"""The module itself: :class:`GraphModule`, :func:`to_torch` and :func:`from_torch`.

Its parameters are two flat vectors (weights, biases) in the order of
:func:`graphbp.parameter_keys`; its forward picks the executor by device: the
CPU bridge (:mod:`.bridge`) or the level loop (:mod:`.levels`).
"""

from __future__ import annotations

import threading

import numpy as np

import torch

from ..activations import torch_elementwise
from ..compiled.engine import CompiledNetwork
from ..exceptions import ActivationError, GraphBPError, GraphStructureError, ShapeError
from ..wiring import write_values
from .bridge import CompiledPass
from .lease import Lease
from .levels import LevelPass, LevelRunner, RowPlan

__all__ = ["GraphModule", "to_torch", "from_torch"]

_DTYPES = ("float32", "float64")
# Level-loop runners kept per (device, batch size, dtype) beyond those in use.
_KEPT_RUNNERS = 2
# CUDA graph captures take turns (a capture must not see another thread's kernels).
_CAPTURE = threading.Lock()


class GraphModule(torch.nn.Module):
    """The network of a graph as a ``torch.nn.Module`` (build it with :func:`to_torch`).

    ``module(X)`` maps an (N, inputs) tensor to the (N, outputs) tensor of
    y = z of the output nodes. Parameters: ``weight`` (one entry per edge) and
    ``bias`` (one per non-input node), in the order of
    :func:`graphbp.parameter_keys`, float32 or float64.

    Attributes
    ----------
    cuda_graph : bool
        Capture the level loop as a CUDA graph per (batch size, dtype) on CUDA.
    levels_on_cpu : bool
        Run CPU tensors through the level loop instead of the compiled engine.
    """

    def __init__(self, G, weight: str = "weight", dtype=None, cuda_graph: bool = True):
        super().__init__()
        dtype = dtype or torch.get_default_dtype()
        engine = CompiledNetwork(G, weight, dtype=_numpy_dtype(dtype))
        wiring = engine.wiring
        self.graph, self.weight_attribute, self.wiring = G, weight, wiring
        theta = engine.get_parameters()
        self.weight = torch.nn.Parameter(torch.as_tensor(theta[: wiring.n_edges], dtype=dtype))
        self.bias = torch.nn.Parameter(torch.as_tensor(theta[wiring.n_edges :], dtype=dtype))
        self.cuda_graph, self.levels_on_cpu = cuda_graph, False
        self._start_caches({engine.dtype: engine})

    def _elementwise(self, code: int):
        """The level loop's (h, h') for the activation with this kernel code, as torch functions."""
        wiring = self.wiring
        try:
            return torch_elementwise(wiring.activations[code])
        except ActivationError as error:
            unit = int(np.flatnonzero(wiring.unit_code == code)[0])
            raise ActivationError(f"node {wiring.net.order[wiring.unit_ptr[unit]]!r}: {error}") from None

    def _start_caches(self, engines: dict) -> None:
        self._engines, self._loaded = engines, {}
        self._plan, self._runners = None, {}
        self._lock = threading.Lock()

    def __getstate__(self):  # copy.deepcopy / pickle: the caches (locks, kernels) are rebuilt on use
        state = dict(self.__dict__)
        for name in ("_engines", "_loaded", "_plan", "_runners", "_lock"):
            del state[name]
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._start_caches({})

    def forward(self, X):
        """y for an (N, inputs) batch (eqs. 5.48, 5.49); backward gives ∂L/∂X, ∂L/∂weight, ∂L/∂bias."""
        n_inputs = self.wiring.input_rows.size
        if X.ndim != 2 or X.shape[1] != n_inputs or X.shape[0] == 0:
            raise ShapeError(f"X has shape {tuple(X.shape)}; expected (N, {n_inputs}), one column per input node")
        if X.device != self.weight.device:
            raise GraphBPError(f"X is on {X.device} but the module's parameters are on {self.weight.device}")
        X = X.to(self.weight.dtype)
        route = CompiledPass if X.device.type == "cpu" and not self.levels_on_cpu else LevelPass
        return route.apply(self, X, self.weight, self.bias)

    def _engine(self, dtype: np.dtype) -> CompiledNetwork:
        """The compiled engine for `dtype` (a second dtype compiles the graph again, once)."""
        engine = self._engines.get(dtype)
        if engine is None:
            engine = self._engines[dtype] = CompiledNetwork(self.graph, self.weight_attribute, dtype=dtype)
            if engine.wiring.edges != self.wiring.edges:
                raise GraphStructureError("the graph's nodes or edges changed since to_torch; build the module again")
        return engine

    def loaded_engine(self, theta: np.ndarray, dtype) -> CompiledNetwork:
        """The compiled engine for `dtype` (a torch dtype) holding the parameter vector `theta` (loaded unless it is already).

        Every forward takes a fresh θ from the parameter tensors (O(E), small beside a pass's
        O(E·N)), so changes made any way, ``.data`` included, are seen; a backward reloads its
        forward's θ only if another pass loaded other values meanwhile.
        """
        dtype = _numpy_dtype(dtype)
        with self._lock:
            engine = self._engine(dtype)
            if self._loaded.get(dtype) is not theta:
                engine.set_parameters(theta, copy=False)  # θ is this pass's own array
                self._loaded[dtype] = theta
        return engine

    def borrow_runner(self, weight, bias, N: int) -> Lease:
        """A level-loop runner for this device, batch size and dtype, lent until the pass's graph is freed."""
        key = (weight.device, N, weight.dtype, weight.data_ptr(), bias.data_ptr(), self.cuda_graph)
        with self._lock:
            if self._plan is None:
                self._plan = RowPlan(self.wiring)
            free = self._runners.setdefault(key, [])
            runner = free.pop() if free else None
        if runner is None:
            with _CAPTURE:  # one capture at a time
                runner = LevelRunner(self.wiring, self._plan, self._elementwise, weight, bias, N, self.cuda_graph)

        def give(runner, free=free):
            with self._lock:
                free.append(runner)
                del free[:-_KEPT_RUNNERS]

        return Lease(give, runner)

    def parameter_vector(self) -> np.ndarray:
        """θ (float64, on the CPU) in the order of :func:`graphbp.parameter_keys`."""
        return torch.cat([self.weight.detach(), self.bias.detach()]).cpu().double().numpy()


def _numpy_dtype(dtype) -> np.dtype:
    name = str(dtype).removeprefix("torch.")
    if name not in _DTYPES:
        raise GraphBPError(f"to_torch supports float32 and float64, got {dtype}")
    return np.dtype(name)


def to_torch(G, weight: str = "weight", dtype=None, cuda_graph: bool = True) -> GraphModule:
    """The network of `G` as a ``torch.nn.Module`` running graphbp's own forward and backward passes.

    Parameters
    ----------
    G : networkx.DiGraph
        The network (see :func:`graphbp.read_network`).
    weight : str, default "weight"
        Edge attribute holding w_ji.
    dtype : torch.dtype, optional
        ``torch.float64`` or ``torch.float32`` (default: torch's default dtype).
    cuda_graph : bool, default True
        On CUDA, capture each (batch size, dtype)'s level loop as a CUDA graph
        and replay it; False runs it eagerly (also ``module.cuda_graph = False``).

    Returns
    -------
    GraphModule
        ``module(X)`` gives y for an (N, inputs) tensor; move it with
        ``module.to("cuda")`` like any module. Gradients flow to X, weight and
        bias from any loss of y.

    Raises
    ------
    GraphBPError
        An invalid network, a user-defined activation (no torch version), or
        another dtype.

    Examples
    --------
    >>> import torch, graphbp
    >>> from graphbp.torch_module import to_torch, from_torch
    >>> G = graphbp.bishop_network()
    >>> module = to_torch(G, dtype=torch.float64)
    >>> X = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    >>> y = module(X)
    >>> bool(torch.allclose(y, torch.as_tensor(graphbp.forward(G, [[1.0, 0.0]]).y)))
    True
    >>> E = 0.5 * (y ** 2).sum()
    >>> E.backward()
    >>> reference = graphbp.backprop(G, [1.0, 0.0], [0.0, 0.0])
    >>> abs(float(module.weight.grad[0]) - reference.grad_weight[("x1", "z1")]) < 1e-15
    True
    """
    return GraphModule(G, weight=weight, dtype=dtype, cuda_graph=cuda_graph)


def from_torch(module: GraphModule, G=None, weight: str | None = None):
    """Write a module's (trained) weights and biases into a graph's attributes, exactly.

    Parameters
    ----------
    module : GraphModule
        A module made by :func:`to_torch` (on any device; a DDP wrapper's ``.module``).
    G : networkx.DiGraph, optional
        The graph to write into (default: the one the module was built from);
        it must have the same nodes and edges.
    weight : str, optional
        Edge attribute to write (default: the one the module was built with).

    Returns
    -------
    networkx.DiGraph
        `G`, updated in place.

    Raises
    ------
    GraphStructureError
        If `G` has other edges or non-input nodes than the module.

    Examples
    --------
    >>> import torch, graphbp
    >>> from graphbp.torch_module import to_torch, from_torch
    >>> G = graphbp.bishop_network()
    >>> module = to_torch(G)
    >>> with torch.no_grad():
    ...     _ = module.weight.mul_(2.0)
    >>> from_torch(module).edges["x1", "z1"]["weight"]
    1.0
    """
    G = module.graph if G is None else G
    weight = module.weight_attribute if weight is None else weight
    wiring = module.wiring
    if set(G.edges) != set(wiring.edges) or len(G) != wiring.n_nodes or any(n not in G for n in wiring.position):
        raise GraphStructureError("the graph's nodes or edges differ from the module's; write into the graph it was built from")
    write_values(G, wiring, weight, module.parameter_vector())
    return G
