"""``graphbp train --validation-split``: each score over its own rows, the rows graphbp.train held out."""

import csv
import json

import numpy as np
import pytest

import graphbp.cli.train
from graphbp import backprop, forward, read_json
from graphbp.cli import main
from graphbp.datasets import bishop_fig53, spiral, two_moons

RUNS = {  # dataset -> (its samples, loss, options)
    "moons": (two_moons(120, seed=5), "bce", ["--samples", "120", "--layers", "2,3,1", "--optimizer", "adam",
                                             "--lr", "0.05", "--batch-size", "16", "--epochs", "15"]),
    "spiral": (spiral(90, seed=5), "ce", ["--samples", "90", "--layers", "2,5,3", "--epochs", "25"]),
    "sin": (bishop_fig53("sin", 50, 5), "sse", ["--epochs", "30"]),
}


@pytest.mark.parametrize("dataset", RUNS)
@pytest.mark.parametrize("split", [0.25, 0.0])
def test_train_scores_each_split_on_its_own_rows(dataset, split, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(graphbp.cli.train, "write_figures", lambda *args: [])  # the scores are the subject
    (x, t), loss, options = RUNS[dataset]
    status = main(["train", "--dataset", dataset, *options, "--validation-split", str(split), "--seed", "5",
                   "--out", str(tmp_path), "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out.splitlines()
    summary = json.loads((tmp_path / "history.json").read_text())
    G = read_json(tmp_path / "network.json")
    n_held = round(split * len(x))
    shuffled = np.random.default_rng(5).permutation(len(x))   # graphbp.train's draw for seed 5
    held, kept = np.sort(shuffled[:n_held]), np.sort(shuffled[n_held:])
    # The run's own split: its last recorded losses are the mean E_n of the saved network over exactly these rows.
    assert summary["final_loss"] == pytest.approx(backprop(G, x[kept], t[kept], loss=loss).loss / len(kept), rel=1e-9)
    y = forward(G, x).y
    correct = ((y[:, 0] >= 0.5) == (t[:, 0] >= 0.5)) if loss == "bce" else (y.argmax(1) == t.argmax(1))
    first = printed[0]
    if loss != "sse":
        assert summary["accuracy"] == correct[kept].mean()
        assert f"training accuracy {correct[kept].mean():.1%}" in first
    else:
        assert "accuracy" not in summary and "accuracy" not in first
    if not split:
        assert "validation" not in "\n".join(printed) and "validation_samples" not in summary
        return
    assert f"({len(kept)} training samples)" in first
    with open(tmp_path / "history.csv", newline="") as handle:
        validation_loss = np.array([float(row["validation_loss"]) for row in csv.DictReader(handle)])
    assert validation_loss[-1] == pytest.approx(backprop(G, x[held], t[held], loss=loss).loss / n_held, rel=1e-9)
    best = int(np.argmin(validation_loss))
    expected = (f"validation ({n_held} held out): final mean loss {validation_loss[-1]:.4g}"
                + (f", accuracy {correct[held].mean():.1%}" if loss != "sse" else "")
                + f"; lowest validation loss {validation_loss[best]:.4g} at epoch {best}")
    assert printed[1] == expected
    assert summary["best_validation_epoch"] == best and summary["validation_samples"] == n_held
    if loss != "sse":
        assert summary["validation_accuracy"] == correct[held].mean()
