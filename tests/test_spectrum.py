"""Tests for weightinit.simulation.spectrum: products of random matrices, deep linear training,
input-output Jacobians and the QR construction of an orthogonal matrix.

Exact checks where the mathematics is exact (orthogonal products, the depth-1 training curve,
finite differences for gradients and Jacobians), and calibrated bands (false-failure
probability at most ALPHA = 1e-9 each) where a statistic has a known distribution: the squared
length of a row of a Gaussian product is a product of independent chi-square variables, and the
signs of a Haar matrix's diagonal are independent fair coins.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special
from scipy import stats as st

from weightinit.activations import get_activation
from weightinit.simulation.spectrum import (
    deep_linear_loss_and_grads,
    jacobian_singular_values,
    product_matrix,
    product_singular_values,
    qr_orthogonal,
    square_weights,
    train_deep_linear,
)
from weightinit.stats import ALPHA


@pytest.mark.parametrize("depth", [1, 7])
def test_orthogonal_products_have_every_singular_value_equal_to_the_gain_power(depth):
    s = product_singular_values(48, depth, "orthogonal", rng=3, gain=1.3)
    np.testing.assert_allclose(s, 1.3**depth, rtol=1e-10)


@pytest.mark.parametrize("depth", [1, 4])
def test_gaussian_product_row_lengths_follow_the_chi_square_product(depth):
    """For a fixed unit row vector e, |e P|^2 = prod_l chi2_n / n exactly (rotation invariance,
    independent factors), so log |e P|^2 has mean L (psi(n/2) + log(2/n)) and variance
    L psi'(n/2). The mean of T such logs is within 6.1 standard errors with probability
    1 - 1e-9 under the normal approximation to a sum of T L independent log-chi-square terms
    (light tails: log chi2_64 has skewness about -0.36). A factor of variance 2/n instead of 1/n
    shifts the mean by L log 2, over 100 standard errors here."""
    n, trials = 64, 300
    rng = np.random.default_rng(1312)
    logs = np.array([math.log(np.sum(product_matrix(n, depth, "gaussian", rng)[0] ** 2))
                     for _ in range(trials)])
    mean = depth * (special.digamma(n / 2) + math.log(2 / n))
    se = math.sqrt(depth * special.polygamma(1, n / 2) / trials)
    z = st.norm.isf(ALPHA / 2)
    assert abs(logs.mean() - mean) < z * se, (logs.mean(), mean, se)
    assert depth * math.log(2) > 20 * se  # power against He's 2/n in a linear product


def test_the_spread_of_gaussian_singular_values_grows_with_depth():
    """The mean square stays near 1 while the smallest singular value collapses."""
    s1, s16 = (product_singular_values(64, d, "gaussian", rng=5) for d in (1, 16))
    assert s16[-1] / s16[0] < 1e-3 * s1[-1] / s1[0]


def test_depth_one_training_is_a_geometric_decay():
    """With one layer, W <- W - lr (W - M): the error shrinks by (1 - lr) per epoch exactly, so
    the relative loss is loss_0 (1 - lr)^(2t)."""
    target = np.diag([2.0, 1.0, 0.5])
    run = train_deep_linear(target, 1, "orthogonal", rng=0, lr=0.1, max_epochs=30,
                            threshold=1e-12)
    t = np.arange(run.losses.size)
    np.testing.assert_allclose(run.losses, run.losses[0] * 0.9 ** (2 * t), rtol=1e-10)
    assert run.epochs_to_threshold is None and not run.diverged


def test_deep_linear_gradients_match_finite_differences():
    rng = np.random.default_rng(7)
    weights = [rng.standard_normal((4, 4)) / 2 for _ in range(3)]
    target = rng.standard_normal((4, 4))
    loss, grads = deep_linear_loss_and_grads(weights, target)
    eps = 1e-6
    for layer in range(3):
        for i, j in [(0, 0), (1, 3), (3, 2)]:
            bumped = [w.copy() for w in weights]
            bumped[layer][i, j] += eps
            numeric = (deep_linear_loss_and_grads(bumped, target)[0] - loss) / eps
            assert numeric == pytest.approx(grads[layer][i, j], rel=1e-4, abs=1e-6)


def test_training_reports_the_first_epoch_below_threshold_and_divergence():
    target = np.diag(np.linspace(2.0, 0.2, 8))
    run = train_deep_linear(target, 4, "orthogonal", rng=1, lr=0.05, max_epochs=3000)
    assert run.epochs_to_threshold is not None
    assert run.losses[run.epochs_to_threshold] < 1e-2 <= run.losses[run.epochs_to_threshold - 1]
    blown = train_deep_linear(target, 4, "gaussian", rng=1, lr=50.0, max_epochs=100)
    assert blown.diverged and blown.epochs_to_threshold is None


def _network(activation, width, depth, init, gain, seed, input_std):
    """The function jacobian_singular_values differentiates, drawn from the same stream."""
    gen = np.random.default_rng(seed)
    x0 = input_std * gen.standard_normal(width)
    weights = [square_weights(width, init, gen, gain) for _ in range(depth)]
    act = get_activation(activation)

    def f(x):
        for w in weights:
            x = act(x @ w)
        return x

    return f, x0


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_jacobian_singular_values_match_finite_differences(activation):
    width, depth = 6, 3
    got = jacobian_singular_values(activation, width, [depth], "gaussian", 1.2, rng=11,
                                   input_std=0.7)[depth]
    f, x0 = _network(activation, width, depth, "gaussian", 1.2, 11, 0.7)
    eps = 1e-7
    jac = np.array([(f(x0 + eps * e) - f(x0 - eps * e)) / (2 * eps) for e in np.eye(width)])
    np.testing.assert_allclose(got, np.linalg.svd(jac, compute_uv=False), atol=1e-6)


def test_linear_orthogonal_jacobian_is_an_isometry_and_relu_cuts_directions():
    lin = jacobian_singular_values("linear", 32, [1, 5], "orthogonal", 1.0, rng=2)
    for s in lin.values():
        np.testing.assert_allclose(s, 1.0, rtol=1e-10)
    relu = jacobian_singular_values("relu", 32, [1], "orthogonal", math.sqrt(2), rng=2)[1]
    f, x0 = _network("relu", 32, 1, "orthogonal", math.sqrt(2), 2, 1.0)
    active = int(np.sum(f(x0) > 0))
    assert int(np.sum(relu > 1e-9)) == active  # the rank is the number of active units
    np.testing.assert_allclose(relu[:active], math.sqrt(2), rtol=1e-10)


def _negative_diagonal_count(sign_correction, n, trials, seed):
    rng = np.random.default_rng(seed)
    return sum(int(np.sum(np.diag(qr_orthogonal(n, rng, sign_correction=sign_correction)) < 0))
               for _ in range(trials))


def test_sign_corrected_qr_has_fair_diagonal_signs_and_the_uncorrected_does_not():
    """For a Haar Q, Q D (D a random diagonal of signs) is Haar too, so the signs of Q's
    diagonal are independent fair coins: the count of negative entries among trials * n is
    Binomial(trials * n, 1/2) exactly, and the band is its two-sided 1e-9 quantiles. Without
    the correction LAPACK's sign convention makes Q[0, 0] negative in every draw, which alone
    moves the share to at least 1/2 + 1/(2n) on average, and far more is measured."""
    n, trials = 8, 400
    lo, hi = st.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], n * trials, 0.5)
    corrected = _negative_diagonal_count(True, n, trials, 2007)
    assert lo <= corrected <= hi, (corrected, lo, hi)
    uncorrected = _negative_diagonal_count(False, n, trials, 2007)
    assert not lo <= uncorrected <= hi, (uncorrected, lo, hi)
    q = qr_orthogonal(n, 3, sign_correction=False)
    np.testing.assert_allclose(q.T @ q, np.eye(n), atol=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="init must be one of"):
        product_singular_values(4, 2, "uniform")
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        product_singular_values(4, 0, "gaussian")
    with pytest.raises(ValueError, match="target must be a finite square matrix"):
        train_deep_linear(np.ones((2, 3)), 2, "gaussian")
    with pytest.raises(ValueError, match="gain must be >"):
        square_weights(3, "orthogonal", np.random.default_rng(0), gain=0.0)
