"""Links from the book's pages to the repository, built from the one setting a fork changes.

``_config.yml``'s ``repository.url`` (and ``branch``, and ``launch_buttons.binderhub_url``) is the
only place the repository is named; chapters call :func:`assignment_link` rather than typing a
Binder URL, so a fork's links follow that setting.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import quote

import yaml

__all__ = [
    "ASSIGNMENTS",
    "find_repo_root",
    "book_config",
    "binder_url",
    "repository_file_url",
    "assignment_path",
    "assignment_link",
]

#: The graded assignments (DESIGN.md's exercise contract), in course order.
ASSIGNMENTS = (
    "ex01-scaling",
    "ex02-sums",
    "ex03-initializers",
    "ex04-variance-scaling",
    "ex05-deep-signal",
    "ex06-training",
    "ex07-orthogonal",
    "ex08-lsuv",
)


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: the working directory) holding
    ``_config.yml``; failing that, the checkout this package was installed from."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file():
            return folder
    installed_from = Path(__file__).resolve().parents[2]
    if (installed_from / "_config.yml").is_file():
        return installed_from
    raise FileNotFoundError(
        f"no _config.yml found in {here} or above it: "
        "run this from inside the weightinit repository"
    )


@cache
def _load_config(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def book_config(root: Path | None = None) -> dict:
    """The parsed ``_config.yml`` of the book."""
    return _load_config(find_repo_root(root) / "_config.yml")


def _repository(config: dict) -> tuple[str, str, str]:
    repo = config.get("repository", {})
    url = str(repo.get("url", "")).rstrip("/")
    prefix = "https://github.com/"
    if not url.startswith(prefix):
        raise ValueError(f"repository.url in _config.yml must be a GitHub URL, got {url!r}")
    return url, url.removeprefix(prefix), str(repo.get("branch", "main"))


def binder_url(path: str, config: dict | None = None) -> str:
    """A Binder link that opens `path` (relative to the repository root) in JupyterLab."""
    config = config or book_config()
    _, org_repo, branch = _repository(config)
    hub = str(config.get("launch_buttons", {}).get("binderhub_url", "https://mybinder.org"))
    return f"{hub.rstrip('/')}/v2/gh/{org_repo}/{branch}?labpath={quote(path)}"


def repository_file_url(path: str, config: dict | None = None) -> str:
    """The URL of `path` on the repository's web page, at the configured branch."""
    config = config or book_config()
    url, _, branch = _repository(config)
    return f"{url}/blob/{branch}/{quote(path)}"


def assignment_path(assignment: str) -> str:
    """The student notebook of `assignment`: ``exercises/<name>/<name>.ipynb``."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"assignment must be one of {', '.join(ASSIGNMENTS)}; got {assignment!r}")
    return f"exercises/{assignment}/{assignment}.ipynb"


def assignment_link(assignment: str, config: dict | None = None):
    """Markdown for a chapter's "graded exercise" line: the notebook and a Binder link to it."""
    from IPython.display import Markdown

    path = assignment_path(assignment)
    return Markdown(
        f"**Graded exercise:** [`{path}`]({repository_file_url(path, config)}) "
        f"([open it in Binder]({binder_url(path, config)}), JupyterLab). "
        "Run its visible tests as you go; the grader runs hidden ones too."
    )
