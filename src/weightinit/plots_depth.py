"""Figures for the chapter "Keeping the signal alive through depth".

Each ``draw_*`` function draws a whole figure on a matplotlib
:class:`~matplotlib.figure.Figure` it is given, so that one function serves a static figure, the
live controls (:func:`weightinit.widgets.live_controls`) and the precomputed slider
(:func:`weightinit.widgets.frames_slider`). The ``plot_*`` helpers draw on one axes. All numbers
come from :class:`weightinit.propagation.Propagation` results (measured beside predicted), made
by :func:`weightinit.depth.deep_signal`.

- :func:`plot_layer_histograms`: the histograms of one quantity, one curve per layer, on bins
  shared by all layers, in the manner of Glorot and Bengio's per-layer activation histograms
  [Glorot10]_;
- :func:`plot_std_by_layer`: the standard deviation per layer, measured (dots) against the
  theory's prediction (lines), on a log scale;
- :func:`draw_depth_overview`: histograms of several runs side by side, and their standard
  deviations in a last panel;
- :func:`draw_std_panels`: one std-per-layer panel per quantity (forward and backward);
- :func:`draw_depth_explorer`: the chapter's widget, over activation, initializer, depth and
  width.

References
----------
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from .depth import deep_signal, signal_quantity
from .propagation import QUANTITIES, LayerStats, Propagation

__all__ = [
    "QUANTITY_LABELS",
    "default_layers",
    "log_limits",
    "plot_layer_histograms",
    "plot_std_by_layer",
    "draw_depth_overview",
    "draw_std_panels",
    "draw_depth_explorer",
]

#: Axis labels of the recorded quantities.
QUANTITY_LABELS = {
    "z": "pre-activation z_l",
    "h": "activation h_l",
    "dz": "gradient dL/dz_l",
    "dw": "weight gradient dL/dW_l",
}

_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def _check_quantity(quantity: str) -> str:
    if quantity not in QUANTITIES:
        allowed = ", ".join(map(repr, QUANTITIES))
        raise ValueError(f"quantity must be one of {allowed}; got {quantity!r}")
    return quantity


def _check_results(results: Mapping[str, Propagation]) -> dict[str, Propagation]:
    results = dict(results)
    if not results:
        raise ValueError("results must map at least one label to a Propagation, got none")
    return results


def default_layers(depth: int, count: int = 5) -> list[int]:
    """Up to `count` layers spread evenly over ``1..depth``, always the first and the last."""
    if depth < 1 or count < 1:
        raise ValueError(f"depth and count must be positive, got depth={depth}, count={count}")
    if count == 1:
        return [depth]
    picks = np.round(np.linspace(1, depth, min(count, depth))).astype(int)
    return sorted({int(p) for p in picks})


def log_limits(values: np.ndarray, min_span: float = 20.0) -> tuple[float, float]:
    """Limits of a log axis around the positive finite `values`: a factor 2 of margin on each
    side, and at least `min_span` from bottom to top (so that a nearly constant curve sits in
    the middle of a decade instead of filling the panel with minor tick labels)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return 0.1, 10.0
    lo, hi = float(v.min()) / 2.0, float(v.max()) * 2.0
    if hi / lo < min_span:
        mid, half = float(np.sqrt(lo * hi)), float(np.sqrt(min_span))
        lo, hi = mid / half, mid * half
    return lo, hi


def plot_layer_histograms(
    ax: Axes,
    stats: LayerStats,
    layers: Sequence[int] | None = None,
    *,
    cmap: str = "viridis",
) -> list:
    """One density curve per layer of `stats` (``propagate(histograms=True)``), first to last.

    The curves are the rows of :meth:`~weightinit.propagation.LayerStats.density` at the bin
    centres; the bins are the same for every layer, so a layer whose values pile up near 0
    shows as a spike and one that saturates as mass at the edges. Colours run from dark (layer
    1) to light (deepest layer drawn).

    Returns
    -------
    list of matplotlib.lines.Line2D
        One per layer drawn, labelled ``"layer l"``.
    """
    density = stats.density()  # raises if there are no histograms
    depth = density.shape[0]
    layers = default_layers(depth) if layers is None else [int(layer) for layer in layers]
    if not layers or min(layers) < 1 or max(layers) > depth:
        raise ValueError(f"layers must lie in 1..{depth}, got {layers!r}")
    colors = colormaps[cmap](np.linspace(0.0, 0.85, len(layers)))
    lines = []
    for color, layer in zip(colors, layers, strict=True):
        (line,) = ax.plot(stats.centers, density[layer - 1], color=color, lw=1.3,
                          label=f"layer {layer}")
        lines.append(line)
    ax.set_xlim(float(stats.edges[0]), float(stats.edges[-1]))
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel(QUANTITY_LABELS.get(stats.name, stats.name))
    return lines


def plot_std_by_layer(
    ax: Axes,
    results: Mapping[str, Propagation],
    quantity: str = "h",
    *,
    colors: Sequence[str] = _COLORS,
) -> None:
    """Standard deviation of `quantity` per layer: dots measured, lines predicted, log scale.

    One colour per entry of `results` (label -> Propagation); the line is
    ``results[label][quantity].predicted_std``, the dots ``.std``. Each line carries the label.
    """
    _check_quantity(quantity)
    results = _check_results(results)
    values = []
    for color, (label, res) in zip(colors, results.items(), strict=False):
        stats = res[quantity]
        ax.plot(res.layers, stats.predicted_std, "-", color=color, lw=1.2, label=label)
        ax.plot(res.layers, stats.std, "o", color=color, ms=3.5)
        values.extend([stats.std, stats.predicted_std])
    ax.set_yscale("log")
    ax.set_ylim(*log_limits(np.concatenate(values)))
    ax.yaxis.set_minor_formatter(NullFormatter())  # label the powers of ten only
    ax.set_xlabel("layer l")
    ax.set_ylabel(f"std of {QUANTITY_LABELS[quantity].split()[-1]}")


def _panel_title(label: str, res: Propagation, quantity: str) -> str:
    stats = res[quantity]
    title = f"{label}\nlayer {res.depth}: std {stats.std[-1]:.2g}"
    if res.activation in ("tanh", "sigmoid") and quantity == "h":
        title += f", {res.saturated[-1]:.0%} sat."
    return title


def draw_depth_overview(
    fig: Figure,
    results: Mapping[str, Propagation],
    quantity: str = "h",
    *,
    layers: Sequence[int] | None = None,
    ylim: tuple[float, float] | None = None,
) -> None:
    """Per-layer histograms of each run side by side, then one panel of their stds per layer.

    Panel ``k`` shows :func:`plot_layer_histograms` of ``results[label][quantity]`` with the
    label, the last layer's measured standard deviation and, for tanh activations, its share of
    saturated units in the title; the last panel is :func:`plot_std_by_layer` of all runs, with
    the vertical limits `ylim` if given (fixed limits keep a slider's frames comparable).
    """
    _check_quantity(quantity)
    results = _check_results(results)
    n = len(results)
    axes = fig.subplots(1, n + 1, gridspec_kw={"width_ratios": [1.0] * n + [1.3]})
    for k, (label, res) in enumerate(results.items()):
        ax = axes[k]
        plot_layer_histograms(ax, res[quantity], layers)
        ax.set_title(_panel_title(label, res, quantity), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_size(8)
        if k == 0:
            ax.set_ylabel("density", fontsize=8)
            ax.legend(fontsize=6, loc="upper left", handlelength=1.2, frameon=False)
    ax = axes[-1]
    plot_std_by_layer(ax, results, quantity)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_title("std per layer\n(dots measured, lines theory)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.label.set_size(8)
    ax.yaxis.label.set_size(8)
    ax.legend(fontsize=6, loc="best", frameon=False)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.8, wspace=0.35)


def draw_std_panels(
    fig: Figure,
    results: Mapping[str, Propagation],
    quantities: Sequence[str] = ("h", "dz"),
    *,
    titles: Sequence[str] | None = None,
    shade_layers: Sequence[int] = (),
    ylim: tuple[float, float] | None = None,
) -> None:
    """One :func:`plot_std_by_layer` panel per quantity, every run in each panel.

    `shade_layers` are shaded grey in every panel (the narrow layers of a network whose widths
    alternate, say); `titles` default to the quantities' names.
    """
    results = _check_results(results)
    quantities = [_check_quantity(q) for q in quantities]
    if not quantities:
        raise ValueError("quantities must name at least one quantity")
    if titles is None:
        titles = [QUANTITY_LABELS[q] for q in quantities]
    if len(titles) != len(quantities):
        raise ValueError(f"titles must have one entry per quantity ({len(quantities)})")
    axes = np.atleast_1d(fig.subplots(1, len(quantities)))
    for ax, quantity, title in zip(axes, quantities, titles, strict=True):
        for layer in shade_layers:
            ax.axvspan(layer - 0.5, layer + 0.5, color="0.9", lw=0, zorder=0)
        plot_std_by_layer(ax, results, quantity)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=7, frameon=False)
    fig.tight_layout()


def draw_depth_explorer(
    fig: Figure,
    activation: str = "tanh",
    init: str = "LeCun 1/n",
    depth: int = 10,
    width: int = 500,
    *,
    batch: int = 256,
    seed: int = 0,
    ylim: tuple[float, float] | None = None,
) -> None:
    """The chapter's widget: one network of `depth` layers of `width` units, `init`'s weights.

    Runs :func:`weightinit.depth.deep_signal` (forward only) on a standard normal batch drawn
    from ``np.random.default_rng(seed)`` and draws :func:`draw_depth_overview` of the quantity
    :func:`weightinit.depth.signal_quantity` picks (``h`` for tanh, ``z`` for ReLU), with the
    settings in the figure's title.
    """
    sizes = [int(width)] * (int(depth) + 1)
    res = deep_signal(activation, init, sizes, batch=batch, rng=seed, backward=False)
    draw_depth_overview(fig, {init: res}, signal_quantity(activation), ylim=ylim)
    fig.suptitle(f"{activation}, {init}: depth {depth}, width {width}", fontsize=10)
