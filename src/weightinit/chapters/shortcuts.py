"""Chapter 10, "Normalization and residual connections": the runs the chapter states numbers
from (a deep tanh network with and without batch or layer norm; residual networks with each fix
of their variance growth) and its figures.

The computations live in :mod:`weightinit.simulation.normalization` and
:mod:`weightinit.simulation.residual`; this module runs them at the chapter's sizes and draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from .._validate import as_generator
from ..simulation.normalization import NormalizedRun, normalized_mlp
from ..simulation.residual import VARIANTS, ResidualRun, predicted_growth, residual_network
from .display import REFERENCE_COLOR

__all__ = [
    "NORM_LABELS",
    "normalization_runs",
    "residual_runs",
    "growth_over_draws",
    "draw_normalization",
    "draw_residual",
]

NORM_LABELS = {None: "no normalization", "batch": "batch norm", "layer": "layer norm"}
_STYLES = {None: "-", "batch": "--", "layer": ":"}


def normalization_runs(x: np.ndarray, depth: int, stds: Sequence[float],
                       norms: Sequence[str | None], seed: int, activation: str = "tanh"
                       ) -> dict[tuple[float, str | None], NormalizedRun]:
    """``{(std, norm): NormalizedRun}``: the same input through a fresh network per case."""
    gen = as_generator(seed)
    return {(std, norm): normalized_mlp(x, depth, std, norm, activation, gen)
            for std in stds for norm in norms}


def residual_runs(x: np.ndarray, depth: int, seed: int) -> dict[str, ResidualRun]:
    """``{variant: ResidualRun}`` for every variant of :data:`VARIANTS`, all with the same
    weights (the same seed), so that only the variant differs."""
    return {v: residual_network(x, depth, v, seed) for v in VARIANTS}


def growth_over_draws(x: np.ndarray, depth: int, variant: str, draws: int, seed: int
                      ) -> np.ndarray:
    """``E[x_L^2] / E[x_0^2]`` of `draws` independently drawn networks."""
    gen = as_generator(seed)
    return np.array([(lambda m: m[-1] / m[0])(residual_network(x, depth, variant, gen)
                                              .mean_square) for _ in range(draws)])


def draw_normalization(fig: Figure, runs: dict[tuple[float, str | None], NormalizedRun]
                       ) -> None:
    """Left: the standard deviation of each layer's activations; right: the root mean square
    of each layer's weight gradient. One colour per weight scale, one line style per norm."""
    axes = fig.subplots(1, 2)
    stds = list(dict.fromkeys(std for std, _ in runs))
    colors = dict(zip(stds, ("#4c72b0", "#c44e52", "#55a868", "#8172b2"), strict=False))
    for (std, norm), run in runs.items():
        layers = np.arange(1, run.h_std.size + 1)
        style = dict(color=colors[std], ls=_STYLES[norm], label=f"std {std:g}, {NORM_LABELS[norm]}")
        axes[0].semilogy(layers, np.maximum(run.h_std, 1e-300), **style)
        axes[1].semilogy(layers, np.maximum(run.grad_w_rms, 1e-300), **style)
    axes[0].set(xlabel="layer", ylabel="std of activations", title="forward")
    axes[1].set(xlabel="layer", ylabel="rms of dL/dW", title="weight gradients")
    axes[1].legend(fontsize="x-small", loc="lower left")
    fig.tight_layout()


def draw_residual(fig: Figure, runs: dict[str, ResidualRun]) -> None:
    """Mean square of x_l through the blocks, measured (solid) and predicted (dotted), per
    variant, on a log scale."""
    ax = fig.add_subplot()
    for variant, run in runs.items():
        blocks = np.arange(run.mean_square.size)
        depth = blocks[-1]
        (line,) = ax.semilogy(blocks, run.mean_square / run.mean_square[0], label=variant)
        rate = predicted_growth(variant, depth) ** (1 / depth)
        ax.semilogy(blocks, rate**blocks, color=line.get_color(), ls=":", lw=1)
    ax.axhline(1.0, color=REFERENCE_COLOR, lw=0.8)
    ax.set(xlabel="block l", ylabel="E[x_l²] / E[x_0²]",
           title="residual blocks: measured (solid) and theory (dotted)")
    ax.legend(fontsize="small")
    fig.tight_layout()
