"""Signals through depth: the initializers of the chapter "Keeping the signal alive through
depth", deep runs built on :func:`weightinit.propagation.propagate`, and the few numbers the
chapter states that propagation does not compute itself.

- :data:`INITIALIZERS` and :func:`weight_variance`, :func:`initializer`: the named weight
  distributions the chapter compares, from a fixed standard deviation (0.01, 1) to LeCun, Glorot
  and He, and the old range ``U(-1/sqrt(n), 1/sqrt(n))``;
- :func:`fan_rule`, :func:`alternating_widths`, :func:`wrong_fan_ratio`,
  :func:`zigzag_ratio`: "which n?", settled on a network whose widths change;
- :func:`deep_signal`: a standard normal batch pushed through a deep MLP
  (:func:`~weightinit.propagation.propagate`), the theory beside every measurement;
- :func:`tanh_std_asymptote`: the slow ``1/sqrt(2 l)`` decay of a tanh network at
  ``n Var(w) = 1``.

The per-layer factors themselves (``n Var(w)``, ``n Var(w) / 2``) come from
:func:`weightinit.propagation.variance_factor` and the whole per-layer prediction from
:func:`weightinit.propagation.predict`; this module does not re-derive them.

References
----------
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
   human-level performance on ImageNet classification", ICCV 2015.
.. [LeCun98] Y. LeCun, L. Bottou, G. B. Orr, K.-R. Müller, "Efficient BackProp", 1998.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ._validate import as_generator, as_real, as_shape, choice
from .initializers import MODES, variance_scaling
from .propagation import InitLike, Propagation, propagate

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

    The result suits :func:`weightinit.propagation.make_weights` and
    :func:`~weightinit.propagation.propagate`. A ``std`` entry draws
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
    :func:`~weightinit.propagation.propagate`, which records each layer's statistics beside the
    theory's prediction.

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
        Passed to :func:`~weightinit.propagation.propagate`.

    Returns
    -------
    weightinit.propagation.Propagation
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
    :func:`~weightinit.propagation.variance_factor`, the forward factor of layer ``l`` is
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
