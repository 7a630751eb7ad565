"""What multiplying by a constant does to a distribution, and what a non-zero input mean does to
a layer: the numbers behind "why ``randn * sqrt(2/n)``" and "what if the mean were 99?".

Two facts carry most of it. For a constant :math:`k` and any random variable :math:`X`,

.. math::

    E[kX] = k\\,E[X], \\qquad \\mathrm{sd}(kX) = |k|\\,\\mathrm{sd}(X), \\qquad
    \\mathrm{Var}(kX) = k^2\\,\\mathrm{Var}(X),

so ``randn * c`` has standard deviation ``c`` and variance ``c**2``. And for a pre-activation
:math:`z = \\sum_{i=1}^n w_i x_i` with zero-mean weights independent of the inputs,

.. math::

    \\mathrm{Var}(z) = n\\,\\mathrm{Var}(w)\\,E[x^2]
                    = n\\,\\mathrm{Var}(w)\\,\\bigl(\\mathrm{Var}(x) + E[x]^2\\bigr),

so inputs that are not centred inflate the variance by :math:`1 + E[x]^2 / \\mathrm{Var}(x)`.

References
----------
.. [LeCun98] Y. LeCun, L. Bottou, G. B. Orr, K.-R. Müller, "Efficient BackProp", in *Neural
   Networks: Tricks of the Trade*, Springer, 1998 (section 4.3: centre and scale the inputs).
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers", ICCV 2015 (their
   equation (7) uses :math:`E[x^2]`, not :math:`\\mathrm{Var}(x)`, for this reason).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from .._validate import as_generator, as_positive_int, as_real
from ..initializers import variance_scaling
from .display import REFERENCE_COLOR, SAMPLE_COLOR, THEORY_COLOR, hist_with_density, normal_pdf
from .sums.arithmetic import preactivation_variance

__all__ = [
    "SQRT_2_OVER_PI",
    "SampleStats",
    "LayerSample",
    "std_for_variance",
    "mean_abs_normal",
    "share_within",
    "share_within_sample",
    "scaled_stats",
    "scaled_moments",
    "coefficient_of_variation",
    "preactivation_variance_uncentred",
    "variance_inflation",
    "relu_mean_square_factor",
    "uncentred_layer",
    "UncentredResult",
    "draw_scaled_normal",
    "draw_uncentred_preactivations",
]

#: :math:`E|Z| = \sqrt{2/\pi}` for a standard normal :math:`Z` (about 0.7979).
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class SampleStats(NamedTuple):
    """Summary of a sample: mean, standard deviation, variance (both with ``ddof=0``) and the
    typical magnitude ``mean(|x|)``."""

    mean: float
    std: float
    var: float
    mean_abs: float


class LayerSample(NamedTuple):
    """One dense layer applied to a batch: inputs ``x`` (batch, n), weights ``W`` (n, units) and
    pre-activations ``z = x @ W`` (batch, units)."""

    x: np.ndarray
    W: np.ndarray
    z: np.ndarray


def std_for_variance(var: float) -> float:
    """The factor that turns ``randn`` into a sample of variance `var`: :math:`c = \\sqrt{var}`.

    Multiplying a standard normal by :math:`c` multiplies its variance by :math:`c^2`, so a
    target variance of ``2 / n`` needs the factor ``sqrt(2 / n)``, not ``2 / n``.

    Raises
    ------
    ValueError
        If `var` is negative or not a finite real number.

    Examples
    --------
    >>> std_for_variance(2 / 512)
    0.0625
    """
    return math.sqrt(as_real(var, "var (a variance)", minimum=0.0))


def mean_abs_normal(sigma: float) -> float:
    """Typical magnitude of a zero-mean normal: :math:`E|w| = \\sigma\\sqrt{2/\\pi}`.

    From :math:`E|w| = 2\\int_0^\\infty w\\,\\frac{1}{\\sigma\\sqrt{2\\pi}}
    e^{-w^2/(2\\sigma^2)}\\,dw = \\sigma\\sqrt{2/\\pi}`, about :math:`0.798\\,\\sigma`: the mean of
    the half-normal distribution.

    Raises
    ------
    ValueError
        If `sigma` is negative or not a finite real number.

    Examples
    --------
    >>> round(mean_abs_normal(1.0), 4)
    0.7979
    """
    return as_real(sigma, "sigma (a standard deviation)", minimum=0.0) * SQRT_2_OVER_PI


def share_within(k: float) -> float:
    """Share of a normal distribution within `k` standard deviations of its mean.

    .. math::

        P(|X - \\mu| \\le k\\sigma) = \\Phi(k) - \\Phi(-k) = \\operatorname{erf}(k / \\sqrt{2}),

    the same for every :math:`\\mu` and :math:`\\sigma`: 68.27 %, 95.45 % and 99.73 % for
    :math:`k` = 1, 2, 3.

    Raises
    ------
    ValueError
        If `k` is negative or not a finite real number.

    Examples
    --------
    >>> round(share_within(2.0), 4)
    0.9545
    """
    return math.erf(as_real(k, "k (a number of standard deviations)", minimum=0.0) / math.sqrt(2.0))


def share_within_sample(x: np.ndarray, k: float, sigma: float, center: float = 0.0) -> float:
    """Measured share of `x` with :math:`|x - \\text{center}| \\le k\\,\\sigma`.

    The sample counterpart of :func:`share_within`, with the standard deviation `sigma` given
    (for ``randn * c``, ``sigma = c``), not estimated.

    Raises
    ------
    ValueError
        If `x` is empty, `k` is negative or `sigma` is not positive.
    """
    arr = np.asarray(x, dtype=float)
    if arr.size == 0:
        raise ValueError("x must hold at least one value, got an empty array")
    k = as_real(k, "k (a number of standard deviations)", minimum=0.0)
    sigma = as_real(sigma, "sigma (a standard deviation)", minimum=0.0, strict=True)
    center = as_real(center, "center")
    return float(np.mean(np.abs(arr - center) <= k * sigma))


def scaled_stats(samples: np.ndarray) -> SampleStats:
    """Mean, standard deviation, variance and mean magnitude of a sample (``ddof=0``).

    Multiplying the sample by :math:`c` multiplies `mean` by :math:`c`, `std` and `mean_abs` by
    :math:`|c|` and `var` by :math:`c^2`.

    Raises
    ------
    ValueError
        If `samples` is empty.

    Examples
    --------
    >>> scaled_stats(np.array([-2.0, 0.0, 2.0, 4.0]))
    SampleStats(mean=1.0, std=2.23606797749979, var=5.0, mean_abs=2.0)
    """
    arr = np.asarray(samples, dtype=float)
    if arr.size == 0:
        raise ValueError("samples must hold at least one value, got an empty array")
    return SampleStats(
        mean=float(arr.mean()),
        std=float(arr.std()),
        var=float(arr.var()),
        mean_abs=float(np.abs(arr).mean()),
    )


def scaled_moments(mean: float, std: float, k: float) -> tuple[float, float]:
    """Mean and standard deviation of :math:`kX` for :math:`X` with the given `mean` and `std`.

    :math:`E[kX] = k\\,E[X]` and :math:`\\mathrm{sd}(kX) = |k|\\,\\mathrm{sd}(X)`: one
    multiplication moves the mean and the spread together. Only a zero mean stays where it is.

    Raises
    ------
    ValueError
        If `std` is negative or an argument is not a finite real number.

    Examples
    --------
    >>> scaled_moments(99.0, 1.0, 0.5)
    (49.5, 0.5)
    """
    mean = as_real(mean, "mean")
    std = as_real(std, "std", minimum=0.0)
    k = as_real(k, "k (the multiplier)")
    return k * mean, abs(k) * std


def coefficient_of_variation(mean: float, std: float) -> float:
    """Spread relative to the size of the mean: :math:`\\mathrm{CV} = \\sigma / |\\mu|`.

    Unchanged by multiplying by any :math:`k \\ne 0`, since both :math:`\\sigma` and
    :math:`|\\mu|` are multiplied by :math:`|k|`: rescaling cannot make values of mean 99 and
    standard deviation 1 any less alike relative to their size.

    Raises
    ------
    ValueError
        If `mean` is 0 (the ratio is undefined) or `std` is negative.

    Examples
    --------
    >>> coefficient_of_variation(99.0, 1.0) == 1 / 99
    True
    """
    mean = as_real(mean, "mean")
    std = as_real(std, "std", minimum=0.0)
    if mean == 0.0:
        raise ValueError("mean must be non-zero for a coefficient of variation, got 0.0")
    return std / abs(mean)


def preactivation_variance_uncentred(n: int, var_w: float, var_x: float, mean_x: float) -> float:
    """Variance of :math:`z = \\sum_{i=1}^n w_i x_i` when the inputs may have a non-zero mean.

    With weights of mean 0 and variance `var_w`, independent of each other and of the inputs,
    and inputs of mean `mean_x` and variance `var_x`:

    .. math::

        \\mathrm{Var}(z) = n\\,\\mathrm{Var}(w)\\,E[x^2]
        = n\\,\\mathrm{Var}(w)\\,\\bigl(\\mathrm{Var}(x) + E[x]^2\\bigr).

    Each term has :math:`E[w_i x_i] = E[w_i]E[x_i] = 0` and
    :math:`\\mathrm{Var}(w_i x_i) = E[w_i^2]E[x_i^2] = \\mathrm{Var}(w)\\,E[x^2]`, and the
    :math:`n` terms are uncorrelated (their products have mean zero because the weights do).
    The same formula holds for one fixed input vector, over the random weights, with
    ``var_x`` and ``mean_x`` its own variance and mean (``ddof=0``): then
    :math:`\\mathrm{Var}(z) = \\mathrm{Var}(w)\\sum_i x_i^2` exactly.

    Parameters
    ----------
    n : int
        Number of inputs (the fan-in), positive.
    var_w : float
        Variance of each weight, at least 0.
    var_x : float
        Variance of each input, at least 0.
    mean_x : float
        Mean of each input.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a non-positive or non-integer `n`, or a negative variance.

    References
    ----------
    .. [He15] K. He et al., "Delving deep into rectifiers", ICCV 2015, equation (7).

    Examples
    --------
    >>> preactivation_variance_uncentred(256, 2 / 256, 1.0, 0.0)
    2.0
    """
    return preactivation_variance(n, var_w, var_x, mean_x)


def variance_inflation(mean_x: float, std_x: float) -> float:
    """How much an input mean inflates :math:`\\mathrm{Var}(z)`: :math:`1 + \\mu^2/\\sigma^2`.

    The ratio of :func:`preactivation_variance_uncentred` to the centred value
    :math:`n\\,\\mathrm{Var}(w)\\,\\sigma^2`, i.e. :math:`E[x^2] / \\mathrm{Var}(x)`. Inputs of mean
    99 and standard deviation 1 give :math:`1 + 99^2 = 9802`.

    Raises
    ------
    ValueError
        If `std_x` is not positive.

    Examples
    --------
    >>> variance_inflation(99.0, 1.0)
    9802.0
    """
    mean_x = as_real(mean_x, "mean_x")
    std_x = as_real(std_x, "std_x", minimum=0.0, strict=True)
    return 1.0 + (mean_x / std_x) ** 2


def relu_mean_square_factor(scale: float, depth: int = 1) -> float:
    """Factor by which `depth` ReLU layers with ``Var(w) = scale / n`` multiply :math:`E[h^2]`.

    For one layer :math:`z = \\sum_{i=1}^n w_i h_i` with zero-mean weights independent of the
    inputs, :math:`\\mathrm{Var}(z) = n\\,\\mathrm{Var}(w)\\,E[h^2]` (the non-centred form, see
    :func:`preactivation_variance_uncentred`), and because :math:`z` is symmetric about 0, ReLU
    keeps exactly half of its second moment: :math:`E[\\mathrm{relu}(z)^2] = \\mathrm{Var}(z)/2`.
    So each layer multiplies the mean square of the signal by
    :math:`n\\,\\mathrm{Var}(w)/2 = \\text{scale}/2`, and `depth` layers by
    :math:`(\\text{scale}/2)^{\\text{depth}}`. Only ``scale = 2`` (He) gives 1 for every depth
    [He15]_; LeCun's ``scale = 1`` halves the signal's mean square at every layer.

    Raises
    ------
    ValueError
        If `scale` is negative or `depth` is not a positive integer.

    References
    ----------
    .. [He15] K. He et al., "Delving deep into rectifiers", ICCV 2015, equations (8)-(10).

    Examples
    --------
    >>> relu_mean_square_factor(2.0, depth=50)
    1.0
    >>> relu_mean_square_factor(1.0, depth=3)
    0.125
    """
    scale = as_real(scale, "scale", minimum=0.0)
    depth = as_positive_int(depth, "depth")
    return (scale / 2.0) ** depth


def uncentred_layer(
    mean_x: float,
    std_x: float = 1.0,
    n: int = 256,
    units: int = 256,
    batch: int = 256,
    scale: float = 2.0,
    rng: np.random.Generator | int | None = None,
) -> LayerSample:
    """Push a batch of normal inputs of mean `mean_x` through one dense layer of fixed weights.

    ``x = mean_x + std_x * randn(batch, n)``, ``W = variance_scaling((n, units), scale,
    "fan_in", "normal")`` (``scale=2``: He, ``scale=1``: LeCun) and ``z = x @ W``. Pooled over
    the batch and the units, ``z`` has variance close to
    :func:`preactivation_variance_uncentred` ``(n, scale / n, std_x**2, mean_x)``.

    Parameters
    ----------
    mean_x, std_x : float
        Mean and standard deviation of every input (``std_x`` at least 0).
    n, units, batch : int
        Fan-in, number of units of the layer, number of input vectors.
    scale : float
        Weight variance times the fan-in, positive.
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``. The inputs are drawn first, then the weights.

    Returns
    -------
    LayerSample
        ``(x, W, z)`` with shapes ``(batch, n)``, ``(n, units)``, ``(batch, units)``.

    Raises
    ------
    ValueError
        For a negative `std_x`, a non-positive size or `scale`, or an invalid `rng`.
    """
    mean_x = as_real(mean_x, "mean_x")
    std_x = as_real(std_x, "std_x", minimum=0.0)
    n = as_positive_int(n, "n")
    units = as_positive_int(units, "units")
    batch = as_positive_int(batch, "batch")
    gen = as_generator(rng)
    x = mean_x + std_x * gen.standard_normal((batch, n))
    W = variance_scaling((n, units), scale, "fan_in", "normal", gen)
    return LayerSample(x=x, W=W, z=x @ W)


# --------------------------------------------------------------------------------------------
# Figures (the widgets' drawing functions, ``draw(fig, value)``)
# --------------------------------------------------------------------------------------------


class UncentredResult(NamedTuple):
    """Numbers shown by :func:`draw_uncentred_preactivations`."""

    mean_x: float
    predicted_var: float
    centred_var: float
    measured_var: float


def draw_scaled_normal(
    fig: Figure,
    c: float,
    *,
    n_samples: int = 20_000,
    rng: np.random.Generator | int | None = 0,
    xlim: float = 4.0,
    ylim: float | None = None,
    prefix: str = "",
) -> SampleStats:
    """The scaling widget: a histogram of ``randn(n_samples) * c`` against the standard normal.

    Draws one Axes on `fig` with the histogram of the scaled sample, the density of
    :math:`N(0, c^2)` over it and the standard normal :math:`N(0, 1)` dashed, on the fixed
    window ``[-xlim, xlim]`` so that frames for different `c` compare. The title reports `c`
    and the sample's measured standard deviation and mean magnitude
    (:math:`E|w| = c\\sqrt{2/\\pi}` in theory).

    Parameters
    ----------
    fig : Figure
        Cleared figure to draw on.
    c : float
        The multiplier, positive.
    n_samples : int
        Sample size.
    rng : {None, int, numpy.random.Generator}, default 0
        Seed or Generator; the default fixed seed makes every frame reproducible.
    xlim : float
        Half-width of the window.
    ylim : float, optional
        Top of the y axis (fix it to compare frames); default automatic.
    prefix : str
        Text put before the title (e.g. ``"n = 16: "``).

    Returns
    -------
    SampleStats
        The statistics of the sample drawn (the ones in the title).
    """
    c = as_real(c, "c (the multiplier)", minimum=0.0, strict=True)
    xlim = as_real(xlim, "xlim", minimum=0.0, strict=True)
    gen = as_generator(rng)
    w = gen.standard_normal(int(n_samples)) * c
    stats = scaled_stats(w)
    ax = fig.add_subplot(1, 1, 1)
    hist_with_density(ax, w, normal_pdf(0.0, c), bins=80, range=(-xlim, xlim),
                      label="randn * c", pdf_label=f"N(0, {c:.3g}²)")
    grid = np.linspace(-xlim, xlim, 401)
    ax.plot(grid, normal_pdf()(grid), "--", color=REFERENCE_COLOR, lw=1.5, label="N(0, 1)")
    if ylim is not None:
        ax.set_ylim(0.0, as_real(ylim, "ylim", minimum=0.0, strict=True))
    ax.set_xlabel("w")
    ax.set_ylabel("density")
    ax.set_title(f"{prefix}c = {c:.3g}: measured σ = {stats.std:.3f}, E|w| = {stats.mean_abs:.3f}")
    ax.legend(loc="upper right", fontsize="small")
    return stats


def draw_uncentred_preactivations(
    fig: Figure,
    mean_x: float,
    *,
    std_x: float = 1.0,
    n: int = 256,
    units: int = 256,
    batch: int = 200,
    scale: float = 2.0,
    xlim: float = 12.0,
    curve_means: np.ndarray | None = None,
    rng: np.random.Generator | int | None = 0,
) -> UncentredResult:
    """The input-mean widget: the pre-activations of one layer with fixed weights, for inputs of
    mean `mean_x`.

    Left: the histogram of ``z = x @ W`` (pooled over the batch and the units, from
    :func:`weightinit.chapters.scaling.uncentred_layer`) on the fixed window ``[-xlim, xlim]``, with
    the predicted density :math:`N(0, n\\,\\mathrm{Var}(w)(\\sigma^2 + \\mu^2))` and the centred one
    :math:`N(0, n\\,\\mathrm{Var}(w)\\sigma^2)` dashed. Right: the predicted standard deviation
    of ``z`` against the input mean (log scale), with the measured value at `mean_x` marked.

    Parameters
    ----------
    fig : Figure
        Cleared figure to draw on.
    mean_x : float
        Mean of the inputs (at least 0 here: the picture is symmetric in the sign).
    std_x : float
        Standard deviation of the inputs, positive.
    n, units, batch : int
        Fan-in, units, input vectors.
    scale : float
        ``Var(w) = scale / n``: 2 for He, 1 for LeCun.
    xlim : float
        Half-width of the left window.
    curve_means : array_like, optional
        Input means at which the right panel's curve is drawn; default ``0 .. max(100, mean_x)``.
    rng : {None, int, numpy.random.Generator}, default 0
        Seed or Generator for :func:`~weightinit.chapters.scaling.uncentred_layer`.

    Returns
    -------
    UncentredResult
    """
    mean_x = as_real(mean_x, "mean_x", minimum=0.0)
    std_x = as_real(std_x, "std_x", minimum=0.0, strict=True)
    xlim = as_real(xlim, "xlim", minimum=0.0, strict=True)
    layer = uncentred_layer(mean_x, std_x, n, units, batch, scale, rng)
    var_w = scale / n
    predicted = preactivation_variance_uncentred(n, var_w, std_x**2, mean_x)
    centred = preactivation_variance_uncentred(n, var_w, std_x**2, 0.0)
    measured = float(np.mean(layer.z**2))  # the mean of z is 0 in theory: its variance about 0

    ax, ax_curve = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    hist = hist_with_density(ax, layer.z, normal_pdf(0.0, math.sqrt(predicted)), bins=60,
                             range=(-xlim, xlim), label="z = x @ W",
                             pdf_label="predicted")
    grid = np.linspace(-xlim, xlim, 401)
    ax.plot(grid, normal_pdf(0.0, math.sqrt(centred))(grid), "--", color=REFERENCE_COLOR,
            lw=1.5, label="centred inputs")
    ax.set_ylim(0.0, 1.15 * float(normal_pdf(0.0, math.sqrt(centred))(0.0)))
    ax.set_xlabel("z")
    ax.set_ylabel("density")
    ax.set_title(f"input mean μ = {mean_x:g}: {hist.outside:.0%} of z off the axes",
                 fontsize="medium")
    ax.legend(loc="upper right", fontsize="x-small")

    if curve_means is None:
        curve_means = np.linspace(0.0, max(100.0, mean_x), 401)
    curve_means = np.asarray(curve_means, dtype=float)
    curve = [math.sqrt(preactivation_variance_uncentred(n, var_w, std_x**2, m))
             for m in curve_means]
    ax_curve.plot(curve_means, curve, color=THEORY_COLOR, lw=2, label="predicted")
    ax_curve.plot([mean_x], [math.sqrt(measured)], "o", color=SAMPLE_COLOR, label="measured")
    ax_curve.set_xscale("symlog", linthresh=1.0)
    ax_curve.set_yscale("log")
    ax_curve.set_xlabel("input mean μ")
    ax_curve.set_title(
        f"std(z): measured {math.sqrt(measured):.3g}\npredicted {math.sqrt(predicted):.3g}",
        fontsize="medium",
    )
    ax_curve.legend(loc="upper left", fontsize="x-small")
    fig.tight_layout()
    return UncentredResult(mean_x=mean_x, predicted_var=predicted, centred_var=centred,
                           measured_var=measured)
