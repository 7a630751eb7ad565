"""The backward pass's own condition: the computations of the chapter on gradients.

A layer ``z_l = h_{l-1} W_l``, ``h_l = f(z_l)`` with ``W_l`` of shape ``(n_{l-1}, n_l)`` and
zero-mean weights of variance ``v_l`` multiplies, on average over the draw of the weights,

- the variance of the forward signal by :math:`F_l = c\\,n_{l-1}\\,v_l` (a sum over the fan-in),
- the variance of the gradient flowing back by :math:`B_l = c\\,n_l\\,v_l` (a sum over the
  fan-out, ``dL/dh_{l-1} = dL/dz_l W_l^T``),

with ``c = 1`` for a linear unit and ``c = 1/2`` for ReLU [He15]_. Glorot and Bengio asked for
both factors to be 1, ``n_in Var(w) = 1`` and ``n_out Var(w) = 1``, and settled for
``Var(w) = 2 / (n_in + n_out)`` [Glorot10]_. He et al. observed that the products of the
factors over the whole network differ only by a ratio of widths:
:math:`\\prod_l B_l / \\prod_l F_l = \\prod_l n_l / n_{l-1}`, which telescopes
(:func:`end_to_end`).

For activations whose factors depend on the variance (tanh, SELU), :func:`variance_fixed_point`
and :func:`layer_factors_at` give the mean-field fixed point and the two factors there
[Klambauer17]_.

The training experiment (:func:`depth_training`) reproduces at small scale He et al.'s
observation that a 30-layer ReLU network learns with ``Var(w) = 2/n`` and stalls with
``1/n``; :func:`initial_gradients` measures the per-layer gradients of the actual loss at
initialization with :func:`weightinit.simulation.propagation.propagate`.

References
----------
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
   human-level performance on ImageNet classification", ICCV 2015, section 2.2.
.. [Klambauer17] G. Klambauer, T. Unterthiner, A. Mayr, S. Hochreiter, "Self-normalizing
   neural networks", NeurIPS 2017.

Figures. Every ``draw_*(fig, ...)`` function draws a whole figure on a matplotlib
:class:`~matplotlib.figure.Figure` it is given, so that one function serves a static figure, a
live slider (:func:`weightinit.chapters.display.live_slider`) and a precomputed one
(:func:`weightinit.chapters.display.frames_slider`). Dots (or markers) are measured, lines
predicted.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from scipy.optimize import brentq
from scipy.special import expit

from .._validate import as_generator, as_positive_int, as_real, choice
from ..activations import Activation, get_activation
from ..simulation.propagation import Propagation, propagate
from ..simulation.theory import gaussian_moments, variance_factor
from ..simulation.training import Params, TrainingResult, forward, init_mlp, train

__all__ = [
    "MODES",
    "EndToEnd",
    "fan_variances",
    "layer_factors",
    "end_to_end",
    "normal_weights",
    "deep_pass",
    "width_experiment",
    "layer_factors_at",
    "variance_fixed_point",
    "rescale",
    "he_and_lecun",
    "depth_training",
    "output_gradient",
    "initial_gradients",
    "GRADIENT_DEPTH_YLIM",
    "draw_gradient_depth",
    "draw_width_conditions",
    "draw_gain_depth",
    "draw_depth_training",
]

#: The fans a variance can be scaled by, with Keras' names.
MODES = ("fan_in", "fan_out", "fan_avg")


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _sizes(layer_sizes: Sequence[int], minimum_layers: int = 1) -> list[int]:
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise ValueError(
            f"layer_sizes must be a sequence of positive integers (n_0, ..., n_L), "
            f"got {layer_sizes!r}"
        )
    sizes = [as_positive_int(n, "every entry of layer_sizes") for n in layer_sizes]
    if len(sizes) < minimum_layers + 1:
        raise ValueError(
            f"layer_sizes must give the input width and at least {minimum_layers} layer(s), "
            f"got {list(layer_sizes)!r}"
        )
    return sizes


def _variances(weight_var: Sequence[float] | float, depth: int) -> np.ndarray:
    if isinstance(weight_var, numbers.Real) and not isinstance(weight_var, (bool, np.bool_)):
        v = np.full(depth, as_real(weight_var, "weight_var", minimum=0.0))
    else:
        v = np.asarray(weight_var, dtype=np.float64)
        if v.shape != (depth,):
            raise ValueError(
                f"weight_var must be one number or one variance per layer ({depth}), "
                f"got shape {v.shape}"
            )
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"weight_var must hold finite variances >= 0, got {v.tolist()!r}")
    return v


# --------------------------------------------------------------------------------------------
# Per-layer factors and their products
# --------------------------------------------------------------------------------------------


def fan_variances(
    layer_sizes: Sequence[int], scale: float = 1.0, mode: str = "fan_in"
) -> np.ndarray:
    """``Var(w_l) = scale / fan_l`` for every layer of an MLP (Keras' ``VarianceScaling``).

    .. math::

        \\mathrm{fan}_l = n_{l-1} \\;(\\text{fan\\_in}),\\quad n_l \\;(\\text{fan\\_out}),\\quad
        (n_{l-1} + n_l)/2 \\;(\\text{fan\\_avg}).

    ``scale = 1, "fan_in"`` is LeCun's rule, ``scale = 1, "fan_avg"`` Glorot's
    ``2 / (n_in + n_out)`` [Glorot10]_, ``scale = 2, "fan_in"`` He's ``2 / n_in`` [He15]_.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_0, n_1, ..., n_L)``.
    scale : float, default 1.0
        Positive.
    mode : {"fan_in", "fan_out", "fan_avg"}

    Returns
    -------
    numpy.ndarray, shape (L,)

    Examples
    --------
    >>> fan_variances([100, 300], 1.0, "fan_avg")
    array([0.005])
    """
    sizes = np.asarray(_sizes(layer_sizes), dtype=np.float64)
    scale = as_real(scale, "scale", minimum=0.0, strict=True)
    choice(mode, "mode", MODES)
    n_in, n_out = sizes[:-1], sizes[1:]
    fan = {"fan_in": n_in, "fan_out": n_out, "fan_avg": (n_in + n_out) / 2.0}[mode]
    return scale / fan


def layer_factors(
    layer_sizes: Sequence[int],
    weight_var: Sequence[float] | float,
    activation: str | Activation = "relu",
) -> tuple[np.ndarray, np.ndarray]:
    """Each layer's forward and backward variance factors, ``F_l = c n_{l-1} v_l`` and
    ``B_l = c n_l v_l``.

    ``c`` is :func:`weightinit.simulation.theory.variance_factor`'s constant: 1 for linear, 1/2 for
    ReLU, ``(1 + a^2)/2`` for a leaky ReLU of slope ``a`` [He15]_. ``F_l`` multiplies the
    variance of the signal on its way forward through layer ``l`` (``n`` = fan-in); ``B_l``
    multiplies the variance of the gradient on its way back through it (``n`` = fan-out).

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_0, ..., n_L)``.
    weight_var : float or sequence of float
        ``Var(w)`` of every layer, or one per layer.
    activation : {"linear", "relu", "leaky_relu"} or Activation

    Returns
    -------
    forward, backward : numpy.ndarray, shape (L,)

    Raises
    ------
    ValueError
        For an activation whose factor depends on the variance (use :func:`layer_factors_at`).

    Examples
    --------
    >>> f, b = layer_factors([64, 256, 64], [2 / 64, 2 / 256], "relu")
    >>> f.tolist(), b.tolist()
    [[1.0, 1.0], [4.0, 0.25]]
    """
    sizes = _sizes(layer_sizes)
    v = _variances(weight_var, len(sizes) - 1)
    fwd = np.array([variance_factor(activation, n, var, "forward")
                    for n, var in zip(sizes[:-1], v, strict=True)])
    bwd = np.array([variance_factor(activation, n, var, "backward")
                    for n, var in zip(sizes[1:], v, strict=True)])
    return fwd, bwd


@dataclass(frozen=True)
class EndToEnd:
    """The variance factors across a whole network, from layer 1 to layer L and back.

    Attributes
    ----------
    forward : float
        ``Var(z_L) / Var(z_1) = prod_{l=2}^{L} F_l``.
    backward : float
        ``Var(dL/dz_1) / Var(dL/dz_L) = prod_{l=2}^{L} B_l``.
    first_width, last_width : int
        ``n_1`` and ``n_L``.
    """

    forward: float
    backward: float
    first_width: int
    last_width: int

    @property
    def ratio(self) -> float:
        """``backward / forward``, which always equals ``n_L / n_1`` (the product telescopes)."""
        return self.backward / self.forward


def end_to_end(
    layer_sizes: Sequence[int],
    weight_var: Sequence[float] | float,
    activation: str | Activation = "relu",
) -> EndToEnd:
    """Products of the per-layer factors between the first and the last layer [He15]_.

    .. math::

        \\frac{\\mathrm{Var}(z_L)}{\\mathrm{Var}(z_1)} = \\prod_{l=2}^{L} c\\,n_{l-1} v_l,
        \\qquad
        \\frac{\\mathrm{Var}(\\partial L/\\partial z_1)}{\\mathrm{Var}(\\partial L/\\partial z_L)}
        = \\prod_{l=2}^{L} c\\,n_l v_l,

    and their ratio is :math:`\\prod_{l=2}^{L} n_l / n_{l-1} = n_L / n_1` whatever the
    variances: if every layer meets the forward condition ``c n_{l-1} v_l = 1``, the backward
    product is ``n_L / n_1``, a ratio of two widths rather than an exponential in depth
    (He et al.'s ``c_2 / d_L``), and vice versa.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_0, ..., n_L)`` with ``L >= 2``.
    weight_var : float or sequence of float
    activation : {"linear", "relu", "leaky_relu"} or Activation

    Returns
    -------
    EndToEnd

    Examples
    --------
    >>> e = end_to_end([2] + [32] * 30, 1 / 32, "relu")  # 30 layers, Var(w) = 1/n
    >>> e.forward == e.backward == 0.5 ** 29
    True
    """
    sizes = _sizes(layer_sizes, minimum_layers=2)
    fwd, bwd = layer_factors(sizes, weight_var, activation)
    return EndToEnd(
        forward=float(np.prod(fwd[1:])),
        backward=float(np.prod(bwd[1:])),
        first_width=sizes[1],
        last_width=sizes[-1],
    )


# --------------------------------------------------------------------------------------------
# Measurements with propagate
# --------------------------------------------------------------------------------------------


def normal_weights(
    layer_sizes: Sequence[int],
    weight_var: Sequence[float] | float,
    rng: np.random.Generator | int | None = None,
) -> list[np.ndarray]:
    """``W_l = sqrt(v_l) * standard normal`` of shape ``(n_{l-1}, n_l)``, first layer first.

    The standard normal draws depend only on `rng` and the shapes, so two calls with the same
    seed and different variances give the *same* random matrices rescaled: comparisons between
    initializations then differ by the scales alone.

    Parameters
    ----------
    layer_sizes : sequence of int
    weight_var : float or sequence of float
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.

    Returns
    -------
    list of numpy.ndarray
    """
    sizes = _sizes(layer_sizes)
    v = _variances(weight_var, len(sizes) - 1)
    gen = as_generator(rng)
    return [
        math.sqrt(var) * gen.standard_normal((a, b))
        for a, b, var in zip(sizes[:-1], sizes[1:], v, strict=True)
    ]


def deep_pass(
    activation: str | Activation,
    n_var_w: float,
    *,
    width: int = 256,
    depth: int = 30,
    batch: int = 64,
    rng: np.random.Generator | int | None = 0,
) -> Propagation:
    """Forward and backward statistics of an equal-width network with ``n Var(w) = n_var_w``.

    The input is a ``(batch, width)`` standard normal batch, the weights
    :func:`normal_weights` with ``Var(w) = n_var_w / width``, the output gradient a standard
    normal ``(batch, width)`` array, all from `rng` in that order; then
    :func:`weightinit.simulation.propagation.propagate` (no histograms).

    For ReLU the theory says the forward variance is multiplied by ``n_var_w / 2`` per layer
    and so is the backward one [He15]_; for a gain ``g`` (:func:`weightinit.calculate_gain`)
    pass ``n_var_w = g**2``.
    """
    width = as_positive_int(width, "width")
    depth = as_positive_int(depth, "depth")
    batch = as_positive_int(batch, "batch")
    n_var_w = as_real(n_var_w, "n_var_w", minimum=0.0)
    gen = as_generator(rng)
    x = gen.standard_normal((batch, width))
    sizes = [width] * (depth + 1)
    weights = normal_weights(sizes, n_var_w / width, gen)
    g = gen.standard_normal((batch, width))
    return propagate(x, weights, activation, grad_output=g, histograms=False)


def width_experiment(
    layer_sizes: Sequence[int],
    activation: str | Activation = "linear",
    scale: float = 1.0,
    *,
    modes: Sequence[str] = MODES,
    batch: int = 128,
    rng: int = 0,
) -> dict[str, Propagation]:
    """One network, initialized with ``Var(w_l) = scale / fan_l`` for each mode, propagated.

    Every mode uses the same input batch, the same standard normal weight draws (rescaled, see
    :func:`normal_weights`) and the same standard normal output gradient, all from the seed
    `rng`, so the modes differ only by the per-layer scales.

    Returns
    -------
    dict
        ``mode -> Propagation``, in the order of `modes`.
    """
    sizes = _sizes(layer_sizes, minimum_layers=2)
    batch = as_positive_int(batch, "batch")
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
        raise ValueError(f"rng must be an integer seed (each mode reuses it), got {rng!r}")
    out = {}
    for mode in modes:
        gen = np.random.default_rng(rng)
        x = gen.standard_normal((batch, sizes[0]))
        weights = normal_weights(sizes, fan_variances(sizes, scale, mode), gen)
        g = gen.standard_normal((batch, sizes[-1]))
        out[mode] = propagate(x, weights, activation, grad_output=g, histograms=False)
    return out


# --------------------------------------------------------------------------------------------
# Activations whose factor depends on the variance: tanh, SELU
# --------------------------------------------------------------------------------------------


def layer_factors_at(activation: str | Activation, n_var_w: float, q: float) -> tuple[float, float]:
    """Forward and backward variance factors of one layer at pre-activation variance `q`.

    With ``z ~ N(0, q)`` and ``n Var(w) = s`` (equal widths):

    .. math::

        F = s\\,E[f(z)^2] / q, \\qquad B = s\\,E[f'(z)^2],

    so that the next layer's ``Var(z)`` is ``F q`` and the gradient's variance is multiplied by
    ``B`` on the way back (assuming, as He et al. do, the gradient independent of the slope).
    For ReLU both are ``s / 2`` at every ``q``; for tanh both tend to ``s`` as ``q -> 0`` but
    differ for larger ``q``.

    Parameters
    ----------
    activation : str or Activation
    n_var_w : float
        ``n Var(w)``, i.e. the square of the gain; positive.
    q : float
        Variance of the pre-activations; positive.

    Returns
    -------
    (F, B) : tuple of float
    """
    s = as_real(n_var_w, "n_var_w", minimum=0.0, strict=True)
    q = as_real(q, "q", minimum=0.0, strict=True)
    _, second, _, slope_second = gaussian_moments(activation, q)
    return s * second / q, s * slope_second


_HOMOGENEOUS = ("linear", "relu", "leaky_relu")


def variance_fixed_point(
    activation: str | Activation, n_var_w: float, q_max: float = 1e4
) -> float:
    """The variance ``q* > 0`` with ``q* = n Var(w) E[f(z)^2]``, ``z ~ N(0, q*)``, or 0.

    The mean-field recursion ``q_{l+1} = s E[f(z_l)^2]`` (``s = n Var(w)``) of an equal-width
    network settles there. For SELU with ``s = 1`` (LeCun normal) it is exactly 1, the
    self-normalizing fixed point of [Klambauer17]_; for tanh with the gain 5/3 it is about 1.18;
    for tanh with ``s <= 1`` no positive fixed point exists and the variance decays to 0 (slowly,
    about like ``1/(2l)`` for ``s = 1``), in which case this returns 0.

    Parameters
    ----------
    activation : str or Activation
    n_var_w : float
        Positive.
    q_max : float, default 1e4
        Upper end of the search.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For linear, ReLU and leaky ReLU, whose factor is the same at every variance (use
        :func:`layer_factors`), or if the variance keeps growing up to `q_max`.
    """
    act = get_activation(activation)
    if act.name in _HOMOGENEOUS:
        raise ValueError(
            f"{act.name!r} multiplies every variance by the same factor, so it has no fixed "
            f"point to find: use layer_factors or layer_factors_at"
        )
    s = as_real(n_var_w, "n_var_w", minimum=0.0, strict=True)
    q_max = as_real(q_max, "q_max", minimum=0.0, strict=True)

    def excess(q: float) -> float:
        return s * gaussian_moments(act, q)[1] - q

    q_min = 1e-10
    if excess(q_min) <= 0.0:
        return 0.0
    if excess(q_max) >= 0.0:
        raise ValueError(
            f"the variance of {act.name!r} with n Var(w) = {s:g} keeps growing up to "
            f"q_max = {q_max:g}: no fixed point"
        )
    return float(brentq(excess, q_min, q_max, xtol=1e-14, rtol=1e-13))


# --------------------------------------------------------------------------------------------
# The training experiment
# --------------------------------------------------------------------------------------------


def rescale(params: Params, factor: float) -> Params:
    """A copy of `params` with every weight matrix multiplied by `factor`, biases copied."""
    factor = as_real(factor, "factor", minimum=0.0, strict=True)
    return [(np.asarray(W, dtype=np.float64) * factor, np.array(b, dtype=np.float64))
            for W, b in params]


def he_and_lecun(
    layer_sizes: Sequence[int], rng: np.random.Generator | int | None = None
) -> dict[str, Params]:
    """Two initial networks from one draw: He's ``Var(w) = 2 / n_in`` and ``1 / n_in``.

    ``"he"`` is :func:`weightinit.simulation.training.init_mlp` with the He scheme; ``"lecun"`` is
    the same weights divided by ``sqrt(2)``, i.e. ``Var(w) = 1 / n_in`` (LeCun's rule, which equals
    Glorot's ``2 / (n_in + n_out)`` wherever ``n_in = n_out``). Biases are zero in both, so with
    ReLU hidden units the two networks compute the same function up to a positive factor at
    initialization: only the scale differs.
    """
    he = init_mlp(layer_sizes, "he", rng)
    return {"he": he, "lecun": rescale(he, 1.0 / math.sqrt(2.0))}


def depth_training(
    X: np.ndarray,
    y: np.ndarray,
    layer_sizes: Sequence[int],
    *,
    lr: float,
    epochs: int,
    rng: np.random.Generator | int | None = None,
) -> dict[str, TrainingResult]:
    """Train :func:`he_and_lecun`'s two networks with the same data, learning rate and epochs.

    Full-batch gradient descent on the mean cross-entropy with ReLU hidden layers
    (:func:`weightinit.simulation.training.train`).

    Returns
    -------
    dict
        ``{"he": TrainingResult, "lecun": TrainingResult}``.
    """
    return {
        name: train(X, y, params, hidden="relu", lr=lr, epochs=epochs)
        for name, params in he_and_lecun(layer_sizes, rng).items()
    }


def output_gradient(params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dL/dh_{L-1}``: the gradient of the mean binary cross-entropy with respect to the last
    hidden layer's output, for a network with one output unit (a logit ``s``).

    :math:`\\partial L/\\partial s = (\\sigma(s) - y)/N` per example, then
    :math:`\\partial L/\\partial h_{L-1} = (\\partial L/\\partial s)\\, W_L^\\top`.
    """
    W_last = np.asarray(params[-1][0], dtype=np.float64)
    if W_last.ndim != 2 or W_last.shape[1] != 1:
        raise ValueError(
            f"output_gradient needs a network with one output unit, the last weight has shape "
            f"{W_last.shape}"
        )
    s = forward(params, X, "relu")[:, 0]
    y = np.asarray(y, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError(f"y must have shape {s.shape}, one label per row of X, got {y.shape}")
    delta = (expit(s) - y) / s.size
    return delta[:, None] @ W_last.T


def initial_gradients(params: Params, X: np.ndarray, y: np.ndarray) -> Propagation:
    """Per-layer statistics of the hidden layers' pre-activations and loss gradients.

    Runs :func:`weightinit.simulation.propagation.propagate` through the hidden layers
    ``W_1..W_{L-1}`` (ReLU) with ``grad_output = dL/dh_{L-1}`` from :func:`output_gradient`, so that
    ``dz`` and ``dw`` are the gradients of the network's actual loss. The biases must be zero (as at
    initialization), since ``propagate`` has none.
    """
    if any(np.any(np.asarray(b) != 0.0) for _, b in params):
        raise ValueError("initial_gradients needs zero biases (a network at initialization)")
    if len(params) < 2:
        raise ValueError("initial_gradients needs at least one hidden layer")
    hidden = [np.asarray(W, dtype=np.float64) for W, _ in params[:-1]]
    g = output_gradient(params, X, y)
    return propagate(np.asarray(X, dtype=np.float64), hidden, "relu", grad_output=g,
                     histograms=False)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


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
    (:func:`weightinit.chapters.gradients.deep_pass` with seed `seed`); the gradient arriving at the
    output is standard normal. Each layer multiplies the forward variance and the backward
    variance by the same factor ``factor / 2`` [He15]_, so the two curves are mirror images,
    and both are flat only at ``factor = 2`` (He). Markers measured, lines predicted; log scale.
    """
    res = deep_pass("relu", factor, width=width, depth=depth, batch=batch, rng=seed)
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
    one network through it (:func:`weightinit.chapters.gradients.width_experiment`). Left:
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
    network (:func:`weightinit.chapters.gradients.deep_pass` with ``n_var_w = gain**2``). Markers
    measured, lines predicted (the mean-field recursion of
    :func:`weightinit.simulation.theory.predict`).
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
    :func:`weightinit.chapters.gradients.depth_training` and
    :func:`weightinit.chapters.gradients.initial_gradients`. Right panel: markers measured, lines
    predicted, log scale.
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
