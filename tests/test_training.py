"""Tests for weightinit.simulation.training: init_mlp (the ex06 reference), gradients against finite
differences, the gradient-descent step, symmetry of the zeros scheme, stable losses, helpers.

Every statistical band has false-failure probability at most ALPHA = 1e-9 (weightinit.stats).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from weightinit.simulation.datasets import circles, spirals
from weightinit.simulation.training import (
    LARGE_STD,
    SCHEMES,
    SMALL_STD,
    accuracy,
    decision_grid,
    forward,
    init_mlp,
    loss,
    loss_and_grads,
    predict,
    predict_proba,
    train,
    unit_spread,
)
from weightinit.stats import ALPHA, mean_halfwidth, power_variance_ratio, variance_ratio_band

SIZES = [3, 200, 120, 60, 1]


def expected_std(scheme: str, fan_in: int, fan_out: int) -> float:
    return {
        "small": SMALL_STD,
        "large": LARGE_STD,
        "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
        "he": math.sqrt(2.0 / fan_in),
    }[scheme]


# ---------------------------------------------------------------------------------------------
# init_mlp
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_init_mlp_shapes_dtypes_zero_biases(scheme):
    params = init_mlp(SIZES, scheme, np.random.default_rng(0))
    assert isinstance(params, list) and len(params) == len(SIZES) - 1
    for (W, b), fan_in, fan_out in zip(params, SIZES[:-1], SIZES[1:], strict=True):
        assert W.shape == (fan_in, fan_out) and W.dtype == np.float64
        assert b.shape == (fan_out,) and b.dtype == np.float64
        assert np.all(b == 0.0)
    if scheme == "zeros":
        assert all(np.all(W == 0.0) for W, _ in params)


@pytest.mark.parametrize("scheme", ["small", "large", "xavier", "he"])
def test_init_mlp_layer_variances(scheme):
    # Each W has n = fan_in * fan_out i.i.d. N(0, s^2) entries: n * mean(W^2) / s^2 is chi-square
    # with n degrees of freedom (exact), and mean(W) is N(0, s^2 / n) (exact). ALPHA = 1e-9 each.
    sizes = [64, 96, 128, 32]
    params = init_mlp(sizes, scheme, np.random.default_rng(123))
    for (W, _), fan_in, fan_out in zip(params, sizes[:-1], sizes[1:], strict=True):
        s = expected_std(scheme, fan_in, fan_out)
        n = W.size
        lo, hi = variance_ratio_band(n, "normal", ALPHA)
        ratio = float(np.mean(W**2)) / s**2
        assert lo <= ratio <= hi, (scheme, fan_in, fan_out, ratio, lo, hi)
        assert abs(float(W.mean())) <= mean_halfwidth(n, s, "normal", ALPHA)
        # The check has power against the classic mistake, 1/n where 2/n is meant (or the
        # reverse): a variance off by a factor 2 is rejected with probability > 1 - 1e-9.
        assert power_variance_ratio(n, "normal", 2.0, ALPHA) > 1 - 1e-9
        assert power_variance_ratio(n, "normal", 0.5, ALPHA) > 1 - 1e-9


def test_init_mlp_is_reproducible_and_uses_the_generator():
    a = init_mlp([4, 8, 2], "he", np.random.default_rng(7))
    b = init_mlp([4, 8, 2], "he", 7)
    for (Wa, ba), (Wb, bb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
    gen = np.random.default_rng(7)
    first = init_mlp([4, 8, 2], "he", gen)
    second = init_mlp([4, 8, 2], "he", gen)
    assert not np.array_equal(first[0][0], second[0][0])
    # Layers draw in order, first layer first: the first matrix is he_normal's first draw.
    np.testing.assert_array_equal(
        first[0][0], np.random.default_rng(7).normal(0.0, math.sqrt(2 / 4), size=(4, 8))
    )


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([2, 3, 1], "kaiming"), "scheme must be one of"),
        (([2], "he"), "input and output widths"),
        (([2, 0, 1], "he"), "positive integers"),
        (([2, 3.0, 1], "he"), "positive integers"),
        (("2,3,1", "he"), "sequence of positive integers"),
        (([2, 3, 1], "he", "seed"), "rng must be"),
    ],
)
def test_init_mlp_errors(args, match):
    with pytest.raises(ValueError, match=match):
        init_mlp(*args)


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------


def numerical_grads(params, X, y, hidden, h=1e-6):
    """Central finite differences of the mean loss with respect to every parameter."""
    grads = []
    for W, b in params:
        gW, gb = np.zeros_like(W), np.zeros_like(b)
        for arr, g in ((W, gW), (b, gb)):
            for idx in np.ndindex(arr.shape):
                old = arr[idx]
                arr[idx] = old + h
                up = loss(params, X, y, hidden)
                arr[idx] = old - h
                down = loss(params, X, y, hidden)
                arr[idx] = old
                g[idx] = (up - down) / (2 * h)
        grads.append((gW, gb))
    return grads


@pytest.mark.parametrize("hidden", ["tanh", "relu", "sigmoid", "selu"])
@pytest.mark.parametrize("n_out", [1, 3])
def test_gradients_match_central_differences(hidden, n_out):
    rng = np.random.default_rng(2024)
    sizes = [3, 5, 4, n_out]
    params = [
        (rng.normal(0, 0.8, (a, b)), rng.normal(0, 0.3, b))
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    X = rng.standard_normal((7, 3))
    y = rng.integers(0, 2 if n_out == 1 else n_out, size=7)
    if hidden == "relu":
        # Finite differences are meaningless across a kink: make sure no pre-activation is
        # within 1e-4 of 0 (far beyond the step 1e-6 times any weight's reach).
        h = X
        for W, b in params[:-1]:
            z = h @ W + b
            assert np.min(np.abs(z)) > 1e-4
            h = np.maximum(z, 0)
    value, grads = loss_and_grads(params, X, y, hidden)
    assert value == loss(params, X, y, hidden)
    num = numerical_grads(params, X, y, hidden)
    # Central differences with step 1e-6 in float64: truncation error ~ h^2 |f'''| ~ 1e-12,
    # rounding ~ eps |f| / h ~ 1e-10. A wrong gradient (missing factor, transposed, missing
    # slope) is off by O(1) relative.
    for (dW, db), (nW, nb) in zip(grads, num, strict=True):
        np.testing.assert_allclose(dW, nW, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(db, nb, rtol=1e-5, atol=1e-8)


def test_losses_equal_the_textbook_formulas():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((9, 2))
    params = [
        (rng.standard_normal((2, 4)), rng.standard_normal(4)),
        (rng.standard_normal((4, 1)), rng.standard_normal(1)),
    ]
    y = rng.integers(0, 2, 9)
    s = forward(params, X, "tanh")[:, 0]
    p = 1 / (1 + np.exp(-s))
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert loss(params, X, y, "tanh") == pytest.approx(bce, rel=1e-12)
    params3 = [(params[0][0], params[0][1]), (rng.standard_normal((4, 3)), rng.standard_normal(3))]
    y3 = rng.integers(0, 3, 9)
    s3 = forward(params3, X, "tanh")
    p3 = np.exp(s3) / np.exp(s3).sum(axis=1, keepdims=True)
    cce = -np.mean(np.log(p3[np.arange(9), y3]))
    assert loss(params3, X, y3, "tanh") == pytest.approx(cce, rel=1e-12)


def test_losses_are_stable_for_huge_logits():
    # One input, identity-like network; logits of +-1000 would overflow a naive exp.
    X = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    params = [(np.array([[1.0]]), np.zeros(1)), (np.array([[1000.0]]), np.zeros(1))]
    y = np.array([1, 0, 1, 0])
    # logits: 1000, 1000, 0 (relu), 0 -> losses: 0, 1000, log 2, log 2
    expected = (0.0 + 1000.0 + 2 * math.log(2.0)) / 4
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert loss(params, X, y, "relu") == pytest.approx(expected, rel=1e-12)
        value, grads = loss_and_grads(params, X, y, "relu")
    assert np.all([np.all(np.isfinite(g)) for pair in grads for g in pair])
    soft = [(np.array([[1.0]]), np.zeros(1)), (np.array([[1000.0, -1000.0]]), np.zeros(2))]
    y2 = np.array([0, 1, 0, 1])
    # logits (1000, -1000) twice, (0, 0) twice -> losses 0, 2000, log 2, log 2
    expected2 = (0.0 + 2000.0 + 2 * math.log(2.0)) / 4
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert loss(soft, X, y2, "relu") == pytest.approx(expected2, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def test_one_epoch_is_one_gradient_step():
    X, y = circles(60, rng=0)
    params = init_mlp([2, 8, 8, 1], "he", rng=1)
    res = train(X, y, params, hidden="tanh", lr=0.3, epochs=1)
    value, grads = loss_and_grads(params, X, y, "tanh")
    assert res.loss[0] == value
    for (W, b), (W0, b0), (dW, db) in zip(res.params, params, grads, strict=True):
        np.testing.assert_array_equal(W, W0 - 0.3 * dW)
        np.testing.assert_array_equal(b, b0 - 0.3 * db)
    assert res.loss[1] == loss(res.params, X, y, "tanh")
    assert res.accuracy[1] == accuracy(res.params, X, y, "tanh")


def test_train_records_and_does_not_modify_its_input():
    X, y = circles(80, rng=0)
    Xt, yt = circles(50, rng=1)
    params = init_mlp([2, 8, 1], "xavier", rng=1)
    before = [(W.copy(), b.copy()) for W, b in params]
    res = train(X, y, params, lr=0.5, epochs=25, X_test=Xt, y_test=yt)
    for (W, b), (W0, b0) in zip(params, before, strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    for (W, b), (W0, b0) in zip(res.initial, before, strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    assert res.epochs == 25
    for arr in (res.loss, res.accuracy, res.test_loss, res.test_accuracy):
        assert arr.shape == (26,)
    assert res.test_loss[0] == loss(params, Xt, yt)
    assert res.test_loss[-1] == loss(res.params, Xt, yt)
    assert res.test_accuracy[-1] == accuracy(res.params, Xt, yt)
    assert res.hidden == "relu" and res.lr == 0.5


def test_scheme_name_equals_init_mlp_with_the_same_seed():
    X, y = circles(40, rng=0)
    a = train(X, y, "he", layer_sizes=[2, 6, 1], epochs=3, rng=9)
    b = train(X, y, init_mlp([2, 6, 1], "he", 9), epochs=3)
    np.testing.assert_array_equal(a.loss, b.loss)


def test_he_learns_circles_and_zeros_does_not():
    X, y = circles(300, noise=0.05, rng=0)
    he = train(X, y, "he", layer_sizes=[2, 16, 16, 1], lr=0.5, epochs=600, rng=1)
    zeros = train(X, y, "zeros", layer_sizes=[2, 16, 16, 1], lr=0.5, epochs=600, rng=1)
    assert he.loss[-1] < 0.5 * he.loss[0]
    assert he.accuracy[-1] >= 0.95
    # Zeros: every hidden unit stays 0, the output sees only its bias: the loss cannot go below
    # the entropy of the labels (log 2 for balanced classes), and accuracy stays at 1/2.
    assert zeros.loss[-1] == pytest.approx(math.log(2.0), rel=1e-9)
    assert zeros.accuracy[-1] == 0.5


def test_softmax_training_on_three_spirals_improves():
    X, y = spirals(150, classes=3, rng=0)
    res = train(X, y, "he", layer_sizes=[2, 32, 32, 3], lr=1.0, epochs=300, rng=0)
    assert res.loss[-1] < 0.6 * res.loss[0]
    assert res.accuracy[-1] > 1 / 3 + 0.2


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid"])
def test_zeros_scheme_keeps_hidden_units_identical(hidden):
    X, y = circles(100, rng=0)
    # Unbalanced classes (40 against 50), so that the output's gradient is not zero.
    keep = np.concatenate([np.flatnonzero(y == 0)[:40], np.flatnonzero(y == 1)])
    X, y = X[keep], y[keep]
    res = train(X, y, "zeros", layer_sizes=[2, 8, 8, 1], hidden=hidden, lr=0.5, epochs=30, rng=0)
    spread = unit_spread(res.params)
    if hidden in ("relu", "tanh"):
        # f(0) = 0: every hidden value and every hidden gradient is exactly 0, nothing but the
        # output bias ever moves.
        assert spread == [0.0, 0.0]
    else:
        # Identical columns get identical gradients; in floating point a matrix product may
        # round two identical columns differently (BLAS kernels treat tile edges apart), so
        # "identical" means equal to within a few rounding errors of the weights (~1).
        assert max(spread) <= 1e-12
        # Not because nothing moves: sigmoid units output 1/2, so every weight matrix changes,
        # but all units of a layer change by the same amount.
        assert all(np.any(W != 0) for W, _ in res.params)


def test_identical_nonzero_units_stay_identical_and_random_ones_differ():
    X, y = circles(100, rng=0)
    same = [(np.full((2, 6), 0.3), np.zeros(6)), (np.full((6, 1), -0.2), np.zeros(1))]
    res = train(X, y, same, hidden="tanh", lr=0.5, epochs=30)
    # Equal up to rounding (see above); random units differ by O(1).
    assert unit_spread(res.params)[0] <= 1e-12
    assert not np.allclose(res.params[0][0], 0.3)  # they moved, together
    he = train(X, y, "he", layer_sizes=[2, 6, 1], hidden="tanh", lr=0.5, epochs=30, rng=0)
    assert unit_spread(he.params)[0] > 0.1


# ---------------------------------------------------------------------------------------------
# Prediction helpers
# ---------------------------------------------------------------------------------------------


def test_predict_and_proba_agree():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 2))
    binary = init_mlp([2, 8, 1], "he", rng=0)
    p = predict_proba(binary, X)
    assert p.shape == (50,) and np.all((p > 0) & (p < 1))
    np.testing.assert_array_equal(predict(binary, X), (p > 0.5).astype(int))
    multi = init_mlp([2, 8, 4], "he", rng=0)
    P = predict_proba(multi, X, "tanh")
    assert P.shape == (50, 4)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(predict(multi, X, "tanh"), P.argmax(axis=1))


def test_decision_grid():
    X, y = circles(50, rng=0)
    params = init_mlp([2, 8, 1], "he", rng=0)
    xx, yy, values = decision_grid(params, X, resolution=30, margin=0.25)
    assert xx.shape == yy.shape == values.shape == (30, 30)
    assert xx.min() == pytest.approx(X[:, 0].min() - 0.25)
    assert yy.max() == pytest.approx(X[:, 1].max() + 0.25)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    np.testing.assert_array_equal(values.ravel(), predict_proba(params, grid))
    multi = init_mlp([2, 8, 3], "he", rng=0)
    xx, yy, labels = decision_grid(multi, X, resolution=10)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    np.testing.assert_array_equal(labels.ravel(), predict(multi, grid))
    res = train(X, y, params, epochs=2)
    np.testing.assert_array_equal(
        res.decision_grid(X, 10)[2], decision_grid(res.params, X, "relu", 10)[2]
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda X, y, p: train(X, y, p, lr=0.0), "lr must be > 0"),
        (lambda X, y, p: train(X, y, p, epochs=-1), "epochs must be"),
        (lambda X, y, p: train(X, y, p, epochs=2.5), "epochs must be"),
        (lambda X, y, p: train(X, y + 1, p), "labels in 0..1"),
        (lambda X, y, p: train(X, y.astype(float) + 0.5, p), "integer class labels"),
        (lambda X, y, p: train(X[:, :1], y, p), "X must have shape"),
        (lambda X, y, p: train(X, y[:-1], p), "one label per row"),
        (lambda X, y, p: train(X, y, p, X_test=X), "both X_test and y_test"),
        (lambda X, y, p: train(X, y, "he"), "layer_sizes is required"),
        (lambda X, y, p: train(X, y, p, layer_sizes=[2, 1]), "only when init is a scheme"),
        (lambda X, y, p: train(X, y, [(np.zeros((2, 3)), np.zeros(2))]), "b of shape"),
        (lambda X, y, p: train(X, y, []), "at least one"),
        (lambda X, y, p: train(X, y, [(np.zeros((2, 3)), np.zeros(3)), p[1]]), "8 rows"),
        (lambda X, y, p: decision_grid(p, X, resolution=1), "resolution"),
        (lambda X, y, p: decision_grid(p, np.zeros((3, 3)), resolution=5), "shape \\(n, 2\\)"),
    ],
)
def test_errors_name_the_argument(call, match):
    X, y = circles(20, rng=0)
    params = init_mlp([2, 8, 1], "he", rng=0)
    with pytest.raises(ValueError, match=match):
        call(X, y, params)
