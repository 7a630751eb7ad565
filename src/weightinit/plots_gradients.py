"""Figures for the chapter "Gradients: the backward pass has its own condition".

Every function draws a whole figure on a matplotlib :class:`~matplotlib.figure.Figure` it is
given (``draw_*(fig, ...)``), so that one function serves a static figure, a live slider
(:func:`weightinit.widgets.live_slider`) and a precomputed one
(:func:`weightinit.widgets.frames_slider`). The numbers come from :mod:`weightinit.gradients`
and :func:`weightinit.propagation.propagate`: dots (or markers) are measured, lines predicted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from . import gradients as gr
from .propagation import Propagation
from .training import TrainingResult

__all__ = [
    "GRADIENT_DEPTH_YLIM",
    "draw_gradient_depth",
    "draw_width_conditions",
    "draw_gain_depth",
    "draw_depth_training",
]

_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")

#: Vertical range of :func:`draw_gradient_depth`, the same for every frame of the slider
#: (it holds ``n Var(w)`` from 1 to 3 over 30 layers: ``0.5^14.5`` to ``1.5^14.5``).
GRADIENT_DEPTH_YLIM = (1e-6, 1e4)


def draw_gradient_depth(
    fig: Figure,
    factor: float,
    *,
    width: int = 128,
    depth: int = 30,
    batch: int = 64,
    seed: int = 0,
    ylim: tuple[float, float] = GRADIENT_DEPTH_YLIM,
) -> None:
    """Forward ``std(z_l)`` and backward ``std(dL/dz_l)`` of a ReLU network, per layer.

    The network has `depth` layers of width `width` with ``Var(w) = factor / width``
    (:func:`weightinit.gradients.deep_pass` with seed `seed`); the gradient arriving at the
    output is standard normal. Each layer multiplies the forward variance and the backward
    variance by the same factor ``factor / 2`` [He15]_, so the two curves are mirror images,
    and both are flat only at ``factor = 2`` (He). Markers measured, lines predicted; log scale.
    """
    res = gr.deep_pass("relu", factor, width=width, depth=depth, batch=batch, rng=seed)
    layers = res.layers
    ax = fig.add_subplot()
    ax.plot(layers, res.z.predicted_std, color="tab:blue", lw=1.2)
    ax.plot(layers, res.z.std, "o", color="tab:blue", ms=3.5, label="forward: std of z_l")
    ax.plot(layers, res.dz.predicted_std, color="tab:red", lw=1.2)
    ax.plot(layers, res.dz.std, "s", color="tab:red", ms=3.5,
            label="backward: std of dL/dz_l")
    ax.axhline(1.0, color="0.7", lw=0.8, zorder=0)
    total = (factor / 2.0) ** ((depth - 1) / 2.0)
    ax.set(yscale="log", ylim=ylim, xlim=(0.5, depth + 0.5), xlabel="layer l",
           ylabel="standard deviation",
           title=f"n Var(w) = {factor:g}: factor {factor / 2:g} per layer, "
                 f"x{total:.3g} in std over {depth - 1} steps")
    ax.legend(loc="upper center", fontsize=8, ncol=2)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.14, top=0.9)  # fixed: frames align


_MODE_LABELS = {
    "fan_in": r"fan_in: $n_{in}\,\mathrm{Var}(w) = s$",
    "fan_out": r"fan_out: $n_{out}\,\mathrm{Var}(w) = s$",
    "fan_avg": r"fan_avg: $\mathrm{Var}(w) = 2s/(n_{in} + n_{out})$",
}


def draw_width_conditions(fig: Figure, results: Mapping[str, Propagation]) -> None:
    """How each fan rule treats the forward signal (left) and the backward gradient (right).

    `results` maps a mode (``"fan_in"``, ``"fan_out"``, ``"fan_avg"``) to the propagation of
    one network through it (:func:`weightinit.gradients.width_experiment`). Left:
    ``Var(z_l) / Var(z_1)``; right: ``Var(dL/dz_l) / Var(dL/dz_L)``, both on a log-2 scale.
    Markers measured, lines predicted. The widths are read off the first result.
    """
    first = next(iter(results.values()))
    sizes = first.layer_sizes
    layers = first.layers
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    for color, (mode, res) in zip(_COLORS, results.items(), strict=False):
        label = _MODE_LABELS.get(mode, mode)
        ax1.plot(layers, res.z.predicted_var / res.z.predicted_var[0], color=color, lw=1.2,
                 label=label)
        ax1.plot(layers, res.z.var / res.z.var[0], "o", color=color, ms=3.5)
        ax2.plot(layers, res.dz.predicted_var / res.dz.predicted_var[-1], color=color, lw=1.2)
        ax2.plot(layers, res.dz.var / res.dz.var[-1], "o", color=color, ms=3.5)
    for ax in (ax1, ax2):
        ax.axhline(1.0, color="0.7", lw=0.8, zorder=0)
        ax.set_yscale("log", base=2)
        ax.set_xlabel(f"layer l (width {sizes[1]} to {sizes[-1]})")
    ax1.set(ylabel="variance relative to the reference layer",
            title="forward: Var(z_l) / Var(z_1)")
    ax2.set(title="backward: Var(dL/dz_l) / Var(dL/dz_L)")
    ax1.legend(fontsize=7, loc="lower left")
    fig.tight_layout()


def draw_gain_depth(fig: Figure, results: Mapping[str, Propagation]) -> None:
    """Forward ``std(h_l)`` (left) and backward ``std(dL/dz_l) / std(dL/dz_L)`` (right).

    `results` maps a label (e.g. ``"tanh, gain 5/3"``) to the propagation of an equal-width
    network (:func:`weightinit.gradients.deep_pass` with ``n_var_w = gain**2``). Markers
    measured, lines predicted (the mean-field recursion of
    :func:`weightinit.propagation.predict`).
    """
    ax1, ax2 = fig.subplots(1, 2)
    for color, (label, res) in zip(_COLORS, results.items(), strict=False):
        layers = res.layers
        ax1.plot(layers, res.h.predicted_std, color=color, lw=1.2, label=label)
        ax1.plot(layers, res.h.std, "o", color=color, ms=3)
        ax2.plot(layers, res.dz.predicted_std / res.dz.predicted_std[-1], color=color, lw=1.2)
        ax2.plot(layers, res.dz.std / res.dz.std[-1], "o", color=color, ms=3)
    top = max(1.5, 1.4 * max(float(np.nanmax(r.h.std)) for r in results.values()))
    ax1.set(ylim=(0.0, top), xlabel="layer l", ylabel="std of h_l",
            title="forward: the signal")
    ax2.axhline(1.0, color="0.7", lw=0.8, zorder=0)
    ax2.set(yscale="log", xlabel="layer l", ylabel="relative to the last layer",
            title="backward: std of dL/dz_l")
    ax1.legend(fontsize=7, loc="upper center", ncol=2)
    fig.tight_layout()


_RUN_STYLE = {"he": ("tab:blue", "Var(w) = 2/n (He)"), "lecun": ("tab:red", "Var(w) = 1/n")}


def draw_depth_training(
    fig: Figure,
    runs: Mapping[str, TrainingResult],
    initial: Mapping[str, Propagation],
) -> None:
    """He et al.'s observation at small scale: the training loss (left) and the gradient of
    the loss with respect to each hidden layer's pre-activations at initialization (right).

    `runs` and `initial` map ``"he"`` and ``"lecun"`` (or other labels) to the outcome of
    :func:`weightinit.gradients.depth_training` and :func:`weightinit.gradients.initial_gradients`.
    Right panel: markers measured, lines predicted, log scale.
    """
    ax1, ax2 = fig.subplots(1, 2)
    for i, (name, run) in enumerate(runs.items()):
        color, label = _RUN_STYLE.get(name, (_COLORS[i % len(_COLORS)], name))
        ax1.plot(np.arange(run.epochs + 1), run.loss, color=color, lw=1.4, label=label)
    ax1.axhline(math.log(2.0), color="0.5", ls=":", lw=1)
    ax1.text(0.98, math.log(2.0), "ln 2: a coin flip", ha="right", va="bottom", fontsize=7,
             transform=ax1.get_yaxis_transform())
    ax1.set(xlabel="epoch", ylabel="training loss (cross-entropy)", ylim=(0.0, 0.8),
            title="training")
    ax1.legend(fontsize=8, loc="lower left")
    for i, (name, res) in enumerate(initial.items()):
        color, label = _RUN_STYLE.get(name, (_COLORS[i % len(_COLORS)], name))
        ax2.plot(res.layers, res.dz.predicted_std, color=color, lw=1.2)
        ax2.plot(res.layers, res.dz.std, "o", color=color, ms=3.5, label=label)
    ax2.set(yscale="log", xlabel="hidden layer l", ylabel="std of dL/dz_l",
            title="gradients at initialization")
    fig.tight_layout()
