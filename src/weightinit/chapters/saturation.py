"""Sigmoid saturation at initialization, and what the frameworks' default initializers give.

The numbers of the chapter "250 inputs, a sigmoid, and saturation", each computed by one small
function so that a test can pin it:

- :func:`z_variance`: :math:`\\mathrm{Var}(z) = n\\,\\mathrm{Var}(w)\\,E[x^2]` for
  :math:`z = \\sum_{i=1}^n w_i x_i` with zero-mean i.i.d. weights;
- :func:`saturated_fraction` (measured) and :func:`saturated_share` (exact, for
  :math:`z \\sim N(0, s^2)`): the share of units with :math:`|z| > t`;
- :func:`expected_sigmoid_derivative`: :math:`E[\\sigma'(z)]` for :math:`z \\sim N(0, s^2)`,
  by numerical integration, against the maximum :math:`\\sigma'(0) = 1/4`;
- :func:`scaling_variance`, :func:`keras_dense_default_variance`,
  :func:`pytorch_linear_default_variance`, :func:`uniform_limit`: the variances the named
  initializers target, built from :mod:`weightinit.initializers`;
- the chapter's figures, :func:`draw_saturation` (the widget) and :func:`draw_share_and_gradient`.

References
----------
.. [LeCun98] Y. LeCun, L. Bottou, G. B. Orr, K.-R. Müller, "Efficient BackProp", 1998.
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers", ICCV 2015.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import integrate
from scipy import stats as _st
from scipy.special import erfc, logit

from .._validate import as_generator, as_positive_int, as_real, as_shape, choice
from ..activations import sigmoid, sigmoid_derivative
from ..initializers import calculate_gain, compute_fans, variance_scaling
from .sums import arithmetic as _sums

__all__ = [
    "DEFAULT_THRESHOLD",
    "SIGMOID_DERIVATIVE_MAX",
    "PYTORCH_LINEAR_SLOPE",
    "KERAS_DEFAULT",
    "PYTORCH_LINEAR_DEFAULT",
    "INITIALIZERS",
    "z_variance",
    "saturated_fraction",
    "saturated_share",
    "threshold_for_slope",
    "expected_sigmoid_derivative",
    "scaling_variance",
    "uniform_limit",
    "keras_default_variance",
    "keras_dense_default_variance",
    "pytorch_linear_default_gain",
    "pytorch_linear_default_variance",
    "pytorch_linear_default_bound",
    "weight_variance",
    "sample_weights",
    "unit_input_preactivations",
    "draw_saturation",
    "draw_share_and_gradient",
]

#: |z| beyond which a sigmoid unit counts as saturated: sigma'(4) is about 7% of its peak 1/4.
DEFAULT_THRESHOLD = 4.0

#: The largest slope of the logistic sigmoid, sigma'(0) = sigma(0) (1 - sigma(0)) = 1/4.
SIGMOID_DERIVATIVE_MAX = 0.25

#: The negative slope ``a`` that PyTorch's ``nn.Linear.reset_parameters`` passes to
#: ``kaiming_uniform_``: ``a = sqrt(5)``.
PYTORCH_LINEAR_SLOPE = math.sqrt(5.0)

#: Keras' default kernel initializer, ``glorot_uniform``, as ``variance_scaling`` arguments.
KERAS_DEFAULT = {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"}

#: PyTorch's ``nn.Linear`` default weight, ``kaiming_uniform_(w, a=sqrt(5))``, as
#: ``variance_scaling`` arguments: scale = gain^2 = 2 / (1 + 5) = 1/3, fan_in, uniform.
PYTORCH_LINEAR_DEFAULT = {
    "scale": calculate_gain("leaky_relu", PYTORCH_LINEAR_SLOPE) ** 2,
    "mode": "fan_in",
    "distribution": "uniform",
}

#: The initializers the chapter compares: name -> ``variance_scaling`` arguments, or None for
#: plain ``N(0, 1)`` weights (variance 1 whatever the layer).
INITIALIZERS: dict[str, dict | None] = {
    "N(0, 1)": None,
    "LeCun normal": {"scale": 1.0, "mode": "fan_in", "distribution": "normal"},
    "Glorot uniform (Keras)": dict(KERAS_DEFAULT),
    "He normal": {"scale": 2.0, "mode": "fan_in", "distribution": "normal"},
    "PyTorch Linear default": dict(PYTORCH_LINEAR_DEFAULT),
}


def z_variance(n: int, var_w: float, mean_square_x: float = 1.0) -> float:
    """Variance of :math:`z = \\sum_{i=1}^n w_i x_i` for zero-mean i.i.d. weights.

    .. math::

        \\mathrm{Var}(z) = n\\,\\mathrm{Var}(w)\\,E[x^2]
        = n\\,\\mathrm{Var}(w)\\,\\bigl(\\mathrm{Var}(x) + E[x]^2\\bigr)

    It is the second moment :math:`E[x^2]` of the inputs that counts, not their variance: with
    every input equal to 1, :math:`\\mathrm{Var}(x) = 0` but :math:`E[x^2] = 1`, so
    :math:`\\mathrm{Var}(z) = n\\,\\mathrm{Var}(w)`.

    Parameters
    ----------
    n : int
        Number of inputs (the fan-in), at least 1.
    var_w : float
        Variance of each weight, at least 0.
    mean_square_x : float, default 1.0
        :math:`E[x^2]` of the inputs (exactly :math:`\\frac1n\\sum_i x_i^2` for fixed inputs).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a non-positive `n` or a negative `var_w` or `mean_square_x`.

    Examples
    --------
    >>> z_variance(250, 1.0)
    250.0
    """
    mean_square_x = as_real(mean_square_x, "mean_square_x", minimum=0.0)
    # E[x^2] = Var(x) + E[x]^2: the same formula as chapter 3's, with all of E[x^2] as Var(x).
    return _sums.preactivation_variance(n, var_w, mean_square_x)


# The measured share of |z| > threshold is the same function as in chapter 4's module.
saturated_fraction = _sums.saturated_fraction


def saturated_share(std: float, threshold: float = DEFAULT_THRESHOLD) -> float:
    """Exact share of units with :math:`|z| > t` when :math:`z \\sim N(0, s^2)`.

    .. math::

        P(|z| > t) = 2\\,\\Phi(-t/s) = \\operatorname{erfc}\\!\\left(\\frac{t}{s\\sqrt{2}}\\right)

    Parameters
    ----------
    std : float
        :math:`s \\ge 0`, the standard deviation of z (0 means z = 0: nothing saturates).
    threshold : float, default 4.0
        :math:`t \\ge 0`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a negative or non-finite `std` or `threshold`.

    Examples
    --------
    >>> round(saturated_share(1.0, 1.959963984540054), 6)
    0.05
    """
    s = as_real(std, "std", minimum=0.0)
    t = as_real(threshold, "threshold", minimum=0.0)
    if s == 0.0:
        return 0.0
    return float(erfc(t / (s * math.sqrt(2.0))))


def threshold_for_slope(fraction: float) -> float:
    """The :math:`|z|` at which the sigmoid's slope has fallen to `fraction` of its peak 1/4.

    Solves :math:`\\sigma'(t) = \\sigma(t)(1 - \\sigma(t)) = f/4` for :math:`t \\ge 0`:
    :math:`\\sigma(t) = (1 + \\sqrt{1 - f})/2`, so :math:`t = \\operatorname{logit}
    \\bigl((1 + \\sqrt{1 - f})/2\\bigr)`. Beyond :math:`t` the slope is smaller still.

    Parameters
    ----------
    fraction : float
        :math:`f` in (0, 1].

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For `fraction` outside (0, 1].
    """
    f = as_real(fraction, "fraction", minimum=0.0, strict=True)
    if f > 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    return float(logit((1.0 + math.sqrt(1.0 - f)) / 2.0))


def expected_sigmoid_derivative(std: float) -> float:
    """Mean slope of the sigmoid over :math:`z \\sim N(0, s^2)`, by numerical integration.

    .. math::

        E[\\sigma'(z)] = \\int_{-\\infty}^{\\infty} \\sigma'(z)\\,
        \\frac{1}{s\\sqrt{2\\pi}} e^{-z^2 / (2 s^2)}\\,dz
        \\;\\le\\; \\sigma'(0) = \\tfrac14

    Integrated with :func:`scipy.integrate.quad` over :math:`|z| \\le \\min(40, 12 s)`: beyond 40
    the slope is below :math:`5 \\cdot 10^{-18}`, beyond :math:`12 s` the density is negligible.
    For large :math:`s` the normal density is nearly flat where
    :math:`\\sigma'` lives, and :math:`\\int \\sigma' = 1` and
    :math:`\\int z^2 \\sigma' = \\pi^2/3` give
    :math:`E[\\sigma'(z)] \\approx \\frac{1}{s\\sqrt{2\\pi}}\\bigl(1 - \\pi^2/(6 s^2)\\bigr)`.

    Parameters
    ----------
    std : float
        :math:`s \\ge 0` (0 gives exactly 1/4).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a negative or non-finite `std`.
    """
    s = as_real(std, "std", minimum=0.0)
    if s == 0.0:
        return SIGMOID_DERIVATIVE_MAX

    norm = 1.0 / (s * math.sqrt(2.0 * math.pi))

    def integrand(z: float) -> float:
        e = math.exp(-abs(z))  # sigma'(z) = e^{-|z|} / (1 + e^{-|z|})^2, without overflow
        return e / (1.0 + e) ** 2 * norm * math.exp(-0.5 * (z / s) ** 2)

    # Beyond 40 the slope is negligible; beyond 12 s the normal density is (below 1e-31 of peak).
    reach = min(40.0, 12.0 * s)
    value, _ = integrate.quad(integrand, -reach, reach, points=[0.0], limit=200, epsabs=1e-13)
    return float(value)


def scaling_variance(shape: int | Sequence[int], scale: float = 1.0, mode: str = "fan_in") -> float:
    """The weight variance that :func:`~weightinit.initializers.variance_scaling` targets.

    :math:`\\mathrm{Var}(w) = \\text{scale} / \\max(1, n)` with :math:`n` the fan chosen by `mode`
    (fan_in, fan_out, or their average), from :func:`~weightinit.initializers.compute_fans`.

    Raises
    ------
    ValueError
        For an invalid shape, a non-positive scale, or an unknown mode.
    """
    fan_in, fan_out = compute_fans(shape)
    scale = as_real(scale, "scale", minimum=0.0, strict=True)
    choice(mode, "mode", ("fan_in", "fan_out", "fan_avg"))
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    return scale / max(1.0, n)


def uniform_limit(var: float) -> float:
    """Limit :math:`a` of :math:`U(-a, a)` with variance `var`: :math:`a = \\sqrt{3 \\cdot var}`.

    :math:`\\mathrm{Var}(U(-a, a)) = \\frac{1}{2a}\\int_{-a}^{a} w^2\\,dw = a^2/3`; solving
    :math:`a^2/3 = \\mathrm{var}` gives the limit. With Glorot's variance
    :math:`2/(n_{in} + n_{out})` it is :math:`\\sqrt{6/(n_{in} + n_{out})}` [Glorot10]_.

    Raises
    ------
    ValueError
        For a negative or non-finite `var`.
    """
    return math.sqrt(3.0 * as_real(var, "var", minimum=0.0))


def keras_default_variance(shape: int | Sequence[int]) -> float:
    """Variance of Keras' default kernel initializer (``glorot_uniform``) for a kernel `shape`.

    :math:`2 / (\\text{fan\\_in} + \\text{fan\\_out})` with the fans of
    :func:`~weightinit.initializers.compute_fans` (a convolution's fans include its receptive
    field). The default of ``Dense`` and of the ``Conv`` layers alike.
    """
    return scaling_variance(shape, KERAS_DEFAULT["scale"], KERAS_DEFAULT["mode"])


def keras_dense_default_variance(fan_in: int, fan_out: int) -> float:
    """Variance of a default Keras ``Dense`` kernel: :math:`2/(\\text{fan\\_in}+\\text{fan\\_out})`.

    ``glorot_uniform`` draws :math:`U(-a, a)` with :math:`a = \\sqrt{6/(\\text{fan\\_in} +
    \\text{fan\\_out})}` [Glorot10]_, whose variance :math:`a^2/3` is this.
    """
    shape = (as_positive_int(fan_in, "fan_in"), as_positive_int(fan_out, "fan_out"))
    return keras_default_variance(shape)


def pytorch_linear_default_gain() -> float:
    """Gain of PyTorch's ``nn.Linear`` default: ``calculate_gain("leaky_relu", sqrt(5))``.

    :math:`\\sqrt{2 / (1 + a^2)} = \\sqrt{2/6} = 1/\\sqrt{3}`.
    """
    return calculate_gain("leaky_relu", PYTORCH_LINEAR_SLOPE)


def pytorch_linear_default_variance(fan_in: int) -> float:
    """Variance of a PyTorch ``nn.Linear`` weight by default: :math:`1/(3\\,\\text{fan\\_in})`.

    ``reset_parameters`` calls ``kaiming_uniform_(weight, a=sqrt(5))``: gain
    :math:`g = \\sqrt{2/(1 + 5)}`, standard deviation :math:`g/\\sqrt{\\text{fan\\_in}}`, so the
    variance is :math:`g^2/\\text{fan\\_in} = 1/(3\\,\\text{fan\\_in})`: a third of LeCun's
    :math:`1/\\text{fan\\_in}` [LeCun98]_ and a sixth of He's :math:`2/\\text{fan\\_in}` [He15]_.
    PyTorch stores the weight as ``(out, in)``; fan_in is ``in_features``.
    """
    fan_in = as_positive_int(fan_in, "fan_in")
    spec = PYTORCH_LINEAR_DEFAULT
    return scaling_variance((fan_in, 1), spec["scale"], spec["mode"])


def pytorch_linear_default_bound(fan_in: int) -> float:
    """Limit of PyTorch's default ``nn.Linear`` weight: :math:`1/\\sqrt{\\text{fan\\_in}}`.

    :func:`uniform_limit` of :math:`1/(3\\,\\text{fan\\_in})`:
    :math:`\\sqrt{3/(3\\,\\text{fan\\_in})} = 1/\\sqrt{\\text{fan\\_in}}`, the bound
    ``U(-sqrt(k), sqrt(k))`` with ``k = 1/in_features`` that PyTorch's documentation states.
    """
    return uniform_limit(pytorch_linear_default_variance(fan_in))


def weight_variance(name: str, fan_in: int, fan_out: int) -> float:
    """Target variance of initializer `name` (a key of :data:`INITIALIZERS`) for a dense layer."""
    choice(name, "name", tuple(INITIALIZERS))
    shape = (as_positive_int(fan_in, "fan_in"), as_positive_int(fan_out, "fan_out"))
    spec = INITIALIZERS[name]
    if spec is None:
        return 1.0
    return scaling_variance(shape, spec["scale"], spec["mode"])


def sample_weights(
    name: str, shape: tuple[int, int], rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Draw a dense kernel of `shape` ``(fan_in, fan_out)`` with initializer `name`.

    ``"N(0, 1)"`` is ``rng.standard_normal(shape)``; the others are
    :func:`~weightinit.initializers.variance_scaling` with the arguments in :data:`INITIALIZERS`.
    """
    choice(name, "name", tuple(INITIALIZERS))
    gen = as_generator(rng)
    spec = INITIALIZERS[name]
    if spec is None:
        return gen.standard_normal(as_shape(shape))
    return variance_scaling(shape, spec["scale"], spec["mode"], spec["distribution"], gen)


def unit_input_preactivations(
    name: str,
    fan_in: int = 250,
    fan_out: int = 100,
    layers: int = 100,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Pre-activations :math:`z = \\mathbf{1} @ W` of `layers` freshly drawn layers, all inputs 1.

    Each layer is a kernel of shape ``(fan_in, fan_out)`` drawn by :func:`sample_weights`, so the
    fans (and Glorot's variance) are those of a real ``fan_in -> fan_out`` layer. Each column gives
    one unit's :math:`z`, the sum of its `fan_in` weights; all values are independent.

    Returns
    -------
    numpy.ndarray
        Shape ``(layers * fan_out,)``.
    """
    layers = as_positive_int(layers, "layers")
    fan_in, fan_out = as_positive_int(fan_in, "fan_in"), as_positive_int(fan_out, "fan_out")
    gen = as_generator(rng)
    ones = np.ones(fan_in)
    return np.concatenate(
        [ones @ sample_weights(name, (fan_in, fan_out), gen) for _ in range(layers)]
    )


def _share_label(share: float) -> str:
    """A share as a percentage, or in scientific notation when it is below 0.1%."""
    if share == 0.0 or share >= 1e-3:
        return f"{share:.1%}"
    return f"{share:.1e}"


def draw_saturation(
    fig,
    name: str,
    *,
    fan_in: int = 250,
    fan_out: int = 100,
    layers: int = 40,
    threshold: float = DEFAULT_THRESHOLD,
    rng: np.random.Generator | int | None = 0,
) -> None:
    """Histogram of :math:`z` (all inputs 1) for initializer `name`, over the sigmoid and its slope.

    Draws on `fig` (cleared by the caller): the measured histogram of `layers` x `fan_out` values
    of z (as a density of all the values, so the few beyond the axis are not piled up at its
    edge), the exact normal density :math:`N(0, n\\,\\mathrm{Var}(w))`, the band
    :math:`|z| > t` shaded, and on a second axis :math:`\\sigma(z)` and :math:`4\\sigma'(z)` (so
    that the slope's peak reaches 1). The title gives std(z) and the exact and measured
    saturated shares. The chapter's widget is ``draw(fig, name)``.
    """
    z = unit_input_preactivations(name, fan_in, fan_out, layers, rng)
    s = math.sqrt(z_variance(fan_in, weight_variance(name, fan_in, fan_out)))
    exact, measured = saturated_share(s, threshold), saturated_fraction(z, threshold)
    ax = fig.add_subplot(1, 1, 1)
    lim = 40.0
    grid = np.linspace(-lim, lim, 801)
    half = min(lim, 4.5 * s)
    edges = np.linspace(-half, half, 41)
    counts, _ = np.histogram(z, bins=edges)
    ax.stairs(
        counts / (z.size * np.diff(edges)),
        edges,
        fill=True,
        color="C0",
        alpha=0.45,
        label="z, measured",
    )
    ax.plot(grid, _st.norm.pdf(grid, scale=s), color="C0", lw=1.2, label="N(0, n Var(w))")
    ax.axvspan(-lim, -threshold, color="0.88", zorder=0)
    ax.axvspan(threshold, lim, color="0.88", zorder=0, label=f"|z| > {threshold:g}")
    ax.set_xlim(-lim, lim)
    ax.set_xlabel("pre-activation z")
    ax.set_ylabel("density of z")
    ax2 = ax.twinx()
    ax2.plot(grid, sigmoid(grid), color="C3", lw=1.2, label="sigmoid(z)")
    ax2.plot(
        grid, 4.0 * sigmoid_derivative(grid), color="C2", lw=1.2, ls="--", label="4 sigmoid'(z)"
    )
    ax2.set_ylim(0.0, 1.05)
    ax2.set_ylabel("sigmoid, 4 x slope")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9)
    ax.set_title(
        f"{name}: std(z) = {s:.3g}\nsaturated (|z| > {threshold:g}): "
        f"{_share_label(exact)} exact, {_share_label(measured)} measured",
        fontsize=9,
    )
    fig.tight_layout()


def draw_share_and_gradient(
    fig,
    *,
    fan_in: int = 250,
    fan_out: int = 100,
    thresholds: Sequence[float] = (4.0, 5.0),
) -> None:
    """Two panels against std(z): the saturated share (exact) and the mean sigmoid slope.

    Left: :func:`saturated_share` for each threshold. Right: :func:`expected_sigmoid_derivative`
    with its maximum 1/4 and the large-s approximation :math:`1/(s\\sqrt{2\\pi})`. Each
    initializer of :data:`INITIALIZERS` is marked at its std(z) for a ``fan_in -> fan_out`` layer
    with all inputs 1.
    """
    stds = np.logspace(-1, 2, 61)
    marks = {
        name: math.sqrt(z_variance(fan_in, weight_variance(name, fan_in, fan_out)))
        for name in INITIALIZERS
    }
    ax1, ax2 = fig.subplots(1, 2)
    for k, t in enumerate(thresholds):
        shares = [saturated_share(s, t) for s in stds]
        ax1.plot(stds, shares, color="C0", ls=("-", "--", ":")[k % 3], label=f"|z| > {t:g}")
    mean_slope = np.array([expected_sigmoid_derivative(s) for s in stds])
    ax2.plot(stds, mean_slope, color="C2", label="E[sigmoid'(z)]")
    wide = stds > 2
    ax2.plot(
        stds[wide],
        1.0 / (stds[wide] * math.sqrt(2 * math.pi)),
        color="0.4",
        ls=":",
        label="1/(s sqrt(2 pi))",
    )
    ax2.axhline(SIGMOID_DERIVATIVE_MAX, color="C3", ls="--", lw=1, label="max 1/4")
    for k, (name, s) in enumerate(marks.items()):
        color = f"C{k + 4}"
        ax1.plot([s], [saturated_share(s, thresholds[0])], "o", color=color, ms=5, label=name)
        ax2.plot([s], [expected_sigmoid_derivative(s)], "o", color=color, ms=5)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("std(z)")
    ax1.set_ylim(1e-13, 2.0)
    ax1.set_ylabel("share saturated")
    ax1.set_title(f"Saturated share (exact; {fan_in} inputs = 1)", fontsize=9)
    ax2.set_ylabel("mean slope E[sigmoid'(z)]")
    ax2.set_title("Mean sigmoid slope", fontsize=9)
    ax1.legend(fontsize=7, loc="lower right")
    ax2.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
