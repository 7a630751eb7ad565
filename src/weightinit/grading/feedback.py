"""The feedback page a student gets back: a summary by exercise, every graded cell by its name.

nbgrader's own page lists "Test cell" once per graded cell and prints 0 for a written answer not
graded yet. Here :class:`FeedbackSummary` (a GenerateFeedback preprocessor, after nbgrader's
``GetGrades`` and :class:`~weightinit.grading.nbgrader.HideTests`) names each graded cell and
groups the cells by the exercise function they test, and the template ``weightinit_feedback``
(``templates/``) shows that summary at the top, each failed cell's message wrapped to the page,
the judge's pictures as embedded images, and "awaiting grading" for a written answer no one has
graded. The page needs nothing from the network and no JavaScript.

A test cell's name is the first paragraph of its docstring; a written answer's is its question (the
bold first line the course writes), else its grade id. The cells of a function are the test
cells after its solution cell, up to the next solution cell.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

#: Where the page's template lives (``weightinit_feedback``, which extends nbgrader's).
TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE_NAME = "weightinit_feedback"
#: Not ``index.html.j2``: that name, looked up along the chain of templates, is nbgrader's page,
#: which this one extends.
TEMPLATE_FILE = "page.html.j2"

_WRITTEN = "Written answers"


def test_name(source: str, fallback: str) -> str:
    """The first paragraph of a test cell's docstring on one line (a sentence the course
    wraps over two lines is not cut), or `fallback`."""
    try:
        doc = ast.get_docstring(ast.parse(source))
    except SyntaxError:
        doc = None
    first = (doc or "").strip().split("\n\n")[0]
    return " ".join(first.split()) or fallback


def written_name(source: str, fallback: str) -> str:
    """A written answer's question: its first line when bold (``**Why ...?**``), else
    `fallback`."""
    first = source.strip().splitlines()[0] if source.strip() else ""
    match = re.match(r"\*\*(.+?)\*\*", first)
    return match.group(1).strip() if match else fallback


def _points(value: float) -> str:
    return f"{value:g}"


def _score_text(score: float | None, points: float) -> str:
    if score is None:
        return f"awaiting grading ({_points(points)} point{'s' if points != 1 else ''})"
    return f"{_points(score)} / {_points(points)}"


def summarize(cells: list, awaiting: set[str] = frozenset()) -> dict:
    """The page's summary from a graded notebook's cells (nbgrader metadata with ``score`` and
    ``points`` set by ``GetGrades``), and a ``weightinit`` entry in each graded cell's metadata:
    ``label`` (its heading), ``score_text`` and ``status`` (``passed``, ``failed``,
    ``awaiting`` or ``graded``). `awaiting` holds the grade ids that still need a person (nbgrader
    reports their score as 0)."""
    groups: dict[str, dict] = {}
    function = None
    for cell in cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id", "")
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            function = grade_id
            cell.metadata["weightinit"] = {"label": f"Your code: {grade_id}"}
            continue
        if not meta.get("grade"):
            continue
        points = float(meta.get("points") or 0)
        score = meta.get("score")
        score = None if score is None or grade_id in awaiting else float(score)
        manual = bool(meta.get("solution")) or bool(meta.get("task"))
        if manual:
            name = written_name(cell.source, grade_id.replace("_", " "))
            group = _WRITTEN
            status = "awaiting" if score is None else "graded"
            label = f"Written answer: {name}"
        else:
            name = test_name(cell.source, grade_id.replace("_", " "))
            group = function or "Tests"
            status = "passed" if score is not None and score >= points else "failed"
            label = f"Test: {name}"
        entry = {"anchor": grade_id, "name": name, "status": status,
                 "score": score, "points": points, "score_text": _score_text(score, points)}
        cell.metadata["weightinit"] = {"label": label, "status": status,
                                       "score_text": entry["score_text"]}
        groups.setdefault(group, {"title": group, "cells": []})["cells"].append(entry)
    ordered = [g for k, g in groups.items() if k != _WRITTEN]
    if _WRITTEN in groups:
        ordered.append(groups[_WRITTEN])
    for g in ordered:
        scored = [c for c in g["cells"] if c["score"] is not None]
        g["points"] = sum(c["points"] for c in g["cells"])
        g["score"] = sum(c["score"] for c in scored)
        g["awaiting"] = sum(c["points"] for c in g["cells"] if c["score"] is None)
        g["score_text"] = f"{_points(g['score'])} / {_points(g['points'])}"
        if g["awaiting"] == g["points"]:
            g["score_text"] = _score_text(None, g["points"])
        elif g["awaiting"]:
            g["score_text"] += f" ({_points(g['awaiting'])} awaiting grading)"
        g["failed"] = sum(c["status"] == "failed" for c in g["cells"])
    score = sum(g["score"] for g in ordered)
    points = sum(g["points"] for g in ordered)
    awaiting = sum(g["awaiting"] for g in ordered)
    return {"groups": ordered, "score": score, "points": points, "awaiting": awaiting,
            "score_text": _points(score), "points_text": _points(points),
            "awaiting_text": _points(awaiting),
            "failed": sum(g["failed"] for g in ordered)}


def needs_manual_grade(resources: dict, cells: list) -> set[str]:
    """The grade ids of `cells` that the gradebook says a person has yet to grade."""
    info = resources["nbgrader"]
    ids = [c.metadata["nbgrader"]["grade_id"] for c in cells
           if c.metadata.get("nbgrader", {}).get("grade")]
    with Gradebook(info["db_url"]) as gradebook:
        return {
            grade_id for grade_id in ids
            if gradebook.find_grade(grade_id, info["notebook"], info["assignment"],
                                    info["student"]).needs_manual_grade
        }


class FeedbackSummary(NbGraderPreprocessor):
    """Put :func:`summarize`'s summary in ``resources["weightinit"]`` for the template."""

    def preprocess(self, nb, resources):
        resources["weightinit"] = summarize(nb.cells, needs_manual_grade(resources, nb.cells))
        return nb, resources


def configure_feedback(c, preprocessors: list) -> None:
    """GenerateFeedback with :class:`FeedbackSummary` last and the ``weightinit_feedback``
    template (nbgrader's template folder stays on the path: ours extends its page)."""
    import nbgrader

    nbgrader_templates = (Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
                          / "templates")
    c.GenerateFeedback.preprocessors = [*preprocessors, FeedbackSummary]
    c.HTMLExporter.template_name = TEMPLATE_NAME
    c.HTMLExporter.template_file = TEMPLATE_FILE
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates)]
