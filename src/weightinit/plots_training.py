"""Figures of the training chapter: learning curves of several runs on one figure, decision
boundaries as small multiples, weight norms over training, and the widget's frame (every
scheme's boundary at one epoch beside the loss curves).

Each ``draw_*`` function draws onto a Figure (or Axes) it is given and returns the Axes it made,
so the tests can inspect the artists; nothing here calls ``plt.show`` or uses pyplot's current
figure. The decision boundaries come from :func:`weightinit.training.decision_grid`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .experiments import Run
from .training import Params, TrainingResult, decision_grid

__all__ = [
    "SCHEME_COLORS",
    "scheme_color",
    "draw_learning_curves",
    "draw_decision_boundary",
    "draw_decision_boundaries",
    "draw_weight_norms",
    "draw_boundaries_at_epoch",
    "markdown_table",
]

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


def _result(run: Run | TrainingResult) -> TrainingResult:
    if isinstance(run, Run):
        return run.result
    if isinstance(run, TrainingResult):
        return run
    raise ValueError(f"expected a Run or a TrainingResult, got {type(run).__name__}")


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
        Grid points per axis for :func:`~weightinit.training.decision_grid`.
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
        :func:`weightinit.experiments.weight_norms` of each snapshot).
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
