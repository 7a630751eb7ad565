"""The training experiments behind the chapter "No silver bullet": the same network trained from
every initialization scheme, with snapshots of the parameters along the way, and the few
measurements the chapter states (final accuracies, epochs to a target accuracy, dead ReLU units,
weight and gradient norms).

Everything here is built on :mod:`weightinit.simulation.training`
(:func:`~weightinit.simulation.training.train`,
:func:`~weightinit.simulation.training.init_mlp`, :func:`~weightinit.simulation.training.forward`,
:func:`~weightinit.simulation.training.loss_and_grads`); nothing re-implements the network.

Snapshots come from chaining :func:`~weightinit.simulation.training.train`: full-batch gradient
descent is deterministic, so ``k`` epochs followed by ``m`` more from the parameters reached take
exactly the same steps as one run of ``k + m`` epochs. :func:`train_with_snapshots` stops at each
requested epoch, copies the parameters and carries on, then joins the recorded curves into one
:class:`~weightinit.simulation.training.TrainingResult`.

A fair comparison: :func:`run_schemes` draws every random scheme from the *same* seed. The
schemes ``"small"``, ``"large"``, ``"xavier"`` and ``"he"`` all draw their weights with
``Generator.normal`` in the same order, so the four networks start from the very same standard
normal numbers, each layer multiplied by its scheme's standard deviation: they differ only in
scale.

Figures: learning curves of several runs on one figure, decision boundaries as small multiples,
weight norms over training, and the widget's frame (every scheme's boundary at one epoch beside
the loss curves). Each ``draw_*`` function draws onto a Figure (or Axes) it is given and returns
the Axes it made, so the tests can inspect the artists; nothing here calls ``plt.show`` or uses
pyplot's current figure. The decision boundaries come from
:func:`weightinit.simulation.training.decision_grid`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .._validate import as_generator, as_real
from ..activations import Activation, get_activation
from ..initializers import constant
from ..simulation.datasets import circles, train_test_split
from ..simulation.training import (
    LARGE_STD,
    SCHEMES,
    SMALL_STD,
    Params,
    TrainingResult,
    decision_grid,
    forward,
    init_mlp,
    loss_and_grads,
    train,
)

__all__ = [
    "CirclesSetup",
    "CIRCLES_SETUP",
    "circles_split",
    "Run",
    "FinalMetrics",
    "train_with_snapshots",
    "run_schemes",
    "final_metrics",
    "final_accuracy_over_seeds",
    "epochs_to_reach",
    "scheme_std",
    "preactivations",
    "layer_mean_squares",
    "dead_unit_share",
    "weight_norms",
    "gradient_norms",
    "constant_mlp",
    "SCHEME_COLORS",
    "scheme_color",
    "draw_learning_curves",
    "draw_decision_boundary",
    "draw_decision_boundaries",
    "draw_weight_norms",
    "draw_boundaries_at_epoch",
    "markdown_table",
]

@dataclass(frozen=True)
class CirclesSetup:
    """The experiment of the chapter: one network, one data set, one learning rate.

    Attributes
    ----------
    n, noise, factor : the :func:`~weightinit.simulation.datasets.circles` data (``n`` points in
    all). test_fraction : share of the points held out by
        :func:`~weightinit.simulation.datasets.train_test_split`.
    layer_sizes : widths ``(2, hidden..., 1)``; at most 32 wide so that the matrix products
        stay single-threaded and fast.
    hidden, lr, epochs : as for :func:`~weightinit.simulation.training.train`.
    data_seed : seeds the points and the split.
    init_seed : seeds the initial weights (the same draws for every scheme, see
        :func:`run_schemes`).
    """

    n: int = 300
    noise: float = 0.1
    factor: float = 0.5
    test_fraction: float = 0.3
    layer_sizes: tuple[int, ...] = (2, 16, 16, 1)
    hidden: str = "relu"
    lr: float = 0.2
    epochs: int = 1000
    data_seed: int = 0
    init_seed: int = 0


#: The setup the chapter runs (and the tests pin).
CIRCLES_SETUP = CirclesSetup()


def circles_split(
    setup: CirclesSetup = CIRCLES_SETUP,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, X_test, y_train, y_test`` of `setup`:
    :func:`~weightinit.simulation.datasets.circles` then
    :func:`~weightinit.simulation.datasets.train_test_split`, both from one Generator seeded with
    ``setup.data_seed``."""
    gen = np.random.default_rng(setup.data_seed)
    X, y = circles(setup.n, noise=setup.noise, factor=setup.factor, rng=gen)
    return train_test_split(X, y, setup.test_fraction, rng=gen)


@dataclass(frozen=True)
class Run:
    """One training run with copies of its parameters at chosen epochs.

    Attributes
    ----------
    name : str
        The initialization scheme (or a label for hand-made initial parameters).
    result : TrainingResult
        The whole run, as one :func:`~weightinit.simulation.training.train` call would have returned
        it: ``result.loss[e]`` is the training loss after ``e`` steps, ``e = 0..epochs``.
    snapshots : dict of int to list of (W, b)
        ``snapshots[e]`` is a copy of the parameters after ``e`` steps.
    """

    name: str
    result: TrainingResult
    snapshots: dict[int, Params] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        """Number of gradient steps taken."""
        return self.result.epochs


class FinalMetrics(NamedTuple):
    """Train/test accuracy and loss after the last epoch, as Python floats (``nan`` for the
    test values of a run without a test set)."""

    train_accuracy: float
    test_accuracy: float
    train_loss: float
    test_loss: float


def _snapshot_epochs(snapshot_epochs: Iterable[int], epochs: int) -> list[int]:
    out = set()
    for e in snapshot_epochs:
        if isinstance(e, (bool, np.bool_)) or not isinstance(e, (int, np.integer)):
            raise ValueError(f"snapshot_epochs must hold integers, got {e!r}")
        if not 0 <= e <= epochs:
            raise ValueError(
                f"snapshot_epochs must lie in 0..epochs = 0..{epochs}, got {int(e)}"
            )
        out.add(int(e))
    return sorted(out)


def _copy(params: Params) -> Params:
    return [(W.copy(), b.copy()) for W, b in params]


def train_with_snapshots(
    X: np.ndarray,
    y: np.ndarray,
    init: Params | str,
    *,
    layer_sizes: Sequence[int] | None = None,
    hidden: str | Activation = "relu",
    lr: float = 0.1,
    epochs: int = 1000,
    snapshot_epochs: Iterable[int] = (),
    rng: np.random.Generator | int | None = None,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    name: str | None = None,
) -> Run:
    """:func:`~weightinit.simulation.training.train`, stopping at `snapshot_epochs` to copy the
    parameters.

    The run is cut into pieces at the snapshot epochs and each piece is one ``train`` call
    started from where the previous one ended; the curves are joined (the duplicated boundary
    entry dropped), so the result equals a single ``train(..., epochs=epochs)`` call.

    Parameters
    ----------
    X, y, init, layer_sizes, hidden, lr, epochs, rng, X_test, y_test
        As for :func:`~weightinit.simulation.training.train`.
    snapshot_epochs : iterable of int
        Epochs in ``0..epochs`` after which to copy the parameters (epoch 0: the initial ones).
    name : str, optional
        Label of the run; defaults to the scheme name, or ``"custom"`` for given parameters.

    Returns
    -------
    Run

    Raises
    ------
    ValueError
        For a snapshot epoch that is not an integer in ``0..epochs``, and for every error of
        :func:`~weightinit.simulation.training.train`.
    """
    if isinstance(epochs, (bool, np.bool_)) or not isinstance(epochs, (int, np.integer)) or (
        epochs < 0
    ):
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    epochs = int(epochs)
    stops = _snapshot_epochs(snapshot_epochs, epochs)
    bounds = sorted(set(stops) | {epochs})
    if name is None:
        name = init if isinstance(init, str) else "custom"
    first = train(X, y, init, layer_sizes=layer_sizes, hidden=hidden, lr=lr, epochs=0, rng=rng,
                  X_test=X_test, y_test=y_test)
    params = first.params
    pieces = [first]
    snapshots: dict[int, Params] = {}
    done = 0
    for stop in bounds:
        if stop > done:
            piece = train(X, y, params, hidden=hidden, lr=lr, epochs=stop - done,
                          X_test=X_test, y_test=y_test)
            pieces.append(piece)
            params = piece.params
            done = stop
        if stop in stops:
            snapshots[stop] = _copy(params)

    def join(attr: str) -> np.ndarray | None:
        arrays = [getattr(p, attr) for p in pieces]
        if arrays[0] is None:
            return None
        return np.concatenate([arrays[0], *(a[1:] for a in arrays[1:])])

    result = TrainingResult(
        params=params,
        initial=first.initial,
        hidden=first.hidden,
        lr=first.lr,
        loss=join("loss"),
        accuracy=join("accuracy"),
        test_loss=join("test_loss"),
        test_accuracy=join("test_accuracy"),
    )
    return Run(name=name, result=result, snapshots=snapshots)


def run_schemes(
    X: np.ndarray,
    y: np.ndarray,
    schemes: Sequence[str] = SCHEMES,
    *,
    layer_sizes: Sequence[int],
    hidden: str | Activation = "relu",
    lr: float = 0.1,
    epochs: int = 1000,
    snapshot_epochs: Iterable[int] = (),
    rng: np.random.Generator | int | None = None,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
) -> dict[str, Run]:
    """Train the same network from each initialization scheme, everything else equal.

    One seed is taken from `rng` (an int is used as the seed itself) and every scheme's weights
    are drawn from a fresh ``np.random.default_rng(seed)``: the random schemes then share the
    same standard normal draws and differ only in their standard deviation per layer.

    Parameters
    ----------
    X, y : training data, as for :func:`~weightinit.simulation.training.train`.
    schemes : sequence of str
        Names from :data:`~weightinit.simulation.training.SCHEMES`, each at most once.
    layer_sizes, hidden, lr, epochs, X_test, y_test
        As for :func:`~weightinit.simulation.training.train`, the same for every scheme.
    snapshot_epochs : iterable of int
        As for :func:`train_with_snapshots`.
    rng : {None, int, numpy.random.Generator}, optional
        An int is the seed of every scheme; a Generator or None gives one seed drawn from
        ``np.random.default_rng(rng)``.

    Returns
    -------
    dict of str to Run
        In the order of `schemes`.

    Raises
    ------
    ValueError
        For an empty or repeated list of schemes, and for every error of
        :func:`train_with_snapshots`.
    """
    schemes = list(schemes)
    if not schemes or len(set(schemes)) != len(schemes):
        raise ValueError(f"schemes must list distinct scheme names, got {schemes!r}")
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        seed = int(rng)
    else:
        seed = int(as_generator(rng).integers(2**63))
    stops = list(snapshot_epochs)
    return {
        scheme: train_with_snapshots(
            X, y, scheme, layer_sizes=layer_sizes, hidden=hidden, lr=lr, epochs=epochs,
            snapshot_epochs=stops, rng=np.random.default_rng(seed), X_test=X_test, y_test=y_test,
        )
        for scheme in schemes
    }


def _result(run: Run | TrainingResult) -> TrainingResult:
    if isinstance(run, Run):
        return run.result
    if isinstance(run, TrainingResult):
        return run
    raise ValueError(f"expected a Run or a TrainingResult, got {type(run).__name__}")


def final_metrics(runs: Mapping[str, Run | TrainingResult]) -> dict[str, FinalMetrics]:
    """Final train/test accuracy and loss of each run: the last entries of its curves.

    Returns
    -------
    dict of str to FinalMetrics
        Same keys and order as `runs`; Python floats, ``nan`` for a missing test set.
    """
    out = {}
    for name, run in runs.items():
        res = _result(run)
        test_acc = float(res.test_accuracy[-1]) if res.test_accuracy is not None else np.nan
        test_loss = float(res.test_loss[-1]) if res.test_loss is not None else np.nan
        out[name] = FinalMetrics(float(res.accuracy[-1]), test_acc, float(res.loss[-1]), test_loss)
    return out


def final_accuracy_over_seeds(
    X: np.ndarray,
    y: np.ndarray,
    schemes: Sequence[str],
    seeds: Sequence[int],
    *,
    layer_sizes: Sequence[int],
    hidden: str | Activation = "relu",
    lr: float = 0.1,
    epochs: int = 1000,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Final accuracies of :func:`run_schemes` repeated with each seed.

    Returns
    -------
    dict of str to numpy.ndarray
        For each scheme, an array of shape ``(len(seeds), 2)``: final train accuracy and final
        test accuracy (``nan`` without a test set), one row per seed.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must list at least one seed, got an empty sequence")
    out = {scheme: np.empty((len(seeds), 2)) for scheme in schemes}
    for i, seed in enumerate(seeds):
        runs = run_schemes(X, y, schemes, layer_sizes=layer_sizes, hidden=hidden, lr=lr,
                           epochs=epochs, rng=seed, X_test=X_test, y_test=y_test)
        for scheme, m in final_metrics(runs).items():
            out[scheme][i] = (m.train_accuracy, m.test_accuracy)
    return out


def epochs_to_reach(curve: np.ndarray, target: float, *, below: bool = False) -> int | None:
    """The first epoch ``e`` with ``curve[e] >= target`` (with `below`: ``curve[e] <= target``),
    or None if the curve never gets there.

    Parameters
    ----------
    curve : array_like, shape (epochs + 1,)
        E.g. ``result.accuracy``, or ``result.loss`` with ``below=True``.
    target : float
    below : bool, default False
        Look for the first value at or below `target` instead of at or above it.
    """
    curve = np.asarray(curve, dtype=np.float64)
    if curve.ndim != 1 or curve.size == 0:
        raise ValueError(f"curve must be a non-empty 1-D array, got shape {curve.shape}")
    target = as_real(target, "target")
    hits = np.flatnonzero(curve <= target if below else curve >= target)
    return int(hits[0]) if hits.size else None


def scheme_std(scheme: str, fan_in: int, fan_out: int) -> float:
    """The standard deviation of the weights :func:`~weightinit.simulation.training.init_mlp` draws
    for a ``(fan_in, fan_out)`` layer: 0, 0.01, 10, :math:`\\sqrt{2/(n_{in} + n_{out})}` (Xavier
    [Glorot10]_) or :math:`\\sqrt{2/n_{in}}` (He [He15]_).

    References
    ----------
    .. [Glorot10] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep
       feedforward neural networks", AISTATS 2010.
    .. [He15] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers", ICCV 2015.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(map(repr, SCHEMES))}; got {scheme!r}")
    for value, name in ((fan_in, "fan_in"), (fan_out, "fan_out")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or (
            value < 1
        ):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return {
        "zeros": 0.0,
        "small": SMALL_STD,
        "large": LARGE_STD,
        "xavier": float(np.sqrt(2.0 / (fan_in + fan_out))),
        "he": float(np.sqrt(2.0 / fan_in)),
    }[scheme]


def preactivations(
    params: Params, X: np.ndarray, hidden: str | Activation = "relu"
) -> list[np.ndarray]:
    """The pre-activations :math:`z_l = h_{l-1} W_l + b_l` of every hidden layer, ``(n, n_l)``.

    Hidden layer ``l``'s pre-activations are the output of the truncated network ``params[:l]``,
    whose last layer has no nonlinearity, so each is one call of
    :func:`~weightinit.simulation.training.forward` (nothing re-implements the network).
    """
    act = get_activation(hidden)
    return [forward(params[:depth], X, act) for depth in range(1, len(params))]


def dead_unit_share(
    params: Params, X: np.ndarray, hidden: str | Activation = "relu"
) -> list[float]:
    """Share of each hidden layer's units that output 0 for every row of `X` ("dead" ReLUs).

    A ReLU unit with :math:`z \\le 0` on every input outputs 0 and passes back a zero gradient
    for all of them: gradient descent can no longer change its incoming weights.

    Returns
    -------
    list of float
        One share per hidden layer, in ``[0, 1]``.
    """
    act = get_activation(hidden)
    return [
        float(np.mean(np.all(act.forward(z) == 0.0, axis=0)))
        for z in preactivations(params, X, hidden)
    ]


def layer_mean_squares(
    params: Params, X: np.ndarray, hidden: str | Activation = "relu"
) -> list[float]:
    """Mean square :math:`E[h_l^2]` of each hidden layer's activations, over rows and units.

    For ReLU layers with zero biases and weights of variance :math:`\\mathrm{Var}(w_l)`, theory
    predicts :math:`E[h_l^2] = \\tfrac12 n_{l-1} \\mathrm{Var}(w_l)\\, E[h_{l-1}^2]` on average
    over the weights (He et al. 2015), with :math:`E[h_0^2]` the mean square of the inputs.
    """
    act = get_activation(hidden)
    return [float(np.mean(act.forward(z) ** 2)) for z in preactivations(params, X, hidden)]


def weight_norms(params: Params) -> list[float]:
    """Frobenius norm :math:`\\lVert W_l \\rVert_F = \\sqrt{\\sum_{ij} W_{l,ij}^2}` of each layer's
    weights (biases left out)."""
    return [float(np.linalg.norm(W)) for W, _ in params]


def gradient_norms(
    params: Params, X: np.ndarray, y: np.ndarray, hidden: str | Activation = "relu"
) -> list[float]:
    """Frobenius norm of :math:`\\partial \\ell / \\partial W_l` for each layer, from
    :func:`~weightinit.simulation.training.loss_and_grads`."""
    _, grads = loss_and_grads(params, X, y, hidden)
    return [float(np.linalg.norm(dW)) for dW, _ in grads]


def constant_mlp(layer_sizes: Sequence[int], value: float) -> Params:
    """An MLP whose weights all equal `value` and whose biases are zero.

    With ``value != 0`` every hidden unit of a layer computes the same thing *and* the gradient
    is not zero, which shows the symmetry problem of ``"zeros"`` without its zero gradients.
    """
    sizes = [W.shape for W, _ in init_mlp(layer_sizes, "zeros")]
    value = as_real(value, "value")
    return [(constant(shape, value), np.zeros(shape[1])) for shape in sizes]


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


#: One colour per initialization scheme, used by every figure of the chapter.
SCHEME_COLORS = {
    "zeros": "#7f7f7f",
    "small": "#1f77b4",
    "large": "#d62728",
    "xavier": "#ff7f0e",
    "he": "#2ca02c",
}

#: Colours of the two classes (points) and of the regions the network assigns to them.
CLASS_COLORS = ("#3b6fb6", "#d1495b")
REGION_CMAP = ListedColormap(["#c9d8ef", "#f3c7cd"])


def scheme_color(name: str, index: int = 0) -> str:
    """The colour of scheme `name`, or matplotlib's cycle colour ``C<index>`` for other names."""
    return SCHEME_COLORS.get(name, f"C{index % 10}")


def _check_runs(runs: Mapping[str, Run | TrainingResult]) -> dict[str, TrainingResult]:
    if not runs:
        raise ValueError("runs must hold at least one run, got an empty mapping")
    return {name: _result(run) for name, run in runs.items()}


def draw_learning_curves(
    fig: Figure,
    runs: Mapping[str, Run | TrainingResult],
    *,
    test: bool = True,
    epoch: int | None = None,
) -> tuple[Axes, Axes]:
    """Loss (log scale) and accuracy per epoch of every run, one colour per run.

    Left: the training loss :math:`\\ell` against the epoch on a logarithmic axis (losses from
    thousands down to thousandths fit on one axis). Right: training accuracy (solid) and, when
    the runs have a test set and `test` is true, test accuracy (dashed).

    Parameters
    ----------
    fig : Figure
        Drawn on as is (clear it first if it is reused).
    runs : mapping of str to Run or TrainingResult
        The label of each run and its curves.
    test : bool, default True
        Also draw the test accuracy, where recorded.
    epoch : int, optional
        Mark this epoch with a vertical line on both panels (the widget's current frame).

    Returns
    -------
    (Axes, Axes)
        The loss and the accuracy panels.
    """
    results = _check_runs(runs)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for i, (name, res) in enumerate(results.items()):
        color = scheme_color(name, i)
        epochs = np.arange(len(res.loss))
        ax_loss.plot(epochs, res.loss, color=color, lw=1.4, label=name)
        ax_acc.plot(epochs, res.accuracy, color=color, lw=1.4, label=f"{name}")
        if test and res.test_accuracy is not None:
            ax_acc.plot(epochs, res.test_accuracy, color=color, lw=1.0, ls="--")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss (log scale)")
    ax_loss.set_title("loss")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0.0, 1.02)
    title = "accuracy: train (solid), test (dashed)" if test else "training accuracy"
    ax_acc.set_title(title)
    ax_loss.legend(fontsize=8, loc="best")
    if epoch is not None:
        for ax in (ax_loss, ax_acc):
            ax.axvline(epoch, color="black", lw=0.8, ls=":")
    return ax_loss, ax_acc


def draw_decision_boundary(
    ax: Axes,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: str = "relu",
    resolution: int = 120,
    title: str | None = None,
    grid_X: np.ndarray | None = None,
) -> np.ndarray:
    """The regions a binary classifier assigns to each class, its 0.5 contour, and the points.

    Parameters
    ----------
    ax : Axes
    params : list of (W, b)
        A network with 2 inputs and 1 output (sigmoid).
    X, y : the points to show, coloured by label.
    hidden : str, default "relu"
    resolution : int, default 120
        Grid points per axis for :func:`~weightinit.simulation.training.decision_grid`.
    title : str, optional
    grid_X : array_like, shape (m, 2), optional
        The data whose bounding box the grid covers (default `X`): give the same one to every
        panel so that they share limits.

    Returns
    -------
    numpy.ndarray, shape (resolution, resolution)
        ``P(y = 1)`` on the grid, as drawn.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if params[-1][0].shape[1] != 1:
        raise ValueError(
            "draw_decision_boundary needs a network with one output (sigmoid), got "
            f"{params[-1][0].shape[1]} outputs"
        )
    xx, yy, p = decision_grid(params, X if grid_X is None else grid_X, hidden, resolution)
    ax.contourf(xx, yy, p >= 0.5, levels=[-0.5, 0.5, 1.5], cmap=REGION_CMAP)
    if np.nanmin(p) < 0.5 < np.nanmax(p):
        ax.contour(xx, yy, p, levels=[0.5], colors="black", linewidths=0.8)
    for label, color in enumerate(CLASS_COLORS):
        pts = X[y == label]
        ax.scatter(pts[:, 0], pts[:, 1], s=5, color=color, linewidths=0)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=9)
    return p


def draw_decision_boundaries(
    fig: Figure,
    params_by_name: Mapping[str, Params],
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: str = "relu",
    titles: Mapping[str, str] | None = None,
    ncols: int | None = None,
    resolution: int = 120,
) -> list[Axes]:
    """Small multiples: one :func:`draw_decision_boundary` panel per network, same limits.

    Parameters
    ----------
    fig : Figure
    params_by_name : mapping of str to list of (W, b)
        Panel label and network, in panel order.
    X, y : the points shown in every panel.
    titles : mapping of str to str, optional
        Panel titles (default: the names).
    ncols : int, optional
        Panels per row (default: all in one row).

    Returns
    -------
    list of Axes
        One per network, in order.
    """
    if not params_by_name:
        raise ValueError("params_by_name must hold at least one network, got an empty mapping")
    n = len(params_by_name)
    ncols = n if ncols is None else ncols
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    nrows = -(-n // ncols)
    axes = []
    for i, (name, params) in enumerate(params_by_name.items()):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        title = name if titles is None else titles.get(name, name)
        draw_decision_boundary(ax, params, X, y, hidden=hidden, resolution=resolution,
                               title=title)
        axes.append(ax)
    return axes


def draw_weight_norms(
    ax: Axes,
    epochs: Sequence[int],
    norms: np.ndarray,
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> list:
    """The Frobenius norm of each layer's weights against the epoch.

    Parameters
    ----------
    ax : Axes
    epochs : sequence of int, length m
    norms : array_like, shape (m, L)
        ``norms[i, l]``: layer ``l``'s norm at ``epochs[i]`` (e.g. from
        :func:`weightinit.chapters.learning.weight_norms` of each snapshot).
    labels : sequence of str, optional
        One per layer (default ``W1``, ``W2``, ...).

    Returns
    -------
    list of Line2D
        One per layer.
    """
    epochs = np.asarray(epochs)
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 2 or norms.shape[0] != epochs.shape[0]:
        raise ValueError(
            f"norms must have shape (len(epochs), layers) = ({epochs.shape[0]}, L), "
            f"got {norms.shape}"
        )
    if labels is None:
        labels = [f"W{k + 1}" for k in range(norms.shape[1])]
    if len(labels) != norms.shape[1]:
        raise ValueError(f"labels must give one name per layer ({norms.shape[1]}), got {labels!r}")
    lines = []
    for k, label in enumerate(labels):
        (line,) = ax.plot(epochs, norms[:, k], lw=1.4, label=label)
        lines.append(line)
    ax.set_xlabel("epoch")
    ax.set_ylabel("Frobenius norm of W")
    ax.set_ylim(bottom=0.0)
    ax.legend(fontsize=8)
    if title is not None:
        ax.set_title(title, fontsize=10)
    return lines


def draw_boundaries_at_epoch(
    fig: Figure,
    epoch: int,
    *,
    runs: Mapping[str, Run],
    X: np.ndarray,
    y: np.ndarray,
    resolution: int = 70,
) -> list[Axes]:
    """The widget's frame: every run's decision boundary after `epoch` steps, and the loss curves.

    A 2 x 3 grid: one decision-boundary panel per run (at most five), titled with the run's
    name and its training accuracy at `epoch`, and in the last cell the training losses of all
    runs (log scale) with a vertical line at `epoch`. The parameters come from the runs'
    snapshots, so `epoch` must be one of them.

    Returns
    -------
    list of Axes
        The boundary panels, then the loss panel.
    """
    if not runs:
        raise ValueError("runs must hold at least one run, got an empty mapping")
    if len(runs) > 5:
        raise ValueError(f"draw_boundaries_at_epoch shows at most 5 runs, got {len(runs)}")
    missing = [name for name, run in runs.items() if epoch not in run.snapshots]
    if missing:
        raise ValueError(
            f"epoch {epoch!r} is not a snapshot of the run(s) {missing}; snapshots: "
            f"{sorted(next(iter(runs.values())).snapshots)}"
        )
    hidden = next(iter(runs.values())).result.hidden
    axes = []
    for i, (name, run) in enumerate(runs.items()):
        ax = fig.add_subplot(2, 3, i + 1)
        acc = float(run.result.accuracy[epoch])
        draw_decision_boundary(ax, run.snapshots[epoch], X, y, hidden=hidden,
                               resolution=resolution, title=f"{name}: {acc:.0%}")
        ax.title.set_color(scheme_color(name, i))
        axes.append(ax)
    ax = fig.add_subplot(2, 3, 6)
    for i, (name, run) in enumerate(runs.items()):
        ax.plot(run.result.loss, color=scheme_color(name, i), lw=1.0, label=name)
    ax.axvline(epoch, color="black", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("epoch", fontsize=8)
    ax.set_title("training loss", fontsize=9)
    ax.tick_params(labelsize=7)
    axes.append(ax)
    fig.suptitle(f"after {epoch} epochs (training accuracy in the titles)", fontsize=10)
    fig.subplots_adjust(left=0.04, right=0.98, bottom=0.1, top=0.84, wspace=0.3, hspace=0.45)
    return axes


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown (pipe) table: one header row, then `rows`, every cell ``str()``-ed.

    For a chapter cell that shows computed numbers as a table without pandas:
    ``IPython.display.Markdown(markdown_table(...))``. Format the numbers before passing them.

    Raises
    ------
    ValueError
        If there are no headers, or a row's length differs from the headers'.
    """
    headers = [str(h) for h in headers]
    if not headers:
        raise ValueError("headers must name at least one column, got an empty sequence")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for i, row in enumerate(rows):
        cells = [str(c).replace("|", "\\|") for c in row]
        if len(cells) != len(headers):
            raise ValueError(
                f"rows[{i}] has {len(cells)} cells but there are {len(headers)} headers"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
