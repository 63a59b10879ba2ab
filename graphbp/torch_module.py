"""A network graph as a PyTorch module whose forward and backward are graphbp's own passes.

:func:`to_torch` returns a ``torch.nn.Module`` computing the same network as
:func:`graphbp.forward` (eqs. 5.48, 5.49), with every weight and bias an
``nn.Parameter`` (two flat vectors, in the order of
:func:`graphbp.parameter_keys`). Its forward and backward are one
``torch.autograd.Function`` whose backward is eqs. 5.53-5.56 applied to
whatever ∂L/∂y torch hands it, so any torch loss works and the module can sit
between other torch layers (it returns ∂L/∂x too). Two executors:

* **CPU tensors**: the compiled engine's kernels (:mod:`graphbp.compiled`,
  numba when installed, numpy otherwise) on work arrays kept between calls,
  so a torch training loop (or DistributedDataParallel over CPU processes)
  runs at :meth:`~graphbp.compiled.CompiledNetwork.loss_and_gradient` speed;
* **other devices (CUDA)**: a flat-buffer level loop. Nodes are renumbered
  level by level, so a topological level is a slice of preallocated (V, N)
  buffers a, z, Σ and δ; each level's sums are one ``index_select``, one
  scale and one ``index_add_`` (eq. 5.48 forward, eq. 5.56 backward), in
  place, with ∂E/∂w (eq. 5.53) summed per level on the way back: O(E·N) work,
  O(V·N) memory. On CUDA the loop is captured once as a CUDA graph per
  (batch size, dtype) and replayed (``cuda_graph=False`` turns capture off;
  where capture fails the loop runs eagerly). ``module.levels_on_cpu = True``
  runs the same loop on CPU tensors, to check it without a GPU.

Several threads may call one module at once; each pass borrows its own
buffers and gives them back after its backward (or when its autograd graph is
freed without one).

torch is an optional extra (``pip install graphbp[torch]``): importing
:mod:`graphbp` never imports it; importing this module does.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from .activations import torch_elementwise
from .compiled.engine import ArrayMapping, CompiledNetwork
from .exceptions import ActivationError, GraphBPError, GraphStructureError, ShapeError
from .network import check_finite
from .network_layout import INPUT, SOFTMAX_CODE, checked_vector, unit_levels, write_values

try:
    import torch
except ImportError:  # torch is an optional extra
    torch = None

__all__ = ["GraphModule", "to_torch", "from_torch"]

_DTYPES = ("float32", "float64")
# Level-loop runners kept per (device, batch size, dtype) beyond those in use.
_KEPT_RUNNERS = 2
# CUDA graph captures take turns (a capture must not see another thread's kernels).
_CAPTURE = threading.Lock()


class _Lease:
    """Buffers borrowed from a pool, given back when the lease is dropped: after the pass's
    backward, or when its autograd graph is freed without one."""

    def __init__(self, give, value):
        self.give, self.value = give, value

    def __del__(self):
        self.give(self.value)


# -- the level loop (any device) ------------------------------------------------------------------


class _LevelPlan:
    """The level loop's rows and edges (numpy), built once from the compiled layout.

    Units are renumbered by (level, activation code), so a level's rows are one
    slice and each activation group inside it is a sub-slice. Edges are listed
    twice: by target row (forward, eq. 5.48) and by source row (backward, eq. 5.56).
    """

    def __init__(self, layout):
        levels = unit_levels(layout)
        units = np.lexsort((np.arange(levels.size), layout.unit_code, levels))
        ptr, codes = layout.unit_ptr, layout.unit_code
        position = np.concatenate([np.arange(ptr[u], ptr[u + 1]) for u in units])
        row = np.empty_like(position)
        row[position] = np.arange(position.size)
        sizes = np.diff(ptr)[units]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        level_of_unit = levels[units]
        level_start = np.searchsorted(level_of_unit, np.arange(levels.max() + 2))
        row_bounds = starts[level_start]
        level_of_row = np.repeat(level_of_unit, sizes)
        # Edges by target row and by source row, each row's level start subtracted for local indices.
        target = row[np.repeat(np.arange(layout.n_nodes), np.diff(layout.pred_ptr))]
        source = row[layout.pred_index]
        forward, backward = np.argsort(target, kind="stable"), np.argsort(source, kind="stable")
        self.forward_edge, self.forward_source = forward, source[forward]
        self.forward_local = target[forward] - row_bounds[level_of_row[target[forward]]]
        self.backward_edge, self.backward_target = backward, target[backward]
        self.backward_source = source[backward]
        self.backward_local = source[backward] - row_bounds[level_of_row[source[backward]]]
        forward_bounds = np.searchsorted(target[forward], row_bounds)
        backward_bounds = np.searchsorted(source[backward], row_bounds)
        # Activation groups: runs of units of one code within a level; each softmax unit its own group.
        self.levels = []
        for L in range(levels.max() + 1):
            groups = []
            for k in range(level_start[L], level_start[L + 1]):
                code = int(codes[units[k]])
                if groups and groups[-1][0] == code != SOFTMAX_CODE:
                    groups[-1][2] = int(starts[k + 1])
                else:
                    groups.append([code, int(starts[k]), int(starts[k + 1])])
            self.levels.append(
                (int(row_bounds[L]), int(row_bounds[L + 1]), int(forward_bounds[L]), int(forward_bounds[L + 1]),
                 int(backward_bounds[L]), int(backward_bounds[L + 1]), groups)  # fmt: skip
            )
        n_bias = layout.bias_rows.size
        bias_slot = np.full(layout.n_nodes, n_bias)  # inputs read the zero appended after the biases
        bias_slot[layout.bias_rows] = np.arange(n_bias)
        self.row_bias = bias_slot[position]
        self.position = position
        self.input_rows, self.output_rows, self.bias_rows = (
            row[layout.input_rows], row[layout.output_rows], row[layout.bias_rows]
        )
        widths = np.diff(forward_bounds).tolist() + np.diff(backward_bounds).tolist()
        self.max_edges = max(widths + [1])


class _LevelRunner:
    """The level loop on one device for one batch size and dtype: buffers allocated once, passes in place."""

    def __init__(self, module, plan: _LevelPlan, weight, bias, N: int, capture: bool):
        self.module, self.weight, self.bias = module, weight, bias
        device, dtype = weight.device, weight.dtype
        index = {name: torch.as_tensor(getattr(plan, name), dtype=torch.long, device=device) for name in (
            "forward_edge", "forward_source", "forward_local", "backward_edge", "backward_target",
            "backward_source", "backward_local", "row_bias", "input_rows", "output_rows", "bias_rows")}  # fmt: skip
        self.index = index
        V, E, n_bias = plan.row_bias.size, plan.forward_edge.size, bias.numel()

        def new(*shape):
            return torch.zeros(shape, dtype=dtype, device=device)

        self.a, self.z, self.through, self.delta = new(V, N), new(V, N), new(V, N), new(V, N)
        self.scratch, self.product = new(plan.max_edges, N), new(plan.max_edges, N)
        self.x, self.grad_y = new(N, index["input_rows"].numel()), new(N, index["output_rows"].numel())
        # y and ∂L/∂x are kept as (columns, N) rows and transposed on the way out.
        self.y_rows, self.grad_x_rows = new(index["output_rows"].numel(), N), new(index["input_rows"].numel(), N)
        self.forward_weight, self.backward_weight = new(E), new(E)
        self.edge_gradient, self.grad_weight, self.grad_bias = new(E), new(E), new(n_bias)
        self.bias_and_zero, self.row_bias, self.row_sums = new(n_bias + 1), new(V), new(V)
        self.levels = [self._views(plan, level) for level in plan.levels]
        self.graphs = self._capture() if capture and device.type == "cuda" else None

    def _views(self, plan, level):
        """Slices of the buffers and index arrays one level reads, made once (each pass only indexes)."""
        r0, r1, f0, f1, b0, b1, groups = level
        i = self.index
        activations = [
            (code, self.a[g0:g1], self.z[g0:g1], self.through[g0:g1], self.delta[g0:g1],
             self.module._elementwise(code) if code not in (INPUT, SOFTMAX_CODE) else None)
            for code, g0, g1 in groups
        ]  # fmt: skip
        return (
            self.a[r0:r1], self.row_bias[r0:r1, None], self.through[r0:r1],
            (i["forward_source"][f0:f1], i["forward_local"][f0:f1], self.forward_weight[f0:f1, None],
             self.scratch[: f1 - f0]),
            (i["backward_target"][b0:b1], i["backward_source"][b0:b1], i["backward_local"][b0:b1],
             self.backward_weight[b0:b1, None], self.scratch[: b1 - b0], self.product[: b1 - b0],
             self.edge_gradient[b0:b1]),
            activations,
        )  # fmt: skip

    def _forward(self) -> None:
        i = self.index
        torch.index_select(self.weight, 0, i["forward_edge"], out=self.forward_weight)
        self.bias_and_zero[:-1].copy_(self.bias)
        torch.index_select(self.bias_and_zero, 0, i["row_bias"], out=self.row_bias)
        self.z.index_copy_(0, i["input_rows"], self.x.T)
        for a, bias, _, (source, local, weight, scaled), _, activations in self.levels:
            a.copy_(bias)
            if scaled.shape[0]:
                # eq. 5.48 for the whole level: a_j = b_j + Σ_i w_ji z_i (gather, scale, scatter-add)
                torch.index_select(self.z, 0, source, out=scaled)
                a.index_add_(0, local, scaled.mul_(weight))
            for code, a_group, z_group, _, _, functions in activations:
                if code == SOFTMAX_CODE:
                    z_group.copy_(torch.softmax(a_group, dim=0))
                elif code != INPUT:
                    z_group.copy_(functions[0](a_group))  # eq. 5.49
        torch.index_select(self.z, 0, i["output_rows"], out=self.y_rows)

    def _backward(self) -> None:
        i = self.index
        torch.index_select(self.weight, 0, i["backward_edge"], out=self.backward_weight)
        # The outputs' own ∂L/∂z_k starts their sum; the same h' (or softmax Jacobian) then applies to both.
        self.through.zero_().index_copy_(0, i["output_rows"], self.grad_y.T)
        for _, _, through, _, (target, source, local, weight, scaled, product, gradient), activations in reversed(
            self.levels
        ):
            if scaled.shape[0]:
                torch.index_select(self.delta, 0, target, out=scaled)
                # eq. 5.53 for the level's out-edges j -> k: ∂E/∂w_kj = Σ_n δ_k z_j
                torch.index_select(self.z, 0, source, out=product)
                torch.sum(product.mul_(scaled), 1, out=gradient)
                # eq. 5.56 for the whole level: Σ_{k ∈ successors(j)} w_kj δ_k
                through.index_add_(0, local, scaled.mul_(weight))
            for code, a_group, z_group, through_group, delta_group, functions in activations:
                if code == SOFTMAX_CODE:
                    mean = (z_group * through_group).sum(dim=0)
                    torch.mul(z_group, through_group - mean, out=delta_group)
                elif code == INPUT:
                    delta_group.copy_(through_group)
                else:
                    torch.mul(functions[1](a_group), through_group, out=delta_group)
        self.grad_weight.index_copy_(0, i["backward_edge"], self.edge_gradient)
        torch.sum(self.delta, 1, out=self.row_sums)  # ∂E/∂b_j = Σ_n δ_j
        torch.index_select(self.row_sums, 0, i["bias_rows"], out=self.grad_bias)
        torch.index_select(self.delta, 0, i["input_rows"], out=self.grad_x_rows)

    def _capture(self):
        """Both passes as CUDA graphs (after a warm-up on a side stream), or None where capture fails."""
        try:
            stream = torch.cuda.Stream(self.weight.device)
            stream.wait_stream(torch.cuda.current_stream(self.weight.device))
            with torch.cuda.stream(stream):
                self._forward()
                self._backward()
            torch.cuda.current_stream(self.weight.device).wait_stream(stream)
            forward, backward = torch.cuda.CUDAGraph(), torch.cuda.CUDAGraph()
            with torch.cuda.graph(forward, capture_error_mode="thread_local"):
                self._forward()
            with torch.cuda.graph(backward, pool=forward.pool(), capture_error_mode="thread_local"):
                self._backward()
            return forward, backward
        except RuntimeError as error:
            warnings.warn(f"CUDA graph capture failed ({error}); the level loop runs eagerly", stacklevel=4)
            return None

    def forward(self, X):
        self.x.copy_(X)
        if self.graphs:
            self.graphs[0].replay()
        else:
            self._forward()
        y = self.y_rows.T.contiguous()
        if not bool(torch.isfinite(self.z).all()):  # no silent NaN, as the compiled engine
            self._name_non_finite(self.z, "z")
        return y

    def backward(self, grad_y):
        self.grad_y.copy_(grad_y)
        if self.graphs:
            self.graphs[1].replay()
        else:
            self._backward()
        grad_weight = self.grad_weight.clone()
        if not bool(torch.isfinite(self.delta).all()):
            self._name_non_finite(self.delta, "delta")
        return self.grad_x_rows.T.contiguous(), grad_weight, self.grad_bias.clone()

    def _name_non_finite(self, values, name: str) -> None:
        """Raise NumericalError naming the first node (in pass order) whose row is not finite."""
        layout = self.module.layout
        rows = {layout.net.order[p]: r for r, p in enumerate(self.module._plan.position.tolist())}
        check_finite(layout.net, ArrayMapping(rows, values.detach().cpu().numpy()), name, reverse=name == "delta")
        raise GraphBPError(f"a {name} value is not finite")  # unreachable unless the buffers changed meanwhile


class _LevelPass(torch.autograd.Function if torch is not None else object):
    """y = network(X) by the level loop; backward pulls ∂L/∂y back to ∂L/∂X, ∂L/∂w, ∂L/∂b."""

    @staticmethod
    def forward(ctx, module, X, weight, bias):
        lease = module._borrow_runner(weight, bias, X.shape[0])
        ctx.module, ctx.lease = module, lease
        ctx.save_for_backward(X, weight, bias)  # torch then refuses a backward after they changed in place
        return lease.value.forward(X)

    @staticmethod
    def backward(ctx, grad_y):
        X, weight, bias = ctx.saved_tensors
        lease, ctx.lease = ctx.lease, None  # the runner goes back to the pool after this backward
        if lease is None:  # a second backward (retain_graph=True): run the forward again
            lease = ctx.module._borrow_runner(weight, bias, X.shape[0])
            lease.value.forward(X)
        return (None, *lease.value.backward(grad_y))


# -- the compiled engine (CPU tensors) ------------------------------------------------------------


class _CompiledPass(torch.autograd.Function if torch is not None else object):
    """y = network(X) by the compiled engine; backward is :meth:`CompiledNetwork.vjp`'s pull-back."""

    @staticmethod
    def forward(ctx, module, X, weight, bias):
        # In numpy: torch.cat would run on torch's own thread pool, whose threads then spin beside the kernels'.
        theta = np.concatenate([weight.detach().numpy(), bias.detach().numpy()]).astype(np.float64, copy=False)
        engine = module._loaded_engine(theta, _numpy_dtype(weight.dtype))
        lease = _Lease(engine.workspaces.give, engine.workspaces.take(X.shape[0]))
        z = engine._forward(X.detach().numpy(), lease.value)[1]
        ctx.module, ctx.lease, ctx.theta = module, lease, theta
        ctx.save_for_backward(X, weight, bias)  # torch then refuses a backward after they changed in place
        return torch.from_numpy(z[engine.layout.output_rows].T.copy())

    @staticmethod
    def backward(ctx, grad_y):
        X, weight, _ = ctx.saved_tensors
        engine = ctx.module._loaded_engine(ctx.theta, _numpy_dtype(weight.dtype))  # the values this forward ran with
        # The arrays go back to the pool after this backward, so the next step reuses them (warm in cache).
        lease, ctx.lease = ctx.lease, None
        if lease is None:  # a second backward (retain_graph=True): run the forward again
            lease = _Lease(engine.workspaces.give, engine.workspaces.take(X.shape[0]))
            engine._forward(X.detach().numpy(), lease.value)
        inputs = ctx.needs_input_grad[1]  # ∂L/∂X only where X takes part in the gradient (another layer, or X itself)
        grad_x, grad_weight, grad_bias = engine._pull_back(lease.value, grad_y.detach().numpy(), inputs)
        grad_x = torch.from_numpy(grad_x) if inputs else None
        return None, grad_x, torch.from_numpy(grad_weight), torch.from_numpy(grad_bias)


class GraphModule(torch.nn.Module if torch is not None else object):
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
        layout = engine.layout
        self.graph, self.weight_attribute, self.layout = G, weight, layout
        theta = engine.get_parameters()
        self.weight = torch.nn.Parameter(torch.as_tensor(theta[: layout.n_edges], dtype=dtype))
        self.bias = torch.nn.Parameter(torch.as_tensor(theta[layout.n_edges :], dtype=dtype))
        self.cuda_graph, self.levels_on_cpu = cuda_graph, False
        self._start_caches({engine.dtype: engine})

    def _elementwise(self, code: int):
        """The level loop's (h, h') for the activation with this kernel code, as torch functions."""
        layout = self.layout
        try:
            return torch_elementwise(layout.activations[code])
        except ActivationError as error:
            unit = int(np.flatnonzero(layout.unit_code == code)[0])
            raise ActivationError(f"node {layout.net.order[layout.unit_ptr[unit]]!r}: {error}") from None

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
        n_inputs = self.layout.input_rows.size
        if X.ndim != 2 or X.shape[1] != n_inputs or X.shape[0] == 0:
            raise ShapeError(f"X has shape {tuple(X.shape)}; expected (N, {n_inputs}), one column per input node")
        if X.device != self.weight.device:
            raise GraphBPError(f"X is on {X.device} but the module's parameters are on {self.weight.device}")
        X = X.to(self.weight.dtype)
        route = _CompiledPass if X.device.type == "cpu" and not self.levels_on_cpu else _LevelPass
        return route.apply(self, X, self.weight, self.bias)

    def _engine(self, dtype: np.dtype) -> CompiledNetwork:
        """The compiled engine for `dtype` (a second dtype compiles the graph again, once)."""
        engine = self._engines.get(dtype)
        if engine is None:
            engine = self._engines[dtype] = CompiledNetwork(self.graph, self.weight_attribute, dtype=dtype)
            if engine.layout.edges != self.layout.edges:
                raise GraphStructureError("the graph's nodes or edges changed since to_torch; build the module again")
        return engine

    def _loaded_engine(self, theta: np.ndarray, dtype: np.dtype) -> CompiledNetwork:
        """The compiled engine for `dtype` holding the parameter vector `theta` (loaded unless it is already).

        Every forward takes a fresh θ from the parameter tensors (O(E), small beside a pass's
        O(E·N)), so changes made any way, ``.data`` included, are seen; a backward reloads its
        forward's θ only if another pass loaded other values meanwhile.
        """
        with self._lock:
            engine = self._engine(dtype)
            if self._loaded.get(dtype) is not theta:
                engine._load(checked_vector(theta, engine._keys))  # θ is this pass's own array: no copy
                self._loaded[dtype] = theta
        return engine
    def _borrow_runner(self, weight, bias, N: int) -> _Lease:
        """A level-loop runner for this device, batch size and dtype, lent until the pass's graph is freed."""
        key = (weight.device, N, weight.dtype, weight.data_ptr(), bias.data_ptr(), self.cuda_graph)
        with self._lock:
            if self._plan is None:
                self._plan = _LevelPlan(self.layout)
            free = self._runners.setdefault(key, [])
            runner = free.pop() if free else None
        if runner is None:
            with _CAPTURE:  # one capture at a time
                runner = _LevelRunner(self, self._plan, weight, bias, N, self.cuda_graph)

        def give(runner, free=free):
            with self._lock:
                free.append(runner)
                del free[:-_KEPT_RUNNERS]

        return _Lease(give, runner)

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
    ImportError
        If torch is not installed (``pip install graphbp[torch]``).
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
    if torch is None:
        raise ImportError("to_torch needs PyTorch: pip install 'graphbp[torch]'")
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
    layout = module.layout
    if set(G.edges) != set(layout.edges) or len(G) != layout.n_nodes or any(n not in G for n in layout.position):
        raise GraphStructureError("the graph's nodes or edges differ from the module's; write into the graph it was built from")
    write_values(G, layout, weight, module.parameter_vector())
    return G
