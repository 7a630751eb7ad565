"""The grader under attack: wrong submissions that try to get points they did not earn, or to
damage the course, the other students or the grading machine.

One module-scoped fixture copies the course (nbgrader_config.py and solutions/) into temporary
folders, runs ``make release``, writes every attack of ``tests/grading/attacks.py`` into
``submitted/``, together with each attack's base (the same wrong submission without the attack),
the instructor's solution and a victim (a correct submission by another student, ``zz-victim``,
graded last), and runs ``make grade`` once per folder, in parallel, exactly as
``tests/test_grading.py`` does. Folder "c" holds only the attack that ignores interrupts, so that
a grader it stops does not take the other measurements with it. After grading the fixture waits
:data:`LINGER` seconds for processes an attack left behind, then reads the gradebook, the files
and the feedback again.

Environment (all optional): ``WEIGHTINIT_ATTACKS_SKIP`` (comma-separated tags of
``attacks.py``, memory, package, hang, linger, or attack slugs) leaves those attacks out;
``WEIGHTINIT_ATTACKS_DISPOSABLE`` (paths joined by ``:``) lets attacks really write there (a
disposable copy of the package, never the repository); ``WEIGHTINIT_ATTACKS_DEADLINE`` (seconds,
default 2400) is how long ``make grade`` may run before it is called stuck and its processes
killed; ``WEIGHTINIT_ATTACKS_REPORT`` (a path) receives everything measured, as JSON.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import weightinit
from tests.grading.attacks import (
    ATTACKS,
    VICTIM,
    Attack,
    attack_notebook_text,
    base_notebook,
    base_student,
    victim_notebook,
)
from tests.grading.corpus import touched

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VENV = BIN.parent

SKIP = {t for t in os.environ.get("WEIGHTINIT_ATTACKS_SKIP", "").split(",") if t}
DISPOSABLE = [p for p in os.environ.get("WEIGHTINIT_ATTACKS_DISPOSABLE", "").split(":") if p]
DEADLINE = float(os.environ.get("WEIGHTINIT_ATTACKS_DEADLINE", "2400"))
REPORT = os.environ.get("WEIGHTINIT_ATTACKS_REPORT")
#: Time given to a process an attack left behind to act after `make grade` (it acts as soon
#: as grades.csv exists; this is a generous margin on a busy machine, not a measurement).
LINGER = 20.0

ACTIVE = [a for a in ATTACKS if not {*a.tags, a.slug} & SKIP]
FOLDERS = sorted({a.folder for a in ACTIVE})
PACKAGES = sorted({REPO / "src" / "weightinit", Path(weightinit.__file__).resolve().parent})


def _env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", MPLBACKEND="Agg")


def _make(course: Path, target: str) -> subprocess.Popen:
    """The repository's Makefile target in a temporary course, in a session of its own (so
    that a stuck grade can be stopped), its output in a file."""
    log = (course.parent / f"{course.name}-{target}.log").open("w+")
    # One worker per folder: the folders are graded side by side, one per core.
    make = ["make", "-f", str(REPO / "Makefile"), f"VENV={VENV}", "-o", f"{VENV}/.installed",
            "JOBS=1"]
    proc = subprocess.Popen([*make, target], cwd=course, env=_env(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    proc.log = log
    return proc


def _output(proc: subprocess.Popen) -> str:
    proc.log.seek(0)
    return proc.log.read()


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            out.setdefault(ppid, []).append(int(entry.name))
    return out


def _kill_tree(pid: int) -> None:
    """Kill a process we started and every descendant, one by one by id."""
    children, todo, found = _children(), [pid], []
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    for p in reversed(found):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kill_lingering(course: Path, marker: str) -> list[int]:
    """Processes an attack left behind: they wrote their pid under the course and carry the
    run's marker in their command line."""
    killed = []
    for f in (course / "_attack_pids").glob("*"):
        try:
            if marker in Path(f"/proc/{f.name}/cmdline").read_text(errors="replace"):
                os.kill(int(f.name), signal.SIGKILL)
                killed.append(int(f.name))
        except (OSError, ValueError):
            pass
    return killed


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _tree(folder: Path, pattern: str = "**/*") -> dict[str, str]:
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(folder.glob(pattern))
            if p.is_file() and "__pycache__" not in p.parts}


def _gradebook(course: Path) -> dict[tuple[str, str], dict]:
    """(student, assignment) -> {"total": score, "cells": {grade id: (auto, max)}}."""
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
                out[(sub.student.id, assignment.name)] = {"total": sub.score, "cells": cells}
    return out


class Folder:
    """One temporary course folder: what was submitted, and what grading did to it."""

    def __init__(self, path: Path, attacks: list[Attack]):
        self.path = path
        self.attacks = attacks
        self.assignments = sorted({a.assignment for a in attacks})
        #: (student, assignment) -> "attack", "base", "solution" or "victim"
        self.students: dict[tuple[str, str], str] = {}
        self.returncode: int | None = None
        self.timed_out = False
        self.output = ""
        self.seconds = 0.0
        self.before: dict = {}  # digests before grading
        self.graded: dict = {}  # right after `make grade`
        self.final: dict = {}  # after LINGER seconds
        self.scores: dict = {}
        self.scores_error = ""
        self.killed: list[int] = []
        self.packages: tuple[dict, dict] = ({}, {})

    def file(self, kind: str, student: str, assignment: str) -> Path:
        ext = "html" if kind == "feedback" else "ipynb"
        return self.path / kind / student / assignment / f"{assignment}.{ext}"

    def watched(self) -> dict[str, str | None]:
        """Digests of what no attacker may change."""
        out = {"nbgrader_config.py": _digest(self.path / "nbgrader_config.py")}
        out.update({f"solutions/{k}": v for k, v in _tree(self.path / "solutions").items()})
        for a in self.assignments:
            for kind in ("submitted", "autograded", "feedback"):
                for who in (VICTIM, "solution"):
                    out[f"{kind}/{who}/{a}"] = _digest(self.file(kind, who, a))
        out.update({f"markers/{p.name}": "present" for p in self.path.glob("PWNED*")})
        return out


def _set_up(root: Path) -> dict[str, Folder]:
    marker = f"weightinit-attacks-{root.name}-{os.getpid()}"
    folders = {name: Folder(root / name, [a for a in ACTIVE if a.folder == name])
               for name in FOLDERS}
    for f in folders.values():
        f.path.mkdir()
        shutil.copy(REPO / "nbgrader_config.py", f.path)
        for a in f.assignments:
            shutil.copytree(REPO / "solutions" / a, f.path / "solutions" / a)
    procs = [_make(f.path, "release") for f in folders.values()]
    for proc in procs:
        proc.wait(timeout=900)
        assert proc.returncode == 0, f"make release failed:\n{_output(proc)[-4000:]}"

    def put(f: Folder, student: str, assignment: str, text: str, kind: str) -> None:
        path = f.file("submitted", student, assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        f.students[(student, assignment)] = kind

    for f in folders.values():
        for a in f.assignments:
            put(f, "solution", a, (f.path / "solutions" / a / f"{a}.ipynb").read_text(), "solution")
            put(f, VICTIM, a, nbformat.writes(victim_notebook(f.path, a)), "victim")
        for base in sorted({(a.assignment, a.base) for a in f.attacks}):
            put(f, base_student(base[1]), base[0],
                nbformat.writes(base_notebook(f.path, *base)), "base")
        for attack in f.attacks:
            context = {"course": str(f.path), "student": attack.student,
                       "assignment": attack.assignment, "victim": VICTIM, "marker": marker,
                       "allowed": [str(root), *DISPOSABLE]}
            text = attack_notebook_text(f.path, attack, context)
            put(f, attack.student, attack.assignment, text, "attack")
        f.before = f.watched()
    packages_before = {str(p): _tree(p) for p in PACKAGES}

    start = time.monotonic()
    grading = {name: _make(f.path, "grade") for name, f in folders.items()}
    while grading:
        for name, proc in list(grading.items()):
            f = folders[name]
            if proc.poll() is None and time.monotonic() - start < DEADLINE:
                continue
            if proc.poll() is None:  # stuck: stop it and everything it started
                f.timed_out = True
                _kill_tree(proc.pid)
                proc.wait()
            f.seconds = time.monotonic() - start
            f.returncode = proc.returncode
            f.output = _output(proc)
            f.graded = f.watched()
            del grading[name]
        time.sleep(0.5)
    time.sleep(LINGER)
    for f in folders.values():
        f.final = f.watched()
        try:
            f.scores = _gradebook(f.path)
        except Exception as exc:  # an attacker may have broken the gradebook
            f.scores_error = f"{type(exc).__name__}: {exc}"
        f.killed = _kill_lingering(f.path, marker)
    packages_after = {str(p): _tree(p) for p in PACKAGES}
    for f in folders.values():
        f.packages = (packages_before, packages_after)
    if REPORT:
        _report(folders, Path(REPORT))
    return folders


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, Folder]:
    return _set_up(tmp_path_factory.mktemp("attacks"))


def _folder_of(graded: dict[str, Folder], attack: Attack) -> Folder:
    return graded[attack.folder]


def _result(f: Folder, student: str, assignment: str) -> dict | None:
    return f.scores.get((student, assignment))


def _cells(result: dict | None, function: str | None) -> dict[str, float]:
    if result is None:
        return {}
    return {k: (v[0] or 0.0) for k, v in result["cells"].items()
            if function is None or touched(k, (function,))}


# ---------------------------------------------------------------------------------------------
# (a) No attack earns a point its base did not
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", ACTIVE, ids=[a.slug for a in ACTIVE])
def test_attack_earns_nothing(graded, attack):
    f = _folder_of(graded, attack)
    assert not f.scores_error, f"the gradebook could not be read: {f.scores_error}"
    base = _result(f, base_student(attack.base), attack.assignment)
    assert base is not None, f"the base {attack.base!r} was not graded"
    mine = _result(f, attack.student, attack.assignment)
    if mine is None:
        return  # not graded at all: no points (test_every_submission_is_graded reports it)
    assert (mine["total"] or 0.0) <= (base["total"] or 0.0), (
        f"{attack.name}: {mine['total']} points, its base {attack.base!r} {base['total']}"
    )
    base_cells = _cells(base, attack.function)
    gained = {k: (v, base_cells.get(k, 0.0)) for k, v in _cells(mine, attack.function).items()
              if v > base_cells.get(k, 0.0)}
    assert not gained, f"{attack.name}: test cells scoring above the base (attack, base): {gained}"


@pytest.mark.parametrize("attack", [a for a in ACTIVE if a.own_code],
                         ids=[a.slug for a in ACTIVE if a.own_code])
def test_imported_answer_scores_nothing(graded, attack):
    """A function that is weightinit's own (however it was imported) fails every test of it."""
    mine = _result(_folder_of(graded, attack), attack.student, attack.assignment)
    assert mine is not None, "not graded"
    cells = _cells(mine, attack.function)
    assert cells and not any(cells.values()), f"{attack.name}: {cells}"


# ---------------------------------------------------------------------------------------------
# (b) Nobody else is harmed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FOLDERS)
def test_victim_and_solution_get_full_marks(graded, name):
    f = graded[name]
    assert not f.scores_error, f.scores_error
    for a in f.assignments:
        for who in ("solution", VICTIM):
            result = _result(f, who, a)
            assert result is not None, f"{who}/{a} was not graded"
            lost = {k: v for k, v in result["cells"].items() if v[0] != v[1]}
            assert result["cells"] and not lost, f"{who}/{a} loses points: {lost}"


@pytest.mark.parametrize("name", FOLDERS)
def test_course_and_victims_files_unchanged(graded, name):
    """The course's config and solutions, the victim's and the solution's submitted notebooks
    are as written before grading; their autograded notebooks and feedback are as grading left
    them, LINGER seconds later; no attacker's marker file exists."""
    f = graded[name]
    changed = sorted(k for k in {**f.before, **f.final}
                     if not k.startswith(("autograded/", "feedback/"))
                     and f.before.get(k) != f.final.get(k))
    assert not changed, f"changed by the attackers: {changed}"
    after = sorted(k for k in f.graded if k.startswith(("autograded/", "feedback/"))
                   and f.graded[k] != f.final.get(k))
    assert not after, f"changed after grading: {after}"
    missing = sorted(k for k, v in f.final.items() if v is None)
    assert not missing, f"missing: {missing}"


def test_repository_package_unchanged(graded):
    before, after = next(iter(graded.values())).packages
    for folder, files in before.items():
        now = after[folder]
        changed = sorted(k for k in {**files, **now} if files.get(k) != now.get(k))
        assert not changed, f"{folder}: changed during grading: {changed}"


def test_student_code_cannot_write_the_course(graded):
    """The attack that writes the course prints what it could have written: nothing."""
    attack = next((a for a in ACTIVE if a.slug == "writes"), None)
    if attack is None:
        pytest.skip("the writes attack is skipped")
    f = _folder_of(graded, attack)
    path = f.file("autograded", attack.student, attack.assignment)
    assert path.is_file(), "not graded"
    text = "".join(o.get("text", "") for c in nbformat.read(path, 4).cells
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")
    probes = re.findall(r"\[probe\] (\w+) writable: (\w+)", text)
    assert probes, "the probe's output is missing from the solution cell"
    writable = [what for what, ok in probes if ok == "True"]
    assert not writable, f"student code could write: {writable}"


# ---------------------------------------------------------------------------------------------
# (c) make grade never stops; everyone is graded
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FOLDERS)
def test_make_grade_finishes(graded, name):
    f = graded[name]
    assert not f.timed_out, (
        f"make grade was still running after {DEADLINE:.0f} s and was killed:\n{f.output[-3000:]}"
    )
    assert f.returncode == 0, f"make grade exited {f.returncode}:\n{f.output[-3000:]}"


@pytest.mark.parametrize("name", FOLDERS)
def test_every_submission_is_graded(graded, name):
    """Every submission has a gradebook row and a feedback page. A malformed notebook scores 0
    and is reported by name in make grade's output (an invalid-JSON file needs no page)."""
    f = graded[name]
    assert not f.scores_error, f.scores_error
    malformed = {(a.student, a.assignment): a for a in f.attacks if a.malformed}
    problems = []
    for student, assignment in sorted(f.students):
        result = _result(f, student, assignment)
        bad = malformed.get((student, assignment))
        if result is None:
            problems.append(f"{student}/{assignment}: no gradebook row")
        elif bad is not None and (result["total"] or 0.0) != 0.0:
            problems.append(f"{student}/{assignment}: malformed, yet {result['total']} points")
        if bad is not None and student not in f.output:
            problems.append(f"{student}/{assignment}: malformed, not named by make grade")
        if not (bad is not None and bad.invalid_json):
            if not f.file("feedback", student, assignment).is_file():
                problems.append(f"{student}/{assignment}: no feedback")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# (d) Feedback leaks neither hidden tests nor the grading machine's paths
# ---------------------------------------------------------------------------------------------


def _hidden_lines(f: Folder) -> set[str]:
    out = set()
    for a in f.assignments:
        for cell in nbformat.read(f.path / "solutions" / a / f"{a}.ipynb", 4).cells:
            inside = False
            for line in cell.source.splitlines():
                if "### BEGIN HIDDEN TESTS" in line:
                    inside = True
                elif "### END HIDDEN TESTS" in line:
                    inside = False
                elif inside and line.strip():
                    out.add(line.strip())
    return out


def _machine_paths(f: Folder) -> set[str]:
    paths = {str(f.path.parent), str(REPO), str(Path(weightinit.__file__).resolve().parents[2]),
             sys.prefix, "/root", "site-packages"}
    return {p for p in paths if p not in ("", "/")}


def _own_source(f: Folder, page: Path) -> str:
    """What the student wrote (their submitted notebook's text): a path the test harness put in
    an attack's code is the student's own text, not a leak of the grader."""
    student, assignment = page.relative_to(f.path / "feedback").parts[:2]
    submitted = f.path / "submitted" / student / assignment
    return "".join(p.read_text(encoding="utf-8", errors="replace")
                   for p in submitted.glob("*.ipynb"))


def _leaks(f: Folder) -> dict[str, list[str]]:
    hidden, paths = _hidden_lines(f), _machine_paths(f)
    out = {}
    for page in sorted((f.path / "feedback").glob("**/*.html")):
        raw = page.read_text(encoding="utf-8", errors="replace")
        text = html.unescape(re.sub(r"<[^>]+>", "", raw))
        own = _own_source(f, page)
        found = [f"hidden test: {line}" for line in sorted(hidden) if line in text]
        found += [f"path: {p}" for p in sorted(paths)
                  if (p in text or p in raw) and p not in own]
        if found:
            out[str(page.relative_to(f.path / "feedback"))] = found
    return out


@pytest.mark.parametrize("name", FOLDERS)
def test_feedback_leaks_nothing(graded, name):
    f = graded[name]
    pages = list((f.path / "feedback").glob("**/*.html"))
    assert pages, "no feedback was written"
    leaks = _leaks(f)
    shown = "\n".join(
        f"{page}: {sum(x.startswith('hidden') for x in found)} hidden test lines "
        f"(e.g. {next((x for x in found if x.startswith('hidden')), '-')}), "
        f"{[x for x in found if x.startswith('path')]}"
        for page, found in list(leaks.items())[:15]
    )
    assert not leaks, f"{len(leaks)} of {len(pages)} feedback pages leak:\n{shown}"


# ---------------------------------------------------------------------------------------------
# (e) Output is capped
# ---------------------------------------------------------------------------------------------


def test_huge_output_is_capped(graded):
    attack = next((a for a in ACTIVE if a.slug == "print-50mb"), None)
    if attack is None:
        pytest.skip("the printing attack is skipped")
    f = _folder_of(graded, attack)
    for kind in ("autograded", "feedback"):
        path = f.file(kind, attack.student, attack.assignment)
        assert path.is_file(), f"no {kind} file"
        assert path.stat().st_size < 2 * 2**20, f"{kind}: {path.stat().st_size} bytes"


# ---------------------------------------------------------------------------------------------
# The measurements, for a report
# ---------------------------------------------------------------------------------------------


def _autograde_seconds(f: Folder) -> dict[str, float]:
    """Seconds between consecutive autograded notebooks (nbgrader grades in sorted order): an
    estimate of each submission's autograde time (the first one includes start-up)."""
    done = sorted((p.stat().st_mtime, p.parts[-3]) for p in f.path.glob("autograded/*/*/*.ipynb"))
    return {who: round(t - prev, 1) for (prev, _), (t, who) in zip(done, done[1:], strict=False)}


def _report(folders: dict[str, Folder], path: Path) -> None:
    out = {"attacks": [], "folders": {}}
    for name, f in folders.items():
        out["folders"][name] = {
            "returncode": f.returncode, "timed_out": f.timed_out, "seconds": round(f.seconds),
            "output_tail": f.output[-6000:], "scores_error": f.scores_error,
            "scores": {f"{s}/{a}": r for (s, a), r in f.scores.items()},
            "students": {f"{s}/{a}": k for (s, a), k in f.students.items()},
            "changed": sorted(k for k in {**f.before, **f.final}
                              if f.before.get(k) != f.final.get(k)
                              and not k.startswith(("autograded/", "feedback/"))),
            "changed_after_grading": sorted(k for k in f.graded if f.graded[k] != f.final.get(k)),
            "leaks": _leaks(f) if (f.path / "feedback").is_dir() else {},
            "autograde_seconds": _autograde_seconds(f),
            "killed_lingering": f.killed,
            "sizes": {str(p.relative_to(f.path)): p.stat().st_size
                      for kind in ("autograded", "feedback")
                      for p in f.path.glob(f"{kind}/*/*/*.*") if p.stat().st_size > 2**20},
            "packages_changed": {k: sorted(x for x in {**v, **f.packages[1][k]}
                                           if v.get(x) != f.packages[1][k].get(x))
                                 for k, v in f.packages[0].items()},
        }
        for a in f.attacks:
            mine, base = _result(f, a.student, a.assignment), _result(f, base_student(a.base),
                                                                        a.assignment)
            out["attacks"].append({
                "name": a.name, "student": a.student, "folder": name, "base": a.base,
                "function": a.function, "how": a.how,
                "total": mine and mine["total"], "base_total": base and base["total"],
                "max": base and sum(v[1] for v in base["cells"].values()),
                "cells": mine and _cells(mine, a.function),
                "base_cells": base and _cells(base, a.function),
            })
    path.write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
