"""Whether a student's function is their own code, decided from the notebook's source alone.

The judge never runs a student's code: the functions stay in the student's kernel and the judge
calls them through proxies, so it cannot look at function objects the way
:func:`weightinit.checks.check_own_code` does (their globals, closures and defaults). It reads the
cells the student could write instead, and :func:`own_code_findings` says, in sentences a student
can act on, why a function may not be the student's own:

1. the function's name is bound by an import from weightinit (any binding of it in the student's
   cells, not only the last one: a cell that raises before its ``def`` leaves an earlier import
   in place);
2. the code behind the name (function body, defaults, decorators, annotations, nested functions,
   lambdas and comprehensions, the right-hand side of an assignment, a class and its methods, and
   every attribute or item assignment to and method call on a name) uses, directly or through
   other names bound in the notebook, a name that an import from weightinit binds, in the
   student's cells or in the instructor's locked cells (``locked``);
3. the student's cells contain anything that could reach weightinit, or any other code, without
   naming it: dynamic imports and evaluation (``__import__``, ``importlib``, ``exec``, ``eval``,
   ``compile``, pickle), introspection (``globals``, ``vars``, ``getattr`` with a computed or a
   dunder name, dunder and private attributes, ``sys.modules``, frames, ``gc``), other programs
   (``subprocess``, ``os.system``, shell commands, IPython magics), files, an import of a module
   other than :data:`ALLOWED_MODULES`, an import from weightinit of a name not in ``allow``, or a
   string that mentions weightinit. These findings hold for every function of the notebook.

Rule 3 is what makes the analysis conservative: a student's cells can reach weightinit only
through an import statement, a name or attribute that rule 3 forbids, or a string, so rules 1 and
2 mostly make the message precise ("he_normal() uses the name 'mine', imported from
weightinit.initializers in cell 3"). It is strict on purpose (the exercises need numpy, math and
plain Python only): an unused ``from weightinit import he_normal as reference`` is a finding too,
so students compare with weightinit in another notebook.

Cells are read as IPython reads them: :func:`_python_source` applies IPython's own input
transformations (magics, shell escapes, ``?`` help, prompts, leading indentation), so a magic
becomes the ``get_ipython()`` call the kernel runs and is judged like any other code instead of
being skipped (only ``?`` help and ``%matplotlib <backend>`` are allowed). A cell that is not
valid Python after that is skipped: the kernel refuses to run it as well. Without IPython a
line-by-line approximation is used (:func:`_fallback_transform`).

Limits (what this cannot see):

- names bound by the instructor's locked cells are known only if they are passed as ``locked``;
  locked cells are trusted, and :func:`student_code_cells` trusts nbgrader metadata unless it is
  given the released notebook;
- the allowed modules are large (numpy and scipy in particular): the forbidden attributes are a
  list of the escape hatches known today (module attributes such as ``typing.sys``, private
  attributes, frames, ``ctypeslib``, ``f2py``, file writing, pickle), not a proof that no other
  path from numpy or scipy to arbitrary code exists;
- the analysis reads the notebook, not the kernel: anything that changes the kernel from outside
  the notebook (startup files, a modified environment, another notebook sharing the kernel) is
  for the sandbox to prevent.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

#: The modules (and their submodules) graded code may import.
ALLOWED_MODULES = (
    "numpy",
    "math",
    "scipy",
    "functools",
    "itertools",
    "collections",
    "typing",
    "dataclasses",
    "numbers",
    "warnings",
    "operator",
    "statistics",
    "random",
    # To look at one's own weights while working: plots and timings.
    "matplotlib",
    "time",
    "timeit",
)

#: The package whose implementation the student must not use.
LIBRARY = "weightinit"

#: Dunder names graded code may use: as method names, as attributes, and in strings.
ALLOWED_DUNDERS = frozenset(
    {"__init__", "__name__", "__doc__", "__len__", "__call__", "__repr__", "__eq__"}
)

_NAME_DUNDERS = frozenset({"__name__", "__doc__"})  # as plain names (``if __name__ == ...``)
_STRING_DUNDERS = ALLOWED_DUNDERS | {"__main__"}

# What each kind of finding asks the student to do.
_RUN = (
    "graded code may not import modules or run code given as text; write the function with "
    "numpy and math."
)
_INTERNALS = (
    "graded code may not reach into Python's or the kernel's internals; use plain names and "
    "attributes (obj.name), and rename a variable of yours that has this name."
)
_OUTSIDE = (
    "graded code may not run other programs, shell commands or IPython magics, nor read or "
    "write files; delete it (experiment in another notebook)."
)
_IMPORTS = (
    "the graded code may import only "
    + ", ".join(ALLOWED_MODULES[:-1])
    + f" and {ALLOWED_MODULES[-1]}; remove the import (and the code that needs it)."
)
_STAR = "import the module instead (import numpy as np) and write np.name."
_LIBRARY_HINT = (
    "The exercise is to write it with numpy; weightinit is there to compare with once yours "
    "works"
)

#: Names that give access to code, modules or the kernel without an import statement. A name
#: only counts where it can mean the builtin (not where a function has a variable of that name).
_FORBIDDEN_NAMES: dict[str, tuple[str, str]] = {
    "__import__": ("__import__", _RUN),
    "exec": ("exec", _RUN),
    "eval": ("eval", _RUN),
    "compile": ("compile", _RUN),
    "importlib": ("importlib", _RUN),
    "runpy": ("runpy", _RUN),
    "pkgutil": ("pkgutil", _RUN),
    "pickle": ("pickle", _RUN),
    "marshal": ("marshal", _RUN),
    "dill": ("dill", _RUN),
    "cloudpickle": ("cloudpickle", _RUN),
    "help": ("help", _RUN),
    "globals": ("globals", _INTERNALS),
    "locals": ("locals", _INTERNALS),
    "vars": ("vars", _INTERNALS),
    "__builtins__": ("__builtins__", _INTERNALS),
    "builtins": ("builtins", _INTERNALS),
    "breakpoint": ("breakpoint", _INTERNALS),
    "inspect": ("inspect", _INTERNALS),
    "sys": ("sys", _INTERNALS),
    "gc": ("gc", _INTERNALS),
    "ctypes": ("ctypes", _INTERNALS),
    "get_ipython": ("get_ipython", _INTERNALS),
    "In": ("IPython's input history In", _INTERNALS),
    "Out": ("IPython's output history Out", _INTERNALS),
    "_ih": ("IPython's input history _ih", _INTERNALS),
    "_oh": ("IPython's output history _oh", _INTERNALS),
    "_dh": ("IPython's directory history _dh", _INTERNALS),
    "_i": ("IPython's input history _i", _INTERNALS),
    "_ii": ("IPython's input history _ii", _INTERNALS),
    "_iii": ("IPython's input history _iii", _INTERNALS),
    "_": ("IPython's last output _", _INTERNALS),
    "__": ("IPython's output history __", _INTERNALS),
    "___": ("IPython's output history ___", _INTERNALS),
    "subprocess": ("subprocess", _OUTSIDE),
    "os": ("os", _OUTSIDE),
    "open": ("open", _OUTSIDE),
}
_HISTORY = re.compile(r"_i?\d+")  # IPython's _5 (output 5) and _i5 (input 5)

#: Builtins and functions that look an attribute up by a name given as a value: allowed only
#: when called directly with literal names, which are then checked like ``obj.name``.
_DYNAMIC_ACCESS = frozenset({"getattr", "setattr", "delattr", "attrgetter", "methodcaller"})

#: Attribute names that lead to code, modules, frames, other programs or files.
_FORBIDDEN_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "modules": ("sys.modules", _INTERNALS),
    **{
        name: (f"the frame attribute '{name}'", _INTERNALS)
        for name in (
            "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "tb_frame", "tb_next",
            "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "co_consts",
            "co_names", "co_code",
        )
    },
    **{name: (f"gc.{name}", _INTERNALS) for name in ("get_objects", "get_referrers",
                                                       "get_referents")},
    **{name: (f"types.{name}", _INTERNALS) for name in ("FunctionType", "CodeType",
                                                          "LambdaType")},
    **{
        name: (f"importlib's {name}", _RUN)
        for name in (
            "import_module", "load_module", "exec_module", "find_spec", "find_module",
            "module_from_spec", "spec_from_file_location", "spec_from_loader", "reload",
        )
    },
    "loads": ("loads (pickle.loads)", _RUN),
    "Unpickler": ("pickle.Unpickler", _RUN),
    "read_array": ("numpy.lib.format.read_array", _RUN),
    **{name: (f"typing's {name}", _RUN) for name in ("get_type_hints", "ForwardRef",
                                                       "evaluate_forward_ref",
                                                       "get_annotations")},
    **{name: (f"os.{name}", _OUTSIDE) for name in ("system", "popen", "fork", "forkpty",
                                                     "posix_spawn", "posix_spawnp",
                                                     "startfile")},
    **{name: (f"subprocess.{name}", _OUTSIDE) for name in ("Popen", "check_output",
                                                             "check_call", "getoutput",
                                                             "getstatusoutput")},
    **{
        name: (f"numpy's {name}", _OUTSIDE)
        for name in (
            "ctypeslib", "load_library", "f2py", "extbuild", "build_and_import_extension",
            "rundocs", "test",
        )
    },
    **{name: (f"ctypes' {name}", _OUTSIDE) for name in ("pythonapi", "cdll", "CDLL", "PyDLL")},
    "LowLevelCallable": ("scipy.LowLevelCallable", _OUTSIDE),
    **{
        name: (f"the file function {name}", _OUTSIDE)
        for name in (
            "tofile", "savetxt", "save", "savez", "savez_compressed", "dump", "write_array",
            "memmap", "open_memmap", "DataSource",
        )
    },
    "get_ipython": ("get_ipython", _INTERNALS),
}
_OS_EXEC = re.compile(r"(exec|spawn)[lvpe]+")

#: Standard-library modules are reachable as attributes of allowed ones (``typing.sys``,
#: ``dataclasses.builtins``, ``numpy.f2py.os``): an attribute with such a name is a finding,
#: except for these names, which numpy and arrays use for their own functions (and
#: ``collections.abc``, a harmless module).
_COMMON_ATTRIBUTES = frozenset({"array", "copy", "select", "trace", "abc"})

#: namedtuple's public API starts with an underscore.
_PUBLIC_PRIVATES = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})
_MODULE_ATTRIBUTES = frozenset(
    name
    for name in getattr(sys, "stdlib_module_names", ())
    if not name.startswith("_")
    and name.split(".")[0] not in ALLOWED_MODULES
    and name not in _COMMON_ATTRIBUTES
)

#: Help and plotting setup are the only IPython magics graded cells may hold.
_HELP_MAGICS = frozenset({"pinfo", "pinfo2", "psearch"})
_IDENTIFIER = re.compile(r"\s*[A-Za-z0-9_]*\s*")
_DUNDER = re.compile(r"__[A-Za-z0-9_]+__")

#: Methods that put a value into the object they are called on (``CACHE.append(f)``).
_MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault", "add",
                       "appendleft", "extendleft", "register", "put", "push"})

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = (*_FUNCTIONS, ast.Lambda, ast.ClassDef, *_COMPREHENSIONS)


# --------------------------------------------------------------------------------------------
# Which cells the student wrote
# --------------------------------------------------------------------------------------------


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _instructor_cells(release: Any) -> dict[str, str]:
    """grade_id -> normalized source of the release's locked and test code cells."""
    cells = {}
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or meta.get("solution") or not meta.get("grade_id"):
            continue
        if meta.get("locked") or meta.get("grade"):
            cells[meta["grade_id"]] = _normalized(_source(cell))
    return cells


def student_code_cells(nb: Any, release: Any | None = None) -> list[str]:
    """The sources of the code cells a student could write, in notebook order.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook in nbformat v4: the student's submission.
    release : nbformat.NotebookNode, optional
        The notebook as released to the students. Without it, a cell's nbgrader metadata says
        whose it is; but the student can edit metadata, so with it a cell is the instructor's
        only if the release has a locked or test code cell with the same ``grade_id`` and the
        same source (trailing whitespace aside).

    Returns
    -------
    list of str
        Solution cells (``metadata.nbgrader.solution`` true) and cells without nbgrader
        metadata, without a ``grade_id`` or not locked (cells the student added); test cells
        (``grade`` true) and locked cells are left out.
    """
    instructor = _instructor_cells(release) if release is not None else None
    sources = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if instructor is not None:
            if grade_id in instructor and instructor[grade_id] == _normalized(source):
                continue
        elif not meta.get("solution") and grade_id and (meta.get("grade") or meta.get("locked")):
            continue
        sources.append(source)
    return sources


def locked_code_cells(release: Any) -> list[str]:
    """The sources of the instructor's locked code cells that run in the student's kernel.

    Parameters
    ----------
    release : nbformat.NotebookNode
        The notebook as released (trusted: a student's copy can forge metadata).

    Returns
    -------
    list of str
        Locked code cells that are neither solution nor test cells (the setup cell with its
        imports, ex06's demonstration), in notebook order: pass them to
        :func:`own_code_findings` as ``locked`` so that the names they import are known.
    """
    sources = []
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if (cell.get("cell_type") == "code" and meta.get("locked") and not meta.get("grade")
                and not meta.get("solution")):
            sources.append(_source(cell))
    return sources


# --------------------------------------------------------------------------------------------
# Reading a cell as the kernel does
# --------------------------------------------------------------------------------------------


try:  # IPython's own transformations: exactly the Python the kernel compiles
    from IPython.core.inputtransformer2 import TransformerManager as _TransformerManager
except ImportError:  # pragma: no cover - the course's environment has IPython
    _TransformerManager = None

_MAGIC_LINE = re.compile(r"(?P<indent>\s*)(?:(?P<target>[\w.,\s\[\]()*]+?)\s*=\s*)?"
                         r"(?P<escape>!!|!|%%|%)(?P<rest>.*)")
_HELP_LINE = re.compile(r"(?P<indent>\s*)(?:\?\??(?P<pre>[\w.*]+)|(?P<post>[\w.*]+)\?\??)\s*")
_PROMPT = re.compile(r"(>>> ?|\.\.\. ?|In \[\d+\]: |\s*\.\.\.: ?)")


def _fallback_transform(source: str) -> str:
    """IPython syntax as the ``get_ipython()`` calls it stands for, line by line (line numbers
    kept), for an environment without IPython."""
    lines = source.splitlines()
    if lines and all(not line.strip() or _PROMPT.match(line) for line in lines):
        lines = [_PROMPT.sub("", line, count=1) for line in lines]
    indent = re.match(r"[ \t]*", lines[0]).group() if lines else ""
    if indent:  # IPython removes the first line's indentation from every line
        lines = [line[len(indent):] if line.startswith(indent) else line for line in lines]
    if lines and lines[0].startswith("%%"):
        name, _, line = lines[0][2:].partition(" ")
        body = "\n".join(lines[1:])
        return f"get_ipython().run_cell_magic({name!r}, {line!r}, {body!r})\n"
    out = []
    for line in lines:
        help_ = _HELP_LINE.fullmatch(line)
        magic = _MAGIC_LINE.fullmatch(line)
        if help_:
            what = help_["pre"] or help_["post"]
            line = f"{help_['indent']}get_ipython().run_line_magic('pinfo', {what!r})"
        elif magic:
            rest = magic["rest"]
            if magic["escape"].startswith("!"):
                call = f"get_ipython().system({rest!r})"
            else:
                name, _, args = rest.partition(" ")
                call = f"get_ipython().run_line_magic({name!r}, {args!r})"
            target = f"{magic['target']} = " if magic["target"] else ""
            line = f"{magic['indent']}{target}{call}"
        out.append(line)
    return "\n".join(out) + "\n"


def _python_source(source: str) -> str:
    """The Python the kernel compiles for a cell: IPython's transformations applied (magics and
    shell escapes become ``get_ipython()`` calls, help becomes ``%pinfo``, prompts and a common
    indentation are removed). Raises SyntaxError where IPython does."""
    if _TransformerManager is not None:
        return _TransformerManager().transform_cell(source)
    return _fallback_transform(source)


@dataclass(frozen=True)
class _Site:
    """Where something is: a cell (index into the cells given) and a line of it."""

    cell: int
    line: int
    text: str
    locked: bool = False

    def where(self) -> str:
        """``cell 3 (line 2: the line)``."""
        text = self.text.strip()
        if len(text) > 72:
            text = text[:69] + "..."
        cell = "a locked cell of the notebook" if self.locked else f"cell {self.cell + 1}"
        return f"{cell} (line {self.line}: {text})"


@dataclass
class _Cell:
    index: int
    tree: ast.Module
    lines: list[str]
    locked: bool

    def site(self, node: ast.AST) -> _Site:
        line = getattr(node, "lineno", 1)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return _Site(self.index, line, text, self.locked)


def _parse(index: int, source: str, locked: bool) -> _Cell | None | str:
    """The cell's syntax tree; None if the kernel could not run it either (a syntax error);
    a reason if it could not be read although the kernel might run it."""
    try:
        python = _python_source(source)
    except Exception:  # IPython's transformations fail on it in the kernel too
        return None
    try:
        tree = compile(python, f"<cell {index + 1}>", "exec",
                       flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                       dont_inherit=True)
    except SyntaxError:
        return None
    except ValueError:  # a null byte: the kernel refuses it too
        return None
    except (RecursionError, MemoryError):
        return "it is nested too deeply to be read"
    original = source.splitlines()
    same = len(original) == len(python.splitlines()) or python.startswith(
        "get_ipython().run_cell_magic(")  # a cell magic: the whole cell is line 1
    lines = original if same else python.splitlines()
    return _Cell(index, tree, lines, locked)


# --------------------------------------------------------------------------------------------
# Scopes: which names are a function's own variables
# --------------------------------------------------------------------------------------------


def _children(node: ast.AST, scope: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    """A node's children, each with the scope its names are looked up in."""
    if isinstance(node, _FUNCTIONS):
        outer = [*node.decorator_list, node.args, *getattr(node, "type_params", [])]
        if node.returns is not None:
            outer.append(node.returns)
        return [(c, scope) for c in outer] + [(c, node) for c in node.body]
    if isinstance(node, ast.Lambda):
        return [(node.args, scope), (node.body, node)]
    if isinstance(node, ast.ClassDef):
        outer = [*node.decorator_list, *node.bases, *node.keywords,
                 *getattr(node, "type_params", [])]
        return [(c, scope) for c in outer] + [(c, node) for c in node.body]
    if isinstance(node, _COMPREHENSIONS):
        inner = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        children = [(c, node) for c in inner]
        for i, gen in enumerate(node.generators):
            children.append((gen.target, node))
            children.append((gen.iter, scope if i == 0 else node))
            children.extend((c, node) for c in gen.ifs)
        return children
    return [(c, scope) for c in ast.iter_child_nodes(node)]


class _Scopes:
    """Every node of a tree in source order with its scope and parent, and each scope's own
    variables. Iterative: a deeply nested expression does not exhaust Python's stack."""

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.nodes: list[tuple[ast.AST, ast.AST, ast.AST | None]] = []
        self.enclosing: dict[int, ast.AST] = {}
        self.own: dict[int, set[str]] = {}
        self.declared_global: dict[int, set[str]] = {}
        stack: list[tuple[ast.AST, ast.AST, ast.AST | None]] = [(tree, tree, None)]
        while stack:
            node, scope, parent = stack.pop()
            self.nodes.append((node, scope, parent))
            if isinstance(node, _SCOPES):
                self.enclosing[id(node)] = scope
            stack.extend((c, s, node) for c, s in reversed(_children(node, scope)))
        walrus = set()
        for node, scope, _ in self.nodes:
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                walrus.add(id(node.target))
                target = scope
                while isinstance(target, _COMPREHENSIONS):
                    target = self.enclosing[id(target)]
                self._bind(target, node.target.id)
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                if id(node) not in walrus:
                    self._bind(scope, node.id)
            elif isinstance(node, (*_FUNCTIONS, ast.Lambda)):
                args = node.args
                for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                            *(a for a in (args.vararg, args.kwarg) if a is not None)):
                    self._bind(node, arg.arg)
                if not isinstance(node, ast.Lambda):
                    self._bind(scope, node.name)
            elif isinstance(node, ast.ClassDef):
                self._bind(scope, node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name != "*":
                        self._bind(scope, alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self._bind(scope, node.name)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                self._bind(scope, node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                self._bind(scope, node.rest)
            elif isinstance(node, ast.Global):
                self.declared_global.setdefault(id(scope), set()).update(node.names)
            elif isinstance(node, ast.Nonlocal):
                self._bind(scope, *node.names)

    def _bind(self, scope: ast.AST, *names: str) -> None:
        self.own.setdefault(id(scope), set()).update(names)

    def shadowed(self, name: str, scope: ast.AST) -> bool:
        """Whether `name`, looked up in `scope`, is surely a function's variable (so not the
        builtin or module-level name). Class bodies and the module are not: what they bind
        depends on the order things run in."""
        while scope is not self.tree:
            if not isinstance(scope, ast.ClassDef):
                if name in self.declared_global.get(id(scope), ()):
                    return False
                if name in self.own.get(id(scope), ()):
                    return True
            scope = self.enclosing[id(scope)]
        return False


# --------------------------------------------------------------------------------------------
# Rule 3: constructs that reach code without naming it
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Construct:
    site: _Site
    node: ast.AST
    what: str
    hint: str


def _is_library(module: str | None) -> bool:
    return module is not None and (module == LIBRARY or module.startswith(LIBRARY + "."))


def _attribute_problem(name: str, on_self: bool = False) -> tuple[str, str] | None:
    """What is wrong with ``obj.<name>`` (description, hint), or None."""
    if _DUNDER.fullmatch(name):
        if name in ALLOWED_DUNDERS:
            return None
        return f"the dunder attribute '{name}'", _INTERNALS
    if name in _FORBIDDEN_ATTRIBUTES:
        return _FORBIDDEN_ATTRIBUTES[name]
    if _OS_EXEC.fullmatch(name):
        return f"os.{name}", _OUTSIDE
    if name in _MODULE_ATTRIBUTES:
        return f"the module {name}", _INTERNALS
    if name.startswith("_") and not on_self and name not in _PUBLIC_PRIVATES:
        return f"the private attribute '{name}'", _INTERNALS
    return None


def _string_problem(value: str | bytes) -> tuple[str, str] | None:
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    shown = text if len(text) <= 40 else text[:37] + "..."
    if LIBRARY in text.lower():
        return f"mentions weightinit in the string {shown!r}", "library"
    for dunder in _DUNDER.findall(text):
        if dunder not in _STRING_DUNDERS:
            return f"names {dunder} in the string {shown!r}", _INTERNALS
    return None


def _folded(node: ast.AST) -> str | None:
    """The value of a string built from literals only (concatenation, f-string, str.join)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            inner = part.value if isinstance(part, ast.FormattedValue) else part
            if not isinstance(inner, ast.Constant):
                return None
            parts.append(str(inner.value))
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _folded(node.left), _folded(node.right)
        return None if left is None or right is None else left + right
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join" and len(node.args) == 1 and not node.keywords
            and isinstance(node.args[0], (ast.List, ast.Tuple))):
        sep = _folded(node.func.value)
        parts = [_folded(e) for e in node.args[0].elts]
        if sep is None or any(p is None for p in parts):
            return None
        return sep.join(p for p in parts if p is not None)
    return None


def _root_name(node: ast.AST) -> str | None:
    """The name an attribute/item/call chain starts from (``a`` in ``a.b[0].c()``)."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return None


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _magic(call: ast.Call) -> tuple[str, bool] | None:
    """For ``get_ipython().<method>(...)``: how to show it and whether it is harmless."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython"
            and not func.value.args and not func.value.keywords):
        return None
    args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
            for a in call.args]
    if call.keywords or any(a is None for a in args):
        return "get_ipython()", False
    method = func.attr
    if method in ("system", "getoutput") and len(args) == 1:
        return f"runs the shell command !{args[0]}", False
    if method == "run_line_magic" and len(args) == 2:
        name, line = args
        harmless = name in _HELP_MAGICS or (name == "matplotlib"
                                            and _IDENTIFIER.fullmatch(line or "") is not None)
        return f"runs the IPython magic %{name} {line}".rstrip(), harmless
    if method == "run_cell_magic" and len(args) == 3:
        return f"runs the IPython cell magic %%{args[0]} {args[1]}".rstrip(), False
    return f"calls get_ipython().{method}", False


def _literal_names(call: ast.Call, dotted: bool) -> list[str] | None:
    """The attribute names a getattr-like call looks up, or None if one is not a literal."""
    if isinstance(call.func, ast.Name):
        func = call.func.id
    elif isinstance(call.func, ast.Attribute):
        func = call.func.attr
    else:  # pragma: no cover - only called for names and attributes
        return None
    if func in ("getattr", "setattr", "delattr"):
        if len(call.args) < 2 or any(isinstance(a, ast.Starred) for a in call.args):
            return None
        values = [call.args[1]]
    elif func == "methodcaller":
        if not call.args or isinstance(call.args[0], ast.Starred):
            return None
        values = [call.args[0]]
    else:  # attrgetter
        if not call.args or call.keywords:
            return None
        values = list(call.args)
    if not all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
        return None
    names = [v.value for v in values]  # type: ignore[attr-defined]
    return [part for name in names for part in name.split(".")] if dotted else names


def _import_problems(node: ast.Import | ast.ImportFrom,
                     allow: Sequence[str]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if isinstance(node, ast.ImportFrom) and node.level:
        module = "." * node.level + (node.module or "")
        return [(f"imports from {module} (a relative import)", _IMPORTS)]
    if isinstance(node, ast.Import):
        modules = [(alias.name, None, alias.asname) for alias in node.names]
    else:
        modules = [(node.module or "", alias.name, alias.asname) for alias in node.names]
    for module, name, asname in modules:
        if _is_library(module):
            if name is None:
                problems.append((f"imports the module {module}", "library"))
            elif name == "*":
                problems.append((f"imports every name of {module} with *", "library"))
            elif name not in allow:
                problems.append((f"imports {name} from {module}", "library"))
            continue
        root = module.split(".")[0]
        if root not in ALLOWED_MODULES:
            problems.append((f"imports {module}", _IMPORTS))
            continue
        if name == "*" and module != "math":  # binds names the rules cannot see
            problems.append((f"imports every name of {module} with *", _STAR))
            continue
        for part in [*module.split(".")[1:], *([name] if name and name != "*" else [])]:
            problem = _attribute_problem(part)
            if problem:
                problems.append((f"imports {problem[0]} (from {module})", problem[1]))
                break
        if asname and _DUNDER.fullmatch(asname):
            problems.append((f"imports as the dunder name {asname}", _INTERNALS))
    return problems


def _constructs(cell: _Cell, scopes: _Scopes, allow: Sequence[str]) -> list[_Construct]:
    """Everything in one student cell that rule 3 forbids."""
    found: list[_Construct] = []
    harmless: set[int] = set()  # get_ipython names inside allowed magics
    annotations: set[int] = set()

    def add(node: ast.AST, what: str, hint: str) -> None:
        found.append(_Construct(cell.site(node), node, what, hint))

    for node, scope, parent in scopes.nodes:
        if isinstance(node, (*_FUNCTIONS, ast.arg, ast.AnnAssign)):
            annotated = ([node.returns] if isinstance(node, _FUNCTIONS)
                         else [node.annotation])
            for annotation in annotated:
                if annotation is not None:
                    annotations.update(id(n) for n in ast.walk(annotation))
        if isinstance(node, ast.Name):
            name = node.id
            loaded = isinstance(node.ctx, ast.Load)
            if id(node) in harmless or (loaded and scopes.shadowed(name, scope)):
                continue
            called = isinstance(parent, ast.Call) and parent.func is node
            verb = "calls" if called else "uses"
            if loaded and name in _DYNAMIC_ACCESS:
                _check_dynamic(node, parent, called, add)
            elif loaded and name in _FORBIDDEN_NAMES:
                what, hint = _FORBIDDEN_NAMES[name]
                add(node, f"{verb} {what}", hint)
            elif loaded and _HISTORY.fullmatch(name):
                add(node, f"uses IPython's history {name}", _INTERNALS)
            elif _DUNDER.fullmatch(name) and not (loaded and name in _NAME_DUNDERS):
                add(node, f"{verb} the dunder name {name}", _INTERNALS)
        elif isinstance(node, ast.Attribute):
            if id(node) in harmless:
                continue
            if node.attr in ("attrgetter", "methodcaller"):
                called = isinstance(parent, ast.Call) and parent.func is node
                _check_dynamic(node, parent, called, add)
            problem = _attribute_problem(node.attr, _is_self(node.value))
            if problem:
                add(node, f"uses {problem[0]}", problem[1])
        elif isinstance(node, ast.Call):
            magic = _magic(node)
            if magic is not None:
                what, ok = magic
                harmless.add(id(node.func))  # the magic is the finding, not its parts
                harmless.add(id(node.func.value.func))  # type: ignore[attr-defined]
                if not ok:
                    add(node, what, _OUTSIDE)
            for keyword in node.keywords:
                if keyword.arg == "allow_pickle":
                    add(node, "loads pickled data (allow_pickle)", _RUN)
                elif keyword.arg and _DUNDER.fullmatch(keyword.arg):
                    add(node, f"passes the dunder keyword {keyword.arg}", _INTERNALS)
            if (isinstance(node.func, ast.Attribute) and node.func.attr == "load"
                    and len(node.args) >= 3):
                add(node, "loads pickled data (load with allow_pickle)", _RUN)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            if id(node) in annotations and isinstance(node.value, str):
                add(node, f"writes the string annotation {node.value!r}", _RUN)
                continue
            problem = _string_problem(node.value)
            if problem:
                add(node, *problem)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for what, hint in _import_problems(node, allow):
                add(node, what, hint)
        elif isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            if _DUNDER.fullmatch(node.name) and node.name not in ALLOWED_DUNDERS:
                add(node, f"defines {node.name}", _INTERNALS)
        elif isinstance(node, ast.arg):
            if _DUNDER.fullmatch(node.arg):
                add(node, f"has the dunder parameter {node.arg}", _INTERNALS)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                if _DUNDER.fullmatch(name):
                    add(node, f"declares the dunder name {name}", _INTERNALS)
        elif isinstance(node, ast.MatchClass):
            for attr in node.kwd_attrs:
                problem = _attribute_problem(attr)
                if problem:
                    add(node, f"matches {problem[0]}", problem[1])
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)):
            if node.name and _DUNDER.fullmatch(node.name):
                add(node, f"binds the dunder name {node.name}", _INTERNALS)
        elif isinstance(node, ast.ExceptHandler):
            if node.name and _DUNDER.fullmatch(node.name):
                add(node, f"binds the dunder name {node.name}", _INTERNALS)
        if isinstance(node, (ast.JoinedStr, ast.BinOp, ast.Call)):  # 'weight' + 'init'
            text = _folded(node)
            if text is not None and LIBRARY in text.lower() and not (
                    isinstance(parent, (ast.JoinedStr, ast.BinOp)) and _folded(parent)):
                add(node, f"builds a string that mentions weightinit ({text!r})", "library")
    return found


def _check_dynamic(node: ast.AST, parent: ast.AST | None, called: bool,
                   add: Callable[[ast.AST, str, str], None]) -> None:
    """getattr, setattr, delattr, operator.attrgetter and methodcaller: only direct calls with
    literal names, each checked as an attribute."""
    name = node.id if isinstance(node, ast.Name) else node.attr  # type: ignore[attr-defined]
    if not called:
        add(node, f"uses {name} as a value", _INTERNALS)
        return
    assert isinstance(parent, ast.Call)
    names = _literal_names(parent, dotted=name == "attrgetter")
    if names is None:
        add(node, f"calls {name} with a computed attribute name", _INTERNALS)
        return
    on_self = bool(parent.args) and _is_self(parent.args[0]) and name in (
        "getattr", "setattr", "delattr")
    for attr in names:
        problem = _attribute_problem(attr, on_self)
        if problem:
            add(node, f"calls {name} for {problem[0]}", problem[1])


# --------------------------------------------------------------------------------------------
# Rules 1 and 2: what the function's name is bound to and which names its code uses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Binding:
    """One place that binds (or changes) a name: an import, or code whose names it uses."""

    name: str
    site: _Site
    kind: str  # "import", "star" (from ... import *), "code", "change"
    node: ast.AST | None = None
    module: str | None = None
    imported: str | None = None  # the name a from-import imports; None for a module import

    def forbidden(self, allow: Sequence[str]) -> bool:
        return (self.kind in ("import", "star") and _is_library(self.module)
                and not (self.kind == "import" and self.imported in allow))


def _target_names(target: ast.AST) -> Iterator[ast.Name]:
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            yield node
        elif isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(node.elts)
        elif isinstance(node, ast.Starred):
            stack.append(node.value)


def _bindings(cell: _Cell, scopes: _Scopes) -> Iterator[_Binding]:
    """Every binding in a cell, in any scope (a function's variable is counted too: this can
    only add findings, and every weightinit import is a finding anyway)."""
    for node, _, _ in scopes.nodes:
        site = cell.site(node)
        values: list[tuple[ast.AST, ast.AST | None]] = []  # (target, code it gets)
        if isinstance(node, ast.Assign):
            values = [(t, node.value) for t in node.targets]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            values = [(node.target, node.value)]
        elif isinstance(node, ast.NamedExpr):
            values = [(node.target, node.value)]
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            values = [(node.target, node.iter)]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            values = [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars]
        elif isinstance(node, ast.ExceptHandler) and node.name:
            yield _Binding(node.name, site, "code", node.type)
        elif isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            yield _Binding(node.name, site, "code", node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                yield _Binding(bound, site, "import", module=alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    yield _Binding("*", site, "star", module=module)
                else:
                    yield _Binding(alias.asname or alias.name, site, "import", module=module,
                                   imported=alias.name)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None) or getattr(sub, "rest", None)
                    if isinstance(name, str):
                        yield _Binding(name, site, "code", node.subject)
        elif isinstance(node, _COMPREHENSIONS):
            values = [(g.target, g.iter) for g in node.generators]
        elif isinstance(node, ast.Delete):
            values = [(t, None) for t in node.targets]
        elif isinstance(node, ast.Call):
            # obj.append(value), setattr(obj, name, value): a change of obj
            func = node.func
            root = None
            if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
                root = _root_name(node.args[0])
            elif isinstance(func, ast.Attribute) and func.attr in _MUTATORS:
                root = _root_name(func.value)
            if root:
                yield _Binding(root, site, "change", node)
        for target, value in values:
            if value is not None:
                for name in _target_names(target):
                    yield _Binding(name.id, site, "code", value)
            for element in ast.walk(target):  # obj.x = value, obj[i] = value: a change of obj
                if isinstance(element, (ast.Attribute, ast.Subscript)):
                    root = _root_name(element)
                    if root:
                        yield _Binding(root, site, "change", node)
                    break


def _names_used(node: ast.AST) -> list[str]:
    """Every name the code reads, in any scope inside it."""
    names = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Store):
            names.append(sub.id)
        elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name):
            names.append(sub.target.id)
    return list(dict.fromkeys(names))


def _library_phrase(binding: _Binding) -> str:
    if binding.imported is None:
        return f"the module {binding.module}, imported in {binding.site.where()}"
    return f"imported from {binding.module} in {binding.site.where()}"


def _walk_function(function: str, bindings: dict[str, list[_Binding]], allow: Sequence[str],
                   ) -> tuple[list[tuple[_Binding, tuple[str, ...]]],
                              dict[int, tuple[str, ...]]]:
    """The weightinit bindings `function` reaches (with the chain of names that leads there),
    and the code bindings it reaches (id of the binding's node -> chain)."""
    reached: list[tuple[_Binding, tuple[str, ...]]] = []
    code: dict[int, tuple[str, ...]] = {}
    seen: set[int] = set()
    stars = [b for b in bindings.get("*", []) if b.forbidden(allow)]
    queue: list[tuple[_Binding, tuple[str, ...]]] = [
        (b, ()) for b in bindings.get(function, [])
    ]
    queue += [(b, ()) for b in stars]
    position = 0
    while position < len(queue):
        binding, chain = queue[position]
        position += 1
        if id(binding) in seen:
            continue
        seen.add(id(binding))
        if binding.forbidden(allow):
            reached.append((binding, chain))
            continue
        if binding.kind in ("import", "star") or binding.node is None:
            continue
        if binding.kind == "code":
            code.setdefault(id(binding.node), chain)
        for name in _names_used(binding.node):
            queue.extend((b, (*chain, name)) for b in bindings.get(name, []))
    return reached, code


def _rule_findings(function: str, reached: list[tuple[_Binding, tuple[str, ...]]],
                   allow_text: str) -> list[str]:
    findings = []
    for binding, chain in reached:
        if binding.kind == "star":
            findings.append(
                f"{function} may be weightinit's own implementation, not yours: "
                f"{binding.site.where()} imports every name of {binding.module} with *, which "
                f"may rebind {function} or the names it uses. {_LIBRARY_HINT}{allow_text}."
            )
        elif not chain:
            findings.append(
                f"{function} is weightinit's own implementation, not yours: it is "
                f"{_library_phrase(binding)}. {_LIBRARY_HINT}{allow_text}."
            )
        else:
            through = f" (through {', '.join(chain[:-1])})" if len(chain) > 1 else ""
            findings.append(
                f"{function}() uses the name {chain[-1]!r}{through}, "
                f"{_library_phrase(binding)}. {_LIBRARY_HINT}{allow_text}."
            )
    return findings


# --------------------------------------------------------------------------------------------
# The whole analysis
# --------------------------------------------------------------------------------------------


def _module_level_reads(tree: ast.Module) -> set[str]:
    """Names read by code that runs when the cell runs: everything but the bodies of functions
    and lambdas (their decorators and default values do run)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (*_FUNCTIONS, ast.Lambda)):
            run_now = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
            if not isinstance(node, ast.Lambda):
                run_now += node.decorator_list
            for sub in run_now:
                visit(sub)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in tree.body:
        visit(statement)
    return names


def _home_function(tree: ast.Module) -> dict[int, str]:
    """id of each node inside a module-level function's body -> that function's name."""
    home: dict[int, str] = {}
    for statement in tree.body:
        if isinstance(statement, _FUNCTIONS):
            for part in statement.body:  # not its arguments: annotations run at def time
                for sub in ast.walk(part):
                    home[id(sub)] = statement.name
    return home


def _bound_by_import(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom):
        return {alias.asname or alias.name for alias in node.names}
    return set()


def own_code_findings(cells: Sequence[str], function: str, allow: Sequence[str] = (), *,
                      locked: Sequence[str] = ()) -> list[str]:
    """Why `function` may not be the student's own code, read from the notebook's source.

    Parameters
    ----------
    cells : sequence of str
        The sources of the code cells the student could write (solution cells and cells the
        student added, :func:`student_code_cells`), in notebook order. Findings call them
        "cell 1", "cell 2", ... in this order.
    function : str
        The name the graded function is called by, e.g. ``"he_normal"``.
    allow : sequence of str, default ()
        Names the student may import from weightinit, e.g. ``("compute_fans",)``.
    locked : sequence of str, default ()
        The sources of the instructor's locked cells that run in the kernel too
        (:func:`locked_code_cells`). Only the names they bind are used: a student's function
        that uses a name they import from weightinit (other than `allow`) is a finding; their
        own imports are not.

    Returns
    -------
    list of str
        One sentence per finding, naming what was found and where, and what to do about it;
        empty if the function is the student's own code. First what `function` itself is bound
        to and the weightinit names its code reaches (rules 1 and 2), then everything in the
        student's cells that could reach weightinit or other code without naming it (rule 3,
        the same for every function; "he_normal() uses ..." when it is in the code `function`
        reaches, "the notebook uses ..." otherwise). Cells with a syntax error are skipped:
        the kernel does not run them either.
    """
    allow = tuple(allow)
    allow_text = f" (you may use {', '.join(allow)})" if allow else ""
    parsed: list[_Cell] = []
    unreadable: list[str] = []
    for locked_flag, sources in ((True, locked), (False, cells)):
        for index, source in enumerate(sources):
            cell = _parse(index, source, locked_flag)
            if isinstance(cell, str):
                if not locked_flag:
                    unreadable.append(
                        f"cell {index + 1} could not be checked: {cell}. Split it into "
                        "simpler statements."
                    )
            elif cell is not None:
                parsed.append(cell)

    bindings: dict[str, list[_Binding]] = {}
    constructs: list[_Construct] = []
    run_now: set[str] = set()  # names read by code that runs when a cell runs
    home: dict[int, str] = {}  # construct in a function's body -> the function
    for cell in parsed:
        scopes = _Scopes(cell.tree)
        for binding in _bindings(cell, scopes):
            bindings.setdefault(binding.name, []).append(binding)
        run_now |= _module_level_reads(cell.tree)
        if not cell.locked:
            constructs.extend(_constructs(cell, scopes, allow))
            home.update(_home_function(cell.tree))

    reached, code = _walk_function(function, bindings, allow)
    findings = _rule_findings(function, reached, allow_text)
    cited = {b.site for b, _ in reached}

    # Which constructs are in the code the function reaches, and through which names.
    owner: dict[int, tuple[str, ...]] = {}
    for binding_list in bindings.values():
        for binding in binding_list:
            if binding.kind == "code" and binding.node is not None and id(binding.node) in code:
                chain = code[id(binding.node)]
                for sub in ast.walk(binding.node):
                    if id(sub) not in owner or len(owner[id(sub)]) > len(chain):
                        owner[id(sub)] = chain
    shown: set[tuple[int, int, str]] = set()
    constructs.sort(key=lambda c: (id(c.node) not in owner, c.site.cell, c.site.line))
    for construct in constructs:
        site = construct.site
        if id(construct.node) not in owner:
            # Not in the code `function` reaches. It still counts when it can run, or reach
            # `function`, some other way: at module level, or in a function that code run at
            # module level names. Two exceptions, so that one function's mistake costs only
            # that function: a construct in the body of a function nothing at module level
            # names, and a module-level import from weightinit whose names nothing at module
            # level reads (the functions that use them are found by rules 1 and 2).
            inside = home.get(id(construct.node))
            if inside is not None and inside not in run_now:
                continue
            if (inside is None and construct.hint == "library"
                    and isinstance(construct.node, (ast.Import, ast.ImportFrom))
                    and not (_bound_by_import(construct.node) & run_now)):
                continue
        if construct.what.startswith("imports") and site in cited:
            continue  # already named by rule 1 or 2
        if (site.cell, site.line, construct.hint) in shown:
            continue  # one finding of a kind per line is enough to fix it
        shown.add((site.cell, site.line, construct.hint))
        chain = owner.get(id(construct.node))
        if chain is None:
            who = "the notebook"
        elif chain:
            who = f"{function}() (through {', '.join(chain)})"
        else:
            who = f"{function}()"
        hint = construct.hint
        if hint == "library":
            may = (f"may import from weightinit only {', '.join(allow)}" if allow
                   else "may not import from weightinit")
            if not construct.what.startswith("imports"):
                may = "may not name weightinit"
            hint = (f"a submitted notebook {may}. {_LIBRARY_HINT}{allow_text}: compare with it "
                    "in another notebook.")
        findings.append(f"{who} {construct.what} in {site.where()}: {hint}")
    return list(dict.fromkeys([*findings, *unreadable]))
