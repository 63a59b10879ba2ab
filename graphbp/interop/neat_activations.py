"""neat-python's activation functions as graphbp activations, with h' and h''.

neat-python 2.0 (``neat/activations.py``) scales and clamps the argument of
several of its functions: its ``sigmoid`` is σ(5a) with 5a clamped to
[−60, 60], its ``tanh`` is tanh(2.5a) with 2.5a clamped, ``gauss`` clamps a to
[−3.4, 3.4], ``log`` clamps a below at 1e-7, and so on. graphbp registers each
under the name ``"neat_<name>"``, computing neat's function (the clamp
included; values agree to rounding), so a network read from a genome keeps
neat's weights and biases as they are. ``relu`` and ``identity`` are graphbp's own built-ins, which compute
the same numbers.

Derivatives follow the clamp: beyond it h is constant, so h' = h'' = 0; **at
the clamp boundary itself h' is taken as 0**, the slope of the clamped side,
as graphbp takes relu'(0) = 0. Kinks at 0 (``abs``, ``hat``) get h'(0) = 0,
the mean of the two one-sided slopes (as torch's ``abs``). Where neat's
clamp sits far out (σ'(±60) ≈ 1e-26, tanh'(±60) = 0 in float64) this choice
changes no number; for ``sin``, ``gauss``, ``exp``, ``log`` and ``clamped``
it is a real corner of h.
"""

from __future__ import annotations

import numpy as np

from ..activations import get_activation, register_activation

__all__ = ["NEAT_ACTIVATIONS"]

# neat-python's constants (neat/activations.py).
SCALED_LIMIT = 60.0
GAUSS_LIMIT = 3.4
LOG_FLOOR = 1e-7
LELU_LEAK = 0.005
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _clamped(a, scale: float, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """(x, inside): x = scale·a clamped to [low, high] as neat does it, and where scale·a is strictly inside."""
    x = scale * np.asarray(a, dtype=float)
    return np.clip(x, low, high), (x > low) & (x < high)


def _scaled(scale: float, f, f_prime, f_second):
    """h(a) = f(clamp(scale·a, ±60)) with its derivatives: scale·f'(x) and scale²·f''(x) inside, 0 beyond."""

    def h(a):
        return f(_clamped(a, scale, -SCALED_LIMIT, SCALED_LIMIT)[0])

    def h_prime(a):
        x, inside = _clamped(a, scale, -SCALED_LIMIT, SCALED_LIMIT)
        return np.where(inside, scale * f_prime(x), 0.0)

    def h_second(a):
        x, inside = _clamped(a, scale, -SCALED_LIMIT, SCALED_LIMIT)
        return np.where(inside, scale**2 * f_second(x), 0.0)

    return h, h_prime, h_second


def _gauss(a):
    x = np.clip(np.asarray(a, dtype=float), -GAUSS_LIMIT, GAUSS_LIMIT)
    return np.exp(-5.0 * x**2)


def _gauss_prime(a):
    x, inside = _clamped(a, 1.0, -GAUSS_LIMIT, GAUSS_LIMIT)
    return np.where(inside, -10.0 * x * np.exp(-5.0 * x**2), 0.0)


def _gauss_second(a):
    x, inside = _clamped(a, 1.0, -GAUSS_LIMIT, GAUSS_LIMIT)
    return np.where(inside, (100.0 * x**2 - 10.0) * np.exp(-5.0 * x**2), 0.0)


def _negative_exp(a):
    """exp(a) where a ≤ 0 (elsewhere it is never used): the negative branch of elu and selu without overflow."""
    return np.exp(np.minimum(a, 0.0))


def _elu_negative(a):
    return _negative_exp(a) - 1.0   # neat's exp(z) - 1, not expm1


def _selu_negative(a):
    # neat evaluates lam * alpha * (exp(z) - 1) left to right: (lam * alpha) first.
    return SELU_LAMBDA * SELU_ALPHA * (_negative_exp(a) - 1.0)


def _selu_negative_prime(a):
    return SELU_LAMBDA * SELU_ALPHA * _negative_exp(a)


def _piecewise(slope: float, negative, negative_prime, negative_second):
    """h(a) = slope·a for a > 0, else negative(a) (neat's elu, lelu, selu), with h' and h''."""

    def h(a):
        a = np.asarray(a, dtype=float)
        return np.where(a > 0.0, slope * a, negative(a))

    def h_prime(a):
        return np.where(np.asarray(a) > 0.0, slope, negative_prime(a))

    def h_second(a):
        return np.where(np.asarray(a) > 0.0, 0.0, negative_second(a))

    return h, h_prime, h_second


def _power(n: int):
    """h(a) = a**n with h' and h'' (neat's square and cube)."""
    return (
        lambda a: np.asarray(a, dtype=float) ** n,
        lambda a: n * np.asarray(a, dtype=float) ** (n - 1),
        lambda a: n * (n - 1) * np.asarray(a, dtype=float) ** (n - 2),
    )


def _softplus(x):
    return 0.2 * np.log(1.0 + np.exp(x))  # neat's formula on the clamped 5a (|5a| <= 60: no overflow)


def _inv(a):
    a = np.asarray(a, dtype=float)
    # neat catches 1/0 and returns 0 there.
    return np.divide(1.0, a, out=np.zeros_like(a), where=a != 0.0)


def _inv_prime(a):
    a = np.asarray(a, dtype=float)
    return np.divide(-1.0, a**2, out=np.zeros_like(a), where=a != 0.0)


def _inv_second(a):
    a = np.asarray(a, dtype=float)
    return np.divide(2.0, a**3, out=np.zeros_like(a), where=a != 0.0)


def _above_floor(a):
    a = np.asarray(a, dtype=float)
    return a, a > LOG_FLOOR


def _log(a):
    return np.log(np.maximum(LOG_FLOOR, np.asarray(a, dtype=float)))


def _log_prime(a):
    a, inside = _above_floor(a)
    return np.divide(1.0, a, out=np.zeros_like(a), where=inside)


def _log_second(a):
    a, inside = _above_floor(a)
    return np.divide(-1.0, a**2, out=np.zeros_like(a), where=inside)


def _exp_inside(a):
    x, inside = _clamped(a, 1.0, -SCALED_LIMIT, SCALED_LIMIT)
    return np.where(inside, np.exp(x), 0.0)


def _clamped_unit(a):
    return np.clip(np.asarray(a, dtype=float), -1.0, 1.0)


def _inside_unit(a):
    return _clamped(a, 1.0, -1.0, 1.0)[1].astype(float)


def _hat(a):
    return np.maximum(0.0, 1.0 - np.abs(np.asarray(a, dtype=float)))


def _hat_prime(a):
    return -np.sign(a) * _inside_unit(a)


def _zeros(a):
    return np.zeros_like(np.asarray(a, dtype=float))


_LOGISTIC, _TANH = get_activation("logistic"), get_activation("tanh")   # graphbp's σ and tanh, with h' and h''


def _register(neat_name: str, h, h_prime, h_second) -> str:
    name = f"neat_{neat_name}"
    register_activation(name, h, h_prime, h_second)
    return name


#: neat-python's built-in activation name -> the graphbp activation computing it.
NEAT_ACTIVATIONS = {
    "sigmoid": _register("sigmoid", *_scaled(5.0, _LOGISTIC, _LOGISTIC.derivative, _LOGISTIC.second_derivative)),
    "tanh": _register("tanh", *_scaled(2.5, _TANH, _TANH.derivative, _TANH.second_derivative)),
    "sin": _register("sin", *_scaled(5.0, np.sin, np.cos, lambda x: -np.sin(x))),
    "gauss": _register("gauss", _gauss, _gauss_prime, _gauss_second),
    "relu": "relu",
    "elu": _register("elu", *_piecewise(1.0, _elu_negative, _negative_exp, _negative_exp)),
    "lelu": _register("lelu", *_piecewise(1.0, lambda a: LELU_LEAK * np.asarray(a, dtype=float),
                                          lambda a: LELU_LEAK, _zeros)),
    "selu": _register("selu", *_piecewise(SELU_LAMBDA, _selu_negative, _selu_negative_prime, _selu_negative_prime)),
    # d/dx of 0.2 log(1 + e^x) is 0.2 σ(x); times the scale 5 that is σ(x).
    "softplus": _register(
        "softplus", *_scaled(5.0, _softplus, lambda x: 0.2 * _LOGISTIC(x), lambda x: 0.2 * _LOGISTIC.derivative(x))
    ),
    "identity": "identity",
    "clamped": _register("clamped", _clamped_unit, _inside_unit, _zeros),
    "inv": _register("inv", _inv, _inv_prime, _inv_second),
    "log": _register("log", _log, _log_prime, _log_second),
    "exp": _register("exp", lambda a: np.exp(np.clip(a, -SCALED_LIMIT, SCALED_LIMIT)), _exp_inside, _exp_inside),
    "abs": _register("abs", np.abs, np.sign, _zeros),
    "hat": _register("hat", _hat, _hat_prime, _zeros),
    "square": _register("square", *_power(2)),
    "cube": _register("cube", *_power(3)),
}
