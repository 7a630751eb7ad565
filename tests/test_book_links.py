"""Links from the book to the repository follow the one `repository.url` setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from weightinit.chapters import links as book

ROOT = Path(__file__).resolve().parents[1]


def test_binder_url_uses_the_configured_repository():
    config = book.book_config(ROOT)
    url = book.binder_url("exercises/ex01-scaling/ex01-scaling.ipynb", config)
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    assert url == (
        f"https://mybinder.org/v2/gh/{repo}/{config['repository']['branch']}"
        "?labpath=exercises/ex01-scaling/ex01-scaling.ipynb"
    )
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"


def test_a_fork_changes_one_setting():
    fork = {"repository": {"url": "https://github.com/someone/fork", "branch": "spring"}}
    link = book.assignment_link("ex03-initializers", fork).data
    assert "https://mybinder.org/v2/gh/someone/fork/spring?labpath=" in link
    assert "https://github.com/someone/fork/blob/spring/exercises/ex03-initializers/" in link


def test_config_is_found_from_a_chapter_folder():
    assert book.find_repo_root(ROOT / "book") == ROOT


def test_bad_names_are_explained():
    with pytest.raises(ValueError, match="assignment must be one of ex01-scaling"):
        book.assignment_path("ex99")
    with pytest.raises(ValueError, match="must be a GitHub URL"):
        book.binder_url("x.ipynb", {"repository": {"url": "gitlab.com/x"}})


def test_readme_binder_table_matches_the_configured_repository():
    """The README cannot build its links from _config.yml, so check it names the same repo and
    that every link opens a file that exists."""
    import re

    config = book.book_config(ROOT)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s>]+", readme)
    assert links, "the README's Binder table is missing"
    for link in links:
        if "labpath=" in link:
            path = link.split("labpath=")[1]
            assert link == book.binder_url(path, config), link
            assert (ROOT / path).is_file(), f"README links to {path}, which does not exist"
