"""Tests of weightinit.chapters.saturation: every number the saturation chapter states comes from
one of these functions, and each is pinned here by an independent computation or a calibrated band.

Statistical bands: each holds for a correct implementation with probability >= 1 - 1e-9
(weightinit.stats.ALPHA), from the exact sampling distribution (chi-square for a normal sample's
variance) or from Hoeffding's inequality for bounded values (indicators, sigmoid slopes in
[0, 1/4], squared uniform weights). Seeds are fixed, so a run is also reproducible.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from scipy import stats as st

from weightinit.activations import sigmoid, sigmoid_derivative
from weightinit.chapters import saturation as S
from weightinit.initializers import calculate_gain, compute_fans, variance_scaling
from weightinit.stats import ALPHA, hoeffding_halfwidth, variance_ratio_band

matplotlib.use("Agg")


# --- 250 inputs equal to 1, N(0, 1) weights -------------------------------------------------


def test_z_variance_of_250_unit_inputs_is_250_and_std_is_15_811():
    var = S.z_variance(250, 1.0)
    assert var == 250.0
    assert math.sqrt(var) == pytest.approx(math.sqrt(250.0), rel=1e-15)
    assert round(math.sqrt(var), 3) == 15.811  # the article's number


def test_z_variance_uses_the_second_moment_of_the_inputs():
    # E[x^2] = Var(x) + E[x]^2: inputs all 1 have Var(x) = 0 but E[x^2] = 1.
    assert S.z_variance(100, 0.5, mean_square_x=0.0 + 1.0**2) == pytest.approx(50.0)
    assert S.z_variance(100, 0.5, mean_square_x=2.0 + 3.0**2) == pytest.approx(100 * 0.5 * 11.0)
    # The "variance 1/sqrt(n)" slip gives Var(z) = sqrt(n), not 1.
    assert S.z_variance(250, 1.0 / math.sqrt(250)) == pytest.approx(math.sqrt(250))
    assert S.z_variance(250, 1.0 / 250) == pytest.approx(1.0)


def test_measured_z_of_n01_weights_has_variance_250():
    z = S.unit_input_preactivations("N(0, 1)", 250, 100, layers=200, rng=20240501)
    assert z.shape == (200 * 100,)
    # z = sum of 250 independent N(0, 1): exactly N(0, 250); all values independent.
    lo, hi = variance_ratio_band(z.size, "normal", ALPHA)
    assert lo <= np.mean(z**2) / 250.0 <= hi


NORMAL_INITIALIZERS = [
    name
    for name, spec in S.INITIALIZERS.items()
    if spec is None or spec["distribution"] == "normal"
]


@pytest.mark.parametrize("name", NORMAL_INITIALIZERS)
def test_measured_z_variance_matches_theory_for_normal_initializers(name):
    # With normal weights z is exactly N(0, n Var(w)). (The uniform initializers' variances are
    # checked on the weights themselves, in test_sampled_default_variances.)
    fan_in, fan_out = 250, 100
    var_z = S.z_variance(fan_in, S.weight_variance(name, fan_in, fan_out))
    z = S.unit_input_preactivations(name, fan_in, fan_out, layers=100, rng=7)
    lo, hi = variance_ratio_band(z.size, "normal", ALPHA)
    assert lo <= np.mean(z**2) / var_z <= hi


# --- Saturation --------------------------------------------------------------------------------


def test_saturated_fraction_counts_strictly_beyond_the_threshold():
    z = np.array([-5.0, -4.0, -3.9, 0.0, 3.9, 4.0, 4.1, 10.0])
    assert S.saturated_fraction(z) == pytest.approx(3 / 8)  # -5, 4.1, 10
    assert S.saturated_fraction(z, threshold=0.0) == pytest.approx(7 / 8)
    assert S.saturated_fraction(z.reshape(2, 4), threshold=3.95) == pytest.approx(5 / 8)


@pytest.mark.parametrize(
    ("std", "threshold"), [(math.sqrt(250), 4.0), (math.sqrt(250), 5.0), (1.0, 1.5), (3.0, 4.0)]
)
def test_saturated_share_is_two_normal_tails(std, threshold):
    expected = 2.0 * st.norm.sf(threshold / std)
    assert S.saturated_share(std, threshold) == pytest.approx(expected, rel=1e-12)
    inside = st.norm.cdf(threshold, scale=std) - st.norm.cdf(-threshold, scale=std)
    assert S.saturated_share(std, threshold) == pytest.approx(1.0 - inside, rel=1e-9)


def test_saturated_share_known_values_and_limits():
    assert S.saturated_share(1.0, 1.959963984540054) == pytest.approx(0.05, rel=1e-12)
    assert S.saturated_share(2.0, 0.0) == 1.0
    assert S.saturated_share(0.0, 4.0) == 0.0
    shares = [S.saturated_share(s) for s in (0.5, 1.0, 2.0, 8.0, math.sqrt(250))]
    assert shares == sorted(shares)
    thresholds = [S.saturated_share(math.sqrt(250), t) for t in (3.0, 4.0, 5.0, 6.0)]
    assert thresholds == sorted(thresholds, reverse=True)


@pytest.mark.parametrize("std", [math.sqrt(250), 1.0, math.sqrt(2.0)])
def test_measured_saturated_fraction_agrees_with_the_exact_share(std):
    n = 400_000
    z = np.random.default_rng(11).normal(0.0, std, n)
    # An indicator lies in [0, 1]: Hoeffding half-width at ALPHA.
    t = hoeffding_halfwidth(n, 1.0, ALPHA)
    assert abs(S.saturated_fraction(z) - S.saturated_share(std)) <= t


def test_threshold_for_slope_inverts_the_sigmoid_slope():
    for f in (1.0, 0.5, 0.0707, 0.01, 1e-6):
        t = S.threshold_for_slope(f)
        assert sigmoid_derivative(t) == pytest.approx(f * 0.25, rel=1e-9)
        assert sigmoid_derivative(-t) == pytest.approx(f * 0.25, rel=1e-9)
    assert S.threshold_for_slope(1.0) == 0.0
    # |z| = 4: slope between 7% and 7.1% of the peak, sigmoid within 0.018 of 1.
    assert 0.07 < sigmoid_derivative(4.0) / 0.25 < 0.071
    assert 1.0 - sigmoid(4.0) < 0.018


# --- Gradients ---------------------------------------------------------------------------------


def test_sigmoid_derivative_peaks_at_one_quarter():
    grid = np.linspace(-20, 20, 40_001)
    d = sigmoid_derivative(grid)
    assert S.SIGMOID_DERIVATIVE_MAX == 0.25
    assert float(sigmoid_derivative(0.0)) == 0.25
    assert d.max() == 0.25 and grid[np.argmax(d)] == 0.0


def test_expected_sigmoid_derivative_limits_and_order():
    assert S.expected_sigmoid_derivative(0.0) == 0.25
    values = [S.expected_sigmoid_derivative(s) for s in (0.1, 0.5, 1.0, 2.0, 15.8, 100.0)]
    assert all(0.0 < v < 0.25 for v in values)
    assert values == sorted(values, reverse=True)
    # Small s: sigma'(z) ~ 1/4 - z^2/16, so E ~ 1/4 - s^2/16.
    assert S.expected_sigmoid_derivative(0.01) == pytest.approx(0.25 - 1e-4 / 16, rel=1e-8)


@pytest.mark.parametrize("std", [30.0, 50.0, 100.0])
def test_expected_sigmoid_derivative_matches_the_wide_limit(std):
    # E = (1 / (s sqrt(2 pi))) (1 - pi^2 / (6 s^2) + O(s^-4)),
    # from int sigma' = 1 and int z^2 sigma' = pi^2 / 3.
    approx = (1.0 - math.pi**2 / (6 * std**2)) / (std * math.sqrt(2 * math.pi))
    # The next term is (7 pi^4 / 15) / (8 s^4) relative: below 3e-5 at s = 30.
    assert S.expected_sigmoid_derivative(std) == pytest.approx(approx, rel=3e-5)


@pytest.mark.parametrize("std", [1.0, math.sqrt(250)])
def test_expected_sigmoid_derivative_matches_monte_carlo(std):
    n = 1_000_000
    z = np.random.default_rng(5).normal(0.0, std, n)
    # sigma'(z) lies in [0, 1/4]: Hoeffding half-width at ALPHA.
    t = hoeffding_halfwidth(n, 0.25, ALPHA)
    assert abs(sigmoid_derivative(z).mean() - S.expected_sigmoid_derivative(std)) <= t


# --- Framework defaults ------------------------------------------------------------------------


@pytest.mark.parametrize(("fan_in", "fan_out"), [(250, 100), (784, 256), (1, 1), (10, 3000)])
def test_keras_dense_default_variance_is_two_over_fan_sum(fan_in, fan_out):
    var = S.keras_dense_default_variance(fan_in, fan_out)
    assert var == pytest.approx(2.0 / (fan_in + fan_out), rel=1e-15)
    assert S.uniform_limit(var) == pytest.approx(math.sqrt(6.0 / (fan_in + fan_out)), rel=1e-15)


def test_keras_conv_default_uses_the_receptive_field():
    assert compute_fans((3, 3, 64, 128)) == (3 * 3 * 64, 3 * 3 * 128)
    assert S.keras_default_variance((3, 3, 64, 128)) == pytest.approx(2.0 / (576 + 1152))
    assert S.keras_default_variance((5, 16, 32)) == pytest.approx(2.0 / (5 * 16 + 5 * 32))


@pytest.mark.parametrize("fan_in", [1, 3, 250, 784])
def test_pytorch_linear_default_variance_is_one_third_over_fan_in(fan_in):
    assert S.pytorch_linear_default_gain() ** 2 == pytest.approx(1.0 / 3.0, rel=1e-15)
    assert S.pytorch_linear_default_gain() == pytest.approx(calculate_gain("leaky_relu", 5**0.5))
    var = S.pytorch_linear_default_variance(fan_in)
    assert var == pytest.approx(1.0 / (3.0 * fan_in), rel=1e-15)
    assert S.pytorch_linear_default_bound(fan_in) == pytest.approx(1.0 / math.sqrt(fan_in))
    # Not LeCun (1/n) and not He (2/n): a third and a sixth of them.
    assert var * fan_in == pytest.approx(1.0 / 3.0)
    # Unit inputs: Var(z) = n / (3 n) = 1/3, std(z) = 1/sqrt(3), for every fan_in.
    assert math.sqrt(S.z_variance(fan_in, var)) == pytest.approx(1.0 / math.sqrt(3.0))


def test_uniform_limit_gives_the_requested_variance():
    for var in (1.0, 0.004, 2.0 / 350):
        a = S.uniform_limit(var)
        assert a == pytest.approx(math.sqrt(3.0 * var))
        assert a**2 / 3.0 == pytest.approx(var)  # Var(U(-a, a)) = a^2 / 3
    assert S.uniform_limit(0.0) == 0.0


@pytest.mark.parametrize(
    ("spec", "target"),
    [
        (S.PYTORCH_LINEAR_DEFAULT, lambda fi, fo: 1.0 / (3.0 * fi)),
        (S.KERAS_DEFAULT, lambda fi, fo: 2.0 / (fi + fo)),
    ],
    ids=["pytorch-linear", "keras-dense"],
)
def test_sampled_default_variances(spec, target):
    fan_in, fan_out = 250, 400  # 100_000 weights, fan_in != fan_out
    w = variance_scaling((fan_in, fan_out), rng=2024, **spec)
    var = target(fan_in, fan_out)
    assert np.abs(w).max() <= S.uniform_limit(var)
    # w^2 / var lies in [0, 3] for U(-a, a), a = sqrt(3 var): Hoeffding band at ALPHA.
    lo, hi = variance_ratio_band(w.size, "uniform", ALPHA)
    assert lo <= np.mean(w**2) / var <= hi
    # The band excludes LeCun's 1/n for PyTorch (ratio 3) and 1/n for Keras (ratio 1.3 here).
    assert hi < 1.3


def test_pytorch_default_z_of_unit_inputs_has_variance_one_third():
    # Few inputs so that z is tightly bounded: with n = 3, |z| <= 3 a = sqrt(3), z^2 in [0, 3].
    n, trials = 3, 1_000_000
    w = variance_scaling((n, trials), rng=99, **S.PYTORCH_LINEAR_DEFAULT)  # fan_in = 3
    z = w.sum(axis=0)
    t = hoeffding_halfwidth(trials, 3.0, ALPHA)
    assert abs(np.mean(z**2) - 1.0 / 3.0) <= t
    assert abs(np.mean(z**2) - 1.0) > t  # LeCun's Var(z) = 1 is excluded


def test_weight_variance_of_each_initializer():
    fi, fo = 250, 100
    assert S.weight_variance("N(0, 1)", fi, fo) == 1.0
    assert S.weight_variance("LeCun normal", fi, fo) == pytest.approx(1 / fi)
    assert S.weight_variance("Glorot uniform (Keras)", fi, fo) == pytest.approx(2 / (fi + fo))
    assert S.weight_variance("He normal", fi, fo) == pytest.approx(2 / fi)
    assert S.weight_variance("PyTorch Linear default", fi, fo) == pytest.approx(1 / (3 * fi))


def test_missing_parentheses_changes_glorot_by_orders_of_magnitude():
    n_in, n_out = 250, 100
    wrong = 2 / n_in + n_out
    right = 2 / (n_in + n_out)
    assert wrong == pytest.approx(100.008)
    assert right == pytest.approx(S.keras_dense_default_variance(n_in, n_out))
    assert wrong / right > 1e4


# --- Validation and figures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: S.saturated_fraction([], 4.0), "z must contain"),
        (lambda: S.saturated_fraction([1.0, np.nan]), "NaN"),
        (lambda: S.saturated_fraction([1.0], -1.0), "threshold"),
        (lambda: S.saturated_share(-1.0), "std"),
        (lambda: S.saturated_share(1.0, math.inf), "threshold"),
        (lambda: S.expected_sigmoid_derivative(-0.5), "std"),
        (lambda: S.threshold_for_slope(0.0), "fraction"),
        (lambda: S.threshold_for_slope(1.5), "fraction"),
        (lambda: S.z_variance(0, 1.0), "n must be a positive integer"),
        (lambda: S.z_variance(10, -1.0), "var_w"),
        (lambda: S.uniform_limit(-1.0), "var"),
        (lambda: S.pytorch_linear_default_variance(0), "fan_in"),
        (lambda: S.keras_dense_default_variance(10, 2.5), "fan_out"),
        (lambda: S.weight_variance("Xavier", 10, 10), "name must be one of"),
        (lambda: S.scaling_variance((10, 10), 1.0, "fan_sum"), "mode"),
        (lambda: S.unit_input_preactivations("LeCun normal", 10, 10, layers=0), "layers"),
        (lambda: S.unit_input_preactivations("He normal", 10, -2), "fan_out"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sampling_is_reproducible_from_rng():
    a = S.unit_input_preactivations("He normal", 20, 5, layers=3, rng=1)
    b = S.unit_input_preactivations("He normal", 20, 5, layers=3, rng=np.random.default_rng(1))
    assert np.array_equal(a, b)
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (checked untouched)
    S.sample_weights("N(0, 1)", (4, 3), rng=0)
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002


@pytest.mark.parametrize("name", list(S.INITIALIZERS))
def test_draw_saturation_titles_the_exact_share(name):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6))
    S.draw_saturation(fig, name, layers=5)
    title = fig.axes[0].get_title()
    s = math.sqrt(S.z_variance(250, S.weight_variance(name, 250, 100)))
    assert name in title and f"std(z) = {s:.3g}" in title
    assert S._share_label(S.saturated_share(s)) in title


def test_draw_share_and_gradient_draws_two_panels():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.6))
    S.draw_share_and_gradient(fig)
    assert len(fig.axes) == 2
    assert S._share_label(0.8) == "80.0%" and S._share_label(6.3e-5) == "6.3e-05"
