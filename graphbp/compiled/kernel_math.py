"""What ``np`` means in a table function compiled for the numba kernels: numpy, with a faster tanh, exp and log.

The activation table writes each h once against the name ``np``
(:mod:`graphbp.activations`); each engine says what ``np`` is
(:func:`graphbp.activations.rebind`): numpy for the reference, torch for the
torch module, and for the numba kernels :data:`KERNEL_NUMPY`, numpy's
functions as numba compiles them except :func:`tanh`, :func:`exp` and
:func:`log`. numba compiles those to libm calls, which LLVM cannot vectorize,
and which took a large share of a tanh RandWire network's passes
(benchmarks/bench.py) and of neat's sigmoid, gauss, elu, selu, softplus, log
and exp (benchmarks/population.py). The three here are arithmetic only,
without branches or calls, so the row kernels' loops run them several numbers
at a time; each stays within 3 ulp of the correctly rounded value over all of
float64, with ±0, ±inf, NaN, overflow and subnormals as numpy gives them (the
test suite sweeps them against extended precision). sin and cos stay libm's:
a branch-free reduction is only right for |x| below a bound, and a libm
fallback beyond it keeps the loop from vectorizing (an activation whose
argument is bounded can use a sine of its own, as neat's clamped sin does in
:mod:`graphbp.interop.neat_activations`).

Importing this module needs numba.
"""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["KERNEL_NUMPY", "exp", "log", "tanh"]

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

# exp: beyond these x, e^x is inf or 0 in float64 (e^709.79 overflows, e^−745.14 rounds to 0); x is held
# here so k stays small enough for the two factors of 2^k.
_EXP_OVERFLOW = 710.0
_EXP_UNDERFLOW = -746.0

# log: the bit patterns and constants of the reduction x = 2^k m.
_SMALLEST_NORMAL = 2.2250738585072014e-308
_TWO_54 = 2.0**54
_TWO_52_BITS = 0x4330000000000000  # 2^52
_MANTISSA_BITS = 0x000FFFFFFFFFFFFF
_SQRT2_MANTISSA = 0x6A09E667F3BCD  # √2 = 0x3FF6A09E667F3BCD
_ONE_BITS = 0x3FF0000000000000  # exponent of [1, 2)
_HALF_BITS = 0x3FE0000000000000  # exponent of [1/2, 1)
# fdlibm's e_log.c: R(z) ≈ 2z/3 + 2z²/5 + ... with |error| < 2^−58.45 on s² ≤ 0.0295.
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


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


@njit(inline="always")
def _power_of_two(k):
    """2^k for an integral float64 k with −1022 ≤ k ≤ 1023, by writing its exponent field."""
    return _float(_bits(k + _EXPONENT_BIAS) << 52)


@njit(inline="always")
def _reduced_exp(y):
    """(k, e^r − 1) with y = k ln 2 + r, k integral and |r| ≤ ln 2 / 2 (Cody-Waite); |y| < 2^21 keeps k · ln 2 exact."""
    k = np.floor(y * _INV_LN2 + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    tail = _F11 + r * (_F12 + r * _F13)
    tail = _F6 + r * (_F7 + r * (_F8 + r * (_F9 + r * (_F10 + r * tail))))
    return k, r + r * r * (_F2 + r * (_F3 + r * (_F4 + r * (_F5 + r * tail))))


@njit(inline="always", error_model="numpy")
def exp(x):
    """e^x for one float64, in arithmetic a loop can vectorize; overflow to inf, underflow through the
    subnormals to 0, ±inf and NaN as numpy gives them.

    With x = k ln 2 + r: e^x = ((1 + (e^r − 1)) · 2^⌊k/2⌋) · 2^(k − ⌊k/2⌋), two factors so that
    2^k below 2^−1022 (subnormal results) and 2^1024 (overflow) need no special case: the last product
    rounds once into the subnormals or overflows to inf as the exact value would.

    Examples
    --------
    >>> bool(abs(float(exp(1.0)) - np.e) <= np.spacing(np.e)), float(exp(-750.0)), float(exp(710.0))
    (True, 0.0, inf)
    """
    y = x if x < _EXP_OVERFLOW else _EXP_OVERFLOW  # NaN goes here too, and is given back at the end
    y = y if y > _EXP_UNDERFLOW else _EXP_UNDERFLOW
    k, expm1_r = _reduced_exp(y)
    half = np.floor(0.5 * k)
    e = ((1.0 + expm1_r) * _power_of_two(half)) * _power_of_two(k - half)
    return x if x != x else e


@njit(inline="always", error_model="numpy")
def log(x):
    """ln x for one float64, in arithmetic a loop can vectorize; subnormals, ±0 (−inf), x < 0 (NaN),
    inf and NaN as numpy gives them (without numpy's warnings).

    x = 2^k m with √2/2 ≤ m < √2 read off its bits (a subnormal x scaled by 2^54 first); with
    f = m − 1 and s = f / (2 + f), ln m = 2 atanh s = f − f²/2 + s (f²/2 + R(s²)), R fdlibm's
    minimax polynomial (e_log.c), and ln x = k ln 2 + ln m, ln 2 in two parts as in :func:`exp`.

    Examples
    --------
    >>> float(log(np.e)), float(log(0.0)), float(log(-1.0))
    (1.0, -inf, nan)
    """
    tiny = x < _SMALLEST_NORMAL
    bits = _bits(x * _TWO_54 if tiny else x)
    # the biased exponent as a float: its 11 bits in the mantissa of 2^52, then 2^52 + 1023 taken away
    k = _float((bits >> 52) | _TWO_52_BITS) - _EXPONENT_BIAS - (54.0 if tiny else 0.0)
    mantissa = bits & _MANTISSA_BITS
    high = mantissa > _SQRT2_MANTISSA  # m in [√2, 2): halved, so k one more
    f = _float(mantissa | (_HALF_BITS if high else _ONE_BITS)) - 1.0
    k = k + 1.0 if high else k
    half_f2 = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    R = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    y = k * _LN2_HI - ((half_f2 - (s * (half_f2 + R) + k * _LN2_LO)) - f)
    y = y if x > 0.0 else (-np.inf if x == 0.0 else np.nan)
    return x if x == np.inf else y


@njit(inline="always", error_model="numpy")
def tanh(x):
    """tanh(x) for one float64, in arithmetic a loop can vectorize; ±0, ±inf and NaN as numpy gives them.

    With y = −2|x| = k ln 2 + r: E = e^y − 1 = (2^k − 1) + 2^k (e^r − 1), and
    tanh |x| = −E / (2 + E), or 1 − 2e / (1 + e) with e = 1 + E from tanh |x| = 1/2
    on (there the first loses digits to E's rounding); the sign is copied from x.
    """
    ax = abs(x)
    y = -2.0 * ax if ax < _SATURATED else -2.0 * _SATURATED
    k, expm1_r = _reduced_exp(y)
    scale = _power_of_two(k)
    E = (scale - 1.0) + scale * expm1_r
    near = ax < _HALF
    q = (-E if near else 2.0 * (scale + scale * expm1_r)) / (2.0 + E)
    t = np.copysign(q if near else 1.0 - q, x)
    return x if x != x else t  # NaN in, NaN out


def _kernel_numpy() -> ModuleType:
    namespace = ModuleType("graphbp_kernel_numpy", "numpy as the numba kernels compile it, with graphbp's tanh")
    namespace.__dict__.update({name: value for name, value in vars(np).items() if not name.startswith("__")})
    namespace.tanh, namespace.exp, namespace.log = tanh, exp, log
    return namespace


# The namespace the table's functions are rebound to for the numba kernels.
KERNEL_NUMPY = _kernel_numpy()
