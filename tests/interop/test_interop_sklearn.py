"""scikit-learn MLPs in and out: graphbp's outputs are predict / predict_proba, its gradients scikit-learn's own.

scikit-learn's gradient is read off one plain-SGD ``partial_fit`` step (alpha=0,
momentum=0, the whole batch): (θ_before − θ_after) / η is the gradient of the
mean over samples of graphbp's E_n.
"""

import copy
import warnings

import numpy as np
import pytest

import graphbp
from graphbp.interop import from_sklearn, sklearn_targets, to_sklearn

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
TASKS = ["regression", "multi_output_regression", "binary", "multiclass", "multilabel"]
LOSS = {"regression": "sse", "multi_output_regression": "sse", "binary": "bce", "multiclass": "ce", "multilabel": "bce"}
LEARNING_RATE = 0.1
N = 24


def _data(task, rng):
    x = rng.normal(size=(N, int(rng.integers(1, 5))))
    if task == "regression":
        return x, np.sin(x.sum(axis=1))
    if task == "multi_output_regression":
        return x, rng.normal(size=(N, int(rng.integers(2, 4))))
    if task == "binary":
        return x, np.where(x[:, 0] + rng.normal(scale=0.5, size=N) > 0, "yes", "no")
    if task == "multiclass":
        return x, rng.integers(0, int(rng.integers(3, 5)), size=N)
    return x, (rng.random(size=(N, 3)) < 0.5).astype(int)


def _fitted(sklearn, seed):
    """(estimator, x, y, task): a small MLP fitted for a few SGD epochs on random data."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(seed)
    task = TASKS[seed % len(TASKS)]
    x, y = _data(task, rng)
    kind = MLPRegressor if "regression" in task else MLPClassifier
    estimator = kind(
        hidden_layer_sizes=tuple(int(h) for h in rng.integers(2, 6, size=int(rng.integers(1, 4)))),
        activation=ACTIVATIONS[(seed // len(TASKS)) % len(ACTIVATIONS)], solver="sgd", alpha=0.0, momentum=0.0,
        nesterovs_momentum=False, learning_rate="constant", learning_rate_init=LEARNING_RATE, batch_size=N,
        shuffle=False, max_iter=5, random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # ConvergenceWarning: 5 epochs are meant to stop short
        estimator.fit(x, y)
    return estimator, x, y, task


SEEDS = range(40)   # 40 estimators: every task with every activation, twice


def _expected_outputs(estimator, x, task):
    """predict (regression, one column per target) or predict_proba (binary: the probability of classes_[1])."""
    if "regression" in task:
        return estimator.predict(x).reshape(len(x), -1)
    probabilities = estimator.predict_proba(x)
    return probabilities[:, 1:] if task == "binary" else probabilities


def disagreement(sklearn, seed) -> dict:
    """Largest differences between graphbp and scikit-learn on estimator `seed`: outputs, gradients, loss.

    The gradient is read off one plain-SGD partial_fit step, (θ_before − θ_after) / η.
    """
    estimator, x, y, task = _fitted(sklearn, seed)
    G = from_sklearn(estimator)
    outputs = np.abs(graphbp.forward(G, x).y - _expected_outputs(estimator, x, task)).max()
    result = graphbp.backprop(G, x, sklearn_targets(estimator, y), loss=LOSS[task])
    before = copy.deepcopy((estimator.coefs_, estimator.intercepts_))
    estimator.partial_fit(x, y)
    gradients = 0.0
    for layer in range(1, len(estimator.coefs_) + 1):
        step_w = (before[0][layer - 1] - estimator.coefs_[layer - 1]) / LEARNING_RATE
        step_b = (before[1][layer - 1] - estimator.intercepts_[layer - 1]) / LEARNING_RATE
        grad_w = np.array([[result.grad_weight[(layer - 1, i), (layer, u)] for u in range(step_w.shape[1])]
                           for i in range(step_w.shape[0])]) / N
        grad_b = np.array([result.grad_bias[(layer, u)] for u in range(step_b.shape[0])]) / N
        gradients = max(gradients, np.abs(grad_w - step_w).max(), np.abs(grad_b - step_b).max())
    # scikit-learn's loss_ (before its step) is graphbp's mean E_n, divided by the outputs for squared error
    per_output = len(result.outputs) if task == "multi_output_regression" else 1
    loss = abs(estimator.loss_ - result.loss / N / per_output) / estimator.loss_
    return {"task": task, "outputs": float(outputs), "gradients": float(gradients), "loss": float(loss)}


@pytest.mark.parametrize("seed", SEEDS)
def test_outputs_and_gradients_equal_scikit_learns(sklearn, seed):
    found = disagreement(sklearn, seed)
    assert found["outputs"] <= 1e-12
    assert found["gradients"] <= 1e-9
    assert found["loss"] <= 1e-10


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_round_trip_is_exact_and_written_weights_are_used(sklearn, seed):
    estimator, x, _, task = _fitted(sklearn, seed)
    G = from_sklearn(estimator)
    before = copy.deepcopy((estimator.coefs_, estimator.intercepts_))
    to_sklearn(G, estimator)
    for old, new in zip(before[0] + before[1], estimator.coefs_ + estimator.intercepts_):
        assert np.array_equal(old, new) and old.dtype == new.dtype
    theta = graphbp.get_parameters(G)
    graphbp.set_parameters(G, theta + np.random.default_rng(seed).normal(0, 0.5, theta.size))
    G.remove_edge((0, 0), (1, 0))   # a pruned edge is written as weight 0
    to_sklearn(G, estimator)
    assert estimator.coefs_[0][0, 0] == 0.0
    np.testing.assert_allclose(graphbp.forward(G, x).y, _expected_outputs(estimator, x, task), rtol=0, atol=1e-12)


def test_graphbp_training_improves_the_estimator(sklearn):
    estimator, x, y, _ = _fitted(sklearn, 3)   # multiclass
    G = from_sklearn(estimator)
    t = sklearn_targets(estimator, y)
    before = estimator.score(x, y)
    graphbp.train(G, x, t, loss="ce", optimizer="L-BFGS-B", epochs=100, progress=False)
    to_sklearn(G, estimator)
    assert estimator.score(x, y) == pytest.approx(graphbp.accuracy(G, x, t), abs=1e-12)
    assert estimator.score(x, y) > before


def test_errors(sklearn):
    from sklearn.linear_model import LinearRegression
    from sklearn.neural_network import MLPRegressor

    with pytest.raises(graphbp.GraphBPError, match="expected a scikit-learn MLPClassifier or MLPRegressor, got LinearRegression"):
        from_sklearn(LinearRegression())
    with pytest.raises(graphbp.GraphBPError, match="MLPRegressor is not fitted yet"):
        from_sklearn(MLPRegressor())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poisson = MLPRegressor(hidden_layer_sizes=(2,), loss="poisson", max_iter=2).fit([[0.0], [1.0]], [1.0, 2.0])
    with pytest.raises(graphbp.GraphBPError, match="out_activation_ is 'exp', which graphbp cannot express"):
        from_sklearn(poisson)


def test_to_sklearn_names_what_does_not_fit(sklearn):
    estimator, _, y, _ = _fitted(sklearn, 2)   # binary, identity hidden units
    G = from_sklearn(estimator)
    skip = G.copy()
    skip.add_edge((0, 0), (2, 0), weight=1.0)
    with pytest.raises(graphbp.GraphStructureError, match=r"edge \(\(0, 0\), \(2, 0\)\) does not join consecutive layers"):
        to_sklearn(skip, estimator)
    extra = G.copy()
    extra.add_edge((0, 0), "h", weight=1.0)
    extra.add_edge("h", (2, 0), weight=1.0)
    with pytest.raises(graphbp.GraphStructureError, match="node 'h' is not a unit of a layered network"):
        to_sklearn(extra, estimator)
    changed = G.copy()
    changed.nodes[(1, 0)]["activation"] = "tanh"
    with pytest.raises(graphbp.ActivationError, match=r"node \(1, 0\) has activation 'tanh'; its layer computes 'identity'"):
        to_sklearn(changed, estimator)
    other = from_sklearn(_fitted(sklearn, 7)[0])   # another binary MLP, of other sizes
    with pytest.raises(graphbp.GraphStructureError, match="the graph.s (inputs|outputs) are"):
        to_sklearn(other, estimator)
    with pytest.raises(graphbp.ShapeError, match="label 'maybe' is not one of classes_"):
        sklearn_targets(estimator, ["yes", "maybe"])
