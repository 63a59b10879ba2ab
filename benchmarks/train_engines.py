"""train() on the reference engine beside train(engine="compiled"): seconds per epoch and the ratio.

A RandWire graph (benchmarks/bench.py's M size: WS(3000, 40, 0.75), about 59k edges) learns a
random regression of 256 samples with Adam on the whole batch (batch 256): every epoch is one
gradient evaluation and one update, and G is written after every epoch, as train() always does.
Prints the median seconds per epoch of each engine (from History.wall_time), their ratio (the
target: at least 10), and the largest difference between the two parameter trajectories' ends.

    python benchmarks/train_engines.py                 # about 2 minutes on 2 cores (the reference is slow)
    python benchmarks/train_engines.py --size tiny     # smoke test, seconds
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import graphbp  # noqa: E402
from bench import build  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="M", choices=["tiny", "S", "M", "L", "XL"])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per engine (default 5)")
    args = parser.parse_args(argv)
    G, _, _ = build("randwire", args.size)
    net = graphbp.read_network(G)
    rng = np.random.default_rng(2)
    X, T = rng.normal(size=(args.samples, len(net.inputs))), rng.normal(size=(args.samples, len(net.outputs)))
    print(f"randwire-{args.size}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges; {args.samples} samples, "
          f"whole-batch Adam, {args.epochs} epochs per engine; numba: {graphbp.compiled.numba_available()}")
    seconds, theta = {}, {}
    for engine in ("reference", "compiled"):
        H = G.copy()
        history = graphbp.train(H, X, T, optimizer=graphbp.Adam(1e-3), epochs=args.epochs, progress=False,
                                engine=engine)
        seconds[engine] = statistics.median(np.diff(history.wall_time))
        theta[engine] = graphbp.get_parameters(H)
    print()
    print("| engine | s / epoch (median) |")
    print("|---|---|")
    for engine, value in seconds.items():
        print(f"| {engine} | {value:.4g} |")
    print()
    print(f"reference ÷ compiled: {seconds['reference'] / seconds['compiled']:.1f}x")
    difference = np.abs(theta["compiled"] - theta["reference"]).max() / np.abs(theta["reference"]).max()
    print(f"largest difference of the trained parameters: {difference:.1e} (relative)")
    return 0 if difference < 1e-10 else 1


if __name__ == "__main__":
    sys.exit(main())
