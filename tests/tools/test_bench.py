"""The benchmark script runs (at the tiny size) and prints a full table; speed itself is never asserted."""

import os
import subprocess
import sys

import numpy as np
import pytest
from optional import require

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "bench.py")


def test_benchmark_script_runs_at_tiny_size():
    require("numba")
    done = subprocess.run([sys.executable, SCRIPT, "--size", "tiny", "--repeats", "2", "--no-torch"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ") and "tiny" in line]
    engines = {(row[0].strip(), row[6].strip(), row[7].strip()) for row in rows}
    for family in ("layered", "randwire"):
        for engine, threads in [("reference", "1"), ("numba", "1"), ("numba", "2"), ("numpy", "1"),
                                ("float32", "1"), ("float32", "2")]:
            assert (family, engine, threads) in engines
    for row in rows:
        edges, batch, seconds, rate = int(row[3]), int(row[5]), float(row[8]), float(row[9])
        assert seconds > 0 and rate == pytest.approx(edges * batch / seconds, rel=0.01)
    assert "streaming bandwidth" in done.stdout and "bytes per edge-sample assumed: 16 (float64)" in done.stdout


def test_benchmark_targets_table_times_the_module_beside_the_engine_and_torch(torch):
    """With torch: the targets table has a row per thread count, timed in one process (ratios are not asserted)."""
    require("numba")
    done = subprocess.run([sys.executable, SCRIPT, "--size", "tiny", "--family", "layered", "--repeats", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    table = done.stdout.split("Targets:", 1)[1]
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| layered | tiny")]
    assert [row[2].strip() for row in rows] == ["1", "2"]
    for row in rows:
        rounds, module, compiled, ratio, baseline, its, speedup = row[3:]
        assert int(rounds) >= 5 and baseline.strip() in ("torch-stacked", "torch-index_add")
        assert float(ratio) == pytest.approx(float(module) / float(compiled), rel=0.5)  # a median of ratios, not a ratio of medians
        assert float(its) > 0 and float(speedup) > 0


@pytest.mark.parametrize("kind", ["stacked", "index_add"])
def test_hand_written_torch_baselines_compute_graphbps_gradients(kind, torch):
    """The benchmark's baselines are honest: the same y and ∂E/∂θ as graphbp on an irregular graph."""
    sys.path.insert(0, os.path.dirname(SCRIPT))
    from torch_baselines import HandWritten

    import graphbp
    from graphbp.generators import random_dag

    G = random_dag(60, k=6, p=0.75, n_inputs=4, n_outputs=3, seed=4)
    for k, node in enumerate(G):
        if node not in G.graph["inputs"] and node not in G.graph["outputs"]:
            G.nodes[node]["activation"] = ["tanh", "relu", "logistic", "softplus"][k % 4]
            G.nodes[node]["bias"] = 0.1 * (k % 5)
    rng = np.random.default_rng(4)
    X, T = rng.normal(size=(9, 4)), rng.normal(size=(9, 3))
    module = HandWritten(G, kind)
    (0.5 * (module(torch.as_tensor(X)) - torch.as_tensor(T)).square().sum()).backward()
    expected = graphbp.gradient_vector(G, graphbp.backprop(G, X, T))
    ours = torch.cat([module.weight.grad, module.bias.grad]).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


def test_gpu_script_smoke_runs_the_level_loop_on_the_cpu(torch):
    require("numba")
    script = os.path.join(os.path.dirname(SCRIPT), "gpu.py")
    done = subprocess.run([sys.executable, script, "--device", "cpu", "--size", "tiny", "--batch", "8", "--repeats", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| layered-tiny")
            or line.startswith("| randwire-tiny")]
    engines = [(row[0].strip(), row[5].strip(), row[6].strip()) for row in rows if len(row) == 10]
    for graph in ("layered-tiny", "randwire-tiny"):
        assert (graph, "compiled CPU", "float64") in engines
        assert (graph, "eager level loop", "float64") in engines and (graph, "eager level loop", "float32") in engines
    for row in rows:
        if len(row) == 10 and row[9].strip():
            assert float(row[9]) <= (1e-12 if row[6].strip() == "float64" else 1e-5)  # ∂E/∂θ agrees


def test_train_engines_script_runs_at_tiny_size():
    script = os.path.join(os.path.dirname(SCRIPT), "train_engines.py")
    done = subprocess.run([sys.executable, script, "--size", "tiny", "--samples", "16", "--epochs", "3"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr   # non-zero: the two trajectories differ
    assert "reference ÷ compiled:" in done.stdout
