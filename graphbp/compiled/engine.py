"""The compiled network: the graph read once into arrays, then passes over those arrays.

The maths is the reference's (eqs. 5.48-5.56, the losses of
:mod:`graphbp.losses`); only where the numbers live differs: every a_j, z_j, δ_j is
a row of a (nodes, N) array, so memory is O(V·N + E) and no Python runs per
node or per sample (except for a user's own activation functions).

:class:`CompiledNetwork` holds the arrays and runs the passes; the backend's
kernels come from :mod:`.backends`, the work arrays and what a pass hands on
from :mod:`.workspaces`, the results it returns from :mod:`.results`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import replace
from functools import cached_property

import numpy as np

from ..activations import get_activation, softmax_product
from ..backward import BackpropResult, loss_terms
from ..batches import as_batch, check_batch, check_finite, check_loss_finite, loss_sum_overflow
from ..exceptions import GraphBPError, ShapeError
from ..fingerprints import fingerprint, graph_activations, graph_listed
from ..forward import ForwardResult
from ..network import read_network
from ..wiring import (
    build_wiring,
    check_range,
    checked_vector,
    parameter_keys_of,
    read_values,
    write_values,
)
from .backends import checked_options, make_kernels
from .dense_blocks import auto_plan, blas_limits_available, plan_blocks
from .results import ArrayMapping, CompiledResult
from .workspaces import Chunk, WholePass, Workspaces

__all__ = ["CompiledNetwork", "compile_network"]


class CompiledNetwork:
    """A network compiled to flat arrays; build it with :func:`compile_network` (``graphbp.compile``).

    The graph's weights and biases are copied in at compile time (and by
    :meth:`refresh`); :meth:`set_parameters` changes the copy only and
    :meth:`write_back` puts it into the graph. Adding or removing nodes or
    edges needs a new compile.

    Attributes
    ----------
    graph : networkx.DiGraph
    network : Network
        The validated reading of the graph.
    wiring : Wiring
        The arrays (see :mod:`graphbp.wiring`).
    dtype : numpy.dtype
        float64, or float32 (about 1e-5 relative agreement with float64).
    backend : str
        ``"numba"`` or ``"numpy"``.
    threads : int or None
        Threads for the numba backend, each taking a share of the batch
        through the whole pass (None: up to numba's thread count, all cores
        by default, but one per 2M edge-samples at most).
    dense_edges : int
        Edges run as dense matrix products (see ``dense`` in :func:`compile_network`).
    workspaces : Workspaces
        The (nodes, N) work arrays the passes borrow.
    """

    def __init__(
        self, G, weight: str = "weight", dtype=np.float64, backend: str = "auto", threads: int | None = None,
        dense="auto",
    ):  # fmt: skip
        self.dtype, backend = checked_options(dtype, backend)
        if isinstance(dense, str) and dense != "auto" or dense not in ("auto", True, False):
            raise GraphBPError(f"dense must be 'auto', True or False, got {dense!r}")
        dense = dense if isinstance(dense, str) else bool(dense)  # 0 and 1 read as False and True
        self.graph, self.weight = G, weight
        self.network = read_network(G, weight)
        self.wiring = build_wiring(G, self.network)
        self.workspaces = Workspaces(self.wiring.n_nodes, self.dtype)
        # Output columns by element-wise activation, and of each softmax group (for vjp's direct term);
        # identity outputs (h' = 1) have nothing to scale.
        elementwise, groups = self.network.output_columns
        by_activation: dict = {}
        for k in elementwise:
            activation = self.network.activation[self.network.outputs[k]]
            if activation is not get_activation("identity"):
                by_activation.setdefault(activation, []).append(k)
        self._output_columns = ([(h, np.array(ks)) for h, ks in by_activation.items()], groups)
        order = self.network.order
        self._bias_index = {order[p]: r for r, p in enumerate(self.wiring.bias_rows.tolist())}
        # For the fingerprint of the parameters in use (results carry it): G's order of nodes and edges,
        # each edge's θ index, and each node's θ index (-1 for inputs, whose bias is 0).
        self._nodes, self._graph_edges = tuple(G), tuple(G.edges)
        self._activations, self._listed = graph_activations(G), graph_listed(G)
        self._edge_theta = np.array([self.wiring.edge_index[e] for e in self._graph_edges], dtype=np.int64)
        n_edges = self.wiring.n_edges
        self._bias_theta = np.array([n_edges + self._bias_index[n] if n in self._bias_index else -1 for n in self._nodes])
        if backend == "numpy" and dense is True:
            raise GraphBPError("dense=True needs the numba backend (pip install 'graphbp[fast]')")
        plan = self._block_plan(dense) if backend == "numba" else None
        self.backend, self.kernels = make_kernels(self.wiring, backend, threads, self.dtype, plan)
        self.refresh()

    def _block_plan(self, dense):
        """The dense blocks the numba kernels use, or None for the per-node kernels alone (see :func:`compile_network`)."""
        if dense is False:
            return None
        if not blas_limits_available():
            if dense is True:
                raise GraphBPError("dense=True needs threadpoolctl (pip install 'graphbp[fast]')")
            return None
        if dense == "auto":
            return auto_plan(self.wiring)
        plan = plan_blocks(self.wiring)
        return plan if plan.blocks else None

    @property
    def layout(self):
        """Deprecated: :attr:`wiring` ("layout" is the drawing's word, :func:`graphbp.layout`)."""
        warnings.warn("CompiledNetwork.layout is renamed CompiledNetwork.wiring", DeprecationWarning, stacklevel=2)
        return self.wiring

    @property
    def dense_edges(self) -> int:
        """How many edges the passes run as dense matrix products (0: the per-node kernels run every edge)."""
        plan = getattr(self.kernels, "plan", None)
        return 0 if plan is None else plan.dense_edges

    @property
    def threads(self) -> int | None:
        return getattr(self.kernels, "threads", None)

    @threads.setter
    def threads(self, value: int | None) -> None:
        self.kernels.threads = value

    # -- parameters ---------------------------------------------------------------------------

    def refresh(self) -> CompiledNetwork:
        """Re-read every weight and bias from the graph (after the user changed them there)."""
        weights, biases = read_values(self.graph, self.wiring, self.weight)
        self._load(np.concatenate([weights, biases[self.wiring.bias_rows]]))
        return self

    def _load(self, theta: np.ndarray) -> None:
        """Take θ (a checked float vector nobody else writes to: the engine keeps it, and views of it)."""
        check_range(theta, self._keys, self.dtype)  # float32 work arrays: a huge θ would be inf there
        self._theta = theta
        self._result_network = None  # its fingerprint is taken when a result first needs it
        n_edges = self.wiring.n_edges
        bias = np.zeros(self.wiring.n_nodes, dtype=self.dtype)
        bias[self.wiring.bias_rows] = theta[n_edges:]
        self.kernels.load(theta[:n_edges], bias)

    def parameter_keys(self) -> list[tuple]:
        """``("weight", (i, j))`` and ``("bias", j)`` in vector order, as :func:`graphbp.parameter_keys`."""
        return list(self._keys)

    @cached_property
    def _keys(self) -> tuple:
        # Built once: set_parameters runs on every step of a torch loop, and E keys cost more than the check.
        return tuple(parameter_keys_of(self.wiring))

    def get_parameters(self) -> np.ndarray:
        """The parameter vector θ (float64), in the order of :func:`graphbp.parameter_keys`."""
        return self._theta.copy()

    def set_parameters(self, theta, copy: bool = True) -> CompiledNetwork:
        """Use θ (order of :func:`graphbp.parameter_keys`) from now on; the graph is untouched until :meth:`write_back`.

        With ``copy=False`` a float64 `theta` is used as it is (no copy): the
        caller promises not to change it while the engine holds it.

        Raises
        ------
        ShapeError
            If θ has the wrong shape or holds NaN/inf (the parameter is named).
        ParameterError
            In a float32 compile, an entry beyond float32's range (the parameter is named).
        """
        theta = checked_vector(theta, self._keys)
        self._load(np.array(theta) if copy else theta)  # a copy, unless the caller hands θ over
        return self

    def write_back(self):
        """Write the current weights and biases into the graph's attributes; returns the graph."""
        write_values(self.graph, self.wiring, self.weight, self._theta)
        return self.graph

    def _network_now(self):
        """The network with the fingerprint of the parameters in use: what results carry."""
        if self._result_network is None:
            theta = np.append(self._theta, 0.0)  # index -1: an input's bias
            self._result_network = replace(
                self.network,
                fingerprint=fingerprint(
                    ((n, b, *set_on_node)
                     for n, b, set_on_node in zip(self._nodes, theta[self._bias_theta].tolist(), self._activations)),
                    ((i, j, w) for (i, j), w in zip(self._graph_edges, theta[self._edge_theta].tolist())),
                    self._listed,
                ),
            )
        return self._result_network

    # -- passes -------------------------------------------------------------------------------

    def forward_into(self, X: np.ndarray, arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Fill a, z (the first two of `arrays`, (nodes, N), rows in ``wiring.position`` order) for the batch X
        ((N, inputs), checked by the caller) by eqs. 5.48, 5.49; returns them.

        The building block of :meth:`forward` for a caller that keeps the arrays
        for a later :meth:`pull_back` (the torch bridge borrows them from
        :attr:`workspaces`).

        Raises
        ------
        NumericalError
            A z_j became NaN or inf (the node and sample are named).
        """
        a, z = arrays[0], arrays[1]
        a[self.wiring.input_rows] = X.T
        z[self.wiring.input_rows] = X.T
        with np.errstate(all="ignore"):  # non-finite values are reported below, naming the node
            total = self.kernels.forward(a, z)
        self._check_finite(z, total, "z")
        return a, z

    def _check_finite(self, values: np.ndarray, total, name: str) -> None:
        """No silent NaN: a non-finite `total` (a sum over `values`) sends the arrays to check_finite."""
        if not np.isfinite(total):
            check_finite(self.network, ArrayMapping(self.wiring.position, values), name, reverse=name == "delta")

    def _backward(self, arrays, T, loss):
        """E_n, δ, ∂E/∂w and ∂E/∂b of one batch whose forward values are in `arrays` (a, z, δ)."""
        a, z = arrays[0], arrays[1]
        outputs = self.network.outputs
        rows = self.wiring.output_rows
        with np.errstate(all="ignore"):  # an E_n that overflows is named (check_loss_finite), not warned of
            sample_loss, direct = loss_terms(
                self.network, loss, dict(zip(outputs, a[rows])), dict(zip(outputs, z[rows])), T
            )
        direct = np.array([direct[k] for k in outputs], dtype=self.dtype)
        return (sample_loss, *self._sweep(arrays, direct))

    def _sweep(self, arrays, direct):
        """δ, ∂E/∂w and ∂E/∂b given the outputs' direct ∂E_n/∂a_k (one row per output)."""
        a, z, delta = arrays
        with np.errstate(all="ignore"):
            grad_weight, row_sums = self.kernels.backward(a, z, direct, delta)
        # ∂E/∂b_j = Σ_n δ_j (eq. 5.53 with z = 1): every row summed, so no bias rows are copied out.
        self._check_finite(delta, row_sums.sum(), "delta")
        return delta, grad_weight, row_sums[self.wiring.bias_rows]

    def _batches(self, X, T, loss, chunk_size, lent: bool) -> Iterator[Chunk]:
        """Each :class:`Chunk` of the batch. With `lent`, its arrays are borrowed (valid until the next
        chunk); otherwise they are new for each chunk."""
        N = X.shape[0]
        size = N if chunk_size is None else int(chunk_size)
        if size < 1:
            raise ShapeError(f"chunk_size must be a positive number of samples, got {chunk_size!r}")
        for start in range(0, N, size):
            width = min(size, N - start)
            if lent:
                with self.workspaces.lent(width) as arrays:
                    yield self._chunk(start, X, T, loss, arrays)
            else:
                arrays = [np.empty((self.wiring.n_nodes, width), dtype=self.dtype) for _ in range(3)]
                yield self._chunk(start, X, T, loss, arrays)

    def _chunk(self, start, X, T, loss, arrays) -> Chunk:
        columns = slice(start, start + arrays[0].shape[1])
        a, z = self.forward_into(X[columns], arrays)
        chunk = Chunk(start, a, z, *self._backward(arrays, T[columns], loss))
        check_loss_finite(chunk.sample_loss, start)
        return chunk

    def forward(self, x) -> ForwardResult:
        """Run the network on `x`; same result as :func:`graphbp.forward`.

        Per-node values are :class:`ArrayMapping` views of (nodes, N) arrays.

        Raises
        ------
        ShapeError
            `x` of the wrong shape or with NaN/inf.
        """
        X, single = as_batch(x, self.network.inputs, "x")
        a, z = self.forward_into(X, [np.empty((self.wiring.n_nodes, X.shape[0]), dtype=self.dtype) for _ in range(2)])
        y = z[self.wiring.output_rows].T.copy()
        a_map, z_map = (ArrayMapping(self.wiring.position, values, scalar=single) for values in (a, z))
        return ForwardResult(
            self.network.inputs, self.network.outputs, a_map, z_map, y[0] if single else y, network=self._network_now()
        )

    def loss_and_gradient(self, x, t, loss="sum_of_squares", chunk_size: int | None = None) -> tuple[float, np.ndarray]:
        """E and ∂E/∂θ (order of :func:`graphbp.parameter_keys`), streaming the batch in chunks if asked.

        Memory is O(V · chunk_size + E): the fast path for training loops. Its
        work arrays are kept between calls (:class:`Workspaces`); several
        threads may call it at once.

        Raises
        ------
        GraphBPError
            As :meth:`backprop`.
        """
        whole = self._whole(x, t, loss, chunk_size)
        if whole is not None:
            return whole.total, whole.gradient.astype(np.float64, copy=False)
        X, T, loss, _ = check_batch(self.network, x, t, loss)
        total, gradient = 0.0, np.zeros(self._theta.size)
        n_edges = self.wiring.n_edges
        largest = 0.0
        for chunk in self._batches(X, T, loss, chunk_size, lent=True):
            total += float(chunk.sample_loss.sum())
            largest = max(largest, float(chunk.sample_loss.max()))
            gradient[:n_edges] += chunk.grad_weight
            gradient[n_edges:] += chunk.grad_bias
        if not math.isfinite(total):  # every chunk's E was finite (each is checked): their sum overflowed
            raise loss_sum_overflow(largest)
        return total, gradient

    def vjp(self, x, grad_y) -> tuple[np.ndarray, np.ndarray]:
        """∂L/∂x and ∂L/∂θ for any function L of the outputs, given ∂L/∂y: a vector-Jacobian product.

        The loss is not graphbp's to know: the caller (a torch loss, say) gives
        g = ∂L/∂y, and the outputs' direct term of eq. 5.54 becomes
        ∂L/∂a_k = h'(a_k) g_k (the softmax Jacobian for a softmax group);
        eqs. 5.53-5.56 then run as in :meth:`backprop`. With g = y − t this is
        the sum-of-squares gradient.

        Parameters
        ----------
        x : array_like
            Inputs (N, inputs), or 1-D for one sample.
        grad_y : array_like
            ∂L/∂y, shaped like y: (N, outputs), or 1-D with a 1-D `x`.

        Returns
        -------
        grad_x : numpy.ndarray
            ∂L/∂x, shaped like `x` (the δ of the input nodes).
        grad_theta : numpy.ndarray
            ∂L/∂θ in the order of :func:`graphbp.parameter_keys`.

        Raises
        ------
        ShapeError
            `x` or `grad_y` of the wrong shape, or with NaN/inf.
        NumericalError
            A z_j or δ_j became NaN or inf (the node and sample are named).

        Examples
        --------
        >>> import graphbp
        >>> net = graphbp.compile(graphbp.bishop_network(), backend="numpy")
        >>> x, t = [[1.0, 0.0]], [[0.5, 0.0]]
        >>> y = net.forward(x).y
        >>> grad_x, grad_theta = net.vjp(x, y - t)          # L = ½ Σ (y − t)²
        >>> bool(abs(grad_theta - net.loss_and_gradient(x, t)[1]).max() < 1e-15)
        True
        """
        X, single = as_batch(x, self.network.inputs, "x")
        G, single_g = as_batch(grad_y, self.network.outputs, "grad_y")
        if single != single_g or G.shape[0] != X.shape[0]:
            raise ShapeError(f"x has shape {np.shape(x)} but grad_y has shape {np.shape(grad_y)}: they must hold the same samples")
        with self.workspaces.lent(X.shape[0]) as arrays:
            self.forward_into(X, arrays)
            grad_x, grad_weight, grad_bias = self.pull_back(arrays, G)
        return grad_x[0] if single else grad_x, np.concatenate([grad_weight, grad_bias]).astype(np.float64)

    def pull_back(self, arrays, grad_y: np.ndarray, inputs: bool = True):
        """∂L/∂x (N, inputs; None unless `inputs`), ∂L/∂w, ∂L/∂b from a forward pass in `arrays` (see
        :meth:`forward_into`; δ is written into the third) and ∂L/∂y (N, outputs): :meth:`vjp`'s second half.

        Raises
        ------
        NumericalError
            A δ_j became NaN or inf (the node and sample are named).
        """
        a, z = arrays[0], arrays[1]
        rows = self.wiring.output_rows
        direct = np.asarray(grad_y, dtype=self.dtype).T.copy()
        elementwise, groups = self._output_columns
        for activation, columns in elementwise:
            direct[columns] *= activation.derivative(a[rows[columns]])
        for columns in groups:
            # The group's Jacobian ∂z_m/∂a_j = z_m (I_mj − z_j), applied to g (as eq. 5.56's softmax case).
            direct[columns] = softmax_product(z[rows[columns]], direct[columns])
        delta, grad_weight, grad_bias = self._sweep(arrays, direct)
        return delta[self.wiring.input_rows].T.copy() if inputs else None, grad_weight, grad_bias

    def _whole(self, x, t, loss, chunk_size) -> WholePass | None:
        """The :class:`WholePass` of a batch run as one kernel call, or None.

        For batches small enough that the calls, not the arithmetic, are the
        cost (see :meth:`NumbaKernels.whole`). NaN/inf in `x` or `t` are not
        looked for first: they make Σ z + Σ δ non-finite, and only then are
        `x`, `t`, z and δ searched, so the error names the same entry or node
        as on the other path.
        """
        whole = getattr(self.kernels, "whole", None)
        if whole is None or (chunk_size is not None and not 1 <= int(chunk_size)):
            return None
        X, T, loss, single = check_batch(self.network, x, t, loss, finite=False)
        if chunk_size is not None and chunk_size < X.shape[0]:
            return None
        work = np.empty((3, self.wiring.n_nodes, X.shape[0]), dtype=self.dtype)
        done = whole(loss, X, T, work)  # compiled: no numpy floating-point warnings to silence
        if done is None:
            return None
        gradient, sample_loss, total, check = done
        if not math.isfinite(check):
            check_batch(self.network, x, t, loss)  # names a NaN/inf in x or t
            self._check_finite(work[1], work[1].sum(), "z")
            self._check_finite(work[2], work[2].sum(), "delta")
        if not math.isfinite(total):
            check_loss_finite(sample_loss)
        return WholePass(work, gradient, sample_loss, total, loss, single)

    def _chunked(self, x, t, loss, chunk_size) -> WholePass:
        """As :meth:`_whole`, the batch run chunk by chunk through the kernels one by one."""
        X, T, loss, single = check_batch(self.network, x, t, loss)
        work = np.empty((3, self.wiring.n_nodes, X.shape[0]), dtype=self.dtype)
        sample_loss = np.empty(X.shape[0])
        gradient = np.zeros(self._theta.size)
        n_edges = self.wiring.n_edges
        for chunk in self._batches(X, T, loss, chunk_size, lent=True):
            columns = slice(chunk.start, chunk.start + chunk.a.shape[1])
            work[0, :, columns], work[1, :, columns], work[2, :, columns] = chunk.a, chunk.z, chunk.delta
            sample_loss[columns] = chunk.sample_loss
            gradient[:n_edges] += chunk.grad_weight
            gradient[n_edges:] += chunk.grad_bias
        with np.errstate(over="ignore"):
            total = float(sample_loss.sum())
        if not math.isfinite(total):  # each chunk's E_n were checked: their sum overflowed
            raise loss_sum_overflow(float(sample_loss.max()))
        return WholePass(work, gradient, sample_loss, total, loss, single)

    def backprop(self, x, t, loss="sum_of_squares", chunk_size: int | None = None) -> BackpropResult:
        """Error, every δ_j and every gradient; same result as :func:`graphbp.backprop`.

        Parameters
        ----------
        x, t : array_like
            Inputs (N, inputs) and targets (N, outputs), or 1-D for one sample.
        loss : str, default "sum_of_squares"
        chunk_size : int, optional
            Run the batch in chunks of this many samples, summing E and the
            gradients (the per-sample values are still all returned; use
            :meth:`loss_and_gradient` when only the gradient is needed).

        Returns
        -------
        CompiledResult
            A :class:`~graphbp.BackpropResult` whose ``a``, ``z``, ``delta``,
            ``grad_weight``, ``grad_bias`` are :class:`ArrayMapping` objects
            (read-only dict-like views).

        Raises
        ------
        GraphBPError
            `x`/`t` of the wrong shape or with NaN/inf, an unknown loss, a loss
            the outputs or targets do not fit, or a bad `chunk_size`.
        NumericalError
            A z_j or δ_j became NaN or inf (the node and sample are named), or
            E overflowed (the sample whose E_n did is named, or the sum is).
        """
        passed = self._whole(x, t, loss, chunk_size) or self._chunked(x, t, loss, chunk_size)
        return CompiledResult.of_pass(self._network_now(), self.wiring, self._bias_index, passed)


def compile_network(
    G, weight: str = "weight", dtype=np.float64, backend: str = "auto", threads: int | None = None, dense="auto"
) -> CompiledNetwork:
    """Compile a network graph into flat arrays for fast forward and backward passes.

    Parameters
    ----------
    G : networkx.DiGraph
        The network (see :func:`graphbp.read_network`).
    weight : str, default "weight"
        Edge attribute holding w_ji.
    dtype : numpy dtype, default float64
        float64, or float32 for speed and memory (agrees with float64 to
        about 1e-5 relative).
    backend : {"auto", "numba", "numpy"}, default "auto"
        ``"numba"``: a compiled loop over the nodes, batch innermost, the
        batch split across threads (needs the optional numba). ``"numpy"``:
        level scheduling with one scipy sparse product per topological level,
        same numbers. ``"auto"``: numba when installed. A user's own
        :class:`~graphbp.Activation` works on both; its Python function is
        called once per node (numba) or per level (numpy).
    threads : int, optional
        Threads for the numba backend, each running a share of the batch's
        columns through the whole pass, dense products included (BLAS on
        one thread inside each). Default: up to numba's thread count (all
        cores unless set otherwise), at most one per
        ``kernels_numba.MIN_THREAD_WORK`` (2M) edge-samples, since smaller
        shares cost more to hand to a thread than they save.
    dense : {"auto", True, False}, default "auto"
        Dense blocks (numba backend, :mod:`graphbp.compiled.dense_blocks`):
        the edges from one topological level into another that fill at least
        a quarter of their targets × sources run as matrix products (BLAS),
        the rest through the per-node kernels. ``True``: every such group
        becomes a block. ``"auto"``: only groups of at least 4,096 edges, and
        only when those hold at least half of all edges (layered graphs
        such as :func:`~graphbp.generators.skip_mlp`); otherwise (RandWire
        style graphs) the per-node kernels run every edge. ``False``: never.
        Same numbers either way, to rounding. Needs threadpoolctl (in the
        ``fast`` extra); without it "auto" means False.

    Returns
    -------
    CompiledNetwork

    Raises
    ------
    GraphBPError
        An invalid network (as :func:`graphbp.read_network`), an unknown
        `backend` or `dtype`, or ``backend="numba"`` without numba; with
        float32, a weight or bias beyond float32's range
        (:class:`~graphbp.exceptions.ParameterError`, the parameter named).

    Examples
    --------
    >>> import graphbp
    >>> G = graphbp.bishop_network()
    >>> net = graphbp.compile(G, backend="numpy")
    >>> r = net.backprop([1.0, 0.0], [0.0, 0.0])
    >>> reference = graphbp.backprop(G, [1.0, 0.0], [0.0, 0.0])
    >>> abs(r.loss - reference.loss) < 1e-15, r.grad_weight[("x1", "z1")] == reference.grad_weight[("x1", "z1")]
    (True, True)
    >>> theta = net.get_parameters()
    >>> net.set_parameters(2 * theta).write_back().edges["x1", "z1"]["weight"]
    1.0
    """
    return CompiledNetwork(G, weight=weight, dtype=dtype, backend=backend, threads=threads, dense=dense)
