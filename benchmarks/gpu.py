"""to_torch on a CUDA GPU: the level loop eager and as a CUDA graph, beside the compiled engine on all CPU cores.

For the L and XL graphs of benchmarks/bench.py (layered with skips; RandWire WS(n, 40, 0.75)) at
batch 256 and 4096, prints the median seconds of one forward+backward (a sum-of-squares loss in
torch, ``backward``) of the module on the GPU (float64 and float32; eager, i.e. ``cuda_graph=False``,
and replayed CUDA graphs), and of the compiled engine's ``loss_and_gradient`` on all the machine's
cores in the same run, with edge-samples per second and the largest difference of the module's
∂E/∂θ from the compiled engine's (relative to the largest entry). A last table gives the ratio
GPU ÷ CPU at batch 4096 (the target: at most 1 on every L/XL graph).

    python benchmarks/gpu.py                                 # on a CUDA machine: about 10 minutes on an H100
    python benchmarks/gpu.py --device cpu --size tiny        # smoke test of the script and the level loop, seconds
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import graphbp  # noqa: E402
from bench import _depth, build  # noqa: E402
from graphbp.torch_module import to_torch  # noqa: E402

REPEATS = 10


def median_seconds(step, synchronize, repeats: int) -> float:
    step()  # warm-up: numba's cached code, the allocator, the CUDA graph capture
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def module_step(module, X, T):
    def step():
        module.zero_grad(set_to_none=True)
        (0.5 * ((module(X) - T) ** 2).sum()).backward()

    return step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu to smoke-test the level loop")
    parser.add_argument("--size", nargs="+", default=["L", "XL"], choices=["tiny", "S", "M", "L", "XL"])
    parser.add_argument("--batch", nargs="+", type=int, default=[256, 4096])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        print("no CUDA device: run on a GPU machine, or use --device cpu --size tiny for a smoke test")
        return 2
    synchronize = torch.cuda.synchronize if cuda else (lambda: None)
    card = torch.cuda.get_device_name(device) if cuda else "CPU (level loop run on CPU tensors: a smoke test)"
    print(f"{card}; torch {torch.__version__}; compiled engine: {graphbp.compile(graphbp.bishop_network()).backend} "
          f"on all {os.cpu_count()} cores; median of {args.repeats} passes after one warm-up")
    print()
    print("| graph | nodes | edges | levels | batch | engine | dtype | s / fwd+bwd | edge-samples/s | ∂E/∂θ rel. diff |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    versus = []
    for size in args.size:
        for family in ("layered", "randwire"):
            G, _, _ = build(family, size)
            compiled = graphbp.compile(G)
            net, E, V = compiled.network, G.number_of_edges(), G.number_of_nodes()
            levels = _depth(G)
            for N in args.batch:
                rng = np.random.default_rng(0)
                X, T = rng.normal(size=(N, len(net.inputs))), rng.normal(size=(N, len(net.outputs)))
                _, reference = compiled.loss_and_gradient(X, T)
                cpu = median_seconds(lambda: compiled.loss_and_gradient(X, T), lambda: None, args.repeats)
                rows = [("compiled CPU", "float64", cpu, "")]
                best = {}
                for dtype in (torch.float64, torch.float32):
                    for captured in (False, True) if cuda else (False,):
                        module = to_torch(G, dtype=dtype, cuda_graph=captured).to(device)
                        module.levels_on_cpu = True
                        Xd, Td = (torch.as_tensor(v, dtype=dtype, device=device) for v in (X, T))
                        step = module_step(module, Xd, Td)
                        seconds = median_seconds(step, synchronize, args.repeats)
                        step()
                        gradient = torch.cat([module.weight.grad, module.bias.grad]).double().cpu().numpy()
                        difference = np.abs(gradient - reference).max() / np.abs(reference).max()
                        name = ("CUDA graph" if captured else "eager") + (" GPU" if cuda else " level loop")
                        rows.append((name, str(dtype)[6:], seconds, f"{difference:.1e}"))
                        best[str(dtype)[6:]] = min(seconds, best.get(str(dtype)[6:], np.inf))
                for engine, dtype, seconds, shown in rows:
                    print(f"| {family}-{size} | {V} | {E} | {levels} | {N} | {engine} | {dtype} | {seconds:.4g} "
                          f"| {E * N / seconds:.3g} | {shown} |", flush=True)
                versus.append((f"{family}-{size}", N, cpu, best))
    print()
    print("| graph | batch | compiled CPU s (float64) | module s float64 | ÷ CPU | module s float32 | ÷ CPU |")
    print("|---|---|---|---|---|---|---|")
    for graph, N, cpu, best in versus:
        print(f"| {graph} | {N} | {cpu:.4g} | {best['float64']:.4g} | {best['float64'] / cpu:.2f} "
              f"| {best['float32']:.4g} | {best['float32'] / cpu:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
