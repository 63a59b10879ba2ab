"""Save networks to JSON and read them back, exactly.

The file holds networkx's node-link layout (``nx.node_link_data(G,
edges="edges")``, readable with ``nx.node_link_graph(data, edges="edges")``) with
one extra graph attribute, ``"graphbp_format": 1``. A round trip keeps node
names of type str, int and tuple (JSON turns tuples into lists; they are turned
back, also inside ``G.graph["inputs"]`` and ``G.graph["outputs"]``), every
attribute, and the order of nodes, of each node's successors and of each node's
predecessors, so the forward and backward sums run in the same order and give
the same numbers. numpy scalars are saved as Python numbers and numpy arrays
(e.g. a per-node ``z`` written back by a pass) as lists, which is what comes back.

Plain networkx node-link data (``json.dump(nx.node_link_data(G), f)``, its
edges under ``"edges"`` or, as older networkx wrote, ``"links"``) is read too,
with a :class:`PlainNodeLinkWarning`: weights come from each edge's
``weight`` (an edge without one is named by :func:`graphbp.read_network`),
and a node without ``activation`` or ``bias`` gets graphbp's defaults
(identity for outputs, tanh for hidden units, bias 0). Such a file does not
record each node's predecessor order, so sums may run in another order than
in the network that was saved; :func:`write_json` keeps it.

Activations are saved by name. A custom :class:`~graphbp.activations.Activation`
object cannot be saved: register it with
:func:`graphbp.activations.register_activation` and set the node's
``activation`` to its name.

GraphML is not offered: it types attributes, but node names come back as
strings, so int and tuple names could not be told apart from str ones.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import os
import warnings
from pathlib import Path

import networkx as nx
import numpy as np

from .exceptions import SerializationError

__all__ = ["FORMAT_KEY", "FORMAT_VERSION", "PlainNodeLinkWarning", "to_json_data", "from_json_data", "write_json",
           "read_json"]

FORMAT_KEY = "graphbp_format"
FORMAT_VERSION = 1

_REAL = int | float | np.integer | np.floating


class PlainNodeLinkWarning(UserWarning):
    """A network was read from plain networkx node-link data, which has no ``"graphbp_format"`` key."""


def to_json_data(G: nx.DiGraph, *, weight: str = "weight") -> dict:
    """The network as a JSON-able node-link dict.

    Parameters
    ----------
    G : nx.DiGraph
        The network.
    weight : str, optional
        Edge attribute holding the weight; where present it must be a real
        number, saved as a float.

    Returns
    -------
    dict
        Node-link data: ``"directed"``, ``"multigraph"``, ``"graph"`` (with
        ``"graphbp_format"``), ``"nodes"`` and ``"edges"``, holding only str,
        int, float, bool, None, lists and dicts.

    Raises
    ------
    SerializationError
        If `G` is not an ``nx.DiGraph``, or an attribute (named with its node
        or edge) cannot be stored in JSON: an activation that is not a name, a
        weight that is not a number, a non-finite number, an attribute named
        like a node-link key, or a value of another type.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(inputs=[("x", 1)])
    >>> G.add_edge(("x", 1), "y", weight=0.5)
    >>> data = to_json_data(G)
    >>> data["graph"], data["edges"]
    ({'inputs': [['x', 1]], 'graphbp_format': 1}, [{'weight': 0.5, 'source': ['x', 1], 'target': 'y'}])
    """
    if not G.is_directed() or G.is_multigraph():
        raise SerializationError(f"a network is an nx.DiGraph, got {type(G).__name__}")
    return {
        "directed": True,
        "multigraph": False,
        "graph": {**_json_attributes(G.graph, "the graph"), FORMAT_KEY: FORMAT_VERSION},
        "nodes": [_json_item(G.nodes[v], f"node {v!r}", {"id": v}) for v in G],
        "edges": [
            _json_item(G.edges[u, v], f"edge {(u, v)!r}", {"source": u, "target": v}, weight)
            for u, v in _replay_order(G)
        ],
    }


def from_json_data(data) -> nx.DiGraph:
    """The network held in node-link data made by :func:`to_json_data` or by ``nx.node_link_data``.

    Parameters
    ----------
    data : dict
        Node-link data carrying ``"graphbp_format": 1`` in its graph
        attributes, or plain networkx node-link data of a directed graph (its
        edges under ``"edges"`` or ``"links"``).

    Returns
    -------
    nx.DiGraph
        The network, with lists turned back into tuples in node names, edge
        endpoints and ``G.graph["inputs"]`` / ``G.graph["outputs"]``.

    Raises
    ------
    SerializationError
        If `data` is not node-link data of a directed simple graph, or carries
        another version of graphbp's format.

    Warns
    -----
    PlainNodeLinkWarning
        For plain networkx data: it is read with the defaults of the module
        description, and without a recorded predecessor order.

    Examples
    --------
    >>> data = {"directed": True, "multigraph": False, "graph": {"graphbp_format": 1},
    ...         "nodes": [{"id": ["h", 1]}, {"id": "y", "bias": 0.1}],
    ...         "edges": [{"source": ["h", 1], "target": "y", "weight": 2.0}]}
    >>> G = from_json_data(data)
    >>> list(G.edges(data=True)), G.nodes["y"]
    ([(('h', 1), 'y', {'weight': 2.0})], {'bias': 0.1})
    """
    if not (isinstance(data, dict) and isinstance(data.get("graph", {}), dict)):
        raise SerializationError(f"not a network: expected node-link data, a JSON object whose 'graph' is an object "
                                 f"(graphbp's carries {FORMAT_KEY!r}); got {type(data).__name__}")
    graph = dict(data.get("graph", {}))
    plain = FORMAT_KEY not in graph
    if not plain:
        version = graph.pop(FORMAT_KEY)
        if version != FORMAT_VERSION:
            raise SerializationError(f"{FORMAT_KEY} is {version!r}; this graphbp reads format {FORMAT_VERSION}")
        edges_key = "edges"
    else:
        # networkx wrote "links" before 3.4 and "edges" since; graphbp's own format says "edges".
        edges_key = "links" if "links" in data and "edges" not in data else "edges"
    if data.get("directed") is not True or data.get("multigraph", False) is not False:
        raise SerializationError("not a network: node-link data of a directed graph, not a multigraph, is needed")
    for role in ("inputs", "outputs"):
        if role in graph:
            if not isinstance(graph[role], list):
                raise SerializationError(f"graph attribute {role!r} must be a list of nodes: {graph[role]!r}")
            graph[role] = [_as_node(v, f"graph[{role!r}][{k}]") for k, v in enumerate(graph[role])]
    nodes = [
        {**item, "id": _as_node(item["id"], f"nodes[{k}]['id']")}
        for k, item in enumerate(_items(data, "nodes", {"id"}))
    ]
    edges = [
        {**item, **{end: _as_node(item[end], f"{edges_key}[{k}][{end!r}]") for end in ("source", "target")}}
        for k, item in enumerate(_items(data, edges_key, {"source", "target"}))
    ]
    G = nx.node_link_graph({"directed": True, "multigraph": False, "graph": graph, "nodes": nodes, "edges": edges},
                           edges="edges")
    if plain:
        warnings.warn(
            f"plain networkx node-link data (no {FORMAT_KEY!r}): weights read from each edge's 'weight'; a node "
            "without 'activation' or 'bias' gets identity (outputs) or tanh (hidden) and bias 0; "
            "graphbp.io.write_json saves it in graphbp's format",
            PlainNodeLinkWarning, stacklevel=2,
        )
    return G


def write_json(G: nx.DiGraph, path: str | os.PathLike, *, weight: str = "weight") -> None:
    """Save the network to a JSON file (see :func:`to_json_data`).

    Parameters
    ----------
    G : nx.DiGraph
        The network.
    path : str or path-like
        The file to write; nothing is written if `G` cannot be saved.
    weight : str, optional
        Edge attribute holding the weight.

    Raises
    ------
    SerializationError
        If `G` cannot be saved (see :func:`to_json_data`) or the file cannot be
        written.

    Examples
    --------
    >>> import os, tempfile
    >>> from graphbp.generators import mlp
    >>> G = mlp([2, 3, 1], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "net.json")
    >>> write_json(G, path)
    >>> H = read_json(path)
    >>> list(H.edges(data=True)) == list(G.edges(data=True)) and H.graph == G.graph
    True
    """
    text = json.dumps(to_json_data(G, weight=weight), allow_nan=False)
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SerializationError(f"{os.fspath(path)!r}: cannot write: {exc.strerror}") from exc


def read_json(path: str | os.PathLike) -> nx.DiGraph:
    """Read a network saved by :func:`write_json`, or plain networkx node-link data (see :func:`from_json_data`).

    Parameters
    ----------
    path : str or path-like
        The file to read.

    Returns
    -------
    nx.DiGraph

    Raises
    ------
    SerializationError
        If the file cannot be read, is not JSON (the message gives line and
        column), or does not hold a network (see :func:`from_json_data`).
        Every message starts with the path.

    Warns
    -----
    PlainNodeLinkWarning
        For plain networkx node-link data (see :func:`from_json_data`).

    Examples
    --------
    >>> read_json("no/such/net.json")
    Traceback (most recent call last):
    ...
    graphbp.exceptions.SerializationError: 'no/such/net.json': cannot read: No such file or directory
    """
    where = repr(os.fspath(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SerializationError(f"{where}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SerializationError(f"{where}: not a UTF-8 text file") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        place = f"line {exc.lineno}, column {exc.colno}"
        raise SerializationError(f"{where}: malformed JSON at {place}: {exc.msg}") from exc
    try:
        return from_json_data(data)
    except SerializationError as exc:
        raise SerializationError(f"{where}: {exc}") from exc


def _replay_order(G: nx.DiGraph) -> list[tuple]:
    """The edges in an order whose replay rebuilds both successor and predecessor orders.

    The order is ``G.edges`` order wherever that is free. ``G.edges`` follows
    successor order only, but the forward pass sums over predecessors (eq. 5.48)
    and the backward pass over successors (eq. 5.56): keeping both orders keeps
    every floating-point sum bit for bit. Both orders are suborders of the edges'
    insertion order, so Kahn's algorithm finds one.
    """
    edges = list(G.edges)
    position = {edge: index for index, edge in enumerate(edges)}
    # followers[i]: the edges next after edge i in its source's successors and in its
    # target's predecessors; blockers[i]: how many such edges edge i still waits for.
    followers = [[] for _ in edges]
    blockers = [0] * len(edges)
    for v in G:
        for chain in ([position[v, w] for w in G.succ[v]], [position[u, v] for u in G.pred[v]]):
            for first, second in itertools.pairwise(chain):
                followers[first].append(second)
                blockers[second] += 1
    ready = [index for index, count in enumerate(blockers) if count == 0]
    order = []
    while ready:
        index = heapq.heappop(ready)
        order.append(edges[index])
        for follower in followers[index]:
            blockers[follower] -= 1
            if not blockers[follower]:
                heapq.heappush(ready, follower)
    return order


def _json_item(attrs: dict, where: str, keys: dict, weight: str | None = None) -> dict:
    """A node-link entry: the JSON attributes plus the node-link `keys` (``id`` or ``source``/``target``)."""
    clash = keys.keys() & attrs.keys()
    if clash:
        raise SerializationError(f"{where}: attribute {clash.pop()!r} is a node-link key; rename it")
    if weight in attrs and (isinstance(attrs[weight], bool) or not isinstance(attrs[weight], _REAL)):
        raise SerializationError(f"{where}: {weight!r} must be a number, got {attrs[weight]!r}")
    item = _json_attributes(attrs, where)
    item.update((key, _json_value(value, where, "its name")) for key, value in keys.items())
    if weight in item:
        item[weight] = float(item[weight])
    return item


def _json_attributes(attrs: dict, where: str) -> dict:
    """A copy of `attrs` with every value made JSON-able; errors name `where` and the attribute."""
    json_attrs = {}
    for key, value in attrs.items():
        if not isinstance(key, str):
            raise SerializationError(f"{where}: attribute name {key!r} is not a string")
        if key == "activation" and not isinstance(value, str):
            raise SerializationError(
                f"{where}: activation {value!r} is not a name, and only names can be saved; register it "
                "with graphbp.activations.register_activation(name, h, h_prime) and set activation=name"
            )
        json_attrs[key] = _json_value(value, where, f"attribute {key!r}")
    return json_attrs


def _json_value(value, where: str, what: str):
    """`value` as str, int, float, bool, None, list or dict; tuples and arrays become lists."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            raise SerializationError(f"{where}: {what} holds {value!r}; JSON holds finite numbers only")
        return float(value)
    if isinstance(value, np.ndarray):
        return _json_value(value.tolist(), where, what)
    if isinstance(value, list | tuple):
        return [_json_value(item, where, what) for item in value]
    if isinstance(value, dict):
        return _json_attributes(value, f"{where}, {what}")
    raise SerializationError(f"{where}: {what} is a {type(value).__name__} ({value!r}), which JSON cannot hold")


def _as_node(value, where: str):
    """A node name read from JSON at `where`: lists become tuples, recursively; null and objects are refused."""
    if value is None:  # networkx: "None cannot be a node"
        raise SerializationError(f"{where} is null, which cannot name a node")
    return _name_part(value, where)


def _name_part(value, where: str):
    if isinstance(value, dict):
        raise SerializationError(f"{where}: a node name cannot hold a JSON object: {value!r}")
    return tuple(_name_part(item, where) for item in value) if isinstance(value, list) else value


def _items(data: dict, section: str, keys: set[str]) -> list[dict]:
    """The ``"nodes"`` or ``"edges"`` list of node-link `data`, each entry checked to carry `keys`."""
    items = data.get(section)
    if not (isinstance(items, list) and all(isinstance(item, dict) and keys <= item.keys() for item in items)):
        shape = f"a list of objects with keys {sorted(keys)}"
        raise SerializationError(f"not a node-link network: {section!r} must be {shape}")
    return items
