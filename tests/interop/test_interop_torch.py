"""torch.nn.Sequential in and out: graphbp's outputs and gradients are the module's (float64, autograd)."""

import numpy as np
import pytest

import graphbp
from graphbp.interop import from_sequential, to_sequential

SEEDS = range(40)


def _activation(torch, name):
    nn = torch.nn
    return {"tanh": nn.Tanh(), "sigmoid": nn.Sigmoid(), "relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(),
            "softplus": nn.Softplus(), "identity": nn.Identity()}[name]


def _random_sequential(torch, seed):
    """A float64 Sequential: 1-4 Linear layers (some without bias), random activations, Identity and
    Linear-after-Linear included, ending in nothing, an element-wise activation or a softmax."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    ending = ["none", "tanh", "sigmoid", "softmax"][seed % 4]
    sizes = [int(s) for s in rng.integers(1, 6, size=int(rng.integers(2, 6)))]
    sizes[-1] = max(sizes[-1], 2) if ending == "softmax" else sizes[-1]   # a softmax of one unit is constant
    entries = []
    for k in range(len(sizes) - 1):
        entries.append(torch.nn.Linear(sizes[k], sizes[k + 1], bias=bool(rng.random() < 0.8)))
        if k < len(sizes) - 2:
            entries.append(_activation(torch, rng.choice(["tanh", "sigmoid", "relu", "leaky_relu", "softplus", "identity"])))
    if ending == "softmax":
        entries.append(torch.nn.Softmax(dim=-1))
    elif ending != "none":
        entries.append(_activation(torch, ending))
    return torch.nn.Sequential(*entries).double(), ending, sizes


def _loss(torch, y, t, ending):
    """The graphbp loss name for the module's outputs, and that loss in torch (summed over the batch)."""
    if ending == "softmax":
        return "ce", -(t * torch.log(y)).sum()
    if ending == "sigmoid":
        return "bce", -(t * torch.log(y) + (1 - t) * torch.log(1 - y)).sum()
    return "sse", 0.5 * ((y - t) ** 2).sum()


def disagreement(torch, seed) -> dict:
    """Largest differences between graphbp and module `seed` under autograd: outputs, loss, relative gradients."""
    module, ending, sizes = _random_sequential(torch, seed)
    rng = np.random.default_rng(100 + seed)
    x = rng.normal(size=(7, sizes[0]))
    t = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=7)] if ending == "softmax" else rng.random(size=(7, sizes[-1]))
    G = from_sequential(module)
    y = module(torch.as_tensor(x))
    name, loss = _loss(torch, y, torch.as_tensor(t), ending)
    loss.backward()
    result = graphbp.backprop(G, x, t, loss=name)
    gradients = 0.0
    linears = [entry for entry in module if isinstance(entry, torch.nn.Linear)]
    for layer, linear in enumerate(linears, start=1):
        pairs = [(result.grad_weight[(layer - 1, i), (layer, u)], linear.weight.grad[u, i].item())
                 for u in range(linear.out_features) for i in range(linear.in_features)]
        if linear.bias is not None:
            pairs += [(result.grad_bias[(layer, u)], linear.bias.grad[u].item()) for u in range(linear.out_features)]
        gradients = max(gradients, *(abs(ours - theirs) / max(abs(theirs), 1e-2) for ours, theirs in pairs))
    return {
        "ending": ending,
        "outputs": float(np.abs(result.y - y.detach().numpy()).max()),
        "loss": abs(result.loss - loss.item()) / max(abs(loss.item()), 1.0),
        "gradients": float(gradients),
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_outputs_and_gradients_equal_the_modules(torch, seed):
    found = disagreement(torch, seed)
    assert found["outputs"] <= 1e-12
    assert found["loss"] <= 1e-12
    assert found["gradients"] <= 1e-10   # relative, or absolute in units of 1e-2 for smaller gradients


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_round_trip_is_exact_and_written_weights_are_used(torch, seed):
    module, _, sizes = _random_sequential(torch, seed)
    before = [p.detach().clone() for p in module.parameters()]
    G = from_sequential(module)
    to_sequential(G, module)
    assert all(torch.equal(old, new) for old, new in zip(before, module.parameters()))
    theta = graphbp.get_parameters(G)
    kept_bias = {(layer, u) for layer, e in enumerate([m for m in module if isinstance(m, torch.nn.Linear)], 1)
                 if e.bias is not None for u in range(e.out_features)}
    changed = theta + np.random.default_rng(seed).normal(0, 0.5, theta.size)
    for k, (kind, key) in enumerate(graphbp.parameter_keys(G)):
        if kind == "bias" and key not in kept_bias:
            changed[k] = 0.0   # a Linear without bias can only hold 0
    graphbp.set_parameters(G, changed)
    to_sequential(G, module)
    x = np.random.default_rng(seed).normal(size=(5, sizes[0]))
    np.testing.assert_allclose(graphbp.forward(G, x).y, module(torch.as_tensor(x)).detach().numpy(), rtol=0, atol=1e-12)


def test_float32_module_keeps_its_dtype_and_values(torch):
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).float()
    before = [p.detach().clone() for p in module.parameters()]
    to_sequential(from_sequential(module), module)
    assert all(p.dtype == torch.float32 and torch.equal(p, old) for p, old in zip(module.parameters(), before))


def test_softplus_beyond_torchs_threshold_differs_by_at_most_2e_9(torch):
    module = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Softplus()).double()
    G = from_sequential(module)
    x = np.linspace(-40, 40, 81)[:, None]
    gap = np.abs(graphbp.forward(G, x).y - module(torch.as_tensor(x)).detach().numpy())
    a = module[0](torch.as_tensor(x)).detach().numpy()
    assert gap[a <= 20].max() < 1e-15 and gap.max() < 2.1e-9


def test_errors_name_the_entry(torch):
    nn = torch.nn
    with pytest.raises(graphbp.GraphBPError, match="expected a torch.nn.Sequential, got Linear"):
        from_sequential(nn.Linear(2, 2))
    cases = [
        (nn.Sequential(nn.Linear(2, 2), nn.Dropout()), graphbp.ActivationError, r"entry 1 of the Sequential, Dropout"),
        (nn.Sequential(nn.Tanh(), nn.Linear(2, 2)), graphbp.GraphStructureError, r"entry 0 .* comes before any Linear"),
        (nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.ReLU()), graphbp.GraphStructureError,
         r"entry 2 .* right after another activation"),
        (nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=-1), nn.Linear(2, 1)), graphbp.ActivationError,
         r"entry 1 .*Softmax\(dim=-1\) at the end only"),
        (nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.2)), graphbp.ActivationError, r"entry 1 .*LeakyReLU"),
        (nn.Sequential(nn.Linear(2, 3), nn.Linear(2, 1)), graphbp.GraphStructureError,
         r"entry 1 of the Sequential takes 2 features, but the Linear before it gives 3"),
        (nn.Sequential(nn.ReLU()), graphbp.GraphStructureError, r"entry 0 .* comes before any Linear"),
        (nn.Sequential(), graphbp.GraphStructureError, "the Sequential has no Linear layer"),
    ]
    for module, error, message in cases:
        with pytest.raises(error, match=message):
            from_sequential(module)


def test_to_sequential_rejects_a_bias_the_module_cannot_hold(torch):
    module = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1, bias=False)).double()
    G = from_sequential(module)
    G.nodes[(2, 0)]["bias"] = 0.5
    before = [p.detach().clone() for p in module.parameters()]
    with pytest.raises(graphbp.GraphBPError, match=r"node \(2, 0\) has bias 0.5, but Linear layer 2 has no bias"):
        to_sequential(G, module)
    assert all(torch.equal(p, old) for p, old in zip(module.parameters(), before))   # nothing written
