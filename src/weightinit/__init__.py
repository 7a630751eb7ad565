"""weightinit: why ``randn(shape) * sqrt(2 / n)``, and the tools the course uses to show it.

The package has four rooms, one per concern, layered so that each imports only from the rooms
below it (the import-linter contracts in ``pyproject.toml``, run by ``make test``, check it):

=====================  ===================================================================
``chapters``           the numbers each chapter states and the figures it draws (top)
``grading``            the graded exercises' checks and the autograder (top, beside chapters)
``simulation``         deep networks in numpy, their theory, training, toy data
the formulas           ``initializers``, ``activations``, ``stats`` (bottom)
=====================  ===================================================================

Modules and subpackages
-----------------------
initializers
    ``compute_fans``, ``calculate_gain``, ``variance_scaling`` and the named presets; the
    public names load from here as ``weightinit.he_normal`` and so on.
activations
    Activation functions with their derivatives, looked up by name.
stats
    Sampling-distribution bands (chi-square, Hoeffding, Kolmogorov-Smirnov) for calibrated
    statistical checks.
simulation
    ``propagation`` (per-layer statistics of signals and gradients through a deep MLP),
    ``theory`` (the variance-propagation prediction beside them), ``training`` (a small numpy
    MLP trained by gradient descent), ``datasets`` (2-D toy data).
grading
    The graded exercises' checks: calibrated, and each failure names the likely mistake; and
    the autograder that runs them. ``checks`` re-exports the checks for the notebooks already
    released.
chapters
    One module per chapter or pair of chapters (``scaling``, ``sums``, ``saturation``,
    ``depth``, ``gradients``, ``learning``), the drawing helpers they share (``display``: the
    widget with a live and a precomputed form, the common plot pieces), and ``links`` from the
    book to the repository.

Old paths kept: ``weightinit.datasets``, ``weightinit.training`` and ``weightinit.propagation``
are the modules of :mod:`weightinit.simulation` under the names the released notebooks import
(``from weightinit.training import train``); new code uses the new paths.
"""

import importlib
import importlib.abc
import importlib.util
import sys

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


#: Modules that moved, under their old names, for the notebooks already released: importing
#: ``weightinit.training`` gives the module ``weightinit.simulation.training`` itself.
_MOVED = {
    "datasets": "simulation.datasets",
    "propagation": "simulation.propagation",
    "training": "simulation.training",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import ``weightinit.<old>`` as the module now at ``weightinit.<new>`` (see ``_MOVED``)."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, old = fullname.rpartition(".")
        if package != __name__ or old not in _MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(f"{__name__}.{_MOVED[spec.name.rpartition('.')[2]]}")
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module):
        # The import system has just set the module's __spec__ to the old name's: give it back
        # its own, so that the module is the same object under both names, unchanged.
        module.__spec__ = module.__spec__.loader_state


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None and name in _MOVED:
        return importlib.import_module(f".{name}", __name__)  # through _MovedModules
    if home is None:
        # ``weightinit.simulation`` and the other modules, as after an explicit import
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
