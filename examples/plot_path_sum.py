"""
δ as a sum over paths
=====================

Why the sum of eq. 5.56 works: δ_h1 is the sum, over every path from h1 to an output, of the
product of the local derivatives w·h'(a) along it. Backprop adds them without listing them.
"""

import graphbp
from graphbp.drawing import figure_for
from graphbp.paths import path_sum

G = graphbp.irregular_network()
result = graphbp.backprop(G, [0.5, -1.0], [1.0, 0.0])
fig, ax = figure_for(G, extra_width=4.0)
graphbp.draw_paths(G, result, "h1", ax=ax)
ax.set_title("δ_h1: one product of local derivatives per path to an output", fontsize=9)

# %%
# The total of the paths is backprop's δ_h1:
print(path_sum(G, result, "h1").total, result.delta["h1"])
