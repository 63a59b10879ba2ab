"""The compiled engine: the same backpropagation as the reference, over flat arrays.

``graphbp.compile(G)`` reads the graph once (:mod:`graphbp.wiring`) and returns a
:class:`CompiledNetwork` whose passes run either the numba kernels
(:mod:`.kernels_numba`, a loop over nodes with the batch innermost, threads
over the batch; on layered graphs the edges between two nearly fully joined
levels as matrix products, :mod:`.dense_blocks`) or, without numba,
level-scheduled scipy sparse products (:mod:`.kernels_numpy`). Results are the
reference's to rounding. ``graphbp.compile_many(graphs)`` compiles many small
networks together (:mod:`.population`): one kernel set for their disjoint union.
:mod:`.backends` picks the kernels, :mod:`.workspaces` keeps the work arrays,
:mod:`.results` holds what a pass returns.

Glossary (the words the modules here use, each for one thing):

position
    A node's row in the (nodes, N) work arrays: its index in ``Network.order``.
unit
    One step of a pass: a single node, or a whole softmax group (computed together).
    ``forward_units`` / ``backward_units`` (:mod:`.kernels_numba.passes`) run a range of units.
code
    A unit's activation: an index into ``Wiring.activations``, or ``INPUT``,
    ``SOFTMAX_CODE``, or ``PYTHON`` (an entry numba cannot compile, applied as Python between kernel runs;
    :mod:`.kernels_numba.rows`).
row kernel
    The compiled h or h' of one table entry applied to one row (one node, a range of samples)
    (:mod:`.kernels_numba.rows`).
segment, run
    Units the kernels run in one go: a forward segment ends after a Python unit or where a dense
    block comes in (a backward one starts there); a run is the segments one numba call takes
    (``NumbaKernels`` cuts them, ``forward_run`` / ``backward_run`` run them).
block
    Only a dense matrix: the edges from one topological level into another, run as one matrix
    product (:mod:`.dense_blocks`).
whole pass
    Forward, loss and backward on a small batch in one numba call (``whole_pass``, :mod:`.kernels_numba.passes`):
    for batches of under 2 × ``MIN_SAMPLES_PER_THREAD`` samples, with no Python unit and no block.
span
    One thread's share of a batch's columns (samples), at least ``MIN_SAMPLES_PER_THREAD`` wide
    (``NumbaKernels``, :mod:`.kernels_numba.kernels`).
workspace
    A set of (nodes, N) arrays a, z, δ kept between passes (``Workspaces``, :mod:`.workspaces`).
level
    Units whose inputs all come from earlier levels: the numpy backend's step (:mod:`.kernels_numpy`).
population
    Many networks compiled as one disjoint union (:mod:`.population`); graph g's positions and
    edges are shifted by its offsets.
"""

from .backends import numba_available
from .engine import CompiledNetwork, compile_network
from .population import CompiledPopulation, compile_many
from .results import ArrayMapping, CompiledResult

compile = compile_network

__all__ = [
    "ArrayMapping", "CompiledNetwork", "CompiledPopulation", "CompiledResult", "compile", "compile_many",
    "compile_network", "numba_available",
]
