"""Exceptions raised by graphbp.

One shallow tree, in the spirit of ``networkx.exception``: every error graphbp
raises on bad input is a :class:`GraphBPError`, which subclasses
:class:`ValueError`, and every message names the node, edge or shape at fault.
"""

__all__ = [
    "GraphBPError",
    "GraphStructureError",
    "ParameterError",
    "ActivationError",
    "ShapeError",
    "LossError",
    "SerializationError",
    "NumericalError",
]


class GraphBPError(ValueError):
    """Base class for every error graphbp raises on bad input."""


class GraphStructureError(GraphBPError):
    """The graph is not a valid network: a cycle, a self-loop, no inputs, ..."""


class ParameterError(GraphBPError):
    """A weight or bias is missing, not a number, or not finite."""


class ActivationError(GraphBPError):
    """An activation is unknown, malformed, or used where it cannot be."""


class ShapeError(GraphBPError):
    """An array (``x``, ``t``, a parameter vector) has the wrong shape or non-finite values."""


class LossError(GraphBPError):
    """A loss is unknown, or cannot be used with this network or these targets."""


class SerializationError(GraphBPError):
    """A network cannot be written (e.g. a custom activation object) or read back."""


class NumericalError(GraphBPError):
    """A pass produced NaN or inf (an overflow, or an activation undefined there); the node is named."""
