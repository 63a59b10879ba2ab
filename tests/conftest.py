"""Shared test settings. Under CI=true the PyTorch and numba checks must run, never skip."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def torch():
    """The torch module, float64 by default; a skip locally without torch, a failure under CI."""
    try:
        import torch as torch_module
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but torch is not installed: pip install -e '.[test]' installs torch==2.13.0")
        pytest.skip("torch not installed (pip install -e '.[test]')")
    torch_module.set_default_dtype(torch_module.float64)
    return torch_module


@pytest.fixture(scope="session")
def numba():
    """The numba module; a skip locally without numba, a failure under CI."""
    try:
        import numba as numba_module
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but numba is not installed: pip install -e '.[test]' installs it")
        pytest.skip("numba not installed (pip install -e '.[fast]')")
    return numba_module
