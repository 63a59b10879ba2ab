"""Each loss's E_n, output δ and output curvature against torch's own loss functions and autograd.

The torch side never calls graphbp: E_n comes from ``mse_loss``,
``binary_cross_entropy_with_logits`` and ``cross_entropy`` (soft targets,
on the logits), δ from autograd and the curvature ∂²E_n/∂a_k∂a_l from autograd's
Hessian. Cross-entropy targets need not sum to one (a mixture, a partial label),
so the Σ_j t_j factor of δ and of the curvature is exercised; logits reach ±800.
"""

import dataclasses

import numpy as np
import pytest

from graphbp import LossError, get_loss, loss_names
from graphbp.activations import get_activation

N, K = 5, 5
GROUPS = [np.array([0, 2, 3]), np.array([1, 4])]  # two softmax groups, interleaved columns


def logits(seed):
    A = np.random.default_rng(seed).normal(scale=2.0, size=(N, K))
    A[0, :3] = [800.0, -800.0, 3.0]  # saturated: exp(800) overflows unless shifted
    return A


def targets(loss, seed):
    rng = np.random.default_rng(seed + 1)
    if loss == "sse":
        return rng.normal(size=(N, K))
    T = rng.uniform(size=(N, K))
    if loss == "ce":
        T[1] = 0.0  # no target at all in a sample: E_n = 0, δ = −t = 0
        T[2, GROUPS[0]] = [1.0, 0.0, 0.0]  # one-hot, sums to 1
    return T


def torch_terms(torch, loss, A, T, activation="tanh"):
    """(E_n, δ, ∂²E_n/∂a∂a) per sample by torch: its loss functions, then autograd."""
    functional = torch.nn.functional
    h = {"tanh": torch.tanh, "logistic": torch.sigmoid, "identity": lambda a: a}[activation]
    T = torch.as_tensor(T)

    def per_sample(A):
        if loss == "sse":
            return 0.5 * functional.mse_loss(h(A), T, reduction="none").sum(dim=1)
        if loss == "bce":
            return functional.binary_cross_entropy_with_logits(A, T, reduction="none").sum(dim=1)
        return sum(functional.cross_entropy(A[:, cols], T[:, cols], reduction="none") for cols in GROUPS)

    a = torch.as_tensor(A).requires_grad_(True)
    E = per_sample(a)
    (delta,) = torch.autograd.grad(E.sum(), a)
    full = torch.autograd.functional.hessian(lambda v: per_sample(v.reshape(N, K)).sum(), a.detach().reshape(-1))
    blocks = full.reshape(N, K, N, K).numpy()
    curvature = np.stack([blocks[n, :, n, :] for n in range(N)])
    return E.detach().numpy(), delta.numpy(), curvature


def graphbp_terms(loss, A, T, activation="tanh", gauss_newton=False):
    entry = get_loss(loss)
    act = get_activation({"sse": activation, "bce": "logistic", "ce": "identity"}[loss])
    if loss == "ce":
        Y = np.empty_like(A)
        for cols in GROUPS:
            shifted = np.exp(A[:, cols] - A[:, cols].max(axis=1, keepdims=True))
            Y[:, cols] = shifted / shifted.sum(axis=1, keepdims=True)
        slope, bend = np.ones_like(A), np.zeros_like(A)
    else:
        Y, slope, bend = act.function(A), act.derivative(A), act.second_derivative(A)
    if gauss_newton:
        bend = np.zeros_like(A)
    groups = GROUPS if loss == "ce" else []
    return (entry.per_sample(A, Y, T, groups), entry.output_delta(A, Y, T, slope, groups),
            entry.output_curvature(A, Y, T, slope, bend, groups))


@pytest.mark.parametrize(("loss", "activation"), [("sse", "tanh"), ("sse", "logistic"), ("sse", "identity"),
                                                  ("bce", "tanh"), ("ce", "tanh")])  # bce, ce: h is fixed
def test_loss_delta_and_curvature_equal_torch(loss, activation, torch):
    A, T = logits(3), targets(loss, 3)
    ours = graphbp_terms(loss, A, T, activation)
    theirs = torch_terms(torch, loss, A, T, activation)
    for name, mine, reference in zip(("E_n", "delta", "curvature"), ours, theirs):
        assert np.isfinite(mine).all(), name
        assert np.abs(reference).max() > 0.1, f"{name}: a trivial case"
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12, err_msg=name)
    assert ours[0][0] > 100 or loss == "sse"  # the saturated sample costs ~800 (no overflow to inf)


def test_cross_entropy_targets_not_summing_to_one_by_hand():
    """One group of two, a = (0, ln 3): y = (1/4, 3/4). t = (0.5, 0.5), Σt = 1; t = (1, 1), Σt = 2."""
    A = np.array([[0.0, np.log(3.0)], [0.0, np.log(3.0)]])
    Y = np.array([[0.25, 0.75], [0.25, 0.75]])
    T = np.array([[0.5, 0.5], [1.0, 1.0]])
    ce, groups = get_loss("ce"), [np.array([0, 1])]
    E = ce.per_sample(A, Y, T, groups)
    np.testing.assert_allclose(E, [-0.5 * np.log(0.25) - 0.5 * np.log(0.75), -np.log(0.25) - np.log(0.75)])
    np.testing.assert_allclose(ce.output_delta(A, Y, T, None, groups), [[-0.25, 0.25], [-0.5, 0.5]])
    # S y_k (I_kl − y_l) with y(1 − y) = 3/16
    curvature = ce.output_curvature(A, Y, T, None, None, groups)
    np.testing.assert_allclose(curvature, [[[3 / 16, -3 / 16], [-3 / 16, 3 / 16]], [[3 / 8, -3 / 8], [-3 / 8, 3 / 8]]])


@pytest.mark.parametrize("loss", ["sse", "bce", "ce"])
def test_gauss_newton_curvature_drops_only_the_residual_term(loss, torch):
    """With h'' = 0 the curvature is the Gauss-Newton one: torch's Hessian of E_n in y, pulled back through h'."""
    A, T = logits(5), targets(loss, 5)
    _, _, gauss_newton = graphbp_terms(loss, A, T, "tanh", gauss_newton=True)
    _, _, exact = graphbp_terms(loss, A, T, "tanh")
    if loss == "sse":  # ∂²E/∂a² = h'² + h''(y − t): only the first part stays
        slope = get_activation("tanh").derivative(A)
        np.testing.assert_allclose(gauss_newton, slope[:, :, None] ** 2 * np.eye(K), rtol=1e-14)
        assert np.abs(exact - gauss_newton).max() > 0.01
    else:  # canonical pairs: the output curvature has no residual term at all
        np.testing.assert_allclose(gauss_newton, exact, rtol=0, atol=0)
        np.testing.assert_allclose(exact, torch_terms(torch, loss, A, T)[2], rtol=1e-10, atol=1e-12)


def test_names_and_aliases():
    assert loss_names() == ["bce", "binary_cross_entropy", "ce", "cross_entropy", "sse", "sum_of_squares"]
    for alias, name in (("sse", "sum_of_squares"), ("bce", "binary_cross_entropy"), ("ce", "cross_entropy")):
        assert get_loss(alias) is get_loss(name) and get_loss(name).name == name
    assert get_loss("ce").output_activation == "softmax" and get_loss("bce").output_activation == "logistic"
    assert get_loss("sse").output_activation is None
    with pytest.raises(LossError, match=r"unknown loss 'hinge'; known: bce, binary_cross_entropy"):
        get_loss("hinge")
    with pytest.raises(LossError, match="unknown loss 3"):
        get_loss(3)


def test_the_loss_table_is_read_only():
    """The entries are shared by every engine: a user's assignment must not change them for everyone."""
    for name in ("sse", "bce", "ce"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            get_loss(name).output_delta = None
