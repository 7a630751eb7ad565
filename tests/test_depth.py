"""Tests of weightinit.chapters.depth: the chapter "Keeping the signal alive through depth".

Exact statements (the initializers' target variances, the fan-rule ratios, the zig-zag ratio)
are checked exactly or against an independent route (weightinit.simulation.theory.predict). Sampled
weights are checked with the exact sampling distribution of their mean square (chi-square for
the normal, Hoeffding for the uniform: weightinit.stats.variance_ratio_band), each check at
false-failure probability at most ALPHA = 1e-9, split by the union bound where one test makes
several checks. Nothing is tuned to a seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from weightinit.chapters import depth
from weightinit.simulation.theory import predict
from weightinit.stats import ALPHA, variance_ratio_band

FANS = [(500, 100), (64, 256), (1, 1)]


# ------------------------------------------------------------------------------- initializers


@pytest.mark.parametrize("fan_in, fan_out", FANS)
def test_weight_variance_formulas(fan_in, fan_out):
    expected = {
        "std 0.01": 1e-4,
        "uniform 1/sqrt(n)": 1 / (3 * fan_in),
        "LeCun 1/n": 1 / fan_in,
        "Xavier": 2 / (fan_in + fan_out),
        "He 2/n": 2 / fan_in,
        "std 1": 1.0,
    }
    assert set(expected) == set(depth.INITIALIZERS)
    for name, var in expected.items():
        assert depth.weight_variance(name, fan_in, fan_out) == pytest.approx(var, rel=1e-12)


def test_the_question_s_three_variances_for_a_500_to_100_layer():
    # LeCun's 1/n_in, Glorot's 2/(n_in + n_out), and "n = nodes in the next layer", 1/n_out.
    assert depth.weight_variance("LeCun 1/n", 500, 100) == pytest.approx(0.002)
    assert depth.weight_variance("Xavier", 500, 100) == pytest.approx(1 / 300)
    assert depth.weight_variance("LeCun 1/n", 100, 500) == pytest.approx(0.01)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: depth.weight_variance("Kaiming", 3, 4), "name must be one of"),
        (lambda: depth.weight_variance("He 2/n", 0, 4), "fan_in must be a positive integer"),
        (lambda: depth.weight_variance("He 2/n", 3, True), "fan_out must be a positive integer"),
        (lambda: depth.initializer("he_normal"), "name must be one of"),
        (lambda: depth.fan_rule("fan_next"), "mode must be one of"),
        (lambda: depth.fan_rule("fan_in", 0.0), "scale"),
        (lambda: depth.alternating_widths(500, 0, 3), "narrow must be a positive integer"),
        (lambda: depth.alternating_widths(500, 100, 0), "depth must be a positive integer"),
        (lambda: depth.signal_quantity(None), "activation must be a name"),
        (lambda: depth.deep_signal("relu", "He 2/n", [8]), "layer_sizes must hold"),
        (lambda: depth.deep_signal("relu", "He 2/n", "88"), "layer_sizes must be a sequence"),
        (lambda: depth.deep_signal("relu", "He 2/n", [8, 8], batch=0), "batch must be"),
        (lambda: depth.deep_signal("swish", "He 2/n", [8, 8], rng=0), "swish"),
        (lambda: depth.wrong_fan_ratio([5, 5], "sideways"), "direction must be one of"),
        (lambda: depth.wrong_fan_ratio([5], "forward"), "layer_sizes must hold"),
        (lambda: depth.tanh_std_asymptote(0), "layer must be a positive integer"),
        (lambda: depth.tanh_std_asymptote(2.5), "layer must be a positive integer"),
    ],
)
def test_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("name", list(depth.INITIALIZERS))
def test_initializer_draws_the_target_variance(name):
    shape = (300, 200)
    w = depth.initializer(name)(shape, rng=np.random.default_rng(11))
    assert w.shape == shape and w.dtype == np.float64
    family = "uniform" if name == "uniform 1/sqrt(n)" else "normal"
    ratio = float(np.mean(w**2)) / depth.weight_variance(name, *shape)
    lo, hi = variance_ratio_band(w.size, family, ALPHA)  # one check: false failure <= 1e-9
    assert lo <= ratio <= hi, (name, ratio, lo, hi)


def test_uniform_range_is_plus_minus_one_over_sqrt_n_with_variance_one_third_of_1_over_n():
    fan_in, fan_out = 250, 400
    w = depth.initializer("uniform 1/sqrt(n)")((fan_in, fan_out), rng=np.random.default_rng(3))
    a = 1 / math.sqrt(fan_in)
    assert np.abs(w).max() <= a  # never outside the range
    # The largest |w| of N draws is below (1 - eps) a with probability (1 - eps)^N: eps is
    # chosen so that this is ALPHA / 2; the variance band takes the other ALPHA / 2.
    eps = 1 - (ALPHA / 2) ** (1 / w.size)
    assert np.abs(w).max() >= (1 - eps) * a
    lo, hi = variance_ratio_band(w.size, "uniform", ALPHA / 2)
    assert lo <= fan_in * float(np.mean(w**2)) * 3 <= hi  # n Var(w) = 1/3, not 1


def test_initializers_draw_only_from_rng():
    for name in depth.INITIALIZERS:
        init = depth.initializer(name)
        a = init((20, 30), rng=np.random.default_rng(5))
        b = init((20, 30), rng=np.random.default_rng(5))
        c = init((20, 30), rng=np.random.default_rng(6))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        assert init.__name__ == name


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_fan_rule_variance_is_scale_over_the_named_fan(mode):
    fan_in, fan_out = 500, 100
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    w = depth.fan_rule(mode, 2.0)((fan_in, fan_out), rng=np.random.default_rng(8))
    lo, hi = variance_ratio_band(w.size, "normal", ALPHA)
    assert lo <= float(np.mean(w**2)) / (2.0 / n) <= hi


def test_alternating_widths_and_signal_quantity():
    assert depth.alternating_widths(500, 100, 5) == [500, 100, 500, 100, 500, 100]
    assert depth.alternating_widths(7, 3, 1) == [7, 3]
    assert depth.signal_quantity("relu") == "z"
    assert depth.signal_quantity("leaky_relu") == "z"
    assert depth.signal_quantity("tanh") == "h"
    assert depth.signal_quantity("linear") == "h"


# --------------------------------------------------------------------------------- deep runs


def test_deep_signal_is_reproducible_and_uses_the_named_initializer():
    sizes = [200, 150, 150, 150]
    res = depth.deep_signal("tanh", "std 0.01", sizes, batch=32, rng=1)
    again = depth.deep_signal("tanh", "std 0.01", sizes, batch=32, rng=1)
    np.testing.assert_array_equal(res.h.std, again.h.std)
    np.testing.assert_array_equal(res.h.counts, again.h.counts)
    assert res.layer_sizes == tuple(sizes) and res.batch == 32 and res.activation == "tanh"
    assert res.dz is None  # forward only by default
    # Each layer's mean square of the weights is chi-square / size: the union bound over the
    # three layers keeps the total false-failure probability at ALPHA.
    for layer, v in enumerate(res.weight_var):
        size = sizes[layer] * sizes[layer + 1]
        lo, hi = variance_ratio_band(size, "normal", ALPHA / 3)
        assert lo <= v / 1e-4 <= hi


def test_deep_signal_passes_other_initializers_and_flags_through():
    sizes = [40, 30, 20]
    res = depth.deep_signal("relu", depth.fan_rule("fan_out"), sizes, batch=16, rng=2,
                            backward=True, histograms=False)
    assert res.dz is not None and res.dw is not None and res.z.counts is None
    res2 = depth.deep_signal("relu", "he_normal", sizes, batch=16, rng=2)
    assert res2.z.counts is not None
    edges = {"z": np.linspace(-3, 3, 13)}
    res3 = depth.deep_signal("relu", "He 2/n", sizes, batch=16, rng=2, edges=edges)
    np.testing.assert_array_equal(res3.z.edges, edges["z"])


# ------------------------------------------------------------------------------- which n?


@pytest.mark.parametrize("activation, c", [("linear", 1.0), ("relu", 2.0)])
def test_wrong_fan_ratio_equals_the_theory_of_both_rules(activation, c):
    """Independent route: predict() for each rule's weight variances, then divide."""
    sizes = [500, 100, 500, 100, 300, 50, 80]
    fan_in_var = [c / n for n in sizes[:-1]]
    fan_out_var = [c / n for n in sizes[1:]]
    th_in = predict(activation, sizes, fan_in_var, 1.0, grad_second=1.0)
    th_out = predict(activation, sizes, fan_out_var, 1.0, grad_second=1.0)
    np.testing.assert_allclose(th_out.z_second / th_in.z_second,
                               depth.wrong_fan_ratio(sizes, "forward"), rtol=1e-12)
    np.testing.assert_allclose(th_in.dz_second / th_out.dz_second,
                               depth.wrong_fan_ratio(sizes, "backward"), rtol=1e-12)
    # and each rule keeps its own direction exactly: forward for fan-in, backward for fan-out
    np.testing.assert_allclose(th_in.z_second, th_in.z_second[0], rtol=1e-12)
    np.testing.assert_allclose(th_out.dz_second, th_out.dz_second[-1], rtol=1e-12)


def test_wrong_fan_ratio_telescopes_to_the_width_ratio():
    sizes = depth.alternating_widths(500, 100, 6)
    np.testing.assert_allclose(depth.wrong_fan_ratio(sizes, "forward"), [5, 1, 5, 1, 5, 1])
    np.testing.assert_allclose(depth.wrong_fan_ratio(sizes, "backward"), [5, 1, 5, 1, 5, 1])
    ends_narrow = depth.alternating_widths(500, 100, 5)  # n_L = 100: the wide layers get 1/5
    np.testing.assert_allclose(depth.wrong_fan_ratio(ends_narrow, "backward"),
                               [1, 0.2, 1, 0.2, 1])
    np.testing.assert_allclose(depth.wrong_fan_ratio([512, 256, 128, 64], "forward"), [2, 4, 8])


def test_zigzag_ratio():
    sizes = [500, 100, 500, 100, 500]
    assert depth.zigzag_ratio([10.0, 2.0, 10.0, 2.0], sizes) == pytest.approx(5.0, rel=1e-12)
    # geometric means: narrow layers 4 and 16 -> 8, wide layers 2 and 8 -> 4
    assert depth.zigzag_ratio([4.0, 2.0, 16.0, 8.0], sizes) == pytest.approx(2.0, rel=1e-12)
    with pytest.raises(ValueError, match="different widths"):
        depth.zigzag_ratio([1.0, 2.0], [8, 8, 8])
    with pytest.raises(ValueError, match="one number per layer"):
        depth.zigzag_ratio([1.0, 2.0], sizes)
    with pytest.raises(ValueError, match="positive and finite"):
        depth.zigzag_ratio([1.0, 0.0, 1.0, 1.0], sizes)


# ------------------------------------------------------------------------- tanh's slow decay


def test_tanh_std_asymptote_matches_the_mean_field_recursion():
    layers = [100, 400, 1600]
    errors = []
    for n_layers in layers:
        theory = predict("tanh", [500] * (n_layers + 1), [1 / 500] * n_layers, 1.0)
        approx = depth.tanh_std_asymptote(n_layers)
        errors.append(abs(theory.h_std[-1] / approx - 1))
    assert errors[-1] < 0.002  # close at depth 1600 ...
    assert errors[0] > errors[1] > errors[2]  # ... and closer the deeper
    np.testing.assert_allclose(depth.tanh_std_asymptote(np.array([1, 2, 8])),
                               [1 / math.sqrt(2), 0.5, 0.25])


# ------------------------------------------------------------------- one network's wandering


def test_end_to_end_ratios_are_those_of_independent_deep_signal_runs():
    sizes = [60, 50, 50, 50]
    ratios = depth.end_to_end_ratios("relu", "He 2/n", sizes, 3, batch=8, rng=4)
    gen = np.random.default_rng(4)
    expected = []
    for _ in range(3):
        res = depth.deep_signal("relu", "He 2/n", sizes, batch=8, rng=gen, histograms=False)
        expected.append(res.z.std[-1] / res.z.std[0])
    np.testing.assert_array_equal(ratios, expected)
    assert len(set(ratios)) == 3  # fresh weights for each network
    h_ratios = depth.end_to_end_ratios("relu", "He 2/n", sizes, 3, batch=8, rng=4, quantity="h")
    assert not np.array_equal(h_ratios, ratios)
    # one layer: the first layer is the last, the ratio is exactly 1
    np.testing.assert_array_equal(
        depth.end_to_end_ratios("tanh", "LeCun 1/n", [10, 10], 2, rng=0), [1.0, 1.0])
    with pytest.raises(ValueError, match="networks must be a positive integer"):
        depth.end_to_end_ratios("relu", "He 2/n", sizes, 0)
    with pytest.raises(ValueError, match="quantity must be one of"):
        depth.end_to_end_ratios("relu", "He 2/n", sizes, 1, quantity="dz")
