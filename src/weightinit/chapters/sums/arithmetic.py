"""Sums of products: the arithmetic behind ``Var(w) = 1/n``, measured and predicted.

A unit of a dense layer computes the pre-activation

.. math::

    z = \\sum_{i=1}^{n} w_i x_i ,

and almost every rule of weight initialization is a statement about the spread of this sum.
This module holds the computations that the chapters "Why Var(w) = 1/n" and "Signs,
cancellations and products of small numbers" state numbers from, each next to its formula:

- theory: :func:`product_variance`, :func:`preactivation_variance`, :func:`product_kurtosis`,
  :func:`sum_kurtosis`, the exact densities :func:`product_normal_pdf` and
  :func:`preactivation_pdf` (with their CDFs), :func:`normal_tail_probability`,
  :func:`sigmoid_derivative_cutoff`, :func:`unit_variance_moments`,
  :func:`linear_network_theory`, :func:`relu_gradient_theory`;
- measurement: :func:`sample_preactivations`, :func:`saturated_fraction`,
  :func:`equicorrelated_inputs`, :func:`unit_variances`, :func:`normal_weights`,
  :func:`linear_network_variances`, :func:`backward_pass`, :func:`gradient_stds`.

Conventions follow ``DESIGN.md``: a weight matrix has shape ``(fan_in, fan_out)`` and acts as
``x @ W`` on a batch ``x`` of shape ``(batch, fan_in)``; randomness comes only from an ``rng``
argument, normalised with :func:`numpy.random.default_rng`.

References
----------
.. [LeCun98] Y. LeCun, L. Bottou, G. B. Orr, K.-R. Müller, "Efficient BackProp", in *Neural
   Networks: Tricks of the Trade*, Springer, 1998.
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
   human-level performance on ImageNet classification", ICCV 2015.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import integrate, special

from ..._validate import as_generator, as_positive_int, as_real
from ...activations import get_activation

__all__ = [
    "NORMAL_KURTOSIS",
    "SIGMOID_DERIVATIVE_MAX",
    "product_variance",
    "preactivation_variance",
    "sample_preactivations",
    "product_kurtosis",
    "sum_kurtosis",
    "product_normal_pdf",
    "product_normal_cdf",
    "preactivation_pdf",
    "preactivation_cdf",
    "normal_tail_probability",
    "saturated_fraction",
    "sigmoid_derivative_cutoff",
    "equicorrelated_covariance",
    "equicorrelated_inputs",
    "unit_variances",
    "unit_variance_moments",
    "normal_weights",
    "linear_network_variances",
    "linear_network_theory",
    "backward_pass",
    "gradient_stds",
    "relu_gradient_theory",
]

#: Kurtosis ``E[x^4] / E[x^2]^2`` of a zero-mean normal distribution.
NORMAL_KURTOSIS = 3.0

#: The largest value of the sigmoid's derivative, reached at ``z = 0``: ``sigma(0) (1 - sigma(0))``.
SIGMOID_DERIVATIVE_MAX = 0.25

# Largest number of products drawn at once by sample_preactivations (bounds the memory used).
_CHUNK_PRODUCTS = 1 << 21


def _probability(value: object, name: str, *, low: float, high: float) -> float:
    value = as_real(value, name)
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}], got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# One product, and a sum of n of them: variance and shape
# --------------------------------------------------------------------------------------------


def product_variance(var_w: float, var_x: float, mean_w: float = 0.0, mean_x: float = 0.0) -> float:
    """Variance of the product ``w * x`` of two independent random variables.

    .. math::

        \\mathrm{Var}(wx) = E[w^2]E[x^2] - (E[w]E[x])^2
        = \\mathrm{Var}(w)\\mathrm{Var}(x) + \\mathrm{Var}(w)E[x]^2 + \\mathrm{Var}(x)E[w]^2 .

    Parameters
    ----------
    var_w, var_x : float
        Variances of ``w`` and ``x`` (at least 0).
    mean_w, mean_x : float, default 0.0
        Means of ``w`` and ``x``.

    Returns
    -------
    float
        With both means zero this is ``var_w * var_x``: the product of the variances.

    Raises
    ------
    ValueError
        For a negative or non-finite variance or a non-finite mean.

    Examples
    --------
    >>> product_variance(0.01, 1.0)
    0.01
    >>> product_variance(0.01, 1.0, mean_x=2.0)  # 0.01 * 1 + 0.01 * 4
    0.05
    """
    var_w = as_real(var_w, "var_w", minimum=0.0)
    var_x = as_real(var_x, "var_x", minimum=0.0)
    mean_w = as_real(mean_w, "mean_w")
    mean_x = as_real(mean_x, "mean_x")
    return var_w * var_x + var_w * mean_x**2 + var_x * mean_w**2


def preactivation_variance(n: int, var_w: float, var_x: float, mean_x: float = 0.0) -> float:
    """Variance of ``z = sum_{i=1}^n w_i x_i`` with zero-mean weights independent of the inputs.

    .. math::

        \\mathrm{Var}(z) = n\\,\\mathrm{Var}(w)\\,\\bigl(\\mathrm{Var}(x) + E[x]^2\\bigr)
        = n\\,\\mathrm{Var}(w)\\,E[x^2] .

    The ``w_i`` are independent with mean 0 and variance `var_w`, independent of the inputs;
    the inputs have variance `var_x` and mean `mean_x`. Because the weights have mean 0 the
    ``n`` terms are uncorrelated, so their variances add, and each is
    :func:`product_variance` ``(var_w, var_x, 0, mean_x)``. The result holds whatever the
    correlation among the inputs (the cross terms carry a factor ``E[w_i w_j] = 0``). With
    ``mean_x = 0`` it is the familiar ``n Var(w) Var(x)`` [LeCun98]_ [Glorot10]_ [He15]_.

    Parameters
    ----------
    n : int
        Number of terms (the layer's fan-in), positive.
    var_w : float
        Variance of each weight, at least 0.
    var_x : float
        Variance of each input, at least 0.
    mean_x : float, default 0.0
        Mean of each input.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a non-positive or non-integer `n`, a negative variance, or a non-finite value.

    References
    ----------
    .. [LeCun98] Y. LeCun et al., "Efficient BackProp", 1998.
    .. [Glorot10] X. Glorot, Y. Bengio, AISTATS 2010.
    .. [He15] K. He et al., "Delving deep into rectifiers", ICCV 2015.

    Examples
    --------
    >>> preactivation_variance(100, 1 / 100, 1.0)
    1.0
    >>> preactivation_variance(100, 1 / 100, 1.0, mean_x=1.0)
    2.0
    """
    n = as_positive_int(n, "n")
    return n * product_variance(var_w, var_x, 0.0, mean_x)


def sample_preactivations(
    n: int,
    var_w: float,
    var_x: float,
    trials: int,
    rng: np.random.Generator | int | None = None,
    *,
    mean_x: float = 0.0,
) -> np.ndarray:
    """Monte Carlo draws of ``z = sum_{i=1}^n w_i x_i``, fresh weights and inputs each trial.

    Each trial draws ``w_i ~ N(0, var_w)`` and ``x_i ~ N(mean_x, var_x)``, all independent,
    and returns their dot product. The sample variance estimates
    :func:`preactivation_variance`; with ``mean_x = 0`` the exact distribution is
    :func:`preactivation_cdf`.

    Parameters
    ----------
    n : int
        Number of products in each sum.
    var_w, var_x : float
        Variances of the weights and the inputs (at least 0).
    trials : int
        Number of sums to draw.
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.
    mean_x : float, default 0.0
        Mean of the inputs.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(trials,)``.

    Raises
    ------
    ValueError
        For a non-positive `n` or `trials`, a negative variance, or an invalid `rng`.

    Examples
    --------
    >>> z = sample_preactivations(100, 1 / 100, 1.0, trials=5, rng=0)
    >>> z.shape, z.dtype
    ((5,), dtype('float64'))
    """
    n = as_positive_int(n, "n")
    trials = as_positive_int(trials, "trials")
    std_w = math.sqrt(as_real(var_w, "var_w", minimum=0.0))
    std_x = math.sqrt(as_real(var_x, "var_x", minimum=0.0))
    mean_x = as_real(mean_x, "mean_x")
    gen = as_generator(rng)
    rows = max(1, _CHUNK_PRODUCTS // n)
    out = np.empty(trials, dtype=np.float64)
    for start in range(0, trials, rows):
        m = min(rows, trials - start)
        w = gen.normal(0.0, std_w, size=(m, n))
        x = gen.normal(mean_x, std_x, size=(m, n))
        out[start : start + m] = np.einsum("ij,ij->i", w, x)
    return out


def product_kurtosis(
    kurtosis_w: float = NORMAL_KURTOSIS, kurtosis_x: float = NORMAL_KURTOSIS
) -> float:
    """Kurtosis ``E[u^4] / E[u^2]^2`` of ``u = w x`` for independent, zero-mean ``w`` and ``x``.

    Independence factorises both moments, ``E[u^4] = E[w^4] E[x^4]`` and
    ``E[u^2] = E[w^2] E[x^2]``, so the kurtosis of the product is the product of the kurtoses:

    .. math::

        \\kappa(wx) = \\kappa(w)\\,\\kappa(x), \\qquad \\kappa(\\text{normal}) = 3
        \\;\\Rightarrow\\; \\kappa(wx) = 9 .

    Parameters
    ----------
    kurtosis_w, kurtosis_x : float, default 3.0
        Kurtoses of the two factors (at least 1, the smallest kurtosis any distribution has).

    Returns
    -------
    float

    Examples
    --------
    >>> product_kurtosis()
    9.0
    >>> product_kurtosis(9 / 5, 3.0)  # a uniform weight times a normal input
    5.4
    """
    kw = as_real(kurtosis_w, "kurtosis_w", minimum=1.0)
    kx = as_real(kurtosis_x, "kurtosis_x", minimum=1.0)
    return kw * kx


def sum_kurtosis(n: int, term_kurtosis: float) -> float:
    """Kurtosis of a sum of ``n`` independent, identically distributed, zero-mean terms.

    The excess kurtosis ``kappa - 3`` of a sum of ``n`` i.i.d. terms is the terms' excess
    divided by ``n`` (fourth cumulants add, and so do variances):

    .. math::

        \\kappa\\Bigl(\\sum_{i=1}^n u_i\\Bigr) = 3 + \\frac{\\kappa(u) - 3}{n} .

    For products of normals (``kappa = 9``) this is ``3 + 6/n``: 9 for one product, 6 (a
    Laplace distribution) for two, and it approaches the normal's 3 as ``n`` grows.

    Examples
    --------
    >>> sum_kurtosis(1, 9.0), sum_kurtosis(2, 9.0), sum_kurtosis(100, 9.0)
    (9.0, 6.0, 3.06)
    """
    n = as_positive_int(n, "n")
    k = as_real(term_kurtosis, "term_kurtosis", minimum=1.0)
    return 3.0 + (k - 3.0) / n


def _check_stds(s1: float, s2: float) -> float:
    s1 = as_real(s1, "s1", minimum=0.0, strict=True)
    s2 = as_real(s2, "s2", minimum=0.0, strict=True)
    return s1 * s2


def product_normal_pdf(u: np.ndarray | float, s1: float, s2: float) -> np.ndarray:
    """Density of ``u = w x`` with ``w ~ N(0, s1^2)`` and ``x ~ N(0, s2^2)`` independent.

    .. math::

        p(u) = \\frac{K_0\\bigl(|u| / (s_1 s_2)\\bigr)}{\\pi\\, s_1 s_2},

    with :math:`K_0` the modified Bessel function of the second kind of order 0. The density
    is infinite at ``u = 0`` (a logarithmic peak) and its tails fall like
    :math:`e^{-|u|/(s_1 s_2)}`, far more slowly than a normal's: the product is peaked and
    heavy-tailed, with kurtosis 9 (:func:`product_kurtosis`). It is :func:`preactivation_pdf`
    with ``n = 1``.

    Parameters
    ----------
    u : array_like
        Points at which to evaluate the density.
    s1, s2 : float
        Standard deviations of the two factors (positive).

    Returns
    -------
    numpy.ndarray
        float64 array shaped like `u` (``inf`` where ``u == 0``).

    Examples
    --------
    >>> round(float(product_normal_pdf(1.0, 1.0, 1.0)), 5)  # K0(1) / pi
    0.13402
    """
    s = _check_stds(s1, s2)
    u = np.abs(np.asarray(u, dtype=np.float64))
    with np.errstate(divide="ignore"):
        return special.k0(u / s) / (math.pi * s)


def product_normal_cdf(u: np.ndarray | float, s1: float, s2: float) -> np.ndarray:
    """Distribution function of ``u = w x`` (see :func:`product_normal_pdf`).

    .. math::

        F(u) = \\tfrac12 + \\frac{\\operatorname{sign}(u)}{\\pi}
        \\int_0^{|u|/(s_1 s_2)} K_0(t)\\,dt ,

    using :func:`scipy.special.iti0k0` for the integral (which tends to :math:`\\pi/2`).
    """
    s = _check_stds(s1, s2)
    u = np.asarray(u, dtype=np.float64)
    _, ik0 = special.iti0k0(np.abs(u) / s)
    return 0.5 + np.sign(u) * ik0 / math.pi


def _vg_scale(n: int, var_w: float, var_x: float) -> tuple[int, float]:
    n = as_positive_int(n, "n")
    var_w = as_real(var_w, "var_w", minimum=0.0, strict=True)
    var_x = as_real(var_x, "var_x", minimum=0.0, strict=True)
    return n, math.sqrt(var_w * var_x)


def _log_kv(nu: float, y: np.ndarray) -> np.ndarray:
    """``log K_nu(y)`` for ``y > 0``, also where ``K_nu(y)`` overflows a float (large ``nu``).

    Uses ``scipy.special.kve`` where it is finite and positive; elsewhere Debye's uniform
    asymptotic expansion (Abramowitz & Stegun 9.7.8, DLMF 10.41.4) with three correction terms,
    ``t = y / nu``, ``s = sqrt(1 + t^2)``, ``p = 1 / s``, ``eta = s + log(t / (1 + s))``:
    ``K_nu(nu t) ~ sqrt(pi / (2 nu)) e^{-nu eta} / sqrt(s) * (1 - u1(p)/nu + u2(p)/nu^2 - ...)``,
    relative error of order ``nu^-4`` (kve overflows only for ``nu`` in the hundreds).
    """
    y = np.asarray(y, dtype=np.float64)
    shape = y.shape
    y = y.reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        direct = np.log(special.kve(nu, y)) - y
    bad = ~np.isfinite(direct) & (y > 0)
    if np.any(bad) and nu > 0:
        t = y[bad] / nu
        sq = np.sqrt(1.0 + t * t)
        p = 1.0 / sq
        eta = sq + np.log(t / (1.0 + sq))
        u1 = (3 * p - 5 * p**3) / 24
        u2 = (81 * p**2 - 462 * p**4 + 385 * p**6) / 1152
        u3 = (30375 * p**3 - 369603 * p**5 + 765765 * p**7 - 425425 * p**9) / 414720
        series = 1.0 - u1 / nu + u2 / nu**2 - u3 / nu**3
        direct[bad] = (
            0.5 * math.log(math.pi / (2.0 * nu)) - nu * eta - 0.5 * np.log(sq) + np.log(series)
        )
    return direct.reshape(shape)


def preactivation_pdf(z: np.ndarray | float, n: int, var_w: float, var_x: float) -> np.ndarray:
    """Exact density of ``z = sum_{i=1}^n w_i x_i`` for independent ``w_i ~ N(0, var_w)``,
    ``x_i ~ N(0, var_x)``: a symmetric variance-gamma distribution.

    With :math:`s = \\sqrt{\\mathrm{Var}(w)\\mathrm{Var}(x)}` (the standard deviation of one
    product) and :math:`\\nu = (n - 1)/2`,

    .. math::

        p(z) = \\frac{|z|^{\\nu} K_{\\nu}(|z|/s)}
        {\\sqrt{\\pi}\\,\\Gamma(n/2)\\, 2^{\\nu} s^{\\nu + 1}} .

    One product has characteristic function :math:`(1 + s^2 t^2)^{-1/2}`, so the sum has
    :math:`(1 + s^2 t^2)^{-n/2}`: for ``n = 1`` this is :func:`product_normal_pdf`, for
    ``n = 2`` a Laplace density :math:`e^{-|z|/s} / (2 s)`, and as ``n`` grows it approaches
    :math:`N(0, n s^2)` (the central limit theorem).

    Parameters
    ----------
    z : array_like
        Points at which to evaluate the density.
    n : int
        Number of products.
    var_w, var_x : float
        Variances of the weights and the inputs (positive).

    Returns
    -------
    numpy.ndarray
        float64 array shaped like `z` (``inf`` at ``z = 0`` when ``n = 1``).
    """
    n, s = _vg_scale(n, var_w, var_x)
    z = np.abs(np.asarray(z, dtype=np.float64))
    nu = (n - 1) / 2.0
    y = z / s
    log_norm = 0.5 * math.log(math.pi) + special.gammaln(n / 2.0) + nu * math.log(2.0) + math.log(s)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # |z|^nu K_nu(y) / s^nu = y^nu K_nu(y), computed as a log (K_nu overflows for large nu).
        log_p = nu * np.log(y) + _log_kv(nu, y) - log_norm
        p = np.exp(log_p)
    if nu > 0:
        # y^nu K_nu(y) -> Gamma(nu) 2^(nu - 1) as y -> 0: the finite peak for n >= 2.
        peak = math.exp(special.gammaln(nu) + (nu - 1.0) * math.log(2.0) - log_norm)
        p = np.where(y < 1e-8, peak, p)
    else:
        p = np.where(y == 0.0, np.inf, p)
    return p


def preactivation_cdf(z: np.ndarray | float, n: int, var_w: float, var_x: float) -> np.ndarray:
    """Exact distribution function of ``z = sum_{i=1}^n w_i x_i`` (see :func:`preactivation_pdf`).

    A product of two independent zero-mean normals is a difference of two independent
    gamma variables: ``w x = s (P^2 - Q^2) / 2`` with ``P, Q`` independent standard normals,
    and ``P^2 / 2 ~ Gamma(1/2)``. A sum of ``n`` products is therefore ``s (G_1 - G_2)`` with
    ``G_1, G_2`` independent ``Gamma(n/2)``, and for ``z >= 0``

    .. math::

        F(z) = P\\bigl(G_1 \\le z/s + G_2\\bigr)
        = \\int_0^1 P_{n/2}\\bigl(z/s + Q_{n/2}(u)\\bigr)\\,du ,

    with :math:`P_{k}` the regularised lower incomplete gamma function and :math:`Q_k` its
    inverse; ``F(-z) = 1 - F(z)``. The integral is evaluated by adaptive quadrature
    (:func:`scipy.integrate.quad_vec`, absolute error below about 1e-9); ``n = 1`` uses the
    closed form :func:`product_normal_cdf`.
    """
    n, s = _vg_scale(n, var_w, var_x)
    z = np.asarray(z, dtype=np.float64)
    if n == 1:
        return product_normal_cdf(z, math.sqrt(var_w), math.sqrt(var_x))
    k = n / 2.0
    d = np.abs(z).ravel() / s

    def integrand(u: float) -> np.ndarray:
        return special.gammainc(k, d + special.gammaincinv(k, u))

    upper, _ = integrate.quad_vec(integrand, 0.0, 1.0, epsabs=1e-10, epsrel=1e-10)
    upper = upper.reshape(z.shape)
    return np.where(z >= 0, upper, 1.0 - upper)


def normal_tail_probability(t: float, std: float) -> float:
    """Probability that a zero-mean normal with standard deviation `std` exceeds `t` in size.

    .. math::

        P(|z| > t) = \\operatorname{erfc}\\Bigl(\\frac{t}{\\sqrt{2}\\,\\sigma}\\Bigr),
        \\qquad z \\sim N(0, \\sigma^2).

    For a sum of ``n`` terms each of standard deviation ``s`` use ``std = sqrt(n) * s``: by
    the central limit theorem the sum is nearly normal (exactly so for normal terms).

    Examples
    --------
    >>> round(normal_tail_probability(1.96, 1.0), 4)
    0.05
    """
    t = as_real(t, "t", minimum=0.0)
    std = as_real(std, "std", minimum=0.0, strict=True)
    return float(special.erfc(t / (math.sqrt(2.0) * std)))


def saturated_fraction(z: np.ndarray, threshold: float = 4.0) -> float:
    """Share of pre-activations with ``|z| > threshold`` (default 4: where the sigmoid is flat).

    Beyond ``|z| = 4`` the sigmoid's derivative is below 0.018 (about 7% of its largest value
    1/4), so such units pass almost no gradient back.

    Raises
    ------
    ValueError
        For an empty `z`, a NaN in it, or a negative threshold.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.size == 0:
        raise ValueError("z must contain at least one value, got an empty array")
    if np.isnan(z).any():
        raise ValueError("z must not contain NaN")
    threshold = as_real(threshold, "threshold", minimum=0.0)
    return float(np.mean(np.abs(z) > threshold))


def sigmoid_derivative_cutoff(level: float) -> float:
    """The ``|z|`` beyond which the sigmoid's derivative is below `level`.

    :math:`\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))` falls from its maximum 1/4 at ``z = 0``
    on both sides. Solving :math:`\\sigma(1 - \\sigma) = L` gives
    :math:`\\sigma = (1 + r)/2` with :math:`r = \\sqrt{1 - 4L}`, so

    .. math::

        |z| = \\log\\frac{1 + r}{1 - r} = 2 \\operatorname{artanh}\\sqrt{1 - 4L} .

    Parameters
    ----------
    level : float
        In ``(0, 1/4]``; ``level = 1/4`` gives 0.

    Examples
    --------
    >>> round(sigmoid_derivative_cutoff(0.01), 3)
    4.585
    """
    level = as_real(level, "level", minimum=0.0, strict=True)
    if level > SIGMOID_DERIVATIVE_MAX:
        raise ValueError(
            f"level must be at most {SIGMOID_DERIVATIVE_MAX} (the sigmoid derivative's maximum), "
            f"got {level!r}"
        )
    return 2.0 * math.atanh(math.sqrt(1.0 - 4.0 * level))


# --------------------------------------------------------------------------------------------
# Correlated inputs: the variance over the weights, and the variance across inputs per unit
# --------------------------------------------------------------------------------------------


def equicorrelated_covariance(n: int, rho: float, var_x: float = 1.0) -> np.ndarray:
    """Covariance matrix of ``n`` inputs of variance `var_x` with pairwise correlation `rho`.

    .. math::

        \\Sigma = \\mathrm{Var}(x)\\bigl((1 - \\rho) I + \\rho \\mathbf 1 \\mathbf 1^\\top\\bigr),

    with eigenvalues :math:`\\mathrm{Var}(x)(1 + (n-1)\\rho)` once and
    :math:`\\mathrm{Var}(x)(1 - \\rho)` ``n - 1`` times; `rho` in ``[0, 1]``.
    """
    n = as_positive_int(n, "n")
    rho = _probability(rho, "rho", low=0.0, high=1.0)
    var_x = as_real(var_x, "var_x", minimum=0.0)
    return var_x * ((1.0 - rho) * np.eye(n) + rho * np.ones((n, n)))


def equicorrelated_inputs(
    batch: int,
    n: int,
    rho: float,
    rng: np.random.Generator | int | None = None,
    *,
    var_x: float = 1.0,
    mean_x: float = 0.0,
) -> np.ndarray:
    """A batch of normal inputs whose ``n`` features have pairwise correlation `rho`.

    Each row is

    .. math::

        x = \\mu + \\sqrt{\\mathrm{Var}(x)}\\,
        \\bigl(\\sqrt{1-\\rho}\\,e + \\sqrt{\\rho}\\,c\\,\\mathbf 1\\bigr)

    with ``e`` a vector of ``n`` independent standard normals and ``c`` one standard normal
    shared by all features of the row: every feature has variance `var_x`, every pair
    covariance ``rho * var_x`` (:func:`equicorrelated_covariance`). ``rho = 1`` makes all
    features of a row equal.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(batch, n)``.
    """
    batch = as_positive_int(batch, "batch")
    n = as_positive_int(n, "n")
    rho = _probability(rho, "rho", low=0.0, high=1.0)
    sd = math.sqrt(as_real(var_x, "var_x", minimum=0.0))
    mean_x = as_real(mean_x, "mean_x")
    gen = as_generator(rng)
    e = gen.standard_normal((batch, n))
    c = gen.standard_normal((batch, 1))
    return mean_x + sd * (math.sqrt(1.0 - rho) * e + math.sqrt(rho) * c)


def unit_variances(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Variance of each unit's pre-activation across the inputs of a batch, weights held fixed.

    ``np.var(x @ weights, axis=0)``: one number per unit (column of `weights`). For one unit
    with weight vector ``w`` and inputs of covariance ``Sigma`` its expectation over the inputs
    is :math:`w^\\top \\Sigma w`.
    """
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 2 or weights.ndim != 2 or x.shape[1] != weights.shape[0]:
        raise ValueError(
            f"x must be (batch, n) and weights (n, units); got {x.shape} and {weights.shape}"
        )
    return np.var(x @ weights, axis=0)


def unit_variance_moments(
    n: int, rho: float, var_w: float, var_x: float = 1.0
) -> tuple[float, float]:
    """Mean and standard deviation, across units, of each unit's variance over the inputs.

    A unit with weights ``w ~ N(0, var_w I)`` (independent of the inputs) and inputs of
    covariance ``Sigma`` (:func:`equicorrelated_covariance`) has variance over the inputs
    :math:`V = w^\\top \\Sigma w = \\mathrm{Var}(w) \\sum_k \\lambda_k \\chi^2_{1,k}`, with
    :math:`\\lambda_k` the eigenvalues of :math:`\\Sigma`. Hence

    .. math::

        E[V] = \\mathrm{Var}(w)\\,\\mathrm{tr}\\,\\Sigma = n\\,\\mathrm{Var}(w)\\,\\mathrm{Var}(x),
        \\qquad
        \\mathrm{sd}(V) = \\mathrm{Var}(w)\\sqrt{2\\,\\mathrm{tr}(\\Sigma^2)},

    with :math:`\\mathrm{tr}(\\Sigma^2) = \\mathrm{Var}(x)^2\\bigl((1 + (n-1)\\rho)^2 +
    (n-1)(1-\\rho)^2\\bigr)`. The mean does not depend on `rho`: correlated inputs do not
    change the variance on average over the weights. The spread does: relative to the mean
    it is :math:`\\sqrt{2/n}` for ``rho = 0`` and :math:`\\sqrt 2` for ``rho = 1``, where
    every unit sees ``Var(x) (sum_i w_i)^2``.

    Returns
    -------
    mean, std : float
    """
    n = as_positive_int(n, "n")
    rho = _probability(rho, "rho", low=0.0, high=1.0)
    var_w = as_real(var_w, "var_w", minimum=0.0)
    var_x = as_real(var_x, "var_x", minimum=0.0)
    trace_sq = var_x**2 * ((1.0 + (n - 1) * rho) ** 2 + (n - 1) * (1.0 - rho) ** 2)
    return n * var_w * var_x, var_w * math.sqrt(2.0 * trace_sq)


# --------------------------------------------------------------------------------------------
# Deep networks: a linear stack (forward) and a ReLU stack (backward)
# --------------------------------------------------------------------------------------------


def normal_weights(
    n: int, depth: int, var_w: float, rng: np.random.Generator | int | None = None
) -> list[np.ndarray]:
    """`depth` square matrices of shape ``(n, n)`` with independent ``N(0, var_w)`` entries."""
    n = as_positive_int(n, "n")
    depth = as_positive_int(depth, "depth")
    std = math.sqrt(as_real(var_w, "var_w", minimum=0.0))
    gen = as_generator(rng)
    return [gen.normal(0.0, std, size=(n, n)) for _ in range(depth)]


def _check_chain(x: np.ndarray, weights: Sequence[np.ndarray]) -> tuple[np.ndarray, list]:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D batch of shape (batch, n), got shape {x.shape}")
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    if not weights:
        raise ValueError("weights must hold at least one matrix, got an empty sequence")
    width = x.shape[1]
    for i, w in enumerate(weights, start=1):
        if w.ndim != 2 or w.shape[0] != width:
            raise ValueError(
                f"weights[{i - 1}] must have shape ({width}, units) to follow a layer of width "
                f"{width}, got {w.shape}"
            )
        width = w.shape[1]
    return x, weights


def linear_network_variances(x: np.ndarray, weights: Sequence[np.ndarray]) -> np.ndarray:
    """Measured variance of each layer's output in a deep linear network ``h_l = h_{l-1} W_l``.

    Starting from ``h_0 = x``, returns ``[mean(h_1**2), ..., mean(h_L**2)]`` (over the batch
    and the units). With zero-mean weights every ``h_l`` has mean 0, so the mean square is the
    variance (estimated with its known mean, as ``weightinit.stats`` does).
    """
    h, weights = _check_chain(x, weights)
    out = np.empty(len(weights))
    for i, w in enumerate(weights):
        h = h @ w
        out[i] = np.mean(h**2)
    return out


def linear_network_theory(n: int, var_w: float, depth: int, var_x: float = 1.0) -> np.ndarray:
    """Predicted variance after each layer of a deep linear network of width ``n``.

    Each layer multiplies the variance by :math:`n\\,\\mathrm{Var}(w)`
    (:func:`preactivation_variance` with zero-mean inputs), so after ``l`` layers

    .. math::

        \\mathrm{Var}(h_l) = \\bigl(n\\,\\mathrm{Var}(w)\\bigr)^{l}\\,\\mathrm{Var}(x),
        \\qquad l = 1, \\dots, L :

    constant only when :math:`n\\,\\mathrm{Var}(w) = 1`, otherwise exponential in depth.

    Returns
    -------
    numpy.ndarray
        Shape ``(depth,)``: the predictions for layers ``1..depth``.
    """
    n = as_positive_int(n, "n")
    depth = as_positive_int(depth, "depth")
    var_w = as_real(var_w, "var_w", minimum=0.0)
    var_x = as_real(var_x, "var_x", minimum=0.0)
    return var_x * (n * var_w) ** np.arange(1, depth + 1, dtype=np.float64)


def backward_pass(
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    grad_output: np.ndarray,
    activation: str = "relu",
) -> list[np.ndarray]:
    """Gradients with respect to each layer's pre-activation, by the chain rule.

    Forward, with ``h_0 = x``: ``z_l = h_{l-1} @ W_l`` and ``h_l = f(z_l)`` (no biases).
    Backward, from ``dL/dh_L = grad_output``:

    .. math::

        \\frac{\\partial L}{\\partial z_l} = \\frac{\\partial L}{\\partial h_l} \\odot f'(z_l),
        \\qquad
        \\frac{\\partial L}{\\partial h_{l-1}} = \\frac{\\partial L}{\\partial z_l} W_l^\\top .

    Every step multiplies by a weight matrix as well as by the derivative ``f'``: even where
    ``f'`` is 0 or 1 (ReLU), the weights alone can make the gradient grow or shrink.

    Parameters
    ----------
    x : numpy.ndarray
        Input batch, shape ``(batch, n_0)``.
    weights : sequence of numpy.ndarray
        ``W_1, ..., W_L`` with ``W_l`` of shape ``(n_{l-1}, n_l)``.
    grad_output : numpy.ndarray
        ``dL/dh_L``, shape ``(batch, n_L)``.
    activation : str, default "relu"
        A name known to :func:`weightinit.activations.get_activation`.

    Returns
    -------
    list of numpy.ndarray
        ``[dL/dz_1, ..., dL/dz_L]``.
    """
    h, weights = _check_chain(x, weights)
    act = get_activation(activation)
    grad = np.asarray(grad_output, dtype=np.float64)
    expected = (h.shape[0], weights[-1].shape[1])
    if grad.shape != expected:
        raise ValueError(f"grad_output must have shape {expected}, got {grad.shape}")
    zs = []
    for w in weights:
        z = h @ w
        zs.append(z)
        h = act.forward(z)
    grads: list[np.ndarray] = [np.empty(0)] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        dz = grad * act.derivative(zs[i])
        grads[i] = dz
        grad = dz @ weights[i].T
    return grads


def gradient_stds(
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    grad_output: np.ndarray,
    activation: str = "relu",
) -> np.ndarray:
    """``[std(dL/dz_1), ..., std(dL/dz_L)]`` from :func:`backward_pass` (root mean square,
    the gradients having mean 0)."""
    grads = backward_pass(x, weights, grad_output, activation)
    return np.array([math.sqrt(float(np.mean(g**2))) for g in grads])


def relu_gradient_theory(n: int, var_w: float, depth: int, grad_var: float = 1.0) -> np.ndarray:
    """Predicted ``std(dL/dz_l)``, ``l = 1..depth``, in a ReLU network of width ``n`` [He15]_.

    ReLU passes half of the gradient's entries (``f' = 1`` on half of a symmetric ``z``), so
    ``Var(dL/dz_L) = grad_var / 2``; one step back multiplies by the weights
    (``n Var(w)``, the fan-out) and by ReLU's half again:

    .. math::

        \\mathrm{Var}\\Bigl(\\frac{\\partial L}{\\partial z_{l-1}}\\Bigr)
        = \\frac{n\\,\\mathrm{Var}(w)}{2}\\,
        \\mathrm{Var}\\Bigl(\\frac{\\partial L}{\\partial z_{l}}\\Bigr)
        \\;\\Rightarrow\\;
        \\mathrm{sd}\\Bigl(\\frac{\\partial L}{\\partial z_{l}}\\Bigr)
        = \\sqrt{\\tfrac{\\text{grad\\_var}}{2}}\\,
        \\Bigl(\\frac{n\\,\\mathrm{Var}(w)}{2}\\Bigr)^{(L - l)/2} .

    He's ``Var(w) = 2/n`` makes the factor 1; anything larger explodes exponentially in depth,
    anything smaller vanishes. As in [He15]_, the gradient is treated as independent of the
    forward pass's ReLU pattern: the prediction is an average over weight draws, around which
    a single finite network wanders by a factor that grows with depth / width.

    References
    ----------
    .. [He15] K. He et al., "Delving deep into rectifiers", ICCV 2015, Section 2.2.
    """
    n = as_positive_int(n, "n")
    depth = as_positive_int(depth, "depth")
    var_w = as_real(var_w, "var_w", minimum=0.0)
    grad_var = as_real(grad_var, "grad_var", minimum=0.0)
    steps_back = depth - np.arange(1, depth + 1, dtype=np.float64)
    return math.sqrt(grad_var / 2.0) * (n * var_w / 2.0) ** (steps_back / 2.0)
