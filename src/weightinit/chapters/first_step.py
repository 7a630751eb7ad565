"""Chapter 12, "The first step: what a good initialization looks like in the loss": the runs
it measures and the figures it draws.

- :func:`output_scale_runs` and :func:`draw_output_scale`: the initial loss and the learning
  curve of a softmax network for several scales of its last layer (the chapter's slider);
- :func:`prior_bias_runs`: the first epochs on imbalanced data with and without the log-prior
  output bias;
- :func:`dead_share_grid` and :func:`draw_dead_shares`: ReLU units dead on a whole batch at
  initialization, by hidden bias and input mean;
- :func:`watch_inits` and :func:`draw_diagnostics`: per-layer activation spread, gradient spread
  and update-to-data ratio after a few steps, a figure to reuse on any network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .._validate import as_generator
from ..simulation.first_step import (
    FirstSteps,
    log_prior_bias,
    watch_training,
    with_hidden_bias,
    with_output,
)
from ..simulation.training import init_mlp, train
from .display import REFERENCE_COLOR, SAMPLE_COLOR, THEORY_COLOR
from .learning import dead_unit_share

__all__ = [
    "output_scale_runs",
    "draw_output_scale",
    "prior_bias_runs",
    "draw_prior_bias",
    "dead_share_grid",
    "draw_dead_shares",
    "watch_inits",
    "draw_diagnostics",
    "steps_above",
]


def output_scale_runs(
    X: np.ndarray,
    y: np.ndarray,
    layer_sizes: Sequence[int],
    scales: Sequence[float],
    *,
    lr: float,
    epochs: int,
    rng: int,
) -> dict[float, np.ndarray]:
    """Training-loss curves, one per output scale: the same He-initialized network (drawn from
    `rng`), its last layer multiplied by the scale (:func:`with_output`), trained by
    :func:`~weightinit.simulation.training.train`."""
    base = init_mlp(layer_sizes, "he", rng)
    return {
        float(s): train(X, y, with_output(base, s), lr=lr, epochs=epochs).loss for s in scales
    }


def steps_above(curve: np.ndarray, level: float) -> int:
    """Number of steps before the loss first falls to `level` or below (the length of the
    hockey stick's blade); ``len(curve)`` if it never does."""
    below = np.flatnonzero(np.asarray(curve) <= level)
    return int(below[0]) if below.size else len(curve)


def draw_output_scale(
    fig: Figure, scale: float, runs: Mapping[float, np.ndarray], uniform: float
) -> None:
    """Left: initial loss against output scale, `scale` highlighted, :math:`\\ln C` marked.
    Right: the learning curve at `scale` over the others (the hockey stick shows on a linear
    step axis, as in Karpathy's plots)."""
    left, right = fig.subplots(1, 2)
    scales = np.array(sorted(runs))
    left.loglog(scales, [runs[s][0] for s in scales], "o-", color=SAMPLE_COLOR)
    left.loglog([scale], [runs[scale][0]], "o", ms=10, color=THEORY_COLOR)
    left.axhline(uniform, color=REFERENCE_COLOR, ls="--", lw=1, label=r"$\ln C$")
    left.set_xlabel("output-layer scale")
    left.set_ylabel("loss at step 0")
    left.legend(fontsize=8)
    for s in scales:
        curve = runs[s]
        steps = np.arange(len(curve))
        if s == scale:
            right.semilogy(steps, curve, color=THEORY_COLOR, lw=2, label=f"scale {s:g}")
        else:
            right.semilogy(steps, curve, color="#bbbbbb", lw=0.8)
    right.axhline(uniform, color=REFERENCE_COLOR, ls="--", lw=1)
    right.set_xlabel("step")
    right.set_ylabel("training loss")
    right.legend(fontsize=8)
    fig.suptitle(f"output scale {scale:g}: initial loss {runs[scale][0]:.3g}", fontsize=10)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.86, wspace=0.3)


def prior_bias_runs(
    X: np.ndarray,
    y: np.ndarray,
    layer_sizes: Sequence[int],
    *,
    lr: float,
    epochs: int,
    rng: int,
    output_scale: float = 1.0,
) -> dict[str, np.ndarray]:
    """Loss curves from the same He network, its last layer scaled by `output_scale`
    (:func:`~weightinit.simulation.first_step.with_output`), with output bias 0 and with the
    log prior (:func:`~weightinit.simulation.first_step.log_prior_bias`)."""
    base = with_output(init_mlp(layer_sizes, "he", rng), output_scale)
    prior = log_prior_bias(y, layer_sizes[-1])
    return {
        "bias 0": train(X, y, base, lr=lr, epochs=epochs).loss,
        "bias = log prior": train(X, y, with_output(base, 1.0, prior), lr=lr, epochs=epochs).loss,
    }


def draw_prior_bias(ax, curves: Mapping[str, np.ndarray], entropy: float) -> None:
    """The loss curves of :func:`prior_bias_runs`, with the labels' entropy marked."""
    for color, (label, curve) in zip((THEORY_COLOR, SAMPLE_COLOR), curves.items(), strict=False):
        ax.plot(np.arange(len(curve)), curve, color=color, label=label)
    ax.axhline(entropy, color=REFERENCE_COLOR, ls="--", lw=1, label="entropy of the labels")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=8)


def dead_share_grid(
    layer_sizes: Sequence[int],
    biases: Sequence[float],
    input_means: Sequence[float],
    batch: int,
    rng: int,
    hidden: str = "relu",
) -> np.ndarray:
    """Share of dead units (zero on every row of the batch) per hidden layer.

    One He network (weights drawn once from `rng`); for each hidden bias and each input mean, a
    batch ``N(mean, 1)`` (drawn from ``rng + 1``, the same noise for every mean) and
    :func:`~weightinit.chapters.learning.dead_unit_share`.

    Returns
    -------
    numpy.ndarray, shape (len(biases), len(input_means), hidden layers)
    """
    base = init_mlp(layer_sizes, "he", rng)
    noise = as_generator(rng + 1).standard_normal((batch, layer_sizes[0]))
    out = np.empty((len(biases), len(input_means), len(layer_sizes) - 2))
    for i, b in enumerate(biases):
        params = with_hidden_bias(base, b)
        for j, m in enumerate(input_means):
            out[i, j] = dead_unit_share(params, noise + m, hidden)
    return out


def draw_dead_shares(
    fig: Figure,
    shares: np.ndarray,
    biases: Sequence[float],
    input_means: Sequence[float],
    theory: np.ndarray | None = None,
) -> None:
    """Left: first hidden layer's dead share against the input mean, one line per bias (with the
    theory dotted). Right: the same for the last hidden layer."""
    axes = fig.subplots(1, 2, sharey=True)
    colors = ["#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd"]
    for ax, layer, title in ((axes[0], 0, "first hidden layer"), (axes[1], -1,
                                                                    "last hidden layer")):
        for i, (b, color) in enumerate(zip(biases, colors, strict=False)):
            ax.plot(input_means, shares[i, :, layer], "o-", color=color, label=f"bias {b:g}")
            if theory is not None and layer == 0:
                ax.plot(input_means, theory[i], ":", color=color)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("mean of every input")
    axes[0].set_ylabel("share of units dead on the batch")
    axes[0].legend(fontsize=7)
    fig.tight_layout()


def watch_inits(
    X: np.ndarray,
    y: np.ndarray,
    layer_sizes: Sequence[int],
    schemes: Sequence[str],
    *,
    lr: float,
    steps: int,
    record_at: Sequence[int],
    rng: int,
) -> dict[str, FirstSteps]:
    """:func:`~weightinit.simulation.first_step.watch_training` for each scheme of
    :func:`~weightinit.simulation.training.init_mlp`, every scheme drawn from the same seed."""
    return {
        s: watch_training(X, y, init_mlp(layer_sizes, s, rng), lr=lr, steps=steps,
                          record_at=record_at)
        for s in schemes
    }


def draw_diagnostics(fig: Figure, watches: Mapping[str, FirstSteps]) -> None:
    """Three panels, layer on the x axis: activation std, weight-gradient std, update-to-data
    ratio (log scale, the :math:`10^{-3}` rule of thumb marked); one colour per
    initialization, one line style per recorded step."""
    axes = fig.subplots(1, 3)
    colors = ["#4c72b0", "#55a868", "#c44e52", "#8172b2"]
    styles = ["-", "--", ":", "-."]
    for color, (name, watch) in zip(colors, watches.items(), strict=False):
        for style, (step, rec) in zip(styles, sorted(watch.records.items()), strict=False):
            label = f"{name}, step {step}"
            hidden = np.arange(1, len(rec.activation_std) + 1)
            layers = np.arange(1, len(rec.gradient_std) + 1)
            axes[0].semilogy(hidden, rec.activation_std, style, color=color, marker="o",
                             ms=3, label=label)
            axes[1].semilogy(layers, rec.gradient_std, style, color=color, marker="o", ms=3)
            axes[2].semilogy(layers, rec.update_ratio, style, color=color, marker="o", ms=3)
    axes[2].axhline(1e-3, color=REFERENCE_COLOR, lw=1, ls="--")
    axes[0].set_title("activation std", fontsize=10)
    axes[1].set_title("weight-gradient std", fontsize=10)
    axes[2].set_title(r"update / data $\|\eta\,\partial W\| / \|W\|$", fontsize=10)
    axes[0].set_xlabel("hidden layer")
    for ax in axes[1:]:
        ax.set_xlabel("layer")
    axes[0].legend(fontsize=6, ncol=1)
    fig.tight_layout()
