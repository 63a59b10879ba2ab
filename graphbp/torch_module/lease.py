"""Buffers lent to one pass: given back when the pass's autograd graph lets go of them."""

from __future__ import annotations

__all__ = ["Lease"]


class Lease:
    """Buffers borrowed from a pool, given back when the lease is dropped: after the pass's
    backward, or when its autograd graph is freed without one."""

    def __init__(self, give, value):
        self.give, self.value = give, value

    def __del__(self):
        self.give(self.value)
