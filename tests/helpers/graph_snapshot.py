"""A graph that raised must be the graph it was: :func:`unchanged` checks it around a failing call.

    with unchanged(G), pytest.raises(ShapeError, match="..."):
        backprop(G, x, t)

The snapshot holds the graph attributes, every node with its attributes, every
edge with its attributes, and the order of each node's successors and
predecessors (the order the sums of eqs. 5.48 and 5.56 run in). Values are
compared by their repr (NaN equals NaN, an array by its dtype and entries), so
a bad value left as it was counts as unchanged and a value replaced by an equal
one of another type does not.
"""

from contextlib import contextmanager

import numpy as np


def _frozen(value):
    """A comparable, immutable picture of an attribute value."""
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.shape, repr(value.tolist()))
    if isinstance(value, dict):
        return ("dict", tuple((repr(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(map(repr, value)) if isinstance(value, (set, frozenset)) else [_frozen(v) for v in value]
        return (type(value).__name__, tuple(items))
    return (type(value).__name__, repr(value))


def snapshot(G) -> dict:
    """Everything of `G` a graphbp call could change, in comparable form."""
    return {
        "type": type(G).__name__,
        "graph": _frozen(G.graph),
        "nodes": tuple((repr(n), _frozen(data)) for n, data in G.nodes(data=True)),
        "edges": tuple((repr(i), repr(j), _frozen(data)) for i, j, data in G.edges(data=True)),
        "successors": tuple((repr(n), tuple(map(repr, G.adj[n]))) for n in G),
        "predecessors": tuple((repr(n), tuple(map(repr, (G.pred if G.is_directed() else G.adj)[n]))) for n in G),
    }


def assert_same_graph(before: dict, after: dict) -> None:
    """Name the first part of the graph that differs."""
    for part in before:
        if before[part] != after[part]:
            old, new = before[part], after[part]
            if isinstance(old, tuple) and isinstance(new, tuple) and len(old) == len(new):
                old, new = next((o, n) for o, n in zip(old, new) if o != n)
            raise AssertionError(f"the graph's {part} changed: {old!r} became {new!r}")


@contextmanager
def unchanged(*graphs):
    """Check, however the block ends (an exception included), that each graph is as it was."""
    before = [snapshot(G) for G in graphs]
    try:
        yield
    finally:
        for G, old in zip(graphs, before):
            assert_same_graph(old, snapshot(G))
