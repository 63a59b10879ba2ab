"""How large graphbp's modules and functions are: the modules over 600 lines, the longest functions.

Run: ``python benchmarks/code_size.py [--top 10]``. Reads the source with ``ast`` and ``tokenize``
(nothing is imported). A module's size is its number of lines; a function's is its lines of code:
the lines from its first decorator to its end that hold code, not blank lines, comment lines or
docstrings (a nested function counts in its own row and in its parent's). Issue 23's bounds, 600
lines a module and 80 lines of code a function, are what small modules and functions of one concern
each come to, not targets: the script shows where the code is large, a reader judges why.
"""

from __future__ import annotations

import argparse
import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE_LINES = 600
FUNCTION_LINES = 80


def code_lines(source: str) -> set[int]:
    """Numbers of the lines of `source` that hold code (not blank, comment-only or docstring lines)."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(
            node, clean=False
        ) is not None:
            docstrings.update(range(node.body[0].lineno, node.body[0].end_lineno + 1))
    lines = set()
    layout = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in layout:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines - docstrings


def function_sizes(source: str) -> list[tuple[int, str, int]]:
    """(lines of code, qualified name, first line) of every function and method in `source`."""
    code = code_lines(source)
    sizes = []

    def visit(node, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                name = f"{prefix}{child.name}"
                sizes.append((len(code.intersection(range(first, child.end_lineno + 1))), name, child.lineno))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return sizes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10, help="how many of the longest functions to list")
    parser.add_argument("--root", type=Path, default=ROOT / "graphbp", help="the package folder")
    args = parser.parse_args(argv)
    modules, functions = [], []
    for path in sorted(args.root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(args.root.parent)
        modules.append((len(source.splitlines()), where))
        functions += [(size, name, f"{where}:{line}") for size, name, line in function_sizes(source)]
    large = sorted((m for m in modules if m[0] > MODULE_LINES), reverse=True)
    print(f"modules over {MODULE_LINES} lines: {len(large)}")
    for lines, where in large:
        print(f"  {lines:5d}  {where}")
    functions.sort(key=lambda row: (-row[0], row[2]))
    print(f"functions over {FUNCTION_LINES} lines of code: {sum(size > FUNCTION_LINES for size, _, _ in functions)}")
    print(f"the {args.top} longest functions (lines of code, name, place):")
    for size, name, place in functions[: args.top]:
        print(f"  {size:5d}  {name:<36} {place}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
