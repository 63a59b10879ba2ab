"""Option types shared by the commands: every value is checked when it is parsed.

Each function is an argparse ``type=``: it returns the parsed value or raises
``argparse.ArgumentTypeError`` with a message naming what was expected, which
:class:`OneLineParser` prints as one line on stderr with exit status 2, before
any work starts.

A value may start with "-": ``--x -1,0.5`` reads as ``--x=-1,0.5``. argparse
alone takes a token starting with "-" for an option unless it is a plain
negative number like ``-1`` or ``-0.5``, so :class:`OneLineParser` joins an
option that takes a value to a following token that reads as numbers
(``-1,0.5``, ``-1e-3``, ``-inf``) before parsing.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

__all__ = ["OneLineParser", "integer", "real", "numbers", "input_file", "output_file",
           "IMAGE_SUFFIXES", "MATRIX_SUFFIXES", "DATA_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".svg", ".pdf")
MATRIX_SUFFIXES = (".npy", ".csv")
DATA_SUFFIXES = (".npz", ".csv")


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (``graphbp CMD: error: ...``), exit status 2,
    and whose options take values starting with "-" when they are numbers (``--x -1,0.5``)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")

    def parse_known_args(self, args=None, namespace=None):
        # Each subcommand's parser is called here too, with the arguments after its name.
        args = sys.argv[1:] if args is None else list(args)
        joined = []
        for k, arg in enumerate(args):
            if arg == "--":  # what follows is positional, as argparse has it
                joined.extend(args[k:])
                break
            numbers_not_option = _is_numbers(arg) and arg not in self._option_string_actions
            if numbers_not_option and joined and self._takes_a_value(joined[-1]):
                joined[-1] = f"{joined[-1]}={arg}"
            else:
                joined.append(arg)
        return super().parse_known_args(joined, namespace)

    def _takes_a_value(self, option: str) -> bool:
        """Whether `option` (or, argparse's abbreviation, the one long option it begins) takes one value."""
        actions = {self._option_string_actions[option]} if option in self._option_string_actions else {
            action for name, action in self._option_string_actions.items()
            if self.allow_abbrev and option.startswith("--") and name.startswith(option)}
        return len(actions) == 1 and actions.pop().nargs in (None, 1)


def _is_numbers(text: str) -> bool:
    """A token starting with "-" that is comma-separated numbers, e.g. ``-1,0.5`` or ``-1e-3``."""
    try:
        [float(part) for part in text.split(",")]
    except ValueError:
        return False
    return text.startswith("-")


def integer(low: int | None = None, high: int | None = None):
    """An int in [low, high] (either bound may be None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected an integer {_range(low, high)}, got {text}")
        return value

    return parse


def real(low: float | None = None, high: float | None = None, *, open_low: bool = False, open_high: bool = False):
    """A finite float in the interval from low to high (closed unless ``open_low``/``open_high``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        below = low is not None and (value <= low if open_low else value < low)
        above = high is not None and (value >= high if open_high else value > high)
        if not math.isfinite(value) or below or above:
            interval = f"{'(' if open_low else '['}{_bound(low, '-inf')}, {_bound(high, 'inf')}{')' if open_high else ']'}"
            raise argparse.ArgumentTypeError(f"expected a finite number in {interval}, got {text}")
        return value

    return parse


def numbers(text: str) -> np.ndarray:
    """Comma-separated finite numbers, e.g. ``0.5,-1``."""
    try:
        values = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas like 0.5,-1, got {text!r}") from None
    if not np.isfinite(values).all():
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def input_file(suffixes: tuple[str, ...]):
    """A path ending in one of `suffixes` (case-insensitive); whether it can be read is found out on reading."""

    def parse(text: str) -> str:
        if Path(text).suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"{text!r}: the file name must end in {', '.join(suffixes)}")
        return text

    return parse


def output_file(suffixes: tuple[str, ...]):
    """A path ending in one of `suffixes` (case-insensitive) whose folder exists."""
    named = input_file(suffixes)

    def parse(text: str) -> str:
        path = Path(named(text))
        if not path.parent.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r}: folder {str(path.parent)!r} does not exist")
        return text

    return parse


def _bound(value, infinite: str) -> str:
    return infinite if value is None else f"{value:g}"


def _range(low, high) -> str:
    if high is None:
        return f">= {low}"
    if low is None:
        return f"<= {high}"
    return f"from {low} to {high}"
