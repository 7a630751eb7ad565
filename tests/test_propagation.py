"""Tests for weightinit.simulation.propagation.

Three kinds of checks:

1. Exactness: every statistic :func:`propagate` records equals a plain reimplementation in this
   file (``np.mean``, ``np.std``, ``np.histogram`` on the arrays of a naive loop), and
   :func:`forward_stds` / :func:`backward_stds` (the ex05 reference) equal a naive loop.
2. Arithmetic of the theory: the predictions equal the closed-form products
   (``n Var(w)`` per layer for linear, ``n Var(w) / 2`` for ReLU, fan-in forward, fan-out
   backward), and the numerical Gaussian moments equal an independent quadrature.
3. Measurement against theory, with bands whose false-failure probability is at most
   ALPHA = 1e-9 (weightinit.stats):

   - exact chi-square and Hoeffding bands where the values are i.i.d. (first layer fed with
     orthogonal inputs);
   - through depth, where units are not independent, each layer is tested *conditionally on
     the previous one*: given ``h_{l-1}``, the columns of ``z_l = h_{l-1} W_l`` are independent
     ``N(0, s^2 h_{l-1} h_{l-1}^T)``, so ``sum z_l^2`` is a weighted sum of chi-square(1)
     variables, bounded by the Laurent-Massart inequality; ReLU's halving is bounded by
     Hoeffding's inequality over the random signs of the columns; the union bound over all
     layers and factors keeps the total at ALPHA. The whole chain measured / predicted must then
     lie in the product of the per-layer bands, which excludes the wrong theories;
   - where no exact argument exists (the backward pass through ReLU, tanh and SELU, whose
     theory assumes the slope independent of the gradient), a generous bound, justified where it
     is used.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as st

from weightinit.activations import ACTIVATIONS, Activation, get_activation
from weightinit.initializers import orthogonal
from weightinit.simulation.propagation import (
    QUANTITIES,
    backward_stds,
    forward_stds,
    make_weights,
    propagate,
)
from weightinit.simulation.theory import (
    SATURATION_SLOPE_RATIO,
    gaussian_moments,
    predict,
    saturation_region,
    variance_factor,
)
from weightinit.stats import ALPHA, variance_ratio_band

# ---------------------------------------------------------------------------------------------
# A plain reimplementation
# ---------------------------------------------------------------------------------------------


def naive_pass(x, weights, act, g):
    """The textbook loops, keeping every array."""
    act = get_activation(act)
    zs, hs = [], [x]
    for w in weights:
        zs.append(hs[-1] @ w)
        hs.append(act.forward(zs[-1]))
    dzs, dws = [None] * len(weights), [None] * len(weights)
    dh = g
    for i in range(len(weights) - 1, -1, -1):
        dzs[i] = dh * act.derivative(zs[i])
        dws[i] = hs[i].T @ dzs[i]
        dh = dzs[i] @ weights[i].T
    return {"z": zs, "h": hs[1:], "dz": dzs, "dw": dws, "h_prev": hs[:-1]}


def network(sizes, gains, rng):
    return [
        rng.normal(0.0, gain / math.sqrt(fan_in), (fan_in, fan_out))
        for fan_in, fan_out, gain in zip(sizes[:-1], sizes[1:], gains, strict=True)
    ]


def m2(a):
    return float(np.mean(np.square(a)))


ALL_ACTIVATIONS = [
    "linear",
    "relu",
    "tanh",
    "sigmoid",
    "selu",
    "leaky_relu",
    get_activation("leaky_relu", slope=0.2),
]


def act_id(a):
    return a if isinstance(a, str) else f"{a.name}-custom"


# ---------------------------------------------------------------------------------------------
# 1. Exactness
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS, ids=act_id)
def test_statistics_equal_a_plain_reimplementation(activation):
    rng = np.random.default_rng(17)
    sizes = [40, 30, 50, 20, 35]
    weights = network(sizes, [1.5, 1.2, 1.0, 1.3], rng)
    x = rng.standard_normal((64, sizes[0])) + 0.3
    g = rng.standard_normal((64, sizes[-1]))
    res = propagate(x, weights, activation, grad_output=g)
    ref = naive_pass(x, weights, activation, g)
    assert res.layer_sizes == tuple(sizes) and res.batch == 64 and res.depth == 4
    np.testing.assert_array_equal(res.layers, [1, 2, 3, 4])
    np.testing.assert_allclose(res.weight_var, [m2(w) for w in weights], rtol=1e-13)
    lo, hi = res.saturation
    for name in QUANTITIES:
        stats = res[name]
        assert stats is getattr(res, name)
        for i, arr in enumerate(ref[name]):
            assert stats.size[i] == arr.size
            np.testing.assert_allclose(stats.mean[i], np.mean(arr), rtol=1e-11, atol=1e-15)
            np.testing.assert_allclose(stats.std[i], np.std(arr), rtol=1e-11)
            counts, _ = np.histogram(arr, bins=stats.edges)
            np.testing.assert_array_equal(stats.counts[i], counts)
            assert stats.below[i] == np.count_nonzero(arr < stats.edges[0])
            assert stats.above[i] == np.count_nonzero(arr > stats.edges[-1])
        # The edges are shared by all layers, so the histograms compare across depth.
        assert stats.counts.shape == (4, stats.edges.size - 1)
        np.testing.assert_allclose(
            stats.density().sum(axis=1) * np.diff(stats.edges)[0],
            (stats.size - stats.below - stats.above) / stats.size,
            rtol=1e-12,
        )
    for i, z in enumerate(ref["z"]):
        expected = (np.count_nonzero(z <= lo) + np.count_nonzero(z >= hi)) / z.size
        assert res.saturated[i] == expected


def test_default_weights_and_gradient_come_from_rng_in_order():
    sizes = [32, 48, 16]
    x = np.random.default_rng(0).standard_normal((20, 32))
    res = propagate(x, "he_normal", "relu", layer_sizes=sizes, rng=5)
    gen = np.random.default_rng(5)
    weights = make_weights("he_normal", sizes, gen)
    g = gen.standard_normal((20, 16))
    ref = propagate(x, weights, "relu", grad_output=g)
    np.testing.assert_array_equal(res.dw.std, ref.dw.std)
    np.testing.assert_array_equal(res.z.std, ref.z.std)
    # make_weights accepts callables, names and a standard deviation.
    from weightinit.initializers import he_normal

    for init in (he_normal, "he_normal"):
        ws = make_weights(init, sizes, 5)
        np.testing.assert_array_equal(ws[1], make_weights("he_normal", sizes, 5)[1])
    ws = make_weights(0.01, sizes, 5)
    np.testing.assert_array_equal(ws[0], np.random.default_rng(5).normal(0, 0.01, (32, 48)))
    # "ones": dL/dh_L = 1.
    ones = propagate(x, weights, "relu", grad_output="ones")
    ref = naive_pass(x, weights, "relu", np.ones((20, 16)))
    np.testing.assert_allclose(ones.dz.std, [np.std(a) for a in ref["dz"]], rtol=1e-12)


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS, ids=act_id)
def test_inputs_are_never_modified(activation):
    rng = np.random.default_rng(3)
    weights = network([10, 10, 10, 10], [1.0, 1.0, 1.0], rng)
    x = rng.standard_normal((8, 10))
    g = rng.standard_normal((8, 10))
    copies = [a.copy() for a in (x, g, *weights)]
    propagate(x, weights, activation, grad_output=g)
    for before, after in zip(copies, (x, g, *weights), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS, ids=act_id)
def test_ex05_reference_equals_a_naive_loop_and_propagate(activation):
    rng = np.random.default_rng(11)
    sizes = [24, 36, 12, 30]
    weights = network(sizes, [1.4, 1.0, 1.8], rng)
    x = rng.standard_normal((50, 24))
    g = rng.standard_normal((50, 30))
    act = get_activation(activation)
    # Naive loop written from the contract in DESIGN.md.
    h, expected_fwd, zs = x, [], []
    for w in weights:
        z = h @ w
        zs.append(z)
        h = act.forward(z)
        expected_fwd.append(float(np.std(h)))
    dh, expected_bwd = g, [0.0] * 3
    for i in (2, 1, 0):
        dz = dh * act.derivative(zs[i])
        expected_bwd[i] = float(np.std(dz))
        dh = dz @ weights[i].T
    fwd = forward_stds(x, weights, activation)
    bwd = backward_stds(x, weights, activation, g)
    assert isinstance(fwd, list) and all(isinstance(v, float) for v in fwd)
    assert isinstance(bwd, list) and all(isinstance(v, float) for v in bwd)
    assert fwd == expected_fwd
    assert bwd == expected_bwd
    res = propagate(x, weights, activation, grad_output=g, histograms=False)
    np.testing.assert_allclose(res.h.std, fwd, rtol=1e-11)
    np.testing.assert_allclose(res.dz.std, bwd, rtol=1e-11)


def test_histogram_last_bin_is_closed_like_numpy():
    # tanh with std 1 weights saturates: many values are exactly +-1.0, the default edges' ends.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 256))
    res = propagate(x, 1.0, "tanh", layer_sizes=[256] * 4, rng=1)
    ref = naive_pass(x, make_weights(1.0, [256] * 4, 1), "tanh", np.ones((128, 256)))
    assert np.count_nonzero(ref["h"][-1] == 1.0) > 0 and np.count_nonzero(ref["h"][-1] == -1.0)
    np.testing.assert_array_equal(res.h.edges, np.linspace(-1, 1, 51))
    for i, h in enumerate(ref["h"]):
        np.testing.assert_array_equal(res.h.counts[i], np.histogram(h, res.h.edges)[0])
    assert np.all(res.h.below == 0) and np.all(res.h.above == 0)
    np.testing.assert_array_equal(res.h.counts.sum(axis=1), res.h.size)


def test_explicit_and_non_uniform_edges():
    rng = np.random.default_rng(2)
    weights = network([30, 30, 30], [1.0, 1.0], rng)
    x = rng.standard_normal((40, 30))
    g = rng.standard_normal((40, 30))
    edges = {"z": np.linspace(-3, 3, 13), "h": [0.0, 0.1, 0.5, 2.0, 5.0], "dw": [-1.0, 0.0, 1.0]}
    res = propagate(x, weights, "relu", grad_output=g, edges=edges, bins=7)
    ref = naive_pass(x, weights, "relu", g)
    for name, e in edges.items():
        np.testing.assert_array_equal(res[name].edges, np.asarray(e, dtype=float))
        for i, arr in enumerate(ref[name]):
            np.testing.assert_array_equal(res[name].counts[i], np.histogram(arr, e)[0])
            assert res[name].below[i] == np.count_nonzero(arr < e[0])
            assert res[name].above[i] == np.count_nonzero(arr > e[-1])
    assert res.dz.edges.size == 8  # the default, with bins=7


def test_default_edges():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 64))
    res = propagate(x, "he_normal", "relu", layer_sizes=[64] * 5, rng=0)
    s = res.z.predicted_std[0]
    np.testing.assert_allclose(res.z.edges, np.linspace(-4 * s, 4 * s, 51))
    # ReLU's activations: the non-negative half of the pre-activations' bins (z's edge at 0 is
    # exactly 0, so h's histogram can be read off z's).
    np.testing.assert_array_equal(res.h.edges, res.z.edges[25:])
    assert res.z.edges[25] == 0.0
    sd = res.dz.predicted_std[-1]
    np.testing.assert_allclose(res.dz.edges, np.linspace(-4 * sd, 4 * sd, 51))
    sw = res.dw.predicted_std[-1]
    np.testing.assert_allclose(res.dw.edges, np.linspace(-4 * sw, 4 * sw, 51))
    sig = propagate(x, "lecun_normal", "sigmoid", layer_sizes=[64] * 3, rng=0, bins=10)
    np.testing.assert_array_equal(sig.h.edges, np.linspace(0, 1, 11))
    # A network of zeros has no spread to size the bins: fall back to +-4.
    zero = propagate(x, 0.0, "linear", layer_sizes=[64] * 3, rng=0, bins=4)
    np.testing.assert_array_equal(zero.z.edges, np.linspace(-4, 4, 5))
    assert np.all(zero.z.std == 0) and np.all(zero.z.counts[:, 2] == 64 * 64)


def test_overflow_gives_inf_and_nan_without_crash_or_warning():
    x = np.random.default_rng(0).standard_normal((16, 64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = propagate(x, 10.0, "linear", layer_sizes=[64] * 200, rng=0)
    assert not np.all(np.isfinite(res.z.std))
    assert np.all(res.z.counts.sum(axis=1) <= res.z.size)
    assert np.isfinite(res.z.std[0])


def test_flags_forward_only_and_no_histograms():
    x = np.random.default_rng(0).standard_normal((16, 20))
    res = propagate(x, "he_normal", "relu", layer_sizes=[20, 20, 20], rng=0, backward=False)
    assert res.dz is None and res.dw is None and res.theory.dz_std is None
    with pytest.raises(KeyError, match="backward=True"):
        res["dz"]
    with pytest.raises(KeyError, match="quantity must be one of"):
        res["x"]
    plain = propagate(x, "he_normal", "relu", layer_sizes=[20, 20, 20], rng=0, histograms=False)
    assert plain.z.edges is None and plain.z.counts is None and plain.z.centers is None
    with pytest.raises(ValueError, match="histograms=True"):
        plain.z.density()
    np.testing.assert_array_equal(plain.z.std, res.z.std)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x, w: propagate(x[0], w), "2-D array"),
        (lambda x, w: propagate(x, w[0]), "sequence of 2-D weight matrices"),
        (lambda x, w: propagate(x, []), "at least one"),
        (lambda x, w: propagate(x, [w[0], w[0]]), "layer 2"),
        (lambda x, w: propagate(x, w, "softplus"), "activation must be one of"),
        (lambda x, w: propagate(x, w, grad_output=np.ones((3, 3))), "grad_output must have"),
        (lambda x, w: propagate(x, w, grad_output="zeros"), "'normal', 'ones'"),
        (lambda x, w: propagate(x, w, edges={"q": [0, 1]}), "edges keys"),
        (lambda x, w: propagate(x, w, edges={"z": [1, 0]}), "strictly increasing"),
        (lambda x, w: propagate(x, w, bins=0), "bins must be a positive integer"),
        (lambda x, w: propagate(x, "he_normal"), "layer_sizes is required"),
        (lambda x, w: propagate(x, "he_normal", layer_sizes=[7, 5]), "x.shape\\[1\\] = 6"),
        (lambda x, w: propagate(x, w, layer_sizes=[6, 5]), "only when weights is an init"),
        (lambda x, w: propagate(x, "bogus", layer_sizes=[6, 5]), "init must be"),
        (lambda x, w: propagate(x, -1.0, layer_sizes=[6, 5]), "must be >= 0"),
        (lambda x, w: propagate(x, w, slope_ratio=1.5), "slope_ratio must be in"),
        (lambda x, w: make_weights(lambda shape, rng: np.zeros(3), [2, 3]), "init returned"),
        (lambda x, w: make_weights("he_normal", [4]), "at least one layer"),
        (lambda x, w: forward_stds(x, [w[1]], "relu"), "input has width 6"),
        (lambda x, w: backward_stds(x, w, "relu", np.ones((4, 4))), "grad_output"),
        (lambda x, w: variance_factor("tanh", 10, 0.1), "only for 'linear'"),
        (lambda x, w: variance_factor("relu", 10, 0.1, "sideways"), "direction"),
        (lambda x, w: variance_factor("relu", 0, 0.1), "n must be a positive integer"),
        (lambda x, w: saturation_region("relu", 0.0), "slope_ratio must be > 0"),
        (lambda x, w: predict("relu", [3, 3], [1.0, 2.0], 1.0), "one entry per layer"),
    ],
)
def test_errors_name_the_argument(call, match):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6))
    w = [rng.standard_normal((6, 4)), rng.standard_normal((4, 3))]
    with pytest.raises(ValueError, match=match):
        call(x, w)


# ---------------------------------------------------------------------------------------------
# 2. The theory's arithmetic
# ---------------------------------------------------------------------------------------------


def test_saturation_regions():
    r = SATURATION_SLOPE_RATIO
    assert r == pytest.approx(4 * (1 / (1 + math.exp(-4))) * (1 - 1 / (1 + math.exp(-4))))
    # The same units as the saturation chapter: sigmoid |z| >= 4, hence tanh |z| >= 2.
    lo, hi = saturation_region("sigmoid")
    assert lo == pytest.approx(-4.0, rel=1e-12) and hi == pytest.approx(4.0, rel=1e-12)
    lo, hi = saturation_region("tanh")
    assert lo == pytest.approx(-2.0, rel=1e-12) and hi == pytest.approx(2.0, rel=1e-12)
    assert saturation_region("relu") == (0.0, math.inf)
    assert saturation_region("linear") == (-math.inf, math.inf)
    assert saturation_region("leaky_relu") == (0.0, math.inf)  # slope 0.01 < r
    assert saturation_region(get_activation("leaky_relu", slope=0.2)) == (-math.inf, math.inf)
    lo, hi = saturation_region("selu")
    assert lo == pytest.approx(math.log(r)) and hi == math.inf
    # At each boundary the slope is exactly r times the largest slope.
    for name, peak in (("sigmoid", 0.25), ("tanh", 1.0)):
        t = saturation_region(name)[1]
        assert ACTIVATIONS[name].derivative(np.array([t]))[0] == pytest.approx(r * peak, rel=1e-9)
    selu = ACTIVATIONS["selu"]
    peak = selu.derivative(np.array([-1e-12]))[0]
    assert selu.derivative(np.array([math.log(r)]))[0] == pytest.approx(r * peak, rel=1e-9)
    with pytest.raises(ValueError, match="knows the activations"):
        saturation_region(Activation("softsign", np.tanh, np.tanh))


def reference_moments(act, q):
    """E[f], E[f^2], E[f'], E[f'^2] for z ~ N(0, q) by scipy.integrate.quad over the density of
    z (not the code's quad_vec over u), split at the kink z = 0."""
    act = get_activation(act)
    s = math.sqrt(q)
    out = []
    for fn in (
        lambda z: act.forward(np.array([z]))[0],
        lambda z: act.forward(np.array([z]))[0] ** 2,
        lambda z: act.derivative(np.array([z]))[0],
        lambda z: act.derivative(np.array([z]))[0] ** 2,
    ):
        total = 0.0
        for a, b in ((-np.inf, 0.0), (0.0, np.inf)):
            total += integrate.quad(
                lambda z, fn=fn: fn(z) * st.norm.pdf(z, scale=s), a, b, epsabs=1e-14, limit=200
            )[0]
        out.append(total)
    return out


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS, ids=act_id)
@pytest.mark.parametrize("q", [0.01, 1.0, 30.0])
def test_gaussian_moments_against_independent_quadrature(activation, q):
    np.testing.assert_allclose(
        gaussian_moments(activation, q), reference_moments(activation, q), rtol=1e-7, atol=1e-10
    )


def test_gaussian_moments_closed_forms_and_edge_cases():
    assert gaussian_moments("relu", 3.0) == pytest.approx(
        (math.sqrt(3.0 / (2 * math.pi)), 1.5, 0.5, 0.5)
    )
    assert gaussian_moments("linear", 3.0) == (0.0, 3.0, 1.0, 1.0)
    m = gaussian_moments("tanh", 0.0)
    assert m == (0.0, 0.0, 1.0, 1.0)
    assert gaussian_moments("sigmoid", 0.0) == (0.5, 0.25, 0.25, 0.0625)
    assert all(math.isnan(v) for v in gaussian_moments("tanh", math.inf))


def test_variance_factor():
    n = 300
    assert variance_factor("relu", n, 2 / n) == pytest.approx(1.0)
    assert variance_factor("relu", n, 1 / n) == pytest.approx(0.5)
    assert variance_factor("linear", n, 1 / n, "backward") == pytest.approx(1.0)
    a = 0.2
    leaky = get_activation("leaky_relu", slope=a)
    assert variance_factor(leaky, n, 2 / n) == pytest.approx(1 + a * a)


def test_predictions_are_the_per_layer_products_fan_in_forward_fan_out_backward():
    # Widths differ from layer to layer, so using the wrong n changes every number.
    sizes = [50, 80, 20, 60, 30]
    v = [0.013, 0.041, 0.022, 0.05]
    m0, g2, batch = 1.7, 0.8, 64
    for name, c in (("linear", 1.0), ("relu", 0.5)):
        th = predict(name, sizes, v, m0, grad_second=g2, batch=batch)
        q, expected = m0, []
        for i in range(4):
            q = sizes[i] * v[i] * (q if i == 0 else c * q)
            expected.append(q)
        np.testing.assert_allclose(th.z_second, expected, rtol=1e-13)
        np.testing.assert_allclose(th.z_std, np.sqrt(expected), rtol=1e-13)
        # Backward: E[dz_L^2] = c E[g^2]; each step back multiplies by fan_out * v * c.
        dz2 = [0.0] * 4
        dz2[3] = c * g2
        for i in (2, 1, 0):
            dz2[i] = sizes[i + 2] * v[i + 1] * dz2[i + 1] * c  # fan-out of W_{i+2}
        np.testing.assert_allclose(th.dz_second, dz2, rtol=1e-13)
        # The theory as a chain of constant factors (variance_factor).
        for i in range(1, 4):
            f = variance_factor(name, sizes[i], v[i])
            assert th.z_second[i] == pytest.approx(f * th.z_second[i - 1], rel=1e-13)
            b = variance_factor(name, sizes[i + 1], v[i], "backward")
            assert th.dz_second[i - 1] == pytest.approx(b * th.dz_second[i], rel=1e-13)
        h2 = np.concatenate([[m0], th.h_second[:-1]])
        np.testing.assert_allclose(th.dw_std, np.sqrt(batch * h2 * th.dz_second), rtol=1e-13)
        if name == "relu":
            np.testing.assert_allclose(th.saturated, 0.5)
            np.testing.assert_allclose(th.h_mean, np.sqrt(np.array(expected) / (2 * math.pi)))


def test_propagate_feeds_the_theory_with_its_measurements():
    rng = np.random.default_rng(8)
    sizes = [40, 70, 30]
    weights = network(sizes, [1.0, 1.0], rng)
    x = rng.standard_normal((25, 40)) * 1.3 + 0.2
    g = rng.standard_normal((25, 30)) * 0.7 + 0.1
    res = propagate(x, weights, "tanh", grad_output=g)
    th = predict(
        "tanh",
        sizes,
        [m2(w) for w in weights],
        m2(x),
        float(np.mean(x)),
        grad_second=m2(g),
        grad_mean=float(np.mean(g)),
        batch=25,
    )
    for field in ("z_std", "h_std", "h_mean", "dz_std", "dz_mean", "dw_std", "saturated"):
        # The means of tanh's odd moments are zero up to quadrature rounding (about 1e-18);
        # rtol alone would compare those roundings with each other.
        np.testing.assert_allclose(getattr(res.theory, field), getattr(th, field), rtol=1e-10,
                                   atol=1e-14)
    np.testing.assert_allclose(res.z.predicted_std, th.z_std, rtol=1e-12)
    np.testing.assert_allclose(res.h.predicted_std, th.h_std, rtol=1e-12)
    np.testing.assert_allclose(res.dz.predicted_std, th.dz_std, rtol=1e-12)
    np.testing.assert_allclose(res.predicted_saturated, th.saturated, rtol=1e-12)
    np.testing.assert_allclose(res.z.ratio, res.z.std / th.z_std, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# 3. Measurement against theory
# ---------------------------------------------------------------------------------------------


def hoeffding_share(n, alpha):
    """Half-width for the share of n i.i.d. 0/1 values: Hoeffding, exact bound."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def orthogonal_rows(batch, width, rng):
    """A batch whose rows are orthogonal with squared norm `width` (mean square 1): then the
    rows of x @ W are independent, and z = x @ W has i.i.d. N(0, width * s^2) entries."""
    return math.sqrt(width) * orthogonal((width, batch), rng=rng).T  # orthonormal columns


@pytest.mark.parametrize(("activation", "std"), [("relu", 0.06), ("tanh", 0.09), ("linear", 0.05)])
def test_first_layer_is_exactly_chi_square(activation, std):
    rng = np.random.default_rng(31)
    batch, n0, n1 = 256, 512, 384
    x = orthogonal_rows(batch, n0, rng)
    w = rng.normal(0.0, std, (n0, n1))
    res = propagate(x, [w], activation, grad_output="ones", histograms=False)
    s2 = n0 * std**2  # true variance of every z
    n = batch * n1
    # n * var_sample / s2 ~ chi2(n - 1) for i.i.d. normal values (exact); ALPHA = 1e-9.
    lo, hi = variance_ratio_band(n - 1, "normal", ALPHA)
    ratio = n * res.z.std[0] ** 2 / ((n - 1) * s2)
    assert lo <= ratio <= hi, (ratio, lo, hi)
    # The prediction uses the measured Var(w); it is in the chi-square band of the true one.
    lo_w, hi_w = variance_ratio_band(w.size, "normal", ALPHA)
    assert lo_w <= res.z.predicted_std[0] ** 2 / s2 <= hi_w
    # Saturated share: a Binomial(n, p) share, Hoeffding band; p from the true variance.
    region = saturation_region(activation)
    p = st.norm.cdf(region[0] / math.sqrt(s2)) + st.norm.sf(region[1] / math.sqrt(s2))
    half = hoeffding_share(n, ALPHA)
    assert abs(res.saturated[0] - p) <= half
    if activation == "relu":
        assert p == 0.5
    if activation == "tanh":
        assert 0.05 < p < 0.95  # an informative case
    # And the two bands are narrow enough to reject a standard deviation off by 10%.
    assert hi < 1.1**2 and lo > 0.9**2


def lm_band(frob, lmax, trace, copies, alpha):
    """Band for R = S / E[S] with S the sum of `copies` independent y^T G y, y ~ N(0, I), and G
    positive semi-definite with Frobenius norm `frob`, largest eigenvalue `lmax` (or an upper
    bound of it), trace `trace`.

    R = sum_i a_i Y_i^2 with a = eigenvalues / (copies * trace), each repeated `copies` times,
    so |a|_2 = frob / (sqrt(copies) trace) and |a|_inf = lmax / (copies trace). Laurent and
    Massart (2000, Lemma 1): P(R - 1 >= 2 |a|_2 sqrt(t) + 2 |a|_inf t) <= e^-t and
    P(1 - R >= 2 |a|_2 sqrt(t)) <= e^-t; with t = log(2 / alpha) both together <= alpha.
    """
    t = math.log(2 / alpha)
    a2 = frob / (math.sqrt(copies) * trace)
    ainf = lmax / (copies * trace)
    return 1 - 2 * a2 * math.sqrt(t), 1 + 2 * a2 * math.sqrt(t) + 2 * ainf * t


def gram_band(h, copies, alpha):
    """lm_band for G = h^T h (or h h^T: same nonzero eigenvalues), the smaller one. The largest
    eigenvalue is bounded by the Frobenius norm (a larger value only widens the band), which
    spares an eigendecomposition."""
    G = h.T @ h if h.shape[1] <= h.shape[0] else h @ h.T
    frob = float(np.linalg.norm(G))
    return lm_band(frob, frob, float(np.trace(G)), copies, alpha)


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_forward_chain_within_rigorous_bands(activation):
    """Measured mean square of z_l over the theory's q_l, at every depth.

    Given h_{l-1}, A_l = m2(z_l) / (n_{l-1} s^2 m2(h_{l-1})) has mean 1 and the Laurent-Massart
    band of lm_band (G = h_{l-1}^T h_{l-1}, copies = n_l). For ReLU, given h_{l-1} every column
    of z_l is as likely as its negative, independently, so with P_j, N_j the sums of the squared
    positive and negative parts of column j, C_l = m2(h_l) / (m2(z_l) / 2) - 1 is
    sum_j eps_j (P_j - N_j) / sum z^2 with random signs eps_j: Hoeffding gives
    |C_l - 1| <= 2 sqrt(log(2/a) sum (P_j - N_j)^2 / 2) / sum z^2. The measured Var(w) enters as
    V_l = s^2 / mean(W_l^2), in its exact chi-square band. Then
    m2(z_l) / q_l = prod A_k V_k (k <= l) prod C_k (k < l), and with the union bound over the 3L
    events the whole chain lies in the product of the bands with probability >= 1 - ALPHA.
    """
    rng = np.random.default_rng(2015)
    depth, width, batch = 8, 512, 512
    gain = 1.0 if activation == "linear" else math.sqrt(2.0)
    s2 = gain**2 / width
    weights = [rng.normal(0.0, math.sqrt(s2), (width, width)) for _ in range(depth)]
    x = rng.standard_normal((batch, width))
    res = propagate(x, weights, activation, grad_output="ones", histograms=False)
    ref = naive_pass(x, weights, activation, np.ones((batch, width)))
    alpha = ALPHA / (3 * depth)
    log_lo = log_hi = log_factors = 0.0
    for i in range(depth):
        h_prev, z, w = ref["h_prev"][i], ref["z"][i], weights[i]
        # Measured by propagate == the plain arrays.
        assert res.z.second_moment[i] == pytest.approx(m2(z), rel=1e-11)
        a = m2(z) / (width * s2 * m2(h_prev))
        lo, hi = gram_band(h_prev, width, alpha)
        assert lo <= a <= hi, ("A", i + 1, a, lo, hi)
        v_lo, v_hi = variance_ratio_band(w.size, "normal", alpha)
        v = s2 / m2(w)
        assert 1 / v_hi <= v <= 1 / v_lo
        log_factors += math.log(a) + math.log(v)
        log_lo += math.log(lo) - math.log(v_hi)
        log_hi += math.log(hi) - math.log(v_lo)
        measured = math.log(res.z.second_moment[i] / res.theory.z_second[i])
        # The identity: the prediction is exactly the product of the per-layer factors.
        assert measured == pytest.approx(log_factors, abs=1e-9)
        assert log_lo <= measured <= log_hi, (i + 1, measured, log_lo, log_hi)
        if activation == "relu" and i < depth - 1:
            pos = np.square(np.maximum(z, 0)).sum(axis=0)
            neg = np.square(np.minimum(z, 0)).sum(axis=0)
            total = float(np.square(z).sum())
            c = 2 * pos.sum() / total
            half = 2 * math.sqrt(math.log(2 / alpha) * np.square(pos - neg).sum() / 2) / total
            assert abs(c - 1) <= half, ("C", i + 1, c, half)
            assert half < 0.5  # power: excludes 2 (no halving) and 1/2 (halving twice)
            log_factors += math.log(c)
            log_lo += math.log(1 - half)
            log_hi += math.log(1 + half)
        # Power, layer by layer: each band excludes a factor of 2 either way, the size of the
        # mistakes the theory is about (1/n versus 2/n; forgetting that ReLU halves E[z^2]).
        assert 0.5 < lo and hi < 2.0
        assert 0.5 < v_lo and v_hi < 2.0


def test_backward_chain_of_a_linear_network_uses_fan_out():
    """Linear network with different widths, Var(w_l) = 1 / fan_out: the gradient keeps its
    variance backward (the fan-in rule would not).

    In a linear network dz_l = g W_L^T ... W_{l+1}^T does not depend on W_l, so given dz_l the
    rows of W_l make dL/dh_{l-1} = dz_l W_l^T a Gaussian quadratic form with
    G = dz_l^T dz_l and copies = n_{l-1}: the Laurent-Massart band of lm_band, exactly as
    forward, with fan-out in place of fan-in.
    """
    rng = np.random.default_rng(7)
    sizes = [300, 800, 150, 900, 120, 400]
    depth, batch = len(sizes) - 1, 256
    s2 = [1.0 / fan_out for fan_out in sizes[1:]]
    weights = [
        rng.normal(0.0, math.sqrt(v), (a, b))
        for a, b, v in zip(sizes[:-1], sizes[1:], s2, strict=True)
    ]
    x = rng.standard_normal((batch, sizes[0]))
    g = rng.standard_normal((batch, sizes[-1]))
    res = propagate(x, weights, "linear", grad_output=g, histograms=False)
    ref = naive_pass(x, weights, "linear", g)
    alpha = ALPHA / (2 * depth)
    log_lo = log_hi = 0.0
    for i in range(depth - 1, 0, -1):
        dz, dz_prev, w = ref["dz"][i], ref["dz"][i - 1], weights[i]
        b = m2(dz_prev) / (sizes[i + 1] * s2[i] * m2(dz))  # fan-out n_l = sizes[i + 1]
        lo, hi = gram_band(dz, sizes[i], alpha)
        assert lo <= b <= hi, ("B", i, b, lo, hi)
        v_lo, v_hi = variance_ratio_band(w.size, "normal", alpha)
        log_lo += math.log(lo) - math.log(v_hi)
        log_hi += math.log(hi) - math.log(v_lo)
        measured = math.log(res.dz.second_moment[i - 1] / res.theory.dz_second[i - 1])
        assert log_lo <= measured <= log_hi, (i, measured, log_lo, log_hi)
        # The fan-in version of the theory is off by prod n_in / n_out: rejected.
        wrong = sum(math.log(sizes[k] / sizes[k + 1]) for k in range(i, depth))
        assert not (log_lo <= measured - wrong <= log_hi) or abs(wrong) < 1e-12
    # And the measured std barely moves from layer to layer (the point of fan-out scaling).
    assert np.all(np.abs(np.log(res.dz.std / res.dz.std[-1])) < 0.2)


def test_weight_gradient_variance_is_batch_times_the_two_second_moments():
    """Var(dL/dW_l) = B E[h_{l-1}^2] E[dz_l^2], one layer at a time, in a linear network.

    Given x and all the weights, dz_l = g A_l with A_l = W_L^T ... W_{l+1}^T and g standard
    normal; then S_dz = sum dz_l^2 is a quadratic form in g with G = A_l A_l^T (copies = B) and
    S_dw = sum (h_{l-1}^T g A_l)^2 one with the Kronecker product (h h^T) x (A A^T) (copies = 1),
    whose norms multiply. Both are in their Laurent-Massart bands, and the ratio
    m2(dW) / (B m2(h) m2(dz)) equals (S_dw / E S_dw) / (S_dz / E S_dz).
    """
    rng = np.random.default_rng(99)
    sizes = [120, 200, 150, 180, 100]
    depth, batch = len(sizes) - 1, 160
    weights = network(sizes, [1.0] * depth, rng)
    x = rng.standard_normal((batch, sizes[0]))
    g = rng.standard_normal((batch, sizes[-1]))
    res = propagate(x, weights, "linear", grad_output=g, histograms=False)
    alpha = ALPHA / (2 * depth)
    A = np.eye(sizes[-1])
    for i in range(depth - 1, -1, -1):
        if i < depth - 1:
            A = A @ weights[i + 1].T
        h_prev = x if i == 0 else res_h(x, weights, i)
        AA, HH = A @ A.T, h_prev @ h_prev.T
        fa, fh = np.linalg.norm(AA), np.linalg.norm(HH)
        ea, eh = fa, fh  # upper bounds of the largest eigenvalues
        ta, th = np.trace(AA), np.trace(HH)
        dz_lo, dz_hi = lm_band(fa, ea, ta, batch, alpha)
        dw_lo, dw_hi = lm_band(fa * fh, ea * eh, ta * th, 1, alpha)
        q = res.dw.second_moment[i] / (batch * m2(h_prev) * res.dz.second_moment[i])
        assert dw_lo / dz_hi <= q <= dw_hi / dz_lo, (i + 1, q, dw_lo / dz_hi, dw_hi / dz_lo)
        # Measured independently of propagate, the same ratio from the plain arrays.
        dz = g @ A
        dw = h_prev.T @ dz
        assert q == pytest.approx(m2(dw) / (batch * m2(h_prev) * m2(dz)), rel=1e-10)


def res_h(x, weights, i):
    h = x
    for w in weights[:i]:
        h = h @ w
    return h


@pytest.mark.parametrize(
    ("activation", "init"),
    [
        ("relu", "he_normal"),
        ("leaky_relu", "he_normal"),
        ("tanh", "lecun_normal"),
        ("sigmoid", "lecun_normal"),
        ("selu", "lecun_normal"),
    ],
)
def test_mean_field_theory_through_depth_generous_band(activation, init):
    """Every recorded quantity against the theory, 10 layers of width 512 (batch 512).

    No exact band exists here: the backward theory assumes the slope f'(z_l) independent of the
    gradient (He et al.'s assumption), and for ReLU the units share a common offset (h has a
    positive mean), so layers are not independent sums. Each layer multiplies the variance by a
    factor whose relative error, from both sources, is of the order of the standard error of a
    second moment over n units, sqrt(2 / n) = 0.0625; we allow that much per layer, summed
    linearly over the layers (|log ratio| <= l sqrt(2/n) at depth l, up to 0.625 at the last
    layer): generous, since independent errors add in quadrature. The band still rejects the
    wrong rules, which are off by a factor 2 (log 0.69) per layer in variance.
    """
    rng = np.random.default_rng(1)
    depth, width = 10, 512
    x = rng.standard_normal((512, width))
    res = propagate(x, init, activation, layer_sizes=[width] * (depth + 1), rng=rng)
    step = math.sqrt(2.0 / width)
    forward_allowed = step * np.arange(1, depth + 1)
    backward_allowed = step * np.arange(depth, 0, -1)
    for name, allowed in (("z", forward_allowed), ("h", forward_allowed), ("dz", backward_allowed)):
        ratio = np.log(res[name].ratio)
        assert np.all(np.abs(ratio) <= allowed), (name, ratio, allowed)
    if activation == "sigmoid":
        return  # its output is dominated by the mean 1/2: halving Var(w) barely shows
    # Power: the theory with half the weight variance (the 1/n-versus-2/n mistake) is rejected.
    th = res.theory
    wrong = predict(
        activation, res.layer_sizes, res.weight_var / 2, th.z_second[0] / width / res.weight_var[0]
    )
    assert abs(math.log(res.z.std[-1] / wrong.z_std[-1])) > forward_allowed[-1]
