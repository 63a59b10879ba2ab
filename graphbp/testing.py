"""Testing tools: random valid networks, and assertions that every engine computes the same numbers.

graphbp computes one set of numbers (eqs. 5.48-5.56) several ways: the
reference :func:`graphbp.backprop`, the compiled engine (numba on one or two
threads, with dense blocks, or numpy/scipy) through both its
:meth:`~graphbp.compiled.CompiledNetwork.backprop` and its fast
:meth:`~graphbp.compiled.CompiledNetwork.loss_and_gradient`, and the torch
module (:func:`graphbp.torch_module.to_torch`). A fast path that skips a unit
in one rare arrangement gives wrong numbers without any error, so the tools
here compare every path with the reference, value by value, on networks drawn
at random:

* :func:`networks` and :func:`inputs` are hypothesis strategies drawing valid
  networks (irregular DAGs, odd node names, every loss) and data for them;
* :func:`assert_engines_agree` runs every available engine and compares E,
  every a_j, z_j, δ_j and ∂E/∂θ with the reference's;
* :func:`assert_gradients_close` compares backprop with central differences
  (eq. 5.69, :func:`graphbp.check_gradients`);
* :func:`assert_results_close` compares two :class:`~graphbp.BackpropResult`.

hypothesis is needed only by the strategies (``pip install hypothesis``);
numba and torch only by the engines that use them.
"""

from __future__ import annotations

import importlib.util

import networkx as nx
import numpy as np

from .activations import SOFTMAX, get_activation
from .backward import BackpropResult
from .engines import backprop
from .exceptions import ActivationError, GraphBPError, LossError, NumericalError
from .gradcheck import check_gradients
from .losses import Loss, get_loss
from .network import read_network
from .params import gradient_vector, parameter_keys

__all__ = [
    "ENGINES",
    "assert_engines_agree",
    "assert_gradients_close",
    "assert_results_close",
    "available_engines",
    "inputs",
    "networks",
]

# Every engine assert_engines_agree knows, compared with the reference graphbp.backprop.
ENGINES = ("numba-1", "numba-2", "numba-dense", "numpy", "torch", "torch-levels")

_COMPILE_OPTIONS = {
    "numba-1": {"backend": "numba", "threads": 1},
    "numba-2": {"backend": "numba", "threads": 2},
    "numba-dense": {"backend": "numba", "threads": 2, "dense": True},
    "numpy": {"backend": "numpy"},
}

_BUILT_IN_LOSSES = ("sum_of_squares", "binary_cross_entropy", "cross_entropy")

# Built-in element-wise activations (the table's names, "sigmoid" being logistic's alias) and softmax.
_DEFAULT_ACTIVATIONS = ("identity", "tanh", "logistic", "relu", "leaky_relu", "softplus", SOFTMAX)


def _strategies():
    """hypothesis.strategies, or an ImportError saying how to install it (an optional dependency)."""
    try:
        from hypothesis import strategies
    except ImportError:
        raise ImportError("graphbp.testing's strategies need hypothesis: pip install hypothesis") from None
    return strategies


# -- strategies ---------------------------------------------------------------------------------------


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
    if any(kind not in _BUILT_IN_LOSSES for kind in kinds.values()):
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
    try:
        from .compiled.kernels_numba import MIN_BLOCK  # per thread; a whole pass in one call below 2 MIN_BLOCK
    except ImportError:  # without numba its thresholds do not matter
        MIN_BLOCK = None
    if MIN_BLOCK:
        special |= {n + d for n in (MIN_BLOCK, 2 * MIN_BLOCK, 3 * MIN_BLOCK) for d in (-1, 0, 1)}
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


# -- comparisons --------------------------------------------------------------------------------------


def _compare(label: str, symbol: str, kind: str, expected: dict, actual: dict, rtol: float) -> None:
    """Raise AssertionError unless every actual[key] equals expected[key] to rtol × the largest |expected|.

    NaN or inf counts as a difference; the message names `label` (the engine),
    the quantity, the key and sample, and both numbers.
    """
    if set(actual) != set(expected):
        missing, extra = [k for k in expected if k not in actual], [k for k in actual if k not in expected]
        raise AssertionError(
            f"{label}: {symbol} has other {kind}s than the reference: missing {missing[:5]!r}, extra {extra[:5]!r}"
        )
    expected = {key: np.asarray(value, dtype=float) for key, value in expected.items()}
    scale = max((float(np.abs(value).max(initial=0.0)) for value in expected.values()), default=0.0)
    limit = rtol * max(scale, np.finfo(float).tiny)
    worst = None
    for key, theirs in expected.items():
        ours = np.asarray(actual[key], dtype=float)
        if ours.shape != theirs.shape:
            raise AssertionError(
                f"{label}: {symbol} of {kind} {key!r} has shape {ours.shape}, the reference's {theirs.shape}"
            )
        with np.errstate(invalid="ignore"):
            difference = np.nan_to_num(np.abs(ours - theirs), nan=np.inf)
        where = np.unravel_index(np.argmax(difference), difference.shape) if difference.size else ()
        if difference.size and not difference[where] <= limit and (worst is None or difference[where] > worst[0]):
            worst = (difference[where], key, where, ours[where], theirs[where])
    if worst is not None:
        difference, key, where, ours, theirs = worst
        place = f" of {kind} {key!r}" if kind else ""
        sample = f", sample {where[0]}" if where else ""
        raise AssertionError(
            f"{label}: {symbol}{place}{sample} is {float(ours)!r}, the reference's {float(theirs)!r} "
            f"(difference {difference:.3g} > rtol {rtol:g} x {scale:.3g}, the largest |{symbol}| of the reference)"
        )


def _quantities(result) -> dict:
    """symbol -> (key kind, {key: value}) of a BackpropResult (or of a ForwardResult: y, a, z)."""
    y = np.asarray(result.y)
    backward = isinstance(result, BackpropResult)
    return {
        **({"E": ("", {"E": result.loss}), "E_n": ("", {"E_n": result.sample_loss})} if backward else {}),
        "y": ("output", {k: y[..., column] for column, k in enumerate(result.outputs)}),
        "a": ("node", dict(result.a)),
        "z": ("node", dict(result.z)),
        **({
            "δ": ("node", dict(result.delta)),
            "∂E/∂w": ("edge", dict(result.grad_weight)),
            "∂E/∂b": ("node", dict(result.grad_bias)),
        } if backward else {}),
    }  # fmt: skip


def _compare_all(label: str, expected: dict, actual: dict, rtol: float) -> None:
    for symbol, (kind, values) in actual.items():
        _compare(label, symbol, kind, expected[symbol][1], values, rtol)


def assert_results_close(result, reference, *, rtol: float = 1e-12, label: str = "result") -> None:
    """Assert two :class:`~graphbp.BackpropResult` hold the same E, E_n, y, and every a, z, δ, ∂E/∂w, ∂E/∂b.

    Each quantity is compared relative to its largest magnitude in
    `reference` (a sum of N terms rounds relative to the terms, so a value
    near 0 is held to the scale of its kind, not to itself).

    Parameters
    ----------
    result, reference : BackpropResult
        As from :func:`graphbp.backprop` or a compiled engine.
    rtol : float, default 1e-12
        The tolerance, relative to each quantity's largest magnitude.
    label : str, default "result"
        How the error message names `result`.

    Raises
    ------
    AssertionError
        Naming the quantity, the node or edge (and sample) that differs most,
        and both numbers; or a different loss, or different keys.

    Examples
    --------
    >>> import graphbp
    >>> G = graphbp.bishop_network()
    >>> reference = graphbp.backprop(G, [[1.0, 0.0]], [[0.5, 0.0]])
    >>> compiled = graphbp.compile(G, backend="numpy")
    >>> assert_results_close(compiled.backprop([[1.0, 0.0]], [[0.5, 0.0]]), reference)
    >>> assert_results_close(graphbp.backprop(G, [[1.0, 0.1]], [[0.5, 0.0]]), reference)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: result: E is 0.1292..., the reference's 0.1315... (difference 0.00226 > rtol 1e-12 x 0.132, ...
    """
    if result.loss_name != reference.loss_name:
        raise AssertionError(f"{label}: loss {result.loss_name!r}, the reference's {reference.loss_name!r}")
    _compare_all(label, _quantities(reference), _quantities(result), rtol)


def available_engines() -> tuple[str, ...]:
    """The engines of :data:`ENGINES` that can run here (numba and torch are optional extras).

    Examples
    --------
    >>> "numpy" in available_engines()
    True
    """
    from .compiled.dense_blocks import blas_limits_available
    from .compiled.engine import numba_available

    numba = numba_available()
    present = {
        "numba-1": numba,
        "numba-2": numba,
        "numba-dense": numba and blas_limits_available(),
        "numpy": True,
        "torch": importlib.util.find_spec("torch") is not None,
    }
    present["torch-levels"] = present["torch"]
    return tuple(name for name in ENGINES if present[name])


def _compiled_runs(name, G, x, t, loss, weight, chunk_size) -> dict:
    """label -> quantities of a compiled engine: its backprop, and its loss_and_gradient."""
    from .compiled import compile_network

    net = compile_network(G, weight=weight, **_COMPILE_OPTIONS[name])
    result = net.backprop(x, t, loss=loss, chunk_size=chunk_size)
    total, gradient = net.loss_and_gradient(x, t, loss=loss, chunk_size=chunk_size)
    forward = _quantities(net.forward(x))
    return {
        f"{name} forward": {symbol: forward[symbol] for symbol in ("y", "a", "z")},
        f"{name} backprop": _quantities(result),
        f"{name} loss_and_gradient": {
            "E": ("", {"E": total}),
            "∂E/∂θ": ("parameter", dict(zip(net.parameter_keys(), gradient))),
        },
    }


def _output_gradient(kind: str, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """∂E/∂y of a built-in loss, as a torch loss would hand it to the module's backward."""
    if kind == "cross_entropy":
        return -t / y  # the softmax Jacobian turns it into y_k Σ t − t_k (eq. 5.54)
    return y - t


def _torch_loss(loss, reference) -> str | None:
    """The loss whose ∂E/∂y drives the torch module's backward (a vector-Jacobian product), or None.

    Binary cross-entropy's ∂E/∂y = (y − t)/(y(1 − y)) loses digits as a logistic
    output saturates (the module's h' comes from a, not from y), so a bce
    network is driven with sum-of-squares' y − t, which logistic outputs fit
    too. Cross-entropy's −t/y is divided back out by the softmax Jacobian,
    except where some y is 0. A user's Loss has no ∂E/∂y here.
    """
    if isinstance(loss, Loss) and not (loss.name in _BUILT_IN_LOSSES and get_loss(loss.name) is loss):
        return None
    kind = get_loss(loss).name
    if kind == "binary_cross_entropy":
        return "sum_of_squares"
    if kind == "cross_entropy" and not np.all(np.asarray(reference.y) > 0):
        return None
    return kind


def _torch_runs(name, G, x, t, loss: str, weight) -> dict:
    """label -> quantities of the torch module: y, and ∂E/∂x, ∂E/∂θ from its backward driven by ∂E/∂y."""
    import torch

    from .torch_module import to_torch

    module = to_torch(G, weight=weight, dtype=torch.float64)
    module.levels_on_cpu = name == "torch-levels"
    X = torch.tensor(np.atleast_2d(np.asarray(x, dtype=float)), requires_grad=True)
    y = module(X)
    Y = y.detach().numpy()
    y.backward(torch.from_numpy(_output_gradient(loss, Y, np.atleast_2d(np.asarray(t, dtype=float)))))
    net = read_network(G, weight)
    squeeze = np.ndim(x) == 1  # one 1-D sample: per-node values are floats, as the reference's
    grad_x = X.grad.numpy()
    gradient = np.concatenate([module.weight.grad.numpy(), module.bias.grad.numpy()])
    return {
        name: {
            "y": ("output", {k: Y[0, c] if squeeze else Y[:, c] for c, k in enumerate(net.outputs)}),
            "∂E/∂x": ("input", {i: grad_x[0, c] if squeeze else grad_x[:, c] for c, i in enumerate(net.inputs)}),
            "∂E/∂θ": ("parameter", dict(zip(parameter_keys(G, weight), gradient))),
        }
    }


def _expected(G, reference, weight) -> dict:
    """The reference's quantities, with ∂E/∂θ (its gradient vector) and ∂E/∂x (the inputs' δ)."""
    expected = _quantities(reference)
    expected["∂E/∂θ"] = ("parameter", dict(zip(parameter_keys(G, weight), gradient_vector(G, reference, weight))))
    expected["∂E/∂x"] = ("input", {i: reference.delta[i] for i in reference.inputs})
    return expected


def _torch_versions(G, weight) -> bool:
    """Whether every element-wise activation of G has a torch version (the level loop needs them)."""
    from .activations import torch_elementwise

    net = read_network(G, weight)
    try:
        for activation in set(net.activation.values()) - {SOFTMAX}:
            torch_elementwise(activation)
    except ActivationError:
        return False
    return True


def assert_engines_agree(
    G,
    x,
    t,
    loss="sum_of_squares",
    *,
    engines=None,
    rtol: float = 1e-12,
    chunk_size: int | None = None,
    weight: str = "weight",
) -> tuple[str, ...]:
    """Assert every engine gives the reference's numbers on this network and batch.

    The reference is :func:`graphbp.backprop`. Each engine's E, E_n, y,
    every a_j, z_j, δ_j, ∂E/∂w and ∂E/∂b (where it gives them) and its
    gradient vector ∂E/∂θ must equal the reference's to `rtol` relative to the
    largest magnitude of each quantity. The engines:

    * ``"numba-1"``, ``"numba-2"``: ``graphbp.compile(G, backend="numba",
      threads=1 or 2)``; ``"numba-dense"``: two threads with ``dense=True``
      (every dense enough group of edges a matrix product); ``"numpy"``:
      ``backend="numpy"``. Each is run through
      :meth:`~graphbp.compiled.CompiledNetwork.forward`,
      :meth:`~graphbp.compiled.CompiledNetwork.backprop` and the fast path
      :meth:`~graphbp.compiled.CompiledNetwork.loss_and_gradient`.
    * ``"torch"``: the module of :func:`graphbp.torch_module.to_torch`
      (float64, the compiled engine on CPU tensors); ``"torch-levels"``: the
      same with its level loop (the CUDA code path, run on CPU tensors). Its
      y, ∂E/∂x (the inputs' δ) and ∂E/∂θ are compared, its backward (a
      vector-Jacobian product) driven with the loss's ∂E/∂y; for binary
      cross-entropy, whose ∂E/∂y = (y − t)/(y(1 − y)) loses digits as an
      output saturates, with sum-of-squares' y − t against the reference's
      sum-of-squares pass.

    Parameters
    ----------
    G : networkx.DiGraph
        The network.
    x, t : array_like
        A batch, as for :func:`graphbp.backprop`.
    loss : str or Loss, default "sum_of_squares"
        The loss. A user's :class:`~graphbp.Loss` runs on the compiled engines only.
    engines : sequence of str, optional
        Names from :data:`ENGINES`. Default: every engine of
        :func:`available_engines` that can run this network and loss (the
        level loop needs a torch version of each activation, the torch
        module a built-in loss, and for cross-entropy no output y = 0).
    rtol : float, default 1e-12
        The tolerance, relative to each quantity's largest magnitude.
    chunk_size : int, optional
        Passed to the compiled engines' ``backprop`` and ``loss_and_gradient``.
    weight : str, default "weight"
        Edge attribute holding w_ji.

    Returns
    -------
    tuple of str
        The engines compared.

    Raises
    ------
    AssertionError
        Naming the engine (and which of its passes), the quantity, the node,
        edge or parameter (and the sample) that differs most, and both
        numbers; or that an engine raised where the reference did not.
    GraphBPError
        What :func:`graphbp.backprop` raises on the inputs (they are bad),
        or an unknown engine name.
    ImportError
        An engine asked for by name whose extra (numba, torch) is not installed.
    LossError, NumericalError
        A torch engine asked for by name with a user's Loss, or with a
        softmax output of exactly 0 (see `engines`).

    Examples
    --------
    >>> import graphbp
    >>> G = graphbp.irregular_network()
    >>> assert_engines_agree(G, [[0.5, -1.0], [2.0, 0.3]], [[1.0, 0.0], [0.0, 1.0]], engines=["numpy"])
    ('numpy',)
    """
    reference = backprop(G, x, t, loss=loss, weight=weight)
    expected = _expected(G, reference, weight)
    torch_loss = _torch_loss(loss, reference)
    if engines is None:
        engines = [
            name for name in available_engines()
            if not name.startswith("torch") or torch_loss and (name == "torch" or _torch_versions(G, weight))
        ]  # fmt: skip
    else:
        engines = list(engines)
        unknown = [name for name in engines if name not in ENGINES]
        if unknown:
            raise GraphBPError(f"unknown engine {unknown[0]!r}; known: {', '.join(ENGINES)}")
        if torch_loss is None and any(name.startswith("torch") for name in engines):
            if isinstance(loss, Loss):
                raise LossError(f"the torch engines take a built-in loss only, not the user's {loss.name!r}")
            raise NumericalError("a softmax output is 0, so the torch engines have no ∂E/∂y = -t/y to run with")
        missing = [name for name in engines if name not in available_engines()]
        if missing:
            raise ImportError(
                f"engine {missing[0]!r} needs an optional extra: pip install 'graphbp[fast]' (numba, threadpoolctl) "
                "or 'graphbp[torch]'"
            )
    if torch_loss not in (None, get_loss(loss).name):
        torch_expected = _expected(G, backprop(G, x, t, loss=torch_loss, weight=weight), weight)
    else:
        torch_expected = expected
    for name in engines:
        try:
            if name.startswith("torch"):
                runs = _torch_runs(name, G, x, t, torch_loss, weight)
            else:
                runs = _compiled_runs(name, G, x, t, loss, weight, chunk_size)
        except Exception as error:
            raise AssertionError(f"{name}: raised {type(error).__name__}: {error} (the reference did not)") from error
        for label, quantities in runs.items():
            _compare_all(label, torch_expected if name.startswith("torch") else expected, quantities, rtol)
    return tuple(engines)


def assert_gradients_close(
    G,
    x,
    t,
    loss="sum_of_squares",
    *,
    rtol: float = 1e-6,
    eps: float = 1e-4,
    weight: str = "weight",
):
    """Assert backprop's ∂E/∂w, ∂E/∂b and δ equal central differences (eq. 5.69) to `rtol`.

    Runs :func:`graphbp.check_gradients` (Richardson-refined central
    differences of E on every weight and bias, and of E_n on every a_j).
    Differences whose steps cross a kink of an activation (relu at 0) are
    not compared.

    Parameters
    ----------
    G, x, t, loss, weight
        As for :func:`graphbp.backprop`.
    rtol : float, default 1e-6
        Largest relative error allowed (as :class:`graphbp.GradientCheck` measures it).
    eps : float, default 1e-4
        The step of the differences.

    Returns
    -------
    GradientCheck
        The report, when the check passes.

    Raises
    ------
    AssertionError
        Naming the worst parameter or δ, its backprop and central-difference
        values, with the report's table of the worst values.
    GraphBPError
        As :func:`graphbp.backprop`.

    Examples
    --------
    >>> import graphbp
    >>> report = assert_gradients_close(graphbp.bishop_network(), [[1.0, 0.5]], [[0.2, -0.3]])
    >>> report.max_rel_error < 1e-6
    True
    """
    report = check_gradients(G, x, t, loss=loss, eps=eps, weight=weight)
    worst = report.worst
    if worst is not None and not worst.rel_error <= rtol:
        raise AssertionError(
            f"backprop and central differences differ at {worst.quantity} {worst.key!r}: backprop "
            f"{worst.analytic!r}, central difference {worst.numeric!r} (relative error {worst.rel_error:.3g} > "
            f"rtol {rtol:g})\n{report}"
        )
    return report
