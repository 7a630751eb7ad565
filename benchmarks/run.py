"""Benchmarks with targets, written as a table to benchmarks/RESULTS.md (run: `make bench`).

Each measurement is the median of several runs on this machine:

- clean book build: a fresh copy of the repository, nothing cached, `make book`'s command
  (`scripts/build_book.py -W -n`: `jupyter-book build`, chapters executed in parallel);
- rebuild with nothing changed: the same build again in that copy (execution cache hit);
- autograde time per submission: one assignment, ten submissions, one `nbgrader autograde`;
- propagation: weightinit.simulation.propagation against a bare numpy loop of the same matmuls;
- the full `make test` (one run: it is the slowest).

Targets (2-core machine): clean build <= 60 s, rebuild <= 10 s, autograde <= 3 s per submission,
propagation within 1.2x of bare numpy. A missed target is reported as missed, never hidden; none
of these is a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
ENV = {**os.environ, "MPLBACKEND": "Agg", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


#: `make book`'s environment (the Makefile's exports and OPENBLAS_NUM_THREADS), not ENV's Agg.
BOOK_ENV = {**{k: v for k, v in ENV.items() if k != "MPLBACKEND"}, "OPENBLAS_NUM_THREADS": "1",
            "MPLCONFIGDIR": str(BIN.parent / "matplotlib")}


def run(cmd: list[str], cwd: Path, timeout: float = 3600, env: dict | None = None) -> float:
    """Run `cmd`, fail loudly if it fails, return its wall time in seconds."""
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True,
                            timeout=timeout)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} failed in {cwd} (exit {result.returncode}):\n{tail}")
    return elapsed


def copy_repository(dest: Path) -> Path:
    """A copy of the tracked files (plus the vendored JavaScript the build serves)."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, files):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    if (ROOT / "_vendor").is_dir():
        shutil.copytree(ROOT / "_vendor", dest / "_vendor")
    return dest


def book_builds(runs: int) -> tuple[list[float], list[float]]:
    clean, rebuild = [], []
    build = [str(BIN / "python"), "scripts/build_book.py", ".", "-W", "-n", "--keep-going"]
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            repo = copy_repository(Path(tmp) / "repo")
            clean.append(run(build, repo, env=BOOK_ENV))
            rebuild.append(run(build, repo, env=BOOK_ENV))
    return clean, rebuild


def autograde_per_submission(runs: int, assignment: str = "ex03-initializers", students: int = 10):
    """Seconds per submission: one `nbgrader autograde` over `students` copies of the solution."""
    source = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    if not (ROOT / "nbgrader_config.py").is_file() or not source.is_file():
        return None
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            course = Path(tmp)
            shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
            shutil.copytree(ROOT / "solutions", course / "solutions")
            nbgrader = str(BIN / "nbgrader")
            run([nbgrader, "generate_assignment", assignment, "--force"], course)
            for i in range(students):
                folder = course / "submitted" / f"student{i:02d}" / assignment
                folder.mkdir(parents=True)
                shutil.copy2(source, folder / source.name)
            times.append(run([nbgrader, "autograde", assignment, "--force"], course) / students)
    return times


def propagation_ratio(runs: int):
    script = ROOT / "benchmarks" / "bench_propagation.py"
    if not script.is_file():
        return None
    out = subprocess.run(
        [sys.executable, str(script), "--json", "--repeat", str(runs)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def make_test() -> list[float]:
    return [run(["make", "test"], ROOT, timeout=5400)]


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import numpy

    return (
        f"{platform.node() or 'machine'}: {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {numpy.__version__}"
    )


def row(name: str, values: list[float] | None, unit: str, target: float | None, fmt="{:.1f}"):
    if not values:
        return f"| {name} | not measured (not available yet) | | |"
    median = statistics.median(values)
    runs = ", ".join(fmt.format(v) for v in values)
    verdict = "" if target is None else ("met" if median <= target else "**MISSED**")
    target_text = "" if target is None else f"<= {fmt.format(target)} {unit}"
    return f"| {name} | {fmt.format(median)} {unit} ({runs}) | {target_text} | {verdict} |"


def only_book(runs: int) -> int:
    """Re-measure the clean build and the rebuild; replace their two rows of RESULTS.md, each
    marked with the day and the machine of this measurement (the other rows keep theirs)."""
    clean, rebuild = book_builds(runs)
    when = f"measured {dt.date.today().isoformat()} with --only-book on {machine()}"
    rows = {"| clean book build": row(f"clean book build ({when})", clean, "s", 60.0),
            "| rebuild, nothing changed": row("rebuild, nothing changed (same run)", rebuild,
                                              "s", 10.0)}
    lines = RESULTS.read_text(encoding="utf-8").splitlines()
    for prefix, new in rows.items():
        at = [i for i, line in enumerate(lines) if line.startswith(prefix)]
        if not at:
            raise SystemExit(f"no row starting {prefix!r} in {RESULTS}: run `make bench` once")
        lines[at[0]] = new
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(rows.values()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--skip-make-test", action="store_true", help="skip the slowest one")
    parser.add_argument("--only-book", action="store_true",
                        help="measure the two book builds only and replace their rows")
    args = parser.parse_args(argv)
    if args.only_book:
        return only_book(args.runs)

    steps: dict[str, Callable[[], object]] = {
        "book": lambda: book_builds(args.runs),
        "autograde": lambda: autograde_per_submission(args.runs),
        "propagation": lambda: propagation_ratio(args.runs),
        "judge": lambda: subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "bench_judge.py"), "--runs",
             str(args.runs)], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True,
        ).stdout,
        "batch": lambda: subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "bench_batch.py")], cwd=ROOT, env=ENV,
            capture_output=True, text=True, check=True,
        ).stdout,
        "make test": (lambda: None) if args.skip_make_test else make_test,
    }
    results = {}
    for name, step in steps.items():
        print(f"bench: {name} ...", flush=True)
        results[name] = step()

    clean, rebuild = results["book"]
    prop = results["propagation"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (benchmarks/run.py) on {dt.date.today().isoformat()}.",
        f"Machine: {machine()}.",
        "Each value is the median of the runs in brackets (seconds unless stated).",
        "",
        "| measurement | median (runs) | target | verdict |",
        "|---|---|---|---|",
        row("clean book build", clean, "s", 60.0),
        row("rebuild, nothing changed", rebuild, "s", 10.0),
        row("autograde, per submission (10 x ex03)", results["autograde"], "s", 3.0, "{:.2f}"),
    ]
    if prop:
        lines.append(
            row("propagation / bare numpy (time ratio)", prop["ratios"], "x", 1.2, "{:.3f}")
        )
        lines.append(f"| &nbsp;&nbsp;{prop['description']} | | | |")
    else:
        lines.append(row("propagation / bare numpy (time ratio)", None, "x", 1.2))
    lines.append(row("full `make test`", results["make test"], "s", None, "{:.0f}"))
    lines += ["", "## The judge (benchmarks/bench_judge.py)", "", results["judge"].strip(), ""]
    lines += [results["batch"].strip(), ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
