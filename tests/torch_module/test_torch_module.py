"""to_torch: the same network as a torch module; its autograd gradients equal graphbp's, and back."""

import math
import socket

import networkx as nx
import numpy as np
import pytest

import graphbp
from graphbp import Activation, ActivationError, GraphBPError, GraphStructureError, NumericalError, ShapeError
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


def _constant_unit():
    """c has no predecessor but is not an input: a unit of bias only, on level 0 beside the inputs."""
    G = nx.DiGraph([("x1", "h", {"weight": 0.7}), ("x2", "h", {"weight": -0.4}), ("c", "h", {"weight": 1.5}),
                    ("h", "y1", {"weight": 1.1}), ("c", "y2", {"weight": -0.8}), ("x1", "y2", {"weight": 0.3})])
    G.graph.update(inputs=["x1", "x2"], outputs=["y1", "y2"])
    G.nodes["c"]["bias"] = 0.5
    return G


GRAPHS = {
    "bishop": graphbp.bishop_network,
    "constant_unit": _constant_unit,
    "irregular": graphbp.irregular_network,  # y1 feeds h3, dead end d
    "skip_mlp": lambda: skip_mlp([3, 6, 6, 3], p_skip=0.4, seed=1),
    "watts_strogatz": lambda: random_dag(80, k=6, p=0.75, n_inputs=4, n_outputs=3, seed=2),
    "erdos_renyi": lambda: random_dag(30, "erdos_renyi", p=0.3, n_inputs=2, n_outputs=3, seed=3),
}


ROUTES = ["compiled", "levels"]


def _module(G, torch, route, dtype=None):
    from graphbp.torch_module import to_torch

    module = to_torch(G, dtype=dtype or torch.float64)
    module.levels_on_cpu = route == "levels"
    return module


def _gradients(module, X):
    """y, and after backward: ∂L/∂X, ∂L/∂θ (weight then bias), as numpy."""
    grads = [X.grad, module.weight.grad, module.bias.grad]
    return grads[0].numpy(), np.concatenate([grads[1].numpy(), grads[2].numpy()])


def _relative(ours, theirs):
    return np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1.0)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_module_gradients_for_x_weight_bias_equal_graphbp(name, loss, route, torch):
    G = GRAPHS[name]()
    X, T = _mixed(G, loss, seed=len(name))
    if loss == "ce" and name == "irregular":  # y1 feeds y2 through h3: each in a group of two with a twin
        softmax_twins(G, seed=1)
        T = np.random.default_rng(1).dirichlet(np.ones(4), size=X.shape[0])
    module = _module(G, torch, route)
    Xt = torch.tensor(X, requires_grad=True)
    y = module(Xt)
    net = graphbp.read_network(G)
    groups = [[net.outputs.index(k) for k in group] for group in net.softmax_groups]
    assert loss != "ce" or min(map(len, groups)) >= 2
    E = _torch_loss(torch, y, T, loss, groups)
    E.backward()
    reference = graphbp.backprop(G, X, T, loss=loss)
    assert reference.loss > 0 and np.any(graphbp.gradient_vector(G, reference) != 0)
    np.testing.assert_allclose(y.detach().numpy(), reference.y, rtol=1e-12, atol=1e-14)
    assert float(E.detach()) == pytest.approx(reference.loss, rel=1e-10)
    grad_x, grad_theta = _gradients(module, Xt)
    assert _relative(grad_theta, graphbp.gradient_vector(G, reference)) <= 1e-12
    assert _relative(grad_x, np.stack([reference.delta[i] for i in net.inputs], axis=1)) <= 1e-12


@pytest.mark.parametrize("route", ROUTES)
def test_float32_module_agrees_with_float64_graphbp(route, torch):
    G = GRAPHS["watts_strogatz"]()
    X, T = _mixed(G, "sse", seed=7)
    module = _module(G, torch, route, dtype=torch.float32)
    Xt = torch.tensor(X, dtype=torch.float32, requires_grad=True)
    y = module(Xt)
    assert y.dtype == torch.float32 and module.weight.grad is None
    _torch_loss(torch, y.double(), T, "sse").backward()
    assert module.weight.grad.dtype == torch.float32
    reference = graphbp.backprop(G, X, T)
    grad_x, grad_theta = _gradients(module, Xt)
    # float32: about 1e-5 relative agreement with float64 (as graphbp.compile(dtype=float32))
    assert _relative(grad_theta, graphbp.gradient_vector(G, reference)) <= 1e-4
    assert _relative(y.detach().double().numpy(), reference.y) <= 1e-5
    module.double()  # the other dtype: the module compiles the graph for it and agrees to float64 precision
    module.zero_grad()
    _torch_loss(torch, module(torch.as_tensor(X)), T, "sse").backward()
    grad_theta = torch.cat([module.weight.grad, module.bias.grad]).numpy()
    rounded = graphbp.set_parameters(G, module.parameter_vector())  # its weights went through float32
    assert _relative(grad_theta, graphbp.gradient_vector(G, graphbp.backprop(rounded, X, T))) <= 1e-12


@pytest.mark.parametrize("route", ROUTES)
def test_gradcheck_on_a_small_graph(route, torch):
    from graphbp.torch_module.bridge import CompiledPass
    from graphbp.torch_module.levels import LevelPass

    G = graphbp.irregular_network()
    X, _ = _mixed(G, "sse", seed=3)
    module = _module(G, torch, route)
    function = CompiledPass if route == "compiled" else LevelPass
    inputs = (torch.tensor(X[:4], requires_grad=True), module.weight.detach().clone().requires_grad_(True),
              module.bias.detach().clone().requires_grad_(True))
    assert torch.autograd.gradcheck(lambda *args: function.apply(module, *args), inputs, eps=1e-6, atol=1e-8)


def _per_node_gradients(torch, G, X, loss_of_y):
    """∂L/∂x, ∂L/∂θ by the independent per-node autograd engine of tests/torch_engine.py."""
    from torch_engine import torch_forward

    a, z, outputs, params = torch_forward(torch, G, X)
    loss_of_y(torch.stack([z[k] for k in outputs], dim=1)).backward()
    net = graphbp.read_network(G)
    keys = graphbp.parameter_keys(G)
    theta = [params["weight"][key] if kind == "weight" else params["bias"][key] for kind, key in keys]
    grad_theta = np.array([0.0 if p.grad is None else float(p.grad) for p in theta])
    return np.stack([a[i].grad.numpy() for i in net.inputs], axis=1), grad_theta


LOSSES_OF_Y = {
    "cross_entropy_on_identity_outputs": lambda torch: (
        lambda y: torch.nn.functional.cross_entropy(y, torch.tensor([0, 2, 1, 1, 0, 2, 2, 1, 0, 1, 2, 0]))
    ),
    "arbitrary": lambda torch: (lambda y: (torch.sin(y[:, :1]) * y.prod(dim=1, keepdim=True)).sum() + y.max()),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("loss_name", sorted(LOSSES_OF_Y))
def test_any_torch_loss_gets_the_gradients_of_an_independent_autograd_formulation(loss_name, route, torch):
    G = random_dag(40, k=4, p=0.75, n_inputs=3, n_outputs=3, seed=11)
    G.nodes[graphbp.read_network(G).outputs[0]]["activation"] = "tanh"
    X, _ = _mixed(G, "sse", seed=11)
    for node in graphbp.read_network(G).outputs:
        G.nodes[node]["activation"] = "identity"
    loss_of_y = LOSSES_OF_Y[loss_name](torch)
    module = _module(G, torch, route)
    Xt = torch.tensor(X, requires_grad=True)
    loss_of_y(module(Xt)).backward()
    grad_x, grad_theta = _gradients(module, Xt)
    expected_x, expected_theta = _per_node_gradients(torch, G, X, loss_of_y)
    assert _relative(grad_theta, expected_theta) <= 1e-12
    assert _relative(grad_x, expected_x) <= 1e-12


@pytest.mark.parametrize("route", ROUTES)
def test_module_between_torch_layers_and_two_passes_in_flight(route, torch):
    """Two forwards before their backwards, each through a torch layer: buffers are never shared."""
    G = GRAPHS["skip_mlp"]()
    module = _module(G, torch, route)
    layer = torch.nn.Linear(5, 3)
    rng = np.random.default_rng(2)
    X1, X2 = torch.tensor(rng.normal(size=(9, 5))), torch.tensor(rng.normal(size=(9, 5)))
    y1, y2 = module(layer(X1)), module(layer(X2))
    (y1.square().sum() + 3 * y2.sum()).backward()
    got = [p.grad.clone() for p in (*module.parameters(), *layer.parameters())]
    expected = []
    for X, loss in ((X1, lambda y: y.square().sum()), (X2, lambda y: 3 * y.sum())):
        for p in (*module.parameters(), *layer.parameters()):
            p.grad = None
        loss(module(layer(X))).backward()
        expected.append([p.grad.clone() for p in (*module.parameters(), *layer.parameters())])
    for ours, first, second in zip(got, *expected):
        assert _relative(ours.numpy(), (first + second).numpy()) <= 1e-12


def test_routes_follow_parameter_updates_and_retain_graph(torch):
    G = GRAPHS["bishop"]()
    for route in ROUTES:
        module = _module(G, torch, route)
        X = torch.tensor([[0.5, -1.0], [1.0, 2.0]])
        with torch.no_grad():
            module.weight.mul_(1.5)
        y = module(X)
        graphbp.set_parameters(H := G.copy(), module.parameter_vector())
        np.testing.assert_allclose(y.detach().numpy(), graphbp.forward(H, X.numpy()).y, rtol=1e-13)
        y.sum().backward(retain_graph=True)
        first = module.weight.grad.clone()
        y.sum().backward(retain_graph=True)
        np.testing.assert_allclose(module.weight.grad.numpy(), 2 * first.numpy(), rtol=1e-13)
        with torch.no_grad():
            module.weight.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_deepcopy_and_state_dict(torch):
    import copy

    module = _module(GRAPHS["irregular"](), torch, "compiled")
    twin = copy.deepcopy(module)
    with torch.no_grad():
        twin.weight.mul_(0.5)
    X = torch.ones((3, 2))
    assert not torch.allclose(module(X), twin(X))
    module.load_state_dict(twin.state_dict())
    np.testing.assert_array_equal(module(X).detach().numpy(), twin(X).detach().numpy())


def test_bad_input_is_named(torch):
    from graphbp.torch_module import to_torch

    module = to_torch(graphbp.bishop_network())
    with pytest.raises(ShapeError, match=r"X has shape \(3, 5\); expected \(N, 2\)"):
        module(torch.ones((3, 5)))
    with pytest.raises(GraphBPError, match="float32 and float64, got torch.float16"):
        to_torch(graphbp.bishop_network(), dtype=torch.float16)
    huge = nx.DiGraph([("x", "y", {"weight": 1e160})])
    with pytest.raises(GraphBPError, match=r"weight \('x', 'y'\) is 1e\+160, beyond float32's range"):
        to_torch(huge, dtype=torch.float32)  # was "parameter vector entry 0 ... is inf", after numpy's cast warning
    assert to_torch(huge, dtype=torch.float64).weight.item() == 1e160
    X = torch.tensor([[np.inf, 0.0]])
    with pytest.raises(NumericalError, match="z of node 'x1' is inf in sample 0"):
        module(X)
    module.levels_on_cpu = True
    with pytest.raises(NumericalError, match="z of node 'x1' is inf in sample 0"):
        module(X)


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
    G.nodes["z2"]["activation"] = Activation("scalar_tanh", np.vectorize(math.tanh), lambda a: 1 - np.tanh(a) ** 2)
    X = torch.tensor([[0.5, -1.0]])
    with pytest.warns(UserWarning, match="does not compile with numba"):
        module = to_torch(G)  # on CPU the compiled engine runs any activation, a user's own included
    assert module(X).detach().numpy() == pytest.approx(graphbp.forward(G, X.numpy()).y, abs=1e-12)
    module.levels_on_cpu = True  # the level loop (the CUDA route) needs a torch version of h
    with unchanged(G), pytest.raises(ActivationError, match="node 'z2': activation 'scalar_tanh' has no torch version"):
        module(X)
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


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


needs_cuda = pytest.mark.skipif(not _cuda_available(), reason="no CUDA GPU (these run where one is present)")


@needs_cuda
@pytest.mark.parametrize("cuda_graph", [True, False])
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
def test_cuda_level_loop_equals_the_compiled_engine(cuda_graph, dtype_name, torch):
    from graphbp.torch_module import to_torch

    dtype = getattr(torch, dtype_name)
    tolerance = 1e-12 if dtype_name == "float64" else 1e-4
    G = GRAPHS["watts_strogatz"]()
    X, T = _mixed(G, "ce", seed=4)
    module = to_torch(G, dtype=dtype, cuda_graph=cuda_graph).cuda()
    for batch in (12, 12, 7):  # a second call of one batch size replays; another size captures again
        Xt = torch.tensor(X[:batch], dtype=dtype, device="cuda", requires_grad=True)
        module.zero_grad()
        y = module(Xt)
        _torch_loss(torch, y.double().cpu(), T[:batch], "ce").backward()
        reference = graphbp.backprop(G, X[:batch], T[:batch], loss="ce")
        grad_theta = torch.cat([module.weight.grad, module.bias.grad]).double().cpu().numpy()
        assert _relative(grad_theta, graphbp.gradient_vector(G, reference)) <= tolerance
        expected_x = np.stack([reference.delta[i] for i in graphbp.read_network(G).inputs], axis=1)
        assert _relative(Xt.grad.double().cpu().numpy(), expected_x) <= tolerance
    runner = module._runners[next(iter(module._runners))][0]
    assert (runner.graphs is not None) == cuda_graph


@needs_cuda
def test_cuda_graph_replay_sees_optimizer_steps(torch):
    from graphbp.torch_module import from_torch, to_torch

    G = GRAPHS["skip_mlp"]()
    X, T = _mixed(G, "sse", seed=9)
    module = to_torch(G, dtype=torch.float64).cuda()
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    Xt, Tt = torch.tensor(X, device="cuda"), torch.tensor(T, device="cuda")
    for _ in range(3):
        optimizer.zero_grad()
        (0.5 * (module(Xt) - Tt).square().sum()).backward()
        optimizer.step()
    from_torch(module)
    y = module(Xt).detach().cpu().numpy()
    np.testing.assert_allclose(y, graphbp.forward(G, X).y, rtol=1e-12, atol=1e-13)
