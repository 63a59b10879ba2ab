"""numba kernels: one loop over the nodes in topological order, the batch innermost.

Each kernel works on the columns ``n0:n1`` of node-major arrays ``a, z, delta``
of shape (nodes, N), so one call can be one thread's share of a batch or one
chunk of a streamed batch. Per edge the forward pass reads one row z_i
(eq. 5.48) and the backward pass reads one row δ_k, using it both for the sum
of eq. 5.56 and for ∂E/∂w_kj = Σ_n δ_k z_j (eq. 5.53): two rows of N numbers
per edge, which is what bounds the speed on large graphs (memory traffic).

The units are taken in topological order, or in level order when dense
blocks (:mod:`.dense_blocks`) run part of the edges as matrix products; then
``seeded`` rows start from the block's part of a_j (forward) or of
Σ_k w_kj δ_k (backward) instead of 0.

Importing this module needs numba; :mod:`graphbp.compiled.engine` falls back to
:mod:`graphbp.compiled.kernels_numpy` without it. ``cache=True`` keeps the
compiled machine code between processes.
"""

from __future__ import annotations

import threading
import warnings
from contextlib import nullcontext
from functools import cache

import numpy as np
from numba import njit, prange, typeof, types
from numba.core.errors import NumbaExperimentalFeatureWarning
from numba.experimental import structref
from numba.typed import List

from ..activations import Activation, get_activation, rebind
from ..losses import Loss, get_loss
from ..network_layout import INPUT, SOFTMAX_CODE, Layout
from .dense_blocks import BlockPlan, one_blas_thread, seed_backward, seed_forward
from .kernel_math import KERNEL_NUMPY

__all__ = ["NumbaKernels", "compiled_activation", "row_kernels", "whole_block", "PassData", "WHOLE_PASS_LOSSES"]

# The kernels take the activations as a typed list of compiled functions (numba's first-class
# function type), so one cached machine code serves every table entry, a user's included.
# (A typed list, not a tuple: a tuple of functions is re-typed on every call, ~1 ms.)
warnings.filterwarnings("ignore", ".*First-class function type feature", NumbaExperimentalFeatureWarning)

# Fewer samples than this per thread are not worth a thread.
MIN_BLOCK = 16

# Dense products of fewer multiply-adds than this (~0.05 ms on one core) run on one thread: a launch costs more.
MIN_SPLIT_PRODUCT = 1 << 21

# numba's default "workqueue" threading layer aborts when two Python threads launch parallel
# kernels at once; a launch already uses every core, so launches from threads take turns.
_PARALLEL_LAUNCH = threading.Lock()

# Reassociation lets the Σ_n δ_k z_j reductions use SIMD; results stay within
# a few ulps of a sequential sum (the tests hold them to 1e-12 relative).
_FAST = {"reassoc", "contract"}

# A unit whose activation numba cannot compile: the kernels add its bias (forward) or leave
# its Σ_k w_kj δ_k (backward), and the Python function is applied to the whole row between runs.
PYTHON = -3

_SCALAR = types.float64(types.float64)


def _row_types(dtype) -> tuple:
    """The first-class function types of the row kernels for work arrays of `dtype` (see :func:`row_kernels`)."""
    rows = types.Array(types.float32 if dtype == np.float32 else types.float64, 2, "A")
    index = types.int64
    return (
        types.FunctionType(types.void(rows, rows, index, index, index)),
        types.FunctionType(types.void(rows, rows, rows, rows, index, index, index)),
    )


@cache
def compiled_activation(activation: Activation) -> tuple | None:
    """h and h' of a table entry compiled by numba for one float, or None (with a warning saying why).

    The table's own Python functions are compiled, ``np`` in them meaning
    :data:`~graphbp.compiled.kernel_math.KERNEL_NUMPY` (:func:`graphbp.activations.rebind`
    compiles the helpers they call too); one that numba cannot compile, or
    that does not give one float for one float, runs as Python on whole rows.
    """
    try:
        functions = tuple(njit(_SCALAR)(rebind(f, KERNEL_NUMPY, njit)) for f in (activation.function, activation.derivative))
    except Exception as error:  # numba's errors have no common base; any failure means: not compilable
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        warnings.warn(
            f"activation {activation.name!r} does not compile with numba ({reason}); the numba engine calls its "
            "Python functions once per node instead (write h, h' with numpy ufuncs and arithmetic, no np.where, "
            "to run it compiled)",
            stacklevel=4,
        )
        return None
    return functions


def _compiled_output_derivative(activation: Activation):
    """The entry's h'(a, z) compiled for two floats, or None where it has none or numba cannot compile it."""
    if activation.output_derivative is None:
        return None
    try:
        return njit(types.float64(types.float64, types.float64))(rebind(activation.output_derivative, KERNEL_NUMPY, njit))
    except Exception:  # as compiled_activation: then h'(a) serves
        return None


@cache
def row_kernels(activation: Activation, dtype=np.float64) -> tuple | None:
    """The row kernels of a table entry for work arrays of `dtype`, or None where numba cannot compile it.

    ``activate(a, z, j, n0, n1)`` sets z_j = h(a_j) (eq. 5.49) and
    ``scale(a, z, through, delta, j, n0, n1)`` sets δ_j = h'(a_j) · through[0]
    (eq. 5.56) on columns n0:n1. The compiled h and h' of
    :func:`compiled_activation` are constants inside them, so LLVM inlines them
    into the loop over the row: the kernels call one of these per row, not per number.
    """
    pair = compiled_activation(activation)
    if pair is None:
        return None
    h, slope = pair
    activate_type, scale_type = _row_types(dtype)
    output_slope = _compiled_output_derivative(activation)

    def activate(a, z, j, n0, n1):
        for n in range(n0, n1):
            z[j, n] = h(a[j, n])

    if output_slope is None:

        def scale(a, z, through, delta, j, n0, n1):
            for n in range(n0, n1):
                delta[j, n] = slope(a[j, n]) * through[0, n - n0]

    else:  # h' from z = h(a), already computed: tanh's 1 − z² costs no second tanh

        def scale(a, z, through, delta, j, n0, n1):
            for n in range(n0, n1):
                delta[j, n] = output_slope(a[j, n], z[j, n]) * through[0, n - n0]

    return (njit(activate_type.signature, fastmath=_FAST)(activate),
            njit(scale_type.signature, fastmath=_FAST)(scale))  # fmt: skip


@njit(cache=True, fastmath=_FAST)
def forward_block(
    unit_ptr, unit_code, functions, pred_ptr, pred_index, weight, bias, seeded, a, z, units, k_start, k_stop, n0, n1
):  # fmt: skip
    """a and z of units ``units[k_start:k_stop]`` on columns n0:n1 (inputs' rows already hold x).

    ``functions[c]`` is the row kernel of h for activation code c (:attr:`Layout.activations`).
    A row j with ``seeded[j]`` starts from the a_j already there (a dense block's part of
    the sum, :mod:`.dense_blocks`) instead of 0.
    """
    for k in range(k_start, k_stop):
        u = units[k]
        code = unit_code[u]
        if code == INPUT:
            continue
        first, last = unit_ptr[u], unit_ptr[u + 1]
        for j in range(first, last):
            # Row slices indexed from 0 let LLVM drop negative-index checks and use SIMD.
            a_j = a[j, n0:n1]
            if not seeded[j]:
                a_j[:] = 0.0
            # eq. 5.48: a_j = b_j + Σ_i w_ji z_i, one row z_i per edge; four edges per
            # sweep of a_j (same left-to-right order of the sum), so a_j is stored 4x less.
            e, stop = pred_ptr[j], pred_ptr[j + 1]
            while e + 4 <= stop:
                z0, z1 = z[pred_index[e], n0:n1], z[pred_index[e + 1], n0:n1]
                z2, z3 = z[pred_index[e + 2], n0:n1], z[pred_index[e + 3], n0:n1]
                w0, w1, w2, w3 = weight[e], weight[e + 1], weight[e + 2], weight[e + 3]
                for n in range(a_j.size):
                    a_j[n] = (((a_j[n] + w0 * z0[n]) + w1 * z1[n]) + w2 * z2[n]) + w3 * z3[n]
                e += 4
            for e in range(e, stop):
                z_i = z[pred_index[e], n0:n1]
                w = weight[e]
                for n in range(a_j.size):
                    a_j[n] += w * z_i[n]
            b = bias[j]
            for n in range(a_j.size):
                a_j[n] = b + a_j[n]
            if code >= 0:
                functions[code](a, z, j, n0, n1)  # eq. 5.49: z_j = h(a_j)
            # softmax members and Python activations: only the bias here, h comes after
        if code == SOFTMAX_CODE:
            for n in range(n0, n1):
                top = a[first, n]
                for j in range(first + 1, last):
                    top = max(top, a[j, n])
                total = 0.0
                for j in range(first, last):
                    z[j, n] = np.exp(a[j, n] - top)
                    total += z[j, n]
                for j in range(first, last):
                    z[j, n] = z[j, n] / total


@njit(cache=True, fastmath=_FAST)
def backward_block(
    unit_ptr, unit_code, derivatives, succ_ptr, succ_index, succ_edge, succ_weight, output_slot, seeded,
    a, z, direct, delta, through, grad, units, k_start, k_stop, n0, n1,
):  # fmt: skip
    """δ of units ``units[k_stop-1]`` down to ``units[k_start]`` on columns n0:n1, adding Σ_n δ_k z_j into grad[e] of their out-edges.

    `through` is scratch of shape (largest unit, n1 - n0); `direct` holds the
    loss's ∂E_n/∂a_k for output column `output_slot[j]`; ``derivatives[c]`` is
    the row kernel of h' of activation code c (:func:`row_kernels`). A :data:`PYTHON` unit is left with
    δ_j = Σ_k w_kj δ_k: the caller applies h'(a_j) and the direct term. A row j with
    ``seeded[j]`` starts that sum from the δ_j already there (a dense block's part) instead of 0.
    """
    for k in range(k_stop - 1, k_start - 1, -1):
        u = units[k]
        code = unit_code[u]
        first, last = unit_ptr[u], unit_ptr[u + 1]
        for j in range(first, last):
            row = through[j - first, : n1 - n0]
            if seeded[j]:
                row[:] = delta[j, n0:n1]
            else:
                row[:] = 0.0
            z_j = z[j, n0:n1]
            # eq. 5.55/5.56: Σ_{k ∈ successors(j)} w_kj δ_k, and eq. 5.53 for the edge j -> k.
            # Four successors per sweep of the row, as in the forward kernel.
            e, stop = succ_ptr[j], succ_ptr[j + 1]
            while e + 4 <= stop:
                d0, d1 = delta[succ_index[e], n0:n1], delta[succ_index[e + 1], n0:n1]
                d2, d3 = delta[succ_index[e + 2], n0:n1], delta[succ_index[e + 3], n0:n1]
                w0, w1, w2, w3 = succ_weight[e], succ_weight[e + 1], succ_weight[e + 2], succ_weight[e + 3]
                t0 = t1 = t2 = t3 = 0.0
                for n in range(row.size):
                    row[n] = (((row[n] + w0 * d0[n]) + w1 * d1[n]) + w2 * d2[n]) + w3 * d3[n]
                    t0 += d0[n] * z_j[n]
                    t1 += d1[n] * z_j[n]
                    t2 += d2[n] * z_j[n]
                    t3 += d3[n] * z_j[n]
                grad[succ_edge[e]] += t0
                grad[succ_edge[e + 1]] += t1
                grad[succ_edge[e + 2]] += t2
                grad[succ_edge[e + 3]] += t3
                e += 4
            for e in range(e, stop):
                delta_k = delta[succ_index[e], n0:n1]
                w = succ_weight[e]
                total = 0.0
                for n in range(row.size):
                    total += delta_k[n] * z_j[n]
                    row[n] += w * delta_k[n]
                grad[succ_edge[e]] += total
        if code == PYTHON:
            for n in range(n0, n1):
                delta[first, n] = through[0, n - n0]
        elif code == SOFTMAX_CODE:
            # δ_j = direct_j + z_j (g_j − Σ_m z_m g_m): the group's Jacobian, applied explicitly.
            for n in range(n0, n1):
                mean = 0.0
                for m in range(first, last):
                    mean += z[m, n] * through[m - first, n - n0]
                for j in range(first, last):
                    delta[j, n] = direct[output_slot[j], n] + z[j, n] * (through[j - first, n - n0] - mean)
        else:
            # eq. 5.56 with the output's own term: δ_j = direct_j + h'(a_j) Σ_k w_kj δ_k
            delta_j = delta[first, n0:n1]
            if code == INPUT:  # ∂E_n/∂x_i: an input passes x through, h' = 1
                delta_j[:] = through[0, : n1 - n0]
            else:
                derivatives[code](a, z, through, delta, first, n0, n1)
            slot = output_slot[first]
            if slot >= 0:
                own = direct[slot, n0:n1]
                for n in range(delta_j.size):
                    delta_j[n] = own[n] + delta_j[n]


@njit(cache=True, parallel=True)
def forward_blocks(
    unit_ptr, unit_code, functions, pred_ptr, pred_index, weight, bias, seeded, a, z, units, k_start, k_stop, bounds
):  # fmt: skip
    """:func:`forward_block` on each column block ``bounds[c]:bounds[c+1]``, one thread each."""
    for c in prange(bounds.size - 1):
        forward_block(unit_ptr, unit_code, functions, pred_ptr, pred_index, weight, bias, seeded, a, z, units,
                      k_start, k_stop, bounds[c], bounds[c + 1])  # fmt: skip


@njit(cache=True, parallel=True)
def backward_blocks(
    unit_ptr, unit_code, derivatives, succ_ptr, succ_index, succ_edge, succ_weight, output_slot, seeded,
    a, z, direct, delta, through, grad, units, k_start, k_stop, bounds,
):  # fmt: skip
    """:func:`backward_block` on each column block, one thread each; block c adds into ``grad[c]``."""
    for c in prange(bounds.size - 1):
        backward_block(unit_ptr, unit_code, derivatives, succ_ptr, succ_index, succ_edge, succ_weight, output_slot,
                       seeded, a, z, direct, delta, through[c], grad[c], units, k_start, k_stop,
                       bounds[c], bounds[c + 1])  # fmt: skip


@njit(cache=True, parallel=True)
def row_products(left, right, out, bounds):
    """out = left @ right, the rows ``bounds[c]:bounds[c+1]`` on one thread each (BLAS on one thread inside)."""
    for c in prange(bounds.size - 1):
        np.dot(left[bounds[c] : bounds[c + 1]], right, out[bounds[c] : bounds[c + 1]])


@structref.register
class _PassDataType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class PassData(structref.StructRefProxy):
    """What :func:`whole_block` needs of a network besides its parameters, in one object: the row
    kernels of h and h', the softmax groups and the layout's arrays. numba unboxes it in one step
    (each array argument costs ~0.1 µs a call, a typed list ~1 µs)."""


PASS_FIELDS = ("functions", "derivatives", "groups", "unit_ptr", "codes", "pred_ptr", "pred_index", "succ_ptr",
               "succ_index", "succ_edge", "output_slot", "input_rows", "output_rows", "output_codes", "bias_rows",
               "max_unit", "units", "unseeded")  # fmt: skip
structref.define_proxy(PassData, _PassDataType, list(PASS_FIELDS))


def _compiled_loss_function(function):
    """A loss function of :mod:`graphbp.losses` compiled by numba as written (cached on disk)."""
    return njit(cache=True)(rebind(function, np, njit(cache=True)))


# The losses whole_block runs, by position (its `loss_code`): the table's own functions, compiled.
# Any other loss (a user's Loss) takes the kernels one by one.
WHOLE_PASS_LOSSES = tuple(get_loss(name) for name in ("sum_of_squares", "binary_cross_entropy", "cross_entropy"))
_WHOLE_PASS_CODES = {id(loss): code for code, loss in enumerate(WHOLE_PASS_LOSSES)}
_sse_sample, _sse_delta, _bce_sample, _bce_delta, _ce_sample, _ce_delta = (
    _compiled_loss_function(f) for loss in WHOLE_PASS_LOSSES for f in (loss.per_sample, loss.output_delta)
)


@njit(cache=True)
def _loss_terms(loss_code, A, Y, T, slope, groups):
    """E_n and the direct ∂E_n/∂a_k of loss number `loss_code` of :data:`WHOLE_PASS_LOSSES`."""
    if loss_code == 0:
        return _sse_sample(A, Y, T, groups), _sse_delta(A, Y, T, slope, groups)
    if loss_code == 1:
        return _bce_sample(A, Y, T, groups), _bce_delta(A, Y, T, slope, groups)
    return _ce_sample(A, Y, T, groups), _ce_delta(A, Y, T, slope, groups)


@njit(cache=True)
def whole_block(data, loss_code, weight, bias, succ_weight, X, T, work):
    """A whole pass in one call on all columns: :func:`forward_block`, the loss, :func:`backward_block`.

    For small batches the cost of a pass is its calls, not its arithmetic.
    `data` is a :class:`PassData` (its `units` the order to run the units
    in, `unseeded` all False: no dense blocks), `loss_code` the loss's
    position in :data:`WHOLE_PASS_LOSSES`; ``work[0]``, ``work[1]``,
    ``work[2]`` are the (nodes, N) arrays a, z, δ, filled here. Returns
    ∂E/∂θ (∂E/∂w then ∂E/∂b, the order of ``parameter_keys``), E_n, E,
    and Σ z + Σ δ, whose finiteness the caller checks.
    """
    d = data
    a, z, delta = work[0], work[1], work[2]
    N, K = X.shape[0], d.output_rows.size
    for c in range(d.input_rows.size):
        for n in range(N):
            a[d.input_rows[c], n] = z[d.input_rows[c], n] = X[n, c]
    forward_block(d.unit_ptr, d.codes, d.functions, d.pred_ptr, d.pred_index, weight, bias, d.unseeded, a, z, d.units,
                  0, d.codes.size, 0, N)  # fmt: skip
    A, Y, slope = np.empty((N, K)), np.empty((N, K)), np.ones((N, K))
    through = np.ones((d.max_unit, N), dtype=a.dtype)
    for k in range(K):
        j = d.output_rows[k]
        code = d.output_codes[k]
        if code >= 0:  # h'(a_k) of an element-wise output, by its row kernel (δ_j as scratch)
            d.derivatives[code](a, z, through, delta, j, 0, N)
        for n in range(N):
            A[n, k], Y[n, k] = a[j, n], z[j, n]
            if code >= 0:
                slope[n, k] = delta[j, n]
    sample_loss, direct_delta = _loss_terms(loss_code, A, Y, T, slope, d.groups)
    direct = np.ascontiguousarray(direct_delta.T).astype(a.dtype)
    gradient = np.zeros(weight.size + d.bias_rows.size, dtype=a.dtype)
    backward_block(d.unit_ptr, d.codes, d.derivatives, d.succ_ptr, d.succ_index, d.succ_edge, succ_weight,
                   d.output_slot, d.unseeded, a, z, direct, delta, through, gradient, d.units, 0, d.codes.size, 0, N)  # fmt: skip
    for r in range(d.bias_rows.size):
        gradient[weight.size + r] = delta[d.bias_rows[r]].sum()  # eq. 5.53 with z = 1
    return gradient, sample_loss, sample_loss.sum(), z.sum() + delta.sum()


def machine_code(function, args: tuple):
    """The machine code numba compiled `function` to for the types of `args` (compiling it if needed).

    Calling it skips the dispatcher's typing of every argument on every call
    (~2 µs for a :class:`PassData`); the caller must pass arguments of the
    same types each time: same dtypes, dimensions and contiguity.
    """
    return function.compile(tuple(typeof(value) for value in args))


class NumbaKernels:
    """Forward and backward passes of a layout with the numba kernels, the batch split across threads.

    Every table entry numba compiles runs inside the kernels. Units with an
    activation it cannot compile (code :data:`PYTHON`) cut the passes into
    segments: the kernels stop after such a unit and its Python h or h' is
    applied to the whole row before they go on.

    With a :class:`~graphbp.compiled.dense_blocks.BlockPlan`, the plan's blocks
    run as matrix products (their rows split over the same threads, BLAS on one
    thread inside each) and the kernels run the remaining edges, over the units
    in level order, stopping where a block's product comes in.
    """

    def __init__(self, layout: Layout, threads: int | None = None, dtype=np.float64, plan: BlockPlan | None = None):
        self.layout, self.threads, self.plan = layout, threads, plan
        dtype = np.dtype(dtype).type
        compiled = [row_kernels(activation, dtype) for activation in layout.activations]
        # A Python-only entry keeps a compiled placeholder in the list, so its codes stay the table's.
        placeholder = row_kernels(get_activation("identity"), dtype)
        pairs = [pair or placeholder for pair in compiled] or [placeholder]
        activate_type, scale_type = _row_types(dtype)
        self.functions, self.derivatives = List.empty_list(activate_type), List.empty_list(scale_type)
        for h, slope in pairs:
            self.functions.append(h)
            self.derivatives.append(slope)
        python = {code for code, pair in enumerate(compiled) if pair is None}
        self.codes = np.array([PYTHON if code in python else code for code in layout.unit_code.tolist()], dtype=np.int64)
        n_units = len(layout.unit_code)
        if plan is None:
            self.csr, self.units = layout, np.arange(n_units, dtype=np.int64)
            self.seeded_forward = self.seeded_backward = np.zeros(layout.n_nodes, dtype=bool)
        else:
            self.csr, self.units = plan, plan.units
            self.seeded_forward, self.seeded_backward = plan.seeded_forward, plan.seeded_backward
        customs = [k for k, u in enumerate(self.units.tolist()) if self.codes[u] == PYTHON]
        forward_cuts, backward_cuts = (plan.forward_cuts, plan.backward_cuts) if plan else ({}, {})
        # Forward segments end just after a Python unit, backward ones start at it; both stop for a block.
        cuts = sorted({0, n_units, *[k + 1 for k in customs], *forward_cuts})
        self.forward_segments = list(zip(cuts[:-1], cuts[1:]))
        cuts = sorted({0, n_units, *customs, *backward_cuts})
        self.backward_segments = list(zip(cuts[:-1], cuts[1:]))[::-1]
        # Each output's unit code (SOFTMAX_CODE for a group member), for whole_block's h'(a_k).
        self.output_codes = np.repeat(self.codes, np.diff(layout.unit_ptr))[layout.output_rows]
        # The output columns of each softmax group, as the losses take them; numba cannot loop over an
        # empty tuple, so a network without groups passes one empty column list (read by no loss it can use).
        groups = tuple(np.asarray(columns, dtype=np.int64) for columns in layout.net.output_columns[1])
        self.groups = groups or (np.empty(0, dtype=np.int64),)
        self._one_call = len(self.forward_segments) == 1 and plan is None  # whole passes possible (see whole)
        self._whole_data = self._whole_call = None  # PassData and whole_block's machine code, on the first whole pass

    def load(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Take new parameter values."""
        weight = np.array(weight, dtype=bias.dtype)  # a writeable C array: the types whole_block was compiled for
        self.bias = bias
        self.weight = weight if self.plan is None else weight[self.plan.pred_edge]
        self.succ_weight = weight[self.csr.succ_edge]
        if self.plan is not None:
            padded = np.append(weight, bias.dtype.type(0))
            matrices = {id(block): (block, *block.matrices(padded)) for block in self.plan.blocks}
            self._forward_seeds = {k: [matrices[id(b)] for b in blocks] for k, blocks in self.plan.forward_cuts.items()}
            self._backward_seeds = {k: [matrices[id(b)] for b in blocks] for k, blocks in self.plan.backward_cuts.items()}

    def _bounds(self, width: int, threads: int | None = None) -> np.ndarray | None:
        """Blocks of `width` columns (or rows), one per thread; None when one block will do (no thread pool call at all)."""
        if width < 2 * MIN_BLOCK:
            return None
        if threads is None:
            from numba import get_num_threads

            threads = self.threads or get_num_threads()
        blocks = max(1, min(threads, width // MIN_BLOCK))
        return None if blocks == 1 else np.linspace(0, width, blocks + 1).astype(np.int64)

    def _blas(self):
        """BLAS on one thread while a pass with dense blocks runs (:meth:`_product` spreads the rows)."""
        return nullcontext() if self.plan is None else one_blas_thread()

    def _product(self, bounds: np.ndarray | None):
        """``product(left, right, out)``: out[...] = left @ right, its rows split over as many threads as `bounds` has blocks."""
        threads = 1 if bounds is None else bounds.size - 1

        def product(left: np.ndarray, right: np.ndarray, out: np.ndarray) -> None:
            rows = self._bounds(out.shape[0], threads) if left.size * right.shape[1] >= MIN_SPLIT_PRODUCT else None
            if rows is None:
                np.dot(left, right, out=out)
            else:
                with _PARALLEL_LAUNCH:
                    row_products(left, right, out, rows)

        return product

    def _activation(self, unit: int):
        """The table entry of a unit and the position of its (single) node."""
        layout = self.layout
        return layout.activations[layout.unit_code[unit]], layout.unit_ptr[unit]

    def forward(self, a: np.ndarray, z: np.ndarray) -> None:
        """Fill a and z (inputs' rows already hold x)."""
        layout, csr, bounds = self.layout, self.csr, self._bounds(a.shape[1])
        product = self._product(bounds)
        with self._blas():
            for start, stop in self.forward_segments:
                if self.plan is not None and start in self._forward_seeds:
                    seed_forward(self._forward_seeds[start], a, z, product)
                args = (layout.unit_ptr, self.codes, self.functions, csr.pred_ptr, csr.pred_index, self.weight,
                        self.bias, self.seeded_forward, a, z, self.units, start, stop)  # fmt: skip
                if bounds is None:
                    forward_block(*args, 0, a.shape[1])
                else:
                    with _PARALLEL_LAUNCH:
                        forward_blocks(*args, bounds)
                last = self.units[stop - 1]
                if self.codes[last] == PYTHON:
                    activation, j = self._activation(last)
                    z[j] = activation.function(a[j])

    def whole(self, loss: Loss, X: np.ndarray, T: np.ndarray, work: np.ndarray):
        """A whole pass in one call (:func:`whole_block`), where one is worth it and possible.

        That is: a batch too small to split across threads (fewer than
        2 × :data:`MIN_BLOCK` samples), no Python activation, no dense blocks,
        a loss of :data:`WHOLE_PASS_LOSSES`. Fills ``work`` (3, nodes, N) with
        a, z, δ and returns what :func:`whole_block` does; None where it does
        not apply.
        """
        loss_code = _WHOLE_PASS_CODES.get(id(loss))
        if loss_code is None or X.shape[0] >= 2 * MIN_BLOCK or not self._one_call:
            return None
        if not (X.flags.carray and T.flags.carray and X.dtype == T.dtype == np.float64):
            X, T = (np.array(v, dtype=np.float64, order="C") for v in (X, T))  # the types it was compiled for
        if self._whole_call is None:
            layout = self.layout
            self._whole_data = PassData(
                self.functions, self.derivatives, self.groups, layout.unit_ptr, self.codes, layout.pred_ptr,
                layout.pred_index, layout.succ_ptr, layout.succ_index, layout.succ_edge, layout.output_slot,
                layout.input_rows, layout.output_rows, self.output_codes, layout.bias_rows, layout.max_unit,
                self.units, self.seeded_forward,
            )  # fmt: skip
            self._whole_call = machine_code(whole_block, (self._whole_data, loss_code, self.weight, self.bias,
                                                          self.succ_weight, X, T, work))  # fmt: skip
        return self._whole_call(self._whole_data, loss_code, self.weight, self.bias, self.succ_weight, X, T, work)

    def backward(self, a, z, direct, delta) -> np.ndarray:
        """Fill delta (eqs. 5.54-5.56) and return ∂E/∂w for every edge (eq. 5.53)."""
        layout, csr, bounds = self.layout, self.csr, self._bounds(a.shape[1])
        blocks = 1 if bounds is None else bounds.size - 1
        width = a.shape[1] if bounds is None else int(np.diff(bounds).max())
        grad = np.zeros((blocks, layout.n_edges), dtype=a.dtype)
        through = np.empty((blocks, layout.max_unit, width), dtype=a.dtype)
        product = self._product(bounds)
        with self._blas():
            for start, stop in self.backward_segments:
                if self.plan is not None and stop in self._backward_seeds:
                    seed_backward(self._backward_seeds[stop], z, delta, grad[0], product)
                args = (layout.unit_ptr, self.codes, self.derivatives, csr.succ_ptr, csr.succ_index, csr.succ_edge,
                        self.succ_weight, layout.output_slot, self.seeded_backward, a, z, direct, delta)  # fmt: skip
                if blocks == 1:
                    backward_block(*args, through[0], grad[0], self.units, start, stop, 0, a.shape[1])
                else:
                    with _PARALLEL_LAUNCH:
                        backward_blocks(*args, through, grad, self.units, start, stop, bounds)
                first = self.units[start]
                if self.codes[first] == PYTHON:
                    activation, j = self._activation(first)
                    slot = layout.output_slot[j]
                    own = direct[slot] if slot >= 0 else 0.0
                    delta[j] = own + activation.derivative(a[j]) * delta[j]
        return grad.sum(axis=0) if blocks > 1 else grad[0]
