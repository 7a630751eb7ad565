"""The judge against its peer, and its time limits against a busy machine.

Two measurements, written as Markdown to standard output (``make bench`` copies them into
benchmarks/RESULTS.md; run alone: ``.venv/bin/python benchmarks/bench_judge.py``):

1. **Autograde per submission, judge versus stock nbgrader.** One course folder, the same
   submissions (copies of the solution of each assignment), graded by ``nbgrader autograde``
   twice per run, interleaved: once with the course's configuration (the judge), once with the
   same configuration minus :func:`weightinit.grading.nbgrader.configure` (stock nbgrader 0.9:
   test cells run in the student's kernel). The ratio judge / stock is the judge's cost.
2. **Margins under load.** Every solution notebook judged (:func:`weightinit.grading.judge.run`)
   while ``--busy`` CPU-bound processes run beside it (two on this 2-core machine: the CPU is
   oversubscribed 2x). The slowest single call of a student function and the slowest student
   cell, against the judge's limits (``CALL_SECONDS``, ``CELL_SECONDS``): the margin a correct
   answer has.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ASSIGNMENTS = ("ex01-scaling", "ex03-initializers", "ex05-deep-signal")
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", PYTHONWARNINGS="ignore",
           OPENBLAS_NUM_THREADS="1")


def _stock_config(text: str) -> str:
    """The course's nbgrader_config.py without the judge: stock nbgrader's autograde."""
    return re.sub(r"^from weightinit\.grading\.nbgrader import configure.*$|^configure\(c\)$",
                  "", text, flags=re.M)


def _run(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return time.perf_counter() - start


def autograde(runs: int, students: int) -> dict[str, dict[str, list[float]]]:
    """assignment -> {"judge": [s/submission per run], "stock": [...]}."""
    out: dict[str, dict[str, list[float]]] = {}
    nbgrader = str(BIN / "nbgrader")
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
        configs = {"judge": config, "stock": _stock_config(config)}
        assert configs["stock"] != config, "could not take the judge out of nbgrader_config.py"
        for name in ASSIGNMENTS:
            shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name)
        (course / "nbgrader_config.py").write_text(config, encoding="utf-8")
        _run([nbgrader, "generate_assignment", "*", "--force"], course)
        for name in ASSIGNMENTS:
            source = course / "solutions" / name / f"{name}.ipynb"
            for i in range(students):
                folder = course / "submitted" / f"student{i:02d}" / name
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, folder / source.name)
            out[name] = {"judge": [], "stock": []}
        for _ in range(runs):
            for name in ASSIGNMENTS:
                for kind in ("stock", "judge"):
                    (course / "nbgrader_config.py").write_text(configs[kind], encoding="utf-8")
                    seconds = _run([nbgrader, "autograde", name, "--force"], course)
                    out[name][kind].append(seconds / students)
    return out


def _burn(stop) -> None:
    x = 0
    while not stop.is_set():
        x = (x * 1103515245 + 12345) % 2**31


def margins(busy: int) -> dict[str, dict]:
    """Every solution judged with `busy` CPU-bound processes running beside it."""
    import nbformat

    from weightinit.grading import judge
    from weightinit.grading.nbgrader import cell_kind as kind

    stop = multiprocessing.Event()
    hogs = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(busy)]
    for hog in hogs:
        hog.start()
    out = {}
    try:
        for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
            nb = nbformat.read(path, 4)
            cells = [{"index": i, "kind": kind(c), "source": c.source}
                     for i, c in enumerate(nb.cells) if kind(c)]
            start = time.perf_counter()
            result = judge.run({"cells": cells})
            failed = [i for i, r in result["cells"].items()
                      if any(o["output_type"] == "error" for o in r["outputs"])]
            out[path.stem] = {"seconds": time.perf_counter() - start, "failed": failed,
                              **result["slowest"], "calls": result["calls"]}
    finally:
        stop.set()
        for hog in hogs:
            hog.join()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--students", type=int, default=5)
    parser.add_argument("--busy", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args(argv)
    from weightinit.grading import judge

    grading = autograde(args.runs, args.students)
    load = margins(args.busy)
    lines = [f"Autograde per submission ({args.students} copies of each solution, median of "
             f"{args.runs} interleaved runs; stock = nbgrader 0.9's Execute, test cells in the "
             "student's kernel):", "",
             "| assignment | stock nbgrader (s) | judge (s) | judge / stock |", "|---|---|---|---|"]
    for name, times in grading.items():
        stock, mine = statistics.median(times["stock"]), statistics.median(times["judge"])
        lines.append(f"| {name} | {stock:.2f} | {mine:.2f} | {mine / stock:.2f}x |")
    lines += ["", f"Margins with {args.busy} CPU-bound processes beside the judge (limits: "
              f"{judge.CALL_SECONDS:.0f} s per call, {judge.CELL_SECONDS:.0f} s per cell):", "",
              "| solution | judged in (s) | slowest call (s) | call margin | slowest cell (s) "
              "| cell margin | failed cells |", "|---|---|---|---|---|---|---|"]
    for name, m in load.items():
        lines.append(
            f"| {name} | {m['seconds']:.1f} | {m['call']:.3f} | "
            f"{judge.CALL_SECONDS / max(m['call'], 1e-9):.0f}x | {m['cell']:.2f} | "
            f"{judge.CELL_SECONDS / max(m['cell'], 1e-9):.0f}x | {len(m['failed'])} |")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"autograde": grading, "margins": load}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
