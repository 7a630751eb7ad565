"""Tests for weightinit.simulation.datasets: shapes, labels, balance, geometry, noise, determinism,
errors.

Statistical checks use bands with false-failure probability at most ALPHA = 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from weightinit.simulation import datasets
from weightinit.simulation.datasets import DATASETS, circles, make, moons, spirals, train_test_split
from weightinit.stats import ALPHA, variance_ratio_band

GENERATORS = {
    "circles": lambda n, rng, **kw: circles(n, rng=rng, **kw),
    "moons": lambda n, rng, **kw: moons(n, rng=rng, **kw),
    "spirals2": lambda n, rng, **kw: spirals(n, classes=2, rng=rng, **kw),
    "spirals3": lambda n, rng, **kw: spirals(n, classes=3, turns=1.5, rng=rng, **kw),
}


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("n", [7, 200, 301])
def test_shapes_dtypes_and_balance(name, n):
    X, y = GENERATORS[name](n, rng=0)
    classes = 3 if name == "spirals3" else 2
    assert X.shape == (n, 2) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(classes))
    counts = np.bincount(y, minlength=classes)
    # As balanced as n allows: sizes differ by at most one, the first classes get the extra.
    expected = [n // classes + (k < n % classes) for k in range(classes)]
    assert counts.tolist() == expected
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", GENERATORS)
def test_deterministic_for_a_seed_and_different_across_seeds(name):
    X1, y1 = GENERATORS[name](150, rng=42)
    X2, y2 = GENERATORS[name](150, rng=42)
    X3, _ = GENERATORS[name](150, rng=43)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    # A Generator is used directly and advanced: two calls give two different samples.
    gen = np.random.default_rng(42)
    Xa, _ = GENERATORS[name](150, rng=gen)
    Xb, _ = GENERATORS[name](150, rng=gen)
    np.testing.assert_array_equal(Xa, X1)
    assert not np.array_equal(Xa, Xb)


@pytest.mark.parametrize("name", GENERATORS)
def test_rows_are_shuffled(name):
    _, y = GENERATORS[name](400, rng=1)
    # Sorted labels would change class exactly classes - 1 times; a shuffle changes it often.
    # With 400 shuffled rows of two or three balanced classes the number of changes is about
    # 200 or more; fewer than 50 has probability far below 1e-9 (it needs long runs).
    assert np.count_nonzero(np.diff(y)) > 50


def test_circles_geometry_without_noise():
    X, y = circles(500, noise=0.0, factor=0.3, rng=3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-12)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-12)


def test_moons_geometry_without_noise():
    X, y = moons(500, noise=0.0, rng=3)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-12)
    assert np.all(upper[:, 1] >= 0)
    centre = np.array([1.0, 0.5])
    np.testing.assert_allclose(np.hypot(*(lower - centre).T), 1.0, rtol=1e-12)
    assert np.all(lower[:, 1] <= 0.5)


@pytest.mark.parametrize(("classes", "turns"), [(2, 1.0), (3, 1.5), (4, 0.75)])
def test_spirals_geometry_without_noise(classes, turns):
    X, y = spirals(600, classes=classes, turns=turns, noise=0.0, rng=5)
    t = np.hypot(X[:, 0], X[:, 1])
    assert np.all((t >= 0) & (t <= 1))
    theta = np.arctan2(X[:, 1], X[:, 0])
    # On arm k the angle is 2 pi (turns t + k / classes), modulo 2 pi.
    expected = 2 * np.pi * (turns * t + y / classes)
    diff = np.angle(np.exp(1j * (theta - expected)))
    ok = t > 1e-9  # the angle of the origin is undefined
    np.testing.assert_allclose(diff[ok], 0.0, atol=1e-9)


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("noise", [0.05, 0.3])
def test_noise_is_gaussian_with_the_requested_std(name, noise):
    # The same seed gives the same curve points at every noise level, so the difference is the
    # noise alone: 2n i.i.d. N(0, noise^2) values, and n_values * mean(d^2) / noise^2 is
    # chi-square with n_values degrees of freedom (exact band, ALPHA = 1e-9).
    n = 1000
    X0, y0 = GENERATORS[name](n, rng=11, noise=0.0)
    X1, y1 = GENERATORS[name](n, rng=11, noise=noise)
    np.testing.assert_array_equal(y0, y1)
    d = (X1 - X0).ravel()
    lo, hi = variance_ratio_band(d.size, "normal", ALPHA)
    ratio = float(np.mean(d**2)) / noise**2
    assert lo <= ratio <= hi, (ratio, lo, hi)
    # Power: the band excludes a standard deviation off by 20% (variance 0.69x or 1.44x).
    assert hi < 1.44 and lo > 0.69


def test_make_dispatches_by_name():
    for name, fn in DATASETS.items():
        Xa, ya = make(name, 50, rng=2)
        Xb, yb = fn(50, rng=2)
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(ya, yb)
    X, _ = make("circles", 50, rng=2, factor=0.2, noise=0.0)
    assert np.hypot(X[:, 0], X[:, 1]).min() == pytest.approx(0.2)
    with pytest.raises(ValueError, match="name must be one of"):
        make("no-such-set", 10)


def test_train_test_split():
    X, y = circles(101, rng=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, 0.3, rng=1)
    assert len(Xte) == round(0.3 * 101) and len(Xtr) == 101 - len(Xte)
    assert len(ytr) == len(Xtr) and len(yte) == len(Xte)
    # Together the two parts are exactly the rows of X, each once.
    both = np.concatenate([Xtr, Xte])
    order = np.lexsort(both.T)
    np.testing.assert_array_equal(both[order], X[np.lexsort(X.T)])
    again = train_test_split(X, y, 0.3, rng=1)
    np.testing.assert_array_equal(again[1], Xte)
    # Rows stay paired with their labels.
    lookup = {tuple(row): label for row, label in zip(X, y, strict=True)}
    assert all(lookup[tuple(row)] == label for row, label in zip(Xte, yte, strict=True))
    # Tiny fractions still leave one row on each side.
    Xtr, Xte, _, _ = train_test_split(X[:2], y[:2], 0.01, rng=0)
    assert len(Xtr) == len(Xte) == 1


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: circles(1), "n must be an integer >= 2"),
        (lambda: circles(10.0), "n must be an integer"),
        (lambda: circles(True), "n must be an integer"),
        (lambda: circles(10, noise=-0.1), "noise must be >= 0"),
        (lambda: circles(10, noise=math.nan), "noise must be finite"),
        (lambda: circles(10, factor=1.0), "factor .* must be in \\(0, 1\\)"),
        (lambda: circles(10, factor=0.0), "factor must be > 0"),
        (lambda: moons(0), "n must be an integer >= 2"),
        (lambda: moons(10, noise="a"), "noise must be a real number"),
        (lambda: spirals(10, classes=1), "classes must be an integer >= 2"),
        (lambda: spirals(2, classes=3), "n must be an integer >= 3"),
        (lambda: spirals(10, turns=0), "turns must be > 0"),
        (lambda: spirals(10, rng="seed"), "rng must be"),
        (lambda: train_test_split(np.zeros((3, 2)), np.zeros(4)), "same n"),
        (lambda: train_test_split(np.zeros((3, 2)), np.zeros(3), 1.0), "test_fraction"),
        (lambda: train_test_split(np.zeros((1, 2)), np.zeros(1)), "number of rows"),
    ],
)
def test_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_module_exports():
    assert set(datasets.__all__) >= {"circles", "moons", "spirals", "DATASETS"}


def test_blobs_follow_the_shares_and_centres():
    X, y = datasets.blobs(1000, 2, shares=(1, 9), spread=0.5, rng=3)
    assert X.shape == (1000, 2) and np.bincount(y).tolist() == [100, 900]
    X2, y2 = datasets.blobs(1000, 2, shares=(1, 9), spread=0.5, rng=3)
    np.testing.assert_array_equal(X, X2)
    # class k's mean is N(c_k, 0.25 / n_k) per coordinate; band at ALPHA (6.1 sd)
    from scipy.stats import norm

    for k, centre in enumerate([(1.0, 0.0), (-1.0, 0.0)]):
        rows = X[y == k]
        half = norm.isf(ALPHA / 4) * 0.5 / math.sqrt(len(rows))
        assert np.all(np.abs(rows.mean(axis=0) - centre) < half)
    assert np.bincount(datasets.blobs(7, 3, rng=0)[1]).tolist() == [3, 2, 2]
    with pytest.raises(ValueError, match="shares must be 2 positive numbers"):
        datasets.blobs(10, 2, shares=(1, 0))
    with pytest.raises(ValueError, match="a class gets no point"):
        datasets.blobs(5, 2, shares=(1, 99))
