"""The ``graphbp`` command line: ``graphbp COMMAND --help`` for each command.

Each command lives in its own module of this package, which provides
``register(subparsers)``; errors from bad input are printed as one line on
stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys

from ..exceptions import GraphBPError
from . import backprop, check, demo, derivatives, draw, explain, explore, train

__all__ = ["main"]

COMMAND_MODULES = [demo, backprop, explain, check, draw, derivatives, train, explore]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphbp", description="Backpropagation on neural networks stored as networkx DAGs."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except (GraphBPError, OSError) as err:
        print(f"graphbp {args.command}: error: {err}", file=sys.stderr)
        return 2
