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

Like the table's own entries (:mod:`graphbp.activations`), h, h' and h'' are
written with numpy ufuncs and arithmetic only, a condition being a comparison
multiplied as a float (no ``np.where``, no array constructors): the same
functions run on numpy arrays in the reference engine, compile for one float
in the numba kernels and run on tensors in the torch module.

For the numba row kernels to vectorize a loop over a row, h and h' must be
arithmetic without calls (:mod:`graphbp.compiled.kernel_math`). neat's ``sin``
therefore uses its own sine, exact only on the clamp's |x| ≤ 60 (which is all
neat's sin ever sees), and ``softplus`` is computed as max(x, 0) + ln(1 + e^−|x|)
with a ln for [1, 2]: one exp and no libm call (neat's own numbers, its rounding of
1 + e^x included).
"""

from __future__ import annotations

import math

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

# sin: x = mπ + r with |r| ≤ π/2, π in three parts (twice fdlibm's pio2_1, pio2_2 and pio2_2t), the first two of
# 33 bits, so m · part is exact for the half-integral |m| ≤ 20 that |x| ≤ 60 needs, and r keeps ~119 bits of π.
_INV_PI = 1 / math.pi
_PI_1 = 3.14159265346825122833e00
_PI_2 = 1.21542010126079319532e-10
_PI_3 = 4.04453249759190126308e-21
# sin r = r + r z S(z) with z = r²: S a Chebyshev fit (mpmath.chebyfit) of degree 7 to (sin r / r − 1) / z on
# |r| ≤ π/2, which leaves sin r a relative error under 2e-18 (Taylor's series needs two terms more).
_S0 = -0.16666666666666666
_S1 = 0.008333333333333316
_S2 = -0.00019841269841254974
_S3 = 2.7557319219163234e-06
_S4 = -2.5052107616996182e-08
_S5 = 1.6058977312464087e-10
_S6 = -7.643970296798564e-13
_S7 = 2.731444766986299e-15
# ln u on [1, 2]: with f = u − 1 and s = f / (2 + f) ≤ 1/3, ln u = 2 atanh s = 2s + s R(s²) (fdlibm's e_log.c
# form); R(w) = w L(w), L a Chebyshev fit of degree 9 on w ≤ 1/9 (relative error of ln u under 1e-17).
_L0 = 0.6666666666666666
_L1 = 0.40000000000014585
_L2 = 0.2857142856710876
_L3 = 0.22222222717427864
_L4 = 0.18181789436132859
_L5 = 0.15385570064958623
_L6 = 0.13314144209654935
_L7 = 0.12001072809590713
_L8 = 0.08800738486144674
_L9 = 0.1616404561194353


# graphbp's σ and tanh with their derivatives: plain functions, so numba compiles them with ours.
_logistic_prime, _logistic_second, _logistic_output = (
    getattr(get_activation("logistic"), role) for role in ("derivative", "second_derivative", "output_derivative")
)
_tanh, _tanh_prime, _tanh_second, _tanh_output = (
    getattr(get_activation("tanh"), role)
    for role in ("function", "derivative", "second_derivative", "output_derivative")
)


def _sigmoid(x):
    """σ(x) as neat writes it, 1 / (1 + exp(−x)), for x already clamped to ±60 (so exp(−x) is finite).

    One exp (graphbp's overflow-safe logistic takes two): exp is the costliest operation of a
    compiled row kernel's loop, and neat's most common activation calls it once.
    """
    return 1.0 / (1.0 + np.exp(-x))


def _clamp(x, low: float, high: float):
    """x clamped to [low, high], as neat's ``max(low, min(high, x))``."""
    return np.maximum(low, np.minimum(high, x))


def _inside(x, low: float, high: float):
    """1.0 where low < x < high, else 0.0: the clamp's h' factor (0 at the boundary itself, see above)."""
    return (x > low) * (x < high) * 1.0


def _scaled(scale: float, f, f_prime, f_second, f_output=None):
    """h(a) = f(clamp(scale·a, ±60)) with h' = scale·f'(x), h'' = scale²·f''(x) inside and 0 beyond.

    `f_output(x, z)`, f' written from z = f(x), gives h' from z too (the kernels' backward pass
    knows z: σ' = z(1 − z) costs no exp).
    """

    def h(a):
        return f(_clamp(scale * a, -SCALED_LIMIT, SCALED_LIMIT))

    def h_prime(a):
        x = scale * a
        return _inside(x, -SCALED_LIMIT, SCALED_LIMIT) * (scale * f_prime(_clamp(x, -SCALED_LIMIT, SCALED_LIMIT)))

    def h_second(a):
        x = scale * a
        return _inside(x, -SCALED_LIMIT, SCALED_LIMIT) * (scale**2 * f_second(_clamp(x, -SCALED_LIMIT, SCALED_LIMIT)))

    def h_output(a, z):
        x = scale * a
        return _inside(x, -SCALED_LIMIT, SCALED_LIMIT) * (scale * f_output(_clamp(x, -SCALED_LIMIT, SCALED_LIMIT), z))

    return h, h_prime, h_second, (None if f_output is None else h_output)


def _sin_quarter_turns(x, quarters: float):
    """sin(x + quarters · π/2) for `quarters` 0 (sin x) or 1 (cos x), within 2.1 ulp for |x| ≤ 60, neat's clamp.

    Branch-free, so a row kernel's loop vectorizes it (libm's sin is a call per number): with
    k = ⌊(x + quarters · π/2)/π + 1/2⌋ and m = k − quarters/2, x + quarters · π/2 = kπ + r where
    r = x − mπ (Cody-Waite, π in three parts: each m · part exact, so r is right to its last bits),
    |r| ≤ π/2, and the sine is (−1)^k sin r. m · part stays exact for |x| < 2^19 π; the domain
    claimed is neat's clamp, |x| ≤ 60, which the tests sweep against extended precision (2.1 ulp
    at most, libm's sin 0.52), with no fallback branch that would stop the loop vectorizing.

    Examples
    --------
    >>> import math
    >>> x = np.array([0.5, -59.9, 60.0])
    >>> bool(np.all(np.abs(_sin_quarter_turns(x, 0.0) - np.sin(x)) <= 2 * np.spacing(np.abs(np.sin(x)))))
    True
    >>> float(_sin_quarter_turns(np.array(math.pi / 3), 1.0)) == float(np.cos(math.pi / 3))
    True
    """
    k = np.floor(x * _INV_PI + 0.5 * (1.0 + quarters))
    m = k - 0.5 * quarters
    r = ((x - m * _PI_1) - m * _PI_2) - m * _PI_3
    z = r * r
    # Horner's scheme: Estrin's (as in _log_one_to_two) shortens the chain but loses half an ulp here
    series = _S4 + z * (_S5 + z * (_S6 + z * _S7))
    series = _S0 + z * (_S1 + z * (_S2 + z * (_S3 + z * series)))
    sign = 1.0 - 2.0 * (k - 2.0 * np.floor(0.5 * k))  # (−1)^k, as arithmetic: no branch
    return sign * (r + r * z * series)


def _sin(x):
    return _sin_quarter_turns(x, 0.0)


def _cos(x):
    return _sin_quarter_turns(x, 1.0)


def _minus_sin(x):
    return -_sin_quarter_turns(x, 0.0)


def _gauss(a):
    x = _clamp(a, -GAUSS_LIMIT, GAUSS_LIMIT)
    return np.exp(-5.0 * x**2)


def _gauss_prime(a):
    x = _clamp(a, -GAUSS_LIMIT, GAUSS_LIMIT)
    return _inside(a, -GAUSS_LIMIT, GAUSS_LIMIT) * (-10.0 * x * np.exp(-5.0 * x**2))


def _gauss_output(a, z):
    return _inside(a, -GAUSS_LIMIT, GAUSS_LIMIT) * (-10.0 * _clamp(a, -GAUSS_LIMIT, GAUSS_LIMIT) * z)


def _gauss_second(a):
    x = _clamp(a, -GAUSS_LIMIT, GAUSS_LIMIT)
    return _inside(a, -GAUSS_LIMIT, GAUSS_LIMIT) * ((100.0 * x**2 - 10.0) * np.exp(-5.0 * x**2))


def _negative_exp(a):
    """exp(a) for a ≤ 0: the negative branch of elu and selu (the caller passes min(a, 0): no overflow)."""
    return np.exp(a)


def _elu_negative(a):
    return _negative_exp(a) - 1.0   # neat's exp(z) - 1, not expm1


def _selu_negative(a):
    # neat evaluates lam * alpha * (exp(z) - 1) left to right: (lam * alpha) first.
    return SELU_LAMBDA * SELU_ALPHA * (_negative_exp(a) - 1.0)


def _selu_negative_prime(a):
    return SELU_LAMBDA * SELU_ALPHA * _negative_exp(a)


def _elu_negative_output(z):
    return z + 1.0


def _selu_negative_output(z):
    return z + SELU_LAMBDA * SELU_ALPHA


def _lelu_negative(a):
    return LELU_LEAK * a


def _lelu_negative_prime(a):
    return LELU_LEAK + 0.0 * a


def _piecewise(slope: float, negative, negative_prime, negative_second, negative_output=None):
    """h(a) = slope·a for a > 0, else negative(a) (neat's elu, lelu, selu), with h', h'' and h' from z.

    Each branch sees only its own side (max(a, 0) or min(a, 0)) and gives 0 at a = 0, where the other
    side's value is added: slope·a + 0 and 0 + negative(a) are neat's numbers exactly.
    `negative_output(z)` is negative' written from z = negative(a): exp(a) = z + 1 for elu, to
    within rounding on h's scale (as graphbp's tanh' = 1 − z²), and no second exp.
    """

    def h(a):
        return slope * np.maximum(a, 0.0) + negative(np.minimum(a, 0.0))

    def h_prime(a):
        positive = (a > 0.0) * 1.0
        return positive * slope + (1.0 - positive) * negative_prime(np.minimum(a, 0.0))

    def h_second(a):
        return (a <= 0.0) * negative_second(np.minimum(a, 0.0))

    def h_output(a, z):
        positive = (a > 0.0) * 1.0
        return positive * slope + (1.0 - positive) * negative_output(np.minimum(z, 0.0))

    return h, h_prime, h_second, (None if negative_output is None else h_output)


def _power(n: int):
    """h(a) = a**n with h' and h'' (neat's square and cube)."""

    def h(a):
        return a**n

    def h_prime(a):
        return n * a ** (n - 1)

    def h_second(a):
        return n * (n - 1) * a ** (n - 2)

    return h, h_prime, h_second


def _log_one_to_two(u):
    """ln u for 1 ≤ u ≤ 2, branch-free (no exponent to read off: u is its own mantissa).

    ln u = f − (f²/2 − s (f²/2 + R(s²))) with f = u − 1 (exact) and s = f / (2 + f), as fdlibm's
    ``e_log.c`` writes 2 atanh s, so the rounding of s reaches only the smaller terms.

    Examples
    --------
    >>> u = np.array([1.0, 1.5, 2.0])
    >>> bool(np.all(np.abs(_log_one_to_two(u) - np.log(u)) <= np.spacing(np.log(u))))
    True
    """
    f = u - 1.0
    s = f / (2.0 + f)
    w = s * s
    w2 = w * w
    w4 = w2 * w2
    series = ((_L0 + w * _L1) + w2 * (_L2 + w * _L3)) + w4 * (
        ((_L4 + w * _L5) + w2 * (_L6 + w * _L7)) + w4 * (_L8 + w * _L9)
    )
    half_f2 = 0.5 * f * f
    return f - (half_f2 - s * (half_f2 + w * series))


def _softplus(x):
    """neat's 0.2 ln(1 + e^x) for |x| ≤ 60, as max(x, 0) + ln(1 + e^−|x|): one exp, and a ln on [1, 2].

    For x ≤ 0 that is neat's own ln(1 + e^x), 1 + e^x rounded to a double as neat rounds it (so 0
    for x below about −36.7, as neat's); for x > 0 it differs from neat's by that rounding, under
    2e-16 of a value over 0.69. A ln of u in [1, 2] needs no exponent read off its bits and no
    special values, and the exp's argument is never positive (no overflow to guard against).
    """
    return 0.2 * (np.maximum(x, 0.0) + _log_one_to_two(1.0 + np.exp(-np.abs(x))))


def _softplus_prime(x):
    # d/dx of 0.2 log(1 + e^x) is 0.2 σ(x); times the scale 5 (in _scaled) that is σ(x).
    return 0.2 * _sigmoid(x)


def _softplus_second(x):
    return 0.2 * _logistic_prime(x)


def _nonzero_reciprocal(a, power: int):
    """(a ≠ 0) / a**power, 0 at a = 0 (neat catches 1/0 and returns 0): 1 stands in for a 0 divisor."""
    nonzero = (a != 0.0) * 1.0
    return nonzero / (a + (1.0 - nonzero)) ** power


def _inv(a):
    return _nonzero_reciprocal(a, 1)


def _inv_prime(a):
    return -_nonzero_reciprocal(a, 2)


def _inv_second(a):
    return 2.0 * _nonzero_reciprocal(a, 3)


def _log(a):
    return np.log(np.maximum(LOG_FLOOR, a))


def _log_prime(a):
    return ((a > LOG_FLOOR) * 1.0) / np.maximum(LOG_FLOOR, a)


def _log_second(a):
    return ((a > LOG_FLOOR) * -1.0) / np.maximum(LOG_FLOOR, a) ** 2


def _exp(a):
    return np.exp(_clamp(a, -SCALED_LIMIT, SCALED_LIMIT))


def _exp_inside(a):
    return _inside(a, -SCALED_LIMIT, SCALED_LIMIT) * _exp(a)


def _exp_output(a, z):
    return _inside(a, -SCALED_LIMIT, SCALED_LIMIT) * z


def _clamped_unit(a):
    return _clamp(a, -1.0, 1.0)


def _inside_unit(a):
    return _inside(a, -1.0, 1.0)


def _hat(a):
    return np.maximum(0.0, 1.0 - np.abs(a))


def _hat_prime(a):
    return -np.sign(a) * _inside_unit(a)


def _zeros(a):
    return 0.0 * a


def _register(neat_name: str, h, h_prime, h_second, h_output=None) -> str:
    name = f"neat_{neat_name}"
    register_activation(name, h, h_prime, h_second, h_output)
    return name


#: neat-python's built-in activation name -> the graphbp activation computing it.
NEAT_ACTIVATIONS = {
    "sigmoid": _register("sigmoid", *_scaled(5.0, _sigmoid, _logistic_prime, _logistic_second, _logistic_output)),
    "tanh": _register("tanh", *_scaled(2.5, _tanh, _tanh_prime, _tanh_second, _tanh_output)),
    "sin": _register("sin", *_scaled(5.0, _sin, _cos, _minus_sin)),
    "gauss": _register("gauss", _gauss, _gauss_prime, _gauss_second, _gauss_output),
    "relu": "relu",
    "elu": _register("elu", *_piecewise(1.0, _elu_negative, _negative_exp, _negative_exp, _elu_negative_output)),
    "lelu": _register("lelu", *_piecewise(1.0, _lelu_negative, _lelu_negative_prime, _zeros)),
    "selu": _register(
        "selu",
        *_piecewise(SELU_LAMBDA, _selu_negative, _selu_negative_prime, _selu_negative_prime, _selu_negative_output),
    ),
    "softplus": _register("softplus", *_scaled(5.0, _softplus, _softplus_prime, _softplus_second)),
    "identity": "identity",
    "clamped": _register("clamped", _clamped_unit, _inside_unit, _zeros),
    "inv": _register("inv", _inv, _inv_prime, _inv_second),
    "log": _register("log", _log, _log_prime, _log_second),
    "exp": _register("exp", _exp, _exp_inside, _exp_inside, _exp_output),
    "abs": _register("abs", np.abs, np.sign, _zeros),
    "hat": _register("hat", _hat, _hat_prime, _zeros),
    "square": _register("square", *_power(2)),
    "cube": _register("cube", *_power(3)),
}
