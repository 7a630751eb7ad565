"""Stages 5 and 6 of a random array's checks: the shape of the distribution, and independence.

Stage 5 looks for patterns and atoms (constant, repeated slices, clipped values:
:func:`_pattern_stage`), then checks the family (:func:`_family_stage`): the bounds of uniform
and truncated samples, a Kolmogorov-Smirnov test against the target, and for the normal a tail
count. Stage 6 (:func:`_independence_stage`) counts neighbours that agree in sign along every
axis. Every band is exact at ``ALPHA`` (binomial or ``scipy.stats.kstwo``).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats as _st

from .. import stats
from ..initializers import TRUNCATION_STD_FACTOR
from ._common import ALPHA, _Failure, _fmt
from .targets import Target

# --------------------------------------------------------------------------------------------
# Stage 5: family (patterns, atoms, bounds, KS, tails)
# --------------------------------------------------------------------------------------------

#: A value repeated this often is an atom. A correct sampler stored with at least float32
#: resolution (24 bits) gives any one float value probability p <= 4e-7 (density <= 0.4 / std
#: times a float32 spacing <= 2**-20 std within +-8 std; 2**-24 for a float32 uniform), so
#: P(some value appears >= 10 times) <= C(n, 10) p**9 < 1e-11 for n <= 2e5, the largest arrays
#: the exercises check: far below ALPHA.
_ATOM_COUNT = 10

#: Slices along an axis are compared only if they hold at least this many values: two i.i.d.
#: slices of 8 such floats coincide with probability <= p**8 < 1e-51.
_MIN_SLICE = 8


def _distinct_rows(rows: np.ndarray) -> int:
    """How many distinct rows `rows` (2-D, finite) has: ``np.unique(rows, axis=0).shape[0]``,
    computed on each row's bytes (one sort of fixed-width keys instead of a lexicographic sort
    over columns: 80x faster on a (5, 3, 64, 40) kernel, 0.15 s down to 2 ms). Adding 0.0
    turns -0.0 into 0.0, so rows equal as numbers have equal bytes."""
    rows = np.ascontiguousarray(rows + 0.0)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    return int(np.unique(keys).size)


def _repeated_slices(x: np.ndarray) -> str | None:
    names = {0: "rows", 1: "columns"} if x.ndim == 2 else {}
    for axis in range(x.ndim):
        length = x.shape[axis]
        if length < 2 or x.size // length < _MIN_SLICE:
            continue
        slices = np.moveaxis(x, axis, 0).reshape(length, -1)
        distinct = _distinct_rows(slices)
        if distinct < length:
            what = names.get(axis, f"slices along axis {axis}")
            return (
                f"of its {length} {what}, only {distinct} differ from each other; the others are "
                "exact copies. Likely mistake: a repeated-row pattern (np.tile, broadcasting one "
                "random row, or a loop that reuses the same draw); every weight needs its own draw"
            )
    return None


def _closest_family(x: np.ndarray, mean: float) -> tuple[str, dict[str, float]]:
    z = x - mean
    s = math.sqrt(float(np.mean(z**2)))
    dist = {f: stats.ks_distance(z, f, s) for f in stats.FAMILIES}
    return min(dist, key=dist.get), dist


_FAMILY_WORDS = {
    "normal": "normal (rng.normal / rng.standard_normal)",
    "uniform": "uniform (rng.uniform / rng.random)",
    "truncated_normal": "truncated normal (cut at +-2s)",
}


def _unique_counts(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_counts=True)`` from ``ordered = np.sort(x, axis=None)``, the same
    arrays (numpy's own steps after its sort), so that one sort serves this stage and the KS
    test. A sample with NaN goes through ``np.unique`` itself (it gathers the NaNs)."""
    if ordered.size == 0 or np.isnan(ordered[-1]):
        return np.unique(ordered, return_counts=True)
    first = np.empty(ordered.shape, dtype=bool)
    first[:1] = True
    first[1:] = ordered[1:] != ordered[:-1]
    starts = np.concatenate([np.nonzero(first)[0], [ordered.size]])
    return ordered[first], np.diff(starts)


def _pattern_stage(x: np.ndarray, center: float, desc: str,
                   ordered: np.ndarray | None = None) -> None:
    """Constant, alternating and repeating patterns, and atoms (clipping). Continuous draws
    practically never produce these (see _ATOM_COUNT and _MIN_SLICE: far below ALPHA). Run before
    the mean and the variance, whose bands assume independent draws. `ordered`, if given, is
    ``np.sort(x, axis=None)``."""
    n = x.size
    if ordered is None or x.dtype.kind not in "fc" or ordered.size != n:
        values, counts = np.unique(x, return_counts=True)
    else:
        values, counts = _unique_counts(ordered)
    if values.size <= min(16, n // 2):
        shown = ", ".join(_fmt(v) for v in values[:4]) + (", ..." if values.size > 4 else "")
        raise _Failure(
            f"{desc} returned only {values.size} distinct values ({shown}) among {n}. Likely "
            "mistake: a constant or alternating pattern; it can have the right mean and variance, "
            "but it is not random and gives units identical or mirrored weights."
        )
    repeated = _repeated_slices(x)
    if repeated:
        raise _Failure(f"{desc}: {repeated}.")
    top = int(counts.max())
    if top >= _ATOM_COUNT:
        v = float(values[counts.argmax()])
        edge = float(np.max(np.abs(x - center)))
        at_edge = int(np.sum(np.abs(x - center) == edge))
        if at_edge >= _ATOM_COUNT:
            raise _Failure(
                f"{desc}: {at_edge} of your {n} values sit exactly at +-{_fmt(edge)}, the edge of "
                "the range. Likely mistake: clipping instead of re-drawing; np.clip piles every "
                "value beyond the cut onto the cut. Draw again the values outside instead."
            )
        raise _Failure(
            f"{desc}: the value {_fmt(v)} appears {top} times among {n}; continuous random draws "
            "practically never repeat. Likely mistake: a repeating pattern, or rounding."
        )


def _family_stage(x: np.ndarray, target: Target, desc: str,
                  ordered: np.ndarray | None = None) -> None:
    """Bounds (uniform, truncated), a Kolmogorov-Smirnov test, and a tail count (normal).
    `ordered`, if given, is ``np.sort(x, axis=None)`` (``ordered - mean`` is then the sorted
    ``x - mean``: subtracting one number keeps the order)."""
    n = x.size
    if target.family != "normal":
        # Exact: a uniform or truncated sample never leaves its support. 0.1% slack for constants
        # rounded by the student (sqrt(3) as 1.7321, 0.8796 for 0.87962566...).
        bound = target.bound
        beyond = int(np.sum(np.abs(x - target.mean) > bound * (1.0 + 1e-3)))
        if beyond:
            fam, _ = _closest_family(x, target.mean)
            name = "the uniform limit a = sqrt(3) * std" if target.family == "uniform" else "+-2s"
            hint = (
                f" Your values look {_FAMILY_WORDS[fam]}: {fam.replace('_', ' ')} where "
                f"{target.family.replace('_', ' ')} is asked."
                if fam != target.family
                else ""
            )
            raise _Failure(
                f"{desc}: {beyond} of your {n} values lie beyond {name} = {_fmt(bound)}, where a "
                f"{target.family.replace('_', ' ')} sample never goes.{hint}"
            )
    # Kolmogorov-Smirnov distance to the fully specified target; critical value exact for a
    # continuous target (scipy.stats.kstwo): P(false failure) <= ALPHA.
    if ordered is None:
        d = stats.ks_distance(x - target.mean, target.family, target.std)
    else:
        d = stats.ks_distance(ordered - target.mean, target.family, target.std, presorted=True)
    crit = _ks_critical(n)
    if d > crit:
        fam, dist = _closest_family(x, target.mean)
        lines = [
            f"{desc}: the distribution of your values is not {target.law} (Kolmogorov-Smirnov "
            f"distance {_fmt(d)}; a correct sample stays below {_fmt(crit)} with probability "
            f"1 - {ALPHA:g})."
        ]
        if fam != target.family:
            lines.append(
                f"They look {_FAMILY_WORDS[fam]} (distance {_fmt(dist[fam])} to that shape). "
                f"Likely mistake: {fam.replace('_', ' ')} where "
                f"{target.family.replace('_', ' ')} is asked."
            )
        raise _Failure("\n".join(lines))
    if target.family == "normal":
        # Tail count beyond c = 2 / 0.8796 standard deviations (where a truncated normal with the
        # same std stops, and beyond the uniform's sqrt(3)): Binomial(n, p) with
        # p = P(|Z| > c); exact binomial band at ALPHA/2 per side.
        c = 2.0 / TRUNCATION_STD_FACTOR
        k = int(np.sum(np.abs(x - target.mean) > c * target.std))
        lo, hi = _tail_band(n)
        if not lo <= k <= hi:
            fam, _ = _closest_family(x, target.mean)
            lines = [
                f"{desc}: {k} of your {n} values lie beyond {_fmt(c)} standard deviations; a "
                f"normal sample has between {lo} and {hi} there (probability 1 - {ALPHA:g})."
            ]
            if k < lo:
                lines.append(
                    f"The tails are cut off: your values look {_FAMILY_WORDS[fam]}. Likely "
                    f"mistake: {fam.replace('_', ' ')} where an untruncated normal is asked."
                    if fam != "normal"
                    else "The tails are cut off. Likely mistake: a truncated or uniform sample "
                    "where an untruncated normal is asked."
                )
            raise _Failure("\n".join(lines))


@functools.lru_cache(maxsize=256)
def _tail_band(n: int) -> tuple[int, int]:
    """Binomial(n, p) band at ALPHA/2 per side for the count beyond c = 2 / 0.8796 standard
    deviations of a normal sample, p = P(|Z| > c)."""
    p = float(2.0 * _st.norm.sf(2.0 / TRUNCATION_STD_FACTOR))
    return int(_st.binom.ppf(ALPHA / 2.0, n, p)), int(_st.binom.isf(ALPHA / 2.0, n, p))


@functools.lru_cache(maxsize=256)
def _ks_critical(n: int) -> float:
    return stats.ks_critical(n, ALPHA)


# --------------------------------------------------------------------------------------------
# Stage 6: independence
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _sign_band(pairs: int, alpha: float) -> tuple[int, int]:
    return int(_st.binom.ppf(alpha / 2.0, pairs, 0.5)), int(_st.binom.isf(alpha / 2.0, pairs, 0.5))


def _independence_stage(x: np.ndarray, center: float, desc: str) -> None:
    """Sign agreement of neighbours (2i, 2i + 1) along every axis.

    For i.i.d. draws symmetric about `center`, the two signs of a pair agree with probability
    exactly 1/2, independently over disjoint pairs, so the number of agreeing pairs is
    Binomial(pairs, 1/2): an exact band at ALPHA per axis. Sorted values, smooth ramps, repeated
    rows or columns (many agreements) and alternating signs (few) all fall outside it.
    """
    signs = np.sign(x - center)
    for axis in range(x.ndim):
        length = x.shape[axis]
        if length < 2:
            continue
        s = np.moveaxis(signs, axis, 0)[: 2 * (length // 2)]
        agree = int(np.sum(s[0::2] == s[1::2]))
        pairs = s[0::2].size
        if pairs < 100:
            continue
        lo, hi = _sign_band(pairs, ALPHA)
        if not lo <= agree <= hi:
            trend = (
                "neighbours have the same sign far too often"
                if agree > hi
                else "neighbours alternate in sign far too often"
            )
            raise _Failure(
                f"{desc}: along axis {axis}, {agree} of {pairs} neighbouring pairs have the same "
                f"sign; independent draws give between {lo} and {hi} (probability 1 - {ALPHA:g}): "
                f"{trend}. Likely mistake: a pattern in the weights (sorting, a ramp such as "
                "np.linspace, an alternating or repeating layout) instead of independent draws."
            )
