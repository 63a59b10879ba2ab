"""Input-output Jacobians (eqs. 5.70-5.74): both modes, central differences and torch autograd."""

import networkx as nx
import numpy as np
import pytest
from derivative_graphs import irregular_graphs, sample_inputs
from torch_engine import torch_forward

from graphbp import GraphBPError, NumericalError, ShapeError, forward
from graphbp.jacobian import jacobian
from graph_snapshot import unchanged

GRAPHS = irregular_graphs()
IDS = [name for name, _ in GRAPHS]


def central_jacobian(G, X, eps=1e-6):
    """∂y_k/∂x_i by central differences on each input column, per sample."""
    columns = []
    for i in range(X.shape[1]):
        step = np.zeros(X.shape[1])
        step[i] = eps
        columns.append((forward(G, X + step).y - forward(G, X - step).y) / (2 * eps))
    return np.stack(columns, axis=2)


def torch_jacobian(torch, G, X):
    def outputs(inputs):
        _, z, outs, _ = torch_forward(torch, G, inputs)
        return torch.stack([z[k] for k in outs], dim=1)

    full = torch.autograd.functional.jacobian(outputs, torch.as_tensor(X)).numpy()  # (N, K, N, D)
    return np.stack([full[n, :, n, :] for n in range(X.shape[0])])


@pytest.mark.parametrize("G", [G for _, G in GRAPHS], ids=IDS)
def test_modes_agree_with_each_other_central_differences_and_torch(torch, G):
    X = sample_inputs(G, 4)
    reverse, forward_mode = jacobian(G, X, mode="reverse"), jacobian(G, X, mode="forward")
    n_outputs = len(G.graph.get("outputs"))
    assert reverse.shape == (4, n_outputs, X.shape[1])
    assert np.abs(reverse).max() > 1e-2  # not a comparison of zeros
    np.testing.assert_allclose(forward_mode, reverse, rtol=0, atol=1e-13)
    np.testing.assert_allclose(reverse, torch_jacobian(torch, G, X), rtol=0, atol=1e-10)
    np.testing.assert_allclose(reverse, central_jacobian(G, X), rtol=0, atol=1e-8)
    np.testing.assert_array_equal(jacobian(G, X), reverse if X.shape[1] >= n_outputs else forward_mode)


def test_one_sample_gives_a_matrix_worked_by_hand():
    # y = w_yh tanh(w_hx x) + w_yx x with x = 0: ∂y/∂x = w_yh · 1 · w_hx + w_yx = 3·2 − 1 = 5; and
    # a second output z = logistic(w_zh h) gives ∂z/∂x = σ'(0) w_zh · 2 = 0.25 · 4 · 2 = 2.
    G = nx.DiGraph([("x", "h", {"weight": 2.0}), ("h", "y", {"weight": 3.0}), ("x", "y", {"weight": -1.0}),
                    ("h", "z", {"weight": 4.0})])
    G.nodes["z"]["activation"] = "logistic"
    for mode in ("forward", "reverse", "auto"):
        np.testing.assert_allclose(jacobian(G, [0.0], mode=mode), [[5.0], [2.0]], atol=1e-15)


def test_softmax_rows_sum_to_zero():
    # Σ_k y_k = 1 within a softmax group, so each column of the group's rows sums to zero.
    G = GRAPHS[1][1]
    J = jacobian(G, sample_inputs(G, 3))
    np.testing.assert_allclose(J[:, [0, 2], :].sum(axis=1), 0.0, atol=1e-15)
    np.testing.assert_allclose(J[:, [1, 3], :].sum(axis=1), 0.0, atol=1e-15)


def test_bad_mode_and_bad_x():
    G = GRAPHS[0][1]
    with unchanged(G), pytest.raises(GraphBPError, match="unknown Jacobian mode 'sideways'"):
        jacobian(G, [0.0, 0.0], mode="sideways")
    with unchanged(G), pytest.raises(ShapeError, match="expected"):
        jacobian(G, [0.0, 0.0, 1.0])


@pytest.mark.filterwarnings("error::RuntimeWarning")  # named by graphbp, not warned by numpy
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_an_overflow_is_named_not_returned(mode):
    G = nx.DiGraph([("x", "h", {"weight": 1e160}), ("h", "y", {"weight": 1e160})])
    G.nodes["h"]["activation"] = "identity"
    # x = 1e-200: every z finite (y = 1e120), but ∂y/∂x = 1e320 is not
    with pytest.raises(NumericalError, match=r"∂y/∂x is inf for output 'y' and input 'x' in sample 0: an overflow"):
        jacobian(G, [[1e-200]], mode=mode)
    # x = 1: z_y = 1e320 overflows first (was a NaN Jacobian)
    with pytest.raises(NumericalError, match=r"z of node 'y' is inf in sample 1"):
        jacobian(G, [[1e-200], [1.0]], mode=mode)
