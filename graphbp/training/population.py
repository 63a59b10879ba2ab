"""Training a population of networks (a generation of a topology search) on the same data at once: :func:`train_many`.

The graphs are compiled together (:func:`graphbp.compile_many`) and every
step computes every graph's gradient in one pass; each graph's trajectory is
the one :func:`~graphbp.training.train` gives it alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from ..exceptions import GraphBPError
from ..optimizers import Adam, GradientDescent
from .fit import train
from .history import History, Run
from .loops import (
    check_counts,
    check_split,
    first_order_loop,
    frozen_entries,
    mean_objective,
    optimizer_rule,
    split_rows,
)

__all__ = ["train_many"]

def train_many(
    graphs,
    x,
    t,
    loss="sum_of_squares",
    optimizer: GradientDescent | Adam | str = "adam",
    *,
    epochs: int | None = None,
    max_evaluations: int | None = None,
    batch_size: int | None = None,
    validation_split: float = 0.0,
    callback: Callable[[int, dict], bool | None] | None = None,
    seed=None,
    progress: bool = True,
    weight: str = "weight",
    backend: str = "auto",
) -> list[History]:
    """Train many networks on the same data at once, each in place, each as :func:`train` would alone.

    For a population of small, different networks (one generation of a
    topology search such as NEAT): the graphs are compiled together
    (:func:`graphbp.compile_many`) and every step computes every graph's
    gradient in one pass. Each graph's parameter trajectory and
    :class:`History` are those of ``train(G, x, t, ...)`` with the same
    arguments (to rounding, about 1e-15 relative per step): the same seed
    gives every graph the validation split and mini-batch order ``train``
    would draw. Edges with ``trainable=False`` keep their weights exactly.

    Parameters
    ----------
    graphs : iterable of networkx.DiGraph
        The networks, all with the same numbers of inputs and outputs. Each
        is updated in place, as by :func:`train`.
    x, t, loss, epochs, max_evaluations, batch_size, validation_split, progress, weight
        As :func:`train`; shared by every graph.
    optimizer : optimizer object or str, default "adam"
        As :func:`train`. ``"gd"``, ``"momentum"``, ``"adam"`` and
        :class:`~graphbp.optimizers.GradientDescent` /
        :class:`~graphbp.optimizers.Adam` objects step all graphs' parameters
        as one vector (their rules are element-wise: the same numbers); any
        other object gets ``init`` and ``step`` per graph, on that graph's own
        θ. A scipy method (``"BFGS"``, ``"CG"``, ``"L-BFGS-B"``) runs
        :func:`train` on each graph in turn (each graph its own scipy run: a
        line search is one graph's), so it gains no speed here.
    callback : callable, optional
        ``callback(epoch, logs)`` after every epoch, the graphs already
        holding their current parameters; `logs` has the keys of
        :func:`train`'s, each value an array with one entry per graph
        (``wall_time`` and ``evaluations`` are shared numbers). Returning
        True stops every graph. Not with a scipy method (a GraphBPError).
    seed : int or numpy.random.Generator, optional
        As :func:`train`. A Generator is drawn from once for all graphs
        (each gets the order ``train`` would draw from a copy of it).
    backend : {"auto", "numba", "numpy"}, default "auto"
        The population engine's backend (:func:`graphbp.compile_many`).

    Returns
    -------
    list of History
        One per graph, in order.

    Raises
    ------
    GraphBPError
        Whatever :func:`graphbp.compile_many` and
        :meth:`~graphbp.compiled.CompiledPopulation.loss_and_gradient` raise
        (an empty list, a bad graph or its counts, bad `x`/`t`, a loss some
        graph does not fit: its index is named); what :func:`train` raises
        for its own arguments; a callback with a scipy method.

    Examples
    --------
    Two lines fitted to y = 2x + 1 at once, one of them with its slope frozen:

    >>> import networkx as nx
    >>> free = nx.DiGraph([("x", "y", {"weight": 0.0})])
    >>> fixed = nx.DiGraph([("x", "y", {"weight": 1.0, "trainable": False})])
    >>> x, t = [[-1.0], [0.0], [1.0]], [[-1.0], [1.0], [3.0]]
    >>> histories = train_many([free, fixed], x, t, optimizer=GradientDescent(0.5), epochs=50, progress=False)
    >>> round(free.edges["x", "y"]["weight"], 6), round(free.nodes["y"]["bias"], 6)
    (2.0, 1.0)
    >>> fixed.edges["x", "y"]["weight"], round(fixed.nodes["y"]["bias"], 6)
    (1.0, 1.0)
    >>> [len(h.loss) for h in histories]
    [51, 51]
    """
    graphs = list(graphs)
    epochs, max_evaluations, batch_size = check_counts(epochs, max_evaluations, batch_size)
    check_split(validation_split)
    step_rule, name = optimizer_rule(optimizer)
    if step_rule is None:
        if callback is not None:
            raise GraphBPError(
                f"train_many runs {name} as one train() per graph, and takes no callback then; "
                "call train(G, ..., callback=) on each graph instead"
            )
        if not graphs:
            raise GraphBPError("train_many needs at least one graph; got an empty list")
        options = {"epochs": epochs, "max_evaluations": max_evaluations, "validation_split": validation_split,
                   "progress": progress, "weight": weight}  # fmt: skip
        return [train(G, x, t, loss, name, seed=copy.deepcopy(seed), **options) for G in graphs]
    from ..compiled import compile_many

    population = compile_many(graphs, weight=weight, backend=backend)
    X, T, loss = population.checked_batch(x, t, loss)
    offsets = population.theta_offsets

    def total(theta, rows):
        population.load_flat(np.array(theta))
        return population.flat_loss_and_gradient(X[rows], T[rows], loss)

    def write(theta):
        population.load_flat(np.array(theta))
        population.write_back()

    def norms(grad):
        return np.sqrt(np.add.reduceat(np.square(grad), offsets[:-1]))

    rng, train_rows, validation_rows = split_rows(x, validation_split, seed)
    if type(step_rule) not in (GradientDescent, Adam):  # a rule not known to be element-wise: per graph
        step_rule = _PerGraph(step_rule, offsets)
    frozen = np.concatenate([
        offsets[g] + frozen_entries(G, weight, wiring.edges) for g, (G, wiring) in enumerate(zip(graphs, population.wirings))
    ])  # fmt: skip
    objective = mean_objective(total, frozen)
    with Run(write, objective, train_rows, validation_rows, callback, progress, epochs, name, norms) as run:
        first_order_loop(run, np.concatenate(population.get_parameters()), frozen, step_rule, epochs, max_evaluations,
                         batch_size, rng)  # fmt: skip
    return run.histories(len(graphs))


class _PerGraph:
    """A step rule applied to each graph's slice of the population's θ on its own (its own init, state and step)."""

    def __init__(self, rule, offsets: np.ndarray):
        self.rule, self.slices = rule, [slice(a, b) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]

    def init(self, theta: np.ndarray) -> list:
        return [self.rule.init(theta[part]) for part in self.slices]

    def step(self, theta: np.ndarray, grad: np.ndarray, states: list) -> tuple[np.ndarray, list]:
        stepped = [self.rule.step(theta[part], grad[part], state) for part, state in zip(self.slices, states)]
        return np.concatenate([np.asarray(new, dtype=float) for new, _ in stepped]), [state for _, state in stepped]


