"""The docs site's sources, checked without building it: the API reference lists the whole public API,
and every gallery script has the title sphinx-gallery needs."""

import ast
import importlib
import re
from pathlib import Path

import pytest

import graphbp

ROOT = Path(__file__).resolve().parents[2]
API = (ROOT / "docs" / "api" / "index.rst").read_text(encoding="utf-8")
PUBLIC_MODULES = ["datasets", "drawing", "explorer", "training_plots", "compiled", "torch_module", "interop", "testing"]


def listed_objects() -> list:
    """What the autosummary entries of docs/api/index.rst name, resolved from the graphbp package."""
    objects = []
    for entry in re.findall(r"^   ([\w.]+)$", API, re.M):
        target = graphbp
        for part in entry.split("."):
            target = getattr(target, part)
        objects.append(target)
    return objects


@pytest.mark.parametrize("module", ["graphbp"] + [f"graphbp.{name}" for name in PUBLIC_MODULES])
def test_the_api_reference_lists_every_public_name(module):
    listed = listed_objects()
    namespace = importlib.import_module(module)
    missing = [name for name in namespace.__all__ if not any(getattr(namespace, name) is obj for obj in listed)]
    assert not missing, f"docs/api/index.rst does not list {module}'s {missing}: add them to its autosummary"


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("plot_*.py")), ids=lambda p: p.stem)
def test_a_gallery_script_starts_with_its_title(script):
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert docstring, f"{script.name} has no docstring: sphinx-gallery takes its title and text from it"
    title, underline = docstring.splitlines()[:2]
    assert title and set(underline) == {"="} and len(underline) >= len(title), script.name
