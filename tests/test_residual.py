"""Tests for weightinit.simulation.residual and weightinit.simulation.normalization.

The residual network is checked against a plain reimplementation drawn from the same random
stream (every variant's mean square per block), its gradient against finite differences, and the
exact relations between the variants (Fixup's rescaling divides the gradient's squared norm by L
exactly; the zero-initialized variants keep the signal unchanged). The theory's mean growth,
(1 + alpha^2) per block, is checked on the average over independent one-block networks, whose
conditional law is exact. The normalization step is checked against finite differences and for
the scale invariance it is used for.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from weightinit.initializers import he_normal
from weightinit.simulation.normalization import (
    normalize,
    normalize_backward,
    normalized_mlp,
)
from weightinit.simulation.residual import (
    VARIANTS,
    branch_multiplier,
    predicted_growth,
    residual_network,
)
from weightinit.stats import ALPHA

from .test_propagation import gram_band


def _replica(x, depth, variant, seed):
    """Forward pass and probe loss of residual_network, written out plainly."""
    gen = np.random.default_rng(seed)
    alpha = {"1/sqrt(L)": depth**-0.5, "small constant": 0.1}.get(variant, 1.0)
    blocks = []
    for _ in range(depth):
        w1, w2 = he_normal((x.shape[1],) * 2, gen), he_normal((x.shape[1],) * 2, gen)
        if variant == "fixup":
            w1 = w1 / math.sqrt(depth)
        if variant in ("fixup", "zero last layer"):
            w2 = 0 * w2
        blocks.append([w1, w2])
    probe = gen.standard_normal(x.shape) / x.shape[0]

    def run(blocks):
        h, squares = x, [np.mean(x**2)]
        for w1, w2 in blocks:
            h = h + alpha * np.maximum(np.maximum(h, 0) @ w1, 0) @ w2
            squares.append(np.mean(h**2))
        return np.array(squares), float(np.sum(h * probe))

    return blocks, run


@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_equals_a_plain_loop(variant):
    x = np.random.default_rng(0).standard_normal((16, 8))
    got = residual_network(x, 3, variant, rng=4)
    blocks, run = _replica(x, 3, variant, 4)
    np.testing.assert_allclose(got.mean_square, run(blocks)[0], rtol=1e-12)


@pytest.mark.parametrize("variant", ["he", "small constant", "zero last layer", "fixup"])
def test_gradient_norm_matches_finite_differences(variant):
    x = np.random.default_rng(1).standard_normal((5, 4))
    got = residual_network(x, 2, variant, rng=9).grad_sq
    blocks, run = _replica(x, 2, variant, 9)
    base, eps, total = run(blocks)[1], 1e-6, 0.0
    for b in range(2):
        for k in range(2):
            for i in range(4):
                for j in range(4):
                    blocks[b][k] = blocks[b][k].copy()
                    blocks[b][k][i, j] += eps
                    total += ((run(blocks)[1] - base) / eps) ** 2
                    blocks[b][k][i, j] -= eps
    assert got == pytest.approx(total, rel=1e-4)


def test_fixup_divides_the_zero_init_gradient_by_the_depth_and_both_keep_the_signal():
    """Same stream, W1 scaled by L^(-1/2), relu positively homogeneous: every W2 gradient is
    L^(-1/2) times the zero-init one, so the squared norm is exactly 1/L times."""
    x = np.random.default_rng(2).standard_normal((32, 16))
    zero = residual_network(x, 20, "zero last layer", rng=5)
    fixup = residual_network(x, 20, "fixup", rng=5)
    assert fixup.grad_sq == pytest.approx(zero.grad_sq / 20, rel=1e-10)
    for run in (zero, fixup):
        np.testing.assert_array_equal(run.mean_square, run.mean_square[0])


def test_predicted_growth_closed_forms():
    assert predicted_growth("he", 50) == 2.0**50
    assert predicted_growth("1/sqrt(L)", 50) == pytest.approx((1 + 1 / 50) ** 50)
    assert predicted_growth("small constant", 50) == pytest.approx(1.01**50)
    assert predicted_growth("fixup", 50) == predicted_growth("zero last layer", 50) == 1.0
    assert branch_multiplier("1/sqrt(L)", 16) == 0.25


@pytest.mark.parametrize("variant", ["he", "1/sqrt(L)"])
def test_one_block_adds_alpha_squared_times_the_branch_input_variance(variant):
    """Given W1 (so the branch's hidden activations a2), F = alpha a2 W2 with the columns of W2
    independent N(0, 2/n I): sum F^2 / (2 alpha^2 |a2|^2) is a sum of n independent copies of
    y^T G y / E with G = a2 a2^T, inside the Laurent-Massart band (gram_band, exact, 1e-9).
    A last layer of variance 1/n instead of He's 2/n halves the ratio, which falls outside.
    The block's mean square is then x's, plus the branch's, plus their cross term."""
    n, batch, depth = 256, 64, 4
    x = np.random.default_rng(3).standard_normal((batch, n))
    got = residual_network(x, depth, variant, rng=6)
    blocks, _ = _replica(x, depth, variant, 6)
    alpha = branch_multiplier(variant, depth)
    w1, w2 = blocks[0]
    a2 = np.maximum(np.maximum(x, 0) @ w1, 0)
    branch = alpha * a2 @ w2
    lo, hi = gram_band(a2, n, ALPHA)
    ratio = np.sum(branch**2) / (2 * alpha**2 * np.sum(a2**2))
    assert lo <= ratio <= hi, (lo, ratio, hi)
    assert not lo <= ratio / 2 <= hi  # power: He's 2/n against 1/n for the last layer
    # and the first block's mean square is x's plus the branch's plus their cross term
    cross = 2 * np.mean(x * branch)
    assert got.mean_square[1] == pytest.approx(np.mean(x**2) + np.mean(branch**2) + cross)


@pytest.mark.parametrize("kind,axis", [("batch", 0), ("layer", 1)])
def test_normalize_standardises_the_right_axis(kind, axis):
    z = np.random.default_rng(0).normal(3.0, 5.0, (40, 30))
    zhat, _ = normalize(z, kind)
    np.testing.assert_allclose(zhat.mean(axis=axis), 0.0, atol=1e-12)
    np.testing.assert_allclose(zhat.var(axis=axis), 1.0, rtol=1e-5)
    assert np.abs(zhat.var(axis=1 - axis) - 1.0).max() > 1e-3  # the other axis is not


@pytest.mark.parametrize("kind", ["batch", "layer"])
def test_normalize_backward_matches_finite_differences(kind):
    rng = np.random.default_rng(1)
    z, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    zhat, inv_std = normalize(z, kind)
    got = normalize_backward(g, zhat, inv_std, kind)
    eps = 1e-6
    for i in range(5):
        for j in range(4):
            bumped = z.copy()
            bumped[i, j] += eps
            numeric = (np.sum(normalize(bumped, kind)[0] * g) - np.sum(zhat * g)) / eps
            assert numeric == pytest.approx(got[i, j], rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_a_normalized_network_ignores_the_weight_scale_and_its_gradient_does_not(norm):
    """norm(h cW) = norm(h W), so every forward statistic is the same for std 0.01 and std 1
    up to the epsilon under the square root (relative 1e-5 / Var(z), below 1e-3 for std 0.1),
    and dL/dW scales like 1/c."""
    x = np.random.default_rng(2).standard_normal((64, 32))
    small = normalized_mlp(x, 10, 0.1, norm, rng=3)
    large = normalized_mlp(x, 10, 1.0, norm, rng=3)
    np.testing.assert_allclose(small.h_std, large.h_std, rtol=1e-3)
    np.testing.assert_allclose(small.grad_w_rms * 0.1, large.grad_w_rms, rtol=1e-3)
    plain = normalized_mlp(x, 10, 0.01, None, rng=3)
    assert plain.h_std[-1] < 1e-6 * large.h_std[-1]  # without the step the signal dies


def test_normalized_mlp_weight_gradient_matches_finite_differences():
    """A scalar loss sum(h_L * G) with the G the function draws after the weights."""
    x = np.random.default_rng(4).standard_normal((6, 3))
    got = normalized_mlp(x, 2, 0.5, "batch", "tanh", rng=8).grad_w_rms
    gen = np.random.default_rng(8)
    weights = [0.5 * gen.standard_normal((3, 3)) for _ in range(2)]
    probe = gen.standard_normal((6, 3))

    def loss(ws):
        h = x
        for w in ws:
            h = np.tanh(normalize(h @ w, "batch")[0])
        return float(np.sum(h * probe))

    base, eps = loss(weights), 1e-6
    for layer in range(2):
        grad = np.zeros((3, 3))
        for i in range(3):
            for j in range(3):
                bumped = [w.copy() for w in weights]
                bumped[layer][i, j] += eps
                grad[i, j] = (loss(bumped) - base) / eps
        assert math.sqrt(np.mean(grad**2)) == pytest.approx(got[layer], rel=1e-4)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="variant must be one of"):
        residual_network(np.ones((2, 2)), 3, "skip")
    with pytest.raises(ValueError, match="norm must be one of"):
        normalized_mlp(np.ones((2, 2)), 3, 1.0, "group")
    with pytest.raises(ValueError, match="std must be >"):
        normalized_mlp(np.ones((2, 2)), 3, -1.0, None)
