"""Input validation shared by the package: every error names the argument, the value and what
is allowed, so that a reader never has to decode a traceback from inside numpy."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

Shape = tuple[int, ...]


def as_shape(shape: int | Sequence[int], name: str = "shape") -> Shape:
    """Return `shape` as a tuple of positive Python ints, or raise a ValueError that says why not.

    An int ``n`` means ``(n,)``; ``()`` is a scalar. Every dimension must be a positive integer:
    a zero makes an empty array, which no initializer can fill meaningfully.
    """
    if isinstance(shape, (bool, np.bool_)):
        raise ValueError(f"{name} must be a tuple of positive integers, got the boolean {shape!r}")
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    if isinstance(shape, np.ndarray):
        shape = shape.tolist()
    if not isinstance(shape, (tuple, list)):
        raise ValueError(
            f"{name} must be a tuple of positive integers such as (256, 128), "
            f"got {shape!r} of type {type(shape).__name__}"
        )
    dims = []
    for dim in shape:
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral):
            raise ValueError(
                f"{name} must contain only integers, got {shape!r} "
                f"(the entry {dim!r} is a {type(dim).__name__})"
            )
        if dim <= 0:
            raise ValueError(
                f"{name} must contain only positive integers, got {tuple(shape)!r}: "
                f"a dimension of {int(dim)} would make an empty or invalid array"
            )
        dims.append(int(dim))
    return tuple(dims)


def as_positive_int(value: object, name: str) -> int:
    """Return `value` as a Python int >= 1, or raise a ValueError naming `name` and the value."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def as_real(value: object, name: str, *, minimum: float = -math.inf, strict: bool = False) -> float:
    """Return `value` as a finite float at least `minimum` (greater, if `strict`), or raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} must be a real number, got {value!r} of type {type(value).__name__}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if value < minimum or (strict and value == minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {minimum:g}, got {value!r}")
    return value


def as_generator(rng: object) -> np.random.Generator:
    """Normalise `rng` as NEP 19 / SPEC 7 ask: ``np.random.default_rng(rng)``.

    Accepts a Generator (returned as is), a seed (int or sequence of ints), a SeedSequence, a
    BitGenerator, or None (fresh OS entropy). Anything else raises a ValueError that says so;
    the legacy ``np.random.RandomState`` is refused because it shares no state with a Generator.
    """
    if isinstance(rng, np.random.RandomState):
        raise ValueError(
            "rng must be a numpy.random.Generator, a seed or None, got a legacy RandomState; "
            "use np.random.default_rng(seed)"
        )
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"rng must be a numpy.random.Generator, an int seed or None, got {rng!r} ({exc})"
        ) from None


def choice(value: object, name: str, allowed: Sequence[str]) -> str:
    """Return `value` if it is one of the `allowed` strings, else raise a ValueError listing all."""
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value
