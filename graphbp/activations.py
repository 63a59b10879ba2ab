"""Activation functions h, with h' (backprop) and h'' (Hessian products).

The table maps a name to an :class:`Activation`; a node's ``activation``
attribute is either such a name or an :class:`Activation` object. A node without
one gets the documented default: ``"identity"`` for outputs (eq. 5.48 with
linear outputs, Bishop §5.3.2) and ``"tanh"`` for hidden units.

``"softmax"`` is not an element-wise function: its units are coupled, so it is
not in this table of element-wise entries but handled as a group by the losses
and the passes (see :mod:`graphbp.losses`). Its forward :func:`softmax` and its
Jacobian product :func:`softmax_product` are written here once, in the table's
style, and every engine runs these two functions: numpy as they are, numba
compiling them, torch with ``np`` rebound (:func:`torch_softmax`).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

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
    "rebind",
    "softmax",
    "softmax_product",
    "torch_activation",
    "torch_elementwise",
    "torch_softmax",
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
    output_derivative : callable or None
        h'(a) written from a and z = h(a), ``output_derivative(a, z)``, where
        that is cheaper than :attr:`derivative` (tanh: 1 − z²); the numba
        kernels use it in the backward pass, where z is already known.
    kinks : tuple of float, default ()
        The values of a where h' jumps (relu: ``(0.0,)``); a gradient check
        does not compare central differences whose steps cross one
        (:func:`graphbp.check_gradients`).

    Raises
    ------
    ActivationError
        If `name` is not a non-empty string, a function is not callable, or
        `kinks` holds something other than finite numbers.

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
    output_derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    kinks: tuple[float, ...] = ()

    def __post_init__(self):
        # Checked here, so an Activation built directly fails as early as a registered one.
        if not isinstance(self.name, str) or not self.name:
            raise ActivationError(f"an activation name must be a non-empty string, got {self.name!r}")
        for role in ("function", "derivative", "second_derivative", "output_derivative"):
            fn = getattr(self, role)
            if not callable(fn) and not (role in ("second_derivative", "output_derivative") and fn is None):
                raise ActivationError(f"activation {self.name!r}: {role} must be callable, got {fn!r}")
        try:
            kinks = tuple(sorted(float(k) for k in self.kinks))
        except (TypeError, ValueError):
            kinks = (np.nan,)
        if not np.isfinite(kinks).all():
            raise ActivationError(f"activation {self.name!r}: kinks must be finite numbers, got {self.kinks!r}")
        object.__setattr__(self, "kinks", kinks)  # frozen: stored sorted, as floats

    def __call__(self, a):
        return self.function(a)

    def slope(self, a, z):
        """h'(a) given also z = h(a): :attr:`output_derivative` where the entry has it, else :attr:`derivative`."""
        return self.derivative(a) if self.output_derivative is None else self.output_derivative(a, z)


# The table's functions are written once, against the module-level name ``np``, with numpy
# ufuncs and arithmetic only (no np.where, no array constructors): so the same function runs
# on numpy arrays (the reference engine), on one float inside a numba kernel (numba compiles
# it, see :func:`rebind`), and on torch tensors (``np`` rebound to a torch namespace).


def _identity(a):
    return 1.0 * a


def _one(a):
    return 1.0 + 0.0 * a


def _identity_output_derivative(a, z):
    return 1.0  # broadcast: no array of ones per row


def _zero(a):
    return 0.0 * a


def _tanh(a):
    return np.tanh(a)


def _tanh_derivative(a):
    return 1.0 - np.tanh(a) ** 2


def _tanh_output_derivative(a, z):
    return 1.0 - z * z


def _tanh_second_derivative(a):
    h = np.tanh(a)
    return -2.0 * h * (1.0 - h**2)


def _logistic(a):
    # exp of a non-positive number only: no overflow for large |a| (e^min(a,0) is 1 or e^-|a|).
    return np.exp(np.minimum(a, 0.0)) / (1.0 + np.exp(-np.abs(a)))


def _logistic_derivative(a):
    s = _logistic(a)
    return s * (1.0 - s)


def _logistic_output_derivative(a, z):
    return z * (1.0 - z)


def _logistic_second_derivative(a):
    s = _logistic(a)
    return s * (1.0 - s) * (1.0 - 2.0 * s)


def _relu(a):
    return np.maximum(a, 0.0)


def _relu_derivative(a):
    return (a > 0) * 1.0


def _leaky_relu(a):
    return np.maximum(a, 0.0) + LEAKY_RELU_SLOPE * np.minimum(a, 0.0)


def _leaky_relu_derivative(a):
    # sign(a), not (a > 0) * 1.0: on a torch tensor a bool times a float takes torch's default dtype
    # (float32, which rounds the leak) whatever a's own dtype is.
    return np.maximum(np.sign(a), LEAKY_RELU_SLOPE)


def _softplus(a):
    return np.logaddexp(0.0, a)


# The softmax group, written as the losses are (numpy functions numba compiles as written: no
# keepdims, no max(axis=)), and in arithmetic that torch tensors also run: one row per unit, any
# further axes (samples) after it.


def softmax(A):
    """Softmax across a group's rows: z_m = e^{a_m} / Σ_j e^{a_j}, one row per unit (eq. 5.25).

    Each column (a sample) is shifted by its largest a_j first, so no e^a overflows.

    Parameters
    ----------
    A : numpy.ndarray
        Shape (units, N): the pre-activations a_j of the group, one row per unit.

    Returns
    -------
    numpy.ndarray
        z, the same shape; each column sums to 1.

    Examples
    --------
    >>> import numpy as np
    >>> softmax(np.array([[0.0, 1000.0], [0.0, 1000.0]]))
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    top = A[0]
    for m in range(1, A.shape[0]):  # the column maximum, row by row (numba has no max(axis=))
        top = np.maximum(top, A[m])
    exp = np.exp(A - top)
    return exp / exp.sum(axis=0)


def softmax_product(Z, G):
    """A softmax group's Jacobian times `G`: (J g)_m = z_m (g_m − Σ_j z_j g_j), rows = units.

    ∂z_m/∂a_j = z_m (I_mj − z_j) is symmetric, so this is also Jᵀ g: the
    forward tangent and the backward δ of a softmax group (eq. 5.56 with the
    group's Jacobian in place of h') are this one product.

    Parameters
    ----------
    Z : numpy.ndarray
        The group's outputs z, shape (units, N) (from :func:`softmax`).
    G : numpy.ndarray
        The vector per sample, same shape: ȧ forward, Σ_k w_kj δ_k backward.

    Returns
    -------
    numpy.ndarray
        J g, the same shape.

    Examples
    --------
    >>> import numpy as np
    >>> z = softmax(np.array([[0.0], [0.0]]))
    >>> softmax_product(z, np.array([[1.0], [0.0]]))  # ∂z/∂a_0 = (¼, −¼)
    array([[ 0.25],
           [-0.25]])
    """
    return Z * (G - (Z * G).sum(axis=0))


_REGISTRY: dict[str, Activation] = {}
_VERSION = [0]  # bumped by every registration: a name may come to mean another entry


def registry_version() -> int:
    """How many registrations the table has seen (so a cached reading of a graph knows it is stale)."""
    return _VERSION[0]


def register_activation(
    name: str,
    function: ArrayFunction,
    derivative: ArrayFunction,
    second_derivative: ArrayFunction | None = None,
    output_derivative: Callable | None = None,
    *,
    kinks=(),
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
    output_derivative : callable, optional
        h'(a) as a function of a and z = h(a), where that is cheaper
        (e.g. ``lambda a, z: 1 - z * z`` for tanh); the numba engine uses it.
    kinks : sequence of float, default ()
        Where h' jumps (see :class:`Activation`).

    Returns
    -------
    Activation
        The registered entry.

    Raises
    ------
    ActivationError
        If `name` is not a non-empty string, is ``"softmax"``, a function
        is not callable (`second_derivative` may be None), or a kink is not a
        finite number.

    Examples
    --------
    >>> import numpy as np
    >>> act = register_activation("sine", np.sin, np.cos, lambda a: -np.sin(a))
    >>> get_activation("sine") is act
    True
    """
    if name == SOFTMAX:
        raise ActivationError("'softmax' is built in and handled as a coupled group; choose another name")
    entry = Activation(name, function, derivative, second_derivative, output_derivative, kinks)
    _REGISTRY[name] = entry
    _VERSION[0] += 1
    return entry


register_activation("identity", _identity, _one, _zero, _identity_output_derivative)
register_activation("tanh", _tanh, _tanh_derivative, _tanh_second_derivative, _tanh_output_derivative)
register_activation("logistic", _logistic, _logistic_derivative, _logistic_second_derivative, _logistic_output_derivative)
_REGISTRY["sigmoid"] = _REGISTRY["logistic"]
# relu and leaky relu: at the kink a = 0, h' is taken as the left-hand slope (0 and the
# leak) and h'' as 0 everywhere (the kink has measure zero).
register_activation("relu", _relu, _relu_derivative, _zero, kinks=(0.0,))
register_activation("leaky_relu", _leaky_relu, _leaky_relu_derivative, _zero, kinks=(0.0,))
register_activation("softplus", _softplus, _logistic, _logistic_derivative)


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


def rebind(function: Callable, namespace, wrap: Callable | None = None) -> Callable:
    """`function` re-created with ``np`` meaning `namespace`: one table entry, another array library.

    Every global or closure variable holding the numpy module is replaced by
    `namespace`, a numpy ufunc by `namespace`'s function of the same name, and
    a plain Python helper by its own rebinding, passed through `wrap` (numba
    passes ``njit``, so a helper such as ``_logistic`` is compiled too). A
    numpy ufunc given as `function` itself (``register_activation("sine",
    np.sin, ...)``) becomes a one-line function calling it.

    Examples
    --------
    >>> import math
    >>> float(rebind(get_activation("tanh").derivative, math)(0.0))
    1.0
    """
    if isinstance(function, np.ufunc):
        ufunc = function

        def function(a):
            return ufunc(a)

    if not isinstance(function, types.FunctionType):
        return function

    def translate(value):
        if value is np:
            return namespace
        if isinstance(value, np.ufunc):
            return getattr(namespace, value.__name__, value)
        if isinstance(value, types.FunctionType):
            helper = rebind(value, namespace, wrap)
            return wrap(helper) if wrap else helper
        return value

    code = function.__code__
    names = {name for name in code.co_names if name in function.__globals__}
    scope = {**function.__globals__, **{name: translate(function.__globals__[name]) for name in names}}
    closure = tuple(types.CellType(translate(cell.cell_contents)) for cell in function.__closure__ or ())
    return types.FunctionType(code, scope, function.__name__, function.__defaults__, closure or None)


class _TorchNamespace:
    """numpy's element-wise names for torch tensors: ``np.maximum(a, 0.0)`` -> ``torch.maximum(a, tensor(0.0))``."""

    def __init__(self, torch):
        self._torch = torch

    def __getattr__(self, name):
        torch = self._torch
        function = getattr(torch, {"power": "pow", "absolute": "abs"}.get(name, name))

        def call(*args):
            like = next(arg for arg in args if torch.is_tensor(arg))
            # A number becomes a filled tensor on like's device (no host copy, so CUDA graph capture works).
            return function(*(arg if torch.is_tensor(arg) else torch.full_like(like, float(arg)) for arg in args))

        return call


@cache
def _torch_pair(activation: Activation) -> tuple[Callable, Callable]:
    import torch

    namespace = _TorchNamespace(torch)
    h, slope = rebind(activation.function, namespace), rebind(activation.derivative, namespace)
    probe = torch.linspace(-2.0, 2.0, 5, dtype=torch.float64)
    try:
        ok = all(torch.is_tensor(f(probe)) and f(probe).shape == probe.shape for f in (h, slope))
        reason = "h or h' does not return a tensor of its argument's shape"
    except Exception as error:  # whatever the user's function raised on a tensor
        ok, reason = False, f"{type(error).__name__}: {error}"
    if not ok:
        raise ActivationError(
            f"activation {activation.name!r} has no torch version ({reason}); write h and h' with numpy's "
            "element-wise functions under the name np, which graphbp rebinds to torch"
        )
    return h, slope


def torch_elementwise(spec) -> tuple[Callable, Callable]:
    """h and h' of an element-wise activation as plain torch functions (no autograd), for hand-written passes.

    The same table entry as :func:`torch_activation`; the CUDA level loop of
    :mod:`graphbp.torch_module` uses these.

    Raises
    ------
    ActivationError
        As :func:`torch_activation`.

    Examples
    --------
    >>> import torch
    >>> h, slope = torch_elementwise("tanh")
    >>> a = torch.tensor([0.5], dtype=torch.float64)
    >>> bool(torch.allclose(slope(a), 1 - torch.tanh(a) ** 2))
    True
    """
    return _torch_pair(get_activation(spec))


@cache
def torch_softmax() -> tuple[Callable, Callable]:
    """:func:`softmax` and :func:`softmax_product` as plain torch functions (no autograd), for hand-written passes.

    The same two functions, ``np`` rebound to torch; the level loop of
    :mod:`graphbp.torch_module` uses them.

    Examples
    --------
    >>> import torch
    >>> forward, product = torch_softmax()
    >>> a = torch.tensor([[0.5], [-1.0]], dtype=torch.float64)
    >>> bool(torch.allclose(forward(a), torch.softmax(a, dim=0)))
    True
    """
    import torch

    namespace = _TorchNamespace(torch)
    return rebind(softmax, namespace), rebind(softmax_product, namespace)


@cache
def _torch_function(activation: Activation):
    import torch

    h, slope = _torch_pair(activation)

    class TableActivation(torch.autograd.Function):
        """z = h(a) with ∂z/∂a = h'(a), both from the table entry (so kinks follow the table's convention)."""

        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return h(a)

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * slope(a)

    return TableActivation.apply


def torch_activation(spec) -> Callable:
    """The torch version of an element-wise activation: a function tensor -> tensor, differentiable.

    Forward it evaluates the table's h with ``np`` rebound to torch; its
    gradient is the table's h', so torch and the numpy engines agree at kinks.
    Works for any registered or :class:`Activation` written with numpy's
    element-wise functions (ufuncs and arithmetic).

    Raises
    ------
    ActivationError
        As :func:`get_activation`, or when h or h' does not run on a tensor
        with ``np`` rebound to torch (e.g. it calls a numpy-only function).

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> z = torch_activation("relu")(a)
    >>> z.sum().backward()
    >>> z.tolist(), a.grad.tolist()
    ([0.0, 2.0], [0.0, 1.0])
    """
    return _torch_function(get_activation(spec))
