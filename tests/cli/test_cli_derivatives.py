"""``graphbp jacobian`` and ``graphbp hessian`` run as a user would: a subprocess."""

import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from graphbp import irregular_network
from graphbp.hessian import hessian
from graphbp.io import write_json
from graphbp.jacobian import jacobian


def run(*args):
    return subprocess.run([sys.executable, "-m", "graphbp", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    path = tmp_path_factory.mktemp("net") / "irregular.json"
    write_json(irregular_network(), path)
    return path


def test_jacobian_saves_the_matrix_and_a_heatmap(network, tmp_path):
    out, png = tmp_path / "J.csv", tmp_path / "J.png"
    done = run("jacobian", str(network), "--x", "0.5,-1", "--mode", "forward", "--save", str(out), "--figure", str(png))
    assert done.returncode == 0, done.stderr
    expected = jacobian(irregular_network(), [0.5, -1.0])
    np.testing.assert_allclose(np.loadtxt(out, delimiter=","), expected, atol=1e-15)
    # saved, not printed: a summary with the largest entry
    assert "singular values" in done.stdout and f"{expected.flat[np.abs(expected).argmax()]:.6g}" in done.stdout
    assert plt.imread(png).shape[:2] == (400, 400)


def test_hessian_over_a_batch_file(network, tmp_path):
    X, T = np.array([[0.5, -1.0], [0.2, 0.3]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    np.savez(tmp_path / "data.npz", x=X, t=T)
    out = tmp_path / "H.npy"
    done = run("hessian", str(network), "--data", str(tmp_path / "data.npz"), "--save", str(out))
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(np.load(out), hessian(irregular_network(), X, T), atol=1e-14)
    assert "w[x1→h1]" in done.stdout and "max |H - H^T|" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["hessian", "{net}", "--x", "0.5,a", "--t", "1,0"], "argument --x: expected numbers separated by commas"),
        (["hessian", "{net}", "--x", "0.5", "--t", "1,0"], "x has shape"),
        (["hessian", "{net}", "--t", "1,0", "--save", "H.txt"], "the file name must end in .npy, .csv"),
        (["jacobian", "{net}", "--x", "0.5,1", "--sample", "3"], "--sample 3 is outside"),
        (["jacobian", "missing.json"], "missing.json"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(network, tmp_path, args, message):
    args = [a.replace("{net}", str(network)).replace("H.txt", str(tmp_path / "H.txt")) for a in args]
    done = run(*args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
