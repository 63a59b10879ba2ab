"""The torch oracle on what the loss-level tests cannot see: whole networks, Hessians and their approximations.

Cross-entropy with targets that do not sum to one (per sample and per group)
through the loss, every δ, the exact Hessian, H v, the outer-product
(Gauss-Newton) Hessian and the diagonal approximation, on a network where one
softmax output feeds another group. torch computes E with its own
``cross_entropy`` / ``binary_cross_entropy_with_logits`` / ``mse_loss``
(``torch_engine.torch_loss``) and differentiates it; graphbp's loss code is not used.
"""

import networkx as nx
import numpy as np
import pytest
from graph_snapshot import assert_same_graph, snapshot, unchanged
from torch_engine import assert_matches_torch, torch_forward, torch_loss

import graphbp
from graphbp import compile, get_parameters, parameter_keys
from graphbp.hessian import diagonal_hessian, hessian, hvp, outer_product_hessian


def two_groups():
    """Softmax group A = {p1, p2}; p1 also feeds q1 of group B = {q1, q2}: δ_p1 has a direct and a routed part."""
    G = nx.DiGraph()
    G.add_weighted_edges_from([
        ("x1", "h1", 0.8), ("x2", "h1", -0.6), ("x1", "h2", 0.5), ("x2", "h2", 0.9),
        ("h1", "p1", 1.2), ("h2", "p1", -0.7), ("h1", "p2", -0.4), ("x1", "p2", 0.6),
        ("p1", "q1", 1.5), ("h2", "q1", 0.3), ("h2", "q2", -1.1), ("x2", "q2", 0.4),
    ])
    G.graph.update(inputs=["x1", "x2"], outputs=["p1", "p2", "q1", "q2"])
    G.nodes["h1"].update(activation="tanh", bias=0.1)
    G.nodes["h2"].update(activation="logistic", bias=-0.2)
    for node, group, bias in (("p1", "A", 0.2), ("p2", "A", -0.1), ("q1", "B", 0.3), ("q2", "B", 0.0)):
        G.nodes[node].update(activation="softmax", softmax_group=group, bias=bias)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 2))
    T = rng.uniform(size=(6, 4))  # no row or group sums to one
    T[1] = 0.0
    T[2] = [1.0, 0.0, 0.5, 0.5]  # group A sums to one, group B too, the sample to two
    return G, X, T


def torch_energy(torch, G, X, T, loss, part="loss"):
    """θ -> E (or the output logits a, or the outputs y), computed by torch alone."""
    keys = parameter_keys(G)

    def function(theta):
        params = {"weight": {}, "bias": {}}
        for (kind, key), value in zip(keys, theta):
            params[kind][key] = value
        a, z, outputs, _ = torch_forward(torch, G, X, params=params)
        if part == "loss":
            return torch_loss(torch, G, a, z, outputs, T, loss)
        return torch.stack([(a if part == "a" else z)[k] for k in outputs], dim=1)

    return function, torch.tensor(get_parameters(G))


@pytest.mark.parametrize("engine", ["reference", "numba", "numpy"])
def test_cross_entropy_with_targets_not_summing_to_one_equals_torch(engine, torch, request):
    G, X, T = two_groups()
    if engine == "numba":
        request.getfixturevalue("numba")  # a skip locally without numba, a failure under CI=true
    result = graphbp.backprop(G, X, T, loss="ce") if engine == "reference" else (
        compile(G, backend=engine).backprop(X, T, loss="ce"))
    assert_matches_torch(torch, G, result, X, T, "ce", tol=1e-12)
    assert np.all(result.delta["p1"][1] == 0) and np.all(result.sample_loss[1] == 0)  # t = 0: nothing to learn


def test_exact_hessian_and_products_equal_torch(torch):
    G, X, T = two_groups()
    energy, theta = torch_energy(torch, G, X, T, "ce")
    reference = torch.autograd.functional.hessian(energy, theta).numpy()
    H = hessian(G, X, T, "ce")
    assert np.abs(reference).max() > 0.1
    np.testing.assert_allclose(H, reference, rtol=0, atol=1e-12 * np.abs(reference).max())
    v = np.random.default_rng(1).normal(size=theta.shape[0])
    product = torch.autograd.functional.hvp(energy, theta, torch.as_tensor(v))[1].numpy()
    np.testing.assert_allclose(hvp(G, X, T, v, "ce"), product, rtol=0, atol=1e-12 * np.abs(product).max())


@pytest.mark.parametrize("loss", ["ce", "bce", "sse"])
def test_outer_product_hessian_equals_torch_gauss_newton(loss, torch):
    """Σ_n J_nᵀ Λ_n J_n, J and Λ from torch: Λ = ∂²E_n/∂a² for the canonical losses, ∂²E_n/∂y² for sse."""
    G, X, T = two_groups()
    if loss != "ce":
        for node in G.graph["outputs"]:
            G.nodes[node].update(activation="logistic" if loss == "bce" else "tanh", softmax_group=None)
        T = np.clip(T, 0.0, 1.0)
    on = "y" if loss == "sse" else "a"
    outputs_of, theta = torch_energy(torch, G, X, T, loss, part=on)
    J = torch.autograd.functional.jacobian(outputs_of, theta).numpy()  # (N, K, W)
    values = torch.as_tensor(outputs_of(theta).detach().numpy())

    def energy_of_outputs(values):
        columns = {k: values[:, c] for c, k in enumerate(G.graph["outputs"])}
        return torch_loss(torch, G, columns, columns, G.graph["outputs"], T, loss)

    N, K = values.shape
    Lambda = torch.autograd.functional.hessian(lambda v: energy_of_outputs(v.reshape(N, K)), values.reshape(-1))
    Lambda = Lambda.reshape(N, K, N, K).numpy()
    expected = sum(J[n].T @ Lambda[n, :, n, :] @ J[n] for n in range(N))
    ours = outer_product_hessian(G, X, T, loss)
    assert np.abs(expected).max() > 0.1
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12 * np.abs(expected).max())


def test_diagonal_hessian_is_exact_where_no_cross_term_is_neglected(torch):
    """Into the outputs, ∂²E/∂w² = Σ_n z_i² ∂²E_n/∂a_j² is exact (eq. 5.78), p1 feeding q1 included:
    its routed term needs the softmax group's first and second derivatives (∂z_m/∂a_j, ∂²z_m/∂a_j²)."""
    G, X, T = two_groups()
    energy, theta = torch_energy(torch, G, X, T, "ce")
    exact = np.diag(torch.autograd.functional.hessian(energy, theta).numpy())
    ours = diagonal_hessian(G, X, T, "ce")
    into_outputs = [row for row, (kind, key) in enumerate(parameter_keys(G))
                    if (key[1] if kind == "weight" else key) in G.graph["outputs"]]
    assert len(into_outputs) == 12 and np.abs(exact[into_outputs]).min() > 1e-4
    np.testing.assert_allclose(ours[into_outputs], exact[into_outputs], rtol=1e-11)
    hidden = [row for row in range(len(exact)) if row not in into_outputs]
    assert np.abs(ours[hidden] - exact[hidden]).max() > 1e-6  # an approximation there, as documented


def test_snapshot_sees_every_kind_of_change():
    """The guard used by every bad-input test can fail: each edit of a graph is reported."""
    G, _, _ = two_groups()
    G.nodes["h1"]["values"] = np.array([1.0, np.nan])
    edits = [
        lambda H: H.nodes["h1"].update(bias=0.1 + 1e-16),
        lambda H: H.nodes["h1"].update(bias=np.float64(0.1)),
        lambda H: H.nodes["h1"]["values"].__setitem__(0, 2.0),
        lambda H: H.edges["x1", "h1"].update(weight=0.8000001),
        lambda H: H.graph["outputs"].reverse(),
        lambda H: H.add_node("new"),
        lambda H: H.remove_edge("p1", "q1"),
        lambda H: H.graph.update(extra=1),
        lambda H: H.nodes["p1"].pop("softmax_group"),
        # same nodes, edges and attributes; only the predecessor order of p1 differs
        lambda H: (H.remove_edge("h1", "p1"), H.add_edge("h1", "p1", weight=1.2)),
    ]
    for edit in edits:
        H = nx.DiGraph(G) if edit is not edits[2] else G.copy()
        H.graph["outputs"] = list(G.graph["outputs"])
        H.nodes["h1"]["values"] = G.nodes["h1"]["values"].copy()
        before = snapshot(H)
        edit(H)
        with pytest.raises(AssertionError, match="the graph's .* changed"):
            assert_same_graph(before, snapshot(H))
    same = nx.DiGraph(G)
    before = snapshot(same)
    same.nodes["h1"]["values"] = same.nodes["h1"]["values"].copy()  # equal values, NaN included
    assert_same_graph(before, snapshot(same))
    with pytest.raises(AssertionError, match="changed"), unchanged(same):
        same.nodes["h2"]["bias"] = 5.0
