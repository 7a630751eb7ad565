"""Residual networks at initialization: how the variance grows through the blocks, and what the
fixes in use (a scaled branch, a zero-initialized last layer, Fixup) do to it.

Block :math:`l` computes :math:`x_{l+1} = x_l + \\alpha\\,F_l(x_l)` with the pre-activation
branch of He et al. (2016), without normalization,
:math:`F_l(x) = \\mathrm{relu}(\\mathrm{relu}(x)\\,W_1)\\,W_2`, both weights drawn by He's rule
:math:`N(0, 2/n)` [He16]_. For a symmetric :math:`x` the branch keeps the variance,
:math:`E[F(x)^2] = E[x^2]`, and is uncorrelated with :math:`x` (:math:`W_2` has mean 0), so

.. math:: E[x_{l+1}^2] = (1 + \\alpha^2)\\,E[x_l^2], \\qquad
   E[x_L^2] = (1 + \\alpha^2)^L\\,E[x_0^2].

References
----------
.. [He16] K. He, X. Zhang, S. Ren, J. Sun, "Identity mappings in deep residual networks",
   ECCV 2016.
.. [Goyal17] P. Goyal et al., "Accurate, large minibatch SGD: training ImageNet in 1 hour",
   arXiv:1706.02677, 2017.
.. [Zhang19] H. Zhang, Y. N. Dauphin, T. Ma, "Fixup initialization: residual learning without
   normalization", ICLR 2019.
.. [De20] S. De, S. L. Smith, "Batch normalization biases residual blocks towards the identity
   function in deep networks", NeurIPS 2020.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import as_generator, as_positive_int, choice
from ..initializers import he_normal

__all__ = ["VARIANTS", "BRANCH_LAYERS", "branch_multiplier", "starts_at_zero",
           "predicted_growth",
           "ResidualRun", "residual_network"]

#: The residual networks compared: plain He branches; the branch scaled by 1/sqrt(L); the branch
#: scaled by a small constant; the last layer of each branch at zero (zero-init residual,
#: SkipInit); Fixup (last layer at zero, the other branch layer scaled by L^(-1/(2m-2))).
VARIANTS = ("he", "1/sqrt(L)", "small constant", "zero last layer", "fixup")
#: m, the number of weight layers in a branch.
BRANCH_LAYERS = 2
#: The small constant of "small constant".
SMALL_CONSTANT = 0.1


def branch_multiplier(variant: str, depth: int) -> float:
    """:math:`\\alpha`, the factor on each branch's output: :math:`1/\\sqrt L` or
    ``SMALL_CONSTANT`` for the scaled variants, 1 for the others."""
    choice(variant, "variant", VARIANTS)
    depth = as_positive_int(depth, "depth")
    return {"1/sqrt(L)": depth**-0.5, "small constant": SMALL_CONSTANT}.get(variant, 1.0)


def starts_at_zero(variant: str) -> bool:
    """Whether the variant starts the last layer of every branch at zero."""
    return choice(variant, "variant", VARIANTS) in ("zero last layer", "fixup")


def predicted_growth(variant: str, depth: int) -> float:
    """:math:`E[x_L^2]/E[x_0^2] = (1 + \\alpha^2)^L` for a branch that keeps the variance,
    and exactly 1 when the branches start at zero."""
    if starts_at_zero(variant):
        return 1.0
    return (1.0 + branch_multiplier(variant, depth) ** 2) ** depth


class ResidualRun(NamedTuple):
    """``mean_square[l]`` is :math:`E[x_l^2]` over the batch and units, l = 0..L;
    ``grad_sq`` is the squared norm of the gradient of the probe loss with respect to all
    weights (how far one gradient step moves the probe, per unit of learning rate)."""

    mean_square: np.ndarray
    grad_sq: float


def residual_network(
    x: np.ndarray, depth: int, variant: str, rng: np.random.Generator | int | None = None
) -> ResidualRun:
    """Push `x` through `depth` residual blocks of the given `variant` and back-propagate the
    probe loss :math:`\\ell = \\tfrac1N \\sum_i x_L^{(i)} \\cdot g^{(i)}`, `g` standard normal
    (drawn after the weights).

    With "zero last layer" :math:`W_2 = 0` [Goyal17]_ [De20]_; with "fixup" also
    :math:`W_1` is multiplied by :math:`L^{-1/(2m-2)}`, :math:`L^{-1/2}` for :math:`m = 2`
    [Zhang19]_ (Fixup's scalar multipliers and biases, which start at 1 and 0, are left out).
    Both start every block at the identity; they differ in how much a gradient step moves the
    output: :math:`\\lVert\\nabla\\ell\\rVert^2` grows like :math:`L` for the first and stays
    bounded for Fixup.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite 2-D array (batch, units), got shape {x.shape}")
    depth = as_positive_int(depth, "depth")
    alpha = branch_multiplier(variant, depth)
    gen = as_generator(rng)
    width = x.shape[1]
    scale_w1 = depth ** (-1.0 / (2 * BRANCH_LAYERS - 2)) if variant == "fixup" else 1.0
    blocks = []
    for _ in range(depth):
        w1 = scale_w1 * he_normal((width, width), gen)
        w2 = he_normal((width, width), gen)
        if starts_at_zero(variant):
            w2 = np.zeros_like(w2)
        blocks.append((w1, w2))
    mean_square = np.empty(depth + 1)
    mean_square[0] = np.mean(x**2)
    cache = []
    for layer, (w1, w2) in enumerate(blocks):
        a1 = np.maximum(x, 0.0)
        u = a1 @ w1
        a2 = np.maximum(u, 0.0)
        cache.append((x, a1, u, a2))
        x = x + alpha * (a2 @ w2)
        mean_square[layer + 1] = np.mean(x**2)
    grad = gen.standard_normal(x.shape) / x.shape[0]
    grad_sq = 0.0
    for (w1, w2), (x_in, a1, u, a2) in zip(reversed(blocks), reversed(cache), strict=True):
        d_branch = alpha * grad
        d_w2 = a2.T @ d_branch
        d_u = (d_branch @ w2.T) * (u > 0)
        d_w1 = a1.T @ d_u
        grad_sq += float(np.sum(d_w2**2) + np.sum(d_w1**2))
        grad = grad + (d_u @ w1.T) * (x_in > 0)
    return ResidualRun(mean_square, grad_sq)

