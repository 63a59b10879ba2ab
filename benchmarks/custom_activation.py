"""A user's registered activation in the compiled numba engine, against the built-in tanh.

Run: ``PYTHONPATH=$PWD python benchmarks/custom_activation.py [--repeats 20]``. Registers
softsign h(a) = a / (1 + |a|) with numpy-expressible h, h', h'', builds the same random DAG with
every hidden unit tanh and with every hidden unit softsign, and times
``CompiledNetwork.loss_and_gradient`` on both (median seconds per call). The issue's target:
softsign at most 2x tanh.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import graphbp


def softsign(a):
    return a / (1.0 + np.abs(a))


def softsign_derivative(a):
    return 1.0 / (1.0 + np.abs(a)) ** 2


def softsign_second_derivative(a):
    return -2.0 * np.sign(a) / (1.0 + np.abs(a)) ** 3


def network(activation: str):
    return graphbp.random_dag(400, kind="watts_strogatz", n_inputs=8, n_outputs=4, activation=activation, seed=1)


def seconds_per_call(net, x, t, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        net.loss_and_gradient(x, t)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="numba threads (1: steadier on a shared machine)")
    args = parser.parse_args()
    graphbp.register_activation("softsign", softsign, softsign_derivative, softsign_second_derivative)
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(args.batch, 8)), rng.normal(size=(args.batch, 4))
    nets = {name: graphbp.compile(network(name), backend="numba", threads=args.threads) for name in ("tanh", "softsign")}
    for net in nets.values():
        net.loss_and_gradient(x, t)  # first call compiles
    times = {name: [] for name in nets}
    for _ in range(5):  # interleaved rounds
        for name, net in nets.items():
            times[name] += seconds_per_call(net, x, t, max(1, args.repeats // 5))
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in median.items():
        print(f"{name:9s} {1e3 * seconds:8.2f} ms per loss_and_gradient (400-node random DAG, N={args.batch}, numba, {args.threads} thread(s))")
    print(f"ratio softsign / tanh: {median['softsign'] / median['tanh']:.2f}")


if __name__ == "__main__":
    main()
