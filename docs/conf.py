"""Sphinx configuration of the lowrank-rnn documentation (``make docs``).

The build needs no network: no intersphinx (no local inventories of numpy, scipy, torch or
xarray exist on a fresh machine, and fetching them would make the build depend on the
network), and the theme's assets ship with the theme.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the page generators next to this file

from _generate import write_generated_pages  # noqa: E402

import lowrank_rnn  # noqa: E402

project = "lowrank-rnn"
author = "the lowrank-rnn authors"
copyright = "2026, the lowrank-rnn authors"  # noqa: A001
release = lowrank_rnn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5",
                    "examples/README.rst", "**.codeobj.json"]
templates_path = ["_templates"]

# -- API reference: autosummary stubs from the docstrings, numpydoc sections -----------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"          # the numpydoc "Parameters" section carries the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# every public name must have a docstring (GL08); a section numpydoc cannot parse is an error
numpydoc_validation_checks = {"GL08"}
# (torch's extra_repr hook; a dataclass field documented by its ``#:`` comment, which numpydoc's
# validation does not read)
numpydoc_validation_exclude = {r"\.__init__$", r"\.__post_init__$", r"\.__call__$",
                               r"\.__repr__$", r"\.__len__$", r"\.__iter__$",
                               r"\.extra_repr$",
                               r"^lowrank_rnn\.fit\.compare\.ComparisonRun\.model$"}

# -- the gallery: every example runs during the build; an error fails it --------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "show_memory": False,
    "backreferences_dir": None,
    "plot_gallery": os.environ.get("LOWRANK_RNN_DOCS_GALLERY", "True"),
}

# -- HTML ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"lowrank-rnn {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 4,  # long guide titles would wrap the navigation bar
    "show_toc_level": 2,
    "navbar_end": ["theme-switcher"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
html_show_sourcelink = False
myst_heading_anchors = 3

# pages generated from the package itself (paper pages, CLI help): always in step with the code
write_generated_pages(HERE)
