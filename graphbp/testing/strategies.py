"""hypothesis strategies drawing valid networks (irregular DAGs, odd node names, every loss) and batches for them.

:func:`networks` draws a network together with a loss its outputs fit (its
random DAG built by :func:`random_network`), :func:`inputs` a batch of
inputs and targets for a network and loss. hypothesis is imported when a
strategy is made, not with this module.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from ..activations import SOFTMAX, get_activation
from ..exceptions import ActivationError, GraphBPError
from ..losses import get_loss
from ..network import read_network
from .engines import BUILT_IN_LOSSES

__all__ = ["inputs", "networks"]

# Built-in element-wise activations (the table's names, "sigmoid" being logistic's alias) and softmax.
_DEFAULT_ACTIVATIONS = ("identity", "tanh", "logistic", "relu", "leaky_relu", "softplus", SOFTMAX)


def _strategies():
    """hypothesis.strategies, or an ImportError saying how to install it (an optional dependency)."""
    try:
        from hypothesis import strategies
    except ImportError:
        raise ImportError("graphbp.testing's strategies need hypothesis: pip install hypothesis") from None
    return strategies



def networks(
    min_nodes: int = 2,
    max_nodes: int = 10,
    activations=None,
    losses=("sse", "bce", "ce"),
    *,
    max_inputs: int = 3,
    max_outputs: int = 3,
    dead_ends: bool = True,
    weight_scale: float = 1.0,
):
    """A hypothesis strategy drawing valid networks, each with a loss it fits: pairs ``(G, loss)``.

    Each ``G`` is a random DAG of `min_nodes` to `max_nodes` nodes (inputs
    included) with 1 to `max_inputs` inputs and 1 to `max_outputs` outputs,
    whose node names mix ints, strings and tuples. Every unit has at least
    one predecessor; edges skip levels (inputs may feed outputs directly),
    outputs may feed other units and, with `dead_ends`, some hidden units
    reach no output. Inputs and outputs are listed in ``G.graph`` in a random
    order (always when the structure needs it, e.g. a dead end; otherwise
    sometimes, leaving graphbp's defaults), and nodes are added in an order
    other than the topological one. Weights are normal with standard
    deviation ``weight_scale / sqrt(fan-in)``, biases normal (some left at
    the default 0), so units seldom saturate.

    The pair is drawn together because the loss decides the outputs'
    activations: ``"bce"`` networks have logistic outputs, ``"ce"`` networks
    softmax groups of two or more outputs (never an output feeding a member of
    its own group), ``"sse"`` networks any element-wise activation of
    `activations` on their outputs.

    Parameters
    ----------
    min_nodes, max_nodes : int, default 2 and 10
        Bounds on the number of nodes, inputs included.
    activations : sequence, optional
        Activations drawn for the hidden units and for ``"sse"`` outputs:
        names from :func:`graphbp.activation_names` or
        :class:`graphbp.Activation` objects (numba-compilable or not).
        ``"softmax"`` may be listed; it is used only on ``"ce"`` outputs,
        which are always softmax. Default: every built-in activation. A unit
        is sometimes left without an ``activation`` attribute when its
        default (tanh hidden, identity output) is in the list.
    losses : sequence of str, default ("sse", "bce", "ce")
        The losses drawn from, as named to :func:`graphbp.get_loss`; the
        drawn loss is returned as given here.
    max_inputs, max_outputs : int, default 3
        Bounds on the number of inputs and outputs (a ``"ce"`` network has
        at least two outputs, so ``"ce"`` needs ``max_outputs >= 2``).
    dead_ends : bool, default True
        Let hidden units that reach no output occur (their δ is 0). With
        False, a unit that the softmax rule leaves nothing to feed is
        dropped, so a ``"ce"`` network may have fewer than `min_nodes` nodes.
    weight_scale : float, default 1.0
        Scale of the random weights.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Drawing ``(G, loss)``: an ``nx.DiGraph`` that :func:`graphbp.read_network`
        accepts and a loss name from `losses` its outputs fit.

    Raises
    ------
    ImportError
        If hypothesis is not installed.
    GraphBPError
        Bounds that no valid network meets (e.g. ``max_nodes < 2``, or
        ``"ce"`` with fewer than 3 nodes or 2 outputs), an unknown loss
        (:class:`~graphbp.LossError`) or activation (:class:`~graphbp.ActivationError`),
        or no element-wise activation in `activations`.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> import graphbp
    >>> @settings(max_examples=5, deadline=None)
    ... @given(networks(max_nodes=6, losses=["bce"]))
    ... def test_outputs_are_logistic(case):
    ...     G, loss = case
    ...     net = graphbp.read_network(G)
    ...     assert loss == "bce" and all(net.activation[k].name == "logistic" for k in net.outputs)
    >>> test_outputs_are_logistic()
    """
    st = _strategies()
    activations = list(_DEFAULT_ACTIVATIONS if activations is None else activations)
    elementwise = [spec for spec in activations if not (isinstance(spec, str) and spec == SOFTMAX)]
    for spec in elementwise:
        get_activation(spec)  # an unknown name or a malformed object fails here, not inside a test
    if not elementwise:
        raise ActivationError(
            "networks() needs at least one element-wise activation (softmax is for 'ce' outputs only)"
        )
    losses = list(losses)
    if not losses:
        raise GraphBPError("networks() needs at least one loss")
    kinds = {loss: get_loss(loss).name for loss in losses}
    if any(kind not in BUILT_IN_LOSSES for kind in kinds.values()):
        raise GraphBPError("networks() draws built-in losses only ('sse', 'bce', 'ce' or their long names)")
    if not 2 <= min_nodes <= max_nodes:
        raise GraphBPError(
            f"networks() needs 2 <= min_nodes <= max_nodes, got min_nodes={min_nodes}, max_nodes={max_nodes}"
        )
    if max_inputs < 1 or max_outputs < 1:
        raise GraphBPError(f"networks() needs max_inputs and max_outputs >= 1, got {max_inputs} and {max_outputs}")
    if "cross_entropy" in kinds.values() and (max_nodes < 3 or max_outputs < 2):
        raise GraphBPError(
            "a 'ce' network has softmax groups of two or more outputs: it needs max_nodes >= 3 and max_outputs >= 2"
        )
    names = {spec for spec in elementwise if isinstance(spec, str)}  # a default may stand in only for these

    @st.composite
    def draw_network(draw):
        loss = draw(st.sampled_from(losses))
        kind = kinds[loss]
        least_outputs = 2 if kind == "cross_entropy" else 1
        n_in = draw(st.integers(1, min(max_inputs, max_nodes - least_outputs)))
        n_out = draw(st.integers(least_outputs, max(least_outputs, min(max_outputs, max_nodes - n_in))))
        n_hidden = draw(st.integers(max(0, min_nodes - n_in - n_out), max_nodes - n_in - n_out))
        nodes = draw(st.lists(_node_names(st), min_size=n_in + n_hidden + n_out, max_size=n_in + n_hidden + n_out,
                              unique=True))  # fmt: skip
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        G = _random_network(rng, nodes, n_in, n_out, kind, elementwise, names, dead_ends, weight_scale)
        return G, loss

    return draw_network()


def _node_names(st):
    """Hashable node names of several types: ints, short strings (unicode and spaces too), tuples."""
    return st.one_of(
        st.integers(-40, 40),
        st.text(alphabet="abxyhδ_ 0", min_size=1, max_size=3),
        st.tuples(st.sampled_from(["h", "x", "y"]), st.integers(0, 9)),
    )


def _random_network(rng, nodes, n_in, n_out, kind, elementwise, names, dead_ends, weight_scale) -> nx.DiGraph:
    """The network of one draw of :func:`networks`: `nodes` in topological order, the first `n_in` the inputs."""
    input_nodes, interior = nodes[:n_in], nodes[n_in:]
    # Outputs anywhere after the inputs, so some feed later units; the last node closes the order
    # as an output unless dead ends may occur (a hidden unit there feeds nothing).
    slots = sorted(rng.choice(len(interior), size=n_out, replace=False).tolist())
    if not dead_ends or rng.random() < 0.5:
        slots[-1] = len(interior) - 1
    outputs = [interior[k] for k in slots]
    output_set = set(outputs)
    group_of = {}
    if kind == "cross_entropy":  # groups of two or more: a group of one has y = 1, so E and every gradient are 0
        split = int(rng.integers(2, n_out - 1)) if n_out >= 4 and rng.random() < 0.5 else n_out
        labels = [("g", 0), "g1"] if rng.random() < 0.5 else [0, 1]
        group_of = {k: labels[position >= split] for position, k in enumerate(outputs)}
        labelled = split < n_out or rng.random() < 0.7  # one group may leave softmax_group unset (its default)
    # The softmax groups contracted to one step each: an edge is allowed if it closes no cycle there,
    # i.e. no member of a group feeds another member of it (read_network's rule).
    step = {n: ("group", group_of[n]) if n in group_of else ("node", n) for n in nodes}
    steps = nx.DiGraph()
    steps.add_nodes_from(step.values())
    G = nx.DiGraph()
    G.add_nodes_from(nodes)

    def allowed(u, v):
        return step[u] != step[v] and not nx.has_path(steps, step[v], step[u])

    def connect(u, v, fan_in):
        G.add_edge(u, v, weight=float(rng.normal(scale=weight_scale / np.sqrt(fan_in))))
        steps.add_edge(step[u], step[v])

    density = rng.uniform(0.1, 0.6)
    for position, v in enumerate(interior, n_in):
        candidates = [u for u in nodes[:position] if allowed(u, v)]  # never empty: inputs are always allowed
        chosen = {candidates[rng.integers(len(candidates))]} | {u for u in candidates if rng.random() < density}
        for u in sorted(chosen, key=nodes.index):
            connect(u, v, len(chosen))
    for position, u in enumerate(nodes):
        if u in output_set or G.out_degree(u):
            continue
        later = [v for v in interior[max(0, position - n_in + 1):] if allowed(u, v)]
        if later and (position < n_in or not dead_ends or rng.random() < 0.7):
            v = later[rng.integers(len(later))]
            connect(u, v, G.in_degree(v) + 1)
    if not dead_ends:  # a unit left with nothing it may feed (a softmax group's rule) goes, with what it feeds
        live = set(input_nodes).union(outputs, *(nx.ancestors(G, k) for k in outputs))
        nodes = [n for n in nodes if n in live]
        interior = [n for n in interior if n in live]
        G.remove_nodes_from([n for n in list(G) if n not in live])
    # Attributes, then the nodes in a shuffled order (graphbp must not depend on insertion order).
    attributes = {n: {} for n in nodes}
    for v in interior:
        default = "identity" if v in output_set else "tanh"
        if kind == "binary_cross_entropy" and v in output_set:
            attributes[v]["activation"] = "logistic"
        elif v in group_of:
            attributes[v].update(activation=SOFTMAX, **({"softmax_group": group_of[v]} if labelled else {}))
        elif default not in names or rng.random() < 0.85:
            attributes[v]["activation"] = elementwise[rng.integers(len(elementwise))]
        if rng.random() < 0.85:
            attributes[v]["bias"] = float(rng.normal(scale=0.5))
    H = nx.DiGraph()
    for k in rng.permutation(len(nodes)):
        H.add_node(nodes[k], **attributes[nodes[k]])
    edges = list(G.edges(data=True))
    for k in rng.permutation(len(edges)):
        H.add_edge(edges[k][0], edges[k][1], **edges[k][2])
    sinks = {n for n in nodes if H.out_degree(n) == 0}
    if sinks != output_set or rng.random() < 0.5:  # the defaults would read other outputs, or just sometimes
        H.graph["inputs"] = [input_nodes[k] for k in rng.permutation(n_in)]
        H.graph["outputs"] = [outputs[k] for k in rng.permutation(n_out)]
    return H


def _sample_counts(st, min_samples: int, max_samples: int):
    """Batch sizes from min to max, biased to both sides of the compiled engine's thresholds."""
    special = {min_samples, max_samples, 1, 2}
    try:  # a thread's least share; a whole pass runs in one call below twice it
        from ..compiled.kernels_numba import MIN_SAMPLES_PER_THREAD as share
    except ImportError:  # without numba its thresholds do not matter
        share = None
    if share:
        special |= {n + d for n in (share, 2 * share, 3 * share) for d in (-1, 0, 1)}
    special = sorted(n for n in special if min_samples <= n <= max_samples)
    return st.one_of(st.sampled_from(special), st.integers(min_samples, max_samples))


def inputs(G, loss="sse", *, min_samples: int = 1, max_samples: int = 40, weight: str = "weight"):
    """A hypothesis strategy drawing a batch ``(x, t)`` of valid shape and range for `G` and `loss`.

    ``x`` is (N, number of inputs), normal; ``t`` is (N, number of outputs):
    normal for sum-of-squares, in [0, 1] for binary cross-entropy (exact 0
    and 1 included), one-hot within each softmax group for cross-entropy.
    N is drawn from `min_samples` to `max_samples`, often at the compiled
    engine's thresholds (1, 2, and one either side of 16, 32 and 48 samples:
    one thread's least share, and the one-call pass's limit).

    Parameters
    ----------
    G : networkx.DiGraph
        The network (the columns follow :func:`graphbp.read_network`'s inputs and outputs).
    loss : str, default "sse"
        The loss the targets are for.
    min_samples, max_samples : int, default 1 and 40
        Bounds on N.
    weight : str, default "weight"
        Edge attribute holding w_ji.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Drawing ``(x, t)``, two float64 arrays.

    Raises
    ------
    ImportError
        If hypothesis is not installed.
    GraphBPError
        An invalid network, an unknown loss, or ``1 <= min_samples <= max_samples`` not met.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> import graphbp
    >>> G = graphbp.bishop_network()
    >>> @settings(max_examples=5, deadline=None)
    ... @given(inputs(G, "bce", max_samples=3))
    ... def test_bce_targets(batch):
    ...     x, t = batch
    ...     assert x.shape[1] == 2 and t.shape == (x.shape[0], 2) and ((0 <= t) & (t <= 1)).all()
    >>> test_bce_targets()
    """
    st = _strategies()
    net = read_network(G, weight)
    kind = get_loss(loss).name
    if not 1 <= min_samples <= max_samples:
        raise GraphBPError(f"inputs() needs 1 <= min_samples <= max_samples, got {min_samples} and {max_samples}")
    _, groups = net.output_columns

    @st.composite
    def draw_batch(draw):
        N = draw(_sample_counts(st, min_samples, max_samples))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        x = rng.normal(size=(N, len(net.inputs)))
        K = len(net.outputs)
        if kind == "binary_cross_entropy":
            t = np.clip(rng.uniform(-0.2, 1.2, size=(N, K)), 0.0, 1.0)  # some exact 0s and 1s
        elif kind == "cross_entropy":
            t = np.zeros((N, K))
            for columns in groups:
                t[np.arange(N), columns[rng.integers(len(columns), size=N)]] = 1.0
        else:
            t = rng.normal(size=(N, K))
        return x, t

    return draw_batch()
