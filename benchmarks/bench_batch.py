"""Grading a class: ``make grade`` against stock nbgrader, on the same 40 submissions.

Run alone: ``.venv/bin/python benchmarks/bench_batch.py [--write]`` (``--write`` replaces this
benchmark's section of benchmarks/RESULTS.md); ``make bench`` runs it too.

One run grades the same submissions (correct and wrong ones of every assignment: the solution,
the correct variants and the mistakes of ``tests/grading/corpus.py``) in two course folders:

1. **stock**: nbgrader 0.9 as it ships (the course's configuration minus
   :func:`weightinit.grading.nbgrader.configure`: test cells run in the student's kernel),
   sequentially, as an instructor would run it: ``generate_assignment``, ``autograde``,
   ``generate_feedback``, ``export``;
2. **make grade**: ``python -m weightinit.grading.batch --jobs N`` (what ``make grade`` runs).

It checks that both give every submission the same score, and reports the wall time of each,
the ratio, the effective seconds per submission (wall time / submissions), a re-run with
nothing new, and where one submission's time goes (``_build/grading/timings.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_judge import _run, _stock_config  # noqa: E402  (the same runner and stock config)
from run import machine  # noqa: E402

BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", PYTHONWARNINGS="ignore",
           OPENBLAS_NUM_THREADS="1")
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- bench_batch: begin -->", "<!-- bench_batch: end -->"

#: Targets of issue 10: at least 4x faster than stock, at most 1 s per submission (2 cores).
TARGET_RATIO, TARGET_SECONDS = 4.0, 1.0


def submissions(count: int) -> list:
    """`count` submissions, spread over every assignment: solutions, variants, mistakes."""
    from tests.grading.corpus import ASSIGNMENTS, MISTAKES, VARIANTS, Submission

    per = {a: [Submission("", a, [])] for a in ASSIGNMENTS}
    for entry in [*VARIANTS, *MISTAKES]:
        if not entry.whole_cell and entry.assignment in per:
            per[entry.assignment].append(Submission("", entry.assignment, [entry]))
    out, i = [], 0
    while len(out) < count:
        for a in ASSIGNMENTS:
            pool = per[a]
            if len(out) < count:
                sub = pool[i % len(pool)]
                out.append(Submission(f"student{len(out):02d}", a, sub.entries))
        i += 1
    return out


def _course(folder: Path, subs: list, stock: bool) -> None:
    from tests.grading.corpus import write_submission

    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    folder.mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text(_stock_config(config) if stock else config)
    for name in sorted({s.assignment for s in subs}):
        shutil.copytree(ROOT / "solutions" / name, folder / "solutions" / name)
        shutil.copytree(ROOT / "exercises" / name, folder / "exercises" / name)
    for sub in subs:
        write_submission(folder, sub)


def _scores(folder: Path) -> dict[tuple[str, str], str]:
    with open(folder / "grades.csv", newline="", encoding="utf-8") as f:
        return {(r["student_id"], r["assignment"]): r["score"] for r in csv.DictReader(f)}


def stock(folder: Path) -> dict[str, float]:
    nbgrader = str(BIN / "nbgrader")
    out = {"release": _run([nbgrader, "generate_assignment", "*", "--force"], folder)}
    out["autograde"] = _run([nbgrader, "autograde", "*"], folder)
    out["feedback"] = _run([nbgrader, "generate_feedback", "*"], folder)
    out["export"] = _run([nbgrader, "export", "--to", "grades.csv"], folder)
    out["total"] = sum(out.values())
    return out


def _machine_busy() -> tuple[int, int]:
    """(all, idle) jiffies of the machine so far (/proc/stat; idle counts I/O wait)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]


def _role(proc, roles: dict[int, str], root: int) -> str:
    """Which part of `make grade` a process is: the writer (and its helpers), the forkserver, a
    worker, a judge (forked by a worker), or a student's kernel (bubblewrap and ipykernel)."""
    import psutil

    try:
        cmd = " ".join(proc.cmdline())
        parent = roles.get(proc.ppid(), "")
    except psutil.Error:
        return "ended before it was sampled"
    if "ipykernel" in cmd or cmd.startswith(("bwrap", "prlimit")) or parent == "kernels":
        return "kernels"
    if proc.pid == root or parent == "writer" and "forkserver" not in cmd:
        return "writer"
    return {"writer": "forkserver", "forkserver": "workers", "workers": "judges"}.get(parent,
                                                                                    "writer")


def cpu_by_role(cmd: list[str], folder: Path) -> dict[str, float]:
    """Run `cmd` and sample the CPU seconds of its processes by role every 0.1 s (CPU a process
    spends after its last sample is missed: a slight undercount). Also the wall time, and the CPU
    seconds the whole machine spent meanwhile (other users' load included)."""
    import psutil

    machine0 = _machine_busy()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=folder, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    roles: dict[int, str] = {}
    cpu: dict[int, float] = {}
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            for p in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    if p.pid not in roles:
                        roles[p.pid] = _role(p, roles, proc.pid)
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
        time.sleep(0.1)
    wall = time.perf_counter() - start
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    machine1 = _machine_busy()
    out = {"total": wall}
    for pid, seconds in cpu.items():
        role = roles.get(pid, "ended before it was sampled")
        out[f"cpu {role}"] = out.get(f"cpu {role}", 0.0) + seconds
    ticks = os.sysconf("SC_CLK_TCK")
    out["cpu machine"] = ((machine1[0] - machine0[0]) - (machine1[1] - machine0[1])) / ticks
    return out


def batch(folder: Path, jobs: int) -> dict[str, float]:
    cmd = [sys.executable, "-m", "weightinit.grading.batch", "--jobs", str(jobs)]
    return {**cpu_by_role(cmd, folder), "rerun": _run(cmd, folder)}


def breakdown(folder: Path) -> dict[str, float]:
    """Median seconds per phase of one submission, from the run's timings."""
    timings = json.loads((folder / "_build" / "grading" / "timings.json").read_text())
    phases = sorted({k for t in timings.values() for k in t})
    return {p: statistics.median(t.get(p, 0.0) for t in timings.values()) for p in phases}


def one_notebook() -> dict[str, float]:
    """The judge's phases for one notebook (ex03's solution) run alone, its kernel started
    on the spot (in `make grade` the kernel is started ahead, while the previous notebook is
    judged, so its start is hidden from the notebook's time but not from the CPU)."""
    import nbformat

    from weightinit.grading import judge
    from weightinit.grading.nbgrader import job_of

    nb = nbformat.read(ROOT / "solutions" / "ex03-initializers" / "ex03-initializers.ipynb", 4)
    start = time.perf_counter()
    seconds = judge.run(job_of(nb, str(ROOT)))["seconds"]
    return {**seconds, "total": time.perf_counter() - start}


def imports() -> dict[str, float]:
    """Seconds to start Python and import what a kernel and the checks need (median of 3)."""
    out = {}
    for name, code in (("python", "pass"), ("numpy", "import numpy"),
                       ("numpy + scipy.stats", "import numpy, scipy.stats"),
                       ("ipykernel", "import ipykernel.kernelapp"),
                       ("the checks", "import weightinit.checks")):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=ENV, check=True)
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    return out


def report(n: int, jobs: int, st: dict, mine: dict, agree: tuple[int, list], phases: dict,
           imp: dict, alone: dict) -> str:
    ratio = st["total"] / mine["total"]
    per = mine["total"] / n
    same, differ = agree
    lines = [
        BEGIN,
        "## Grading a class (benchmarks/bench_batch.py)",
        "",
        f"Run on {dt.date.today().isoformat()}; machine: {machine()}. {n} submissions (solutions, "
        "correct variants and mistakes of every assignment), graded from scratch in two course "
        f"folders: stock nbgrader 0.9 sequentially, and `make grade` with {jobs} workers.",
        "",
        "| measurement | stock nbgrader | make grade | target | verdict |",
        "|---|---|---|---|---|",
        f"| wall time, {n} submissions (release, autograde, feedback, CSV) | {st['total']:.1f} s "
        f"| {mine['total']:.1f} s | | |",
        f"| speed-up (stock / make grade) | | {ratio:.2f}x | >= {TARGET_RATIO:.0f}x | "
        f"{'met' if ratio >= TARGET_RATIO else '**MISSED**'} |",
        f"| seconds per submission (wall / {n}) | {st['total'] / n:.2f} s | {per:.2f} s | "
        f"<= {TARGET_SECONDS:.1f} s | {'met' if per <= TARGET_SECONDS else '**MISSED**'} |",
        f"| re-run with nothing new | | {mine['rerun']:.2f} s | <= 5 s | "
        f"{'met' if mine['rerun'] <= 5 else '**MISSED**'} |",
        f"| same score as stock | | {same} of {same + len(differ)} | all | "
        f"{'met' if not differ else '**MISSED**'} |",
        "",
        f"Stock nbgrader's steps: release {st['release']:.1f} s, "
        f"autograde {st['autograde']:.1f} s, feedback {st['feedback']:.1f} s, "
        f"export {st['export']:.1f} s.",
    ]
    if differ:
        lines += ["", "Scores that differ (student, assignment: stock, make grade): "
                  + "; ".join(f"{k[0]}/{k[1]}: {a}, {b}" for k, a, b in differ) + "."]
    lines += ["", "Where one submission's time goes in `make grade` (median over the run, "
              "seconds; judge phases are inside the judge's time; the writer's autograde is the "
              "only step that is not parallel; wall-clock seconds, so they include waiting for "
              "a core):",
              "", "| phase | seconds |", "|---|---|"]
    lines += [f"| {p} | {s:.3f} |" for p, s in phases.items()]
    kernel = alone.get("kernel started", 0.0)
    cores = os.cpu_count() or 1
    roles = {k[4:]: v for k, v in mine.items() if k.startswith("cpu ") and k != "cpu machine"}
    ours = sum(roles.values())
    largest = max(roles, key=roles.get)
    lines += ["", f"One notebook judged alone (ex03's solution, {alone['total']:.2f} s): kernel "
              f"start {kernel:.2f} s, student's cells {alone.get('cells run', 0):.2f} s, checks "
              f"{alone.get('tests judged', 0):.2f} s.", "",
              "CPU seconds of `make grade`'s processes over the whole run (sampled every 0.1 s), "
              f"and per submission (/ {n}):", "", "| process | CPU s | per submission |",
              "|---|---|---|"]
    lines += [f"| {role} | {sec:.1f} | {sec / n:.2f} |" for role, sec in sorted(roles.items())]
    lines += [f"| all of make grade | {ours:.1f} | {ours / n:.2f} |",
              f"| the whole machine meanwhile (other users included) | {mine['cpu machine']:.1f} "
              f"| {mine['cpu machine'] / n:.2f} |"]
    met = (ratio >= TARGET_RATIO) + (per <= TARGET_SECONDS)
    verdict = ("both speed targets are met", "one speed target is met, one missed",
               "both speed targets are missed")[2 - met]
    lines += ["", f"What bounds it: CPU. `make grade` spent {ours / n:.2f} CPU s per submission "
              f"(writer: release, autograde, CSV; workers: staging, sanitizing, feedback pages; "
              f"judges: the checks and the calls; kernels: starting, the student's cells and "
              f"functions), so on {cores} cores it cannot go below {ours / n / cores:.2f} s per "
              f"submission; it took {per:.2f} s, with the machine busy "
              f"{mine['cpu machine'] / (mine['total'] * cores):.0%} of the time. Hence {verdict}: "
              f"{TARGET_SECONDS:.1f} s per submission needs at most "
              f"{TARGET_SECONDS * cores:.1f} CPU s each; the largest share is the {largest}' "
              f"({roles[largest] / n:.2f} s per submission)."]
    lines += ["", "Starting Python and importing (median of 3, seconds):", "",
              "| what | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in imp.items()]
    lines.append(END)
    return "\n".join(lines)


def write(section: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    subs = submissions(args.submissions)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _course(root / "stock", subs, stock=True)
        _course(root / "batch", subs, stock=False)
        st = stock(root / "stock")
        mine = batch(root / "batch", args.jobs)
        a, b = _scores(root / "stock"), _scores(root / "batch")
        keys = sorted({(s.student, s.assignment) for s in subs})
        differ = [(k, a.get(k), b.get(k)) for k in keys
                  if a.get(k) is None or b.get(k) is None or float(a[k]) != float(b[k])]
        section = report(len(subs), args.jobs, st, mine, (len(keys) - len(differ), differ),
                         breakdown(root / "batch"), imports(), one_notebook())
    print(section)
    if args.write:
        write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
