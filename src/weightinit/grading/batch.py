"""Grading a whole class: ``make grade`` in parallel, incremental, resumable, with progress.

``python -m weightinit.grading.batch [--jobs N]``, run from the course folder, grades every new or
changed ``submitted/<student>/<assignment>/`` and ends with the gradebook, ``grades.csv`` and
``feedback/`` exactly as one sequential ``nbgrader autograde`` + ``generate_feedback`` + ``export``
would leave them. How:

- **One writer.** This process alone writes the gradebook, ``autograded/``, ``feedback/`` and
  ``grades.csv``. It runs nbgrader's own converters in-process (``Autograde``, then
  ``GenerateFeedback``, one submission at a time), with the course's configuration.
- **Workers judge.** ``N`` worker processes (default: the number of cores) start once, with
  nbgrader, NumPy, SciPy and the checks already imported. For each submission a worker stages the
  repaired copy (:mod:`~weightinit.grading.staging`), sanitizes it exactly as ``Autograde`` will
  (the same preprocessors, reading a snapshot of the gradebook), and judges it in a process forked
  from itself (:mod:`~weightinit.grading.judge`: a clean judge per notebook, without the start-up).
  The result goes to the writer keyed by the digest of the judge's job
  (:data:`~weightinit.grading.nbgrader.PRECOMPUTED`); the writer's ``JudgedExecute`` uses it when
  its own job has the same digest, and judges the notebook itself otherwise. A worker can
  therefore make grading faster, never different.
- **Incremental.** A ledger (``_build/grading/ledger.json``) records, for each submission, the
  digest of its files, of the course (``solutions/``, ``nbgrader_config.py``) and of the grader's
  code that it was graded with, and a digest of its grades as last written to its feedback page.
  A submission whose digest is unchanged is not graded again; one whose grades changed in the
  gradebook since (manual grading in formgrader) gets a new feedback page. The release is
  regenerated only when the course changed. With nothing new, nbgrader is not even imported.
- **Resumable.** A submission enters the ledger only after its grades, autograded notebook and
  feedback are written; the ledger is replaced atomically. Interrupted (Ctrl-C, a killed process,
  a full disk) and started again, grading continues with what was not recorded. SQLite keeps the
  gradebook consistent, and only this process writes it.
- **Progress** on standard error: a tqdm bar on a terminal (done out of total, rate, time left),
  a plain line every :data:`PLAIN_EVERY` seconds otherwise (CI, a log file); the ``[grade]`` lines
  (tampered, repaired, failed) print above it.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import ctypes
import hashlib
import json
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.util
import os
import select
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .console import say, set_sink

#: Where the grader keeps what it needs between runs (inside the course folder).
STATE = Path("_build") / "grading"
RELEASE = Path("_build") / "nbgrader-release"
STAGED = Path("_build") / "nbgrader-submitted"

#: Seconds between two progress lines when standard error is not a terminal.
PLAIN_EVERY = 5.0

#: A worker's limit for judging one notebook (the judge's own limits are per cell and call).
NOTEBOOK_SECONDS = 1800.0

#: Bumped when the ledger's format changes (an old ledger then regrades everything once).
LEDGER_VERSION = 1


# ------------------------------------------------------------------------------------------
# What there is to grade
# ------------------------------------------------------------------------------------------


def digest_files(paths: Iterable[Path], root: Path, salt: str = "") -> str:
    """A digest of the files `paths` (names relative to `root`, and contents)."""
    h = hashlib.sha256(salt.encode())
    for path in sorted(paths):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts]


def course_digest(course: Path) -> str:
    """What the release and the gradebook's course cells are made from: ``solutions/`` and the
    nbgrader configuration."""
    files = [*_files(course / "solutions"), course / "nbgrader_config.py"]
    return digest_files([p for p in files if p.is_file()], course)


def grader_digest() -> str:
    """The grader's own code and the versions that decide a grade: a new grader regrades all."""
    import numpy

    here = Path(__file__).resolve().parent
    salt = f"{sys.version}|{numpy.__version__}|{LEDGER_VERSION}"
    return digest_files(list(here.glob("*.py")), here, salt)


@dataclass(frozen=True)
class Submission:
    """One ``submitted/<student>/<assignment>/`` and the digest it is graded under."""

    student: str
    assignment: str
    key: str

    @property
    def name(self) -> str:
        return f"{self.student}/{self.assignment}"


def find_submissions(course: Path, assignments: set[str], salt: str) -> list[Submission]:
    """Every submission of a known assignment, with its digest (its files, salted with the
    course and grader digests)."""
    out = []
    submitted = course / "submitted"
    for student in sorted(p for p in submitted.iterdir() if p.is_dir()):
        for folder in sorted(p for p in student.iterdir() if p.is_dir()):
            if folder.name in assignments:
                key = digest_files(_files(folder), folder, salt)
                out.append(Submission(student.name, folder.name, key))
    return out


class Ledger:
    """What has been graded, under which digest, and what its feedback page shows (JSON)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != LEDGER_VERSION:
                raise ValueError("old ledger")
        except (OSError, ValueError):
            data = {}
        self.course: str | None = data.get("course")
        self.gradebook: list | None = data.get("gradebook")
        self.graded: dict[str, dict] = data.get("graded", {})

    def is_current(self, sub: Submission) -> bool:
        return self.graded.get(sub.name, {}).get("key") == sub.key

    def record(self, sub: Submission) -> None:
        self.graded[sub.name] = {"key": sub.key}
        self.save()

    def save(self) -> None:
        data = {"version": LEDGER_VERSION, "course": self.course, "gradebook": self.gradebook,
                "graded": self.graded}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=0, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


def _stat(path: Path) -> list | None:
    """A file's identity for "has it changed": size and modification time, or None."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def grades_digests(db: Path) -> dict[str, str]:
    """``student/assignment`` -> a digest of every score and comment the gradebook holds for it
    (read with sqlite3 directly: fast, and no nbgrader needed)."""
    if not db.exists():
        return {}
    query = """
        SELECT s.student_id, a.name, n.late_submission_penalty, g.cell_id, g.auto_score,
               g.manual_score, g.extra_credit, g.needs_manual_grade, c.cell_id, c.auto_comment,
               c.manual_comment
        FROM submitted_assignment s
        JOIN assignment a ON a.id = s.assignment_id
        JOIN submitted_notebook n ON n.assignment_id = s.id
        LEFT JOIN grade g ON g.notebook_id = n.id
        LEFT JOIN comment c ON c.notebook_id = n.id AND c.cell_id = g.cell_id
        ORDER BY s.student_id, a.name, n.notebook_id, g.cell_id"""
    rows: dict[str, list] = {}
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        for row in con.execute(query):
            rows.setdefault(f"{row[0]}/{row[1]}", []).append(row[2:])
    return {k: hashlib.sha256(repr(v).encode()).hexdigest() for k, v in rows.items()}


# ------------------------------------------------------------------------------------------
# Progress
# ------------------------------------------------------------------------------------------


class Progress:
    """Submissions done out of total: a tqdm bar on a terminal, a line every few seconds
    elsewhere. :meth:`line` prints a message above the bar."""

    def __init__(self, total: int, stream=None):
        from tqdm import tqdm

        self.stream = stream or sys.stderr
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self.last_plain = self.start
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        tqdm.monitor_interval = 0  # no monitor thread
        self.bar = tqdm(total=total, file=self.stream, unit="submission", dynamic_ncols=True,
                        smoothing=0.1, disable=not self.live, desc="grading")
        self._format = tqdm.format_meter

    def line(self, text: str) -> None:
        if self.live:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def advance(self) -> None:
        self.done += 1
        if self.live:
            self.bar.update(1)
            return
        now = time.monotonic()
        if now - self.last_plain >= PLAIN_EVERY or self.done == self.total:
            self.last_plain = now
            meter = self._format(self.done, self.total, now - self.start, unit="submission",
                                 prefix="grading", ncols=0)
            print(meter, file=self.stream, flush=True)

    def close(self) -> None:
        self.bar.close()


# ------------------------------------------------------------------------------------------
# Workers: stage, sanitize and judge one submission
# ------------------------------------------------------------------------------------------

_WORKER: dict = {}


def _nbgrader_app(cls, course: Path, extra: Iterable[str] = ()):
    """An nbgrader app of class `cls`, configured from the course's ``nbgrader_config.py``
    exactly as its command line would be, grading from the staged copy."""
    app = cls()
    app.initialize(["--log-level=ERROR", f"--CourseDirectory.root={course}",
                    f"--CourseDirectory.submitted_directory={STAGED}", *extra])
    return app


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def _worker_init(course: str, snapshot: str) -> None:
    """Start a worker: import what judging needs once, and configure the sanitizing."""
    _die_with_parent()
    os.chdir(course)
    signal.signal(signal.SIGTERM, _worker_stop)
    # Ctrl-C is for the writer, which stops the pool: no traceback from every worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The writer reports what it sees again when it grades (tampering, kernel restarts): the
    # worker's own lines would be duplicates.
    set_sink(lambda line: None)
    from nbgrader.apps.autogradeapp import AutogradeApp
    from nbgrader.apps.generatefeedbackapp import GenerateFeedbackApp

    from . import judge, sandbox, warm

    warm.install()
    app = _nbgrader_app(AutogradeApp, Path(course), [f"--CourseDirectory.db_url=sqlite:///{snapshot}"])
    _WORKER["feedback"] = _nbgrader_app(GenerateFeedbackApp, Path(course))
    judge.base_namespace([])  # the checks, SciPy and the judge's imports, before any fork
    sandbox.probe()
    _WORKER.update(app=app, course=Path(course), child=None)
    # When the pool shuts this worker down, the judge kept ready closes its kernel and exits.
    multiprocessing.util.Finalize(None, _close_spare, exitpriority=10)


def _worker_stop(signum, frame) -> None:  # noqa: ARG001
    for child in (_WORKER.get("child"), (_WORKER.get("spare") or {}).get("pid")):
        if child:
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
    os._exit(1)


def _sanitized(path: Path):
    """The notebook at `path` after nbgrader's sanitize preprocessors, as ``Autograde`` runs
    them (the course's configuration: ``RestoreCells`` and the rest)."""
    import nbformat
    from nbgrader.converters import Autograde

    conv = Autograde(coursedir=_WORKER["app"].coursedir, parent=_WORKER["app"])
    conv.exporter = conv.exporter_class(parent=conv, config=conv.config)
    conv._sanitizing = True
    conv._init_preprocessors()
    resources = conv.init_single_notebook_resources(str(path))
    output, _ = conv.exporter.from_filename(str(path), resources=resources)
    return nbformat.reads(output, as_version=4)


def _spawn_judge() -> dict:
    """Fork a judge that starts its student kernel at once and then waits for its job.

    A worker keeps one such judge ready: while one notebook is judged, the next judge's kernel
    starts, so a notebook rarely waits for a kernel. Each judge and kernel serve one notebook
    (nothing of one notebook's judging reaches the next); forking from this warm worker skips
    starting Python and importing the checks again.
    """
    from . import judge

    read, write = os.pipe()
    fd, out = tempfile.mkstemp(prefix="wi-result-", suffix=".json")
    os.close(fd)
    pid = os.fork()
    if pid == 0:  # the judge
        code, kernel = 1, None
        try:
            # Only the worker may hold the write end of a judge's pipe (the judge reads its job
            # to the end of the file): this one's and the one kept ready before it.
            for other in (write, *_WORKER.get("pipes", ())):
                os.close(other)
            _die_with_parent()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            kernel = judge.new_kernel([str(_WORKER["course"])])
            try:
                kernel.start()
            except Exception:  # noqa: BLE001  (judge.run starts one itself, and says so)
                kernel.close()
                kernel = None
            with os.fdopen(read, "rb") as pipe:
                data = pipe.read()
            if data:
                result = judge.run(json.loads(data), kernel=kernel)
                kernel = None  # closed by judge.run
                Path(out).write_text(json.dumps(result), encoding="utf-8")
            code = 0
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
        finally:
            if kernel is not None:
                kernel.close()
            os._exit(code)
    os.close(read)
    _WORKER.setdefault("pipes", set()).add(write)
    return {"pid": pid, "pipe": write, "out": out}


def _close_spare() -> None:
    """Let the waiting judge go (it closes its kernel and exits)."""
    spare = _WORKER.pop("spare", None)
    if spare:
        _WORKER["pipes"].discard(spare["pipe"])
        with contextlib.suppress(OSError):
            os.close(spare["pipe"])
        with contextlib.suppress(OSError):
            os.waitpid(spare["pid"], 0)
        Path(spare["out"]).unlink(missing_ok=True)


def _judge_forked(job: dict) -> dict:
    """The judge's result for `job`, from the judge kept ready (see :func:`_spawn_judge`)."""
    judge = _WORKER.pop("spare", None) or _spawn_judge()
    _WORKER["spare"] = _spawn_judge()
    pid = judge["pid"]
    _WORKER["child"] = pid
    try:
        _WORKER["pipes"].discard(judge["pipe"])
        with contextlib.suppress(BrokenPipeError), os.fdopen(judge["pipe"], "wb") as pipe:
            pipe.write(json.dumps(job).encode())
        pidfd = os.pidfd_open(pid)
        ready, _, _ = select.select([pidfd], [], [], NOTEBOOK_SECONDS)
        os.close(pidfd)
        if not ready:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        _WORKER["child"] = None
        if not ready:
            raise TimeoutError(f"the judge took longer than {NOTEBOOK_SECONDS:.0f} s")
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"the judge exited with {os.waitstatus_to_exitcode(status)}")
        return json.loads(Path(judge["out"]).read_text(encoding="utf-8"))
    finally:
        Path(judge["out"]).unlink(missing_ok=True)


def _aim(app, sub: Submission) -> None:
    """Point the nbgrader app's converters at one submission."""
    app.coursedir.student_id = sub.student
    app.coursedir.assignment_id = sub.assignment


def _stage(course: Path, sub: Submission) -> list[str]:
    """Stage `sub`'s repaired copy (:func:`~weightinit.grading.staging.stage_folder`); what had
    to be repaired."""
    from . import staging

    _, notes = staging.stage_folder(course / "submitted" / sub.student / sub.assignment,
                                    course / RELEASE / sub.assignment,
                                    course / STAGED / sub.student / sub.assignment)
    return notes


def write_feedback(app, sub: Submission) -> bool:
    """nbgrader's GenerateFeedback for one submission, configured by `app`."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.converters.base import NbGraderException

    _aim(app, sub)
    try:
        GenerateFeedback(coursedir=app.coursedir, parent=app, force=True).start()
    except NbGraderException:
        return False
    return True


def _feedback(sub: Submission) -> dict:
    """Write the feedback page of `sub` (in a worker; it reads the gradebook, never writes it)."""
    clock = _Clock()
    ok = write_feedback(_WORKER["feedback"], sub)
    clock.lap("feedback")
    return {"ok": ok, "seconds": clock.laps}


def _work(sub: Submission) -> dict:
    """Stage, sanitize and judge `sub` (in a worker). Never raises: a failure is reported and
    the writer then judges the notebook itself."""
    from .nbgrader import job_digest, job_of

    course = _WORKER["course"]
    results: dict[str, dict] = {}
    error, notes = None, []
    clock = _Clock()
    try:
        notes = _stage(course, sub)
        clock.lap("stage")
        for path in sorted((course / STAGED / sub.student / sub.assignment).glob("*.ipynb")):
            job = job_of(_sanitized(path), str(course))
            clock.lap("sanitize")
            result = results[job_digest(job)] = _judge_forked(job)
            clock.lap("judge")
            for phase, seconds in result.get("seconds", {}).items():
                clock.add(f"judge: {phase}", seconds)
    except Exception as exc:  # noqa: BLE001
        error = f"{type(exc).__name__}: {exc}"
    return {"results": results, "repaired": notes, "error": error, "seconds": clock.laps}


class _Clock:
    """Seconds spent per phase (summed over a submission's notebooks)."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.add(phase, now - self.last)
        self.last = now

    def add(self, phase: str, seconds: float) -> None:
        self.laps[phase] = round(self.laps.get(phase, 0.0) + seconds, 4)


# ------------------------------------------------------------------------------------------
# The writer
# ------------------------------------------------------------------------------------------


class Writer:
    """nbgrader's converters, in this process: the only writer of the gradebook and the files."""

    def __init__(self, course: Path):
        from nbgrader.apps.autogradeapp import AutogradeApp

        from . import warm

        warm.install()
        self.app = _nbgrader_app(AutogradeApp, course)

    def grade(self, sub: Submission) -> bool:
        """Autograde `sub` (grades into the gradebook, the notebook into autograded/); False if
        nbgrader could not."""
        from nbgrader.converters import Autograde
        from nbgrader.converters.base import NbGraderException

        _aim(self.app, sub)
        try:
            Autograde(coursedir=self.app.coursedir, parent=self.app, force=True).start()
        except NbGraderException:
            say(f"failed: {sub.name}: nbgrader could not autograde it (see the error above)")
            return False
        return True

    def feedback(self, sub: Submission) -> bool:
        """Write the feedback page of `sub` (reads the gradebook); False if nbgrader could not."""
        return write_feedback(self.app, sub)

    def export(self, to: Path) -> None:
        from nbgrader.api import Gradebook

        from .nbgrader import GradesCsv

        plugin = GradesCsv(parent=self.app, to=str(to))
        with Gradebook(self.app.coursedir.db_url, self.app.coursedir.course_id) as gb:
            plugin.export(gb)


#: What the workers import, loaded once by the forkserver they are forked from (instead of
#: once per worker: about 2.5 s of CPU each).
PRELOAD = ["nbgrader.apps.autogradeapp", "nbgrader.apps.generatefeedbackapp", "weightinit.checks",
           "weightinit.grading.judge"]


def _pool(jobs: int, course: Path, snapshot: Path) -> cf.ProcessPoolExecutor:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    # Started now, so that its imports run while this process regenerates the release.
    multiprocessing.forkserver.ensure_running()
    return cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                  initargs=(str(course), str(snapshot)))


def _release(course: Path) -> None:
    """Regenerate the release into _build (this also syncs the gradebook with solutions/):
    ``nbgrader generate_assignment '*' --force``, in this process."""
    from nbgrader.apps.generateassignmentapp import GenerateAssignmentApp

    app = _nbgrader_app(GenerateAssignmentApp, course,
                        ["*", "--force", f"--CourseDirectory.release_directory={RELEASE}"])
    try:
        app.start()
    except SystemExit as exc:
        if exc.code:
            raise SystemExit("make grade: nbgrader generate_assignment failed on solutions/ "
                             "(see the error above)") from None


def _assignments(course: Path) -> set[str]:
    """The assignments of the course: the folders of ``solutions/`` that hold a notebook."""
    return {p.name for p in (course / "solutions").iterdir()
            if p.is_dir() and any(p.glob("*.ipynb"))}


def grade(course: Path, jobs: int, stream=None) -> int:
    """Grade what is new under ``course/submitted``; 0 if every submission could be graded."""
    from . import sandbox, staging, warm

    started = time.monotonic()
    if not (course / "submitted").is_dir():
        print("make grade: put submissions in submitted/<student>/<assignment>/", file=sys.stderr)
        return 1
    state = course / STATE
    ledger = Ledger(state / "ledger.json")
    db, csv_path = course / "gradebook.db", course / "grades.csv"

    # 1. What is new or changed (before anything slow: with nothing new, nothing else runs).
    course_key = course_digest(course)
    release = ledger.course != course_key or not (course / RELEASE).is_dir() or not db.exists()
    salt = f"{course_key}|{grader_digest()}"
    subs = find_submissions(course, _assignments(course), salt)
    if (course / STAGED).is_dir():
        staging.prune(course / STAGED, {course / STAGED / s.student / s.assignment for s in subs})
    pending = [s for s in subs if not ledger.is_current(s)]
    gradebook_changed = ledger.gradebook != _stat(db)
    if not (pending or release or gradebook_changed) and csv_path.exists():
        print(f"[grade] nothing new: {len(subs)} submission(s) already graded "
              f"({time.monotonic() - started:.1f} s)", file=sys.stderr)
        return 0

    if warning := sandbox.warning():
        say(warning)
    warm.install()  # before the release, which opens the gradebook and checks metadata too
    state.mkdir(parents=True, exist_ok=True)
    snapshot = state / "gradebook-snapshot.db"
    # The workers start (and import) while this process regenerates the release if needed.
    pool = _pool(min(jobs, len(pending)), course, snapshot) if pending else None
    status = 0
    progress = Progress(len(pending), stream)
    previous = set_sink(progress.line)
    try:
        # 2. The release and the gradebook's course cells, only when the course changed.
        if release:
            _release(course)
            ledger.course = course_key
            ledger.save()
        writer = Writer(course)
        if pending:
            status |= _grade_pending(course, pending, jobs, ledger, writer, progress, pool)
            pool = None
        # 3. Feedback pages whose grades changed since they were written (manual grading).
        now = grades_digests(db)
        for sub in subs:
            entry = ledger.graded.get(sub.name)
            if entry and entry.get("key") == sub.key and entry.get("grades") != now.get(sub.name):
                if sub not in pending and not writer.feedback(sub):
                    status = 1
                entry["grades"] = now.get(sub.name)
        writer.export(csv_path)
        ledger.gradebook = _stat(db)
        ledger.save()
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        progress.close()
        set_sink(previous)
    print(f"[grade] {len(pending)} submission(s) graded, {len(subs) - len(pending)} unchanged, "
          f"in {time.monotonic() - started:.1f} s with {jobs} worker(s). "
          "Wrote grades.csv and feedback/<student>/<assignment>/.", file=sys.stderr)
    return status


class _Round:
    """One run's pending submissions through the workers and the writer.

    Each submission goes: a worker judges it (:func:`_work`) -> the writer autogrades it
    (:meth:`Writer.grade`, the only write to the gradebook) -> a worker writes its feedback page
    (:func:`_feedback`, which only reads the gradebook) -> the ledger records it. At most
    ``jobs + 1`` judgings are queued at a time, so feedback pages (queued behind them) follow
    their grades closely and an interruption loses little. A pool that breaks (a worker killed)
    is replaced; after :data:`POOL_RESTARTS` the writer does what is left alone.
    """

    POOL_RESTARTS = 2

    def __init__(self, course: Path, pending: list[Submission], jobs: int, ledger: Ledger,
                 writer: Writer, progress: Progress, snapshot: Path,
                 pool: cf.ProcessPoolExecutor | None = None):
        self.course, self.jobs, self.ledger = course, jobs, ledger
        self.writer, self.progress, self.snapshot = writer, progress, snapshot
        self.queue = list(reversed(pending))
        self.inflight: dict[cf.Future, tuple[str, Submission]] = {}
        self.timings: dict[str, dict] = {}
        self.status = 0
        self.restarts = 0
        self.pool = pool

    def run(self) -> int:
        try:
            self.pool = self.pool or _pool(self.jobs, self.course, self.snapshot)
            self._fill()
            while self.inflight:
                done, _ = cf.wait(self.inflight, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    if future not in self.inflight:  # handed back by _broken already
                        continue
                    kind, sub = self.inflight.pop(future)
                    try:
                        outcome = future.result()
                    except cf.process.BrokenProcessPool:
                        self._broken(kind, sub)
                        continue
                    (self._judged if kind == "judge" else self._fed)(sub, outcome)
                self._fill()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
        return self.status

    def _fill(self) -> None:
        judging = sum(kind == "judge" for kind, _ in self.inflight.values())
        while self.queue and judging < self.jobs + 1:
            sub = self.queue.pop()
            if self.pool is None:  # no workers any more: the writer does it all
                self._judged(sub, None)
                continue
            self.inflight[self.pool.submit(_work, sub)] = ("judge", sub)
            judging += 1

    def _broken(self, kind: str, sub: Submission) -> None:
        """A worker died: everything in flight goes back, to a new pool or to the writer."""
        lost = [(kind, sub), *self.inflight.values()]
        self.inflight.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.restarts += 1
        self.pool = (_pool(self.jobs, self.course, self.snapshot)
                     if self.restarts <= self.POOL_RESTARTS else None)
        for k, s in lost:
            if k == "judge":
                self.queue.append(s)
            else:
                self._fed(s, self._writer_feedback(s))

    def _judged(self, sub: Submission, outcome: dict | None) -> None:
        from .nbgrader import PRECOMPUTED

        if outcome is None or outcome["error"]:
            # The workers could not (a bug, or no workers left): stage here, and the writer's
            # JudgedExecute judges the notebook itself.
            why = outcome["error"] if outcome else "no worker left"
            say(f"note: {sub.name}: judged without the workers ({why})")
            notes = _stage(self.course, sub)
        else:
            notes = outcome["repaired"]
            PRECOMPUTED.update(outcome["results"])
        if notes:
            say(f"repaired: {sub.name}: {'; '.join(notes)}")
        clock = _Clock()
        try:
            ok = self.writer.grade(sub)
        finally:
            PRECOMPUTED.clear()
        clock.lap("writer: autograde")
        self.timings[sub.name] = {**(outcome or {}).get("seconds", {}), **clock.laps}
        if not ok:
            self.status = 1
            self.progress.advance()
        elif self.pool is None:
            self._fed(sub, self._writer_feedback(sub))
        else:
            self.inflight[self.pool.submit(_feedback, sub)] = ("feedback", sub)

    def _writer_feedback(self, sub: Submission) -> dict:
        clock = _Clock()
        ok = self.writer.feedback(sub)
        clock.lap("feedback")
        return {"ok": ok, "seconds": clock.laps}

    def _fed(self, sub: Submission, outcome: dict) -> None:
        self.timings.setdefault(sub.name, {}).update(outcome["seconds"])
        if outcome["ok"]:
            self.ledger.record(sub)
        else:
            say(f"failed: {sub.name}: its feedback page could not be written")
            self.status = 1
        self.progress.advance()


def _grade_pending(course: Path, pending: list[Submission], jobs: int, ledger: Ledger,
                   writer: Writer, progress: Progress, pool: cf.ProcessPoolExecutor) -> int:
    state = course / STATE
    snapshot = state / "gradebook-snapshot.db"
    shutil.copy(course / "gradebook.db", snapshot)
    round_ = _Round(course, pending, min(jobs, len(pending)), ledger, writer, progress,
                    snapshot, pool)
    try:
        return round_.run()
    finally:
        snapshot.unlink(missing_ok=True)
        # Where the time went, per submission and phase (benchmarks/bench_batch.py reads it).
        (state / "timings.json").write_text(json.dumps(round_.timings, indent=1),
                                            encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m weightinit.grading.batch",
        description="Grade every new or changed submission of the course in this folder.")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: the number of cores)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    course = Path.cwd()
    try:
        return grade(course, args.jobs)
    except KeyboardInterrupt:
        why = "interrupted"
    except OSError as exc:  # a full disk, a read-only folder: nothing recorded is lost
        why = f"stopped: {exc.strerror or exc} ({exc.filename or 'a file'})"
    recorded = len(Ledger(course / STATE / "ledger.json").graded)
    print(f"\n[grade] {why}. The {recorded} submission(s) recorded so far are kept; run "
          "`make grade` again to grade the rest.", file=sys.stderr)
    return 130 if why == "interrupted" else 1


if __name__ == "__main__":
    sys.exit(main())
