"""The Binder path, tested without Binder.

Binder builds its image from requirements.txt and runtime.txt alone, then a student opens a
chapter (a MyST .md file, opened as a notebook by jupytext) or a released exercise. The venv
that `make` creates is made from requirements.txt alone, so these tests check that it is exactly
that environment, then open and run every chapter the way JupyterLab would.
"""

from __future__ import annotations

import os
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

from .conftest import ROOT, toc_files


def _fresh_kernels():
    """The book build's kernel manager without its zygote: kernels start from scratch, as in
    Binder (a forked kernel's warm imports could hide a missing import), and the client waits in
    short slices (a reply whose wake-up pyzmq missed would otherwise wait out the timeout)."""
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    import book_kernels

    assert book_kernels._SOCKET is None, "a zygote is running in the test process"
    return book_kernels.kernel_manager_class()


def _normal(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[_normal(name)] = version
    return pins


def test_runtime_is_python_311():
    assert (ROOT / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    assert sys.version_info[:2] == (3, 11), "the pinned environment is built for Python 3.11"


def test_requirements_pin_the_whole_environment():
    """Every installed distribution is pinned at its installed version, and every pin is
    installed: what Binder builds from requirements.txt is what the tests ran in."""
    pins = _pins()
    installed = {
        re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version
        for d in metadata.distributions()
    }
    allowed_unpinned = {"pip", "setuptools", "wheel", "weightinit"}
    unpinned = sorted(set(installed) - set(pins) - allowed_unpinned)
    assert not unpinned, f"installed but not pinned in requirements.txt: {unpinned}"
    wrong = {n: (v, installed.get(n)) for n, v in pins.items() if installed.get(n) != v}
    assert not wrong, f"pinned (wanted, installed) mismatches: {wrong}"
    assert "-e ." in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert "jupytext" in pins, "Binder needs jupytext to open the .md chapters as notebooks"


def _chapters() -> list[str]:
    return [f for f in toc_files() if re.match(r"book/\d\d-", f)]


@pytest.mark.book
@pytest.mark.parametrize("chapter", _chapters() or ["(none yet)"])
def test_chapter_opens_and_runs_as_a_notebook(chapter):
    """Open the chapter as JupyterLab does (jupytext) and run every cell in a fresh kernel."""
    if chapter == "(none yet)":
        pytest.skip("no chapters in _toc.yml yet")
    import jupytext
    import nbclient

    path = ROOT / f"{chapter}.md"
    nb = jupytext.read(path)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert any(c.cell_type == "code" for c in nb.cells)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
        kernel_manager_class=_fresh_kernels(),
    )
    # One BLAS thread, as `make book` (small matrices, shared cores). Raises CellExecutionError,
    # naming the cell, if any cell fails.
    client.execute(env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors


def test_chapter_files_are_jupytext_notebooks():
    for md in sorted((ROOT / "book").glob("[0-9][0-9]-*.md")):
        head = md.read_text(encoding="utf-8").split("---")[1]
        assert "format_name: myst" in head and "kernelspec" in head, md.name
        assert str(md.relative_to(ROOT).with_suffix("")) in toc_files(), (
            f"{md.name} not in _toc.yml"
        )


def test_jupyterlab_opens_chapters_as_notebooks(tmp_path):
    """postBuild (Binder) and `make lab` write JupyterLab's documented defaultViewers override."""
    import json
    import subprocess

    script = str(ROOT / "scripts/lab_settings.py")
    assert "scripts/lab_settings.py" in (ROOT / "postBuild").read_text(encoding="utf-8")
    settings = tmp_path / "share/jupyter/lab/settings/overrides.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"other-plugin:x": {"keep": true}}', encoding="utf-8")
    subprocess.run([sys.executable, script, str(tmp_path)], check=True)
    written = json.loads(settings.read_text(encoding="utf-8"))
    viewers = written["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"
    assert written["other-plugin:x"] == {"keep": True}
    # The viewer name must be the one jupytext's lab extension registers.

    ext = Path(sys.prefix) / "share/jupyter/labextensions/jupyterlab-jupytext"
    assert ext.is_dir(), "jupytext's JupyterLab extension is missing"
    bundle = " ".join(p.read_text(errors="ignore") for p in ext.rglob("*.js"))
    assert "Jupytext Notebook" in bundle


def _released_assignments() -> list[str]:
    return sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir())


@pytest.mark.parametrize("assignment", _released_assignments())
def test_released_exercise_passes_its_visible_tests_with_the_solutions(assignment):
    """A student's path in Binder: open the released notebook, fill every answer cell with the
    instructor's solution (matched by grade_id), run it top to bottom: every visible test passes.
    (Hidden tests are not in the release; the grader tests run those.)"""
    import nbclient
    import nbformat

    release = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    source = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    }
    filled = 0
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            cell.source = solutions[meta["grade_id"]]
            filled += 1
    assert filled, f"{assignment} has no answer cells"
    tests = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests, f"{assignment} has no visible test cells"
    client = nbclient.NotebookClient(
        release,
        timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "exercises" / assignment)}},
        kernel_manager_class=_fresh_kernels(),
    )
    client.execute(env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})  # raises on a failing test
