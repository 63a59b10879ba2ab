"""The ``engine=`` choice, above both engines: the reference never imports the compiled one.

Dependencies point down: :mod:`graphbp.backward` (the reference) and
:mod:`graphbp.compiled` both sit below this module, and only this module
knows both.
"""

from __future__ import annotations

from .backward import BackpropResult
from .backward import backprop as reference_backprop
from .exceptions import GraphBPError

__all__ = ["ENGINES", "backprop"]

ENGINES = ("compiled", "reference")


def backprop(G, x, t, loss="sum_of_squares", weight: str = "weight", engine: str = "reference") -> BackpropResult:
    """Error, every δ_j and every gradient of a network, by backpropagation, with a choice of engine.

    Parameters
    ----------
    G : networkx.DiGraph
        The network (see :func:`graphbp.read_network` for the attributes read).
    x : array_like
        Inputs, shape (N, number of inputs); or 1-D for one sample, in which
        case per-node values are plain floats.
    t : array_like
        Targets, shape (N, number of outputs), or 1-D with a 1-D `x`.
    loss : str, default "sum_of_squares"
        ``"sum_of_squares"`` (``"sse"``), ``"binary_cross_entropy"``
        (``"bce"``, logistic outputs) or ``"cross_entropy"`` (``"ce"``,
        softmax outputs).
    weight : str, default "weight"
        Edge attribute holding the weight w_ji.
    engine : {"reference", "compiled"}, default "reference"
        ``"reference"``: :func:`graphbp.backward.backprop`, the equations as
        written. ``"compiled"`` runs the same maths through :func:`graphbp.compile`
        (flat arrays, numba when installed); it pays a one-off compile per
        call, so reuse ``graphbp.compile(G)`` when calling repeatedly.

    Returns
    -------
    BackpropResult
        ``loss``, ``a``, ``z``, ``delta``, ``grad_weight``, ``grad_bias``, ``y``...

    Raises
    ------
    GraphBPError
        An unknown `engine`, an invalid network, `x`/`t` of the wrong shape or
        with NaN/inf, an unknown loss, a loss the outputs or targets do not
        fit, or a pass that produced NaN/inf
        (:class:`~graphbp.exceptions.NumericalError`, naming the node, or the
        sample whose E_n overflowed, or saying that E = Σ_n E_n did).

    Examples
    --------
    >>> import graphbp
    >>> G = graphbp.irregular_network()
    >>> r = backprop(G, [1.0, 0.0], [0.0, 1.0])
    >>> through = sum(G.edges["h1", k]["weight"] * r.delta[k] for k in G.successors("h1"))   # eq. 5.56
    >>> bool(abs(r.delta["h1"] - (1 - r.z["h1"] ** 2) * through) < 1e-15)
    True
    >>> G = graphbp.bishop_network()
    >>> r = backprop(G, [1.0, 0.0], [0.0, 0.0], engine="compiled")
    >>> abs(r.loss - backprop(G, [1.0, 0.0], [0.0, 0.0]).loss) < 1e-15
    True
    """
    if engine == "reference":
        return reference_backprop(G, x, t, loss=loss, weight=weight)
    if engine == "compiled":
        from .compiled import compile_network

        return compile_network(G, weight=weight).backprop(x, t, loss=loss)
    raise GraphBPError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
