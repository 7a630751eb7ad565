"""Tests of weightinit.chapters.scaling: each function draws on an Agg Figure and the test inspects
the artists (bars, lines, limits, scales, titles), not pixels. Statistical checks use exact bands at
a false-failure probability of at most 1e-9 each (weightinit.stats.ALPHA)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from weightinit.chapters.display import (
    frames_slider,  # noqa: E402
    hist_with_density,
    normal_pdf,
)
from weightinit.chapters.scaling import (
    # noqa: E402
    draw_scaled_normal,
    draw_uncentred_preactivations,
    preactivation_variance_uncentred,  # noqa: E402
)
from weightinit.stats import variance_ratio_band  # noqa: E402


def bar_geometry(container):
    lefts = np.array([b.get_x() for b in container])
    widths = np.array([b.get_width() for b in container])
    heights = np.array([b.get_height() for b in container])
    return lefts, widths, heights


def legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --- hist_with_density ------------------------------------------------------------------------


def test_histogram_is_a_density_with_the_curve_over_it():
    fig = Figure()
    ax = fig.add_subplot()
    x = np.random.default_rng(0).normal(size=5000)
    pdf = normal_pdf(0.0, 1.0)
    drawn = hist_with_density(ax, x, pdf, bins=40, range=(-6.0, 6.0), label="s", pdf_label="p")
    lefts, widths, heights = bar_geometry(drawn.bars)
    assert len(lefts) == 40
    np.testing.assert_allclose(widths, 12.0 / 40)
    assert lefts[0] == pytest.approx(-6.0)
    assert lefts[-1] + widths[-1] == pytest.approx(6.0)
    assert np.sum(heights * widths) == pytest.approx(1.0, abs=1e-12)  # all inside: area 1
    assert drawn.outside == 0.0
    gx, gy = drawn.line.get_data()
    np.testing.assert_allclose(gy, pdf(gx))
    assert (gx.min(), gx.max()) == (-6.0, 6.0)
    assert ax.get_xlim() == (-6.0, 6.0)
    ax.legend()
    assert legend_labels(ax) == ["p", "s"]


def test_histogram_counts_samples_outside_the_range_in_the_total():
    """Ten values 0..9, window [0, 5) with 5 bins: 5 inside, each bar 1/10 high."""
    fig = Figure()
    ax = fig.add_subplot()
    drawn = hist_with_density(ax, np.arange(10.0), bins=5, range=(-0.5, 4.5))
    _, widths, heights = bar_geometry(drawn.bars)
    np.testing.assert_allclose(heights, 0.1)
    assert drawn.outside == pytest.approx(0.5)
    assert np.sum(heights * widths) == pytest.approx(0.5)
    assert drawn.line is None
    assert len(ax.lines) == 0


def test_histogram_of_a_constant_sample_gets_a_window():
    fig = Figure()
    ax = fig.add_subplot()
    drawn = hist_with_density(ax, np.full(7, 2.0), bins=4)
    assert ax.get_xlim() == (1.5, 2.5)
    _, widths, heights = bar_geometry(drawn.bars)
    assert np.sum(heights * widths) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"samples": np.array([])}, "samples must hold"),
        ({"samples": np.array([1.0, np.nan])}, "finite"),
        ({"samples": np.ones(3), "bins": 0}, "bins"),
        ({"samples": np.ones(3), "range": (1.0, 1.0)}, "range"),
    ],
)
def test_histogram_rejects_bad_input(kwargs, match):
    ax = Figure().add_subplot()
    samples = kwargs.pop("samples")
    with pytest.raises(ValueError, match=match):
        hist_with_density(ax, samples, **kwargs)


def test_normal_pdf_rejects_a_zero_std():
    with pytest.raises(ValueError, match="std"):
        normal_pdf(0.0, 0.0)


# --- draw_scaled_normal -----------------------------------------------------------------------


@pytest.mark.parametrize("c", [math.sqrt(2 / 64), 0.5, 1.0, math.sqrt(2)])
def test_scaled_normal_widget(c):
    fig = Figure(figsize=(6.4, 3.6))
    stats = draw_scaled_normal(fig, c, n_samples=20_000, rng=0, ylim=2.4, prefix="n = 1: ")
    (ax,) = fig.axes
    assert ax.get_xlim() == (-4.0, 4.0)
    assert ax.get_ylim() == (0.0, 2.4)
    title = ax.get_title()
    assert title.startswith(f"n = 1: c = {c:.3g}:")
    assert f"σ = {stats.std:.3f}" in title
    assert f"E|w| = {stats.mean_abs:.3f}" in title
    assert legend_labels(ax) == [f"N(0, {c:.3g}²)", "N(0, 1)", "randn * c"]
    theory, reference = ax.lines
    assert max(theory.get_ydata()) == pytest.approx(1 / (c * math.sqrt(2 * math.pi)), rel=1e-4)
    assert max(reference.get_ydata()) == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-4)
    assert len(ax.patches) == 80
    # the sample drawn is randn * c: 20000 mean(w^2) / c^2 is chi-square(20000) when the sample
    # mean is ~0; here with the mean included var + mean^2 = mean(w^2) (band: alpha = 1e-9)
    lo, hi = variance_ratio_band(20_000, "normal")
    assert lo <= (stats.var + stats.mean**2) / c**2 <= hi


def test_scaled_normal_widget_is_reproducible_and_feeds_the_slider():
    one, two = Figure(), Figure()
    assert draw_scaled_normal(one, 0.5) == draw_scaled_normal(two, 0.5)
    assert one.axes[0].get_title() == two.axes[0].get_title()
    html = frames_slider(lambda fig, n: draw_scaled_normal(fig, math.sqrt(2 / n)), [1, 4, 16])
    assert html.data.count("data:image/png;base64") == 3


def test_scaled_normal_widget_rejects_a_non_positive_multiplier():
    with pytest.raises(ValueError, match="c "):
        draw_scaled_normal(Figure(), 0.0)


# --- draw_uncentred_preactivations ------------------------------------------------------------


@pytest.mark.parametrize("mean_x", [0.0, 3.0, 99.0])
def test_uncentred_widget(mean_x):
    fig = Figure(figsize=(6.4, 3.6))
    n, scale = 128, 2.0
    result = draw_uncentred_preactivations(fig, mean_x, n=n, units=64, batch=50, scale=scale)
    ax, ax_curve = fig.axes
    predicted = preactivation_variance_uncentred(n, scale / n, 1.0, mean_x)
    centred = preactivation_variance_uncentred(n, scale / n, 1.0, 0.0)
    assert result.predicted_var == pytest.approx(predicted)
    assert result.centred_var == pytest.approx(centred)
    assert ax.get_xlim() == (-12.0, 12.0)
    assert ax.get_title().startswith(f"input mean μ = {mean_x:g}:")
    theory, reference = ax.lines
    assert max(theory.get_ydata()) == pytest.approx(1 / math.sqrt(2 * math.pi * predicted),
                                                    rel=1e-3)
    assert max(reference.get_ydata()) == pytest.approx(1 / math.sqrt(2 * math.pi * centred),
                                                       rel=1e-3)
    assert ax.get_ylim()[1] > max(reference.get_ydata())  # the centred curve stays on screen
    assert legend_labels(ax) == ["predicted", "centred inputs", "z = x @ W"]
    # right panel: the predicted std(z) curve and the measured point at mean_x
    assert ax_curve.get_xscale() == "symlog"
    assert ax_curve.get_yscale() == "log"
    curve, point = ax_curve.lines
    cx, cy = curve.get_data()
    expected = [math.sqrt(preactivation_variance_uncentred(n, scale / n, 1.0, m)) for m in cx]
    np.testing.assert_allclose(cy, expected)
    assert cx.max() >= mean_x
    px, py = point.get_data()
    assert (px[0], py[0]) == (mean_x, pytest.approx(math.sqrt(result.measured_var)))
    assert f"measured {math.sqrt(result.measured_var):.3g}" in ax_curve.get_title()
    assert f"predicted {math.sqrt(predicted):.3g}" in ax_curve.get_title()


def test_uncentred_widget_shows_the_explosion_off_the_axes():
    """With mean 99, std(z) is about 140 for He weights: most of z leaves the +-12 window, and the
    title says so; with centred inputs (std(z) = sqrt(2)) essentially nothing does."""
    far, near = Figure(), Figure()
    draw_uncentred_preactivations(far, 99.0)
    draw_uncentred_preactivations(near, 0.0)
    share_far = int(far.axes[0].get_title().split(": ")[1].split("%")[0])
    share_near = int(near.axes[0].get_title().split(": ")[1].split("%")[0])
    assert share_far > 80
    assert share_near == 0


def test_uncentred_widget_rejects_a_negative_mean():
    with pytest.raises(ValueError, match="mean_x"):
        draw_uncentred_preactivations(Figure(), -1.0)
