"""Spectra of deep networks: products of random matrices, deep linear training, input-output
Jacobians, and the sign correction of the QR construction of an orthogonal matrix.

A deep linear network maps ``x`` to ``x @ W_1 @ ... @ W_L``; its end-to-end map is the product
``P = W_1 ... W_L``. With independent Gaussian factors of variance ``1/n`` the *mean* squared
singular value of ``P`` is 1 at every depth, but the singular values spread further apart with
each factor; with orthogonal factors every singular value of ``P`` is exactly the product of the
gains [Saxe13]_. Nothing here draws; the chapters turn these numbers into figures.

References
----------
.. [Saxe13] A. M. Saxe, J. L. McClelland, S. Ganguli, "Exact solutions to the nonlinear dynamics
   of learning in deep linear neural networks", arXiv:1312.6120, 2013.
.. [Penn17] J. Pennington, S. S. Schoenholz, S. Ganguli, "Resurrecting the sigmoid in deep
   learning through dynamical isometry: theory and practice", NeurIPS 2017.
.. [Mezz07] F. Mezzadri, "How to generate random matrices from the classical compact groups",
   Notices of the AMS 54(5), 2007.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validate import as_generator, as_positive_int, as_real, choice
from ..activations import get_activation
from ..initializers import lecun_normal, orthogonal

__all__ = [
    "SQUARE_INITS",
    "square_weights",
    "product_matrix",
    "product_singular_values",
    "DeepLinearRun",
    "deep_linear_loss_and_grads",
    "train_deep_linear",
    "jacobian_singular_values",
    "qr_orthogonal",
]

#: The two ways to draw a square layer that this module compares: Gaussian with variance
#: gain**2 / n (LeCun's rule times the gain) and Haar-orthogonal times the gain.
SQUARE_INITS = ("gaussian", "orthogonal")


def square_weights(width: int, init: str, rng: np.random.Generator, gain: float = 1.0
                   ) -> np.ndarray:
    """One ``(width, width)`` weight matrix: ``gain * lecun_normal`` or ``orthogonal(gain)``.

    Both have entries of variance ``gain**2 / width``; only the orthogonal one has every
    singular value equal to ``gain``.
    """
    width = as_positive_int(width, "width")
    choice(init, "init", SQUARE_INITS)
    gain = as_real(gain, "gain", minimum=0.0, strict=True)
    if init == "orthogonal":
        return orthogonal((width, width), gain=gain, rng=rng)
    return gain * lecun_normal((width, width), rng)


def product_matrix(
    width: int, depth: int, init: str, rng: np.random.Generator | int | None = None,
    gain: float = 1.0,
) -> np.ndarray:
    """The end-to-end map ``P = W_1 W_2 ... W_L`` of `depth` square layers drawn in order."""
    depth = as_positive_int(depth, "depth")
    gen = as_generator(rng)
    product = square_weights(width, init, gen, gain)
    for _ in range(depth - 1):
        product = product @ square_weights(width, init, gen, gain)
    return product


def product_singular_values(
    width: int, depth: int, init: str, rng: np.random.Generator | int | None = None,
    gain: float = 1.0,
) -> np.ndarray:
    """Singular values (descending) of :func:`product_matrix`.

    Notes
    -----
    For Gaussian factors with variance :math:`1/n`, :math:`E[\\mathrm{tr}(P^\\top P)]/n = 1` at
    every depth (the mean squared singular value), while the spread of :math:`\\log s` grows
    like :math:`\\sqrt L`, so the condition number :math:`s_{\\max}/s_{\\min}` grows
    exponentially [Saxe13]_. For orthogonal factors :math:`P^\\top P = g^{2L} I`.
    """
    return np.linalg.svd(product_matrix(width, depth, init, rng, gain), compute_uv=False)


class DeepLinearRun(NamedTuple):
    """One training run of a deep linear network: the loss after each epoch (epoch 0 is the
    start, relative to the loss of the zero map) and the first epoch whose loss is below the
    threshold (None if none was within the budget or the run diverged)."""

    losses: np.ndarray
    epochs_to_threshold: int | None
    diverged: bool


def deep_linear_loss_and_grads(weights: Sequence[np.ndarray], target: np.ndarray
                               ) -> tuple[float, list[np.ndarray]]:
    """:math:`\\tfrac12\\lVert W_1\\cdots W_L - M\\rVert_F^2` and its gradient for each layer,
    :math:`(W_1\\cdots W_{l-1})^\\top (P - M) (W_{l+1}\\cdots W_L)^\\top` [Saxe13]_."""
    eye = np.eye(weights[0].shape[0])
    prefix = [eye]  # prefix[l] = W_1 ... W_l
    for w in weights:
        prefix.append(prefix[-1] @ w)
    err = prefix[-1] - target
    suffix = np.eye(weights[-1].shape[1])  # W_{l+1} ... W_L
    grads: list[np.ndarray] = [eye] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        grads[layer] = prefix[layer].T @ err @ suffix.T
        suffix = weights[layer] @ suffix
    return 0.5 * float(np.sum(err**2)), grads


def train_deep_linear(
    target: np.ndarray,
    depth: int,
    init: str,
    rng: np.random.Generator | int | None = None,
    *,
    lr: float = 0.01,
    max_epochs: int = 2000,
    threshold: float = 1e-2,
) -> DeepLinearRun:
    """Train ``P = W_1 ... W_L`` towards the square `target` by full-batch gradient descent.

    With whitened inputs (``X^T X / N = I``) the mean squared error of a deep linear network
    depends on the product only, :math:`\\tfrac12\\lVert P - M\\rVert_F^2` [Saxe13]_, so the
    run needs no data set (gradients: :func:`deep_linear_loss_and_grads`; the step uses the
    gradient of the absolute loss). The loss is reported relative to
    :math:`\\tfrac12\\lVert M\\rVert_F^2`, the loss of the zero map.

    Parameters
    ----------
    target : ndarray, square
    depth : int
    init : {"gaussian", "orthogonal"}
    rng : Generator, int or None
    lr : float
        The learning rate, the same for every layer.
    max_epochs : int
        The budget; a run that has not reached `threshold` by then has ``epochs_to_threshold``
        None.
    threshold : float
        Relative loss that counts as learned.
    """
    target = np.asarray(target, dtype=np.float64)
    if target.ndim != 2 or target.shape[0] != target.shape[1] or not np.all(np.isfinite(target)):
        raise ValueError(f"target must be a finite square matrix, got shape {target.shape}")
    depth = as_positive_int(depth, "depth")
    lr = as_real(lr, "lr", minimum=0.0, strict=True)
    max_epochs = as_positive_int(max_epochs, "max_epochs")
    threshold = as_real(threshold, "threshold", minimum=0.0, strict=True)
    gen = as_generator(rng)
    width = target.shape[0]
    weights = [square_weights(width, init, gen) for _ in range(depth)]
    scale = 0.5 * float(np.sum(target**2))
    if scale == 0:
        raise ValueError("target must not be all zeros")
    losses = []
    for epoch in range(max_epochs + 1):
        loss, grads = deep_linear_loss_and_grads(weights, target)
        loss /= scale
        losses.append(loss)
        if not np.isfinite(loss) or loss > 1e6:
            return DeepLinearRun(np.array(losses), None, True)
        if loss < threshold:
            return DeepLinearRun(np.array(losses), epoch, False)
        if epoch == max_epochs:
            break
        for w, g in zip(weights, grads, strict=True):
            w -= lr * g
    return DeepLinearRun(np.array(losses), None, False)


def jacobian_singular_values(
    activation: str,
    width: int,
    depths: Sequence[int],
    init: str,
    gain: float,
    rng: np.random.Generator | int | None = None,
    input_std: float = 1.0,
) -> dict[int, np.ndarray]:
    """Singular values of the input-output Jacobian of a deep network, at several depths.

    One input ``x`` of `width` entries with standard deviation `input_std`; layer :math:`l`
    computes :math:`z_l = h_{l-1} W_l`, :math:`h_l = f(z_l)` (no biases). In this row
    convention the Jacobian of :math:`h_L` with respect to :math:`x` is
    :math:`J_L = W_1 D_1 W_2 D_2 \\cdots W_L D_L` with :math:`D_l = \\mathrm{diag}(f'(z_l))`
    [Penn17]_. Returns ``{L: singular values of J_L}`` for every L in `depths`.
    """
    act = get_activation(activation)
    width = as_positive_int(width, "width")
    depths = sorted({as_positive_int(d, "depths") for d in depths})
    if not depths:
        raise ValueError("depths must list at least one depth")
    input_std = as_real(input_std, "input_std", minimum=0.0, strict=True)
    gen = as_generator(rng)
    h = input_std * gen.standard_normal(width)
    jac = np.eye(width)
    found = {}
    for layer in range(1, depths[-1] + 1):
        w = square_weights(width, init, gen, gain)
        z = h @ w
        jac = (jac @ w) * act.derivative(z)  # right-multiplying by a diagonal scales columns
        h = act(z)
        if layer in depths:
            found[layer] = np.linalg.svd(jac, compute_uv=False)
    return found


def qr_orthogonal(n: int, rng: np.random.Generator | int | None = None, *,
                  sign_correction: bool = True) -> np.ndarray:
    """An ``(n, n)`` orthogonal matrix from the QR factorization of a standard Gaussian matrix.

    With ``sign_correction`` each column :math:`j` of :math:`Q` is multiplied by
    :math:`\\mathrm{sign}(R_{jj})`, which makes the factorization unique (positive diagonal of
    :math:`R`) and :math:`Q` Haar-distributed [Mezz07]_. Without it, :math:`Q` inherits the
    sign convention of LAPACK's Householder QR, which numpy calls: the diagonal of :math:`R`
    is not sign-symmetric, and :math:`Q` is not uniform (for instance its first column always
    has a negative first entry).
    """
    n = as_positive_int(n, "n")
    gen = as_generator(rng)
    q, r = np.linalg.qr(gen.standard_normal((n, n)))
    if sign_correction:
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return q
