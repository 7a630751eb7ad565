"""Networks that keep their own scale: the mean-field map of SELU, and the per-unit view of what
a data-driven rescaling (LSUV) fixes and what it does not.

- :func:`second_moment_map` and :func:`iterate_second_moment`: the one-number recursion of a
  deep bias-free MLP with zero-mean weights, :math:`q_{l+1} = s\\,E[f(z)^2]`,
  :math:`z \\sim N(0, q_l)`, with :math:`s = n\\,\\mathrm{Var}(w)`. For SELU and LeCun weights
  (:math:`s = 1`) the map has the fixed point :math:`q = 1` that Klambauer et al. built the
  activation around [Klambauer17]_.
- :func:`linear_outputs` and :func:`offset_and_signal`: every layer's linear output
  :math:`z_l = h_{l-1} W_l` on a batch, and how much of its spread is a fixed offset per unit
  and how much varies from example to example.

References
----------
.. [Klambauer17] G. Klambauer, T. Unterthiner, A. Mayr, S. Hochreiter, "Self-normalizing neural
   networks", NeurIPS 2017, arXiv:1706.02515.
.. [MM15] D. Mishkin, J. Matas, "All you need is a good init", ICLR 2016, arXiv:1511.06422.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validate import as_positive_int, as_real
from ..activations import Activation, get_activation
from .theory import gaussian_moments

__all__ = [
    "second_moment_map",
    "iterate_second_moment",
    "linear_outputs",
    "OffsetSignal",
    "offset_and_signal",
]


def second_moment_map(activation: str | Activation, q: float, scale: float = 1.0) -> float:
    """One layer of the mean-field recursion: :math:`q' = \\text{scale}\\cdot E[f(z)^2]`,
    :math:`z \\sim N(0, q)`.

    With zero-mean independent weights of variance ``scale / n`` (LeCun: scale 1; He: 2), the
    next layer's pre-activation has variance ``scale * E[f(z)^2]`` [Klambauer17]_. For SELU,
    :math:`E[\\mathrm{selu}(z)] = 0` and :math:`E[\\mathrm{selu}(z)^2] = 1` at :math:`q = 1`, so
    with scale 1 the point :math:`q = 1` maps to itself.

    Parameters
    ----------
    activation : str or Activation
    q : float
        Variance of ``z``, at least 0.
    scale : float, default 1.0
        :math:`n\\,\\mathrm{Var}(w)`, positive.

    Returns
    -------
    float
    """
    q = as_real(q, "q", minimum=0.0)
    scale = as_real(scale, "scale", minimum=0.0, strict=True)
    return scale * gaussian_moments(activation, q)[1]


def iterate_second_moment(
    activation: str | Activation,
    q0: float,
    depth: int,
    scale: float | Sequence[float] = 1.0,
) -> np.ndarray:
    """:math:`[q_1, \\dots, q_L]` from :math:`q_1 = s_1 q_0` (``q0`` the input's mean square)
    and :math:`q_{l+1} = s_{l+1} E[f(z_l)^2]`, :math:`z_l \\sim N(0, q_l)`
    (:func:`second_moment_map`).

    Parameters
    ----------
    activation : str or Activation
    q0 : float
        Mean square of the input, at least 0.
    depth : int
        Number of layers ``L``.
    scale : float or sequence of float
        :math:`s_l = n_{l-1} \\mathrm{Var}(w_l)`: one value for every layer, or ``depth`` values.

    Returns
    -------
    numpy.ndarray, shape (depth,)
        The variance of each layer's pre-activation predicted by the mean-field theory.
    """
    depth = as_positive_int(depth, "depth")
    scales = np.broadcast_to(np.asarray(scale, dtype=np.float64), (depth,)) \
        if np.ndim(scale) == 0 else np.asarray(scale, dtype=np.float64)
    if scales.shape != (depth,) or not np.all(np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError(f"scale must be a positive number or {depth} of them; got {scale!r}")
    q = float(scales[0]) * as_real(q0, "q0", minimum=0.0)
    out = np.empty(depth)
    for layer in range(depth):
        out[layer] = q
        if layer + 1 < depth:
            q = second_moment_map(activation, q, float(scales[layer + 1]))
    return out


def linear_outputs(
    x: np.ndarray, weights: Sequence[np.ndarray], activation: str | Activation
) -> list[np.ndarray]:
    """Every layer's linear output :math:`z_l = h_{l-1} W_l` with :math:`h_0 = x`,
    :math:`h_l = f(z_l)` (no biases): the quantity LSUV rescales [MM15]_.

    Returns
    -------
    list of numpy.ndarray
        ``z_l`` of shape ``(batch, n_l)``.

    Raises
    ------
    ValueError
        When the shapes do not chain.
    """
    act = get_activation(activation)
    h = np.asarray(x, dtype=np.float64)
    if h.ndim != 2:
        raise ValueError(f"x must have shape (batch, n_0); got shape {h.shape}")
    out = []
    for i, w in enumerate(weights):
        w = np.asarray(w, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != h.shape[1]:
            raise ValueError(
                f"weights[{i}] must have shape ({h.shape[1]}, n_{i + 1}); got shape {w.shape}"
            )
        z = h @ w
        out.append(z)
        h = act.forward(z)
    return out


class OffsetSignal(NamedTuple):
    """The spread of a layer's output split into a fixed part and a varying part.

    Attributes
    ----------
    total : float
        ``z.std()`` over all values (what LSUV sets to 1).
    offset : float
        Standard deviation over units of each unit's mean over the batch: the part that does
        not change from example to example.
    signal : float
        Root mean over units of each unit's variance over the batch: the part that carries
        information about the example. ``total**2 == offset**2 + signal**2``.
    """

    total: float
    offset: float
    signal: float


def offset_and_signal(z: np.ndarray) -> OffsetSignal:
    """Split ``z.var()`` into the variance of the unit means and the mean within-unit variance.

    For ``z`` of shape ``(batch, units)``, with :math:`\\bar z_j` unit ``j``'s batch mean:
    :math:`\\mathrm{Var}(z) = \\mathrm{Var}_j(\\bar z_j) + \\mathrm{mean}_j \\mathrm{Var}_b(z_{bj})`
    (the law of total variance, every variance with ``ddof=0``).

    Raises
    ------
    ValueError
        For an array that is not 2-D or has fewer than 2 rows.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"z must have shape (batch, units) with batch >= 2; got shape {z.shape}")
    means = z.mean(axis=0)
    within = z.var(axis=0)
    return OffsetSignal(
        total=float(z.std()), offset=float(means.std()), signal=float(np.sqrt(within.mean()))
    )
