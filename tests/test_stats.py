"""The bands themselves: exact where they claim to be, conservative where they are bounds.

Calibration is measured, not assumed: at a large alpha (where failures are frequent enough to
count) the exact bands must fail about alpha of the time and the Hoeffding bands at most that
often; the count is compared with a binomial band at 1e-9, so this test cannot flake either.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from weightinit import stats
from weightinit.initializers import TRUNCATION_STD_FACTOR


def _sample(family, std, size, rng):
    if family == "normal":
        return rng.normal(0, std, size)
    if family == "uniform":
        a = math.sqrt(3) * std
        return rng.uniform(-a, a, size)
    s = std / TRUNCATION_STD_FACTOR
    return st.truncnorm(-2, 2, scale=s).rvs(size, random_state=rng)


def _binomial_band(trials, p):
    return st.binom.ppf(stats.ALPHA / 2, trials, p), st.binom.isf(stats.ALPHA / 2, trials, p)


@pytest.mark.parametrize("family", stats.FAMILIES)
def test_variance_band_fails_correct_samples_at_most_alpha_of_the_time(family):
    alpha, n, trials = 0.05, 200, 3000
    rng = np.random.default_rng(2026)
    x = _sample(family, 0.7, (trials, n), rng)
    lo, hi = stats.variance_ratio_band(n, family, alpha)
    ratios = np.mean(x**2, axis=1) / 0.7**2
    failures = int(np.count_nonzero((ratios < lo) | (ratios > hi)))
    low_count, high_count = _binomial_band(trials, alpha)
    assert failures <= high_count
    if family == "normal":  # exact: the failure rate is alpha, not just at most alpha
        assert failures >= low_count


@pytest.mark.parametrize("family", stats.FAMILIES)
def test_mean_band_fails_correct_samples_at_most_alpha_of_the_time(family):
    alpha, n, trials = 0.05, 200, 3000
    rng = np.random.default_rng(7)
    x = _sample(family, 1.3, (trials, n), rng)
    half = stats.mean_halfwidth(n, 1.3, family, alpha)
    failures = int(np.count_nonzero(np.abs(x.mean(axis=1)) > half))
    low_count, high_count = _binomial_band(trials, alpha)
    assert failures <= high_count
    if family == "normal":
        assert failures >= low_count


@pytest.mark.parametrize("family", stats.FAMILIES)
def test_ks_critical_value_is_exact(family):
    alpha, n, trials = 0.05, 100, 2000
    rng = np.random.default_rng(11)
    crit = stats.ks_critical(n, alpha)
    d = [stats.ks_distance(_sample(family, 2.0, n, rng), family, 2.0) for _ in range(trials)]
    failures = int(np.count_nonzero(np.array(d) > crit))
    low_count, high_count = _binomial_band(trials, alpha)
    assert low_count <= failures <= high_count


def test_band_formulas():
    n = 30_000
    lo, hi = stats.variance_ratio_band(n, "normal")
    assert math.isclose(lo * n, st.chi2.ppf(stats.ALPHA / 2, n))
    assert math.isclose(hi * n, st.chi2.isf(stats.ALPHA / 2, n))
    t = 3 * math.sqrt(math.log(2 / stats.ALPHA) / (2 * n))
    assert stats.variance_ratio_band(n, "uniform") == pytest.approx((1 - t, 1 + t))
    # Larger samples give tighter bands; the DKW inequality bounds the exact KS critical value.
    assert stats.variance_ratio_band(4 * n, "normal")[1] < hi
    assert stats.ks_critical(n) <= math.sqrt(math.log(2 / stats.ALPHA) / (2 * n))
    assert stats.second_moment_bounds("truncated_normal")[1] == pytest.approx(
        (2 / TRUNCATION_STD_FACTOR) ** 2
    )


def test_power_grows_with_the_error():
    n = 30_000
    for family in stats.FAMILIES:
        p = [stats.power_variance_ratio(n, family, r) for r in (1.0, 1.02, 1.05, 1.2)]
        assert p[0] < 1e-8 and p == sorted(p) and p[-1] > 1 - 1e-9


def test_bad_family_and_n():
    with pytest.raises(ValueError, match="family must be one of 'normal'"):
        stats.variance_ratio_band(10, "gaussian")
    with pytest.raises(ValueError, match="n must be a positive number"):
        stats.variance_ratio_band(0, "normal")
