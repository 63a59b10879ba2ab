"""The row kernels: a table entry's h and h' compiled by numba and applied to one row (one node, a range of samples).

:func:`compiled_activation` compiles the activation table's own Python
functions for one float, :func:`row_kernels` the loops that apply them to a
row of the work arrays, which the kernels of :mod:`.passes` call through a
typed list of first-class functions (:func:`row_types`). An entry numba
cannot compile runs as Python between kernel runs (code :data:`PYTHON`).
The softmax and the losses, functions on whole arrays, are compiled as
written (:func:`compiled_array_function`).
"""

from __future__ import annotations

import warnings
from functools import cache, partial

import numpy as np
from numba import njit, types
from numba.core.errors import NumbaExperimentalFeatureWarning

from ...activations import Activation, rebind, softmax, softmax_product
from ..kernel_math import KERNEL_NUMPY

__all__ = [
    "PYTHON", "compiled_activation", "compiled_array_function", "compiled_softmax", "compiled_softmax_product",
    "row_kernels", "row_types",
]

# The kernels take the activations as a typed list of compiled functions (numba's first-class
# function type), so one cached machine code serves every table entry, a user's included.
# (A typed list, not a tuple: a tuple of functions is re-typed on every call.)
warnings.filterwarnings("ignore", ".*First-class function type feature", NumbaExperimentalFeatureWarning)

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


def compiled_array_function(function):
    """A function on whole arrays written in numba's numpy (a loss of :mod:`graphbp.losses`, the softmax of
    :mod:`graphbp.activations`) compiled by numba as written, with the helpers it calls (cached on disk)."""
    return njit(cache=True)(rebind(function, np, njit(cache=True)))


# A softmax group's z (eq. 5.25) and Jacobian product, the table's own functions compiled.
compiled_softmax, compiled_softmax_product = compiled_array_function(softmax), compiled_array_function(softmax_product)


def row_types(dtype) -> tuple:
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
    activate_type, scale_type = row_types(dtype)
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

