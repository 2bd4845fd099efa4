"""Sphinx configuration for kerasreg's documentation.

Build from the repository root, warnings as errors:

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery runs every ``examples/plot_*.py`` (they train networks: about
two minutes on two cores). Add ``-D plot_gallery=0`` for a quick build of the text
alone.
"""

import os
import sys
from pathlib import Path

# Before TensorFlow loads (in the first example), to keep most of its C++
# start-up messages out of the build log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DOCS = Path(__file__).parent
# The package from this checkout, whether or not it is installed.
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS / "sphinxext"))

import kerasreg  # noqa: E402

project = "kerasreg"
author = "kerasreg developers"
copyright = "kerasreg developers"
release = kerasreg.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# API pages are generated from the docstrings into generated/ on each build.
autosummary_generate = True
autodoc_default_options = {"members": True}
# numpydoc renders the Parameters/Attributes sections; the class template
# lists the methods, so numpydoc does not add a second table of them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "pydata_sphinx_theme"
html_title = f"kerasreg {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    # The wide comparison tables of the migration page get the full width.
    "secondary_sidebar_items": {"**": ["page-toc"], "migrating": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# Top-level pages have no siblings to list in a left sidebar.
html_sidebars = {"index": [], "user_guide": [], "migrating": []}
html_static_path = ["_static"]
html_css_files = ["kerasreg.css"]
html_show_sourcelink = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    # Matched against file names: the seed script red_wine.py is not a
    # gallery example.
    "ignore_pattern": r"^(__init__|red_wine)\.py$",
    "within_subsection_order": "gallery_order.CourseOrder",
    "image_scrapers": ("matplotlib",),
    "doc_module": ("kerasreg",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"kerasreg": None},
    "min_reported_time": 1,
    "show_memory": False,
    "download_all_examples": False,
    "remove_config_comments": True,
}


def _check_every_example_drew(app, exception):
    """Fail the build when an example ran but saved no figure."""
    if exception is not None or not app.config.sphinx_gallery_conf["plot_gallery"]:
        return
    images = DOCS / "auto_examples" / "images"
    missing = [
        script.stem
        for script in sorted((DOCS.parent / "examples").glob("plot_*.py"))
        if not list(images.glob(f"sphx_glr_{script.stem}_*.png"))
    ]
    if missing:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(f"examples that drew no figure: {missing}")


def setup(app):
    app.connect("build-finished", _check_every_example_drew)
