"""Measure the false-failure rate of the graded exercises' checks: run every seeded check call of
every solution notebook's test cells (visible and hidden) against the solution's own functions,
over many seeds, and count failures. Every band is set at a false-failure probability of at most
1e-9, so the expected count is zero.

    .venv/bin/python benchmarks/false_failure.py            # 200 seeds per call, 2 processes
    .venv/bin/python benchmarks/false_failure.py --seeds 20

Prints one line per check function (calls run, failures) and the total; exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import math
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
#: Every assignment of the course: the folders of solutions/.
ASSIGNMENTS = tuple(sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()))

#: The checks that take a seed: those that draw random numbers from the student's function, and
#: ex05's, whose seed draws the input batch and the weights (over many seeds they measure that
#: the float64 tolerance holds for any arrays, not only for the notebook's).
SEEDED = {
    "check_array",
    "check_uses_rng",
    "check_variance",
    "check_samples",
    "check_initializer",
    "check_truncated_normal",
    "check_variance_scaling",
    "check_sample_preactivations",
    "check_forward_stds",
    "check_backward_stds",
    "check_init_mlp_shapes",
    "check_init_mlp_biases",
    "check_init_mlp_variance",
    "check_init_mlp_rng",
    "check_init_mlp_symmetry",
    "check_orthogonal",
    "check_orthogonal_rng",
    "check_orthogonal_haar",
    # ex08-lsuv
    "check_lsuv_shapes",
    "check_lsuv_unit_std",
    "check_lsuv_fresh_batch",
    "check_lsuv_orthogonal",
    "check_lsuv_rng",
}


def _load(assignment: str) -> tuple[dict, list[ast.Call]]:
    """The namespace after running the setup and solution cells, and the seeded check calls of
    the test cells (hidden tests included)."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
    namespace: dict = {"__name__": "__main__"}
    calls: list[ast.Call] = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("grade") and not meta.get("solution"):
            for node in ast.walk(ast.parse(cell.source)):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in SEEDED
                ):
                    calls.append(node)
        else:  # setup, solutions, and any demonstration cell (its printing is not wanted)
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell.source, f"<{assignment}>", "exec"), namespace)  # noqa: S102
    return namespace, calls


def _with_seed(call: ast.Call, seed: int):
    keywords = [k for k in call.keywords if k.arg != "seed"]
    keywords.append(ast.keyword(arg="seed", value=ast.Constant(seed)))
    node = ast.Call(func=call.func, args=call.args, keywords=keywords)
    return compile(ast.fix_missing_locations(ast.Expression(node)), "<call>", "eval")


def _run(job: tuple[str, int, int]) -> tuple[str, Counter, Counter, list[str]]:
    assignment, first, last = job
    namespace, calls = _load(assignment)
    runs, fails, messages = Counter(), Counter(), []
    for seed in range(first, last):
        for call in calls:
            name = call.func.id
            runs[name] += 1
            try:
                eval(_with_seed(call, 1_000_003 * seed + 17), namespace)  # noqa: S307
            except AssertionError as exc:
                fails[name] += 1
                messages.append(f"{assignment} {ast.unparse(call)} seed {seed}: {exc}")
    return assignment, runs, fails, messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=200, help="seeds per check call")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    chunk = max(1, math.ceil(args.seeds / (4 * args.jobs)))
    jobs = [
        (a, s, min(s + chunk, args.seeds)) for a in ASSIGNMENTS for s in range(0, args.seeds, chunk)
    ]
    start = time.perf_counter()
    runs, fails, messages = Counter(), Counter(), []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for _, r, f, m in pool.map(_run, jobs):
            runs += r
            fails += f
            messages += m
    seconds = time.perf_counter() - start
    print(f"False failures of the exercise checks: {args.seeds} seeds per call, {seconds:.0f} s")
    print(f"{'check':32s} {'calls':>8s} {'failures':>9s}")
    for name in sorted(runs):
        print(f"{name:32s} {runs[name]:8d} {fails[name]:9d}")
    total, failed = sum(runs.values()), sum(fails.values())
    print(f"{'total':32s} {total:8d} {failed:9d}")
    print(
        f"(each band allows at most 1e-9 per call: expected failures <= {total * 1e-9 * 10:.1e}, "
        "counting about ten bands per call)"
    )
    for line in messages[:20]:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
