"""
Bishop's Figure 5.3
===================

A 1-3-1 tanh network fitted by L-BFGS-B to 50 points of x², sin x, abs(x) and the step H(x), with
each hidden unit's tanh output dashed. The corner of abs(x) is the one thing three smooth units
round off.
"""

import matplotlib.pyplot as plt
import numpy as np

import graphbp
from graphbp.datasets import bishop_fig53
from graphbp.training_plots import plot_fit

fig, axes = plt.subplots(2, 2, figsize=(9, 7), sharex=True)
for ax, kind in zip(axes.ravel(), ["square", "sin", "abs", "heaviside"]):
    x, t = bishop_fig53(kind, n=50, seed=0)
    G = graphbp.mlp([1, 3, 1], seed=0)
    graphbp.train(G, x, t, optimizer="L-BFGS-B", epochs=1000, progress=False)
    plot_fit(G, x, t, ax=ax)
    mse = np.mean((graphbp.forward(G, x).y - t) ** 2)
    ax.set_title(f"{kind}: training MSE {mse:.1e}", fontsize=10)
fig.tight_layout()
