"""Collecting the package's doctests: without an optional extra they skip locally; under CI=true they must run.

numba and torch are optional extras (``graphbp[fast]``, ``graphbp[torch]``). Locally, a missing
one skips the doctests that need it (and the numba kernel module, which imports numba); under
CI=true nothing is skipped, so a missing extra fails the run.
"""

import importlib.util
import os

import pytest

CI = os.environ.get("CI", "").lower() == "true"
MISSING = {name for name in ("numba", "torch") if importlib.util.find_spec(name) is None}

collect_ignore = ["graphbp/compiled/kernels_numba"] if "numba" in MISSING and not CI else []


def pytest_configure(config):
    if "numba" not in MISSING:  # the kernels take their activations as first-class functions, on purpose
        config.addinivalue_line(
            "filterwarnings", "ignore:.*First-class function type:numba.core.errors.NumbaExperimentalFeatureWarning"
        )


def pytest_collection_modifyitems(items):
    if CI or "torch" not in MISSING:
        return
    skip = pytest.mark.skip(reason="torch not installed (pip install -e '.[test]')")
    for item in items:
        examples = getattr(getattr(item, "dtest", None), "examples", ())
        if any("import torch" in example.source for example in examples):
            item.add_marker(skip)
