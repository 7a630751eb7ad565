"""Activation functions and their derivatives, looked up by name.

Each entry of :data:`ACTIVATIONS` is an :class:`Activation` with ``forward(z)`` and
``derivative(z)`` (the derivative with respect to the pre-activation ``z``, elementwise), so
that a deep-network module can ask for ``get_activation("tanh")`` and run both passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ._validate import as_real, choice

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "SELU_ALPHA",
    "SELU_SCALE",
    "get_activation",
    "linear",
    "linear_derivative",
    "sigmoid",
    "sigmoid_derivative",
    "tanh",
    "tanh_derivative",
    "relu",
    "relu_derivative",
    "leaky_relu",
    "leaky_relu_derivative",
    "selu",
    "selu_derivative",
]

#: SELU's constants [Klambauer17]: the fixed point of mean 0 and variance 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

ArrayFn = Callable[[np.ndarray], np.ndarray]


def linear(z: np.ndarray) -> np.ndarray:
    """Identity: :math:`f(z) = z`."""
    return np.asarray(z, dtype=np.float64)


def linear_derivative(z: np.ndarray) -> np.ndarray:
    """:math:`f'(z) = 1`."""
    return np.ones_like(np.asarray(z, dtype=np.float64))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic sigmoid :math:`\\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow."""
    return expit(np.asarray(z, dtype=np.float64))


def sigmoid_derivative(z: np.ndarray) -> np.ndarray:
    """:math:`\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))`, at most 1/4 (at :math:`z = 0`)."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent :math:`\\tanh(z)`."""
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_derivative(z: np.ndarray) -> np.ndarray:
    """:math:`\\tanh'(z) = 1 - \\tanh^2(z)`, at most 1 (at :math:`z = 0`)."""
    return 1.0 - np.tanh(np.asarray(z, dtype=np.float64)) ** 2


def relu(z: np.ndarray) -> np.ndarray:
    """Rectified linear unit :math:`\\max(0, z)`."""
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)


def relu_derivative(z: np.ndarray) -> np.ndarray:
    """:math:`1` where :math:`z > 0`, else :math:`0` (0 at :math:`z = 0`, as autograd does)."""
    return (np.asarray(z) > 0).astype(np.float64)


def leaky_relu(z: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: :math:`z` for :math:`z > 0`, :math:`a z` otherwise (negative slope :math:`a`)."""
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, slope * z)


def leaky_relu_derivative(z: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """:math:`1` for :math:`z > 0`, :math:`a` otherwise."""
    return np.where(np.asarray(z) > 0, 1.0, float(slope))


def selu(z: np.ndarray) -> np.ndarray:
    """SELU [Klambauer17]: :math:`\\lambda z` (z > 0), else :math:`\\lambda\\alpha(e^z - 1)`.
    """
    z = np.asarray(z, dtype=np.float64)
    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def selu_derivative(z: np.ndarray) -> np.ndarray:
    """:math:`\\lambda` for :math:`z > 0`, :math:`\\lambda\\alpha e^z` otherwise."""
    z = np.asarray(z, dtype=np.float64)
    return SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))


@dataclass(frozen=True)
class Activation:
    """A named activation: ``forward(z)``, its elementwise ``derivative(z)``, and the name that
    :func:`weightinit.initializers.calculate_gain` knows it by."""

    name: str
    forward: ArrayFn
    derivative: ArrayFn

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.forward(z)


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation("linear", linear, linear_derivative),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_derivative),
    "tanh": Activation("tanh", tanh, tanh_derivative),
    "relu": Activation("relu", relu, relu_derivative),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_derivative),
    "selu": Activation("selu", selu, selu_derivative),
}


def get_activation(name: str | Activation, slope: float | None = None) -> Activation:
    """Look up an activation by name (one of :data:`ACTIVATIONS`); an Activation passes through.

    `slope` sets the negative slope of ``"leaky_relu"`` (default 0.01) and is refused for the
    others, so that a typo cannot pass silently.
    """
    if isinstance(name, Activation):
        return name
    choice(name, "activation", tuple(ACTIVATIONS))
    if slope is None:
        return ACTIVATIONS[name]
    if name != "leaky_relu":
        raise ValueError(f"slope applies only to 'leaky_relu', not to {name!r}")
    a = as_real(slope, "slope")
    return Activation(
        "leaky_relu", lambda z: leaky_relu(z, a), lambda z: leaky_relu_derivative(z, a)
    )
