"""weightinit.chapters.first_step (chapter 12): the runs it measures and its figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from weightinit.chapters import first_step as fs  # noqa: E402
from weightinit.chapters.display import frames_slider  # noqa: E402
from weightinit.simulation.datasets import blobs, spirals  # noqa: E402
from weightinit.simulation.first_step import uniform_loss, with_output  # noqa: E402
from weightinit.simulation.training import init_mlp, loss  # noqa: E402


def _data():
    X, y = spirals(90, classes=3, rng=0)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_output_scale_runs_start_from_the_scaled_network():
    X, y = _data()
    runs = fs.output_scale_runs(X, y, [2, 8, 3], [0.01, 10.0], lr=0.1, epochs=5, rng=1)
    base = init_mlp([2, 8, 3], "he", 1)
    for s, curve in runs.items():
        assert curve.shape == (6,)
        assert curve[0] == loss(with_output(base, s), X, y)
    assert abs(runs[0.01][0] - uniform_loss(3)) < 0.01 < runs[10.0][0] - uniform_loss(3)


def test_steps_above():
    assert fs.steps_above(np.array([5.0, 3.0, 1.0, 0.5]), 1.0) == 2
    assert fs.steps_above(np.array([5.0, 3.0]), 1.0) == 2


def test_prior_bias_runs_start_at_the_entropy():
    X, y = blobs(200, 2, shares=(1, 9), rng=2)
    runs = fs.prior_bias_runs(X, y, [2, 8, 1], lr=0.1, epochs=3, rng=3, output_scale=0.0)
    q = y.mean()
    entropy = -(q * np.log(q) + (1 - q) * np.log(1 - q))
    assert abs(runs["bias 0"][0] - np.log(2)) < 1e-12
    assert abs(runs["bias = log prior"][0] - entropy) < 1e-12


def test_dead_share_grid_counts_units_off_on_the_whole_batch():
    grid = fs.dead_share_grid([5, 20, 20, 1], [-100.0, 0.0], [0.0], 16, rng=4)
    assert grid.shape == (2, 1, 2)
    assert np.all(grid[0] == 1.0)  # a bias of -100 switches every unit off
    assert grid[1, 0, 0] == 0.0  # centred inputs, bias 0: the first layer is alive


def test_watch_inits_and_the_diagnostic_figure():
    X, y = _data()
    watches = fs.watch_inits(X, y, [2, 8, 8, 3], ["he", "small"], lr=0.1, steps=4,
                             record_at=(0, 4), rng=5)
    assert set(watches) == {"he", "small"} and sorted(watches["he"].records) == [0, 4]
    fig = Figure()
    fs.draw_diagnostics(fig, watches)
    assert len(fig.axes) == 3
    ratio_lines = fig.axes[2].get_lines()
    np.testing.assert_allclose(ratio_lines[0].get_ydata(), watches["he"].records[0].update_ratio)


def test_output_scale_slider_has_one_frame_per_scale():
    X, y = _data()
    runs = fs.output_scale_runs(X, y, [2, 8, 3], [0.1, 1.0, 10.0], lr=0.1, epochs=3, rng=6)
    html = frames_slider(lambda fig, s: fs.draw_output_scale(fig, s, runs, uniform_loss(3)),
                         [0.1, 10.0]).data
    assert html.count("data:image/png;base64,") == 2
    fig = Figure()
    fs.draw_output_scale(fig, 10.0, runs, uniform_loss(3))
    left = fig.axes[0]
    assert left.get_lines()[1].get_ydata()[0] == runs[10.0][0]  # the highlighted point
