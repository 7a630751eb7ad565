"""Activations: values at known points, derivatives against finite differences, the lookup."""

from __future__ import annotations

import numpy as np
import pytest

from weightinit import activations as act
from weightinit import get_activation
from weightinit.activations import ACTIVATIONS

# Avoid the kinks at 0 for the piecewise functions when differencing.
Z = np.concatenate([np.linspace(-6, -0.01, 50), np.linspace(0.01, 6, 50)])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_derivative_matches_central_difference(name):
    a = get_activation(name)
    h = 1e-6
    numeric = (a.forward(Z + h) - a.forward(Z - h)) / (2 * h)
    np.testing.assert_allclose(a.derivative(Z), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_shape_and_dtype_are_kept(name):
    a = get_activation(name)
    z = np.arange(-3, 3, dtype=np.int64).reshape(2, 3)
    assert a(z).shape == (2, 3) and a(z).dtype == np.float64
    assert a.derivative(z).shape == (2, 3)


def test_known_values():
    assert act.sigmoid(0.0) == 0.5
    assert act.sigmoid_derivative(0.0) == 0.25
    # The sigmoid's slope is at most 1/4, reached only at 0.
    assert act.sigmoid_derivative(Z).max() < 0.25
    assert act.tanh_derivative(0.0) == 1.0
    np.testing.assert_array_equal(act.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(act.relu_derivative(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(act.leaky_relu(np.array([-2.0, 3.0])), [-0.02, 3.0])
    # SELU: scale * alpha * (e^z - 1) -> -scale * alpha as z -> -inf.
    assert np.isclose(act.selu(-50.0), -act.SELU_SCALE * act.SELU_ALPHA)
    assert np.isclose(act.selu(1.0), act.SELU_SCALE)


def test_sigmoid_does_not_overflow():
    with np.errstate(all="raise"):
        assert act.sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]
        assert act.selu(np.array([-1000.0])).tolist()[0] == pytest.approx(-1.7580993408473766)


def test_selu_keeps_mean_zero_and_variance_one():
    """SELU's fixed point: for z ~ N(0, 1), E[selu(z)] = 0 and E[selu(z)^2] = 1 (quadrature)."""
    from scipy import integrate
    from scipy.stats import norm

    mean = integrate.quad(lambda z: act.selu(z) * norm.pdf(z), -np.inf, np.inf)[0]
    second = integrate.quad(lambda z: act.selu(z) ** 2 * norm.pdf(z), -np.inf, np.inf)[0]
    assert abs(mean) < 1e-6 and abs(second - 1) < 1e-6


def test_lookup():
    assert get_activation("tanh") is ACTIVATIONS["tanh"]
    assert get_activation(ACTIVATIONS["relu"]) is ACTIVATIONS["relu"]
    steep = get_activation("leaky_relu", slope=0.2)
    np.testing.assert_allclose(steep(np.array([-1.0])), [-0.2])
    np.testing.assert_allclose(steep.derivative(np.array([-1.0])), [0.2])
    with pytest.raises(ValueError, match=r"activation must be one of .*'relu'.*; got 'swish'"):
        get_activation("swish")
    with pytest.raises(ValueError, match="slope applies only to 'leaky_relu'"):
        get_activation("relu", slope=0.1)
