"""Training: the parameter-vector objective, the optimizers against torch.optim, train() and what it learns."""

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import check_grad, minimize

from graphbp import (
    Adam,
    GradientDescent,
    GraphBPError,
    NumericalError,
    ShapeError,
    accuracy,
    backprop,
    forward,
    from_edges,
    get_parameters,
    gradient_vector,
    loss_and_grad,
    mlp,
    parameter_keys,
    random_dag,
    set_parameters,
    train,
)
from graphbp.datasets import bishop_fig53, spiral, two_moons, xor
from graphbp.optimizers import get_optimizer
from torch_engine import torch_forward, torch_loss
from graph_snapshot import unchanged
from optional import require


def irregular_dag(seed=3, n_outputs=2, output_activation="identity"):
    """A random DAG with nonzero biases (so the bias updates are exercised too)."""
    G = random_dag(8, "erdos_renyi", p=0.4, n_inputs=3, n_outputs=n_outputs,
                   output_activation=output_activation, seed=seed)
    rng = np.random.default_rng(seed)
    for node in G:
        if node not in G.graph["inputs"]:
            G.nodes[node]["bias"] = float(rng.normal(scale=0.5))
    return G


def batch(G, n=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, len(G.graph["inputs"]))), rng.normal(size=(n, len(G.graph["outputs"])))


# ---- the parameter vector and its objective -------------------------------------------------------

def test_parameter_round_trip_is_exact_on_a_random_dag():
    G = irregular_dag()
    theta = np.random.default_rng(1).normal(size=len(parameter_keys(G)))
    assert np.array_equal(get_parameters(set_parameters(G, theta)), theta)
    for (kind, key), value in zip(parameter_keys(G), theta):
        stored = G.edges[key]["weight"] if kind == "weight" else G.nodes[key]["bias"]
        assert stored == value


@pytest.mark.parametrize("loss, output_activation", [("sse", "identity"), ("bce", "logistic"), ("ce", "softmax")])
def test_loss_and_grad_equals_backprop_and_passes_scipy_check_grad(loss, output_activation):
    G = irregular_dag(output_activation=output_activation)
    X, T = batch(G)
    if loss == "bce":
        T = (T > 0).astype(float)
    if loss == "ce":
        T = np.eye(2)[(T[:, 0] > 0).astype(int)]
    before = get_parameters(G)
    fun = loss_and_grad(G, X, T, loss=loss)
    theta = before + np.random.default_rng(2).normal(scale=0.3, size=before.size)
    error, grad = fun(theta)
    # the same numbers as backprop on a graph holding theta
    H = set_parameters(G.copy(), theta)
    reference = backprop(H, X, T, loss=loss)
    assert error == pytest.approx(reference.loss, rel=1e-14)
    np.testing.assert_allclose(grad, gradient_vector(H, reference), rtol=1e-13, atol=1e-14)
    # scipy's check_grad: the 2-norm of (analytic − forward differences with step 1.5e-8), which
    # carries O(step) truncation and O(1e-16/step) rounding error, relative to the gradient's norm.
    difference = check_grad(lambda th: fun(th)[0], lambda th: fun(th)[1], theta)
    assert difference / np.linalg.norm(grad) <= 1e-6
    # the function works on a private copy: the user's graph is untouched
    assert np.array_equal(get_parameters(G), before)


def test_loss_and_grad_on_a_subset_of_samples_and_bad_vectors():
    G = irregular_dag()
    X, T = batch(G)
    fun = loss_and_grad(G, X, T)
    theta = get_parameters(G)
    rows = np.array([4, 1])
    assert fun(theta, rows)[0] == pytest.approx(backprop(G, X[rows], T[rows]).loss, rel=1e-14)
    with pytest.raises(ShapeError, match="this network has"):
        fun(theta[:-1])
    bad = theta.copy()
    bad[0] = np.nan
    with pytest.raises(ShapeError, match=r"entry 0 \(weight"):
        fun(bad)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # the error names the node; numpy says nothing first
def test_loss_and_grad_names_the_node_that_overflows():
    G = nx.DiGraph([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": 1.0})])
    G.nodes["h"]["activation"] = "relu"
    fun = loss_and_grad(G, [[1.0]], [[0.0]])
    with pytest.raises(NumericalError, match="node 'y'"):
        fun(np.array([1e200, 1e200, 0.0, 0.0]))


def test_scipy_minimize_works_with_no_glue():
    # y = w x + b fitted to exact data t = 0.5 x − 2: BFGS finds w = 0.5, b = −2.
    G = nx.DiGraph([("x", "y", {"weight": 0.0})])
    x = np.linspace(-1, 1, 5)[:, None]
    result = minimize(loss_and_grad(G, x, 0.5 * x - 2), get_parameters(G), jac=True, method="BFGS", tol=1e-12)
    np.testing.assert_allclose(result.x, [0.5, -2.0], atol=1e-7)


# ---- optimizers against torch.optim ---------------------------------------------------------------

def torch_steps(torch, G, X, T, make_optimizer, steps):
    """Parameters after `steps` steps of a torch optimizer on the mean loss, in our vector order."""
    _, _, _, params = torch_forward(torch, G, X)
    tensors = [params["weight"][key] if kind == "weight" else params["bias"][key] for kind, key in parameter_keys(G)]
    optimizer = make_optimizer(tensors)
    for _ in range(steps):
        optimizer.zero_grad()
        a, z, outputs, _ = torch_forward(torch, G, X, params=params)
        (torch_loss(torch, G, a, z, outputs, T, "sse") / len(X)).backward()
        optimizer.step()
    return np.array([float(p.detach()) for p in tensors])


@pytest.mark.parametrize(
    "ours, theirs, steps",
    [
        (GradientDescent(0.3), lambda torch, p: torch.optim.SGD(p, lr=0.3), 1),
        (GradientDescent(0.3, momentum=0.9), lambda torch, p: torch.optim.SGD(p, lr=0.3, momentum=0.9), 3),
        (Adam(0.05), lambda torch, p: torch.optim.Adam(p, lr=0.05), 1),
        (Adam(0.05, beta1=0.8, beta2=0.99), lambda torch, p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99)), 4),
    ],
)
def test_optimizer_steps_equal_torch_optim(torch, ours, theirs, steps):
    G = irregular_dag()
    X, T = batch(G)
    expected = torch_steps(torch, G, X, T, lambda p: theirs(torch, p), steps)
    start = get_parameters(G)
    history = train(G, X, T, optimizer=ours, epochs=steps, progress=False)
    assert not np.allclose(get_parameters(G), start)
    np.testing.assert_allclose(get_parameters(G), expected, rtol=1e-10, atol=1e-12)
    assert history.evaluations.tolist() == list(range(steps + 1))


def test_optimizer_errors():
    with pytest.raises(GraphBPError, match="learning_rate must be a positive number"):
        GradientDescent(learning_rate=0.0)
    with pytest.raises(GraphBPError, match=r"momentum must be in \[0, 1\)"):
        GradientDescent(momentum=1.0)
    with pytest.raises(GraphBPError, match=r"beta2 must be in \[0, 1\)"):
        Adam(beta2=1.5)
    with pytest.raises(GraphBPError, match="unknown optimizer 'rmsprop'; known: adam, gd, momentum"):
        get_optimizer("rmsprop")


# ---- train(): bookkeeping ------------------------------------------------------------------------

def test_history_records_the_mean_loss_and_the_graph_is_updated_in_place():
    G = irregular_dag()
    X, T = batch(G, n=12)
    before = backprop(G, X, T)
    norm_before = np.linalg.norm(gradient_vector(G, before))
    history = train(G, X, T, optimizer="momentum", epochs=5, progress=False)
    assert history.loss[0] == pytest.approx(before.loss / 12, rel=1e-14)
    assert history.gradient_norm[0] == pytest.approx(norm_before / 12, rel=1e-12)
    after = backprop(G, X, T)
    assert history.loss[-1] == pytest.approx(after.loss / 12, rel=1e-14)
    assert history.gradient_norm[-1] == pytest.approx(np.linalg.norm(gradient_vector(G, after)) / 12, rel=1e-12)
    assert history.epoch.tolist() == [0, 1, 2, 3, 4, 5]
    assert history.wall_time.shape == (6,) and np.isfinite(history.wall_time).all()
    assert history.validation_loss is None
    assert history.message == "ran 5 epochs"


def test_mini_batches_validation_split_and_evaluation_budget():
    G = irregular_dag()
    X, T = batch(G, n=20)
    history = train(G, X, T, optimizer=GradientDescent(0.05), epochs=3, batch_size=6,
                    validation_split=0.25, seed=0, progress=False)
    # 15 training samples in batches of 6: 3 steps per epoch
    assert history.evaluations.tolist() == [0, 3, 6, 9]
    assert history.validation_loss is not None and len(history.validation_loss) == 4
    H = irregular_dag()
    budget = train(H, X, T, optimizer="gd", epochs=100, batch_size=5, max_evaluations=10, progress=False)
    assert budget.loss[-1] == pytest.approx(backprop(H, X, T).loss / 20, rel=1e-14)   # G holds the last step
    # 4 steps per epoch: epochs 1 and 2 use 8, a partial third epoch the last 2
    assert budget.evaluations.tolist() == [0, 4, 8, 10]
    assert "max_evaluations=10" in budget.message
    rows = history.rows()
    assert rows[2]["evaluations"] == 6 and set(rows[0]) == {
        "epoch", "loss", "validation_loss", "gradient_norm", "wall_time", "evaluations"}


def test_callback_sees_the_current_graph_and_can_stop():
    G = irregular_dag()
    X, T = batch(G)
    seen = []

    def callback(epoch, logs):
        seen.append((epoch, logs["loss"], backprop(G, X, T).loss / len(X)))
        return epoch == 3

    history = train(G, X, T, optimizer="adam", epochs=50, callback=callback, progress=False)
    assert len(history.epoch) == 4 and [e for e, _, _ in seen] == [0, 1, 2, 3]
    for _, logged, recomputed in seen:
        assert logged == pytest.approx(recomputed, rel=1e-14)
    assert history.message == "callback stopped training after epoch 3"


def test_seeded_runs_are_reproducible_bit_for_bit():
    X, T = batch(irregular_dag(), n=20)

    def run(seed):
        G = irregular_dag()
        h = train(G, X, T, optimizer=Adam(0.02), epochs=4, batch_size=3, validation_split=0.3, seed=seed,
                  progress=False)
        return get_parameters(G), h

    (theta1, h1), (theta2, h2), (theta3, _) = run(7), run(7), run(8)
    assert np.array_equal(theta1, theta2)
    assert np.array_equal(h1.loss, h2.loss) and np.array_equal(h1.validation_loss, h2.validation_loss)
    assert np.array_equal(h1.gradient_norm, h2.gradient_norm)
    assert not np.array_equal(theta1, theta3)   # the seed does choose the split and the batches


def test_progress_false_is_silent(capsys):
    G = irregular_dag()
    train(G, *batch(G), epochs=3, progress=False)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"epochs": 0}, "epochs must be a positive int"),
        ({"batch_size": 2.5}, "batch_size must be a positive int"),
        ({"max_evaluations": True}, "max_evaluations must be a positive int"),
        ({"validation_split": 1.0}, r"validation_split must be in \[0, 1\)"),
        ({"optimizer": "newton"}, "unknown optimizer 'newton'"),
        ({"optimizer": object()}, "an object with init and step"),
        ({"engine": "gpu"}, "unknown engine 'gpu'; known: auto, reference, compiled"),
    ],
)
def test_train_errors(options, message):
    G = irregular_dag()
    with unchanged(G), pytest.raises(GraphBPError, match=message):
        train(G, *batch(G), progress=False, **options)


ENGINE_RUNS = {
    "gd": dict(optimizer="gd", epochs=15, batch_size=5),
    "momentum": dict(optimizer="momentum", epochs=15, batch_size=5, validation_split=0.25),
    "adam": dict(optimizer=Adam(0.02), epochs=15, batch_size=6),
    "BFGS": dict(optimizer="BFGS", epochs=12),
    "CG": dict(optimizer="CG", epochs=12),
    "L-BFGS-B": dict(optimizer="L-BFGS-B", epochs=12, validation_split=0.25),
}


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("run", sorted(ENGINE_RUNS))
def test_compiled_engine_gives_the_reference_trajectory(run, backend, monkeypatch):
    """Every optimizer: the same θ after every epoch (1e-10), the same History, G updated the same way."""
    if backend == "numba":
        require("numba")
    import graphbp.compiled.backends

    monkeypatch.setattr(graphbp.compiled.backends, "numba_available", lambda: backend == "numba")
    G = random_dag(30, k=4, p=0.75, n_inputs=3, n_outputs=2, seed=8)
    X, T = batch(G, n=24, seed=8)
    trajectories, histories, graphs = {}, {}, {}
    for engine in ("reference", "compiled"):
        graphs[engine] = H = G.copy()
        seen = []
        histories[engine] = train(H, X, T, seed=3, progress=False, engine=engine,
                                  callback=lambda epoch, logs, H=H, seen=seen: seen.append(get_parameters(H)),
                                  **ENGINE_RUNS[run])
        trajectories[engine] = np.array(seen)
    reference, compiled = histories["reference"], histories["compiled"]
    assert len(trajectories["compiled"]) == len(trajectories["reference"]) > 5
    scale = np.abs(trajectories["reference"]).max()
    assert np.abs(trajectories["compiled"] - trajectories["reference"]).max() <= 1e-10 * scale
    assert not np.allclose(trajectories["reference"][-1], trajectories["reference"][0])  # it did train
    for field in ("epoch", "evaluations"):
        np.testing.assert_array_equal(getattr(compiled, field), getattr(reference, field))
    for field in ("loss", "gradient_norm", "validation_loss"):
        if getattr(reference, field) is None:
            assert getattr(compiled, field) is None
        else:
            np.testing.assert_allclose(getattr(compiled, field), getattr(reference, field), rtol=1e-10)
    assert (compiled.optimizer, compiled.message) == (reference.optimizer, reference.message)
    np.testing.assert_allclose(get_parameters(graphs["compiled"]), get_parameters(graphs["reference"]), rtol=1e-10)
    assert all(type(graphs["compiled"].edges[e]["weight"]) is float for e in G.edges)


def test_engine_auto_picks_compiled_from_a_thousand_edges(monkeypatch):
    import graphbp.compiled

    compiled = []
    original = graphbp.compiled.compile_network
    monkeypatch.setattr(graphbp.compiled, "compile_network", lambda *a, **k: compiled.append(1) or original(*a, **k))
    small, large = irregular_dag(), random_dag(150, k=14, p=0.75, n_inputs=3, n_outputs=2, seed=1)
    assert small.number_of_edges() < 1000 <= large.number_of_edges()
    for G, expected in ((small, 0), (large, 1)):
        train(G, *batch(G), epochs=1, progress=False)
        assert len(compiled) == expected


def test_validation_split_must_leave_a_training_sample():
    G = irregular_dag()
    X, T = batch(G, n=2)
    with unchanged(G), pytest.raises(GraphBPError, match="leaves no training sample out of 2"):
        train(G, X, T, validation_split=0.9, progress=False)


# ---- what it learns ------------------------------------------------------------------------------

def test_xor_learned_by_a_2_2_1_tanh_net():
    # ±1 inputs, linear output, sum-of-squares, L-BFGS-B. Some starts end in XOR's known local
    # minima (mean loss 1/16: one pattern wrong); measured 17 of 20 seeds reach 100 %.
    x, t = xor(signed=True)
    solved = []
    for seed in range(20):
        G = mlp([2, 2, 1], seed=seed)
        train(G, x, t, optimizer="L-BFGS-B", epochs=500, progress=False)
        solved.append(accuracy(G, x, t) == 1.0)
    assert solved[0]
    assert sum(solved) >= 15


def test_xor_learned_by_one_hidden_unit_with_skip_connections():
    # Rumelhart, Hinton & Williams' 2-1-1 network: the inputs also feed the output directly, so one
    # hidden unit (an AND detector) suffices. 20 of 20 seeds reach 100 %.
    x, t = xor()
    edges = [("x1", "h"), ("x2", "h"), ("x1", "y"), ("x2", "y"), ("h", "y")]
    solved = []
    for seed in range(10):
        G = from_edges(edges, seed=seed)
        train(G, x, t, optimizer="L-BFGS-B", epochs=500, progress=False)
        solved.append(accuracy(G, x, t) == 1.0)
    assert all(solved)
    np.testing.assert_allclose(forward(G, x).y[:, 0], t[:, 0], atol=1e-2)


@pytest.mark.parametrize(
    "kind, bound",
    [
        # x², sin x are smooth on (−1, 1): three tanh units represent them almost exactly (sin is
        # nearly a single tanh; x² a symmetric pair), so noise-free data is fitted to ~1e-5.
        ("square", 1e-4),
        ("sin", 1e-4),
        # |x| has a corner at 0 that a sum of smooth tanh curves can only round off: the residual
        # sits near x = 0; measured ~3e-4 to 6e-4 over seeds.
        ("abs", 2e-3),
        # The step is approached by ever steeper tanh, which L-BFGS-B reaches only slowly, and 50
        # points leave a gap around 0 the fit can use: looser.
        ("heaviside", 1e-2),
    ],
)
def test_bishop_figure_5_3_fits(kind, bound):
    x, t = bishop_fig53(kind, n=50, seed=0)
    G = mlp([1, 3, 1], seed=0)
    train(G, x, t, optimizer="L-BFGS-B", epochs=1000, progress=False)
    mse = float(np.mean((forward(G, x).y - t) ** 2))   # recomputed, not taken from the history
    assert mse < bound


def test_randwire_dag_learns_the_spiral():
    # A Watts-Strogatz DAG of 30 tanh units with a 3-way softmax: 8 of 10 seeds reach ≥ 95 %.
    x, t = spiral(300, seed=0)
    G = random_dag(30, "watts_strogatz", n_outputs=3, output_activation="softmax", seed=9)
    train(G, x, t, loss="ce", optimizer="L-BFGS-B", epochs=400, progress=False)
    assert accuracy(G, x, t) >= 0.95


def test_lbfgs_beats_gradient_descent_for_the_same_gradient_budget():
    x, t = bishop_fig53("sin", seed=0)
    budget = 60
    G = mlp([1, 3, 1], seed=1)
    lbfgs = train(G, x, t, optimizer="L-BFGS-B", max_evaluations=budget, progress=False)
    assert lbfgs.evaluations[-1] <= budget
    assert lbfgs.loss[-1] == pytest.approx(backprop(G, x, t).loss / len(x), rel=1e-14)
    # Give plain gradient descent its best learning rate among several.
    best_gd = min(
        train(mlp([1, 3, 1], seed=1), x, t, optimizer=GradientDescent(rate), max_evaluations=budget,
              progress=False).loss[-1]
        for rate in (0.1, 0.3, 1.0, 3.0)
    )
    assert lbfgs.loss[-1] < best_gd / 10


def test_moons_with_adam_mini_batches_and_validation():
    x, t = two_moons(200, seed=0)
    G = mlp([2, 8, 1], output_activation="logistic", seed=0)
    history = train(G, x, t, loss="bce", optimizer=Adam(0.05), epochs=60, batch_size=20, validation_split=0.2,
                    seed=0, progress=False)
    assert accuracy(G, x, t) >= 0.97
    assert history.validation_loss[-1] < history.validation_loss[0] / 5


def test_accuracy_on_one_sample_and_bad_targets():
    G = mlp([2, 3, 2], output_activation="softmax", seed=0)
    x = np.array([0.5, -1.0])
    predicted = int(np.argmax(forward(G, x).y))
    assert accuracy(G, x, np.eye(2)[predicted]) == 1.0
    assert accuracy(G, x, np.eye(2)[1 - predicted]) == 0.0
    with unchanged(G), pytest.raises(ShapeError, match="x has 2 samples but t has 3"):
        accuracy(G, np.zeros((2, 2)), np.eye(2)[[0, 1, 0]])
    with unchanged(G), pytest.raises(ShapeError, match="t"):
        accuracy(G, np.zeros((2, 2)), np.zeros((2, 3)))
