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

import warnings
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import nullcontext
from functools import cache, partial

import numpy as np
from numba import njit, typeof, types
from numba.core.errors import NumbaExperimentalFeatureWarning
from numba.experimental import structref
from numba.typed import List

from ..activations import Activation, get_activation, rebind, softmax, softmax_product
from ..losses import Loss, get_loss
from ..network_layout import INPUT, SOFTMAX_CODE, Layout
from .blas import GEMM, product
from .dense_blocks import BlockPlan, one_blas_thread
from .kernel_math import KERNEL_NUMPY

__all__ = ["NumbaKernels", "compiled_activation", "row_kernels", "whole_pass", "PassData", "pass_data", "WHOLE_PASS_LOSSES"]

# The kernels take the activations as a typed list of compiled functions (numba's first-class
# function type), so one cached machine code serves every table entry, a user's included.
# (A typed list, not a tuple: a tuple of functions is re-typed on every call.)
warnings.filterwarnings("ignore", ".*First-class function type feature", NumbaExperimentalFeatureWarning)

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

# Reassociation lets the Σ_n δ_k z_j reductions use SIMD; results stay within
# a few ulps of a sequential sum (the tests hold them to 1e-12 relative).
_FAST = {"reassoc", "contract"}

# A unit whose activation numba cannot compile: the kernels add its bias (forward) or leave
# its Σ_k w_kj δ_k (backward), and the Python function is applied to the whole row between runs.
PYTHON = -3

_SCALAR = types.float64(types.float64)

# The table's functions (and the helpers they call) are compiled to be inlined into the row kernels'
# loops, so LLVM can vectorize a loop over a row (a call per number would stop it); a division by 0
# gives inf or NaN as in numpy, where Python's rule would raise (and stop vectorization too).
_inlined = partial(njit, inline="always", error_model="numpy")

# No reassociation in the row kernels: nothing there is a reduction, and kernel_math's tanh depends
# on its order of operations (contraction into fused multiply-adds only makes it more exact).
_ROW = {"contract"}


def _compiled_array_function(function):
    """A function on whole arrays written in numba's numpy (a loss of :mod:`graphbp.losses`, the softmax of
    :mod:`graphbp.activations`) compiled by numba as written, with the helpers it calls (cached on disk)."""
    return njit(cache=True)(rebind(function, np, njit(cache=True)))


# A softmax group's z (eq. 5.25) and Jacobian product, the table's own functions compiled.
_softmax, _softmax_product = _compiled_array_function(softmax), _compiled_array_function(softmax_product)


def _row_types(dtype) -> tuple:
    """The first-class function types of the row kernels for work arrays of `dtype` (see :func:`row_kernels`)."""
    # C-contiguous (the work arrays always are): with the row's stride known, LLVM vectorizes the loops.
    rows = types.Array(types.float32 if dtype == np.float32 else types.float64, 2, "C")
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
        functions = tuple(_inlined(_SCALAR)(rebind(f, KERNEL_NUMPY, _inlined)) for f in (activation.function, activation.derivative))
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
        return _inlined(types.float64(types.float64, types.float64))(
            rebind(activation.output_derivative, KERNEL_NUMPY, _inlined)
        )
    except Exception:  # as compiled_activation: then h'(a) serves
        return None


@cache
def row_kernels(activation: Activation, dtype=np.float64) -> tuple | None:
    """The row kernels of a table entry for work arrays of `dtype`, or None where numba cannot compile it.

    ``activate(a, z, j, n0, n1)`` sets z_j = h(a_j) (eq. 5.49) and
    ``scale(a, z, through, delta, j, n0, n1)`` sets δ_j = h'(a_j) · through[0]
    (eq. 5.56) on columns n0:n1. The h and h' of :func:`compiled_activation`
    are inlined into the loop over the row (numba's ``inline="always"``), which
    LLVM then vectorizes where they are plain arithmetic (tanh, relu, the
    identity): the kernels call one of these per row, not per number.
    """
    pair = compiled_activation(activation)
    if pair is None:
        return None
    h, slope = pair
    activate_type, scale_type = _row_types(dtype)
    output_slope = _compiled_output_derivative(activation)

    # Rows sliced and indexed from 0, so numba adds no negative-index wraparound to the addresses.
    def activate(a, z, j, n0, n1):
        a_j, z_j = a[j, n0:n1], z[j, n0:n1]
        for n in range(a_j.size):
            z_j[n] = h(a_j[n])

    if output_slope is None:

        def scale(a, z, through, delta, j, n0, n1):
            a_j, delta_j, row = a[j, n0:n1], delta[j, n0:n1], through[0]
            for n in range(a_j.size):
                delta_j[n] = slope(a_j[n]) * row[n]

    else:  # h' from z = h(a), already computed: tanh's 1 − z² costs no second tanh

        def scale(a, z, through, delta, j, n0, n1):
            a_j, z_j, delta_j, row = a[j, n0:n1], z[j, n0:n1], delta[j, n0:n1], through[0]
            for n in range(a_j.size):
                delta_j[n] = output_slope(a_j[n], z_j[n]) * row[n]

    row = partial(njit, fastmath=_ROW, error_model="numpy")
    return row(activate_type.signature)(activate), row(scale_type.signature)(scale)


@njit(cache=True, fastmath=_FAST, nogil=True)
def forward_units(
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
            z[first:last, n0:n1] = _softmax(a[first:last, n0:n1])


@njit(cache=True, fastmath=_FAST, nogil=True)
def backward_units(
    unit_ptr, unit_code, derivatives, succ_ptr, succ_index, succ_edge, succ_weight, output_slot, seeded,
    a, z, direct, delta, through, grad, units, k_start, k_stop, n0, n1,
):  # fmt: skip
    """δ of units ``units[k_stop-1]`` down to ``units[k_start]`` on columns n0:n1, and Σ_n δ_k z_j over them into grad[e] of their out-edges.

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
                grad[succ_edge[e]] = t0
                grad[succ_edge[e + 1]] = t1
                grad[succ_edge[e + 2]] = t2
                grad[succ_edge[e + 3]] = t3
                e += 4
            for e in range(e, stop):
                delta_k = delta[succ_index[e], n0:n1]
                w = succ_weight[e]
                total = 0.0
                for n in range(row.size):
                    total += delta_k[n] * z_j[n]
                    row[n] += w * delta_k[n]
                grad[succ_edge[e]] = total
        if code == PYTHON:
            for n in range(n0, n1):
                delta[first, n] = through[0, n - n0]
        elif code == SOFTMAX_CODE:
            # δ_j = direct_j + z_j (g_j − Σ_m z_m g_m): the group's Jacobian, applied explicitly.
            product = _softmax_product(z[first:last, n0:n1], through[: last - first, : n1 - n0])
            for j in range(first, last):
                delta_j, own, row = delta[j, n0:n1], direct[output_slot[j], n0:n1], product[j - first]
                for n in range(delta_j.size):
                    delta_j[n] = own[n] + row[n]
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


@structref.register
class _PassDataType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class PassData(structref.StructRefProxy):
    """What the kernels need of a network besides its parameters, in one object numba unboxes in one
    step (numba unboxes each array argument and typed list on every call): the row kernels of h and h',
    the CSR arrays the kernels run (a block plan's remaining edges, or
    all), the rows of the inputs, outputs and biases, the units in order, the segments of each
    direction and per segment the dense blocks whose products come in there (their rows, columns, and
    where their W_b and edge indices start in the flat ``matrices`` and ``entries``), and the address
    of the gemm for the work dtype (:data:`graphbp.compiled.blas.GEMM`). Made by :func:`pass_data`."""


PASS_FIELDS = ("functions", "derivatives", "unit_ptr", "codes", "pred_ptr", "pred_index", "succ_ptr",
               "succ_index", "succ_edge", "output_slot", "input_rows", "output_rows", "output_codes", "bias_rows",
               "max_unit", "units", "seeded_forward", "seeded_backward", "forward_segments", "forward_cut_ptr",
               "forward_cut_blocks", "backward_segments", "backward_cut_ptr", "backward_cut_blocks", "row_ptr",
               "row_index", "col_ptr", "col_index", "matrix_ptr", "entries", "gemm")  # fmt: skip
structref.define_proxy(PassData, _PassDataType, list(PASS_FIELDS))


def pass_data(**fields) -> PassData:
    """A :class:`PassData` from every one of :data:`PASS_FIELDS` by name."""
    if set(fields) != set(PASS_FIELDS):
        raise TypeError(f"PassData needs exactly the fields {PASS_FIELDS}; differs in {sorted(set(fields) ^ set(PASS_FIELDS))}")
    return PassData(*(fields[name] for name in PASS_FIELDS))


@njit(cache=True, nogil=True)
def _gather_entries(values, entries):
    """values[entries], 0 where an entry is −1 (a block's W_b entries without an edge)."""
    out = np.empty(entries.size, dtype=values.dtype)
    for k in range(entries.size):
        out[k] = values[entries[k]] if entries[k] >= 0 else 0.0
    return out


@njit(cache=True, nogil=True)
def _gather_rows(source, index, n0, n1):
    """source[index, n0:n1] as a new C-contiguous array (what BLAS takes)."""
    out = np.empty((index.size, n1 - n0), dtype=source.dtype)
    for r in range(index.size):
        out[r, :] = source[index[r], n0:n1]
    return out


@njit(cache=True, fastmath=_FAST, nogil=True)
def _row_sums(values, n0, n1):
    """Σ values[j, n0:n1] for every row j (a thread's part of the bias gradients and finiteness sums)."""
    sums = np.empty(values.shape[0], dtype=np.float64)
    for j in range(values.shape[0]):
        row, total = values[j, n0:n1], 0.0
        for n in range(row.size):
            total += row[n]
        sums[j] = total
    return sums


@njit(cache=True, nogil=True)
def _consecutive(index) -> bool:
    """Whether the sorted positions `index` are one range (a block's rows in place in the work arrays)."""
    return index.size > 0 and index[-1] - index[0] + 1 == index.size


@njit(cache=True, nogil=True)
def _put_rows(target, index, n0, n1, values, add):
    """target[index, n0:n1] = values, or += with `add`."""
    for r in range(index.size):
        row, value = target[index[r], n0:n1], values[r]
        for n in range(row.size):
            row[n] = row[n] + value[n] if add else value[n]


@njit(cache=True, nogil=True)
def _block(d, matrices, b):
    """Block b's rows R, columns C and matrix W_b."""
    rows = d.row_index[d.row_ptr[b] : d.row_ptr[b + 1]]
    cols = d.col_index[d.col_ptr[b] : d.col_ptr[b + 1]]
    return rows, cols, matrices[d.matrix_ptr[b] : d.matrix_ptr[b + 1]].reshape((rows.size, cols.size))


@njit(cache=True, nogil=True)
def _zero_block_rows(target, cut_blocks, index_ptr, index, lo, hi, n0, n1):
    """Rows the blocks cut_blocks[lo:hi] write start from 0 (so several blocks into one level add up)."""
    for c in range(lo, hi):
        b = cut_blocks[c]
        for r in range(index_ptr[b], index_ptr[b + 1]):
            target[index[r], n0:n1] = 0.0


@njit(cache=True, nogil=True)
def forward_run(d, weight, bias, matrices, a, z, s0, s1, n0, n1):
    """Forward segments s0:s1 on columns n0:n1: at each, its dense blocks' a[R] = Σ_b W_b z[C]
    (eq. 5.48's dense part, BLAS), then the kernels (:func:`forward_units`) over its units."""
    for s in range(s0, s1):
        lo, hi = d.forward_cut_ptr[s], d.forward_cut_ptr[s + 1]
        several = hi - lo > 1  # then they add up, from 0
        if several:
            _zero_block_rows(a, d.forward_cut_blocks, d.row_ptr, d.row_index, lo, hi, n0, n1)
        for c in range(lo, hi):
            rows, cols, W = _block(d, matrices, d.forward_cut_blocks[c])
            if _consecutive(rows) and _consecutive(cols):  # gemm on the rows where they are
                N = a.shape[1]
                product(d.gemm, rows.size, n1 - n0, cols.size, W, 0, cols.size, False,
                        z, cols[0] * N + n0, N, False, a, rows[0] * N + n0, N, several)  # fmt: skip
            else:
                _put_rows(a, rows, n0, n1, np.dot(W, _gather_rows(z, cols, n0, n1)), several)
        forward_units(d.unit_ptr, d.codes, d.functions, d.pred_ptr, d.pred_index, weight, bias, d.seeded_forward, a, z,
                      d.units, d.forward_segments[s, 0], d.forward_segments[s, 1], n0, n1)  # fmt: skip


@njit(cache=True, nogil=True)
def backward_run(d, succ_weight, matrices, a, z, direct, delta, through, grad, s0, s1, n0, n1):
    """Backward segments s0:s1 (last units first) on columns n0:n1: at each, its dense blocks'
    ∂E/∂w = Σ_n δ_j z_i into `grad` (eq. 5.53) and δ[C] = Σ_b W_b^T δ[R] (eq. 5.56's dense part),
    then the kernels (:func:`backward_units`) over its units."""
    for s in range(s0, s1):
        lo, hi = d.backward_cut_ptr[s], d.backward_cut_ptr[s + 1]
        several = hi - lo > 1
        if several:
            _zero_block_rows(delta, d.backward_cut_blocks, d.col_ptr, d.col_index, lo, hi, n0, n1)
        for c in range(lo, hi):
            b = d.backward_cut_blocks[c]
            rows, cols, W = _block(d, matrices, b)  # level R is later than C: δ[R] is final
            in_place, N = _consecutive(rows) and _consecutive(cols), a.shape[1]
            if in_place:
                outer = np.empty((rows.size, cols.size), dtype=delta.dtype)
                product(d.gemm, rows.size, cols.size, n1 - n0, delta, rows[0] * N + n0, N, False,
                        z, cols[0] * N + n0, N, True, outer, 0, cols.size, False)  # fmt: skip
            else:
                delta_rows = _gather_rows(delta, rows, n0, n1)
                outer = np.dot(delta_rows, _gather_rows(z, cols, n0, n1).T)
            entries = d.entries[d.matrix_ptr[b] : d.matrix_ptr[b + 1]]
            flat = outer.reshape(outer.size)
            for k in range(entries.size):
                if entries[k] >= 0:
                    grad[entries[k]] = flat[k]
            if in_place:
                product(d.gemm, cols.size, n1 - n0, rows.size, W, 0, cols.size, True,
                        delta, rows[0] * N + n0, N, False, delta, cols[0] * N + n0, N, several)  # fmt: skip
            else:
                _put_rows(delta, cols, n0, n1, np.dot(W.T, delta_rows), several)
        backward_units(d.unit_ptr, d.codes, d.derivatives, d.succ_ptr, d.succ_index, d.succ_edge, succ_weight,
                       d.output_slot, d.seeded_backward, a, z, direct, delta, through, grad, d.units,
                       d.backward_segments[s, 0], d.backward_segments[s, 1], n0, n1)  # fmt: skip


# The losses whole_pass runs, by position (its `loss_code`): the table's own functions, compiled.
# Any other loss (a user's Loss) takes the kernels one by one.
WHOLE_PASS_LOSSES = tuple(get_loss(name) for name in ("sum_of_squares", "binary_cross_entropy", "cross_entropy"))
_WHOLE_PASS_CODES = {id(loss): code for code, loss in enumerate(WHOLE_PASS_LOSSES)}
_sse_sample, _sse_delta, _bce_sample, _bce_delta, _ce_sample, _ce_delta = (
    _compiled_array_function(f) for loss in WHOLE_PASS_LOSSES for f in (loss.per_sample, loss.output_delta)
)


@njit(cache=True)
def _loss_terms(loss_code, A, Y, T, slope, groups):
    """E_n and the direct ∂E_n/∂a_k of loss number `loss_code` of :data:`WHOLE_PASS_LOSSES`."""
    if loss_code == 0:
        return _sse_sample(A, Y, T, groups), _sse_delta(A, Y, T, slope, groups)
    if loss_code == 1:
        return _bce_sample(A, Y, T, groups), _bce_delta(A, Y, T, slope, groups)
    return _ce_sample(A, Y, T, groups), _ce_delta(A, Y, T, slope, groups)


@njit(cache=True, nogil=True)
def whole_pass(data, groups, loss_code, weight, bias, succ_weight, X, T, work):
    """A whole pass in one call on all columns: :func:`forward_units`, the loss, :func:`backward_units`.

    For small batches the cost of a pass is its calls, not its arithmetic.
    `data` is a :class:`PassData` (its `units` the order to run the units
    in, no dense blocks: no row seeded), `groups` the output columns of
    each softmax group (a tuple, whose length is part of its numba type:
    kept out of `data`, so the other kernels' types do not depend on it), `loss_code` the loss's
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
    forward_units(d.unit_ptr, d.codes, d.functions, d.pred_ptr, d.pred_index, weight, bias, d.seeded_forward, a, z, d.units,
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
    sample_loss, direct_delta = _loss_terms(loss_code, A, Y, T, slope, groups)
    direct = np.ascontiguousarray(direct_delta.T).astype(a.dtype)
    gradient = np.empty(weight.size + d.bias_rows.size, dtype=a.dtype)  # every entry written once below
    backward_units(d.unit_ptr, d.codes, d.derivatives, d.succ_ptr, d.succ_index, d.succ_edge, succ_weight,
                   d.output_slot, d.seeded_backward, a, z, direct, delta, through, gradient, d.units, 0, d.codes.size, 0, N)  # fmt: skip
    for r in range(d.bias_rows.size):
        gradient[weight.size + r] = delta[d.bias_rows[r]].sum()  # eq. 5.53 with z = 1
    return gradient, sample_loss, sample_loss.sum(), z.sum() + delta.sum()


def machine_code(function, args: tuple):
    """The machine code numba compiled `function` to for the types of `args` (compiling it if needed).

    Calling it skips the dispatcher's typing of every argument on every call
    (sizeable beside a tiny network's pass); the caller must pass arguments of the
    same types each time: same dtypes, dimensions and contiguity.
    """
    return function.compile(tuple(typeof(value) for value in args))


class NumbaKernels:
    """Forward and backward passes of a layout with the numba kernels, the batch split across threads.

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

    def __init__(self, layout: Layout, threads: int | None = None, dtype=np.float64, plan: BlockPlan | None = None):
        self.layout, self.threads, self.plan = layout, threads, plan
        dtype = self.dtype = np.dtype(dtype).type
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
        # Each output's unit code (SOFTMAX_CODE for a group member), for whole_pass's h'(a_k).
        self.output_codes = np.repeat(self.codes, np.diff(layout.unit_ptr))[layout.output_rows]
        # The output columns of each softmax group, as the losses take them; numba cannot loop over an
        # empty tuple, so a network without groups passes one empty column list (read by no loss it can use).
        groups = tuple(np.asarray(columns, dtype=np.int64) for columns in layout.net.output_columns[1])
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
        """The :class:`PassData` of this layout and block plan."""
        layout, csr, blocks = self.layout, self.csr, self.plan.blocks if self.plan else ()
        number = {id(block): b for b, block in enumerate(blocks)}

        def cut_lists(segments, position, cuts):
            lists = [[number[id(block)] for block in cuts.get(segment[position], ())] for segment in segments]
            return _pointers_of(lists), np.array([b for blocks_ in lists for b in blocks_], dtype=np.int64)

        def indices(part):
            lists = [np.arange(layout.n_nodes)[getattr(block, part)] for block in blocks]
            return _pointers_of(lists), np.concatenate(lists or [np.empty(0)]).astype(np.int64)

        shapes = [block.shape[0] * block.shape[1] for block in blocks]
        (forward_cut_ptr, forward_cut_blocks), (backward_cut_ptr, backward_cut_blocks) = (
            cut_lists(self.forward_segments, 0, forward_cuts), cut_lists(self.backward_segments, 1, backward_cuts)
        )
        (row_ptr, row_index), (col_ptr, col_index) = indices("rows"), indices("cols")
        return pass_data(
            functions=self.functions, derivatives=self.derivatives, unit_ptr=layout.unit_ptr,
            codes=self.codes, pred_ptr=csr.pred_ptr, pred_index=csr.pred_index, succ_ptr=csr.succ_ptr,
            succ_index=csr.succ_index, succ_edge=csr.succ_edge, output_slot=layout.output_slot,
            input_rows=layout.input_rows, output_rows=layout.output_rows, output_codes=self.output_codes,
            bias_rows=layout.bias_rows, max_unit=layout.max_unit, units=self.units,
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
        self.matrices = _gather_entries(weight, self._entries) if self.plan else weight[:0]

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

                work = self.layout.n_edges * width // MIN_THREAD_WORK
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
        layout = self.layout
        return layout.activations[layout.unit_code[unit]], layout.unit_ptr[unit]

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
        return _row_sums(z, n0, n1).sum()

    def whole(self, loss: Loss, X: np.ndarray, T: np.ndarray, work: np.ndarray):
        """A whole pass in one call (:func:`whole_pass`), where one is worth it and possible.

        That is: a batch too small to split across threads (fewer than
        2 × :data:`MIN_SAMPLES_PER_THREAD` samples), no Python activation, no dense blocks,
        a loss of :data:`WHOLE_PASS_LOSSES`. Fills ``work`` (3, nodes, N) with
        a, z, δ and returns what :func:`whole_pass` does; None where it does
        not apply.
        """
        loss_code = _WHOLE_PASS_CODES.get(id(loss))
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
        grad = np.empty((len(spans), self.layout.n_edges), dtype=a.dtype)
        through = np.empty((len(spans), self.layout.max_unit, width), dtype=a.dtype)
        row_sums = self._on_threads(
            lambda c, n0, n1: self._backward_columns(a, z, direct, delta, through[c], grad[c], n0, n1), spans
        )
        for part in grad[1:]:
            grad[0] += part
        return grad[0], sum(row_sums)

    def _backward_columns(self, a, z, direct, delta, through, grad, n0: int, n1: int) -> np.ndarray:
        """The backward pass on columns n0:n1, writing Σ_n δ_k z_j over them into `grad`; a Python unit's h'
        after its run. Returns Σ_n δ_j over these columns, per row."""
        for s0, s1, unit in self.backward_runs:
            backward_run(self.data, self.succ_weight, self.matrices, a, z, direct, delta, through, grad, s0, s1, n0, n1)
            if unit >= 0:
                activation, j = self._activation(unit)
                slot, columns = self.layout.output_slot[j], slice(n0, n1)
                own = direct[slot, columns] if slot >= 0 else 0.0
                delta[j, columns] = own + activation.derivative(a[j, columns]) * delta[j, columns]
        return _row_sums(delta, n0, n1)


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
