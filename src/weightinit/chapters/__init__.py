"""The chapters' own code: the numbers each chapter states and the figures and widgets it draws.

One module per chapter, or per pair of chapters that share their arithmetic, named after what
the chapter is about; a chapter imports from one place (``from weightinit.chapters import
depth``). The modules sit above :mod:`weightinit.simulation` and the formulas
(:mod:`weightinit.initializers`, :mod:`weightinit.activations`, :mod:`weightinit.stats`), and
nothing outside this subpackage imports them (the contracts in ``pyproject.toml`` check it).

Modules
-------
scaling
    Chapters 1 and 2, "Why ``randn * sqrt(2/n)`` sets the variance" and "What if the mean were
    99?": what a constant factor does to a distribution, what a non-zero input mean does to a
    layer (``scaled_stats``, ``preactivation_variance_uncentred``, ``uncentred_layer``, ...), and
    ``draw_scaled_normal``, ``draw_uncentred_preactivations``.
sums
    Chapters 3 and 4, "Why Var(w) = 1/n" and "Signs, cancellations and products of small
    numbers": sums of products (``preactivation_variance``, ``sample_preactivations``,
    ``product_normal_pdf``, ...) and their figures (``draw_linear_depth``, ...). A small
    subpackage: ``sums.arithmetic`` and ``sums.figures``, re-exported together.
saturation
    Chapter 5, "250 inputs, a sigmoid, and saturation": ``z_variance``, ``saturated_share``,
    ``expected_sigmoid_derivative``, the frameworks' default variances, ``draw_saturation``,
    ``draw_share_and_gradient``.
depth
    Chapter 6, "Keeping the signal alive through depth": ``deep_signal``, ``fan_rule``,
    ``zigzag_ratio``, ``tanh_std_asymptote``, ..., and ``draw_depth_overview``,
    ``draw_std_panels``, ``draw_depth_explorer``.
gradients
    Chapter 7, "Gradients: the backward pass has its own condition": ``end_to_end``,
    ``fan_variances``, ``deep_pass``, ``width_experiment``, ``depth_training``, ..., and
    ``draw_gradient_depth``, ``draw_width_conditions``, ``draw_gain_depth``,
    ``draw_depth_training``.
learning
    Chapter 8, "No silver bullet: initialization changes learning": ``run_schemes``,
    ``train_with_snapshots``, ``final_metrics``, ``dead_unit_share``, ..., and
    ``draw_learning_curves``, ``draw_decision_boundaries``, ``draw_weight_norms``,
    ``draw_boundaries_at_epoch``, ``markdown_table``.
spectra
    Chapter 9, "Orthogonal weights: matching the variance is not matching the spectrum":
    ``product_spectra``, ``saxe_target``, ``saxe_runs``, ``jacobian_spectra``,
    ``negative_diagonal_share``, and ``draw_product_spectra``, ``draw_product_histogram`` (the
    widget), ``draw_saxe_curves``, ``draw_jacobian_spectra``.
shortcuts
    Chapter 10, "Normalization and residual connections": ``normalization_runs``,
    ``residual_runs``, ``growth_over_draws``, and ``draw_normalization``, ``draw_residual``.
self_normalizing
    Chapter 11, "Let the data set the scale": ``compare_with_lsuv`` (LSUV against a fixed rule,
    per layer), ``selu_depth`` (SELU through deep networks), ``FRAMEWORK_DEFAULTS``,
    ``framework_variance``, ``deep_relu_network``, and ``draw_lsuv``, ``draw_selu``.
first_step
    Chapter 12, "The first step": ``output_scale_runs``, ``prior_bias_runs``,
    ``dead_share_grid``, ``watch_inits``, ``steps_above``, and ``draw_output_scale``,
    ``draw_prior_bias``, ``draw_dead_shares``, ``draw_diagnostics``.
display
    What the chapters share for drawing: the widget with a live and a precomputed form
    (``live_slider``, ``live_controls``, ``frames_slider``, ``format_value``) and the common plot
    pieces (``SAMPLE_COLOR``, ``THEORY_COLOR``, ``REFERENCE_COLOR``, ``HistDensity``,
    ``normal_pdf``, ``hist_with_density``).
links
    Links from the book to the repository, built from ``_config.yml`` (``assignment_link``,
    ``binder_url``, ``repository_file_url``, ...).

The modules load on first use; their public names stay in their modules, because chapters
share some (``weight_variance``, ``INITIALIZERS``, ``normal_weights``).
"""

import importlib

__all__ = [
    "depth", "display", "first_step", "gradients", "learning", "links", "saturation",
    "scaling", "self_normalizing", "shortcuts", "spectra", "sums",
]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f".{name}", __name__)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
