"""Tests for weightinit.chapters.gradients (the chapter "Gradients: the backward pass has its own
condition").

The numbers the chapter states are pinned here by the functions that compute them:

- the per-layer factors and their end-to-end products are exact arithmetic (the telescoping
  identity ``backward / forward = n_L / n_1``, the 30-layer factor ``2^-29`` of ``1/n``);
- the comparisons between initializations use *one* random draw rescaled, so for ReLU and
  linear units (which commute with positive scales) the measured per-layer ratios between two
  initializations equal the theory's powers of the scale exactly, up to floating-point
  rounding (the band below is a rounding bound, not a statistical one);
- the fixed points and factors of tanh and SELU are checked against independent quadrature
  and the closed form of ``E[selu'(z)^2]``;
- the training experiment is checked for properties (He learns, ``1/n`` stays at ``ln 2``),
  never against numbers copied from a run.

The one statistical check (the variance of the drawn weights) uses the exact chi-square band
of weightinit.stats with false-failure probability ALPHA = 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as st
from scipy.special import expit

from weightinit import get_activation
from weightinit.activations import SELU_ALPHA, SELU_SCALE
from weightinit.chapters.gradients import (
    MODES,
    deep_pass,
    depth_training,
    end_to_end,
    fan_variances,
    he_and_lecun,
    initial_gradients,
    layer_factors,
    layer_factors_at,
    normal_weights,
    output_gradient,
    rescale,
    variance_fixed_point,
    width_experiment,
)
from weightinit.simulation.datasets import circles
from weightinit.simulation.propagation import propagate
from weightinit.simulation.training import forward, init_mlp, loss_and_grads
from weightinit.stats import ALPHA, variance_ratio_band

# Relative error allowed where two computations are equal in exact arithmetic: each is a chain
# of at most a few hundred float64 operations, each with relative error <= 2^-53 ~ 1.1e-16,
# so 1e-9 leaves a margin of several orders of magnitude.
ROUNDING = 1e-9

GROWING = [64] + [round(64 * 2 ** (k / 3)) for k in range(10)]  # the chapter's network


# ---------------------------------------------------------------------------------------------
# fan_variances, layer_factors, end_to_end
# ---------------------------------------------------------------------------------------------


def test_fan_variances_follow_keras_modes():
    sizes = [10, 30, 20]
    np.testing.assert_allclose(fan_variances(sizes, 2.0, "fan_in"), [2 / 10, 2 / 30])
    np.testing.assert_allclose(fan_variances(sizes, 2.0, "fan_out"), [2 / 30, 2 / 20])
    np.testing.assert_allclose(fan_variances(sizes, 1.0, "fan_avg"), [2 / 40, 2 / 50])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([10, 20], 1.0, "fan_max"), "mode"),
        (([10, 20], 0.0, "fan_in"), "scale"),
        (([10], 1.0, "fan_in"), "layer_sizes"),
        (([10, 0], 1.0, "fan_in"), "layer_sizes"),
        (("10, 20", 1.0, "fan_in"), "layer_sizes"),
    ],
)
def test_fan_variances_reject_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        fan_variances(*args)


def test_layer_factors_he_fan_in_keeps_forward_and_scales_backward_by_width_ratios():
    fwd, bwd = layer_factors(GROWING, fan_variances(GROWING, 2.0, "fan_in"), "relu")
    np.testing.assert_allclose(fwd, 1.0, rtol=ROUNDING)
    ratios = np.array(GROWING[1:]) / np.array(GROWING[:-1])
    np.testing.assert_allclose(bwd, ratios, rtol=ROUNDING)


@pytest.mark.parametrize(("activation", "c"), [("linear", 1.0), ("relu", 0.5)])
def test_layer_factors_are_c_times_fan_times_variance(activation, c):
    sizes = [3, 5, 7]
    v = [0.1, 0.2]
    fwd, bwd = layer_factors(sizes, v, activation)
    np.testing.assert_allclose(fwd, [c * 3 * 0.1, c * 5 * 0.2], rtol=ROUNDING)
    np.testing.assert_allclose(bwd, [c * 5 * 0.1, c * 7 * 0.2], rtol=ROUNDING)


def test_layer_factors_of_a_leaky_relu_use_its_slope():
    fwd, bwd = layer_factors([4, 4], 0.5, get_activation("leaky_relu", 0.2))
    assert fwd[0] == pytest.approx(4 * 0.5 * (1 + 0.04) / 2, rel=ROUNDING)
    assert bwd[0] == pytest.approx(fwd[0], rel=ROUNDING)


def test_layer_factors_refuse_tanh_and_bad_variances():
    with pytest.raises(ValueError, match="tanh"):
        layer_factors([4, 4], 0.25, "tanh")
    with pytest.raises(ValueError, match="weight_var"):
        layer_factors([4, 4, 4], [0.25], "relu")
    with pytest.raises(ValueError, match="weight_var"):
        layer_factors([4, 4], [-1.0], "relu")


def test_thirty_layers_of_one_over_n_lose_two_to_the_29_both_ways():
    """The chapter's 30-layer end-to-end factors: 2^-29 for 1/n, exactly 1 for He's 2/n."""
    equal = [32] * 31
    lecun = end_to_end(equal, 1 / 32, "relu")
    he = end_to_end(equal, 2 / 32, "relu")
    assert lecun.forward == pytest.approx(2.0**-29, rel=ROUNDING)
    assert lecun.backward == pytest.approx(2.0**-29, rel=ROUNDING)
    assert he.forward == pytest.approx(1.0, rel=ROUNDING)
    assert he.backward == pytest.approx(1.0, rel=ROUNDING)
    # Ten percent off: (1.1)^29 and (0.9)^29 in variance, the chapter's Goldilocks numbers.
    assert end_to_end(equal, 2.2 / 32).backward == pytest.approx(1.1**29, rel=ROUNDING)
    assert end_to_end(equal, 1.8 / 32).backward == pytest.approx(0.9**29, rel=ROUNDING)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_backward_over_forward_telescopes_to_the_end_widths(seed, activation):
    """He et al.'s identity: whatever the variances, the ratio is n_L / n_1."""
    gen = np.random.default_rng(seed)
    sizes = [int(n) for n in gen.integers(1, 300, size=gen.integers(3, 12))]
    variances = gen.uniform(0.001, 0.1, size=len(sizes) - 1)
    e = end_to_end(sizes, variances, activation)
    assert e.ratio == pytest.approx(sizes[-1] / sizes[1], rel=ROUNDING)
    assert (e.first_width, e.last_width) == (sizes[1], sizes[-1])


@pytest.mark.parametrize("mode", MODES)
def test_end_to_end_on_the_chapters_growing_network(mode):
    e = end_to_end(GROWING, fan_variances(GROWING, 2.0, mode), "relu")
    assert e.ratio == pytest.approx(8.0, rel=ROUNDING)
    r = 2 ** (1 / 3)  # approximately: the widths are rounded
    expected_forward = {"fan_in": 1.0, "fan_out": 1 / 8, "fan_avg": (2 / (1 + r)) ** 9}[mode]
    assert e.forward == pytest.approx(expected_forward, rel=0.02)


def test_end_to_end_needs_two_layers():
    with pytest.raises(ValueError, match="at least 2"):
        end_to_end([4, 4], 0.5)


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_end_to_end_agrees_with_propagates_prediction(activation):
    """The products equal propagate's per-layer theory computed from the same variances."""
    gen = np.random.default_rng(3)
    weights = normal_weights(GROWING, fan_variances(GROWING, 2.0, "fan_avg"), gen)
    res = propagate(gen.standard_normal((16, GROWING[0])), weights, activation,
                    rng=gen, histograms=False)
    e = end_to_end(GROWING, res.weight_var, activation)
    assert res.z.predicted_var[-1] / res.z.predicted_var[0] == pytest.approx(e.forward,
                                                                              rel=ROUNDING)
    # the gradient's mean squares (its predicted variance also subtracts the squared mean of
    # the drawn output gradient at the last layer)
    dz_second = res.theory.dz_second
    assert dz_second[0] / dz_second[-1] == pytest.approx(e.backward, rel=ROUNDING)


# ---------------------------------------------------------------------------------------------
# normal_weights, deep_pass, width_experiment
# ---------------------------------------------------------------------------------------------


def test_normal_weights_are_one_draw_rescaled():
    sizes = [20, 30, 10]
    a = normal_weights(sizes, [0.5, 2.0], 7)
    b = normal_weights(sizes, 0.1, 7)
    assert [w.shape for w in a] == [(20, 30), (30, 10)]
    np.testing.assert_allclose(a[0] / math.sqrt(0.5), b[0] / math.sqrt(0.1), rtol=ROUNDING)
    np.testing.assert_allclose(a[1] / math.sqrt(2.0), b[1] / math.sqrt(0.1), rtol=ROUNDING)


def test_normal_weights_have_the_requested_variance():
    """mean(w^2) / v of N(0, v) draws: exact chi-square band, false failure <= ALPHA."""
    (w,) = normal_weights([300, 400], 0.02, 11)
    lo, hi = variance_ratio_band(w.size, "normal", ALPHA)
    assert lo <= np.mean(w**2) / 0.02 <= hi


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_deep_pass_ratios_between_two_scales_are_exact_powers(activation):
    """Same seed, n Var(w) = f1 and f2: every weight is scaled by c = sqrt(f1 / f2), so
    z_l scales by c^l and dL/dz_l by c^(L - l), exactly (ReLU commutes with positive scales).
    This pins the chapter's per-layer gradient ratios between 1/n and 2/n."""
    depth = 12
    low = deep_pass(activation, 1.0, width=32, depth=depth, batch=8, rng=5)
    high = deep_pass(activation, 2.0, width=32, depth=depth, batch=8, rng=5)
    c = math.sqrt(1.0 / 2.0)
    layers = np.arange(1, depth + 1)
    np.testing.assert_allclose(low.z.std / high.z.std, c**layers, rtol=ROUNDING)
    np.testing.assert_allclose(low.dz.std / high.dz.std, c ** (depth - layers), rtol=ROUNDING)
    # and the theory's lines differ by the same powers
    np.testing.assert_allclose(low.dz.predicted_std / high.dz.predicted_std,
                               c ** (depth - layers), rtol=ROUNDING)


def test_deep_pass_uses_the_requested_variance_and_validates():
    res = deep_pass("relu", 2.0, width=16, depth=3, batch=4, rng=0)
    assert res.layer_sizes == (16, 16, 16, 16)
    assert res.batch == 4
    with pytest.raises(ValueError, match="width"):
        deep_pass("relu", 2.0, width=0)
    with pytest.raises(ValueError, match="n_var_w"):
        deep_pass("relu", -1.0)


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_width_experiment_modes_differ_only_by_their_scales(activation):
    """Same draws per mode: layer l's z std ratio between two modes is the product of the
    weight std ratios of layers 1..l, and dL/dz_l's the product over layers l+1..L."""
    res = width_experiment(GROWING, activation, 2.0, batch=8, rng=4)
    assert list(res) == list(MODES)
    base = res["fan_in"]
    for mode in ("fan_out", "fan_avg"):
        scale = np.sqrt(fan_variances(GROWING, 2.0, mode) / fan_variances(GROWING, 2.0, "fan_in"))
        forward_expected = np.cumprod(scale)
        backward_expected = np.array([np.prod(scale[i + 1:]) for i in range(len(scale))])
        np.testing.assert_allclose(res[mode].z.std / base.z.std, forward_expected, rtol=ROUNDING)
        np.testing.assert_allclose(res[mode].dz.std / base.dz.std, backward_expected,
                                   rtol=ROUNDING)
        # hence the measured backward / forward ratio is the same for every mode
        ratio = (res[mode].dz.var[0] / res[mode].dz.var[-1]) / (res[mode].z.var[-1]
                                                                  / res[mode].z.var[0])
        base_ratio = (base.dz.var[0] / base.dz.var[-1]) / (base.z.var[-1] / base.z.var[0])
        assert ratio == pytest.approx(base_ratio, rel=ROUNDING)


def test_width_experiment_needs_an_integer_seed():
    with pytest.raises(ValueError, match="rng"):
        width_experiment(GROWING, "relu", 2.0, rng=np.random.default_rng(0))


# ---------------------------------------------------------------------------------------------
# tanh and SELU: factors at a variance, fixed points
# ---------------------------------------------------------------------------------------------


def _normal_expectation(fn, q):
    """E[fn(z)] for z ~ N(0, q) by adaptive quadrature (independent of the package's rule)."""
    s = math.sqrt(q)
    value, _ = integrate.quad(lambda u: fn(s * u) * st.norm.pdf(u), -12, 12, limit=200,
                              points=[0.0])
    return value


@pytest.mark.parametrize("q", [0.01, 0.5, 3.0])
def test_layer_factors_at_for_relu_and_leaky_relu_do_not_depend_on_the_variance(q):
    assert layer_factors_at("relu", 2.0, q) == pytest.approx((1.0, 1.0), rel=ROUNDING)
    leaky = get_activation("leaky_relu", 0.2)
    s = 2 / (1 + 0.04)
    assert layer_factors_at(leaky, s, q) == pytest.approx((1.0, 1.0), rel=ROUNDING)


def test_selu_with_lecun_normal_has_its_fixed_point_at_one_and_a_backward_factor_above_one():
    """Klambauer et al.'s fixed point Var(z) = 1 for n Var(w) = 1, and the backward factor there,
    E[selu'(z)^2] = lambda^2 / 2 + lambda^2 alpha^2 e^2 Phi(-2) for z ~ N(0, 1)."""
    q = variance_fixed_point("selu", 1.0)
    assert q == pytest.approx(1.0, abs=1e-9)
    fwd, bwd = layer_factors_at("selu", 1.0, 1.0)
    closed = SELU_SCALE**2 / 2 + SELU_SCALE**2 * SELU_ALPHA**2 * math.e**2 * st.norm.cdf(-2.0)
    assert fwd == pytest.approx(1.0, abs=1e-9)
    assert bwd == pytest.approx(closed, rel=1e-9)
    assert 1.07 < bwd < 1.08


@pytest.mark.parametrize(("activation", "gain"), [("tanh", 5 / 3), ("selu", 0.75)])
def test_fixed_points_solve_the_recursion(activation, gain):
    """q* = g^2 E[f(z)^2] with z ~ N(0, q*), checked by independent quadrature; the backward
    factor there is g^2 E[f'(z)^2]."""
    act = get_activation(activation)
    s = gain**2
    q = variance_fixed_point(act, s)
    assert q > 0
    assert s * _normal_expectation(lambda z: act.forward(np.asarray(z)) ** 2, q) == pytest.approx(
        q, rel=1e-7)
    fwd, bwd = layer_factors_at(act, s, q)
    assert fwd == pytest.approx(1.0, rel=1e-7)
    slope2 = _normal_expectation(lambda z: act.derivative(np.asarray(z)) ** 2, q)
    assert bwd == pytest.approx(s * slope2, rel=1e-7)


def test_tanh_gain_five_thirds_keeps_the_signal_but_grows_the_gradient():
    q = variance_fixed_point("tanh", 25 / 9)
    _, bwd = layer_factors_at("tanh", 25 / 9, q)
    assert bwd > 1.1  # the chapter's point: no gain keeps both directions for tanh
    assert variance_fixed_point("tanh", 1.0) == 0.0  # gain 1: the signal fades to 0


def test_selu_three_quarters_trades_the_normalized_state_for_a_flat_gradient():
    q = variance_fixed_point("selu", 0.75**2)
    _, bwd = layer_factors_at("selu", 0.75**2, q)
    assert q < 0.1  # far from the self-normalizing variance 1
    assert abs(bwd - 1.0) < abs(layer_factors_at("selu", 1.0, 1.0)[1] - 1.0)


def test_variance_fixed_point_rejects_homogeneous_and_growing_cases():
    with pytest.raises(ValueError, match="no fixed point"):
        variance_fixed_point("relu", 2.0)
    with pytest.raises(ValueError, match="keeps growing"):
        variance_fixed_point("selu", 4.0)  # s lambda^2 / 2 > 1: the variance grows without bound


# ---------------------------------------------------------------------------------------------
# The training experiment
# ---------------------------------------------------------------------------------------------

SIZES = [2] + [32] * 30 + [1]  # the chapter's 30-layer network


def test_he_and_lecun_share_one_draw():
    nets = he_and_lecun([2, 8, 8, 1], rng=3)
    reference = init_mlp([2, 8, 8, 1], "he", rng=3)
    for (W_he, b_he), (W_le, b_le), (W_ref, _) in zip(nets["he"], nets["lecun"], reference,
                                                      strict=True):
        np.testing.assert_array_equal(W_he, W_ref)
        np.testing.assert_allclose(W_le, W_he / math.sqrt(2.0), rtol=ROUNDING)
        assert not np.any(b_he) and not np.any(b_le)


def test_rescale_copies():
    params = [(np.ones((2, 3)), np.full(3, 0.5))]
    out = rescale(params, 3.0)
    np.testing.assert_array_equal(out[0][0], 3.0)
    np.testing.assert_array_equal(out[0][1], 0.5)
    out[0][1][:] = 9.0
    assert params[0][1][0] == 0.5
    with pytest.raises(ValueError, match="factor"):
        rescale(params, 0.0)


def test_one_over_n_logits_are_exactly_a_power_of_root_two_smaller():
    """At initialization (zero biases) ReLU networks commute with positive scales: the 1/n
    network's logits are (1/sqrt 2)^31 times He's, the chapter's forward number."""
    X, _ = circles(50, rng=0)
    nets = he_and_lecun(SIZES, rng=0)
    ratio = forward(nets["lecun"], X) / forward(nets["he"], X)
    np.testing.assert_allclose(ratio, 2.0 ** (-(len(SIZES) - 1) / 2), rtol=ROUNDING)


def test_initial_gradients_are_the_losss_gradients():
    """propagate's dL/dW statistics through the hidden layers, fed with output_gradient, equal
    those of training.loss_and_grads (the model's own back-propagation)."""
    X, y = circles(60, rng=1)
    params = init_mlp([2, 16, 16, 16, 1], "he", rng=2)
    res = initial_gradients(params, X, y)
    _, grads = loss_and_grads(params, X, y)
    for layer, (dW, _) in enumerate(grads[:-1]):
        assert res.dw.std[layer] == pytest.approx(np.std(dW), rel=1e-9)
        assert res.dw.mean[layer] == pytest.approx(np.mean(dW), rel=1e-7, abs=1e-15)


def test_initial_gradients_need_a_network_at_initialization():
    X, y = circles(20, rng=1)
    params = init_mlp([2, 8, 1], "he", rng=2)
    params[0] = (params[0][0], params[0][1] + 0.1)
    with pytest.raises(ValueError, match="zero biases"):
        initial_gradients(params, X, y)
    with pytest.raises(ValueError, match="one output"):
        output_gradient(init_mlp([2, 8, 2], "he", rng=2), X, y)


def test_he_learns_and_one_over_n_stalls_on_the_chapters_experiment():
    """The chapter's configuration (circles, 30 hidden layers of width 32, lr 0.01, 300
    epochs, seed 0): properties, not copied numbers. He's loss falls well below ln 2
    and below the 1/n network's, which never leaves ln 2 by more than 1e-3 (its logits start
    2^-15.5 times He's and its weight gradients about 2^-15 times)."""
    X, y = circles(200, rng=0)
    runs = depth_training(X, y, SIZES, lr=0.01, epochs=300, rng=0)
    he, lecun = runs["he"], runs["lecun"]
    assert he.loss[-1] < 0.1
    assert he.loss[-1] < lecun.loss[-1]
    assert he.accuracy[-1] > 0.95
    assert np.max(np.abs(lecun.loss - math.log(2))) < 1e-3


def test_weight_gradients_of_one_over_n_are_two_to_the_minus_15_of_hes():
    """dL/dW_l = h_{l-1}^T dL/dz_l: in the 1/n network the signal carries (1/sqrt 2)^(l-1) and
    the gradient (1/sqrt 2)^(31-l) (the output weight and the 30 - l hidden layers above), so
    every weight gradient is exactly 2^-15 times the He network's *fed with the 1/n network's
    output errors* sigma(s) - y. The errors of the two networks differ little because He's
    logits are small at initialization (checked): that is the chapter's "about 2^-15"."""
    X, y = circles(200, rng=0)
    nets = he_and_lecun(SIZES, rng=0)
    s_he = forward(nets["he"], X)[:, 0]
    s_lecun = forward(nets["lecun"], X)[:, 0]
    delta_lecun = (expit(s_lecun) - y) / len(y)
    W_out = nets["he"][-1][0]
    g = delta_lecun[:, None] @ W_out.T
    he_hidden = [W for W, _ in nets["he"][:-1]]
    reference = propagate(X, he_hidden, "relu", grad_output=g, histograms=False)
    lecun = initial_gradients(nets["lecun"], X, y)
    np.testing.assert_allclose(lecun.dw.std, 2.0**-15 * reference.dw.std, rtol=ROUNDING)
    np.testing.assert_allclose(lecun.dz.std, 2.0 ** (-(31 - np.arange(1, 31)) / 2)
                               * reference.dz.std, rtol=ROUNDING)
    # the output errors differ by less than |sigma(s_he) - 1/2| <= sigma(max|s|) - 1/2
    assert np.max(np.abs(s_he)) < 0.5
    assert np.max(np.abs(expit(s_he) - expit(s_lecun))) < expit(0.5) - 0.5
