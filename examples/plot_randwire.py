"""
A randomly wired network
========================

The same pass on a randomly wired (Watts-Strogatz) network of 30 units: the summation set of
every unit is whatever ``G.successors(j)`` is.
"""

import numpy as np

import graphbp
from graphbp.drawing import figure_for

G = graphbp.random_dag(30, "watts_strogatz", n_inputs=2, n_outputs=2, seed=0)
rng = np.random.default_rng(0)
result = graphbp.backprop(G, rng.normal(size=2), rng.normal(size=2))
fig, ax = figure_for(G)
graphbp.draw(G, result, ax=ax, edge_values="grad")
ax.set_title("Watts-Strogatz DAG of 30 units: δ of every node, edges by |∂E/∂w|", fontsize=9)
