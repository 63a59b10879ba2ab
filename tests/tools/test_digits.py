"""The digits data set, `graphbp train --dataset digits`, and the scripts that train on it."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphbp
from graphbp.datasets import digits

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_are_scikit_learns_images_in_a_seeded_order(sklearn):
    from sklearn.datasets import load_digits

    x, t = digits(seed=1)
    images = load_digits()
    order = np.random.default_rng(1).permutation(1797)
    np.testing.assert_array_equal(x, images.data[order] / 16.0)
    np.testing.assert_array_equal(t.argmax(axis=1), images.target[order])
    assert np.array_equal(t.sum(axis=1), np.ones(1797)) and x.min() == 0.0 and x.max() == 1.0
    assert np.array_equal(digits(n=10, seed=1)[0], x[:10])
    assert np.array_equal(digits(seed=1)[0], x)


@pytest.mark.parametrize("n", [0, 1798, 2.5])
def test_digits_rejects_a_bad_count(sklearn, n):
    with pytest.raises(graphbp.GraphBPError, match="n must be"):
        digits(n=n)


def test_cli_trains_on_digits(sklearn, tmp_path, capsys):
    from graphbp.cli import main

    status = main(["train", "--dataset", "digits", "--samples", "200", "--layers", "64,8,10", "--epochs", "30",
                   "--no-progress", "--out", str(tmp_path)])
    assert status == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("digits: 610 parameters")
    summary = json.loads((tmp_path / "history.json").read_text())
    assert summary["dataset"] == "digits" and summary["loss_name"] == "ce"
    assert summary["accuracy"] > 0.9    # training accuracy of 8 hidden units on 200 images
    G = graphbp.read_json(tmp_path / "network.json")
    assert G.graph["outputs"] == [f"y{k}" for k in range(1, 11)]


def test_compiled_fit_of_the_digits_benchmark(sklearn):
    """The benchmark's objective (mean cross-entropy + ½λ‖w‖² on the compiled engine) descends, and its
    gradient is the reference engine's plus λw."""
    bench = _script("digits")
    x, t = digits(n=200, seed=0)
    G = graphbp.random_dag(20, "watts_strogatz", k=4, p=0.75, n_inputs=64, n_outputs=10,
                           output_activation="softmax", seed=0)
    before = graphbp.backprop(G, x, t, loss="ce").loss / len(x)
    weights = graphbp.get_parameters(G)[: G.number_of_edges()]
    fit = bench.fit_compiled(G, x, t, weight_decay=1e-2, iterations=20)
    assert fit.fun < before + 0.5e-2 * weights @ weights
    theta = graphbp.get_parameters(G)
    assert np.array_equal(theta, fit.x)   # written back into G
    error, gradient = graphbp.loss_and_grad(G, x, t, loss="ce")(theta)
    decay = np.zeros_like(theta)
    decay[: G.number_of_edges()] = theta[: G.number_of_edges()]
    assert fit.fun == pytest.approx(error / len(x) + 0.5e-2 * decay @ decay, rel=1e-12)


def test_neat_example_runs_and_improves_the_fitness(neat):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "neat_xor.py"), "--generations", "20"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    before, after = (float(line.split("fitness ")[1].split(";")[0]) for line in done.stdout.splitlines())
    assert after > before and after > 3.99
