"""Tests of weightinit.chapters.depth: each function draws on an Agg Figure and the test inspects
the artists (lines and their data, limits, scales, titles, shaded spans), not pixels. The data
drawn must be exactly the Propagation's numbers; no statistical claim is made here."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from weightinit.chapters import depth as pd  # noqa: E402
from weightinit.chapters.depth import deep_signal  # noqa: E402
from weightinit.chapters.display import frames_slider  # noqa: E402

SIZES = [64, 48, 48, 48, 48]


@pytest.fixture(scope="module")
def runs():
    return {
        "small": deep_signal("tanh", "std 0.01", SIZES, batch=32, rng=0, backward=True),
        "LeCun": deep_signal("tanh", "LeCun 1/n", SIZES, batch=32, rng=1, backward=True),
    }


def lines_with_marker(ax, marker):
    return [line for line in ax.lines if line.get_marker() == marker]


# ------------------------------------------------------------------------------ small helpers


def test_default_layers():
    assert pd.default_layers(10) == [1, 3, 6, 8, 10]
    assert pd.default_layers(3) == [1, 2, 3]
    assert pd.default_layers(1) == [1]
    assert pd.default_layers(30, count=1) == [30]
    with pytest.raises(ValueError, match="depth and count must be positive"):
        pd.default_layers(0)


def test_log_limits_contain_the_values_and_span_at_least_a_decade():
    lo, hi = pd.log_limits(np.array([1e-6, 1e-3, 1.0]))
    assert lo == pytest.approx(5e-7) and hi == pytest.approx(2.0)
    lo, hi = pd.log_limits(np.array([0.98, 0.99, np.nan, 0.0, -1.0]))
    assert hi / lo == pytest.approx(20.0) and lo < 0.98 and hi > 0.99
    assert pd.log_limits(np.array([np.inf, 0.0])) == (0.1, 10.0)


# -------------------------------------------------------------------------- per-layer curves


def test_layer_histograms_draw_each_layer_s_density(runs):
    fig = Figure()
    ax = fig.add_subplot()
    stats = runs["LeCun"].h
    lines = pd.plot_layer_histograms(ax, stats)
    assert [line.get_label() for line in lines] == ["layer 1", "layer 2", "layer 3", "layer 4"]
    density = stats.density()
    for layer, line in zip([1, 2, 3, 4], lines, strict=True):
        np.testing.assert_array_equal(line.get_xdata(), stats.centers)
        np.testing.assert_array_equal(line.get_ydata(), density[layer - 1])
    assert ax.get_xlim() == (-1.0, 1.0)  # tanh's range: the same bins for every layer
    assert ax.get_ylim()[0] == 0.0
    assert ax.get_xlabel() == "activation h_l"
    assert len({tuple(line.get_color()) for line in lines}) == 4  # one colour per layer

    ax2 = Figure().add_subplot()
    picked = pd.plot_layer_histograms(ax2, stats, layers=[4, 2])
    assert [line.get_label() for line in picked] == ["layer 4", "layer 2"]
    with pytest.raises(ValueError, match="layers must lie in 1..4"):
        pd.plot_layer_histograms(ax2, stats, layers=[5])


def test_layer_histograms_need_histograms():
    res = deep_signal("relu", "He 2/n", [8, 8], batch=4, rng=0, histograms=False)
    with pytest.raises(ValueError, match="no histograms"):
        pd.plot_layer_histograms(Figure().add_subplot(), res.z)


def test_std_by_layer_draws_measured_dots_and_predicted_lines(runs):
    fig = Figure()
    ax = fig.add_subplot()
    pd.plot_std_by_layer(ax, runs, "h")
    dots, curves = lines_with_marker(ax, "o"), lines_with_marker(ax, "None")
    assert len(dots) == len(curves) == 2
    for (label, res), dot, curve in zip(runs.items(), dots, curves, strict=True):
        np.testing.assert_array_equal(dot.get_xdata(), [1, 2, 3, 4])
        np.testing.assert_array_equal(dot.get_ydata(), res.h.std)
        np.testing.assert_array_equal(curve.get_ydata(), res.h.predicted_std)
        assert curve.get_label() == label
        assert dot.get_color() == curve.get_color()
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    values = np.concatenate([r.h.std for r in runs.values()])
    assert lo < values.min() and hi > values.max()
    assert ax.get_ylabel() == "std of h_l"


def test_std_by_layer_refuses_unknown_quantity_and_empty_results(runs):
    ax = Figure().add_subplot()
    with pytest.raises(ValueError, match="quantity must be one of"):
        pd.plot_std_by_layer(ax, runs, "x")
    with pytest.raises(ValueError, match="at least one label"):
        pd.plot_std_by_layer(ax, {}, "h")


# ---------------------------------------------------------------------------------- figures


def test_depth_overview_has_one_histogram_panel_per_run_and_a_std_panel(runs):
    fig = Figure(figsize=(8, 3))
    pd.draw_depth_overview(fig, runs, "h", ylim=(1e-12, 10.0))
    axes = fig.axes
    assert len(axes) == 3
    for ax, (label, res) in zip(axes[:2], runs.items(), strict=True):
        title = ax.get_title()
        assert title.startswith(label)
        assert f"layer 4: std {res.h.std[-1]:.2g}" in title
        assert re.search(r"\d+% sat\.", title)  # tanh: the share of saturated units
    assert axes[0].get_legend() is not None
    assert "dots measured, lines theory" in axes[2].get_title()
    assert axes[2].get_ylim() == pytest.approx((1e-12, 10.0))
    assert [t.get_text() for t in axes[2].get_legend().get_texts()] == list(runs)


def test_std_panels_one_per_quantity_with_shading(runs):
    fig = Figure(figsize=(8, 3))
    pd.draw_std_panels(fig, runs, ("z", "dz", "dw"), shade_layers=(1, 3))
    assert len(fig.axes) == 3
    for ax, quantity in zip(fig.axes, ("z", "dz", "dw"), strict=True):
        assert ax.get_title() == pd.QUANTITY_LABELS[quantity]
        assert len(ax.patches) == 2  # the two shaded layers
        first = runs["small"][quantity]
        np.testing.assert_array_equal(lines_with_marker(ax, "o")[0].get_ydata(), first.std)
    with pytest.raises(ValueError, match="one entry per quantity"):
        pd.draw_std_panels(Figure(), runs, ("z", "dz"), titles=["only one"])
    with pytest.raises(ValueError, match="at least one quantity"):
        pd.draw_std_panels(Figure(), runs, ())


@pytest.mark.parametrize("activation, xlabel", [("tanh", "activation h_l"),
                                                ("relu", "pre-activation z_l")])
def test_depth_explorer(activation, xlabel):
    fig = Figure(figsize=(6.4, 3.6))
    pd.draw_depth_explorer(fig, activation, "He 2/n", depth=6, width=40, batch=16, seed=3)
    assert fig._suptitle.get_text() == f"{activation}, He 2/n: depth 6, width 40"
    hist_ax, std_ax = fig.axes
    assert hist_ax.get_xlabel() == xlabel
    assert [line.get_label() for line in hist_ax.lines] == [
        f"layer {k}" for k in pd.default_layers(6)]
    res = deep_signal(activation, "He 2/n", [40] * 7, batch=16, rng=3)
    quantity = "z" if activation == "relu" else "h"
    np.testing.assert_array_equal(lines_with_marker(std_ax, "o")[0].get_ydata(),
                                  res[quantity].std)


def test_depth_explorer_errors_and_frames():
    with pytest.raises(ValueError, match="swish"):
        pd.draw_depth_explorer(Figure(), "swish", "He 2/n", depth=2, width=8)
    with pytest.raises(ValueError, match="init must be"):
        pd.draw_depth_explorer(Figure(), "relu", "Kaiming", depth=2, width=8)
    html = frames_slider(
        lambda fig, init: pd.draw_depth_explorer(fig, "relu", init, depth=3, width=16, batch=8),
        ["LeCun 1/n", "He 2/n"],
    ).data
    assert sorted(map(int, re.findall(r"frames\[(\d+)\] = \"data:image/png", html))) == [0, 1]
