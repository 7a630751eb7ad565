"""Tests of weightinit.chapters.scaling: the numbers chapters 1 and 2 state.

Statistical checks use bands from the exact sampling distribution (chi-square, binomial,
Gaussian concentration) at a false-failure probability of at most ALPHA = 1e-9 each, stated
next to each band. Seeds are fixed, so a run is reproducible; the bands hold for any seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as st

from weightinit import he_normal, lecun_normal
from weightinit.chapters.scaling import (
    SQRT_2_OVER_PI,
    coefficient_of_variation,
    mean_abs_normal,
    preactivation_variance_uncentred,
    relu_mean_square_factor,
    scaled_moments,
    scaled_stats,
    share_within,
    share_within_sample,
    std_for_variance,
    uncentred_layer,
    variance_inflation,
)
from weightinit.stats import ALPHA, mean_halfwidth, variance_ratio_band


def concentration_halfwidth(lipschitz: float, alpha: float = ALPHA) -> float:
    """Half-width t with P(|f(g) - E f(g)| >= t) <= alpha for an L-Lipschitz f of a standard
    normal vector g (Gaussian concentration, Tsirelson-Ibragimov-Sudakov):
    P(|f - Ef| >= t) <= 2 exp(-t^2 / (2 L^2)), exact for every sample size."""
    return lipschitz * math.sqrt(2.0 * math.log(2.0 / alpha))


# --- chapter 1: randn * c ---------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.05, 1.0, 3.0])
def test_mean_abs_normal_is_the_half_normal_mean(sigma):
    """E|w| = sigma sqrt(2/pi): checked against numerical integration and scipy's half-normal."""
    integral, _ = integrate.quad(
        lambda w: abs(w) * st.norm.pdf(w, scale=sigma), -np.inf, np.inf
    )
    assert mean_abs_normal(sigma) == pytest.approx(integral, rel=1e-9)
    assert mean_abs_normal(sigma) == pytest.approx(st.halfnorm(scale=sigma).mean(), rel=1e-12)


def test_mean_abs_ratio_stated_in_chapter_1():
    """The prose rounds E|w| / sigma = sqrt(2/pi) to 0.798 (0.7979 to four places)."""
    assert SQRT_2_OVER_PI == pytest.approx(math.sqrt(2 / math.pi), rel=1e-15)
    assert round(mean_abs_normal(1.0), 4) == 0.7979
    assert mean_abs_normal(0.0) == 0.0


@pytest.mark.parametrize("k", [0.0, 0.5, 1.0, 2.0, 3.0, 4.5])
def test_share_within_matches_the_normal_cdf(k):
    """P(|X - mu| <= k sigma) = Phi(k) - Phi(-k)."""
    assert share_within(k) == pytest.approx(st.norm.cdf(k) - st.norm.cdf(-k), abs=1e-14)


def test_share_within_68_95_99_7():
    """The shares the chapter states: 68.27 %, 95.45 %, 99.73 % (the 68-95-99.7 rule)."""
    assert [round(100 * share_within(k), 2) for k in (1, 2, 3)] == [68.27, 95.45, 99.73]


@pytest.mark.parametrize("c", [0.1, 1.0, 2.5])
@pytest.mark.parametrize("k", [1.0, 2.0, 3.0])
def test_measured_share_within_is_in_the_binomial_band(c, k):
    """The count of |w| <= k c in N draws of randn * c is Binomial(N, share_within(k)) exactly;
    [ppf(alpha/2), isf(alpha/2)] holds it with probability >= 1 - 1e-9."""
    n = 200_000
    rng = np.random.default_rng(11)
    w = rng.standard_normal(n) * c
    count = round(share_within_sample(w, k, sigma=c) * n)
    p = share_within(k)
    lo, hi = st.binom.ppf(ALPHA / 2, n, p), st.binom.isf(ALPHA / 2, n, p)
    assert lo <= count <= hi


def test_share_within_sample_counts_exactly():
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 4.0])
    assert share_within_sample(x, 1.0, sigma=1.0) == 5 / 8  # |x| <= 1: -1, -0.5, 0, 0.5, 1
    assert share_within_sample(x, 1.0, sigma=2.0) == 6 / 8  # all but -3 and 4
    assert share_within_sample(x, 1.0, sigma=1.0, center=3.0) == 2 / 8  # 2 and 4


@pytest.mark.parametrize("c", [0.044, 0.5, 2.0])
def test_measured_mean_abs_is_in_the_concentration_band(c):
    """mean(|c g|) is a (c / sqrt(N))-Lipschitz function of the standard normal vector g, so it
    lies within concentration_halfwidth(c / sqrt(N)) of c sqrt(2/pi) with prob. >= 1 - 1e-9."""
    n = 400_000
    w = np.random.default_rng(5).standard_normal(n) * c
    t = concentration_halfwidth(c / math.sqrt(n))
    assert abs(scaled_stats(w).mean_abs - mean_abs_normal(c)) <= t
    # the band is tight enough to tell sqrt(2/pi) from the tempting guess E|w| = sigma
    assert t < (1 - SQRT_2_OVER_PI) * c


@pytest.mark.parametrize("c", [0.05, 0.5, 3.0])
def test_randn_times_c_has_variance_c_squared(c):
    """n mean(w^2) / c^2 is chi-square(n) exactly for w = randn * c (band: alpha = 1e-9);
    the same band rejects variance c (the mistake "the factor is the variance")."""
    n = 100_000
    w = np.random.default_rng(3).standard_normal(n) * c
    lo, hi = variance_ratio_band(n, "normal")
    ratio = float(np.mean(w**2)) / c**2
    assert lo <= ratio <= hi
    assert not lo <= float(np.mean(w**2)) / c <= hi


def test_scaled_stats_hand_computed():
    stats = scaled_stats(np.array([-2.0, 0.0, 2.0, 4.0]))
    assert stats.mean == 1.0
    assert stats.var == 5.0  # (9 + 1 + 1 + 9) / 4
    assert stats.std == pytest.approx(math.sqrt(5.0), rel=1e-15)
    assert stats.mean_abs == 2.0  # (2 + 0 + 2 + 4) / 4
    assert all(type(v) is float for v in stats)


@pytest.mark.parametrize("c", [-3.0, -0.5, 0.01, 0.5, 7.0])
def test_scaling_rules_mean_std_var(c):
    """Multiplying by c: mean times c, std and E|w| times |c|, variance times c^2 (exactly)."""
    x = np.random.default_rng(0).normal(1.5, 2.0, size=1000)
    before, after = scaled_stats(x), scaled_stats(c * x)
    assert after.mean == pytest.approx(c * before.mean, rel=1e-12)
    assert after.std == pytest.approx(abs(c) * before.std, rel=1e-12)
    assert after.var == pytest.approx(c**2 * before.var, rel=1e-12)
    assert after.mean_abs == pytest.approx(abs(c) * before.mean_abs, rel=1e-12)


@pytest.mark.parametrize("n", [1, 16, 256, 784])
def test_std_for_variance_is_the_square_root(n):
    assert std_for_variance(2 / n) == pytest.approx(math.sqrt(2 / n), rel=1e-15)
    assert std_for_variance(2 / n) ** 2 == pytest.approx(2 / n, rel=1e-15)
    assert std_for_variance(0.0) == 0.0


def test_randn_times_sqrt_2_over_n_and_he_normal_have_variance_2_over_n():
    """Chapter 1's claim: randn * sqrt(2/n_in) and he_normal draw the same variance 2/n_in.
    Each sample's n mean(w^2) / (2/n_in) is chi-square(size) (band: alpha = 1e-9 each)."""
    n_in, n_out = 300, 200
    rng = np.random.default_rng(7)
    hand = rng.standard_normal((n_in, n_out)) * std_for_variance(2 / n_in)
    named = he_normal((n_in, n_out), rng)
    lo, hi = variance_ratio_band(n_in * n_out, "normal")
    for w in (hand, named):
        assert w.shape == (n_in, n_out)
        assert lo <= float(np.mean(w**2)) / (2 / n_in) <= hi
    # and the band can fail: LeCun's 1/n_in is half of it
    assert not lo <= float(np.mean(lecun_normal((n_in, n_out), rng) ** 2)) / (2 / n_in) <= hi


def test_relu_mean_square_factor_values():
    assert relu_mean_square_factor(2.0) == 1.0
    assert relu_mean_square_factor(2.0, depth=30) == 1.0
    assert relu_mean_square_factor(1.0, depth=30) == pytest.approx(2.0**-30, rel=1e-15)
    assert relu_mean_square_factor(4.0, depth=3) == 8.0


@pytest.mark.parametrize("scale", [1.0, 2.0, 4.0])
def test_relu_mean_square_factor_matches_one_relu_layer(scale):
    """One fixed input h, fresh weights per unit: z_j ~ N(0, v) i.i.d. with v = (scale/n) sum h^2
    (exact), so the number K of positive z_j is Binomial(units, 1/2) and, given K,
    sum relu(z_j)^2 / v is chi-square(K). With K in its binomial band (alpha/2) and the sum in
    the chi-square band of the extreme K in that band (alpha/2), the check fails a correct
    formula with probability <= 1e-9. The predicted mean square is factor * mean(h^2)."""
    n, units = 256, 40_000
    rng = np.random.default_rng(21)
    h = np.maximum(rng.standard_normal(n), 0.0) + 0.3  # any fixed, non-centred input
    W = rng.standard_normal((n, units)) * math.sqrt(scale / n)
    z = h @ W
    v = (scale / n) * float(np.sum(h**2))
    k = int(np.sum(z > 0))
    k_lo, k_hi = st.binom.ppf(ALPHA / 4, units, 0.5), st.binom.isf(ALPHA / 4, units, 0.5)
    assert k_lo <= k <= k_hi
    total = float(np.sum(np.maximum(z, 0.0) ** 2)) / v
    assert st.chi2.ppf(ALPHA / 4, k_lo) <= total <= st.chi2.isf(ALPHA / 4, k_hi)
    # E[relu(z)^2] = v / 2, and v / 2 = factor * mean(h^2): the formula the check relies on
    assert v / 2 == pytest.approx(relu_mean_square_factor(scale) * float(np.mean(h**2)))
    # the band can fail: with a wrong factor of 1 (the mean square kept for every scale),
    # v would be 2 mean(h^2) and the statistic sum relu(z)^2 / v would leave the band
    if scale != 2.0:
        wrong_statistic = total * v / (2.0 * float(np.mean(h**2)))
        assert not st.chi2.ppf(ALPHA / 4, k_lo) <= wrong_statistic <= st.chi2.isf(ALPHA / 4, k_hi)


# --- chapter 2: the mean and the spread move together ----------------------------------------


def test_scaled_moments_of_the_forum_multiplier():
    """Multiplying data of mean 99 and std 1 by 0.01/99 gives mean 0.01 and std 0.01/99."""
    k = 0.01 / 99
    mean, std = scaled_moments(99.0, 1.0, k)
    assert mean == pytest.approx(0.01, rel=1e-12)
    assert std == pytest.approx(0.01 / 99, rel=1e-12)


@pytest.mark.parametrize("k", [-2.0, 0.01 / 99, 0.5, 10.0])
def test_scaling_leaves_the_coefficient_of_variation_unchanged(k):
    assert coefficient_of_variation(*scaled_moments(99.0, 1.0, k)) == pytest.approx(
        1 / 99, rel=1e-12
    )
    assert scaled_moments(0.0, 1.0, k) == (0.0, abs(k))  # a zero mean stays zero


def test_scaled_moments_match_samples():
    x = np.random.default_rng(1).normal(99.0, 1.0, size=500)
    s = scaled_stats(x)
    mean, std = scaled_moments(s.mean, s.std, 0.01 / 99)
    t = scaled_stats(x * 0.01 / 99)
    assert (t.mean, t.std) == (pytest.approx(mean, rel=1e-12), pytest.approx(std, rel=1e-12))


def test_preactivation_variance_centred_and_uncentred():
    n, var_w = 256, 2 / 256
    assert preactivation_variance_uncentred(n, var_w, 1.0, 0.0) == pytest.approx(2.0)
    # inputs of mean 99: n Var(w) E[x^2] = 2 * (1 + 99^2)
    assert preactivation_variance_uncentred(n, var_w, 1.0, 99.0) == pytest.approx(2.0 * 9802)
    for mean_x, std_x in [(0.0, 1.0), (1.0, 1.0), (3.0, 0.5), (-99.0, 1.0), (99.0, 2.0)]:
        ratio = preactivation_variance_uncentred(n, var_w, std_x**2, mean_x) / (
            preactivation_variance_uncentred(n, var_w, std_x**2, 0.0)
        )
        assert ratio == pytest.approx(variance_inflation(mean_x, std_x), rel=1e-12)


def test_variance_inflation_values():
    assert variance_inflation(99.0, 1.0) == 9802.0
    assert variance_inflation(0.0, 3.0) == 1.0
    assert variance_inflation(-2.0, 1.0) == 5.0
    # E[x^2] / Var(x) for a concrete distribution: uniform on [0, 1] has mean 1/2, var 1/12
    assert variance_inflation(0.5, math.sqrt(1 / 12)) == pytest.approx((1 / 3) / (1 / 12))


@pytest.mark.parametrize("mean_x", [0.0, 3.0, 99.0])
def test_preactivation_variance_predicts_z_for_a_fixed_input(mean_x):
    """For one fixed input vector x (entries of mean `mean_x`) and fresh He weights per trial,
    z = x @ w is N(0, Var(w) sum x_i^2) exactly, and Var(w) sum x_i^2 equals the formula with x's
    own mean and variance (ddof=0). So trials * mean(z^2) / predicted is chi-square(trials)
    (band: alpha = 1e-9). The centred formula n Var(w) Var(x) fails the same band."""
    n, trials = 256, 20_000
    rng = np.random.default_rng(42)
    x = mean_x + rng.standard_normal(n)
    W = he_normal((n, trials), rng)  # column t: the weights of trial t
    z = x @ W
    predicted = preactivation_variance_uncentred(n, 2 / n, float(x.var()), float(x.mean()))
    assert predicted == pytest.approx((2 / n) * float(np.sum(x**2)), rel=1e-12)
    lo, hi = variance_ratio_band(trials, "normal")
    assert lo <= float(np.mean(z**2)) / predicted <= hi
    if mean_x > 1:
        centred = preactivation_variance_uncentred(n, 2 / n, float(x.var()), 0.0)
        assert not lo <= float(np.mean(z**2)) / centred <= hi


def test_uncentred_layer_draws_what_it_says():
    """x has mean mean_x and std std_x, W has variance scale/n (exact normal bands, alpha = 1e-9
    each), z is x @ W, and the same seed gives the same arrays."""
    mean_x, std_x, n, units, batch, scale = 99.0, 2.0, 128, 96, 300, 1.0
    layer = uncentred_layer(mean_x, std_x, n, units, batch, scale, rng=8)
    assert layer.x.shape == (batch, n)
    assert layer.W.shape == (n, units)
    assert layer.z.shape == (batch, units)
    np.testing.assert_array_equal(layer.z, layer.x @ layer.W)
    size = batch * n
    assert abs(layer.x.mean() - mean_x) <= mean_halfwidth(size, std_x, "normal")
    lo, hi = variance_ratio_band(size, "normal")
    assert lo <= float(np.mean((layer.x - mean_x) ** 2)) / std_x**2 <= hi
    lo, hi = variance_ratio_band(n * units, "normal")
    assert lo <= float(np.mean(layer.W**2)) / (scale / n) <= hi
    again = uncentred_layer(mean_x, std_x, n, units, batch, scale, rng=8)
    np.testing.assert_array_equal(again.z, layer.z)
    gen = np.random.default_rng(8)
    np.testing.assert_array_equal(uncentred_layer(mean_x, std_x, n, units, batch, scale, gen).z,
                                  layer.z)


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: std_for_variance(-1.0), "var"),
        (lambda: mean_abs_normal(-0.1), "sigma"),
        (lambda: mean_abs_normal("1"), "sigma"),
        (lambda: share_within(-1.0), "k"),
        (lambda: share_within(math.nan), "k"),
        (lambda: share_within_sample(np.array([]), 1.0, 1.0), "x must hold"),
        (lambda: share_within_sample(np.ones(3), 1.0, 0.0), "sigma"),
        (lambda: scaled_stats(np.array([])), "samples"),
        (lambda: scaled_moments(1.0, -1.0, 2.0), "std"),
        (lambda: coefficient_of_variation(0.0, 1.0), "mean must be non-zero"),
        (lambda: preactivation_variance_uncentred(0, 1.0, 1.0, 0.0), "n must be a positive"),
        (lambda: preactivation_variance_uncentred(2.5, 1.0, 1.0, 0.0), "n must be a positive"),
        (lambda: preactivation_variance_uncentred(3, -1.0, 1.0, 0.0), "var_w"),
        (lambda: preactivation_variance_uncentred(3, 1.0, -1.0, 0.0), "var_x"),
        (lambda: variance_inflation(1.0, 0.0), "std_x"),
        (lambda: relu_mean_square_factor(-1.0), "scale"),
        (lambda: relu_mean_square_factor(2.0, depth=0), "depth"),
        (lambda: uncentred_layer(0.0, 1.0, n=0), "n must be a positive"),
        (lambda: uncentred_layer(0.0, 1.0, units=True), "units"),
        (lambda: uncentred_layer(0.0, -1.0), "std_x"),
        (lambda: uncentred_layer(0.0, 1.0, scale=0.0), "scale"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
