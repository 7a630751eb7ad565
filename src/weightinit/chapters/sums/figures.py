"""Figures for the chapters on sums of products ("Why Var(w) = 1/n" and "Signs, cancellations
and products of small numbers").

Every function draws a whole figure on a matplotlib :class:`~matplotlib.figure.Figure` it is
given (``draw_*(fig, ...)``), so that the same function serves a static figure, a live slider
(:func:`weightinit.chapters.display.live_slider`) and a precomputed one
(:func:`weightinit.chapters.display.frames_slider`). The numbers come from
:mod:`weightinit.chapters.sums`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from scipy import stats as _st

from ...activations import sigmoid, sigmoid_derivative
from . import arithmetic as sums

__all__ = [
    "draw_variance_check",
    "draw_unit_variances",
    "draw_linear_depth",
    "draw_std_growth",
    "draw_sum_histogram",
    "draw_product_density",
    "draw_sigmoid_derivative",
    "draw_relu_gradients",
]

_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


# ---------------------------------------------------------------- chapter: why Var(w) = 1/n


def draw_variance_check(
    fig: Figure,
    measured: Sequence[float],
    predicted: Sequence[float],
    zero_mean_formula: Sequence[float],
) -> None:
    """Measured ``Var(z)`` against two predictions, one point per case, on log-log axes.

    `predicted` is ``n Var(w) E[x^2]`` (:func:`weightinit.chapters.sums.preactivation_variance`);
    `zero_mean_formula` is ``n Var(w) Var(x)``, which forgets the inputs' mean. Points on the
    diagonal are predicted correctly.
    """
    measured = np.asarray(measured, dtype=float)
    ax = fig.add_subplot()
    lo = min(measured.min(), np.min(predicted), np.min(zero_mean_formula)) / 1.5
    hi = max(measured.max(), np.max(predicted), np.max(zero_mean_formula)) * 1.5
    ax.plot([lo, hi], [lo, hi], color="0.6", lw=1, label="measured = predicted")
    ax.scatter(zero_mean_formula, measured, s=60, facecolors="none", edgecolors="tab:red",
               label=r"$n\,\mathrm{Var}(w)\,\mathrm{Var}(x)$")
    ax.scatter(predicted, measured, s=18, color="tab:blue",
               label=r"$n\,\mathrm{Var}(w)\,E[x^2]$")
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi),
           xlabel="predicted Var(z)", ylabel="measured Var(z)",
           title="Monte Carlo against the formula")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()


def draw_unit_variances(
    fig: Figure, variances: Mapping[float, np.ndarray], expected_mean: float
) -> None:
    """Histograms, one per correlation ``rho``, of each unit's variance across the inputs.

    `variances` maps ``rho`` to the per-unit variances
    (:func:`weightinit.chapters.sums.unit_variances`); the dashed line is their common expected mean
    ``n Var(w) Var(x)``.
    """
    ax = fig.add_subplot()
    top = max(float(np.quantile(v, 0.99)) for v in variances.values())
    bins = np.linspace(0.0, top, 60)
    for color, (rho, v) in zip(_COLORS, variances.items(), strict=False):
        ax.hist(v, bins=bins, density=True, histtype="step", lw=1.6, color=color,
                label=f"rho = {rho:g}: mean {np.mean(v):.2f}")
    ax.axvline(expected_mean, color="k", ls="--", lw=1,
               label=r"$n\,\mathrm{Var}(w)\,\mathrm{Var}(x)$")
    ax.set(xlabel="variance of one unit's z across the inputs", ylabel="density",
           title="Same average, different spread across units")
    ax.legend(fontsize=8)
    fig.tight_layout()


def draw_linear_depth(
    fig: Figure,
    factor: float | Sequence[float],
    *,
    n: int = 128,
    depth: int = 30,
    batch: int = 256,
    seed: int = 0,
    ylim: tuple[float, float] = (1e-10, 1e10),
) -> None:
    """Per-layer variance of a deep linear network against ``(n Var(w))^l``, log scale.

    For each value of `factor` = ``n Var(w)`` the network has `depth` layers of width `n`,
    weights ``N(0, factor / n)``, and a batch of standard normal inputs (all drawn from
    ``np.random.default_rng(seed)``). Dots: measured
    (:func:`weightinit.chapters.sums.linear_network_variances`); line: predicted
    (:func:`weightinit.chapters.sums.linear_network_theory`).
    """
    factors = [factor] if np.isscalar(factor) else list(factor)
    ax = fig.add_subplot()
    layers = np.arange(1, depth + 1)
    for color, c in zip(_COLORS, factors, strict=False):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((batch, n))
        weights = sums.normal_weights(n, depth, c / n, rng)
        measured = sums.linear_network_variances(x, weights)
        theory = sums.linear_network_theory(n, c / n, depth, var_x=float(np.mean(x**2)))
        ax.plot(layers, theory, color=color, lw=1.2, label=rf"$({c:g})^l$")
        ax.plot(layers, measured, "o", color=color, ms=3.5)
    ax.axhline(1.0, color="0.7", lw=0.8, zorder=0)
    ax.set(yscale="log", ylim=ylim, xlabel="layer l", ylabel="variance of h_l",
           title=("n Var(w) = " + ", ".join(f"{c:g}" for c in factors)
                  + "   (dots measured, lines predicted)"))
    ax.legend(loc="upper left", fontsize=8)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.14, top=0.9)  # fixed: frames align


# ---------------------------------------------------- chapter: signs, cancellations, products


def draw_std_growth(
    fig: Figure, ns: Sequence[int], stds: Sequence[float], term_std: float
) -> None:
    """Measured ``std(z)`` of sums of ``n`` terms against ``sqrt(n) * term_std``, log-log."""
    ns = np.asarray(ns, dtype=float)
    ax = fig.add_subplot()
    grid = np.geomspace(ns.min(), ns.max(), 100)
    ax.plot(grid, np.sqrt(grid) * term_std, color="tab:blue",
            label=rf"$\sqrt{{n}}\times{term_std:g}$")
    ax.plot(ns, stds, "o", color="tab:orange", label="measured std(z)")
    ax.plot(grid, grid * term_std, color="0.6", ls=":",
            label=rf"$n\times{term_std:g}$ (no cancellation at all)")
    ax.set(xscale="log", yscale="log", xlabel="number of terms n", ylabel="std of the sum",
           title="Signs cancel, but the spread still grows like sqrt(n)")
    ax.legend(fontsize=8)
    fig.tight_layout()


def draw_sum_histogram(
    fig: Figure,
    n: int,
    *,
    term_std: float = 0.1,
    trials: int = 10_000,
    seed: int = 0,
    n_max: int = 256,
) -> None:
    """Histogram of ``z = sum of n products w_i x_i`` (each of std `term_std`) beside its spread.

    Left: the histogram with the normal curve ``N(0, n term_std^2)`` and the exact density
    (:func:`weightinit.chapters.sums.preactivation_pdf`), on axes that scale with ``sqrt(n)``.
    Right: ``std(z)`` against ``n``: the ``sqrt(n) * term_std`` line and the measured point.
    """
    var_w, var_x = term_std**2, 1.0
    z = sums.sample_preactivations(n, var_w, var_x, trials, np.random.default_rng(seed))
    sd = math.sqrt(n) * term_std
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    edges = np.linspace(-4 * sd, 4 * sd, 61)
    ax.hist(z, bins=edges, density=True, color="tab:blue", alpha=0.45, label="sampled z")
    grid = np.linspace(-4 * sd, 4 * sd, 400)  # an even count: 0 (infinite for n = 1) is skipped
    ax.plot(grid, _st.norm.pdf(grid, scale=sd), color="k", lw=1.2, label="normal")
    ax.plot(grid, sums.preactivation_pdf(grid, n, var_w, var_x), color="tab:red", lw=1,
            ls="--", label="exact")
    ax.set(xlim=(-4 * sd, 4 * sd), ylim=(0, 1.0 / sd), xlabel="z", yticks=[],
           title=f"n = {n}: std(z) = {np.std(z):.2f}")
    ax.legend(fontsize=7, loc="upper right")
    ns = np.geomspace(1, n_max, 100)
    ax2.plot(ns, np.sqrt(ns) * term_std, color="k", lw=1)
    ax2.plot([n], [np.std(z)], "o", color="tab:blue")
    ax2.set(xscale="log", yscale="log", xlabel="n", ylabel="std(z)",
            title=rf"$\sqrt{{n}}\times{term_std:g}$")
    fig.subplots_adjust(left=0.05, right=0.97, bottom=0.14, top=0.9, wspace=0.35)


def draw_product_density(fig: Figure, samples: np.ndarray, s1: float, s2: float) -> None:
    """The product of two normals: histogram, exact density (``K0``), and the normal of the same
    variance, on a linear (left) and a logarithmic (right) vertical axis."""
    s = s1 * s2
    grid = np.linspace(-6 * s, 6 * s, 801)
    grid = grid[grid != 0.0]
    exact = sums.product_normal_pdf(grid, s1, s2)
    normal = _st.norm.pdf(grid, scale=s)
    edges = np.linspace(-6 * s, 6 * s, 97)
    ax1, ax2 = fig.subplots(1, 2)
    for ax, log in ((ax1, False), (ax2, True)):
        ax.hist(samples, bins=edges, density=True, color="tab:blue", alpha=0.4, label="w x sampled")
        ax.plot(grid, exact, color="tab:red", lw=1.2, label=r"exact: $K_0(|u|/s)/(\pi s)$")
        ax.plot(grid, normal, color="k", lw=1, ls="--", label="normal, same variance")
        ax.set(xlabel="u = w x", xlim=(-6 * s, 6 * s))
        if log:
            ax.set(yscale="log", ylim=(1e-5 / s, 5 / s), title="log scale: heavy tails")
        else:
            ax.set(ylim=(0, 2.2 / s), title="peaked at 0")
    ax1.legend(fontsize=7)
    fig.tight_layout()


def draw_sigmoid_derivative(fig: Figure, level: float = 0.01) -> None:
    """The sigmoid and its derivative, its maximum 1/4 and the region where ``sigma' < level``."""
    z = np.linspace(-8, 8, 801)
    cut = sums.sigmoid_derivative_cutoff(level)
    ax = fig.add_subplot()
    ax.plot(z, sigmoid(z), color="tab:blue", label=r"$\sigma(z)$")
    ax.plot(z, sigmoid_derivative(z), color="tab:red", label=r"$\sigma'(z)$")
    ax.axhline(sums.SIGMOID_DERIVATIVE_MAX, color="tab:red", ls=":", lw=1)
    ax.annotate("max 1/4 at z = 0", (0, 0.25), (1.0, 0.4), fontsize=8,
                arrowprops={"arrowstyle": "->", "lw": 0.8})
    for side in (-1, 1):
        ax.axvspan(side * cut, side * 8, color="0.85", zorder=0)
    ax.text(cut + 0.2, 0.6, rf"$\sigma' < {level:g}$", fontsize=8)
    ax.set(xlim=(-8, 8), xlabel="z", title=f"The sigmoid is flat (derivative < {level:g}) "
           f"beyond |z| = {cut:.2f}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()


def draw_relu_gradients(
    fig: Figure,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    """Gradient size per layer of a ReLU network: measured dots, predicted lines, log scale.

    `curves` maps a label (e.g. ``"Var(w) = 2/n"``) to ``(measured, predicted)``, each the
    standard deviation of ``dL/dz_l`` for ``l = 1..L``
    (:func:`weightinit.chapters.sums.gradient_stds`,
    :func:`weightinit.chapters.sums.relu_gradient_theory`).
    """
    ax = fig.add_subplot()
    for color, (label, (measured, predicted)) in zip(_COLORS, curves.items(), strict=False):
        layers = np.arange(1, len(measured) + 1)
        ax.plot(layers, predicted, color=color, lw=1.2, label=label)
        ax.plot(layers, measured, "o", color=color, ms=3.5)
    ax.set(yscale="log", xlabel="layer l (the output is the last layer)",
           ylabel="std of dL/dz_l",
           title="ReLU network, backward pass (dots measured, lines predicted)")
    ax.legend(fontsize=8)
    fig.tight_layout()
