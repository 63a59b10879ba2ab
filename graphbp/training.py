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
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from tqdm.auto import tqdm

from .exceptions import GraphBPError, ShapeError
from .forward import forward
from .batches import as_batch
from .optimizers import Adam, GradientDescent, get_optimizer, optimizer_names
from .params import get_parameters, loss_and_grad, parameter_keys, set_parameters

__all__ = [
    "History", "train", "train_many", "frozen_entries", "accuracy", "predict_classes", "target_classes", "SCIPY_METHODS", "ENGINES",
    "AUTO_COMPILED_EDGES",
]

#: scipy.optimize.minimize methods :func:`train` accepts (they use the gradient, Bishop §5.2.4).
SCIPY_METHODS = ("BFGS", "CG", "L-BFGS-B")

_DEFAULT_EPOCHS = 100

ENGINES = ("auto", "reference", "compiled")
#: engine="auto" runs the compiled engine on networks with at least this many edges.
AUTO_COMPILED_EDGES = 1000


@dataclass(frozen=True, eq=False)   # arrays inside: compare histories field by field
class History:
    """What :func:`train` recorded, one entry per epoch; entry 0 is the network before training.

    Attributes
    ----------
    epoch : numpy.ndarray
        0, 1, 2, ... An epoch is one pass over the training samples for a
        first-order optimizer, one iteration for a scipy method.
    loss : numpy.ndarray
        Mean E_n over the training samples after the epoch.
    validation_loss : numpy.ndarray or None
        Mean E_n over the validation samples; None without a validation split.
    gradient_norm : numpy.ndarray
        ‖∇θ (1/N) Σ_n E_n‖ over the training samples after the epoch.
    wall_time : numpy.ndarray
        Seconds since training started.
    evaluations : numpy.ndarray
        Gradient evaluations the optimizer had used so far (a mini-batch counts as one).
    optimizer : str
        What trained the network, e.g. ``"Adam(learning_rate=0.01, ...)"`` or ``"L-BFGS-B"``.
    message : str
        Why training stopped.
    """

    epoch: np.ndarray
    loss: np.ndarray
    validation_loss: np.ndarray | None
    gradient_norm: np.ndarray
    wall_time: np.ndarray
    evaluations: np.ndarray
    optimizer: str
    message: str

    def rows(self) -> list[dict]:
        """One dict per epoch (keys: the per-epoch attributes), e.g. for CSV or JSON."""
        columns = {
            "epoch": self.epoch,
            "loss": self.loss,
            "validation_loss": self.validation_loss,
            "gradient_norm": self.gradient_norm,
            "wall_time": self.wall_time,
            "evaluations": self.evaluations,
        }
        present = {name: values.tolist() for name, values in columns.items() if values is not None}
        return [dict(zip(present, values)) for values in zip(*present.values())]


class _BudgetSpent(Exception):
    """Raised inside scipy's objective when max_evaluations gradient evaluations are used up."""


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
    epochs, max_evaluations, batch_size = _check_counts(epochs, max_evaluations, batch_size)
    _check_split(validation_split)
    total, write = _objective(G, x, t, loss, weight, engine)
    rng, train_rows, validation_rows = split_rows(x, validation_split, seed)
    step_rule, name = _step_rule(optimizer)
    theta = get_parameters(G, weight)
    frozen = frozen_entries(G, weight)
    run = _Run(write, _mean_objective(total, frozen), train_rows, validation_rows, callback, progress, epochs)
    run.optimizer = name
    try:
        if step_rule is None:
            _scipy_loop(run, theta, name, epochs, max_evaluations)
        else:
            _first_order_loop(run, theta, frozen, step_rule, epochs, max_evaluations, batch_size, rng)
    finally:
        run.flush()
        run.bar.close()
    return run.histories()[0]


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
    epochs, max_evaluations, batch_size = _check_counts(epochs, max_evaluations, batch_size)
    _check_split(validation_split)
    step_rule, name = _step_rule(optimizer)
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
    from .compiled import compile_many

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
        offsets[g] + frozen_entries(G, weight, layout.edges) for g, (G, layout) in enumerate(zip(graphs, population.layouts))
    ])  # fmt: skip
    run = _Run(write, _mean_objective(total, frozen), train_rows, validation_rows, callback, progress, epochs, norms)
    run.optimizer = name
    try:
        _first_order_loop(run, np.concatenate(population.get_parameters()), frozen, step_rule, epochs, max_evaluations,
                          batch_size, rng)  # fmt: skip
    finally:
        run.flush()
        run.bar.close()
    return run.histories(len(graphs))


def frozen_entries(G, weight: str = "weight", edges=None) -> np.ndarray:
    """Indices into θ (order of :func:`graphbp.parameter_keys`) of the weights of edges with ``trainable=False``.

    :func:`train` and :func:`train_many` zero their gradient entries, so those
    weights never change (bit for bit).

    Parameters
    ----------
    G : networkx.DiGraph
    weight : str, default "weight"
    edges : list, optional
        The edges in parameter order, where the caller has them already.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": 0.0, "trainable": False})])
    >>> frozen_entries(G)
    array([1])
    """
    if edges is None:
        edges = [key for kind, key in parameter_keys(G, weight) if kind == "weight"]
    adjacency = G._adj  # plain dicts, as network_layout reads them
    return np.array([e for e, (i, j) in enumerate(edges) if not adjacency[i][j].get("trainable", True)], dtype=np.int64)


class _PerGraph:
    """A step rule applied to each graph's slice of the population's θ on its own (its own init, state and step)."""

    def __init__(self, rule, offsets: np.ndarray):
        self.rule, self.slices = rule, [slice(a, b) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]

    def init(self, theta: np.ndarray) -> list:
        return [self.rule.init(theta[part]) for part in self.slices]

    def step(self, theta: np.ndarray, grad: np.ndarray, states: list) -> tuple[np.ndarray, list]:
        stepped = [self.rule.step(theta[part], grad[part], state) for part, state in zip(self.slices, states)]
        return np.concatenate([np.asarray(new, dtype=float) for new, _ in stepped]), [state for _, state in stepped]


def _check_split(validation_split) -> None:
    if not (isinstance(validation_split, (int, float)) and 0 <= validation_split < 1):
        raise GraphBPError(f"validation_split must be in [0, 1), got {validation_split!r}")


def split_rows(x, validation_split: float, seed) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    """The seeded generator, and the training and validation rows it draws (sorted): the split
    :func:`train` and :func:`train_many` hold out for `seed` (``graphbp train`` scores the same rows)."""
    shape = np.shape(x)
    n_samples = 1 if len(shape) == 1 else shape[0]   # a 1-D x is one sample
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(n_samples)
    n_validation = int(round(validation_split * n_samples))
    validation_rows, train_rows = np.sort(shuffled[:n_validation]), np.sort(shuffled[n_validation:])
    if train_rows.size == 0:
        raise GraphBPError(f"validation_split={validation_split} leaves no training sample out of {n_samples}")
    return rng, train_rows, validation_rows


def _step_rule(optimizer) -> tuple:
    """(step rule, name), or (None, scipy method name) for a scipy method."""
    if isinstance(optimizer, str) and optimizer.upper() in SCIPY_METHODS:
        return None, optimizer.upper()
    step_rule = get_optimizer(optimizer) if isinstance(optimizer, str) else optimizer
    if not (hasattr(step_rule, "init") and hasattr(step_rule, "step")):
        raise GraphBPError(
            f"optimizer must be one of {', '.join(optimizer_names())}, a scipy method "
            f"({', '.join(SCIPY_METHODS)}), or an object with init and step; got {optimizer!r}"
        )
    return step_rule, repr(step_rule)


def _check_counts(epochs, max_evaluations, batch_size):
    for name, value in (("epochs", epochs), ("max_evaluations", max_evaluations), ("batch_size", batch_size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise GraphBPError(f"{name} must be a positive int or None, got {value!r}")
    if epochs is None and max_evaluations is None:
        epochs = _DEFAULT_EPOCHS
    return epochs, max_evaluations, batch_size


def _objective(G, x, t, loss, weight: str, engine: str) -> tuple[Callable, Callable]:
    """``total(θ, rows) -> (Σ_n E_n, ∂/∂θ)`` over those samples, and ``write(θ)`` into G, for `engine`."""
    if engine not in ENGINES:
        raise GraphBPError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    if engine == "auto":
        engine = "compiled" if G.number_of_edges() >= AUTO_COMPILED_EDGES else "reference"
    if engine == "reference":
        return loss_and_grad(G, x, t, loss, weight), lambda theta: set_parameters(G, theta, weight)
    from .batches import check_batch
    from .compiled import compile_network

    net = compile_network(G, weight)
    X, T, loss, _ = check_batch(net.network, x, t, loss)

    def total(theta, rows):
        return net.set_parameters(theta).loss_and_gradient(X[rows], T[rows], loss)

    def write(theta):
        net.set_parameters(theta).write_back()

    return total, write


def _mean_objective(total: Callable, frozen: np.ndarray) -> Callable:
    """(1/|B|) Σ_{n∈B} E_n and its gradient (zero at the `frozen` entries), remembering the last two answers.

    A record scores θ on the training and validation rows; the next whole-set
    step (or scipy's last evaluation before it) asks for the same training
    answer again.
    """
    last = {}

    def mean_objective(theta: np.ndarray, rows: np.ndarray) -> tuple[float, np.ndarray]:
        key = (np.asarray(theta, dtype=float).tobytes(), rows.tobytes())
        if key not in last:
            error, grad = total(theta, rows)
            if frozen.size:
                grad = grad.copy()  # the engine's array may be its own
                grad[frozen] = 0.0
            if len(last) == 2:
                last.pop(next(iter(last)))
            last[key] = (error / len(rows), grad / len(rows))
        return last[key]

    return mean_objective


class _Run:
    """The bookkeeping of one training run: records, the graph update, callback and progress bar."""

    def __init__(self, write, mean_objective, train_rows, validation_rows, callback, progress, epochs, norm=None):
        self.write, self.objective = write, mean_objective
        # ‖∇θ‖, or for a population one norm per graph; not np.linalg.norm: its BLAS call can take
        # milliseconds when the cores are busy
        self.norm = norm or (lambda grad: float(np.sqrt(np.square(grad).sum())))
        self.train_rows, self.validation_rows = train_rows, validation_rows
        self.callback = callback
        self.records: list[dict] = []
        self.theta, self.written = None, True
        self.evaluations = 0
        self.optimizer, self.message = "", ""
        self.start = time.perf_counter()
        self.bar = tqdm(total=epochs, unit="epoch", disable=not progress, mininterval=0.5, delay=1.0, leave=False)

    def record(self, theta: np.ndarray) -> bool:
        """Score θ, keep it for the graph, call back (G written first); True when the callback asks to stop."""
        error, grad = self.objective(theta, self.train_rows)
        logs = {
            "loss": error,
            "validation_loss": self.objective(theta, self.validation_rows)[0] if self.validation_rows.size else None,
            "gradient_norm": self.norm(grad),
            "wall_time": time.perf_counter() - self.start,
            "evaluations": self.evaluations,
        }
        self.records.append(logs)
        self.keep(theta)
        if self.callback:
            self.flush()
        epoch = len(self.records) - 1
        if epoch:
            self.bar.update()
            self.bar.set_postfix(loss=f"{np.min(error):.4g}", refresh=False)  # a population's best
        stop = bool(self.callback(epoch, logs)) if self.callback else False
        if stop:
            self.message = f"callback stopped training after epoch {epoch}"
        return stop

    def keep(self, theta: np.ndarray) -> None:
        """θ is the network now; the graph gets it at the next :meth:`flush`."""
        self.theta, self.written = theta, False

    def flush(self) -> None:
        """Write the kept θ into the graph (O(E) Python: once per callback, not once per epoch)."""
        if not self.written:
            self.write(self.theta)
            self.written = True

    def histories(self, count: int | None = None) -> list[History]:
        """The run's History, or each of the `count` graphs' of a population's run (whose logs hold arrays)."""
        column = {name: np.array([r[name] for r in self.records], dtype=float) for name in self.records[0]}
        per_graph = ["loss", "gradient_norm", *(["validation_loss"] if self.validation_rows.size else [])]
        return [
            History(
                epoch=np.arange(len(self.records)),
                loss=own["loss"],
                validation_loss=own.get("validation_loss"),
                gradient_norm=own["gradient_norm"],
                wall_time=column["wall_time"],
                evaluations=column["evaluations"].astype(int),
                optimizer=self.optimizer,
                message=self.message,
            )
            for own in (
                [{name: column[name] for name in per_graph}] if count is None
                else [{name: column[name][:, g] for name in per_graph} for g in range(count)]
            )
        ]  # fmt: skip


def _first_order_loop(run: _Run, theta, frozen, step_rule, epochs, max_evaluations, batch_size, rng) -> None:
    state = step_rule.init(theta)
    fixed = theta[frozen]
    n_train = run.train_rows.size
    size = n_train if batch_size is None else min(batch_size, n_train)
    if run.record(theta):
        return
    spent = False
    epoch = 0
    while not spent and (epochs is None or epoch < epochs):
        # A whole-set step needs no shuffling; mini-batches get a fresh seeded order each epoch.
        order = run.train_rows if size == n_train else rng.permutation(run.train_rows)
        for start in range(0, n_train, size):
            _, grad = run.objective(theta, order[start : start + size])
            run.evaluations += 1
            theta, state = step_rule.step(theta, grad, state)
            if frozen.size:  # a rule of the user's may move a weight without gradient (weight decay, say)
                theta = theta.copy()
                theta[frozen] = fixed
            spent = max_evaluations is not None and run.evaluations >= max_evaluations
            if spent:
                break
        epoch += 1
        if run.record(theta):
            return
    # The last epoch may be partial when the budget ran out in its middle.
    run.message = f"used max_evaluations={max_evaluations} gradient evaluations" if spent else f"ran {epochs} epochs"


def _scipy_loop(run: _Run, theta, method: str, epochs, max_evaluations) -> None:
    def objective(theta):
        if max_evaluations is not None and run.evaluations >= max_evaluations:
            raise _BudgetSpent
        run.evaluations += 1
        return run.objective(theta, run.train_rows)

    def on_iteration(intermediate_result):
        if run.record(intermediate_result.x):
            raise StopIteration

    options = {"maxiter": epochs if epochs is not None else np.iinfo(np.int32).max}
    if method == "L-BFGS-B":
        # scipy's own default caps L-BFGS-B at 15000 evaluations; ours is max_evaluations.
        options["maxfun"] = max_evaluations if max_evaluations is not None else np.iinfo(np.int32).max
    if run.record(theta):
        return
    try:
        result = minimize(objective, theta, jac=True, method=method, callback=on_iteration, options=options)
    except _BudgetSpent:
        run.message = f"used max_evaluations={max_evaluations} gradient evaluations; kept the last iterate"
        return
    if not run.message:
        run.message = f"{method}: {result.message}"
    run.keep(result.x)


def predict_classes(G, x, weight: str = "weight") -> np.ndarray:
    """The class the network predicts for each sample of `x`, an int array of length N.

    One output: class 1 where y ≥ 0.5, else 0 (for 0/1 targets). Several
    outputs: the index of the largest y (for one-hot targets).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 1.0})])
    >>> predict_classes(G, [[0.0], [1.0], [2.0]])
    array([0, 1, 1])
    """
    return target_classes(np.atleast_2d(forward(G, x, weight).y))


def target_classes(t) -> np.ndarray:
    """Classes of targets of shape (N, 1) (0/1) or (N, K) (one-hot); see :func:`predict_classes`.

    A 1-D `t` is read as one column of N 0/1 targets.

    Examples
    --------
    >>> target_classes([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    array([1, 0])
    >>> target_classes([1.0, 0.0, 1.0])
    array([1, 0, 1])
    """
    t = np.asarray(t, dtype=float)
    t = t[:, None] if t.ndim == 1 else t
    return (t[:, 0] >= 0.5).astype(int) if t.shape[1] == 1 else t.argmax(axis=1)


def accuracy(G, x, t, weight: str = "weight") -> float:
    """Fraction of samples whose predicted class (:func:`predict_classes`) is the target's.

    `x` and `t` are shaped as for :func:`graphbp.backprop` (a 1-D pair is one sample).

    Raises
    ------
    GraphBPError
        What :func:`graphbp.forward` raises; :class:`ShapeError` for a `t`
        that does not fit the outputs or the samples of `x`.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 1.0})])
    >>> accuracy(G, [[0.0], [1.0], [2.0]], [[0.0], [1.0], [0.0]])
    0.6666666666666666
    """
    result = forward(G, x, weight)
    y = np.atleast_2d(result.y)
    T, _ = as_batch(t, result.outputs, "t")
    if T.shape[0] != y.shape[0]:
        raise ShapeError(f"x has {y.shape[0]} samples but t has {T.shape[0]}")
    return float(np.mean(target_classes(y) == target_classes(T)))
