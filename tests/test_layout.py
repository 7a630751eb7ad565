"""The package's layout is a contract: `lint-imports` (import-linter, configured in
pyproject.toml) passes on the tree as it is, and fails, naming the import, on a copy of the tree
with one layer-breaking import added. A contract that could not fail would check nothing.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "weightinit"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="lint-imports not installed")


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with the repository's contracts on the package found in `src`."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=src, env=env, capture_output=True, text=True, timeout=120,
    )


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# (file in the copy, line added to it, the contract's name, the import the report must name)
BREAKS = {
    "simulation imports a chapter": (
        "simulation/_probe.py", "from weightinit.chapters import depth\n",
        "Layers", "weightinit.simulation._probe -> weightinit.chapters.depth",
    ),
    "a formula imports the simulation": (
        "stats.py", "\nfrom weightinit.simulation import training\n",
        "The formulas import nothing else", "weightinit.stats -> weightinit.simulation.training",
    ),
    "grading imports a chapter": (
        "grading/_probe.py", "from weightinit.chapters.sums import arithmetic\n",
        "never the", "weightinit.grading._probe -> weightinit.chapters.sums.arithmetic",
    ),
    "the simulation draws": (
        "simulation/_probe.py", "import matplotlib.pyplot\n",
        "Only the chapters draw", "weightinit.simulation._probe -> matplotlib",
    ),
}


@pytest.mark.parametrize("case", BREAKS, ids=list(BREAKS))
def test_a_layer_breaking_import_fails_and_is_named(case, tmp_path):
    where, line, contract, named = BREAKS[case]
    copy = tmp_path / "weightinit"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / where, "a") as f:
        f.write(line)
    result = lint_imports(tmp_path)
    report = result.stdout + result.stderr
    assert result.returncode != 0, report
    assert named in report, report
    # the contract named for the concern is the one reported broken (another may break too)
    listing = " ".join(report.split())
    verdict = re.search(re.escape(contract) + r".*?\b(KEPT|BROKEN)\b", listing)
    assert verdict and verdict.group(1) == "BROKEN", report


def _imported_modules(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) of every import of weightinit in one file."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts[:-1]  # the package a relative import starts from (for __init__, itself)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] == "weightinit":
                found.append((node.lineno, module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "weightinit":
                    found.append((node.lineno, alias.name, []))
    return found


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_the_package_imports_its_modules_by_their_own_paths():
    """The old paths kept for released notebooks (``weightinit.training`` and the like) resolve
    only at run time, so the contracts cannot see an import through them: the package itself
    must name every module where it lives."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, module, names in _imported_modules(path):
            if not _is_module(module):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {module}")
                continue
            for name in names:
                # from weightinit import X: X is a module, or a name the root serves itself
                if module == "weightinit" and not _is_module(f"weightinit.{name}"):
                    if not _is_public_name(name):
                        wrong.append(f"{path.relative_to(ROOT)}:{line}: {module}.{name}")
    assert not wrong, "imports of modules that do not exist under that name:\n" + "\n".join(wrong)


def _is_public_name(name: str) -> bool:
    """A name the package root serves itself (``from weightinit import he_normal``)."""
    import weightinit

    return name in weightinit.__all__


def test_the_released_notebooks_old_paths_are_the_moved_modules():
    """ex06 as released imports ``weightinit.training`` and ``weightinit.datasets``; the judge's
    corpus ``weightinit.propagation``: each is the very module now in ``weightinit.simulation``."""
    import importlib

    import weightinit

    for old, new in [("training", "training"), ("datasets", "datasets"),
                     ("propagation", "propagation")]:
        module = importlib.import_module(f"weightinit.{old}")
        assert module is importlib.import_module(f"weightinit.simulation.{new}")
        assert module.__spec__.name == f"weightinit.simulation.{new}"
        assert getattr(weightinit, old) is module
    from weightinit.training import train, unit_spread  # noqa: F401  (ex06's own line)
