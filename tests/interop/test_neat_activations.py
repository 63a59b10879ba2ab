"""neat's sin and softplus as graphbp computes them: branch-free kernels checked against extended precision.

graphbp.interop.neat_activations writes sin (a Cody-Waite reduction valid on neat's clamp, |x| ≤ 60) and
softplus (max(x, 0) + ln(1 + e^−|x|)) in arithmetic, so the numba row kernels vectorize them; one function
runs in every engine. Each engine is swept over the whole clamp: the reference (numpy), the numba row
kernels, and torch.
"""

import math

import numpy as np
import pytest

import graphbp
from graphbp.interop import NEAT_ACTIVATIONS
from graphbp.interop.neat_activations import _log_one_to_two, _sin_quarter_turns

LONG_DOUBLE_IS_WIDER = np.finfo(np.longdouble).nmant > 52  # x86: 64 bits of mantissa

# neat's argument x = clamp(5a, ±60): a dense sweep, the corners, and x near the zeros of sin and cos
# (multiples of π/2, where a reduction that drops bits of π shows at once).
_QUARTERS = np.arange(-38, 39) * (np.pi / 2)
SWEEP = np.concatenate(
    [np.linspace(-60.0, 60.0, 120_001), _QUARTERS, np.nextafter(_QUARTERS, np.inf), np.nextafter(_QUARTERS, -np.inf),
     [-60.0, 60.0, np.nextafter(60.0, 0.0), np.nextafter(-60.0, 0.0), 0.0, 1e-300, -1e-300]]
)  # fmt: skip


def _engines(name, numba, torch):
    """engine -> function a -> (h(a), h'(a)) as float64 arrays, for the neat activation `name`."""
    from graphbp.compiled.kernels_numba import row_kernels

    act = graphbp.get_activation(NEAT_ACTIVATIONS[name])
    activate, scale = row_kernels(act)
    h_torch, slope_torch = graphbp.activations.torch_elementwise(act)

    def kernels(a):
        row = a[None, :]
        z, delta = np.empty_like(row), np.empty_like(row)
        activate(row, z, 0, 0, a.size)
        scale(row, z, np.ones_like(row), delta, 0, 0, a.size)
        return z[0], delta[0]

    def in_torch(a):
        t = torch.tensor(a, dtype=torch.float64)
        return h_torch(t).numpy(), slope_torch(t).numpy()

    return {"reference": lambda a: (act.function(a), act.derivative(a)), "numba": kernels, "torch": in_torch}


def _ulps(value, exact):
    """|value − exact| in units of the last place of `exact` as a float64."""
    return np.abs(value - exact) / np.spacing(np.abs(exact).astype(np.float64))


@pytest.mark.skipif(not LONG_DOUBLE_IS_WIDER, reason="long double is a plain double here: no reference for ulps")
@pytest.mark.parametrize("quarters, exact", [(0.0, np.sin), (1.0, np.cos)])
def test_sin_and_cos_within_3_ulp_on_neats_clamp(quarters, exact):
    assert np.max(_ulps(_sin_quarter_turns(SWEEP, quarters), exact(SWEEP.astype(np.longdouble)))) <= 3.0


def test_neat_sin_in_every_engine_within_3_ulp_of_sin_and_5_cos(numba, torch):
    """h = sin x, h' = 5 cos x for x = 5a inside the clamp, h' = 0 on and beyond it; the same numbers in every engine."""
    a = np.concatenate([SWEEP / 5.0, [-12.0, 12.0, 13.0, -1e3]])
    x = np.maximum(-60.0, np.minimum(60.0, 5.0 * a))  # the x that neat and graphbp compute
    inside = np.abs(5.0 * a) < 60.0
    if LONG_DOUBLE_IS_WIDER:
        sin, cos, allowed = np.sin(x.astype(np.longdouble)), np.cos(x.astype(np.longdouble)), 3.0
    else:  # libm within an ulp stands in, one ulp more allowed
        sin, cos, allowed = np.sin(x), np.cos(x), 4.0
    for engine, run in _engines("sin", numba, torch).items():
        h, slope = run(a)
        assert np.max(_ulps(h, sin)) <= allowed, engine
        # 5 cos x: the product by 5 rounds once more
        assert np.max(_ulps(slope[inside], 5.0 * cos[inside])) <= allowed + 1.0, engine
        assert not slope[~inside].any(), engine


@pytest.mark.skipif(not LONG_DOUBLE_IS_WIDER, reason="long double is a plain double here: no reference for ulps")
def test_log_on_one_to_two_within_2_ulp():
    u = np.concatenate([np.linspace(1.0, 2.0, 100_001), np.nextafter([1.0, 2.0, 1.5], [2.0, 1.0, 2.0])])
    exact = np.log(u.astype(np.longdouble))
    assert _log_one_to_two(1.0) == 0.0
    assert np.max(_ulps(_log_one_to_two(u[1:]), exact[1:])) <= 2.0


def test_neat_softplus_in_every_engine_is_neats_rounding_of_the_exact_value_and_sigma(numba, torch):
    """h = 0.2 ln(1 + e^x) with 1 + e^x rounded as neat rounds it (so 0 below x ≈ −37, as neat's), h' = σ(x)
    to 1e-15 relative (σ from x, where a form from z would lose what neat's rounding lost)."""
    a = np.concatenate([SWEEP / 5.0, [-12.0, 12.0, 13.0, -1e3]])
    x = np.maximum(-60.0, np.minimum(60.0, 5.0 * a))
    inside = np.abs(5.0 * a) < 60.0
    wide = x.astype(np.longdouble)
    exact_h = 0.2 * np.log1p(np.exp(wide))  # within ~1e-19 relative where long double is wider
    sigma = 1.0 / (1.0 + np.exp(-wide))
    for engine, run in _engines("softplus", numba, torch).items():
        h, slope = run(a)
        # neat rounds 1 + e^x (half an ulp of 1), the kernels' exp may add as much again: that much of ln, absolute, plus a few ulps
        assert np.all(np.abs(h - exact_h) <= 0.2 * 2.0**-52 + 4e-16 * exact_h), engine
        assert np.max(np.abs(slope[inside] - sigma[inside]) / sigma[inside]) <= 1e-15, engine
        assert not slope[~inside].any(), engine


@pytest.mark.parametrize("name", ["sin", "softplus"])
def test_reference_agrees_with_neats_own_function_on_a_dense_sweep(neat, name):
    neat_function = getattr(neat.activations, f"{name}_activation")
    a = np.concatenate([np.linspace(-13.0, 13.0, 5_201), [-12.0, 12.0, np.nextafter(12.0, 0.0), 0.0]])
    want = np.array([neat_function(float(value)) for value in a])
    got = graphbp.get_activation(NEAT_ACTIVATIONS[name])(a)
    np.testing.assert_allclose(got, want, rtol=2e-15, atol=1e-300)
    assert np.array_equal(got == 0.0, want == 0.0)
    assert float(graphbp.get_activation(NEAT_ACTIVATIONS[name])(np.array(12.0))) == pytest.approx(
        neat_function(12.0), rel=1e-15
    )


def test_neats_softplus_formula_is_what_the_reference_reproduces():
    """For x ≤ 0 the reference's ln(1 + e^−|x|) is neat's ln(1 + e^x), rounding included: equal to an ulp or two."""
    a = np.linspace(-12.0, 0.0, 6_001)
    neat_formula = np.array([0.2 * math.log(1.0 + math.exp(5.0 * value)) for value in a])
    got = graphbp.get_activation("neat_softplus")(a)
    np.testing.assert_allclose(got, neat_formula, rtol=5e-16, atol=0.0)
