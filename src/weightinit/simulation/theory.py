"""The variance-propagation theory: what each layer of a deep MLP should measure at initialization.

:func:`predict` gives, layer by layer, the mean, the second moment and the standard deviation of
the pre-activations ``z_l``, the activations ``h_l`` and the back-propagated gradients, and the
expected share of saturated units, for a network of zero-mean independent weights (a
:class:`Theory`). The per-layer variance factor (:func:`variance_factor`) is ``n Var(w)`` for a
linear network and ``n Var(w) / 2`` for ReLU [He15]_; forward ``n`` is the fan-in ``n_{l-1}``,
backward it is the fan-out ``n_l`` [Glorot10]_. For the other activations the factor depends on
the variance itself, through the Gaussian moments of the activation (:func:`gaussian_moments`)
[Poole16]_. :func:`saturation_region` says where a unit counts as saturated.

:mod:`weightinit.simulation.propagation` measures the same quantities and puts this prediction
beside every measurement.
----------
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
   human-level performance on ImageNet classification", ICCV 2015.
.. [Poole16] B. Poole, S. Lahiri, M. Raghu, J. Sohl-Dickstein, S. Ganguli, "Exponential
   expressivity in deep neural networks through transient chaos", NeurIPS 2016.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from .._validate import as_positive_int, as_real
from ..activations import ACTIVATIONS, Activation, get_activation, sigmoid_derivative

__all__ = [
    "SATURATION_SLOPE_RATIO",
    "Theory",
    "saturation_region",
    "gaussian_moments",
    "variance_factor",
    "predict",
]

#: A unit counts as saturated where its slope ``|f'(z)|`` is below this share of the
#: activation's largest slope. The value is ``sigma'(4) / sigma'(0)``, about 0.0707, so that a
#: sigmoid unit is saturated exactly when ``|z| >= 4`` (the threshold of the saturation chapter)
#: and a tanh unit when ``|z| >= 2``.
SATURATION_SLOPE_RATIO = float(sigmoid_derivative(4.0) / sigmoid_derivative(0.0))


@dataclass(frozen=True)
class Theory:
    """The variance-propagation prediction for every layer (see :func:`predict`).

    Arrays have shape ``(L,)``; entry ``l - 1`` is layer ``l``. ``z_second``, ``h_second``,
    ``dz_second`` are second moments (mean squares); ``*_mean`` are means; ``*_std`` standard
    deviations; ``saturated`` is the expected share of saturated units. The backward fields are
    None when no gradient statistics were given.
    """

    z_std: np.ndarray
    z_second: np.ndarray
    h_mean: np.ndarray
    h_second: np.ndarray
    h_std: np.ndarray
    saturated: np.ndarray
    dz_mean: np.ndarray | None = None
    dz_second: np.ndarray | None = None
    dz_std: np.ndarray | None = None
    dw_mean: np.ndarray | None = None
    dw_std: np.ndarray | None = None


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def _leaky_slope(act: Activation) -> float:
    """The negative slope of a leaky ReLU (read off its derivative, so custom slopes work)."""
    return float(np.asarray(act.derivative(np.array([-1.0])))[0])


_SATURATION_KNOWN = ("linear", "tanh", "sigmoid", "relu", "leaky_relu", "selu")


def saturation_region(
    activation: str | Activation, slope_ratio: float = SATURATION_SLOPE_RATIO
) -> tuple[float, float]:
    """The pre-activations at which a unit counts as saturated: ``z <= lo`` or ``z >= hi``.

    A unit is saturated where its slope is below `slope_ratio` times the activation's largest
    slope, ``|f'(z)| < r max|f'|``: there it passes almost no gradient back.

    With the default ``r = sigma'(4) / sigma'(0)``, about 0.0707:

    - linear: never;
    - sigmoid: :math:`|z| \\ge 2\\,\\mathrm{artanh}\\sqrt{1 - r}`, i.e. ``|z| >= 4``;
    - tanh: :math:`|z| \\ge \\mathrm{artanh}\\sqrt{1 - r}`, i.e. ``|z| >= 2``;
    - relu: :math:`z \\le 0` (a dead unit: the slope is 0);
    - leaky_relu: :math:`z \\le 0` if its negative slope ``a < r`` (so for a = 0.01), else never;
    - selu: :math:`z \\le \\ln r \\approx -2.65` (the slope there is
      :math:`\\lambda\\alpha e^z`, largest at :math:`0^-`).

    Parameters
    ----------
    activation : str or Activation
        A name from :data:`weightinit.activations.ACTIVATIONS` (or an Activation with such a name).
    slope_ratio : float, default :data:`SATURATION_SLOPE_RATIO`
        The share ``r`` of the largest slope, in (0, 1).

    Returns
    -------
    (lo, hi) : tuple of float
        ``-inf`` / ``inf`` where that side never saturates.

    Raises
    ------
    ValueError
        For an activation name this function does not know, or `slope_ratio` outside (0, 1).

    Examples
    --------
    >>> saturation_region("tanh")  # doctest: +ELLIPSIS
    (-2.0..., 2.0...)
    >>> saturation_region("relu")
    (0.0, inf)
    """
    act = get_activation(activation)
    r = as_real(slope_ratio, "slope_ratio", minimum=0.0, strict=True)
    if r >= 1.0:
        raise ValueError(f"slope_ratio must be in (0, 1), got {slope_ratio!r}")
    if act.name not in _SATURATION_KNOWN:
        raise ValueError(
            f"saturation_region knows the activations {', '.join(map(repr, ACTIVATIONS))}; "
            f"got {act.name!r}"
        )
    inf = math.inf
    if act.name == "linear":
        return -inf, inf
    if act.name == "tanh":
        t = math.atanh(math.sqrt(1.0 - r))  # tanh'(t) = 1 - tanh(t)^2 = r
        return -t, t
    if act.name == "sigmoid":
        t = 2.0 * math.atanh(math.sqrt(1.0 - r))  # sigma'(z) = tanh'(z / 2) / 4
        return -t, t
    if act.name == "relu":
        return 0.0, inf
    if act.name == "leaky_relu":
        a = abs(_leaky_slope(act))
        return (0.0, inf) if a < r * max(1.0, a) else (-inf, inf)
    return math.log(r), inf  # selu: lambda alpha e^z < r lambda alpha  <=>  z < ln r


def gaussian_moments(activation: str | Activation, q: float) -> tuple[float, float, float, float]:
    """``E[f(z)]``, ``E[f(z)^2]``, ``E[f'(z)]``, ``E[f'(z)^2]`` for :math:`z \\sim N(0, q)`.

    Closed forms for the piecewise-linear activations (``a`` the leaky slope, 0 for ReLU):

    .. math::

        E[f] = (1 - a)\\sqrt{q / 2\\pi}, \\quad E[f^2] = (1 + a^2)\\,q / 2, \\quad
        E[f'] = (1 + a) / 2, \\quad E[f'^2] = (1 + a^2) / 2,

    so ReLU keeps half the second moment, :math:`E[\\mathrm{relu}(z)^2] = q/2` [He15]_; linear
    gives ``(0, q, 1, 1)``. Every other activation is integrated numerically over
    :math:`z = \\sqrt{q}\\,u`, :math:`u \\sim N(0, 1)` (a fixed 512-node rule, see
    ``_quadrature``; about 0.1 ms), the mean-field recursion of [Poole16]_.

    Parameters
    ----------
    activation : str or Activation
    q : float
        The variance of ``z`` (at least 0; 0 gives the values at ``z = 0``).

    Returns
    -------
    tuple of 4 floats
        NaN if `q` is not finite.
    """
    act = get_activation(activation)
    q = float(q)
    if not math.isfinite(q) or q < 0:
        return math.nan, math.nan, math.nan, math.nan
    if act.name == "linear":
        return 0.0, q, 1.0, 1.0
    if act.name in ("relu", "leaky_relu"):
        a = 0.0 if act.name == "relu" else _leaky_slope(act)
        return (
            (1.0 - a) * math.sqrt(q / (2.0 * math.pi)),
            (1.0 + a * a) * q / 2.0,
            (1.0 + a) / 2.0,
            (1.0 + a * a) / 2.0,
        )
    zero = np.zeros(1)
    if q == 0.0:
        f0 = float(np.asarray(act.forward(zero))[0])
        d0 = float(np.asarray(act.derivative(zero))[0])
        return f0, f0 * f0, d0, d0 * d0
    s = math.sqrt(q)
    z = np.concatenate([s * _QUAD_U, -s * _QUAD_U])
    f = np.asarray(act.forward(z), dtype=np.float64)
    d = np.asarray(act.derivative(z), dtype=np.float64)
    w = _QUAD_W
    return float(w @ f), float(w @ (f * f)), float(w @ d), float(w @ (d * d))


def _quadrature(nodes: int = 256, reach: float = 12.0, power: int = 3):
    """Nodes ``u`` and weights ``w`` with ``sum w g(+-u) = E[g(u)]`` for ``u ~ N(0, 1)``.

    Each half-line is cut at ``reach`` standard deviations (the normal density there is
    5e-32) and mapped to ``v`` in [0, 1] by ``u = reach v^power``, which crowds the nodes near
    ``u = 0`` where a kink (SELU) or a steep step (tanh of a large variance) sits; Gauss-Legendre
    in ``v``. Against adaptive quadrature the moments agree to about 1e-14 (relative to their
    scale) for variances from 1e-4 to 1e6.
    """
    x, wx = np.polynomial.legendre.leggauss(nodes)
    v, wv = (x + 1.0) / 2.0, wx / 2.0
    u = reach * v**power
    w = wv * power * reach * v ** (power - 1) * np.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
    return u, np.concatenate([w, w])


_QUAD_U, _QUAD_W = _quadrature()


def variance_factor(
    activation: str | Activation, n: int, var_w: float, direction: str = "forward"
) -> float:
    """The factor by which one layer multiplies the variance: ``n Var(w) E[f'^2]``-style.

    For the positively homogeneous activations the factor is a constant [He15]_:

    - forward, :math:`\\mathrm{Var}(z_{l+1}) = n_l\\,\\mathrm{Var}(w)\\,E[h_l^2]
      = c\\,n_l\\,\\mathrm{Var}(w)\\,\\mathrm{Var}(z_l)` with ``n`` the fan-in;
    - backward, :math:`\\mathrm{Var}(\\partial L/\\partial z_l) = c\\,n_{l+1}\\,\\mathrm{Var}(w)\\,
      \\mathrm{Var}(\\partial L/\\partial z_{l+1})` with ``n`` the fan-out;

    where ``c = 1`` (linear), ``1/2`` (ReLU), ``(1 + a^2)/2`` (leaky ReLU of slope ``a``). So He's
    ``Var(w) = 2/n`` makes the ReLU factor exactly 1, and LeCun's ``1/n`` halves the variance at
    every layer.

    Parameters
    ----------
    activation : {"linear", "relu", "leaky_relu"} or Activation
    n : int
        Fan-in (forward) or fan-out (backward).
    var_w : float
        Variance of the weights (at least 0).
    direction : {"forward", "backward"}
        Which pass; the formula is the same, only the meaning of ``n`` changes.

    Raises
    ------
    ValueError
        For another activation (its factor depends on the variance itself: use
        :func:`gaussian_moments` or :func:`predict`), or invalid numbers.

    Examples
    --------
    >>> variance_factor("relu", 512, 2 / 512)
    1.0
    >>> variance_factor("relu", 512, 1 / 512)
    0.5
    """
    act = get_activation(activation)
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward'; got {direction!r}")
    n = as_positive_int(n, "n")
    var_w = as_real(var_w, "var_w", minimum=0.0)
    if act.name not in ("linear", "relu", "leaky_relu"):
        raise ValueError(
            f"variance_factor is a constant only for 'linear', 'relu' and 'leaky_relu'; for "
            f"{act.name!r} the factor depends on the variance: use gaussian_moments or predict"
        )
    c = gaussian_moments(act, 1.0)[3]  # E[f'^2] = E[f^2] / q for these activations
    return n * var_w * c


def predict(
    activation: str | Activation,
    layer_sizes: Sequence[int],
    weight_var: Sequence[float],
    input_second: float,
    input_mean: float = 0.0,
    *,
    grad_second: float | None = None,
    grad_mean: float = 0.0,
    batch: int | None = None,
    saturation: tuple[float, float] | None = None,
) -> Theory:
    """The theory's per-layer prediction for a network of zero-mean, independent weights.

    Forward [He15]_, [Poole16]_ (``q_l`` the variance of ``z_l``, ``m_0`` the input's mean square):

    .. math::

        q_1 = n_0\\,v_1\\,m_0, \\qquad q_{l+1} = n_l\\,v_{l+1}\\,E[f(z_l)^2],
        \\quad z_l \\sim N(0, q_l),

    which is ``q_{l+1} = n_l v_{l+1} q_l`` for a linear network and ``n_l v_{l+1} q_l / 2`` for
    ReLU. Backward, from ``p_L = E[g^2]`` with ``g = dL/dh_L``, assuming (as He et al. do)
    that the gradient and the forward slope are independent:

    .. math::

        E[(\\partial L/\\partial z_l)^2] = p_l\\,E[f'(z_l)^2], \\qquad
        p_{l-1} = n_l\\,v_l\\,E[(\\partial L/\\partial z_l)^2],

    so the backward factor is ``n_l v_l`` (fan-out) times ``E[f'^2]`` (1 linear, 1/2 ReLU).
    The weight gradient sums ``batch`` products of independent samples:
    :math:`\\mathrm{Var}(\\partial L/\\partial W_l) = B\\,(E[h_{l-1}^2]\\,E[(\\partial L/
    \\partial z_l)^2] - E[h_{l-1}]^2 E[\\partial L/\\partial z_l]^2)`, which assumes the rows of
    ``g`` are independent with mean 0 (the default of :func:`propagate`).

    Parameters
    ----------
    activation : str or Activation
    layer_sizes : sequence of int
        ``(n_0, ..., n_L)``.
    weight_var : sequence of float
        ``(v_1, ..., v_L)``, the variance of each layer's weights.
    input_second, input_mean : float
        Mean square and mean of the input's entries.
    grad_second, grad_mean : float, optional
        Mean square and mean of ``g = dL/dh_L``; without `grad_second` no backward prediction.
    batch : int, optional
        Batch size, needed for the weight gradient.
    saturation : (lo, hi), optional
        Region of :func:`saturation_region`; default: that of the activation (NaN if unknown).

    Returns
    -------
    Theory
    """
    act = get_activation(activation)
    sizes = [as_positive_int(n, "layer_sizes entry") for n in layer_sizes]
    v = [float(x) for x in weight_var]
    depth = len(sizes) - 1
    if depth < 1 or len(v) != depth:
        raise ValueError(
            f"weight_var must have one entry per layer: {depth} layers from layer_sizes, "
            f"got {len(v)} variances"
        )
    if saturation is None:
        known = act.name in _SATURATION_KNOWN
        saturation = saturation_region(act) if known else (math.nan, math.nan)
    lo, hi = saturation
    moments = np.empty((depth, 4))
    q = np.empty(depth)
    prev_second = float(input_second)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(depth):
            q[i] = sizes[i] * v[i] * prev_second
            moments[i] = gaussian_moments(act, q[i])
            prev_second = moments[i, 1]
        s = np.sqrt(q)
        if math.isnan(lo):
            sat = np.full(depth, math.nan)
        else:
            # P(z <= lo) + P(z >= hi) for z ~ N(0, q); a zero variance puts z at 0.
            with np.errstate(divide="ignore"):
                below = ndtr(lo / s) if lo > -math.inf else np.zeros(depth)
                above = ndtr(-hi / s) if hi < math.inf else np.zeros(depth)
            sat = np.where(s > 0, below + above, float(lo >= 0.0 or hi <= 0.0))
        h_mean, h_second = moments[:, 0], moments[:, 1]
        h_std = np.sqrt(np.maximum(h_second - h_mean**2, 0.0))
        theory = {
            "z_std": s,
            "z_second": q.copy(),
            "h_mean": h_mean.copy(),
            "h_second": h_second.copy(),
            "h_std": h_std,
            "saturated": sat,
        }
        if grad_second is not None:
            dz_second = np.empty(depth)
            dz_mean = np.zeros(depth)
            p = float(grad_second)
            for i in range(depth - 1, -1, -1):
                dz_second[i] = p * moments[i, 3]
                if i == depth - 1:
                    dz_mean[i] = float(grad_mean) * moments[i, 2]
                p = sizes[i + 1] * v[i] * dz_second[i]
            dz_std = np.sqrt(np.maximum(dz_second - dz_mean**2, 0.0))
            prev_mean = np.concatenate([[float(input_mean)], h_mean[:-1]])
            prev_second = np.concatenate([[float(input_second)], h_second[:-1]])
            if batch is None:
                dw_std = np.full(depth, math.nan)
                dw_mean = np.full(depth, math.nan)
            else:
                b = as_positive_int(batch, "batch")
                var = b * (prev_second * dz_second - (prev_mean * dz_mean) ** 2)
                dw_std = np.sqrt(np.maximum(var, 0.0))
                dw_mean = b * prev_mean * dz_mean
            theory.update(
                dz_mean=dz_mean, dz_second=dz_second, dz_std=dz_std, dw_mean=dw_mean, dw_std=dw_std
            )
    return Theory(**theory)
