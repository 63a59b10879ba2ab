"""Testing tools: random valid networks, and assertions that every engine computes the same numbers.

graphbp computes one set of numbers (eqs. 5.48-5.56) several ways: the
reference :func:`graphbp.backprop`, the compiled engine (numba on one or two
threads, with dense blocks, or numpy/scipy) through both its
:meth:`~graphbp.compiled.CompiledNetwork.backprop` and its fast
:meth:`~graphbp.compiled.CompiledNetwork.loss_and_gradient`, and the torch
module (:func:`graphbp.torch_module.to_torch`). A fast path that skips a unit
in one rare arrangement gives wrong numbers without any error, so the tools
here compare every path with the reference, value by value, on networks drawn
at random:

* :func:`networks` and :func:`inputs` are hypothesis strategies drawing valid
  networks (irregular DAGs, odd node names, every loss) and data for them;
* :func:`assert_engines_agree` runs every available engine and compares E,
  every a_j, z_j, δ_j and ∂E/∂θ with the reference's;
* :func:`assert_gradients_close` compares backprop with central differences
  (eq. 5.69, :func:`graphbp.check_gradients`);
* :func:`assert_results_close` compares two :class:`~graphbp.BackpropResult`.

The strategies are in :mod:`.strategies`, the comparison of two results in
:mod:`.comparisons`, the engines and their runs in :mod:`.engines`.
hypothesis is needed only by the strategies (``pip install hypothesis``);
numba and torch only by the engines that use them.
"""

from .comparisons import assert_results_close
from .engines import (
    ENGINES,
    assert_engines_agree,
    assert_gradients_close,
    available_engines,
)
from .strategies import inputs, networks

__all__ = [
    "ENGINES",
    "assert_engines_agree",
    "assert_gradients_close",
    "assert_results_close",
    "available_engines",
    "inputs",
    "networks",
]
