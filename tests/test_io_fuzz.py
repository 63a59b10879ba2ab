"""Fuzzing the loaders: a spoiled node-link document gives a graphbp error, never a deep traceback.

Hypothesis starts from documents written by ``to_json_data`` and spoils them:
keys deleted, values replaced by JSON values of any type (nulls, huge integers,
NaN, inf, nested lists and objects), entries appended. ``from_json_data`` and
``read_json`` either raise :class:`SerializationError` or return a graph; what
they return then goes through ``read_network``, ``forward`` and ``backprop``,
where only :class:`GraphBPError` may escape.
"""

import copy
import json
import math
import os
import tempfile

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphbp import GraphBPError, SerializationError, backprop, forward, irregular_network, read_network
from graphbp.generators import from_edges
from graphbp.io import FORMAT_KEY, from_json_data, read_json, to_json_data
from derivative_graphs import softmax_network

DOCUMENTS = [
    to_json_data(irregular_network()),
    to_json_data(softmax_network()),
    to_json_data(from_edges([(("in", 0), 1), (1, ("out", "a")), (("in", 0), ("out", "a"))], seed=0)),
]

HUGE = [10**400, -(10**400), 1e308, -1e308, math.nan, math.inf, -math.inf, 0, -1, 2**63]
scalars = st.one_of(
    st.none(), st.booleans(), st.sampled_from(HUGE), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4), st.sampled_from(["softmax", "tanh", "relu", "x1", "y1", "h1", FORMAT_KEY, "id"]),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def _places(document):
    """Every (container, key) in a document: dict keys and list indices, recursively."""
    places, stack = [], [document]
    while stack:
        container = stack.pop()
        keys = list(container) if isinstance(container, dict) else range(len(container))
        for key in keys:
            places.append((container, key))
            if isinstance(container[key], (dict, list)):
                stack.append(container[key])
    return places


@st.composite
def spoiled_documents(draw):
    document = copy.deepcopy(draw(st.sampled_from(DOCUMENTS)))
    for _ in range(draw(st.integers(1, 3))):
        places = _places(document)
        container, key = places[draw(st.integers(0, len(places) - 1))]
        action = draw(st.sampled_from(["delete", "replace", "append"]))
        if action == "delete" and isinstance(container, dict):
            del container[key]
        elif action == "append" and isinstance(container[key], list):
            container[key].append(draw(json_values))
        else:
            container[key] = draw(json_values)
    return document


def _passes(G):
    """What a user does next with a loaded graph; only graphbp errors may come out."""
    try:
        net = read_network(G)
    except GraphBPError:
        return
    X = np.linspace(-1.0, 1.0, 2 * len(net.inputs)).reshape(2, -1)
    for run in (lambda: forward(G, X), lambda: backprop(G, X, np.zeros((2, len(net.outputs))))):
        try:
            run()
        except GraphBPError:
            pass


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(spoiled_documents())
def test_from_json_data_raises_only_graphbp_errors(document):
    try:
        G = from_json_data(document)
    except SerializationError:
        return
    assert isinstance(G, nx.DiGraph)
    _passes(G)


@settings(max_examples=40, deadline=None)
@given(spoiled_documents())
def test_read_json_raises_only_graphbp_errors(document):
    handle, path = tempfile.mkstemp(suffix=".json")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(document, file)  # NaN and Infinity written as JSON's common extension
        try:
            G = read_json(path)
        except SerializationError as err:
            assert str(err).startswith(repr(path))
            return
        _passes(G)
    finally:
        os.remove(path)


@pytest.mark.parametrize(
    ("spoil", "culprit"),
    [
        (lambda d: d["nodes"][0].update(id=None), r"nodes\[0\]\['id'\] is null"),
        (lambda d: d["edges"][1].update(source=None), r"edges\[1\]\['source'\] is null"),
        (lambda d: d["edges"][0].update(target=None), r"edges\[0\]\['target'\] is null"),
        (lambda d: d["graph"].update(inputs=[None]), r"graph\['inputs'\]\[0\] is null"),
        (lambda d: d["nodes"][2].update(id=[["a"], {"b": 1}]), r"nodes\[2\]\['id'\].*JSON object"),
        (lambda d: d["nodes"][2].update(bias=10**400), r"node 'h1' has bias 1000.*finite number"),
        (lambda d: d["edges"][0].update(weight=-(10**400)), r"edge \('x1', 'h1'\) has weight -1000.*finite number"),
        (lambda d: d["nodes"][-1].update(activation="softmax", softmax_group=[1]),
         r"node 'y2': softmax_group \[1\] is not hashable"),
    ],
)
def test_each_bad_value_is_named(spoil, culprit):
    """The errors the fuzzing found: null names (networkx's "None cannot be a node") and unusable values."""
    document = copy.deepcopy(DOCUMENTS[0])
    spoil(document)
    with pytest.raises(GraphBPError, match=culprit):
        G = from_json_data(document)
        read_network(G)
