"""graphbp's version number, read once from where it is written down."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["package_version"]


def package_version() -> str:
    """The installed package's version (its metadata); from a source tree that was never installed,
    the ``version`` line of the ``pyproject.toml`` beside it; ``"0+unknown"`` when neither exists.

    Examples
    --------
    >>> package_version().count(".") >= 1 or package_version() == "0+unknown"
    True
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("graphbp")
    except PackageNotFoundError:
        pass
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(encoding="utf-8"), re.M) \
        if pyproject.is_file() else None
    return found.group(1) if found else "0+unknown"
