"""Chapter 9, "Orthogonal weights: matching the variance is not matching the spectrum": the
numbers it states (condition numbers of deep linear products, Saxe et al.'s epochs to a loss
threshold, Jacobian spectra, the QR sign bias) and its figures and widget.

The computations live in :mod:`weightinit.simulation.spectrum`; this module runs them at the
chapter's sizes and draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from .._validate import as_generator, as_positive_int
from ..simulation.spectrum import (
    jacobian_singular_values,
    product_singular_values,
    qr_orthogonal,
    train_deep_linear,
)
from .display import REFERENCE_COLOR, SAMPLE_COLOR, THEORY_COLOR

__all__ = [
    "INIT_COLORS",
    "SpectrumRow",
    "product_spectra",
    "saxe_target",
    "saxe_runs",
    "jacobian_spectra",
    "negative_diagonal_share",
    "draw_product_spectra",
    "draw_product_histogram",
    "draw_saxe_curves",
    "draw_jacobian_spectra",
]

INIT_COLORS = {"gaussian": SAMPLE_COLOR, "orthogonal": THEORY_COLOR}
#: log10 bins for singular values, shared by every histogram of the chapter; 0 (s = 1) is the
#: centre of a bin, so that an orthogonal product's s = 1 +- rounding falls in one bin.
LOG_BINS = np.arange(-6.0, 2.01, 0.125) - 0.0625


class SpectrumRow(NamedTuple):
    """The singular values of one product and their summary."""

    init: str
    depth: int
    singular_values: np.ndarray
    condition: float
    mean_square: float
    share_below_tenth: float


def product_spectra(width: int, depths: Sequence[int], seed: int) -> dict[tuple[str, int],
                                                                            SpectrumRow]:
    """For each init ("gaussian", "orthogonal") and depth, the singular values of one product
    of `depth` square layers of `width` (variance 1/n or orthogonal, gain 1)."""
    gen = as_generator(seed)
    rows = {}
    for init in ("gaussian", "orthogonal"):
        for depth in depths:
            s = product_singular_values(width, depth, init, gen)
            rows[init, depth] = SpectrumRow(init, depth, s, float(s[0] / s[-1]),
                                            float(np.mean(s**2)), float(np.mean(s < 0.1)))
    return rows


def saxe_target(width: int, seed: int, largest: float = 2.0, smallest: float = 0.2
                ) -> np.ndarray:
    """A random square map with singular values spread evenly from `largest` to `smallest`
    (random orthogonal bases on both sides), the map every network of the experiment learns."""
    width = as_positive_int(width, "width")
    gen = as_generator(seed)
    u, v = qr_orthogonal(width, gen), qr_orthogonal(width, gen)
    return (u * np.linspace(largest, smallest, width)) @ v.T


def saxe_runs(target: np.ndarray, depths: Sequence[int], seed: int, **train_options):
    """``{(init, depth): DeepLinearRun}`` for both inits and every depth, one seed each."""
    gen = as_generator(seed)
    return {(init, depth): train_deep_linear(target, depth, init, gen, **train_options)
            for depth in depths for init in ("gaussian", "orthogonal")}


def jacobian_spectra(cases: Sequence[tuple[str, float]], width: int, depths: Sequence[int],
                     seed: int, input_std: float) -> dict[tuple[str, float, str], dict]:
    """``{(activation, gain, init): {depth: singular values}}`` for every (activation, gain)."""
    gen = as_generator(seed)
    return {(act, gain, init): jacobian_singular_values(act, width, depths, init, gain, gen,
                                                        input_std=input_std)
            for act, gain in cases for init in ("gaussian", "orthogonal")}


def negative_diagonal_share(n: int, trials: int, seed: int, sign_correction: bool) -> float:
    """Share of negative entries on the diagonals of `trials` QR-orthogonal matrices; 1/2 for
    a Haar distribution."""
    gen = as_generator(seed)
    return float(np.mean([np.diag(qr_orthogonal(n, gen, sign_correction=sign_correction)) < 0
                          for _ in range(trials)]))


def _log_hist(ax, s, color, label):
    # one filled outline per histogram, not a patch per bar: much faster to draw
    ax.hist(np.log10(np.maximum(s, 10.0 ** LOG_BINS[0])), bins=LOG_BINS, color=color,
            alpha=0.6, histtype="stepfilled", label=label)


def draw_product_histogram(fig: Figure, depth: int, width: int = 128, seed: int = 0) -> None:
    """One depth: histogram of log10 of the singular values, Gaussian and orthogonal products
    (the widget's frame)."""
    ax = fig.add_subplot()
    gen = as_generator(seed)
    for init in ("gaussian", "orthogonal"):
        s = product_singular_values(width, depth, init, gen)
        _log_hist(ax, s, INIT_COLORS[init],
                  f"{init}: condition number {s[0] / s[-1]:.2g}")
    ax.axvline(0.0, color=REFERENCE_COLOR, lw=1)
    ax.set(title=f"{depth} layer(s) of width {width}", xlabel="log10 singular value",
           ylabel="count", xlim=(LOG_BINS[0], LOG_BINS[-1]))
    ax.legend(loc="upper left", fontsize="small")


def draw_product_spectra(fig: Figure, rows: dict[tuple[str, int], SpectrumRow]) -> None:
    """One panel per depth: the log10 singular values of the Gaussian and orthogonal products."""
    depths = sorted({d for _, d in rows})
    axes = fig.subplots(1, len(depths), sharey=True)
    for ax, depth in zip(axes, depths, strict=True):
        for init in ("gaussian", "orthogonal"):
            _log_hist(ax, rows[init, depth].singular_values, INIT_COLORS[init], init)
        ax.set(title=f"L = {depth}", xlabel="log10 singular value")
    axes[0].set_ylabel("count")
    axes[0].legend(loc="upper left", fontsize="small")
    fig.tight_layout()


def draw_saxe_curves(fig: Figure, runs: dict, depths: Sequence[int]) -> None:
    """Relative loss per epoch, one panel per init, one curve per depth."""
    axes = fig.subplots(1, 2, sharey=True)
    shades = np.linspace(0.25, 1.0, len(depths))
    for ax, init in zip(axes, ("gaussian", "orthogonal"), strict=True):
        for shade, depth in zip(shades, depths, strict=True):
            losses = runs[init, depth].losses
            ax.semilogy(np.arange(losses.size), np.clip(losses, 1e-4, 1e3),
                        color=INIT_COLORS[init], alpha=shade, label=f"L = {depth}")
        ax.set(title=f"{init} start", xlabel="epoch")
        ax.legend(fontsize="small")
    axes[0].set_ylabel("loss / loss of the zero map")
    fig.tight_layout()


def draw_jacobian_spectra(fig: Figure, spectra: dict, depth: int) -> None:
    """For one depth, one panel per (activation, gain): the Jacobian's log10 singular values."""
    cases = list(dict.fromkeys((act, gain) for act, gain, _ in spectra))
    axes = fig.subplots(1, len(cases), sharey=True)
    for ax, (act, gain) in zip(np.atleast_1d(axes), cases, strict=True):
        for init in ("gaussian", "orthogonal"):
            _log_hist(ax, spectra[act, gain, init][depth], INIT_COLORS[init], init)
        ax.axvline(0.0, color=REFERENCE_COLOR, lw=1)
        ax.set(title=f"{act}, gain {gain:.3g}, L = {depth}", xlabel="log10 singular value")
    np.atleast_1d(axes)[0].set_ylabel("count")
    np.atleast_1d(axes)[0].legend(loc="upper left", fontsize="small")
    fig.tight_layout()
