"""The categories of input of the notebooks' check calls, visible and hidden.

A student who passes every visible test should not lose points to a kind of input they never
saw. This module reads the test cells of ``solutions/<assignment>/<assignment>.ipynb`` with
:mod:`ast` (never running them), splits their check calls into visible and hidden ones by the
lines ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``, and gives each call a *category*:
the call with every argument replaced by its kind. ``tests/test_visible_preview.py`` asserts
that every hidden category has a visible call, and that ``tests/visible_hidden.md``, the table
written by ``python -m tests.grading.preview``, matches the notebooks.

The category of a check call is ``check(student_function, kind, ..., keyword=kind, ...)``: the
check's name, the student's function it checks, then the kind of each argument, positional and
keyword (in the order written), where the kind of an expression is

- a tuple of non-negative integers (a shape): ``k-D shape``, or ``empty shape`` for ``()``;
- a number, or an expression of numbers and ``math`` (``2 / 250``, ``math.sqrt(2)``):
  ``zero``, ``negative`` or ``positive``; ``True``, ``False`` and ``None`` are themselves;
- a string: the string itself (a mode, distribution, activation or scheme name), except the
  string a ``check_raises`` call expects the error to mention (its ``mentions=``), which is the
  rejected input and becomes ``rejected name`` wherever it occurs in that call;
- a list or tuple of numbers (layer sizes, per-column means): ``list of n positive`` (the
  length and the set of the numbers' kinds, e.g. ``list of 4 negative/positive/zero``);
  any other list or tuple: the kinds of its items, in brackets;
- any other call (data built by helper code, ``rng.normal(0.0, 3.0, size=5000)``): the called
  function's name (the receiver dropped: ``rng.normal`` and ``np.random.default_rng(8).normal``
  are both ``normal``) with the kinds of its arguments, ``normal(zero, positive, size=1-D
  shape)``;
- an arithmetic expression that is not only numbers: the kinds of its operands around the
  operator, ``normal(zero, positive, size=2-D shape) ** positive``;
- a name: the kind of the value last assigned to it earlier in the same cell (a loop variable
  over a literal tuple takes each item's kind in turn, and the call counts once per item);
  ``, with entries set`` is added after an item assignment ``y[:, 2] = ...``; a name not assigned
  in the cell (the student's function, ``ValueError``) is itself;
- anything else: its source text.

Seeds are not a category: the keyword ``seed=`` of a check and the arguments of ``default_rng``
are left out. Two calls differ only in their numbers (and seeds) when they have one category.
"""

from __future__ import annotations

import ast
import copy
import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "tests" / "visible_hidden.md"
BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
REGENERATE = "python -m tests.grading.preview"

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
        ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@"}


@dataclass(frozen=True)
class Call:
    """One check call of a test cell (one per item when it sits in a loop)."""

    assignment: str
    cell: str  # the test cell's grade id
    hidden: bool
    function: str  # the student's function it checks (its first argument)
    category: str
    source: str  # the call as written, a loop variable replaced by its item, the names'
    # assignments after a '#'
    numbers: str  # the call with every number as a float and no seed: equal means a copy


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _sign(value: float) -> str:
    return "zero" if value == 0 else ("negative" if value < 0 else "positive")


def _number(node: ast.AST) -> float | None:
    """The value of an expression of numbers and ``math`` alone, else None."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    if names - {"math"} or not isinstance(node, ast.Constant | ast.BinOp | ast.UnaryOp | ast.Call
                                          | ast.Attribute):
        return None
    try:
        value = eval(compile(ast.Expression(node), "<kind>", "eval"),  # noqa: S307
                     {"__builtins__": {}, "math": math})
    except Exception:  # noqa: BLE001 - not a number expression
        return None
    return float(value) if _is_number(value) else None


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else ast.unparse(func)


def kind(node: ast.AST, names: dict[str, str], rejected: str | None = None) -> str:
    """The kind of one argument (see the module's docstring)."""
    def k(n):
        return kind(n, names, rejected)

    number = _number(node)
    if number is not None:
        return _sign(number)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return "rejected name" if node.value == rejected else repr(node.value)
        return repr(node.value)
    if isinstance(node, ast.Tuple | ast.List):
        values = [_number(e) for e in node.elts]
        if isinstance(node, ast.Tuple) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, int) and e.value >= 0
            for e in node.elts
        ):
            return f"{len(node.elts)}-D shape" if node.elts else "empty shape"
        if node.elts and all(v is not None for v in values):
            signs = "/".join(sorted({_sign(v) for v in values}))
            return f"{'list' if isinstance(node, ast.List) else 'tuple'} of {len(values)} {signs}"
        items = ", ".join(k(e) for e in node.elts) + ("," if len(node.elts) == 1 else "")
        return f"[{items}]" if isinstance(node, ast.List) else f"({items})"
    if isinstance(node, ast.Call):
        if _callee(node) == "default_rng":
            return "default_rng()"
        parts = [k(a) for a in node.args]
        parts += [f"{w.arg}={k(w.value)}" for w in node.keywords if w.arg != "seed"]
        return f"{_callee(node)}({', '.join(parts)})"
    if isinstance(node, ast.BinOp):
        return f"{k(node.left)} {_OPS.get(type(node.op), '?')} {k(node.right)}"
    if isinstance(node, ast.Name):
        return names.get(node.id, node.id)
    return ast.unparse(node)


def _rejected(call: ast.Call) -> str | None:
    for w in call.keywords:
        if w.arg == "mentions" and isinstance(w.value, ast.Constant):
            return w.value.value
    return None


class _Numbers(ast.NodeTransformer):
    """Numbers as floats and no ``seed=``, so that 0 and 0.0 compare equal."""

    def visit_Constant(self, node):
        return ast.Constant(float(node.value)) if _is_number(node.value) else node

    def visit_Call(self, node):
        self.generic_visit(node)
        node.keywords = [w for w in node.keywords if w.arg != "seed"]
        return node


class _Values(ast.NodeTransformer):
    """Names replaced by the values assigned to them (``{name: node}``)."""

    def __init__(self, values: dict[str, ast.AST]):
        self.values = values

    def visit_Name(self, node):
        return copy.deepcopy(self.values[node.id]) if node.id in self.values else node


def _hidden_lines(source: str) -> set[int]:
    """The 1-based line numbers between the hidden-test markers."""
    hidden, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside:
            hidden.add(number)
    return hidden


def cell_calls(assignment: str, grade_id: str, source: str) -> list[Call]:
    """The check calls of one test cell, in order, visible and hidden."""
    hidden = _hidden_lines(source)
    out: list[Call] = []
    names: dict[str, str] = {}  # a name's kind
    values: dict[str, ast.AST] = {}  # a name's value as written, to tell copies apart
    written: dict[str, list[str]] = {}  # the statements that gave a name its value

    def visit(statements, substitutions=()):
        for stmt in statements:
            if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name) and isinstance(
                stmt.iter, ast.Tuple | ast.List
            ):
                for item in stmt.iter.elts:
                    names[stmt.target.id] = kind(item, names)
                    visit(stmt.body, (*substitutions, (stmt.target.id, item)))
                continue
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = kind(stmt.value, names)
                        values[target.id] = stmt.value
                        written[target.id] = [ast.unparse(stmt)]
                    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                        name = target.value.id
                        names[name] = f"{kind(target.value, names)}, with entries set"
                        values[name] = ast.Tuple([values.get(name, target.value), target.slice,
                                                  stmt.value], ast.Load())
                        written.setdefault(name, []).append(ast.unparse(stmt))
                continue
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # the cell's docstring
            if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
                raise ValueError(f"{assignment}/{grade_id}: a statement this module cannot "
                                 f"read: {ast.unparse(stmt)!r}")
            call = stmt.value
            for name, value in substitutions:
                call = _Values({name: value}).visit(copy.deepcopy(call))
            rejected = _rejected(call)
            parts = [kind(a, names, rejected) for a in call.args]
            parts += [f"{w.arg}={kind(w.value, names, rejected)}" for w in call.keywords
                      if w.arg != "seed"]
            used = [n.id for n in ast.walk(call) if isinstance(n, ast.Name) and n.id in written]
            where = "; ".join(line for name in dict.fromkeys(used) for line in written[name])
            out.append(Call(
                assignment=assignment,
                cell=grade_id,
                hidden=stmt.lineno in hidden,
                function=ast.unparse(call.args[0]) if call.args else "",
                category=f"{_callee(call)}({', '.join(parts)})",
                source=ast.unparse(call) + (f"  # {where}" if where else ""),
                numbers=ast.dump(_Numbers().visit(_Values(values).visit(copy.deepcopy(call)))),
            ))

    visit(ast.parse(source).body)
    return out


def notebook_calls(path: Path) -> list[Call]:
    """Every check call of the test cells (graded code cells that are not solutions)."""
    nb = nbformat.read(path, as_version=4)
    calls: list[Call] = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            calls += cell_calls(path.parent.name, meta["grade_id"], cell.source)
    return calls


def all_calls(root: Path = ROOT) -> list[Call]:
    """The check calls of every assignment under ``solutions/``."""
    calls: list[Call] = []
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        calls += notebook_calls(path)
    return calls


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(calls: list[Call]) -> str:
    """The Markdown table: one row per category of each assignment, in the notebook's order."""
    visible = Counter((c.assignment, c.category) for c in calls if not c.hidden)
    hidden = Counter((c.assignment, c.category) for c in calls if c.hidden)
    example = {}
    for c in calls:
        if not c.hidden:
            example.setdefault((c.assignment, c.category), c.source)
    lines = [
        "# Visible and hidden tests, by category of input",
        "",
        "Generated from the test cells of `solutions/*/*.ipynb` by "
        f"`{REGENERATE}` (run it from the repository's root with the venv's Python after "
        "changing a test cell); `tests/test_visible_preview.py` checks that this file is current "
        "and that every category with hidden calls has a visible call. The category of a check "
        "call is the call with each argument replaced by its kind (a shape by its number of "
        "dimensions, a number by its sign, a string by itself, data built by helper code by the "
        "call that builds it, seeds left out); `tests/grading/preview.py` defines it exactly.",
        "",
        "| assignment | function | category | visible | hidden | a visible call |",
        "|---|---|---|---|---|---|",
    ]
    seen = set()
    for c in calls:
        key = (c.assignment, c.category)
        if key in seen:
            continue
        seen.add(key)
        shown = f"`{_cell(example[key])}`" if key in example else "(none)"
        lines.append(f"| {c.assignment} | `{c.function}` | `{_cell(c.category)}` | "
                     f"{visible[key]} | {hidden[key]} | {shown} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Write tests/visible_hidden.md (or, with --check, say whether it is current)."""
    text = table(all_calls())
    if "--check" in argv:
        current = TABLE.exists() and TABLE.read_text() == text
        print(f"{TABLE.relative_to(ROOT)} is {'current' if current else 'out of date'}")
        return 0 if current else 1
    TABLE.write_text(text)
    print(f"wrote {TABLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
