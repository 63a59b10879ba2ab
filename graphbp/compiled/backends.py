"""Which backend runs the compiled passes: the numba kernels when numba is installed, else numpy/scipy.

:func:`checked_options` checks a compile's dtype and backend (resolving
``"auto"``) and :func:`make_kernels` builds that backend's kernels for a
wiring; :class:`~graphbp.compiled.CompiledNetwork` and
:class:`~graphbp.compiled.CompiledPopulation` both start here.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import GraphBPError
from .kernels_numpy import LevelKernels

__all__ = ["BACKENDS", "checked_options", "make_kernels", "numba_available"]

BACKENDS = ("auto", "numba", "numpy")


def numba_available() -> bool:
    """Whether the numba kernels can be used (numba is an optional extra: ``pip install graphbp[fast]``)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True



def checked_options(dtype, backend: str) -> tuple[np.dtype, str]:
    """The work dtype, and the backend with "auto" resolved: "numba" when installed, else "numpy".

    Raises
    ------
    GraphBPError
        A dtype other than float64 or float32, an unknown backend, or "numba" without numba.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float64, np.float32):
        raise GraphBPError(f"dtype must be float64 or float32, got {dtype}")
    if backend not in BACKENDS:
        raise GraphBPError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
    if backend == "numba" and not numba_available():
        raise GraphBPError("backend='numba' needs numba: pip install 'graphbp[fast]' (or use backend='numpy')")
    if backend == "auto":
        backend = "numba" if numba_available() else "numpy"
    return dtype, backend


def make_kernels(wiring, backend: str, threads: int | None, dtype, plan=None):
    """The backend's name and its kernels for `wiring` (a resolved backend, see :func:`checked_options`)."""
    if backend == "numba":
        from .kernels_numba import NumbaKernels

        return backend, NumbaKernels(wiring, threads, dtype, plan)
    return backend, LevelKernels(wiring)

