"""Calibrated checks for the graded exercises: every correct answer passes, every common mistake
fails with a message that names it.

The test cells of the nbgrader assignments call these functions, so a test reads like a sentence::

    check_initializer(he_normal, (5, 3, 64, 40), scale=2.0, mode="fan_in", distribution="normal")

A failed check raises ``AssertionError`` with three things in its message: what was measured,
what was expected, and which common mistake produces exactly that measurement ("the variance of
your weights is 0.5 times the target: 1/n where He uses 2/n"). Errors raised by the student's
code are caught and reported the same way, in one line, rather than as a deep traceback.

How a random array is checked, in this order (each stage assumes the previous ones passed, so its
message can be specific):

1. own code: the function does not call weightinit's implementation (:func:`check_own_code`);
2. type (an ndarray, not a list or None), shape (transposed? flattened?), dtype float64, finite;
3. randomness from ``rng``: the same seed gives the same array, another seed another array, and
   NumPy's global state is neither read nor changed;
4. patterns: constant, alternating or repeated rows, and atoms (clipping), checked before the
   moments because their bands assume independent draws;
5. mean, then variance, compared with the target and with every named mistake's prediction;
6. family: the bounds of uniform and truncated samples, a Kolmogorov-Smirnov test, and for the
   normal a tail count;
7. independence: neighbours along every axis agree in sign as often as a fair coin says;
8. another shape, so that an answer hard-coded for the visible test's shape fails.

Calibration. Every statistical band holds for a correct sample with probability at least
``1 - ALPHA`` (``ALPHA = 1e-9``), whatever the seed, so a correct answer that draws its numbers in
another order passes too. The bands come from :mod:`weightinit.stats` (chi-square for a normal
sample's variance, Hoeffding for bounded samples, exact KS critical values) or are exact binomial
bands computed here; each is named in a comment beside it. Test shapes hold at least 30,000
weights wherever a variance is checked, and are chosen so that every named mistake changes the
variance by at least 1.2x (two mistakes move it by a fixed factor instead: clipping, 1.19x, which
the atom check catches exactly, and a cut at 2 std rather than 2s, 0.87x); the power against each
mistake is given by :func:`mistake_table`, and ``tests/test_checks.py`` requires it to exceed
1 - 1e-6 for every check call in the notebooks.

Deterministic answers are compared with a reference instead: the fans, ``standardize``, the
pre-activation variance, PyTorch's gains (:func:`check_gain`), and ex05's per-layer standard
deviations of a deep network (:func:`check_forward_stds`, :func:`check_backward_stds`), which the
checker computes with :mod:`weightinit.propagation` on the very arrays it gives the student.
There no sampling band is needed: a correct answer differs from the reference only by
floating-point rounding, so the tolerance is a float64 one (``STD_RTOL = 1e-9``, measured against
correct implementations that round differently), and each named mistake is recognised by
recomputing it. ex06's ``init_mlp`` is checked layer by layer with the random-array stages
(:func:`check_init_mlp_variance` and its siblings), and by training its parameters for a few
steps with :mod:`weightinit.training` to see that zeros never break the symmetry between units
(:func:`check_init_mlp_symmetry`). ex07's ``orthogonal`` is checked exactly where it can be,
``W^T W = gain**2 I`` to a float64 tolerance (``ORTHO_TOL``, measured against correct
implementations), and its distribution by exact binomial sign tests that a QR result without the
sign correction fails with probability 1 (:func:`check_orthogonal_haar`, :func:`haar_power`).

Everything is checked on copies: the checker gives the student's function fresh generators and
copies of its inputs, and copies what the function returns before looking at it.

Modules
-------
The checks live in one module per concern; the package re-exports the public names, and
:mod:`weightinit.checks` re-exports them again for the notebooks already released.

_common
    ``ALPHA``, the failure type and its public wrapper, and the kernel's memory of earlier
    tests (the only module-level state).
calls
    Stage 1, own code (:func:`check_own_code`); calling the student's function; stage 2, the
    returned array's type, shape, dtype and finiteness.
randomness
    Stage 3: every number drawn from ``rng``, none from ``np.random``.
targets
    :class:`Target`, :func:`scaling_target`, :func:`std_target`, :func:`mistake_table`, and
    stage 4, the mean and the variance.
patterns
    Stage 5, patterns, atoms, bounds, Kolmogorov-Smirnov and tails; stage 6, independence.
random_arrays
    The random-array battery and its public checks (:func:`check_initializer` and its
    siblings, :func:`check_raises`, :func:`assess_sample`).
arithmetic
    Deterministic answers of ex01 to ex04: fans, ``standardize``, pre-activation variance,
    sampled pre-activations, saturation.
deep
    ex05: gains, and the forward and backward standard deviations of a deep network.
mlp
    ex06: ``init_mlp``'s shapes, biases, variances, use of ``rng``, and symmetry.
orthogonal
    ex07: ``orthogonal``'s orthonormal columns (rows when wide) times the gain, use of ``rng``,
    and its uniform (Haar) distribution, told from QR without the sign correction by exact sign
    tests.
lsuv
    ex08: LSUV's weights: every layer's linear output at unit std on the batch (deterministic)
    and on a fresh one (a Gaussian-concentration band), orthogonal starts, use of ``rng``.

Autograde (the checks above decide; these make sure nothing else does):

judge
    The process that grades one notebook: runs the student's cells in a sandboxed kernel and
    evaluates every test cell itself, calling the student's functions through proxies.
harness
    The kernel side of a proxy call: call the function, write back plain data.
wire
    The plain-data format between the two (JSON and raw array bytes; never pickle).
source
    Whether a function is the student's own work, read from the notebook's source.
sandbox
    The kernel's box: bubblewrap and resource limits.
nbgrader
    nbgrader's preprocessors replaced: restore the course's cells, execute through the judge,
    hide the hidden tests in feedback.
staging
    ``make grade``'s first step: a repaired copy of ``submitted/``.
"""

import importlib

#: Where each public name lives. The modules load on first use (PEP 562), so that the judge and
#: the kernel's harness, which import small parts of this package, start without loading SciPy.
_HOME = {
    "ALPHA": "_common",
    "check_own_code": "calls",
    **dict.fromkeys(["check_fans", "check_preactivation_variance", "check_sample_preactivations",
                     "check_saturated_fraction", "check_standardize",
                     "check_standardize_rejects_constant"], "arithmetic"),
    **dict.fromkeys(["DEEP_ACTIVATIONS", "GAIN_NAMES", "STD_ATOL_OF_RMS", "STD_RTOL",
                     "check_backward_stds", "check_forward_stds", "check_gain"], "deep"),
    **dict.fromkeys(["MLP_SCHEMES", "check_init_mlp_biases", "check_init_mlp_rng",
                     "check_init_mlp_shapes", "check_init_mlp_symmetry",
                     "check_init_mlp_variance", "mlp_target"], "mlp"),
    **dict.fromkeys(["HAAR_DRAWS", "HAAR_MISTAKES", "ORTHO_TOL", "check_orthogonal",
                     "check_orthogonal_haar", "check_orthogonal_rng", "haar_bands",
                     "haar_power"], "orthogonal"),
    **dict.fromkeys(["assess_sample", "check_array", "check_initializer", "check_raises",
                     "check_samples", "check_truncated_normal", "check_uses_rng",
                     "check_variance", "check_variance_scaling"], "random_arrays"),
    **dict.fromkeys(["Target", "mistake_table", "scaling_target", "std_target"], "targets"),
    # ex08-lsuv
    **dict.fromkeys(["ORTHO_ATOL", "check_lsuv_fresh_batch", "check_lsuv_orthogonal",
                     "check_lsuv_rng", "check_lsuv_shapes", "check_lsuv_unit_std",
                     "fresh_halfwidths"], "lsuv"),
}


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__all__ = [
    "ALPHA",
    "check_own_code",
    "check_array",
    "check_uses_rng",
    "check_variance",
    "check_samples",
    "check_initializer",
    "check_truncated_normal",
    "check_variance_scaling",
    "check_raises",
    "check_fans",
    "check_standardize",
    "check_standardize_rejects_constant",
    "check_preactivation_variance",
    "check_sample_preactivations",
    "check_saturated_fraction",
    "assess_sample",
    "Target",
    "scaling_target",
    "std_target",
    "mistake_table",
    "GAIN_NAMES",
    "DEEP_ACTIVATIONS",
    "STD_RTOL",
    "STD_ATOL_OF_RMS",
    "check_gain",
    "check_forward_stds",
    "check_backward_stds",
    "MLP_SCHEMES",
    "mlp_target",
    "check_init_mlp_shapes",
    "check_init_mlp_biases",
    "check_init_mlp_variance",
    "check_init_mlp_rng",
    "check_init_mlp_symmetry",
    "ORTHO_TOL",
    "HAAR_DRAWS",
    "HAAR_MISTAKES",
    "haar_bands",
    "haar_power",
    "check_orthogonal",
    "check_orthogonal_rng",
    "check_orthogonal_haar",
    # ex08-lsuv
    "ORTHO_ATOL",
    "fresh_halfwidths",
    "check_lsuv_shapes",
    "check_lsuv_unit_std",
    "check_lsuv_fresh_batch",
    "check_lsuv_orthogonal",
    "check_lsuv_rng",
]
