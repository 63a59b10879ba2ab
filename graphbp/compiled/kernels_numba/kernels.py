"""NumbaKernels: the forward and backward passes of a wiring with the numba kernels, the batch split across threads.

Each thread runs its share of a batch's columns (a span) through a whole
pass: the kernels of :mod:`.passes`, a Python activation's h or h' between
their runs, and the dense blocks' matrix products (BLAS on one thread inside
each engine thread).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import nullcontext

import numpy as np
from numba.typed import List

from ...activations import get_activation
from ...losses import Loss
from ...wiring import Wiring
from ..blas import GEMM
from ..dense_blocks import BlockPlan, one_blas_thread
from .pass_struct import PassData, pass_data
from .passes import (
    WHOLE_PASS_CODES,
    backward_run,
    forward_run,
    gather_entries,
    machine_code,
    row_sums,
    whole_pass,
)
from .rows import PYTHON, row_kernels, row_types

__all__ = ["MIN_SAMPLES_PER_THREAD", "MIN_THREAD_WORK", "NumbaKernels"]

# Fewer samples than this per thread are not worth a thread.
MIN_SAMPLES_PER_THREAD = 16

# With threads=None, fewer edge-samples (edges × samples) than this per thread are not worth a thread
# either: waking a thread and passing the GIL back and forth costs a fixed time per pass direction,
# which a smaller share does not earn back (benchmarks/bench.py measures where; see the docs' Performance page).
MIN_THREAD_WORK = 1 << 21

# The engine's threads: each runs its share of a batch's columns through a whole pass (the kernels
# release the GIL). Python threads, not numba's prange: a pass with dense blocks calls BLAS between
# kernel runs, and one prange launch per run and product cost more than they split.
_POOL = ThreadPoolExecutor(thread_name_prefix="graphbp")


class NumbaKernels:
    """Forward and backward passes of a wiring with the numba kernels, the batch split across threads.

    Every table entry numba compiles runs inside the kernels. Units with an
    activation it cannot compile (code :data:`PYTHON`) cut the passes into
    segments: the kernels stop after such a unit and its Python h or h' is
    applied to the thread's columns of the row before they go on.

    With a :class:`~graphbp.compiled.dense_blocks.BlockPlan`, the plan's blocks
    run as matrix products (BLAS on one thread inside each engine thread) and
    the kernels run the remaining edges, over the units in level order,
    stopping where a block's product comes in. Each thread takes a share of
    the batch's columns through the whole pass.
    """

    def __init__(self, wiring: Wiring, threads: int | None = None, dtype=np.float64, plan: BlockPlan | None = None):
        self.wiring, self.threads, self.plan = wiring, threads, plan
        dtype = self.dtype = np.dtype(dtype).type
        compiled = [row_kernels(activation, dtype) for activation in wiring.activations]
        # A Python-only entry keeps a compiled placeholder in the list, so its codes stay the table's.
        placeholder = row_kernels(get_activation("identity"), dtype)
        pairs = [pair or placeholder for pair in compiled] or [placeholder]
        activate_type, scale_type = row_types(dtype)
        self.functions, self.derivatives = List.empty_list(activate_type), List.empty_list(scale_type)
        for h, slope in pairs:
            self.functions.append(h)
            self.derivatives.append(slope)
        python = {code for code, pair in enumerate(compiled) if pair is None}
        self.codes = np.where(np.isin(wiring.unit_code, list(python)), PYTHON, wiring.unit_code).astype(np.int64)
        n_units = len(wiring.unit_code)
        if plan is None:
            self.csr, self.units = wiring, np.arange(n_units, dtype=np.int64)
            self.seeded_forward = self.seeded_backward = np.zeros(wiring.n_nodes, dtype=bool)
        else:
            self.csr, self.units = plan, plan.units
            self.seeded_forward, self.seeded_backward = plan.seeded_forward, plan.seeded_backward
        customs = np.flatnonzero(self.codes[self.units] == PYTHON).tolist()
        forward_cuts, backward_cuts = (plan.forward_cuts, plan.backward_cuts) if plan else ({}, {})
        # Forward segments end just after a Python unit, backward ones start at it; both stop for a block.
        cuts = sorted({0, n_units, *[k + 1 for k in customs], *forward_cuts})
        self.forward_segments = list(zip(cuts[:-1], cuts[1:]))
        cuts = sorted({0, n_units, *customs, *backward_cuts})
        self.backward_segments = list(zip(cuts[:-1], cuts[1:]))[::-1]
        # Each output's unit code (SOFTMAX_CODE for a group member), for whole_pass's h'(a_k).
        self.output_codes = np.repeat(self.codes, np.diff(wiring.unit_ptr))[wiring.output_rows]
        # The output columns of each softmax group, as the losses take them; numba cannot loop over an
        # empty tuple, so a network without groups passes one empty column list (read by no loss it can use).
        groups = tuple(np.asarray(columns, dtype=np.int64) for columns in wiring.net.output_columns[1])
        self.groups = groups or (np.empty(0, dtype=np.int64),)
        # Whole passes (see whole) only where every unit runs compiled and no block cuts the pass; a Python
        # unit at the very end (an output) leaves one forward segment, so the count of segments cannot tell.
        self._one_call = not customs and plan is None
        self._whole_call = None  # whole_pass's machine code, made on the first whole pass
        blocks = plan.blocks if plan else ()
        # Every block's W_b entries, row-major, one block after another: each one's edge index, or −1.
        self._entries = np.concatenate([block.entries for block in blocks] or [np.empty(0)]).astype(np.int64)
        self.data = self._pass_data(forward_cuts, backward_cuts)
        # Runs of segments one numba call each: a run ends where a Python unit's h (forward) or h' (backward) comes in.
        self.forward_runs = _runs([self.units[stop - 1] for _, stop in self.forward_segments], self.codes)
        self.backward_runs = _runs([self.units[start] for start, _ in self.backward_segments], self.codes)

    def _pass_data(self, forward_cuts: dict, backward_cuts: dict) -> PassData:
        """The :class:`PassData` of this wiring and block plan."""
        wiring, csr, blocks = self.wiring, self.csr, self.plan.blocks if self.plan else ()
        number = {id(block): b for b, block in enumerate(blocks)}

        def cut_lists(segments, position, cuts):
            lists = [[number[id(block)] for block in cuts.get(segment[position], ())] for segment in segments]
            return _pointers_of(lists), np.array([b for blocks_ in lists for b in blocks_], dtype=np.int64)

        def indices(part):
            lists = [np.arange(wiring.n_nodes)[getattr(block, part)] for block in blocks]
            return _pointers_of(lists), np.concatenate(lists or [np.empty(0)]).astype(np.int64)

        shapes = [block.shape[0] * block.shape[1] for block in blocks]
        (forward_cut_ptr, forward_cut_blocks), (backward_cut_ptr, backward_cut_blocks) = (
            cut_lists(self.forward_segments, 0, forward_cuts), cut_lists(self.backward_segments, 1, backward_cuts)
        )
        (row_ptr, row_index), (col_ptr, col_index) = indices("rows"), indices("cols")
        return pass_data(
            functions=self.functions, derivatives=self.derivatives, unit_ptr=wiring.unit_ptr,
            codes=self.codes, pred_ptr=csr.pred_ptr, pred_index=csr.pred_index, succ_ptr=csr.succ_ptr,
            succ_index=csr.succ_index, succ_edge=csr.succ_edge, output_slot=wiring.output_slot,
            input_rows=wiring.input_rows, output_rows=wiring.output_rows, output_codes=self.output_codes,
            bias_rows=wiring.bias_rows, max_unit=wiring.max_unit, units=self.units,
            seeded_forward=self.seeded_forward, seeded_backward=self.seeded_backward,
            forward_segments=np.array(self.forward_segments, dtype=np.int64).reshape(-1, 2),
            forward_cut_ptr=forward_cut_ptr, forward_cut_blocks=forward_cut_blocks,
            backward_segments=np.array(self.backward_segments, dtype=np.int64).reshape(-1, 2),
            backward_cut_ptr=backward_cut_ptr, backward_cut_blocks=backward_cut_blocks,
            row_ptr=row_ptr, row_index=row_index, col_ptr=col_ptr, col_index=col_index,
            matrix_ptr=np.concatenate([[0], np.cumsum(shapes)]).astype(np.int64), entries=self._entries,
            gemm=GEMM[np.dtype(self.dtype)],
        )

    def load(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Take new parameter values."""
        # A writeable C array (the types whole_pass was compiled for): the engine's own θ, or its float32 copy.
        weight = np.require(weight, dtype=bias.dtype, requirements=("C", "W"))
        self.bias = bias
        self.weight = weight if self.plan is None else weight[self.plan.pred_edge]
        self.succ_weight = weight[self.csr.succ_edge]
        # Every block's W_b, row-major, one after another.
        self.matrices = gather_entries(weight, self._entries) if self.plan else weight[:0]

    def _spans(self, width: int) -> list[tuple[int, int]]:
        """The columns (n0, n1) of each thread's share of a batch of `width`: one span where one thread will do.

        ``threads`` given: that many (each with ≥ MIN_SAMPLES_PER_THREAD samples); None: up to numba's thread
        count, each with ≥ MIN_SAMPLES_PER_THREAD samples and ≥ MIN_THREAD_WORK edge-samples.
        """
        threads = 1
        if width >= 2 * MIN_SAMPLES_PER_THREAD:
            if self.threads:
                threads = min(self.threads, width // MIN_SAMPLES_PER_THREAD)
            else:
                from numba import get_num_threads

                work = self.wiring.n_edges * width // MIN_THREAD_WORK
                threads = max(1, min(get_num_threads(), width // MIN_SAMPLES_PER_THREAD, work))
        return [(width * c // threads, width * (c + 1) // threads) for c in range(threads)]

    def _on_threads(self, work, spans) -> list:
        """``work(c, n0, n1)`` for each span c: the first on this thread, the others on the pool's; their results."""
        if self.plan is None and len(spans) == 1:  # no BLAS and no other thread: the plain call
            return [work(0, *spans[0])]
        with nullcontext() if self.plan is None else one_blas_thread():  # the products split by columns, not by BLAS
            futures = [_POOL.submit(work, c, n0, n1) for c, (n0, n1) in enumerate(spans[1:], 1)]
            try:
                first = work(0, *spans[0])
            finally:
                wait(futures)
        return [first] + [future.result() for future in futures]  # raises what a work raised

    def _activation(self, unit: int):
        """The table entry of a unit and the position of its (single) node."""
        wiring = self.wiring
        return wiring.activations[wiring.unit_code[unit]], wiring.unit_ptr[unit]

    def forward(self, a: np.ndarray, z: np.ndarray) -> float:
        """Fill a and z (inputs' rows already hold x); return Σ z (for the finiteness check)."""
        return sum(self._on_threads(lambda c, n0, n1: self._forward_columns(a, z, n0, n1), self._spans(a.shape[1])))

    def _forward_columns(self, a: np.ndarray, z: np.ndarray, n0: int, n1: int) -> float:
        """The forward pass on columns n0:n1: one numba call per run, a Python unit's h after its run; Σ z there."""
        for s0, s1, unit in self.forward_runs:
            forward_run(self.data, self.weight, self.bias, self.matrices, a, z, s0, s1, n0, n1)
            if unit >= 0:
                activation, j = self._activation(unit)
                z[j, n0:n1] = activation.function(a[j, n0:n1])
        return row_sums(z, n0, n1).sum()

    def whole(self, loss: Loss, X: np.ndarray, T: np.ndarray, work: np.ndarray):
        """A whole pass in one call (:func:`whole_pass`), where one is worth it and possible.

        That is: a batch too small to split across threads (fewer than
        2 × :data:`MIN_SAMPLES_PER_THREAD` samples), no Python activation, no dense blocks,
        a loss of :data:`WHOLE_PASS_LOSSES`. Fills ``work`` (3, nodes, N) with
        a, z, δ and returns what :func:`whole_pass` does; None where it does
        not apply.
        """
        loss_code = WHOLE_PASS_CODES.get(id(loss))
        if loss_code is None or X.shape[0] >= 2 * MIN_SAMPLES_PER_THREAD or not self._one_call:
            return None
        if not (X.flags.carray and T.flags.carray and X.dtype == T.dtype == np.float64):
            X, T = (np.array(v, dtype=np.float64, order="C") for v in (X, T))  # the types it was compiled for
        if self._whole_call is None:
            self._whole_call = machine_code(whole_pass, (self.data, self.groups, loss_code, self.weight, self.bias,
                                                          self.succ_weight, X, T, work))  # fmt: skip
        return self._whole_call(self.data, self.groups, loss_code, self.weight, self.bias, self.succ_weight, X, T, work)

    def backward(self, a, z, direct, delta) -> tuple[np.ndarray, np.ndarray]:
        """Fill delta (eqs. 5.54-5.56); return ∂E/∂w for every edge (eq. 5.53) and Σ_n δ_j per row."""
        spans = self._spans(a.shape[1])
        width = max(n1 - n0 for n0, n1 in spans)
        # One per thread, summed at the end; not zeroed: a pass writes each edge's entry once (a block's or the kernels').
        grad = np.empty((len(spans), self.wiring.n_edges), dtype=a.dtype)
        through = np.empty((len(spans), self.wiring.max_unit, width), dtype=a.dtype)
        sums = self._on_threads(
            lambda c, n0, n1: self._backward_columns(a, z, direct, delta, through[c], grad[c], n0, n1), spans
        )
        for part in grad[1:]:
            grad[0] += part
        return grad[0], sum(sums)

    def _backward_columns(self, a, z, direct, delta, through, grad, n0: int, n1: int) -> np.ndarray:
        """The backward pass on columns n0:n1, writing Σ_n δ_k z_j over them into `grad`; a Python unit's h'
        after its run. Returns Σ_n δ_j over these columns, per row."""
        for s0, s1, unit in self.backward_runs:
            backward_run(self.data, self.succ_weight, self.matrices, a, z, direct, delta, through, grad, s0, s1, n0, n1)
            if unit >= 0:
                activation, j = self._activation(unit)
                slot, columns = self.wiring.output_slot[j], slice(n0, n1)
                own = direct[slot, columns] if slot >= 0 else 0.0
                delta[j, columns] = own + activation.derivative(a[j, columns]) * delta[j, columns]
        return row_sums(delta, n0, n1)


def _pointers_of(lists) -> np.ndarray:
    """CSR pointers of a list of lists (or arrays)."""
    return np.concatenate([[0], np.cumsum([len(items) for items in lists])]).astype(np.int64)


def _runs(ends, codes) -> list[tuple[int, int, int]]:
    """(first segment, past the last, Python unit or −1) of each run: segment s ends a run where its
    unit ``ends[s]`` (the last one forward, the first backward) is a Python unit."""
    runs, first = [], 0
    for s, unit in enumerate(ends):
        if codes[unit] == PYTHON or s == len(ends) - 1:
            runs.append((first, s + 1, int(unit) if codes[unit] == PYTHON else -1))
            first = s + 1
    return runs
