"""Figures the chapters share: a histogram with a density curve on one Axes, and the drawing
functions of the widgets (``draw(fig, value)``, see :mod:`weightinit.widgets`).

Every function draws onto an Axes or a Figure it is given and returns what it measured, so a
chapter can state the same numbers as the figure and a test can check the figure's artists
without looking at pixels. Nothing here calls ``plt.show`` or touches pyplot's current figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats as _st

from ._validate import as_generator, as_real
from .scaling import (
    SampleStats,
    preactivation_variance_uncentred,
    scaled_stats,
    uncentred_layer,
)

__all__ = [
    "HistDensity",
    "UncentredResult",
    "normal_pdf",
    "hist_with_density",
    "draw_scaled_normal",
    "draw_uncentred_preactivations",
]

#: Colours used across the book: the sample, the theory curve, a reference curve.
SAMPLE_COLOR = "#4c72b0"
THEORY_COLOR = "#c44e52"
REFERENCE_COLOR = "#555555"


class HistDensity(NamedTuple):
    """What :func:`hist_with_density` drew: the bars, the curve (or None) and the share of the
    sample that fell outside the histogram's range (not drawn)."""

    bars: BarContainer
    line: Line2D | None
    outside: float


class UncentredResult(NamedTuple):
    """Numbers shown by :func:`draw_uncentred_preactivations`."""

    mean_x: float
    predicted_var: float
    centred_var: float
    measured_var: float


def normal_pdf(mean: float = 0.0, std: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """The density of :math:`N(\\text{mean}, \\text{std}^2)` as a function of ``x``."""
    std = as_real(std, "std", minimum=0.0, strict=True)
    return _st.norm(as_real(mean, "mean"), std).pdf


def hist_with_density(
    ax: Axes,
    samples: np.ndarray,
    pdf: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    bins: int = 60,
    range: tuple[float, float] | None = None,
    label: str | None = None,
    pdf_label: str | None = None,
    color: str = SAMPLE_COLOR,
    pdf_color: str = THEORY_COLOR,
    pdf_style: str = "-",
) -> HistDensity:
    """Histogram of `samples` on a density scale, with the density `pdf` drawn over it.

    The bar heights are ``count / (len(samples) * bin_width)`` over *all* samples, so the bars
    are comparable with `pdf` even when some samples fall outside `range` (they are counted in
    the total but not drawn; their share is returned). With every sample inside, the bars' area
    is exactly 1.

    Parameters
    ----------
    ax : matplotlib Axes
        Where to draw.
    samples : array_like
        Values to histogram (flattened); at least one, all finite.
    pdf : callable, optional
        Density to overlay, evaluated on 401 points across the range.
    bins : int
        Number of bars, positive.
    range : (float, float), optional
        Lower and upper edge; default the sample's minimum and maximum.
    label, pdf_label : str, optional
        Legend labels of the bars and the curve.
    color, pdf_color, pdf_style : matplotlib colour and line style.

    Returns
    -------
    HistDensity

    Raises
    ------
    ValueError
        For an empty or non-finite sample, a non-positive `bins` or an empty `range`.
    """
    x = np.ravel(np.asarray(samples, dtype=float))
    if x.size == 0:
        raise ValueError("samples must hold at least one value, got an empty array")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite, got NaN or infinite values")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    lo, hi = (float(x.min()), float(x.max())) if range is None else map(float, range)
    if not hi > lo:
        if range is not None:
            raise ValueError(f"range must be (low, high) with low < high, got {range!r}")
        lo, hi = lo - 0.5, hi + 0.5  # a constant sample: one unit-wide window around it
    edges = np.linspace(lo, hi, int(bins) + 1)
    counts, _ = np.histogram(x, bins=edges)
    heights = counts / (x.size * np.diff(edges))
    bars = ax.bar(edges[:-1], heights, width=np.diff(edges), align="edge", color=color,
                  alpha=0.55, edgecolor="none", label=label)
    line = None
    if pdf is not None:
        grid = np.linspace(lo, hi, 401)
        (line,) = ax.plot(grid, pdf(grid), pdf_style, color=pdf_color, lw=2, label=pdf_label)
    ax.set_xlim(lo, hi)
    outside = 1.0 - counts.sum() / x.size
    return HistDensity(bars=bars, line=line, outside=float(outside))


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
    :func:`weightinit.scaling.uncentred_layer`) on the fixed window ``[-xlim, xlim]``, with the
    predicted density :math:`N(0, n\\,\\mathrm{Var}(w)(\\sigma^2 + \\mu^2))` and the centred one
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
        Seed or Generator for :func:`~weightinit.scaling.uncentred_layer`.

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
