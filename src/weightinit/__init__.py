"""weightinit: why ``randn(shape) * sqrt(2 / n)``, and the tools the course uses to show it.

Modules
-------
initializers
    ``compute_fans``, ``calculate_gain``, ``variance_scaling`` and the named presets.
activations
    Activation functions with their derivatives, looked up by name.
stats
    Sampling-distribution bands (chi-square, Hoeffding, Kolmogorov-Smirnov) for calibrated
    statistical checks.
grading
    The graded exercises' checks: calibrated, and each failure names the likely mistake
    (``checks`` re-exports them for the notebooks already released).
propagation
    Per-layer statistics of signals and gradients through a deep MLP, beside the theory.
datasets, training, experiments
    2-D toy data, a small numpy MLP trained by gradient descent, and the book's experiments.
scaling, sums, saturation, depth
    The computations behind the numbers of the Part I and Part II chapters.
plots, plots_*, widgets
    The figures chapters reuse; every widget has a precomputed twin for the HTML page.
book
    Links from the book to the repository, built from ``_config.yml``.
"""

import importlib

#: The public names and the module each lives in. They load on first use (PEP 562): the
#: grader's judge imports parts of this package and should not wait for SciPy to get started.
_HOME = {
    **dict.fromkeys(["ACTIVATIONS", "Activation", "get_activation"], "activations"),
    **dict.fromkeys(["calculate_gain", "compute_fans", "constant", "glorot_normal",
                     "glorot_uniform", "he_normal", "he_uniform", "kaiming_normal",
                     "kaiming_uniform", "lecun_normal", "lecun_uniform", "ones", "orthogonal",
                     "truncated_normal", "variance_scaling", "xavier_normal", "xavier_uniform",
                     "zeros"], "initializers"),
}


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        # ``weightinit.propagation`` and the other modules, as after an explicit import
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # a module of ours that fails to import: say why
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "get_activation",
    "calculate_gain",
    "compute_fans",
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "truncated_normal",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]
