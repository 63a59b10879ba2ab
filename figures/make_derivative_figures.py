"""Make figures/hessian_heatmap.png and figures/elimination.png (README, "Beyond the gradient")."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from graphbp import draw_elimination, hessian, irregular_network  # noqa: E402
from graphbp.cli.derivatives import draw_heatmap, parameter_labels  # noqa: E402

HERE = Path(__file__).parent
G = irregular_network()
X, T = [[0.5, -1.0], [0.2, 0.3], [-0.7, 0.9]], [[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]]

fig, ax = plt.subplots(figsize=(7.5, 7.0))
labels = parameter_labels(G)
draw_heatmap(hessian(G, X, T), labels, labels, ax=ax, title="Exact Hessian of E, irregular_network, 3 samples")
fig.tight_layout()
fig.savefig(HERE / "hessian_heatmap.png", dpi=80)

draw_elimination(G, [0.5, -1.0], order="markowitz", stages=[0, 2, 4])
plt.gcf().suptitle("Markowitz vertex elimination on the linearised graph (edges: ∂z_j/∂z_i)", fontsize=10)
plt.gcf().tight_layout()
plt.gcf().savefig(HERE / "elimination.png", dpi=80)
