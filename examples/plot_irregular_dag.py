"""
Nothing needs layers
====================

A skip connection x1→y1, an output (y1) that feeds a hidden unit (h3), and a dead end d:
y1's δ is its direct loss term plus the sum over its successors, the dead end's δ is 0.
The edges are coloured by ∂E/∂w (eq. 5.53).
"""

import graphbp
from graphbp.drawing import figure_for

G = graphbp.irregular_network()
result = graphbp.backprop(G, [0.5, -1.0], [1.0, 0.0])
fig, ax = figure_for(G, equation=True)
graphbp.draw(G, result, ax=ax, edge_values="grad", edge_labels=True, highlight="y1")
ax.set_title("Skip x1→y1, output y1 feeding h3, dead end d; edges by ∂E/∂w", fontsize=9)
