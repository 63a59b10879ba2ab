"""graphbp explain FILE NODE: eq. 5.56 for one node with the numbers, its paths and forward mode."""

from __future__ import annotations

from ..backward import backprop
from ..explain import explain
from ..paths import count_paths, forward_mode, path_sum
from ._network_input import add_network_arguments, load, resolve_node
from ._options import integer


def run(args) -> int:
    G, x, t = load(args)
    node = resolve_node(G, args.node)
    result = backprop(G, x, t, loss=args.loss)
    explanation = explain(G, result, node, sample=args.sample)
    print(explanation.latex() if args.latex else explanation.text())
    if args.paths:
        print(f"\n{count_paths(G, node)} paths lead from {node!r} to the outputs (counted in O(V + E)).")
        print(path_sum(G, result, node, sample=args.sample, max_paths=args.max_paths))
        forward = forward_mode(G, result, node, sample=args.sample)
        print(f"\nforward mode, seeded at {node!r}: Σ_k ∂E_n/∂a_k · ∂a_k/∂a_{node!s} = {forward.total:+.10g}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("explain", help="eq. 5.56 for one node of a saved network, numbers filled in",
                                   description=__doc__)
    add_network_arguments(parser)
    parser.add_argument("node", metavar="NODE", help="the node, as printed (e.g. h1, 3, \"(0, 1)\")")
    parser.add_argument("--sample", type=integer(0), default=0, help="the sample explained (default 0)")
    parser.add_argument("--latex", action="store_true", help="print LaTeX (matplotlib mathtext) instead of text")
    parser.add_argument("--paths", action="store_true",
                        help="also list every path to the outputs with its product, and the forward-mode sum")
    parser.add_argument("--max-paths", type=integer(1), default=1000, help="refuse to list more paths (default 1000)")
    parser.set_defaults(run=run)
