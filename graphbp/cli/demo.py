"""graphbp demo: backprop on a small irregular network, every a, z, δ printed, one δ explained,
and the figures gallery written."""

from __future__ import annotations

import numpy as np

from ..backward import backprop
from ..examples import irregular_network
from ..explain import explain
from .gallery import GALLERY_INPUT, GALLERY_TARGET, write_gallery
from ..gradcheck import check_gradients


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
        print(f"\ndrawing the figures gallery into {args.out}/ (about a minute):", flush=True)
        written = write_gallery(args.out, progress=lambda path: print(f"  wrote {path}", flush=True))
        print(f"wrote {len(written)} figures to {args.out}/")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="backprop on a small irregular network, every δ printed",
                                   description=__doc__)
    parser.add_argument("--out", default="figures",
                        help='folder for the figures gallery (default figures; "none" writes no figures)')
    parser.set_defaults(run=run)
