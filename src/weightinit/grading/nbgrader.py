"""nbgrader glue: autograde through the judge, quiet tamper reports, feedback without hidden tests.

``nbgrader_config.py`` calls :func:`configure`. Three places of nbgrader 0.9 change:

- **Sanitize** (before grading): :class:`RestoreCells` replaces nbgrader's ``OverwriteCells``.
  Every cell whose ``grade_id`` the gradebook knows gets back the course's cell type, flags,
  points and, when locked, its source; deleted grade cells are added back; a duplicated cell
  keeps its first copy's identity only. Instead of nbgrader's one warning per changed cell it
  logs one line per submission naming what was edited ("tampered: ...").
- **Execute**: :class:`JudgedExecute` replaces ``Execute``. It hands the notebook to the judge
  (``python -m weightinit.grading.judge``, a fresh process) and writes back the outputs the
  judge gives: the student's cells' own (capped) outputs, and for each test cell nothing (pass)
  or one error with the judge's message (fail). Nothing the kernel prints lands in a test cell.
  If the judge itself fails, every test cell of that notebook fails with the reason, and the
  other submissions are graded as usual.
- **Feedback**: :class:`HideTests` removes the hidden tests from every test cell before the
  page is written; tracebacks carry no path of the grading machine (the judge strips them);
  :mod:`weightinit.grading.feedback` names the cells and writes the page with its own template.

Before nbgrader runs, :mod:`weightinit.grading.staging` copies ``submitted/`` to the folder it
grades from, repaired so that no one notebook can stop the class's grading.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells

from .console import say as _say
from .feedback import configure_feedback

#: The judge's limit for one whole notebook (each cell and call has its own, much smaller one).
NOTEBOOK_SECONDS = 1800

log = logging.getLogger("weightinit.grading")


#: Judge results computed ahead, by :mod:`weightinit.grading.batch`'s workers: the digest of a
#: job (:func:`job_digest`) -> the judge's result for it. :class:`JudgedExecute` takes its result
#: from here when the notebook it is given makes the same job, and runs the judge otherwise.
PRECOMPUTED: dict[str, dict] = {}


class RestoreCells(OverwriteCells):
    """nbgrader's OverwriteCells, stricter and quiet: see the module docstring."""

    def preprocess(self, nb, resources):
        self.changes: list[str] = []
        self.add_missing_cells = True
        seen: set[str] = set()
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            source_nb = gb.find_notebook(resources["nbgrader"]["notebook"],
                                         resources["nbgrader"]["assignment"])
            known = {c.name: c for c in source_nb.source_cells}
            grades = {c.name for c in source_nb.grade_cells}
            solutions = {c.name for c in source_nb.solution_cells}
            for cell in nb.cells:
                meta = cell.get("metadata", {}).get("nbgrader")
                if not isinstance(meta, dict):
                    continue
                name = meta.get("grade_id")
                if name not in known or name in seen:
                    if name in seen:
                        self.changes.append(f"duplicated cell {name}")
                    cell.metadata.pop("nbgrader", None)
                    continue
                seen.add(name)
                want = {"grade": name in grades, "solution": name in solutions,
                        "locked": bool(known[name].locked)}
                for key, value in want.items():
                    if bool(meta.get(key, False)) != value:
                        self.changes.append(f"{key} of {name}")
                        meta[key] = value
                meta["schema_version"] = 3
                meta.setdefault("task", False)
        nb, resources = super().preprocess(nb, resources)
        missing = sorted(set(grades) - seen)
        if missing:
            self.changes.append("deleted " + ", ".join(missing))
        if self.changes:
            who = f"{resources['nbgrader']['student']}/{resources['nbgrader']['assignment']}"
            shown = sorted(set(self.changes))
            _say(f"tampered: {who}: {len(shown)} change(s) to the course's cells undone "
                 f"({'; '.join(shown[:8])}{' ...' if len(shown) > 8 else ''})")
        return nb, resources

    def preprocess_cell(self, cell, resources, cell_index):
        self._source = cell.source
        return super().preprocess_cell(cell, resources, cell_index)

    def report_change(self, name, attr, old, new):
        if attr == "checksum":
            # A released test cell lacks its hidden tests, so its checksum always differs from
            # the gradebook's: only a source other than the release's is an edit.
            released = without_hidden_tests(
                self.gradebook.find_source_cell(name, self.notebook_id, self.assignment_id).source)
            if self._source.strip() == released.strip():
                return
            attr = "source"
        self.changes.append(f"{attr} of {name}")

    def add_missing_grade_cells(self, nb, resources):
        # nbgrader logs a warning per missing cell; the summary line above says it once.
        level = self.log.level
        self.log.setLevel(logging.ERROR)
        try:
            return super().add_missing_grade_cells(nb, resources)
        finally:
            self.log.setLevel(level)


def without_hidden_tests(source: str) -> str:
    """`source` as the student release shows it: the hidden-test region removed (as nbgrader's
    ClearHiddenTests does)."""
    from .judge import HIDDEN_BEGIN, HIDDEN_END

    out, inside = [], False
    for line in source.splitlines(keepends=True):
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def cell_kind(cell) -> str | None:
    """How the judge treats a notebook cell: ``test`` (judged), ``locked`` (the course's code,
    run in the kernel), ``student`` (run in the kernel), or None (not code)."""
    if cell.cell_type != "code":
        return None
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return "test"
    if meta.get("locked") and not meta.get("solution"):
        return "locked"
    return "student"


def job_of(nb, course_root: str | None = None) -> dict:
    """The judge's job for a (sanitized) notebook: its code cells, each with its kind."""
    cells = [{"index": index, "kind": kind, "source": cell.source}
             for index, cell in enumerate(nb.cells) if (kind := cell_kind(cell)) is not None]
    # nbgrader runs from the course folder: the kernel must not see into it.
    return {"cells": cells, "course_roots": [course_root or os.getcwd()]}


def job_digest(job: dict) -> str:
    """A name for `job` that changes whenever anything the judge is given changes."""
    text = json.dumps(job, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class JudgedExecute(NbGraderPreprocessor):
    """Run the notebook through the judge (see the module docstring)."""

    def preprocess(self, nb, resources):
        job = job_of(nb)
        for item in job["cells"]:
            nb.cells[item["index"]].outputs = []
            nb.cells[item["index"]].execution_count = None
        who = f"{resources['nbgrader']['student']}/{resources['nbgrader']['assignment']}"
        try:
            result = PRECOMPUTED.pop(job_digest(job), None) or _run_judge(job)
        except Exception as exc:  # noqa: BLE001  (one notebook's failure, reported, not raised)
            _say(f"failed: {who}: the judge could not grade it ({exc}); its tests score 0")
            for item in job["cells"]:
                if item["kind"] == "test":
                    nb.cells[item["index"]].outputs = [nbformat.v4.new_output(
                        "error", ename="GradingError",
                        evalue="this notebook could not be graded; ask your instructor",
                        traceback=["GradingError: this notebook could not be graded"])]
            return nb, resources
        for index, res in result["cells"].items():
            cell = nb.cells[int(index)]
            cell.outputs = [nbformat.from_dict(o) for o in res["outputs"]]
            cell.execution_count = res.get("execution_count")
        if result.get("restarts"):
            _say(f"note: {who}: the kernel was replaced {result['restarts']} time(s) "
                 "(a timeout or a crash in the student's code)")
        return nb, resources


def _run_judge(job: dict) -> dict:
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "weightinit.grading.judge"],
        input=json.dumps(job).encode(), capture_output=True, timeout=NOTEBOOK_SECONDS,
        env=env, check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"exit {proc.returncode}: {' | '.join(tail)}")
    return json.loads(proc.stdout)


class HideTests(ClearHiddenTests):
    """Feedback pages show the visible tests only (nbgrader's ClearHiddenTests, which by default
    acts only on instructor notebooks' solution flags, applied to every test cell)."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and self.begin_test_delimeter in cell.source:
            self._remove_hidden_test_region(cell)
        return cell, resources


class GradesCsv(ExportPlugin):
    """``grades.csv`` with nbgrader's columns and one more, ``status``: ``graded``, ``needs
    manual grading`` or ``not submitted``. A missing submission has no score (nbgrader's own
    exporter writes 0, which reads as a submission that earned nothing)."""

    COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
               "email", "raw_score", "late_submission_penalty", "score", "max_score", "status")

    def export(self, gradebook: Gradebook) -> None:
        dest = Path(self.to or "grades.csv")
        rows = []
        for assignment in gradebook.assignments:
            if self.assignment and assignment.name not in self.assignment:
                continue
            for student in gradebook.students:
                if self.student and student.id not in self.student:
                    continue
                row = {"assignment": assignment.name, "duedate": assignment.duedate,
                       "student_id": student.id, "last_name": student.last_name,
                       "first_name": student.first_name, "email": student.email,
                       "max_score": assignment.max_score}
                try:
                    sub = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row.update(timestamp="", raw_score="", late_submission_penalty="", score="",
                               status="not submitted")
                else:
                    penalty = sub.late_submission_penalty
                    row.update(timestamp=sub.timestamp, raw_score=sub.score,
                               late_submission_penalty=penalty,
                               score=max(0.0, sub.score - penalty),
                               status="needs manual grading" if sub.needs_manual_grade
                               else "graded")
                rows.append({k: "" if v is None else str(v) for k, v in row.items()})
        tmp = dest.with_name(dest.name + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=self.COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, dest)


def configure(c) -> None:
    """Set nbgrader up for the judge (called from ``nbgrader_config.py``)."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.converters.generate_feedback import GenerateFeedback
    from nbgrader.preprocessors import Execute

    c.Autograde.sanitize_preprocessors = [
        RestoreCells if p is OverwriteCells else p
        for p in Autograde.class_traits()["sanitize_preprocessors"].default()
    ]
    c.Autograde.autograde_preprocessors = [
        JudgedExecute if p is Execute else p
        for p in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
    feedback = list(GenerateFeedback.class_traits()["preprocessors"].default())
    configure_feedback(c, [feedback[0], HideTests, *feedback[1:]])
    c.ExportApp.plugin_class = GradesCsv
