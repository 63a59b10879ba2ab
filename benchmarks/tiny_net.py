"""Per-call cost on a tiny network: Bishop's 2-3-2 net, one sample, beside a plain networkx loop.

Run: ``PYTHONPATH=$PWD python benchmarks/tiny_net.py [--repeats 6000] [--block 200]``. Times, in one process and
interleaved, (1) a plain Python loop over the networkx graph doing the same maths (topological
order, eqs. 5.48-5.56, sum-of-squares) on numpy arrays over the batch like the reference engine
(and, for information, the same loop on Python floats), (2) ``graphbp.backprop`` (reference engine) and
(3) ``CompiledNetwork.backprop`` on a network compiled once (numba when installed, else numpy).
Prints the median µs per call and the ratios to the loop.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import networkx as nx
import numpy as np

import graphbp

X, T = [1.0, -0.5], [0.3, -0.2]


def plain_loop(G, x, t, tanh=np.tanh, total=np.dot, batch=np.atleast_2d):
    """The same maths as graphbp.backprop straight off the graph, no checks: a dict per quantity.

    With the numpy defaults every a_j, z_j, δ_j is an array over the batch (here N = 1), as in the
    reference engine; with ``plain_loop_floats`` they are Python floats (one sample only).
    """
    X, T = batch(x), batch(t)
    order = list(nx.topological_sort(G))
    a, z = {}, {}
    for column, n in enumerate(G.graph["inputs"]):
        a[n] = z[n] = X[:, column]
    for j in order:
        if j in a:
            continue
        a[j] = G.nodes[j].get("bias", 0.0) + sum(G[i][j]["weight"] * z[i] for i in G.predecessors(j))
        z[j] = tanh(a[j]) if G.nodes[j].get("activation") == "tanh" else a[j]
    outputs = G.graph["outputs"]
    loss = 0.5 * sum(total(z[k] - T[:, column], z[k] - T[:, column]) for column, k in enumerate(outputs))
    delta = {}
    for j in reversed(order):
        through = sum(G[j][k]["weight"] * delta[k] for k in G.successors(j))
        slope = 1.0 - z[j] ** 2 if G.nodes[j].get("activation") == "tanh" else 1.0
        direct = z[j] - T[:, outputs.index(j)] if j in outputs else 0.0
        delta[j] = direct + slope * through
    grad_weight = {(i, j): total(delta[j], z[i]) for i, j in G.edges}
    return loss, delta, grad_weight


def plain_loop_floats(G, x, t):
    """:func:`plain_loop` on floats (math.tanh, products instead of dot products)."""
    return plain_loop(G, x, t, tanh=math.tanh, total=lambda u, v: u * v, batch=lambda v: _Row(v))


class _Row(list):
    """A one-sample 'batch' whose [:, k] is the k-th float."""

    def __getitem__(self, index):
        return list.__getitem__(self, index[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=6000, help="calls of each contender")
    parser.add_argument("--block", type=int, default=200, help="calls in a row before the next contender's turn")
    args = parser.parse_args()
    G = graphbp.bishop_network()
    compiled = graphbp.compile(G)
    loss, _, grad = plain_loop(G, X, T)
    reference = graphbp.backprop(G, X, T)
    assert abs(plain_loop_floats(G, X, T)[0] - loss) < 1e-12
    assert abs(loss - reference.loss) < 1e-12 and all(abs(grad[e] - reference.grad_weight[e]) < 1e-12 for e in grad)
    contenders = {
        "plain networkx loop": lambda: plain_loop(G, X, T),
        "plain networkx loop, floats": lambda: plain_loop_floats(G, X, T),
        "graphbp.backprop (reference)": lambda: graphbp.backprop(G, X, T),
        f"CompiledNetwork.backprop ({compiled.backend})": lambda: compiled.backprop(X, T),
    }
    for fn in contenders.values():  # warm-up (numba's first call compiles)
        fn()
    # Short blocks of calls of each contender in turn, the ratios taken per round: this machine's
    # speed drifts by up to 2x within a second (other tenants), and blocks a few milliseconds apart
    # see the same speed. A block (not single calls in turn) keeps each contender's caches warm, as
    # in a loop that calls it. Medians over the rounds are printed.
    times = {name: [] for name in contenders}
    for _ in range(max(1, args.repeats // args.block)):
        for name, fn in contenders.items():
            start = time.perf_counter()
            for _ in range(args.block):
                fn()
            times[name].append((time.perf_counter() - start) / args.block)
    loop_times = times["plain networkx loop"]
    for name, values in times.items():
        us = 1e6 * statistics.median(values)
        ratio = statistics.median(v / loop for v, loop in zip(values, loop_times))
        print(f"{name:36s} {us:8.1f} µs/call   {ratio:5.2f} x loop   (loop / this: {1 / ratio:5.2f})")


if __name__ == "__main__":
    main()
