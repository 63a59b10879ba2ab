"""Dense blocks in the compiled engine: taken where they pay, and the same numbers as the reference and torch.

The blocks are checked where they are actually taken (each test asserts it):
a layered graph ``dense="auto"`` picks, and an irregular graph with odd node
names whose levels are only partly dense, interleaved in the node order (so
blocks gather scattered rows), with several blocks into one level and out of
one level, a dead end, Python-only activations inside blocks, and every loss.
"""

import warnings

import networkx as nx
import numpy as np
import pytest

import graphbp
from graphbp import GraphBPError
from graphbp.compiled.dense_blocks import DENSITY, MIN_BLOCK_EDGES, plan_blocks
from graphbp.generators import random_dag, skip_mlp
from graphbp.compiled.kernels_numba import PYTHON
from test_activation_table import WHERE_RELU
from test_compiled import CUBE, _close, _set_up, assert_same_result
from torch_engine import assert_matches_torch

pytestmark = pytest.mark.usefixtures("numba")


def _layered():
    """Blocks of 72 x 72 = 5,184 edges (≥ MIN_BLOCK_EDGES): the graph "auto" runs with dense blocks."""
    return skip_mlp([8, 72, 72, 72, 6], p_skip=0.05, seed=3)


def _partly_dense(seed=0):
    """Levels joined 100 %, ~60 %, ~40 % and 1/6 full, odd names, nodes added in shuffled order.

    inputs → A (full), A → B (~60 %), A → C (~40 %) and B → C (full): two blocks into C's level and
    two out of A's; inputs → B (a diagonal, 1/6 full) stays with the per-node kernels; "dead" is a
    dead end; C → outputs full, and one input feeds an output directly.
    """
    rng = np.random.default_rng(seed)
    inputs = [("x", k) for k in range(5)] + ["x-last"]
    A, B = [k + 0.5 for k in range(9)], [("B", str(k)) for k in range(7)]
    C, outputs = [f"c{k}" for k in range(6)], [("y", 0), "y1", 2]
    edges = [(i, a) for i in inputs for a in A]
    edges += [(a, b) for a in A for b in B if rng.random() < 0.6]
    edges += [(a, c) for a in A for c in C if rng.random() < 0.4]
    edges += [(b, c) for b in B for c in C]
    edges += [(inputs[k], B[k]) for k in range(6)]  # a diagonal: 6 of 6 x 6, under DENSITY
    edges += [(c, y) for c in C for y in outputs] + [(inputs[1], outputs[2]), (B[1], "dead"), (A[0], "dead")]
    nodes = [*inputs, *A, *B, *C, *outputs, "dead"]
    G = nx.DiGraph()
    G.add_nodes_from(nodes[k] for k in rng.permutation(len(nodes)))
    G.add_edges_from((i, j, {"weight": float(rng.normal(scale=0.4))}) for i, j in edges)
    G.graph.update(inputs=inputs, outputs=outputs)
    return G


def test_auto_takes_dense_blocks_on_layered_graphs_only():
    layered = graphbp.compile(_layered())
    assert layered.dense_edges >= layered.wiring.n_edges / 2
    # The two 72 x 72 layer pairs; 8 x 72 and 72 x 6 are under MIN_BLOCK_EDGES, the skips are too sparse.
    assert [block.shape for block in layered.kernels.plan.blocks] == [(72, 72), (72, 72)]
    randwire = random_dag(300, k=8, p=0.75, n_inputs=6, n_outputs=4, seed=13)
    assert graphbp.compile(randwire).dense_edges == 0
    assert graphbp.compile(_layered(), dense=False).dense_edges == 0 == graphbp.compile(_layered(), dense=0).dense_edges
    assert graphbp.compile(_layered(), backend="numpy").dense_edges == 0
    # Forced on, the small groups of the irregular graph become blocks too.
    assert graphbp.compile(_partly_dense(), dense="auto").dense_edges == 0
    assert graphbp.compile(_partly_dense(), dense=True).dense_edges > 0


@pytest.mark.parametrize("n, dense_edges", [(4, 4), (5, 0)])
def test_the_density_rule(n, dense_edges):
    """A group is a block when its edges fill at least DENSITY of its targets x sources: a diagonal of n fills 1/n."""
    assert DENSITY == 0.25
    G = nx.DiGraph([(f"x{k}", f"y{k}", {"weight": 1.0 + k}) for k in range(n)])
    G.graph.update(inputs=[f"x{k}" for k in range(n)], outputs=[f"y{k}" for k in range(n)])
    net = graphbp.compile(G, dense=True)
    assert net.dense_edges == dense_edges
    X, T = np.random.default_rng(n).normal(size=(2, 40, n))
    _close(net.loss_and_gradient(X, T)[1], graphbp.gradient_vector(G, graphbp.backprop(G, X, T)), 1e-13)


def _plan_shape(compiled):
    """What the irregular graph must exercise: scattered rows, partly full blocks, levels shared by blocks."""
    plan = compiled.kernels.plan
    assert any(not isinstance(block.rows, slice) for block in plan.blocks)
    assert any(block.edges.size < block.shape[0] * block.shape[1] for block in plan.blocks)
    assert any(len(blocks) > 1 for blocks in plan.forward_cuts.values())
    assert any(len(blocks) > 1 for blocks in plan.backward_cuts.values())
    assert 0 < compiled.dense_edges < compiled.wiring.n_edges


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
@pytest.mark.parametrize("graph", ["layered", "partly_dense"])
def test_dense_blocks_equal_the_reference_and_torch(graph, loss, threads, torch):
    G = _layered() if graph == "layered" else _partly_dense()
    rng = np.random.default_rng([len(graph), len(loss), threads])
    X, T = _set_up(G, loss, rng)
    compiled = graphbp.compile(G, threads=threads, dense="auto" if graph == "layered" else True)
    if graph == "partly_dense":
        _plan_shape(compiled)
    assert compiled.dense_edges > 0
    result = compiled.backprop(X, T, loss=loss)
    assert_same_result(result, graphbp.backprop(G, X, T, loss=loss), G)
    if graph == "partly_dense":  # (torch's per-node autograd on the 11k-edge layered graph takes seconds)
        assert_matches_torch(torch, G, result, X, T, loss, tol=1e-12)
    loss_value, gradient = compiled.loss_and_gradient(X, T, loss=loss, chunk_size=16)
    _close(loss_value, result.loss, 1e-13)
    _close(gradient, graphbp.gradient_vector(G, result), 1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_user_activations_inside_blocks(threads):
    """CUBE (compiled by numba) and a relu by np.where (Python, applied between kernel runs) on block rows."""
    G = _partly_dense(seed=2)
    X, T = _set_up(G, "sse", np.random.default_rng(2), custom=True)
    # An entry of its own: numba's verdict on WHERE_RELU is cached, and its warning is another test's to see.
    python_only = graphbp.Activation("where_relu_in_blocks", WHERE_RELU.function, WHERE_RELU.derivative)
    for node in ["c1", ("B", "2"), 3.5, ("y", 0)]:
        G.nodes[node]["activation"] = python_only
    with warnings.catch_warnings():  # "does not compile with numba" (once per process: the table is cached)
        warnings.simplefilter("ignore", UserWarning)
        compiled = graphbp.compile(G, threads=threads, dense=True)
    assert PYTHON in compiled.kernels.codes and CUBE in {G.nodes[j].get("activation") for j in G}
    _plan_shape(compiled)
    assert_same_result(compiled.backprop(X, T), graphbp.backprop(G, X, T), G)


def test_float32_dense_blocks_agree_with_float64():
    G = _partly_dense(seed=1)
    X, T = _set_up(G, "sse", np.random.default_rng(1))
    single = graphbp.compile(G, dtype=np.float32, dense=True)
    assert single.dense_edges > 0 and single.kernels.plan.blocks
    result = single.backprop(X, T)
    assert result.delta[("x", 0)].dtype == np.float32
    assert_same_result(result, graphbp.backprop(G, X, T), G, tol=1e-5)


def test_vjp_and_the_module_through_dense_blocks(torch):
    from graphbp.torch_module import to_torch

    G = _layered()
    X, T = _set_up(G, "sse", np.random.default_rng(4))
    net = graphbp.compile(G)
    reference = graphbp.backprop(G, X, T)
    grad_x, grad_theta = net.vjp(X, reference.y - T)
    _close(grad_theta, graphbp.gradient_vector(G, reference), 1e-12)
    _close(grad_x, np.stack([reference.delta[i] for i in graphbp.read_network(G).inputs], axis=1), 1e-12)
    module = to_torch(G, dtype=torch.float64)
    assert module._engine(np.dtype(np.float64)).dense_edges > 0
    Xt = torch.tensor(X, requires_grad=True)
    (0.5 * (module(Xt) - torch.as_tensor(T)).square().sum()).backward()
    _close(torch.cat([module.weight.grad, module.bias.grad]).numpy(), grad_theta, 1e-12)
    _close(Xt.grad.numpy(), grad_x, 1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_blas_runs_on_one_thread_inside_the_engine_threads(threads):
    """A Python activation reads BLAS's thread count while the pass runs: 1 (the engine's threads split
    the products); afterwards the setting from before is back."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = []

    def blas_threads():
        return {lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"}

    def probe(a):
        seen.append(blas_threads())
        return a**3 / 3

    G = _layered()
    X, T = _set_up(G, "sse", np.random.default_rng(5))
    hidden = next(j for j in G if G.nodes[j].get("activation") == "tanh")
    G.nodes[hidden]["activation"] = graphbp.Activation("probe", probe, CUBE.derivative, CUBE.second_derivative)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # probe does not compile with numba: it runs as Python
        net = graphbp.compile(G, threads=threads)
    assert net.dense_edges > 0 and PYTHON in net.kernels.codes
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        net.loss_and_gradient(X, T)
        assert blas_threads() == {2}
    assert seen and all(counts == {1} for counts in seen)


def test_bad_dense_options_are_named():
    with pytest.raises(GraphBPError, match="dense must be 'auto', True or False, got 'yes'"):
        graphbp.compile(_layered(), dense="yes")
    with pytest.raises(GraphBPError, match="dense=True needs the numba backend"):
        graphbp.compile(_layered(), backend="numpy", dense=True)


def test_no_group_reaches_the_minimum_on_a_small_graph():
    plan = plan_blocks(graphbp.compile(graphbp.bishop_network(), dense=False).wiring, min_edges=MIN_BLOCK_EDGES)
    assert plan.blocks == () and plan.dense_edges == 0
    assert plan_blocks(graphbp.compile(graphbp.bishop_network(), dense=False).wiring).dense_edges == 12  # 2x3, 3x2
