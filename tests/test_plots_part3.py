"""Tests of weightinit.chapters.spectra and weightinit.chapters.shortcuts (chapters 9 and 10):
the numbers each runner returns are the simulation's, and each figure draws exactly those
numbers (the artists are inspected, not pixels)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from weightinit.chapters import shortcuts, spectra  # noqa: E402
from weightinit.simulation.residual import VARIANTS, predicted_growth  # noqa: E402
from weightinit.simulation.spectrum import product_singular_values  # noqa: E402


def test_product_spectra_summarise_the_singular_values():
    rows = spectra.product_spectra(16, (1, 3), seed=4)
    gen = np.random.default_rng(4)
    for init in ("gaussian", "orthogonal"):
        for depth in (1, 3):
            s = product_singular_values(16, depth, init, gen)  # same stream, same order
            row = rows[init, depth]
            np.testing.assert_array_equal(row.singular_values, s)
            assert row.condition == s[0] / s[-1]
            assert row.share_below_tenth == np.mean(s < 0.1)
    assert rows["orthogonal", 3].condition == pytest.approx(1.0)


def test_saxe_target_has_the_requested_singular_values():
    target = spectra.saxe_target(6, seed=0, largest=3.0, smallest=0.5)
    np.testing.assert_allclose(np.linalg.svd(target, compute_uv=False),
                               np.linspace(3.0, 0.5, 6), rtol=1e-12)


def test_negative_diagonal_share_counts_the_diagonals_of_the_same_draws():
    """The statistic itself is tested in test_spectrum (binomial band); here: the share is the
    plain count over the same stream of matrices."""
    from weightinit.simulation.spectrum import qr_orthogonal

    for correction in (True, False):
        share = spectra.negative_diagonal_share(5, 40, seed=1, sign_correction=correction)
        gen = np.random.default_rng(1)
        count = sum(int(np.sum(np.diag(qr_orthogonal(5, gen, sign_correction=correction)) < 0))
                    for _ in range(40))
        assert share == count / 200


def test_product_figure_draws_one_histogram_per_init_and_depth():
    rows = spectra.product_spectra(16, (1, 4), seed=2)
    fig = Figure()
    spectra.draw_product_spectra(fig, rows)
    assert [ax.get_title() for ax in fig.axes] == ["L = 1", "L = 4"]
    assert all(len(ax.patches) == 2 for ax in fig.axes)


def test_saxe_and_jacobian_figures():
    target = spectra.saxe_target(4, seed=0)
    runs = spectra.saxe_runs(target, (1, 2), seed=0, max_epochs=50)
    fig = Figure()
    spectra.draw_saxe_curves(fig, runs, (1, 2))
    line = fig.axes[1].lines[0]  # orthogonal, depth 1
    np.testing.assert_allclose(line.get_ydata(), np.clip(runs["orthogonal", 1].losses, 1e-4, 1e3))
    jac = spectra.jacobian_spectra([("tanh", 1.0)], 8, (1, 2), seed=0, input_std=0.1)
    fig = Figure()
    spectra.draw_jacobian_spectra(fig, jac, 2)
    assert fig.axes[0].get_title() == "tanh, gain 1, L = 2"


def test_residual_runs_and_figure_follow_the_simulation():
    x = np.random.default_rng(0).standard_normal((16, 8))
    runs = shortcuts.residual_runs(x, 6, seed=3)
    assert list(runs) == list(VARIANTS)
    fig = Figure()
    shortcuts.draw_residual(fig, runs)
    ax = fig.axes[0]
    measured = [line for line in ax.lines if line.get_linestyle() == "-"]
    for line, variant in zip(measured[: len(VARIANTS)], VARIANTS, strict=True):
        m = runs[variant].mean_square
        np.testing.assert_allclose(line.get_ydata(), m / m[0])
    theory = [line for line in ax.lines if line.get_linestyle() == ":"]
    assert theory[0].get_ydata()[-1] == pytest.approx(predicted_growth("he", 6))
    growth = shortcuts.growth_over_draws(x, 6, "zero last layer", 3, seed=0)
    np.testing.assert_array_equal(growth, 1.0)


def test_normalization_figure_draws_every_case():
    x = np.random.default_rng(0).standard_normal((16, 8))
    runs = shortcuts.normalization_runs(x, 4, (0.01, 1.0), (None, "batch"), seed=0)
    fig = Figure()
    shortcuts.draw_normalization(fig, runs)
    left, right = fig.axes
    assert len(left.lines) == len(right.lines) == 4
    np.testing.assert_allclose(left.lines[1].get_ydata(), runs[0.01, "batch"].h_std)
