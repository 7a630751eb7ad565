"""A small numpy MLP trained by full-batch gradient descent: enough to see that the initial
weights change what a network learns.

The network has ``L`` dense layers with biases, ``(W_l, b_l)`` of shapes ``(n_{l-1}, n_l)`` and
``(n_l,)`` (``DESIGN.md``'s ``ex06`` format), hidden activation ``f`` (ReLU or tanh, or any of
:data:`weightinit.activations.ACTIVATIONS`) and an output chosen by the last width:

- ``n_L = 1``: logit ``s``, :math:`p = \\sigma(s)`, binary cross-entropy
  :math:`\\ell = \\log(1 + e^{s}) - y s` (computed as ``logaddexp(0, s) - y s``, exact for any
  ``s``);
- ``n_L = K >= 2``: logits ``s``, softmax, categorical cross-entropy
  :math:`\\ell = \\log\\sum_k e^{s_k} - s_y` (log-sum-exp with the maximum subtracted).

The loss is the mean over the samples. Both outputs share the gradient
:math:`\\partial \\ell / \\partial s = (p - \\text{onehot}(y)) / N`, then back-propagation:
:math:`\\partial W_l = h_{l-1}^\\top \\delta_l`, :math:`\\partial b_l = \\sum_n \\delta_l`,
:math:`\\delta_{l-1} = (\\delta_l W_l^\\top) \\odot f'(z_{l-1})`; gradient descent updates
:math:`W \\leftarrow W - \\eta\\,\\partial W`. The tests check the gradients against central
finite differences.

:func:`init_mlp` is the reference of the ``ex06-training`` exercise: schemes ``"zeros"``,
``"small"`` (std 0.01), ``"large"`` (std 10), ``"xavier"`` (Glorot normal,
``Var = 2 / (fan_in + fan_out)`` [Glorot10]_), ``"he"`` (He normal, ``Var = 2 / fan_in``
[He15]_), all with zero biases.

References
----------
.. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
   neural networks", AISTATS 2010.
.. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
   human-level performance on ImageNet classification", ICCV 2015.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .._validate import as_generator, as_real, choice
from ..activations import ACTIVATIONS, Activation, get_activation
from ..initializers import he_normal, xavier_normal

__all__ = [
    "SCHEMES",
    "SMALL_STD",
    "LARGE_STD",
    "Params",
    "TrainingResult",
    "init_mlp",
    "forward",
    "predict_proba",
    "predict",
    "loss",
    "accuracy",
    "loss_and_grads",
    "train",
    "decision_grid",
    "unit_spread",
]

#: The initialization schemes of ``init_mlp`` (and of the ``ex06-training`` exercise).
SCHEMES = ("zeros", "small", "large", "xavier", "he")

#: Standard deviation of the "small" scheme.
SMALL_STD = 0.01

#: Standard deviation of the "large" scheme.
LARGE_STD = 10.0

#: Parameters of an MLP: one ``(W, b)`` pair per layer.
Params = list[tuple[np.ndarray, np.ndarray]]


# --------------------------------------------------------------------------------------------
# Initialization
# --------------------------------------------------------------------------------------------


def init_mlp(
    layer_sizes: Sequence[int], scheme: str, rng: np.random.Generator | int | None = None
) -> Params:
    """Initial parameters of an MLP: one ``(W, b)`` pair per layer, biases zero.

    ============ ====================================================================
    scheme       ``W_l`` of shape ``(n_{l-1}, n_l)``
    ============ ====================================================================
    ``"zeros"``  all zeros (every hidden unit computes the same thing, forever)
    ``"small"``  :math:`N(0, 0.01^2)`
    ``"large"``  :math:`N(0, 10^2)`
    ``"xavier"`` :math:`N(0, 2 / (n_{l-1} + n_l))`, Glorot normal [Glorot10]_
    ``"he"``     :math:`N(0, 2 / n_{l-1})`, He normal [He15]_
    ============ ====================================================================

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_0, n_1, ..., n_L)``: input width, hidden widths, output width; at least two
        positive integers.
    scheme : {"zeros", "small", "large", "xavier", "he"}
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``. Layers draw in order, first layer first.

    Returns
    -------
    list of (W, b)
        float64 arrays; ``b`` is ``np.zeros(n_l)``.

    Raises
    ------
    ValueError
        For invalid sizes, an unknown scheme or an invalid `rng`.

    Examples
    --------
    >>> params = init_mlp([2, 16, 1], "he", rng=0)
    >>> [(W.shape, b.shape) for W, b in params]
    [((2, 16), (16,)), ((16, 1), (1,))]
    """
    sizes = _layer_sizes(layer_sizes)
    choice(scheme, "scheme", SCHEMES)
    gen = as_generator(rng)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        shape = (fan_in, fan_out)
        if scheme == "zeros":
            W = np.zeros(shape)
        elif scheme == "small":
            W = gen.normal(0.0, SMALL_STD, size=shape)
        elif scheme == "large":
            W = gen.normal(0.0, LARGE_STD, size=shape)
        elif scheme == "xavier":
            W = xavier_normal(shape, gen)
        else:
            W = he_normal(shape, gen)
        params.append((W, np.zeros(fan_out)))
    return params


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _layer_sizes(layer_sizes: Sequence[int]) -> list[int]:
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise ValueError(
            f"layer_sizes must be a sequence of positive integers such as [2, 16, 1], "
            f"got {layer_sizes!r}"
        )
    sizes = []
    for n in layer_sizes:
        if not _is_int(n) or n < 1:
            raise ValueError(
                f"layer_sizes must contain only positive integers, got {list(layer_sizes)!r}"
            )
        sizes.append(int(n))
    if len(sizes) < 2:
        raise ValueError(
            f"layer_sizes must give the input and output widths at least, got {list(sizes)!r}"
        )
    return sizes


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _as_params(params: object) -> Params:
    try:
        pairs = list(params)  # type: ignore[call-overload]
    except TypeError:
        raise ValueError(
            f"params must be a list of (W, b) pairs, got {type(params).__name__}"
        ) from None
    if not pairs:
        raise ValueError("params must hold at least one (W, b) pair, got an empty list")
    out = []
    width = None
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"params[{i}] must be a (W, b) pair, got {type(pair).__name__}")
        W = np.asarray(pair[0], dtype=np.float64)
        b = np.asarray(pair[1], dtype=np.float64)
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(
                f"params[{i}] must be W of shape (fan_in, fan_out) and b of shape (fan_out,), "
                f"got {W.shape} and {b.shape}"
            )
        if width is not None and W.shape[0] != width:
            raise ValueError(
                f"params[{i}][0] has {W.shape[0]} rows but the previous layer has {width} units"
            )
        width = W.shape[1]
        out.append((W, b))
    return out


def _as_inputs(X: object, params: Params, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    n_in = params[0][0].shape[0]
    if X.ndim != 2 or X.shape[1] != n_in or X.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, {n_in}) with n >= 1, got {X.shape}")
    return X


def _as_labels(y: object, n: int, n_out: int, name: str = "y") -> np.ndarray:
    y = np.asarray(y)
    classes = 2 if n_out == 1 else n_out
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one label per row, got {y.shape}")
    if y.dtype.kind not in "iub":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise ValueError(
            f"{name} must hold labels in 0..{classes - 1} for an output of width {n_out}, "
            f"got values from {int(y.min())} to {int(y.max())}"
        )
    return y


# --------------------------------------------------------------------------------------------
# Forward, loss, gradients
# --------------------------------------------------------------------------------------------

_FROM_OUTPUT = {"relu", "tanh", "sigmoid", "linear"}


def _from_output(act: Activation) -> bool:
    """Whether f can overwrite z and f' follow from h = f(z) (the registered relu, tanh,
    sigmoid, linear), which saves an array and a pass per layer."""
    return act.name in _FROM_OUTPUT and ACTIVATIONS.get(act.name) is act


def _apply_slope(act: Activation, dh: np.ndarray, z: np.ndarray | None, h: np.ndarray) -> None:
    """``dh *= f'(z)`` in place, from ``h = f(z)`` when possible."""
    if not _from_output(act):
        np.multiply(dh, act.derivative(z), out=dh)
    elif act.name == "relu":
        np.multiply(dh, h > 0.0, out=dh)
    elif act.name == "tanh":
        np.multiply(dh, 1.0 - h * h, out=dh)
    elif act.name == "sigmoid":
        np.multiply(dh, h * (1.0 - h), out=dh)


def _forward(
    params: Params, X: np.ndarray, act: Activation
) -> tuple[list[np.ndarray | None], list[np.ndarray], np.ndarray]:
    """Hidden pre-activations zs (None where f' follows from h), activations hs (hs[0] = X),
    and the output logits."""
    hs: list[np.ndarray] = [X]
    zs: list[np.ndarray | None] = []
    inplace = _from_output(act)
    h = X
    for W, b in params[:-1]:
        z = h @ W
        z += b
        if inplace:
            if act.name == "relu":
                h = np.maximum(z, 0.0, out=z)
            elif act.name == "tanh":
                h = np.tanh(z, out=z)
            elif act.name == "sigmoid":
                h = expit(z, out=z)
            else:
                h = z
            zs.append(None)
        else:
            h = act.forward(z)
            zs.append(z)
        hs.append(h)
    W, b = params[-1]
    s = h @ W
    s += b
    return zs, hs, s


def _loss_and_delta(s: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Mean cross-entropy from logits, its gradient with respect to the logits, and accuracy."""
    n = s.shape[0]
    if s.shape[1] == 1:
        logit = s[:, 0]
        loss = float(np.mean(np.logaddexp(0.0, logit) - y * logit))
        delta = ((expit(logit) - y) / n)[:, None]
        acc = float(np.mean((logit > 0.0) == (y == 1)))
        return loss, delta, acc
    m = s.max(axis=1, keepdims=True)
    shifted = s - m
    lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - lse
    rows = np.arange(n)
    loss = float(-np.mean(log_p[rows, y]))
    delta = np.exp(log_p)
    delta[rows, y] -= 1.0
    delta /= n
    acc = float(np.mean(np.argmax(s, axis=1) == y))
    return loss, delta, acc


def _backward(
    params: Params, zs: list[np.ndarray], hs: list[np.ndarray], delta: np.ndarray, act: Activation
) -> Params:
    grads: Params = []
    for i in range(len(params) - 1, -1, -1):
        W = params[i][0]
        grads.append((hs[i].T @ delta, delta.sum(axis=0)))
        if i > 0:
            delta = delta @ W.T
            _apply_slope(act, delta, zs[i - 1], hs[i])
    grads.reverse()
    return grads


def forward(params: Params, X: np.ndarray, hidden: str | Activation = "relu") -> np.ndarray:
    """The output logits, shape ``(n, n_L)``: ``h_l = f(h_{l-1} W_l + b_l)``, then
    ``s = h_{L-1} W_L + b_L`` (no output nonlinearity)."""
    params = _as_params(params)
    return _forward(params, _as_inputs(X, params), get_activation(hidden))[2]


def predict_proba(params: Params, X: np.ndarray, hidden: str | Activation = "relu") -> np.ndarray:
    """Class probabilities: ``(n,)`` with ``P(y = 1)`` for a sigmoid output, ``(n, K)`` softmax."""
    s = forward(params, X, hidden)
    if s.shape[1] == 1:
        return expit(s[:, 0])
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def predict(params: Params, X: np.ndarray, hidden: str | Activation = "relu") -> np.ndarray:
    """Predicted labels, ``(n,)`` int64: ``s > 0`` for a sigmoid output, ``argmax`` for softmax."""
    s = forward(params, X, hidden)
    if s.shape[1] == 1:
        return (s[:, 0] > 0.0).astype(np.int64)
    return np.argmax(s, axis=1).astype(np.int64)


def loss(params: Params, X: np.ndarray, y: np.ndarray, hidden: str | Activation = "relu") -> float:
    """Mean cross-entropy of the network on ``(X, y)`` (binary or categorical, by output width)."""
    params = _as_params(params)
    X = _as_inputs(X, params)
    y = _as_labels(y, X.shape[0], params[-1][0].shape[1])
    return _loss_and_delta(_forward(params, X, get_activation(hidden))[2], y)[0]


def accuracy(
    params: Params, X: np.ndarray, y: np.ndarray, hidden: str | Activation = "relu"
) -> float:
    """Share of rows whose predicted label equals ``y``."""
    params = _as_params(params)
    X = _as_inputs(X, params)
    y = _as_labels(y, X.shape[0], params[-1][0].shape[1])
    return _loss_and_delta(_forward(params, X, get_activation(hidden))[2], y)[2]


def loss_and_grads(
    params: Params, X: np.ndarray, y: np.ndarray, hidden: str | Activation = "relu"
) -> tuple[float, Params]:
    """Mean cross-entropy and its gradient with respect to every ``W_l`` and ``b_l``.

    Returns
    -------
    loss : float
    grads : list of (dW, db)
        Same shapes as `params`.
    """
    params = _as_params(params)
    X = _as_inputs(X, params)
    y = _as_labels(y, X.shape[0], params[-1][0].shape[1])
    act = get_activation(hidden)
    zs, hs, s = _forward(params, X, act)
    value, delta, _ = _loss_and_delta(s, y)
    return value, _backward(params, zs, hs, delta, act)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    params : list of (W, b)
        The parameters after the last epoch.
    initial : list of (W, b)
        A copy of the parameters before the first epoch.
    hidden : str
        Hidden activation.
    lr : float
        Learning rate.
    loss, accuracy : numpy.ndarray
        ``(epochs + 1,)``: training loss and accuracy at the start (entry 0) and after each
        epoch (entry ``e`` after ``e`` updates).
    test_loss, test_accuracy : numpy.ndarray or None
        The same on the test set, when one was given.
    """

    params: Params
    initial: Params
    hidden: str
    lr: float
    loss: np.ndarray
    accuracy: np.ndarray
    test_loss: np.ndarray | None = None
    test_accuracy: np.ndarray | None = None

    @property
    def epochs(self) -> int:
        """Number of gradient steps taken."""
        return len(self.loss) - 1

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels predicted by the trained network (:func:`predict`)."""
        return predict(self.params, X, self.hidden)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities from the trained network (:func:`predict_proba`)."""
        return predict_proba(self.params, X, self.hidden)

    def decision_grid(
        self, X: np.ndarray, resolution: int = 200, margin: float = 0.5
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`decision_grid` of the trained network."""
        return decision_grid(self.params, X, self.hidden, resolution, margin)


def train(
    X: np.ndarray,
    y: np.ndarray,
    init: Params | str,
    *,
    layer_sizes: Sequence[int] | None = None,
    hidden: str | Activation = "relu",
    lr: float = 0.1,
    epochs: int = 1000,
    rng: np.random.Generator | int | None = None,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
) -> TrainingResult:
    """Train an MLP by full-batch gradient descent; record loss and accuracy at every epoch.

    Each epoch computes the mean cross-entropy on all of ``(X, y)`` and its gradient, records
    the loss and accuracy, and steps ``W <- W - lr dW``, ``b <- b - lr db``.

    Parameters
    ----------
    X : array_like, shape (n, n_0)
    y : array_like of int, shape (n,)
        Labels in {0, 1} for an output of width 1 (sigmoid), in ``0..K-1`` for width K (softmax).
    init : list of (W, b), or a scheme name
        Initial parameters (copied, never modified), or one of :data:`SCHEMES` passed to
        :func:`init_mlp` with `layer_sizes` and `rng`.
    layer_sizes : sequence of int, optional
        ``(n_0, ..., n_L)``, required with a scheme name.
    hidden : str or Activation, default "relu"
        Hidden activation ("relu", "tanh", or another of ``ACTIVATIONS``).
    lr : float, default 0.1
        Learning rate, positive.
    epochs : int, default 1000
        Number of gradient steps, at least 0.
    rng : {None, int, numpy.random.Generator}, optional
        Draws the initial weights of a scheme. If `rng` is a Generator it is used directly;
        otherwise it seeds a new one through ``np.random.default_rng(rng)``.
    X_test, y_test : array_like, optional
        A test set, evaluated (not trained on) at every epoch.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ValueError
        For shapes that do not fit, labels outside the output's classes, a non-positive `lr`, a
        negative `epochs`, or a test set given by halves.

    Examples
    --------
    >>> from weightinit.simulation.datasets import circles
    >>> X, y = circles(200, noise=0.05, rng=0)
    >>> res = train(X, y, "he", layer_sizes=[2, 16, 16, 1], lr=0.5, epochs=300, rng=1)
    >>> bool(res.accuracy[-1] > 0.9)
    True
    """
    if isinstance(init, str):
        if layer_sizes is None:
            raise ValueError("layer_sizes is required when init is a scheme name")
        params = init_mlp(layer_sizes, init, rng)
    else:
        if layer_sizes is not None:
            raise ValueError("layer_sizes applies only when init is a scheme name")
        params = [(W.copy(), b.copy()) for W, b in _as_params(init)]
    X = _as_inputs(X, params)
    n_out = params[-1][0].shape[1]
    y = _as_labels(y, X.shape[0], n_out)
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    if X_test is not None:
        X_test = _as_inputs(X_test, params, "X_test")
        y_test = _as_labels(y_test, X_test.shape[0], n_out, "y_test")
    lr = as_real(lr, "lr", minimum=0.0, strict=True)
    if not _is_int(epochs) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    act = get_activation(hidden)

    initial = [(W.copy(), b.copy()) for W, b in params]
    losses = np.empty(epochs + 1)
    accs = np.empty(epochs + 1)
    test = X_test is not None
    test_losses = np.empty(epochs + 1) if test else None
    test_accs = np.empty(epochs + 1) if test else None
    with np.errstate(over="ignore", invalid="ignore"):
        for e in range(epochs + 1):
            zs, hs, s = _forward(params, X, act)
            losses[e], delta, accs[e] = _loss_and_delta(s, y)
            if test:
                ts = _forward(params, X_test, act)[2]
                test_losses[e], _, test_accs[e] = _loss_and_delta(ts, y_test)
            if e == epochs:
                break
            for (W, b), (dW, db) in zip(params, _backward(params, zs, hs, delta, act), strict=True):
                dW *= lr
                W -= dW
                db *= lr
                b -= db
    return TrainingResult(
        params=params,
        initial=initial,
        hidden=act.name,
        lr=lr,
        loss=losses,
        accuracy=accs,
        test_loss=test_losses,
        test_accuracy=test_accs,
    )


# --------------------------------------------------------------------------------------------
# Plotting helpers
# --------------------------------------------------------------------------------------------


def decision_grid(
    params: Params,
    X: np.ndarray,
    hidden: str | Activation = "relu",
    resolution: int = 200,
    margin: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network's output on a grid covering the 2-D data `X`, for ``contourf``.

    Parameters
    ----------
    params : list of (W, b)
        A network with 2 inputs.
    X : array_like, shape (n, 2)
        The data whose bounding box (plus `margin` on every side) the grid covers.
    hidden : str or Activation, default "relu"
    resolution : int, default 200
        Grid points per axis, at least 2.
    margin : float, default 0.5
        Extra room around the data, at least 0.

    Returns
    -------
    xx, yy : numpy.ndarray, shape (resolution, resolution)
        The grid (``np.meshgrid``).
    values : numpy.ndarray, shape (resolution, resolution)
        ``P(y = 1)`` for a sigmoid output (the boundary is the 0.5 contour), the predicted
        class for a softmax output.

    Examples
    --------
    >>> params = init_mlp([2, 8, 1], "he", rng=0)
    >>> xx, yy, p = decision_grid(params, np.array([[0.0, 0.0], [1.0, 1.0]]), resolution=5)
    >>> xx.shape, p.shape
    ((5, 5), (5, 5))
    """
    params = _as_params(params)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be 2-D data of shape (n, 2), got {X.shape}")
    if not _is_int(resolution) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    margin = as_real(margin, "margin", minimum=0.0)
    lo = X.min(axis=0) - margin
    hi = X.max(axis=0) + margin
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    if params[-1][0].shape[1] == 1:
        values = predict_proba(params, grid, hidden)
    else:
        values = predict(params, grid, hidden)
    return xx, yy, values.reshape(xx.shape)


def unit_spread(params: Params) -> list[float]:
    """How different the hidden units of each layer are: 0 means all units are identical.

    For hidden layer ``l`` (``1..L-1``) the largest absolute difference between unit ``j`` and
    unit 0 over their incoming weights ``W_l[:, j]``, bias ``b_l[j]`` and outgoing weights
    ``W_{l+1}[j, :]``. Identical units receive identical gradients, so a spread of exactly 0
    stays 0 under gradient descent: the symmetry that zero initialization never breaks.
    """
    params = _as_params(params)
    spreads = []
    for (W, b), (W_next, _) in zip(params[:-1], params[1:], strict=True):
        parts = [
            np.abs(W - W[:, :1]).max(),
            np.abs(b - b[0]).max(),
            np.abs(W_next - W_next[:1, :]).max(),
        ]
        spreads.append(float(max(parts)))
    return spreads
