"""Activation functions h, with h' (backprop) and h'' (Hessian products).

The table maps a name to an :class:`Activation`; a node's ``activation``
attribute is either such a name or an :class:`Activation` object. A node without
one gets the documented default: ``"identity"`` for outputs (eq. 5.48 with
linear outputs, Bishop §5.3.2) and ``"tanh"`` for hidden units.

``"softmax"`` is not an element-wise function: its units are coupled, so it is
not in this table of element-wise entries but handled as a group by the losses
and the passes (see :mod:`graphbp.losses`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .exceptions import ActivationError

__all__ = [
    "Activation",
    "SOFTMAX",
    "DEFAULT_HIDDEN_ACTIVATION",
    "DEFAULT_OUTPUT_ACTIVATION",
    "activation_names",
    "get_activation",
    "register_activation",
]

SOFTMAX = "softmax"
DEFAULT_HIDDEN_ACTIVATION = "tanh"
DEFAULT_OUTPUT_ACTIVATION = "identity"

LEAKY_RELU_SLOPE = 0.01

ArrayFunction = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """An element-wise activation h with its derivatives.

    Parameters
    ----------
    name : str
        Name shown in reports and drawings.
    function : callable
        h(a), element-wise on a numpy array.
    derivative : callable
        h'(a), element-wise.
    second_derivative : callable or None
        h''(a), element-wise; needed only for Hessian-vector products.

    Raises
    ------
    ActivationError
        If `name` is not a non-empty string or a function is not callable.

    Examples
    --------
    >>> import numpy as np
    >>> cube = Activation("cube", lambda a: a**3, lambda a: 3 * a**2, lambda a: 6 * a)
    >>> float(cube.derivative(np.array(2.0)))
    12.0
    """

    name: str
    function: ArrayFunction
    derivative: ArrayFunction
    second_derivative: ArrayFunction | None = None

    def __post_init__(self):
        # Checked here, so an Activation built directly fails as early as a registered one.
        if not isinstance(self.name, str) or not self.name:
            raise ActivationError(f"an activation name must be a non-empty string, got {self.name!r}")
        for role in ("function", "derivative", "second_derivative"):
            fn = getattr(self, role)
            if not callable(fn) and not (role == "second_derivative" and fn is None):
                raise ActivationError(f"activation {self.name!r}: {role} must be callable, got {fn!r}")

    def __call__(self, a):
        return self.function(a)


def _logistic(a):
    # exp of a non-positive number only: no overflow for large |a|.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logistic_derivative(a):
    s = _logistic(a)
    return s * (1.0 - s)


def _logistic_second_derivative(a):
    s = _logistic(a)
    return s * (1.0 - s) * (1.0 - 2.0 * s)


def _tanh_derivative(a):
    return 1.0 - np.tanh(a) ** 2


def _tanh_second_derivative(a):
    h = np.tanh(a)
    return -2.0 * h * (1.0 - h**2)


def _zeros_like(a):
    return np.zeros_like(np.asarray(a, dtype=float))


_REGISTRY: dict[str, Activation] = {}


def register_activation(
    name: str,
    function: ArrayFunction,
    derivative: ArrayFunction,
    second_derivative: ArrayFunction | None = None,
) -> Activation:
    """Add an element-wise activation to the table, addressable by `name`.

    Parameters
    ----------
    name : str
        The name a node's ``activation`` attribute will use. Must not be
        ``"softmax"``; re-registering a name replaces the earlier entry.
    function, derivative : callable
        h(a) and h'(a), element-wise on numpy arrays.
    second_derivative : callable, optional
        h''(a), needed only for Hessian-vector products.

    Returns
    -------
    Activation
        The registered entry.

    Raises
    ------
    ActivationError
        If `name` is not a non-empty string, is ``"softmax"``, or a function
        is not callable (`second_derivative` may be None).

    Examples
    --------
    >>> import numpy as np
    >>> act = register_activation("sine", np.sin, np.cos, lambda a: -np.sin(a))
    >>> get_activation("sine") is act
    True
    """
    if name == SOFTMAX:
        raise ActivationError("'softmax' is built in and handled as a coupled group; choose another name")
    entry = Activation(name, function, derivative, second_derivative)
    _REGISTRY[name] = entry
    return entry


register_activation("identity", lambda a: np.array(a, dtype=float), np.ones_like, _zeros_like)
register_activation("tanh", np.tanh, _tanh_derivative, _tanh_second_derivative)
register_activation("logistic", _logistic, _logistic_derivative, _logistic_second_derivative)
_REGISTRY["sigmoid"] = _REGISTRY["logistic"]
# relu and leaky relu: at the kink a = 0, h' is taken as the left-hand slope (0 and the
# leak) and h'' as 0 everywhere (the kink has measure zero).
register_activation(
    "relu", lambda a: np.maximum(a, 0.0), lambda a: (np.asarray(a) > 0).astype(float), _zeros_like
)
register_activation(
    "leaky_relu",
    lambda a: np.where(a > 0, a, LEAKY_RELU_SLOPE * a),
    lambda a: np.where(np.asarray(a) > 0, 1.0, LEAKY_RELU_SLOPE),
    _zeros_like,
)
register_activation("softplus", lambda a: np.logaddexp(0.0, a), _logistic, _logistic_derivative)


def activation_names() -> list[str]:
    """Names accepted as a node's ``activation``, ``"softmax"`` included.

    Examples
    --------
    >>> "tanh" in activation_names() and "softmax" in activation_names()
    True
    """
    return sorted([*_REGISTRY, SOFTMAX])


def get_activation(spec) -> Activation:
    """Look up an element-wise activation by name, or pass an :class:`Activation` through.

    Parameters
    ----------
    spec : str or Activation
        A registered name, or an :class:`Activation` object.

    Returns
    -------
    Activation

    Raises
    ------
    ActivationError
        If `spec` is an unknown name (the message lists the known ones), is
        ``"softmax"`` (a coupled group, not element-wise), or is neither a
        name nor an :class:`Activation`.

    Examples
    --------
    >>> get_activation("tanh").name
    'tanh'
    >>> get_activation("swish")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphbp.exceptions.ActivationError: unknown activation 'swish'; known: ...
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        if spec == SOFTMAX:
            raise ActivationError("'softmax' couples its units and has no element-wise entry")
        if spec in _REGISTRY:
            return _REGISTRY[spec]
        raise ActivationError(f"unknown activation {spec!r}; known: {', '.join(activation_names())}")
    raise ActivationError(
        f"an activation must be a name or an Activation object, got {spec!r}; known names: "
        f"{', '.join(activation_names())}"
    )
