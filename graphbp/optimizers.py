"""First-order optimizers on a parameter vector θ: gradient descent (with momentum) and Adam.

Each optimizer is a small frozen object holding its hyperparameters, with two
pure functions and the state passed explicitly (nothing accumulates behind the
user's back):

    state = optimizer.init(theta)
    theta, state = optimizer.step(theta, grad, state)

`grad` is ∂E/∂θ of whatever batch the caller chose: the whole training set
gives batch gradient descent (Bishop PRML eq. 5.41), one sample or a
mini-batch gives stochastic gradient descent (eq. 5.43); :func:`graphbp.train`
does the batching. The quasi-Newton and conjugate-gradient methods of
Bishop §5.2.4 are scipy's (``train(..., optimizer="L-BFGS-B")``), not
written again here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .exceptions import GraphBPError

__all__ = ["GradientDescent", "Adam", "get_optimizer", "optimizer_names"]


def _check_positive(owner: str, **values) -> None:
    for name, value in values.items():
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
            raise GraphBPError(f"{owner}: {name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class GradientDescent:
    """θ ← θ − η v with v ← μ v + ∇E (heavy-ball momentum; μ = 0 is plain gradient descent, eq. 5.41).

    Parameters
    ----------
    learning_rate : float, default 0.1
        η > 0.
    momentum : float, default 0.0
        μ in [0, 1). The same update as ``torch.optim.SGD(lr=η, momentum=μ)``.

    Raises
    ------
    GraphBPError
        A non-positive learning rate or a momentum outside [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> sgd = GradientDescent(learning_rate=0.5, momentum=0.9)
    >>> theta, state = np.array([1.0]), sgd.init(np.array([1.0]))
    >>> theta, state = sgd.step(theta, np.array([2.0]), state)   # v = 2, θ = 1 − 0.5·2
    >>> theta, state = sgd.step(theta, np.array([2.0]), state)   # v = 0.9·2 + 2, θ = 0 − 0.5·3.8
    >>> theta, state
    (array([-1.9]), array([3.8]))
    """

    learning_rate: float = 0.1
    momentum: float = 0.0

    def __post_init__(self):
        _check_positive("GradientDescent", learning_rate=self.learning_rate)
        if not (isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1):
            raise GraphBPError(f"GradientDescent: momentum must be in [0, 1), got {self.momentum!r}")

    def init(self, theta: np.ndarray) -> np.ndarray:
        """The velocity v, zero at the start."""
        return np.zeros_like(theta, dtype=float)

    def step(self, theta: np.ndarray, grad: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One update; returns the new θ and the new velocity."""
        velocity = self.momentum * state + grad
        return theta - self.learning_rate * velocity, velocity


@dataclass(frozen=True)
class AdamState:
    """Adam's running state: step count s, first moment m and second moment v of the gradient."""

    step: int
    first_moment: np.ndarray
    second_moment: np.ndarray


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba 2015): steps of size η along bias-corrected moment estimates.

    With g = ∇E at step s = 1, 2, ...::

        m ← β₁ m + (1 − β₁) g,        v ← β₂ v + (1 − β₂) g²
        θ ← θ − η m̂ / (√v̂ + ε),      m̂ = m / (1 − β₁ˢ),  v̂ = v / (1 − β₂ˢ)

    the same update as ``torch.optim.Adam`` with the same hyperparameters.

    Parameters
    ----------
    learning_rate : float, default 0.01
    beta1, beta2 : float, default 0.9, 0.999
        Decay rates in [0, 1).
    eps : float, default 1e-8

    Raises
    ------
    GraphBPError
        A non-positive learning rate or eps, or a β outside [0, 1).

    Examples
    --------
    The first step moves every parameter by about η against the sign of its gradient:

    >>> import numpy as np
    >>> adam = Adam(learning_rate=0.1)
    >>> theta, state = adam.step(np.array([1.0, 1.0]), np.array([4.0, -0.01]), adam.init(np.zeros(2)))
    >>> theta.round(6), state.step
    (array([0.9, 1.1]), 1)
    """

    learning_rate: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        _check_positive("Adam", learning_rate=self.learning_rate, eps=self.eps)
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value < 1):
                raise GraphBPError(f"Adam: {name} must be in [0, 1), got {value!r}")

    def init(self, theta: np.ndarray) -> AdamState:
        """Zero moments, step 0."""
        zero = np.zeros_like(theta, dtype=float)
        return AdamState(0, zero, zero)

    def step(self, theta: np.ndarray, grad: np.ndarray, state: AdamState) -> tuple[np.ndarray, AdamState]:
        """One update; returns the new θ and the new state."""
        step = state.step + 1
        first = self.beta1 * state.first_moment + (1 - self.beta1) * grad
        second = self.beta2 * state.second_moment + (1 - self.beta2) * grad**2
        first_hat = first / (1 - self.beta1**step)
        second_hat = second / (1 - self.beta2**step)
        theta = theta - self.learning_rate * first_hat / (np.sqrt(second_hat) + self.eps)
        return theta, AdamState(step, first, second)


# name -> (class, keyword arguments fixed by the name)
_OPTIMIZERS = {
    "gd": (GradientDescent, {}),
    "momentum": (GradientDescent, {"momentum": 0.9}),
    "adam": (Adam, {}),
}


def optimizer_names() -> list[str]:
    """Names accepted by :func:`get_optimizer`.

    Examples
    --------
    >>> optimizer_names()
    ['adam', 'gd', 'momentum']
    """
    return sorted(_OPTIMIZERS)


def get_optimizer(name: str, learning_rate: float | None = None) -> GradientDescent | Adam:
    """An optimizer by name: ``"gd"``, ``"momentum"`` (μ = 0.9) or ``"adam"``.

    Parameters
    ----------
    name : str
    learning_rate : float, optional
        η; by default the optimizer's own default.

    Returns
    -------
    GradientDescent or Adam

    Raises
    ------
    GraphBPError
        An unknown name (the known ones are listed) or a bad learning rate.

    Examples
    --------
    >>> get_optimizer("momentum", 0.05)
    GradientDescent(learning_rate=0.05, momentum=0.9)
    """
    if name not in _OPTIMIZERS:
        raise GraphBPError(f"unknown optimizer {name!r}; known: {', '.join(optimizer_names())}")
    cls, fixed = _OPTIMIZERS[name]
    chosen = {} if learning_rate is None else {"learning_rate": learning_rate}
    return cls(**fixed, **chosen)
