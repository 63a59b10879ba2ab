"""
Every δ of Bishop's network
===========================

Bishop's two-layer network (PRML §5.3.2) with a_j and δ_j under every node and w on the
edges: δ is a number per unit, coloured on a scale centred at 0.
"""

import graphbp
from graphbp.drawing import figure_for

G = graphbp.bishop_network()
result = graphbp.backprop(G, [0.5, -1.0], [1.0, 0.0])
fig, ax = figure_for(G)
graphbp.draw(G, result, ax=ax, values=("a", "delta"), edge_labels=True)
ax.set_title("Bishop's 2-3-2 network: a_j and δ_j under each node, w on the edges", fontsize=9)
