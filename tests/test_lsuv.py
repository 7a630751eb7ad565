"""LSUV (weightinit.simulation.lsuv): each layer's linear output ends with std within tol of 1."""

from __future__ import annotations

import numpy as np
import pytest

from weightinit.simulation.lsuv import LSUV_ACTIVATIONS, lsuv, lsuv_run

SIZES = [30, 64, 48, 48, 10]


def _batch(mean: float = 0.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(mean, 1.0, size=(256, SIZES[0]))


def _linear_stds(x, weights, activation):
    act = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[activation]
    stds, h = [], x
    for w in weights:
        z = h @ w
        stds.append(z.std())
        h = act(z)
    return stds


@pytest.mark.parametrize("activation", LSUV_ACTIVATIONS)
@pytest.mark.parametrize("mean", [0.0, 99.0])
def test_every_layer_ends_within_tol(activation, mean):
    x = _batch(mean)
    weights = lsuv(x, SIZES, activation, np.random.default_rng(1), tol=0.02)
    assert [w.shape for w in weights] == list(zip(SIZES[:-1], SIZES[1:], strict=True))
    assert all(abs(s - 1) < 0.02 for s in _linear_stds(x, weights, activation))


def test_columns_stay_orthogonal_up_to_one_scale_per_layer():
    weights = lsuv(_batch(), SIZES, "relu", np.random.default_rng(2))
    for w in weights:
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        scale = gram[0, 0]
        np.testing.assert_allclose(gram, scale * np.eye(len(gram)), atol=1e-12 * scale * len(gram))


def test_record_and_cost():
    x = _batch(99.0)
    run = lsuv_run(x, SIZES, "tanh", np.random.default_rng(3))
    # Mean-99 data: the orthogonal start's first layer is far from unit variance.
    assert run.stds_before[0] > 10
    assert all(abs(s - 1) < 0.05 for s in run.stds_after)
    assert run.forward_passes == len(run.weights) + sum(run.iterations)
    # A linear layer is exactly rescaled by one division: it never needs a second.
    assert run.iterations[0] == 1


def test_same_seed_same_weights_and_x_untouched():
    x = _batch()
    copy = x.copy()
    a = lsuv(x, SIZES, "relu", np.random.default_rng(4))
    b = lsuv(x, SIZES, "relu", np.random.default_rng(4))
    c = lsuv(x, SIZES, "relu", np.random.default_rng(5))
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    assert np.array_equal(x, copy)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activation": "sigmoid"}, "activation must be one of"),
        ({"tol": 0.0}, "tol must be > 0"),
        ({"tol": -1.0}, "tol must be > 0"),
        ({"max_iter": 0}, "max_iter must be a positive integer"),
        ({"layer_sizes": [31, 10]}, r"x must have shape \(batch, n_0\)"),
        ({"layer_sizes": [30]}, "at least the input and one layer"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"x": _batch(), "layer_sizes": SIZES, "activation": "relu",
            "rng": np.random.default_rng(0)} | kwargs
    with pytest.raises(ValueError, match=message):
        lsuv(**args)


def test_constant_input_is_refused_clearly():
    with pytest.raises(ValueError, match="constant on x"):
        lsuv(np.zeros((8, SIZES[0])), SIZES, "linear", np.random.default_rng(0))
