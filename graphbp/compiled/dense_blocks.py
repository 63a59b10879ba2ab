"""Dense blocks: edges between two topological levels that nearly fill their rows × columns, run as matrix products.

On a layered graph most edges join consecutive layers, every unit of one to
every unit of the next. The per-node kernels read one row of N numbers per
edge for 2N flops (memory bound, a few GFLOP/s); the same sums taken as one
matrix product per pair of levels run at BLAS speed. So the edges are grouped
by (level of the target, level of the source) (levels as in
:func:`graphbp.wiring.unit_levels`); a group whose edges fill at least
:data:`DENSITY` of its targets × its sources becomes a block with a dense
weight matrix W_b (zeros where an edge is missing). With R and C the block's
target and source rows:

* forward, eq. 5.48: ``a[R] = W_b @ z[C]`` is computed before the kernels
  reach level R; they then add the bias and the remaining (sparse) edges;
* backward, eq. 5.56: ``δ[C] = W_b^T @ δ[R]`` is computed before the kernels
  reach level C; they add the remaining successors' w_kj δ_k and apply h';
* eq. 5.53: ∂E/∂w_ji = Σ_n δ_j z_i for the block's edges are the entries of
  ``δ[R] @ z[C]^T`` at the edges' places.

The rest of the passes is the per-node kernels' (:mod:`.kernels_numba`), run
over the units in level order and cut where a block's product must come in.
Each of the engine's threads runs its share of the batch's columns through
the whole pass, products included (BLAS on one thread inside each): the
threads meet once per pass and direction, not at every product (two thread
pools taking turns on the same cores, numba's and BLAS's, each spinning while
it waits, slow each other down many times over).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..wiring import Wiring, level_units

__all__ = [
    "DENSITY", "MIN_BLOCK_EDGES", "DenseBlock", "BlockPlan", "plan_blocks", "auto_plan", "one_blas_thread",
    "blas_limits_available",
]

# A group of edges is a block when it fills at least this share of its rows × columns: a product
# runs ~8x more flops per second than the per-edge loop here, so a quarter full is still a clear gain.
DENSITY = 0.25

# With dense="auto", groups smaller than this stay with the per-node kernels: a block stops the kernels
# at its levels and copies its rows for BLAS, which small products do not repay (the 48-wide layers of
# bench.py's layered S graph ran no faster as blocks on one thread, slower on two).
MIN_BLOCK_EDGES = 4096


@dataclass(frozen=True)
class DenseBlock:
    """The edges of one (target level, source level) group, as a dense (rows, cols) matrix.

    Attributes
    ----------
    rows, cols : slice or numpy.ndarray
        The target and source positions (a slice where they are contiguous, so no copy is made).
    shape : tuple of int
        (targets, sources).
    edges : numpy.ndarray
        The block's edge indices e (parameter order).
    entries : numpy.ndarray
        For each entry of W_b, row-major: its edge index e, or −1 where there is no edge.
    """

    rows: slice | np.ndarray
    cols: slice | np.ndarray
    shape: tuple
    edges: np.ndarray
    entries: np.ndarray


@dataclass(frozen=True)
class BlockPlan:
    """Dense blocks and the sparse rest of a wiring, and where the kernels must stop for a block.

    Attributes
    ----------
    blocks : tuple of DenseBlock
    units : numpy.ndarray
        The units in level order: the sequence the kernels run through.
    forward_cuts : dict
        Index into `units` -> the blocks whose products go into a (their target level starts there).
    backward_cuts : dict
        Index into `units` -> the blocks whose products go into δ (their source level ends there).
    seeded_forward, seeded_backward : numpy.ndarray
        Per position, whether a block writes its a (forward) or its first part of δ (backward).
    pred_ptr, pred_index, pred_edge, succ_ptr, succ_index, succ_edge : numpy.ndarray
        The wiring's CSR arrays with the blocks' edges left out; ``pred_edge`` gives each
        remaining predecessor entry's edge index e.
    """

    blocks: tuple
    units: np.ndarray
    forward_cuts: dict
    backward_cuts: dict
    seeded_forward: np.ndarray
    seeded_backward: np.ndarray
    pred_ptr: np.ndarray
    pred_index: np.ndarray
    pred_edge: np.ndarray
    succ_ptr: np.ndarray
    succ_index: np.ndarray
    succ_edge: np.ndarray

    @property
    def dense_edges(self) -> int:
        return sum(block.edges.size for block in self.blocks)


def _index(positions: np.ndarray) -> slice | np.ndarray:
    """Sorted distinct positions as a slice where they are contiguous (a view, not a copy, when indexing)."""
    if positions[-1] - positions[0] + 1 == positions.size:
        return slice(int(positions[0]), int(positions[-1]) + 1)
    return positions


def plan_blocks(wiring: Wiring, min_edges: int = 1) -> BlockPlan:
    """The dense blocks of `wiring`: (target level, source level) groups of ≥ `min_edges` edges filling ≥ DENSITY.

    Parameters
    ----------
    wiring : Wiring
        The compiled network's arrays (:func:`graphbp.wiring.build_wiring`).
    min_edges : int, default 1
        Smaller groups stay with the per-node kernels.

    Returns
    -------
    BlockPlan
        Possibly without blocks.

    Examples
    --------
    >>> import graphbp
    >>> from graphbp.wiring import build_wiring
    >>> G = graphbp.mlp([2, 3, 1], seed=0)
    >>> plan = plan_blocks(build_wiring(G, graphbp.read_network(G)))
    >>> [block.shape for block in plan.blocks], plan.dense_edges   # inputs → hidden, hidden → output
    ([(3, 2), (1, 3)], 9)
    >>> plan.blocks[0].rows, plan.blocks[0].cols                    # contiguous positions: slices, no copies
    (slice(2, 5, None), slice(0, 2, None))
    """
    levels = level_units(wiring)
    unit_level = np.empty(len(wiring.unit_code), dtype=np.int64)
    for level, units in enumerate(levels):
        unit_level[units] = level
    node_level = np.repeat(unit_level, np.diff(wiring.unit_ptr))
    n_nodes = wiring.n_nodes
    target = np.repeat(np.arange(n_nodes), np.diff(wiring.pred_ptr))
    source = wiring.pred_index
    key = node_level[target] * len(levels) + node_level[source]
    order = np.argsort(key, kind="stable")
    keys, starts, counts = np.unique(key[order], return_index=True, return_counts=True)
    blocks, targets, sources = [], [], []
    dense = np.zeros(wiring.n_edges, dtype=bool)
    for group_key, start, count in zip(keys.tolist(), starts.tolist(), counts.tolist()):
        if count < min_edges:
            continue
        edges = order[start : start + count]
        rows, row_of = np.unique(target[edges], return_inverse=True)
        cols, col_of = np.unique(source[edges], return_inverse=True)
        if count < DENSITY * rows.size * cols.size:
            continue
        entries = np.full(rows.size * cols.size, -1, dtype=np.int64)
        entries[row_of * cols.size + col_of] = edges
        blocks.append(DenseBlock(_index(rows), _index(cols), (rows.size, cols.size), edges, entries))
        targets.append(group_key // len(levels))
        sources.append(group_key % len(levels))
        dense[edges] = True
    level_start = np.cumsum([0] + [units.size for units in levels])
    forward_cuts: dict = {}
    backward_cuts: dict = {}
    seeded_forward = np.zeros(n_nodes, dtype=bool)
    seeded_backward = np.zeros(n_nodes, dtype=bool)
    for block, target_level, source_level in zip(blocks, targets, sources):
        forward_cuts.setdefault(int(level_start[target_level]), []).append(block)
        backward_cuts.setdefault(int(level_start[source_level + 1]), []).append(block)
        seeded_forward[block.rows] = True
        seeded_backward[block.cols] = True
    kept = ~dense
    succ_kept = kept[wiring.succ_edge]
    succ_source = np.repeat(np.arange(n_nodes), np.diff(wiring.succ_ptr))
    return BlockPlan(
        blocks=tuple(blocks),
        units=np.concatenate(levels).astype(np.int64),
        forward_cuts=forward_cuts,
        backward_cuts=backward_cuts,
        seeded_forward=seeded_forward,
        seeded_backward=seeded_backward,
        pred_ptr=_pointers(target[kept], n_nodes),
        pred_index=wiring.pred_index[kept],
        pred_edge=np.flatnonzero(kept),
        succ_ptr=_pointers(succ_source[succ_kept], n_nodes),
        succ_index=wiring.succ_index[succ_kept],
        succ_edge=wiring.succ_edge[succ_kept],
    )


def auto_plan(wiring: Wiring) -> BlockPlan | None:
    """``dense="auto"``'s choice: the groups of ≥ MIN_BLOCK_EDGES edges, if they hold at least half of all edges; else None."""
    plan = plan_blocks(wiring, min_edges=MIN_BLOCK_EDGES)
    return plan if plan.blocks and 2 * plan.dense_edges >= wiring.n_edges else None


def _pointers(owner: np.ndarray, n_nodes: int) -> np.ndarray:
    """CSR pointers of entries grouped by (sorted) owner position."""
    return np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n_nodes))]).astype(np.int64)


# -- BLAS threads -------------------------------------------------------------------------------------

_BLAS = {"lock": threading.Lock(), "controller": None, "limiter": None, "users": 0}


def blas_limits_available() -> bool:
    """Whether threadpoolctl is installed (it holds BLAS to one thread inside the engine's threads)."""
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def one_blas_thread():
    """numpy's and scipy's BLAS on one thread while any pass is inside (the engine's own threads split the products).

    The setting is process-wide: the first pass in sets it, the last one out
    restores what was there before.
    """
    state = _BLAS
    with state["lock"]:
        if state["users"] == 0:
            if state["controller"] is None:
                import scipy.linalg.cython_blas  # noqa: F401  (the BLAS numba's np.dot calls: loaded, so limited too)
                from threadpoolctl import ThreadpoolController

                state["controller"] = ThreadpoolController()
            state["limiter"] = state["controller"].limit(limits=1, user_api="blas")
        state["users"] += 1
    try:
        yield
    finally:
        with state["lock"]:
            state["users"] -= 1
            if state["users"] == 0:
                state["limiter"].restore_original_limits()
