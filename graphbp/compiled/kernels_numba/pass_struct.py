"""PassData: what the kernels need of a network besides its parameters, in one numba structref.

numba unboxes each array argument and typed list on every call; one
structref is unboxed in one step. :func:`pass_data` builds it by name from
every field of :data:`PASS_FIELDS`.
"""

from __future__ import annotations

from numba import types
from numba.experimental import structref

__all__ = ["PASS_FIELDS", "PassData", "pass_data"]


@structref.register
class _PassDataType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class PassData(structref.StructRefProxy):
    """What the kernels need of a network besides its parameters, in one object numba unboxes in one
    step (numba unboxes each array argument and typed list on every call): the row kernels of h and h',
    the CSR arrays the kernels run (a block plan's remaining edges, or
    all), the rows of the inputs, outputs and biases, the units in order, the segments of each
    direction and per segment the dense blocks whose products come in there (their rows, columns, and
    where their W_b and edge indices start in the flat ``matrices`` and ``entries``), and the address
    of the gemm for the work dtype (:data:`graphbp.compiled.blas.GEMM`). Made by :func:`pass_data`."""


PASS_FIELDS = ("functions", "derivatives", "unit_ptr", "codes", "pred_ptr", "pred_index", "succ_ptr",
               "succ_index", "succ_edge", "output_slot", "input_rows", "output_rows", "output_codes", "bias_rows",
               "max_unit", "units", "seeded_forward", "seeded_backward", "forward_segments", "forward_cut_ptr",
               "forward_cut_blocks", "backward_segments", "backward_cut_ptr", "backward_cut_blocks", "row_ptr",
               "row_index", "col_ptr", "col_index", "matrix_ptr", "entries", "gemm")  # fmt: skip
structref.define_proxy(PassData, _PassDataType, list(PASS_FIELDS))


def pass_data(**fields) -> PassData:
    """A :class:`PassData` from every one of :data:`PASS_FIELDS` by name."""
    if set(fields) != set(PASS_FIELDS):
        raise TypeError(f"PassData needs exactly the fields {PASS_FIELDS}; differs in {sorted(set(fields) ^ set(PASS_FIELDS))}")
    return PassData(*(fields[name] for name in PASS_FIELDS))

