"""The compiled engine: the same backpropagation as the reference, over flat arrays.

``graphbp.compile(G)`` reads the graph once (:mod:`graphbp.network_layout`) and returns a
:class:`CompiledNetwork` whose passes run either the numba kernels
(:mod:`.kernels_numba`, a loop over nodes with the batch innermost, threads
over the batch; on layered graphs the edges between two nearly fully joined
levels as matrix products, :mod:`.dense_blocks`) or, without numba,
level-scheduled scipy sparse products (:mod:`.kernels_numpy`). Results are the
reference's to rounding. ``graphbp.compile_many(graphs)`` compiles many small
networks together (:mod:`.population`): one kernel set for their disjoint union.
"""

from .engine import ArrayMapping, CompiledNetwork, CompiledResult, compile_network, numba_available
from .population import CompiledPopulation, compile_many

compile = compile_network

__all__ = [
    "ArrayMapping", "CompiledNetwork", "CompiledPopulation", "CompiledResult", "compile", "compile_many",
    "compile_network", "numba_available",
]
