"""The first step of training: what a good initialization looks like in the loss and in the
first updates, for the numpy MLP of :mod:`weightinit.simulation.training`.

- :func:`uniform_loss`: the cross-entropy of a network that gives every one of ``C`` classes
  probability ``1/C``, :math:`\\ln C`, the loss a well-initialized classifier starts near.
- :func:`with_output`: the same network with its last layer scaled (how confident the initial
  output is) and its output bias set; :func:`log_prior_bias`: the bias that makes the initial
  output the class frequencies.
- :func:`with_hidden_bias` and :func:`dead_share_first_layer`: hidden biases, and the share of
  ReLU units of the first layer that are zero on every example of a batch, by theory.
- :func:`update_ratios` and :func:`watch_training`: gradient descent that records, at chosen
  steps, each layer's activation and gradient spread and the update-to-data ratio
  :math:`\\lVert \\eta\\,\\partial W \\rVert / \\lVert W \\rVert` (Karpathy's diagnostic
  [Karpathy22]_).

References
----------
.. [Karpathy22] A. Karpathy, "Building makemore part 3: activations & gradients, BatchNorm",
   video and notebook, 2022.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers", ICCV 2015.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from .._validate import as_positive_int, as_real
from ..activations import Activation, get_activation
from .training import Params, forward, loss_and_grads

__all__ = [
    "uniform_loss",
    "log_prior_bias",
    "with_output",
    "with_hidden_bias",
    "dead_share_first_layer",
    "update_ratios",
    "StepRecord",
    "FirstSteps",
    "watch_training",
]


def uniform_loss(classes: int) -> float:
    """:math:`\\ln C`: the mean cross-entropy when every class gets probability :math:`1/C`.

    With all logits equal (an output layer near zero), the softmax is uniform and
    :math:`-\\ln(1/C) = \\ln C` whatever the labels. For a sigmoid output (``C = 2``) it is
    :math:`\\ln 2`.
    """
    classes = as_positive_int(classes, "classes")
    if classes < 2:
        raise ValueError(f"classes must be at least 2, got {classes}")
    return math.log(classes)


def log_prior_bias(y: np.ndarray, width: int) -> np.ndarray:
    """The output bias that makes a zero-weight output layer predict the class frequencies.

    For a sigmoid output (``width == 1``) the log-odds :math:`\\ln(q / (1 - q))` of the share
    :math:`q` of class 1; for a softmax of ``width == K`` classes the log-shares
    :math:`\\ln q_k` (any constant may be added to all; this is the one with
    :math:`\\sum_k e^{b_k} = 1`). With it the initial loss is the entropy of the labels instead of
    :math:`\\ln K`.

    Raises
    ------
    ValueError
        If a class does not occur in `y` (its log-share is :math:`-\\infty`) or a label is out of
        range.
    """
    width = as_positive_int(width, "width")
    classes = 2 if width == 1 else width
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0 or y.dtype.kind not in "iu":
        raise ValueError(f"y must be a non-empty 1-D array of integer labels; got {y!r:.60}")
    if y.min() < 0 or y.max() >= classes:
        raise ValueError(f"y must hold labels 0..{classes - 1}; got {y.min()}..{y.max()}")
    share = np.bincount(y, minlength=classes) / y.size
    if np.any(share == 0):
        missing = [int(k) for k in np.flatnonzero(share == 0)]
        raise ValueError(f"y has no example of class {missing}: its log prior is -inf")
    if width == 1:
        return np.array([math.log(share[1] / share[0])])
    return np.log(share)


def _copy(params: Params) -> Params:
    return [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in params]


def with_output(
    params: Params, scale: float = 1.0, bias: np.ndarray | float | None = None
) -> Params:
    """A copy of `params` with the last weight matrix multiplied by `scale` and, if given, the
    last bias replaced by `bias` (broadcast to its shape). The hidden layers are unchanged.

    The logits are :math:`s = h_{L-1} W_L + b_L`; multiplying :math:`W_L` by `scale` multiplies
    the spread of the initial logits by `scale`: how confident the untrained network is.
    """
    out = _copy(params)
    scale = as_real(scale, "scale", minimum=0.0)
    W, b = out[-1]
    if bias is not None:
        bias = np.asarray(bias, dtype=np.float64)
        try:
            b = np.broadcast_to(bias, b.shape).copy()
        except ValueError:
            raise ValueError(
                f"bias must broadcast to the output bias's shape {b.shape}; got {bias.shape}"
            ) from None
    out[-1] = (W * scale, b)
    return out


def with_hidden_bias(params: Params, value: float) -> Params:
    """A copy of `params` whose hidden layers' biases all equal `value` (output bias kept)."""
    value = as_real(value, "value")
    out = _copy(params)
    return [(W, np.full_like(b, value)) for W, b in out[:-1]] + [out[-1]]


def dead_share_first_layer(
    bias: float, input_mean: float, n: int, var_w: float, batch: int, var_x: float = 1.0
) -> float:
    """Expected share of first-layer ReLU units that are zero on every example of a batch.

    Unit ``j`` computes :math:`z_j = b + \\sum_i w_{ij} x_i` with :math:`x_i = \\mu + \\epsilon_i`,
    :math:`\\epsilon_i \\sim N(0, \\sigma_x^2)` independent across examples. Given its weights,
    the unit's offset is :math:`o_j = b + \\mu \\sum_i w_{ij}`, which over the draw of the
    weights is :math:`N(b, \\mu^2 n \\mathrm{Var}(w))`, and around it :math:`z_j` varies by
    :math:`N(0, s^2)`, :math:`s^2 = \\sigma_x^2 \\sum_i w_{ij}^2 \\approx n \\mathrm{Var}(w)
    \\sigma_x^2`. The unit is dead on the batch when all ``batch`` values are :math:`\\le 0`:

    .. math::

        P = E_{o}\\left[\\Phi(-o/s)^{B}\\right],

    computed by quadrature over :math:`o` (Gauss-Hermite when the offsets spread less than
    :math:`s`, a fine grid otherwise). It is :math:`2^{-B}` for
    :math:`b = \\mu = 0`, and tends to :math:`\\Phi(-b / (|\\mu| \\sqrt{n \\mathrm{Var}(w)}))`
    (one half for :math:`b = 0`) as :math:`|\\mu|` grows: the offset, not the example, decides.

    Parameters
    ----------
    bias : float
    input_mean : float
    n : int
        Fan-in.
    var_w : float
        Weight variance, positive.
    batch : int
    var_x : float, default 1.0
        Variance of each input around its mean, positive.
    """
    bias = as_real(bias, "bias")
    mu = as_real(input_mean, "input_mean")
    n = as_positive_int(n, "n")
    var_w = as_real(var_w, "var_w", minimum=0.0, strict=True)
    batch = as_positive_int(batch, "batch")
    var_x = as_real(var_x, "var_x", minimum=0.0, strict=True)
    s = math.sqrt(n * var_w * var_x)
    # In units of the per-example spread: t = -o / s ~ N(-bias / s, (|mu| sqrt(n var_w) / s)^2).
    centre, width = -bias / s, abs(mu) * math.sqrt(n * var_w) / s
    if width <= 1.0:
        # a narrow spread of offsets: Gauss-Hermite over t, whose integrand is smooth there
        nodes, weights = np.polynomial.hermite_e.hermegauss(101)
        values = np.exp(batch * norm.logcdf(centre + width * nodes))
        return float(weights @ values / math.sqrt(2.0 * math.pi))
    # a wide one: Phi(t)^B steps up within a few units of t = 0; integrate it on a fine grid over
    # [-12, 12] (below, Phi^B < 1e-32; above, 1 - Phi^B < B * 1e-32) and add the mass above.
    t = np.linspace(-12.0, 12.0, 4801)
    density = norm.pdf(t, centre, width)
    values = np.exp(batch * norm.logcdf(t)) * density
    inside = float(np.sum((values[1:] + values[:-1]) / 2.0) * (t[1] - t[0]))
    return inside + float(norm.sf(12.0, centre, width))


def update_ratios(params: Params, grads: Params, lr: float) -> list[float]:
    """The update-to-data ratio of every weight matrix:
    :math:`\\lVert \\eta\\,\\partial W_l \\rVert_F / \\lVert W_l \\rVert_F`.

    How large one gradient-descent step is relative to the weights it changes. Karpathy's rule
    of thumb [Karpathy22]_ is about :math:`10^{-3}`: much smaller and the layer hardly learns,
    much larger and it is rewritten at every step. (He plots the ratio of standard deviations,
    which for zero-mean matrices is the same number.)

    Raises
    ------
    ValueError
        If the shapes differ or a weight matrix is all zeros.
    """
    lr = as_real(lr, "lr", minimum=0.0, strict=True)
    if len(params) != len(grads):
        raise ValueError(f"params and grads must have one entry per layer; got "
                         f"{len(params)} and {len(grads)}")
    out = []
    for i, ((W, _), (dW, _)) in enumerate(zip(params, grads, strict=True)):
        W, dW = np.asarray(W), np.asarray(dW)
        if W.shape != dW.shape:
            raise ValueError(f"grads[{i}] has shape {dW.shape}, params[{i}] {W.shape}")
        norm_w = float(np.linalg.norm(W))
        if norm_w == 0.0:
            raise ValueError(f"params[{i}]'s weights are all zero: the ratio is undefined")
        out.append(lr * float(np.linalg.norm(dW)) / norm_w)
    return out


@dataclass(frozen=True)
class StepRecord:
    """The state of the network before update ``step`` (``step`` updates already taken).

    Attributes
    ----------
    step : int
    loss : float
    activation_std : list of float
        Standard deviation of each hidden layer's activations :math:`h_l` on the batch.
    gradient_std : list of float
        Standard deviation of each layer's weight gradient :math:`\\partial \\ell/\\partial W_l`.
    update_ratio : list of float
        :func:`update_ratios` of the step about to be taken.
    """

    step: int
    loss: float
    activation_std: list[float]
    gradient_std: list[float]
    update_ratio: list[float]


@dataclass(frozen=True)
class FirstSteps:
    """What :func:`watch_training` saw: the loss at every step and records at chosen steps."""

    loss: np.ndarray
    records: dict[int, StepRecord]
    params: Params


def watch_training(
    X: np.ndarray,
    y: np.ndarray,
    params: Params,
    *,
    lr: float,
    steps: int,
    record_at: Iterable[int] = (0,),
    hidden: str | Activation = "relu",
) -> FirstSteps:
    """Full-batch gradient descent as :func:`~weightinit.simulation.training.train` does it
    (:math:`W \\leftarrow W - \\eta\\,\\partial W`, same for the biases), recording
    :class:`StepRecord` before the updates listed in `record_at`.

    Parameters
    ----------
    X, y : the data (see :func:`~weightinit.simulation.training.train`).
    params : list of (W, b)
        Initial parameters; copied, never modified.
    lr : float
        Learning rate, positive.
    steps : int
        Number of updates, at least 0.
    record_at : iterable of int
        Steps (0 .. `steps`) at which to record.
    hidden : str or Activation, default "relu"

    Returns
    -------
    FirstSteps
        ``loss`` of shape ``(steps + 1,)``: entry ``k`` after ``k`` updates.
    """
    lr = as_real(lr, "lr", minimum=0.0, strict=True)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    wanted = sorted(set(int(s) for s in record_at))
    if any(s < 0 or s > steps for s in wanted):
        raise ValueError(f"record_at must lie in 0..{steps}; got {wanted}")
    act = get_activation(hidden)
    current = _copy(params)
    losses = np.empty(steps + 1)
    records: dict[int, StepRecord] = {}
    for step in range(steps + 1):
        value, grads = loss_and_grads(current, X, y, act)
        losses[step] = value
        if step in wanted:
            hs = [act.forward(forward(current[:depth], X, act))
                  for depth in range(1, len(current))]
            records[step] = StepRecord(
                step=step,
                loss=value,
                activation_std=[float(h.std()) for h in hs],
                gradient_std=[float(dW.std()) for dW, _ in grads],
                update_ratio=update_ratios(current, grads, lr),
            )
        if step == steps:
            break
        current = [(W - lr * dW, b - lr * db)
                   for (W, b), (dW, db) in zip(current, grads, strict=True)]
    return FirstSteps(loss=losses, records=records, params=current)
