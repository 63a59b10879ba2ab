"""The benchmark script runs (at the tiny size) and prints a full table; speed itself is never asserted."""

import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "bench.py")


def test_benchmark_script_runs_at_tiny_size():
    pytest.importorskip("numba")
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
