"""Shared test settings. Under CI=true the PyTorch and numba checks must run, never skip."""

import matplotlib
import pytest
from optional import require

matplotlib.use("Agg")


def _optional(name: str, extra: str):
    """Import an optional extra for the tests: a skip locally without it, a failure under CI=true."""
    return require(name, f"pip install -e '.[test]' installs {extra}")


@pytest.fixture(scope="session")
def torch():
    """The torch module, float64 by default; a skip locally without torch, a failure under CI."""
    torch_module = _optional("torch", "torch==2.13.0")
    torch_module.set_default_dtype(torch_module.float64)
    return torch_module


@pytest.fixture(scope="session")
def numba():
    """The numba module (the extra graphbp[fast]); a skip locally without it, a failure under CI."""
    return _optional("numba", "numba")


@pytest.fixture(scope="session")
def neat():
    """neat-python (the extra graphbp[neat]); a skip locally without it, a failure under CI."""
    return _optional("neat", "neat-python")


@pytest.fixture(scope="session")
def sklearn():
    """scikit-learn (the extra graphbp[sklearn]); a skip locally without it, a failure under CI."""
    return _optional("sklearn", "scikit-learn")
