"""The compiled engine's results: per-node and per-edge values as views of the pass's arrays, made in O(1).

:class:`ArrayMapping` reads one row (or entry) of an array per key;
:class:`CompiledResult` is the :class:`~graphbp.BackpropResult` of a
compiled pass, whose mappings are made when first read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property

import numpy as np

from ..backward import BackpropResult
from ..network import Network
from ..wiring import Wiring
from .workspaces import WholePass

__all__ = ["ArrayMapping", "CompiledResult"]


class ArrayMapping(Mapping):
    """A read-only mapping key -> ``array[index[key]]``, built in O(1) over a shared index.

    The compiled engine returns its per-node and per-edge results this way, so
    a result for 400k edges costs no dict construction; ``dict(mapping)`` makes
    a plain dict when wanted. With ``scalar=True`` the values are floats
    (rows of one number, as from a one-sample batch, included).
    """

    __slots__ = ("_array", "_index", "_scalar")

    def __init__(self, index: dict, array: np.ndarray, scalar: bool = False):
        self._index, self._array, self._scalar = index, array, scalar

    def __getitem__(self, key):
        value = self._array[self._index[key]]
        return value.item() if self._scalar else value

    def __iter__(self) -> Iterator:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        shown = ", ".join(f"{key!r}: {self[key]!r}" for key in list(self._index)[:3])
        return f"ArrayMapping({{{shown}{', ...' if len(self) > 3 else ''}}})"



class CompiledResult(BackpropResult):
    """The :class:`~graphbp.BackpropResult` of a compiled pass, made in O(1).

    Its ``a``, ``z``, ``delta``, ``grad_weight`` and ``grad_bias`` are
    :class:`ArrayMapping` views of the pass's arrays and ``y`` a copy of the
    outputs' rows, made on first use: on one sample of a tiny network, making
    them costs more than the pass.
    """

    @classmethod
    def of_pass(cls, network: Network, wiring: Wiring, bias_index: dict, passed: WholePass) -> CompiledResult:
        """The result of a pass over `wiring`: `network` the reading it carries (its fingerprint that of the
        parameters the pass used), `bias_index` each node with a bias -> its entry of ∂E/∂b."""
        result = object.__new__(cls)
        # Not the frozen dataclass's __init__, which sets each field through object.__setattr__ (a call
        # per field): the plain fields in one update; the mappings come from `_pass` when read (cached_property
        # writes __dict__ too). dataclasses.replace still works: it calls __init__ with every field.
        result.__dict__.update(
            inputs=network.inputs,
            outputs=network.outputs,
            loss=passed.total,
            sample_loss=passed.total if passed.single else passed.sample_loss,  # E = E_n for one sample
            loss_name=passed.loss.name,
            network=network,
            _pass=(wiring, bias_index, passed.work, passed.gradient, passed.single),
        )
        return result

    @cached_property
    def y(self) -> np.ndarray:
        wiring, _, work, _, single = self._pass
        y = work[1][wiring.output_rows].T.copy()
        return y[0] if single else y

    def _mapping(self, row: int) -> ArrayMapping:
        wiring, _, work, _, single = self._pass
        return ArrayMapping(wiring.position, work[row], scalar=single)

    @cached_property
    def a(self) -> ArrayMapping:
        return self._mapping(0)

    @cached_property
    def z(self) -> ArrayMapping:
        return self._mapping(1)

    @cached_property
    def delta(self) -> ArrayMapping:
        return self._mapping(2)

    @cached_property
    def grad_weight(self) -> ArrayMapping:
        wiring, _, _, gradient, _ = self._pass
        return ArrayMapping(wiring.edge_index, gradient[: wiring.n_edges], scalar=True)

    @cached_property
    def grad_bias(self) -> ArrayMapping:
        wiring, bias_index, _, gradient, _ = self._pass
        return ArrayMapping(bias_index, gradient[wiring.n_edges :], scalar=True)

