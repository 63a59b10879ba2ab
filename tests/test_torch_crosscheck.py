"""graphbp against an independent engine (PyTorch autograd, float64) on many random networks.

For every builder and every loss, 50 seeded random networks with a random mix of
activations: the loss, every δ_j, every ∂E/∂w and ∂E/∂b agree to 1e-10.
"""

import networkx as nx
import numpy as np
import pytest

from graphbp import backprop, from_edges, mlp, random_dag, read_network, skip_mlp
from derivative_graphs import softmax_twins
from torch_engine import assert_matches_torch

ELEMENTWISE = ["identity", "tanh", "logistic", "relu", "leaky_relu", "softplus"]
OUTPUT_ACTIVATIONS = [name for name in ELEMENTWISE if name != "relu"]
SEEDS = range(50)


def _random_edges(rng):
    """An edge list for from_edges: a random upper-triangular DAG on shuffled names."""
    n = int(rng.integers(4, 12))
    names = [f"n{k}" for k in rng.permutation(n)]
    edges = [(names[u], names[v]) for u in range(n) for v in range(u + 1, n) if rng.random() < 0.35]
    edges += [(names[u], names[u + 1]) for u in range(n - 1)]  # a spine keeps it connected
    return list(dict.fromkeys(edges))


BUILDERS = {
    "mlp": lambda rng, seed: mlp([int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 4)),
                                  int(rng.integers(1, 4))], seed=seed),
    "skip_mlp": lambda rng, seed: skip_mlp([int(rng.integers(1, 4)), int(rng.integers(2, 5)),
                                            int(rng.integers(2, 5)), int(rng.integers(1, 4))],
                                           p_skip=0.4, seed=seed),
    "erdos_renyi": lambda rng, seed: random_dag(int(rng.integers(3, 16)), "erdos_renyi", p=0.3,
                                                n_inputs=int(rng.integers(1, 4)), n_outputs=int(rng.integers(1, 4)),
                                                seed=seed),
    "watts_strogatz": lambda rng, seed: random_dag(int(rng.integers(5, 16)), "watts_strogatz", k=4, p=0.75,
                                                   n_inputs=int(rng.integers(1, 4)),
                                                   n_outputs=int(rng.integers(1, 4)), seed=seed),
    "barabasi_albert": lambda rng, seed: random_dag(int(rng.integers(3, 16)), "barabasi_albert", m=2,
                                                    n_inputs=int(rng.integers(1, 4)),
                                                    n_outputs=int(rng.integers(1, 4)), seed=seed),
    "from_edges": lambda rng, seed: from_edges(_random_edges(rng), seed=seed),
}


def _with_loss(G, loss, rng):
    """Random hidden activations and biases; outputs set up for `loss`."""
    net = read_network(G)
    for j in net.order:
        if j in net.inputs:
            continue
        G.nodes[j]["bias"] = float(rng.normal(scale=0.5))
        if j in net.outputs:
            # no relu output: dead on every sample of a small batch, it would leave every gradient 0
            G.nodes[j]["activation"] = {"sse": OUTPUT_ACTIVATIONS[rng.integers(len(OUTPUT_ACTIVATIONS))],
                                        "bce": "logistic", "ce": "softmax"}[loss]
        else:
            G.nodes[j]["activation"] = ELEMENTWISE[rng.integers(len(ELEMENTWISE))]
    if loss == "ce" and len(net.outputs) == 1:  # a softmax group of one: y = 1, E = 0, nothing to compare
        softmax_twins(G, seed=int(rng.integers(1000)))
        net = read_network(G)
    n = int(rng.integers(1, 6))
    X = rng.normal(size=(n, len(net.inputs)))
    K = len(net.outputs)
    if loss == "sse":
        T = rng.normal(size=(n, K))
    elif loss == "bce":
        T = rng.random(size=(n, K))
    else:
        T = np.eye(K)[rng.integers(K, size=n)]
    return X, T


@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_matches_torch_on_50_random_networks(builder, loss, torch):
    worst = 0.0
    for seed in SEEDS:
        rng = np.random.default_rng([seed, len(builder), len(loss)])
        G = BUILDERS[builder](rng, seed)
        X, T = _with_loss(G, loss, rng)
        worst = max(worst, assert_matches_torch(torch, G, backprop(G, X, T, loss=loss), X, T, loss, tol=1e-10))
    assert worst < 1e-10


def test_matches_torch_on_a_bigger_randwire_graph(torch):
    G = random_dag(300, "watts_strogatz", k=8, p=0.75, n_inputs=6, n_outputs=4, seed=7)
    rng = np.random.default_rng(7)
    X, T = _with_loss(G, "sse", rng)
    assert_matches_torch(torch, G, backprop(G, X, T), X, T, "sse", tol=1e-10)


def test_engine_would_notice_a_wrong_gradient(torch):
    """The cross-check can fail: perturb one δ and it must."""
    G = nx.DiGraph([("x", "h", {"weight": 0.5}), ("h", "y", {"weight": 2.0})])
    X, T = np.array([[1.0]]), np.array([[0.0]])
    result = backprop(G, X, T)
    result.delta["h"] = result.delta["h"] * (1 + 1e-8)
    with pytest.raises(AssertionError, match="differ"):
        assert_matches_torch(torch, G, result, X, T, "sse")
