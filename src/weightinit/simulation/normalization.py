"""A deep MLP with an optional normalization step (batch norm or layer norm) after every linear
layer: the per-layer statistics forward and backward, to show what normalization fixes (the
scale of the signal, whatever the weights' scale) and what it does not (the gradients' scale).

Layer :math:`l` computes :math:`z_l = h_{l-1} W_l`, :math:`u_l = \\mathrm{norm}(z_l)`,
:math:`h_l = f(u_l)`, with no biases and no learned scale or shift (they start at 0 and 1 in
both papers, so at initialization they change nothing). Batch norm standardises each unit over
the batch [Ioffe15]_; layer norm standardises each example over its units [Ba16]_.

References
----------
.. [Ioffe15] S. Ioffe, C. Szegedy, "Batch normalization: accelerating deep network training by
   reducing internal covariate shift", ICML 2015.
.. [Ba16] J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer normalization", arXiv:1607.06450, 2016.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import as_generator, as_positive_int, as_real, choice
from ..activations import get_activation

__all__ = ["NORMS", "EPS", "normalize", "normalize_backward", "NormalizedRun", "normalized_mlp"]

#: None (no normalization), batch norm (over the batch, axis 0), layer norm (over the units).
NORMS = (None, "batch", "layer")
_AXIS = {"batch": 0, "layer": 1}
#: The epsilon under the square root, PyTorch's default for both layers.
EPS = 1e-5


def _axis(kind: str) -> int:
    choice(kind, "kind", ("batch", "layer"))
    return _AXIS[kind]


def normalize(z: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Standardise `z` (batch, units) over the batch ("batch") or over the units ("layer").

    Returns ``(zhat, inv_std)`` with :math:`\\hat z = (z - \\mu) / \\sqrt{\\sigma^2 + \\epsilon}`
    and ``inv_std`` :math:`= 1/\\sqrt{\\sigma^2 + \\epsilon}` (kept for the backward pass).
    """
    axis = _axis(kind)
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"z must be a 2-D array (batch, units), got shape {z.shape}")
    mean = z.mean(axis=axis, keepdims=True)
    inv_std = 1.0 / np.sqrt(z.var(axis=axis, keepdims=True) + EPS)
    return (z - mean) * inv_std, inv_std


def normalize_backward(grad: np.ndarray, zhat: np.ndarray, inv_std: np.ndarray, kind: str
                       ) -> np.ndarray:
    """The gradient with respect to `z` of :func:`normalize`, given the gradient `grad` with
    respect to its output:

    .. math:: \\frac{\\partial L}{\\partial z} = \\frac{1}{\\sigma}\\Bigl(g - \\bar g
       - \\hat z\\,\\overline{g \\hat z}\\Bigr),

    the bars being means over the normalized axis [Ioffe15]_.
    """
    axis = _axis(kind)
    return inv_std * (grad - grad.mean(axis=axis, keepdims=True)
                      - zhat * (grad * zhat).mean(axis=axis, keepdims=True))


class NormalizedRun(NamedTuple):
    """Per-layer statistics (index 0 is layer 1): the standard deviation of the linear output
    ``z``, of the activation ``h``, of the gradient with respect to ``z``, and the root mean
    square of the gradient with respect to the weights ``W``."""

    z_std: np.ndarray
    h_std: np.ndarray
    grad_z_std: np.ndarray
    grad_w_rms: np.ndarray


def normalized_mlp(
    x: np.ndarray,
    depth: int,
    std: float,
    norm: str | None,
    activation: str = "tanh",
    rng: np.random.Generator | int | None = None,
) -> NormalizedRun:
    """Push `x` through `depth` square layers with weights :math:`N(0, \\mathrm{std}^2)`, with
    or without a normalization step, and back-propagate a standard normal gradient
    :math:`\\partial L/\\partial h_L` (drawn from `rng` after the weights).

    Notes
    -----
    A normalization step makes the layer invariant to the scale of its weights:
    :math:`\\mathrm{norm}(h\\,cW) = \\mathrm{norm}(hW)` for :math:`c > 0` (up to :math:`\\epsilon`).
    The gradient is then *inversely* proportional to the scale,
    :math:`\\nabla_W L(cW) = \\nabla_W L(W)/c`, which this run measures.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite 2-D array (batch, units), got shape {x.shape}")
    depth = as_positive_int(depth, "depth")
    std = as_real(std, "std", minimum=0.0, strict=True)
    if norm is not None:
        choice(norm, "norm", ("batch", "layer"))
    act = get_activation(activation)
    gen = as_generator(rng)
    width = x.shape[1]
    weights = [std * gen.standard_normal((width, width)) for _ in range(depth)]
    h, cache = x, []
    z_std, h_std = np.empty(depth), np.empty(depth)
    for layer, w in enumerate(weights):
        z = h @ w
        u, inv_std = normalize(z, norm) if norm else (z, None)
        cache.append((h, u, inv_std))
        h = act(u)
        z_std[layer], h_std[layer] = z.std(), h.std()
    grad_h = gen.standard_normal(h.shape)
    grad_z_std, grad_w_rms = np.empty(depth), np.empty(depth)
    for layer in range(depth - 1, -1, -1):
        h_in, u, inv_std = cache[layer]
        grad_u = grad_h * act.derivative(u)
        grad_z = normalize_backward(grad_u, u, inv_std, norm) if norm else grad_u
        grad_z_std[layer] = grad_z.std()
        grad_w_rms[layer] = np.sqrt(np.mean((h_in.T @ grad_z) ** 2))
        grad_h = grad_z @ weights[layer].T
    return NormalizedRun(z_std, h_std, grad_z_std, grad_w_rms)
