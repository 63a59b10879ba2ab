"""The PyTorch baselines of bench.py: a graph network written by hand in plain PyTorch, two ways.

What a competent PyTorch user would write for a DAG network without graphbp's
module (nothing here imports :mod:`graphbp.torch_module`): the nodes are grouped
into topological levels; each node's z is its own (N,) tensor; a level stacks
the z of the nodes it reads into one (sources, N) tensor and computes all its
pre-activations at once, then splits them back into per-node tensors.

* ``stacked``: one dense (level nodes x sources) weight matrix per level,
  filled from the flat weight vector, and one matrix product;
* ``index_add``: gather the stacked sources per edge, scale by the edge's
  weight, ``index_add`` into the level's rows.

Autograd does the backward pass. bench.py times both and reports the faster.
Softmax outputs are left out (the benchmark graphs have identity outputs).
"""

from __future__ import annotations

import networkx as nx
import torch

import graphbp

__all__ = ["KINDS", "HandWritten"]

KINDS = ("stacked", "index_add")

_ACTIVATIONS = {
    "identity": lambda a: a,
    "tanh": torch.tanh,
    "logistic": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": lambda a: torch.nn.functional.leaky_relu(a, 0.01),
    "softplus": lambda a: torch.logaddexp(torch.zeros_like(a), a),
}


class HandWritten(torch.nn.Module):
    """y = network(X) with per-node tensors stacked per level; `kind` is "stacked" or "index_add".

    ``weight`` and ``bias`` are flat parameters in the order of :func:`graphbp.parameter_keys`
    (so the gradients can be compared with graphbp's).
    """

    def __init__(self, G, kind: str, dtype=torch.float64):
        super().__init__()
        net = graphbp.read_network(G)
        keys = graphbp.parameter_keys(G)
        edges = [key for kind_, key in keys if kind_ == "weight"]
        units = [key for kind_, key in keys if kind_ == "bias"]
        self.kind, self.inputs, self.outputs = kind, list(net.inputs), list(net.outputs)
        self.weight = torch.nn.Parameter(torch.tensor([G.edges[e]["weight"] for e in edges], dtype=dtype))
        self.bias = torch.nn.Parameter(torch.tensor([net.bias[j] for j in units], dtype=dtype))
        if net.softmax_groups:
            raise ValueError("the hand-written baselines cover element-wise activations only")
        edge_id = {e: k for k, e in enumerate(edges)}
        bias_id = {j: k for k, j in enumerate(units)}
        rank = {n: k for k, n in enumerate(G)}
        input_set = set(net.inputs)
        self.levels = []
        for generation in nx.topological_generations(G):
            nodes = [n for n in generation if n not in input_set]
            if not nodes:
                continue
            sources = sorted({i for j in nodes for i in G.predecessors(j)}, key=rank.__getitem__)
            column = {i: c for c, i in enumerate(sources)}
            pairs = [(r, column[i], edge_id[i, j]) for r, j in enumerate(nodes) for i in G.predecessors(j)]
            rows, cols, ids = (torch.tensor(v, dtype=torch.long) for v in zip(*pairs)) if pairs else (
                torch.zeros(0, dtype=torch.long),) * 3
            groups = {}
            for r, j in enumerate(nodes):
                name = net.activation[j].name
                groups.setdefault(name, []).append(r)
            self.levels.append((nodes, sources, rows, cols, ids, torch.tensor([bias_id[j] for j in nodes]),
                                [(name, torch.tensor(members)) for name, members in groups.items()]))

    def forward(self, X):
        z = dict(zip(self.inputs, X.T))
        for nodes, sources, rows, cols, ids, bias_ids, groups in self.levels:
            N = X.shape[0]
            stacked = torch.stack([z[i] for i in sources]) if sources else X.new_zeros((0, N))
            if self.kind == "stacked":
                W = X.new_zeros((len(nodes), len(sources))).index_put((rows, cols), self.weight[ids])
                a = self.bias[bias_ids, None] + W @ stacked
            else:
                scaled = self.weight[ids, None] * stacked[cols]
                a = self.bias[bias_ids, None] + X.new_zeros((len(nodes), N)).index_add(0, rows, scaled)
            if len(groups) == 1:
                out = _ACTIVATIONS[groups[0][0]](a)
            else:
                out = torch.zeros_like(a)
                for name, members in groups:
                    out = out.index_copy(0, members, _ACTIVATIONS[name](a[members]))
            z.update(zip(nodes, out))
        return torch.stack([z[k] for k in self.outputs], dim=1)
