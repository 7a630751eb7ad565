"""Tests of ex07's checks (weightinit.grading.orthogonal): the tolerance, the Haar sign tests'
bands and power, correct implementations written four ways, and every named mistake.

The checks are called directly (fast); the grading pipeline runs the same implementations and
mistakes as notebooks in test_grading.py (tests/grading/corpus.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

import weightinit
from weightinit import grading as G
from weightinit.grading import orthogonal as O
from weightinit.stats import ALPHA

from .test_checks import _recorded_calls, failure

EX07_CALLS = _recorded_calls("ex07-orthogonal")
SHAPE_CALLS = [(tuple(a[1]), a[2]) for n, a, _ in EX07_CALLS if n == "check_orthogonal"]
HAAR_SHAPES = [tuple(a[1]) for n, a, _ in EX07_CALLS if n == "check_orthogonal_haar"]


def _dims(shape):
    rows, cols = math.prod(shape[:-1]), shape[-1]
    return rows, cols, max(rows, cols), min(rows, cols)


def _finish(q, shape, gain):
    rows, cols, _, _ = _dims(shape)
    return gain * (q if rows >= cols else q.T).reshape(shape)


# ---------------------------------------------------------------------------------------------
# Correct answers, four ways (the corpus has them as notebooks too)
# ---------------------------------------------------------------------------------------------


def qr_signs(shape, gain, rng):
    _, _, n, k = _dims(shape)
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return _finish(q * np.sign(np.diag(r)), shape, gain)


def svd_polar(shape, gain, rng):
    rows, cols, _, _ = _dims(shape)
    u, _, vt = np.linalg.svd(rng.standard_normal((rows, cols)), full_matrices=False)
    return gain * (u @ vt).reshape(shape)


def householder(shape, gain, rng):
    _, _, n, k = _dims(shape)
    a = rng.standard_normal((n, k))
    q = np.eye(n)
    for j in range(k):
        v = a[j:, j].copy()
        v[0] += math.copysign(np.linalg.norm(v), v[0])
        v /= np.linalg.norm(v)
        a[j:, :] -= 2.0 * np.outer(v, v @ a[j:, :])
        q[:, j:] -= 2.0 * np.outer(q[:, j:] @ v, v)
    return _finish(q[:, :k] * np.sign(np.diag(a)[:k]), shape, gain)


def gram_schmidt(shape, gain, rng, modified=True):
    _, _, n, k = _dims(shape)
    a = rng.standard_normal((n, k))
    q = np.zeros((n, k))
    for j in range(k):
        v = a[:, j].copy()
        if modified:
            for i in range(j):
                v -= (q[:, i] @ v) * q[:, i]
        else:
            v -= q[:, :j] @ (q[:, :j].T @ a[:, j])
        q[:, j] = v / np.linalg.norm(v)
    return _finish(q, shape, gain)


def classical_gram_schmidt(shape, gain, rng):
    return gram_schmidt(shape, gain, rng, modified=False)


CORRECT = [qr_signs, svd_polar, householder, gram_schmidt]


def deviation(w, shape, gain):
    rows, cols, _, _ = _dims(shape)
    m = w.reshape(rows, cols) / gain
    t = m if rows >= cols else m.T
    return float(np.max(np.abs(t.T @ t - np.eye(t.shape[1]))))


# ---------------------------------------------------------------------------------------------
# The tolerance: rounding of correct answers far below it, mistakes far above
# ---------------------------------------------------------------------------------------------


def test_notebook_calls_cover_every_kind_of_shape():
    kinds = set()
    for shape, _ in SHAPE_CALLS:
        rows, cols, _, _ = _dims(shape)
        kinds.add("conv" if len(shape) > 2 else "tall" if rows > cols else
                  "wide" if rows < cols else "square")
    assert kinds == {"tall", "wide", "square", "conv"}
    assert {g for _, g in SHAPE_CALLS} - {1.0}, "no test of a gain other than 1"
    assert HAAR_SHAPES and {n for n, *_ in EX07_CALLS} == {
        "check_orthogonal", "check_orthogonal_rng", "check_orthogonal_haar"}


@pytest.mark.parametrize("func", CORRECT, ids=lambda f: f.__name__)
def test_correct_rounding_is_far_below_the_tolerance(func):
    """On every shape the notebook asks (and the shape each call tries next), over seeds, the
    stable algorithms stay 1e5 times below ORTHO_TOL."""
    worst = 0.0
    for shape, gain in SHAPE_CALLS:
        other = (*shape[:-2], shape[-2] + 1, shape[-1] + 1)
        for s in (shape, other):
            for seed in range(3):
                worst = max(worst, deviation(func(s, gain, np.random.default_rng(seed)), s, gain))
    assert worst < 1e-5 * G.ORTHO_TOL


def test_classical_gram_schmidt_stays_below_the_tolerance():
    """Classical Gram-Schmidt loses orthogonality like eps * cond(A)**2, worst on square
    matrices; over 2000 square draws of the notebook's largest square size it stays 100x below
    ORTHO_TOL."""
    shape = max((s for s, _ in SHAPE_CALLS if len(s) == 2 and s[0] == s[1]), key=lambda s: s[0])
    worst = max(deviation(classical_gram_schmidt(shape, 1.0, np.random.default_rng(seed)),
                          shape, 1.0) for seed in range(2000))
    assert worst < 1e-2 * G.ORTHO_TOL


def test_a_normalised_gaussian_is_far_above_the_tolerance():
    """The named mistake nearest to orthogonal: a Gaussian divided by sqrt(n), on the largest
    matrix a test asks for, deviates by 1e4 times ORTHO_TOL or more."""
    shape = max((s for s, _ in SHAPE_CALLS), key=lambda s: math.prod(s))
    rows = math.prod(shape[:-1])
    for seed in range(20):
        w = np.random.default_rng(seed).standard_normal(shape) / math.sqrt(rows)
        assert deviation(w, shape, 1.0) > 1e4 * G.ORTHO_TOL


# ---------------------------------------------------------------------------------------------
# The Haar check: exact bands, power 1 against the named mistakes, no false failure
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", HAAR_SHAPES)
def test_haar_bands_are_exact_binomial_quantiles(shape):
    """Each band holds a Binomial(m, 1/2) count with probability >= 1 - ALPHA/3, and is the
    narrowest such band (one more step inward on either side would break it)."""
    _, _, n, k = _dims(shape)
    for name, (lo, hi) in O.haar_bands(n, k).items():
        m = O.HAAR_DRAWS * {"corner": 1, "diagonal": k, "column": n}[name]
        assert st.binom.cdf(lo - 1, m, 0.5) <= ALPHA / 6 < st.binom.cdf(lo, m, 0.5), name
        assert st.binom.sf(hi, m, 0.5) <= ALPHA / 6 < st.binom.sf(hi - 1, m, 0.5), name


def test_haar_power_is_one_against_every_named_mistake():
    """The corner band is [2, 38] over 40 draws: a mistake that fixes the sign of Q[0,0] gives a
    count of 0 or 40, outside it, so the power is exactly 1 (the comment at HAAR_DRAWS)."""
    assert O.haar_bands(24, 16)["corner"] == (2, 38)
    table = G.haar_power()
    assert [m for m, _, _ in table] == [m for m, _ in G.HAAR_MISTAKES]
    for mistake, p, power in table:
        assert p in (0.0, 1.0) and power == 1.0, mistake
    # A mistake that only leans is not covered by that claim: at P(Q[0,0] < 0) = 0.9 the corner
    # test alone would catch it in only 8% of runs (the diagonal test is there for those).
    lo, hi = O.haar_bands(24, 16)["corner"]
    lean = st.binom.cdf(lo - 1, O.HAAR_DRAWS, 0.9) + st.binom.sf(hi, O.HAAR_DRAWS, 0.9)
    assert 0.05 < lean < 0.1


def _uncorrected(shape, gain, rng):
    _, _, n, k = _dims(shape)
    return _finish(np.linalg.qr(rng.standard_normal((n, k)))[0], shape, gain)


def _uniform(shape, gain, rng):
    _, _, n, k = _dims(shape)
    q, r = np.linalg.qr(rng.random((n, k)))
    return _finish(q * np.sign(np.diag(r)), shape, gain)


def _uniform_uncorrected(shape, gain, rng):
    _, _, n, k = _dims(shape)
    return _finish(np.linalg.qr(rng.random((n, k)))[0], shape, gain)


def _own_diagonal(shape, gain, rng):
    _, _, n, k = _dims(shape)
    q = np.linalg.qr(rng.standard_normal((n, k)))[0]
    return _finish(q * np.sign(np.diag(q)), shape, gain)


MISTAKE_FUNCS = [_uncorrected, _uniform, _uniform_uncorrected, _own_diagonal]


@pytest.mark.parametrize("shape", [*HAAR_SHAPES, (300, 40), (7, 7)])
def test_each_named_mistake_fixes_the_sign_of_q00(shape):
    """The premise of the power: under each mistake of HAAR_MISTAKES, Q[0,0] (of the tall
    orientation) has the stated sign in every one of 500 draws."""
    rows, cols, _, _ = _dims(shape)
    for func, (mistake, p) in zip(MISTAKE_FUNCS, G.HAAR_MISTAKES, strict=True):
        for seed in range(500):
            q00 = func(shape, 1.0, np.random.default_rng(seed)).reshape(rows, cols)[0, 0]
            assert (q00 < 0) == (p == 1.0), (mistake, seed)


@pytest.mark.parametrize("func", CORRECT, ids=lambda f: f.__name__)
def test_correct_answers_pass_the_haar_check(func):
    for shape in HAAR_SHAPES:
        G.check_orthogonal_haar(func, shape, 1.0, seed=7)


def test_haar_check_has_no_false_failure_over_seeds():
    """A correct Q over 60 seeds on every shape the notebook asks: no failure (each run is three
    bands at ALPHA/3; benchmarks/false_failure.py runs more)."""
    for seed in range(60):
        for shape in HAAR_SHAPES:
            G.check_orthogonal_haar(qr_signs, shape, 1.0, seed=1000 * seed)


def test_haar_counts_of_a_correct_q_are_fair_coins():
    """The law the bands assume, measured: over 3000 draws of a correct Q the fraction of negative
    Q[0,0], diagonal and first-column entries is 1/2 within 5 standard errors."""
    shape = HAAR_SHAPES[0]
    rows, cols, n, k = _dims(shape)
    corner, diagonal, column = [], [], []
    for seed in range(3000):
        m = qr_signs(shape, 1.0, np.random.default_rng(seed)).reshape(rows, cols)
        t = m if rows >= cols else m.T
        corner.append(t[0, 0] < 0)
        diagonal.append(np.mean(np.diag(t) < 0))
        column.append(np.mean(t[:, 0] < 0))
    for values, per in ((corner, 1), (diagonal, k), (column, n)):
        assert abs(np.mean(values) - 0.5) < 5 * 0.5 / math.sqrt(3000 * per)


@pytest.mark.parametrize("shape", HAAR_SHAPES)
def test_haar_mistakes_are_named(shape):
    assert "no sign correction" in failure(G.check_orthogonal_haar, _uncorrected, shape)
    assert "rng.random matrix orthogonalised" in failure(G.check_orthogonal_haar, _uniform, shape)
    assert "rng.random matrix orthogonalised" in failure(G.check_orthogonal_haar,
                                                         _uniform_uncorrected, shape)
    assert "the signs of Q's own diagonal" in failure(G.check_orthogonal_haar, _own_diagonal,
                                                      shape)


# ---------------------------------------------------------------------------------------------
# Orthogonality, the gain, rng: passes and named failures
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", CORRECT, ids=lambda f: f.__name__)
def test_correct_answers_pass_every_shape_gain_and_rng_check(func):
    for shape, gain in SHAPE_CALLS:
        G.check_orthogonal(func, shape, gain, seed=3)
    G.check_orthogonal(func, (256, 128), -2.0)  # a negative gain is a gain too
    G.check_orthogonal_rng(func, (3, 3, 16, 32), 1.0)


def _reshaped(shape, gain, rng):
    _, _, n, k = _dims(shape)
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return gain * (q * np.sign(np.diag(r))).reshape(shape)


def _returned(shape, gain, rng):
    _, _, n, k = _dims(shape)
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return gain * q * np.sign(np.diag(r))


def _always_transposed(shape, gain, rng):
    _, _, n, k = _dims(shape)
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return gain * (q * np.sign(np.diag(r))).T.reshape(shape)


def _pytorch_flattening(shape, gain, rng):
    return qr_signs((shape[0], math.prod(shape[1:])), gain, rng).reshape(shape)


def _normalised(shape, gain, rng):
    return gain * rng.standard_normal(shape) / math.sqrt(math.prod(shape[:-1]))


def _unit_columns(shape, gain, rng):
    a = rng.standard_normal((math.prod(shape[:-1]), shape[-1]))
    return (gain * a / np.linalg.norm(a, axis=0)).reshape(shape)


def _unnormalised_gram_schmidt(shape, gain, rng):
    rows, cols, n, k = _dims(shape)
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return _finish(q * np.diag(r), shape, gain)


def _gain(factor):
    def func(shape, gain, rng):
        return qr_signs(shape, factor(gain, shape), rng)

    return func


def _global(shape, gain, rng):
    return qr_signs(shape, gain, np.random.default_rng(np.random.randint(2**31)))  # noqa: NPY002


def _fixed_seed(shape, gain, rng):
    return qr_signs(shape, gain, np.random.default_rng(42))


def _hard_coded(shape, gain, rng):
    return qr_signs((256, 128), gain, rng)


def test_shape_mistakes_are_named():
    wide = "a transposed result for a wide shape"
    assert wide in failure(G.check_orthogonal, _reshaped, (64, 160), 1.0)
    assert wide in failure(G.check_orthogonal, _returned, (64, 160), 1.0)
    assert wide in failure(G.check_orthogonal, _reshaped, (1, 1, 16, 64), 1.0)
    rows = "orthonormal rows where columns are asked"
    assert rows in failure(G.check_orthogonal, _always_transposed, (256, 128), 1.0)
    assert rows in failure(G.check_orthogonal, _always_transposed, (3, 3, 16, 32), 1.0)
    for shape in ((3, 3, 16, 32), (1, 1, 16, 64), (3, 16, 32), (5, 5, 8, 8)):
        assert "PyTorch's flattening" in failure(G.check_orthogonal, _pytorch_flattening, shape)
    assert "hard-coded" in failure(G.check_orthogonal, _hard_coded, (256, 128))
    assert "expected float64" in failure(
        G.check_orthogonal, lambda s, g, r: qr_signs(s, g, r).astype(np.float32), (64, 64))


def test_normalising_instead_of_orthogonalising_is_named():
    for func in (_normalised, _unit_columns):
        for shape in ((256, 128), (64, 160), (64, 64), (3, 3, 16, 32)):
            assert "instead of orthogonalised" in failure(G.check_orthogonal, func, shape), (
                func, shape)
    assert "Gram-Schmidt without dividing" in failure(G.check_orthogonal,
                                                       _unnormalised_gram_schmidt, (256, 128))


def test_gain_mistakes_are_named():
    cases = [
        ("the gain applied twice, or squared", lambda g, s: g * g),
        ("the gain ignored", lambda g, s: 1.0),
        ("the square root of the gain", lambda g, s: math.sqrt(g)),
        ("Q divided by the gain", lambda g, s: 1.0 / g),
        ("Q scaled by gain / sqrt(rows)", lambda g, s: g / math.sqrt(math.prod(s[:-1]))),
    ]
    for fragment, factor in cases:
        for gain in (math.sqrt(2.0), 5.0 / 3.0, 0.5):
            message = failure(G.check_orthogonal, _gain(factor), (256, 128), gain)
            assert fragment in message, (fragment, gain, message)
    # gain 1 cannot show a gain mistake: the notebook tests the gain with other values
    G.check_orthogonal(_gain(lambda g, s: g * g), (256, 128), 1.0)


def test_rng_mistakes_are_named():
    assert "the global np.random instead of rng" in failure(G.check_orthogonal_rng, _global,
                                                           (256, 128))
    assert "hard-coded answer" in failure(G.check_orthogonal_rng, _fixed_seed, (256, 128))
    assert "the same matrix for seeds" in failure(G.check_orthogonal_haar, _fixed_seed, (24, 16))


def test_library_use_is_named_and_bad_arguments_refused():
    assert "weightinit's own implementation" in failure(G.check_orthogonal, weightinit.orthogonal,
                                                      (256, 128))
    with pytest.raises(ValueError, match="at least two positive dimensions"):
        G.check_orthogonal(qr_signs, (5,))
    with pytest.raises(ValueError, match="gain must be a finite nonzero number"):
        G.check_orthogonal(qr_signs, (5, 4), 0.0)


def test_the_library_passes_the_same_checks():
    """weightinit.orthogonal (Keras' flattening) meets the contract the students are held to: the
    shape and dtype, orthonormal to rounding on every shape the notebook asks, and its Q[0,0]
    signs within the corner band. (The checks refuse it as a student's answer: not own code.)"""
    library = weightinit.orthogonal
    for shape, gain in SHAPE_CALLS:
        w = library(shape, gain, np.random.default_rng(0))
        assert w.shape == shape and w.dtype == np.float64
        assert deviation(w, shape, gain) < 1e-12
    for shape in HAAR_SHAPES:
        rows, cols, _, _ = _dims(shape)
        q00 = [library(shape, 1.0, np.random.default_rng(s)).reshape(rows, cols)[0, 0] < 0
               for s in range(O.HAAR_DRAWS)]
        lo, hi = O.haar_bands(*_dims(shape)[2:])["corner"]
        assert lo <= sum(q00) <= hi
