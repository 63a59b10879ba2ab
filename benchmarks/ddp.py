"""DistributedDataParallel over CPU processes with graphbp's module: 2 processes x 1 thread beside 1 process x 2 threads.

The same training steps (SGD on the mean sum-of-squares loss of a global batch) run two ways on
the graph of benchmarks/bench.py: one process whose module runs on 2 threads (numba and torch), and
DistributedDataParallel (gloo, localhost) over 2 processes of 1 thread each, every rank taking
half of the batch. Prints the median seconds per step of each, samples per second, their ratio,
and the largest difference between the parameters the two runs end with (they must agree: DDP
averages the ranks' gradients of the mean loss over their halves).

    python benchmarks/ddp.py                         # RandWire L, batch 512: about 2 minutes on 2 cores
    python benchmarks/ddp.py --family layered --size tiny --steps 3    # smoke test, seconds
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LEARNING_RATE = 1e-4


def _train(module, X, T, steps: int, torch, synchronize=lambda: None) -> list[float]:
    """`steps` SGD steps on the mean ½(y − t)² over the whole batch (one warm-up step first); seconds per step."""
    optimizer = torch.optim.SGD(module.parameters(), lr=LEARNING_RATE)
    times = []
    for step in range(steps + 1):
        start = time.perf_counter()
        optimizer.zero_grad()
        (0.5 * ((module(X) - T) ** 2).sum(dim=1).mean()).backward()
        optimizer.step()
        synchronize()
        if step:
            times.append(time.perf_counter() - start)
    return times


def _data(family, size, batch):
    import bench

    G, _, _ = bench.build(family, size)
    import graphbp

    net = graphbp.read_network(G)
    rng = np.random.default_rng(1)
    return G, rng.normal(size=(batch, len(net.inputs))), rng.normal(size=(batch, len(net.outputs)))


def _set_threads(threads: int) -> None:
    import torch

    import graphbp

    torch.set_num_threads(threads)
    if graphbp.compiled.numba_available():
        import numba

        numba.set_num_threads(threads)


def _rank(rank: int, world: int, port: int, options: tuple, out: str) -> None:
    """One DDP process: 1 thread, half the batch; rank 0 saves the step times and the final parameters."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from graphbp.torch_module import to_torch

    family, size, batch, steps = options
    _set_threads(1)
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        G, X, T = _data(family, size, batch)
        model = DistributedDataParallel(to_torch(G, dtype=torch.float64))
        part = slice(rank * batch // world, (rank + 1) * batch // world)
        times = _train(model, torch.as_tensor(X[part]), torch.as_tensor(T[part]), steps, torch, dist.barrier)
        if rank == 0:
            np.savez(out, times=times, theta=model.module.parameter_vector())
        dist.barrier()  # both ranks done, and the DDP reducer freed before its gloo group (see tests/helpers/ddp_worker.py)
        del model
        gc.collect()
    finally:
        dist.destroy_process_group()


def main(argv=None) -> int:
    import torch

    import graphbp
    from graphbp.torch_module import to_torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", default="randwire", choices=["layered", "randwire"])
    parser.add_argument("--size", default="L", choices=["tiny", "S", "M", "L", "XL"])
    parser.add_argument("--batch", type=int, default=512, help="global batch (default 512: 256 per rank)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps after one warm-up (default 10)")
    args = parser.parse_args(argv)
    G, X, T = _data(args.family, args.size, args.batch)
    print(f"{args.family}-{args.size}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges; global batch "
          f"{args.batch}; {args.steps} SGD steps after a warm-up; {os.cpu_count()} cores")
    _set_threads(2)
    module = to_torch(G, dtype=torch.float64)
    single = _train(module, torch.as_tensor(X), torch.as_tensor(T), args.steps, torch)
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "rank0.npz")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        options = (args.family, args.size, args.batch, args.steps)
        torch.multiprocessing.spawn(_rank, args=(2, port, options, out), nprocs=2, join=True)
        saved = np.load(out)
        ddp, theta = list(saved["times"]), saved["theta"]
    print()
    print("| run | s / step (median) | samples / s |")
    print("|---|---|---|")
    for name, times in (("1 process x 2 threads", single), ("DDP: 2 processes x 1 thread", ddp)):
        print(f"| {name} | {statistics.median(times):.4g} | {args.batch / statistics.median(times):.4g} |")
    print()
    print(f"DDP ÷ single process (time per step): {statistics.median(ddp) / statistics.median(single):.2f}")
    difference = np.abs(theta - module.parameter_vector()).max() / np.abs(theta).max()
    moved = np.abs(module.parameter_vector() - graphbp.get_parameters(G)).max()
    print(f"largest difference of the final parameters between the two runs: {difference:.1e} (relative); "
          f"the largest parameter moved by {moved:.1e} in training")
    return 0 if difference < 1e-10 else 1


if __name__ == "__main__":
    sys.exit(main())
