"""Mutation testing of graphbp's maths: does the test suite notice a one-token change?

Each mutant is one small edit of a module's syntax tree: an arithmetic operator
swapped (+ and -, * and /, ** to *), a comparison loosened or flipped (< and <=,
== and !=, in and not in), a unary minus or ``not`` dropped, ``and``/``or``
swapped, a number changed by one (0 -> 1, 0.5 -> 1.5) or a boolean flipped.
f-strings (messages) are left alone. The mutant replaces the module in a forked
child of this process (numpy, torch, numba... are imported once here), which
runs the module's test subset with ``pytest -x``: a failing test (or a crash, or
a time-out) kills the mutant; a passing run lets it survive. The subset is the module's doctests plus the test
files listed for it in ``MODULES`` (those that exist).

Usage (from the repository root)::

    python benchmarks/mutation.py                       # every module in MODULES
    python benchmarks/mutation.py graphbp/losses.py     # one module
    python benchmarks/mutation.py --sample 80 --seed 0  # at most 80 mutants per module, drawn at random
    python benchmarks/mutation.py --list graphbp/losses.py  # the mutants, not run
    python benchmarks/mutation.py graphbp/losses.py --only 3,17  # re-run two of them

The numba kernels are mutated with ``NUMBA_DISABLE_JIT=1`` (the same Python
functions run uncompiled): compiling every mutant would take minutes each.
Survivors are printed with their line and edit, so each can be read and either
killed by a new test or recorded as equivalent (docs/contributing.md, "Mutation testing").
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.abc
import importlib.util
import os
import random
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module -> the tests that exercise it (files that do not exist are skipped, so the
# same command scores an older checkout of the suite).
BACKPROP_TESTS = ["tests/test_backprop.py", "tests/test_oracle.py", "tests/test_numerics.py",
                  "tests/test_validation.py", "tests/test_torch_crosscheck.py", "tests/test_gradcheck_params.py"]
DERIVATIVE_TESTS = ["tests/test_jacobian.py", "tests/test_paths.py", "tests/test_hessian.py"]
MODULES = {
    "graphbp/forward.py": [*BACKPROP_TESTS, *DERIVATIVE_TESTS],
    "graphbp/backward.py": [*BACKPROP_TESTS, *DERIVATIVE_TESTS],
    "graphbp/batches.py": ["tests/test_validation.py", *BACKPROP_TESTS],
    "graphbp/losses.py": ["tests/test_losses.py", *BACKPROP_TESTS, "tests/test_hessian.py"],
    "graphbp/activations.py": ["tests/test_activations.py", "tests/test_activation_table.py", *BACKPROP_TESTS,
                               "tests/test_hessian.py"],
    "graphbp/wiring.py": ["tests/test_wiring.py", "tests/compiled/test_compiled.py", "tests/test_numerics.py",
                          "tests/compiled/test_population.py"],
    "graphbp/compiled/population.py": ["tests/compiled/test_population.py"],
    "graphbp/compiled/kernels_numpy.py": ["tests/test_numerics.py", "tests/compiled/test_compiled.py"],
    **{f"graphbp/compiled/kernels_numba/{name}.py": ["tests/test_numerics.py", "tests/compiled/test_compiled.py",
                                                    "tests/test_activation_table.py"]
       for name in ("rows", "passes", "kernels")},
    "graphbp/hessian.py": ["tests/test_losses.py", "tests/test_oracle.py", "tests/test_hessian.py"],
}
# Only the variants of the compiled tests that run the mutated backend.
SELECT = {"graphbp/compiled/kernels_numpy.py": "numpy",
          **{path: "numba" for path in MODULES if path.startswith("graphbp/compiled/kernels_numba/")}}

BINARY = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
          ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.MatMult: ast.Mult}
COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
           ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
BOOL = {ast.And: ast.Or, ast.Or: ast.And}
NOT_APPLIED = 99  # a child's exit code when the mutated module could not be put in place


def _sites(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    """Every (node, what) that can be mutated, in a fixed walk order; f-strings and ``__all__`` skipped."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) or (
            isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)
        ):
            skip.update(id(child) for child in ast.walk(node))
    sites = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINARY:
            sites.append((node, f"{type(node.op).__name__} -> {BINARY[type(node.op)].__name__}"))
        elif isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in COMPARE:
                    sites.append((node, f"#{k} {type(op).__name__} -> {COMPARE[type(op)].__name__}"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            sites.append((node, f"drop {type(node.op).__name__}"))
        elif isinstance(node, ast.BoolOp):
            sites.append((node, f"{type(node.op).__name__} -> {BOOL[type(node.op)].__name__}"))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            new = (not node.value) if isinstance(node.value, bool) else node.value + 1
            sites.append((node, f"{node.value!r} -> {new!r}"))
    return sites


class _Apply(ast.NodeTransformer):
    def __init__(self, target_index: int, what: str):
        self.target_index, self.what, self.index = target_index, what, -1

    def mutate(self, node, what):
        if isinstance(node, (ast.BinOp, ast.AugAssign)):
            node.op = BINARY[type(node.op)]()
        elif isinstance(node, ast.Compare):
            k = int(what.split()[0][1:])
            node.ops[k] = COMPARE[type(node.ops[k])]()
        elif isinstance(node, ast.UnaryOp):
            return node.operand
        elif isinstance(node, ast.BoolOp):
            node.op = BOOL[type(node.op)]()
        elif isinstance(node, ast.Constant):
            node.value = (not node.value) if isinstance(node.value, bool) else node.value + 1
        return node


def mutants(path: Path) -> list[tuple[int, str, str]]:
    """(line, edit, mutated source) for every mutation site of the file."""
    source = path.read_text()
    count = len(_sites(ast.parse(source)))
    result = []
    for index in range(count):
        tree = ast.parse(source)
        node, what = _sites(tree)[index]
        replacement = _Apply(index, what).mutate(node, what)
        if replacement is not node:  # a dropped unary operator: put its operand in its place
            for parent in ast.walk(tree):
                for field, value in ast.iter_fields(parent):
                    if value is node:
                        setattr(parent, field, replacement)
                    elif isinstance(value, list) and any(v is node for v in value):
                        value[[v is node for v in value].index(True)] = replacement
        result.append((node.lineno, what, ast.unparse(ast.fix_missing_locations(tree))))
    return result


class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module's mutated source in place of the file."""

    def __init__(self, name: str, path: Path, source: str):
        self.name, self.path, self.source = name, path, source

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path, loader=self)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(compile(self.source, str(self.path), "exec"), module.__dict__)


def _run_mutant(module_path: str, source: str, tests: list[str], timeout: float) -> str:
    """'killed', 'survived' or 'timeout', from a forked child running pytest on the mutant."""
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        name = module_path[:-3].replace("/", ".")
        finder = _MutantFinder(name, ROOT / module_path, source)
        sys.meta_path.insert(0, finder)
        # Imported here, before pytest: its doctest collection would otherwise load the file itself.
        if importlib.import_module(name).__spec__.loader is not finder:
            os._exit(NOT_APPLIED)
        import pytest

        args = ["-x", "-q", "-p", "no:cacheprovider", *tests]
        if module_path in SELECT:
            args += ["-k", f"{SELECT[module_path]} or not (numba or numpy)"]
        os._exit(int(pytest.main(args)))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            if code == NOT_APPLIED:
                raise RuntimeError(f"the mutant of {module_path} was not the module the tests imported")
            return "survived" if code == 0 else "killed"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "timeout"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES), help="module files (default: all in MODULES)")
    parser.add_argument("--sample", type=int, default=0, help="at most this many mutants per module (random)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant (a time-out kills it)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--only", type=lambda text: {int(k) for k in text.split(",")}, default=None,
                        help="run only these mutant numbers (as printed, e.g. 3,17), for one module")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # Heavy imports once, before forking (graphbp itself is imported fresh by each child).
    import hypothesis  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import networkx  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import scipy.sparse  # noqa: F401

    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    rows = []
    for module_path in args.modules:
        # the module's own docstring examples first (they run as doctests in the suite), then its tests
        tests = [module_path, *(t for t in MODULES.get(module_path, ["tests"]) if Path(t).exists())]
        found = mutants(ROOT / module_path)
        chosen = list(enumerate(found))
        if args.only is not None:
            chosen = [(index, mutant) for index, mutant in chosen if index in args.only]
        elif args.sample and len(chosen) > args.sample:
            chosen = sorted(random.Random(args.seed).sample(chosen, args.sample))
        if args.list:
            for index, (line, what, _) in chosen:
                print(f"{module_path}:{line}  #{index}  {what}")
            continue
        os.environ["NUMBA_DISABLE_JIT"] = "1" if "numba" in module_path else "0"
        start = time.monotonic()
        survivors, killed = [], 0
        for index, (line, what, source) in chosen:
            outcome = _run_mutant(module_path, source, tests, args.timeout)
            killed += outcome != "survived"
            if outcome != "killed":  # a time-out is counted as killed (a loop that never ends), and shown
                survivors.append(f"  {outcome}: {module_path}:{line}  #{index}  {what}")
                print(survivors[-1], flush=True)
        score = killed / max(len(chosen), 1)
        rows.append((module_path, len(found), len(chosen), killed, score, time.monotonic() - start))
        print(f"{module_path}: {killed}/{len(chosen)} killed ({score:.1%}) of {len(found)} mutants, "
              f"{rows[-1][-1]:.0f} s", flush=True)
    if rows:
        print(f"\n{'module':<36}{'mutants':>8}{'run':>6}{'killed':>8}{'score':>8}")
        for module_path, total, run, killed, score, _ in rows:
            print(f"{module_path:<36}{total:>8}{run:>6}{killed:>8}{score:>8.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
