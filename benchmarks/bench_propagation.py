"""Benchmark: weightinit.simulation.propagation.propagate against a bare numpy loop.

Both run the forward pass ``z = h @ W``, ``h = f(z)`` through every layer and the backward pass
``dz = dh * f'(z)``, ``dW = h_prev.T @ dz``, ``dh = dz @ W.T`` (the same ``3L - 1`` matrix
products, float64); :func:`propagate` also records every layer's statistics and the theory.
Target: ``propagate`` within 1.2x of the bare loop for 50 layers of width 1024 on a batch of 1024.

Runs are interleaved (bare, propagate with histograms, propagate without, matmuls only) so that a
noisy neighbour slows all of them alike; each time is the median of ``--repeat`` runs.

    .venv/bin/python benchmarks/bench_propagation.py            # 50 x 1024 x 1024
    .venv/bin/python benchmarks/bench_propagation.py --quick    # 20 x 512 x 512
    .venv/bin/python benchmarks/bench_propagation.py --json     # last line: JSON for run.py

No timing is asserted anywhere: this script reports, it does not fail on a slow machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time

import numpy as np

from weightinit.initializers import he_normal, xavier_normal
from weightinit.simulation.propagation import propagate

TARGET = 1.2


def bare_loop(x: np.ndarray, weights: list[np.ndarray], g: np.ndarray, activation: str) -> None:
    """The plain forward and backward pass: what any implementation has to compute."""
    hs = [x]
    for w in weights:
        z = hs[-1] @ w
        hs.append(np.maximum(z, 0.0) if activation == "relu" else np.tanh(z))
    dh = g
    for i in range(len(weights) - 1, -1, -1):
        if activation == "relu":
            dz = dh * (hs[i + 1] > 0)
        else:
            dz = dh * (1.0 - hs[i + 1] ** 2)
        dw = hs[i].T @ dz  # noqa: F841  (computed, as in training, then dropped)
        if i > 0:
            dh = dz @ weights[i].T


def matmuls_only(x: np.ndarray, weights: list[np.ndarray], g: np.ndarray) -> None:
    """Only the 3L - 1 matrix products (a lower bound no implementation can beat)."""
    hs = [x]
    for w in weights:
        hs.append(hs[-1] @ w)
    dh = g
    for i in range(len(weights) - 1, -1, -1):
        dw = hs[i].T @ dh  # noqa: F841
        if i > 0:
            dh = dh @ weights[i].T


def timed(fn) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 layers of width 512, batch 512")
    parser.add_argument("--repeat", type=int, default=5, help="runs per variant (median)")
    parser.add_argument("--depth", type=int, default=None)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--activation", choices=("relu", "tanh"), default="relu")
    parser.add_argument("--json", action="store_true", help="also print a JSON summary line")
    args = parser.parse_args(argv)
    depth, width, batch = (20, 512, 512) if args.quick else (50, 1024, 1024)
    depth = args.depth or depth
    width = args.width or width
    batch = args.batch or batch
    act = args.activation

    rng = np.random.default_rng(20150206)
    init = he_normal if act == "relu" else xavier_normal
    weights = [init((width, width), rng) for _ in range(depth)]
    x = rng.standard_normal((batch, width))
    g = rng.standard_normal((batch, width))

    variants = {
        "bare numpy loop": lambda: bare_loop(x, weights, g, act),
        "propagate, histograms": lambda: propagate(x, weights, act, grad_output=g),
        "propagate, no histograms": lambda: propagate(
            x, weights, act, grad_output=g, histograms=False
        ),
        "matrix products only": lambda: matmuls_only(x, weights, g),
    }
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    for fn in variants.values():  # warm-up: page in the memory, load BLAS threads
        fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeat):
        for name, fn in variants.items():
            wall, used = timed(fn)
            times[name].append(wall)
            cpu[name].append(used)

    def paired(name: str, table: dict[str, list[float]]) -> list[float]:
        return [a / b for a, b in zip(table[name], table["bare numpy loop"], strict=True)]

    ratios = paired("propagate, histograms", times)
    ratios_nohist = paired("propagate, no histograms", times)
    median_bare = statistics.median(times["bare numpy loop"])
    median_bare_cpu = statistics.median(cpu["bare numpy loop"])
    description = (
        f"{depth} layers of width {width}, batch {batch}, {act}, float64, "
        f"median of {args.repeat} interleaved runs"
    )
    print(f"# propagation benchmark, {dt.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {platform.node() or 'machine'}: {machine()}")
    print(f"load average before: {load}")
    print(f"size: {description}")
    print()
    print(
        f"| {'variant':<26} | {'wall s':>7} | {'/ bare':>6} | {'min s':>7} "
        f"| {'CPU s':>7} | {'/ bare':>6} | wall runs (s)"
    )
    print(f"|{'-' * 28}|{'-' * 9}|{'-' * 8}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 30}")
    for name, values in times.items():
        med, med_cpu = statistics.median(values), statistics.median(cpu[name])
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(
            f"| {name:<26} | {med:7.3f} | {med / median_bare:6.3f} | {min(values):7.3f} "
            f"| {med_cpu:7.3f} | {med_cpu / median_bare_cpu:6.3f} | {runs}"
        )
    print()
    ratio = statistics.median(ratios)
    verdict = "met" if ratio <= TARGET else "MISSED"
    print(
        f"ratio propagate / bare loop (median of paired wall-clock runs): {ratio:.3f} with "
        f"histograms, {statistics.median(ratios_nohist):.3f} without; target <= {TARGET}: "
        f"{verdict}"
    )
    cpu_ratio = statistics.median(paired("propagate, histograms", cpu))
    cpu_ratio_nohist = statistics.median(paired("propagate, no histograms", cpu))
    print(
        f"same in CPU time (less sensitive to other processes): {cpu_ratio:.3f} with "
        f"histograms, {cpu_ratio_nohist:.3f} without"
    )
    if args.json:
        summary = {
            "description": description,
            "ratios": ratios,
            "ratios_no_histograms": ratios_nohist,
            "times": times,
            "cpu_times": cpu,
            "target": TARGET,
        }
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
