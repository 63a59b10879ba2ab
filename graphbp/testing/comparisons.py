"""Comparing two engines' results quantity by quantity: E, E_n, y, every a_j, z_j, δ_j, ∂E/∂w, ∂E/∂b.

:func:`assert_results_close` compares two :class:`~graphbp.BackpropResult`;
:func:`quantities` and :func:`compare_all` are its steps, which
:func:`~graphbp.testing.assert_engines_agree` runs on every engine's passes.
"""

from __future__ import annotations

import numpy as np

from ..backward import BackpropResult

__all__ = ["assert_results_close", "compare_all", "quantities"]


def _compare(label: str, symbol: str, kind: str, expected: dict, actual: dict, rtol: float) -> None:
    """Raise AssertionError unless every actual[key] equals expected[key] to rtol × the largest |expected|.

    NaN or inf counts as a difference; the message names `label` (the engine),
    the quantity, the key and sample, and both numbers.
    """
    if set(actual) != set(expected):
        missing, extra = [k for k in expected if k not in actual], [k for k in actual if k not in expected]
        raise AssertionError(
            f"{label}: {symbol} has other {kind}s than the reference: missing {missing[:5]!r}, extra {extra[:5]!r}"
        )
    expected = {key: np.asarray(value, dtype=float) for key, value in expected.items()}
    scale = max((float(np.abs(value).max(initial=0.0)) for value in expected.values()), default=0.0)
    limit = rtol * max(scale, np.finfo(float).tiny)
    worst = None
    for key, theirs in expected.items():
        ours = np.asarray(actual[key], dtype=float)
        if ours.shape != theirs.shape:
            raise AssertionError(
                f"{label}: {symbol} of {kind} {key!r} has shape {ours.shape}, the reference's {theirs.shape}"
            )
        with np.errstate(invalid="ignore"):
            difference = np.nan_to_num(np.abs(ours - theirs), nan=np.inf)
        where = np.unravel_index(np.argmax(difference), difference.shape) if difference.size else ()
        if difference.size and not difference[where] <= limit and (worst is None or difference[where] > worst[0]):
            worst = (difference[where], key, where, ours[where], theirs[where])
    if worst is not None:
        difference, key, where, ours, theirs = worst
        place = f" of {kind} {key!r}" if kind else ""
        sample = f", sample {where[0]}" if where else ""
        raise AssertionError(
            f"{label}: {symbol}{place}{sample} is {float(ours)!r}, the reference's {float(theirs)!r} "
            f"(difference {difference:.3g} > rtol {rtol:g} x {scale:.3g}, the largest |{symbol}| of the reference)"
        )


def quantities(result) -> dict:
    """symbol -> (key kind, {key: value}) of a BackpropResult (or of a ForwardResult: y, a, z)."""
    y = np.asarray(result.y)
    backward = isinstance(result, BackpropResult)
    return {
        **({"E": ("", {"E": result.loss}), "E_n": ("", {"E_n": result.sample_loss})} if backward else {}),
        "y": ("output", {k: y[..., column] for column, k in enumerate(result.outputs)}),
        "a": ("node", dict(result.a)),
        "z": ("node", dict(result.z)),
        **({
            "δ": ("node", dict(result.delta)),
            "∂E/∂w": ("edge", dict(result.grad_weight)),
            "∂E/∂b": ("node", dict(result.grad_bias)),
        } if backward else {}),
    }  # fmt: skip


def compare_all(label: str, expected: dict, actual: dict, rtol: float) -> None:
    """Compare each quantity of `actual` (as :func:`quantities` gives) with `expected`'s: an AssertionError if not close."""
    for symbol, (kind, values) in actual.items():
        _compare(label, symbol, kind, expected[symbol][1], values, rtol)


def assert_results_close(result, reference, *, rtol: float = 1e-12, label: str = "result") -> None:
    """Assert two :class:`~graphbp.BackpropResult` hold the same E, E_n, y, and every a, z, δ, ∂E/∂w, ∂E/∂b.

    Each quantity is compared relative to its largest magnitude in
    `reference` (a sum of N terms rounds relative to the terms, so a value
    near 0 is held to the scale of its kind, not to itself).

    Parameters
    ----------
    result, reference : BackpropResult
        As from :func:`graphbp.backprop` or a compiled engine.
    rtol : float, default 1e-12
        The tolerance, relative to each quantity's largest magnitude.
    label : str, default "result"
        How the error message names `result`.

    Raises
    ------
    AssertionError
        Naming the quantity, the node or edge (and sample) that differs most,
        and both numbers; or a different loss, or different keys.

    Examples
    --------
    >>> import graphbp
    >>> G = graphbp.bishop_network()
    >>> reference = graphbp.backprop(G, [[1.0, 0.0]], [[0.5, 0.0]])
    >>> compiled = graphbp.compile(G, backend="numpy")
    >>> assert_results_close(compiled.backprop([[1.0, 0.0]], [[0.5, 0.0]]), reference)
    >>> assert_results_close(graphbp.backprop(G, [[1.0, 0.1]], [[0.5, 0.0]]), reference)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: result: E is 0.1292..., the reference's 0.1315... (difference 0.00226 > rtol 1e-12 x 0.132, ...
    """
    if result.loss_name != reference.loss_name:
        raise AssertionError(f"{label}: loss {result.loss_name!r}, the reference's {reference.loss_name!r}")
    compare_all(label, quantities(reference), quantities(result), rtol)
