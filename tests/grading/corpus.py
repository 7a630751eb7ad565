"""Submissions for the grader's own tests, written as small replacements of a solution body.

Each entry says which function of which assignment a student wrote differently, the code they
wrote (the body that replaces ``### BEGIN SOLUTION`` ... ``### END SOLUTION``, or with
``whole_cell=True`` the whole cell, or with ``patch`` a few lines of the solution's body changed),
and, for a mistake, a fragment of the message the failed test must show. :func:`pack` groups the
entries into student notebooks (several independent functions per notebook, and several patches
of one function when they touch different test cells, so the corpus runs in a few dozen
notebooks), and :func:`student_notebook` writes each one starting from the released notebook, as a
student would.
"""

from __future__ import annotations

import copy
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ASSIGNMENTS = (
    "ex01-scaling",
    "ex02-sums",
    "ex03-initializers",
    "ex04-variance-scaling",
    "ex05-deep-signal",
    "ex06-training",
    "ex07-orthogonal",
    "ex08-lsuv",
)

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
    #: (old, new) replacements in the solution's body, instead of `code`; each `old` occurs once.
    patch: tuple[tuple[str, str], ...] = ()
    #: The test cells (grade ids) the entry may fail; empty: every test of its function.
    cells: tuple[str, ...] = ()

    @property
    def touches(self) -> tuple[str, ...]:
        """Grade ids, or function names standing for all their tests, that the entry may fail."""
        return self.cells or (self.function,)


def _mistake(name, assignment, function, expect, code, whole_cell=False):
    return Entry(name, assignment, function, textwrap.dedent(code).strip("\n"), expect, whole_cell)


def _patch(name, assignment, function, expect, cells, *replacements):
    """A mistake made by changing a few lines of the solution: `replacements` are (old, new)
    pairs of the solution's (dedented) body; `cells` the test cells it may fail (all of the
    function's when empty)."""
    pairs = tuple((textwrap.dedent(o).strip("\n"), textwrap.dedent(n).strip("\n"))
                  for o, n in replacements)
    return Entry(name, assignment, function, "", expect, patch=pairs, cells=tuple(cells))


def _variant(name, assignment, function, code, whole_cell=False):
    return Entry(name, assignment, function, textwrap.dedent(code).strip("\n"), None, whole_cell)


E1, E2, E3, E4, E5, E6, E7, E8 = ASSIGNMENTS

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
    # Issue 11's student: right for the dense and 4-D kernels the visible tests once showed alone,
    # wrong for a 1-D convolution's 3-D kernel (and a 5-D one), which only hidden tests used.
    _mistake("fans of 2-D convolutions only", E3, "compute_fans",
             "for a convolution kernel the channels are the last two", """
        if len(shape) == 0:
            return 1, 1
        if len(shape) == 1:
            return shape[0], shape[0]
        if len(shape) == 4:  # a convolution kernel (kh, kw, in, out)
            receptive_field = shape[0] * shape[1]
            return shape[2] * receptive_field, shape[3] * receptive_field
        return shape[0], shape[1]
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
    # ex05-deep-signal: calculate_gain
    _patch("relu's variance factor 2 as the gain", E5, "calculate_gain",
           "He's variance factor 2 instead of its square root", ["calculate_gain_table"],
           ("return math.sqrt(2.0)\n", "return 2.0\n")),
    _patch("leaky_relu with a where a**2 is meant", E5, "calculate_gain",
           "a where a**2 is meant", ["calculate_gain_leaky_relu"],
           ("return math.sqrt(2.0 / (1.0 + slope**2))", "return math.sqrt(2.0 / (1.0 + slope))")),
    _patch("no ValueError for an unknown activation", E5, "calculate_gain",
           "returned without raising", ["calculate_gain_rejects"],
           ("""
            raise ValueError(
                f"activation must be one of {', '.join(linear_like)}, tanh, relu, leaky_relu, "
                f"selu; got {activation!r}"
            )
            """, "return 1.0  # anything else: treated as linear")),
    _patch("tanh's gain rounded", E5, "calculate_gain",
           "That is the gain rounded", ["calculate_gain_table"],
           ("return 5.0 / 3.0", "return 1.667")),
    _patch("leaky_relu's default slope 0", E5, "calculate_gain",
           "the negative slope left out", ["calculate_gain_leaky_relu"],
           ("slope = 0.01 if param is None else param", "slope = param or 0.0")),
    _patch("selu's gain 1", E5, "calculate_gain",
           "PyTorch's table gives selu 3/4", ["calculate_gain_table"],
           ("return 3.0 / 4.0", "return 1.0")),
    _mistake("library's calculate_gain (whole cell)", E5, "calculate_gain",
             "weightinit's own implementation", """
        from weightinit import calculate_gain
    """, whole_cell=True),
    # ex05-deep-signal: forward_stds
    _patch("std of z instead of h", E5, "forward_stds",
           "the std of the pre-activations z_l", [],
           ("""
            h = act(h @ W)
            stds.append(float(np.std(h)))
            """, """
            z = h @ W
            h = act(z)
            stds.append(float(np.std(z)))
            """)),
    _patch("variances instead of stds", E5, "forward_stds",
           "the variance (np.var) instead of the standard deviation", [],
           ("stds.append(float(np.std(h)))", "stds.append(float(np.var(h)))")),
    _patch("input layer included", E5, "forward_stds",
           "the input layer included", [],
           ("stds = []", "stds = [float(np.std(x))]")),
    _patch("last layer left out (off by one)", E5, "forward_stds",
           "the last layer left out", [],
           ("for W in weights:", "for W in weights[:-1]:")),
    _patch("input centred in place", E5, "forward_stds",
           "changed the values of x in place", [],
           ("h = x\n", "x -= x.mean(axis=0)  # centre the batch first\nh = x\n")),
    _patch("std with ddof=1", E5, "forward_stds",
           "ddof=1", [],
           ("stds.append(float(np.std(h)))", "stds.append(float(np.std(h, ddof=1)))")),
    _mistake("library's forward_stds (whole cell)", E5, "forward_stds",
             "weightinit's own implementation", """
        from weightinit.simulation.propagation import forward_stds
    """, whole_cell=True),
    _patch("W.T in the forward pass", E5, "forward_stds",
           "the weight's orientation", [],
           ("h = act(h @ W)", "h = act(h @ W.T)")),
    # ex05-deep-signal: backward_stds
    _patch("activation derivative forgotten", E5, "backward_stds",
           "the activation's derivative left out", [],
           ("dz = grad * slope(zs[l])", "dz = grad")),
    _patch("W instead of W.T going back", E5, "backward_stds",
           "W_l where W_l.T is meant", [],
           ("grad = dz @ weights[l].T", "grad = dz @ weights[l]")),
    _patch("stds in reverse order", E5, "backward_stds",
           "the list in reverse order", [],
           ("stds = [0.0] * len(weights)", "stds = []"),
           ("stds[l] = float(np.std(dz))", "stds.append(float(np.std(dz)))")),
    _patch("derivative at h instead of z", E5, "backward_stds",
           "the derivative taken at h_l", ["backward_stds_tanh_sigmoid"],
           ("zs.append(z)", "zs.append(act(z))  # keep the layer's output")),
    _patch("relu's value instead of its slope", E5, "backward_stds",
           "the activation's value act(z_l) multiplied in", ["backward_stds_linear_relu"],
           ("lambda z: (z > 0).astype(float)", "lambda z: np.maximum(z, 0.0)")),
    _patch("std of dL/dh instead of dL/dz", E5, "backward_stds",
           "the std of dL/dh_l, before the multiplication", [],
           ("stds[l] = float(np.std(dz))", "stds[l] = float(np.std(grad))")),
    _patch("grad_output multiplied in place", E5, "backward_stds",
           "changed the values of grad_output in place", [],
           ("dz = grad * slope(zs[l])", "grad *= slope(zs[l])\ndz = grad")),
    _patch("weights.reverse() on the caller's list", E5, "backward_stds",
           "the order of the list weights", [],
           ("""
            stds = [0.0] * len(weights)
            grad = grad_output  # dL/dh_L
            for l in range(len(weights) - 1, -1, -1):
                dz = grad * slope(zs[l])  # dL/dz_l
                stds[l] = float(np.std(dz))
                grad = dz @ weights[l].T  # dL/dh_{l-1}
            return stds
            """, """
            weights.reverse()
            zs.reverse()
            stds = []
            grad = grad_output
            for W, z in zip(weights, zs):
                dz = grad * slope(z)
                stds.append(float(np.std(dz)))
                grad = dz @ W.T
            return stds[::-1]
            """)),
    _mistake("library's backward_stds", E5, "backward_stds",
             "weightinit's own implementation", """
        import weightinit.simulation.propagation as reference

        return reference.backward_stds(x, weights, activation, grad_output)
    """),
    # ex06-training: init_mlp (patches of one branch each fail only that scheme's tests)
    _patch("He with 1/n", E6, "init_mlp",
           "1/n_in where He uses 2/n_in", ["init_mlp_he"],
           ("math.sqrt(2.0 / n_in)", "math.sqrt(1.0 / n_in)")),
    _patch("Xavier without the factor 2", E6, "init_mlp",
           "Glorot's factor 2 dropped", ["init_mlp_xavier"],
           ("math.sqrt(2.0 / (n_in + n_out))", "math.sqrt(1.0 / (n_in + n_out))")),
    _patch("small: the variance used as the std", E6, "init_mlp",
           "the variance used as the std", ["init_mlp_small_large"],
           ("rng.normal(0.0, 0.01, size=shape)", "rng.normal(0.0, 0.01**2, size=shape)")),
    _patch("zeros: tiny random weights", E6, "init_mlp",
           "'zeros' means every weight exactly 0", ["init_mlp_zeros", "init_mlp_symmetry"],
           ("W = np.zeros(shape)", "W = 1e-6 * rng.standard_normal(shape)  # almost zero")),
    _patch("biases 0.01", E6, "init_mlp",
           "every bias is 0.01", ["init_mlp_biases"],
           ("params.append((W, np.zeros(n_out)))", "params.append((W, np.full(n_out, 0.01)))")),
    _patch("no ValueError for an unknown scheme", E6, "init_mlp",
           "returned without raising", ["init_mlp_rejects"],
           ("""
            if scheme not in schemes:
                raise ValueError(f"scheme must be one of {', '.join(schemes)}; got {scheme!r}")
            """, "")),
    _patch("He with fan_out (nodes in the next layer)", E6, "init_mlp",
           "n_out, the number of units in the next layer", ["init_mlp_he"],
           ("math.sqrt(2.0 / n_in)", "math.sqrt(2.0 / n_out)")),
    _patch("Xavier with He's variance", E6, "init_mlp",
           "the 'he' rule N(0, 2 / n_in) where 'xavier' is asked", ["init_mlp_xavier"],
           ("math.sqrt(2.0 / (n_in + n_out))", "math.sqrt(2.0 / n_in)")),
    _patch("large: 10 used as the variance", E6, "init_mlp",
           "10 used as the variance", ["init_mlp_small_large"],
           ("rng.normal(0.0, 10.0, size=shape)", "rng.normal(0.0, math.sqrt(10.0), size=shape)")),
    _patch("small: the global np.random", E6, "init_mlp",
           "the global np.random instead of rng", ["init_mlp_rng"],
           ("rng.normal(0.0, 0.01, size=shape)", "np.random.normal(0.0, 0.01, size=shape)")),
    _patch("He: the input width for every layer", E6, "init_mlp",
           "the input width n_0 as every layer's fan-in", ["init_mlp_he"],
           ("math.sqrt(2.0 / n_in)", "math.sqrt(2.0 / layer_sizes[0])")),
    _patch("Xavier transposed", E6, "init_mlp",
           "a transposed shape",
           ["init_mlp_xavier", "init_mlp_shapes", "init_mlp_rng", "init_mlp_biases"],
           ("math.sqrt(2.0 / (n_in + n_out)), size=shape)",
            "math.sqrt(2.0 / (n_in + n_out)), size=(n_out, n_in))")),
    _patch("small: 0.01 used as the variance", E6, "init_mlp",
           "0.01 used as the variance", ["init_mlp_small_large"],
           ("rng.normal(0.0, 0.01, size=shape)", "rng.normal(0.0, math.sqrt(0.01), size=shape)")),
    _patch("He: one random column for every unit", E6, "init_mlp",
           "repeated-row pattern", ["init_mlp_he"],
           ("W = rng.normal(0.0, math.sqrt(2.0 / n_in), size=shape)",
            "W = np.tile(rng.normal(0.0, math.sqrt(2.0 / n_in), size=(n_in, 1)), (1, n_out))")),
    _patch("large: no scaling", E6, "init_mlp",
           "no scaling at all", ["init_mlp_small_large"],
           ("rng.normal(0.0, 10.0, size=shape)", "rng.standard_normal(shape)")),
    _mistake("bias as a column", E6, "init_mlp",
             "b must be 1-D", """
        params = []
        for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
            std = {"zeros": 0.0, "small": 0.01, "large": 10.0,
                   "xavier": math.sqrt(2.0 / (n_in + n_out)), "he": math.sqrt(2.0 / n_in)}[scheme]
            params.append((rng.normal(0.0, std, size=(n_in, n_out)), np.zeros((n_out, 1))))
        return params
    """),
    _mistake("weights and biases as two lists", E6, "init_mlp",
             "two lists (the weights, then the biases)", """
        if scheme not in ("zeros", "small", "large", "xavier", "he"):
            raise ValueError(f"unknown scheme {scheme!r}")
        weights, biases = [], []
        for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
            std = {"zeros": 0.0, "small": 0.01, "large": 10.0,
                   "xavier": math.sqrt(2.0 / (n_in + n_out)), "he": math.sqrt(2.0 / n_in)}[scheme]
            weights.append(rng.normal(0.0, std, size=(n_in, n_out)))
            biases.append(np.zeros(n_out))
        return weights, biases
    """),
    _mistake("one layer short", E6, "init_mlp",
             "stops one layer early", """
        if scheme not in ("zeros", "small", "large", "xavier", "he"):
            raise ValueError(f"unknown scheme {scheme!r}")
        params = []
        for l in range(1, len(layer_sizes) - 1):
            n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
            std = {"zeros": 0.0, "small": 0.01, "large": 10.0,
                   "xavier": math.sqrt(2.0 / (n_in + n_out)), "he": math.sqrt(2.0 / n_in)}[scheme]
            params.append((rng.normal(0.0, std, size=(n_in, n_out)), np.zeros(n_out)))
        return params
    """),
    _mistake("library's init_mlp", E6, "init_mlp",
             "weightinit's own implementation", """
        from weightinit.simulation.training import init_mlp as reference

        return reference(layer_sizes, scheme, rng)
    """),
    # ex07-orthogonal: orthogonal (patches of the solution's QR; each aims at the cells it fails)
    _patch("no sign correction", E7, "orthogonal",
           "no sign correction", ["orthogonal_haar"],
           ("q = q * np.sign(np.diag(r))", "")),
    _patch("sign of Q's own diagonal", E7, "orthogonal",
           "the signs of Q's own diagonal", ["orthogonal_haar"],
           ("q = q * np.sign(np.diag(r))", "q = q * np.sign(np.diag(q))")),
    _patch("rng.random (uniform) input", E7, "orthogonal",
           "rng.random matrix orthogonalised", ["orthogonal_haar"],
           ("a = rng.standard_normal((max(rows, cols), min(rows, cols)))",
            "a = rng.random((max(rows, cols), min(rows, cols)))")),
    _patch("gain applied twice", E7, "orthogonal",
           "the gain applied twice, or squared", ["orthogonal_gain"],
           ("return gain * q.reshape(shape)", "return gain * gain * q.reshape(shape)")),
    _patch("transposed result for wide shapes (Q reshaped)", E7, "orthogonal",
           "a transposed result for a wide shape",
           ["orthogonal_wide", "orthogonal_conv", "orthogonal_gain", "orthogonal_haar"],
           ("""
            if rows < cols:
                q = q.T
            """, "")),
    _patch("the global np.random (orthogonal)", E7, "orthogonal",
           "the global np.random instead of rng", ["orthogonal_rng"],
           ("a = rng.standard_normal((max(rows, cols), min(rows, cols)))",
            "a = np.random.standard_normal((max(rows, cols), min(rows, cols)))")),
    _mistake("transposed result for wide shapes (Q returned)", E7, "orthogonal",
             "a transposed result for a wide shape", """
        rows, cols = math.prod(shape[:-1]), shape[-1]
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        return gain * (q if len(shape) == 2 else q.reshape(shape))
    """),
    _mistake("orthonormal rows where columns are asked", E7, "orthogonal",
             "orthonormal rows where columns are asked", """
        rows, cols = math.prod(shape[:-1]), shape[-1]
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        return gain * q.T.reshape(shape)  # rows orthonormal, as in PyTorch's (out, in)
    """),
    _mistake("normalised by sqrt(n) instead of orthogonalised", E7, "orthogonal",
             "instead of orthogonalised", """
        rows = math.prod(shape[:-1])
        return gain * rng.standard_normal(shape) / math.sqrt(rows)
    """),
    _mistake("divided by its norm instead of orthogonalised", E7, "orthogonal",
             "instead of orthogonalised", """
        a = rng.standard_normal(shape)
        return gain * a / np.linalg.norm(a)
    """),
    _mistake("PyTorch's flattening of a kernel", E7, "orthogonal",
             "PyTorch's flattening", """
        rows, cols = shape[0], math.prod(shape[1:])
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return gain * q.reshape(shape)
    """),
    _mistake("library's orthogonal (whole cell)", E7, "orthogonal",
             "weightinit's own implementation", """
        from weightinit import orthogonal
    """, whole_cell=True),
]

# ex08-lsuv: lsuv (patches aim at the test cells the mistake fails; the rest keep full marks)
_LSUV_STD_CELLS = ("lsuv_unit_std", "lsuv_mean99", "lsuv_fresh_batch")
MISTAKES += [
    _patch("LSUV: the variance instead of the std", E8, "lsuv",
           "the variance instead of the standard deviation", _LSUV_STD_CELLS,
           ("W = W / std", "W = W / np.var(z)")),
    _patch("LSUV: the std after the activation", E8, "lsuv",
           "the std measured after the activation", _LSUV_STD_CELLS,
           ("std = np.std(z)", "std = np.std(act(z))")),
    _patch("LSUV: stale activations", E8, "lsuv",
           "stale activations", _LSUV_STD_CELLS,
           ("weights.append(W)\nh = act(z)", "weights.append(W)\nh = h_next"),
           ("z = h @ W\nfor _ in range(max_iter):",
            "z = h @ W\nh_next = act(z)  # the next layer's input, ready early\n"
            "for _ in range(max_iter):")),
    # Listed with the std cells too, so that it never shares a notebook with a rescaling
    # mistake: their names are read off the orthogonal start.
    _patch("LSUV: a Gaussian start", E8, "lsuv",
           "a Gaussian start", ["lsuv_orthogonal", *_LSUV_STD_CELLS],
           ("W = q if n_in >= n_out else q.T",
            "W = rng.standard_normal((n_in, n_out)) / math.sqrt(n_in)")),
    _patch("LSUV: no ValueError for tol <= 0", E8, "lsuv",
           "returned without raising", ["lsuv_rejects"],
           ("""
            if not tol > 0:
                raise ValueError(f"tol must be positive; got {tol!r}")
            """, "")),
    _patch("LSUV: x centred in place", E8, "lsuv",
           "changed the values of x in place", [],
           ("h = x\n", "x -= x.mean(axis=0)  # centre the batch first\nh = x\n")),
    _mistake("LSUV: the library's lsuv", E8, "lsuv",
             "weightinit's own implementation", """
        from weightinit.simulation.lsuv import lsuv as reference

        return reference(x, layer_sizes, activation, rng, tol, max_iter)
    """),
    _mistake("LSUV: the library's orthogonal start", E8, "lsuv",
             "weightinit's own implementation", """
        from weightinit import orthogonal

        act = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh}
        if activation not in act or not tol > 0:
            raise ValueError(f"bad activation {activation!r} or tol {tol!r}")
        weights, h = [], x
        for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
            W = orthogonal((n_in, n_out), 1.0, rng)
            W = W / np.std(h @ W)
            weights.append(W)
            h = act[activation](h @ W)
        return weights
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
    """),    # ex05-deep-signal
    _variant("a table and powers", E5, "calculate_gain", """
        table = {"tanh": 5 / 3, "relu": 2**0.5, "selu": 0.75}
        if activation == "leaky_relu":
            a = 0.01 if param is None else float(param)
            return (2 / (1 + a * a)) ** 0.5
        if activation in table:
            return table[activation]
        if activation in ("linear", "sigmoid") or activation.startswith("conv"):
            return 1
        raise ValueError(f"no gain for {activation}")
    """),
    _variant("match statement", E5, "calculate_gain", """
        match activation:
            case "linear" | "sigmoid" | "conv1d" | "conv2d" | "conv3d":
                return 1.0
            case "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d":
                return 1.0
            case "tanh":
                return 5 / 3
            case "relu":
                return np.sqrt(2.0)
            case "leaky_relu":
                negative_slope = 0.01 if param is None else param
                return np.sqrt(2.0 / (1 + negative_slope**2))
            case "selu":
                return 3 / 4
            case _:
                raise ValueError(f"Unsupported nonlinearity {activation}")
    """),
    _variant("einsum, tanh from exp, a hand-written std", E5, "forward_stds", """
        def act(z):
            if activation == "relu":
                return np.where(z > 0, z, 0.0)
            if activation == "tanh":
                e = np.exp(2 * z)
                return (e - 1) / (e + 1)
            if activation == "sigmoid":
                return 1 / (1 + np.exp(-z))
            return z

        out = []
        h = x
        for W in weights:
            h = act(np.einsum("bi,io->bo", h, W))
            mean = h.sum() / h.size
            out.append(float(np.sqrt(((h - mean) ** 2).sum() / h.size)))
        return out
    """),
    _variant("row by row, expit, math.fsum", E5, "forward_stds", """
        from scipy.special import expit

        acts = {"linear": lambda v: v, "relu": lambda v: v * (v > 0), "tanh": np.tanh,
                "sigmoid": expit}
        h = x
        stds = []
        for l in range(len(weights)):
            h = np.array([acts[activation](row @ weights[l]) for row in h])
            values = h.ravel().tolist()
            mean = math.fsum(values) / len(values)
            stds.append(math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values)))
        return stds
    """),
    _variant("derivatives from the outputs, einsum going back", E5, "backward_stds", """
        hs = [x]
        for W in weights:
            z = hs[-1] @ W
            if activation == "relu":
                hs.append(np.maximum(z, 0))
            elif activation == "tanh":
                hs.append(np.tanh(z))
            elif activation == "sigmoid":
                hs.append(1 / (1 + np.exp(-z)))
            else:
                hs.append(z)
        result = []
        g = grad_output
        for W, h in zip(weights[::-1], hs[:0:-1]):
            if activation == "relu":
                d = (h > 0) * 1.0
            elif activation == "tanh":
                d = 1 - h * h
            elif activation == "sigmoid":
                d = h * (1 - h)
            else:
                d = 1.0
            dz = g * d
            result.insert(0, float(dz.std()))
            g = np.einsum("bo,io->bi", dz, W)
        return result
    """),
    _variant("cosh and exp derivatives, append then reverse", E5, "backward_stds", """
        derivative = {
            "linear": lambda z: np.ones(z.shape),
            "relu": lambda z: np.heaviside(z, 0.0),
            "tanh": lambda z: 1 / np.cosh(z) ** 2,
            "sigmoid": lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,
        }[activation]
        forward = {"linear": lambda z: z, "relu": lambda z: np.clip(z, 0, None),
                   "tanh": np.tanh, "sigmoid": lambda z: 0.5 * (1 + np.tanh(z / 2))}[activation]
        pre = []
        h = x.copy()
        for W in weights:
            pre.append(np.dot(h, W))
            h = forward(pre[-1])
        backwards = []
        delta = grad_output.copy()
        for i in reversed(range(len(weights))):
            delta = delta * derivative(pre[i])
            backwards.append(np.std(delta))
            delta = np.dot(delta, weights[i].T)
        return [float(s) for s in reversed(backwards)]
    """),
    # ex06-training
    _variant("a table of stds, standard_normal, list pairs", E6, "init_mlp", """
        rules = {
            "zeros": lambda n_in, n_out: 0.0,
            "small": lambda n_in, n_out: 0.01,
            "large": lambda n_in, n_out: 10.0,
            "xavier": lambda n_in, n_out: (2 / (n_in + n_out)) ** 0.5,
            "he": lambda n_in, n_out: (2 / n_in) ** 0.5,
        }
        if scheme not in rules:
            raise ValueError(f"Unknown initialization scheme: {scheme}")
        out = []
        for l in range(1, len(layer_sizes)):
            n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
            if scheme == "zeros":
                W = np.zeros((n_in, n_out))
            else:
                W = rules[scheme](n_in, n_out) * rng.standard_normal((n_in, n_out))
            out.append([W, np.zeros(n_out, dtype=float)])
        return out
    """),
    _variant("a helper, keywords, a tuple of pairs", E6, "init_mlp", """
        def draw(n_in, n_out):
            if scheme == "zeros":
                return np.zeros((n_in, n_out))
            if scheme == "small":
                std = 1e-2
            elif scheme == "large":
                std = 1e1
            elif scheme == "xavier":
                std = np.sqrt(1.0 / ((n_in + n_out) / 2))
            elif scheme == "he":
                std = np.sqrt(2.0) / np.sqrt(n_in)
            else:
                raise ValueError("scheme " + repr(scheme) + " is not one of zeros, small, large, "
                                 "xavier, he")
            return rng.normal(loc=0.0, scale=std, size=(n_in, n_out))

        sizes = list(layer_sizes)
        return tuple((draw(a, b), np.zeros(b)) for a, b in zip(sizes, sizes[1:]))
    """),
    # ex07-orthogonal
    _variant("SVD of a Gaussian matrix (U @ Vt)", E7, "orthogonal", """
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        u, _, vt = np.linalg.svd(rng.standard_normal((rows, cols)), full_matrices=False)
        return gain * (u @ vt).reshape(shape)
    """),
    _variant("Householder products", E7, "orthogonal", """
        rows, cols = math.prod(shape[:-1]), shape[-1]
        n, k = max(rows, cols), min(rows, cols)
        a = rng.standard_normal((n, k))
        q = np.eye(n)
        for j in range(k):  # reflect column j onto the axis: a = H_1 ... H_k R
            x = a[j:, j]
            v = x.copy()
            v[0] += math.copysign(np.linalg.norm(x), x[0])
            v /= np.linalg.norm(v)
            a[j:, :] -= 2.0 * np.outer(v, v @ a[j:, :])
            q[:, j:] -= 2.0 * np.outer(q[:, j:] @ v, v)
        q = q[:, :k] * np.sign(np.diag(a)[:k])  # R's diagonal made positive
        return gain * (q if rows >= cols else q.T).reshape(shape)
    """),
    _variant("modified Gram-Schmidt on Gaussian columns", E7, "orthogonal", """
        rows, cols = math.prod(shape[:-1]), shape[-1]
        n, k = max(rows, cols), min(rows, cols)
        vectors = rng.standard_normal((n, k))
        basis = []
        for j in range(k):
            v = vectors[:, j]
            for e in basis:
                v = v - (e @ v) * e
            basis.append(v / np.linalg.norm(v))
        q = np.column_stack(basis)
        if rows < cols:
            q = q.T
        return gain * q.reshape(shape)
    """),
    _variant("scipy's QR of the transpose, a diagonal of signs", E7, "orthogonal", """
        import scipy.linalg

        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.normal(0.0, 1.0, size=(rows, cols))
        flip = rows < cols
        q, r = scipy.linalg.qr(a.T if flip else a, mode="economic")
        q = q @ np.diag(np.sign(np.diag(r)))
        return (gain * (q.T if flip else q)).reshape(shape)
    """),
]

# ex08-lsuv: lsuv
VARIANTS += [
    _variant("LSUV: SVD start, a std by hand, always max_iter divisions", E8, "lsuv", """
        if activation not in ("linear", "relu", "tanh"):
            raise ValueError("unknown activation " + repr(activation))
        if tol <= 0:
            raise ValueError("tol must be > 0, got " + str(tol))
        out = []
        h = np.array(x, dtype=float)
        for l in range(1, len(layer_sizes)):
            n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
            u, _, vt = np.linalg.svd(rng.normal(size=(n_in, n_out)), full_matrices=False)
            W = u @ vt
            for _ in range(max_iter):
                z = h @ W
                mean = z.sum() / z.size
                W = W / math.sqrt(((z - mean) ** 2).sum() / z.size)
            z = h @ W
            if activation == "relu":
                z = np.maximum(z, 0)
            elif activation == "tanh":
                z = np.tanh(z)
            h = z
            out.append(W)
        return out
    """),
    _variant("LSUV: sqrt of the variance, a while loop, QR without the sign fix", E8, "lsuv", """
        def act(z):
            if activation == "relu":
                return np.where(z > 0, z, 0.0)
            if activation == "tanh":
                return np.tanh(z)
            return z

        if activation not in ["linear", "relu", "tanh"] or not (tol > 0):
            raise ValueError(f"activation={activation!r}, tol={tol!r}: need linear/relu/tanh and "
                             "tol > 0")
        weights = []
        h = x.copy()
        for n_in, n_out in zip(layer_sizes, layer_sizes[1:]):
            if n_in >= n_out:
                W, _ = np.linalg.qr(rng.standard_normal((n_in, n_out)))
            else:
                W = np.linalg.qr(rng.standard_normal((n_out, n_in)))[0].T
            var = np.var(h @ W)
            count = 0
            while abs(np.sqrt(var) - 1) >= tol and count < max_iter:
                W /= np.sqrt(var)
                var = np.var(h @ W)
                count += 1
            weights.append(W)
            h = act(h @ W)
        return weights
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
    # reads far outside its array: the kernel dies of a segmentation fault
    x = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(2**40,), strides=(2**20,))
    return float(x.sum())
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


def _locate(body: str, old: str, new: str) -> tuple[int, str, str]:
    """Where `old` (written dedented) sits in `body`, and `old` and `new` indented as that spot
    is: a multi-line patch inside a loop keeps the loop's indentation."""
    first = old.split("\n", 1)[0]
    at = body.find(first)
    if at < 0:
        raise ValueError(f"{first!r} is not in the solution body")
    indent = body[body.rfind("\n", 0, at) + 1 : at]
    if indent.strip():
        indent = ""  # the patch starts in the middle of a line

    def indented(text: str) -> str:
        lines = text.split("\n")
        return "\n".join([lines[0], *[indent + line if line else line for line in lines[1:]]])

    return at, indented(old), indented(new)


def _patch_lines(entry: Entry, body: str | None) -> set[int]:
    """Line numbers of the solution body that the entry's patch rewrites."""
    if body is None:
        return set()
    out = set()
    for old, new in entry.patch:
        start, old_here, _ = _locate(body, old, new)
        first = body.count("\n", 0, start)
        out.update(range(first, first + old_here.count("\n") + 1))
    return out


def _clash(a: Entry, b: Entry, bodies: dict[str, str] | None = None) -> bool:
    """Two entries cannot share a notebook: the same function (unless both are patches of
    different lines that fail different test cells), or one changes a callee (a function others
    call, CALLEES) that the other's code calls."""
    if a.function == b.function:
        if not (a.patch and b.patch and a.cells and b.cells) or set(a.cells) & set(b.cells):
            return True
        body = (bodies or {}).get(a.function)
        return body is None or bool(_patch_lines(a, body) & _patch_lines(b, body))
    callees = CALLEES.get(a.assignment, set())
    return (a.function in callees and _mentions(b.code, a.function)) or (
        b.function in callees and _mentions(a.code, b.function)
    )


def pack(entries: list[Entry], prefix: str, bodies: dict[str, dict[str, str]] | None = None
         ) -> list[Submission]:
    """Group entries of one assignment into as few notebooks as possible without clashes (for
    correct variants only the one-per-function rule matters: a correct callee changes nothing).
    `bodies` (assignment -> function -> solution body) lets patches of one function share a
    notebook when they rewrite different lines; without it they never do."""
    out: list[Submission] = []
    for entry in entries:
        target = None
        for sub in out:
            if sub.assignment != entry.assignment:
                continue
            if entry.expect is None:
                ok = entry.function not in sub.functions
            else:
                known = (bodies or {}).get(entry.assignment)
                ok = not any(_clash(entry, other, known) for other in sub.entries)
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


def patched(body: str, entries: list[Entry]) -> str:
    """The solution's body with every entry's (old, new) replacements applied."""
    for entry in entries:
        for old, new in entry.patch:
            _, old_here, new_here = _locate(body, old, new)
            if body.count(old_here) != 1:
                raise ValueError(f"{entry.name}: {old!r} must occur once in the solution body")
            body = body.replace(old_here, new_here)
    return body


def student_notebook(release_nb, solution_nb, entries: list[Entry]):
    """The release notebook with every function written: the solution's body, an entry's, or
    the solution's body with the entries' patches."""
    nb = copy.deepcopy(release_nb)
    bodies = solution_bodies(solution_nb)
    by_function: dict[str, list[Entry]] = {}
    for e in entries:
        by_function.setdefault(e.function, []).append(e)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("solution"):
            continue
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("YOUR ANSWER HERE", "An answer in my own words.")
            continue
        mine = by_function.get(meta["grade_id"], [])
        body = bodies[meta["grade_id"]]
        if any(e.patch for e in mine):
            cell.source = fill(cell.source, patched(body, mine))
        elif mine and mine[0].whole_cell:
            cell.source = mine[0].code
        else:
            cell.source = fill(cell.source, mine[0].code if mine else body)
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
    """What the submission's entries may fail, as grade ids or function names (a function name
    stands for all its tests, see :func:`touched`): each entry's cells or function, and the
    functions whose solution calls a changed callee."""
    bodies = solution_bodies(solution_nb)
    changed = sub.functions
    callees = changed & CALLEES.get(sub.assignment, set())
    out = {t for e in sub.entries for t in e.touches}
    for function, body in bodies.items():
        if function not in changed and any(_mentions(body, c) for c in callees):
            out.add(function)
    return out


def touched(grade_id: str, names: set[str] | tuple[str, ...]) -> bool:
    """Whether a test cell is one of `names`, or a test of one of the functions in `names`
    (tests are named after their function: ``he_normal_variance`` tests ``he_normal``)."""
    return any(grade_id == n or grade_id.startswith(n + "_") for n in names)
