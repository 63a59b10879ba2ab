"""Matrix products on ranges of rows and columns of the kernels' work arrays: BLAS's gemm, called from numba code.

A thread of the numba engine works on the columns n0:n1 of (nodes, N) arrays,
so the rows a dense block reads and writes (:mod:`.dense_blocks`) are strided
views, and numba's ``np.dot`` takes contiguous arrays only: each product would
copy its operands in and its result out. gemm takes a leading dimension per
operand, so :func:`product` reads and writes those views where they are.

The gemm is scipy's (``scipy.linalg.cython_blas``, the BLAS numba's ``np.dot``
calls too, held to one thread by :func:`.dense_blocks.one_blas_thread`). Its
address is an argument, not a constant of the machine code, so the kernels
calling it stay in numba's on-disk cache. Importing this module needs numba.
"""

from __future__ import annotations

import ctypes

import numpy as np
import scipy.linalg.cython_blas
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["GEMM", "product"]


def _address(name: str) -> int:
    """The address of scipy's BLAS function `name` (Fortran convention: every argument by pointer)."""
    capsule = scipy.linalg.cython_blas.__pyx_capi__[name]
    get_name, get_pointer = ctypes.pythonapi.PyCapsule_GetName, ctypes.pythonapi.PyCapsule_GetPointer
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return get_pointer(capsule, get_name(capsule))


# gemm's address per work dtype: C = α op(A) op(B) + β C on column-major matrices.
GEMM = {np.dtype(np.float64): _address("dgemm"), np.dtype(np.float32): _address("sgemm")}


@intrinsic
def _call(typingctx, function, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """Call the void function at address `function` with 13 pointer arguments, all given as integers."""
    arguments = (transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    if not all(isinstance(value, types.Integer) for value in (function, *arguments)):
        return None

    def codegen(context, builder, signature, args):
        pointer = ir.IntType(8).as_pointer()
        kind = ir.FunctionType(ir.VoidType(), [pointer] * len(arguments))
        target = builder.inttoptr(args[0], kind.as_pointer())
        builder.call(target, [builder.inttoptr(value, pointer) for value in args[1:]])

    return types.void(function, *arguments), codegen


@njit(cache=True, nogil=True)
def product(gemm, M, P, K, left, left_at, left_ld, left_t, right, right_at, right_ld, right_t, out, out_at, out_ld, add):
    """out (M × P) = op(left) @ op(right), or += with `add`; every matrix row-major inside a flat buffer.

    `left` holds op(left) (M × K) from element `left_at` on, rows `left_ld`
    elements apart, or its transpose (K × M) where `left_t`; likewise `right`
    (K × P, or P × K where `right_t`) and `out`. A row-major matrix is the
    column-major transpose, so gemm computes outᵀ = op(right)ᵀ op(left)ᵀ.
    """
    sizes = np.array([P, M, K, right_ld, left_ld, out_ld], dtype=np.int32)
    flags = np.array([ord("T") if right_t else ord("N"), ord("T") if left_t else ord("N")], dtype=np.uint8)
    scalars = np.array([1.0, 1.0 if add else 0.0], dtype=out.dtype)
    size, at, number = out.itemsize, flags.ctypes.data, sizes.ctypes.data
    _call(gemm, at, at + 1, number, number + 4, number + 8, scalars.ctypes.data, right.ctypes.data + right_at * size,
          number + 12, left.ctypes.data + left_at * size, number + 16, scalars.ctypes.data + size,
          out.ctypes.data + out_at * size, number + 20)  # fmt: skip
