"""The compiled passes: one loop over the units in topological order, the batch innermost.

Each kernel works on the columns ``n0:n1`` of node-major arrays ``a, z, delta``
of shape (nodes, N), so one call can be one thread's share of a batch or one
chunk of a streamed batch. :func:`forward_units` and :func:`backward_units`
run a range of units; :func:`forward_run` and :func:`backward_run` run
segments of them with the dense blocks' matrix products (BLAS) where those
come in; :func:`whole_pass` runs forward, the loss and backward on a small
batch in one call.

The kernels that call one another are all in this module: numba's disk
cache (``cache=True``) is checked against the calling function's own file
only, so a kernel keeps the machine code of a callee in another file after
that file changed. The callees from elsewhere (the softmax and the losses of
the tables in :mod:`graphbp.activations` and :mod:`graphbp.losses`,
:func:`graphbp.compiled.blas.product`) are the exception: after changing one,
clear the cache (``find graphbp -name '*.nbi' -o -name '*.nbc' | xargs rm -f``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, typeof

from ...losses import get_loss
from ...wiring import INPUT, SOFTMAX_CODE
from ..blas import product
from .rows import (
    PYTHON,
    compiled_array_function,
    compiled_softmax,
    compiled_softmax_product,
)

__all__ = [
    "WHOLE_PASS_CODES", "WHOLE_PASS_LOSSES", "backward_run", "backward_units", "forward_run", "forward_units",
    "gather_entries", "machine_code", "row_sums", "whole_pass",
]

# Reassociation lets the Σ_n δ_k z_j reductions use SIMD; results stay within
# a few ulps of a sequential sum (the tests hold them to 1e-12 relative).
_FAST = {"reassoc", "contract"}


@njit(cache=True, fastmath=_FAST, nogil=True)
def forward_units(
    unit_ptr, unit_code, functions, pred_ptr, pred_index, weight, bias, seeded, a, z, units, k_start, k_stop, n0, n1
):  # fmt: skip
    """a and z of units ``units[k_start:k_stop]`` on columns n0:n1 (inputs' rows already hold x).

    ``functions[c]`` is the row kernel of h for activation code c (:attr:`Wiring.activations`).
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
            z[first:last, n0:n1] = compiled_softmax(a[first:last, n0:n1])


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
            product = compiled_softmax_product(z[first:last, n0:n1], through[: last - first, : n1 - n0])
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



@njit(cache=True, nogil=True)
def gather_entries(values, entries):
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
def row_sums(values, n0, n1):
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
WHOLE_PASS_CODES = {id(loss): code for code, loss in enumerate(WHOLE_PASS_LOSSES)}
_sse_sample, _sse_delta, _bce_sample, _bce_delta, _ce_sample, _ce_delta = (
    compiled_array_function(f) for loss in WHOLE_PASS_LOSSES for f in (loss.per_sample, loss.output_delta)
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

