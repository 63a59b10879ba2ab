"""The work arrays of the compiled passes, and what a pass hands on.

:class:`Workspaces` keeps the (nodes, N) arrays a, z, δ between passes and
lends them to one pass at a time; a pass over a whole batch gives a
:class:`WholePass`, a streamed batch one :class:`Chunk` per chunk.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

__all__ = ["Chunk", "WholePass", "Workspaces"]

# Sets of work arrays kept for later passes (more only while passes run at once).
_KEPT_WORKSPACES = 4


@dataclass(slots=True)
class WholePass:
    """A pass over a whole batch: what :meth:`CompiledNetwork.backprop` and ``loss_and_gradient`` read.

    Attributes
    ----------
    work : numpy.ndarray
        (3, nodes, N): a, z and δ of every node and sample.
    gradient : numpy.ndarray
        ∂E/∂θ (order of :func:`graphbp.parameter_keys`), in the engine's dtype.
    sample_loss : numpy.ndarray
        E_n of each sample.
    total : float
        E = Σ_n E_n.
    loss : Loss
    single : bool
        Whether `x` was one sample given as a 1-D array.
    """

    work: np.ndarray
    gradient: np.ndarray
    sample_loss: np.ndarray
    total: float
    loss: object
    single: bool


@dataclass(slots=True)
class Chunk:
    """One chunk of a streamed batch (:meth:`CompiledNetwork._batches`): its first sample, a, z, E_n, δ, ∂E/∂w, ∂E/∂b."""

    start: int
    a: np.ndarray
    z: np.ndarray
    sample_loss: np.ndarray
    delta: np.ndarray
    grad_weight: np.ndarray
    grad_bias: np.ndarray


class Workspaces:
    """(nodes, N) work arrays a, z, δ kept between passes, lent to one pass at a time.

    Fresh pages cost a page fault each on first touch: on large graphs that is
    a sizeable part of a pass, so passes borrow their arrays from here and give
    them back. A set lent out is never lent again before it is given back, so
    passes running at once (threads, or two torch forwards before their
    backwards) never share arrays; the lock makes lending thread-safe.
    """

    def __init__(self, n_nodes: int, dtype):
        self.n_nodes, self.dtype = n_nodes, dtype
        self._free: list[list[np.ndarray]] = []
        self._lock = threading.Lock()

    def take(self, width: int) -> list[np.ndarray]:
        """Three (nodes, width) arrays a, z, δ: a set given back earlier, or new ones."""
        with self._lock:
            for k, arrays in enumerate(self._free):
                if arrays[0].shape[1] == width:
                    return self._free.pop(k)
        return [np.empty((self.n_nodes, width), dtype=self.dtype) for _ in range(3)]

    def give(self, arrays: list[np.ndarray]) -> None:
        """Take a set back for later passes (the oldest kept sets beyond a few are dropped)."""
        with self._lock:
            self._free.append(arrays)
            del self._free[:-_KEPT_WORKSPACES]

    @contextmanager
    def lent(self, width: int):
        arrays = self.take(width)
        try:
            yield arrays
        finally:
            self.give(arrays)

