"""Layer-sequential unit-variance initialization (LSUV): let a batch of data set each layer's scale.

Mishkin and Matas' Algorithm 1 [MM15]_: start every weight matrix orthogonal, then, layer by layer
in order, push the batch through and divide the layer's weights by the standard deviation of its
linear output until that standard deviation is within ``tol`` of 1. Each layer sees the previous
layers' final weights, so the rescaling of layer l accounts for everything below it, including a
data set whose mean or scale the fixed formulas (``1/n``, ``2/n``) do not know about.

This is the reference of the graded exercise ``ex08-lsuv`` and what chapter 11 runs.

References
----------
.. [MM15] D. Mishkin, J. Matas, "All you need is a good init", ICLR 2016, arXiv:1511.06422.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validate import as_generator, as_positive_int, as_real, choice
from ..activations import get_activation
from ..initializers import orthogonal

#: The activations ``lsuv`` accepts (the exercise's contract).
LSUV_ACTIVATIONS = ("linear", "relu", "tanh")


class LsuvResult(NamedTuple):
    """What :func:`lsuv_run` did, layer by layer.

    Attributes
    ----------
    weights : list of numpy.ndarray
        ``[W_1, ..., W_L]``, ``W_l`` of shape ``(n_{l-1}, n_l)``.
    stds_before : list of float
        The standard deviation of each layer's linear output with the orthogonal start, the
        layers below already rescaled.
    stds_after : list of float
        The same after the rescaling: each within ``tol`` of 1 unless ``max_iter`` ran out.
    iterations : list of int
        The rescalings of each layer (0 when the orthogonal start was already within ``tol``).
    forward_passes : int
        Layer-forward computations ``h_{l-1} @ W_l`` on the batch, the method's cost.
    """

    weights: list[np.ndarray]
    stds_before: list[float]
    stds_after: list[float]
    iterations: list[int]
    forward_passes: int


def _check_inputs(x: object, layer_sizes: Sequence[int]) -> tuple[np.ndarray, list[int]]:
    sizes = [as_positive_int(n, "layer_sizes entry") for n in layer_sizes]
    if len(sizes) < 2:
        raise ValueError(
            f"layer_sizes must list at least the input and one layer, [n_0, n_1, ...]; got {sizes}"
        )
    batch = np.asarray(x, dtype=float)
    if batch.ndim != 2 or batch.shape[1] != sizes[0]:
        raise ValueError(
            f"x must have shape (batch, n_0) = (batch, {sizes[0]}); got shape {batch.shape}"
        )
    if not np.all(np.isfinite(batch)):
        raise ValueError("x must be finite; it holds NaN or inf")
    if batch.shape[0] < 2:
        raise ValueError(f"x must hold at least 2 examples to measure a std; got {batch.shape[0]}")
    return batch, sizes


def lsuv_run(
    x: np.ndarray,
    layer_sizes: Sequence[int],
    activation: str,
    rng: np.random.Generator,
    tol: float = 0.05,
    max_iter: int = 10,
) -> LsuvResult:
    """LSUV with its record: the weights and, per layer, the stds before and after.

    With :math:`h_0 = x`, layer :math:`l` computes :math:`z_l = h_{l-1} W_l` and
    :math:`h_l = \\mathrm{act}(z_l)`. Every :math:`W_l` starts as an orthogonal
    ``(n_{l-1}, n_l)`` matrix (:func:`weightinit.orthogonal`, gain 1); then, for
    :math:`l = 1, \\dots, L` in order, :math:`W_l \\leftarrow W_l / \\mathrm{std}(z_l)` while
    :math:`|\\mathrm{std}(z_l) - 1| \\ge` ``tol``, at most ``max_iter`` times [MM15]_.

    Parameters
    ----------
    x : numpy.ndarray
        The batch, shape ``(batch, n_0)``; not modified.
    layer_sizes : sequence of int
        ``[n_0, n_1, ..., n_L]``.
    activation : {"linear", "relu", "tanh"}
        Applied after every layer.
    rng : numpy.random.Generator
        The source of the orthogonal starts.
    tol : float, default 0.05
        Accepted distance of each layer's output std from 1; positive.
    max_iter : int, default 10
        Most rescalings per layer.

    Returns
    -------
    LsuvResult

    Raises
    ------
    ValueError
        For an unknown activation, a non-positive ``tol`` or ``max_iter``, or ``x`` whose shape
        does not match ``layer_sizes``.

    References
    ----------
    .. [MM15] D. Mishkin, J. Matas, "All you need is a good init", ICLR 2016, arXiv:1511.06422.
    """
    batch, sizes = _check_inputs(x, layer_sizes)
    act = get_activation(choice(activation, "activation", LSUV_ACTIVATIONS))
    tol = as_real(tol, "tol", minimum=0.0, strict=True)
    max_iter = as_positive_int(max_iter, "max_iter")
    gen = as_generator(rng)
    shapes = zip(sizes[:-1], sizes[1:], strict=True)
    weights = [orthogonal(shape, 1.0, gen) for shape in shapes]
    before, after, iterations, passes = [], [], [], 0
    h = batch
    for w in weights:
        z = h @ w
        passes += 1
        std = float(z.std())
        before.append(std)
        count = 0
        while abs(std - 1.0) >= tol and count < max_iter:
            if std == 0.0:
                raise ValueError(
                    f"layer {len(after) + 1}'s linear output is constant on x (std 0): LSUV "
                    "cannot rescale it; is x all zeros, or is every unit below it dead?"
                )
            w /= std
            z = h @ w
            passes += 1
            std = float(z.std())
            count += 1
        after.append(std)
        iterations.append(count)
        h = act(z)
    return LsuvResult(weights, before, after, iterations, passes)


def lsuv(
    x: np.ndarray,
    layer_sizes: Sequence[int],
    activation: str,
    rng: np.random.Generator,
    tol: float = 0.05,
    max_iter: int = 10,
) -> list[np.ndarray]:
    """The weights ``[W_1, ..., W_L]`` of LSUV [MM15]_; see :func:`lsuv_run` for the method.

    Parameters and errors are those of :func:`lsuv_run`.

    Returns
    -------
    list of numpy.ndarray
        ``W_l`` of shape ``(n_{l-1}, n_l)``, float64.

    References
    ----------
    .. [MM15] D. Mishkin, J. Matas, "All you need is a good init", ICLR 2016, arXiv:1511.06422.
    """
    return lsuv_run(x, layer_sizes, activation, rng, tol, max_iter).weights
