"""
The summation set of eq. 5.56
=============================

δ_z1 is built from exactly the units z1 feeds, S_z1 = ``G.successors("z1")`` = {y1, y2}:
one term w_kj·δ_k per orange edge, summed and scaled by h'(a_z1) in the eq. 5.56 box.
"""

import graphbp
from graphbp.drawing import figure_for

G = graphbp.bishop_network()
result = graphbp.backprop(G, [0.5, -1.0], [1.0, 0.0])
fig, ax = figure_for(G, equation=True)
graphbp.draw(G, result, ax=ax, highlight="z1")
ax.set_title("δ_z1 sums over S_z1 = G.successors('z1') (eq. 5.56)", fontsize=9)

# %%
# The same sum written out with its numbers:
print(graphbp.explain(G, result, "z1"))
