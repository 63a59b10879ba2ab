"""Differential tests: every engine against the reference, on random networks drawn by graphbp.testing.

A fast path that mishandles one arrangement of units gives wrong numbers
without an error (the one-call pass once skipped Python-only output units
below 32 samples). So random irregular DAGs (odd node names, skips, outputs
feeding units, dead ends, every loss) with built-in activations, a
numba-compilable user activation and a Python-only one (``np.where``, which
numba cannot compile) are run through every engine, at batch and chunk sizes
on both sides of each engine's thresholds: MIN_SAMPLES_PER_THREAD = 16 samples per thread,
2 x MIN_SAMPLES_PER_THREAD for the one-call pass, ``chunk_size`` = N - 1, N, N + 1, dense
blocks (``dense=True``; "auto" needs 4,096 edges). The reference itself is
checked against central differences and an independent torch autograd engine,
and graphbp.testing is checked to catch wrong engines (the old bug included).
"""

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st
from optional import missing, require, under_ci
from torch_engine import assert_matches_torch

import graphbp
from graphbp import Activation, ActivationError, GraphBPError, LossError, NumericalError, ShapeError
from graphbp.testing import (
    ENGINES,
    assert_engines_agree,
    assert_gradients_close,
    assert_results_close,
    available_engines,
    inputs,
    networks,
)

BUILT_IN = ["identity", "tanh", "logistic", "relu", "leaky_relu", "softplus"]
# numba cannot compile np.where: this entry always runs as Python between the kernels.
PYTHON_ONLY = Activation(
    "elu_where", lambda a: np.where(a > 0, a, np.expm1(a)), lambda a: np.where(a > 0, 1.0, np.exp(a))
)
CUBE = Activation("cube", lambda a: a**3 / 3, lambda a: a**2, lambda a: 2 * a)  # numba compiles it
ACTIVATIONS = [*BUILT_IN, "softmax", PYTHON_ONLY, CUBE]

# The compiled engine's thresholds (per thread, one-call pass) and both sides of each.
THRESHOLD_SIZES = [1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49]


def batch_engines() -> list:
    """The engines whose passes depend on the batch size: the compiled ones, and the torch module over them
    (its level loop, the CUDA code, has no batch threshold: the random-network test covers it)."""
    return [name for name in available_engines() if name != "torch-levels"]


def lean(examples: int, **options):
    """Few examples, no deadline (the first pass compiles), the same examples every run under CI=true."""
    return settings(max_examples=examples, deadline=None, derandomize=under_ci(),
                    suppress_health_check=[HealthCheck.too_slow], **options)  # fmt: skip


pytestmark = pytest.mark.filterwarnings("ignore:activation 'elu_where' does not compile")


@pytest.fixture(autouse=True)
def _every_engine_under_ci():
    """Locally an engine whose extra is missing is left out; under CI=true every engine must run."""
    if under_ci() and available_engines() != ENGINES:
        missing(f"engines {sorted(set(ENGINES) - set(available_engines()))}", "pip install -e '.[test]'")


@st.composite
def chunk_sizes(draw, N):
    """None (the whole batch), or chunks around N (N - 1 runs two chunks, N and N + 1 one), or any size."""
    return draw(st.one_of(st.none(), st.sampled_from([n for n in (N - 1, N, N + 1) if n >= 1]), st.integers(1, N)))


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """torch's own operations on one thread in this module: the level loop's scatter-adds on a few rows gain
    nothing from torch's thread pool, whose threads then only wait on each other (the numbers are the same)."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@lean(30)
@given(st.data())
def test_every_engine_equals_the_reference_on_random_networks(data):
    G, loss = data.draw(networks(activations=ACTIVATIONS), label="network")
    x, t = data.draw(inputs(G, loss, max_samples=50), label="batch")
    with np.errstate(all="ignore"):
        try:
            graphbp.backprop(G, x, t, loss=loss)
        except NumericalError:  # cubes of cubes overflow: no numbers to compare (the reference names the node)
            assume(False)
    assert_engines_agree(G, x, t, loss, chunk_size=data.draw(chunk_sizes(len(x)), label="chunk_size"))


PLACEMENTS = ["outputs", "one output", "hidden", "one hidden", "mixed", "last unit", "every unit"]


def _chosen(G, placement: str) -> list:
    """The units `placement` names (the last unit: the last one the passes reach)."""
    net = graphbp.read_network(G)
    hidden = [j for j in net.order if j not in net.inputs and j not in net.outputs]
    units = [j for j in net.order if j not in net.inputs]
    return {"outputs": list(net.outputs), "one output": list(net.outputs[-1:]), "hidden": hidden,
            "one hidden": hidden[:1], "mixed": [*hidden[:1], net.outputs[0]], "last unit": units[-1:],
            "every unit": units}[placement]  # fmt: skip


def _placement_test(**options):
    """The placement property: a user activation at each placement, at the thresholds' batch sizes."""

    @lean(**{"examples": 40, **options})
    @given(
        case=networks(min_nodes=4, activations=BUILT_IN, losses=["sse"]),
        placement=st.sampled_from(PLACEMENTS),
        activation=st.sampled_from([PYTHON_ONLY, CUBE]),
        N=st.sampled_from(THRESHOLD_SIZES),
        seed=st.integers(0, 2**16),
    )
    @example(case=(graphbp.irregular_network(), "sse"), placement="outputs", activation=PYTHON_ONLY, N=5, seed=0)
    @example(case=(graphbp.mlp([2, 3, 2], seed=1), "sse"), placement="one output", activation=PYTHON_ONLY, N=31, seed=1)
    @example(case=(graphbp.mlp([2, 3, 2], seed=1), "sse"), placement="last unit", activation=PYTHON_ONLY, N=1, seed=2)
    def test_a_user_activation_at_every_placement_and_threshold(case, placement, activation, N, seed):
        G, loss = case
        G = G.copy()
        chosen = _chosen(G, placement)
        assume(chosen)
        for j in chosen:
            G.nodes[j]["activation"] = activation
        rng = np.random.default_rng(seed)
        net = graphbp.read_network(G)
        x, t = rng.normal(size=(N, len(net.inputs))), rng.normal(size=(N, len(net.outputs)))
        assert_engines_agree(G, x, t, loss, engines=batch_engines())

    return test_a_user_activation_at_every_placement_and_threshold


test_a_user_activation_at_every_placement_and_threshold = _placement_test()


def _threshold_network():
    """Skip connections, an output feeding a unit, a dead end, a compiled user activation, and a Python-only
    one on the last unit the passes reach (the arrangement the one-call pass once skipped)."""
    G = graphbp.irregular_network()
    G.nodes["h2"]["activation"] = G.nodes["h3"]["activation"] = CUBE
    assert _chosen(G, "last unit") == ["y2"]
    G.nodes["y2"]["activation"] = PYTHON_ONLY
    return G


@pytest.mark.parametrize("N", THRESHOLD_SIZES)
def test_batch_and_chunk_sizes_on_both_sides_of_each_threshold(N):
    G = _threshold_network()
    rng = np.random.default_rng(N)
    x, t = rng.normal(size=(N, 2)), rng.normal(size=(N, 2))
    assert_engines_agree(G, x, t, engines=batch_engines())
    compiled = [name for name in batch_engines() if name != "torch"]  # chunk_size is the compiled engine's
    for chunk_size in {N - 1, N, N + 1, 16, 32} - {0}:
        assert_engines_agree(G, x, t, chunk_size=chunk_size, engines=compiled)
    assert_engines_agree(G, x[0], t[0], engines=compiled)  # one 1-D sample: per-node values are floats


@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
def test_dense_blocks_with_python_units_between_them(loss):
    """A layered network whose level pairs become dense blocks (dense=True), a Python unit in a hidden layer."""
    G = graphbp.mlp([3, 5, 4, 4], seed=2)
    G.nodes["h2_3"]["activation"] = PYTHON_ONLY
    net = graphbp.read_network(G)
    for node in net.outputs:
        G.nodes[node]["activation"] = {"sse": "identity", "bce": "logistic", "ce": "softmax"}[loss]
    if "numba-dense" in available_engines():
        assert graphbp.compile(G, backend="numba", dense=True).dense_edges > 0
    rng = np.random.default_rng(7)
    for N in (5, 33):
        x = rng.normal(size=(N, 3))
        t = {"sse": rng.normal(size=(N, 4)), "bce": rng.random((N, 4)), "ce": np.eye(4)[rng.integers(4, size=N)]}[loss]
        assert_engines_agree(G, x, t, loss, chunk_size=N - 1 or None, engines=batch_engines())


def test_engines_reused_across_batch_sizes_keep_agreeing():
    """The compiled engine and the torch module keep work arrays between calls: widths up, down and repeated."""
    G = _threshold_network()
    compiled = graphbp.compile(G, **({"backend": "numba", "threads": 2} if "numba-2" in available_engines() else {}))
    rng = np.random.default_rng(3)
    for N in (33, 5, 33, 1, 40, 5, 16):
        x, t = rng.normal(size=(N, 2)), rng.normal(size=(N, 2))
        reference = graphbp.backprop(G, x, t)
        assert_results_close(compiled.backprop(x, t), reference, label=f"compiled, N={N}")
        total, gradient = compiled.loss_and_gradient(x, t)
        assert total == pytest.approx(reference.loss, rel=1e-12)
        np.testing.assert_allclose(gradient, graphbp.gradient_vector(G, reference), rtol=1e-12, atol=1e-14)


@lean(30)
@given(data=st.data())
def test_the_reference_equals_central_differences_and_torch_autograd(torch, data):
    """The reference itself against eq. 5.69 and against an engine sharing no code with graphbp."""
    G, loss = data.draw(networks(max_nodes=7, activations=[*BUILT_IN, "softmax"]), label="network")
    x, t = data.draw(inputs(G, loss, max_samples=4), label="batch")
    assert_gradients_close(G, x, t, loss)
    reference = graphbp.backprop(G, x, t, loss=loss)
    assume(reference.loss > 0 and any(g != 0 for g in reference.grad_weight.values()))
    assert_matches_torch(torch, G, reference, x, t, loss, tol=1e-10)


def test_the_torch_level_loop_keeps_float64_under_a_float32_default_dtype():
    """leaky_relu's h' once came out in torch's default dtype (float32) in the level loop: a 1e-8 error."""
    torch = require("torch", "pip install -e '.[test]' installs torch==2.13.0")
    G = graphbp.irregular_network()
    G.nodes["h1"]["activation"] = G.nodes["h3"]["activation"] = "leaky_relu"
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        assert_engines_agree(G, x, t, engines=["torch", "torch-levels"])
    finally:
        torch.set_default_dtype(before)


# -- graphbp.testing catches wrong engines -------------------------------------------------------------


def test_a_perturbed_gradient_is_caught_naming_engine_parameter_and_numbers(monkeypatch):
    from graphbp.compiled import CompiledNetwork

    original = CompiledNetwork.loss_and_gradient

    def perturbed(self, *args, **kwargs):
        total, gradient = original(self, *args, **kwargs)
        gradient[3] *= 1 + 1e-9
        return total, gradient

    monkeypatch.setattr(CompiledNetwork, "loss_and_gradient", perturbed)
    G = graphbp.irregular_network()
    x, t = [[0.5, -1.0], [2.0, 0.3]], [[1.0, 0.0], [0.0, 1.0]]
    key = graphbp.parameter_keys(G)[3]
    number = "[-0-9.e]+"
    parameter = re.escape(repr(key))
    message = rf"numpy loss_and_gradient: ∂E/∂θ of parameter {parameter} is {number}, the reference's {number}"
    with pytest.raises(AssertionError, match=message):
        assert_engines_agree(G, x, t, engines=["numpy"])


def test_a_wrong_delta_and_a_raising_engine_are_caught(monkeypatch):
    from graphbp.compiled import CompiledResult

    G = graphbp.irregular_network()
    x, t = [[0.5, -1.0], [2.0, 0.3]], [[1.0, 0.0], [0.0, 1.0]]
    wrong = {n: np.asarray(v) * (1.5 if n == "h2" else 1.0) for n, v in graphbp.backprop(G, x, t).delta.items()}
    monkeypatch.setattr(CompiledResult, "delta", property(lambda self: wrong))
    with pytest.raises(AssertionError, match=r"numpy backprop: δ of node 'h2', sample \d is "):
        assert_engines_agree(G, x, t, engines=["numpy"])
    monkeypatch.setattr(CompiledResult, "delta", property(lambda self: {**wrong, "h2": np.full(2, np.nan)}))
    with pytest.raises(AssertionError, match=r"numpy backprop: δ of node 'h2', sample 0 is nan"):
        assert_engines_agree(G, x, t, engines=["numpy"])
    monkeypatch.setattr(CompiledResult, "delta", property(lambda self: {n: wrong[n] for n in wrong if n != "d"}))
    with pytest.raises(AssertionError, match=r"numpy backprop: δ has other nodes than the reference: missing \['d'\]"):
        assert_engines_agree(G, x, t, engines=["numpy"])

    def fails(self, *args, **kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(CompiledResult, "delta", property(fails))
    with pytest.raises(AssertionError, match="numpy: raised ZeroDivisionError: planted"):
        assert_engines_agree(G, x, t, engines=["numpy"])


@pytest.fixture
def old_one_call_bug(numba, monkeypatch):
    """The bug fixed in 675ad62, put back: the one-call pass taken whenever the forward pass has one segment,
    which a Python-only unit at the very end also leaves (it was then skipped: wrong E, zero gradient)."""
    from graphbp.compiled.kernels_numba import NumbaKernels

    original = NumbaKernels.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._one_call = len(self.forward_segments) == 1 and self.plan is None

    monkeypatch.setattr(NumbaKernels, "__init__", init)


def test_the_old_one_call_bug_is_caught(old_one_call_bug):
    G = graphbp.mlp([2, 3, 2], seed=1)
    for j in _chosen(G, "last unit"):
        G.nodes[j]["activation"] = PYTHON_ONLY
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    with pytest.raises(AssertionError, match="numba-1 backprop: "):
        assert_engines_agree(G, x, t)
    assert_engines_agree(G, np.ones((33, 2)), np.zeros((33, 2)))  # 32 samples and more never took that pass
    placements = _placement_test(examples=20, phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
                                 database=None)  # fmt: skip
    # a wrong value, or (where the skipped output left E_n = inf) an error the reference does not raise
    with pytest.raises(AssertionError, match="numba-[12]( backprop| loss_and_gradient)?: "):
        placements()


# -- graphbp.testing's own contract --------------------------------------------------------------------


@lean(60)
@given(st.data())
def test_networks_draws_only_valid_networks_within_its_bounds(data):
    min_nodes = data.draw(st.integers(2, 6), label="min_nodes")
    max_nodes = data.draw(st.integers(max(min_nodes, 3), 12), label="max_nodes")
    losses = data.draw(st.lists(st.sampled_from(["sse", "bce", "ce", "sum_of_squares"]), min_size=1, unique=True))
    activations = data.draw(st.lists(st.sampled_from([*BUILT_IN, PYTHON_ONLY, CUBE]), min_size=1, unique=True))
    max_inputs, max_outputs = data.draw(st.integers(1, 3)), data.draw(st.integers(2, 4))
    dead_ends = data.draw(st.booleans(), label="dead_ends")
    G, loss = data.draw(networks(min_nodes, max_nodes, activations, losses, max_inputs=max_inputs,
                                 max_outputs=max_outputs, dead_ends=dead_ends))  # fmt: skip
    net = graphbp.read_network(G)
    assert loss in losses
    assert len(G) <= max_nodes and (len(G) >= min_nodes or not dead_ends)
    assert 1 <= len(net.inputs) <= max_inputs and 1 <= len(net.outputs) <= max_outputs
    assert all(isinstance(n, (int, str, tuple)) for n in G)
    assert all(G.in_degree(j) >= 1 for j in G if j not in net.inputs), "every unit has a predecessor"
    if not dead_ends:
        assert net.dead_ends == ()
    names = {a if isinstance(a, str) else a.name for a in activations}
    kind = graphbp.get_loss(loss).name
    for j in G:
        if j in net.inputs:
            continue
        activation = net.activation[j]
        if j in net.outputs and kind == "cross_entropy":
            assert activation == "softmax"
        elif j in net.outputs and kind == "binary_cross_entropy":
            assert activation.name == "logistic"
        else:
            assert activation.name in names
    assert all(len(group) >= 2 for group in net.softmax_groups)
    x, t = data.draw(inputs(G, loss, min_samples=1, max_samples=5))
    assert x.shape == (len(t), len(net.inputs)) and t.shape[1] == len(net.outputs)
    if kind == "cross_entropy":
        for group in net.output_columns[1]:
            np.testing.assert_array_equal(t[:, group].sum(axis=1), 1.0)
            assert set(np.unique(t)) <= {0.0, 1.0}
    graphbp.backprop(G, x, t, loss=loss)  # the loss fits the outputs and the targets


def test_networks_cover_the_irregular_features():
    """Across a few draws: outputs feeding units, dead ends, skips, listed and unlisted io, every name type."""
    seen = set()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(networks(activations=ACTIVATIONS))
    def record(case):
        G, loss = case
        net = graphbp.read_network(G)
        seen.add(graphbp.get_loss(loss).name)
        seen.update(type(n).__name__ for n in G)
        if any(G.out_degree(k) for k in net.outputs):
            seen.add("output feeding a unit")
        if net.dead_ends:
            seen.add("dead end")
        if any(G.has_edge(i, k) for i in net.inputs for k in net.outputs) and net.hidden:
            seen.add("skip")
        seen.add("listed" if "outputs" in G.graph else "unlisted")
        seen.update(a.name for a in net.activation.values() if isinstance(a, Activation))

    record()
    assert seen >= {"sum_of_squares", "binary_cross_entropy", "cross_entropy", "int", "str", "tuple",
                    "output feeding a unit", "dead end", "skip", "listed", "unlisted", "elu_where", "cube"}  # fmt: skip


def test_inputs_leans_to_the_compiled_engines_thresholds(numba):
    """Each size either side of a threshold turns up, though N ranges to 1000 (a uniform draw would seldom hit one)."""
    from graphbp.compiled.kernels_numba import MIN_SAMPLES_PER_THREAD as share

    wanted = {n + d for n in (share, 2 * share, 3 * share) for d in (-1, 0, 1)}
    seen = set()

    @settings(max_examples=300, deadline=None, derandomize=True, database=None, phases=[Phase.generate])
    @given(inputs(graphbp.bishop_network(), max_samples=1000))
    def record(batch):
        seen.add(batch[0].shape[0])

    record()
    assert wanted <= seen, f"never drawn: {sorted(wanted - seen)}"


def test_bad_arguments_are_named():
    with pytest.raises(GraphBPError, match="2 <= min_nodes <= max_nodes, got min_nodes=2, max_nodes=1"):
        networks(max_nodes=1)
    with pytest.raises(GraphBPError, match="'ce' network has softmax groups of two or more outputs"):
        networks(losses=["ce"], max_outputs=1)
    with pytest.raises(ActivationError, match="at least one element-wise activation"):
        networks(activations=["softmax"])
    with pytest.raises(ActivationError, match="unknown activation 'swish'"):
        networks(activations=["swish"])
    with pytest.raises(LossError, match="unknown loss 'mse'"):
        networks(losses=["mse"])
    G = graphbp.bishop_network()
    with pytest.raises(GraphBPError, match="1 <= min_samples <= max_samples, got 0 and 40"):
        inputs(G, min_samples=0)
    x, t = [[0.5, -1.0]], [[1.0, 0.0]]
    with pytest.raises(GraphBPError, match="unknown engine 'cuda'; known: numba-1, "):
        assert_engines_agree(G, x, t, engines=["cuda"])
    halved = graphbp.Loss("half_sse", None, lambda A, Y, T, groups: 0.25 * ((Y - T) ** 2).sum(axis=1),
                          lambda A, Y, T, slope, groups: 0.5 * slope * (Y - T))  # fmt: skip
    with pytest.raises(LossError, match="torch engines take a built-in loss only, not the user's 'half_sse'"):
        assert_engines_agree(G, x, t, halved, engines=["torch"])
    assert "torch" not in assert_engines_agree(G, x, t, halved)  # by default: the engines that can run it
    with pytest.raises(ShapeError, match=r"x has shape \(1, 3\)"):  # bad input: the reference's own error
        assert_engines_agree(G, [[0.5, -1.0, 2.0]], t)


def test_assert_gradients_close_names_the_worst_parameter():
    G = graphbp.bishop_network()
    G.nodes["z2"]["activation"] = Activation("wrong_sine", np.sin, lambda a: 1.1 * np.cos(a))  # h' off by 10%
    report = assert_gradients_close(graphbp.bishop_network(), [[1.0, 0.5]], [[0.2, -0.3]])
    assert report.max_rel_error < 1e-8
    message = r"differ at (weight|bias|delta) .*'z2'.*: backprop .*, central difference "
    with pytest.raises(AssertionError, match=message):
        assert_gradients_close(G, [[1.0, 0.5]], [[0.2, -0.3]])


def test_without_hypothesis_the_strategies_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(ImportError, match="pip install hypothesis"):
        networks()
    with pytest.raises(ImportError, match="pip install hypothesis"):
        inputs(graphbp.bishop_network())


def test_importing_graphbp_testing_does_not_import_hypothesis_or_the_engines():
    code = "import sys, graphbp, graphbp.testing; print(sorted({'hypothesis', 'numba', 'torch'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
    assert graphbp.testing.assert_engines_agree is assert_engines_agree
