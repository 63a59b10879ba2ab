"""The loops :func:`~graphbp.training.train` and :func:`~graphbp.training.train_many` share.

The checks of their common arguments, the seeded validation split
(:func:`split_rows`), the optimizer's step rule, the weights kept frozen
(:func:`frozen_entries`), the mean error per sample the loops minimise
(:func:`mean_objective`), and the loops themselves: a first-order optimizer
over epochs of mini-batches (:func:`first_order_loop`), or scipy's
quasi-Newton methods (:func:`scipy_loop`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from ..exceptions import GraphBPError
from ..optimizers import get_optimizer, optimizer_names
from ..params import parameter_keys
from .history import Run

__all__ = [
    "SCIPY_METHODS", "check_counts", "check_split", "first_order_loop", "frozen_entries", "mean_objective",
    "optimizer_rule", "scipy_loop", "split_rows",
]

#: scipy.optimize.minimize methods :func:`train` accepts (they use the gradient, Bishop §5.2.4).
SCIPY_METHODS = ("BFGS", "CG", "L-BFGS-B")

_DEFAULT_EPOCHS = 100


class _BudgetSpent(Exception):
    """Raised inside scipy's objective when max_evaluations gradient evaluations are used up."""


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
    adjacency = G._adj  # plain dicts, as wiring reads them
    return np.array([e for e, (i, j) in enumerate(edges) if not adjacency[i][j].get("trainable", True)], dtype=np.int64)



def check_split(validation_split) -> None:
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


def optimizer_rule(optimizer) -> tuple:
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


def check_counts(epochs, max_evaluations, batch_size):
    for name, value in (("epochs", epochs), ("max_evaluations", max_evaluations), ("batch_size", batch_size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise GraphBPError(f"{name} must be a positive int or None, got {value!r}")
    if epochs is None and max_evaluations is None:
        epochs = _DEFAULT_EPOCHS
    return epochs, max_evaluations, batch_size


def mean_objective(total: Callable, frozen: np.ndarray) -> Callable:
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


def first_order_loop(run: Run, theta, frozen, step_rule, epochs, max_evaluations, batch_size, rng) -> None:
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


def scipy_loop(run: Run, theta, method: str, epochs, max_evaluations) -> None:
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


