"""`make grade` for a class: parallel equals sequential, incremental, resumable, "not submitted".

One small course (ex01 and ex02; solutions, blanks, wrong, tampered and malformed submissions,
and students who did not submit everything) is graded twice side by side: once with one worker
(``JOBS=1``), killed as soon as two submissions are recorded and then run again to the end, and
once with two workers (``JOBS=2``). Both must end with the same gradebook, ``grades.csv``,
autograded notebooks and feedback pages. The two-worker folder is then re-run with nothing new,
with one resubmission, and after a manual grade, and each time exactly what changed is redone.
Nothing is timed: what a test waits for is a file or a process, with a generous deadline.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.grading.corpus import MISTAKES, Submission, write_submission

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VENV = BIN.parent
ASSIGNMENTS = ("ex01-scaling", "ex02-sums")

#: How long a `make grade` of this small course may take before the test calls it stuck (a
#: deadline for a hung process, not a measurement: it takes about a minute on 2 busy cores).
DEADLINE = 900.0

#: Recorded submissions after which the sequential run is killed.
KILL_AFTER = 2


def _wrong(assignment: str) -> Submission:
    entry = next(m for m in MISTAKES if m.assignment == assignment and not m.whole_cell)
    return Submission("", assignment, [entry])


def _populate(course: Path) -> None:
    shutil.copy(REPO / "nbgrader_config.py", course)
    for name in ASSIGNMENTS:
        shutil.copytree(REPO / "solutions" / name, course / "solutions" / name)
        shutil.copytree(REPO / "exercises" / name, course / "exercises" / name)
    for i, name in enumerate(ASSIGNMENTS):
        release = course / "exercises" / name / f"{name}.ipynb"
        solution = course / "solutions" / name / f"{name}.ipynb"
        for student, source in (("alice", solution), ("bob", release)):
            folder = course / "submitted" / student / name
            folder.mkdir(parents=True)
            shutil.copy(source, folder)
            (folder / "timestamp.txt").write_text(f"2026-11-0{i + 1} 12:00:00.000000 UTC\n")
        wrong = _wrong(name)
        write_submission(course, Submission("carol", name, wrong.entries))
    # dave answered nothing of ex01 but emptied its tests, and did not submit ex02; erin's file
    # is broken.
    nb = nbformat.read(course / "exercises" / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.ipynb", 4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            cell.source = "assert True\n"
    folder = course / "submitted" / "dave" / ASSIGNMENTS[0]
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{ASSIGNMENTS[0]}.ipynb")
    folder = course / "submitted" / "erin" / ASSIGNMENTS[1]
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENTS[1]}.ipynb").write_text("{ this is not a notebook")


def _start(course: Path, jobs: int) -> subprocess.Popen:
    log = (course.parent / f"{course.name}-{time.monotonic_ns()}.log").open("w+")
    make = ["make", "-f", str(REPO / "Makefile"), f"VENV={VENV}", "-o", f"{VENV}/.installed",
            f"JOBS={jobs}", "grade"]
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.Popen(make, cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    proc.log = log
    return proc


def _finish(proc: subprocess.Popen) -> str:
    try:
        proc.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    proc.log.seek(0)
    out = proc.log.read()
    assert proc.returncode == 0, f"make grade exited {proc.returncode}:\n{out[-4000:]}"
    return out


def _grade(course: Path, jobs: int) -> str:
    return _finish(_start(course, jobs))


def _recorded(course: Path) -> dict:
    try:
        return json.loads((course / "_build" / "grading" / "ledger.json").read_text())["graded"]
    except (OSError, ValueError, KeyError):
        return {}


def _mtimes(course: Path) -> dict[str, int]:
    out = {}
    for sub in ("autograded", "feedback"):
        for path in (course / sub).rglob("*"):
            if path.is_file():
                out[str(path.relative_to(course))] = path.stat().st_mtime_ns
    for name in ("gradebook.db", "grades.csv"):
        path = course / name
        out[name] = path.stat().st_mtime_ns if path.exists() else None
    return out


def _gradebook(course: Path) -> dict:
    """Every score and comment, by student, assignment and cell (ids left out: they are
    random)."""
    query = """
        SELECT s.student_id, a.name, b.name, g.auto_score, g.manual_score, g.extra_credit,
               g.needs_manual_grade, c.auto_comment, c.manual_comment, s.timestamp
        FROM submitted_assignment s JOIN assignment a ON a.id = s.assignment_id
        JOIN submitted_notebook n ON n.assignment_id = s.id
        JOIN grade g ON g.notebook_id = n.id JOIN base_cell b ON b.id = g.cell_id
        LEFT JOIN comment c ON c.notebook_id = n.id AND c.cell_id = g.cell_id"""
    with sqlite3.connect(course / "gradebook.db") as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {row[:3]: row[3:] for row in con.execute(query)}


def _csv(course: Path) -> dict:
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}


class Run:
    def __init__(self, root: Path):
        self.seq, self.par = root / "sequential", root / "parallel"
        for course in (self.seq, self.par):
            course.mkdir()
            _populate(course)
        # Both at once: one worker here (interrupted, then resumed), two there.
        seq, par = _start(self.seq, 1), _start(self.par, 2)
        deadline = time.monotonic() + DEADLINE
        while len(_recorded(self.seq)) < KILL_AFTER and seq.poll() is None:
            assert time.monotonic() < deadline, "the sequential run recorded nothing"
            time.sleep(0.05)
        os.killpg(seq.pid, signal.SIGKILL)
        seq.wait()
        self.killed_with = dict(_recorded(self.seq))
        self.before_resume = _mtimes(self.seq)
        self.par_output = _finish(par)
        self.resume_output = _grade(self.seq, 1)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    return Run(tmp_path_factory.mktemp("batch"))


def test_parallel_grades_exactly_as_sequential(run):
    assert _gradebook(run.par) == _gradebook(run.seq)
    assert _csv(run.par) == _csv(run.seq)
    for folder in ("autograded", "feedback"):
        files = sorted(p.relative_to(run.seq / folder) for p in (run.seq / folder).rglob("*.*"))
        assert files == sorted(p.relative_to(run.par / folder)
                               for p in (run.par / folder).rglob("*.*"))
        assert len(files) == 8, files
        for rel in files:
            a, b = (run.seq / folder / rel).read_bytes(), (run.par / folder / rel).read_bytes()
            assert a == b, f"{folder}/{rel} differs between one worker and two"


def test_the_grades_are_the_courses(run):
    book = _gradebook(run.par)
    total = {}
    for (student, assignment, _), (auto, *_rest) in book.items():
        total[(student, assignment)] = total.get((student, assignment), 0.0) + (auto or 0.0)
    rows = _csv(run.par)
    top = {a: float(rows[("alice", a)]["max_score"]) for a in ASSIGNMENTS}
    for a in ASSIGNMENTS:
        assert float(rows[("alice", a)]["score"]) == total[("alice", a)] > 0
        assert float(rows[("bob", a)]["score"]) == 0.0
        assert 0 < float(rows[("carol", a)]["score"]) < total[("alice", a)] <= top[a]
    assert float(rows[("dave", ASSIGNMENTS[0])]["score"]) == 0.0, "tampered tests were undone"
    assert float(rows[("erin", ASSIGNMENTS[1])]["score"]) == 0.0
    assert re.search(r"\[grade\] tampered: dave/ex01-scaling", run.par_output)
    assert re.search(r"\[grade\] repaired: erin/ex02-sums: not a readable notebook",
                     run.par_output)


def test_not_submitted_is_not_a_zero(run):
    rows = _csv(run.par)
    assert rows[("bob", ASSIGNMENTS[0])]["status"] in ("graded", "needs manual grading")
    assert rows[("bob", ASSIGNMENTS[0])]["score"] == "0.0"
    for key in (("dave", ASSIGNMENTS[1]), ("erin", ASSIGNMENTS[0])):
        assert rows[key]["status"] == "not submitted", rows[key]
        assert rows[key]["score"] == rows[key]["raw_score"] == "", rows[key]
    assert len(rows) == 5 * len(ASSIGNMENTS)


def test_an_interrupted_run_resumes_without_loss(run):
    assert len(run.killed_with) >= KILL_AFTER
    # What was recorded before the kill was not graded again...
    after = _mtimes(run.seq)
    for name in run.killed_with:
        student, assignment = name.split("/")
        rel = f"autograded/{student}/{assignment}/{assignment}.ipynb"
        assert after[rel] == run.before_resume[rel], f"{name} was graded twice"
    # ... and the rest was: every submission is in the ledger and in grades.csv.
    assert len(_recorded(run.seq)) == 8
    assert f"{8 - len(run.killed_with)} submission(s) graded" in run.resume_output


def test_progress_is_reported_in_lines_off_a_terminal(run):
    lines = [ln for ln in run.par_output.splitlines() if ln.startswith("grading")]
    assert lines and re.search(r"\b8/8\b", lines[-1]), run.par_output[-2000:]
    assert "\r" not in run.par_output


def test_a_rerun_with_nothing_new_grades_nothing(run):
    before = _mtimes(run.par)
    out = _grade(run.par, 2)
    assert "nothing new: 8 submission(s) already graded" in out
    assert _mtimes(run.par) == before


def test_a_resubmission_is_regraded_alone(run):
    before, scores = _mtimes(run.par), _csv(run.par)
    name = ASSIGNMENTS[0]
    shutil.copy(run.par / "solutions" / name / f"{name}.ipynb",
                run.par / "submitted" / "bob" / name / f"{name}.ipynb")
    out = _grade(run.par, 2)
    assert "1 submission(s) graded, 7 unchanged" in out
    after = _mtimes(run.par)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {f"autograded/bob/{name}/{name}.ipynb", f"feedback/bob/{name}/{name}.html",
                       "gradebook.db", "grades.csv"}, changed
    rows = _csv(run.par)
    assert float(rows[("bob", name)]["score"]) == float(scores[("alice", name)]["score"]) > 0
    assert {k: r for k, r in rows.items() if k != ("bob", name)} == {
        k: r for k, r in scores.items() if k != ("bob", name)}


def test_a_manual_grade_refreshes_its_feedback_and_the_csv(run):
    from nbgrader.api import Gradebook

    name = ASSIGNMENTS[0]
    score = float(_csv(run.par)[("alice", name)]["score"])
    added = 0.0
    with Gradebook(f"sqlite:///{run.par / 'gradebook.db'}", "weightinit") as gb:
        # What formgrader does when the written answers are graded.
        sub = gb.find_submission_notebook(name, name, "alice")
        for grade in sub.grades:
            if grade.needs_manual_grade:
                grade.manual_score = grade.max_score
                grade.needs_manual_grade = False
                added += grade.max_score
        gb.db.commit()
    assert added > 0
    before = _mtimes(run.par)
    out = _grade(run.par, 2)
    assert "0 submission(s) graded, 8 unchanged" in out
    after = _mtimes(run.par)
    changed = {k for k in after if after[k] != before.get(k)}
    assert f"feedback/alice/{name}/{name}.html" in changed
    assert not any(k.startswith("autograded/") for k in changed), changed
    assert [k for k in changed if k.startswith("feedback/")] == [
        f"feedback/alice/{name}/{name}.html"], changed
    row = _csv(run.par)[("alice", name)]
    assert row["status"] == "graded" and float(row["score"]) == score + added


# ---------------------------------------------------------------------------------------------
# The parts, without grading anything
# ---------------------------------------------------------------------------------------------


def test_a_submission_digest_follows_its_files_the_course_and_the_grader(tmp_path):
    from weightinit.grading.batch import find_submissions

    folder = tmp_path / "submitted" / "ann" / "ex01"
    folder.mkdir(parents=True)
    (folder / "ex01.ipynb").write_text("{}")
    (tmp_path / "submitted" / "ann" / "other").mkdir()  # not an assignment: ignored
    key = find_submissions(tmp_path, {"ex01"}, "course-a")
    assert [s.name for s in key] == ["ann/ex01"]
    assert find_submissions(tmp_path, {"ex01"}, "course-a") == key
    assert find_submissions(tmp_path, {"ex01"}, "course-b")[0].key != key[0].key
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00 UTC")
    assert find_submissions(tmp_path, {"ex01"}, "course-a")[0].key != key[0].key


def test_a_ledger_of_another_version_or_unreadable_means_grade_again(tmp_path):
    from weightinit.grading.batch import Ledger, Submission

    path = tmp_path / "ledger.json"
    ledger = Ledger(path)
    sub = Submission("ann", "ex01", "k1")
    ledger.record(sub)
    assert Ledger(path).is_current(sub)
    assert not Ledger(path).is_current(Submission("ann", "ex01", "k2"))
    assert not list(tmp_path.glob("*.tmp")), "the ledger is replaced, not left half-written"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "version": -1}))
    assert not Ledger(path).is_current(sub)
    path.write_text("{ broken")
    assert not Ledger(path).is_current(sub)


def test_progress_off_a_terminal_is_plain_lines(monkeypatch):
    import io

    from weightinit.grading import batch

    out = io.StringIO()
    clock = iter(range(0, 1000, 3))
    monkeypatch.setattr(batch.time, "monotonic", lambda: float(next(clock)))
    progress = batch.Progress(4, out)
    progress.line("[grade] tampered: x/y: 1 change(s)")
    for _ in range(4):
        progress.advance()
    progress.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "[grade] tampered: x/y: 1 change(s)"
    assert re.search(r"\b4/4\b", lines[-1]) and len(lines) >= 3, lines


@pytest.mark.parametrize("error, code, words", [
    (KeyboardInterrupt(), 130, "interrupted"),
    (OSError(28, "No space left on device", "gradebook.db"), 1, "No space left on device"),
])
def test_an_interrupted_run_says_what_is_kept(monkeypatch, tmp_path, capsys, error, code, words):
    from weightinit.grading import batch

    ledger = batch.Ledger(tmp_path / batch.STATE / "ledger.json")
    ledger.record(batch.Submission("ann", "ex01", "k"))

    def stop(course, jobs):
        raise error

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(batch, "grade", stop)
    assert batch.main(["--jobs", "1"]) == code
    err = capsys.readouterr().err
    assert words in err and "1 submission(s) recorded so far are kept" in err, err
