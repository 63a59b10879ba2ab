"""graphbp backprop FILE: E, the outputs, every a, z, δ and every gradient of a saved network."""

from __future__ import annotations

import numpy as np

from ..backward import backprop
from ..explain import sample_values
from ._network_input import add_network_arguments, load
from ._options import integer
from .demo import delta_table


def run(args) -> int:
    G, x, t = load(args)
    result = backprop(G, x, t, loss=args.loss)
    sample_values(result, args.sample)  # a clear error for a sample outside the batch
    print(f"x = {np.round(x, 6).tolist()}\nt = {np.round(t, 6).tolist()}\ny = {np.round(result.y, 6).tolist()}")
    print(f"E = {result.loss:.8g}  ({result.loss_name}, summed over {np.atleast_2d(x).shape[0]} sample(s))\n")
    print(f"sample {args.sample}:")
    print(delta_table(result, args.sample))
    print(f"\n{'edge (i, j)':>24}  {'dE/dw_ji':>12}")
    for edge, value in result.grad_weight.items():
        print(f"{edge!r:>24}  {value:12.6g}")
    print(f"\n{'node j':>24}  {'dE/db_j':>12}")
    for node, value in result.grad_bias.items():
        print(f"{node!r:>24}  {value:12.6g}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("backprop", help="every a, z, δ and gradient of a saved network",
                                   description=__doc__)
    add_network_arguments(parser)
    parser.add_argument("--sample", type=integer(0), default=0, help="the sample whose a, z, δ are shown (default 0)")
    parser.set_defaults(run=run)
