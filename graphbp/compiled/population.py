"""A population of networks compiled together: many small, different DAGs, one engine.

Topology search (NEAT and the like) trains a whole generation of small
networks at once. Compiled one by one, each network pays the per-graph costs
(its kernel set, its calls) many times over the arithmetic of its pass.
:func:`compile_many` reads each graph once (:func:`graphbp.read_network`,
:func:`~graphbp.wiring.build_wirings`), joins their arrays into the
arrays of their disjoint union (positions and edge numbers shifted by each
graph's offset: no union graph is built) and makes one kernel set for the
union. A pass over the population is one pass over the union: eqs. 5.48-5.56
never cross from one component to another, so every a_j, δ_j and ∂E/∂w_ji is
the member's own. Only the error is taken per member: E of each graph
(eq. 5.44) over its own outputs, softmax groups never crossing graphs.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np

from ..activations import get_activation
from ..batches import as_batch, check_batch, check_finite, check_loss_finite
from ..exceptions import GraphBPError, ShapeError
from ..losses import check_loss, get_loss
from ..network import Network, read_network
from ..wiring import (
    INPUT,
    SOFTMAX_CODE,
    Wiring,
    beyond_range,
    build_wirings,
    check_range,
    checked_vector,
    parameter_keys_of,
    read_thetas,
    read_values,
    write_values,
)
from .backends import checked_options, make_kernels
from .results import ArrayMapping
from .workspaces import Workspaces

__all__ = ["CompiledPopulation", "compile_many", "join_wirings"]


@contextmanager
def _naming(index: int):
    """Errors raised inside name graph `index` of the population (same exception class).

    The error also carries the index as ``error.graph`` and its own message as
    ``error.reason``, so a caller that knows the graphs by other names
    (:func:`graphbp.interop.refine_neat`: genome keys) can say it its way.
    """
    try:
        yield
    except GraphBPError as error:
        named = type(error)(f"graph {index} of the population: {error}")
        named.graph, named.reason = index, str(error)
        raise named from None


def join_wirings(wirings: list[Wiring]) -> tuple[Wiring, np.ndarray, np.ndarray]:
    """The :class:`~graphbp.wiring.Wiring` of the disjoint union of some networks, and their offsets.

    A node of network g at position p there is at position ``node_offset[g] + p``
    of the union, and edge e of network g is edge ``edge_offset[g] + e``. Each
    network's CSR arrays are copied with those shifts, so the union's arrays
    cost O(V + E) numpy work, not a reading of a union graph. The union's
    nodes are named by their positions, and its reading (``wiring.net``)
    holds the inputs, outputs, order, units and softmax groups the kernels
    read; each network's own reading is its wiring's. Outputs are network
    0's, then network 1's, ...; so are the inputs (each network reads the
    same columns of x).

    Returns
    -------
    wiring : Wiring
    node_offset, edge_offset : numpy.ndarray
        Length ``len(wirings) + 1``: where each network's positions and edges start (and the totals).
    """
    node_offset = np.cumsum([0] + [wiring.n_nodes for wiring in wirings])
    edge_offset = np.cumsum([0] + [wiring.n_edges for wiring in wirings])

    def shifted(name: str, offset) -> np.ndarray:
        # one concatenation and one addition for the whole population, not one addition per network
        parts = [getattr(wiring, name) for wiring in wirings]
        return np.concatenate(parts) + np.repeat(offset[:-1], [part.size for part in parts])

    def pointers(name: str, offset) -> np.ndarray:
        parts = [getattr(wiring, name)[:-1] for wiring in wirings]
        return np.concatenate([np.concatenate(parts) + np.repeat(offset[:-1], [part.size for part in parts]), offset[-1:]])

    activations: dict = {}  # id -> (code, entry): by identity, as hashing an entry hashes its functions
    codes = []
    for wiring in wirings:
        # Each network's codes into the union's table; indices -2 and -1 (the table read from its end)
        # keep SOFTMAX_CODE and INPUT as they are.
        table = [activations.setdefault(id(h), (len(activations), h))[0] for h in wiring.activations]
        codes.append(np.array([*table, SOFTMAX_CODE, INPUT], dtype=np.int64)[wiring.unit_code])
    n_outputs = len(wirings[0].output_rows)
    # A node's column among the union's outputs: graph g's outputs come after those of graphs 0..g-1.
    output_slot = np.concatenate([wiring.output_slot for wiring in wirings])
    output_slot[output_slot >= 0] += np.repeat(np.arange(len(wirings)) * n_outputs, n_outputs)
    input_rows, output_rows = shifted("input_rows", node_offset), shifted("output_rows", node_offset)
    pred_ptr, pred_index = pointers("pred_ptr", edge_offset), shifted("pred_index", node_offset)
    unit_ptr = pointers("unit_ptr", node_offset)
    # Union nodes are named by their positions: a name per (graph, node) would cost more than the arrays.
    n_nodes, n_edges = int(node_offset[-1]), int(edge_offset[-1])
    targets = np.repeat(np.arange(n_nodes), np.diff(pred_ptr))
    edges = list(zip(pred_index.tolist(), targets.tolist()))
    output_column = {p: k for k, p in enumerate(output_rows.tolist())}
    groups = [(g, group) for g, wiring in enumerate(wirings) for group in wiring.net.softmax_groups]
    net = Network(
        inputs=tuple(input_rows.tolist()),
        outputs=tuple(output_column),
        order=tuple(range(n_nodes)),
        units=tuple(map(tuple, map(range, unit_ptr[:-1].tolist(), unit_ptr[1:].tolist()))),
        activation={},  # the table entries are in `activations`, each graph's own reading in its wiring.net
        bias={},
        softmax_groups=tuple(
            tuple(int(node_offset[g]) + wirings[g].position[node] for node in group) for g, group in groups
        ),
        dead_ends=(),
        weight=wirings[0].net.weight,
    )
    wiring = Wiring(
        net=net,
        position=dict(zip(net.order, net.order)),
        edges=edges,
        edge_index=dict(zip(edges, range(n_edges))),
        pred_ptr=pred_ptr,
        pred_index=pred_index,
        succ_ptr=pointers("succ_ptr", edge_offset),
        succ_index=shifted("succ_index", node_offset),
        succ_edge=shifted("succ_edge", edge_offset),
        unit_ptr=unit_ptr,
        unit_code=np.concatenate(codes),
        activations=tuple(h for _, h in activations.values()),
        bias_rows=shifted("bias_rows", node_offset),
        input_rows=input_rows,
        output_rows=output_rows,
        output_slot=output_slot,
    )
    return wiring, node_offset, edge_offset


class CompiledPopulation:
    """Many networks with the same numbers of inputs and outputs, compiled together (:func:`compile_many`).

    Each graph's parameters are copied in at compile time (and by
    :meth:`refresh`); :meth:`set_parameters` changes the copies only and
    :meth:`write_back` puts them into the graphs.

    Attributes
    ----------
    graphs : list of networkx.DiGraph
    networks : list of Network
        Each graph's validated reading.
    wirings : list of Wiring
        Each graph's own arrays (:mod:`graphbp.wiring`).
    wiring : Wiring
        The arrays of their disjoint union (:func:`join_wirings`), which the kernels run.
    dtype : numpy.dtype
    backend : str
        ``"numba"`` or ``"numpy"``.
    theta_offsets : numpy.ndarray
        Where each graph's θ starts in the population's flat θ (each graph's after the other), and its length last.
    """

    def __init__(self, graphs, dtype=np.float64, threads: int | None = None, weight: str = "weight", backend: str = "auto"):
        self.dtype, resolved = checked_options(dtype, backend)
        self.graphs, self.weight = list(graphs), weight
        if not self.graphs:
            raise GraphBPError("compile_many needs at least one graph; got an empty list")
        self.networks = []
        for index, G in enumerate(self.graphs):
            with _naming(index):
                net = read_network(G, weight)
            counts = (len(net.inputs), len(net.outputs))
            if self.networks and counts != self._counts:
                raise ShapeError(
                    f"graph {index} of the population has {counts[0]} inputs and {counts[1]} outputs, but graph 0 "
                    f"has {self._counts[0]} and {self._counts[1]}: every graph reads the same x and t"
                )
            self._counts = counts
            self.networks.append(net)
        self.wirings = build_wirings(self.graphs, self.networks)
        self.wiring, self._node_offset, self._edge_offset = join_wirings(self.wirings)
        n_edges = self.wiring.n_edges
        # Each graph's θ (its weights then its biases, the order of parameter_keys) is a slice of the
        # population's flat vector; the union's θ has every weight, then every bias.
        bias_offset = np.cumsum([0] + [wiring.bias_rows.size for wiring in self.wirings])
        self.theta_offsets = self._edge_offset + bias_offset
        # Entry k of the flat θ is graph g's entry k − theta_offsets[g]: a weight (union edge edge_offset[g] + that)
        # or, past the graph's edges, a bias (union bias n_edges + bias_offset[g] + that − the graph's edge count).
        graph = np.repeat(np.arange(len(self.graphs)), np.diff(self.theta_offsets))
        local = np.arange(self.theta_offsets[-1]) - self.theta_offsets[graph]
        edges_of = np.diff(self._edge_offset)[graph]
        self._union_of_flat = np.where(
            local < edges_of, self._edge_offset[graph] + local, n_edges + bias_offset[graph] + local - edges_of
        ).astype(np.int64)
        self._input_columns = np.tile(np.arange(self._counts[0]), len(self.graphs))
        self._output_slopes = _output_slopes(self.networks)
        self._structures = _output_structures(self.networks)
        self._fitting_losses: set = set()  # losses every graph's outputs were checked to fit
        if backend == "auto" and resolved == "numba" and _python_only(self.wiring.activations):
            resolved = "numpy"
        self.backend, self.kernels = make_kernels(self.wiring, resolved, threads, self.dtype)
        self.workspaces = Workspaces(self.wiring.n_nodes, self.dtype)
        self.refresh()

    def __len__(self) -> int:
        return len(self.graphs)

    def __repr__(self) -> str:
        return (f"CompiledPopulation({len(self)} graphs, {self.wiring.n_nodes} nodes, {self.wiring.n_edges} edges, "
                f"backend={self.backend!r}, dtype={self.dtype.name})")  # fmt: skip

    # -- parameters ---------------------------------------------------------------------------

    def refresh(self) -> CompiledPopulation:
        """Re-read every graph's weights and biases (after the user changed them there)."""
        flat = read_thetas(self.graphs, self.wirings, self.weight)
        if flat is None:  # a graph that changed or a bad parameter: read graph by graph, naming the first
            flat = np.empty(self.theta_offsets[-1])
            for g, (G, wiring) in enumerate(zip(self.graphs, self.wirings)):
                with _naming(g):
                    weights, biases = read_values(G, wiring, self.weight)
                flat[self.theta_offsets[g] : self.theta_offsets[g + 1]] = np.concatenate([weights, biases[wiring.bias_rows]])
        self.load_flat(flat)
        return self

    def load_flat(self, flat: np.ndarray) -> None:
        """Take the population's θ, each graph's after the other (a float vector nobody else writes to)."""
        beyond = beyond_range(flat, self.dtype)  # float32 work arrays: a huge θ would be inf there
        if beyond.size:
            g = self._member_of(beyond[0])
            with _naming(g):
                check_range(flat[self.theta_offsets[g] : self.theta_offsets[g + 1]], parameter_keys_of(self.wirings[g]),
                            self.dtype)  # fmt: skip
        self._flat = flat
        union = np.empty_like(flat)
        union[self._union_of_flat] = flat
        n_edges = self.wiring.n_edges
        bias = np.zeros(self.wiring.n_nodes, dtype=self.dtype)
        bias[self.wiring.bias_rows] = union[n_edges:]
        self.kernels.load(union[:n_edges], bias)

    def _member_of(self, entry: int) -> int:
        """The graph whose θ holds entry `entry` of the population's flat θ."""
        return int(np.searchsorted(self.theta_offsets, entry, side="right")) - 1

    def _split(self, flat: np.ndarray) -> list[np.ndarray]:
        """Each graph's slice (a view) of a population-wide flat vector (np.split costs several times more)."""
        bounds = self.theta_offsets.tolist()
        return [flat[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]

    def parameter_keys(self) -> list[list[tuple]]:
        """Each graph's ``("weight", (i, j))`` and ``("bias", j)`` in vector order (:func:`graphbp.parameter_keys`)."""
        return [parameter_keys_of(wiring) for wiring in self.wirings]

    def get_parameters(self) -> list[np.ndarray]:
        """Each graph's parameter vector θ (float64, order of :func:`graphbp.parameter_keys`)."""
        return [theta.copy() for theta in self._split(self._flat)]

    def set_parameters(self, thetas) -> CompiledPopulation:
        """Use these θ, one per graph, from now on; the graphs are untouched until :meth:`write_back`.

        Raises
        ------
        ShapeError
            Not one vector per graph, a vector of the wrong length, or NaN/inf
            (the graph's index and the parameter are named).
        """
        thetas = list(thetas)
        if len(thetas) != len(self):
            raise ShapeError(f"set_parameters needs one parameter vector per graph ({len(self)}); got {len(thetas)}")
        sizes = np.diff(self.theta_offsets)
        for g, theta in enumerate(thetas):
            if np.shape(theta) != (sizes[g],):
                with _naming(g):
                    checked_vector(theta, parameter_keys_of(self.wirings[g]))
        flat = np.concatenate(thetas).astype(np.float64)  # a copy: the caller may change theirs
        if not math.isfinite(flat.sum()):
            g = self._member_of(np.flatnonzero(~np.isfinite(flat))[0])
            with _naming(g):
                checked_vector(thetas[g], parameter_keys_of(self.wirings[g]))
        self.load_flat(flat)
        return self

    def write_back(self) -> list:
        """Write each graph's current weights and biases into its attributes; returns the graphs."""
        for G, wiring, theta in zip(self.graphs, self.wirings, self._split(self._flat)):
            write_values(G, wiring, self.weight, theta)
        return self.graphs

    # -- passes -------------------------------------------------------------------------------

    def checked_batch(self, x, t, loss):
        """X, T and the loss, checked against graph 0 (all share x, t) and against every graph's outputs."""
        loss = get_loss(loss)
        if loss not in self._fitting_losses:
            for g, net in enumerate(self.networks):
                with _naming(g):
                    check_loss(loss, net, np.zeros((1, self._counts[1])))  # outputs only: T is checked once below
            self._fitting_losses.add(loss)
        with _naming(0):
            X, T, loss, _ = check_batch(self.networks[0], x, t, loss)
        return X, T, loss

    def forward(self, x) -> list[np.ndarray]:
        """Each graph's outputs y on `x`: a list of (N, outputs) arrays (1-D for a 1-D `x`).

        Raises
        ------
        ShapeError
            `x` of the wrong shape or with NaN/inf.
        NumericalError
            A z_j became NaN or inf (the graph, node and sample are named).
        """
        X, single = as_batch(x, self.networks[0].inputs, "x")
        with self.workspaces.lent(X.shape[0]) as arrays:
            self._forward(X, arrays)
            y = arrays[1][self.wiring.output_rows].T.astype(np.float64)
        outputs = np.split(y, len(self), axis=1)
        return [part[0] for part in outputs] if single else outputs

    def loss_and_gradient(self, x, t, loss="sum_of_squares") -> tuple[np.ndarray, list[np.ndarray]]:
        """Each graph's E = Σ_n E_n over the batch and its ∂E/∂θ, in one pass over the population.

        Parameters
        ----------
        x, t : array_like
            Inputs (N, inputs) and targets (N, outputs), or 1-D for one sample;
            every graph reads the same.
        loss : str or Loss, default "sum_of_squares"

        Returns
        -------
        E : numpy.ndarray
            float64, one per graph.
        gradients : list of numpy.ndarray
            Each graph's ∂E/∂θ in its own :func:`graphbp.parameter_keys` order.

        Raises
        ------
        GraphBPError
            `x`/`t` of the wrong shape or with NaN/inf, an unknown loss, or a
            loss some graph's outputs do not fit (the first such graph is named).
        NumericalError
            A z_j or δ_j became NaN or inf (the graph, node and sample are
            named), or a graph's E overflowed (the graph and sample are named).
        """
        X, T, loss = self.checked_batch(x, t, loss)
        errors, gradient = self.flat_loss_and_gradient(X, T, loss)
        return errors, self._split(gradient)

    def flat_loss_and_gradient(self, X: np.ndarray, T: np.ndarray, loss) -> tuple[np.ndarray, np.ndarray]:
        """E per graph and the flat ∂E/∂θ (each graph's after the other) of checked arrays."""
        wiring = self.wiring
        with self.workspaces.lent(X.shape[0]) as arrays:
            a, z, delta = self._forward(X, arrays)
            with np.errstate(all="ignore"):  # a non-finite E_n or δ_j is named below, not warned of
                sample_loss, direct = self._loss_terms(loss, a, z, T)
                grad_weight, row_sums = self.kernels.backward(a, z, direct, delta)
            if not math.isfinite(row_sums.sum()):
                self._raise_non_finite(delta, "delta")
        # ∂E/∂b_j = Σ_n δ_j (eq. 5.53 with z = 1)
        gradient = np.concatenate([grad_weight, row_sums[wiring.bias_rows]])[self._union_of_flat]
        # Each graph's Σ_n E_n summed as CompiledNetwork sums it (pairwise over a contiguous row).
        by_graph = np.ascontiguousarray(sample_loss.T)
        with np.errstate(over="ignore"):
            errors = by_graph.sum(axis=1)
        if not math.isfinite(errors.sum()):
            g = int(np.flatnonzero(~np.isfinite(errors))[0])
            with _naming(g):
                check_loss_finite(by_graph[g])
        return errors, gradient.astype(np.float64, copy=False)

    def _forward(self, X: np.ndarray, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Fill a, z of `arrays` for the batch X (eqs. 5.48, 5.49): each graph's inputs read the columns of X."""
        a, z = arrays[0], arrays[1]
        rows = self.wiring.input_rows
        a[rows] = z[rows] = X.T[self._input_columns]
        with np.errstate(all="ignore"):
            total = self.kernels.forward(a, z)
        if not math.isfinite(total):
            self._raise_non_finite(z, "z")
        return arrays

    def _loss_terms(self, loss, a: np.ndarray, z: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """E_n of each graph (N, graphs) and the outputs' direct ∂E_n/∂a_k (one row per union output).

        The loss's own functions run once per set of graphs whose outputs
        share one grouping, on their outputs stacked as N × (those graphs)
        samples of K outputs: E_n of one graph is a "sample" of the stack.
        """
        rows = self.wiring.output_rows
        A, Y = (np.asarray(values[rows].T, dtype=np.float64) for values in (a, z))
        slope = np.ones_like(A)
        for activation, columns in self._output_slopes:
            slope[:, columns] = activation.slope(A[:, columns], Y[:, columns])
        N, K = A.shape[0], self._counts[1]
        sample_loss = np.empty((N, len(self)))
        direct = np.empty_like(A)
        for members, columns, groups in self._structures:
            stacked = [M[:, columns].reshape(N * members.size, K) for M in (A, Y, slope)]
            T_stacked = np.repeat(T, members.size, axis=0)
            sample_loss[:, members] = loss.per_sample(stacked[0], stacked[1], T_stacked, groups).reshape(N, members.size)
            direct[:, columns] = loss.output_delta(stacked[0], stacked[1], T_stacked, stacked[2], groups).reshape(N, -1)
        return sample_loss, np.ascontiguousarray(direct.T, dtype=self.dtype)

    def _raise_non_finite(self, values: np.ndarray, name: str) -> None:
        """Name the first graph (and its node and sample, :func:`graphbp.batches.check_finite`) where `values` is not finite."""
        for g, wiring in enumerate(self.wirings):
            own = values[self._node_offset[g] : self._node_offset[g + 1]]
            if not np.isfinite(own).all():  # not a sum: inf + (−inf) would warn on the way to the error
                with _naming(g):
                    check_finite(wiring.net, ArrayMapping(wiring.position, own), name, reverse=name == "delta")


def _python_only(activations) -> bool:
    """Whether some table entry does not compile with numba (:func:`.kernels_numba.compiled_activation`)."""
    from .kernels_numba import compiled_activation

    return any(compiled_activation(activation) is None for activation in activations)


def _output_slopes(networks: list[Network]) -> list[tuple]:
    """(Activation, union output columns) for each element-wise output activation other than the identity (h' = 1)."""
    by_activation: dict = {}
    for g, net in enumerate(networks):
        elementwise, _ = net.output_columns
        for k in elementwise:
            activation = net.activation[net.outputs[k]]
            if activation is not get_activation("identity"):
                by_activation.setdefault(activation, []).append(g * len(net.outputs) + k)
    return [(h, np.array(columns)) for h, columns in by_activation.items()]


def _output_structures(networks: list[Network]) -> list[tuple]:
    """(graph indices, their union output columns, softmax groups as columns) per grouping of the outputs."""
    K = len(networks[0].outputs)
    members: dict = {}
    for g, net in enumerate(networks):
        key = tuple(tuple(columns.tolist()) for columns in net.output_columns[1])
        members.setdefault(key, []).append(g)
    return [
        (np.array(graphs), (np.array(graphs)[:, None] * K + np.arange(K)).ravel(), [np.array(c) for c in groups])
        for groups, graphs in members.items()
    ]


def compile_many(graphs, dtype=np.float64, threads: int | None = None, *, weight: str = "weight", backend: str = "auto") -> CompiledPopulation:
    """Compile many networks together: one validation per graph, one kernel set for all.

    For a population of small, different networks (a generation of a
    topology search) trained on the same data: one pass of the population
    costs about one pass of a network as large as all of them together,
    not one compile and one pass per graph. Every result is the graph's own
    (:func:`graphbp.compile` or :func:`graphbp.backprop` on that graph, to
    rounding).

    Parameters
    ----------
    graphs : iterable of networkx.DiGraph
        The networks, all with the same numbers of inputs and of outputs;
        any activations (a user's own included), softmax groups, odd node names.
    dtype : numpy dtype, default float64
        float64, or float32 (about 1e-5 relative agreement).
    threads : int, optional
        Threads for the numba backend (as :func:`graphbp.compile`).
    weight : str, default "weight"
        Edge attribute holding w_ji.
    backend : {"auto", "numba", "numpy"}, default "auto"
        As :func:`graphbp.compile` (no dense blocks: the graphs are small),
        except that "auto" picks "numpy" when some activation does not
        compile with numba: the numba backend calls such a Python activation
        once per unit and pass direction (hundreds of calls on a population
        of small graphs), the numpy backend once per topological level.

    Returns
    -------
    CompiledPopulation

    Raises
    ------
    GraphBPError
        An empty list; an invalid graph (as :func:`graphbp.read_network`, its
        index named); a :class:`ShapeError` naming the first graph whose
        numbers of inputs or outputs differ from graph 0's; a bad `dtype` or `backend`.

    Examples
    --------
    >>> import graphbp, networkx as nx
    >>> small = nx.DiGraph([("x", "y", {"weight": 2.0})])
    >>> wider = nx.DiGraph([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": 0.5}), ("x", "y", {"weight": -1.0})])
    >>> population = graphbp.compile_many([small, wider], backend="numpy")
    >>> E, grads = population.loss_and_gradient([[1.0], [2.0]], [[0.0], [1.0]])
    >>> [round(float(e), 6) for e in E], [len(g) for g in grads]
    ([6.5, 3.361833], [2, 5])
    >>> bool(abs(E[1] - graphbp.backprop(wider, [[1.0], [2.0]], [[0.0], [1.0]]).loss) < 1e-12)
    True
    """
    return CompiledPopulation(graphs, dtype=dtype, threads=threads, weight=weight, backend=backend)
