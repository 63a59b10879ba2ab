"""``graphbp check FILE``: every weight, bias and δ of a saved network against central differences."""

from __future__ import annotations

from ..gradcheck import check_gradients
from ._network_input import add_network_arguments, load


def run(args) -> int:
    G, x, t = load(args)
    report = check_gradients(G, x, t, loss=args.loss, eps=args.eps)
    print(report)
    passed = report.max_rel_error <= args.tol
    print(f"\n{'PASSED' if passed else 'FAILED'}: worst relative error {report.max_rel_error:.2e} "
          f"{'<=' if passed else '>'} tolerance {args.tol:g}")
    return 0 if passed else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser("check", help="gradient check of a saved network (central differences)",
                                   description=__doc__ + " Exit status 1 when an error exceeds --tol.")
    add_network_arguments(parser)
    parser.add_argument("--eps", type=float, default=1e-5, help="finite-difference step (default 1e-5)")
    parser.add_argument("--tol", type=float, default=1e-6, help="largest relative error accepted (default 1e-6)")
    parser.set_defaults(run=run)
