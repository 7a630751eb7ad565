"""Signals and gradients through a deep MLP: per-layer statistics, and the theory beside them.

:func:`propagate` pushes a batch through an ``L``-layer perceptron without biases, with the
conventions of ``DESIGN.md``:

.. math::

    h_0 = x, \\qquad z_l = h_{l-1} W_l, \\qquad h_l = f(z_l) \\qquad (l = 1, \\dots, L),

then back-propagates a gradient ``g = dL/dh_L``:

.. math::

    \\frac{\\partial L}{\\partial z_l} = \\frac{\\partial L}{\\partial h_l} \\odot f'(z_l), \\qquad
    \\frac{\\partial L}{\\partial W_l} = h_{l-1}^\\top \\frac{\\partial L}{\\partial z_l}, \\qquad
    \\frac{\\partial L}{\\partial h_{l-1}} = \\frac{\\partial L}{\\partial z_l} W_l^\\top .

For each layer it records the mean, the standard deviation and a histogram of ``z_l``, ``h_l``,
``dL/dz_l`` and ``dL/dW_l``, the share of saturated units, and, beside every measurement, the
prediction of the variance-propagation theory (:func:`~weightinit.simulation.theory.predict`,
in :mod:`weightinit.simulation.theory`).

:func:`forward_stds` and :func:`backward_stds` are the plain reference implementations of the
``ex05-deep-signal`` contract; :func:`propagate` computes the same numbers (and many more) at
about the cost of the matrix products (``benchmarks/bench_propagation.py`` measures it).

References
----------
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
   human-level performance on ImageNet classification", ICCV 2015.
.. [Poole16] B. Poole, S. Lahiri, M. Raghu, J. Sohl-Dickstein, S. Ganguli, "Exponential
   expressivity in deep neural networks through transient chaos", NeurIPS 2016.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .. import initializers as _initializers
from .._validate import as_generator, as_positive_int, as_real
from ..activations import ACTIVATIONS, Activation, get_activation
from .theory import (
    _SATURATION_KNOWN,
    SATURATION_SLOPE_RATIO,
    Theory,
    predict,
    saturation_region,
)

__all__ = [
    "DEFAULT_BINS",
    "QUANTITIES",
    "LayerStats",
    "Propagation",
    "make_weights",
    "propagate",
    "forward_stds",
    "backward_stds",
]

#: Number of histogram bins when the caller gives no edges.
DEFAULT_BINS = 50

#: The recorded quantities: pre-activations, activations, and the gradients of the loss with
#: respect to pre-activations and weights.
QUANTITIES = ("z", "h", "dz", "dw")

_CHUNK = 32768  # histogram chunk: 256 KiB of float64, stays in cache

InitLike = Callable[..., np.ndarray] | str | float


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerStats:
    """Per-layer statistics of one quantity; entry ``l - 1`` of every array is layer ``l``.

    Attributes
    ----------
    name : str
        ``"z"``, ``"h"``, ``"dz"`` or ``"dw"`` (see :data:`QUANTITIES`).
    size : numpy.ndarray
        ``(L,)`` int: number of values per layer (``batch * n_l``, or ``n_{l-1} * n_l`` for dw).
    mean, std : numpy.ndarray
        ``(L,)`` float: mean and standard deviation over all values of the layer (``np.mean``,
        ``np.std`` with ``ddof=0``).
    predicted_mean, predicted_std : numpy.ndarray
        ``(L,)`` float: the theory's mean and standard deviation (:func:`predict`).
    edges : numpy.ndarray or None
        ``(bins + 1,)`` histogram edges, the same for every layer so that layers compare.
    counts : numpy.ndarray or None
        ``(L, bins)`` int: values per bin, with ``np.histogram``'s convention (bins are
        half-open ``[a, b)``, the last one closed).
    below, above : numpy.ndarray or None
        ``(L,)`` int: values below ``edges[0]`` and above ``edges[-1]`` (NaN counts in neither).
    """

    name: str
    size: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    predicted_mean: np.ndarray
    predicted_std: np.ndarray
    edges: np.ndarray | None = None
    counts: np.ndarray | None = None
    below: np.ndarray | None = None
    above: np.ndarray | None = None

    @property
    def var(self) -> np.ndarray:
        """Measured variance per layer, ``std ** 2``."""
        return self.std**2

    @property
    def predicted_var(self) -> np.ndarray:
        """Predicted variance per layer, ``predicted_std ** 2``."""
        return self.predicted_std**2

    @property
    def second_moment(self) -> np.ndarray:
        """Measured mean square per layer, ``std ** 2 + mean ** 2``."""
        return self.std**2 + self.mean**2

    @property
    def ratio(self) -> np.ndarray:
        """Measured over predicted standard deviation, per layer (1 where the theory holds)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.std / self.predicted_std

    @property
    def centers(self) -> np.ndarray | None:
        """Bin centres, ``(bins,)``, or None without histograms."""
        if self.edges is None:
            return None
        return 0.5 * (self.edges[:-1] + self.edges[1:])

    def density(self) -> np.ndarray:
        """Histogram as a density per layer, ``(L, bins)``: counts / (size * bin width).

        Values outside the edges count in the denominator, so a layer that spills out of the
        window integrates to less than 1 over it, which is the honest picture.
        """
        if self.counts is None or self.edges is None:
            raise ValueError(f"{self.name!r} has no histograms: call propagate(histograms=True)")
        return self.counts / (self.size[:, None] * np.diff(self.edges)[None, :])


@dataclass(frozen=True)
class Propagation:
    """What :func:`propagate` measured, layer by layer, with the theory beside it.

    Attributes
    ----------
    activation : str
        Name of the activation.
    layer_sizes : tuple of int
        ``(n_0, n_1, ..., n_L)``: input width, then each layer's width.
    batch : int
        Number of rows of the input.
    weight_var : numpy.ndarray
        ``(L,)``: the mean square of each weight matrix, the ``Var(w)`` the theory uses.
    z, h : LayerStats
        Pre-activations ``z_l`` and activations ``h_l``.
    dz, dw : LayerStats or None
        Gradients ``dL/dz_l`` and ``dL/dW_l`` (None when ``backward=False``).
    saturated, predicted_saturated : numpy.ndarray
        ``(L,)``: measured and predicted share of units ``z_l`` in the saturated region of
        :func:`saturation_region` (NaN for an activation the function does not know).
    saturation : tuple of float
        The region ``(lo, hi)``: a unit is saturated when ``z <= lo`` or ``z >= hi``.
    theory : Theory
        The full prediction.
    """

    activation: str
    layer_sizes: tuple[int, ...]
    batch: int
    weight_var: np.ndarray
    z: LayerStats
    h: LayerStats
    dz: LayerStats | None
    dw: LayerStats | None
    saturated: np.ndarray
    predicted_saturated: np.ndarray
    saturation: tuple[float, float]
    theory: Theory

    @property
    def depth(self) -> int:
        """Number of layers ``L``."""
        return len(self.layer_sizes) - 1

    @property
    def layers(self) -> np.ndarray:
        """Layer numbers ``1, ..., L`` (the x-axis of a per-layer plot)."""
        return np.arange(1, self.depth + 1)

    def __getitem__(self, name: str) -> LayerStats:
        """``result["z"]`` is ``result.z``, and so on for :data:`QUANTITIES`."""
        if name not in QUANTITIES:
            allowed = ", ".join(map(repr, QUANTITIES))
            raise KeyError(f"quantity must be one of {allowed}; got {name!r}")
        stats = getattr(self, name)
        if stats is None:
            raise KeyError(f"{name!r} was not recorded: call propagate(backward=True)")
        return stats


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _as_batch(x: object, name: str = "x") -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D array of shape (batch, width), got shape {arr.shape}"
        )
    return arr


def _as_weights(weights: Sequence[object], width: int) -> list[np.ndarray]:
    if isinstance(weights, np.ndarray) and weights.ndim == 2:
        raise ValueError(
            "weights must be a sequence of 2-D weight matrices, one per layer; wrap a single "
            "matrix in a list: [W]"
        )
    try:
        mats = [np.asarray(w, dtype=np.float64) for w in weights]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"weights must be a sequence of 2-D numeric arrays ({exc})") from None
    if not mats:
        raise ValueError("weights must hold at least one weight matrix, got an empty sequence")
    for i, w in enumerate(mats, start=1):
        if w.ndim != 2 or w.size == 0:
            raise ValueError(
                f"weights[{i - 1}] (layer {i}) must be a non-empty 2-D array of shape "
                f"(fan_in, fan_out), got shape {w.shape}"
            )
        if w.shape[0] != width:
            raise ValueError(
                f"weights[{i - 1}] (layer {i}) has shape {w.shape}, but its input has width "
                f"{width}: a layer's weight has shape (fan_in, fan_out) and acts as h @ W"
            )
        width = w.shape[1]
    return mats


def _as_initializer(init: InitLike) -> Callable[[tuple[int, int], np.random.Generator], np.ndarray]:
    if isinstance(init, str):
        fn = getattr(_initializers, init, None)
        names = [n for n in _initializers.__all__ if n.endswith(("_normal", "_uniform"))]
        names.append("orthogonal")
        if init not in names or fn is None:
            raise ValueError(f"init must be a callable, a std, or one of {names}; got {init!r}")
        return lambda shape, gen: fn(shape, rng=gen)
    if isinstance(init, numbers.Real) and not isinstance(init, (bool, np.bool_)):
        std = as_real(init, "init (a standard deviation)", minimum=0.0)
        return lambda shape, gen: gen.normal(0.0, std, size=shape)
    if callable(init):
        return lambda shape, gen: init(shape, rng=gen)
    raise ValueError(
        f"init must be an initializer callable f(shape, rng=...), the name of one in "
        f"weightinit.initializers, or the standard deviation of a normal; got {init!r}"
    )


def make_weights(
    init: InitLike, layer_sizes: Sequence[int], rng: np.random.Generator | int | None = None
) -> list[np.ndarray]:
    """One weight matrix per layer: ``init((n_{l-1}, n_l), rng=rng)`` for ``l = 1..L``.

    Parameters
    ----------
    init : callable, str or float
        An initializer called as ``init(shape, rng=gen)`` (every random initializer of
        :mod:`weightinit.initializers` fits, e.g. ``he_normal``); the name of one
        (``"he_normal"``, ``"xavier_uniform"``, ``"orthogonal"``...); or a float, the standard
        deviation of a zero-mean normal (``0.01`` gives ``rng.normal(0, 0.01, shape)``).
    layer_sizes : sequence of int
        ``(n_0, n_1, ..., n_L)``, at least two positive widths.
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``. The layers draw from it in order.

    Returns
    -------
    list of numpy.ndarray
        float64 matrices of shapes ``(n_{l-1}, n_l)``.

    Examples
    --------
    >>> ws = make_weights("he_normal", [784, 256, 10], rng=0)
    >>> [w.shape for w in ws]
    [(784, 256), (256, 10)]
    """
    sizes = _layer_sizes(layer_sizes)
    fn = _as_initializer(init)
    gen = as_generator(rng)
    mats = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        w = np.asarray(fn((fan_in, fan_out), gen), dtype=np.float64)
        if w.shape != (fan_in, fan_out):
            raise ValueError(
                f"init returned shape {w.shape} for the shape {(fan_in, fan_out)} it was asked for"
            )
        mats.append(w)
    return mats


def _layer_sizes(layer_sizes: Sequence[int]) -> list[int]:
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise ValueError(
            f"layer_sizes must be a sequence of positive integers (n_0, ..., n_L), "
            f"got {layer_sizes!r}"
        )
    sizes = [as_positive_int(n, "every entry of layer_sizes") for n in layer_sizes]
    if len(sizes) < 2:
        raise ValueError(
            f"layer_sizes must list the input width and at least one layer, got {layer_sizes!r}"
        )
    return sizes


# --------------------------------------------------------------------------------------------
# Cheap statistics
# --------------------------------------------------------------------------------------------


def _moments(a: np.ndarray) -> tuple[float, float, bool]:
    """Mean and standard deviation (ddof 0) from one sum and one dot product.

    ``var = E[a^2] - E[a]^2`` loses digits when the mean dominates; then (and only then) the
    variance is recomputed in two passes. Returns also whether every value is finite.
    """
    flat = a.reshape(-1)
    n = flat.size
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(flat.sum())
        square = float(np.dot(flat, flat))
    if not (math.isfinite(total) and math.isfinite(square)):
        with np.errstate(over="ignore", invalid="ignore"):
            finite = bool(np.isfinite(flat).all())
            return float(np.mean(flat)), float(np.std(flat)), finite
    mean = total / n
    second = square / n
    var = second - mean * mean
    if var <= 1e-3 * second:  # cancellation: fewer than ~13 digits left
        d = flat - mean
        var = float(np.dot(d, d)) / n
    return mean, math.sqrt(max(var, 0.0)), True


class _Histogram:
    """Fixed-edge histogram accumulated in cache-sized chunks (about 2 ms per million values).

    For equal-width edges, the bin of ``x`` is ``floor((x - lo) * bins / (hi - lo))``, the same
    arithmetic as ``np.histogram``'s fast path; other edges fall back to ``np.histogram``.
    """

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = edges
        self.bins = edges.size - 1
        self.lo, self.hi = float(edges[0]), float(edges[-1])
        width = (self.hi - self.lo) / self.bins
        self.uniform = bool(np.allclose(np.diff(edges), width, rtol=1e-9, atol=0.0))
        self.norm = self.bins / (self.hi - self.lo)
        self._buf = np.empty(_CHUNK)
        self._idx = np.empty(_CHUNK, dtype=np.intp)

    def __call__(self, a: np.ndarray, finite: bool) -> tuple[np.ndarray, int, int]:
        flat = a.reshape(-1)
        if not (self.uniform and finite):
            return self._slow(flat)
        nb = self.bins
        counts = np.zeros(nb + 2, dtype=np.intp)
        for start in range(0, flat.size, _CHUNK):
            chunk = flat[start : start + _CHUNK]
            b = self._buf[: chunk.size]
            i = self._idx[: chunk.size]
            np.subtract(chunk, self.lo, out=b)
            np.multiply(b, self.norm, out=b)
            np.clip(b, -1.0, float(nb), out=b)  # slot 0: below; nb + 1: at or above hi
            np.add(b, 1.0, out=b)
            np.copyto(i, b, casting="unsafe")  # truncation = floor, all values are >= 0
            counts += np.bincount(i, minlength=nb + 2)
        # Slot nb + 1 holds the values at or above hi, and those just below hi whose scaled
        # value rounded up to nb. np.histogram's last bin is closed and takes all but x > hi.
        above = int(np.count_nonzero(flat > self.hi))
        counts[nb] += counts[nb + 1] - above
        return counts[1 : nb + 1].copy(), int(counts[0]), above

    def _slow(self, flat: np.ndarray) -> tuple[np.ndarray, int, int]:
        with np.errstate(invalid="ignore"):
            counts, _ = np.histogram(flat[np.isfinite(flat)], bins=self.edges)
            below = int(np.count_nonzero(flat < self.lo))
            return counts, below, int(np.count_nonzero(flat > self.hi))


def _check_edges(edges: object, name: str) -> np.ndarray:
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise ValueError(
            f"edges[{name!r}] must be at least two finite, strictly increasing bin edges, "
            f"got {edges!r}"
        )
    return e


def _symmetric_edges(half_width: float, bins: int) -> np.ndarray:
    """``bins + 1`` equal-width edges on ``[-half_width, half_width]``, exactly symmetric (with
    an edge at exactly 0 when `bins` is even)."""
    if bins % 2:
        return np.linspace(-half_width, half_width, bins + 1)
    pos = np.linspace(0.0, half_width, bins // 2 + 1)
    return np.concatenate([-pos[:0:-1], pos])


def _default_edges(quantity: str, act: Activation, theory: Theory, bins: int) -> np.ndarray:
    """Bins shared by all layers: the activation's range where it is bounded, else +-4 predicted
    standard deviations of the first layer computed (layer 1 forward, layer L backward). ReLU's
    activations get the non-negative half of the pre-activations' bins, so that their histogram
    is read off the pre-activations' one."""
    if quantity == "h" and act.name == "tanh":
        return np.linspace(-1.0, 1.0, bins + 1)
    if quantity == "h" and act.name == "sigmoid":
        return np.linspace(0.0, 1.0, bins + 1)
    if quantity in ("z", "h"):
        s = theory.z_std[0]
        if quantity == "h" and act.name != "relu":
            s = math.sqrt(theory.h_second[0]) if theory.h_second[0] >= 0 else math.nan
    elif quantity == "dz":
        s = theory.dz_std[-1]
    else:
        s = theory.dw_std[-1]
    s = float(s) if math.isfinite(s) and s > 0 else 1.0
    if quantity == "h" and act.name == "relu":
        return np.linspace(0.0, 4.0 * s, max(bins // 2, 1) + 1)
    return _symmetric_edges(4.0 * s, bins)


def _derived_h(act: Activation, z_edges: np.ndarray, h_edges: np.ndarray) -> int | None:
    """If h's histogram follows from z's, the index of z's edge where h's edges start.

    Linear: h = z, the same edges give the same counts. ReLU: h = max(z, 0), so when h's edges
    are z's from an edge at exactly 0 on, every z below 0 lands in h's first bin and the other
    bins are z's. Saves one histogram per layer.
    """
    if act.name == "linear" and np.array_equal(z_edges, h_edges):
        return 0
    k = z_edges.size - h_edges.size
    if act.name == "relu" and k >= 0 and z_edges[k] == 0.0 and np.array_equal(z_edges[k:], h_edges):
        return k
    return None


class _Recorder:
    """Collects one quantity's per-layer statistics."""

    def __init__(self, name: str, depth: int, edges: np.ndarray | None) -> None:
        self.name = name
        self.size = np.zeros(depth, dtype=np.int64)
        self.mean = np.full(depth, math.nan)
        self.std = np.full(depth, math.nan)
        self.hist = None if edges is None else _Histogram(edges)
        if self.hist is not None:
            self.counts = np.zeros((depth, self.hist.bins), dtype=np.int64)
            self.below = np.zeros(depth, dtype=np.int64)
            self.above = np.zeros(depth, dtype=np.int64)

    def add(self, i: int, a: np.ndarray) -> None:
        self.size[i] = a.size
        self.mean[i], self.std[i], finite = _moments(a)
        if self.hist is not None:
            self.counts[i], self.below[i], self.above[i] = self.hist(a, finite)

    def add_from(self, i: int, a: np.ndarray, source: _Recorder, k: int) -> None:
        """Moments of `a`; histogram from `source`'s layer i (see :func:`_derived_h`)."""
        self.size[i] = a.size
        self.mean[i], self.std[i], _ = _moments(a)
        counts = source.counts[i]
        if k == 0:
            self.counts[i] = counts
            self.below[i] = source.below[i]
        else:
            self.counts[i] = counts[k:]
            self.counts[i, 0] += counts[:k].sum() + source.below[i]
            self.below[i] = 0
        self.above[i] = source.above[i]

    def result(self, predicted_mean: np.ndarray, predicted_std: np.ndarray) -> LayerStats:
        h = self.hist
        return LayerStats(
            name=self.name,
            size=self.size,
            mean=self.mean,
            std=self.std,
            predicted_mean=np.asarray(predicted_mean, dtype=np.float64),
            predicted_std=np.asarray(predicted_std, dtype=np.float64),
            edges=None if h is None else h.edges,
            counts=None if h is None else self.counts,
            below=None if h is None else self.below,
            above=None if h is None else self.above,
        )


def _count_saturated(z: np.ndarray, region: tuple[float, float]) -> int:
    lo, hi = region
    n = 0
    if lo > -math.inf:
        n += int(np.count_nonzero(z <= lo))
    if hi < math.inf:
        n += int(np.count_nonzero(z >= hi))
    return n


# Activations whose output can overwrite their input, and whose slope follows from the output:
# relu'(z) = [h > 0], tanh'(z) = 1 - h^2, sigma'(z) = h (1 - h), linear' = 1. Only the exact
# registered objects qualify (a leaky ReLU with a custom slope takes the general path).
_FAST = {"linear", "relu", "tanh", "sigmoid"}


def _is_fast(act: Activation) -> bool:
    return act.name in _FAST and ACTIVATIONS.get(act.name) is act


def _forward_inplace(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0, out=z)
    if name == "tanh":
        return np.tanh(z, out=z)
    if name == "sigmoid":
        return expit(z, out=z)
    return z  # linear


def _slope_inplace(name: str, h: np.ndarray, dh: np.ndarray) -> np.ndarray:
    """``dh *= f'(z)`` computed from ``h = f(z)``; may overwrite ``h`` (no longer needed)."""
    if name == "relu":
        return np.multiply(dh, h > 0.0, out=dh)
    if name == "tanh":
        np.multiply(h, h, out=h)
        np.subtract(1.0, h, out=h)  # 1 - tanh(z)^2
        return np.multiply(dh, h, out=dh)
    if name == "sigmoid":
        np.multiply(h, np.subtract(1.0, h), out=h)  # s (1 - s)
        return np.multiply(dh, h, out=dh)
    return dh  # linear


# --------------------------------------------------------------------------------------------
# The pass
# --------------------------------------------------------------------------------------------


def propagate(
    x: np.ndarray,
    weights: Sequence[np.ndarray] | InitLike,
    activation: str | Activation = "relu",
    *,
    layer_sizes: Sequence[int] | None = None,
    rng: np.random.Generator | int | None = None,
    grad_output: np.ndarray | str | None = None,
    backward: bool = True,
    histograms: bool = True,
    bins: int = DEFAULT_BINS,
    edges: Mapping[str, np.ndarray] | None = None,
    slope_ratio: float = SATURATION_SLOPE_RATIO,
) -> Propagation:
    """Push the batch `x` through a deep MLP and back; record every layer's statistics.

    Forward, with ``h_0 = x``: ``z_l = h_{l-1} @ W_l`` and ``h_l = f(z_l)`` (no biases).
    Backward, from ``g = dL/dh_L``: ``dz_l = dh_l * f'(z_l)``, ``dW_l = h_{l-1}.T @ dz_l``,
    ``dh_{l-1} = dz_l @ W_l.T`` ([Glorot10]_, [He15]_). For each layer ``l`` and each of
    ``z_l, h_l, dz_l, dW_l`` it records the mean and standard deviation over all values and a
    histogram on fixed edges, the share of saturated units, and the prediction of
    :func:`predict` computed from the measured input, the measured mean square of each weight
    matrix, and the measured ``g``.

    Parameters
    ----------
    x : array_like, shape (batch, n_0)
        The input batch; never modified.
    weights : sequence of arrays, or an initializer
        Either the weight matrices ``W_1..W_L`` (shapes ``(n_{l-1}, n_l)``, never modified), or
        anything :func:`make_weights` accepts (a callable such as ``he_normal``, its name, or a
        standard deviation), in which case `layer_sizes` says the widths and `rng` draws them.
    activation : str or Activation, default "relu"
        A name of :data:`weightinit.activations.ACTIVATIONS` or an Activation.
    layer_sizes : sequence of int, optional
        ``(n_0, ..., n_L)`` with ``n_0 = x.shape[1]``; only with an initializer.
    rng : {None, int, numpy.random.Generator}, optional
        Draws the weights (if `weights` is an initializer) and then a standard normal
        `grad_output` (if none is given). If `rng` is a Generator it is used directly;
        otherwise it seeds a new one through ``np.random.default_rng(rng)``.
    grad_output : array_like of shape (batch, n_L), "normal", "ones" or None
        ``dL/dh_L``. None or "normal": standard normal from `rng` (zero mean, independent
        rows: what the weight-gradient prediction assumes); "ones": all ones.
    backward : bool, default True
        Also run the backward pass (``dz`` and ``dw`` stay None otherwise).
    histograms : bool, default True
        Record histograms, on all the values (no subsampling). They cost about 2-3 ms per
        million values; ``benchmarks/bench_propagation.py`` measures the pass with and without.
        Without them the pass costs the matrix products and a few reductions.
    bins : int, default :data:`DEFAULT_BINS`
        Number of bins of the default edges.
    edges : mapping, optional
        Bin edges per quantity (``{"h": np.linspace(-1, 1, 41)}``); a quantity not given gets
        the default: the activation's range where it is bounded (tanh, sigmoid), else ``+-4``
        predicted standard deviations of the first layer computed (layer 1 for ``z``, ``h``;
        layer L for ``dz``, ``dw``); for ReLU, ``h`` gets the non-negative half of ``z``'s
        bins (``bins // 2`` of them, so its histogram is read off ``z``'s). The same edges serve
        every layer, so histograms compare across depth; values outside are counted in
        ``below`` / ``above``.
    slope_ratio : float, default :data:`SATURATION_SLOPE_RATIO`
        Defines saturation (:func:`saturation_region`).

    Returns
    -------
    Propagation

    Raises
    ------
    ValueError
        For shapes that do not chain, an unknown activation, invalid edges or `grad_output`.

    Notes
    -----
    Cost: the ``3L - 1`` matrix products, plus per array one sum, one dot product, a couple of
    comparisons and (optionally) the histogram, accumulated in cache-sized chunks with
    ``np.bincount``. The pass keeps every ``h_l`` for the backward pass (``L`` arrays of
    ``batch x n_l``) and, for relu, tanh, sigmoid and linear, computes ``f`` in place and
    ``f'`` from ``h_l``, so it allocates less than a plain loop. The standard deviation is
    ``sqrt(E[a^2] - E[a]^2)`` from one sum and one dot product, recomputed in two passes when
    the mean dominates (fewer than about 13 correct digits otherwise).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((256, 128))
    >>> res = propagate(x, "he_normal", "relu", layer_sizes=[128] * 11, rng=rng)
    >>> bool(np.all(np.abs(res.z.ratio - 1) < 0.25))
    True
    """
    x = _as_batch(x)
    act = get_activation(activation)
    gen = as_generator(rng)
    if isinstance(weights, (str, numbers.Real)) or (
        callable(weights) and not isinstance(weights, np.ndarray)
    ):
        if layer_sizes is None:
            raise ValueError("layer_sizes is required when weights is an initializer")
        sizes = _layer_sizes(layer_sizes)
        if sizes[0] != x.shape[1]:
            raise ValueError(
                f"layer_sizes[0] must be the input width x.shape[1] = {x.shape[1]}, got {sizes[0]}"
            )
        mats = make_weights(weights, sizes, gen)
    else:
        if layer_sizes is not None:
            raise ValueError("layer_sizes applies only when weights is an initializer")
        mats = _as_weights(weights, x.shape[1])
    sizes = [x.shape[1]] + [w.shape[1] for w in mats]
    depth, batch = len(mats), x.shape[0]
    bins = as_positive_int(bins, "bins")
    region, region_known = (math.nan, math.nan), act.name in _SATURATION_KNOWN
    if region_known:
        region = saturation_region(act, slope_ratio)
    else:
        as_real(slope_ratio, "slope_ratio", minimum=0.0, strict=True)

    g = None
    if backward:
        g = _grad_output(grad_output, batch, sizes[-1], gen)

    weight_var = np.array([float(np.dot(w.reshape(-1), w.reshape(-1))) / w.size for w in mats])
    x_mean, x_std, _ = _moments(x)
    g_mean, g_std = (0.0, 0.0) if g is None else _moments(g)[:2]
    theory = predict(
        act,
        sizes,
        weight_var,
        x_std**2 + x_mean**2,
        x_mean,
        grad_second=None if g is None else g_std**2 + g_mean**2,
        grad_mean=g_mean,
        batch=batch,
        saturation=region,
    )

    given = dict(edges or {})
    unknown = set(given) - set(QUANTITIES)
    if unknown:
        raise ValueError(f"edges keys must be among {QUANTITIES}, got {sorted(unknown)}")
    quantities = QUANTITIES if backward else QUANTITIES[:2]
    rec = {}
    for name in quantities:
        e = None
        if histograms:
            e = (
                _check_edges(given[name], name)
                if name in given
                else _default_edges(name, act, theory, bins)
            )
        rec[name] = _Recorder(name, depth, e)

    fast = _is_fast(act)
    derive = None
    if histograms and fast:
        derive = _derived_h(act, rec["z"].hist.edges, rec["h"].hist.edges)
    saturated = np.full(depth, math.nan)
    hs: list[np.ndarray | None] = [x]
    zs: list[np.ndarray | None] = [None]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        h = x
        for i, w in enumerate(mats):
            z = h @ w
            rec["z"].add(i, z)
            if region_known:
                saturated[i] = _count_saturated(z, region) / z.size
            if fast:
                h = _forward_inplace(act.name, z)  # z is not needed any more
                zs.append(None)
            else:
                h = np.asarray(act.forward(z), dtype=np.float64)
                zs.append(z if backward else None)
            if derive is None:
                rec["h"].add(i, h)
            else:
                rec["h"].add_from(i, h, rec["z"], derive)
            hs.append(h if backward else None)
        if backward:
            dh = np.array(g, dtype=np.float64, copy=True)
            for i in range(depth - 1, -1, -1):
                h_i = hs[i + 1]
                if fast:
                    dz = _slope_inplace(act.name, h_i, dh)
                else:
                    dz = np.multiply(dh, act.derivative(zs[i + 1]), out=dh)
                    zs[i + 1] = None
                rec["dz"].add(i, dz)
                dw = hs[i].T @ dz
                rec["dw"].add(i, dw)
                if i > 0:
                    # h_i is dead now: reuse its memory for dL/dh_{i-1} when shapes match.
                    out = h_i if (fast and h_i.shape == (batch, sizes[i])) else None
                    dh = np.matmul(dz, mats[i].T, out=out)
                hs[i + 1] = None

    z_stats = rec["z"].result(np.zeros(depth), theory.z_std)
    h_stats = rec["h"].result(theory.h_mean, theory.h_std)
    dz_stats = dw_stats = None
    if backward:
        dz_stats = rec["dz"].result(theory.dz_mean, theory.dz_std)
        dw_stats = rec["dw"].result(theory.dw_mean, theory.dw_std)
    return Propagation(
        activation=act.name,
        layer_sizes=tuple(sizes),
        batch=batch,
        weight_var=weight_var,
        z=z_stats,
        h=h_stats,
        dz=dz_stats,
        dw=dw_stats,
        saturated=saturated,
        predicted_saturated=theory.saturated,
        saturation=region,
        theory=theory,
    )


def _grad_output(
    grad_output: object, batch: int, width: int, gen: np.random.Generator
) -> np.ndarray:
    if grad_output is None or (isinstance(grad_output, str) and grad_output == "normal"):
        return gen.standard_normal((batch, width))
    if isinstance(grad_output, str):
        if grad_output == "ones":
            return np.ones((batch, width))
        raise ValueError(
            f"grad_output must be an array of shape {(batch, width)}, 'normal', 'ones' or None; "
            f"got {grad_output!r}"
        )
    g = np.asarray(grad_output, dtype=np.float64)
    if g.shape != (batch, width):
        raise ValueError(
            f"grad_output must have the shape of the last layer's output {(batch, width)}, "
            f"got {g.shape}"
        )
    return g


# --------------------------------------------------------------------------------------------
# The ex05 reference
# --------------------------------------------------------------------------------------------


def forward_stds(
    x: np.ndarray, weights: Sequence[np.ndarray], activation: str | Activation
) -> list[float]:
    """Standard deviation of each layer's output: ``[std(h_1), ..., std(h_L)]``.

    The reference of ``ex05-deep-signal``: ``h_0 = x``, ``z_l = h_{l-1} @ W_l``,
    ``h_l = f(z_l)``, no biases; ``std`` is ``np.std`` over all entries of ``h_l``.

    Parameters
    ----------
    x : array_like, shape (batch, n_0)
    weights : sequence of arrays
        ``W_1..W_L`` of shapes ``(n_{l-1}, n_l)``.
    activation : str or Activation
        A name of :data:`weightinit.activations.ACTIVATIONS`.

    Returns
    -------
    list of float
        ``L`` values.

    Examples
    --------
    >>> x = np.ones((2, 3))
    >>> forward_stds(x, [np.eye(3), 2 * np.eye(3)], "linear")
    [0.0, 0.0]
    """
    h = _as_batch(x)
    act = get_activation(activation)
    stds = []
    for w in _as_weights(weights, h.shape[1]):
        h = act.forward(h @ w)
        stds.append(float(np.std(h)))
    return stds


def backward_stds(
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    activation: str | Activation,
    grad_output: np.ndarray,
) -> list[float]:
    """Standard deviation of the gradient at each pre-activation: ``[std(dL/dz_1), ...]``.

    The reference of ``ex05-deep-signal``: a forward pass as in :func:`forward_stds`, then from
    ``dL/dh_L = grad_output``: ``dL/dz_l = dL/dh_l * f'(z_l)`` and
    ``dL/dh_{l-1} = dL/dz_l @ W_l.T``. Returns ``[std(dL/dz_1), ..., std(dL/dz_L)]`` in layer
    order (``np.std`` over all entries).

    Parameters
    ----------
    x : array_like, shape (batch, n_0)
    weights : sequence of arrays
        ``W_1..W_L`` of shapes ``(n_{l-1}, n_l)``.
    activation : str or Activation
    grad_output : array_like, shape (batch, n_L)
        ``dL/dh_L``.

    Returns
    -------
    list of float
        ``L`` values, layer 1 first.
    """
    h = _as_batch(x)
    act = get_activation(activation)
    mats = _as_weights(weights, h.shape[1])
    g = np.asarray(grad_output, dtype=np.float64)
    if g.shape != (h.shape[0], mats[-1].shape[1]):
        raise ValueError(
            f"grad_output must have the shape of the last layer's output "
            f"{(h.shape[0], mats[-1].shape[1])}, got {g.shape}"
        )
    zs = []
    for w in mats:
        z = h @ w
        zs.append(z)
        h = act.forward(z)
    stds = [0.0] * len(mats)
    dh = g
    for i in range(len(mats) - 1, -1, -1):
        dz = dh * act.derivative(zs[i])
        stds[i] = float(np.std(dz))
        dh = dz @ mats[i].T
    return stds
