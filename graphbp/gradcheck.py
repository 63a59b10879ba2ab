"""Gradient checking by central differences (Bishop PRML eq. 5.69), shipped to users.

Every weight, every bias and every δ_j is compared with

    ∂E/∂θ ≈ (E(θ + ε) − E(θ − ε)) / 2ε,        error O(ε²),

refined by default with one Richardson step: combining the central differences
at steps ε and 2ε as (4 D(ε) − D(2ε)) / 3 cancels their ε² term, leaving
O(ε⁴), so a larger ε can be used and round-off stays small. δ_j is checked
by perturbing a_j itself, the definition δ_j = ∂E_n/∂a_j:
a_j is shifted by ±ε in every sample at once, and since E_n depends on sample
n alone, the change in each E_n gives that sample's δ_jn.

A central difference whose steps put some unit's a on the other side of a
kink (a point where h' jumps: relu, leaky_relu at a = 0; each activation's
table entry lists its own, :attr:`graphbp.Activation.kinks`) measures neither
one-sided slope: such values are set apart as ``at_kink``, not counted as errors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from .backward import backprop
from .batches import prepare
from .forward import propagate, stack_outputs

__all__ = ["GradientCheck", "CheckedValue", "check_gradients"]

class CheckedValue(NamedTuple):
    """One compared derivative: ``quantity`` is "weight", "bias" or "delta"; ``key`` is
    the edge, the node, or (node, sample)."""

    quantity: str
    key: object
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float


@dataclass(frozen=True)
class GradientCheck:
    """Report of :func:`check_gradients`: every compared value and the worst one.

    ``rel_error`` is ``|analytic − numeric| / max(|analytic|, |numeric|, floor)``
    with ``floor = scale_floor · max(1, |E|)``: relative for derivatives above
    the floor, and an absolute error measured in units of the floor below it,
    where round-off of the differences (≈ 1e-16·|E|/ε, so growing with E)
    would otherwise dominate. ``at_kink`` holds the values whose differences
    cross a kink of their unit's activation (:attr:`graphbp.Activation.kinks`),
    which are not compared.
    """

    values: tuple
    eps: float
    richardson: bool
    scale_floor: float
    at_kink: tuple = ()

    @property
    def worst(self) -> CheckedValue | None:
        """The compared value with the largest relative error (None when nothing was compared)."""
        return max(self.values, key=lambda v: v.rel_error, default=None)

    @property
    def max_rel_error(self) -> float:
        return self.worst.rel_error if self.values else 0.0

    @property
    def max_abs_error(self) -> float:
        return max((v.abs_error for v in self.values), default=0.0)

    def __str__(self) -> str:
        shown = sorted(self.values, key=lambda v: -v.rel_error)[:12]
        lines = [
            f"gradient check (central differences{' + Richardson' if self.richardson else ''}, eps={self.eps:g}): "
            f"{len(self.values)} values compared",
            f"worst relative error {self.max_rel_error:.2e}"
            + (f" at {self.worst.quantity} {self.worst.key!r}" if self.values else ""),
            f"{'quantity':8}  {'key':30}  {'analytic':>14}  {'numeric':>14}  {'rel. error':>10}",
        ]
        lines += [
            f"{v.quantity:8}  {v.key!r:30.30}  {v.analytic:14.8g}  {v.numeric:14.8g}  {v.rel_error:10.2e}"
            for v in shown
        ]
        if len(self.values) > len(shown):
            lines.append(f"... {len(self.values) - len(shown)} more, all with smaller errors")
        if self.at_kink:
            keys = ", ".join(f"{v.quantity} {v.key!r}" for v in self.at_kink[:4])
            lines.append(f"{len(self.at_kink)} value(s) not compared, their differences cross a kink of an "
                         f"activation (where h' jumps, e.g. relu at a = 0): {keys}{', ...' if len(self.at_kink) > 4 else ''}")
        return "\n".join(lines)


def _compare(quantity, key, analytic, numeric, scale_floor) -> CheckedValue:
    analytic, numeric = float(analytic), float(numeric)
    error = abs(analytic - numeric)
    return CheckedValue(quantity, key, analytic, numeric, error, error / max(abs(analytic), abs(numeric), scale_floor))


def check_gradients(
    G,
    x,
    t,
    loss="sum_of_squares",
    *,
    eps: float = 1e-4,
    richardson: bool = True,
    scale_floor: float = 1e-4,
    weight: str = "weight",
) -> GradientCheck:
    """Compare backprop's ∂E/∂w, ∂E/∂b and δ with central differences (eq. 5.69).

    Costs four forward passes (two without `richardson`) per weight, bias and
    node: meant for small networks.

    Parameters
    ----------
    G, x, t, loss, weight
        As for :func:`graphbp.backprop`.
    eps : float, default 1e-4
        The step ε. Without `richardson`, about 1e-5 ≈ (machine epsilon)^(1/3)
        balances the O(ε²) truncation against round-off.
    richardson : bool, default True
        Combine the central differences at ε and 2ε (error O(ε⁴)); False gives
        eq. 5.69 exactly (error O(ε²)).
    scale_floor : float, default 1e-4
        Denominator floor of the relative error, times max(1, |E|) (see :class:`GradientCheck`).

    Returns
    -------
    GradientCheck
        Printing it gives a table of the worst values.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "h", {"weight": 0.3}), ("h", "y", {"weight": -1.2}),
    ...                 ("x", "y", {"weight": 0.7})])
    >>> report = check_gradients(G, [[0.5], [-1.0]], [[1.0], [0.0]])
    >>> report.max_rel_error < 1e-8
    True
    >>> sorted({v.quantity for v in report.values})
    ['bias', 'delta', 'weight']
    """
    result = backprop(G, x, t, loss=loss, weight=weight)
    net, X, T, loss, single = prepare(G, x, t, loss, weight)
    H = G.copy()  # perturbed copy: the user's graph is never touched
    _, groups = net.output_columns
    floor = scale_floor * max(1.0, abs(result.loss))
    kinked = {j: np.array(act.kinks) for j, act in net.activation.items() if getattr(act, "kinks", ())}

    def piece(a):
        """(units with kinks, N): how many of its kinks each unit's a is right of (at a kink, h' is the left
        slope, so a = kink counts as left of it)."""
        return np.array([(a[j][:, None] > kinks).sum(axis=1) for j, kinks in kinked.items()]).reshape(
            len(kinked), len(X))

    base = piece(propagate(H, net, X)[0])

    def sample_losses(network=net, shift=None):
        """E_n of every sample, and whether some unit with a kink changed sides of it."""
        a, z = propagate(H, network, X, shift)
        off_piece = (piece(a) != base).any(axis=0)
        return loss.per_sample(stack_outputs(network, a), stack_outputs(network, z), T, groups), off_piece

    def central(perturbed):
        """Per sample: the central difference (Richardson-refined) and whether it crossed a kink."""
        steps = (eps, -eps, 2 * eps, -2 * eps) if richardson else (eps, -eps)
        losses, off_piece = zip(*(perturbed(step) for step in steps))
        difference = (losses[0] - losses[1]) / (2 * eps)  # eq. 5.69
        if richardson:
            difference = (4 * difference - (losses[2] - losses[3]) / (4 * eps)) / 3
        return difference, np.logical_or.reduce(off_piece)

    values, at_kink = [], []

    def compare(quantity, key, analytic, numeric, crossed):
        (at_kink if crossed else values).append(_compare(quantity, key, analytic, numeric, floor))

    for i, j in G.edges:
        w = G.edges[i, j][weight]

        def perturbed(step, edge=(i, j), w=w):
            H.edges[edge][weight] = w + step
            return sample_losses()

        numeric, crossed = central(perturbed)
        H.edges[i, j][weight] = w
        compare("weight", (i, j), result.grad_weight[(i, j)], numeric.sum(), crossed.any())
    for j, b in net.bias.items():
        numeric, crossed = central(lambda step: sample_losses(replace(net, bias={**net.bias, j: b + step})))
        compare("bias", j, result.grad_bias[j], numeric.sum(), crossed.any())
    for j in net.order:
        numeric, crossed = central(lambda step: sample_losses(shift={j: step}))
        analytic = np.atleast_1d(result.delta[j])
        for n in range(len(numeric)):
            compare("delta", (j, n), analytic[n], numeric[n], crossed[n])
    return GradientCheck(tuple(values), eps, richardson, scale_floor, tuple(at_kink))
