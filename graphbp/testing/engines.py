"""Running every engine on one network and batch, and comparing each with the reference or with central differences.

:func:`available_engines` says which engines of :data:`ENGINES` can run here,
:func:`assert_engines_agree` runs them (the compiled engines through each of
their passes, the torch module through its backward) against
:func:`graphbp.backprop`, and :func:`assert_gradients_close` compares
backprop with central differences (eq. 5.69).
"""

from __future__ import annotations

import importlib.util

import numpy as np

from ..activations import SOFTMAX
from ..engines import backprop
from ..exceptions import ActivationError, GraphBPError, LossError, NumericalError
from ..gradcheck import check_gradients
from ..losses import Loss, get_loss
from ..network import read_network
from ..params import gradient_vector, parameter_keys
from .comparisons import compare_all, quantities

__all__ = ["BUILT_IN_LOSSES", "ENGINES", "assert_engines_agree", "assert_gradients_close", "available_engines"]

# Every engine assert_engines_agree knows, compared with the reference graphbp.backprop.
ENGINES = ("numba-1", "numba-2", "numba-dense", "numpy", "torch", "torch-levels")

_COMPILE_OPTIONS = {
    "numba-1": {"backend": "numba", "threads": 1},
    "numba-2": {"backend": "numba", "threads": 2},
    "numba-dense": {"backend": "numba", "threads": 2, "dense": True},
    "numpy": {"backend": "numpy"},
}

# The losses graphbp defines (a user's Loss has other names, or is another object under one of these).
BUILT_IN_LOSSES = ("sum_of_squares", "binary_cross_entropy", "cross_entropy")


def available_engines() -> tuple[str, ...]:
    """The engines of :data:`ENGINES` that can run here (numba and torch are optional extras).

    Examples
    --------
    >>> "numpy" in available_engines()
    True
    """
    from ..compiled.backends import numba_available
    from ..compiled.dense_blocks import blas_limits_available

    numba = numba_available()
    present = {
        "numba-1": numba,
        "numba-2": numba,
        "numba-dense": numba and blas_limits_available(),
        "numpy": True,
        "torch": importlib.util.find_spec("torch") is not None,
    }
    present["torch-levels"] = present["torch"]
    return tuple(name for name in ENGINES if present[name])


def _compiled_runs(name, G, x, t, loss, weight, chunk_size) -> dict:
    """label -> quantities of a compiled engine: its backprop, and its loss_and_gradient."""
    from ..compiled import compile_network

    net = compile_network(G, weight=weight, **_COMPILE_OPTIONS[name])
    result = net.backprop(x, t, loss=loss, chunk_size=chunk_size)
    total, gradient = net.loss_and_gradient(x, t, loss=loss, chunk_size=chunk_size)
    forward = quantities(net.forward(x))
    return {
        f"{name} forward": {symbol: forward[symbol] for symbol in ("y", "a", "z")},
        f"{name} backprop": quantities(result),
        f"{name} loss_and_gradient": {
            "E": ("", {"E": total}),
            "∂E/∂θ": ("parameter", dict(zip(net.parameter_keys(), gradient))),
        },
    }


def _output_gradient(kind: str, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """∂E/∂y of a built-in loss, as a torch loss would hand it to the module's backward."""
    if kind == "cross_entropy":
        return -t / y  # the softmax Jacobian turns it into y_k Σ t − t_k (eq. 5.54)
    return y - t


def _torch_loss(loss, reference) -> str | None:
    """The loss whose ∂E/∂y drives the torch module's backward (a vector-Jacobian product), or None.

    Binary cross-entropy's ∂E/∂y = (y − t)/(y(1 − y)) loses digits as a logistic
    output saturates (the module's h' comes from a, not from y), so a bce
    network is driven with sum-of-squares' y − t, which logistic outputs fit
    too. Cross-entropy's −t/y is divided back out by the softmax Jacobian,
    except where some y is 0. A user's Loss has no ∂E/∂y here.
    """
    if isinstance(loss, Loss) and not (loss.name in BUILT_IN_LOSSES and get_loss(loss.name) is loss):
        return None
    kind = get_loss(loss).name
    if kind == "binary_cross_entropy":
        return "sum_of_squares"
    if kind == "cross_entropy" and not np.all(np.asarray(reference.y) > 0):
        return None
    return kind


def _torch_runs(name, G, x, t, loss: str, weight) -> dict:
    """label -> quantities of the torch module: y, and ∂E/∂x, ∂E/∂θ from its backward driven by ∂E/∂y."""
    import torch

    from ..torch_module import to_torch

    module = to_torch(G, weight=weight, dtype=torch.float64)
    module.levels_on_cpu = name == "torch-levels"
    X = torch.tensor(np.atleast_2d(np.asarray(x, dtype=float)), requires_grad=True)
    y = module(X)
    Y = y.detach().numpy()
    y.backward(torch.from_numpy(_output_gradient(loss, Y, np.atleast_2d(np.asarray(t, dtype=float)))))
    net = read_network(G, weight)
    squeeze = np.ndim(x) == 1  # one 1-D sample: per-node values are floats, as the reference's
    grad_x = X.grad.numpy()
    gradient = np.concatenate([module.weight.grad.numpy(), module.bias.grad.numpy()])
    return {
        name: {
            "y": ("output", {k: Y[0, c] if squeeze else Y[:, c] for c, k in enumerate(net.outputs)}),
            "∂E/∂x": ("input", {i: grad_x[0, c] if squeeze else grad_x[:, c] for c, i in enumerate(net.inputs)}),
            "∂E/∂θ": ("parameter", dict(zip(parameter_keys(G, weight), gradient))),
        }
    }


def _expected(G, reference, weight) -> dict:
    """The reference's quantities, with ∂E/∂θ (its gradient vector) and ∂E/∂x (the inputs' δ)."""
    expected = quantities(reference)
    expected["∂E/∂θ"] = ("parameter", dict(zip(parameter_keys(G, weight), gradient_vector(G, reference, weight))))
    expected["∂E/∂x"] = ("input", {i: reference.delta[i] for i in reference.inputs})
    return expected


def _torch_versions(G, weight) -> bool:
    """Whether every element-wise activation of G has a torch version (the level loop needs them)."""
    from ..activations import torch_elementwise

    net = read_network(G, weight)
    try:
        for activation in set(net.activation.values()) - {SOFTMAX}:
            torch_elementwise(activation)
    except ActivationError:
        return False
    return True


def assert_engines_agree(
    G,
    x,
    t,
    loss="sum_of_squares",
    *,
    engines=None,
    rtol: float = 1e-12,
    chunk_size: int | None = None,
    weight: str = "weight",
) -> tuple[str, ...]:
    """Assert every engine gives the reference's numbers on this network and batch.

    The reference is :func:`graphbp.backprop`. Each engine's E, E_n, y,
    every a_j, z_j, δ_j, ∂E/∂w and ∂E/∂b (where it gives them) and its
    gradient vector ∂E/∂θ must equal the reference's to `rtol` relative to the
    largest magnitude of each quantity. The engines:

    * ``"numba-1"``, ``"numba-2"``: ``graphbp.compile(G, backend="numba",
      threads=1 or 2)``; ``"numba-dense"``: two threads with ``dense=True``
      (every dense enough group of edges a matrix product); ``"numpy"``:
      ``backend="numpy"``. Each is run through
      :meth:`~graphbp.compiled.CompiledNetwork.forward`,
      :meth:`~graphbp.compiled.CompiledNetwork.backprop` and the fast path
      :meth:`~graphbp.compiled.CompiledNetwork.loss_and_gradient`.
    * ``"torch"``: the module of :func:`graphbp.torch_module.to_torch`
      (float64, the compiled engine on CPU tensors); ``"torch-levels"``: the
      same with its level loop (the CUDA code path, run on CPU tensors). Its
      y, ∂E/∂x (the inputs' δ) and ∂E/∂θ are compared, its backward (a
      vector-Jacobian product) driven with the loss's ∂E/∂y; for binary
      cross-entropy, whose ∂E/∂y = (y − t)/(y(1 − y)) loses digits as an
      output saturates, with sum-of-squares' y − t against the reference's
      sum-of-squares pass.

    Parameters
    ----------
    G : networkx.DiGraph
        The network.
    x, t : array_like
        A batch, as for :func:`graphbp.backprop`.
    loss : str or Loss, default "sum_of_squares"
        The loss. A user's :class:`~graphbp.Loss` runs on the compiled engines only.
    engines : sequence of str, optional
        Names from :data:`ENGINES`. Default: every engine of
        :func:`available_engines` that can run this network and loss (the
        level loop needs a torch version of each activation, the torch
        module a built-in loss, and for cross-entropy no output y = 0).
    rtol : float, default 1e-12
        The tolerance, relative to each quantity's largest magnitude.
    chunk_size : int, optional
        Passed to the compiled engines' ``backprop`` and ``loss_and_gradient``.
    weight : str, default "weight"
        Edge attribute holding w_ji.

    Returns
    -------
    tuple of str
        The engines compared.

    Raises
    ------
    AssertionError
        Naming the engine (and which of its passes), the quantity, the node,
        edge or parameter (and the sample) that differs most, and both
        numbers; or that an engine raised where the reference did not.
    GraphBPError
        What :func:`graphbp.backprop` raises on the inputs (they are bad),
        or an unknown engine name.
    ImportError
        An engine asked for by name whose extra (numba, torch) is not installed.
    LossError, NumericalError
        A torch engine asked for by name with a user's Loss, or with a
        softmax output of exactly 0 (see `engines`).

    Examples
    --------
    >>> import graphbp
    >>> G = graphbp.irregular_network()
    >>> assert_engines_agree(G, [[0.5, -1.0], [2.0, 0.3]], [[1.0, 0.0], [0.0, 1.0]], engines=["numpy"])
    ('numpy',)
    """
    reference = backprop(G, x, t, loss=loss, weight=weight)
    expected = _expected(G, reference, weight)
    torch_loss = _torch_loss(loss, reference)
    if engines is None:
        engines = [
            name for name in available_engines()
            if not name.startswith("torch") or torch_loss and (name == "torch" or _torch_versions(G, weight))
        ]  # fmt: skip
    else:
        engines = list(engines)
        unknown = [name for name in engines if name not in ENGINES]
        if unknown:
            raise GraphBPError(f"unknown engine {unknown[0]!r}; known: {', '.join(ENGINES)}")
        if torch_loss is None and any(name.startswith("torch") for name in engines):
            if isinstance(loss, Loss):
                raise LossError(f"the torch engines take a built-in loss only, not the user's {loss.name!r}")
            raise NumericalError("a softmax output is 0, so the torch engines have no ∂E/∂y = -t/y to run with")
        missing = [name for name in engines if name not in available_engines()]
        if missing:
            raise ImportError(
                f"engine {missing[0]!r} needs an optional extra: pip install 'graphbp[fast]' (numba, threadpoolctl) "
                "or 'graphbp[torch]'"
            )
    if torch_loss not in (None, get_loss(loss).name):
        torch_expected = _expected(G, backprop(G, x, t, loss=torch_loss, weight=weight), weight)
    else:
        torch_expected = expected
    for name in engines:
        try:
            if name.startswith("torch"):
                runs = _torch_runs(name, G, x, t, torch_loss, weight)
            else:
                runs = _compiled_runs(name, G, x, t, loss, weight, chunk_size)
        except Exception as error:
            raise AssertionError(f"{name}: raised {type(error).__name__}: {error} (the reference did not)") from error
        for label, computed in runs.items():
            compare_all(label, torch_expected if name.startswith("torch") else expected, computed, rtol)
    return tuple(engines)


def assert_gradients_close(
    G,
    x,
    t,
    loss="sum_of_squares",
    *,
    rtol: float = 1e-6,
    eps: float = 1e-4,
    weight: str = "weight",
):
    """Assert backprop's ∂E/∂w, ∂E/∂b and δ equal central differences (eq. 5.69) to `rtol`.

    Runs :func:`graphbp.check_gradients` (Richardson-refined central
    differences of E on every weight and bias, and of E_n on every a_j).
    Differences whose steps cross a kink of an activation (relu at 0) are
    not compared.

    Parameters
    ----------
    G, x, t, loss, weight
        As for :func:`graphbp.backprop`.
    rtol : float, default 1e-6
        Largest relative error allowed (as :class:`graphbp.GradientCheck` measures it).
    eps : float, default 1e-4
        The step of the differences.

    Returns
    -------
    GradientCheck
        The report, when the check passes.

    Raises
    ------
    AssertionError
        Naming the worst parameter or δ, its backprop and central-difference
        values, with the report's table of the worst values.
    GraphBPError
        As :func:`graphbp.backprop`.

    Examples
    --------
    >>> import graphbp
    >>> report = assert_gradients_close(graphbp.bishop_network(), [[1.0, 0.5]], [[0.2, -0.3]])
    >>> report.max_rel_error < 1e-6
    True
    """
    report = check_gradients(G, x, t, loss=loss, eps=eps, weight=weight)
    worst = report.worst
    if worst is not None and not worst.rel_error <= rtol:
        raise AssertionError(
            f"backprop and central differences differ at {worst.quantity} {worst.key!r}: backprop "
            f"{worst.analytic!r}, central difference {worst.numeric!r} (relative error {worst.rel_error:.3g} > "
            f"rtol {rtol:g})\n{report}"
        )
    return report
