"""The tutorials in notebooks/ run top to bottom, on this checkout's graphbp, without an error.

Each notebook is executed by nbclient in a fresh ipykernel whose PYTHONPATH
starts with the repository root, so the kernel imports the graphbp under test.
Skipped when nbclient/ipykernel (the ``test`` extra) are missing, except under
CI=true.
"""

import os
from pathlib import Path

import pytest
from optional import missing

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_tutorials():
    assert {p.name for p in NOTEBOOKS} >= {"why_the_sum.ipynb", "irregular_topologies.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, monkeypatch, tmp_path):
    try:
        import nbformat
        from nbclient import NotebookClient
        import ipykernel  # noqa: F401  (the kernel nbclient starts)
        import sklearn  # noqa: F401  (the iris data of the irregular-topologies tutorial)
    except ImportError as absent:
        missing(absent.name, "pip install -e '.[test]'")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    assert all(cell.get("outputs", []) == [] for cell in notebook.cells if cell.cell_type == "code"), \
        f"{path.name} is stored with outputs: clear them (jupyter nbconvert --clear-output --inplace)"
    # One more cell, run last in the same kernel: the graphbp it used is this checkout's.
    notebook.cells.append(nbformat.v4.new_code_cell(
        f"import graphbp, pathlib\nassert pathlib.Path(graphbp.__file__).resolve().is_relative_to({str(ROOT)!r}), "
        "graphbp.__file__"))
    # Runs in a scratch folder: whatever a tutorial writes lands there. A failing cell raises CellExecutionError.
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
