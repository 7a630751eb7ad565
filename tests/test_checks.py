"""Tests of the checks of weightinit.grading: calibrated (no false failure), accepting, explaining.

The grading pipeline itself (nbgrader, the corpus of submissions) is tested in test_grading.py;
here the checks are called directly, which is fast.
"""

from __future__ import annotations

import ast
import functools
import importlib
import itertools
import math
import traceback
from pathlib import Path

import nbformat
import numpy as np
import pytest
from scipy import stats as st

import weightinit
from weightinit import checks as C
from weightinit.grading import arithmetic, deep, patterns
from weightinit.initializers import TRUNCATION_STD_FACTOR
from weightinit.stats import ALPHA

ROOT = Path(__file__).resolve().parents[1]

#: Mistakes whose variance ratio is a constant of the mistake, not of the test shape: clipping
#: (1.19) is caught exactly by the atom check, the cut at 2 std (0.87) by the variance band.
FIXED_RATIO = ("clipping", "cutting at")


def fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    rf = math.prod(shape[:-2])
    return shape[-2] * rf, shape[-1] * rf


def std_for(shape, scale, mode):
    fi, fo = fans(shape)
    n = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2}[mode]
    return math.sqrt(scale / max(1.0, n))


def truncated(shape, std, rng):
    s = std / TRUNCATION_STD_FACTOR
    x = rng.normal(0.0, s, size=shape)
    bad = np.abs(x) > 2 * s
    while bad.any():
        x[bad] = rng.normal(0.0, s, size=int(bad.sum()))
        bad = np.abs(x) > 2 * s
    return x


def draw(family, shape, std, rng):
    if family == "normal":
        return rng.normal(0.0, std, size=shape)
    if family == "uniform":
        a = math.sqrt(3.0) * std
        return rng.uniform(-a, a, size=shape)
    return truncated(shape, std, rng)


def failure(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# The test shapes of the notebooks: n >= 30,000, every mistake >= 1.2x, power ~ 1
# ---------------------------------------------------------------------------------------------


def _notebook_calls():
    """Every check call with a variance target in the solutions' test cells, as
    (assignment, call name, shape, Target)."""
    out = []
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(path, 4)
        for cell in nb.cells:
            if not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                continue
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                name = node.func.id
                kw = {k.arg: k.value for k in node.keywords}
                lit = ast.literal_eval
                if name in ("check_variance", "check_samples", "check_initializer"):
                    shape = lit(node.args[1])
                    dist = lit(kw["distribution"]) if "distribution" in kw else "normal"
                    if "std" in kw:
                        mean = lit(kw["mean"]) if "mean" in kw else 0.0
                        target = C.std_target(lit(kw["std"]), mean, dist)
                    else:
                        target = C.scaling_target(shape, lit(kw["scale"]), lit(kw["mode"]), dist)
                elif name == "check_variance_scaling":
                    shape, scale, mode, dist = (lit(a) for a in node.args[1:5])
                    target = C.scaling_target(shape, scale, mode, dist)
                elif name == "check_truncated_normal":
                    shape, std = lit(node.args[1]), lit(node.args[2])
                    target = C.std_target(std, 0.0, "truncated_normal")
                else:
                    continue
                out.append((path.parent.name, name, shape, target))
    return out


NOTEBOOK_CALLS = _notebook_calls()


def test_notebooks_have_variance_checks():
    assignments = {a for a, *_ in NOTEBOOK_CALLS}
    assert assignments == {"ex01-scaling", "ex03-initializers", "ex04-variance-scaling"}
    assert len(NOTEBOOK_CALLS) > 60


@pytest.mark.parametrize(
    "assignment,name,shape,target",
    NOTEBOOK_CALLS,
    ids=[f"{a}:{n}{s}:{t.law[:20]}" for a, n, s, t in NOTEBOOK_CALLS],
)
def test_test_shapes_separate_every_mistake(assignment, name, shape, target):
    """At least 30,000 weights; every named mistake moves the variance by at least 1.2x (except
    the two whose ratio is fixed by the mistake itself); the variance band rejects each mistake
    with probability above 1 - 1e-6 (stats.power_variance_ratio)."""
    n = math.prod(shape)
    assert n >= 30_000, f"{shape} has only {n} weights"
    table = C.mistake_table(target, n)
    assert table, "no named mistake"
    for mistake, ratio, power in table:
        if not mistake.startswith(FIXED_RATIO):
            assert max(ratio, 1 / ratio) >= 1.2, f"{mistake}: ratio {ratio:.3f} on {shape}"
        assert power > 1 - 1e-6, f"{mistake}: power {power} on {shape}"


@pytest.mark.parametrize(
    "assignment,name,shape,target",
    [c for c in NOTEBOOK_CALLS if c[3].family != "truncated_normal"],
)
def test_named_mistakes_are_told_apart(assignment, name, shape, target):
    """Two named mistakes of a normal or uniform target differ by at least 1.1x, so that a
    failure names one mistake (the bands are at most +-5% wide there)."""
    for (m1, r1), (m2, r2) in itertools.combinations(target.mistakes, 2):
        assert max(r1 / r2, r2 / r1) >= 1.1, f"{m1!r} and {m2!r} on {shape}: {r1:.3f} {r2:.3f}"


def test_scaling_target_matches_the_formulas():
    shape = (5, 3, 64, 40)  # fan_in 960, fan_out 600, receptive field 15
    he = C.scaling_target(shape, 2.0, "fan_in", "normal")
    assert he.std == pytest.approx(math.sqrt(2 / 960))
    ratios = dict(he.mistakes)

    def ratio(words):
        return next(r for m, r in ratios.items() if m.startswith(words))

    assert ratio("fan_out where fan_in") == pytest.approx(960 / 600)
    assert ratio("fan_avg where fan_in") == pytest.approx(960 / 780)
    assert ratio("fan_in + fan_out without") == pytest.approx(960 / 1560)
    assert ratio("1/n where He uses 2/n") == pytest.approx(0.5)
    assert ratio("the receptive field left out") == pytest.approx(15.0)
    assert ratio("fans read in PyTorch's") == pytest.approx(960 / (3 * 64 * 40))
    assert ratio("the variance used as the standard deviation") == pytest.approx(2 / 960)
    trunc = dict(C.scaling_target(shape, 1.0, "fan_avg", "truncated_normal").mistakes)
    missing = next(r for m, r in trunc.items() if m.startswith("a missing truncation"))
    assert missing == pytest.approx(float(st.truncnorm(-2, 2).var()))
    clip = next(r for m, r in trunc.items() if m.startswith("clipping"))
    z = np.clip(np.random.default_rng(0).standard_normal(2_000_000), -2, 2)
    assert clip == pytest.approx(np.mean(z**2) / TRUNCATION_STD_FACTOR**2, rel=0.01)


# ---------------------------------------------------------------------------------------------
# Calibration: correct samples never fail
# ---------------------------------------------------------------------------------------------

FALSE_FAILURE_SEEDS = 40


@pytest.mark.parametrize("family", ["normal", "uniform", "truncated_normal"])
@pytest.mark.parametrize("shape", [(5, 3, 64, 40), (512, 200)])
def test_false_failure_rate_is_zero_over_many_seeds(family, shape):
    """The statistical stages on correct samples, over many seeds: zero failures (each band's
    false-failure probability is at most 1e-9; benchmarks/false_failure.py runs many more)."""
    target = C.scaling_target(shape, 2.0, "fan_in", family)
    failures = []
    for seed in range(FALSE_FAILURE_SEEDS):
        x = draw(family, shape, target.std, np.random.default_rng(10_000 + seed))
        try:
            C.assess_sample(x, target)
        except AssertionError as exc:
            failures.append((seed, str(exc)))
    assert not failures


def test_products_check_has_no_false_failure_over_seeds():
    def sample_preactivations(n, var_w, var_x, trials, rng):
        w = rng.normal(0.0, np.sqrt(var_w), size=(trials, n))
        x = rng.normal(0.0, np.sqrt(var_x), size=(trials, n))
        return (w * x).sum(axis=1)

    for seed in range(8):
        C.check_sample_preactivations(sample_preactivations, 3, 0.7, 1.3, 20000, seed=seed)
        C.check_sample_preactivations(sample_preactivations, 1, 2.0, 0.5, 20000, seed=50 + seed)


def test_products_cdf_is_exact_for_two_products():
    """z = w1 x1 + w2 x2 with standard normals is Laplace(0, 1): the quadrature CDF agrees within
    its stated error bound 1 / _NODES."""
    z = np.linspace(-8, 8, 401)
    got = arithmetic._products_cdf(z, 2, 1.0)
    assert np.max(np.abs(got - st.laplace.cdf(z))) <= 1.0 / arithmetic._NODES


def test_bands_are_the_stated_quantiles():
    n = 38_400
    lo, hi = patterns._tail_band(n)
    p = 2 * st.norm.sf(2 / TRUNCATION_STD_FACTOR)
    assert st.binom.cdf(lo - 1, n, p) <= ALPHA / 2 and st.binom.sf(hi, n, p) <= ALPHA / 2
    lo, hi = patterns._sign_band(19_200, ALPHA)
    assert st.binom.cdf(lo - 1, 19_200, 0.5) <= ALPHA / 2
    assert st.binom.sf(hi, 19_200, 0.5) <= ALPHA / 2
    assert patterns._ks_critical(n) == pytest.approx(st.kstwo.isf(ALPHA, n))


# ---------------------------------------------------------------------------------------------
# Accepting: correct answers written differently pass
# ---------------------------------------------------------------------------------------------


def he_normal_a(shape, rng):
    fi, _ = fans(shape)
    return rng.normal(0.0, math.sqrt(2 / fi), size=shape)


def he_normal_b(shape, rng):
    fi, _ = fans(shape)
    return np.sqrt(2 / fi) * rng.standard_normal(shape)


def he_uniform_a(shape, rng):
    a = math.sqrt(6 / fans(shape)[0])
    return rng.uniform(-a, a, size=shape)


def he_uniform_b(shape, rng):
    a = math.sqrt(6 / fans(shape)[0])
    return a * (2 * rng.random(shape) - 1)


@pytest.mark.parametrize(
    "func,family",
    [(he_normal_a, "normal"), (he_normal_b, "normal"), (he_uniform_a, "uniform"),
     (he_uniform_b, "uniform")],
)
@pytest.mark.parametrize("shape", [(512, 200), (5, 3, 64, 40), (7, 64, 96)])
def test_correct_initializers_pass(func, family, shape):
    C.check_array(func, shape)
    C.check_uses_rng(func, shape)
    C.check_variance(func, shape, scale=2.0, mode="fan_in", distribution=family)
    C.check_initializer(func, shape, scale=2.0, mode="fan_in", distribution=family, seed=3)


def test_identical_output_to_the_library_is_not_importing():
    """A correct rng.normal(0, std, shape) gives the library's very array for the same seed; that
    alone must not count as importing the library."""
    shape = (5, 3, 64, 40)
    ours = he_normal_a(shape, np.random.default_rng(4))
    assert np.array_equal(ours, weightinit.he_normal(shape, np.random.default_rng(4)))
    C.check_initializer(he_normal_a, shape, scale=2.0, mode="fan_in", distribution="normal")


def test_truncation_by_rejection_or_scipy_passes():
    def scipy_truncated(shape, std, rng):
        s = std / TRUNCATION_STD_FACTOR
        return st.truncnorm.rvs(-2, 2, scale=s, size=shape, random_state=rng)

    for func in (truncated, scipy_truncated):
        C.check_truncated_normal(func, (300, 200), 0.1)
        C.check_variance(func, (300, 200), 0.1, std=0.1, distribution="truncated_normal")


# ---------------------------------------------------------------------------------------------
# Explaining: each mistake fails with its own message
# ---------------------------------------------------------------------------------------------

CONV = (5, 3, 64, 40)


def _sampler(std_of_shape, family="normal"):
    def initializer(shape, rng):
        return draw(family, shape, std_of_shape(shape), rng)

    return initializer


VARIANCE_MISTAKES = [
    # (expected fragment, rule (scale, mode, family), the wrong std as a function of the shape)
    ("fan_out where fan_in is meant", (2.0, "fan_in", "normal"),
     lambda s: std_for(s, 2, "fan_out")),
    ("fan_avg where fan_in is meant", (2.0, "fan_in", "normal"),
     lambda s: std_for(s, 2, "fan_avg")),
    ("fan_in + fan_out without the average", (1.0, "fan_avg", "normal"),
     lambda s: math.sqrt(1 / sum(fans(s)))),
    ("1/n where He uses 2/n", (2.0, "fan_in", "normal"), lambda s: std_for(s, 1, "fan_in")),
    ("2/n where 1/n is meant", (1.0, "fan_in", "normal"), lambda s: std_for(s, 2, "fan_in")),
    ("the receptive field left out", (2.0, "fan_in", "normal"), lambda s: math.sqrt(2 / s[-2])),
    ("PyTorch's (out, in, *kernel) order", (2.0, "fan_in", "normal"),
     lambda s: math.sqrt(2 / (s[1] * math.prod(s[2:])))),
    ("the variance used as the standard deviation", (2.0, "fan_in", "normal"),
     lambda s: std_for(s, 2, "fan_in") ** 2),
    ("no scaling at all", (2.0, "fan_in", "uniform"), lambda s: 1.0),
    ("the uniform limit without sqrt(3)", (2.0, "fan_in", "uniform"),
     lambda s: std_for(s, 2, "fan_in") / math.sqrt(3)),
    ("a missing truncation correction", (2.0, "fan_in", "truncated_normal"),
     lambda s: std_for(s, 2, "fan_in") * TRUNCATION_STD_FACTOR),
]


@pytest.mark.parametrize("fragment,rule,wrong_std", VARIANCE_MISTAKES,
                         ids=[m[0] for m in VARIANCE_MISTAKES])
def test_variance_mistakes_are_named(fragment, rule, wrong_std):
    scale, mode, family = rule
    message = failure(C.check_variance, _sampler(wrong_std, family), CONV, scale=scale, mode=mode,
                      distribution=family)
    assert fragment in message
    assert "times the target" in message and "with probability 1 - 1e-09" in message


def test_family_mistakes_are_named():
    std = std_for(CONV, 2, "fan_in")
    msg = failure(C.check_initializer, _sampler(lambda s: std, "uniform"), CONV, scale=2.0,
                  mode="fan_in", distribution="normal")
    assert "uniform where normal is asked" in msg
    msg = failure(C.check_initializer, _sampler(lambda s: std, "normal"), CONV, scale=2.0,
                  mode="fan_in", distribution="uniform")
    assert "normal where uniform is asked" in msg
    he_std = functools.partial(std_for, scale=2.0, mode="fan_in")
    msg = failure(C.check_initializer, _sampler(he_std, "truncated_normal"), (512, 200),
                  scale=2.0, mode="fan_in", distribution="normal")
    assert "truncated normal where" in msg

    def clipped(shape, std, rng):
        s = std / TRUNCATION_STD_FACTOR
        return np.clip(rng.normal(0.0, s, size=shape), -2 * s, 2 * s)

    assert "clipping instead of re-drawing" in failure(C.check_truncated_normal, clipped,
                                                      (300, 200), 0.1)


def test_pattern_mistakes_are_named():
    std = std_for(CONV, 2, "fan_in")

    def alternating(shape, rng):
        return std * np.where(np.indices(shape).sum(axis=0) % 2 == 0, 1.0, -1.0)

    def repeated_rows(shape, rng):
        return np.broadcast_to(rng.normal(0, std, size=shape[-1]), shape).copy()

    def sorted_values(shape, rng):
        return np.sort(rng.normal(0, std, size=shape), axis=None).reshape(shape)

    def constant(shape, rng):
        return np.full(shape, std)

    def integers(shape, rng):
        return rng.integers(-1, 2, size=shape)

    spec = dict(scale=2.0, mode="fan_in", distribution="normal")
    assert "alternating pattern" in failure(C.check_initializer, alternating, CONV, **spec)
    assert "only 2 distinct values" in failure(C.check_variance, alternating, CONV, **spec)
    assert "repeated-row pattern" in failure(C.check_variance, repeated_rows, CONV, **spec)
    assert "a pattern in the weights" in failure(C.check_initializer, sorted_values, CONV, **spec)
    assert "a constant array" in failure(C.check_uses_rng, constant, CONV)
    assert "whole numbers" in failure(C.check_array, integers, CONV)


def test_array_mistakes_are_named():
    def transposed(shape, rng):
        return rng.normal(size=shape[::-1])

    def flat(shape, rng):
        return rng.normal(size=math.prod(shape))

    def as_list(shape, rng):
        return rng.normal(size=shape).tolist()

    def no_return(shape, rng):
        rng.normal(size=shape)

    def nan(shape, rng):
        return np.sqrt(-np.abs(rng.normal(size=shape)))

    def torch_order(shape, rng):
        return rng.normal(size=(shape[3], shape[2], shape[0], shape[1]))

    def float32(shape, rng):
        return rng.normal(size=shape).astype(np.float32)

    assert "a transposed shape" in failure(C.check_array, transposed, (512, 200))
    assert "a flat array" in failure(C.check_array, flat, (512, 200))
    assert "returned a list" in failure(C.check_array, as_list, (512, 200))
    assert "returned None" in failure(C.check_array, no_return, (512, 200))
    with np.errstate(invalid="ignore"):
        assert "NaN" in failure(C.check_array, nan, (512, 200))
    assert "PyTorch's (out, in, *kernel)" in failure(C.check_array, torch_order, CONV)
    assert "expected float64" in failure(C.check_array, float32, CONV)


def test_rng_mistakes_are_named_and_the_global_state_is_restored():
    # The legacy global state is what these mistakes use and the checker guards: NPY002 is meant.
    def global_rng(shape, rng):
        return np.random.normal(size=shape)  # noqa: NPY002

    def reseeds(shape, rng):
        np.random.seed(0)  # noqa: NPY002
        return rng.normal(size=shape)

    def fresh(shape, rng):
        return np.random.default_rng().normal(size=shape)

    def fixed(shape, rng):
        return np.random.default_rng(42).normal(size=shape)

    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()  # noqa: NPY002
    assert "the global np.random instead of rng" in failure(C.check_uses_rng, global_rng, CONV)
    assert "the global np.random instead of rng" in failure(C.check_uses_rng, reseeds, CONV)
    assert "a generator created inside the function" in failure(C.check_uses_rng, fresh, CONV)
    assert "hard-coded answer" in failure(C.check_uses_rng, fixed, CONV)
    after = np.random.get_state()  # noqa: NPY002
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]


def test_hard_coded_shape_is_named():
    def visible_only(shape, rng):
        return rng.normal(0, 0.05, size=(6, 2, 70, 30))

    C.check_array(visible_only, (6, 2, 70, 30))
    assert "hard-coded" in failure(C.check_array, visible_only, (9, 1, 50, 40))


def test_student_exceptions_become_one_readable_message():
    def not_written(shape, rng):
        raise NotImplementedError()

    def typo(shape, rng):
        return rng.normal(size=shaep)  # noqa: F821

    def wrong_signature(shape):
        return np.zeros(shape)

    with pytest.raises(AssertionError) as info:
        C.check_initializer(not_written, CONV, scale=2.0, mode="fan_in", distribution="normal")
    assert "not written yet" in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert len(traceback.extract_tb(info.value.__traceback__)) <= 2
    assert "NameError" in failure(C.check_array, typo, CONV)
    assert "Check the signature" in failure(C.check_array, wrong_signature, CONV)


def test_checks_work_on_copies():
    """Student code cannot reach the checker's arrays, nor the caller's."""
    kept = []

    def keeps_and_mutates(x):
        kept.append(x)
        x -= x.mean(axis=0)
        return x / x.std(axis=0)

    x = np.random.default_rng(0).normal(3, 2, size=(30, 4))
    original = x.copy()
    assert "changed its input x in place" in failure(C.check_standardize, keeps_and_mutates, x)
    assert np.array_equal(x, original) and kept[0] is not x

    def standardize(x):
        return (x - x.mean(axis=0)) / x.std(axis=0)

    C.check_standardize(standardize, x)
    assert np.array_equal(x, original)


# ---------------------------------------------------------------------------------------------
# Own code: weightinit's implementation is detected, however it is reached
# ---------------------------------------------------------------------------------------------


def test_library_use_is_detected_in_every_form():
    from weightinit import initializers
    from weightinit.initializers import variance_scaling

    wi = weightinit

    def through_module(shape, rng):
        return wi.he_normal(shape, rng)

    def through_function(shape, rng):
        return variance_scaling(shape, 2.0, "fan_in", "normal", rng)

    def local_import(shape, rng):
        from weightinit import he_normal

        return he_normal(shape, rng)

    def by_name(shape, rng):
        return importlib.import_module("weightinit").he_normal(shape, rng)

    def helper(shape, rng):
        return through_module(shape, rng)

    via_partial = functools.partial(initializers.variance_scaling, scale=2.0)
    cases = [weightinit.he_normal, initializers.kaiming_normal, through_module, through_function,
             local_import, by_name, helper, via_partial,
             lambda shape, rng: wi.he_normal(shape, rng)]
    for func in cases:
        assert "weightinit's own implementation" in failure(C.check_own_code, func), func


def test_own_code_is_not_flagged_and_allow_works():
    from weightinit import compute_fans

    def uses_allowed(shape, rng):
        fi, _ = compute_fans(shape)
        return rng.normal(0, math.sqrt(2 / fi), size=shape)

    for func in (he_normal_a, he_uniform_b, truncated, uses_allowed):
        if func is uses_allowed:
            C.check_own_code(func, allow=("compute_fans",))
        else:
            C.check_own_code(func)
    assert "weightinit's own implementation" in failure(C.check_own_code, uses_allowed)


# ---------------------------------------------------------------------------------------------
# Deterministic answers
# ---------------------------------------------------------------------------------------------


def test_fans():
    C.check_fans(fans, (512, 200))
    C.check_fans(fans, CONV)
    C.check_fans(fans, (10,))
    C.check_fans(fans, ())
    assert "receptive field left out" in failure(C.check_fans, lambda s: (s[-2], s[-1]), CONV)
    assert "PyTorch's (out, in, *kernel)" in failure(
        C.check_fans, lambda s: (s[1] * math.prod(s[2:]), s[0] * math.prod(s[2:])), CONV
    )
    assert "swapped" in failure(C.check_fans, lambda s: fans(s)[::-1], (512, 200))
    assert "1-D shape" in failure(C.check_fans, lambda s: (s[0], 1), (10,))
    assert "integers" in failure(C.check_fans, lambda s: (512.0, 200.0), (512, 200))

    def hard_coded(shape):
        return 33, 44

    C.check_fans(hard_coded, (33, 44))
    assert "hard-coded" in failure(C.check_fans, hard_coded, (3, 7))
    assert "weightinit's own implementation" in failure(C.check_fans, weightinit.compute_fans,
                                                      (3, 7))


def test_preactivation_variance():
    def right(n, var_w, var_x, mean_x=0.0):
        return n * var_w * (var_x + mean_x**2)

    C.check_preactivation_variance(right, 250, 0.004, 1.5)
    C.check_preactivation_variance(right, 250, 0.004, 1.5, 0.7)
    msg = failure(C.check_preactivation_variance, lambda n, vw, vx, m=0.0: n * vw * vx,
                  250, 0.004, 1.5, 0.7)
    assert "the mean of x left out" in msg
    msg = failure(C.check_preactivation_variance, lambda n, vw, vx, m=0.0: n * vw * (vx + m),
                  250, 0.004, 1.5, 0.7)
    assert "mean_x where mean_x**2 is meant" in msg


def test_standardize_mistakes():
    x = np.random.default_rng(1).normal([0, 5, 1e6], [1, 0.1, 1], size=(40, 3))

    def ddof1(x):
        return (x - x.mean(0)) / x.std(0, ddof=1)

    def whole(x):
        return (x - x.mean()) / x.std()

    def one_pass(x):
        return (x - x.mean(0)) / np.sqrt((x**2).mean(0) - x.mean(0) ** 2)

    assert "ddof=1" in failure(C.check_standardize, ddof1, x)
    assert "the whole array's mean" in failure(C.check_standardize, whole, x)
    assert "one-pass formula" in failure(C.check_standardize, one_pass, x)

    def no_check(x):
        return (x - x.mean(0)) / x.std(0)

    def raises_other(x):
        raise ZeroDivisionError("std is 0")

    constant = np.column_stack([np.arange(5.0), np.full(5, 2.0)])
    with np.errstate(all="ignore"):
        assert "Raise ValueError instead" in failure(
            C.check_standardize_rejects_constant, no_check, constant
        )
    assert "expected ValueError" in failure(C.check_standardize_rejects_constant, raises_other,
                                            constant)


def test_saturated_fraction():
    z = np.random.default_rng(2).normal(0, 3, size=4000)

    def right(z, threshold=4.0):
        return float(np.mean(np.abs(z) > threshold))

    C.check_saturated_fraction(right, z)
    C.check_saturated_fraction(right, z, 2.5)
    assert "one tail only" in failure(C.check_saturated_fraction,
                                      lambda z, t=4.0: float(np.mean(z > t)), z)
    assert "a count instead of a fraction" in failure(
        C.check_saturated_fraction, lambda z, t=4.0: int(np.sum(np.abs(z) > t)), z
    )


def test_sample_preactivations_mistakes():
    def mean_of_products(n, var_w, var_x, trials, rng):
        w = rng.normal(0, np.sqrt(var_w), size=(trials, n))
        return (w * rng.normal(0, np.sqrt(var_x), size=(trials, n))).mean(axis=1)

    def direct(n, var_w, var_x, trials, rng):
        return rng.normal(0, np.sqrt(n * var_w * var_x), size=trials)

    assert "the mean of the n products" in failure(
        C.check_sample_preactivations, mean_of_products, 250, 0.008, 1.0, 20000
    )
    assert "z drawn directly from a normal" in failure(
        C.check_sample_preactivations, direct, 3, 1.0, 1.0, 20000
    )


def test_check_raises():
    def strict(mode):
        if mode != "fan_in":
            raise ValueError(f"mode must be 'fan_in', got {mode!r}")

    C.check_raises(strict, ("fan_sideways",), ValueError, mentions="fan_sideways")
    assert "returned without raising" in failure(C.check_raises, strict, ("fan_in",))
    assert "should name 'nope'" in failure(C.check_raises, strict, ("x",), mentions="nope")


# ---------------------------------------------------------------------------------------------
# ex05 and ex06: the calls the notebooks make, recorded
# ---------------------------------------------------------------------------------------------


def _recorded_calls(assignment: str) -> list[tuple[str, tuple, dict]]:
    """Every check call of the solution's test cells, visible and hidden: each test cell runs
    with the check functions replaced by recorders (and the student's functions by stubs)."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
    calls: list[tuple[str, tuple, dict]] = []

    def recorder(name):
        return lambda *args, **kwargs: calls.append((name, args, kwargs))

    namespace = {"math": math, "np": np}
    namespace.update({name: recorder(name) for name in C.__all__ if name.startswith("check_")})
    namespace.update({  # the student's functions, never called by a recorder
        c.metadata.nbgrader["grade_id"]: None
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    })
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        exec(compile(cell.source, f"<{assignment}>", "exec"), dict(namespace))  # noqa: S102
    return calls


EX05_CALLS = _recorded_calls("ex05-deep-signal")
EX06_CALLS = _recorded_calls("ex06-training")
DEEP_CALLS = [
    (name, args[1], tuple(args[2]), kwargs)
    for name, args, kwargs in EX05_CALLS
    if name in ("check_forward_stds", "check_backward_stds")
]
MLP_VARIANCE_CALLS = [
    (tuple(args[1]), args[2], kwargs.get("seed", 0))
    for name, args, kwargs in EX06_CALLS
    if name == "check_init_mlp_variance" and args[2] != "zeros"
]


def test_notebooks_call_the_new_checks():
    names = {name for name, *_ in EX05_CALLS} | {name for name, *_ in EX06_CALLS}
    assert {"check_gain", "check_forward_stds", "check_backward_stds", "check_init_mlp_shapes",
            "check_init_mlp_biases", "check_init_mlp_variance", "check_init_mlp_rng",
            "check_init_mlp_symmetry", "check_raises"} <= names
    assert {act for _, act, _, _ in DEEP_CALLS} == set(C.DEEP_ACTIVATIONS)
    assert {scheme for _, scheme, _ in MLP_VARIANCE_CALLS} == {"small", "large", "xavier", "he"}


# ---------------------------------------------------------------------------------------------
# ex05: calculate_gain
# ---------------------------------------------------------------------------------------------


def _gain(activation, param=None):
    if activation in ("linear", "sigmoid") or activation.startswith("conv"):
        return 1.0
    if activation == "leaky_relu":
        a = 0.01 if param is None else param
        return math.sqrt(2 / (1 + a * a))
    return {"tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75}[activation]


def test_gain_matches_pytorchs_table():
    """The reference is weightinit's calculate_gain; its values are PyTorch's (checked here from
    the numbers, not from the library)."""
    expected = {"linear": 1.0, "conv2d": 1.0, "conv_transpose3d": 1.0, "sigmoid": 1.0,
                "tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75}
    for name, value in expected.items():
        assert weightinit.calculate_gain(name) == pytest.approx(value, rel=1e-15)
    assert weightinit.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / 1.0001))
    for name in C.GAIN_NAMES:
        C.check_gain(_gain, name)
    for a in (0.0, 0.2, 0.5, 1.0):
        C.check_gain(_gain, "leaky_relu", a)


def test_gain_mistakes_are_named():
    assert "He's variance factor 2" in failure(C.check_gain, lambda a, p=None: 2.0, "relu")
    assert "the gain inverted, 3/5" in failure(C.check_gain, lambda a, p=None: 0.6, "tanh")
    assert "tanh treated as linear" in failure(C.check_gain, lambda a, p=None: 1.0, "tanh")
    assert "a where a**2 is meant" in failure(
        C.check_gain, lambda a, p=None: math.sqrt(2 / (1 + p)), "leaky_relu", 0.2)
    assert "the square root left out" in failure(
        C.check_gain, lambda a, p=None: 2 / (1 + p * p), "leaky_relu", 0.2)
    assert "param ignored" in failure(
        C.check_gain, lambda a, p=None: math.sqrt(2 / 1.0001), "leaky_relu", 0.3)
    assert "the negative slope left out" in failure(
        C.check_gain, lambda a, p=None: math.sqrt(2), "leaky_relu")
    assert "PyTorch's table gives selu 3/4" in failure(C.check_gain, lambda a, p=None: 1, "selu")
    assert "the SELU scale" in failure(C.check_gain, lambda a, p=None: 1.0507009873554805, "selu")
    assert "sigmoid'(0)" in failure(C.check_gain, lambda a, p=None: 0.25, "sigmoid")
    assert "That is the gain rounded" in failure(C.check_gain, lambda a, p=None: 1.414, "relu")
    assert "must know every name" in failure(C.check_gain, lambda a, p=None: {}[a], "conv3d")
    assert "weightinit's own implementation" in failure(
        C.check_gain, weightinit.calculate_gain, "relu")
    with pytest.raises(ValueError, match="activation must be one of"):
        C.check_gain(_gain, "softplus")


# ---------------------------------------------------------------------------------------------
# ex05: forward_stds and backward_stds
# ---------------------------------------------------------------------------------------------

#: Correct activations written in other ways: (forward, derivative), each numerically different
#: from weightinit.activations in the last bits.
OTHER_ACTS = {
    "linear": (lambda z: z * 1.0, lambda z: np.ones(z.shape)),
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z: np.heaviside(z, 0.0)),
    "tanh": (lambda z: (np.exp(2 * z) - 1) / (np.exp(2 * z) + 1), lambda z: 1 / np.cosh(z) ** 2),
    "sigmoid": (lambda z: 0.5 * (1 + np.tanh(z / 2)),
                lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
}


def _std_by_hand(a):
    mean = math.fsum(a.ravel()) / a.size
    return math.sqrt(math.fsum(((a - mean) ** 2).ravel()) / a.size)


def forward_einsum(x, weights, activation):
    f = OTHER_ACTS[activation][0]
    h, out = x, []
    for w in weights:
        h = f(np.einsum("bi,io->bo", h, w, optimize=False))
        out.append(_std_by_hand(h))
    return out


def forward_rows(x, weights, activation):
    f = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
         "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[activation]
    h, out = x, []
    for w in weights:
        h = np.stack([f(row @ w) for row in h])
        out.append(float(np.sqrt(np.var(h))))
    return out


def backward_einsum(x, weights, activation, grad_output):
    f, d = OTHER_ACTS[activation]
    zs, h = [], x
    for w in weights:
        zs.append(np.einsum("bi,io->bo", h, w, optimize=False))
        h = f(zs[-1])
    out, g = [], grad_output
    for w, z in zip(weights[::-1], zs[::-1], strict=True):
        dz = g * d(z)
        out.append(_std_by_hand(dz))
        g = np.einsum("bo,io->bi", dz, w, optimize=False)
    return out[::-1]


def backward_from_outputs(x, weights, activation, grad_output):
    slope = {"linear": lambda h: 1.0, "relu": lambda h: (h > 0) * 1.0,
             "tanh": lambda h: 1 - h * h, "sigmoid": lambda h: h * (1 - h)}[activation]
    f = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
         "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[activation]
    hs = [x]
    for w in weights:
        hs.append(f((w.T @ hs[-1].T).T))
    out, g = [0.0] * len(weights), grad_output
    for i in range(len(weights) - 1, -1, -1):
        dz = g * slope(hs[i + 1])
        out[i] = float(np.std(dz))
        g = (weights[i] @ dz.T).T
    return out


def _deep(name, act, sizes, kwargs):
    kw = {k: v for k, v in kwargs.items() if k in ("weight_std", "gain", "batch", "seed")}
    x, ws, g = deep._deep_problem(sizes, kw.get("batch", 200), kw.get("weight_std"), kw.get("gain"),
                                  kw.get("seed", 0))
    return x, ws, g


@pytest.mark.parametrize("name,act,sizes,kwargs", DEEP_CALLS,
                         ids=[f"{n[6:]}-{a}-{len(s)}-{k}" for n, a, s, k in DEEP_CALLS])
def test_correct_deep_variants_agree_far_inside_the_tolerance(name, act, sizes, kwargs):
    """Calibration of STD_RTOL on every notebook configuration: correct implementations that
    round differently (einsum or a loop over rows, W.T @ h.T, activations and derivatives from
    other formulas, derivatives from the outputs, fsum stds) agree with the reference to 1e-11
    relative, a hundredth of the tolerance, and pass the check."""
    x, ws, g = _deep(name, act, sizes, kwargs)
    with np.errstate(all="ignore"):
        if name == "check_forward_stds":
            ref = np.array(weightinit.simulation.propagation.forward_stds(x, ws, act))
            others = [forward_einsum(x, ws, act), forward_rows(x, ws, act)]
            funcs = (forward_einsum, forward_rows)
        else:
            ref = np.array(weightinit.simulation.propagation.backward_stds(x, ws, act, g))
            others = [backward_einsum(x, ws, act, g), backward_from_outputs(x, ws, act, g)]
            funcs = (backward_einsum, backward_from_outputs)
    for got in others:
        assert np.max(np.abs(np.array(got) - ref) / ref) < C.STD_RTOL / 100
    check = getattr(C, name)
    for func in funcs:
        check(func, act, list(sizes), **kwargs)


#: Named variants that coincide with the right answer by construction, per activation...
IDENTICAL = {
    "linear": ("the std of the pre-activations", "the activation left out", "the derivative taken "
               "at h_l", "the activation's derivative left out", "the forward pass without the "
               "activation", "the derivative used for the recorded std but not passed down",
               "the std of dL/dh_l, before"),
    "relu": ("the derivative taken at h_l",),
    "tanh": (),
    "sigmoid": (),
}
#: ... and for a network of one layer, whatever the activation.
IDENTICAL_ONE_LAYER = ("the list in reverse order", "the derivative used for the recorded std",
                       "the forward pass without the activation")


@pytest.mark.parametrize("name,act,sizes,kwargs", DEEP_CALLS,
                         ids=[f"{n[6:]}-{a}-{len(s)}-{k}" for n, a, s, k in DEEP_CALLS])
def test_every_named_deep_mistake_is_far_outside_the_tolerance(name, act, sizes, kwargs):
    """Each named mistake moves some layer's std by more than 1e-7 relative on every notebook
    configuration (a hundred times STD_RTOL; most by 1e-5 or more), unless it is the right answer
    by construction there (the std of z is the std of h in a linear network, the order of a
    one-layer list does not matter)."""
    x, ws, g = _deep(name, act, sizes, kwargs)
    a = weightinit.get_activation(act)
    with np.errstate(all="ignore"):
        if name == "check_forward_stds":
            ref = np.array(weightinit.simulation.propagation.forward_stds(x, ws, a))
            variants = deep._forward_variants(x, ws, a)
        else:
            ref = np.array(weightinit.simulation.propagation.backward_stds(x, ws, a, g))
            variants = deep._backward_variants(x, ws, a, g)
    for mistake, values in variants.items():
        gap = np.max(np.abs(np.array(values) - ref) / ref)
        if mistake.startswith(IDENTICAL[act]) or (
            len(ws) == 1 and mistake.startswith(IDENTICAL_ONE_LAYER)
        ):
            assert gap < 1e-12, (mistake, gap)
        else:
            assert gap > 100 * C.STD_RTOL, (mistake, gap)


SQUARE = [200, 200, 200, 200]
TALL = [250, 200, 150, 100]


def test_forward_mistakes_are_named():
    def std_of_z(x, weights, activation):
        f = OTHER_ACTS[activation][0]
        h, out = x, []
        for w in weights:
            z = h @ w
            out.append(float(np.std(z)))
            h = f(z)
        return out

    def with_input(x, weights, activation):
        return [float(np.std(x)), *forward_rows(x, weights, activation)]

    def last_missing(x, weights, activation):
        return forward_rows(x, weights[:-1], activation)

    def first_missing(x, weights, activation):
        return forward_rows(x, weights, activation)[1:]

    def variances(x, weights, activation):
        return [s**2 for s in forward_rows(x, weights, activation)]

    def transposed(x, weights, activation):
        return forward_rows(x, [w.T for w in weights], activation)

    def no_return(x, weights, activation):
        forward_rows(x, weights, activation)

    def per_unit(x, weights, activation):
        h, out = x, []
        for w in weights:
            h = np.tanh(h @ w)
            out.append(np.std(h, axis=0))
        return out

    def centres_x(x, weights, activation):
        x -= x.mean()
        return forward_rows(x, weights, activation)

    def pops(x, weights, activation):
        last = weights.pop()
        return forward_rows(x, [*weights, last], activation)

    def nan(x, weights, activation):
        return [float("nan")] * len(weights)

    check = C.check_forward_stds
    assert "the std of the pre-activations" in failure(check, std_of_z, "tanh", TALL, gain=1.0)
    assert "the input layer included" in failure(check, with_input, "relu", TALL, gain=1.4)
    assert "the last layer left out" in failure(check, last_missing, "relu", TALL, gain=1.4)
    assert "the first layer left out" in failure(check, first_missing, "relu", TALL, gain=1.4)
    assert "the variance (np.var)" in failure(check, variances, "sigmoid", TALL, gain=1.0)
    assert "W_l.T instead of W_l" in failure(check, transposed, "tanh", SQUARE, gain=1.0)
    assert "the weight's orientation" in failure(check, transposed, "tanh", TALL, gain=1.0)
    assert "returned None" in failure(check, no_return, "tanh", TALL, gain=1.0)
    assert "np.std(h, axis=0)" in failure(check, per_unit, "tanh", TALL, gain=1.0)
    assert "changed the values of x in place" in failure(check, centres_x, "tanh", TALL,
                                                         gain=1.0)
    assert "the length of the list weights" in failure(check, pops, "tanh", TALL, gain=1.0)
    assert "overflow" in failure(check, nan, "tanh", TALL, gain=1.0)
    assert "must support the activations" in failure(
        check, lambda x, w, a: forward_rows(x, w, {"sigmoid": "logistic"}.get(a, a)), "sigmoid",
        TALL, gain=1.0)


def test_backward_mistakes_are_named():
    def reversed_list(x, weights, activation, g):
        return backward_from_outputs(x, weights, activation, g)[::-1]

    def no_derivative(x, weights, activation, g):
        out = []
        for w in weights[::-1]:
            out.append(float(np.std(g)))
            g = g @ w.T
        return out[::-1]

    def w_not_wt(x, weights, activation, g):
        zs, h = [], x
        for w in weights:
            zs.append(h @ w)
            h = np.tanh(zs[-1])
        out = []
        for w, z in zip(weights[::-1], zs[::-1], strict=True):
            dz = g * (1 - np.tanh(z) ** 2)
            out.append(float(np.std(dz)))
            g = dz @ w
        return out[::-1]

    def at_h(x, weights, activation, g):
        hs, h = [], x
        for w in weights:
            h = np.tanh(h @ w)
            hs.append(h)
        out = []
        for w, hh in zip(weights[::-1], hs[::-1], strict=True):
            dz = g * (1 - np.tanh(hh) ** 2)
            out.append(float(np.std(dz)))
            g = dz @ w.T
        return out[::-1]

    def reverses(x, weights, activation, g):
        weights.reverse()
        weights.reverse()
        weights[0], weights[1] = weights[1], weights[0]
        return [1.0] * len(weights)

    def scales_grad(x, weights, activation, g):
        g *= 1.0 + 1e-12
        return backward_from_outputs(x, weights, activation, g)

    check = C.check_backward_stds
    assert "the list in reverse order" in failure(check, reversed_list, "relu", TALL, gain=1.4)
    assert "the activation's derivative left out" in failure(check, no_derivative, "tanh", TALL,
                                                             gain=1.0)
    assert "W_l where W_l.T is meant" in failure(check, w_not_wt, "tanh", SQUARE, gain=1.0)
    assert "W_l where W_l.T is meant" in failure(check, w_not_wt, "tanh", TALL, gain=1.0)
    assert "the derivative taken at h_l" in failure(check, at_h, "tanh", TALL, gain=1.0)
    assert "the order of the list weights" in failure(check, reverses, "tanh", SQUARE, gain=1.0)
    assert "the values of grad_output" in failure(check, scales_grad, "tanh", TALL, gain=1.0)
    assert "weightinit's own implementation" in failure(
        check, weightinit.simulation.propagation.backward_stds, "tanh", TALL, gain=1.0)


def test_deep_hard_coded_answer_is_named():
    answers = {}

    def remembers(x, weights, activation):
        return answers.setdefault("first", forward_rows(x, weights, activation))

    C.check_forward_stds(remembers, "relu", [30, 40, 50], gain=1.0, seed=90)
    assert "an earlier test" in failure(C.check_forward_stds, remembers, "relu", [30, 40, 50],
                                        gain=1.0, seed=91)


def test_deep_checks_leave_the_callers_state_alone():
    """The checker's arrays come from its own generator; NumPy's global state is untouched."""
    np.random.seed(5)  # noqa: NPY002
    before = np.random.get_state()  # noqa: NPY002
    C.check_backward_stds(backward_einsum, "sigmoid", TALL, gain=1.0)
    after = np.random.get_state()  # noqa: NPY002
    assert before[0] == after[0] and np.array_equal(before[1], after[1])


# ---------------------------------------------------------------------------------------------
# ex06: init_mlp
# ---------------------------------------------------------------------------------------------


SCHEMES = ("zeros", "small", "large", "xavier", "he")


def init_mlp(layer_sizes, scheme, rng):
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}")
    std = {"zeros": lambda a, b: 0.0, "small": lambda a, b: 0.01, "large": lambda a, b: 10.0,
           "xavier": lambda a, b: math.sqrt(2 / (a + b)), "he": lambda a, b: math.sqrt(2 / a)}
    return [(std[scheme](a, b) * rng.standard_normal((a, b)) if scheme != "zeros"
             else np.zeros((a, b)), np.zeros(b))
            for a, b in zip(layer_sizes[:-1], layer_sizes[1:], strict=True)]


def _wrong(scheme_std):
    """init_mlp with the weights of each scheme drawn with std scheme_std[scheme](n_in, n_out)."""
    def func(layer_sizes, scheme, rng):
        params = init_mlp(layer_sizes, scheme, rng)
        if scheme in scheme_std:
            return [(rng.normal(0, scheme_std[scheme](*w.shape), size=w.shape), b)
                    for w, b in params]
        return params

    return func


@pytest.mark.parametrize("sizes,scheme,seed", MLP_VARIANCE_CALLS)
def test_mlp_test_sizes_separate_every_mistake(sizes, scheme, seed):
    """Every layer of every variance test holds at least 30,000 weights; every named mistake
    moves its variance by at least 1.2x and the band rejects it with probability above 1 - 1e-6;
    two named mistakes differ by at least 1.1x, so a failure names one."""
    for layer in range(1, len(sizes)):
        n = sizes[layer - 1] * sizes[layer]
        assert n >= 30_000, f"layer {layer} of {sizes} has only {n} weights"
        target = C.mlp_target(sizes, layer, scheme)
        for mistake, ratio, power in C.mistake_table(target, n):
            assert max(ratio, 1 / ratio) >= 1.2, f"{mistake}: {ratio:.3f} on {sizes}"
            assert power > 1 - 1e-6, f"{mistake}: power {power} on {sizes}"
        for (m1, r1), (m2, r2) in itertools.combinations(target.mistakes, 2):
            assert max(r1 / r2, r2 / r1) >= 1.1, f"{m1!r} and {m2!r} on {sizes}"


def test_mlp_target_matches_the_formulas():
    he = C.mlp_target([640, 400, 100], 2, "he")
    assert he.std == pytest.approx(math.sqrt(2 / 400))
    ratios = dict(he.mistakes)

    def ratio(words):
        return next(r for m, r in ratios.items() if m.startswith(words))

    assert ratio("1/n_in where He") == 0.5
    assert ratio("n_out, the number of units") == pytest.approx(400 / 100)
    assert ratio("the input width n_0") == pytest.approx(400 / 640)
    assert ratio("the 'xavier' rule") == pytest.approx(400 / 500)
    xavier = dict(C.mlp_target([640, 400, 100], 1, "xavier").mistakes)
    assert next(r for m, r in xavier.items() if "factor 2 dropped" in m) == 0.5
    assert C.mlp_target([5, 5], 1, "small").std == 0.01
    assert C.mlp_target([5, 5], 1, "large").std == 10.0


def test_init_mlp_checks_pass_a_correct_answer_over_many_seeds():
    """The statistical stages at ALPHA = 1e-9 per band on correct parameters over many seeds:
    zero failures (benchmarks/false_failure.py runs more)."""
    for seed in range(FALSE_FAILURE_SEEDS):
        for scheme in C.MLP_SCHEMES:
            C.check_init_mlp_variance(init_mlp, [640, 400, 100], scheme, seed=1000 + seed)
    for scheme in C.MLP_SCHEMES:
        C.check_init_mlp_shapes(init_mlp, [2, 16, 16, 1], scheme)
        C.check_init_mlp_rng(init_mlp, [200, 300, 440], scheme)
    C.check_init_mlp_biases(init_mlp, [640, 400, 100])
    C.check_init_mlp_symmetry(init_mlp, [2, 16, 16, 1])
    C.check_init_mlp_symmetry(init_mlp, [2, 8, 8, 8, 1], hidden="relu", seed=1)


def test_init_mlp_variance_mistakes_are_named():
    sizes = [640, 400, 100]
    cases = [
        ("1/n_in where He uses 2/n_in", "he", lambda a, b: math.sqrt(1 / a)),
        ("n_out, the number of units in the next layer", "he", lambda a, b: math.sqrt(2 / b)),
        ("fan_avg where fan_in is meant", "he", lambda a, b: math.sqrt(4 / (a + b))),
        ("Glorot's factor 2 dropped", "xavier", lambda a, b: math.sqrt(1 / (a + b))),
        ("the 'he' rule", "xavier", lambda a, b: math.sqrt(2 / a)),
        ("LeCun's variance) where Glorot", "xavier", lambda a, b: math.sqrt(1 / a)),
        ("the variance used as the std", "small", lambda a, b: 1e-4),
        ("0.01 used as the variance", "small", lambda a, b: 0.1),
        ("10 used as the variance", "large", lambda a, b: math.sqrt(10)),
        ("no scaling at all", "large", lambda a, b: 1.0),
    ]
    for fragment, scheme, wrong_std in cases:
        message = failure(C.check_init_mlp_variance, _wrong({scheme: wrong_std}), sizes, scheme)
        assert fragment in message, (fragment, message)
        assert "times the target" in message

    def input_width(layer_sizes, scheme, rng):
        return [(rng.normal(0, math.sqrt(2 / layer_sizes[0]), size=(a, b)), np.zeros(b))
                for a, b in zip(layer_sizes[:-1], layer_sizes[1:], strict=True)]

    assert "the input width n_0" in failure(C.check_init_mlp_variance, input_width, sizes, "he")

    def tiny_zeros(layer_sizes, scheme, rng):
        return [(1e-8 * w + 1e-8, b) for w, b in init_mlp(layer_sizes, "he", rng)]

    assert "'zeros' means every weight exactly 0" in failure(
        C.check_init_mlp_variance, tiny_zeros, sizes, "zeros")

    def repeated_columns(layer_sizes, scheme, rng):
        return [(np.tile(w[:, :1], (1, w.shape[1])), b) for w, b in init_mlp(layer_sizes, scheme,
                                                                               rng)]

    assert "repeated-row pattern" in failure(C.check_init_mlp_variance, repeated_columns, sizes,
                                             "he")


def test_init_mlp_structure_mistakes_are_named():
    sizes = [640, 400, 100]

    def transform(fn):
        return lambda layer_sizes, scheme, rng: fn(init_mlp(layer_sizes, scheme, rng))

    cases = [
        ("a transposed shape", lambda p: [(w.T, b) for w, b in p]),
        ("two lists (the weights, then the biases)",
         lambda p: ([w for w, _ in p], [b for _, b in p])),
        ("one pair per width", lambda p: [*p, p[-1]]),
        ("stops one layer early", lambda p: p[:-1]),
        ("a bare array", lambda p: [w for w, _ in p]),
        ("b must be 1-D", lambda p: [(w, b[:, None]) for w, b in p]),
        ("one bias per input", lambda p: [(w, np.zeros(w.shape[0])) for w, _ in p]),
        ("dtype int64", lambda p: [(w, b.astype(np.int64)) for w, b in p]),
        ("returned a dict", lambda p: dict(enumerate(p))),
        ("returned None", lambda p: None),
        ("expected float64", lambda p: [(w.astype(np.float32), b) for w, b in p]),
    ]
    for fragment, fn in cases:
        assert fragment in failure(C.check_init_mlp_shapes, transform(fn), sizes, "he"), fragment

    def hard_coded(layer_sizes, scheme, rng):
        return init_mlp([33, 44, 55], scheme, rng)

    assert "hard-coded" in failure(C.check_init_mlp_shapes, hard_coded, [33, 44, 55], "he")


def test_init_mlp_bias_rng_and_symmetry_mistakes_are_named():
    sizes = [640, 400, 100]

    def constant_bias(layer_sizes, scheme, rng):
        return [(w, b + 0.01) for w, b in init_mlp(layer_sizes, scheme, rng)]

    def random_bias(layer_sizes, scheme, rng):
        return [(w, rng.normal(0, 0.1, size=b.shape)) for w, b in init_mlp(layer_sizes, scheme,
                                                                             rng)]

    def global_rng(layer_sizes, scheme, rng):
        return init_mlp(layer_sizes, scheme, np.random.default_rng(np.random.randint(10**6)))  # noqa: NPY002

    def fixed_seed(layer_sizes, scheme, rng):
        return init_mlp(layer_sizes, scheme, np.random.default_rng(42))

    def random_zeros(layer_sizes, scheme, rng):
        return init_mlp(layer_sizes, "small" if scheme == "zeros" else scheme, rng)

    def tiled_he(layer_sizes, scheme, rng):
        return [(np.ones_like(w) * 0.1, b) for w, b in init_mlp(layer_sizes, scheme, rng)]

    assert "every bias is 0.01" in failure(C.check_init_mlp_biases, constant_bias, sizes)
    assert "the biases are random" in failure(C.check_init_mlp_biases, random_bias, sizes)
    assert "the global np.random instead of rng" in failure(C.check_init_mlp_rng, global_rng,
                                                           sizes, "he")
    assert "hard-coded answer" in failure(C.check_init_mlp_rng, fixed_seed, sizes, "xavier")
    C.check_init_mlp_rng(fixed_seed, sizes, "zeros")  # zeros need no randomness
    assert "differ already before training" in failure(C.check_init_mlp_symmetry, random_zeros,
                                                       [2, 16, 16, 1])
    assert "are still identical" in failure(C.check_init_mlp_symmetry, tiled_he, [2, 16, 16, 1])
    assert "returned without raising" in failure(
        C.check_raises, lambda s, k, r: init_mlp(s, "he", r), ([4, 3, 2], "ones",
                                                             np.random.default_rng(0)))


def test_zeros_stay_exactly_symmetric_under_training():
    """The reason check_init_mlp_symmetry can ask for a spread of 0: from exact zeros every
    hidden unit's value and gradient are exactly equal (here: exactly 0), for tanh and ReLU."""
    from weightinit.simulation.datasets import circles
    from weightinit.simulation.training import train, unit_spread

    X, y = circles(200, noise=0.05, rng=3)
    for hidden in ("tanh", "relu"):
        result = train(X, y, init_mlp([2, 16, 16, 1], "zeros", None), hidden=hidden, lr=0.5,
                       epochs=50)
        assert unit_spread(result.params) == [0.0, 0.0]
        assert result.params[-1][1][0] != 0.0  # the output bias did learn


def test_library_use_is_detected_in_the_new_modules():
    """weightinit.simulation.propagation and weightinit.simulation.training are weightinit too."""
    import weightinit.simulation.propagation as prop
    from weightinit.simulation.training import init_mlp as library_init_mlp

    def via_module(x, weights, activation):
        return prop.forward_stds(x, weights, activation)

    def local_import(x, weights, activation, grad_output):
        import weightinit.simulation.propagation

        return weightinit.simulation.propagation.backward_stds(x, weights, activation, grad_output)

    def via_training(layer_sizes, scheme, rng):
        return library_init_mlp(layer_sizes, scheme, rng)

    def gain_inside(activation, param=None):
        from weightinit.initializers import calculate_gain

        return calculate_gain(activation, param)

    for func in (prop.forward_stds, via_module, local_import, library_init_mlp, via_training,
                 gain_inside, weightinit.calculate_gain):
        assert "weightinit's own implementation" in failure(C.check_own_code, func), func
    assert "weightinit's own implementation" in failure(C.check_forward_stds, via_module, "tanh",
                                                      TALL, gain=1.0)
    assert "weightinit's own implementation" in failure(C.check_init_mlp_variance, via_training,
                                                      [640, 400, 100], "he")


# --------------------------------------------------------------------------------------------
# A mistake in compute_fans is reported as that, not as a mistake in every initializer using it
# --------------------------------------------------------------------------------------------

_CASCADE_STUDENT = '''
import math

def compute_fans(shape):
    shape = tuple(shape)
    if len(shape) < 2:
        return (shape[0], shape[0]) if shape else (1, 1)
    return shape[0], shape[1]  # the mistake: the first two dimensions, whatever the layout

def he_normal(shape, rng):
    fan_in, _ = compute_fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)

def he_normal_own_fans(shape, rng):  # does not use compute_fans: its own wrong std
    return rng.normal(0.0, math.sqrt(2.0 / 3.0), size=shape)
'''


def _cascade_namespace() -> dict:
    namespace: dict = {}
    exec(compile(_CASCADE_STUDENT, "<student>", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize("check", ["check_initializer", "check_variance"])
def test_wrong_compute_fans_is_named_as_the_cause(check):
    ns = _cascade_namespace()
    with pytest.raises(AssertionError) as info:
        getattr(C, check)(ns["he_normal"], (7, 64, 96), scale=2.0, mode="fan_in",
                          distribution="normal")
    text = str(info.value)
    assert "compute_fans((7, 64, 96)) returns (7, 64); expected (448, 672)" in text, text
    assert "The cause is your compute_fans" in text and "No common mistake" not in text


def test_right_fans_or_an_unrelated_variance_gives_no_cascade():
    ns = _cascade_namespace()
    # A dense shape, where the wrong compute_fans happens to be right: the check passes.
    C.check_initializer(ns["he_normal"], (512, 200), scale=2.0, mode="fan_in",
                        distribution="normal")
    # A wrong variance the student's fans do not explain: the usual message, not the cascade.
    with pytest.raises(AssertionError) as info:
        C.check_initializer(ns["he_normal_own_fans"], (7, 64, 96), scale=2.0, mode="fan_in",
                            distribution="normal")
    assert "compute_fans" not in str(info.value)
    assert "the variance of your weights" in str(info.value)
