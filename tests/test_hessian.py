"""Hessians (Bishop §5.4): R-operator products against central differences and torch, and the approximations."""

import copy

import networkx as nx
import numpy as np
import pytest
from derivative_graphs import sample_inputs, softmax_network
from torch_engine import torch_forward, torch_loss

from graphbp import (
    Activation,
    ActivationError,
    Loss,
    LossError,
    NumericalError,
    ShapeError,
    backprop,
    bishop_network,
    forward,
    get_loss,
    get_parameters,
    gradient_vector,
    irregular_network,
    parameter_keys,
    set_parameters,
)
from graphbp.generators import random_dag
from graphbp.hessian import compare_hessians, diagonal_hessian, hessian, hvp, outer_product_hessian
from graph_snapshot import unchanged

ACTIVATIONS = ["identity", "tanh", "logistic", "relu", "leaky_relu", "softplus"]
LOSS_CASES = ["sse_linear", "sse_nonlinear", "bce", "ce"]


def network_and_data(activation, case, n=5, seed=1):
    """A network with every hidden unit on `activation`, outputs and targets fit for the loss."""
    G = softmax_network() if case == "ce" else irregular_network()
    outputs = G.graph["outputs"]
    for node in G:
        if node not in G.graph["inputs"] and node not in outputs:
            G.nodes[node]["activation"] = activation
    if case in ("sse_nonlinear", "bce"):
        for node in outputs:
            G.nodes[node]["activation"] = "logistic" if case == "bce" else activation
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    if case == "ce":
        T = np.concatenate([rng.dirichlet([1.0, 1.0], size=n), rng.dirichlet([1.0, 1.0], size=n)], axis=1)[:, [0, 2, 1, 3]]
    else:
        T = rng.uniform(size=(n, len(outputs))) if case == "bce" else rng.normal(size=(n, len(outputs)))
    loss = {"sse_linear": "sse", "sse_nonlinear": "sse", "bce": "bce", "ce": "ce"}[case]
    return G, X, T, loss


def torch_energy(torch, G, X, T, loss, build=None):
    """E(θ) as a torch function of the flat parameter vector (parameter_keys order)."""
    keys = parameter_keys(G)

    def energy(theta):
        params = {"weight": {}, "bias": {}}
        for (kind, key), value in zip(keys, theta):
            params[kind][key] = value
        a, z, outputs, _ = torch_forward(torch, G, X, params=params)
        return torch_loss(torch, G, a, z, outputs, T, loss) if build is None else build(a, z, outputs)

    return energy, torch.tensor(get_parameters(G))


def gradient_at(G, theta, X, T, loss):
    # deepcopy keeps each unit's predecessor order, hence parameter_keys' order (G.copy() may not)
    H = set_parameters(copy.deepcopy(G), theta)
    return gradient_vector(H, backprop(H, X, T, loss))


@pytest.mark.parametrize("case", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hvp_matches_torch_and_central_differences_of_the_gradient(torch, activation, case):
    G, X, T, loss = network_and_data(activation, case)
    energy, theta = torch_energy(torch, G, X, T, loss)
    reference = torch.autograd.functional.hessian(energy, theta).numpy()
    H = hessian(G, X, T, loss)
    scale = np.abs(reference).max()
    assert scale > 1e-3 and np.abs(H - reference).max() <= 1e-9 * scale  # a case with curvature to compare
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-13 * scale)  # symmetric to rounding

    v = np.random.default_rng(2).normal(size=theta.shape[0])
    product = hvp(G, X, T, v, loss)
    _, torch_product = torch.autograd.functional.hvp(energy, theta, torch.as_tensor(v))
    assert np.abs(product - torch_product.numpy()).max() <= 1e-9 * np.abs(product).max()
    eps = 1e-5
    theta0 = get_parameters(G)
    numeric = (gradient_at(G, theta0 + eps * v, X, T, loss) - gradient_at(G, theta0 - eps * v, X, T, loss)) / (2 * eps)
    assert np.linalg.norm(product - numeric) <= 1e-6 * np.linalg.norm(product)


def test_hessian_worked_by_hand_on_one_tanh_unit():
    # E = ½(w2 tanh(w1 x) − t)² at x = 1, w1 = 0 (biases 0): z = 0, h' = 1, h'' = 0, y = 0, r = −t.
    # ∂²E/∂w1² = (w2 h' x)² + r w2 h''(0) x² = w2², ∂²E/∂w1∂w2 = h' x · (w2 z + r) ... = r = −t,
    # ∂²E/∂w2² = z² = 0. Biases: ∂²E/∂b1² = w2², ∂²E/∂b2² = 1, ∂²E/∂w2∂b2 = z = 0, ∂²E/∂w1∂b2 = w2.
    G = nx.DiGraph([("x", "h", {"weight": 0.0}), ("h", "y", {"weight": 2.0})])
    H = hessian(G, [1.0], [0.5])
    keys = parameter_keys(G)
    assert keys == [("weight", ("x", "h")), ("weight", ("h", "y")), ("bias", "h"), ("bias", "y")]
    expected = np.array([[4.0, -0.5, 4.0, 2.0], [-0.5, 0.0, -0.5, 0.0], [4.0, -0.5, 4.0, 2.0], [2.0, 0.0, 2.0, 1.0]])
    np.testing.assert_allclose(H, expected, atol=1e-15)


def test_hvp_takes_several_directions_and_one_sample():
    G, X, T, loss = network_and_data("tanh", "sse_linear")
    H = hessian(G, X, T, loss)
    V = np.random.default_rng(0).normal(size=(H.shape[0], 3))
    np.testing.assert_allclose(hvp(G, X, T, V, loss), H @ V, atol=1e-12)
    single = hessian(G, X[0], T[0], loss)
    np.testing.assert_allclose(hvp(G, X[0], T[0], V[:, 0], loss), single @ V[:, 0], atol=1e-12)


def test_missing_second_derivative_names_the_node():
    G = nx.DiGraph([("x", "h", {"weight": 0.5}), ("h", "y", {"weight": 1.0})])
    G.nodes["h"]["activation"] = Activation("cube", lambda a: a**3, lambda a: 3 * a**2)
    backprop(G, [1.0], [0.0])  # gradients need no h''
    with unchanged(G), pytest.raises(ActivationError, match="node 'h': activation 'cube' has no second_derivative"):
        hessian(G, [1.0], [0.0])
    with unchanged(G), pytest.raises(ActivationError, match="node 'h'"):
        diagonal_hessian(G, [1.0], [0.0])


def test_loss_without_curvature_and_bad_directions():
    G = nx.DiGraph([("x", "y", {"weight": 0.5})])
    sse = get_loss("sse")
    flat = Loss("flat_sse", None, sse.per_sample, sse.output_delta)
    with unchanged(G), pytest.raises(LossError, match="'flat_sse' has no output_curvature"):
        hvp(G, [1.0], [0.0], [1.0, 0.0], flat)
    with unchanged(G), pytest.raises(ShapeError, match=r"expected \(2,\) or \(2, P\)"):
        hvp(G, [1.0], [0.0], [1.0, 0.0, 0.0])
    with unchanged(G), pytest.raises(ShapeError, match="finite"):
        hvp(G, [1.0], [0.0], [np.nan, 0.0])


def test_outer_product_is_exact_on_a_linear_output_network_at_zero_residual():
    for G in (bishop_network(), random_dag(6, "erdos_renyi", n_inputs=2, n_outputs=2, seed=4, p=0.5)):
        X = sample_inputs(G, 6, seed=3)
        T = forward(G, X).y  # zero residual
        H = hessian(G, X, T)
        np.testing.assert_allclose(outer_product_hessian(G, X, T), H, rtol=0, atol=1e-13 * np.abs(H).max())


@pytest.mark.parametrize("case", ["sse_linear", "sse_nonlinear", "bce", "ce"])
def test_outer_product_misses_exactly_the_residual_term(torch, case):
    # H − H_GN = ∇²_θ Σ_n Σ_k r_nk u_nk(θ) with r held fixed: u = y and r = y − t for sum-of-squares,
    # u = a and r = ∂E_n/∂a_k (canonical cross-entropies). Computed by torch, independently.
    G, X, T, loss = network_and_data("tanh", case)
    Tt = torch.as_tensor(T)

    def residual_term(a, z, outputs):
        A = torch.stack([a[k] for k in outputs], dim=1)
        Y = torch.stack([z[k] for k in outputs], dim=1)
        if case.startswith("sse"):
            return ((Y - Tt).detach() * Y).sum()
        if case == "bce":
            return ((Y - Tt).detach() * A).sum()
        total = torch.stack([Tt[:, [0, 2]].sum(1), Tt[:, [1, 3]].sum(1), Tt[:, [0, 2]].sum(1), Tt[:, [1, 3]].sum(1)], 1)
        return ((Y * total - Tt).detach() * A).sum()

    energy, theta = torch_energy(torch, G, X, T, loss, build=residual_term)
    missing = torch.autograd.functional.hessian(energy, theta).numpy()
    H, outer = hessian(G, X, T, loss), outer_product_hessian(G, X, T, loss)
    np.testing.assert_allclose(H - outer, missing, rtol=0, atol=1e-10 * np.abs(H).max())
    assert np.linalg.norm(missing) > 0.05 * np.linalg.norm(H)  # and here it is far from zero
    assert np.linalg.eigvalsh(outer).min() > -1e-12 * np.abs(outer).max()  # positive semi-definite


def test_diagonal_is_exact_without_off_diagonal_terms():
    # A chain has no pair k ≠ k' to neglect; nor has a two-layer network with sum-of-squares
    # (∂²E_n/∂a_k∂a_k' = 0 between distinct outputs). Bishop's network is both-layer.
    chain = nx.DiGraph([("x", "h1", {"weight": 0.9}), ("h1", "h2", {"weight": -1.2}), ("h2", "y", {"weight": 0.7})])
    chain.nodes["h2"]["activation"] = "logistic"
    for G, X, T in ((chain, [[0.3], [-1.0]], [[0.5], [1.0]]),
                    (bishop_network(), [[0.5, -1.0], [1.0, 0.2]], [[1.0, 0.0], [0.3, -0.4]])):
        np.testing.assert_allclose(diagonal_hessian(G, X, T), np.diag(hessian(G, X, T)), rtol=1e-13, atol=1e-15)


def test_diagonal_neglects_exactly_the_softmax_cross_terms():
    # Bishop's network with one softmax group: exact − approximate ∂²E_n/∂a_j² is
    # h'(a_j)² Σ_{k ≠ k'} w_kj w_k'j ∂²E_n/∂a_k∂a_k', with ∂²E_n/∂a_k∂a_k' = −y_k y_k' (targets sum to 1);
    # times z_i² for w_ji (eq. 5.78). Output weights and biases are exact.
    G = bishop_network()
    for k in ("y1", "y2"):
        G.nodes[k]["activation"] = "softmax"
    X, T = np.array([[0.5, -1.0], [1.0, 0.2], [-0.3, 0.8]]), np.array([[1.0, 0.0], [0.0, 1.0], [0.4, 0.6]])
    result = forward(G, X)
    neglected = {}
    for j in ("z1", "z2", "z3"):
        w1, w2 = G[j]["y1"]["weight"], G[j]["y2"]["weight"]
        slope = 1 - np.tanh(result.a[j]) ** 2
        neglected[j] = slope**2 * 2 * w1 * w2 * (-result.y[:, 0] * result.y[:, 1])
    expected = np.diag(hessian(G, X, T, "ce")).copy()
    for row, (kind, key) in enumerate(parameter_keys(G)):
        j = key[1] if kind == "weight" else key
        if j in neglected:
            expected[row] -= np.sum(neglected[j] * (result.z[key[0]] ** 2 if kind == "weight" else 1.0))
    np.testing.assert_allclose(diagonal_hessian(G, X, T, "ce"), expected, rtol=1e-12, atol=1e-14)


def test_compare_hessians_reports_distances():
    G, X, T, loss = network_and_data("tanh", "sse_linear")
    report = compare_hessians(G, X, T, loss)
    H = hessian(G, X, T, loss)
    assert report.asymmetry < 1e-14
    assert report.outer_product_error == pytest.approx(
        np.linalg.norm(outer_product_hessian(G, X, T, loss) - H) / np.linalg.norm(H))
    # irregular_network shares downstream paths (h1 feeds h2, h3 and y2), so the diagonal is approximate here
    assert 1e-3 < report.diagonal_error < 1.0
    d = diagonal_hessian(G, X, T, loss)
    assert report.diagonal_error == pytest.approx(np.linalg.norm(d - np.diag(H)) / np.linalg.norm(np.diag(H)))
    assert report.diagonal_matrix_error == pytest.approx(np.linalg.norm(np.diag(d) - H) / np.linalg.norm(H))
    np.testing.assert_array_equal(report.exact, H)
    np.testing.assert_array_equal(report.diagonal, d)
    assert report.keys == parameter_keys(G)
    for name, M in (("exact", H), ("outer_product", report.outer_product)):
        values = np.linalg.eigvalsh((M + M.T) / 2)
        assert report.eigenvalues[name] == pytest.approx((values[0], values[-1]), rel=1e-12, abs=1e-12)
    assert report.eigenvalues["outer_product"][0] > -1e-12
    text = str(report)
    assert f"{report.outer_product_error:.3e}" in text and "diagonal vs diag(H)" in text


@pytest.mark.filterwarnings("error::RuntimeWarning")  # named by graphbp, not warned by numpy
def test_a_second_order_overflow_is_named_not_returned():
    # E = ½ (w_yh · w_hx · x)² = ½ is finite, and so is every z and δ; ∂²E/∂w_yh² = z_h² = 1e320 is not
    G = nx.DiGraph([("x", "h", {"weight": 1e160}), ("h", "y", {"weight": 1e-160})])
    G.nodes["h"]["activation"] = "identity"
    x, t = [[1.0]], [[0.0]]
    assert backprop(G, x, t).loss == pytest.approx(0.5)
    both = r"at \(weight \('h', 'y'\), weight \('h', 'y'\)\): an overflow in the second-order pass"
    with pytest.raises(NumericalError, match="the Hessian is inf " + both):
        hessian(G, x, t)
    with pytest.raises(NumericalError, match="the outer-product Hessian is inf " + both):
        outer_product_hessian(G, x, t)
    with pytest.raises(NumericalError, match=r"the diagonal Hessian is inf at \(weight \('h', 'y'\)\)"):
        diagonal_hessian(G, x, t)
    with pytest.raises(NumericalError, match=r"H v is inf at \(weight \('h', 'y'\)\) in direction 1"):
        hvp(G, x, t, np.eye(4))
    # an overflow in the pass itself is named at its node, as backprop names it (was NaN, and a raw OverflowError)
    G.edges["h", "y"]["weight"] = 1e200
    for second_order in (hessian, outer_product_hessian, diagonal_hessian):
        with pytest.raises(NumericalError, match=r"z of node 'y' is inf in sample 0"):
            second_order(G, [[1e10]], t)
