"""weightinit.simulation.first_step: the loss at step 0, output biases, dead units, and the
recorded first steps of gradient descent."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from weightinit.simulation.datasets import blobs, spirals
from weightinit.simulation.first_step import (
    dead_share_first_layer,
    log_prior_bias,
    uniform_loss,
    update_ratios,
    watch_training,
    with_hidden_bias,
    with_output,
)
from weightinit.simulation.training import forward, init_mlp, loss, loss_and_grads, train
from weightinit.stats import ALPHA


def test_zero_output_layer_gives_ln_c():
    X, y = spirals(60, classes=4, rng=0)
    params = with_output(init_mlp([2, 8, 4], "he", 1), 0.0)
    assert loss(params, X, y) == pytest.approx(uniform_loss(4)) == pytest.approx(math.log(4))
    with pytest.raises(ValueError, match="classes must be at least 2"):
        uniform_loss(1)


def test_log_prior_bias_gives_the_entropy():
    X, y = blobs(300, 3, shares=(1, 2, 7), rng=2)
    shares = np.bincount(y) / len(y)
    bias = log_prior_bias(y, 3)
    np.testing.assert_allclose(np.exp(bias), shares)
    params = with_output(init_mlp([2, 8, 3], "he", 3), 0.0, bias)
    assert loss(params, X, y) == pytest.approx(-(shares * np.log(shares)).sum())
    y2 = np.array([0] * 9 + [1])
    assert log_prior_bias(y2, 1) == pytest.approx([math.log(1 / 9)])
    with pytest.raises(ValueError, match=r"no example of class \[2\]"):
        log_prior_bias(np.array([0, 1, 1]), 3)


def test_with_output_and_hidden_bias_copy_and_change_only_their_layer():
    params = init_mlp([2, 5, 5, 3], "he", 4)
    before = [(W.copy(), b.copy()) for W, b in params]
    out = with_output(params, 2.0, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out[-1][0], 2.0 * params[-1][0])
    np.testing.assert_array_equal(out[-1][1], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out[0][0], params[0][0])
    hb = with_hidden_bias(out, 0.1)
    assert all(np.all(b == 0.1) for _, b in hb[:-1])
    np.testing.assert_array_equal(hb[-1][1], [1.0, 2.0, 3.0])
    for (W, b), (W0, b0) in zip(params, before, strict=True):  # the input is untouched
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    with pytest.raises(ValueError, match="bias must broadcast"):
        with_output(params, 1.0, [1.0, 2.0])


def test_dead_share_theory_limits():
    assert dead_share_first_layer(0.0, 0.0, 10, 0.2, 8) == pytest.approx(2.0**-8)
    far = dead_share_first_layer(0.0, 1e4, 10, 0.2, 8)
    assert far == pytest.approx(0.5, abs=1e-3)
    # a positive bias against a large mean: Phi(-b / (|mu| sqrt(n var_w)))
    assert dead_share_first_layer(3e4, 1e5, 10, 0.5, 8) == pytest.approx(
        norm.cdf(-3e4 / (1e5 * math.sqrt(5.0))), abs=1e-3)


def test_dead_share_theory_matches_a_simulation():
    """Units with independent weights and batches: the dead count is binomial(K, p); the band is
    its normal approximation at ALPHA = 1e-9 (6.1 standard deviations: +-0.056 at K = 2000 and
    p = 0.22). Ignoring the mean (p = 8e-5 here) or counting one example instead of the batch
    (p = 0.53) falls far outside."""
    n, var_w, batch, mu, bias, K = 400, 2 / 400, 16, 2.0, -0.2, 2000
    rng = np.random.default_rng(5)
    dead = 0
    for _ in range(K):
        w = rng.normal(0.0, math.sqrt(var_w), n)
        x = mu + rng.standard_normal((batch, n))
        dead += bool(np.all(x @ w + bias <= 0))
    p = dead_share_first_layer(bias, mu, n, var_w, batch)
    half = norm.isf(ALPHA / 2) * math.sqrt(p * (1 - p) / K)
    assert 0.1 < p < 0.45
    assert abs(dead / K - p) < half, (dead / K, p, half)


def test_update_ratios():
    params = [(np.full((2, 2), 2.0), np.zeros(2))]
    grads = [(np.full((2, 2), 1.0), np.zeros(2))]
    assert update_ratios(params, grads, 0.1) == pytest.approx([0.05])
    with pytest.raises(ValueError, match="all zero"):
        update_ratios([(np.zeros((2, 2)), np.zeros(2))], grads, 0.1)


def test_watch_training_takes_the_steps_train_takes():
    X, y = spirals(80, classes=3, rng=6)
    params = init_mlp([2, 12, 12, 3], "he", 7)
    seen = watch_training(X, y, params, lr=0.2, steps=15, record_at=(0, 15))
    ref = train(X, y, params, lr=0.2, epochs=15)
    np.testing.assert_allclose(seen.loss, ref.loss, rtol=1e-12)
    rec = seen.records[0]
    value, grads = loss_and_grads(params, X, y)
    assert rec.loss == pytest.approx(value)
    assert rec.update_ratio == pytest.approx(update_ratios(params, grads, 0.2))
    assert rec.gradient_std == pytest.approx([float(dW.std()) for dW, _ in grads])
    h1 = np.maximum(forward(params[:1], X), 0.0)
    assert rec.activation_std[0] == pytest.approx(float(h1.std()))
    assert sorted(seen.records) == [0, 15]
    with pytest.raises(ValueError, match="record_at must lie in 0..15"):
        watch_training(X, y, params, lr=0.2, steps=15, record_at=(16,))
