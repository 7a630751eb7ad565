"""Staging: no submitted notebook, however broken, can stop nbgrader for the class."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

from weightinit.grading.staging import repair, stage

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "exercises" / "ex01-scaling" / "ex01-scaling.ipynb"


def _meta(nb, grade_id):
    return next(c.metadata["nbgrader"] for c in nb.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _test_ids(nb):
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")]


def test_an_untouched_release_needs_no_repair():
    nb, notes = repair(RELEASE, RELEASE)
    assert notes == []
    assert nb == nbformat.read(RELEASE, 4)


def test_unreadable_files_are_graded_as_the_release(tmp_path):
    for text in ("{not json", json.dumps({"cells": "no"}), "", json.dumps([1, 2])):
        path = tmp_path / "broken.ipynb"
        path.write_text(text)
        nb, notes = repair(path, RELEASE)
        assert "not a readable notebook" in notes[0]
        assert _test_ids(nb) == _test_ids(nbformat.read(RELEASE, 4))


def test_changed_metadata_and_duplicates_get_the_release_back(tmp_path):
    release = nbformat.read(RELEASE, 4)
    nb = copy.deepcopy(release)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    grade_id = test.metadata["nbgrader"]["grade_id"]
    test.metadata["nbgrader"].update(points=100, grade=False, solution=True, schema_version=1)
    nb.cells.append(copy.deepcopy(test))  # a duplicated cell
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, path)
    fixed, notes = repair(path, RELEASE)
    assert any(grade_id in n for n in notes) and any("duplicated" in n for n in notes)
    assert _meta(fixed, grade_id) == _meta(release, grade_id)
    assert "nbgrader" not in fixed.cells[-1].metadata  # the copy is plain student code now


def test_stage_copies_repairs_and_forgets_withdrawn_submissions(tmp_path):
    course = tmp_path / "course"
    release = course / "_build" / "nbgrader-release" / "ex01-scaling"
    release.mkdir(parents=True)
    (release / RELEASE.name).write_bytes(RELEASE.read_bytes())
    for student, text in (("ok", RELEASE.read_text()), ("broken", "{")):
        folder = course / "submitted" / student / "ex01-scaling"
        folder.mkdir(parents=True)
        (folder / RELEASE.name).write_text(text)
        (folder / "timestamp.txt").write_text("2026-12-01 10:00:00")
    out = tmp_path / "out"
    assert stage(course, out) == 2
    for student in ("ok", "broken"):
        staged = out / student / "ex01-scaling"
        nbformat.validate(nbformat.read(staged / RELEASE.name, 4))
        assert (staged / "timestamp.txt").read_text() == "2026-12-01 10:00:00"
    before = (out / "ok" / "ex01-scaling" / RELEASE.name).stat().st_mtime_ns
    (course / "submitted" / "broken" / "ex01-scaling" / RELEASE.name).unlink()
    (course / "submitted" / "broken" / "ex01-scaling" / "timestamp.txt").unlink()
    (course / "submitted" / "broken" / "ex01-scaling").rmdir()
    assert stage(course, out) == 1
    assert not (out / "broken").exists()
    # unchanged notebooks are not rewritten, so nbgrader's own bookkeeping stays valid
    assert (out / "ok" / "ex01-scaling" / RELEASE.name).stat().st_mtime_ns == before
