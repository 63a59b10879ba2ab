"""to_torch on a CUDA GPU: the same gradients as graphbp, and its speed beside the compiled CPU engine.

For the L and XL graphs of benchmarks/bench.py (layered with skips, RandWire WS(n, 40, 0.75)), prints
the relative difference between the GPU module's ∂E/∂θ (float64, autograd) and graphbp's compiled
engine on the CPU, and the median seconds of one forward+backward pass on the GPU (float64 and
float32, batch 256 and 4096) and on the CPU (compiled engine, all cores), with edge-samples per second.

    python benchmarks/gpu.py          # needs torch with CUDA; run on a GPU machine
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import graphbp  # noqa: E402
from bench import build  # noqa: E402
from graphbp.torch_module import to_torch  # noqa: E402

REPEATS = 10


def median_seconds(step) -> float:
    step()  # warm-up (JIT, allocator)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gpu_step(module, X, T):
    def step():
        module.zero_grad(set_to_none=True)
        loss = 0.5 * ((module(X) - T) ** 2).sum()
        loss.backward()
        torch.cuda.synchronize()

    return step


def gpu_gradient(module, X, T) -> np.ndarray:
    gpu_step(module, X, T)()
    return torch.cat([module.weight.grad, module.bias.grad]).double().cpu().numpy()


def main() -> None:
    device = torch.device("cuda")
    print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, graphbp CPU threads: all")
    print(f"{'graph':16} {'edges':>8} {'N':>5} {'engine':22} {'s/pass':>10} {'edge-samples/s':>15} {'grad rel. diff':>15}")
    for family, size in [("layered", "L"), ("randwire", "L"), ("layered", "XL"), ("randwire", "XL")]:
        G, _, _ = build(family, size)
        compiled = graphbp.compile(G)
        net = compiled.network
        E = G.number_of_edges()
        for N in (256, 4096):
            rng = np.random.default_rng(0)
            X = rng.normal(size=(N, len(net.inputs)))
            T = rng.normal(size=(N, len(net.outputs)))
            _, reference = compiled.loss_and_gradient(X, T)
            rows = [("compiled CPU float64", median_seconds(lambda: compiled.loss_and_gradient(X, T)), None)]
            for dtype in (torch.float64, torch.float32):
                module = to_torch(G, dtype=dtype).to(device)
                Xd = torch.as_tensor(X, dtype=dtype, device=device)
                Td = torch.as_tensor(T, dtype=dtype, device=device)
                gradient = gpu_gradient(module, Xd, Td)
                difference = np.abs(gradient - reference).max() / np.abs(reference).max()
                rows.append((f"to_torch CUDA {str(dtype)[6:]}", median_seconds(gpu_step(module, Xd, Td)), difference))
            for engine, seconds, difference in rows:
                shown = "" if difference is None else f"{difference:.1e}"
                print(f"{family + '-' + size:16} {E:8d} {N:5d} {engine:22} {seconds:10.4f} {E * N / seconds:15.3e} "
                      f"{shown:>15}", flush=True)


if __name__ == "__main__":
    main()
