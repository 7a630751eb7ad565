"""The judge, attacked directly: a patched kernel can only hurt its own answers.

Each test runs :func:`weightinit.grading.judge.run` on a small job: a setup cell as the course
writes it, the student's cell (a wrong or right function, plus an attack), and test cells that
call the real checks. The judge must pass what is right and fail what is wrong whatever the
student's cell does to its own kernel; the end-to-end version, through ``make grade``, is
tests/test_attacks.py.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from weightinit.grading import judge, sandbox

SETUP = textwrap.dedent("""
    import math

    import numpy as np

    from weightinit.checks import check_array, check_uses_rng, check_variance
""")

RIGHT = textwrap.dedent("""
    def he_normal(shape, rng):
        fan_in = shape[-2] * math.prod(shape[:-2]) if len(shape) > 1 else shape[0]
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
""")

#: 1/n where He uses 2/n: the variance test fails, the shape and rng tests pass.
WRONG = RIGHT.replace("2.0 / fan_in", "1.0 / fan_in")

TESTS = {
    "shape": 'check_array(he_normal, (512, 200))',
    "rng": 'check_uses_rng(he_normal, (512, 200))',
    "variance": textwrap.dedent('''
        """he_normal's variance."""
        check_variance(he_normal, (512, 200), scale=2.0, mode="fan_in", distribution="normal")
        ### BEGIN HIDDEN TESTS
        check_variance(he_normal, (3, 5, 40, 60), scale=2.0, mode="fan_in",
                       distribution="normal", seed=41)
        ### END HIDDEN TESTS
    '''),
}

#: Short limits: an infinite loop never finishes, whatever the machine's speed.
LIMITS = {"cell_seconds": 20, "call_seconds": 8}


def grade(student: str, tests: dict[str, str] = TESTS, **limits) -> dict[str, list]:
    cells = [{"index": 0, "kind": "locked", "source": SETUP},
             {"index": 1, "kind": "student", "source": student}]
    for i, source in enumerate(tests.values(), start=2):
        cells.append({"index": i, "kind": "test", "source": source})
    result = judge.run({"cells": cells, "limits": {**LIMITS, **limits}})
    out = {"student": result["cells"]["1"]["outputs"]}
    for i, name in enumerate(tests, start=2):
        out[name] = result["cells"][str(i)]["outputs"]
    return out


def passed(outputs: list) -> bool:
    return not any(o["output_type"] == "error" for o in outputs)


def message(outputs: list) -> str:
    return "\n".join(f"{o.get('ename')}: {o.get('evalue', '')}" for o in outputs
                     if o["output_type"] == "error")


def test_right_passes_and_wrong_fails_with_its_message():
    right = grade(RIGHT)
    assert all(passed(right[t]) for t in TESTS), right
    wrong = grade(WRONG)
    assert passed(wrong["shape"]) and passed(wrong["rng"])
    assert not passed(wrong["variance"])
    assert "1/n" in message(wrong["variance"]) or "0.5" in message(wrong["variance"])


ATTACKS = {
    "rebinding the checks": """
        check_variance = check_array = check_uses_rng = lambda *a, **k: None
    """,
    "patching the checks in sys.modules": """
        import sys
        for name, module in list(sys.modules.items()):
            if name.startswith("weightinit"):
                for attr in dir(module):
                    if attr.startswith("check_") or attr in ("_Failure", "_public"):
                        setattr(module, attr, lambda *a, **k: None)
    """,
    "patching numpy": """
        np.var = lambda *a, **k: 2.0 / 512
        np.std = lambda *a, **k: (2.0 / 512) ** 0.5
        np.mean = lambda *a, **k: 0.0
        np.array_equal = lambda *a, **k: True
        import numpy.testing
        numpy.testing.assert_allclose = lambda *a, **k: None
    """,
    "patching exceptions and tracebacks": """
        import builtins, sys
        builtins.AssertionError = type("AssertionError", (Exception,), {})
        sys.excepthook = lambda *a: None
        ip = get_ipython()
        ip.showtraceback = lambda *a, **k: None
        ip.set_custom_exc((BaseException,), lambda *a, **k: None)
    """,
    "frame inspection": """
        import sys
        def he_normal(shape, rng, _w=he_normal):
            frame = sys._getframe(1)
            while frame is not None:
                for value in frame.f_locals.values():
                    if hasattr(value, "std") and isinstance(getattr(value, "std"), float):
                        return rng.normal(0.0, value.std, size=shape)
                frame = frame.f_back
            return _w(shape, rng)
    """,
    "a lying return object": """
        _wrong = he_normal
        class Liar(np.ndarray):
            def std(self, *a, **k): return (2.0 / self.shape[-2]) ** 0.5
            def var(self, *a, **k): return 2.0 / self.shape[-2]
            def __eq__(self, other): return True
        def he_normal(shape, rng):
            return _wrong(shape, rng).view(Liar)
    """,
    "an object that is not an array": """
        class Fake:
            shape = (512, 200)
            dtype = np.dtype("float64")
            def __array__(self, *a, **k): return np.zeros(self.shape)
            def std(self, *a, **k): return 1.0
        def he_normal(shape, rng):
            return Fake()
    """,
    "printing a score": """
        _wrong = he_normal
        def he_normal(shape, rng):
            print("1.0")
            import sys; print("full marks", file=sys.stderr)
            return _wrong(shape, rng)
    """,
    "the harness patched": """
        import weightinit.grading.harness as h
        h.serve = lambda *a, **k: None
    """,
    "a forged reply": """
        import json, weightinit.grading.harness as h
        def forged(request, reply):
            with open(reply, "w") as f:
                json.dump({"value": {"__wi__": "nd", "dtype": "O", "shape": [1], "data": ""}}, f)
        h.serve = forged
    """,
}


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_an_attack_on_the_kernel_scores_no_more_than_the_wrong_answer(attack):
    graded = grade(WRONG + textwrap.dedent(ATTACKS[attack]))
    assert not passed(graded["variance"]), f"{attack}: the wrong variance passed"


EXIT_TESTS = {
    # The course's own test code may call a function directly (no own-code check first).
    "direct": "assert he_normal((3, 5, 40, 60), np.random.default_rng(0)).shape == (3, 5, 40, 60)",
    "other": 'check_variance(lecun_normal, (512, 200), scale=1.0, mode="fan_in", '
             'distribution="normal")',
    "after": "check_array(he_normal, (512, 200))",
}

LECUN = RIGHT.replace("he_normal", "lecun_normal").replace("2.0 / fan_in", "1.0 / fan_in")


@pytest.mark.parametrize("what, code", [
    ("sys.exit", "import sys; sys.exit(0)"),
    ("KeyboardInterrupt", "raise KeyboardInterrupt"),
    ("SystemExit", "raise SystemExit('bye')"),
    ("os._exit", "import os; os._exit(0)"),
])
def test_exits_inside_the_function_cost_only_its_tests(what, code):
    student = LECUN + RIGHT.replace(
        "    fan_in =", f"    if len(shape) == 4:\n        {code}\n    fan_in =")
    graded = grade(student, EXIT_TESTS)
    assert not passed(graded["direct"]), what
    assert passed(graded["other"]), what  # another function keeps its points
    if "import" in code:
        # An import outside numpy, math and the like is not graded as the student's own code
        # (it could reach weightinit): the function that has it loses its points.
        assert "own code" in message(graded["after"])
    else:
        assert passed(graded["after"]), what
    if what == "os._exit":
        assert "DeadKernelError" in message(graded["direct"])


def test_an_uninterruptible_loop_is_stopped_and_the_other_tests_graded():
    student = LECUN + RIGHT.replace("    fan_in =", textwrap.indent(textwrap.dedent("""
        if len(shape) == 4:
            import signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            while True:
                pass
    """), "    ") + "    fan_in =")
    graded = grade(student, EXIT_TESTS)
    assert "CellTimeoutError" in message(graded["direct"])
    assert "own code" in message(graded["after"])  # `import signal` is not the exercise's


def test_hidden_arguments_and_the_students_text_stay_out_of_messages():
    student = RIGHT.replace(
        "    fan_in =",
        "    if len(shape) == 4:\n        raise ValueError(f'leak {shape}')\n    fan_in =")
    text = message(grade(student)["variance"])
    assert "hidden test" in text
    for secret in ("(3, 5, 40, 60)", "3, 5, 40, 60", "leak", "seed=41", "41"):
        assert secret not in text, (secret, text)


@pytest.mark.skipif(sandbox.probe() is not None, reason=f"no sandbox here: {sandbox.probe()}")
class TestSandbox:
    def test_the_machine_is_read_only_and_offline(self, tmp_path):
        target = tmp_path / "victim.txt"
        target.write_text("untouched")
        student = RIGHT + textwrap.dedent(f"""
            try:
                open({str(target)!r}, "w").write("owned")
            except OSError as exc:
                print("write refused:", type(exc).__name__)
            import socket
            try:
                socket.create_connection(("1.1.1.1", 80), timeout=2)
            except OSError as exc:
                print("network refused:", type(exc).__name__)
        """)
        graded = grade(student)
        text = "".join(o.get("text", "") for o in graded["student"])
        assert "write refused" in text and "network refused" in text, text
        assert target.read_text() == "untouched"

    def test_memory_is_capped(self):
        student = RIGHT + "\nhog = np.ones(3 * 2**30 // 8)\n"
        graded = grade(student)
        assert "MemoryError" in message(graded["student"])
        assert all(passed(graded[t]) for t in TESTS)

    def test_no_process_outlives_the_kernel(self):
        marker = f"wi-linger-{time.monotonic_ns()}"
        student = RIGHT + textwrap.dedent(f"""
            import subprocess
            subprocess.Popen(["sleep", "600", {marker!r}][:2] + [], start_new_session=True,
                             env={{"WI_MARK": {marker!r}}})
            subprocess.Popen(["bash", "-c", "exec -a {marker} sleep 600"], start_new_session=True)
        """)
        grade(student)
        time.sleep(1)
        found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout
        assert not found.strip(), f"a process of the submission outlived grading: {found}"

    def test_huge_output_is_capped(self):
        graded = grade(RIGHT + "\nprint('x' * 50_000_000)\n")
        size = sum(len(o.get("text", "")) for o in graded["student"])
        assert size < 2 * judge.CELL_TEXT


def test_without_bubblewrap_make_grade_says_what_is_lost(monkeypatch, tmp_path):
    real_which = sandbox.shutil.which
    monkeypatch.setattr(sandbox.shutil, "which",
                        lambda name: None if name == "bwrap" else real_which(name))
    sandbox.probe.cache_clear()
    try:
        assert sandbox.probe() == "bwrap is not installed"
        cmd = sandbox.wrap(["python", "-m", "ipykernel_launcher"], tmp_path, sandboxed=False)
        assert "bwrap" not in cmd and cmd[-3:] == ["python", "-m", "ipykernel_launcher"]
        said = sandbox.warning()  # the line weightinit.grading.batch.grade says
        assert "WARNING: bwrap is not installed" in said and "gradebook" in said
    finally:
        sandbox.probe.cache_clear()


@pytest.mark.skipif(sandbox.probe() is not None, reason=f"no sandbox here: {sandbox.probe()}")
def test_the_course_folder_is_hidden_from_the_kernel(tmp_path, monkeypatch):
    """Solutions (with their hidden tests), the gradebook and the other students' work are not
    even readable: the course folder is emptied in the kernel's view, but for Python and the
    package."""
    course = Path.cwd()  # the repository: solutions/ is here, as in an instructor's course
    secret = course / "solutions" / "ex03-initializers" / "ex03-initializers.ipynb"
    student = RIGHT + textwrap.dedent(f"""
        import os
        print("solutions visible:", os.path.exists({str(secret)!r}))
        print("course entries:", sorted(os.listdir({str(course)!r})))
    """)
    cells = [{"index": 0, "kind": "locked", "source": SETUP},
             {"index": 1, "kind": "student", "source": student}]
    result = judge.run({"cells": cells, "limits": LIMITS, "course_roots": [str(course)]})
    text = "".join(o.get("text", "") for o in result["cells"]["1"]["outputs"])
    assert "solutions visible: False" in text, text
    assert secret.exists()  # hidden from the kernel only


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_the_judge_alone_holds_without_the_source_check(attack, monkeypatch):
    """Defence in depth: with the own-code reading of the source switched off (most attacks
    import sys or builtins, which that check refuses by itself), the judge still fails the wrong
    variance and passes what the wrong function does get right."""
    monkeypatch.setattr(judge, "own_code_findings", lambda *args, **kwargs: [])
    graded = grade(WRONG + textwrap.dedent(ATTACKS[attack]))
    assert not passed(graded["variance"]), f"{attack}: the wrong variance passed"
    if attack not in ("the harness patched", "a forged reply", "an object that is not an array"):
        # the source check is really off: what the wrong function gets right still passes
        assert passed(graded["shape"]) and passed(graded["rng"]), (attack, graded)


def test_python_and_the_package_stay_visible_when_they_live_under_tmp(tmp_path):
    """The sandbox gives the kernel an empty /tmp; a course cloned under /tmp (as CI does) keeps
    its venv and package visible, read-only, and nothing else of /tmp."""
    venv = tmp_path / "venv"
    venv.mkdir()
    cmd = sandbox.wrap(["python"], tmp_path / "exchange", True, needed=[venv, Path("/usr")])
    tmpfs = cmd.index("/tmp")  # the --tmpfs /tmp mount comes first, the bind after it
    assert cmd[tmpfs - 1] == "--tmpfs"
    bind = cmd.index(str(venv))
    assert cmd[bind - 1] == "--ro-bind" and bind > tmpfs
    assert "/usr" not in cmd  # not under /tmp: already visible read-only


def test_a_wrong_compute_fans_is_named_in_the_initializers_message_through_the_judge():
    """The judge calls the student's own compute_fans in their kernel to explain an initializer's
    variance; in a hidden test the shape stays hidden."""
    student = textwrap.dedent("""
        def compute_fans(shape):
            return shape[0], shape[1]

        def he_normal(shape, rng):
            fan_in, _ = compute_fans(shape)
            return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
    """)
    tests = {"visible": 'check_variance(he_normal, (7, 64, 96), scale=2.0, mode="fan_in", '
                        'distribution="normal")',
             "hidden": textwrap.dedent('''
                 """he_normal's variance, hidden."""
                 ### BEGIN HIDDEN TESTS
                 check_variance(he_normal, (3, 5, 40, 60), scale=2.0, mode="fan_in",
                                distribution="normal", seed=41)
                 ### END HIDDEN TESTS
             ''')}
    out = grade(student, tests)
    visible = message(out["visible"])
    assert "compute_fans((7, 64, 96)) returns (7, 64); expected (448, 672)" in visible, visible
    hidden = message(out["hidden"])
    assert "The cause is your compute_fans" in hidden, hidden
    assert "40" not in hidden and "60" not in hidden and "(3, 5" not in hidden, hidden


def test_a_failed_distribution_check_carries_its_picture_and_a_hidden_one_no_arguments():
    """The picture is drawn in the judge from the returned sample: an SVG histogram in units of
    the target std, with the named mistake's density; nothing of the hidden test's shape."""
    out = grade(WRONG)
    shown = [o for o in out["variance"] if o["output_type"] == "display_data"]
    assert len(shown) == 1, out["variance"]
    svg = shown[0]["data"]["image/svg+xml"]
    assert svg.startswith("<svg") and "mistake: 1/n where He uses 2/n" in svg
    assert 2_000 < len(svg) < 40_000
    hidden_only = {"hidden": TESTS["variance"].replace(
        'check_variance(he_normal, (512, 200), scale=2.0, mode="fan_in", distribution="normal")\n',
        "")}
    hidden = grade(WRONG, hidden_only)["hidden"]
    assert "A hidden test" in message(hidden)
    svg = next(o for o in hidden if o["output_type"] == "display_data")["data"]["image/svg+xml"]
    words = " ".join(re.findall(r"<(?:text|title)[^>]*>([^<]*)<", svg))  # what a reader sees
    assert "weight / target std" in words
    assert "600" not in words and "fan_in" not in words and "(3, 5" not in words
    assert "he_normal" not in words
