"""benchmarks/code_size.py counts a function's lines of code as it documents, and lists what it finds."""

import importlib.util
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "code_size.py")
spec = importlib.util.spec_from_file_location("code_size_tool", SCRIPT)
code_size = importlib.util.module_from_spec(spec)
spec.loader.exec_module(code_size)

SOURCE = '''"""Module docstring."""


@decorator(
    option=1,
)
def outer(a,
          b):
    """Docstring,
    two lines."""
    # a comment line

    total = a + b  # a comment after code counts as code
    text = """a string
    on two lines"""

    def inner():
        return total

    return inner, text


class Box:
    """Class docstring."""

    def method(self):
        return 1
'''


def test_lines_of_code_leave_out_blanks_comments_and_docstrings():
    sizes = {name: (size, line) for size, name, line in code_size.function_sizes(SOURCE)}
    # outer: 3 decorator lines, 2 signature lines, 1 + 2 assignments, 2 of inner, 1 return.
    assert sizes == {"outer": (11, 7), "outer.inner": (2, 17), "Box.method": (2, 26)}


def test_the_script_lists_large_modules_and_the_longest_functions():
    out = subprocess.run([sys.executable, SCRIPT, "--top", "3"], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert lines[0].startswith("modules over 600 lines: ")
    assert any(line.startswith("functions over 80 lines of code: ") for line in lines)
    listed = lines[lines.index("the 3 longest functions (lines of code, name, place):") + 1:]
    assert len(listed) == 3 and all(".py:" in line for line in listed)
    sizes = [int(line.split()[0]) for line in listed]
    assert sizes == sorted(sizes, reverse=True)
