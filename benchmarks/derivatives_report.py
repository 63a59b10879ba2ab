"""Print the agreement figures and multiplication counts of the Jacobian/Hessian issue.

python benchmarks/derivatives_report.py   (needs torch for the torch columns)
"""

import sys
from pathlib import Path

import numpy as np
import torch

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "helpers")]
from torch_engine import torch_forward, torch_loss  # noqa: E402

import graphbp  # noqa: E402

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(0)
for name, G in [("bishop_network", graphbp.bishop_network()), ("irregular_network", graphbp.irregular_network())]:
    X, T = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    J_rev, J_fwd = graphbp.jacobian(G, X, "reverse"), graphbp.jacobian(G, X, "forward")
    keys = graphbp.parameter_keys(G)

    def energy(theta):
        params = {"weight": {}, "bias": {}}
        for (kind, key), value in zip(keys, theta):
            params[kind][key] = value
        a, z, outputs, _ = torch_forward(torch, G, X, params=params)
        return torch_loss(torch, G, a, z, outputs, T, "sse")

    H = graphbp.hessian(G, X, T)
    H_torch = torch.autograd.functional.hessian(energy, torch.tensor(graphbp.get_parameters(G))).numpy()
    print(f"{name}: max |J_fwd - J_rev| = {np.abs(J_fwd - J_rev).max():.1e}; "
          f"max |H - H_torch| / max|H| = {np.abs(H - H_torch).max() / np.abs(H).max():.1e}")
    print(graphbp.compare_hessians(G, X, T))
    print("multiplications at x = (0.5, -1):", graphbp.elimination_costs(G, [0.5, -1.0]), "\n")
