"""graphbp check FILE: every weight, bias and δ of a saved network against central differences
(graphbp.check_gradients, with the same defaults). Exit status 1 when an error exceeds --tol."""

from __future__ import annotations

import inspect

from ..gradcheck import check_gradients
from ._network_input import add_network_arguments, load
from ._options import real

# The Python function's own defaults, so the command and check_gradients give the same report.
_DEFAULTS = {name: p.default for name, p in inspect.signature(check_gradients).parameters.items()}
DEFAULT_TOL = 1e-6


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
                                   description=__doc__)
    add_network_arguments(parser)
    parser.add_argument("--eps", type=real(0, 0.1, open_low=True), default=_DEFAULTS["eps"],
                        help=f"finite-difference step, in (0, 0.1] (default {_DEFAULTS['eps']:g}, "
                             "as check_gradients)")
    parser.add_argument("--tol", type=real(0), default=DEFAULT_TOL,
                        help=f"largest relative error accepted, >= 0 (default {DEFAULT_TOL:g})")
    parser.set_defaults(run=run)
