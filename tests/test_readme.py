"""The README's examples are tests: every ```python block runs on its own in an empty folder, and the
shell lines starting with ``graphbp`` run in order in one empty folder, as a newcomer would type them."""

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from graphbp.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
SHELL_LANGUAGES = {"bash", "sh", "shell", "console", ""}


def python_blocks() -> list[str]:
    return [body for language, body in FENCE.findall(README) if language == "python"]


def graphbp_lines() -> list[str]:
    return [line.strip() for language, body in FENCE.findall(README) if language in SHELL_LANGUAGES
            for line in body.splitlines() if line.strip().startswith("graphbp ")]


def environment() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "MPLBACKEND": "Agg"}


def test_the_readme_has_examples():
    assert len(python_blocks()) >= 4 and len(graphbp_lines()) >= 5


@pytest.mark.parametrize("number", range(len(python_blocks())))
def test_python_block_runs_alone_in_an_empty_folder(number, tmp_path):
    block = python_blocks()[number]
    (tmp_path / "example.py").write_text(block, encoding="utf-8")
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=environment(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"README python block {number}:\n{block}\n{done.stderr[-3000:]}"


def test_graphbp_lines_run_in_order_in_one_empty_folder(tmp_path, monkeypatch, capsys):
    """Run in this process (graphbp.cli.main is the console script's entry point), for speed."""
    monkeypatch.chdir(tmp_path)
    for line in graphbp_lines():
        try:
            status = main(shlex.split(line, comments=True)[1:])
        except SystemExit as stop:  # --version and --help exit from argparse
            status = stop.code
        out, err = capsys.readouterr()
        assert status == 0, f"README line {line!r} failed:\n{err}"
        assert out.strip(), f"README line {line!r} printed nothing"


def test_the_console_script_is_graphbp_cli_main():
    assert 'graphbp = "graphbp.cli:main"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_dotted_names_in_the_readme_exist():
    """Every `graphbp.a.b` the README names (in backticks) is an attribute path that resolves."""
    names = set(re.findall(r"`(graphbp(?:\.\w+)+)", README))
    assert names
    missing = []
    for name in sorted(names):
        parts = name.split(".")
        target = importlib.import_module("graphbp")
        for k, part in enumerate(parts[1:], start=1):
            if not hasattr(target, part):
                try:
                    target = importlib.import_module(".".join(parts[: k + 1]))
                    continue
                except ImportError:
                    missing.append(name)
                    break
            target = getattr(target, part)
    assert not missing, f"the README names {missing}, which do not exist"
