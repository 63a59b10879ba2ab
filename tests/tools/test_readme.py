"""The README's and the docs pages' examples are tests: every ```python block runs on its own in an empty
folder, and the shell lines starting with ``graphbp`` of each document run in order in one empty folder,
as a newcomer would type them."""

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from graphbp.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The docs pages written by hand (not the folders a build generates).
DOCUMENTS = ["README.md"] + sorted(
    p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md")
    if not {"_build", "generated", "gallery", "jupyter_execute"} & set(p.relative_to(ROOT).parts))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
SHELL_LANGUAGES = {"bash", "sh", "shell", "console", ""}
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def text(document: str) -> str:
    return (ROOT / document).read_text(encoding="utf-8")


def python_blocks() -> list[str]:
    """Every python block of every document, each once (a page may repeat the README's first example)."""
    return list(dict.fromkeys(body for document in DOCUMENTS for language, body in FENCE.findall(text(document))
                              if language == "python"))


def graphbp_lines(document: str = "README.md") -> list[str]:
    return [line.strip() for language, body in FENCE.findall(text(document)) if language in SHELL_LANGUAGES
            for line in body.splitlines() if line.strip().startswith("graphbp ")]


def environment() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "MPLBACKEND": "Agg"}


def test_the_readme_is_a_front_page():
    """At most 200 lines; its first 40 hold the install line and a runnable python example."""
    lines = README.splitlines()
    assert len(lines) <= 200
    top = "\n".join(lines[:40])
    assert "pip install -e . && graphbp demo" in top and 'pip install -e ".[test]" && python -m pytest' in top
    first = python_blocks()[0]
    assert first in top and "graphbp.backprop" in first
    assert len(graphbp_lines()) >= 5 and len(python_blocks()) >= 8


def test_relative_links_in_the_readme_and_docs_exist():
    missing = [(document, target) for document in DOCUMENTS for target in LINK.findall(text(document))
               if "://" not in target and not target.startswith("mailto:")
               and not (ROOT / document).parent.joinpath(target).exists()
               and not (ROOT / document).parent.joinpath(target).with_suffix("").exists()]
    # gallery/index.rst is written by sphinx-gallery during the build.
    assert [m for m in missing if "gallery/" not in m[1]] == []


@pytest.mark.parametrize("number", range(len(python_blocks())))
def test_python_block_runs_alone_in_an_empty_folder(number, tmp_path):
    block = python_blocks()[number]
    (tmp_path / "example.py").write_text(block, encoding="utf-8")
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=environment(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"python block {number}:\n{block}\n{done.stderr[-3000:]}"


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if graphbp_lines(d)])
def test_graphbp_lines_run_in_order_in_one_empty_folder(document, tmp_path, monkeypatch, capsys):
    """Run in this process (graphbp.cli.main is the console script's entry point), for speed."""
    monkeypatch.chdir(tmp_path)
    for line in graphbp_lines(document):
        try:
            status = main(shlex.split(line, comments=True)[1:])
        except SystemExit as stop:  # --version and --help exit from argparse
            status = stop.code
        out, err = capsys.readouterr()
        assert status == 0, f"{document} line {line!r} failed:\n{err}"
        assert out.strip(), f"{document} line {line!r} printed nothing"


def test_the_console_script_is_graphbp_cli_main():
    assert 'graphbp = "graphbp.cli:main"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_dotted_names_in_the_readme_and_docs_exist():
    """Every `graphbp.a.b` the README and the docs pages name (in backticks) is an attribute path that resolves."""
    names = {name for document in DOCUMENTS for name in re.findall(r"`(graphbp(?:\.\w+)+)", text(document))}
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
    assert not missing, f"the README or the docs name {missing}, which do not exist"


def test_the_first_example_prints_what_the_readme_shows(tmp_path):
    """The README's first example prints the numbers in its comments and then the ```text block below it."""
    block = python_blocks()[0]
    (tmp_path / "example.py").write_text(block, encoding="utf-8")
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=environment(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    shown = re.findall(r"^print\(.*#.*: (.+)$", block, re.M)
    printed = [language_body[1] for language_body in FENCE.findall(README) if language_body[0] == "text"][0]
    assert shown and all(value.strip() in done.stdout for value in shown), (shown, done.stdout)
    assert printed.strip() in done.stdout, done.stdout
