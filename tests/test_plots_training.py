"""Tests of weightinit.chapters.learning: each function draws on an Agg Figure and the test
inspects the artists (lines and their data, scatter offsets, scales, limits, titles), not pixels.
The runs are tiny and seeded, so the tests are fast and deterministic."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from weightinit.chapters import learning as ex  # noqa: E402
from weightinit.chapters.display import frames_slider  # noqa: E402
from weightinit.chapters.learning import (
    # noqa: E402
    SCHEME_COLORS,
    draw_boundaries_at_epoch,
    draw_decision_boundaries,
    draw_decision_boundary,
    draw_learning_curves,
    draw_weight_norms,
    markdown_table,
    scheme_color,
)
from weightinit.simulation.datasets import circles  # noqa: E402
from weightinit.simulation.training import SCHEMES, decision_grid, init_mlp, train  # noqa: E402

EPOCHS = 12
SNAPSHOTS = [0, 4, 12]


@pytest.fixture(scope="module")
def toy():
    X, y = circles(80, noise=0.1, rng=0)
    Xt, yt = circles(30, noise=0.1, rng=1)
    runs = ex.run_schemes(X, y, SCHEMES, layer_sizes=[2, 6, 6, 1], lr=0.3, epochs=EPOCHS,
                          snapshot_epochs=SNAPSHOTS, rng=0, X_test=Xt, y_test=yt)
    return X, y, runs


def test_scheme_colors_are_distinct_and_others_fall_back_to_the_cycle():
    assert set(SCHEME_COLORS) == set(SCHEMES)
    assert len(set(SCHEME_COLORS.values())) == len(SCHEMES)
    assert scheme_color("he") == SCHEME_COLORS["he"]
    assert scheme_color("mine", 3) == "C3"


# --- learning curves ----------------------------------------------------------------------------


def test_learning_curves_plot_every_runs_loss_and_accuracies(toy):
    _, _, runs = toy
    fig = Figure()
    ax_loss, ax_acc = draw_learning_curves(fig, runs)
    assert len(fig.axes) == 2
    assert ax_loss.get_yscale() == "log"
    assert ax_acc.get_ylim() == (0.0, 1.02)
    assert len(ax_loss.get_lines()) == len(runs)
    assert len(ax_acc.get_lines()) == 2 * len(runs)  # train and test
    for line, (name, run) in zip(ax_loss.get_lines(), runs.items(), strict=True):
        x, y = line.get_data()
        np.testing.assert_array_equal(x, np.arange(EPOCHS + 1))
        np.testing.assert_array_equal(y, run.result.loss)
        assert line.get_label() == name
        assert to_hex(line.get_color()) == to_hex(SCHEME_COLORS[name])
    acc_lines = ax_acc.get_lines()
    for i, run in enumerate(runs.values()):
        np.testing.assert_array_equal(acc_lines[2 * i].get_ydata(), run.result.accuracy)
        np.testing.assert_array_equal(acc_lines[2 * i + 1].get_ydata(), run.result.test_accuracy)
        assert acc_lines[2 * i + 1].get_linestyle() == "--"
    assert [t.get_text() for t in ax_loss.get_legend().get_texts()] == list(runs)


def test_learning_curves_without_test_and_with_an_epoch_marker(toy):
    _, _, runs = toy
    fig = Figure()
    ax_loss, ax_acc = draw_learning_curves(fig, {"he": runs["he"].result}, test=False, epoch=4)
    # one curve plus the marker on each panel
    assert len(ax_acc.get_lines()) == 2 and len(ax_loss.get_lines()) == 2
    marker = ax_loss.get_lines()[-1]
    assert tuple(marker.get_xdata()) == (4, 4)
    assert ax_acc.get_title() == "training accuracy"


def test_learning_curves_need_runs():
    with pytest.raises(ValueError, match="at least one run"):
        draw_learning_curves(Figure(), {})
    with pytest.raises(ValueError, match="Run or a TrainingResult"):
        draw_learning_curves(Figure(), {"x": [1, 2]})


# --- decision boundaries --------------------------------------------------------------------------


def test_decision_boundary_draws_the_grid_the_points_and_the_contour(toy):
    X, y, runs = toy
    params = train(X, y, "he", layer_sizes=[2, 8, 1], lr=0.5, epochs=200, rng=1).params
    fig = Figure()
    ax = fig.add_subplot()
    p = draw_decision_boundary(ax, params, X, y, resolution=40, title="he")
    xx, yy, want = decision_grid(params, X, "relu", 40)
    np.testing.assert_array_equal(p, want)
    assert ax.get_xlim() == (xx.min(), xx.max()) and ax.get_ylim() == (yy.min(), yy.max())
    assert ax.get_title() == "he"
    # one scatter per class, holding exactly that class's points
    for label in (0, 1):
        assert any(np.array_equal(c.get_offsets(), X[y == label]) for c in ax.collections)
    assert p.min() < 0.5 < p.max()
    # filled regions, the 0.5 contour, two scatters
    assert len(ax.collections) == 4


def test_decision_boundary_of_a_constant_network_has_no_contour():
    X, y = circles(40, rng=2)
    params = init_mlp([2, 4, 1], "zeros")  # outputs exactly 1/2 everywhere
    fig = Figure()
    ax = fig.add_subplot()
    p = draw_decision_boundary(ax, params, X, y, resolution=10)
    assert np.all(p == 0.5)
    # filled regions + two scatters, no contour line
    assert len(ax.collections) == 3


def test_decision_boundary_needs_a_single_output():
    X, y = circles(10, rng=0)
    with pytest.raises(ValueError, match="one output"):
        draw_decision_boundary(Figure().add_subplot(), init_mlp([2, 3, 2], "he", rng=0), X, y)


def test_decision_boundaries_small_multiples(toy):
    X, y, runs = toy
    fig = Figure()
    params = {s: r.result.params for s, r in runs.items()}
    axes = draw_decision_boundaries(fig, params, X, y, titles={"he": "He!"}, ncols=3,
                                    resolution=20)
    assert len(axes) == len(runs) == len(fig.axes)
    assert [a.get_title() for a in axes] == ["zeros", "small", "large", "xavier", "He!"]
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 3)
    assert len({a.get_xlim() for a in axes}) == 1  # same limits in every panel
    with pytest.raises(ValueError, match="ncols"):
        draw_decision_boundaries(Figure(), params, X, y, ncols=0)
    with pytest.raises(ValueError, match="at least one network"):
        draw_decision_boundaries(Figure(), {}, X, y)


# --- weight norms ---------------------------------------------------------------------------------


def test_weight_norms_plot_one_line_per_layer(toy):
    _, _, runs = toy
    run = runs["he"]
    epochs = sorted(run.snapshots)
    norms = np.array([ex.weight_norms(run.snapshots[e]) for e in epochs])
    fig = Figure()
    ax = fig.add_subplot()
    lines = draw_weight_norms(ax, epochs, norms, title="norms")
    assert [ln.get_label() for ln in lines] == ["W1", "W2", "W3"]
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), epochs)
        np.testing.assert_array_equal(line.get_ydata(), norms[:, k])
    assert ax.get_ylim()[0] == 0.0
    assert ax.get_title() == "norms"
    with pytest.raises(ValueError, match="norms must have shape"):
        draw_weight_norms(ax, epochs, norms[:-1])
    with pytest.raises(ValueError, match="labels"):
        draw_weight_norms(ax, epochs, norms, labels=["a"])


# --- the widget's frame --------------------------------------------------------------------------


def test_boundaries_at_epoch_frame(toy):
    X, y, runs = toy
    fig = Figure(figsize=(6.4, 3.6))
    axes = draw_boundaries_at_epoch(fig, 4, runs=runs, X=X, y=y, resolution=15)
    assert len(axes) == 6 == len(fig.axes)
    for ax, (name, run) in zip(axes[:5], runs.items(), strict=True):
        assert ax.get_title() == f"{name}: {run.result.accuracy[4]:.0%}"
    loss_ax = axes[5]
    assert loss_ax.get_yscale() == "log"
    assert tuple(loss_ax.get_lines()[-1].get_xdata()) == (4, 4)
    for line, run in zip(loss_ax.get_lines()[:-1], runs.values(), strict=True):
        np.testing.assert_array_equal(line.get_ydata(), run.result.loss)
    assert "4 epochs" in fig._suptitle.get_text()


def test_boundaries_at_epoch_rejects_unsaved_epochs_and_too_many_runs(toy):
    X, y, runs = toy
    with pytest.raises(ValueError, match="not a snapshot"):
        draw_boundaries_at_epoch(Figure(), 5, runs=runs, X=X, y=y)
    six = {**runs, "he2": runs["he"]}
    with pytest.raises(ValueError, match="at most 5"):
        draw_boundaries_at_epoch(Figure(), 4, runs=six, X=X, y=y)
    with pytest.raises(ValueError, match="at least one run"):
        draw_boundaries_at_epoch(Figure(), 4, runs={}, X=X, y=y)


def test_boundaries_at_epoch_works_as_a_precomputed_slider(toy):
    X, y, runs = toy

    def draw(fig, epoch):
        draw_boundaries_at_epoch(fig, epoch, runs=runs, X=X, y=y, resolution=10)

    html = frames_slider(draw, SNAPSHOTS).data
    assert html.count("data:image/png;base64") == len(SNAPSHOTS)


# --- markdown_table ---------------------------------------------------------------------------


def test_markdown_table():
    text = markdown_table(["a", "b"], [(1, "x|y"), (2.5, None)])
    assert text.splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |", "| 2.5 | None |"]
    with pytest.raises(ValueError, match="rows\\[0\\] has 1 cells"):
        markdown_table(["a", "b"], [(1,)])
    with pytest.raises(ValueError, match="headers"):
        markdown_table([], [])
