"""to_torch: the same network as a torch module; its autograd gradients equal graphbp's, and back."""

import socket

import networkx as nx
import numpy as np
import pytest

import graphbp
from graphbp import Activation, ActivationError, GraphStructureError
from graphbp.generators import random_dag, skip_mlp
from ddp_worker import ddp_batch, ddp_graph, train_step
from derivative_graphs import softmax_twins
from graph_snapshot import unchanged

ELEMENTWISE = ["identity", "tanh", "logistic", "relu", "leaky_relu", "softplus"]


def _mixed(G, loss, seed):
    """Every activation on the hidden units, outputs fitting `loss`, random biases; a batch of 12."""
    rng = np.random.default_rng(seed)
    net = graphbp.read_network(G)
    for k, j in enumerate(n for n in net.order if n not in net.inputs):
        G.nodes[j]["bias"] = float(rng.normal(scale=0.5))
        if j not in net.outputs:
            G.nodes[j]["activation"] = ELEMENTWISE[k % 6]
        else:
            G.nodes[j]["activation"] = {"sse": ELEMENTWISE[k % 6], "bce": "logistic", "ce": "softmax"}[loss]
    K = len(net.outputs)
    T = {"sse": rng.normal(size=(12, K)), "bce": rng.random(size=(12, K)), "ce": np.eye(K)[rng.integers(K, size=12)]}
    return rng.normal(size=(12, len(net.inputs))), T[loss]


def _torch_loss(torch, y, T, loss, groups=None):
    """E by torch's own loss functions on the module's outputs y; `groups`: column lists of the softmax groups."""
    T, functional = torch.as_tensor(T), torch.nn.functional
    if loss == "sse":
        return 0.5 * functional.mse_loss(y, T, reduction="sum")
    if loss == "bce":
        return functional.binary_cross_entropy(y, T, reduction="sum")
    # log y is a logit vector whose softmax is y: cross_entropy(log y, t) = −Σ_k t_k ln y_k
    return sum(functional.cross_entropy(torch.log(y[:, cols]), T[:, cols], reduction="sum") for cols in groups)


GRAPHS = {
    "bishop": graphbp.bishop_network,
    "irregular": graphbp.irregular_network,  # y1 feeds h3, dead end d
    "skip_mlp": lambda: skip_mlp([3, 6, 6, 3], p_skip=0.4, seed=1),
    "watts_strogatz": lambda: random_dag(80, k=6, p=0.75, n_inputs=4, n_outputs=3, seed=2),
    "erdos_renyi": lambda: random_dag(30, "erdos_renyi", p=0.3, n_inputs=2, n_outputs=3, seed=3),
}


@pytest.mark.parametrize("sparse_levels", [True, False])
@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_to_torch_gradients_equal_graphbp(name, loss, sparse_levels, torch):
    from graphbp.torch_module import to_torch

    G = GRAPHS[name]()
    X, T = _mixed(G, loss, seed=len(name))
    if loss == "ce" and name == "irregular":  # y1 feeds y2 through h3: each in a group of two with a twin
        softmax_twins(G, seed=1)
        T = np.random.default_rng(1).dirichlet(np.ones(4), size=X.shape[0])
    module = to_torch(G, dtype=torch.float64)
    module.sparse_levels = sparse_levels
    y = module(torch.as_tensor(X))
    net = graphbp.read_network(G)
    groups = [[net.outputs.index(k) for k in group] for group in net.softmax_groups]
    assert loss != "ce" or min(map(len, groups)) >= 2
    E = _torch_loss(torch, y, T, loss, groups)
    E.backward()
    reference = graphbp.backprop(G, X, T, loss=loss)
    assert reference.loss > 0 and np.any(graphbp.gradient_vector(G, reference) != 0)
    np.testing.assert_allclose(y.detach().numpy(), reference.y, rtol=1e-12, atol=1e-14)
    assert float(E.detach()) == pytest.approx(reference.loss, rel=1e-10)
    ours = torch.cat([module.weight.grad, module.bias.grad]).numpy()
    theirs = graphbp.gradient_vector(G, reference)
    assert np.abs(ours - theirs).max() <= 1e-10 * max(np.abs(theirs).max(), 1.0)


def test_level_strategy_follows_the_shape_of_the_graph(torch):
    from graphbp.torch_module import to_torch

    assert to_torch(skip_mlp([8, 32, 32, 8], seed=0)).sparse_levels  # 4 levels, wide
    assert not to_torch(random_dag(200, k=4, p=0.75, seed=0)).sparse_levels  # deep, narrow levels


def test_write_back_round_trip_is_exact(torch):
    from graphbp.torch_module import from_torch, to_torch

    G = random_dag(40, k=4, p=0.75, n_inputs=3, n_outputs=2, seed=5)
    module = to_torch(G, dtype=torch.float64)
    np.testing.assert_array_equal(module.parameter_vector(), graphbp.get_parameters(G))
    theta = np.random.default_rng(5).normal(size=module.parameter_vector().size)
    with torch.no_grad():
        module.weight.copy_(torch.as_tensor(theta[: module.weight.numel()]))
        module.bias.copy_(torch.as_tensor(theta[module.weight.numel() :]))
    assert from_torch(module) is G
    np.testing.assert_array_equal(graphbp.get_parameters(G), theta)
    np.testing.assert_array_equal(to_torch(G, dtype=torch.float64).parameter_vector(), theta)
    copy = nx.DiGraph(G)
    from_torch(module, copy)
    np.testing.assert_array_equal(graphbp.get_parameters(copy), theta)


def test_a_training_step_in_torch_lowers_the_graphbp_loss(torch):
    from graphbp.torch_module import from_torch, to_torch

    G = skip_mlp([2, 5, 1], seed=4)
    X, T = np.random.default_rng(4).normal(size=(16, 2)), np.random.default_rng(5).normal(size=(16, 1))
    before = graphbp.backprop(G, X, T).loss
    module = to_torch(G, dtype=torch.float64)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.01)
    for _ in range(5):
        optimizer.zero_grad()
        _torch_loss(torch, module(torch.as_tensor(X)), T, "sse").backward()
        optimizer.step()
    from_torch(module)
    assert graphbp.backprop(G, X, T).loss < before


def test_errors_are_named(torch):
    from graphbp.torch_module import from_torch, to_torch

    G = graphbp.bishop_network()
    G.nodes["z2"]["activation"] = Activation("cube", lambda a: a**3, lambda a: 3 * a**2)
    with unchanged(G), pytest.raises(ActivationError, match="node 'z2' has a user-defined activation 'cube'"):
        to_torch(G)
    module = to_torch(graphbp.bishop_network())
    other = graphbp.bishop_network()
    other.add_edge("x1", "y1", weight=1.0)
    with unchanged(other), pytest.raises(GraphStructureError, match="differ from the module's"):
        from_torch(module, other)


def test_two_process_ddp_gives_the_whole_batch_gradient(torch, tmp_path):
    """gloo on localhost: each rank takes half the samples; DDP averages, so world_size x grad = Σ over all."""
    out = tmp_path / "grad.npy"
    for attempt in range(3):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            torch.multiprocessing.spawn(train_step, args=(2, port, str(out)), nprocs=2, join=True)
            break
        except Exception as err:  # the free port was taken before gloo bound it: try another one
            if "address already in use" not in str(err).lower() or attempt == 2:
                raise
    X, T = ddp_batch()
    _, expected = graphbp.compile(ddp_graph()).loss_and_gradient(X, T)
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-12, atol=1e-14)
