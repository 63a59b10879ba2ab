"""Print how closely graphbp's gradients agree with central differences and with PyTorch autograd.

Runs the networks of tests/test_torch_crosscheck.py (50 seeded random networks per builder and
loss, random activations) and reports, per builder and loss, the worst relative disagreement with
torch (loss, every δ, ∂E/∂w, ∂E/∂b) and the worst relative error of the gradient check.

    python benchmarks/agreement.py            # needs torch (pip install -e ".[test]")
"""

import sys
from pathlib import Path

import numpy as np
import torch

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "helpers")]

from test_torch_crosscheck import BUILDERS, SEEDS, _with_loss  # noqa: E402
from torch_engine import assert_matches_torch  # noqa: E402

from graphbp import backprop, check_gradients  # noqa: E402


def main() -> None:
    torch.set_default_dtype(torch.float64)
    print(f"{'builder':16} {'loss':4} {'networks':>8} {'worst vs torch':>15} {'worst grad-check':>17}")
    overall_torch = overall_fd = 0.0
    for builder in sorted(BUILDERS):
        for loss in ("sse", "bce", "ce"):
            worst_torch = worst_fd = 0.0
            for seed in SEEDS:
                rng = np.random.default_rng([seed, len(builder), len(loss)])
                G = BUILDERS[builder](rng, seed)
                X, T = _with_loss(G, loss, rng)
                result = backprop(G, X, T, loss=loss)
                worst_torch = max(worst_torch, assert_matches_torch(torch, G, result, X, T, loss, tol=np.inf))
                worst_fd = max(worst_fd, check_gradients(G, X, T, loss=loss).max_rel_error)
            print(f"{builder:16} {loss:4} {len(SEEDS):8d} {worst_torch:15.2e} {worst_fd:17.2e}")
            overall_torch, overall_fd = max(overall_torch, worst_torch), max(overall_fd, worst_fd)
    print(f"\nworst over all: {overall_torch:.2e} against torch, {overall_fd:.2e} in the gradient check")


if __name__ == "__main__":
    main()
