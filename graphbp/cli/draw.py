"""graphbp draw FILE -o out.png: the network drawn with every δ, optionally eq. 5.56 for one node.

Above 40 nodes the names and values are left out by default, as graphbp.drawing.draw
does, and a line above the drawing says so; --labels all writes them anyway.
"""

from __future__ import annotations

import inspect

from ..backward import backprop
from ..drawing import draw, draw_paths, figure_for
from ..exceptions import GraphBPError
from ._network_input import add_network_arguments, load, resolve_node
from ._options import IMAGE_SUFFIXES, integer, output_file

# draw's own limit, so the note and the drawing agree on where names stop.
MAX_LABELLED = inspect.signature(draw).parameters["max_labelled"].default


def run(args) -> int:
    import matplotlib

    if args.paths and args.labels != "auto":  # draw_paths labels as draw does by default
        raise GraphBPError(f"--labels {args.labels} applies to the δ drawing, not to --paths")
    matplotlib.use("Agg")
    G, x, t = load(args)
    result = backprop(G, x, t, loss=args.loss)
    fig, ax = figure_for(G, equation=bool(args.highlight), extra_width=4.0 if args.paths else 0.0)
    if args.paths:
        draw_paths(G, result, resolve_node(G, args.paths), sample=args.sample, ax=ax)
    else:
        highlight = resolve_node(G, args.highlight) if args.highlight else None
        draw(G, result, sample=args.sample, ax=ax, highlight=highlight,
             edge_values=None if args.edges == "none" else args.edges, edge_labels=args.edge_labels,
             names=args.labels != "none", values=() if args.labels == "none" else ("delta",),
             max_labelled=G.number_of_nodes() if args.labels == "all" else MAX_LABELLED)
    if args.labels == "auto" and G.number_of_nodes() > MAX_LABELLED:
        left_out = "names, δ values and edge labels" if args.edge_labels and not args.paths else "names and δ values"
        ax.set_title(f"{G.number_of_nodes()} nodes: {left_out} left out above {MAX_LABELLED} nodes "
                     "(graphbp draw --labels all writes them)", fontsize=8, color="0.35")
    fig.savefig(args.output, dpi=args.dpi, bbox_inches="tight")
    print(f"wrote {args.output}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("draw", help="draw a saved network with every δ to an image file",
                                   description=__doc__)
    add_network_arguments(parser)
    parser.add_argument("-o", "--output", required=True, type=output_file(IMAGE_SUFFIXES),
                        help=f"the image file to write ({', '.join(IMAGE_SUFFIXES)})")
    parser.add_argument("--sample", type=integer(0), default=0, help="the sample drawn (default 0)")
    parser.add_argument("--highlight", metavar="NODE", help="show S_j and eq. 5.56 for this node")
    parser.add_argument("--paths", metavar="NODE", help="draw every path from this node to the outputs instead")
    parser.add_argument("--edges", choices=["weight", "grad", "none"], default="weight",
                        help="edge widths follow |w|, |dE/dw| or nothing (default weight)")
    parser.add_argument("--edge-labels", action="store_true", help="write the edge values on the edges")
    parser.add_argument("--labels", choices=["auto", "all", "none"], default="auto",
                        help=f"node names and δ values: up to {MAX_LABELLED} nodes and a note above that (auto, "
                             "default), on any network (all; a label that would cover another is still left out, "
                             "and counted under the drawing), or none")
    parser.add_argument("--dpi", type=integer(20, 600), default=100, help="resolution, 20 to 600 (default 100)")
    parser.set_defaults(run=run)
