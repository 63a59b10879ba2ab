"""A network graph as a PyTorch module: the scale-out path (GPUs, DistributedDataParallel).

:func:`to_torch` builds a ``torch.nn.Module`` computing the same network as
:func:`graphbp.forward` (eqs. 5.48, 5.49), with every weight and bias an
``nn.Parameter`` (two flat vectors, in the order of
:func:`graphbp.parameter_keys`); autograd then gives the same gradients as
:func:`graphbp.backprop`. It evaluates the graph the way one batches a DAG in
PyTorch: one topological level at a time, the level's pre-activations from
the (nodes, N) activation table by one sparse product (wide, shallow graphs)
or by a gather, scale and ``index_add`` (deep graphs with many small levels),
then the activations, written back into the table. :func:`from_torch` writes trained
parameters back into the graph.

torch is an optional extra (``pip install graphbp[torch]``): importing
:mod:`graphbp` never imports it; importing this module does.
"""

from __future__ import annotations

import numpy as np

from .activations import torch_activation
from .exceptions import ActivationError, GraphStructureError
from .network_layout import build_layout, level_plans, read_values, write_values
from .network import read_network

try:
    import torch
except ImportError:  # torch is an optional extra
    torch = None

__all__ = ["GraphModule", "to_torch", "from_torch"]

def _level_plan(layout, plan) -> tuple:
    """Rows computed on one level, their in-edges, and their activation groups (local row indices)."""
    rows = plan.computed
    counts = layout.pred_ptr[rows + 1] - layout.pred_ptr[rows]
    edges = np.concatenate([np.arange(layout.pred_ptr[p], layout.pred_ptr[p + 1]) for p in rows] or [[]]).astype(np.int64)
    local = np.repeat(np.arange(rows.size), counts)
    row_of = {p: r for r, p in enumerate(rows.tolist())}
    groups = [(activation, [row_of[p] for p in members.tolist()]) for activation, members in plan.elementwise]
    groups += [("softmax", [row_of[p] for p in members.tolist()]) for members in plan.softmax]
    return rows, edges, local, groups


class GraphModule(torch.nn.Module if torch is not None else object):
    """The network of a graph as a ``torch.nn.Module`` (build it with :func:`to_torch`).

    ``module(X)`` maps an (N, inputs) tensor to the (N, outputs) tensor of
    y = z of the output nodes. Parameters: ``weight`` (one entry per edge) and
    ``bias`` (one per non-input node), in the order of
    :func:`graphbp.parameter_keys`. ``sparse_levels`` says how a level's sums
    are formed: True, one sparse product per level (chosen when levels x
    nodes < 4 x edges); False, gather and ``index_add``. Either gives the
    same numbers; set it to override the choice.
    """

    def __init__(self, G, weight: str = "weight", dtype=None):
        super().__init__()
        net = read_network(G, weight)
        self.graph, self.weight_attribute = G, weight
        self.layout = layout = build_layout(G, net)
        for unit, code in enumerate(layout.unit_code.tolist()):
            try:
                torch_activation(layout.activations[code]) if code >= 0 else None
            except ActivationError as err:
                raise ActivationError(f"node {net.order[layout.unit_ptr[unit]]!r}: {err}") from None
        dtype = dtype or torch.get_default_dtype()
        weights, biases = read_values(G, layout, weight)
        self.weight = torch.nn.Parameter(torch.as_tensor(weights, dtype=dtype))
        self.bias = torch.nn.Parameter(torch.as_tensor(biases[layout.bias_rows], dtype=dtype))
        # Bias of every node position (0 for inputs) is gathered from `bias` through this index.
        bias_slot = np.zeros(layout.n_nodes, dtype=np.int64)
        bias_slot[layout.bias_rows] = np.arange(layout.bias_rows.size)
        plans = [_level_plan(layout, plan) for plan in level_plans(layout)]
        plans = [plan for plan in plans if plan[0].size]
        row_ends = np.cumsum([0] + [plan[0].size for plan in plans]).tolist()
        edge_ends = np.cumsum([0] + [plan[1].size for plan in plans]).tolist()
        group_rows, self._levels = [], []
        for L, (_, _, _, groups) in enumerate(plans):
            slices = []
            for name, members in groups:
                slices.append((name, len(group_rows), len(group_rows) + len(members)))
                group_rows.extend(members)
            self._levels.append((row_ends[L], row_ends[L + 1], edge_ends[L], edge_ends[L + 1], slices))
        # Flat index buffers (moved by .to(device) with the module); a level is a slice of each.
        rows = np.concatenate([plan[0] for plan in plans])
        edges = np.concatenate([plan[1] for plan in plans])
        buffers = {
            "rows": rows,
            "row_bias": bias_slot[rows],
            "edges": edges,
            "sources": layout.pred_index[edges],
            "targets": np.concatenate([plan[2] for plan in plans]),
            "group_rows": np.array(group_rows, dtype=np.int64),
            "inputs": layout.input_rows,
            "outputs": layout.output_rows,
        }
        buffers["pairs"] = np.stack([buffers["targets"], buffers["sources"]])
        # Wide, shallow graphs: one sparse product per level (copying Z per level is cheap there).
        # Deep graphs (many levels): gather + index_add with Z updated in place.
        self.sparse_levels = len(plans) * layout.n_nodes < 4 * layout.n_edges
        for name, values in buffers.items():
            self.register_buffer(f"_{name}", torch.as_tensor(values, dtype=torch.long), persistent=False)

    def forward(self, X):
        """y for an (N, inputs) batch, level by level (eqs. 5.48, 5.49)."""
        N, V = X.shape[0], self.layout.n_nodes
        Z = self.weight.new_zeros((V, N))
        Z.index_copy_(0, self._inputs, X.T.to(Z.dtype))
        for r0, r1, e0, e1, groups in self._levels:
            if self.sparse_levels:
                # eq. 5.48 for the whole level as a sparse product: a = b + W_L Z
                W = torch.sparse_coo_tensor(
                    self._pairs[:, e0:e1], self.weight[self._edges[e0:e1]], (r1 - r0, V), check_invariants=False
                )
                summed = torch.sparse.mm(W, Z)
            else:
                # eq. 5.48 as gather, scale, scatter-add: Σ_i w_ji z_i
                scaled = self.weight[self._edges[e0:e1], None] * Z.index_select(0, self._sources[e0:e1])
                summed = Z.new_zeros((r1 - r0, N)).index_add(0, self._targets[e0:e1], scaled)
            z = self._activations(self.bias[self._row_bias[r0:r1], None] + summed, groups)
            # sparse.mm keeps Z for its backward, so Z is replaced, not written in place.
            Z = Z.index_copy(0, self._rows[r0:r1], z) if self.sparse_levels else Z.index_copy_(0, self._rows[r0:r1], z)
        return Z.index_select(0, self._outputs).T

    def _activations(self, a, groups):
        """z = h(a) on one level (eq. 5.49); `groups` are (name, start, stop) slices of the group-row buffer."""
        if len(groups) == 1 and groups[0][0] != "softmax":
            return torch_activation(groups[0][0])(a)
        z = torch.zeros_like(a)
        for name, start, stop in groups:
            index = self._group_rows[start:stop]
            part = a.index_select(0, index)
            z = z.index_copy(0, index, torch.softmax(part, dim=0) if name == "softmax" else torch_activation(name)(part))
        return z

    def parameter_vector(self) -> np.ndarray:
        """θ (float64, on the CPU) in the order of :func:`graphbp.parameter_keys`."""
        return torch.cat([self.weight.detach(), self.bias.detach()]).cpu().double().numpy()


def to_torch(G, weight: str = "weight", dtype=None) -> GraphModule:
    """The network of `G` as a ``torch.nn.Module`` with its weights and biases as parameters.

    Parameters
    ----------
    G : networkx.DiGraph
        The network (see :func:`graphbp.read_network`).
    weight : str, default "weight"
        Edge attribute holding w_ji.
    dtype : torch.dtype, optional
        Parameter dtype (default: torch's default dtype).

    Returns
    -------
    GraphModule
        ``module(X)`` gives y for an (N, inputs) tensor; move it with
        ``module.to("cuda")`` like any module.

    Raises
    ------
    ImportError
        If torch is not installed (``pip install graphbp[torch]``).
    GraphBPError
        An invalid network, or an activation with no torch version (the node is named).

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
    return GraphModule(G, weight=weight, dtype=dtype)


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
