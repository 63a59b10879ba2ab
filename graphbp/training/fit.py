"""Training one network in place: :func:`train`, and the engine that computes its E and ∂E/∂θ."""

from __future__ import annotations

from collections.abc import Callable

from ..exceptions import GraphBPError
from ..optimizers import Adam, GradientDescent
from ..params import get_parameters, loss_and_grad, set_parameters
from .history import History, Run
from .loops import (
    check_counts,
    check_split,
    first_order_loop,
    frozen_entries,
    mean_objective,
    optimizer_rule,
    scipy_loop,
    split_rows,
)

__all__ = ["AUTO_COMPILED_EDGES", "ENGINES", "train"]

ENGINES = ("auto", "reference", "compiled")
#: engine="auto" runs the compiled engine on networks with at least this many edges.
AUTO_COMPILED_EDGES = 1000


def train(
    G,
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
    engine: str = "auto",
) -> History:
    """Fit the weights and biases of `G` to inputs `x` and targets `t`, in place.

    Parameters
    ----------
    G : networkx.DiGraph
        The network. Its weights and biases are overwritten with the current
        ones before every callback and when training ends. An edge with the
        attribute ``trainable=False`` keeps its weight exactly (bit for bit):
        its gradient entry is zeroed before every step, scipy methods
        included (so ``gradient_norm`` leaves it out too).
    x, t : array_like
        Inputs (N, number of inputs) and targets (N, number of outputs).
    loss : str, default "sum_of_squares"
        ``"sse"``, ``"bce"`` (logistic outputs) or ``"ce"`` (softmax outputs).
    optimizer : optimizer object or str, default "adam"
        An object with ``init(theta)`` and ``step(theta, grad, state)`` such
        as :class:`~graphbp.optimizers.GradientDescent` or
        :class:`~graphbp.optimizers.Adam`; a name ``"gd"``, ``"momentum"``,
        ``"adam"`` (default hyperparameters); or a scipy method ``"BFGS"``,
        ``"CG"`` or ``"L-BFGS-B"``, run on the whole training set.
    epochs : int, optional
        Number of epochs (scipy: iterations). Default 100 unless
        `max_evaluations` is given.
    max_evaluations : int, optional
        Stop once this many gradient evaluations are used (also with `epochs`:
        whichever comes first). A scipy run that hits it keeps its last iterate.
    batch_size : int, optional
        Samples per step of a first-order optimizer, drawn in a seeded random
        order each epoch; default (or larger than the training set): the whole
        training set. Not used by scipy methods.
    validation_split : float, default 0.0
        Fraction in [0, 1) of the samples, chosen at random (seeded), held out
        of training and scored every epoch.
    callback : callable, optional
        ``callback(epoch, logs)`` after every epoch (`G` already holds the
        current parameters); `logs` has the keys ``loss``,
        ``validation_loss``, ``gradient_norm``, ``wall_time``,
        ``evaluations``. Returning True stops training.
    seed : int or numpy.random.Generator, optional
        Seed of the validation split and the mini-batch order: the same seed
        gives bit-for-bit the same run.
    progress : bool, default True
        Show a tqdm progress bar with the current loss, once a run takes more
        than a second.
    weight : str, default "weight"
        Edge attribute holding the weight w_ji.
    engine : {"auto", "reference", "compiled"}, default "auto"
        What computes E and ∂E/∂θ: ``"reference"`` the readable engine of
        :func:`graphbp.backprop`, ``"compiled"``
        :meth:`graphbp.compiled.CompiledNetwork.loss_and_gradient` (numba when
        installed). Both give the same parameter trajectory (to rounding,
        about 1e-15 relative per step), the same History and the same updates
        of `G`. ``"auto"`` picks ``"compiled"`` for networks of at least
        :data:`AUTO_COMPILED_EDGES` (1000) edges, where it is many times
        faster, and ``"reference"`` below (no compile step for small networks).

    Returns
    -------
    History

    Raises
    ------
    GraphBPError
        Whatever :func:`graphbp.backprop` raises for `G`, `x`, `t`, `loss`; an
        unknown optimizer or engine; a bad `epochs`, `max_evaluations`,
        `batch_size` or `validation_split`.

    Examples
    --------
    Fit y = 2x + 1 with one linear unit:

    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 0.0})])
    >>> x = [[-1.0], [0.0], [1.0]]
    >>> t = [[-1.0], [1.0], [3.0]]
    >>> history = train(G, x, t, optimizer=GradientDescent(0.5), epochs=50, progress=False)
    >>> round(G.edges["x", "y"]["weight"], 6), round(G.nodes["y"]["bias"], 6)
    (2.0, 1.0)
    >>> float(history.loss[0]), len(history.loss)   # mean ½(y − t)² before training: (1 + 1 + 9) / 6
    (1.8333333333333333, 51)
    """
    epochs, max_evaluations, batch_size = check_counts(epochs, max_evaluations, batch_size)
    check_split(validation_split)
    total, write = _objective(G, x, t, loss, weight, engine)
    rng, train_rows, validation_rows = split_rows(x, validation_split, seed)
    step_rule, name = optimizer_rule(optimizer)
    theta = get_parameters(G, weight)
    frozen = frozen_entries(G, weight)
    objective = mean_objective(total, frozen)
    with Run(write, objective, train_rows, validation_rows, callback, progress, epochs, name) as run:
        if step_rule is None:
            scipy_loop(run, theta, name, epochs, max_evaluations)
        else:
            first_order_loop(run, theta, frozen, step_rule, epochs, max_evaluations, batch_size, rng)
    return run.histories()[0]


def _objective(G, x, t, loss, weight: str, engine: str) -> tuple[Callable, Callable]:
    """``total(θ, rows) -> (Σ_n E_n, ∂/∂θ)`` over those samples, and ``write(θ)`` into G, for `engine`."""
    if engine not in ENGINES:
        raise GraphBPError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    if engine == "auto":
        engine = "compiled" if G.number_of_edges() >= AUTO_COMPILED_EDGES else "reference"
    if engine == "reference":
        return loss_and_grad(G, x, t, loss, weight), lambda theta: set_parameters(G, theta, weight)
    from ..batches import check_batch
    from ..compiled import compile_network

    net = compile_network(G, weight)
    X, T, loss, _ = check_batch(net.network, x, t, loss)

    def total(theta, rows):
        return net.set_parameters(theta).loss_and_gradient(X[rows], T[rows], loss)

    def write(theta):
        net.set_parameters(theta).write_back()

    return total, write


