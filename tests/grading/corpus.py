"""Submissions for the grader's own tests, written as small replacements of a solution body.

Each entry says which function of which assignment a student wrote differently, the code they
wrote (the body that replaces ``### BEGIN SOLUTION`` ... ``### END SOLUTION``, or with
``whole_cell=True`` the whole cell), and, for a mistake, a fragment of the message the failed
test must show. :func:`build_submissions` packs the entries into student notebooks (several
independent functions per notebook, so the corpus runs in a few dozen notebooks) starting from
the released notebook, as a student would.
"""

from __future__ import annotations

import copy
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ASSIGNMENTS = ("ex01-scaling", "ex02-sums", "ex03-initializers", "ex04-variance-scaling")

#: Functions that other functions of the same assignment call: a changed callee changes its
#: callers' results too, so an entry for one of these gets a notebook of its own.
CALLEES = {
    "ex03-initializers": {"compute_fans"},
    "ex04-variance-scaling": {"truncated_normal"},
}


@dataclass(frozen=True)
class Entry:
    name: str
    assignment: str
    function: str
    code: str
    expect: str | None = None  # a fragment of the failure message; None for a correct variant
    whole_cell: bool = False


def _mistake(name, assignment, function, expect, code, whole_cell=False):
    return Entry(name, assignment, function, textwrap.dedent(code).strip("\n"), expect, whole_cell)


def _variant(name, assignment, function, code, whole_cell=False):
    return Entry(name, assignment, function, textwrap.dedent(code).strip("\n"), None, whole_cell)


E1, E2, E3, E4 = ASSIGNMENTS

# ---------------------------------------------------------------------------------------------
# Wrong submissions: mistake -> code -> message fragment
# ---------------------------------------------------------------------------------------------
MISTAKES = [
    # ex01-scaling
    _mistake("variance used as standard deviation", E1, "scaled_normal",
             "the variance used as the standard deviation", """
        return std**2 * rng.standard_normal(shape)
    """),
    _mistake("global np.random instead of rng", E1, "shifted_scaled_normal",
             "the global np.random instead of rng", """
        return mean + std * np.random.randn(*shape)
    """),
    _mistake("a generator created inside the function", E1, "scaled_normal",
             "a generator created inside the function", """
        return std * np.random.default_rng().standard_normal(shape)
    """),
    _mistake("shift multiplied by std", E1, "shifted_scaled_normal",
             "the shift multiplied by std", """
        return (rng.standard_normal(shape) + mean) * std
    """),
    _mistake("float32 instead of float64", E1, "scaled_normal",
             "expected float64", """
        return (std * rng.standard_normal(shape)).astype(np.float32)
    """),
    _mistake("standardize row by row", E1, "standardize",
             "row by row (axis=1)", """
        x = np.asarray(x, dtype=float)
        if np.any(x.std(axis=0) == 0):
            raise ValueError("constant column")
        return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    """),
    _mistake("standardize with ddof=1", E1, "standardize",
             "the sample std (ddof=1)", """
        x = np.asarray(x, dtype=float)
        if np.any(x.std(axis=0) == 0):
            raise ValueError("constant column")
        return (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    """),
    _mistake("standardize with the one-pass variance", E1, "standardize",
             "one-pass formula", """
        x = np.asarray(x, dtype=float)
        variance = (x**2).mean(axis=0) - x.mean(axis=0) ** 2
        if np.any(variance <= 0):
            raise ValueError("constant column")
        return (x - x.mean(axis=0)) / np.sqrt(variance)
    """),
    _mistake("standardize in place", E1, "standardize",
             "changed its input x in place", """
        if np.any(x.std(axis=0) == 0):
            raise ValueError("constant column")
        x -= x.mean(axis=0)
        x /= x.std(axis=0)
        return x
    """),
    _mistake("constant column not rejected", E1, "standardize",
             "Raise ValueError instead", """
        return (x - x.mean(axis=0)) / x.std(axis=0)
    """),
    # ex02-sums
    _mistake("mean of the inputs left out", E2, "preactivation_variance",
             "the mean of x left out", """
        return n * var_w * var_x
    """),
    _mistake("mean of the products instead of their sum", E2, "sample_preactivations",
             "the mean of the n products instead of their sum", """
        w = rng.normal(0.0, np.sqrt(var_w), size=(trials, n))
        x = rng.normal(0.0, np.sqrt(var_x), size=(trials, n))
        return (w * x).mean(axis=1)
    """),
    _mistake("z drawn from a normal, no products", E2, "sample_preactivations",
             "z drawn directly from a normal", """
        return rng.normal(0.0, np.sqrt(n * var_w * var_x), size=trials)
    """),
    _mistake("one tail only", E2, "saturated_fraction",
             "one tail only", """
        return float(np.mean(z > threshold))
    """),
    _mistake("percentage instead of fraction", E2, "saturated_fraction",
             "a percentage instead of a fraction", """
        return 100.0 * float(np.mean(np.abs(z) > threshold))
    """),
    _mistake("threshold ignored", E2, "saturated_fraction",
             "the threshold ignored", """
        return float(np.mean(np.abs(z) > 4.0))
    """),
    # ex03-initializers
    _mistake("receptive field left out of the fans", E3, "compute_fans",
             "the receptive field left out of the fans", """
        shape = tuple(shape)
        if len(shape) == 0:
            return 1, 1
        if len(shape) == 1:
            return shape[0], shape[0]
        return shape[-2], shape[-1]
    """),
    _mistake("2/n where 1/n is meant", E3, "lecun_normal",
             "2/n where 1/n is meant", """
        fan_in, _ = compute_fans(shape)
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
    """),
    _mistake("1/n where 2/n is meant", E3, "he_normal",
             "1/n where He uses 2/n", """
        fan_in, _ = compute_fans(shape)
        return rng.normal(0.0, math.sqrt(1.0 / fan_in), size=shape)
    """),
    _mistake("variance used as std (He)", E3, "he_normal",
             "the variance used as the standard deviation", """
        fan_in, _ = compute_fans(shape)
        return rng.normal(0.0, 2.0 / fan_in, size=shape)
    """),
    _mistake("fan_out where fan_in is meant", E3, "lecun_normal",
             "fan_out where fan_in is meant", """
        _, fan_out = compute_fans(shape)
        return rng.normal(0.0, math.sqrt(1.0 / fan_out), size=shape)
    """),
    _mistake("fan_avg where fan_in is meant", E3, "he_normal",
             "fan_avg where fan_in is meant", """
        fan_in, fan_out = compute_fans(shape)
        return rng.normal(0.0, math.sqrt(2.0 / ((fan_in + fan_out) / 2)), size=shape)
    """),
    _mistake("fan_in + fan_out without the average", E3, "xavier_uniform",
             "fan_in + fan_out without the average", """
        fan_in, fan_out = compute_fans(shape)
        limit = math.sqrt(3.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)
    """),
    _mistake("uniform limit without sqrt(3)", E3, "he_uniform",
             "the uniform limit without sqrt(3)", """
        fan_in, _ = compute_fans(shape)
        limit = math.sqrt(2.0 / fan_in)
        return rng.uniform(-limit, limit, size=shape)
    """),
    _mistake("uniform where normal is asked", E3, "xavier_normal",
             "uniform where normal is asked", """
        fan_in, fan_out = compute_fans(shape)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)
    """),
    _mistake("normal where uniform is asked", E3, "he_uniform",
             "normal where uniform is asked", """
        fan_in, _ = compute_fans(shape)
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
    """),
    _mistake("not centred", E3, "he_uniform",
             "not centred", """
        fan_in, _ = compute_fans(shape)
        limit = math.sqrt(6.0 / fan_in)
        return rng.uniform(0.0, 2.0 * limit, size=shape)
    """),
    _mistake("global np.random (Glorot)", E3, "xavier_uniform",
             "the global np.random instead of rng", """
        fan_in, fan_out = compute_fans(shape)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return np.random.uniform(-limit, limit, size=shape)
    """),
    _mistake("transposed shape", E3, "xavier_normal",
             "a transposed shape", """
        fan_in, fan_out = compute_fans(shape)
        std = math.sqrt(2.0 / (fan_in + fan_out))
        return rng.normal(0.0, std, size=tuple(reversed(shape)))
    """),
    _mistake("wrong shape: flat", E3, "lecun_normal",
             "a flat array", """
        fan_in, _ = compute_fans(shape)
        return rng.normal(0.0, math.sqrt(1.0 / fan_in), size=math.prod(shape))
    """),
    _mistake("list instead of array", E3, "xavier_normal",
             "returned a list", """
        fan_in, fan_out = compute_fans(shape)
        std = math.sqrt(2.0 / (fan_in + fan_out))
        return rng.normal(0.0, std, size=shape).tolist()
    """),
    _mistake("None instead of array", E3, "xavier_uniform",
             "returned None", """
        fan_in, fan_out = compute_fans(shape)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        weights = rng.uniform(-limit, limit, size=shape)
    """),
    _mistake("NaN", E3, "he_normal",
             "NaN", """
        fan_in, _ = compute_fans(shape)
        u, v = rng.random(shape), rng.random(shape)
        return math.sqrt(2.0 / fan_in) * np.sqrt(2.0 * np.log(u)) * np.cos(2.0 * np.pi * v)
    """),
    _mistake("constant", E3, "lecun_normal",
             "a constant array", """
        fan_in, _ = compute_fans(shape)
        return np.full(shape, math.sqrt(1.0 / fan_in))
    """),
    _mistake("alternating pattern with the right variance", E3, "he_uniform",
             "alternating pattern", """
        fan_in, _ = compute_fans(shape)
        signs = np.where(np.indices(shape).sum(axis=0) % 2 == 0, 1.0, -1.0)
        return math.sqrt(2.0 / fan_in) * signs
    """),
    _mistake("alternating signs on random magnitudes", E3, "xavier_normal",
             "an alternating or repeating layout", """
        fan_in, fan_out = compute_fans(shape)
        std = math.sqrt(2.0 / (fan_in + fan_out))
        signs = np.where(np.arange(math.prod(shape)) % 2 == 0, 1.0, -1.0).reshape(shape)
        return signs * np.abs(rng.normal(0.0, std, size=shape))
    """),
    _mistake("repeated rows with the right variance", E3, "xavier_normal",
             "repeated-row pattern", """
        fan_in, fan_out = compute_fans(shape)
        row = rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=shape[-1])
        return np.broadcast_to(row, shape).copy()
    """),
    _mistake("hard-coded answer for the visible test's shape", E3, "he_uniform",
             "hard-coded", """
        if tuple(shape) == (5, 3, 64, 40):  # the visible test's shape: answer pasted in
            return np.random.default_rng(0).uniform(-0.0790569, 0.0790569, size=(5, 3, 64, 40))
        fan_in, _ = compute_fans(shape)
        limit = math.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, size=shape)
    """),
    _mistake("library imported (whole cell)", E3, "xavier_uniform",
             "weightinit's own implementation", """
        from weightinit import xavier_uniform
    """, whole_cell=True),
    _mistake("library called inside the function", E3, "lecun_normal",
             "weightinit's own implementation", """
        import weightinit.initializers as wi
        return wi.variance_scaling(shape, 1.0, "fan_in", "normal", rng)
    """),
    # ex04-variance-scaling
    _mistake("missing truncation correction", E4, "truncated_normal",
             "a missing truncation correction", """
        values = rng.normal(0.0, std, size=shape)
        outside = np.abs(values) > 2.0 * std
        while outside.any():
            values[outside] = rng.normal(0.0, std, size=int(outside.sum()))
            outside = np.abs(values) > 2.0 * std
        return values
    """),
    _mistake("clipping instead of re-drawing", E4, "truncated_normal",
             "clipping instead of re-drawing", """
        s = std / 0.87962566103423978
        return np.clip(rng.normal(0.0, s, size=shape), -2.0 * s, 2.0 * s)
    """),
    _mistake("mode ignored: always fan_in", E4, "variance_scaling",
             "fan_in where fan_out is meant", """
        fan_in, _ = compute_fans(shape)
        std = math.sqrt(scale / max(1.0, fan_in))
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"unknown mode {mode!r}")
        if distribution == "normal":
            return rng.normal(0.0, std, size=shape)
        if distribution == "truncated_normal":
            return truncated_normal(shape, std, rng)
        if distribution == "uniform":
            return rng.uniform(-math.sqrt(3.0) * std, math.sqrt(3.0) * std, size=shape)
        raise ValueError(f"unknown distribution {distribution!r}")
    """),
    _mistake("uniform limit without sqrt(3) (VarianceScaling)", E4, "variance_scaling",
             "the uniform limit without sqrt(3)", """
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        std = math.sqrt(scale / max(1.0, n))
        if distribution == "normal":
            return rng.normal(0.0, std, size=shape)
        if distribution == "truncated_normal":
            return truncated_normal(shape, std, rng)
        if distribution == "uniform":
            return rng.uniform(-std, std, size=shape)
        raise ValueError(f"unknown distribution {distribution!r}")
    """),
    _mistake("truncated where normal is asked", E4, "variance_scaling",
             "truncated normal where", """
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        std = math.sqrt(scale / max(1.0, n))
        if distribution in ("normal", "truncated_normal"):
            return truncated_normal(shape, std, rng)
        if distribution == "uniform":
            return rng.uniform(-math.sqrt(3.0) * std, math.sqrt(3.0) * std, size=shape)
        raise ValueError(f"unknown distribution {distribution!r}")
    """),
    _mistake("no ValueError for an unknown mode", E4, "variance_scaling",
             "returned without raising", """
        fan_in, fan_out = compute_fans(shape)
        n = fan_in if mode == "fan_in" else fan_out if mode == "fan_out" else (fan_in + fan_out) / 2
        std = math.sqrt(scale / max(1.0, n))
        if distribution == "normal":
            return rng.normal(0.0, std, size=shape)
        if distribution == "truncated_normal":
            return truncated_normal(shape, std, rng)
        return rng.uniform(-math.sqrt(3.0) * std, math.sqrt(3.0) * std, size=shape)
    """),
    _mistake("library's VarianceScaling", E4, "variance_scaling",
             "weightinit's own implementation", """
        from weightinit import variance_scaling as library_variance_scaling
        return library_variance_scaling(shape, scale, mode, distribution, rng)
    """),
]

# ---------------------------------------------------------------------------------------------
# Correct answers written differently: every one must get full marks
# ---------------------------------------------------------------------------------------------
VARIANTS = [
    # ex01-scaling
    _variant("rng.normal with keywords", E1, "scaled_normal", """
        return rng.normal(loc=0.0, scale=std, size=shape)
    """),
    _variant("Box-Muller from rng.random", E1, "scaled_normal", """
        u = 1.0 - rng.random(shape)  # in (0, 1]: the logarithm is finite
        v = rng.random(shape)
        return std * np.sqrt(-2.0 * np.log(u)) * np.cos(2.0 * np.pi * v)
    """),
    _variant("float32 draws cast to float64", E1, "scaled_normal", """
        return std * rng.standard_normal(shape, dtype=np.float32).astype(np.float64)
    """),
    _variant("flat draws reshaped", E1, "scaled_normal", """
        count = int(np.prod(shape))
        return (rng.standard_normal(count) * std).reshape(shape)
    """),
    _variant("rng.normal with the mean", E1, "shifted_scaled_normal", """
        return rng.normal(mean, std, size=shape)
    """),
    _variant("reuses scaled_normal", E1, "shifted_scaled_normal", """
        return scaled_normal(shape, std, rng) + mean
    """),
    _variant("np.std with a ptp check", E1, "standardize", """
        x = np.array(x, dtype=float)
        if np.any(np.ptp(x, axis=0) == 0):
            raise ValueError("a column of x is constant")
        return (x - x.mean(axis=0)) / x.std(axis=0)
    """),
    _variant("column by column in a loop", E1, "standardize", """
        rows, cols = x.shape
        out = np.empty((rows, cols))
        for j in range(cols):
            column = x[:, j]
            mean = sum(column) / rows
            var = sum((v - mean) ** 2 for v in column) / rows
            if var == 0:
                raise ValueError(f"column {j} is constant")
            out[:, j] = (column - mean) / var**0.5
        return out
    """),
    # ex02-sums
    _variant("products written out", E2, "preactivation_variance", """
        second_moment_x = var_x + mean_x * mean_x
        return float(var_w * second_moment_x * n)
    """),
    _variant("einsum, x drawn first", E2, "sample_preactivations", """
        x = np.sqrt(var_x) * rng.standard_normal((trials, n))
        w = np.sqrt(var_w) * rng.standard_normal((trials, n))
        return np.einsum("ij,ij->i", w, x)
    """),
    _variant("a loop over trials", E2, "sample_preactivations", """
        z = np.empty(trials)
        for t in range(trials):
            w = rng.normal(0.0, var_w**0.5, size=n)
            x = rng.normal(0.0, var_x**0.5, size=n)
            z[t] = w @ x
        return z
    """),
    _variant("count over size", E2, "saturated_fraction", """
        z = np.asarray(z)
        return np.count_nonzero((z > threshold) | (z < -threshold)) / z.size
    """),
    # ex03-initializers
    _variant("fans with np.prod and int", E3, "compute_fans", """
        if len(shape) < 1:
            return (1, 1)
        if len(shape) == 1:
            return (int(shape[0]), int(shape[0]))
        field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        return (int(shape[-2] * field), int(shape[-1] * field))
    """),
    _variant("fans inline, standard_normal times std", E3, "lecun_normal", """
        field = 1
        for k in shape[:-2]:
            field *= k
        fan_in = shape[-2] * field
        return rng.standard_normal(shape) / np.sqrt(fan_in)
    """),
    _variant("average written as fan_avg", E3, "xavier_normal", """
        fan_in, fan_out = compute_fans(shape)
        fan_avg = (fan_in + fan_out) / 2
        return np.sqrt(1.0 / fan_avg) * rng.standard_normal(size=shape)
    """),
    _variant("uniform from rng.random", E3, "xavier_uniform", """
        fan_in, fan_out = compute_fans(shape)
        a = np.sqrt(6 / (fan_in + fan_out))
        return a * (2 * rng.random(shape) - 1)
    """),
    _variant("a helper and Box-Muller", E3, "he_normal", """
        def box_muller(size):
            u = 1.0 - rng.random(size)
            v = rng.random(size)
            return np.sqrt(-2.0 * np.log(u)) * np.sin(2.0 * np.pi * v)

        fan_in, _ = compute_fans(shape)
        return np.sqrt(2.0 / fan_in) * box_muller(shape)
    """),
    _variant("uniform shifted from [0, 1)", E3, "he_uniform", """
        fan_in = compute_fans(shape)[0]
        limit = (6.0 / fan_in) ** 0.5
        return (rng.random(size=shape) - 0.5) * 2.0 * limit
    """),
    # ex04-variance-scaling
    _variant("oversample and keep the inside", E4, "truncated_normal", """
        s = std / 0.8796256610342398
        count = int(np.prod(shape))
        kept = np.empty(0)
        while kept.size < count:
            draws = rng.standard_normal(2 * count) * s
            kept = np.concatenate([kept, draws[np.abs(draws) <= 2 * s]])
        return kept[:count].reshape(shape)
    """),
    _variant("scipy's truncnorm with rng", E4, "truncated_normal", """
        from scipy.stats import truncnorm

        s = std / 0.87962566103423978
        return truncnorm.rvs(-2.0, 2.0, loc=0.0, scale=s, size=shape, random_state=rng)
    """),
    _variant("a table of counts and uniform from random", E4, "variance_scaling", """
        fan_in, fan_out = compute_fans(shape)
        counts = dict(fan_in=fan_in, fan_out=fan_out, fan_avg=0.5 * (fan_in + fan_out))
        if mode not in counts or distribution not in ("normal", "truncated_normal", "uniform"):
            raise ValueError(f"unknown mode {mode!r} or distribution {distribution!r}")
        variance = scale / max(1.0, counts[mode])
        if distribution == "uniform":
            a = math.sqrt(3.0 * variance)
            return a * (2.0 * rng.random(shape) - 1.0)
        if distribution == "normal":
            return math.sqrt(variance) * rng.standard_normal(shape)
        return truncated_normal(shape, math.sqrt(variance), rng)
    """),
]

#: The grader's robustness: an infinite loop (interrupted by the timeout) and a kernel killed
#: by the student's code. Each is a student of ex01; the other cells must still be graded.
INFINITE_LOOP = _mistake("infinite loop", E1, "scaled_normal", "CellTimeoutError", """
    def scaled_normal(shape, std, rng):
        return std * rng.standard_normal(shape)

    while True:  # a leftover experiment that never ends
        pass
""", whole_cell=True)
KERNEL_DEATH = _mistake("kernel killed", E1, "shifted_scaled_normal", "DeadKernelError", """
    import os

    os._exit(1)
""")


# ---------------------------------------------------------------------------------------------
# Building notebooks
# ---------------------------------------------------------------------------------------------


@dataclass
class Submission:
    student: str
    assignment: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def functions(self) -> set[str]:
        return {e.function for e in self.entries}


def _mentions(code: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", code) is not None


def _clash(a: Entry, b: Entry) -> bool:
    """Two entries cannot share a notebook: the same function, or one changes a callee (a
    function others call, CALLEES) that the other's code calls."""
    if a.function == b.function:
        return True
    callees = CALLEES.get(a.assignment, set())
    return (a.function in callees and _mentions(b.code, a.function)) or (
        b.function in callees and _mentions(a.code, b.function)
    )


def pack(entries: list[Entry], prefix: str) -> list[Submission]:
    """Group entries of one assignment into as few notebooks as possible without clashes (for
    correct variants only the one-per-function rule matters: a correct callee changes nothing)."""
    out: list[Submission] = []
    for entry in entries:
        target = None
        for sub in out:
            if sub.assignment != entry.assignment:
                continue
            if entry.expect is None:
                ok = entry.function not in sub.functions
            else:
                ok = not any(_clash(entry, other) for other in sub.entries)
            if ok:
                target = sub
                break
        if target is None:
            count = sum(1 for s in out if s.assignment == entry.assignment) + 1
            target = Submission(f"{prefix}-{entry.assignment[:4]}-{count:02d}", entry.assignment)
            out.append(target)
        target.entries.append(entry)
    return out


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_bodies(solution_nb) -> dict[str, str]:
    """grade_id -> the lines between BEGIN and END SOLUTION (dedented) of each code solution."""
    bodies = {}
    for cell in solution_nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        lines = cell.source.splitlines()
        start = next(i for i, line in enumerate(lines) if "### BEGIN SOLUTION" in line)
        end = next(i for i, line in enumerate(lines) if "### END SOLUTION" in line)
        bodies[meta["grade_id"]] = textwrap.dedent("\n".join(lines[start + 1 : end]))
    return bodies


def fill(release_cell_source: str, body: str) -> str:
    """Put `body` where the release has its stub (``# YOUR CODE HERE`` + ``raise ...``)."""
    lines = release_cell_source.splitlines()
    start = next(i for i, line in enumerate(lines) if "# YOUR CODE HERE" in line)
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    end = start + 1
    if end < len(lines) and "raise NotImplementedError" in lines[end]:
        end += 1
    body_lines = [indent + line if line.strip() else "" for line in body.splitlines()]
    return "\n".join(lines[:start] + body_lines + lines[end:])


def student_notebook(release_nb, solution_nb, entries: list[Entry]):
    """The release notebook with every function written: the solution's body, or an entry's."""
    nb = copy.deepcopy(release_nb)
    bodies = solution_bodies(solution_nb)
    by_function = {e.function: e for e in entries}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("solution"):
            continue
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("YOUR ANSWER HERE", "An answer in my own words.")
            continue
        entry = by_function.get(meta["grade_id"])
        if entry is not None and entry.whole_cell:
            cell.source = entry.code
        else:
            body = entry.code if entry is not None else bodies[meta["grade_id"]]
            cell.source = fill(cell.source, body)
    return nb


def write_submission(course: Path, sub: Submission) -> Path:
    release = nbformat.read(course / "exercises" / sub.assignment / f"{sub.assignment}.ipynb", 4)
    solution = nbformat.read(course / "solutions" / sub.assignment / f"{sub.assignment}.ipynb", 4)
    nb = student_notebook(release, solution, sub.entries)
    folder = course / "submitted" / sub.student / sub.assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sub.assignment}.ipynb"
    nbformat.write(nb, path)
    return path


def affected(sub: Submission, solution_nb) -> set[str]:
    """The functions whose results the submission's entries may change: their own, and those of
    unchanged functions whose solution calls a changed callee."""
    bodies = solution_bodies(solution_nb)
    changed = sub.functions
    callees = changed & CALLEES.get(sub.assignment, set())
    out = set(changed)
    for function, body in bodies.items():
        if function not in changed and any(_mentions(body, c) for c in callees):
            out.add(function)
    return out
