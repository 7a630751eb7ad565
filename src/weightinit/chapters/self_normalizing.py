"""Chapter 11, "Let the data set the scale: LSUV, and networks that normalize themselves": the
numbers it states and the figures it draws.

- LSUV against a fixed formula on the same batch (:func:`compare_with_lsuv`), per layer, with
  the spread of each layer's output split into a fixed offset per unit and the part that varies
  with the example (:func:`weightinit.simulation.normalizing.offset_and_signal`);
- SELU through deep LeCun, He and Xavier networks from several input scales
  (:func:`selu_depth`), beside the mean-field map's prediction;
- the frameworks' default dense-layer initializers (:data:`FRAMEWORK_DEFAULTS`), their variances
  (:func:`framework_variance`) and what PyTorch's does to a deep ReLU network
  (:func:`deep_relu_network`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from .._validate import as_generator, as_positive_int, choice
from ..initializers import variance_scaling
from ..simulation.lsuv import LsuvResult, lsuv_run
from ..simulation.normalizing import (
    OffsetSignal,
    iterate_second_moment,
    linear_outputs,
    offset_and_signal,
)
from ..simulation.propagation import make_weights, propagate
from ..simulation.theory import gaussian_moments
from .display import REFERENCE_COLOR, SAMPLE_COLOR, THEORY_COLOR
from .saturation import PYTORCH_LINEAR_DEFAULT, pytorch_linear_default_bound

__all__ = [
    "FIXED_RULE",
    "LsuvComparison",
    "compare_with_lsuv",
    "draw_lsuv",
    "SeluDepth",
    "selu_depth",
    "draw_selu",
    "FRAMEWORK_DEFAULTS",
    "framework_variance",
    "framework_weights",
    "DeepRelu",
    "deep_relu_network",
    "per_layer_factor",
]

#: The fixed formula LSUV is compared with, per activation: He for ReLU, LeCun otherwise.
FIXED_RULE = {"relu": "he_normal", "tanh": "lecun_normal", "linear": "lecun_normal"}


class LsuvComparison(NamedTuple):
    """One batch, one architecture: the fixed formula's layers and LSUV's, layer by layer.

    Attributes
    ----------
    fixed, lsuv : list of OffsetSignal
        Each layer's linear output ``z_l`` split into total spread, per-unit offset and
        example-to-example signal.
    run : LsuvResult
        LSUV's own record (stds before and after, iterations, forward passes).
    """

    fixed: list[OffsetSignal]
    lsuv: list[OffsetSignal]
    run: LsuvResult


def compare_with_lsuv(
    x: np.ndarray,
    layer_sizes: Sequence[int],
    activation: str,
    rng: np.random.Generator | int | None = None,
    tol: float = 0.05,
) -> LsuvComparison:
    """Initialize the same bias-free MLP by the fixed rule (:data:`FIXED_RULE`) and by LSUV
    [MM15]_ (one generator, fixed rule first), and measure every layer's linear output on `x`."""
    choice(activation, "activation", tuple(FIXED_RULE))
    gen = as_generator(rng)
    fixed_w = make_weights(FIXED_RULE[activation], layer_sizes, gen)
    run = lsuv_run(x, layer_sizes, activation, gen, tol=tol)
    fixed = [offset_and_signal(z) for z in linear_outputs(x, fixed_w, activation)]
    ls = [offset_and_signal(z) for z in linear_outputs(x, run.weights, activation)]
    return LsuvComparison(fixed, ls, run)


def draw_lsuv(fig: Figure, cases: Mapping[str, LsuvComparison]) -> None:
    """One panel per case: std of each layer's linear output, fixed rule against LSUV (solid:
    total; dotted: the example-to-example part)."""
    axes = fig.subplots(1, len(cases), sharey=True, squeeze=False)[0]
    for ax, (title, case) in zip(axes, cases.items(), strict=True):
        layers = np.arange(1, len(case.lsuv) + 1)
        ax.semilogy(layers, [s.total for s in case.fixed], "o-", color=THEORY_COLOR,
                    label="fixed rule: total")
        ax.semilogy(layers, [s.signal for s in case.fixed], "o:", color=THEORY_COLOR,
                    label="fixed rule: per example")
        ax.semilogy(layers, [s.total for s in case.lsuv], "s-", color=SAMPLE_COLOR,
                    label="LSUV: total")
        ax.semilogy(layers, [s.signal for s in case.lsuv], "s:", color=SAMPLE_COLOR,
                    label="LSUV: per example")
        ax.axhline(1.0, color=REFERENCE_COLOR, lw=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("layer")
    axes[0].set_ylabel("std of the linear output $z_l$")
    axes[0].legend(fontsize=7, loc="best")


class SeluDepth(NamedTuple):
    """Mean and std of every layer's activations (``(depth,)`` each) for one start, and the
    mean-field prediction of that std."""

    mean: np.ndarray
    std: np.ndarray
    predicted_std: np.ndarray


def selu_depth(
    init: str | Sequence[np.ndarray],
    input_std: float,
    layer_sizes: Sequence[int],
    batch: int,
    rng: np.random.Generator | int | None = None,
) -> SeluDepth:
    """Push ``N(0, input_std^2)`` inputs through a bias-free SELU MLP whose weights `init` draws
    (a name :func:`~weightinit.simulation.propagation.make_weights` knows), recording the
    activations' mean and std; the prediction is
    :func:`~weightinit.simulation.normalizing.iterate_second_moment` with the initializer's
    measured scale :math:`n_{l-1}\\,\\overline{w_l^2}` of every layer, turned into the std of
    :math:`\\mathrm{selu}(z_l)`."""
    gen = as_generator(rng)
    batch = as_positive_int(batch, "batch")
    sizes = list(layer_sizes)
    x = gen.normal(0.0, input_std, size=(batch, sizes[0]))
    weights = make_weights(init, sizes, gen) if isinstance(init, str) else list(init)
    result = propagate(x, weights, "selu", backward=False, histograms=False)
    scales = [w.shape[0] * float(np.mean(w**2)) for w in weights]
    q = iterate_second_moment("selu", input_std**2, len(weights), scales)
    moments = [gaussian_moments("selu", v) for v in q]
    predicted = np.sqrt([max(m2 - m1 * m1, 0.0) for m1, m2, _, _ in moments])
    return SeluDepth(result.h.mean, result.h.std, predicted)


def draw_selu(fig: Figure, runs: Mapping[str, Mapping[float, SeluDepth]]) -> None:
    """One panel per initializer: the activations' std per layer for each input std (solid),
    the mean-field prediction for the pre-activations (dashed), the fixed point 1."""
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    colors = ["#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974"]
    for ax, (title, by_start) in zip(axes, runs.items(), strict=True):
        for color, (start, run) in zip(colors, by_start.items(), strict=False):
            layers = np.arange(1, len(run.std) + 1)
            ax.semilogy(layers, run.std, "-", color=color, label=f"input std {start:g}")
            ax.semilogy(layers, run.predicted_std, "--", color=color, lw=0.8)
        ax.axhline(1.0, color=REFERENCE_COLOR, lw=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("layer")
    axes[0].set_ylabel("std of the activations")
    axes[0].legend(fontsize=7)


# --------------------------------------------------------------------------------------------
# Framework defaults
# --------------------------------------------------------------------------------------------

#: The default kernel initializer of a dense layer in three frameworks, as ``variance_scaling``
#: arguments, with the code a reader would write (shown on the page, not run: the book does not
#: install these frameworks). PyTorch's ``nn.Linear`` calls ``kaiming_uniform_(w, a=sqrt(5))``;
#: Keras' ``Dense`` uses ``glorot_uniform``; Flax's ``nn.Dense`` uses ``lecun_normal()``, a
#: truncated normal.
FRAMEWORK_DEFAULTS: dict[str, dict] = {
    "PyTorch nn.Linear": {
        "spec": dict(PYTORCH_LINEAR_DEFAULT),
        "listing": "layer = torch.nn.Linear(fan_in, fan_out)  # weight is (fan_out, fan_in)\n"
                   "# same as: torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5))",
        "weightinit": "variance_scaling((fan_in, fan_out), 1/3, 'fan_in', 'uniform', rng)",
    },
    "Keras Dense": {
        "spec": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"},
        "listing": "layer = keras.layers.Dense(fan_out)  # kernel_initializer='glorot_uniform'\n"
                   "# same as: keras.initializers.GlorotUniform()",
        "weightinit": "variance_scaling((fan_in, fan_out), 1.0, 'fan_avg', 'uniform', rng)",
    },
    "Flax nn.Dense": {
        "spec": {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
        "listing": "layer = flax.linen.Dense(fan_out)  # kernel_init=lecun_normal()\n"
                   "# same as: jax.nn.initializers.variance_scaling(1.0, 'fan_in', "
                   "'truncated_normal')",
        "weightinit": "variance_scaling((fan_in, fan_out), 1.0, 'fan_in', 'truncated_normal', "
                      "rng)",
    },
}


def framework_variance(name: str, fan_in: int, fan_out: int) -> float:
    """The variance the framework's default gives a ``(fan_in, fan_out)`` dense kernel:
    ``scale / n`` with ``n`` the fan its mode selects."""
    spec = FRAMEWORK_DEFAULTS[choice(name, "name", tuple(FRAMEWORK_DEFAULTS))]["spec"]
    fan_in, fan_out = as_positive_int(fan_in, "fan_in"), as_positive_int(fan_out, "fan_out")
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[spec["mode"]]
    return spec["scale"] / n


def framework_weights(
    name: str, shape: tuple[int, int], rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Draw a kernel as the framework's default does, through
    :func:`weightinit.initializers.variance_scaling`."""
    spec = FRAMEWORK_DEFAULTS[choice(name, "name", tuple(FRAMEWORK_DEFAULTS))]["spec"]
    return variance_scaling(shape, rng=rng, **spec)


class DeepRelu(NamedTuple):
    """A deep ReLU network under one initializer: the mean square of each hidden layer's
    activations, and the last layer's output split into offset and per-example signal."""

    mean_squares: np.ndarray
    last: OffsetSignal


def deep_relu_network(
    name: str,
    x: np.ndarray,
    width: int,
    depth: int,
    rng: np.random.Generator | int | None = None,
    *,
    pytorch_bias: bool = False,
) -> DeepRelu:
    """`depth` ReLU layers of `width` units with the framework's default kernels (and, with
    `pytorch_bias`, PyTorch's default bias :math:`U(-1/\\sqrt{n}, 1/\\sqrt{n})`, else zero).

    Returns the mean square of every hidden layer's activations (what
    :func:`~weightinit.chapters.learning.layer_mean_squares` computes, in one pass) and the last
    hidden layer's output split by :func:`~weightinit.simulation.normalizing.offset_and_signal`.
    """
    gen = as_generator(rng)
    width, depth = as_positive_int(width, "width"), as_positive_int(depth, "depth")
    sizes = [x.shape[1]] + [width] * depth + [1]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        W = framework_weights(name, (fan_in, fan_out), gen)
        if pytorch_bias:
            bound = pytorch_linear_default_bound(fan_in)
            b = gen.uniform(-bound, bound, fan_out)
        else:
            b = np.zeros(fan_out)
        params.append((W, b))
    h, ms = np.asarray(x, dtype=np.float64), []
    for W, b in params[:-1]:
        h = np.maximum(h @ W + b, 0.0)
        ms.append(float(np.mean(h * h)))
    return DeepRelu(np.array(ms), offset_and_signal(h))


def per_layer_factor(mean_squares: np.ndarray, input_mean_square: float) -> float:
    """Geometric-mean factor by which one layer multiplies the mean square:
    :math:`(m_L / m_0)^{1/L}`."""
    ms = np.asarray(mean_squares, dtype=np.float64)
    return float(math.exp(math.log(ms[-1] / input_mean_square) / len(ms)))
