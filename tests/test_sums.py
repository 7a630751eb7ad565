"""weightinit.chapters.sums: the formulas the chapters on sums of products state, and the
measurements they show.

Exact statements are checked exactly (or against an independent computation: numerical
integration, scipy's distributions, an eigendecomposition). Monte Carlo checks use the exact
sampling distribution of the quantity tested (chi-square, Kolmogorov-Smirnov against an exact
CDF, binomial), each at false-failure probability ALPHA = 1e-9 (weightinit.stats), split by
the union bound when one test makes several checks. Nothing is tuned to a seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import integrate, special
from scipy import stats as st

import weightinit
from weightinit.activations import sigmoid_derivative
from weightinit.chapters.sums import arithmetic as sums
from weightinit.chapters.sums import figures as plots_sums
from weightinit.stats import ALPHA, ks_critical, variance_ratio_band


def _chi2_ratio_ok(sum_of_squares: float, scale: float, dof: int, alpha: float) -> bool:
    """``sum_of_squares / scale`` is chi-square with `dof` degrees of freedom: inside its band?"""
    lo, hi = variance_ratio_band(dof, "normal", alpha)
    ratio = sum_of_squares / scale / dof
    return lo <= ratio <= hi


def _moment(pdf, k: int) -> float:
    """k-th moment of a symmetric density on the real line, by quadrature on (0, inf)."""
    return 2.0 * integrate.quad(lambda u: u**k * pdf(u), 0.0, np.inf, limit=400)[0]


# ---------------------------------------------------------------- variance of products and sums


def test_product_variance_is_the_moment_formula():
    # Var(wx) = E[w^2]E[x^2] - (E[w]E[x])^2, evaluated independently from the moments.
    for var_w, var_x, mean_w, mean_x in [(2.0, 3.0, 0.5, -1.0), (0.01, 1.0, 0.0, 0.0),
                                         (1.0, 1.0, 3.0, 0.0), (0.3, 0.7, -0.2, 2.5)]:
        e_w2, e_x2 = var_w + mean_w**2, var_x + mean_x**2
        expected = e_w2 * e_x2 - (mean_w * mean_x) ** 2
        assert sums.product_variance(var_w, var_x, mean_w, mean_x) == pytest.approx(expected)


def test_product_variance_of_zero_mean_factors_is_the_product_of_variances():
    assert sums.product_variance(0.01, 1.0) == pytest.approx(0.01)
    assert sums.product_variance(1 / 100, 4.0) == pytest.approx(4 / 100)


def test_preactivation_variance_is_n_var_w_times_second_moment():
    # The question's claim: n = 100, Var(w) = 1/n, Var(x) = 1 gives Var(z) = 1.
    assert sums.preactivation_variance(100, 1 / 100, 1.0) == pytest.approx(1.0)
    assert sums.preactivation_variance(4, 1 / 4, 1.0) == pytest.approx(1.0)
    # A mean adds n Var(w) E[x]^2: pixels in [0, 1] (mean 1/2, variance 1/12) give E[x^2] = 1/3.
    assert sums.preactivation_variance(784, 1 / 784, 1 / 12, 0.5) == pytest.approx(1 / 3)
    assert sums.preactivation_variance(10, 0.2, 3.0, 2.0) == pytest.approx(10 * 0.2 * (3 + 4))


@pytest.mark.parametrize(
    "bad", [dict(n=0), dict(n=2.5), dict(n=True), dict(var_w=-1.0), dict(var_x=math.nan)]
)
def test_preactivation_variance_rejects_bad_input_naming_the_argument(bad):
    args = dict(n=10, var_w=0.1, var_x=1.0) | bad
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        sums.preactivation_variance(**args)


# ---------------------------------------------------------------- the exact distributions


@pytest.mark.parametrize("s1, s2", [(1.0, 1.0), (0.1, 1.0), (2.0, 0.3)])
def test_product_normal_pdf_is_a_density_with_the_product_variance_and_kurtosis_9(s1, s2):
    pdf = lambda u: sums.product_normal_pdf(u, s1, s2)  # noqa: E731
    assert _moment(pdf, 0) == pytest.approx(1.0, rel=1e-8)
    var = _moment(pdf, 2)
    assert var == pytest.approx((s1 * s2) ** 2, rel=1e-8)
    assert _moment(pdf, 4) / var**2 == pytest.approx(9.0, rel=1e-8)  # the chapter's kurtosis 9


def test_product_kurtosis_is_the_product_of_kurtoses():
    assert sums.product_kurtosis() == 9.0  # two normals: 3 * 3
    # Independently: a uniform weight times a normal input, from scipy's moments.
    w, x = st.uniform(-1, 2), st.norm()
    expected = w.moment(4) * x.moment(4) / (w.moment(2) * x.moment(2)) ** 2
    kurt_w = float(w.stats(moments="k")) + 3.0
    assert sums.product_kurtosis(kurt_w, 3.0) == pytest.approx(expected)


def test_sum_kurtosis_matches_the_laplace_and_the_exact_density():
    # Two products of normals sum to a Laplace variable, whose kurtosis is 6.
    assert sums.sum_kurtosis(2, 9.0) == pytest.approx(float(st.laplace.stats(moments="k")) + 3)
    assert sums.sum_kurtosis(1, 9.0) == 9.0
    for n in (3, 7):
        pdf = lambda z, n=n: sums.preactivation_pdf(z, n, 0.5, 2.0)  # noqa: E731
        kurt = _moment(pdf, 4) / _moment(pdf, 2) ** 2
        assert sums.sum_kurtosis(n, 9.0) == pytest.approx(kurt, rel=1e-7)


def test_log_bessel_k_is_accurate_where_scipy_is_finite_and_beyond():
    # Where kve is finite the function returns it; the asymptotic expansion used beyond is
    # checked against kve where both exist (nu up to a few hundred).
    for nu in (30.5, 99.5, 250.0):
        y = np.geomspace(0.5, 5 * nu, 40)
        exact = np.log(special.kve(nu, y)) - y
        finite = np.isfinite(exact)
        np.testing.assert_allclose(sums._log_kv(nu, y)[finite], exact[finite], rtol=1e-12)
        t = y / nu
        sq = np.sqrt(1 + t * t)
        p = 1 / sq
        u1 = (3 * p - 5 * p**3) / 24
        u2 = (81 * p**2 - 462 * p**4 + 385 * p**6) / 1152
        u3 = (30375 * p**3 - 369603 * p**5 + 765765 * p**7 - 425425 * p**9) / 414720
        debye = (0.5 * np.log(np.pi / (2 * nu)) - nu * (sq + np.log(t / (1 + sq)))
                 - 0.5 * np.log(sq) + np.log(1 - u1 / nu + u2 / nu**2 - u3 / nu**3))
        # An error of order nu^-4 in the log is a relative error of that order in K_nu.
        np.testing.assert_allclose(debye[finite], exact[finite], rtol=0, atol=nu**-4)
    # Far beyond float range of K_nu itself: finite logs, decreasing in y.
    logs = sums._log_kv(5000.5, np.array([1.0, 10.0, 100.0]))
    assert np.all(np.isfinite(logs)) and np.all(np.diff(logs) < 0)


@pytest.mark.parametrize("n", [1, 2, 5, 100, 2000, 50_000])
def test_preactivation_pdf_is_a_density_with_variance_n_var_w_var_x(n):
    var_w, var_x = 0.3 / n, 2.0
    pdf = lambda z: sums.preactivation_pdf(z, n, var_w, var_x)  # noqa: E731
    assert _moment(pdf, 0) == pytest.approx(1.0, rel=1e-7)
    assert _moment(pdf, 2) == pytest.approx(n * var_w * var_x, rel=1e-7)


def test_preactivation_pdf_special_cases():
    z = np.array([-2.0, -0.3, 0.01, 0.5, 3.0])
    s = math.sqrt(0.09 * 2.0)
    np.testing.assert_allclose(sums.preactivation_pdf(z, 1, 0.09, 2.0),
                               sums.product_normal_pdf(z, 0.3, math.sqrt(2.0)), rtol=1e-12)
    np.testing.assert_allclose(sums.preactivation_pdf(z, 2, 0.09, 2.0),
                               st.laplace.pdf(z, scale=s), rtol=1e-12)
    # Continuous at 0 for n >= 2 (the finite peak), infinite for n = 1.
    for n in (2, 3, 10):
        peak = sums.preactivation_pdf(0.0, n, 0.09, 2.0)
        assert np.isfinite(peak)
        assert sums.preactivation_pdf(1e-6, n, 0.09, 2.0) == pytest.approx(peak, rel=1e-4)
    assert np.isinf(sums.preactivation_pdf(0.0, 1, 0.09, 2.0))
    # Many terms: close to the normal N(0, n s^2) (excess kurtosis 6/n).
    n = 20_000
    grid = np.linspace(-4, 4, 81)
    normal = st.norm.pdf(grid)
    assert np.max(np.abs(sums.preactivation_pdf(grid, n, 1 / n, 1.0) - normal)) < 1e-3


@pytest.mark.parametrize("n", [2, 3, 8, 50])
def test_preactivation_cdf_integrates_the_pdf(n):
    var_w, var_x = 0.04, 1.5
    s = math.sqrt(n * var_w * var_x)
    points = np.array([-3 * s, -0.5 * s, 0.0, 0.1 * s, 1.0 * s, 2.5 * s])
    cdf = sums.preactivation_cdf(points, n, var_w, var_x)
    for p, f in zip(points, cdf, strict=True):
        upper = integrate.quad(lambda z: sums.preactivation_pdf(z, n, var_w, var_x), 0.0, abs(p),
                               limit=200)[0]
        assert f == pytest.approx(0.5 + math.copysign(upper, p), abs=1e-8)
    if n == 2:
        np.testing.assert_allclose(cdf, st.laplace.cdf(points, scale=math.sqrt(var_w * var_x)),
                                   atol=1e-9)


def test_product_normal_cdf_integrates_the_pdf_and_is_symmetric():
    for u in (0.05, 0.7, 3.0):
        area = integrate.quad(lambda t: sums.product_normal_pdf(t, 0.5, 1.5), 0.0, u)[0]
        assert sums.product_normal_cdf(u, 0.5, 1.5) == pytest.approx(0.5 + area, abs=1e-9)
        assert sums.product_normal_cdf(-u, 0.5, 1.5) == pytest.approx(0.5 - area, abs=1e-9)
    assert sums.product_normal_cdf(0.0, 0.5, 1.5) == 0.5
    assert sums.product_normal_cdf(1e3, 0.5, 1.5) == pytest.approx(1.0)


# ---------------------------------------------------------------- Monte Carlo draws


@pytest.mark.parametrize("n, var_w, var_x", [(1, 0.25, 4.0), (2, 1.0, 1.0), (7, 0.1, 3.0),
                                             (64, 1 / 64, 1.0), (1000, 0.002, 0.5)])
def test_sample_preactivations_follows_the_exact_distribution(n, var_w, var_x):
    # KS distance to the exact variance-gamma CDF: exceeds ks_critical with probability ALPHA.
    # n = 1000 spans several chunks of the sampler, so chunk boundaries are covered too.
    trials = 4000
    z = sums.sample_preactivations(n, var_w, var_x, trials, np.random.default_rng(n))
    assert z.shape == (trials,) and z.dtype == np.float64
    distance = st.kstest(z, lambda q: sums.preactivation_cdf(q, n, var_w, var_x)).statistic
    assert distance < ks_critical(trials)


def _cdf_with_mean(t: np.ndarray, n: int, var_w: float, var_x: float, mean_x: float) -> np.ndarray:
    """Exact CDF of sum_i w_i x_i, w_i ~ N(0, var_w), x_i ~ N(mean_x, var_x): given x, z is
    N(0, var_w |x|^2), and |x|^2 / var_x is noncentral chi-square (n, n mean_x^2 / var_x)."""
    c = st.ncx2(n, n * mean_x**2 / var_x)

    def integrand(q: float) -> np.ndarray:
        return st.norm.cdf(t / math.sqrt(var_w * var_x * q)) * c.pdf(q)

    return integrate.quad_vec(integrand, 0.0, np.inf, epsabs=1e-10, epsrel=1e-10)[0]


def test_sample_preactivations_with_an_input_mean_follows_the_exact_distribution():
    n, var_w, var_x, mean_x, trials = 5, 0.2, 0.5, 1.0, 3000
    z = sums.sample_preactivations(n, var_w, var_x, trials, np.random.default_rng(5), mean_x=mean_x)
    z_sorted = np.sort(z)
    cdf = _cdf_with_mean(z_sorted, n, var_w, var_x, mean_x)
    i = np.arange(1, trials + 1)
    distance = max(np.max(i / trials - cdf), np.max(cdf - (i - 1) / trials))
    assert distance < ks_critical(trials)


def test_sample_preactivations_draws_from_rng_only():
    a = sums.sample_preactivations(10, 0.1, 1.0, 50, rng=3)
    b = sums.sample_preactivations(10, 0.1, 1.0, 50, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(3)
    first = sums.sample_preactivations(10, 0.1, 1.0, 50, gen)
    second = sums.sample_preactivations(10, 0.1, 1.0, 50, gen)  # the generator advanced
    assert not np.array_equal(first, second)
    with pytest.raises(ValueError, match="trials"):
        sums.sample_preactivations(10, 0.1, 1.0, 0, gen)
    with pytest.raises(ValueError, match="rng"):
        sums.sample_preactivations(10, 0.1, 1.0, 5, np.random.RandomState(0))


def test_normal_tail_probability_is_the_two_sided_normal_tail():
    for t, std in [(1.96, 1.0), (4.0, 10.0), (4.0, 1.0), (0.0, 2.0)]:
        assert sums.normal_tail_probability(t, std) == pytest.approx(2 * st.norm.sf(t / std))
    assert sums.normal_tail_probability(1.959963984540054, 1.0) == pytest.approx(0.05)


def test_saturated_fraction_counts_strictly_beyond_the_threshold():
    assert sums.saturated_fraction(np.array([-5.0, -1.0, 0.0, 3.0, 4.5])) == pytest.approx(2 / 5)
    assert sums.saturated_fraction(np.array([4.0, -4.0])) == 0.0
    assert sums.saturated_fraction(np.array([[0.5, 2.5]]), threshold=1.0) == 0.5
    with pytest.raises(ValueError, match="empty"):
        sums.saturated_fraction(np.array([]))
    with pytest.raises(ValueError, match="NaN"):
        sums.saturated_fraction(np.array([1.0, np.nan]))


def test_sigmoid_derivative_maximum_and_cutoff():
    grid = np.linspace(-10, 10, 20_001)  # contains 0 exactly
    d = sigmoid_derivative(grid)
    assert d.max() == sums.SIGMOID_DERIVATIVE_MAX == 0.25
    assert grid[np.argmax(d)] == 0.0
    for level in (0.01, 0.1, 0.2, 1e-4):
        cut = sums.sigmoid_derivative_cutoff(level)
        assert float(sigmoid_derivative(cut)) == pytest.approx(level, rel=1e-10)
        assert np.all(d[np.abs(grid) > cut] < level)
    assert sums.sigmoid_derivative_cutoff(0.25) == 0.0
    with pytest.raises(ValueError, match="level"):
        sums.sigmoid_derivative_cutoff(0.3)


# ---------------------------------------------------------------- correlated inputs


def test_equicorrelated_covariance_eigenvalues():
    n, rho, var_x = 6, 0.3, 2.0
    eig = np.sort(np.linalg.eigvalsh(sums.equicorrelated_covariance(n, rho, var_x)))
    expected = np.sort([var_x * (1 + (n - 1) * rho)] + [var_x * (1 - rho)] * (n - 1))
    np.testing.assert_allclose(eig, expected)


@pytest.mark.parametrize("rho", [0.0, 0.4, 0.9])
def test_equicorrelated_inputs_have_the_stated_variance_and_correlation(rho):
    # Three exact chi-square checks at ALPHA/3 each: a feature, the sum and a difference of
    # two features of each row are normal with known variance (and the mean is known).
    batch, n, var_x, mean_x = 5000, 20, 1.5, -0.5
    x = sums.equicorrelated_inputs(batch, n, rho, np.random.default_rng(11), var_x=var_x,
                                   mean_x=mean_x)
    assert x.shape == (batch, n)
    d = x - mean_x
    alpha = ALPHA / 3
    assert _chi2_ratio_ok(np.sum(d[:, 0] ** 2), var_x, batch, alpha)
    row_sum_var = var_x * (n + n * (n - 1) * rho)
    assert _chi2_ratio_ok(np.sum(d.sum(axis=1) ** 2), row_sum_var, batch, alpha)
    assert _chi2_ratio_ok(np.sum((d[:, 0] - d[:, 1]) ** 2), 2 * var_x * (1 - rho), batch, alpha)


def test_fully_correlated_inputs_are_equal_within_a_row():
    x = sums.equicorrelated_inputs(10, 5, 1.0, 0)
    np.testing.assert_allclose(x, np.repeat(x[:, :1], 5, axis=1))


def test_unit_variances_are_w_sigma_w_with_the_batch_covariance():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((50, 4))
    w = rng.standard_normal((4, 3))
    cov = np.cov(x, rowvar=False, bias=True)
    np.testing.assert_allclose(sums.unit_variances(x, w), np.einsum("iu,ij,ju->u", w, cov, w))
    with pytest.raises(ValueError, match="weights"):
        sums.unit_variances(x, w.T)


@pytest.mark.parametrize("n, rho", [(10, 0.0), (100, 0.5), (7, 1.0), (50, 0.9)])
def test_unit_variance_moments_match_the_eigendecomposition(n, rho):
    var_w, var_x = 0.3, 2.0
    lam = np.linalg.eigvalsh(sums.equicorrelated_covariance(n, rho, var_x))
    mean, sd = sums.unit_variance_moments(n, rho, var_w, var_x)
    assert mean == pytest.approx(var_w * lam.sum())
    assert mean == pytest.approx(n * var_w * var_x)  # the same for every rho
    assert sd == pytest.approx(var_w * math.sqrt(2 * np.sum(lam**2)))


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
def test_average_unit_variance_does_not_depend_on_the_correlation(rho):
    # For w ~ N(0, var_w I): w' Sigma w = var_w var_x (l1 chi2_1 + (1 - rho) chi2_{n-1}),
    # l1 = 1 + (n-1) rho. Summed over m units: two independent chi-squares, each in its band
    # at ALPHA/2 (union bound).
    n, m, var_w, var_x = 40, 3000, 1 / 40, 1.0
    w = np.random.default_rng(22).normal(0.0, math.sqrt(var_w), (n, m))
    cov = sums.equicorrelated_covariance(n, rho, var_x)
    total = float(np.einsum("iu,ij,ju->", w, cov, w))
    l1, l2 = 1 + (n - 1) * rho, 1 - rho
    lo1, hi1 = variance_ratio_band(m, "normal", ALPHA / 2)
    lo2, hi2 = variance_ratio_band(m * (n - 1), "normal", ALPHA / 2)
    scale = var_w * var_x
    low = scale * (l1 * lo1 * m + l2 * lo2 * m * (n - 1))
    high = scale * (l1 * hi1 * m + l2 * hi2 * m * (n - 1))
    assert low <= total <= high
    assert sums.unit_variance_moments(n, rho, var_w, var_x)[0] == pytest.approx(1.0)


# ---------------------------------------------------------------- deep linear network


def test_linear_network_theory_is_the_factor_to_the_power_l():
    np.testing.assert_allclose(sums.linear_network_theory(100, 1.1 / 100, 50),
                               1.1 ** np.arange(1, 51))
    np.testing.assert_allclose(sums.linear_network_theory(64, 1 / 64, 10, var_x=3.0), 3.0)
    assert sums.linear_network_theory(10, 0.09, 3)[-1] == pytest.approx(0.9**3)


def test_linear_network_variances_with_scaled_orthogonal_layers_are_exact():
    # An orthogonal matrix keeps every row's norm, so each layer multiplies mean(h^2) by c.
    rng = np.random.default_rng(4)
    c, n, depth = 1.3, 32, 6
    x = rng.standard_normal((7, n))
    weights = [weightinit.orthogonal((n, n), math.sqrt(c), rng) for _ in range(depth)]
    measured = sums.linear_network_variances(x, weights)
    np.testing.assert_allclose(measured, np.mean(x**2) * c ** np.arange(1, depth + 1), rtol=1e-10)


@pytest.mark.parametrize("factor", [0.8, 1.0, 1.25])
def test_linear_network_each_layer_multiplies_the_variance_by_n_var_w(factor):
    # One input: given h_{l-1}, h_l = h_{l-1} W_l has n i.i.d. N(0, var_w |h_{l-1}|^2) entries,
    # so each layer's ratio |h_l|^2 / (var_w |h_{l-1}|^2) is chi-square(n), independently.
    # All `depth` ratios in their bands at ALPHA / depth each (union bound).
    n, depth = 2000, 8
    var_w = factor / n
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, n))
    weights = sums.normal_weights(n, depth, var_w, rng)
    v = np.concatenate([[np.mean(x**2)], sums.linear_network_variances(x, weights)])
    for before, after in zip(v[:-1], v[1:], strict=True):
        assert _chi2_ratio_ok(after * n, var_w * before * n, n, ALPHA / depth)


def test_linear_network_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        sums.linear_network_variances(np.ones((2, 3)), [np.ones((3, 4)), np.ones((3, 4))])
    with pytest.raises(ValueError, match="weights"):
        sums.linear_network_variances(np.ones((2, 3)), [])


def test_normal_weights_variance():
    n, depth, var_w = 50, 4, 0.02
    ws = sums.normal_weights(n, depth, var_w, np.random.default_rng(9))
    assert [w.shape for w in ws] == [(n, n)] * depth
    total = sum(float(np.sum(w**2)) for w in ws)
    assert _chi2_ratio_ok(total, var_w, n * n * depth, ALPHA)


# ---------------------------------------------------------------- backward pass


def _loss(x, weights, g, act):
    h = x
    for w in weights:
        h = act.forward(h @ w)
    return float(np.sum(h * g))


@pytest.mark.parametrize("activation", ["linear", "tanh", "relu", "sigmoid"])
def test_backward_pass_matches_finite_differences(activation):
    rng = np.random.default_rng(13)
    sizes = [5, 6, 4, 3]
    x = rng.standard_normal((3, sizes[0]))
    weights = [rng.normal(0, 0.7, (a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    g = rng.standard_normal((3, sizes[-1]))
    act = weightinit.get_activation(activation)
    grads = sums.backward_pass(x, weights, g, activation)
    assert [d.shape for d in grads] == [(3, b) for b in sizes[1:]]
    # dL/dx = dL/dz_1 W_1^T and dL/dW_l = h_{l-1}^T dL/dz_l, against central differences.
    eps = 1e-6
    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        numeric[idx] = (_loss(xp, weights, g, act) - _loss(xm, weights, g, act)) / (2 * eps)
    np.testing.assert_allclose(grads[0] @ weights[0].T, numeric, rtol=1e-5, atol=1e-7)
    h = x
    for layer, w in enumerate(weights):
        analytic = h.T @ grads[layer]
        for idx in [(0, 0), (w.shape[0] - 1, w.shape[1] - 1)]:
            wp = [v.copy() for v in weights]
            wm = [v.copy() for v in weights]
            wp[layer][idx] += eps
            wm[layer][idx] -= eps
            num = (_loss(x, wp, g, act) - _loss(x, wm, g, act)) / (2 * eps)
            assert analytic[idx] == pytest.approx(num, rel=1e-5, abs=1e-7)
        h = act.forward(h @ w)


def test_gradient_stds_of_a_linear_orthogonal_network_are_exact():
    rng = np.random.default_rng(14)
    c, n, depth = 1.5, 16, 5
    x = rng.standard_normal((4, n))
    g = rng.standard_normal((4, n))
    weights = [weightinit.orthogonal((n, n), math.sqrt(c), rng) for _ in range(depth)]
    stds = sums.gradient_stds(x, weights, g, "linear")
    expected = math.sqrt(np.mean(g**2)) * math.sqrt(c) ** (depth - np.arange(1, depth + 1))
    np.testing.assert_allclose(stds, expected, rtol=1e-10)


@pytest.mark.parametrize("factor", [1.0, 2.0, 3.0])
def test_each_step_back_multiplies_the_gradient_variance_by_n_var_w(factor):
    # Linear layers, one example: dL/dz_{l-1} = dL/dz_l W_l^T, and dL/dz_l depends only on the
    # later layers and the output gradient, so given it the n entries are i.i.d.
    # N(0, var_w |dL/dz_l|^2): each ratio is chi-square(n), all depth - 1 at ALPHA / (depth - 1).
    n, depth = 1500, 6
    var_w = factor / n
    rng = np.random.default_rng(15)
    x = rng.standard_normal((1, n))
    weights = sums.normal_weights(n, depth, var_w, rng)
    grads = sums.backward_pass(x, weights, rng.standard_normal((1, n)), "linear")
    for earlier, later in zip(grads[:-1], grads[1:], strict=True):
        assert _chi2_ratio_ok(float(np.sum(earlier**2)), var_w * float(np.sum(later**2)), n,
                              ALPHA / (depth - 1))


def test_relu_passes_half_of_the_output_gradient():
    # One example: each unit of the last layer is active with probability 1/2 independently
    # (its own column of W), so K ~ Binomial(n, 1/2) entries pass, and the sum of squares of
    # dL/dz_L is chi-square(K). Band: K in its binomial band at ALPHA/2, and the chi-square
    # band at ALPHA/2 for every K in that range (union bound). Tests relu_gradient_theory's
    # last value sqrt(grad_var / 2) together with the backward pass.
    n = 4000
    rng = np.random.default_rng(16)
    x = rng.standard_normal((1, n))
    weights = sums.normal_weights(n, 1, 2.0 / n, rng)
    grad = sums.backward_pass(x, weights, rng.standard_normal((1, n)), "relu")[0]
    k = int(np.count_nonzero(grad))
    k_lo, k_hi = st.binom.ppf(ALPHA / 4, n, 0.5), st.binom.isf(ALPHA / 4, n, 0.5)
    assert k_lo <= k <= k_hi
    low = st.chi2.ppf(ALPHA / 4, k_lo)
    high = st.chi2.isf(ALPHA / 4, k_hi)
    assert low <= float(np.sum(grad**2)) <= high
    assert sums.relu_gradient_theory(n, 2.0 / n, 1)[0] == pytest.approx(math.sqrt(0.5))


def test_relu_gradient_theory_formula():
    n, depth = 256, 30
    he = sums.relu_gradient_theory(n, 2 / n, depth)
    np.testing.assert_allclose(he, math.sqrt(0.5))  # He: the same at every layer
    for factor in (1.0, 3.0, 4.0):
        pred = sums.relu_gradient_theory(n, factor / n, depth, grad_var=2.0)
        np.testing.assert_allclose(pred[:-1] / pred[1:], math.sqrt(factor / 2))
        assert pred[0] / pred[-1] == pytest.approx((factor / 2) ** ((depth - 1) / 2))
        assert pred[-1] == pytest.approx(1.0)


def test_backward_pass_rejects_a_wrong_output_gradient():
    with pytest.raises(ValueError, match="grad_output"):
        sums.backward_pass(np.ones((2, 3)), [np.ones((3, 4))], np.ones((2, 3)))
    with pytest.raises(ValueError, match="activation"):
        sums.backward_pass(np.ones((2, 3)), [np.ones((3, 4))], np.ones((2, 4)), "softplus")


# ---------------------------------------------------------------- figures


def _fig() -> Figure:
    return Figure(figsize=(6.4, 3.6), dpi=50)


def test_draw_functions_draw_their_figures():
    rng = np.random.default_rng(0)
    fig = _fig()
    plots_sums.draw_linear_depth(fig, 1.25, n=16, depth=5, batch=8)
    assert "1.25" in fig.axes[0].get_title()
    assert len(fig.axes[0].lines) == 3  # predicted, measured, the line at 1

    fig = _fig()
    plots_sums.draw_sum_histogram(fig, 5, trials=500)
    assert len(fig.axes) == 2 and "n = 5" in fig.axes[0].get_title()

    fig = _fig()
    plots_sums.draw_variance_check(fig, [1.0, 2.1], [1.0, 2.0], [1.0, 1.0])
    assert len(fig.axes) == 1

    fig = _fig()
    per_unit = {0.0: rng.random(100), 1.0: rng.random(100)}
    plots_sums.draw_unit_variances(fig, per_unit, 0.5)
    assert len(fig.axes) == 1

    fig = _fig()
    plots_sums.draw_std_growth(fig, [1, 4, 16], [1.0, 2.0, 4.1], 1.0)
    fig = _fig()
    plots_sums.draw_product_density(fig, rng.standard_normal(500) * rng.standard_normal(500),
                                    1.0, 1.0)
    assert len(fig.axes) == 2
    fig = _fig()
    plots_sums.draw_sigmoid_derivative(fig, 0.01)
    assert "4.58" in fig.axes[0].get_title()
    fig = _fig()
    curve = (np.array([1.0, 0.9]), np.array([1.0, 1.0]))
    plots_sums.draw_relu_gradients(fig, {"Var(w) = 2/n": curve})
    assert len(fig.axes[0].lines) == 2
