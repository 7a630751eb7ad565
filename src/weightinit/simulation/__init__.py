"""Simulation: deep networks in numpy, the theory of their statistics, and the data they learn.

Everything here is built on the formulas (:mod:`weightinit.initializers`,
:mod:`weightinit.activations`) and nothing here draws: the chapters (:mod:`weightinit.chapters`)
turn these numbers into figures, and the grader (:mod:`weightinit.grading`) uses them as
references for ex05 and ex06.

Modules
-------
propagation
    Push a batch through a deep MLP without biases and record, per layer, the statistics of the
    pre-activations, activations and back-propagated gradients, beside the theory's prediction:
    ``DEFAULT_BINS``, ``QUANTITIES``, ``LayerStats``, ``Propagation``, ``make_weights``,
    ``propagate``, and the ex05 references ``forward_stds`` and ``backward_stds``.
theory
    The variance-propagation theory that :mod:`~weightinit.simulation.propagation` is compared
    with: ``SATURATION_SLOPE_RATIO``, ``Theory``, ``saturation_region``, ``gaussian_moments``,
    ``variance_factor``, ``predict``.
training
    A small numpy MLP trained by full-batch gradient descent: ``SCHEMES``, ``SMALL_STD``,
    ``LARGE_STD``, ``Params``, ``TrainingResult``, ``init_mlp`` (the ex06 reference),
    ``forward``, ``loss``, ``loss_and_grads``, ``train``, ``predict_proba``, ``predict``,
    ``accuracy``, ``decision_grid``, ``unit_spread``.
lsuv
    Layer-sequential unit-variance initialization, the ex08 reference: ``LSUV_ACTIVATIONS``,
    ``LsuvResult``, ``lsuv_run`` (with the per-layer record), ``lsuv``.
spectrum
    Spectra of deep networks (chapter 9): ``product_singular_values`` of deep linear products,
    ``train_deep_linear`` (Saxe et al.'s experiment), ``jacobian_singular_values`` through tanh
    and ReLU, ``qr_orthogonal`` with and without the sign correction.
normalization
    A deep MLP with batch or layer normalization after every linear layer (chapter 10):
    ``normalize``, ``normalize_backward``, ``normalized_mlp``.
residual
    Residual networks at initialization (chapter 10): ``VARIANTS`` (He branches, scaled
    branches, zero-initialized last layers, Fixup), ``predicted_growth``, ``residual_network``.
datasets
    Two-dimensional toy data drawn from an ``rng``: ``DATASETS``, ``make``, ``moons``,
    ``circles``, ``spirals``, ``blobs`` (classes in given proportions), ``train_test_split``.
normalizing
    Networks that keep their own scale: the mean-field ``second_moment_map`` and
    ``iterate_second_moment`` (SELU's fixed point), ``linear_outputs`` and ``offset_and_signal``
    (what LSUV's rescaling fixes and what it does not).
first_step
    The first step of training: ``uniform_loss``, ``log_prior_bias``, ``with_output``,
    ``with_hidden_bias``, ``dead_share_first_layer``, ``update_ratios``, ``watch_training``.

The modules' public names are not gathered here, because two of them share a name
(``theory.predict``, the prediction of the theory, and ``training.predict``, a network's class
labels): import them from their module, ``from weightinit.simulation.training import train``.
The modules load on first use.
"""

import importlib

__all__ = [
    "datasets", "first_step", "lsuv", "normalization", "normalizing", "propagation",
    "residual", "spectrum", "theory", "training",
]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f".{name}", __name__)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
