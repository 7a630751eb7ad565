"""Weight initializers: one general rule, :func:`variance_scaling`, and the named presets.

Conventions (see ``DESIGN.md``): a dense kernel has shape ``(fan_in, fan_out)`` and is used as
``x @ W``; a convolution kernel has shape ``(*kernel_size, in_channels, out_channels)``, Keras'
order. PyTorch stores a dense weight as ``(out, in)``: transpose it to compare.

Every random function takes ``rng`` (a :class:`numpy.random.Generator`, a seed, or None) and
normalises it with :func:`numpy.random.default_rng`; none touches NumPy's global random state.
Every array returned is float64 with exactly the requested shape.

References
----------
.. [LeCun98] Y. LeCun, L. Bottou, G. B. Orr, K.-R. Müller, "Efficient BackProp", in *Neural
   Networks: Tricks of the Trade*, Springer, 1998.
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
.. [Saxe13] A. M. Saxe, J. L. McClelland, S. Ganguli, "Exact solutions to the nonlinear dynamics
   of learning in deep linear neural networks", arXiv:1312.6120, 2013.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
   human-level performance on ImageNet classification", ICCV 2015.
.. [Klambauer17] G. Klambauer, T. Unterthiner, A. Mayr, S. Hochreiter, "Self-normalizing neural
   networks", NeurIPS 2017.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._validate import as_generator, as_real, as_shape, choice

__all__ = [
    "TRUNCATION_STD_FACTOR",
    "MODES",
    "DISTRIBUTIONS",
    "NONLINEARITIES",
    "compute_fans",
    "calculate_gain",
    "variance_scaling",
    "truncated_normal",
    "lecun_normal",
    "lecun_uniform",
    "xavier_normal",
    "xavier_uniform",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "orthogonal",
    "zeros",
    "ones",
    "constant",
]

#: Standard deviation of a standard normal truncated to [-2, 2]:
#: sqrt(1 - 4 phi(2) / (2 Phi(2) - 1)).
#: Dividing by it makes a truncated normal's standard deviation the one asked for (Keras' constant).
TRUNCATION_STD_FACTOR = 0.87962566103423978

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")

_LINEAR_LIKE = (
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)
NONLINEARITIES = (*_LINEAR_LIKE, "tanh", "relu", "leaky_relu", "selu")


def compute_fans(shape: int | Sequence[int]) -> tuple[int, int]:
    """Number of inputs and outputs each unit of a weight tensor sees.

    Parameters
    ----------
    shape : int or tuple of int
        ``(fan_in, fan_out)`` for a dense kernel; ``(*kernel_size, in_channels, out_channels)``
        for a convolution kernel.

    Returns
    -------
    fan_in, fan_out : int
        For a dense kernel the two dimensions. For a convolution kernel each channel is
        multiplied by the receptive field size :math:`r = \\prod_k \\text{kernel\\_size}_k`:
        ``fan_in = r * in_channels`` and ``fan_out = r * out_channels``. A 1-D shape ``(n,)``
        gives ``(n, n)`` and a scalar shape ``()`` gives ``(1, 1)``, as in Keras.

    Raises
    ------
    ValueError
        If `shape` is not a tuple of positive integers.

    Notes
    -----
    PyTorch stores a dense weight as ``(out, in)`` and a convolution as
    ``(out, in, *kernel)``; the fans are the same numbers read from other positions.

    Examples
    --------
    >>> compute_fans((784, 256))
    (784, 256)
    >>> compute_fans((3, 3, 64, 128))
    (576, 1152)
    """
    dims = as_shape(shape)
    if len(dims) == 0:
        return 1, 1
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive_field = math.prod(dims[:-2])
    return dims[-2] * receptive_field, dims[-1] * receptive_field


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for a nonlinearity, PyTorch's table (``torch.nn.init.calculate_gain``).

    The gain multiplies the standard deviation of a fan-in initializer so that the nonlinearity
    keeps the variance of the signal: :math:`\\sigma = \\text{gain} / \\sqrt{\\text{fan\\_in}}`.

    ================= ======================================
    nonlinearity      gain
    ================= ======================================
    linear, conv*     :math:`1`
    sigmoid           :math:`1`
    tanh              :math:`5/3`
    relu              :math:`\\sqrt{2}`
    leaky_relu        :math:`\\sqrt{2 / (1 + a^2)}`, slope :math:`a` = `param` (default 0.01)
    selu              :math:`3/4`
    ================= ======================================

    Parameters
    ----------
    nonlinearity : str
        One of :data:`NONLINEARITIES`.
    param : float, optional
        The negative slope of ``"leaky_relu"``; ignored by the others.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For an unknown nonlinearity or a slope that is not a real number.

    Notes
    -----
    ReLU's :math:`\\sqrt{2}` is exact: ReLU zeroes half of a symmetric input, so
    :math:`E[\\mathrm{relu}(z)^2] = \\mathrm{Var}(z)/2` [He15]_. The tanh value 5/3 and SELU's
    3/4 are PyTorch's conventions; SELU networks are meant to use LeCun normal (gain 1)
    [Klambauer17]_, which PyTorch documents as a known difference.

    References
    ----------
    .. [He15] K. He et al., "Delving deep into rectifiers", ICCV 2015.
    .. [Klambauer17] G. Klambauer et al., "Self-normalizing neural networks", NeurIPS 2017.

    Examples
    --------
    >>> round(calculate_gain("relu"), 6)
    1.414214
    >>> round(calculate_gain("leaky_relu", 0.2), 6)
    1.386750
    """
    choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    slope = 0.01 if param is None else as_real(param, "param (the leaky_relu negative slope)")
    return math.sqrt(2.0 / (1.0 + slope**2))


def truncated_normal(
    shape: int | Sequence[int], std: float, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Zero-mean normal samples cut at two standard deviations, rescaled to have std `std`.

    Draws from :math:`N(0, s^2)` with :math:`s = \\text{std} / 0.87962566103423978` and draws
    again every value outside :math:`[-2s, 2s]` until none is left. Cutting the tails shrinks
    the standard deviation by the factor 0.8796... (:data:`TRUNCATION_STD_FACTOR`), so dividing
    by it first makes the result's standard deviation exactly `std`.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the array.
    std : float
        Standard deviation of the result (not of the normal before truncation); at least 0.
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.

    Returns
    -------
    numpy.ndarray
        float64 array of `shape` with every value in :math:`[-2s, 2s]`.

    Raises
    ------
    ValueError
        For an invalid shape, a negative or non-finite `std`, or an invalid `rng`.

    Notes
    -----
    Redrawing (rejection) keeps the normal's shape inside the bounds. Clipping instead would
    pile about 4.6% of the values onto :math:`\\pm 2s` and give the wrong variance. Also known
    as Keras' ``TruncatedNormal`` and the kernel of ``VarianceScaling(distribution=
    "truncated_normal")``.

    Examples
    --------
    >>> w = truncated_normal((300, 200), std=0.1, rng=0)
    >>> bool(abs(w).max() <= 2 * 0.1 / TRUNCATION_STD_FACTOR)
    True
    """
    dims = as_shape(shape)
    std = as_real(std, "std", minimum=0.0)
    gen = as_generator(rng)
    s = std / TRUNCATION_STD_FACTOR
    out = gen.normal(0.0, s, size=dims)
    flat = out.reshape(-1)
    outside = np.flatnonzero(np.abs(flat) > 2.0 * s)
    while outside.size:
        flat[outside] = gen.normal(0.0, s, size=outside.size)
        outside = outside[np.abs(flat[outside]) > 2.0 * s]
    return out


def variance_scaling(
    shape: int | Sequence[int],
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "truncated_normal",
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """The one general initializer: zero-mean weights with variance ``scale / n``.

    With ``n`` the fan selected by `mode` (from :func:`compute_fans`):

    .. math::

        \\mathrm{Var}(w) = \\frac{\\text{scale}}{\\max(1, n)}, \\qquad
        n = \\begin{cases} \\text{fan\\_in} & \\text{mode = "fan\\_in"} \\\\
        \\text{fan\\_out} & \\text{mode = "fan\\_out"} \\\\
        (\\text{fan\\_in} + \\text{fan\\_out})/2 & \\text{mode = "fan\\_avg"} \\end{cases}

    and the distribution has standard deviation :math:`\\sigma = \\sqrt{\\mathrm{Var}(w)}`:

    - ``"normal"``: :math:`N(0, \\sigma^2)`, untruncated;
    - ``"truncated_normal"``: :func:`truncated_normal` with std :math:`\\sigma` (drawn from a
      normal of std :math:`\\sigma / 0.8796...` cut at two of its standard deviations);
    - ``"uniform"``: :math:`U(-a, a)` with :math:`a = \\sqrt{3}\\,\\sigma`, because
      :math:`\\mathrm{Var}(U(-a, a)) = a^2 / 3`.

    Parameters
    ----------
    shape : int or tuple of int
        Kernel shape, ``(fan_in, fan_out)`` or ``(*kernel_size, in_channels, out_channels)``.
    scale : float, default 1.0
        Positive scaling factor: 1 for LeCun and Glorot, 2 for He (a gain squared in general).
    mode : {"fan_in", "fan_out", "fan_avg"}, default "fan_in"
    distribution : {"truncated_normal", "normal", "uniform"}, default "truncated_normal"
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.

    Returns
    -------
    numpy.ndarray
        float64 array of `shape`.

    Raises
    ------
    ValueError
        For an invalid shape, a non-positive scale, or an unknown mode or distribution.

    Notes
    -----
    Also known as Keras' ``VarianceScaling``. LeCun [LeCun98]_ is scale 1 with fan_in,
    Glorot/Xavier [Glorot10]_ is scale 1 with fan_avg, He/Kaiming [He15]_ is scale 2 with
    fan_in.

    References
    ----------
    .. [LeCun98] Y. LeCun et al., "Efficient BackProp", 1998.
    .. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep
       feedforward neural networks", AISTATS 2010.
    .. [He15] K. He et al., "Delving deep into rectifiers", ICCV 2015.

    Examples
    --------
    >>> w = variance_scaling((400, 300), scale=2.0, mode="fan_in", distribution="normal", rng=0)
    >>> w.shape, w.dtype
    ((400, 300), dtype('float64'))
    """
    dims = as_shape(shape)
    scale = as_real(scale, "scale", minimum=0.0, strict=True)
    choice(mode, "mode", MODES)
    choice(distribution, "distribution", DISTRIBUTIONS)
    gen = as_generator(rng)
    fan_in, fan_out = compute_fans(dims)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    std = math.sqrt(scale / max(1.0, n))
    if distribution == "normal":
        return gen.normal(0.0, std, size=dims)
    if distribution == "uniform":
        limit = math.sqrt(3.0) * std  # Var(U(-a, a)) = a^2 / 3
        return gen.uniform(-limit, limit, size=dims)
    return truncated_normal(dims, std, gen)


def lecun_normal(
    shape: int | Sequence[int], rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """LeCun normal: :math:`w \\sim N(0, 1/\\text{fan\\_in})` [LeCun98]_, untruncated.

    ``variance_scaling(shape, 1.0, "fan_in", "normal", rng)``. Keras' ``lecun_normal`` is the
    truncated version; this follows PyTorch (``kaiming_normal_(nonlinearity="linear")``).
    The initializer of self-normalizing SELU networks [Klambauer17]_.

    References
    ----------
    .. [LeCun98] Y. LeCun et al., "Efficient BackProp", 1998.
    .. [Klambauer17] G. Klambauer et al., "Self-normalizing neural networks", NeurIPS 2017.
    """
    return variance_scaling(shape, 1.0, "fan_in", "normal", rng)


def lecun_uniform(
    shape: int | Sequence[int], rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """LeCun uniform: :math:`w \\sim U(-a, a)`, :math:`a = \\sqrt{3 / \\text{fan\\_in}}` [LeCun98]_.

    ``variance_scaling(shape, 1.0, "fan_in", "uniform", rng)``: variance :math:`1/\\text{fan\\_in}`.

    References
    ----------
    .. [LeCun98] Y. LeCun et al., "Efficient BackProp", 1998.
    """
    return variance_scaling(shape, 1.0, "fan_in", "uniform", rng)


def xavier_normal(
    shape: int | Sequence[int], rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Xavier (Glorot) normal: :math:`w \\sim N(0, 2 / (\\text{fan\\_in} + \\text{fan\\_out}))`.

    ``variance_scaling(shape, 1.0, "fan_avg", "normal", rng)``, untruncated as in PyTorch's
    ``xavier_normal_``. Also known as ``glorot_normal`` (Keras truncates it). The variance is
    Glorot and Bengio's compromise between the forward condition
    :math:`\\text{fan\\_in}\\,\\mathrm{Var}(w) = 1` and the backward condition
    :math:`\\text{fan\\_out}\\,\\mathrm{Var}(w) = 1` [Glorot10]_.

    References
    ----------
    .. [Glorot10] X. Glorot, Y. Bengio, AISTATS 2010.
    """
    return variance_scaling(shape, 1.0, "fan_avg", "normal", rng)


def xavier_uniform(
    shape: int | Sequence[int], rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Xavier (Glorot) uniform: :math:`U(-a, a)` with
    :math:`a = \\sqrt{6 / (\\text{fan\\_in} + \\text{fan\\_out})}`.

    ``variance_scaling(shape, 1.0, "fan_avg", "uniform", rng)``: variance
    :math:`2 / (\\text{fan\\_in} + \\text{fan\\_out})` [Glorot10]_. Also known as
    ``glorot_uniform``, the default kernel initializer of Keras' ``Dense`` and ``Conv`` layers.

    References
    ----------
    .. [Glorot10] X. Glorot, Y. Bengio, AISTATS 2010.
    """
    return variance_scaling(shape, 1.0, "fan_avg", "uniform", rng)


def he_normal(
    shape: int | Sequence[int], rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """He (Kaiming) normal: :math:`w \\sim N(0, 2/\\text{fan\\_in})` [He15]_, untruncated.

    ``variance_scaling(shape, 2.0, "fan_in", "normal", rng)``, i.e.
    ``randn(shape) * sqrt(2 / fan_in)``. Also known as ``kaiming_normal`` (PyTorch's
    ``kaiming_normal_`` with its defaults); Keras' ``he_normal`` truncates.

    References
    ----------
    .. [He15] K. He et al., "Delving deep into rectifiers", ICCV 2015.
    """
    return variance_scaling(shape, 2.0, "fan_in", "normal", rng)


def he_uniform(
    shape: int | Sequence[int], rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """He (Kaiming) uniform: :math:`U(-a, a)`, :math:`a = \\sqrt{6 / \\text{fan\\_in}}` [He15]_.

    ``variance_scaling(shape, 2.0, "fan_in", "uniform", rng)``: variance
    :math:`2/\\text{fan\\_in}`. Also known as ``kaiming_uniform`` (PyTorch's
    ``kaiming_uniform_`` with ``a=0``; its ``nn.Linear`` default uses ``a=sqrt(5)`` instead).

    References
    ----------
    .. [He15] K. He et al., "Delving deep into rectifiers", ICCV 2015.
    """
    return variance_scaling(shape, 2.0, "fan_in", "uniform", rng)


glorot_normal = xavier_normal
glorot_uniform = xavier_uniform
kaiming_normal = he_normal
kaiming_uniform = he_uniform


def orthogonal(
    shape: int | Sequence[int], gain: float = 1.0, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """A (semi-)orthogonal matrix drawn uniformly (Haar measure), times `gain` [Saxe13]_.

    The kernel is flattened to a matrix of ``rows = prod(shape[:-1])`` by ``cols = shape[-1]``.
    A Gaussian matrix :math:`A` of shape ``(max, min)`` is factored as :math:`A = QR`; the
    columns of :math:`Q` are multiplied by :math:`\\mathrm{sign}(\\mathrm{diag}(R))`, which
    makes :math:`Q` exactly Haar-distributed (without it the signs are biased), and :math:`Q`
    is transposed when there are fewer rows than columns. Then :math:`W^\\top W = g^2 I` if
    rows >= cols and :math:`W W^\\top = g^2 I` otherwise.

    Parameters
    ----------
    shape : tuple of int
        At least two dimensions.
    gain : float, default 1.0
        Multiplier of the orthogonal matrix (e.g. :func:`calculate_gain`).
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.

    Returns
    -------
    numpy.ndarray
        float64 array of `shape`.

    Raises
    ------
    ValueError
        For fewer than two dimensions, an invalid shape or gain, or an invalid `rng`.

    Notes
    -----
    Also known as ``torch.nn.init.orthogonal_`` and Keras' ``Orthogonal``. Every entry has
    variance :math:`g^2 / \\text{rows}` when rows >= cols (:math:`g^2/\\text{cols}` otherwise).

    References
    ----------
    .. [Saxe13] A. M. Saxe, J. L. McClelland, S. Ganguli, "Exact solutions to the nonlinear
       dynamics of learning in deep linear neural networks", arXiv:1312.6120, 2013.
    """
    dims = as_shape(shape)
    if len(dims) < 2:
        raise ValueError(
            f"shape must have at least 2 dimensions for an orthogonal matrix, got {dims!r}"
        )
    gain = as_real(gain, "gain")
    gen = as_generator(rng)
    rows, cols = math.prod(dims[:-1]), dims[-1]
    a = gen.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    if rows < cols:
        q = q.T
    return (gain * q).reshape(dims)


def zeros(shape: int | Sequence[int]) -> np.ndarray:
    """All zeros, float64 of `shape`. Fine for biases; for weights it never breaks symmetry."""
    return np.zeros(as_shape(shape), dtype=np.float64)


def ones(shape: int | Sequence[int]) -> np.ndarray:
    """All ones, float64 of `shape`."""
    return np.ones(as_shape(shape), dtype=np.float64)


def constant(shape: int | Sequence[int], value: float) -> np.ndarray:
    """Every entry equal to `value` (a finite real number), float64 of `shape`."""
    return np.full(as_shape(shape), as_real(value, "value"), dtype=np.float64)
