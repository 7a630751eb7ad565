"""The grader, graded: the course runs end to end through nbgrader on a corpus of submissions.

One module-scoped fixture copies the course (nbgrader_config.py and solutions/) into temporary
folders, runs ``make release``, writes every submission of ``tests/grading/corpus.py`` (plus the
solutions themselves, the untouched release, an infinite loop and a kernel-killing cell) into
``submitted/``, and runs ``make grade`` once: autograde, feedback and grades.csv. The work is
split over two course folders graded in parallel (one per core). The tests then read the
gradebook, the autograded notebooks, the feedback HTML and grades.csv. Nothing is written into
the repository.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from fnmatch import fnmatch
from pathlib import Path

import nbformat
import pytest

from tests.grading.corpus import (
    ASSIGNMENTS,
    INFINITE_LOOP,
    KERNEL_DEATH,
    MISTAKES,
    VARIANTS,
    Submission,
    affected,
    pack,
    patched,
    solution_bodies,
    touched,
    write_submission,
)

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VENV = BIN.parent

#: Two course folders graded in parallel, with about the same amount of work each (ex01 holds
#: the infinite loop, which waits out the timeout, and the kernel deaths).
HALVES = {
    "a": ("ex01-scaling", "ex05-deep-signal", "ex06-training", "ex07-orthogonal"),
    "b": ("ex02-sums", "ex03-initializers", "ex04-variance-scaling", "ex08-lsuv"),
}

#: Regraded with --force to compare scores: random checks and failures, in the half done first.
REGRADE = ("ex01-scaling", "[rw]*-ex01-01")

#: Each assignment's solution bodies, so that patches of one function that rewrite different
#: lines and fail different tests can share a notebook.
BODIES = {
    name: solution_bodies(nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", 4))
    for name in ASSIGNMENTS
}
WRONG = pack(MISTAKES, "wrong", BODIES)
RIGHT = pack(VARIANTS, "right")
SPECIAL = [
    Submission("loop-ex01", INFINITE_LOOP.assignment, [INFINITE_LOOP]),
    Submission("dead-ex01", KERNEL_DEATH.assignment, [KERNEL_DEATH]),
]


def _env() -> dict[str, str]:
    # The kernels nbgrader starts must be the venv's Python, which has weightinit.
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", MPLBACKEND="Agg")


def _popen(args: list[str], cwd: Path) -> subprocess.Popen:
    """Start a command; its output goes to a file (a pipe could fill up and block it while
    another process is waited for)."""
    log = (cwd / f"{Path(args[0]).name}-{time.monotonic_ns()}.log").open("w+")
    proc = subprocess.Popen(args, cwd=cwd, env=_env(), stdout=log, stderr=subprocess.STDOUT)
    proc.log = log
    return proc


def _make(course: Path, target: str) -> subprocess.Popen:
    """The repository's Makefile target, run in the temporary course with the existing venv (one
    grading worker: the two course folders are graded side by side, one per core)."""
    make = ["make", "-f", str(REPO / "Makefile"), f"VENV={VENV}", "-o", f"{VENV}/.installed",
            "JOBS=1"]
    return _popen([*make, target], course)


def _output(proc: subprocess.Popen) -> str:
    proc.wait(timeout=900)
    proc.log.seek(0)
    out = proc.log.read()
    proc.log.close()
    return out


def _finish(proc: subprocess.Popen, what: str) -> str:
    out = _output(proc)
    assert proc.returncode == 0, f"{what} failed (exit {proc.returncode}):\n{out[-6000:]}"
    return out


def _scores(course: Path) -> dict[tuple[str, str], dict[str, tuple[float | None, float]]]:
    """(student, assignment) -> {grade cell: (auto score, max score)} for autograded test cells."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "weightinit") as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                cells = {}
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        if grade.cell.cell_type == "code":
                            cells[grade.name] = (grade.auto_score, grade.max_score)
                out[(sub.student.id, assignment.name)] = cells
    return out


class Course:
    """The graded temporary courses and what the tests read from them."""

    def __init__(self, root: Path):
        self.root = root
        self.folders = {half: root / half for half in HALVES}
        self.students: dict[tuple[str, str], Submission | None] = {}
        self.seconds = 0.0
        self.validate_output = ""
        self.before_regrade: dict = {}
        self.after_regrade: dict = {}
        self.regraded_files = self.rewritten_files = 0

    def folder(self, assignment: str) -> Path:
        return next(self.folders[h] for h, names in HALVES.items() if assignment in names)

    def autograded(self, student: str, assignment: str):
        path = self.folder(assignment) / "autograded" / student / assignment / f"{assignment}.ipynb"
        return nbformat.read(path, 4)

    def feedback_text(self, student: str, assignment: str) -> str:
        path = self.folder(assignment) / "feedback" / student / assignment / f"{assignment}.html"
        page = path.read_text(encoding="utf-8")
        return html.unescape(re.sub(r"<[^>]+>", "", page))

    def scores(self) -> dict:
        out = {}
        for folder in self.folders.values():
            out.update(_scores(folder))
        return out


def _set_up(root: Path) -> Course:
    course = Course(root)
    for half, names in HALVES.items():
        folder = course.folders[half]
        folder.mkdir()
        shutil.copy(REPO / "nbgrader_config.py", folder)
        for name in names:
            shutil.copytree(REPO / "solutions" / name, folder / "solutions" / name)
    # Stray files in a source folder: the ignore list must keep them out of the release.
    strays = course.folder("ex02-sums") / "solutions" / "ex02-sums"
    (strays / "notes.txt").write_text("instructor notes\n")
    (strays / "helper.py").write_text("ANSWER = 42\n")
    (strays / "data").mkdir()
    (strays / "data" / "weights.csv").write_text("1,2\n")
    (strays / ".ipynb_checkpoints").mkdir()
    (strays / ".ipynb_checkpoints" / "ex02-sums-checkpoint.ipynb").write_text("{}")
    procs = [_make(folder, "release") for folder in course.folders.values()]
    for proc in procs:
        _finish(proc, "make release")
    for name in ASSIGNMENTS:
        folder = course.folder(name)
        release = folder / "exercises" / name / f"{name}.ipynb"
        blank = folder / "submitted" / "blank" / name
        blank.mkdir(parents=True)
        shutil.copy(release, blank)
        solution = folder / "submitted" / "solution" / name
        solution.mkdir(parents=True)
        shutil.copy(folder / "solutions" / name / f"{name}.ipynb", solution)
        course.students[("blank", name)] = None
        course.students[("solution", name)] = None
    for sub in [*WRONG, *RIGHT, *SPECIAL]:
        write_submission(course.folder(sub.assignment), sub)
        course.students[(sub.student, sub.assignment)] = sub
    # Grade both halves; meanwhile validate the solutions, and regrade part of the first half
    # as soon as it is done (the cores would otherwise idle while the longer half finishes).
    start = time.perf_counter()
    grading = {half: _make(folder, "grade") for half, folder in course.folders.items()}
    paths = [str(REPO / "solutions" / n / f"{n}.ipynb") for n in ASSIGNMENTS]
    validate = _popen([str(BIN / "nbgrader"), "validate", *paths], course.folders["a"])
    _finish(grading["a"], "make grade")
    course.before_regrade = _scores(course.folders["a"])
    assignment, students = REGRADE
    autograded = sorted((course.folders["a"] / "autograded").glob(f"{students}/{assignment}/*"))
    stamps = [p.stat().st_mtime_ns for p in autograded]
    regrade = _popen(
        [str(BIN / "nbgrader"), "autograde", assignment, "--force", f"--student={students}",
         "--log-level=WARN"],
        course.folders["a"],
    )
    _finish(grading["b"], "make grade")
    course.seconds = time.perf_counter() - start
    course.validate_output = _output(validate)
    _finish(regrade, "nbgrader autograde --force")
    course.after_regrade = _scores(course.folders["a"])
    course.regraded_files = len(autograded)
    course.rewritten_files = sum(
        p.stat().st_mtime_ns > t for p, t in zip(autograded, stamps, strict=True)
    )
    return course


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    return _set_up(tmp_path_factory.mktemp("course"))


def _solution_nb(name: str):
    return nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", 4)


def _cells_of(scores: dict, function: str) -> dict:
    return {k: v for k, v in scores.items() if k.startswith(function + "_")}


def _error_text(nb, grade_ids) -> str:
    out = []
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") in grade_ids:
            for o in cell.get("outputs", []):
                if o.get("output_type") == "error":
                    out.append(f"{o.get('ename')}: {o.get('evalue')}")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The release
# ---------------------------------------------------------------------------------------------


def _normalized(path: Path) -> list:
    """What a student sees and nbgrader relies on: kernelspec, each cell's type, id, source and
    nbgrader metadata (grade_id, points, locking, checksum)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [
        (c["cell_type"], c.get("id"), "".join(c["source"]), c.get("metadata", {}).get("nbgrader"))
        for c in nb["cells"]
    ]
    return [nb["metadata"].get("kernelspec"), cells]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_release_is_current(course, name):
    """exercises/ is exactly what `make release` makes from solutions/ now."""
    fresh = course.folder(name) / "exercises" / name / f"{name}.ipynb"
    committed = REPO / "exercises" / name / f"{name}.ipynb"
    assert committed.is_file(), f"{committed} is missing: run `make release` and commit it"
    assert _normalized(committed) == _normalized(fresh), (
        f"{committed} is stale: run `make release` and commit the result"
    )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solution_and_no_hidden_test(name):
    """The student notebook holds neither the solutions nor the hidden tests."""
    text = (REPO / "exercises" / name / f"{name}.ipynb").read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "Marking:"):
        assert marker not in text, f"{name}: the release contains {marker!r}"
    release = nbformat.read(REPO / "exercises" / name / f"{name}.ipynb", 4)
    code = [c.source for c in release.cells if c.cell_type == "code"]
    code_lines = {line.strip() for source in code for line in source.splitlines()}
    for cell in _solution_nb(name).cells:
        lines = cell.source.splitlines()
        if "### BEGIN SOLUTION" not in cell.source:
            continue
        start = next(i for i, line in enumerate(lines) if "### BEGIN SOLUTION" in line)
        end = next(i for i, line in enumerate(lines) if "### END SOLUTION" in line)
        for line in lines[start + 1 : end]:
            if len(line.strip()) > 25:
                assert line.strip() not in code_lines, f"{name}: solution line in release: {line!r}"


def test_release_holds_only_notebooks(course):
    """The ignore list keeps every file but the notebook out of the release."""
    folder = course.folder("ex02-sums") / "exercises" / "ex02-sums"
    assert sorted(p.name for p in folder.iterdir()) == ["ex02-sums.ipynb"]
    assert sorted(p.name for p in (REPO / "exercises").iterdir()) == sorted(ASSIGNMENTS)
    for name in ASSIGNMENTS:
        assert [p.name for p in (REPO / "exercises" / name).iterdir()] == [f"{name}.ipynb"]


def test_validate_passes_on_every_solution(course):
    """`nbgrader validate` passes on every instructor notebook (run from a temporary course, so
    that nothing, not even a log file, is written into the repository)."""
    out = course.validate_output
    assert out.count("Success! Your notebook passes all the tests.") == len(ASSIGNMENTS), out


# ---------------------------------------------------------------------------------------------
# Grades
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solutions_get_full_marks(course, name):
    cells = course.scores()[("solution", name)]
    assert cells, "no grade cells"
    lost = {k: v for k, v in cells.items() if v[0] != v[1]}
    assert not lost, f"the solution of {name} loses points in {lost}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_untouched_release_gets_zero(course, name):
    """Every autograded cell of the untouched release scores 0, and says it is not written."""
    cells = course.scores()[("blank", name)]
    assert cells and all(score == 0 for score, _ in cells.values()), cells
    nb = course.autograded("blank", name)
    assert "is not written yet" in _error_text(nb, set(cells))


def test_corpus_patches_apply_and_share_notebooks_soundly():
    """Every patch finds its lines in the solution once and the patched bodies compile; patches
    of one function share a notebook only when they aim at different tests and lines."""
    for sub in WRONG:
        for function in sub.functions:
            mine = [e for e in sub.entries if e.function == function]
            if not any(e.patch for e in mine):
                assert len(mine) == 1, (sub.student, function)
                continue
            body = patched(BODIES[sub.assignment][function], mine)
            compile("def f():\n" + textwrap.indent(body, "    "), sub.student, "exec")
            aims = [set(e.cells) for e in mine]
            if len(mine) > 1:
                assert all(aims) and sum(map(len, aims)) == len(set().union(*aims)), sub.student


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_wrong_submission_loses_points_and_names_the_mistake(course, mistake):
    sub = next(s for s in WRONG if mistake in s.entries)
    cells = course.scores()[(sub.student, sub.assignment)]
    mine = {k: v for k, v in cells.items() if touched(k, mistake.touches)}
    failed = {k for k, (score, top) in mine.items() if score != top}
    assert failed, f"{mistake.name}: no test of {mistake.touches} failed ({mine})"
    nb = course.autograded(sub.student, sub.assignment)
    errors = _error_text(nb, failed)
    assert mistake.expect in errors, (
        f"{mistake.name}: the failed tests of {mistake.touches} do not say {mistake.expect!r}:\n"
        f"{errors}"
    )
    assert mistake.expect in course.feedback_text(sub.student, sub.assignment)


@pytest.mark.parametrize("sub", WRONG, ids=[s.student for s in WRONG])
def test_mistakes_cost_nothing_elsewhere(course, sub):
    """The functions a submission did not change (nor calls to a changed one), and the tests a
    patch does not aim at, keep full marks: no false failure, and packing several mistakes in one
    notebook is sound."""
    cells = course.scores()[(sub.student, sub.assignment)]
    aimed = affected(sub, _solution_nb(sub.assignment))
    lost = {k: v for k, v in cells.items() if v[0] != v[1] and not touched(k, aimed)}
    assert not lost, f"{sub.student}: cells lost outside {sorted(aimed)}: {lost}"


@pytest.mark.parametrize("sub", RIGHT, ids=[s.student for s in RIGHT])
def test_correct_variants_get_full_marks(course, sub):
    cells = course.scores()[(sub.student, sub.assignment)]
    lost = {k: v for k, v in cells.items() if v[0] != v[1]}
    nb = course.autograded(sub.student, sub.assignment)
    names = [e.name for e in sub.entries]
    assert not lost, f"{sub.student} ({names}) loses {lost}:\n{_error_text(nb, set(lost))}"


# ---------------------------------------------------------------------------------------------
# Robustness
# ---------------------------------------------------------------------------------------------


def test_infinite_loop_is_interrupted_and_the_rest_graded(course):
    name = INFINITE_LOOP.assignment
    nb = course.autograded("loop-ex01", name)
    assert "CellTimeoutError" in _error_text(nb, {INFINITE_LOOP.function})
    cells = course.scores()[("loop-ex01", name)]
    assert all(s == 0 for s, _ in _cells_of(cells, INFINITE_LOOP.function).values())
    others = {k: v for k, v in cells.items() if not k.startswith(INFINITE_LOOP.function + "_")}
    assert others and all(s == top for s, top in others.values()), others


def test_dead_kernel_costs_only_that_student(course):
    name = KERNEL_DEATH.assignment
    cells = course.scores()[("dead-ex01", name)]
    mine = _cells_of(cells, KERNEL_DEATH.function)
    assert mine and all(s == 0 for s, _ in mine.values()), mine
    assert "DeadKernelError" in _error_text(course.autograded("dead-ex01", name), set(mine))
    others = {k: v for k, v in cells.items() if k not in mine}
    assert others and all(s == top for s, top in others.values()), others
    # the class's grades: everyone else in the same autograde run is graded as usual
    solution = course.scores()[("solution", name)]
    assert all(s == top for s, top in solution.values())


def test_every_submission_has_a_row_and_feedback(course):
    rows = []
    for folder in course.folders.values():
        with open(folder / "grades.csv", newline="", encoding="utf-8") as f:
            rows.extend(csv.DictReader(f))
    graded = {(r["student_id"], r["assignment"]): r for r in rows}
    scores = course.scores()
    for student, assignment in course.students:
        assert (student, assignment) in graded, f"no grades.csv row for {student}/{assignment}"
        row = graded[(student, assignment)]
        assert row["status"] in ("graded", "needs manual grading"), row
        assert float(row["score"]) == pytest.approx(
            sum(s for s, _ in scores[(student, assignment)].values() if s is not None)), row
        assert (student, assignment) in scores, f"no gradebook row for {student}/{assignment}"
        path = course.folder(assignment) / "feedback" / student / assignment / f"{assignment}.html"
        assert path.is_file(), f"no feedback for {student}/{assignment}"
    # Everyone else has a row for every assignment of their course folder, marked as missing.
    missing = [r for key, r in graded.items() if key not in course.students]
    assert missing, "the corpus should leave some students without some assignments"
    for row in missing:
        assert row["status"] == "not submitted" and row["score"] == "", row
    print(
        f"\n[grading] {len(course.students)} submissions graded by `make grade` in "
        f"{course.seconds:.0f} s on two course folders in parallel"
    )


def test_regrading_gives_the_same_scores(course):
    """Autograding again (--force) gives every cell the same score."""
    assignment, pattern = REGRADE
    regraded = [k for k in course.before_regrade if k[1] == assignment and fnmatch(k[0], pattern)]
    assert len(regraded) == 2
    assert course.regraded_files == course.rewritten_files == 2, "the regrade did not run"
    for key in regraded:
        assert course.after_regrade[key] == course.before_regrade[key], key
    assert any(s != top for k in regraded for s, top in course.after_regrade[k].values())
