"""Tests of weightinit.chapters.gradients: each function draws on an Agg Figure and the test
inspects the artists (lines and their data, scales, limits, titles, legends), not pixels."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from weightinit.chapters import gradients as gr  # noqa: E402
from weightinit.chapters.display import frames_slider  # noqa: E402
from weightinit.chapters.gradients import (
    # noqa: E402
    GRADIENT_DEPTH_YLIM,
    draw_depth_training,
    draw_gain_depth,
    draw_gradient_depth,
    draw_width_conditions,
)
from weightinit.simulation.datasets import circles  # noqa: E402

GROWING = [16, 16, 20, 25, 32, 40]


def data_lines(ax):
    """Lines other than horizontal reference lines (axhline spans the axes: x data [0, 1])."""
    return [ln for ln in ax.lines if not np.array_equal(ln.get_xdata(), [0, 1])]


def legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --- draw_gradient_depth ----------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1.0, 2.0, 3.0])
def test_gradient_depth_draws_measured_and_predicted_forward_and_backward(factor):
    fig = Figure()
    draw_gradient_depth(fig, factor, width=32, depth=10, batch=8, seed=3)
    (ax,) = fig.axes
    res = gr.deep_pass("relu", factor, width=32, depth=10, batch=8, rng=3)
    lines = data_lines(ax)
    assert len(lines) == 4
    z_theory, z_measured, dz_theory, dz_measured = lines
    np.testing.assert_array_equal(z_theory.get_xdata(), np.arange(1, 11))
    np.testing.assert_allclose(z_theory.get_ydata(), res.z.predicted_std)
    np.testing.assert_allclose(z_measured.get_ydata(), res.z.std)
    np.testing.assert_allclose(dz_theory.get_ydata(), res.dz.predicted_std)
    np.testing.assert_allclose(dz_measured.get_ydata(), res.dz.std)
    assert z_measured.get_linestyle() == "None" and dz_measured.get_marker() == "s"
    assert ax.get_yscale() == "log"
    assert ax.get_ylim() == pytest.approx(GRADIENT_DEPTH_YLIM)
    assert f"n Var(w) = {factor:g}" in ax.get_title()
    assert f"factor {factor / 2:g} per layer" in ax.get_title()
    assert legend_labels(ax) == ["forward: std of z_l", "backward: std of dL/dz_l"]


def test_gradient_depth_limits_hold_every_frame_of_the_chapters_slider():
    """The fixed vertical range covers n Var(w) from 1 to 3 over 30 layers (theory)."""
    lo, hi = GRADIENT_DEPTH_YLIM
    for factor in (1.0, 3.0):
        res = gr.deep_pass("relu", factor, width=128, depth=30, batch=64, rng=0)
        values = np.concatenate([res.z.predicted_std, res.dz.predicted_std])
        assert lo < values.min() and values.max() < hi


def test_gradient_depth_is_a_slider_frame():
    html = frames_slider(lambda fig, f: draw_gradient_depth(fig, f, width=16, depth=5, batch=4),
                         [1.0, 2.0]).data
    assert html.count("data:image/png;base64") == 2


# --- draw_width_conditions ---------------------------------------------------------------------


def test_width_conditions_show_each_mode_normalized_at_its_reference_layer():
    results = gr.width_experiment(GROWING, "linear", 1.0, batch=8, rng=0)
    fig = Figure()
    draw_width_conditions(fig, results)
    ax1, ax2 = fig.axes
    assert ax1.get_title() == "forward: Var(z_l) / Var(z_1)"
    assert ax2.get_title() == "backward: Var(dL/dz_l) / Var(dL/dz_L)"
    assert ax1.get_yscale() == ax2.get_yscale() == "log"
    assert "width 16 to 40" in ax1.get_xlabel()
    left, right = data_lines(ax1), data_lines(ax2)
    assert len(left) == len(right) == 6  # theory and measured for each of three modes
    for line in left:
        assert line.get_ydata()[0] == pytest.approx(1.0)  # relative to layer 1
    for line in right:
        assert line.get_ydata()[-1] == pytest.approx(1.0)  # relative to the last layer
    fan_in_measured = left[1].get_ydata()
    res = results["fan_in"]
    np.testing.assert_allclose(fan_in_measured, res.z.var / res.z.var[0])
    labels = legend_labels(ax1)
    assert len(labels) == 3
    assert labels[0].startswith("fan_in") and labels[2].startswith("fan_avg")


# --- draw_gain_depth ---------------------------------------------------------------------------


def test_gain_depth_draws_signal_and_relative_gradient_per_case():
    results = {
        "tanh, gain 5/3": gr.deep_pass("tanh", 25 / 9, width=16, depth=6, batch=8, rng=1),
        "SELU, gain 1": gr.deep_pass("selu", 1.0, width=16, depth=6, batch=8, rng=1),
    }
    fig = Figure()
    draw_gain_depth(fig, results)
    ax1, ax2 = fig.axes
    assert legend_labels(ax1) == list(results)
    assert ax1.get_ylim()[0] == 0.0
    assert ax2.get_yscale() == "log"
    left, right = data_lines(ax1), data_lines(ax2)
    assert len(left) == len(right) == 4
    res = results["SELU, gain 1"]
    np.testing.assert_allclose(left[3].get_ydata(), res.h.std)
    np.testing.assert_allclose(right[2].get_ydata(),
                               res.dz.predicted_std / res.dz.predicted_std[-1])
    assert right[3].get_ydata()[-1] == pytest.approx(1.0)


# --- draw_depth_training -----------------------------------------------------------------------


def test_depth_training_shows_loss_curves_and_initial_gradients():
    X, y = circles(40, rng=0)
    sizes = [2, 8, 8, 8, 1]
    runs = gr.depth_training(X, y, sizes, lr=0.05, epochs=20, rng=0)
    initial = {name: gr.initial_gradients(p, X, y)
               for name, p in gr.he_and_lecun(sizes, rng=0).items()}
    fig = Figure()
    draw_depth_training(fig, runs, initial)
    ax1, ax2 = fig.axes
    curves = data_lines(ax1)
    assert len(curves) == 2
    for line, run in zip(curves, runs.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(21))
        np.testing.assert_allclose(line.get_ydata(), run.loss)
    assert ax1.get_ylim() == (0.0, 0.8)
    assert legend_labels(ax1) == ["Var(w) = 2/n (He)", "Var(w) = 1/n"]
    assert any(t.get_text() == "ln 2: a coin flip" for t in ax1.texts)
    reference = [ln for ln in ax1.lines if np.array_equal(ln.get_xdata(), [0, 1])]
    assert reference[0].get_ydata()[0] == pytest.approx(math.log(2))
    assert ax2.get_yscale() == "log"
    grads = data_lines(ax2)
    assert len(grads) == 4
    np.testing.assert_allclose(grads[1].get_ydata(), initial["he"].dz.std)
    np.testing.assert_allclose(grads[2].get_ydata(), initial["lecun"].dz.predicted_std)
    np.testing.assert_array_equal(grads[0].get_xdata(), [1, 2, 3])
