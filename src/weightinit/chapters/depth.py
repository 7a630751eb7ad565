"""Signals through depth: the initializers of the chapter "Keeping the signal alive through
depth", deep runs built on :func:`weightinit.simulation.propagation.propagate`, and the few numbers
the chapter states that propagation does not compute itself.

- :data:`INITIALIZERS` and :func:`weight_variance`, :func:`initializer`: the named weight
  distributions the chapter compares, from a fixed standard deviation (0.01, 1) to LeCun, Glorot
  and He, and the old range ``U(-1/sqrt(n), 1/sqrt(n))``;
- :func:`fan_rule`, :func:`alternating_widths`, :func:`wrong_fan_ratio`,
  :func:`zigzag_ratio`: "which n?", settled on a network whose widths change;
- :func:`deep_signal`: a standard normal batch pushed through a deep MLP
  (:func:`~weightinit.simulation.propagation.propagate`), the theory beside every measurement;
- :func:`tanh_std_asymptote`: the slow ``1/sqrt(2 l)`` decay of a tanh network at
  ``n Var(w) = 1``.

The per-layer factors themselves (``n Var(w)``, ``n Var(w) / 2``) come from
:func:`weightinit.simulation.theory.variance_factor` and the whole per-layer prediction from
:func:`weightinit.simulation.theory.predict`; this module does not re-derive them.

References
----------
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
   human-level performance on ImageNet classification", ICCV 2015.
.. [LeCun98] Y. LeCun, L. Bottou, G. B. Orr, K.-R. Müller, "Efficient BackProp", 1998.

Figures. Each ``draw_*`` function draws a whole figure on a matplotlib
:class:`~matplotlib.figure.Figure` it is given, so that one function serves a static figure, the
live controls (:func:`weightinit.chapters.display.live_controls`) and the precomputed slider
(:func:`weightinit.chapters.display.frames_slider`). The ``plot_*`` helpers draw on one axes. All
numbers come from :class:`weightinit.simulation.propagation.Propagation` results (measured beside
predicted), made by :func:`deep_signal`.

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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from .._validate import as_generator, as_real, as_shape, choice
from ..initializers import MODES, variance_scaling
from ..simulation.propagation import QUANTITIES, InitLike, LayerStats, Propagation, propagate

__all__ = [
    "INITIALIZERS",
    "weight_variance",
    "initializer",
    "fan_rule",
    "alternating_widths",
    "deep_signal",
    "signal_quantity",
    "end_to_end_ratios",
    "wrong_fan_ratio",
    "zigzag_ratio",
    "tanh_std_asymptote",
    "QUANTITY_LABELS",
    "default_layers",
    "log_limits",
    "plot_layer_histograms",
    "plot_std_by_layer",
    "draw_depth_overview",
    "draw_std_panels",
    "draw_depth_explorer",
]

#: The initializers the chapter compares, in increasing order of variance for a square layer:
#: name -> ``{"std": s}`` (a normal of fixed standard deviation, whatever the layer) or the
#: ``variance_scaling`` arguments ``{"scale", "mode", "distribution"}`` (variance scale / fan).
#: ``"uniform 1/sqrt(n)"`` is ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``: scale 1/3, because a
#: uniform of limit ``a`` has variance ``a^2 / 3`` (Glorot and Bengio's "standard"
#: initialization [Glorot10]_, and PyTorch's ``nn.Linear`` default).
INITIALIZERS: dict[str, dict] = {
    "std 0.01": {"std": 0.01},
    "uniform 1/sqrt(n)": {"scale": 1.0 / 3.0, "mode": "fan_in", "distribution": "uniform"},
    "LeCun 1/n": {"scale": 1.0, "mode": "fan_in", "distribution": "normal"},
    "Xavier": {"scale": 1.0, "mode": "fan_avg", "distribution": "normal"},
    "He 2/n": {"scale": 2.0, "mode": "fan_in", "distribution": "normal"},
    "std 1": {"std": 1.0},
}

Initializer = Callable[..., np.ndarray]


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def weight_variance(name: str, fan_in: int, fan_out: int) -> float:
    """The variance of the weights that initializer `name` draws for a ``fan_in -> fan_out`` layer.

    ``std s``: :math:`s^2`; otherwise :math:`\\text{scale}/n` with ``n`` the fan of its mode
    (``fan_avg`` is :math:`(n_{in} + n_{out})/2`), as in
    :func:`~weightinit.initializers.variance_scaling`:

    - ``"uniform 1/sqrt(n)"``: :math:`1/(3\\,n_{in})` [Glorot10]_;
    - ``"LeCun 1/n"``: :math:`1/n_{in}` [LeCun98]_;
    - ``"Xavier"``: :math:`2/(n_{in} + n_{out})` [Glorot10]_;
    - ``"He 2/n"``: :math:`2/n_{in}` [He15]_.

    Parameters
    ----------
    name : str
        A key of :data:`INITIALIZERS`.
    fan_in, fan_out : int
        The layer's number of inputs and of units.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For an unknown name or a non-positive fan.

    Examples
    --------
    >>> weight_variance("Xavier", 500, 100)  # 2 / 600
    0.0033333333333333335
    """
    spec = INITIALIZERS[choice(name, "name", tuple(INITIALIZERS))]
    fan_in, fan_out = _positive_int(fan_in, "fan_in"), _positive_int(fan_out, "fan_out")
    if "std" in spec:
        return float(spec["std"]) ** 2
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[spec["mode"]]
    return float(spec["scale"]) / n


def initializer(name: str) -> Initializer:
    """The initializer `name` of :data:`INITIALIZERS` as a function ``init(shape, rng=None)``.

    The result suits :func:`weightinit.simulation.propagation.make_weights` and
    :func:`~weightinit.simulation.propagation.propagate`. A ``std`` entry draws
    ``rng.normal(0, std, shape)``; the others call
    :func:`~weightinit.initializers.variance_scaling` with their arguments.

    Raises
    ------
    ValueError
        For an unknown name.

    Examples
    --------
    >>> w = initializer("uniform 1/sqrt(n)")((400, 300), rng=0)
    >>> bool(abs(w).max() <= 1 / 400**0.5)
    True
    """
    spec = dict(INITIALIZERS[choice(name, "name", tuple(INITIALIZERS))])

    if "std" in spec:
        std = float(spec["std"])

        def draw(shape, rng=None):
            return as_generator(rng).normal(0.0, std, size=as_shape(shape))

    else:

        def draw(shape, rng=None):
            return variance_scaling(shape, rng=rng, **spec)

    draw.__name__ = draw.__qualname__ = name
    return draw


def fan_rule(mode: str, scale: float = 2.0) -> Initializer:
    """Normal weights of variance ``scale / n``, ``n`` the fan that `mode` names.

    ``fan_rule("fan_in")`` is He's rule, :math:`\\mathrm{Var}(w) = 2/n_{in}`;
    ``fan_rule("fan_out")`` counts the units of the layer being initialized (the "nodes in the
    next layer"), ``2/n_{out}``, which is He's backward condition [He15]_.

    Parameters
    ----------
    mode : {"fan_in", "fan_out", "fan_avg"}
    scale : float, default 2.0
        Positive; 2 suits ReLU, 1 a linear network.

    Returns
    -------
    callable
        ``init(shape, rng=None)``, a :func:`~weightinit.initializers.variance_scaling` with
        ``distribution="normal"``.
    """
    choice(mode, "mode", MODES)
    scale = as_real(scale, "scale", minimum=0.0, strict=True)

    def draw(shape, rng=None):
        return variance_scaling(shape, scale, mode, "normal", rng)

    draw.__name__ = draw.__qualname__ = f"{scale:g}/{mode}"
    return draw


def alternating_widths(wide: int, narrow: int, depth: int) -> list[int]:
    """Layer sizes ``(n_0, ..., n_L)`` that alternate: ``wide, narrow, wide, narrow, ...``.

    The input has width `wide`, so the odd layers ``1, 3, ...`` are narrow and the even ones
    wide. Such a network tells "n = fan-in" from "n = fan-out": they differ by the factor
    ``wide / narrow`` at every layer.

    Examples
    --------
    >>> alternating_widths(500, 100, 4)
    [500, 100, 500, 100, 500]
    """
    wide, narrow = _positive_int(wide, "wide"), _positive_int(narrow, "narrow")
    depth = _positive_int(depth, "depth")
    return [wide if i % 2 == 0 else narrow for i in range(depth + 1)]


def signal_quantity(activation: str) -> str:
    """Which per-layer quantity the chapter follows: ``"z"`` for ReLU, ``"h"`` otherwise.

    Half of a ReLU layer's outputs are exactly 0, so its histogram is a spike plus a half
    normal; the pre-activation ``z_l``, the input of the ReLU, shows the same shrinking or
    growth as a symmetric bell.
    """
    if not isinstance(activation, str):
        raise ValueError(f"activation must be a name such as 'tanh' or 'relu', got {activation!r}")
    return "z" if activation in ("relu", "leaky_relu") else "h"


def deep_signal(
    activation: str,
    init: str | InitLike,
    layer_sizes: Sequence[int],
    *,
    batch: int = 256,
    rng: np.random.Generator | int | None = None,
    backward: bool = False,
    histograms: bool = True,
    edges: Mapping[str, np.ndarray] | None = None,
) -> Propagation:
    """Push a standard normal batch through a deep MLP initialized by `init`; record every layer.

    ``x`` of shape ``(batch, n_0)`` is drawn first from `rng`, then the weights (and, with
    `backward`, a standard normal ``dL/dh_L``), all by
    :func:`~weightinit.simulation.propagation.propagate`, which records each layer's statistics
    beside the theory's prediction.

    Parameters
    ----------
    activation : str
        A name of :data:`weightinit.activations.ACTIVATIONS`.
    init : str or initializer
        A key of :data:`INITIALIZERS`, or anything ``propagate`` accepts (a callable
        ``init(shape, rng=...)``, the name of a :mod:`weightinit.initializers` function, a
        standard deviation).
    layer_sizes : sequence of int
        ``(n_0, ..., n_L)``.
    batch : int, default 256
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.
    backward, histograms, edges
        Passed to :func:`~weightinit.simulation.propagation.propagate`.

    Returns
    -------
    weightinit.simulation.propagation.Propagation
    """
    gen = as_generator(rng)
    batch = _positive_int(batch, "batch")
    if isinstance(init, str) and init in INITIALIZERS:
        init = initializer(init)
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise ValueError(f"layer_sizes must be a sequence of positive widths, got {layer_sizes!r}")
    if len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes must hold the input width and >= 1 layer: {layer_sizes!r}")
    n0 = _positive_int(layer_sizes[0], "layer_sizes[0]")
    x = gen.standard_normal((batch, n0))
    return propagate(
        x,
        init,
        activation,
        layer_sizes=list(layer_sizes),
        rng=gen,
        backward=backward,
        histograms=histograms,
        edges=edges,
    )


def end_to_end_ratios(
    activation: str,
    init: str | InitLike,
    layer_sizes: Sequence[int],
    networks: int,
    *,
    batch: int = 32,
    rng: np.random.Generator | int | None = None,
    quantity: str | None = None,
) -> np.ndarray:
    """``std(last layer) / std(layer 1)`` of `quantity` in `networks` independently drawn networks.

    The theory predicts the average over the draw of the weights; one network of finite width
    wanders around it, by a random factor that grows with depth and shrinks with width. This
    measures that factor: each network gets fresh weights and a fresh standard normal batch
    (:func:`deep_signal`, forward only, no histograms), all from `rng` in order.

    Parameters
    ----------
    activation, init, layer_sizes
        As in :func:`deep_signal`.
    networks : int
        How many networks to draw.
    batch : int, default 32
        Rows of each batch (the wander comes from the weights; a small batch suffices).
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.
    quantity : {"z", "h"}, optional
        Default :func:`signal_quantity` of the activation.

    Returns
    -------
    numpy.ndarray
        ``(networks,)`` ratios.
    """
    gen = as_generator(rng)
    networks = _positive_int(networks, "networks")
    quantity = signal_quantity(activation) if quantity is None else choice(
        quantity, "quantity", ("z", "h")
    )
    ratios = np.empty(networks)
    for k in range(networks):
        res = deep_signal(activation, init, layer_sizes, batch=batch, rng=gen, histograms=False)
        stats = res[quantity]
        ratios[k] = stats.std[-1] / stats.std[0]
    return ratios


def wrong_fan_ratio(layer_sizes: Sequence[int], direction: str = "forward") -> np.ndarray:
    """How far the other fan's rule puts each layer, for a linear or ReLU network.

    With ``Var(w_l) = c / n`` and the per-layer factors of
    :func:`~weightinit.simulation.theory.variance_factor`, the forward factor of layer ``l`` is
    ``n_{l-1} Var(w_l) c'`` and the backward one ``n_l Var(w_l) c'``. The fan-in rule makes the
    forward factor exactly 1, the fan-out rule the backward one. The other rule's factors are
    width ratios, whose product telescopes [He15]_:

    .. math::

        \\frac{\\mathrm{Var}_{\\text{fan-out}}(z_l)}{\\mathrm{Var}_{\\text{fan-in}}(z_l)}
        = \\prod_{k=1}^{l} \\frac{n_{k-1}}{n_k} = \\frac{n_0}{n_l}, \\qquad
        \\frac{\\mathrm{Var}_{\\text{fan-in}}(\\partial L/\\partial z_l)}
        {\\mathrm{Var}_{\\text{fan-out}}(\\partial L/\\partial z_l)} = \\frac{n_L}{n_l} .

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_0, ..., n_L)``.
    direction : {"forward", "backward"}
        ``"forward"``: the fan-out rule's variance of ``z_l`` over the fan-in rule's;
        ``"backward"``: the fan-in rule's variance of ``dL/dz_l`` over the fan-out rule's.

    Returns
    -------
    numpy.ndarray
        ``(L,)``: entry ``l - 1`` is layer ``l``.

    Examples
    --------
    >>> wrong_fan_ratio([500, 100, 500], "forward").tolist()
    [5.0, 1.0]
    """
    choice(direction, "direction", ("forward", "backward"))
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise ValueError(f"layer_sizes must be a sequence of positive widths, got {layer_sizes!r}")
    sizes = np.array([_positive_int(n, "every entry of layer_sizes") for n in layer_sizes], float)
    if sizes.size < 2:
        raise ValueError(f"layer_sizes must hold the input width and >= 1 layer: {layer_sizes!r}")
    reference = sizes[0] if direction == "forward" else sizes[-1]
    return reference / sizes[1:]


def zigzag_ratio(values: Sequence[float], layer_sizes: Sequence[int]) -> float:
    """Geometric mean of `values` over the narrowest layers divided by that over the widest.

    For a network of :func:`alternating_widths`, the factor by which a quantity (a variance per
    layer) is larger in the narrow layers than in the wide ones; 1 when the widths make no
    difference. Layer ``l`` (entry ``l - 1`` of `values`) has width ``layer_sizes[l]``.

    Raises
    ------
    ValueError
        If the lengths do not match, all layers have the same width, or a value is not
        positive.

    Examples
    --------
    >>> round(zigzag_ratio([10.0, 2.0, 10.0, 2.0], [500, 100, 500, 100, 500]), 12)
    5.0
    """
    v = np.asarray(values, dtype=np.float64)
    widths = np.asarray(layer_sizes)[1:]
    if v.ndim != 1 or v.shape != widths.shape:
        raise ValueError(
            f"values must hold one number per layer: {widths.size} layers from layer_sizes, "
            f"got shape {v.shape}"
        )
    narrow, wide = widths == widths.min(), widths == widths.max()
    if not narrow.any() or np.array_equal(narrow, wide):
        raise ValueError(f"layer_sizes must have layers of different widths, got {layer_sizes!r}")
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"values must be positive and finite, got {values!r}")
    return float(np.exp(np.mean(np.log(v[narrow])) - np.mean(np.log(v[wide]))))


def tanh_std_asymptote(layer: int | np.ndarray) -> float | np.ndarray:
    """``1/sqrt(2 l)``: about the std of ``h_l`` in a deep tanh network with ``n Var(w) = 1``.

    For ``z ~ N(0, q)`` with small ``q``, :math:`\\tanh(z)^2 = z^2 - \\tfrac23 z^4 + O(z^6)`, so
    :math:`E[\\tanh(z)^2] = q - 2q^2 + O(q^3)`. With ``n Var(w) = 1`` each layer maps
    ``q -> q - 2 q^2``, i.e. ``1/q -> 1/q + 2 + O(q)``, so after ``l`` layers ``q`` is about
    ``1/(2 l)``, whatever it started at. The signal decays like a power of the depth, not
    exponentially; the decay stops only if each layer gains a little (the tanh gain 5/3).

    Parameters
    ----------
    layer : int or array of int
        Layer number(s) ``l >= 1``.

    Returns
    -------
    float or numpy.ndarray
    """
    arr = np.asarray(layer)
    if arr.dtype.kind not in "iu" or np.any(arr < 1):
        raise ValueError(f"layer must be a positive integer (or array of them), got {layer!r}")
    out = 1.0 / np.sqrt(2.0 * arr)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


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

    The curves are the rows of :meth:`~weightinit.simulation.propagation.LayerStats.density` at the
    bin centres; the bins are the same for every layer, so a layer whose values pile up near 0
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

    Runs :func:`weightinit.chapters.depth.deep_signal` (forward only) on a standard normal batch
    drawn from ``np.random.default_rng(seed)`` and draws :func:`draw_depth_overview` of the quantity
    :func:`weightinit.chapters.depth.signal_quantity` picks (``h`` for tanh, ``z`` for ReLU), with
    the settings in the figure's title.
    """
    sizes = [int(width)] * (int(depth) + 1)
    res = deep_signal(activation, init, sizes, batch=batch, rng=seed, backward=False)
    draw_depth_overview(fig, {init: res}, signal_quantity(activation), ylim=ylim)
    fig.suptitle(f"{activation}, {init}: depth {depth}, width {width}", fontsize=10)
