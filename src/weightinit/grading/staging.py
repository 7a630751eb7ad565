"""Staging for ``make grade``: what nbgrader grades is a repaired copy of ``submitted/``.

:func:`stage_folder` (called by :mod:`weightinit.grading.batch` for each submission, after the
release has been generated into ``_build/nbgrader-release``) copies a
``submitted/<student>/<assignment>/`` notebook to the staged folder, repaired so that no single
notebook can stop nbgrader for the whole class:

- a file that is not a readable notebook (invalid JSON, another format) is graded as the untouched
  release: it scores 0, and the line ``[grade] repaired: <student>/<assignment>: ...`` names it;
- every cell that carries nbgrader metadata gets the release's metadata for its ``grade_id``
  (a changed ``schema_version``, points or flags would otherwise make nbgrader stop or misgrade);
  a second cell with the same ``grade_id`` and cells with an unknown one lose their nbgrader
  metadata and become ordinary student cells;
- the kernelspec is the release's.

Unchanged notebooks are not rewritten. :func:`stage` does the same for a whole ``submitted/``.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from .console import say as _say


def _release_cells(release: dict) -> dict[str, dict]:
    out = {}
    for cell in release.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id"):
            out.setdefault(meta["grade_id"], meta)
    return out


def repair(path: Path, release_path: Path) -> tuple[dict, list[str]]:
    """The notebook at `path` made gradable (an ``nbformat.NotebookNode``), and what had to be
    repaired."""
    import nbformat  # here: `make grade` with nothing new to grade never needs it

    release = nbformat.read(release_path, as_version=4)
    try:
        nb = nbformat.read(path, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("no cells")
    except Exception as exc:  # noqa: BLE001  (anything unreadable is graded as the blank release)
        return copy.deepcopy(release), [f"not a readable notebook ({type(exc).__name__}); "
                                        "graded as the untouched release"]
    notes = []
    known = _release_cells(release)
    seen: set[str] = set()
    for cell in nb.cells:
        if cell.get("cell_type") not in ("code", "markdown", "raw"):
            cell["cell_type"] = "raw"
        meta = cell.setdefault("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        name = meta.get("grade_id") if isinstance(meta, dict) else None
        if name in known and name not in seen:
            seen.add(name)
            keys = ("grade", "solution", "locked", "points", "task")
            if not isinstance(meta, dict) or any(
                    meta.get(k) != known[name].get(k) for k in keys if k in known[name]):
                notes.append(f"metadata of {name}")
            cell.metadata["nbgrader"] = copy.deepcopy(known[name])
        else:
            if name in seen:
                notes.append(f"duplicated cell {name}")
            cell.metadata.pop("nbgrader", None)
    nb.metadata["kernelspec"] = copy.deepcopy(release.metadata.get("kernelspec", {}))
    nb.nbformat, nb.nbformat_minor = 4, max(int(nb.get("nbformat_minor", 4) or 4), 4)
    return nb, notes


def stage_folder(folder: Path, release_folder: Path, target: Path) -> tuple[int, list[str]]:
    """Copy one submission, `folder` (``submitted/<student>/<assignment>``), to `target`,
    repaired against `release_folder`; the number of notebooks and what was repaired.

    A notebook whose repaired text is already at its target is not rewritten.
    """
    target.mkdir(parents=True, exist_ok=True)
    count, notes = 0, []
    for release in sorted(release_folder.glob("*.ipynb")):
        mine, dest = folder / release.name, target / release.name
        if not mine.exists():
            dest.unlink(missing_ok=True)
            continue
        import nbformat

        nb, repaired = repair(mine, release)
        notes += repaired
        text = nbformat.writes(nb) + "\n"
        if not dest.exists() or dest.read_text(encoding="utf-8") != text:
            dest.write_text(text, encoding="utf-8")
        count += 1
    stamp, copy_ = folder / "timestamp.txt", target / "timestamp.txt"
    if stamp.is_file():
        if not copy_.exists() or copy_.read_bytes() != stamp.read_bytes():
            shutil.copy(stamp, copy_)
    else:
        copy_.unlink(missing_ok=True)
    return count, sorted(set(notes))


def stage(course: Path, out: Path) -> int:
    """Copy `course`/submitted to `out`, repaired (see :func:`repair`); the number of notebooks.

    Unchanged notebooks are not rewritten, so nbgrader's own "already graded" logic still
    applies; notebooks and folders gone from submitted/ are removed from `out`.
    """
    submitted, release_root = course / "submitted", course / "_build" / "nbgrader-release"
    count = 0
    wanted: set[Path] = set()
    for student in sorted(p for p in submitted.iterdir() if p.is_dir()):
        for folder in sorted(p for p in student.iterdir() if p.is_dir()):
            release_folder = release_root / folder.name
            if not release_folder.is_dir():
                continue
            target = out / student.name / folder.name
            wanted.add(target)
            n, notes = stage_folder(folder, release_folder, target)
            if notes:
                _say(f"repaired: {student.name}/{folder.name}: {'; '.join(notes)}")
            count += n
    prune(out, wanted)
    return count


def prune(out: Path, wanted: set[Path]) -> None:
    """Remove every ``out/<student>/<assignment>`` folder not in `wanted`, and empty students."""
    for folder in sorted(out.glob("*/*")):
        if folder.is_dir() and folder not in wanted:
            shutil.rmtree(folder, ignore_errors=True)
    for student in sorted(out.iterdir()):
        if student.is_dir() and not any(student.iterdir()):
            student.rmdir()
