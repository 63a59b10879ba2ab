"""
The exact Hessian
=================

Every second derivative of E with respect to the weights and biases of ``irregular_network``,
computed by the R-operator (Pearlmutter; Bishop §5.4.6), in ``graphbp.parameter_keys`` order.
"""

import matplotlib.pyplot as plt

import graphbp

G = graphbp.irregular_network()
x = [[0.5, -1.0], [0.2, 0.3], [-0.7, 0.9]]
t = [[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]]
labels = graphbp.parameter_labels(G)
fig, ax = plt.subplots(figsize=(7.5, 7.0))
graphbp.draw_heatmap(graphbp.hessian(G, x, t), labels, labels, ax=ax, title="Exact Hessian of E, 3 samples")
fig.tight_layout()

# %%
# How far the outer-product (Gauss-Newton) and the diagonal approximations are from it:
print(graphbp.compare_hessians(G, x, t))
