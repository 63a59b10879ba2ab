"""Sphinx configuration of graphbp's documentation site.

Build: ``pip install -e ".[docs]"`` then ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
The two tutorials (``notebooks/``) and the gallery scripts (``examples/plot_*.py``) run during the build;
the site reads offline: MathJax is copied from the ``sphinx-mathjax-offline`` package, no web fonts.
"""

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's graphbp, installed or not
os.environ.setdefault("MPLBACKEND", "Agg")
# The tutorials' kernels import the same checkout.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

import graphbp  # noqa: E402

project = "graphbp"
author = "the graphbp developers"
copyright = "the graphbp developers"
release = version = graphbp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "sphinx_gallery.gen_gallery",
    "sphinx-mathjax-offline",  # sets mathjax_path to the copy it puts in _static
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "gallery/*.ipynb", "gallery/*.py",
                    "gallery/*.zip", "gallery/*.json", "gallery/*.md5", "sg_execution_times.rst"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- API reference: autosummary stubs, numpydoc sections ------------------------------------------------
autosummary_generate = True
templates_path = ["_templates"]  # a class page documents its methods and attributes in full
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's Parameters section already gives the types
numpydoc_show_class_members = False  # the class template documents the members; no second table
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
add_module_names = False
default_role = "code"  # `x` in a docstring is code, never an unresolved reference

# -- Tutorials: executed at build time, stored without outputs -------------------------------------------
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_output_stderr = "warn"  # a warning printed by a tutorial (a progress bar, say) fails the -W build
nb_execution_show_tb = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# -- Gallery: examples/plot_*.py, run at build time (other scripts in examples/ are slow and left out) ----
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(^|/)(?!plot_)[^/]*\.py$",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,  # matplotlib's jshtml player fetches its icons from a CDN
    "show_memory": False,
    "write_computation_times": False,
    "reference_url": {},
}

# -- HTML ----------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "graphbp"
html_static_path = ["_static"]
html_css_files = ["graphbp.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 8,
    # "On this page" everywhere but in the gallery, whose wide figures get the width (patterns must not overlap).
    "secondary_sidebar_items": {pattern: ["page-toc"] for pattern in ("*", "user_guide/*", "notebooks/*", "api/*",
                                                                      "api/generated/*")} | {"gallery/*": []},
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"index": [], "getting_started": []}
html_show_sourcelink = False
# An explicit default mode: opened from file://, the theme found none stored and logged a console error.
html_context = {"default_mode": "light"}


# -- Docstrings: |x| is an absolute value or a count there, never an RST substitution ----------------------
_CODE = re.compile(r"(``.*?``|`[^`]*`)")
_BARS = re.compile(r"(?<![\\|])\|(?=[^\s|])([^|`]*?[^\s|\\])\|(?![|_])")


def _escape_bars(line: str) -> str:
    """Escape the bars of |x| outside inline code (a table row or line block is left alone)."""
    if line.lstrip().startswith(("| ", "+-", "+=")) or line.strip() == "|":
        return line
    parts = _CODE.split(line)  # inline code at the odd indices
    return "".join(_BARS.sub(r"\\|\1\\|", part) if k % 2 == 0 else part for k, part in enumerate(parts))


def _docstring_bars(app, what, name, obj, options, lines):
    """Escape |x| in prose; doctest blocks (from >>> to a blank line) and literal blocks (after ::) stay as written."""
    literal_indent, in_doctest = None, False
    for k, line in enumerate(lines):
        indent, stripped = len(line) - len(line.lstrip()), line.strip()
        if literal_indent is not None and stripped and indent <= literal_indent:
            literal_indent = None
        in_doctest = stripped.startswith(">>>") or (in_doctest and bool(stripped))
        if literal_indent is None and not in_doctest:
            lines[k] = _escape_bars(line)
        if literal_indent is None and stripped.endswith("::"):
            literal_indent = indent


def setup(app):
    app.connect("autodoc-process-docstring", _docstring_bars, priority=600)
