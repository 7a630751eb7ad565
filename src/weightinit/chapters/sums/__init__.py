"""Chapters 3 and 4, "Why Var(w) = 1/n" and "Signs, cancellations and products of small
numbers": sums of products, measured and predicted, and the figures drawn from them.

A chapter imports everything from here (``from weightinit.chapters import sums``); the numbers
and the figures live in two modules because the arithmetic, each function beside its formula,
reads best whole.

Modules
-------
arithmetic
    The theory and the measurements: ``NORMAL_KURTOSIS``, ``SIGMOID_DERIVATIVE_MAX``,
    ``product_variance``, ``preactivation_variance``, ``sample_preactivations``,
    ``product_kurtosis``, ``sum_kurtosis``, ``product_normal_pdf``, ``product_normal_cdf``,
    ``preactivation_pdf``, ``preactivation_cdf``, ``normal_tail_probability``,
    ``saturated_fraction``, ``sigmoid_derivative_cutoff``, ``equicorrelated_covariance``,
    ``equicorrelated_inputs``, ``unit_variances``, ``unit_variance_moments``,
    ``normal_weights``, ``linear_network_variances``, ``linear_network_theory``,
    ``backward_pass``, ``gradient_stds``, ``relu_gradient_theory``.
figures
    The chapters' figures and widget drawings: ``draw_variance_check``,
    ``draw_unit_variances``, ``draw_linear_depth``, ``draw_std_growth``, ``draw_sum_histogram``,
    ``draw_product_density``, ``draw_sigmoid_derivative``, ``draw_relu_gradients``.
"""

from . import arithmetic, figures
from .arithmetic import *  # noqa: F403
from .figures import *  # noqa: F403

__all__ = [*arithmetic.__all__, *figures.__all__]
