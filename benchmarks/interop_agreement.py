"""Print how closely graphbp agrees with neat-python, scikit-learn and PyTorch on networks imported from them.

Uses the generators of tests/test_interop_*.py, with more cases than the tests run:

* NEAT: every genome of 10 generations of 10 seeded neat-python runs (every built-in activation,
  mutated responses, added/deleted nodes and connections, disabled connections); the largest
  |graphbp − neat| / max(1, |neat|) over the outputs; the round trip from_neat → to_neat (must
  change no bit); and after random changes to every weight and bias, written back with to_neat;
* scikit-learn: fitted MLPRegressor / MLPClassifier (4 activations × 5 tasks); the largest
  |graphbp − predict / predict_proba| and |graphbp's gradient − scikit-learn's| (one plain-SGD step);
* torch: random Sequentials; the largest |graphbp − module| output and relative gradient error.

    python benchmarks/interop_agreement.py [--genome-seeds 10] [--estimators 200] [--modules 200]
"""

import argparse
import copy
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import neat  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
from test_interop_neat import perturbed, convert, evolve, output_disagreement  # noqa: E402
from test_interop_sklearn import disagreement as sklearn_disagreement  # noqa: E402
from test_interop_torch import disagreement as torch_disagreement  # noqa: E402

import graphbp  # noqa: E402
from graphbp.interop import to_neat  # noqa: E402


def neat_figures(seeds: int) -> None:
    config, genomes = evolve(neat, seeds=range(seeds), generations=10)
    pairs = convert(config, genomes)
    changed_bits = 0
    written = []
    rng = np.random.default_rng(0)
    for genome, G in pairs:
        copied = copy.deepcopy(genome)
        to_neat(G, copied, config)
        changed_bits += sum(copied.connections[k].weight != c.weight for k, c in genome.connections.items())
        changed_bits += sum(copied.nodes[k].bias != n.bias for k, n in genome.nodes.items())
        G = G.copy()
        graphbp.set_parameters(G, perturbed(G, rng))
        written.append((to_neat(G, copied, config), G))
    placeholders = sum(any(marked for *_, marked in G.edges(data="placeholder")) for _, G in pairs)
    print(f"NEAT: {len(genomes)} genomes ({placeholders} with an output no input reaches, given a weight-0 "
          f"placeholder edge); worst output disagreement {output_disagreement(neat, config, pairs):.2e}; round trip: "
          f"{changed_bits} values changed; after writing changed weights back: "
          f"{output_disagreement(neat, config, written):.2e}")


def sklearn_figures(count: int) -> None:
    found = [sklearn_disagreement(sklearn, seed) for seed in range(count)]
    for task in sorted({row["task"] for row in found}):
        rows = [row for row in found if row["task"] == task]
        print(f"scikit-learn {task:24} {len(rows):4d} estimators: outputs {max(r['outputs'] for r in rows):.2e}, "
              f"gradients {max(r['gradients'] for r in rows):.2e}, loss_ (relative) {max(r['loss'] for r in rows):.2e}")


def torch_figures(count: int) -> None:
    torch.set_default_dtype(torch.float64)
    found = [torch_disagreement(torch, seed) for seed in range(count)]
    print(f"torch Sequential: {count} modules: outputs {max(r['outputs'] for r in found):.2e}, loss (relative) "
          f"{max(r['loss'] for r in found):.2e}, gradients (relative) {max(r['gradients'] for r in found):.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genome-seeds", type=int, default=10)
    parser.add_argument("--estimators", type=int, default=200)
    parser.add_argument("--modules", type=int, default=200)
    args = parser.parse_args()
    neat_figures(args.genome_seeds)
    sklearn_figures(args.estimators)
    torch_figures(args.modules)


if __name__ == "__main__":
    main()
