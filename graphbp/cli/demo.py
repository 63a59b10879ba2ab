"""graphbp demo: backprop on a small irregular network, every a, z, δ printed, one δ explained,
and the figures gallery drawn into a folder of its own, ./graphbp-demo/ unless --out says otherwise
(--out none: no figures). The repository's figures/ are redrawn by graphbp gallery, not by the demo."""

from __future__ import annotations

import numpy as np

from ..backward import backprop
from ..examples import irregular_network
from ..explain import explain
from ..gradcheck import check_gradients
from .gallery import GALLERY_INPUT, GALLERY_TARGET, write_gallery_reporting

# The demo's figures go here, never into the repository's tracked figures/ (graphbp gallery redraws those).
DEFAULT_OUT = "graphbp-demo"


def delta_table(result, sample: int = 0) -> str:
    """One line per node: a_j, z_j and δ_j of one sample."""
    lines = [f"{'node':>6}  {'a':>11}  {'z':>11}  {'delta':>11}"]
    for node in result.a:
        a, z, delta = (float(np.atleast_1d(v[node])[sample]) for v in (result.a, result.z, result.delta))
        lines.append(f"{node!s:>6}  {a:11.6f}  {z:11.6f}  {delta:11.6f}")
    return "\n".join(lines)


def run(args) -> int:
    G = irregular_network()
    x, t = GALLERY_INPUT, GALLERY_TARGET
    result = backprop(G, x, t, loss="sum_of_squares")
    print("Network: skip x1->y1, h1 feeds h2, h3 and y2, output y1 feeds h3, d is a dead end.")
    print(f"x = {x.tolist()}, t = {t.tolist()}, y = {np.round(result.y, 6).tolist()}, E = {result.loss:.6f}\n")
    print(delta_table(result))
    report = check_gradients(G, x, t)
    print(f"\ngradient check: worst relative error {report.max_rel_error:.2e} "
          f"({report.worst.quantity} {report.worst.key!r}) over {len(report.values)} values")
    print("\nWhy δ_h1 sums over the three units h1 feeds (eq. 5.56):")
    print(explain(G, result, "h1"))
    if args.out != "none":
        print()
        write_gallery_reporting(args.out)
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", description=__doc__,
                                   help="backprop on a small network; figures into ./graphbp-demo")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f'folder for the figures gallery (default {DEFAULT_OUT}; "none" writes no figures)')
    parser.set_defaults(run=run)
