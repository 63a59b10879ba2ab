"""The graphbp command line: graphbp COMMAND --help for each command.

Each command lives in its own module of this package, which provides
register(subparsers). Every option is checked when it is parsed; a bad value
or bad input is one line on stderr with exit status 2, never a traceback.
``graphbp`` alone prints the commands, one line each, and exits 0: asking
what there is is not an error.
"""

from __future__ import annotations

import argparse
import sys

from .._version import package_version
from ..exceptions import GraphBPError
from . import backprop, check, demo, derivatives, draw, example, explain, explore, gallery, train
from ._options import OneLineParser

__all__ = ["main"]

COMMAND_MODULES = [example, demo, backprop, explain, check, draw, derivatives, train, explore, gallery]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="graphbp", description="Backpropagation on neural networks stored as networkx DAGs.",
                           epilog="graphbp COMMAND --help describes a command and its options.")
    parser.add_argument("--version", action="version", version=f"graphbp {package_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 done, 1 a failed gradient check, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args) or 0
    except (GraphBPError, OSError) as err:
        print(f"graphbp {args.command}: error: {err}", file=sys.stderr)
        return 2
