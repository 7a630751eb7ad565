"""Tests of weightinit.grading.source: the static "own code" analysis of a submitted notebook.

Every correct solution, and correct answers written differently, give no finding; every way of
using weightinit's implementation that we know of gives a finding that names it. Nothing here
runs a notebook: the analysis reads sources only, so the file takes well under a second.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import nbformat
import pytest

from weightinit.grading import source as S
from weightinit.grading.source import locked_code_cells, own_code_findings, student_code_cells

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
ALLOW = {"ex04-variance-scaling": ("compute_fans",)}


def notebook(kind: str, assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / kind / assignment / f"{assignment}.ipynb", as_version=4)


def solution_functions(nb: nbformat.NotebookNode) -> list[str]:
    """The graded functions: the solution code cells' grade ids (each is the function's name)."""
    names = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            assert f"def {meta['grade_id']}(" in cell.source
            names.append(meta["grade_id"])
    return names


def findings(*cells: str, function: str = "he_normal", allow=(), locked=()) -> list[str]:
    return own_code_findings([textwrap.dedent(c).strip("\n") for c in cells], function, allow,
                             locked=locked)


OWN = """
def he_normal(shape, rng):
    fan_in = math.prod(shape[:-1])
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
"""


# --------------------------------------------------------------------------------------------
# Correct code passes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_solution_is_own_code(assignment):
    nb = notebook("solutions", assignment)
    cells = student_code_cells(nb)
    functions = solution_functions(nb)
    assert functions and len(cells) == len(functions)  # setup and test cells are not the student's
    for function in functions:
        assert own_code_findings(cells, function, ALLOW.get(assignment, ())) == [], function
        assert own_code_findings(cells, function, ALLOW.get(assignment, ()),
                                 locked=locked_code_cells(nb)) == [], function


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_exercises_are_own_code(assignment):
    nb = notebook("exercises", assignment)
    for function in solution_functions(nb):
        assert own_code_findings(student_code_cells(nb), function, ALLOW.get(assignment, ()),
                                 locked=locked_code_cells(nb)) == []


VARIANTS = {
    "helper in another cell": [
        """
        def fans(shape):
            receptive = math.prod(shape[:-2])
            return shape[-2] * receptive, shape[-1] * receptive
        """,
        """
        def he_normal(shape, rng):
            fan_in, _ = fans(shape)
            return rng.standard_normal(shape) * np.sqrt(2 / fan_in)
        """,
    ],
    "lambda": [
        "he_normal = lambda shape, rng: rng.normal(0, (2 / math.prod(shape[:-1])) ** 0.5, shape)",
    ],
    "functools.partial of numpy": [
        """
        import functools

        def _scaled(shape, rng, gain):
            return gain * rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1]))

        he_normal = functools.partial(_scaled, gain=np.sqrt(2.0))
        """,
    ],
    "class with __call__": [
        """
        class HeNormal:
            \"\"\"He's initializer as an object.\"\"\"

            def __init__(self, gain=2.0):
                self._gain = gain

            def __call__(self, shape, rng):
                return rng.normal(0.0, math.sqrt(self._gain / shape[0]), size=shape)

            def __repr__(self):
                return f"{type(self).__name__}({self._gain})"

        he_normal = HeNormal()
        """,
    ],
    "nested def and comprehension": [
        """
        def he_normal(shape, rng):
            def std(fan_in):
                return math.sqrt(2.0 / fan_in)
            fan_in = [n for n in shape][0] if len(shape) == 2 else math.prod(shape[:-1])
            return std(fan_in) * rng.standard_normal(shape)
        """,
    ],
    "math and numpy only, with its own imports and experiments": [
        "import math\nimport numpy as np\nfrom numpy.random import default_rng",
        OWN,
        """
        %matplotlib inline
        rng = default_rng(0)
        w = he_normal((512, 200), rng)
        np.testing.assert_allclose(w.var(), 2 / 512, rtol=0.1)
        print(f"{w.std():.3f}", getattr(w, "shape"), w.copy().T.shape)
        he_normal?
        """,
    ],
    "variables named like builtins": [
        """
        def he_normal(shape, rng):
            vars = [2.0 / shape[0]]
            compile = np.sqrt
            return compile(vars[0]) * rng.standard_normal(shape)
        """,
    ],
    "allowed modules": [
        """
        import itertools, operator, statistics, typing, dataclasses, numbers, warnings
        from collections import namedtuple
        from scipy import special, stats
        Fans = namedtuple("Fans", "fan_in fan_out")

        @dataclasses.dataclass
        class Spec:
            gain: float = 2.0

        def he_normal(shape: typing.Sequence[int], rng) -> np.ndarray:
            fans = Fans(*shape[-2:])
            gain = operator.attrgetter("gain")(Spec())
            if __name__ == "__main__":
                warnings.warn("scratch")
            return rng.normal(0.0, math.sqrt(gain / fans.fan_in), size=shape)
        """,
    ],
}


@pytest.mark.parametrize("name", VARIANTS)
def test_correct_variants_are_own_code(name):
    assert findings(*VARIANTS[name]) == []


# --------------------------------------------------------------------------------------------
# Every attack is named
# --------------------------------------------------------------------------------------------


ATTACKS = {
    "imported": (["from weightinit import he_normal"], "imported from weightinit in cell 1"),
    "imported under another name and wrapped": (
        ["from weightinit.initializers import he_normal as mine",
         "def he_normal(shape, rng):\n    return mine(shape, rng)"],
        "he_normal() uses the name 'mine', imported from weightinit.initializers in cell 1",
    ),
    "module alias used inside": (
        ["import weightinit as w",
         "def he_normal(shape, rng):\n    return w.he_normal(shape, rng)"],
        "uses the name 'w', the module weightinit",
    ),
    "dotted module import then attribute": (
        ["import weightinit.initializers",
         "def he_normal(shape, rng):\n    return weightinit.initializers.he_normal(shape, rng)"],
        "uses the name 'weightinit', the module weightinit.initializers",
    ),
    "helper in another cell imports it": (
        ["def helper(shape, rng):\n    from weightinit import kaiming_normal\n"
         "    return kaiming_normal(shape, rng)",
         "def he_normal(shape, rng):\n    return helper(shape, rng)"],
        "uses the name 'kaiming_normal' (through helper)",
    ),
    "__import__": (
        ["def he_normal(shape, rng):\n    return __import__('weightinit').he_normal(shape, rng)"],
        "he_normal() calls __import__",
    ),
    "__import__ of a built name": (
        ["def he_normal(shape, rng):\n"
         "    return __import__(''.join(['weight', 'init'])).he_normal(shape, rng)"],
        "calls __import__",
    ),
    "importlib.import_module": (
        ["import importlib\n\ndef he_normal(shape, rng):\n"
         "    return importlib.import_module('weight' + 'init').he_normal(shape, rng)"],
        "he_normal() uses importlib",
    ),
    "exec at top level": (["exec('from weightinit import he_normal')", OWN],
                          "the notebook calls exec in cell 1"),
    "eval": (["def he_normal(shape, rng):\n    return eval('kaiming')(shape, rng)"],
             "he_normal() calls eval"),
    "getattr for a module": (["def he_normal(shape, rng):\n    return getattr(np, 'sys')"],
                             "calls getattr for the module sys"),
    "getattr with a computed name": (
        ["def he_normal(shape, rng):\n    return getattr(np, 'random' + '_x')"],
        "calls getattr with a computed attribute name",
    ),
    "__builtins__ of a module": (
        ["def he_normal(shape, rng):\n    return np.random.__builtins__['eval']('1')"],
        "the dunder attribute '__builtins__'",
    ),
    "subclasses": (["classes = ().__class__.__base__.__subclasses__()", OWN], "__subclasses__"),
    "sys.modules": (
        ["import sys",
         "def he_normal(shape, rng):\n"
         "    return sys.modules['weightinit.initializers'].he_normal(shape, rng)"],
        "he_normal() uses sys.modules",
    ),
    "sys reached through an allowed module": (
        ["import typing\n\ndef he_normal(shape, rng):\n    return typing.sys.modules"],
        "sys.modules",
    ),
    "subprocess": (
        ["import subprocess\n"
         "out = subprocess.check_output(['python', '-c', 'import weightinit'])", OWN],
        "subprocess.check_output",
    ),
    "os.system": (["import os\nos.system('pip download weightinit')", OWN], "uses os.system"),
    "later top-level rebinding": (
        [OWN, "from weightinit import kaiming_normal as other", "he_normal = other"],
        "he_normal() uses the name 'other', imported from weightinit in cell 2",
    ),
    "decorator replacing the function": (
        ["from weightinit import he_normal as lib",
         "def replace(f):\n    return lib", "@replace\n" + OWN.strip()],
        "uses the name 'lib' (through replace)",
    ),
    "default argument": (
        ["def he_normal(shape, rng, f=__import__('weightinit').he_normal):\n"
         "    return f(shape, rng)"],
        "he_normal() calls __import__",
    ),
    "a cell that raises before its def": (
        ["from weightinit import he_normal", "1 / 0\n" + OWN.strip()],
        "he_normal is weightinit's own implementation",
    ),
    "stored in a container": (
        ["CACHE = []", "from weightinit import he_normal as lib\nCACHE.append(lib)",
         "def he_normal(shape, rng):\n    return CACHE[0](shape, rng)"],
        "uses the name 'lib' (through CACHE)",
    ),
    "patched into numpy": (
        ["from weightinit import he_normal as lib\nnp.he = lib",
         "def he_normal(shape, rng):\n    return np.he(shape, rng)"],
        "uses the name 'lib' (through np)",
    ),
    "star import": (["from weightinit import *"], "imports every name of weightinit with *"),
    "import for comparison, used at module level": (
        [OWN, "from weightinit import he_normal as reference",
         "print(np.allclose(he_normal((2, 2), np.random.default_rng(0)), "
         "reference((2, 2), np.random.default_rng(0))))"],
        "may not import from weightinit",
    ),
    "IPython magic": (["%time from weightinit import he_normal"], "the IPython magic %time"),
    "cell magic": (["%%capture\nfrom weightinit import he_normal"], "cell magic %%capture"),
    "shell command": (["!pip install weightinit"], "shell command !pip install weightinit"),
    "prompt stripped by IPython": ([">>> from weightinit import he_normal"],
                                   "imported from weightinit in cell 1"),
    "get_ipython": (["get_ipython().run_cell('from weightinit import he_normal')"],
                    "get_ipython().run_cell"),
    "string annotation evaluated by typing": (
        ["import functools\n@functools.singledispatch\ndef g(x):\n    pass\n"
         "@g.register\ndef _(x: 'eval(chr(49))'):\n    pass", OWN],
        "string annotation",
    ),
    "private path to gc": (
        ["def he_normal(shape, rng):\n    return np.testing._private.utils.gc.get_objects()"],
        "gc.get_objects",
    ),
    "match reads a dunder": (
        ["def he_normal(shape, rng):\n    match he_normal:\n"
         "        case object(__globals__=g):\n            return g"],
        "matches the dunder attribute '__globals__'",
    ),
    "attrgetter of a dunder": (
        ["import operator\nf = operator.attrgetter('__globals__')", OWN], "attrgetter"),
    "getattr passed around": (["import functools\nget = functools.partial(getattr, np)", OWN],
                              "uses getattr as a value"),
    "vars": (["def he_normal(shape, rng):\n    return vars(np)"], "he_normal() calls vars"),
    "pickle through numpy": (["x = np.load('w.npy', allow_pickle=True)", OWN], "allow_pickle"),
    "file writing": (["np.arange(3).tofile('x.py')", OWN], "tofile"),
    "a disallowed module": (["import os.path", OWN], "imports os.path in cell 1"),
    "star import from numpy hides names": (["from numpy import *\nsavetxt('x.py', [1])", OWN],
                                           "imports every name of numpy with *"),
    "IPython's last output": (["check_array", "def he_normal(shape, rng):\n    return _(shape)"],
                              "IPython's last output _"),
    "bytes written to a file": (["np.save('x.pth', np.array([b'import os']))", OWN],
                                "the file function save"),
    "fullwidth letters": (["ｅｖａｌ('1')", OWN], "calls eval"),
    "relative import": (["from . import initializers", OWN], "relative import"),
}


@pytest.mark.parametrize("name", ATTACKS)
def test_every_attack_is_named(name):
    cells, expected = ATTACKS[name]
    found = findings(*cells)
    assert any(expected in f for f in found), found


def test_findings_name_the_place_and_the_fix():
    found = findings("import numpy as np", "import os", OWN)
    assert found == [
        "the notebook imports os in cell 2 (line 1: import os): the graded code may import "
        "only numpy, math, scipy, functools, itertools, collections, typing, dataclasses, "
        "numbers, warnings, operator, statistics, random, matplotlib, time and timeit; remove "
        "the import (and the code "
        "that needs it)."
    ]
    wrapped = findings("from weightinit.initializers import kaiming_normal as mine",
                       "def he_normal(shape, rng):\n    return mine(shape, rng)")
    assert wrapped == [
        "he_normal() uses the name 'mine', imported from weightinit.initializers in cell 1 "
        "(line 1: from weightinit.initializers import kaiming_normal as mine). The exercise is "
        "to write it with numpy; weightinit is there to compare with once yours works."
    ]


def test_constructs_in_the_function_come_first_and_say_so():
    found = findings("x = eval('1')", "def he_normal(shape, rng):\n    return globals()['w']")
    assert found[0].startswith("he_normal() calls globals in cell 2 (line 2:")
    assert found[1].startswith("the notebook calls eval in cell 1 (line 1:")


def test_compute_fans_only_where_allowed():
    cells = ["from weightinit import compute_fans",
             "def he_normal(shape, rng):\n    fan_in, _ = compute_fans(shape)\n"
             "    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)"]
    assert findings(*cells, allow=("compute_fans",)) == []
    found = findings(*cells)
    assert any("uses the name 'compute_fans', imported from weightinit" in f for f in found)
    # the allowed name under another function's name, or another name under it, is not allowed
    assert findings("from weightinit import he_normal as compute_fans", cells[1],
                    allow=("compute_fans",))
    both = findings("from weightinit import compute_fans",
                    "if False:\n    from weightinit import kaiming_normal as compute_fans",
                    cells[1], allow=("compute_fans",))
    assert any("kaiming_normal as compute_fans" in f for f in both), both


def test_locked_cells_names_are_known():
    nb = notebook("solutions", "ex04-variance-scaling")
    cells, locked = student_code_cells(nb), locked_code_cells(nb)
    assert own_code_findings(cells, "variance_scaling", ("compute_fans",), locked=locked) == []
    found = own_code_findings(cells, "variance_scaling", (), locked=locked)
    assert any("'compute_fans', imported from weightinit in a locked cell of the notebook" in f
               for f in found), found
    # a check imported by the setup cell is not the student's code either
    cheat = "def he_normal(shape, rng):\n    return check_array(he_normal, shape)"
    found = findings(cheat, locked=locked_code_cells(notebook("solutions", "ex03-initializers")))
    assert any("uses the name 'check_array', imported from weightinit.checks" in f
               for f in found), found
    # the locked cells' own imports are not findings
    assert findings(OWN, locked=["from weightinit.checks import check_array"]) == []


@pytest.mark.parametrize("cells", [
    ["def he_normal(:\n    pass"],
    ["x = (", OWN],
    ["%%time\nx = 1", "!ls", "%who", "np.random?", "x = 'unterminated"],
    ["\x00"],
    ["    x = 1\n  y = 2"],
    ["def f(:\n    %time x"],
    [""],
])
def test_broken_cells_do_not_raise(cells):
    assert isinstance(own_code_findings(cells, "he_normal"), list)


def test_syntax_errors_are_skipped_but_not_what_ipython_accepts():
    assert findings("def he_normal(:\n    from weightinit import he_normal", OWN) == []
    assert findings("    from weightinit import he_normal\n    x = 1")  # IPython dedents
    assert findings(OWN, "await something()") == []  # top-level await is valid in a kernel
    deep = "x = " + "+".join(["1"] * 20000)
    assert findings(deep) in ([], ["cell 1 could not be checked: it is nested too deeply to be "
                                   "read. Split it into simpler statements."])


def test_without_ipython_the_fallback_reads_magics(monkeypatch):
    monkeypatch.setattr(S, "_TransformerManager", None)
    assert findings("%matplotlib inline\nnp.random?", OWN) == []
    assert any("%time" in f for f in findings("%time from weightinit import he_normal"))
    assert any("%%capture" in f for f in findings("%%capture\nfrom weightinit import he_normal"))
    assert any("!ls" in f for f in findings("files = !ls"))
    assert findings(">>> from weightinit import he_normal")
    assert findings("    from weightinit import he_normal\n    x = 1")


# --------------------------------------------------------------------------------------------
# Which cells are the student's
# --------------------------------------------------------------------------------------------


def submission(assignment: str) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """The released notebook, and a copy with every solution cell filled in."""
    release = notebook("exercises", assignment)
    solved = {c.metadata.nbgrader["grade_id"]: c.source
              for c in notebook("solutions", assignment).cells
              if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in solved:
            cell.source = solved[grade_id]
    return release, nb


def test_student_code_cells_are_solutions_and_added_cells():
    release, nb = submission("ex03-initializers")
    solutions = student_code_cells(nb)
    assert [s.split("(")[0] for s in solutions] == [
        "def compute_fans", "def lecun_normal", "def xavier_normal", "def xavier_uniform",
        "def he_normal", "def he_uniform"]
    assert student_code_cells(nb, release) == solutions
    nb.cells.insert(5, nbformat.v4.new_code_cell("from weightinit import he_normal"))
    nb.cells.append(nbformat.v4.new_markdown_cell("import os"))
    assert student_code_cells(nb)[1] == "from weightinit import he_normal"
    assert student_code_cells(nb, release) == student_code_cells(nb)
    assert student_code_cells(nb, release)[1] == "from weightinit import he_normal"


def test_forged_metadata_is_caught_with_the_release():
    release, nb = submission("ex03-initializers")
    forged = nbformat.v4.new_code_cell("from weightinit import he_normal")
    forged.metadata["nbgrader"] = {"grade": False, "grade_id": "sneaky", "locked": True,
                                   "solution": False, "schema_version": 3}
    nb.cells.append(forged)
    setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    setup.source += "\nfrom weightinit import he_uniform"
    assert "from weightinit import he_normal" not in student_code_cells(nb)  # trusts metadata
    cells = student_code_cells(nb, release)
    assert cells[-1] == "from weightinit import he_normal"
    assert cells[0].endswith("from weightinit import he_uniform")
    assert own_code_findings(cells, "he_normal")
    assert own_code_findings(cells, "he_uniform")


def test_sources_given_as_lists_are_joined():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell()])
    nb.cells[0]["source"] = ["def f():\n", "    return 1\n"]
    assert student_code_cells(nb) == ["def f():\n    return 1\n"]


def test_one_functions_mistake_costs_only_that_function():
    """A weightinit import or a forbidden construct inside one function's body, or an import
    nothing at module level reads, is that function's finding, not its neighbours'."""
    cells = [
        "def lecun_normal(shape, rng):\n    import weightinit.initializers as wi\n"
        "    return wi.lecun_normal(shape, rng)",
        "def xavier_normal(shape, rng):\n    import os\n    os._exit(1)",
        "from weightinit import he_uniform as reference",
        OWN,
    ]
    assert own_code_findings(cells, "he_normal") == []
    assert own_code_findings(cells, "lecun_normal")
    assert own_code_findings(cells, "xavier_normal")
    # ... but code that runs at module level can rebind anything, so it counts for all
    run = [*cells, "xavier_normal((2, 2), None)"]
    assert any("os" in f for f in own_code_findings(run, "he_normal"))
