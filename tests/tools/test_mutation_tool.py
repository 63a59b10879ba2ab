"""benchmarks/mutation.py makes the mutants it documents: one edit each, valid Python, messages untouched."""

import ast
import importlib.util
import os

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "mutation.py")
spec = importlib.util.spec_from_file_location("mutation_tool", SCRIPT)
mutation = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutation)

SOURCE = '''__all__ = ["f"]


def f(a, b):
    """Docstring 1 + 1."""
    if a < b and not b == 0:
        return a + b * 2.5
    raise ValueError(f"bad {a + 1}")
'''


def test_each_operator_gives_one_mutant(tmp_path):
    path = tmp_path / "module.py"
    path.write_text(SOURCE)
    mutants = mutation.mutants(path)
    edits = sorted(what for _, what, _ in mutants)
    assert edits == sorted(["#0 Lt -> LtE", "And -> Or", "drop Not", "#0 Eq -> NotEq", "0 -> 1",
                            "Add -> Sub", "Mult -> Div", "2.5 -> 3.5"])
    original = ast.dump(ast.parse(SOURCE))
    for line, what, source in mutants:
        assert ast.dump(ast.parse(source)) != original, what
        assert 'f"bad {a + 1}"' in source.replace("'", '"') and '__all__ = ["f"]' in source.replace("'", '"')
        assert line in (6, 7)
    by_edit = {what: source for _, what, source in mutants}
    assert "return a - b * 2.5" in by_edit["Add -> Sub"]
    assert "if a < b and b == 0:" in by_edit["drop Not"]
    assert "2.5 -> 3.5" in by_edit and "b * 3.5" in by_edit["2.5 -> 3.5"]


def test_every_listed_module_has_mutants_and_tests():
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    for module_path, tests in mutation.MODULES.items():
        sites = mutation._sites(ast.parse((mutation.ROOT / module_path).read_text()))
        # The reference backward pass is eq. 5.56 and little else (its checks live in batches.py): 10 at least.
        assert len(sites) >= 10, module_path
        assert any(os.path.exists(os.path.join(root, test)) for test in tests), module_path
