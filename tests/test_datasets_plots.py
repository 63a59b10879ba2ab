"""Generated data sets, the training figures, and the ``graphbp train`` command."""

import json
import re
import subprocess
import sys

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest
from matplotlib.image import imread

from graphbp import GraphBPError, ShapeError, accuracy, backprop, forward, mlp, read_json, train
from graphbp.cli import main
from graphbp.datasets import bishop_fig53, circles, spiral, two_moons, xor
from graphbp.training_plots import plot_decision_regions, plot_fit, plot_loss


# ---- data sets -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, f", [("square", lambda x: x * x), ("sin", np.sin), ("abs", np.abs),
                                     ("heaviside", lambda x: (x >= 0).astype(float))])
def test_bishop_fig53_data(kind, f):
    x, t = bishop_fig53(kind, n=50, seed=4)
    assert x.shape == t.shape == (50, 1)
    assert np.all((-1 < x) & (x < 1))
    np.testing.assert_array_equal(t, f(x))
    np.testing.assert_array_equal(bishop_fig53(kind, n=50, seed=4)[0], x)
    assert not np.array_equal(bishop_fig53(kind, n=50, seed=5)[0], x)


def test_classification_sets_shapes_balance_and_geometry():
    x, t = two_moons(201, noise=0.0, seed=1)
    assert x.shape == (201, 2) and t.shape == (201, 1) and t.sum() == 100
    upper = x[t[:, 0] == 0]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)          # the unit half circle
    x, t = circles(100, noise=0.0, factor=0.3, seed=1)
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[t[:, 0] == 1], 0.3)
    np.testing.assert_allclose(radius[t[:, 0] == 0], 1.0)
    x, t = spiral(301, classes=3, seed=2)
    assert x.shape == (301, 2) and t.shape == (301, 3)
    assert t.sum(axis=0).tolist() == [101, 100, 100] and np.all(t.sum(axis=1) == 1)
    assert np.all(np.hypot(x[:, 0], x[:, 1]) <= 1.0)
    np.testing.assert_array_equal(spiral(301, seed=2)[0], x)
    assert xor()[1][:, 0].tolist() == [0, 1, 1, 0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: bishop_fig53("cube"), "unknown Figure 5.3 function 'cube'; known: square, sin, abs, heaviside"),
        (lambda: bishop_fig53("sin", n=0), "n must be an int >= 1"),
        (lambda: two_moons(1), "n must be an int >= 2"),
        (lambda: circles(10, factor=1.5), r"factor must be in \(0, 1\)"),
        (lambda: spiral(2, classes=3), "n must be an int >= 3"),
    ],
)
def test_dataset_errors(call, message):
    with pytest.raises(GraphBPError, match=message):
        call()


# ---- figures -------------------------------------------------------------------------------------

def test_plot_fit_draws_the_network_and_each_hidden_unit():
    x, t = bishop_fig53("sin", seed=0)
    G = mlp([1, 3, 1], seed=0)
    train(G, x, t, optimizer="L-BFGS-B", epochs=200, progress=False)
    fig, ax = plt.subplots()
    drawn = plot_fit(G, x, t, ax=ax, resolution=50)
    grid = np.linspace(x.min(), x.max(), 50)
    result = forward(G, grid[:, None])
    np.testing.assert_array_equal(drawn["fit"].get_xdata(), grid)
    np.testing.assert_array_equal(drawn["fit"].get_ydata(), result.y[:, 0])
    assert sorted(drawn["hidden"]) == ["h1_1", "h1_2", "h1_3"]
    for node, line in drawn["hidden"].items():
        np.testing.assert_array_equal(line.get_ydata(), np.tanh(result.a[node]))   # z_j = tanh(a_j)
        assert line.get_linestyle() == "--"
    np.testing.assert_array_equal(drawn["data"].get_offsets(), np.column_stack([x[:, 0], t[:, 0]]))
    plt.close(fig)
    with pytest.raises(ShapeError, match="one input and one output"):
        plot_fit(mlp([2, 3, 1], seed=0), x, t)


def test_decision_regions_show_the_predicted_class_of_each_cell(tmp_path):
    # One logistic unit y = σ(x1 − x2): class 1 exactly where x1 ≥ x2.
    G = nx.DiGraph([("x1", "y", {"weight": 1.0}), ("x2", "y", {"weight": -1.0})])
    G.nodes["y"]["activation"] = "logistic"
    x = np.array([[0.0, 0.0], [1.0, 0.2], [0.1, 0.9], [1.0, 1.0]])
    t = np.array([[1.0], [1.0], [0.0], [1.0]])
    fig, ax = plt.subplots(figsize=(4, 3))
    drawn = plot_decision_regions(G, x, t, ax=ax, resolution=21)
    assert drawn["classes"].shape == (21, 21)
    grid = np.linspace(-0.1, 1.1, 21)            # both inputs span [0, 1], plus a 10 % margin
    expected = (grid[None, :] >= grid[:, None]).astype(int)   # row = x2, column = x1; σ(0) = 0.5 is class 1
    np.testing.assert_array_equal(drawn["classes"], expected)
    np.testing.assert_array_equal(np.asarray(drawn["regions"].get_array()).ravel(), expected.ravel())
    assert len(drawn["data"][1].get_offsets()) == 3 and len(drawn["data"][0].get_offsets()) == 1
    fig.savefig(tmp_path / "regions.png", dpi=100)
    plt.close(fig)
    assert imread(tmp_path / "regions.png").shape[:2] == (300, 400)


def test_plot_loss_draws_the_history():
    x, t = two_moons(40, seed=0)
    history = train(mlp([2, 4, 1], output_activation="logistic", seed=0), x, t, loss="bce", optimizer="adam",
                    epochs=5, validation_split=0.25, seed=0, progress=False)
    fig, ax = plt.subplots()
    lines = plot_loss(history, ax=ax)
    np.testing.assert_array_equal(lines["train"].get_ydata(), history.loss)
    np.testing.assert_array_equal(lines["validation"].get_ydata(), history.validation_loss)
    assert ax.get_yscale() == "log" and ax.get_title() == "Adam"
    plt.close(fig)


# ---- the command line ----------------------------------------------------------------------------

def test_train_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    status = main(["train", "--dataset", "moons", "--layers", "2,6,1", "--optimizer", "adam", "--lr", "0.05",
                   "--batch-size", "25", "--epochs", "40", "--validation-split", "0.2", "--seed", "3",
                   "--out", str(out), "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "moons: 25 parameters, 40 epochs" in printed
    summary = json.loads((out / "history.json").read_text())
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0] == "epoch,loss,validation_loss,gradient_norm,wall_time,evaluations" and len(rows) == 42
    assert len(summary["epochs"]) == 41 and summary["epochs"][-1]["evaluations"] == 40 * 7   # 160 samples / 25
    # the saved network is the trained one: its accuracy on the 160 training rows is the one reported
    G = read_json(out / "network.json")
    x, t = two_moons(200, seed=3)
    kept = np.sort(np.random.default_rng(3).permutation(200)[40:])   # graphbp.train's split for seed 3
    assert summary["accuracy"] == accuracy(G, x[kept], t[kept]) and summary["accuracy"] > 0.85
    assert f"training accuracy {summary['accuracy']:.1%}" in printed
    for name in ("loss.png", "decision_regions.png"):
        assert imread(out / name).shape[2] in (3, 4)


def test_train_command_engine_option_gives_the_same_run(tmp_path):
    summaries = {}
    for engine in ("reference", "compiled"):
        assert main(["train", "--dataset", "spiral", "--samples", "60", "--random-dag", "watts_strogatz:30:k=4",
                     "--optimizer", "BFGS", "--epochs", "8", "--engine", engine, "--out", str(tmp_path / engine),
                     "--no-progress"]) == 0
        summaries[engine] = json.loads((tmp_path / engine / "history.json").read_text())
    losses = [[row["loss"] for row in summaries[engine]["epochs"]] for engine in ("reference", "compiled")]
    assert len(losses[0]) == 9
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-10)


def test_train_command_random_dag_and_saved_network(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["train", "--dataset", "sin", "--random-dag", "erdos_renyi:5:p=0.5", "--epochs", "30",
                 "--out", str(first), "--no-progress"]) == 0
    assert imread(first / "fit.png").ndim == 3
    # train further from the saved network: its loss can only start where the first run ended
    assert main(["train", "--dataset", "sin", "--network", str(first / "network.json"), "--epochs", "5",
                 "--out", str(second), "--no-progress"]) == 0
    end_first = json.loads((first / "history.json").read_text())["final_loss"]
    start_second = json.loads((second / "history.json").read_text())["epochs"][0]["loss"]
    assert start_second == pytest.approx(end_first, rel=1e-12)
    x, t = bishop_fig53("sin", seed=0)
    G = read_json(second / "network.json")
    assert backprop(G, x, t).loss / 50 == pytest.approx(
        json.loads((second / "history.json").read_text())["final_loss"], rel=1e-12)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
        (["--dataset", "xor", "--samples", "8"], "xor has exactly 4 samples"),
        (["--epochs", "0"], "argument --epochs: expected an integer from 1 to 1000000, got 0"),
        (["--layers", "2,3,1"], "--layers 2,3,1: this data set needs 1 inputs first and 1 outputs last"),
        (["--layers", "1,x,1"], "--layers takes comma-separated ints"),
        (["--random-dag", "watts_strogatz"], "argument --random-dag: expected KIND:N"),
        (["--random-dag", "lattice:5"], "unknown random graph kind 'lattice'"),
        (["--optimizer", "L-BFGS-B", "--lr", "0.1"], "--lr and --batch-size apply to adam, gd, momentum"),
        (["--optimizer", "gd", "--lr", "-1"], r"argument --lr: expected a finite number in \(0, 10\], got -1"),
        (["--validation-split", "2"], r"argument --validation-split: expected a finite number in \[0, 1\), got 2"),
        (["--loss", "ce"], "'cross_entropy' pairs with softmax outputs"),
        (["--network", "missing.json"], "missing.json"),
        (["--layers", "1,3,1", "--random-dag", "erdos_renyi:4"], "not allowed with argument"),
        (["--engine", "gpu"], "argument --engine: invalid choice: 'gpu'"),
    ],
)
def test_train_command_bad_options_give_one_line(tmp_path, capsys, options, message):
    with pytest.raises(SystemExit) as stopped:
        status = main(["train", "--out", str(tmp_path), "--no-progress", *options])
        raise SystemExit(status)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("graphbp train: error: ")
    assert re.search(message, err), err


def test_train_command_runs_as_a_program(tmp_path):
    done = subprocess.run([sys.executable, "-m", "graphbp", "train", "--dataset", "xor", "--out", str(tmp_path),
                           "--no-progress"], capture_output=True, text=True, check=True)
    assert "xor: 9 parameters" in done.stdout and "training accuracy 100.0%" in done.stdout
