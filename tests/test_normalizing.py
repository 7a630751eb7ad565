"""weightinit.simulation.normalizing: SELU's mean-field map and the offset/signal split."""

from __future__ import annotations

import math

import numpy as np
import pytest

from weightinit.simulation.normalizing import (
    iterate_second_moment,
    linear_outputs,
    offset_and_signal,
    second_moment_map,
)
from weightinit.simulation.theory import gaussian_moments


def test_selu_has_its_fixed_point_at_one():
    mean, second, _, _ = gaussian_moments("selu", 1.0)
    assert abs(mean) < 1e-6 and second == pytest.approx(1.0, abs=1e-6)
    assert second_moment_map("selu", 1.0) == pytest.approx(1.0, abs=1e-6)
    # attracting: below 1 grows, above 1 shrinks, both towards 1
    assert 0.25 < second_moment_map("selu", 0.25) < 1.0
    assert 1.0 < second_moment_map("selu", 4.0) < 4.0


def test_relu_and_linear_maps_are_the_known_factors():
    assert second_moment_map("relu", 3.0, scale=2.0) == pytest.approx(3.0)  # He keeps q
    assert second_moment_map("linear", 3.0, scale=0.5) == pytest.approx(1.5)


def test_iteration_converges_for_lecun_and_grows_for_he():
    q = iterate_second_moment("selu", 0.1, 60)
    assert q[0] == pytest.approx(0.1)
    assert np.all(np.diff(q) > 0) and abs(q[-1] - 1.0) < 1e-3
    he = iterate_second_moment("selu", 1.0, 20, 2.0)
    assert he[0] == pytest.approx(2.0) and he[-1] > 10 * he[0]


def test_per_layer_scales():
    q = iterate_second_moment("linear", 2.0, 3, [2.0, 0.5, 3.0])
    np.testing.assert_allclose(q, [4.0, 2.0, 6.0])
    with pytest.raises(ValueError, match="scale must be a positive number or 3 of them"):
        iterate_second_moment("linear", 2.0, 3, [1.0, 1.0])
    with pytest.raises(ValueError, match="q must be"):
        second_moment_map("selu", -1.0)


def test_linear_outputs_chain_the_layers():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 4))
    w1, w2 = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
    z1, z2 = linear_outputs(x, [w1, w2], "tanh")
    np.testing.assert_allclose(z1, x @ w1)
    np.testing.assert_allclose(z2, np.tanh(x @ w1) @ w2)
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(5, n_2\)"):
        linear_outputs(x, [w1, w1], "relu")


def test_offset_and_signal_split_the_variance():
    rng = np.random.default_rng(1)
    offsets = np.array([-3.0, 0.0, 3.0])
    noise = rng.standard_normal((50, 3))
    noise -= noise.mean(axis=0)  # exact zero column means
    noise /= noise.std(axis=0)  # exact unit column variances
    split = offset_and_signal(offsets + 2.0 * noise)
    assert split.offset == pytest.approx(offsets.std())
    assert split.signal == pytest.approx(2.0)
    assert split.total == pytest.approx(math.hypot(split.offset, split.signal))
    with pytest.raises(ValueError, match="z must have shape"):
        offset_and_signal(np.ones(5))
