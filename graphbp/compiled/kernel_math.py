"""What ``np`` means in a table function compiled for the numba kernels: numpy, with a faster tanh.

The activation table writes each h once against the name ``np``
(:mod:`graphbp.activations`); each engine says what ``np`` is
(:func:`graphbp.activations.rebind`): numpy for the reference, torch for the
torch module, and for the numba kernels :data:`KERNEL_NUMPY`, numpy's
functions as numba compiles them except :func:`tanh`. numba compiles
``np.tanh`` to a libm call, which LLVM cannot vectorize, and which took a
large share of a tanh RandWire network's passes (benchmarks/bench.py). :func:`tanh` here is arithmetic only, without branches or calls, so
the row kernels' loops run it several numbers at a time; it
stays within 3 ulp of the correctly rounded value (the test suite sweeps it
against extended precision).

Importing this module needs numba.
"""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["KERNEL_NUMPY", "tanh"]

# exp(y) = 2^k e^r with k = round(y / ln 2) and |r| ≤ ln 2 / 2; ln 2 in two parts (Cody and Waite),
# the first with trailing zero bits, so k · LN2_HI is exact and r keeps its low bits.
_INV_LN2 = 1 / math.log(2)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10

# e^r − 1 by its Taylor series to r¹³: on |r| ≤ ln 2 / 2 the first term left out is under 2e-17 of the sum.
_F2, _F3, _F4, _F5, _F6, _F7, _F8, _F9, _F10, _F11, _F12, _F13 = (1 / math.factorial(n) for n in range(2, 14))

# k + 2^52 + 1023 holds k + 1023 (the exponent field of 2^k) in its low bits, for integers |k| < 2^51.
_EXPONENT_BIAS = 2.0**52 + 1023.0

# Above |x| = 19.1, tanh x rounds to ±1; beyond this |x| the argument is held here (no overflow, no inf).
_SATURATED = 20.0

# atanh(1/2): from here on tanh |x| = 1 − 2e/(1 + e) (e = exp(−2|x|)) keeps more digits than −E/(2 + E).
_HALF = 0.5493061443340549


@intrinsic
def _bits(typingctx, x):
    """The 64 bits of a float64, as an int64 (a vectorizable bit cast)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, n):
    """The float64 whose 64 bits are the int64 `n`."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(inline="always", error_model="numpy")
def tanh(x):
    """tanh(x) for one float64, in arithmetic a loop can vectorize; ±0, ±inf and NaN as numpy gives them.

    With y = −2|x| = k ln 2 + r: E = e^y − 1 = (2^k − 1) + 2^k (e^r − 1), and
    tanh |x| = −E / (2 + E), or 1 − 2e / (1 + e) with e = 1 + E from tanh |x| = 1/2
    on (there the first loses digits to E's rounding); the sign is copied from x.
    """
    ax = abs(x)
    y = -2.0 * ax if ax < _SATURATED else -2.0 * _SATURATED
    k = np.floor(y * _INV_LN2 + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    tail = _F11 + r * (_F12 + r * _F13)
    tail = _F6 + r * (_F7 + r * (_F8 + r * (_F9 + r * (_F10 + r * tail))))
    expm1_r = r + r * r * (_F2 + r * (_F3 + r * (_F4 + r * (_F5 + r * tail))))
    scale = _float(_bits(k + _EXPONENT_BIAS) << 52)  # 2^k
    E = (scale - 1.0) + scale * expm1_r
    near = ax < _HALF
    q = (-E if near else 2.0 * (scale + scale * expm1_r)) / (2.0 + E)
    t = np.copysign(q if near else 1.0 - q, x)
    return x if x != x else t  # NaN in, NaN out


def _kernel_numpy() -> ModuleType:
    namespace = ModuleType("graphbp_kernel_numpy", "numpy as the numba kernels compile it, with graphbp's tanh")
    namespace.__dict__.update({name: value for name, value in vars(np).items() if not name.startswith("__")})
    namespace.tanh = tanh
    return namespace


# The namespace the table's functions are rebound to for the numba kernels.
KERNEL_NUMPY = _kernel_numpy()
