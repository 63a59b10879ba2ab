"""Training a network in place: first-order optimizers or scipy's quasi-Newton methods.

:func:`train` minimises the mean error per training sample, (1/N) Σ_n E_n
(Bishop eq. 5.44 divided by N, so a learning rate does not depend on the size
of the data set or of a mini-batch), over the parameter vector θ of
:mod:`graphbp.params`. It **updates the user's graph in place**: the current θ is written into the
edges' weights and the nodes' biases before every callback, so a callback sees
the network as it learns, and when training ends (also by an error or an
interrupt) the graph holds the last epoch's network. Without a callback nothing
can look at the graph between epochs, so it is written once, at the end. It
returns a :class:`History`. An edge with ``trainable=False`` keeps its weight
exactly: its gradient entry is zeroed before every step.

:func:`train_many` trains a population of networks (a generation of a
topology search) on the same data at once, on one
:class:`~graphbp.compiled.CompiledPopulation`: each graph's trajectory is the
one :func:`train` gives it alone.

The modules: :mod:`.fit` (:func:`train`), :mod:`.population`
(:func:`train_many`), :mod:`.loops` (what both run: the checks, the split,
the mean objective, the first-order and scipy loops), :mod:`.history`
(:class:`History` and the bookkeeping of a run) and :mod:`.classification`
(:func:`predict_classes`, :func:`target_classes`, :func:`accuracy`).
"""

from .classification import accuracy, predict_classes, target_classes
from .fit import AUTO_COMPILED_EDGES, ENGINES, train
from .history import History
from .loops import SCIPY_METHODS, frozen_entries, split_rows
from .population import train_many

__all__ = [
    "AUTO_COMPILED_EDGES", "ENGINES", "SCIPY_METHODS", "History", "accuracy", "frozen_entries", "predict_classes",
    "split_rows", "target_classes", "train", "train_many",
]
