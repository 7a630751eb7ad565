"""`make book`: jupyter-book's own ``build`` command, with the chapters read (and so executed) in
parallel, one chapter per task, as many at a time as there are cores.

jupyter-book 1 always asks Sphinx for one process (``jobs=1``), so a clean build executes the
chapters one after the other. Sphinx can read documents in parallel, but it hands each process a
fixed batch of documents in alphabetical order, so the long chapters of Parts II and III would
share one process; here a free process takes the next document.

Sphinx reads in parallel only if every extension declares that it may, and two that jupyter-book
adds do not declare it (Sphinx then falls back to a serial read). Both are safe, for the reasons
in :data:`UNDECLARED`, and this script declares them.

Each chapter's kernel is forked from one process that has already imported what the chapters
import (see ``book_kernels.py``): about 3 s of CPU saved per chapter. ``BOOK_KERNELS=fresh``
starts every kernel from scratch instead (to compare, or to rule the zygote out). Either way the
kernels' clients wait for replies in short slices, which ends the build's intermittent stalls of
about 120 s (a reply whose wake-up pyzmq missed; see ``book_kernels.py``).

Usage: ``python scripts/build_book.py [jupyter-book build arguments]``; ``BOOK_JOBS`` sets the
number of processes (default: the cores this process may use).
"""

from __future__ import annotations

import importlib
import os
import sys

#: Extensions that say nothing about parallel reading, and why reading in parallel is safe.
UNDECLARED = {
    # 0.1.3: its setup only replaces TocTreeCollector.assign_section_numbers, which Sphinx calls
    # once, in the main process, after every document has been read and merged.
    "sphinx_multitoc_numbering": "numbers chapters after the read, in the main process",
    # 1.0: its transforms change only the document being read (node attributes, hidden nodes),
    # and its environment attributes are set for LaTeX builders only.
    "sphinx_jupyterbook_latex": "its read-time transforms touch only the document being read",
}


def one_per_chunk(arguments: list[str], nproc: int, maxbatch: int = 10) -> list[list[str]]:
    """Sphinx's ``make_chunks`` replaced: one document per task, so that a free process takes the
    next one (the signature is Sphinx's; ``nproc`` and ``maxbatch`` do not matter here)."""
    return [[name] for name in arguments]


def declare_parallel_safe(module_name: str) -> None:
    """Wrap the extension's ``setup`` so that its metadata says it may read and write in
    parallel (see :data:`UNDECLARED` for why)."""
    module = importlib.import_module(module_name)
    setup = module.setup

    def declared_setup(app):
        metadata = setup(app) or {}
        return {**metadata, "parallel_read_safe": True, "parallel_write_safe": True}

    module.setup = declared_setup


def create_cache_first() -> None:
    """Create myst-nb's execution cache (an SQLite database) in the main process before Sphinx's
    readers fork from it, hooked to myst-nb's set-up (``builder-inited``): two readers opening a
    cache that does not exist yet would both create its tables, and the second fails ("table
    settings already exists")."""
    import myst_nb.sphinx_ext
    from jupyter_cache import get_cache

    create_config = myst_nb.sphinx_ext.create_mystnb_config

    def create_config_and_cache(app):
        create_config(app)
        get_cache(app.env.mystnb_config.execution_cache_path).db  # noqa: B018  (creates it)

    myst_nb.sphinx_ext.create_mystnb_config = create_config_and_cache


def jobs() -> int:
    value = os.environ.get("BOOK_JOBS", "")
    if not value:
        affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere every core
        return len(affinity(0)) if affinity else os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"BOOK_JOBS must be a positive integer, got {value!r}")
    return int(value)


def main() -> None:
    import book_kernels  # beside this script

    # First: the zygote warms up while jupyter-book and Sphinx start (about 4 s), on the core
    # they leave idle.
    book_kernels.start(zygote=os.environ.get("BOOK_KERNELS") != "fresh")

    import jupyter_book.sphinx
    import sphinx.builders
    from jupyter_book.cli.main import main as cli

    build_sphinx = jupyter_book.sphinx.build_sphinx
    n = jobs()

    def parallel_build(*args, **kwargs):
        return build_sphinx(*args, **{**kwargs, "jobs": n})

    jupyter_book.sphinx.build_sphinx = parallel_build
    sphinx.builders.make_chunks = one_per_chunk
    for name in UNDECLARED:
        declare_parallel_safe(name)
    create_cache_first()
    cli(["build", *sys.argv[1:]], prog_name="jupyter-book")


if __name__ == "__main__":
    main()
