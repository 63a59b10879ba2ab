"""
Vertex elimination
==================

The linearised graph carries ∂z_j/∂z_i on each edge; eliminating its intermediate vertices
(Markowitz order here) leaves edges that carry the Jacobian ∂y_k/∂x_i.
"""

import matplotlib.pyplot as plt

import graphbp

G = graphbp.irregular_network()
graphbp.draw_elimination(G, [0.5, -1.0], order="markowitz", stages=[0, 2, 4])
plt.gcf().suptitle("Markowitz vertex elimination (edges: ∂z_j/∂z_i)", fontsize=10)

# %%
# The multiplications each order costs, against the forward and reverse sweeps:
print(graphbp.elimination_costs(G, [0.5, -1.0]))
