"""The numpy/scipy engine: level scheduling, one sparse product per topological level.

Units are grouped by level (a unit's level is one more than the deepest unit
feeding it), so every unit of a level depends only on earlier levels. The
forward pass computes a whole level as ``b + W_L @ Z`` (eq. 5.48) with W_L
the level's rows of the weight matrix in CSR form; the backward pass computes
its Σ_k w_kj δ_k as ``S_L @ Δ`` with S_L the level's rows of the transposed
(successor) matrix (eq. 5.56). Activations are applied per group of rows
sharing one :class:`~graphbp.Activation`, so a user's own activation costs one
Python call per level, not per node.

Fast on wide, shallow graphs; on deep random DAGs the per-level overhead
(thousands of levels) dominates, which is why numba is preferred when installed.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from ..activations import get_activation, softmax, softmax_product
from ..wiring import Wiring, LevelPlan, level_plans

__all__ = ["LevelKernels"]

IDENTITY = get_activation("identity")

# Elements of a temporary (edges x batch) block when summing Σ_n δ_j z_i edge by edge.
_GRADIENT_BLOCK = 1 << 20


def _rows_matrix(rows, ptr, index, ids_of, n_nodes):
    """CSR with the entries ``ptr[p]:ptr[p+1]`` of each row p in `rows`, and the parameter id of each entry."""
    counts = ptr[rows + 1] - ptr[rows]
    starts = np.repeat(ptr[rows] - np.cumsum(counts) + counts, counts)
    entries = starts + np.arange(counts.sum())
    indptr = np.concatenate([[0], np.cumsum(counts)])
    matrix = csr_matrix((np.zeros(entries.size), index[entries], indptr), shape=(rows.size, n_nodes))
    return matrix, ids_of[entries]


class _Level:
    """One level: its rows, their forward/backward matrices, and their activation groups."""

    def __init__(self, wiring: Wiring, plan: LevelPlan):
        self.rows, self.computed = plan.rows, plan.computed
        n = wiring.n_nodes
        edge_ids = np.arange(wiring.n_edges)
        self.forward_matrix, self.forward_ids = _rows_matrix(self.computed, wiring.pred_ptr, wiring.pred_index, edge_ids, n)
        self.backward_matrix, self.backward_ids = _rows_matrix(
            self.rows, wiring.succ_ptr, wiring.succ_index, wiring.succ_edge, n
        )
        # Row groups as (positions, their indices within self.rows). An input's z is x: h is the
        # identity there, and its δ is ∂E_n/∂x_i.
        local = {p: r for r, p in enumerate(self.rows.tolist())}
        inputs = np.setdiff1d(self.rows, self.computed)
        groups = [*plan.elementwise, *([(IDENTITY, inputs)] if inputs.size else [])]
        self.elementwise = [(activation, rows, np.array([local[p] for p in rows.tolist()])) for activation, rows in groups]
        self.softmax = [(members, np.array([local[p] for p in members.tolist()])) for members in plan.softmax]

    def load(self, weight: np.ndarray) -> None:
        # New data arrays, so the matrices take the engine's dtype (float32 stays float32).
        self.forward_matrix.data = weight[self.forward_ids]
        self.backward_matrix.data = weight[self.backward_ids]


class LevelKernels:
    """Forward and backward passes of a wiring by level scheduling (see the module docstring)."""

    def __init__(self, wiring: Wiring):
        self.wiring = wiring
        self.levels = [_Level(wiring, plan) for plan in level_plans(wiring)]
        self.target = np.repeat(np.arange(wiring.n_nodes), np.diff(wiring.pred_ptr))

    def load(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Take new parameter values."""
        self.bias = bias
        for level in self.levels:
            level.load(weight.astype(bias.dtype, copy=False))

    def forward(self, a: np.ndarray, z: np.ndarray) -> float:
        """Fill a and z (inputs' rows already hold x); return Σ z (for the finiteness check)."""
        for level in self.levels:
            rows = level.computed
            if rows.size:
                # eq. 5.48 for the whole level: a = b + W_L z
                a[rows] = self.bias[rows, None] + level.forward_matrix @ z
            for activation, group, _ in level.elementwise:
                z[group] = activation.function(a[group])
            for members, _ in level.softmax:
                z[members] = softmax(a[members])
        return z.sum()

    def backward(self, a, z, direct, delta) -> tuple[np.ndarray, np.ndarray]:
        """Fill delta (eqs. 5.54-5.56); return ∂E/∂w for every edge (eq. 5.53) and Σ_n δ_j per row."""
        slot = self.wiring.output_slot
        for level in reversed(self.levels):
            # eq. 5.56 for the whole level: Σ_{k ∈ successors(j)} w_kj δ_k
            through = level.backward_matrix @ delta
            for activation, group, local in level.elementwise:
                delta[group] = _direct(direct, slot, group) + activation.derivative(a[group]) * through[local]
            for members, local in level.softmax:
                delta[members] = _direct(direct, slot, members) + softmax_product(z[members], through[local])
        return self.gradient(z, delta), delta.sum(axis=1)

    def gradient(self, z, delta) -> np.ndarray:
        """∂E/∂w_ji = Σ_n δ_j z_i, in blocks of edges so the temporary stays small."""
        wiring = self.wiring
        grad = np.empty(wiring.n_edges, dtype=delta.dtype)
        step = max(1, _GRADIENT_BLOCK // delta.shape[1])
        for start in range(0, wiring.n_edges, step):
            block = slice(start, start + step)
            grad[block] = np.einsum("ij,ij->i", delta[self.target[block]], z[wiring.pred_index[block]])
        return grad


def _direct(direct, slot, rows):
    """The loss's direct ∂E_n/∂a_j of `rows` (zero for non-outputs)."""
    own = np.zeros((rows.size, direct.shape[1]), dtype=direct.dtype)
    outputs = slot[rows] >= 0
    own[outputs] = direct[slot[rows[outputs]]]
    return own
