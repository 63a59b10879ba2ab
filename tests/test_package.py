"""The package itself: a lean `import graphbp`, dependencies pointing down, a clean public namespace."""

import builtins
import subprocess
import sys
from pathlib import Path

import graphbp

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["scipy.optimize", "scipy.sparse", "tqdm", "matplotlib", "numba", "torch"]


def _modules_after(statement: str) -> set:
    """The graphbp and heavy modules loaded by `statement` in a fresh interpreter."""
    probe = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    return {m for m in loaded if m.startswith("graphbp") or m in HEAVY}


def test_import_graphbp_loads_no_heavy_module():
    assert not _modules_after("import graphbp") & set(HEAVY)


def test_the_reference_engine_imports_nothing_of_the_compiled_one():
    loaded = _modules_after("import graphbp.backward, graphbp.forward, graphbp.explain, graphbp.hessian")
    assert not {m for m in loaded if m.startswith("graphbp.compiled") or m == "graphbp.torch_module"}


def test_heavy_names_load_on_first_use_and_every_public_name_resolves():
    assert "graphbp.compiled" in _modules_after("import graphbp; graphbp.compile")
    assert all(getattr(graphbp, name) is not None for name in graphbp.__all__)
    assert set(graphbp.__all__) <= set(dir(graphbp))
    from graphbp import CompiledNetwork, train  # noqa: F401  (the lazy names import like the others)


def test_a_lazy_name_is_never_shadowed_by_its_module():
    """Importing every submodule first must leave each public name the function or class, not a module."""
    probe = ("import pkgutil, types, importlib, graphbp; "
             "[importlib.import_module(m.name) for m in pkgutil.walk_packages(graphbp.__path__, 'graphbp.') "
             "if not m.name.endswith(('kernels_numba', 'torch_module', '__main__'))]; "
             "print([n for n in graphbp.__all__ if isinstance(getattr(graphbp, n), types.ModuleType)])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_submodules_are_reachable_as_attributes_after_import_graphbp():
    probe = ("import graphbp; graphbp.compiled.CompiledNetwork; graphbp.explorer.write_html; graphbp.drawing.draw; "
             "print(hasattr(graphbp, 'no_such_thing'))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_star_import_shadows_no_builtin():
    assert not [name for name in graphbp.__all__ if hasattr(builtins, name)]
    assert callable(graphbp.compile) and "compile" not in graphbp.__all__


def test_no_import_cycles():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "import_cycles.py")], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip().endswith("import cycles among graphbp modules: 0"), out
