"""Wall time of ``import graphbp`` against ``import networkx``, each in fresh interpreters.

Run: ``PYTHONPATH=$PWD python benchmarks/import_time.py [--repeats 15]``. Prints the median
of each over fresh subprocesses, their ratio, and which heavy modules ``import graphbp`` loaded.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

HEAVY = ("scipy.optimize", "scipy.sparse", "tqdm", "matplotlib", "numba", "torch")
PROBE = (
    "import time, sys; t = time.perf_counter(); import {module}; "
    "print(time.perf_counter() - t); print(','.join(m for m in {heavy!r} if m in sys.modules))"
)


def timed_import(module: str) -> tuple[float, str]:
    """Seconds to import `module` in a fresh interpreter, and the heavy modules it loaded."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, heavy=HEAVY)], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    return float(out[0]), out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    medians, loaded = {}, {}
    for _ in range(2):  # warm the file cache
        timed_import("graphbp"), timed_import("networkx")
    times = {"networkx": [], "graphbp": []}
    for _ in range(args.repeats):  # interleaved, so load drift hits both alike
        for module in times:
            seconds, loaded[module] = timed_import(module)
            times[module].append(seconds)
    for module, values in times.items():
        medians[module] = statistics.median(values)
        print(f"import {module:9s} median {1e3 * medians[module]:7.1f} ms over {args.repeats} fresh interpreters")
    print(f"ratio graphbp / networkx: {medians['graphbp'] / medians['networkx']:.2f}")
    print(f"heavy modules loaded by import graphbp: {loaded['graphbp'] or 'none'}")


if __name__ == "__main__":
    main()
