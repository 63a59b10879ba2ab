"""Count the import cycles among graphbp's own modules (module-level and function-level imports alike).

Run: ``python benchmarks/import_cycles.py``. Reads the source with ``ast`` (nothing is imported),
builds the module graph of ``graphbp.*`` imports, and prints each elementary cycle and their number.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1] / "graphbp"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set) -> set:
    """graphbp modules imported anywhere in `path` (a package's __init__ counts only when named)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            for alias in node.names:  # `from . import x` may name a submodule
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != name}


def main() -> None:
    files = sorted(ROOT.rglob("*.py"))
    modules = {module_name(p) for p in files}
    graph = nx.DiGraph()
    for path in files:
        graph.add_edges_from((module_name(path), target) for target in imports_of(path, modules))
    # graphbp/__init__ re-exports everything: only imports *of* it would close a cycle through it.
    graph.remove_edges_from([(u, v) for u, v in graph.edges if u == "graphbp"])
    cycles = list(nx.simple_cycles(graph))
    for cycle in cycles:
        print(" -> ".join(cycle + [cycle[0]]))
    print(f"import cycles among graphbp modules: {len(cycles)}")


if __name__ == "__main__":
    main()
