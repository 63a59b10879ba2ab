"""Forward+backward speed of graphbp's engines, its torch module and hand-written PyTorch, against the memory roofline.

Two graph families, at sizes S/M/L/XL (and ``tiny`` for the test suite):

* ``layered``: ``skip_mlp`` — 64 inputs, equal hidden layers, 64 outputs, random skip connections;
* ``randwire``: ``random_dag`` Watts–Strogatz WS(n, 40, 0.75), RandWire style (n = 500 ... 20,000).

Each engine runs in its own forked child process (so its peak memory can be
read as the rise of its peak resident set, VmHWM, reset at the child's start, and one engine's
threads cannot disturb another's); the child compiles, runs one warm-up
forward+backward and then times repeated ones. Printed per engine: median
seconds per forward+backward (loss and every gradient), edge-samples per second
(edges x batch / time), the one-off compile time, the peak memory increase, and
the ratio to this machine's memory roofline.

The roofline: a numpy copy of a 256 MiB array measures the streaming bandwidth
B (bytes read + bytes written per second; one thread, and two threads copying
halves). One forward+backward must move, per edge and sample, at least one
z_i read in the forward sum (eq. 5.48) and one δ_k read in the backward sum
(eq. 5.56): 2 x 8 bytes in float64, 2 x 4 in float32 (the per-node rows are
O(V·N), small beside O(E·N)). Roofline = B / bytes-per-edge-sample; graphs
whose (nodes x batch) arrays fit in cache can beat it.

Engines: ``reference``; the compiled engine's ``loss_and_gradient`` (``numba``,
``numpy``, ``float32``; where ``dense="auto"`` runs dense blocks — the layered
graphs from M up — also ``per-node``, numba with ``dense=False``); ``module``, the module of :func:`graphbp.torch_module.to_torch`
(forward, a sum-of-squares loss in torch, ``backward``); and the PyTorch baseline
written by hand without graphbp (``torch-stacked``, ``torch-index_add``: see
``torch_baselines.py``). Each at 1 and 2 threads. After the table, a second one
gives per graph and thread count the ratios the targets are about: module ÷
loss_and_gradient, and the faster hand-written baseline ÷ module. Those three
are timed again for it in one process, each in turn per round (two passes, the
second timed), and the ratios are the medians of the per-round ratios: this
shared machine's speed drifts between the separate children of the first
table, by up to 2x.

Usage::

    python benchmarks/bench.py --size S M L XL
    python benchmarks/bench.py --size tiny          # seconds; run by the test suite

The reference engine is skipped where it would take more than
``--reference-limit`` seconds per pass (estimated from the previous size of the
same family, by edge count); the table then shows the estimate.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import graphbp  # noqa: E402
from graphbp.generators import random_dag, skip_mlp  # noqa: E402

BATCH = {"tiny": 8, "S": 256, "M": 256, "L": 256, "XL": 256}
LAYERED = {"tiny": (16, 2), "S": (48, 4), "M": (128, 4), "L": (256, 4), "XL": (224, 8)}  # (width, hidden layers)
LAYERED_SKIP = {"tiny": 0.1, "S": 0.05, "M": 0.05, "L": 0.02, "XL": 0.01}
RANDWIRE = {"tiny": (60, 4, 8), "S": (500, 32, 32), "M": (3000, 32, 32), "L": (10000, 64, 64), "XL": (20000, 64, 64)}
RANDWIRE_K = {"tiny": 6}  # WS(n, 40, 0.75) otherwise
BYTES_PER_EDGE_SAMPLE = {"float64": 16, "float32": 8}
HAND_WRITTEN = ("torch-stacked", "torch-index_add")
TIME_BUDGET = 20.0  # seconds of timed repeats per engine and graph (at least one repeat)
PAIRED_ROUNDS = (5, 31)  # rounds of the targets' in-turn timing: at least, and at most while within its budget


def build(family: str, size: str):
    """The benchmark graph, its inputs and targets."""
    if family == "layered":
        width, depth = LAYERED[size]
        io = 64 if size != "tiny" else 4
        G = skip_mlp([io, *[width] * depth, io], p_skip=LAYERED_SKIP[size], seed=0)
    else:
        n, n_in, n_out = RANDWIRE[size]
        G = random_dag(n, k=RANDWIRE_K.get(size, 40), p=0.75, n_inputs=n_in, n_outputs=n_out, seed=0)
    net = graphbp.read_network(G)
    rng = np.random.default_rng(0)
    N = BATCH[size]
    return G, rng.normal(size=(N, len(net.inputs))), rng.normal(size=(N, len(net.outputs)))


def bandwidth(threads: int) -> float:
    """Streaming bandwidth in bytes/s: best of 5 copies of 256 MiB, split over `threads` threads."""
    source = np.ones(1 << 25)
    target = np.empty_like(source)
    parts = np.array_split(np.arange(source.size), threads)
    bounds = [(p[0], p[-1] + 1) for p in parts]

    def copy(lo, hi):
        np.copyto(target[lo:hi], source[lo:hi])

    best = np.inf
    for _ in range(5):
        workers = [threading.Thread(target=copy, args=b) for b in bounds]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = min(best, time.perf_counter() - start)
    return 2 * source.nbytes / best


def _load_libraries(engine: str) -> None:
    """Import torch / load numba's cached machine code, so neither counts as compile time or peak memory."""
    name, _, threads = engine.partition("@")
    if name.startswith("torch") or name == "module":
        import torch

        import torch_baselines  # noqa: F401
        from graphbp import torch_module  # noqa: F401

        torch.set_num_threads(int(threads or 1))
    if name in ("numba", "per-node", "float32", "module"):
        import numba

        numba.set_num_threads(int(threads or 1))
        for dtype in (np.float64, np.float32):
            tiny = graphbp.compile(graphbp.bishop_network(), dtype=dtype, threads=int(threads or 1))
            tiny.backprop(np.zeros((64, 2)), np.zeros((64, 2)))


def _engine_runner(engine: str, G, X, T):
    """(compile seconds, a function doing one forward+backward) for `engine`."""
    name, _, threads = engine.partition("@")
    threads = int(threads or 1)
    if name == "reference":
        return 0.0, lambda: graphbp.backprop(G, X, T)
    if name.startswith("torch") or name == "module":
        import torch
        from torch_baselines import HandWritten

        from graphbp.torch_module import to_torch

        start = time.perf_counter()
        module = to_torch(G, dtype=torch.float64) if name == "module" else HandWritten(G, name.partition("-")[2])
        seconds = time.perf_counter() - start
        Xt, Tt = torch.as_tensor(X), torch.as_tensor(T)

        def step():
            module.zero_grad()
            loss = 0.5 * ((module(Xt) - Tt) ** 2).sum()
            loss.backward()

        return seconds, step
    backend, dtype, dense = {"numba": ("numba", np.float64, "auto"), "per-node": ("numba", np.float64, False),
                             "float32": ("numba", np.float32, "auto"), "numpy": ("numpy", np.float64, False)}[name]
    start = time.perf_counter()
    compiled = graphbp.compile(G, dtype=dtype, backend=backend, threads=threads, dense=dense)
    seconds = time.perf_counter() - start
    return seconds, lambda: compiled.loss_and_gradient(X, T)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def _reset_peak() -> int:
    """Reset this process's peak resident set (VmHWM, inherited at fork) and return the current one in KiB."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _status_kib("VmRSS")


def _measure(engine, G, X, T, repeats):
    """In the child: compile, warm up, time; (median, compile, peak MiB, runs)."""
    _load_libraries(engine)
    base = _reset_peak()
    compile_seconds, step = _engine_runner(engine, G, X, T)
    times = []
    start = time.perf_counter()
    step()  # warm-up (first-touch of memory, caches)
    warm = time.perf_counter() - start
    budget = max(TIME_BUDGET, warm)
    while len(times) < repeats and (not times or sum(times) < budget):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    if warm > budget:  # one pass already exceeds the budget: the warm-up is the measurement
        times = [warm]
    peak = (_status_kib("VmHWM") - base) / 1024
    return statistics.median(times), compile_seconds, peak, len(times)


def _measure_paired(engines, G, X, T, budget):
    """In the child: the engines (same thread count) in one process, each in turn per round running
    two passes and timing the second (so no engine starts cold after another's pass); each engine's
    median seconds, the median per-round ratio of each to the first, and the number of rounds."""
    for engine in engines:
        _load_libraries(engine)
    steps = [_engine_runner(engine, G, X, T)[1] for engine in engines]
    for step in steps:  # warm-up
        step()
    times = [[] for _ in engines]
    start = time.perf_counter()
    while len(times[0]) < PAIRED_ROUNDS[0] or (len(times[0]) < PAIRED_ROUNDS[1] and time.perf_counter() - start < budget):
        for step, timed in zip(steps, times):
            step()  # untimed: the timed pass then starts after one of its own, as in a training loop
            begin = time.perf_counter()
            step()
            timed.append(time.perf_counter() - begin)
    medians = [statistics.median(timed) for timed in times]
    ratios = [statistics.median(t / first for t, first in zip(timed, times[0])) for timed in times]
    return medians, ratios, len(times[0])


def _send_result(connection, work, args) -> None:
    try:
        connection.send(work(*args))
    except Exception as error:  # raised again in the parent: shown in the table, not fatal to the others
        connection.send(error)


def in_child(work, *args):
    """``work(*args)`` in a forked child process (its own peak memory, its own thread pools); raises what it raised."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(target=_send_result, args=(child, work, args))
    process.start()
    result = parent.recv()
    process.join()
    if isinstance(result, Exception):
        raise result
    return result


def measure(engine, G, X, T, repeats):
    """(median seconds, compile seconds, peak MiB, runs) of `engine`, in a forked child."""
    return in_child(_measure, engine, G, X, T, repeats)


def measure_paired(engines, G, X, T, budget: float = 20.0):
    """(medians, ratios to the first engine, rounds) of :func:`_measure_paired`, in a forked child."""
    return in_child(_measure_paired, engines, G, X, T, budget)


def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True).stdout.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def engines_for(G, has_torch: bool) -> list[str]:
    engines = ["reference", "numba@1", "numba@2", "numpy@1", "float32@1", "float32@2"]
    if _dense_blocks_taken(G):  # then the per-node kernels alone too, beside them
        engines[3:3] = ["per-node@1", "per-node@2"]
    if has_torch:
        engines += [f"{name}@{threads}" for name in ("module", *HAND_WRITTEN) for threads in (1, 2)]
    return engines


def _dense_blocks_taken(G) -> bool:
    """Whether the compiled engine's dense="auto" runs part of G's edges as dense blocks."""
    from graphbp.compiled.dense_blocks import auto_plan
    from graphbp.wiring import build_wiring

    return graphbp.compiled.numba_available() and auto_plan(build_wiring(G, graphbp.read_network(G))) is not None


def _faster_hand_written(results: dict, threads: str):
    """(seconds, name) of the faster hand-written PyTorch baseline at `threads`, or None."""
    timed = [(results[f"{name}@{threads}"][0], name) for name in HAND_WRITTEN
             if isinstance(results.get(f"{name}@{threads}", (None,))[0], float)]
    return min(timed) if timed else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", nargs="+", default=["S", "M", "L", "XL"], choices=list(BATCH))
    parser.add_argument("--family", nargs="+", default=["layered", "randwire"], choices=["layered", "randwire"])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per engine (fewer past 20 s)")
    parser.add_argument("--reference-limit", type=float, default=60.0,
                        help="skip the reference engine when its estimated pass exceeds this many seconds")
    parser.add_argument("--no-torch", action="store_true", help="leave out the module and the PyTorch baselines")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401  (only to know whether it is there; the children import it)

        has_torch = not args.no_torch
    except ImportError:
        has_torch = False

    bw = {threads: bandwidth(threads) for threads in (1, 2)}
    print(f"machine: {machine()}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"numba available: {graphbp.compiled.numba_available()}")
    print(f"streaming bandwidth (numpy copy, read+write): {bw[1] / 1e9:.1f} GB/s on 1 thread, "
          f"{bw[2] / 1e9:.1f} GB/s on 2; bytes per edge-sample assumed: 16 (float64), 8 (float32)")
    print("peak memory: rise of the peak resident set (VmHWM, reset at start) in the engine's forked child "
          "(compile + warm-up + timed runs)")
    print()
    header = ("| family | size | nodes | edges | levels | batch | engine | threads | s / fwd+bwd | edge-samples/s "
              "| roofline | compile s | peak MiB | × reference | × hand-written torch@same threads |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    failures = 0
    targets = []
    for family in args.family:
        previous = None  # (edges, reference seconds) of the previous size
        for size in args.size:
            start = time.perf_counter()
            G, X, T = build(family, size)
            build_seconds = time.perf_counter() - start
            E, V, N = G.number_of_edges(), G.number_of_nodes(), X.shape[0]
            results = {}
            for engine in engines_for(G, has_torch):
                name, _, threads = engine.partition("@")
                if name == "reference" and previous and previous[1] * E / previous[0] > args.reference_limit:
                    estimate = previous[1] * E / previous[0]
                    results[engine] = ("skipped", estimate)
                    continue
                try:
                    results[engine] = measure(engine, G, X, T, 1 if name == "reference" else args.repeats)
                except Exception as error:  # noqa: BLE001  (shown in the table, and in the exit status)
                    results[engine] = ("failed", f"{type(error).__name__}: {error}")
                    failures += 1
            reference = results.get("reference")
            reference_seconds = reference[1] if reference[0] == "skipped" else reference[0]
            if reference[0] != "skipped":
                previous = (E, reference_seconds)
            depth = _depth(G)
            for engine, result in results.items():
                name, _, threads = engine.partition("@")
                cells = [family, size, str(V), str(E), str(depth), str(N), name, threads or "1"]
                if result[0] == "skipped":
                    cells += [f"~{result[1]:.0f} (est., skipped)", "", "", "", "", "", ""]
                elif result[0] == "failed":
                    cells += [result[1], "", "", "", "", "", ""]
                else:
                    seconds, compile_seconds, peak, runs = result
                    rate = E * N / seconds
                    dtype = "float32" if name == "float32" else "float64"
                    roofline = rate / (bw[int(threads or 1)] / BYTES_PER_EDGE_SAMPLE[dtype])
                    baseline = _faster_hand_written(results, threads or "1")
                    versus_torch = f"{baseline[0] / seconds:.1f}" if baseline else ""
                    cells += [f"{seconds:.4g}", f"{rate:.3g}", f"{roofline:.0%}", f"{compile_seconds:.3g}",
                              f"{peak:.0f}", f"{reference_seconds / seconds:.1f}", versus_torch]
                print("| " + " | ".join(cells) + " |", flush=True)
            print(f"<!-- {family} {size}: graph built in {build_seconds:.1f} s -->", flush=True)
            paired = {}
            for threads in ("1", "2") if has_torch else ():
                baseline = _faster_hand_written(results, threads)
                engines = [f"module@{threads}", f"numba@{threads}"] + ([f"{baseline[1]}@{threads}"] if baseline else [])
                try:
                    paired[threads] = (engines, *measure_paired(engines, G, X, T))
                except Exception as error:  # noqa: BLE001  (shown in the targets table)
                    paired[threads] = (engines, error)
                    failures += 1
            targets.append((family, size, paired))
    if has_torch:
        _print_targets(targets)
    return 1 if failures else 0


def _print_targets(targets) -> None:
    """Per graph and thread count: module ÷ loss_and_gradient (target ≤ 1.3) and hand-written ÷ module (≥ 3, L/XL),
    from the module, loss_and_gradient and the faster hand-written baseline timed in turn in one process."""
    print()
    print("Targets: the module, numba's loss_and_gradient and the faster hand-written baseline timed in turn in one "
          "process, each running two passes per round and timing the second (ratios: medians of the per-round ratios)")
    print()
    print("| family | size | threads | rounds | module s | loss_and_gradient s | module ÷ loss_and_gradient "
          "| faster hand-written torch | its s | hand-written ÷ module |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for family, size, paired in targets:
        for threads, (engines, *measured) in paired.items():
            cells = [family, size, threads]
            if isinstance(measured[0], Exception):
                print("| " + " | ".join(cells + [f"failed: {measured[0]}"] + [""] * 6) + " |", flush=True)
                continue
            medians, ratios, rounds = measured
            cells += [str(rounds), f"{medians[0]:.4g}", f"{medians[1]:.4g}", f"{1 / ratios[1]:.2f}"]
            if len(engines) > 2:
                cells += [engines[2].partition("@")[0], f"{medians[2]:.4g}", f"{ratios[2]:.1f}"]
            else:
                cells += ["", "", ""]
            print("| " + " | ".join(cells) + " |", flush=True)


def _depth(G) -> int:
    """Number of topological levels (what level scheduling and the torch module iterate over)."""
    import networkx as nx

    return sum(1 for _ in nx.topological_generations(G))


if __name__ == "__main__":
    sys.exit(main())
