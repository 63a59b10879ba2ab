"""What ``np`` means in a table function compiled for the numba kernels: numpy, with a faster tanh.

The activation table writes each h once against the name ``np``
(:mod:`graphbp.activations`); each engine says what ``np`` is
(:func:`graphbp.activations.rebind`): numpy for the reference, torch for the
torch module, and for the numba kernels :data:`KERNEL_NUMPY`, numpy's
functions as numba compiles them except :func:`tanh`. numba compiles
``np.tanh`` to a libm call of ~20 ns per number, which took ~40 % of a forward
and backward pass of a tanh RandWire network; the version here costs ~8 ns and
stays within 3 ulp of the correctly rounded value (the test suite sweeps it
against extended precision).

Importing this module needs numba.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
from numba import njit, types

__all__ = ["KERNEL_NUMPY", "tanh"]

# The odd Taylor series tanh x = x + Σ_{n ≥ 2} c_{2n-1} x^(2n-1), c_{2n-1} = 2^{2n} (2^{2n} − 1) B_{2n} / (2n)!
# (B: Bernoulli numbers), terms x³ ... x¹⁹: below |x| = 0.2 the next term is under 1e-16 of the sum.
_SERIES = (-1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075, -929569 / 638512875,
           6404582 / 10854718875, -443861162 / 1856156927625)  # fmt: skip
_C3, _C5, _C7, _C9, _C11, _C13, _C15, _C17, _C19 = _SERIES

# Below this |x| the series; above, tanh |x| = (1 − e) / (1 + e) with e = exp(−2|x|) ≤ 0.67, where
# 1 − e loses at most ~2 ulp to the rounding of e.
_SERIES_BELOW = 0.2


@njit(types.float64(types.float64), cache=True)
def tanh(x):
    """tanh(x) for one float64: the series near 0, one exp elsewhere, the sign copied from x (so ±0, ±inf and NaN hold)."""
    ax = abs(x)
    if ax < _SERIES_BELOW:
        s = ax * ax
        series = _C15 + s * (_C17 + s * _C19)
        series = _C7 + s * (_C9 + s * (_C11 + s * (_C13 + s * series)))
        t = ax + ax * s * (_C3 + s * (_C5 + s * series))  # Horner's scheme in s = x²
    else:
        e = np.exp(-2.0 * ax)
        t = (1.0 - e) / (1.0 + e)
    return np.copysign(t, x)


def _kernel_numpy() -> ModuleType:
    namespace = ModuleType("graphbp_kernel_numpy", "numpy as the numba kernels compile it, with graphbp's tanh")
    namespace.__dict__.update({name: value for name, value in vars(np).items() if not name.startswith("__")})
    namespace.tanh = tanh
    return namespace


# The namespace the table's functions are rebound to for the numba kernels.
KERNEL_NUMPY = _kernel_numpy()
