"""weightinit.chapters.self_normalizing (chapter 11): LSUV against a fixed rule, SELU through
depth, the frameworks' defaults. Small seeded runs; the figures are inspected as artists."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from weightinit.chapters import self_normalizing as sn  # noqa: E402


def test_framework_variances_are_the_documented_formulas():
    assert sn.framework_variance("PyTorch nn.Linear", 300, 10) == pytest.approx(1 / 900)
    assert sn.framework_variance("Keras Dense", 300, 100) == pytest.approx(2 / 400)
    assert sn.framework_variance("Flax nn.Dense", 300, 100) == pytest.approx(1 / 300)
    with pytest.raises(ValueError, match="name must be one of"):
        sn.framework_variance("He", 3, 3)


def test_framework_weights_have_the_documented_support():
    w = sn.framework_weights("PyTorch nn.Linear", (400, 300), rng=0)
    bound = 1 / math.sqrt(400)  # PyTorch's documented U(-1/sqrt(in), 1/sqrt(in))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound
    f = sn.framework_weights("Flax nn.Dense", (400, 300), rng=0)
    assert np.abs(f).max() <= 2 * math.sqrt(1 / 400) / 0.87962566103423978


def test_pytorch_default_shrinks_a_relu_network_by_about_six_per_layer():
    x = np.random.default_rng(1).standard_normal((128, 128))
    torch = sn.deep_relu_network("PyTorch nn.Linear", x, 128, 12, rng=2)
    flax = sn.deep_relu_network("Flax nn.Dense", x, 128, 12, rng=2)
    m0 = float(np.mean(x**2))
    # theory: 1/6 and 1/2 per layer; He's would be 1 (a wrong formula fails by far)
    assert 0.12 < sn.per_layer_factor(torch.mean_squares, m0) < 0.22
    assert 0.4 < sn.per_layer_factor(flax.mean_squares, m0) < 0.6
    biased = sn.deep_relu_network("PyTorch nn.Linear", x, 128, 12, rng=2, pytorch_bias=True)
    assert biased.mean_squares[-1] > 100 * torch.mean_squares[-1]
    assert biased.last.signal < 1e-3 * biased.last.total  # the output no longer sees the input


def test_lsuv_comparison_on_uncentred_data():
    rng = np.random.default_rng(3)
    x = 99.0 + rng.standard_normal((128, 40))
    c = sn.compare_with_lsuv(x, [40, 40, 40, 40], "relu", rng=4)
    assert all(abs(s.total - 1) < 0.05 for s in c.lsuv)
    assert c.fixed[0].total > 50  # He's rule knows only n: sqrt(2) * 99 or so
    assert all(s.signal < 0.05 for s in c.lsuv)  # the offsets take the spread
    assert c.run.forward_passes == len(c.run.iterations) + sum(c.run.iterations)
    with pytest.raises(ValueError, match="activation must be one of"):
        sn.compare_with_lsuv(x, [40, 40], "selu")


def test_selu_depth_converges_with_lecun_and_grows_with_he():
    sizes = [64] * 41
    lecun = sn.selu_depth("lecun_normal", 3.0, sizes, 128, rng=5)
    he = sn.selu_depth("he_normal", 1.0, sizes, 128, rng=5)
    assert abs(lecun.std[-1] - 1.0) < 0.1 and abs(lecun.predicted_std[-1] - 1.0) < 0.02
    assert lecun.std[0] > 2.0
    assert he.std[-1] > 5.0 and he.predicted_std[-1] > 5.0


def test_draw_functions_draw_one_panel_per_case():
    x = np.random.default_rng(6).standard_normal((64, 16))
    cases = {"a": sn.compare_with_lsuv(x, [16] * 4, "relu", rng=7),
             "b": sn.compare_with_lsuv(x, [16] * 4, "tanh", rng=7)}
    fig = Figure()
    sn.draw_lsuv(fig, cases)
    assert len(fig.axes) == 2 and len(fig.axes[0].get_lines()) == 5
    np.testing.assert_allclose(fig.axes[0].get_lines()[2].get_ydata(),
                               [s.total for s in cases["a"].lsuv])
    runs = {"LeCun": {1.0: sn.selu_depth("lecun_normal", 1.0, [16] * 6, 32, rng=8)}}
    fig = Figure()
    sn.draw_selu(fig, runs)
    assert len(fig.axes) == 1
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), runs["LeCun"][1.0].std)
