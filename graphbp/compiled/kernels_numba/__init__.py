"""numba kernels: one loop over the nodes in topological order, the batch innermost.

Each kernel works on the columns ``n0:n1`` of node-major arrays ``a, z, delta``
of shape (nodes, N), so one call can be one thread's share of a batch or one
chunk of a streamed batch. Per edge the forward pass reads one row z_i
(eq. 5.48) and the backward pass reads one row δ_k, using it both for the sum
of eq. 5.56 and for ∂E/∂w_kj = Σ_n δ_k z_j (eq. 5.53): two rows of N numbers
per edge, which is what bounds the speed on large graphs (memory traffic).

The units are taken in topological order, or in level order when dense
blocks (:mod:`..dense_blocks`) run part of the edges as matrix products; then
``seeded`` rows start from the block's part of a_j (forward) or of
Σ_k w_kj δ_k (backward) instead of 0.

The modules: :mod:`.rows` (the row kernels: the activation table compiled),
:mod:`.pass_struct` (:class:`PassData`, the wiring as the kernels take it),
:mod:`.passes` (the kernels: units, runs with dense blocks, the one-call
whole pass) and :mod:`.kernels` (:class:`NumbaKernels`, which splits a batch
across threads and runs the passes).

Importing this package needs numba; :mod:`graphbp.compiled.backends` falls back to
:mod:`graphbp.compiled.kernels_numpy` without it. ``cache=True`` keeps the
compiled machine code between processes.
"""

from .kernels import MIN_SAMPLES_PER_THREAD, MIN_THREAD_WORK, NumbaKernels
from .pass_struct import PassData, pass_data
from .passes import WHOLE_PASS_LOSSES, whole_pass
from .rows import PYTHON, compiled_activation, row_kernels

__all__ = [
    "MIN_SAMPLES_PER_THREAD", "MIN_THREAD_WORK", "PYTHON", "WHOLE_PASS_LOSSES", "NumbaKernels", "PassData",
    "compiled_activation", "pass_data", "row_kernels", "whole_pass",
]
