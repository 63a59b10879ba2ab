"""Print how long the δ explorer takes to build its page, by network size, and how its edges are drawn.

Most of the time goes into routing the edges round the units (graphbp.drawing.routing.edge_courses, the
code draw() uses); above graphbp.explorer.MAX_ROUTED_EDGES edges every edge takes the least bend unmeasured.
Median of three builds each.

    python benchmarks/explorer_page.py
"""

import statistics
import time

import numpy as np

from graphbp import backprop, bishop_network, irregular_network, random_dag, read_network
from graphbp.explorer import to_html


def main() -> None:
    networks = [("bishop", bishop_network()), ("irregular", irregular_network())]
    networks += [(f"randwire {n}", random_dag(n, "watts_strogatz", k=4, n_inputs=3, n_outputs=2, seed=2))
                 for n in (60, 400, 2000)]
    rng = np.random.default_rng(0)
    print(f"{'network':14} {'units':>6} {'edges':>6} {'page (s)':>9} {'page (kB)':>10}")
    for name, G in networks:
        net = read_network(G)
        result = backprop(G, rng.normal(size=(2, len(net.inputs))), rng.normal(size=(2, len(net.outputs))))
        times = []
        for _ in range(3):
            start = time.perf_counter()
            page = to_html(G, result)
            times.append(time.perf_counter() - start)
        print(f"{name:14} {G.number_of_nodes():6d} {G.number_of_edges():6d} {statistics.median(times):9.2f} "
              f"{len(page.encode()) / 1000:10.0f}")


if __name__ == "__main__":
    main()
