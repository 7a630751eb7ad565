"""Stage 3 of a random array's checks: every number drawn from ``rng``, none from ``np.random``.

:func:`_rng_stage` calls the student's function twice with the same seed (under two different
global seeds) and once with another: the same seed must give the same array, another seed
another array, and NumPy's global state must be neither read nor changed. :class:`_RandomCall`
bundles a call ``func(*args, rng)`` with the shape it must return, and draws through stage 2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._common import _ASKED_SHAPES, _GLOBAL_SEEDS, _Failure, _fmt, _name
from .calls import _array_stage, _as_array, _call, _describe_call


def _same_state(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and tuple(a[2:]) == tuple(b[2:])


@dataclass
class _RandomCall:
    """How to call a random function: ``func(*args, rng)``, expecting an array of `shape`."""

    func: Callable
    args: tuple
    shape: tuple[int, ...]
    allow: tuple[str, ...] = ()

    @property
    def desc(self) -> str:
        return _describe_call(self.func, self.args, rng_arg=True)

    @property
    def key(self) -> str:
        return _name(self.func)

    def draw(self, seed: int) -> np.ndarray:
        """One call with a fresh generator; the result checked through stage 2 and copied."""
        result = _call(self.func, (*self.args, np.random.default_rng(seed)), self.desc)
        return _array_stage(_as_array(result, self.desc), self.shape, self.desc, self.key)

    def remember(self) -> None:
        asked = _ASKED_SHAPES.setdefault(self.key, [])
        if self.shape not in asked:
            asked.append(self.shape)

    def rng_stage(self, seed: int) -> np.ndarray:
        """Same seed, same array; another seed, another array; the global state untouched
        (:func:`_rng_stage`)."""
        return _rng_stage(self.draw, self.desc, seed)


def _rng_stage(draw: Callable[[int], np.ndarray], desc: str, seed: int,
               random: bool = True) -> np.ndarray:
    """Same seed, same array; another seed, another array; the global state untouched.

    ``draw(seed)`` calls the student's function with a fresh generator and returns what it gave
    as one array. NumPy's global state is seeded with two different values around two calls with
    the same seed: an answer that draws from ``np.random.*`` returns different arrays, and one
    that calls ``np.random.seed`` or draws from it changes the state. The state is restored
    after. With ``random=False`` (a deterministic answer, such as zero weights) the check that
    another seed gives another array is skipped.
    """
    # The legacy global state is what is being checked, hence NPY002 below.
    saved = np.random.get_state()  # noqa: NPY002
    try:
        results, changed = [], False
        for global_seed in _GLOBAL_SEEDS:
            np.random.seed(global_seed)  # noqa: NPY002
            before = np.random.get_state()  # noqa: NPY002
            results.append(draw(seed))
            after = np.random.get_state()  # noqa: NPY002
            changed = changed or not _same_state(before, after)
        first, second = results
        if changed:
            reads = "" if np.array_equal(first, second) else " and reads"
            raise _Failure(
                f"{desc} changes{reads} NumPy's global random state (np.random.seed, "
                "np.random.normal, np.random.randn, np.random.rand, ...). Likely mistake: the "
                "global np.random instead of rng. Draw every number from the rng argument, so "
                "that the same seed gives the same weights and nothing else is disturbed."
            )
        if not np.array_equal(first, second):
            raise _Failure(
                f"{desc} returned different arrays for two generators with the same seed "
                f"{seed}. Likely mistake: a generator created inside the function "
                "(np.random.default_rng() without a seed) instead of the rng argument."
            )
        if not random:
            return first
        other = draw(seed + 7919)
        if np.array_equal(first, other):
            distinct = np.unique(first).size
            if distinct == 1:
                why = (
                    f"every value is {_fmt(first.flat[0])}. Likely mistake: a constant array; "
                    "random weights are needed to break the symmetry between units"
                )
            elif distinct <= 16:
                why = (
                    f"only {distinct} distinct values. Likely mistake: a constant or "
                    "alternating pattern instead of random draws"
                )
            else:
                why = (
                    "the numbers do not come from rng. Likely mistake: a hard-coded answer, or "
                    "a generator seeded inside the function (np.random.default_rng(42))"
                )
            raise _Failure(
                f"{desc} returned the same array for seeds {seed} and {seed + 7919}: {why}."
            )
        return first
    finally:
        np.random.set_state(saved)  # noqa: NPY002
