"""Optional extras in the tests: a skip locally without them, a failure under CI=true (which installs them all)."""

import importlib
import os

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(what: str, install: str):
    """Skip the test for want of `what` (`install` says how to get it); under CI=true, fail it instead."""
    if under_ci():
        pytest.fail(f"CI=true but {what} is not installed: {install}")
    pytest.skip(f"{what} not installed ({install})")


def require(name: str, install: str = "pip install -e '.[test]'"):
    """Import the optional module `name`, or :func:`missing`."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(name, install)
