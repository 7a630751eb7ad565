"""The book builds with every warning as an error, and every page of the TOC is in it."""

from __future__ import annotations

import re

import pytest

from .conftest import toc_files

pytestmark = pytest.mark.book


def test_build_has_no_warning(built_book):
    """-W already turns a Sphinx warning into a failed build; this also catches one that a
    future change to the build flags would let through. (Sphinx writes "path: WARNING: text";
    ipykernel's own "[IPKernelApp] WARNING | ..." start-up notice is not a book warning.)"""
    log = (built_book.parents[1] / "build.log").read_text(encoding="utf-8")
    sphinx_warnings = re.findall(r"^.*\bWARNING: .*$", log, flags=re.MULTILINE)
    assert not sphinx_warnings, "\n".join(sphinx_warnings)


def test_every_toc_page_is_built(built_book):
    for page in toc_files():
        html = built_book / f"{page}.html"
        assert html.is_file(), f"{page} is in _toc.yml but was not built"
        text = html.read_text(encoding="utf-8")
        # A glue reference that failed to resolve, or an unexecuted cell, would leave these.
        assert "{glue:" not in text and "Traceback (most recent call last)" not in text, page
        # A warning a chapter's code printed (a missing font, a deprecation) is not for readers.
        assert "findfont:" not in text and "Warning:" not in text, page
        # A figure that reached the page as its text (matplotlib's repr) instead of its PNG:
        # what a kernel whose inline backend is not wired into its shell shows.
        assert "&lt;Figure size" not in text, f"{page} shows a figure's text, not the figure"


def test_citations_resolve(built_book):
    intro = (built_book / "book" / "intro.html").read_text(encoding="utf-8")
    refs = (built_book / "book" / "references.html").read_text(encoding="utf-8")
    assert "Efficient BackProp" in refs and "Delving deep into rectifiers" in refs
    assert re.search(r"He\s+<em>et al\.</em>", intro) or "He et al." in intro
