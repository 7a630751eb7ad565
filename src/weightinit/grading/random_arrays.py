"""The random-array battery and its public faces, the checks of the initializer exercises.

:func:`_battery` runs the stages in order on a :class:`~weightinit.grading.randomness._RandomCall`
(own code, array, rng, patterns, mean, variance, family, independence, another shape), stopping
where the check asks. The public checks choose how far to go and against which target:
:func:`check_array`, :func:`check_uses_rng`, :func:`check_variance`, :func:`check_samples`,
:func:`check_initializer`, :func:`check_truncated_normal`, :func:`check_variance_scaling`;
:func:`check_raises` checks a refused input and :func:`assess_sample` runs the statistical stages
on a sample already drawn.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np

from .. import stats
from ._common import _Failure, _public
from .calls import _describe_call, _own_code, _sibling
from .patterns import _family_stage, _independence_stage, _pattern_stage
from .pictures import sample_picture
from .randomness import _RandomCall
from .targets import (
    Target,
    _mean_stage,
    _variance_stage,
    fans_cascade,
    scaling_target,
    std_target,
)


def _shape_arg(shape: object) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(d) for d in shape)  # type: ignore[union-attr]


def _assess(x: np.ndarray, target: Target, desc: str, through: str = "all",
            explain: Callable[[np.ndarray], str | None] | None = None) -> None:
    """The statistical stages, in order, on an array already checked for type and shape.
    ``explain(x)``, if given, may replace a failed variance stage's message by its cause."""
    ordered = np.sort(x, axis=None)  # one sort for the atoms and the KS test
    _pattern_stage(x, target.mean, desc, ordered)
    try:
        _mean_stage(x, target, desc)
        try:
            _variance_stage(x, target, desc)
        except _Failure:
            cause = explain(x) if explain is not None else None
            if cause is None:
                raise
            raise _Failure(cause) from None
        if through == "variance":
            return
        _family_stage(x, target, desc, ordered)
    except _Failure as failure:  # the sample against the target: a picture says it faster
        failure.picture = failure.picture or sample_picture(
            x, target.mean, target.std, target.family, target.mistakes)
        raise
    _independence_stage(x, target.mean, desc)


@_public
def assess_sample(x: np.ndarray, target: Target, through: str = "all") -> None:
    """Run the statistical stages on a sample `x` already drawn (patterns, mean, variance and,
    unless ``through="variance"``, family and independence) against `target`.

    The false-failure measurement (``tests/test_checks.py``, ``benchmarks/false_failure.py``)
    calls this on many correct samples.
    """
    _assess(np.array(x, dtype=np.float64, copy=True), target, "sample", through)


def _fans_explainer(call: _RandomCall, target: Target, rule: tuple[float, str] | None
                    ) -> Callable[[np.ndarray], str | None] | None:
    """For a ``scale / n`` rule, ``explain(x)``: the :func:`fans_cascade` message when the
    student's own ``compute_fans`` gives wrong fans for this shape and the sample matches them."""
    if rule is None:
        return None
    scale, mode = rule

    def explain(x: np.ndarray) -> str | None:
        helper = _sibling(call.func, "compute_fans")
        if helper is None:
            return None
        try:
            theirs = helper(call.shape)
        except Exception:  # noqa: BLE001  (no compute_fans, or a broken one: its own test says)
            return None
        return fans_cascade(x, target, call.desc, call.shape, scale, mode, theirs)

    return explain


def _battery(call: _RandomCall, target: Target, seed: int, through: str,
             rule: tuple[float, str] | None = None) -> None:
    """The stages in order, through `through`; `rule` is ``(scale, mode)`` for a target of
    ``scale / n``, so that a wrong variance can be traced to the student's ``compute_fans``."""
    _own_code(call.func, call.allow)
    if through == "rng":
        call.rng_stage(seed)
        call.remember()
        return
    x = call.draw(seed) if through == "variance" else call.rng_stage(seed)
    call.remember()
    _assess(x, target, call.desc, through, _fans_explainer(call, target, rule))
    if through == "variance":
        return
    # Another shape: an answer hard-coded for the visible test's shape returns that shape here,
    # and the shape check names it.
    other_shape = tuple(d + 1 for d in call.shape)
    _RandomCall(call.func, (other_shape, *call.args[1:]), other_shape, call.allow).draw(seed + 1)


@_public
def check_array(func: Callable, shape: Sequence[int], *args: object, seed: int = 0,
                allow: Sequence[str] = ()) -> None:
    """``func(shape, *args, rng)`` returns a float64 ndarray of exactly `shape`, all finite.

    Fails for None, a list, a scalar, a transposed or otherwise wrong shape, another dtype, NaN or
    inf, and for weightinit's implementation used instead of the student's own.
    """
    shape = _shape_arg(shape)
    call = _RandomCall(func, (shape, *args), shape, tuple(allow))
    _own_code(func, call.allow)
    call.draw(seed)
    call.remember()


@_public
def check_uses_rng(func: Callable, shape: Sequence[int], *args: object, seed: int = 0,
                   allow: Sequence[str] = ()) -> None:
    """``func(shape, *args, rng)`` draws every number from `rng`.

    The same seed gives the same array, another seed another array, and NumPy's global random
    state is neither read nor changed (checked by seeding it differently around two calls).
    """
    shape = _shape_arg(shape)
    call = _RandomCall(func, (shape, *args), shape, tuple(allow))
    _battery(call, Target(law="", std=1.0), seed, "rng")


def _target(shape, std, mean, scale, mode, distribution) -> Target:
    if distribution not in stats.FAMILIES:
        raise ValueError(f"distribution must be one of {stats.FAMILIES}, got {distribution!r}")
    if std is not None:
        return std_target(float(std), float(mean), distribution)
    if scale is None or mode is None:
        raise ValueError("give either std= or both scale= and mode=")
    return scaling_target(shape, float(scale), mode, distribution)


@_public
def check_variance(func: Callable, shape: Sequence[int], *args: object, std: float | None = None,
                   mean: float = 0.0, scale: float | None = None, mode: str | None = None,
                   distribution: str = "normal", seed: int = 0, allow: Sequence[str] = ()) -> None:
    """The values of ``func(shape, *args, rng)`` have the target's mean and variance.

    The target is `std` (and `mean`) directly, or ``scale / n`` with ``n`` given by `mode`
    (:func:`scaling_target`). Runs the array checks first but not the rng checks, so an answer
    that uses the global ``np.random`` still gets credit for the right variance. A failure names
    the mistake whose predicted variance matches the measurement.
    """
    shape = _shape_arg(shape)
    call = _RandomCall(func, (shape, *args), shape, tuple(allow))
    target = _target(shape, std, mean, scale, mode, distribution)
    rule = None if std is not None else (float(scale), str(mode))
    _battery(call, target, seed, "variance", rule)


@_public
def check_samples(func: Callable, shape: Sequence[int], *args: object, std: float,
                  mean: float = 0.0, distribution: str = "normal", seed: int = 0,
                  allow: Sequence[str] = ()) -> None:
    """Every check on ``func(shape, *args, rng)`` against a sampler of mean `mean` and std `std`:
    array, rng, mean, variance, family, independence, another shape."""
    shape = _shape_arg(shape)
    call = _RandomCall(func, (shape, *args), shape, tuple(allow))
    _battery(call, _target(shape, std, mean, None, None, distribution), seed, "all")


@_public
def check_initializer(func: Callable, shape: Sequence[int], *args: object, scale: float,
                      mode: str, distribution: str, seed: int = 0,
                      allow: Sequence[str] = ()) -> None:
    """Every check on the initializer ``func(shape, *args, rng)`` against
    ``variance_scaling(shape, scale, mode, distribution)``: array, rng, mean, variance (with the
    named mistakes of :func:`scaling_target`), family, independence, another shape."""
    shape = _shape_arg(shape)
    call = _RandomCall(func, (shape, *args), shape, tuple(allow))
    _battery(call, scaling_target(shape, scale, mode, distribution), seed, "all",
             (float(scale), mode))


@_public
def check_truncated_normal(func: Callable, shape: Sequence[int], std: float, seed: int = 0) -> None:
    """Every check on ``func(shape, std, rng)`` against a normal truncated at +-2s with
    ``s = std / 0.8796...`` (standard deviation `std`)."""
    shape = _shape_arg(shape)
    call = _RandomCall(func, (shape, std), shape)
    _battery(call, _target(shape, std, 0.0, None, None, "truncated_normal"), seed, "all")


@_public
def check_variance_scaling(func: Callable, shape: Sequence[int], scale: float, mode: str,
                           distribution: str, seed: int = 0,
                           allow: Sequence[str] = ("compute_fans",)) -> None:
    """Every check on ``func(shape, scale, mode, distribution, rng)``, Keras' ``VarianceScaling``
    ("normal" untruncated). weightinit's ``compute_fans`` is allowed by default (ex03's answer)."""
    shape = _shape_arg(shape)
    call = _RandomCall(func, (shape, scale, mode, distribution), shape, tuple(allow))
    _battery(call, scaling_target(shape, scale, mode, distribution), seed, "all",
             (float(scale), mode))


@_public
def check_raises(func: Callable, args: Sequence, exception: type[BaseException] = ValueError,
                 mentions: str | None = None, allow: Sequence[str] = ()) -> None:
    """``func(*args)`` raises `exception` (whose message contains `mentions`, if given)."""
    _own_code(func, tuple(allow))
    desc = _describe_call(func, args, rng_arg=False)
    try:
        func(*args)
    except exception as exc:
        if mentions is not None and mentions not in str(exc):
            raise _Failure(
                f"{desc} raised {type(exc).__name__}({str(exc)!r}); its message should name "
                f"{mentions!r}, so that the caller knows what to fix."
            ) from None
        return
    except Exception as exc:
        raise _Failure(
            f"{desc} raised {type(exc).__name__}: {exc}; expected {exception.__name__} with a "
            "message saying what is wrong and what is allowed."
        ) from None
    raise _Failure(f"{desc} returned without raising; expected {exception.__name__}.")
