"""The initializers against their formulas, with bands from the sampling distribution.

Every statistical assertion uses a band that a correct sample leaves with probability at most
ALPHA = 1e-9 (see weightinit.stats), so no seed can make these tests flake; the seeds are fixed
anyway so a failure is reproducible. The expected variances are written out from the papers'
formulas here, independently of compute_fans, so a wrong fan computation cannot hide.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from scipy import stats as st

import weightinit as wi
from weightinit import initializers as ini
from weightinit import stats

# Non-square dense kernel and a conv kernel bigger than 1x1: fan_in != fan_out everywhere, so
# fan_in, fan_out and fan_avg give different variances, and >= 30,000 weights each.
DENSE = (300, 200)  # fan_in 300, fan_out 200
CONV = (3, 5, 40, 60)  # receptive field 15: fan_in 600, fan_out 900
FANS = {DENSE: (300, 200), CONV: (600, 900)}
SQRT3 = math.sqrt(3.0)


def _expected_var(shape, scale, mode):
    fan_in, fan_out = FANS[shape]
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return scale / n


PRESETS = [
    # name, function, scale, mode, family
    ("lecun_normal", wi.lecun_normal, 1.0, "fan_in", "normal"),
    ("lecun_uniform", wi.lecun_uniform, 1.0, "fan_in", "uniform"),
    ("xavier_normal", wi.xavier_normal, 1.0, "fan_avg", "normal"),
    ("xavier_uniform", wi.xavier_uniform, 1.0, "fan_avg", "uniform"),
    ("he_normal", wi.he_normal, 2.0, "fan_in", "normal"),
    ("he_uniform", wi.he_uniform, 2.0, "fan_in", "uniform"),
]


def assert_distribution(w: np.ndarray, var: float, family: str) -> None:
    """w is a zero-mean sample of `family` with variance `var` (every band at alpha = 1e-9)."""
    n = w.size
    std = math.sqrt(var)
    # Second moment about the known mean 0: chi-square (normal) or Hoeffding (bounded) band.
    lo, hi = stats.variance_ratio_band(n, family)
    ratio = float(np.mean(w**2)) / var
    assert lo <= ratio <= hi, f"{family}: mean(w^2)/var = {ratio:.4f} outside [{lo:.4f}, {hi:.4f}]"
    # Mean: exact normal band or Hoeffding over the support.
    assert abs(float(w.mean())) <= stats.mean_halfwidth(n, std, family)
    # Family: KS distance to the fully specified target, exact critical value at alpha.
    d = stats.ks_distance(w, family, std)
    assert d <= stats.ks_critical(n), f"{family}: KS distance {d:.4f} > {stats.ks_critical(n):.4f}"
    # Support: hard bounds for the bounded families.
    if family == "uniform":
        assert np.abs(w).max() <= SQRT3 * std
    if family == "truncated_normal":
        assert np.abs(w).max() <= 2 * std / ini.TRUNCATION_STD_FACTOR


@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
@pytest.mark.parametrize(
    ("name", "fn", "scale", "mode", "family"), PRESETS, ids=[p[0] for p in PRESETS]
)
def test_preset_matches_its_formula(shape, name, fn, scale, mode, family):
    w = fn(shape, rng=np.random.default_rng(20260101))
    assert w.shape == shape and w.dtype == np.float64
    assert_distribution(w, _expected_var(shape, scale, mode), family)


@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
@pytest.mark.parametrize("mode", ini.MODES)
@pytest.mark.parametrize("distribution", ini.DISTRIBUTIONS)
def test_variance_scaling_matches_keras_formula(shape, mode, distribution):
    scale = 1.7
    w = wi.variance_scaling(shape, scale, mode, distribution, rng=np.random.default_rng(7))
    assert w.shape == shape and w.dtype == np.float64
    assert_distribution(w, _expected_var(shape, scale, mode), distribution)


@pytest.mark.parametrize("std", [0.05, 1.0, 3.0])
def test_truncated_normal_has_the_requested_std_and_bounds(std):
    w = wi.truncated_normal(DENSE, std, rng=np.random.default_rng(3))
    assert_distribution(w, std**2, "truncated_normal")


def test_truncation_factor_is_the_std_of_a_standard_normal_cut_at_two():
    assert math.isclose(st.truncnorm(-2, 2).std(), ini.TRUNCATION_STD_FACTOR, rel_tol=1e-12)


def test_truncated_normal_redraws_rather_than_clips():
    """Clipping would put ~4.6% of the values exactly on the bound; redrawing puts none there."""
    std = 1.0
    w = wi.truncated_normal((400, 300), std, rng=np.random.default_rng(11))
    bound = 2 * std / ini.TRUNCATION_STD_FACTOR
    assert np.count_nonzero(np.isclose(np.abs(w), bound, rtol=0, atol=1e-12)) == 0


def test_bands_reject_the_named_mistakes():
    """The bands used above have power: each named mistake's sample falls outside them."""
    rng = np.random.default_rng(5)
    n = DENSE[0] * DENSE[1]
    he_var = 2.0 / 300
    lo, hi = stats.variance_ratio_band(n, "normal")
    mistakes = {
        "1/n where 2/n is meant": wi.lecun_normal(DENSE, rng),
        "fan_out where fan_in is meant": wi.variance_scaling(DENSE, 2.0, "fan_out", "normal", rng),
        "variance used as std": rng.standard_normal(DENSE) * he_var,
    }
    for label, w in mistakes.items():
        ratio = float(np.mean(w**2)) / he_var
        assert not lo <= ratio <= hi, label
    # The stated power: a 1.2x variance error is rejected with probability > 1 - 1e-9 at this n.
    assert stats.power_variance_ratio(n, "normal", 1.2) > 1 - 1e-9
    assert stats.power_variance_ratio(n, "uniform", 1.2) > 1 - 1e-9
    assert stats.power_variance_ratio(n, "truncated_normal", 1.2) > 1 - 1e-9
    # Uniform where normal is asked, with the right variance: only the KS test can see it.
    u = wi.variance_scaling(DENSE, 2.0, "fan_in", "uniform", rng)
    assert stats.ks_distance(u, "normal", math.sqrt(he_var)) > stats.ks_critical(n)


def test_pytorch_linear_default_is_kaiming_uniform_with_a_sqrt5():
    """gain^2 = 2 / (1 + 5) = 1/3, so Var(w) = 1 / (3 fan_in) and the bound is 1/sqrt(fan_in)."""
    gain = wi.calculate_gain("leaky_relu", math.sqrt(5))
    assert math.isclose(gain**2, 1 / 3)
    w = wi.variance_scaling(DENSE, gain**2, "fan_in", "uniform", rng=np.random.default_rng(9))
    assert np.abs(w).max() <= 1 / math.sqrt(300)
    assert_distribution(w, 1 / (3 * 300), "uniform")


# ---------------------------------------------------------------- orthogonal


@pytest.mark.parametrize(
    ("shape", "rows", "cols"), [((50, 30), 50, 30), ((30, 50), 30, 50), ((3, 3, 8, 16), 72, 16)]
)
def test_orthogonal_is_orthogonal(shape, rows, cols):
    gain = 1.5
    w = wi.orthogonal(shape, gain=gain, rng=1)
    assert w.shape == shape and w.dtype == np.float64
    m = w.reshape(rows, cols)
    gram = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_signs_are_unbiased():
    """With the sign correction Q is Haar: P(Q[0,0] > 0) = 1/2. Without it, Householder QR makes
    Q[0,0] = -sign(A[0,0]) |...|, heavily biased. Binomial band at alpha = 1e-9."""
    draws = 400
    positive = sum(wi.orthogonal((6, 4), rng=seed)[0, 0] > 0 for seed in range(draws))
    lo = st.binom.ppf(stats.ALPHA / 2, draws, 0.5)
    hi = st.binom.isf(stats.ALPHA / 2, draws, 0.5)
    assert lo <= positive <= hi


def test_orthogonal_needs_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        wi.orthogonal((5,))


# ---------------------------------------------------------------- constants


def test_constant_initializers():
    np.testing.assert_array_equal(wi.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(wi.ones((4,)), np.ones(4))
    c = wi.constant((2, 2), 0.5)
    assert c.dtype == np.float64 and np.all(c == 0.5)


# ---------------------------------------------------------------- reproducibility

RANDOM_FUNCTIONS = {
    "variance_scaling": lambda rng: wi.variance_scaling(
        (20, 30), 2.0, "fan_avg", "truncated_normal", rng
    ),
    "truncated_normal": lambda rng: wi.truncated_normal((20, 30), 0.3, rng),
    "orthogonal": lambda rng: wi.orthogonal((20, 30), 1.0, rng),
    **{name: partial(lambda fn, rng: fn((20, 30), rng), fn) for name, fn, *_ in PRESETS},
}


@pytest.mark.parametrize("name", RANDOM_FUNCTIONS)
def test_same_seed_same_array_other_seed_differs(name):
    make = RANDOM_FUNCTIONS[name]
    np.testing.assert_array_equal(make(42), make(42))
    np.testing.assert_array_equal(make(np.random.default_rng(42)), make(42))
    assert not np.array_equal(make(42), make(43))


@pytest.mark.parametrize("name", RANDOM_FUNCTIONS)
def test_a_generator_is_used_not_copied(name):
    """Two calls with one Generator continue its stream, so they differ."""
    rng = np.random.default_rng(0)
    make = RANDOM_FUNCTIONS[name]
    assert not np.array_equal(make(rng), make(rng))


@pytest.mark.parametrize("name", RANDOM_FUNCTIONS)
def test_global_random_state_is_untouched(name):
    np.random.seed(12345)  # noqa: NPY002 (the legacy global state is what we watch)
    before = np.random.get_state()  # noqa: NPY002
    RANDOM_FUNCTIONS[name](0)
    RANDOM_FUNCTIONS[name](None)
    after = np.random.get_state()  # noqa: NPY002
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]


# ---------------------------------------------------------------- fans and gains


@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((784, 256), (784, 256)),
        ((5, 32, 64), (160, 320)),  # conv1d: receptive field 5
        ((3, 3, 64, 128), (576, 1152)),  # conv2d: 9
        ((2, 3, 4, 8, 16), (192, 384)),  # conv3d: 24
        ((7,), (7, 7)),  # 1-D, as Keras
        ((), (1, 1)),  # scalar, as Keras
        (10, (10, 10)),  # an int is a 1-D shape
        ((np.int64(4), np.int32(6)), (4, 6)),
    ],
)
def test_compute_fans(shape, fans):
    assert wi.compute_fans(shape) == fans
    assert all(type(f) is int for f in wi.compute_fans(shape))


@pytest.mark.parametrize(
    ("name", "param", "gain"),
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
        ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(name, param, gain):
    assert math.isclose(wi.calculate_gain(name, param), gain, rel_tol=1e-15)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "linear"])
def test_gain_keeps_the_second_moment(name):
    """He's argument behind the gain: for z ~ N(0, 1), gain^2 * E[f(z)^2] = 1 for the
    piecewise-linear activations (E[relu(z)^2] = 1/2, hence sqrt(2)). Exact quadrature."""
    from scipy import integrate

    f = wi.get_activation(name)
    pos = integrate.quad(lambda z: f(z) ** 2 * st.norm.pdf(z), 0, np.inf)[0]
    neg = integrate.quad(lambda z: f(z) ** 2 * st.norm.pdf(z), -np.inf, 0)[0]
    assert math.isclose(wi.calculate_gain(name) ** 2 * (pos + neg), 1.0, rel_tol=1e-9)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("shape", "fragment"),
    [
        ((0, 3), "positive"),
        ((-1, 3), "positive"),
        ((2.5, 3), "only integers"),
        ("abc", "tuple of positive integers"),
        (None, "tuple of positive integers"),
        (True, "boolean"),
        ((3, True), "only integers"),
    ],
)
def test_bad_shape_is_explained(shape, fragment):
    for call in (
        lambda: wi.compute_fans(shape),
        lambda: wi.he_normal(shape, rng=0),
        lambda: wi.variance_scaling(shape, rng=0),
        lambda: wi.truncated_normal(shape, 1.0, rng=0),
        lambda: wi.zeros(shape),
    ):
        with pytest.raises(ValueError, match=fragment) as info:
            call()
        assert "shape" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"mode": "fan_sum"}, ["mode", "'fan_sum'", "'fan_in'", "'fan_avg'"]),
        ({"distribution": "gaussian"}, ["distribution", "'gaussian'", "'truncated_normal'"]),
        ({"scale": -1.0}, ["scale", "-1.0", "> 0"]),
        ({"scale": 0.0}, ["scale", "> 0"]),
        ({"scale": float("nan")}, ["scale", "finite"]),
        ({"scale": "2"}, ["scale", "real number"]),
        ({"rng": "seed"}, ["rng", "Generator"]),
        ({"rng": np.random.RandomState(0)}, ["rng", "RandomState"]),
    ],
)
def test_bad_variance_scaling_arguments_are_explained(kwargs, fragments):
    with pytest.raises(ValueError) as info:
        wi.variance_scaling((3, 4), **kwargs)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_bad_std_gain_and_nonlinearity_are_explained():
    with pytest.raises(ValueError, match=r"std must be >= 0, got -0.5"):
        wi.truncated_normal((3, 4), -0.5)
    with pytest.raises(ValueError, match=r"nonlinearity must be one of .*'relu'.*; got 'swish'"):
        wi.calculate_gain("swish")
    with pytest.raises(ValueError, match="param"):
        wi.calculate_gain("leaky_relu", "steep")
    with pytest.raises(ValueError, match="gain"):
        wi.orthogonal((3, 4), gain=float("inf"))
    with pytest.raises(ValueError, match="value"):
        wi.constant((3, 4), None)
