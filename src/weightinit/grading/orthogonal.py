"""ex07's checks: ``orthogonal(shape, gain, rng)``, orthonormal times the gain, and uniformly
(Haar) distributed.

The matrix of a kernel is its Keras flattening, ``(prod(shape[:-1]), shape[-1])`` (this course's
kernels are ``(*kernel_size, in, out)``); its *tall orientation* is the matrix itself when it has
at least as many rows as columns and its transpose otherwise, so that the contract reads the same
for every shape: the tall orientation ``T`` (n by k, n >= k) of ``W / gain`` has orthonormal
columns, ``T^T T = I_k``.

:func:`check_orthogonal` compares ``T^T T`` with the identity to a float64 tolerance
(``ORTHO_TOL``) and the gain exactly as well; it names a reshape where a transpose is needed,
PyTorch's flattening, a normalised instead of orthogonalised matrix, and a gain applied twice.
:func:`check_orthogonal_rng` is stage 3 of the random arrays. :func:`check_orthogonal_haar` tells
a uniformly distributed Q from a QR result without the sign correction and from an orthogonalised
``rng.random`` matrix, with three exact sign tests over ``HAAR_DRAWS`` draws
(:func:`haar_bands`, :func:`haar_power`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats as _st

from ._common import _ASKED_SHAPES, ALPHA, _Failure, _fmt, _name, _public
from .calls import _array_stage, _as_array, _call, _describe_call, _own_code
from .patterns import _pattern_stage, _sign_band
from .randomness import _rng_stage

#: Largest deviation of ``T^T T / gain**2`` from the identity (and of the measured gain**2 from
#: gain**2, relative) that still counts as orthonormal. Measured against correct implementations
#: on every shape the notebook asks (``tests/test_checks_orthogonal.py`` pins each number):
#: LAPACK's QR, the SVD, hand-written Householder products and modified Gram-Schmidt stay below
#: 1e-11; classical Gram-Schmidt, which loses orthogonality like eps * cond(A)**2 and so is worst
#: on square matrices, stays below 1e-8 over 2000 square draws. A Gaussian matrix divided by
#: sqrt(n), the named mistake closest to orthogonal, deviates by more than 1e-2.
ORTHO_TOL = 1e-6

#: Draws of the Haar check. Each sign test is exact at ALPHA/3 (union bound: ALPHA in all); with
#: 40 draws the band of the count of negative Q[0,0] is [2, 38], so a mistake that fixes the sign
#: of Q[0,0] (no sign correction, rng.random input, Q's own diagonal made positive) gives 0 or 40
#: and fails with probability 1 (:func:`haar_power`).
HAAR_DRAWS = 40


def _shape_of(shape: object) -> tuple[int, ...]:
    dims = tuple(int(d) for d in shape)  # type: ignore[union-attr]
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"shape must have at least two positive dimensions, got {shape!r}")
    return dims


def _gain_of(gain: object) -> float:
    value = float(gain)  # type: ignore[arg-type]
    if not math.isfinite(value) or value == 0.0:
        raise ValueError(f"gain must be a finite nonzero number, got {gain!r}")
    return value


def _flat(shape: Sequence[int]) -> tuple[int, int]:
    """(rows, cols): the Keras flattening ``(prod(shape[:-1]), shape[-1])``."""
    return math.prod(shape[:-1]), int(shape[-1])


def _tall(m: np.ndarray) -> np.ndarray:
    return m if m.shape[0] >= m.shape[1] else m.T


def _deviation(m: np.ndarray) -> tuple[float, float]:
    """(deviation from orthonormal up to scale, scale): for the tall orientation T of `m`, the
    scale c = trace(T^T T) / k (the squared gain it carries) and max |T^T T / c - I|."""
    t = _tall(m)
    gram = t.T @ t
    c = float(np.trace(gram)) / gram.shape[0]
    if not c > 0.0:
        return math.inf, c
    return float(np.max(np.abs(gram / c - np.eye(gram.shape[0])))), c


def _orthonormal_up_to_scale(m: np.ndarray) -> bool:
    return _deviation(m)[0] <= ORTHO_TOL


def _sides(rows: int, cols: int) -> tuple[str, str]:
    """What must be orthonormal, and the product that shows it."""
    if rows >= cols:
        return "columns", "W^T W"
    return "rows", "W W^T"


# --------------------------------------------------------------------------------------------
# Stage 2 for orthogonal: the shape, with the transposes named
# --------------------------------------------------------------------------------------------


def _transpose_hint(rows: int, cols: int, reshaped: bool) -> str:
    how = (f"an orthonormal ({cols}, {rows}) matrix reshaped to ({rows}, {cols})" if reshaped
           else f"shape ({cols}, {rows})")
    if rows < cols:
        return (
            f"Likely mistake: a transposed result for a wide shape ({how}). For rows < cols, QR "
            f"of a ({cols}, {rows}) Gaussian matrix gives Q with orthonormal columns; return its "
            "transpose Q.T, whose rows are orthonormal, not Q reshaped."
        )
    return (
        f"Likely mistake: orthonormal rows where columns are asked ({how}). For rows > cols the "
        f"columns must be orthonormal (W^T W = gain**2 I): return Q of shape ({rows}, {cols}) "
        "itself, not its transpose."
    )


def _draw(func: Callable, shape: tuple[int, ...], gain: float, seed: int) -> np.ndarray:
    desc = _describe_call(func, (shape, gain), rng_arg=True)
    result = _call(func, (shape, gain, np.random.default_rng(seed)), desc)
    arr = _as_array(result, desc)
    if len(shape) == 2 and shape[0] != shape[1] and arr.shape == shape[::-1]:
        raise _Failure(
            f"{desc} returned an array of shape {arr.shape}; expected {shape}. "
            + _transpose_hint(*shape, reshaped=False)
        )
    return _array_stage(arr, shape, desc, _name(func))


def _remember(func: Callable, shape: tuple[int, ...]) -> None:
    asked = _ASKED_SHAPES.setdefault(_name(func), [])
    if shape not in asked:
        asked.append(shape)


# --------------------------------------------------------------------------------------------
# Orthonormal, and the gain
# --------------------------------------------------------------------------------------------


def _gain_mistakes(gain: float, rows: int, cols: int) -> list[tuple[str, float]]:
    """(mistake, the squared scale it gives) for a matrix that is orthogonal but scaled wrong."""
    g2 = gain * gain
    return [
        ("the gain applied twice, or squared (gain**2 * Q); the gain multiplies Q once", g2 * g2),
        ("the gain ignored (Q alone)", 1.0),
        ("the square root of the gain (sqrt(gain) * Q)", abs(gain)),
        ("Q divided by the gain instead of multiplied", 1.0 / g2),
        (f"Q scaled by gain / sqrt(rows) = gain / sqrt({rows}), as for a Gaussian matrix; Q's "
         "columns already have unit length, so only the gain multiplies it", g2 / rows),
        (f"Q scaled by gain / sqrt(cols) = gain / sqrt({cols}), as for a Gaussian matrix; Q's "
         "rows already have unit length, so only the gain multiplies it", g2 / cols),
    ]


def _gain_failure(c: float, gain: float, rows: int, cols: int, desc: str) -> str:
    side, product = _sides(rows, cols)
    lines = [
        f"{desc}: the {side} are orthogonal with length {_fmt(math.sqrt(c))} each "
        f"({product} = {_fmt(c)} I); expected length |gain| = {_fmt(abs(gain))} "
        f"({product} = gain**2 I = {_fmt(gain * gain)} I)."
    ]
    named = [m for m, v in _gain_mistakes(gain, rows, cols)
             if abs(v / (gain * gain) - 1.0) > 100 * ORTHO_TOL and abs(c / v - 1.0) <= ORTHO_TOL]
    if named:
        lines.append("Likely mistake: " + "; or ".join(named) + ".")
    return "\n".join(lines)


def _norm_spread(v: np.ndarray) -> float:
    return float(np.ptp(v) / np.mean(v)) if np.mean(v) > 0 else math.inf


def _not_orthogonal(w: np.ndarray, shape: tuple[int, ...], desc: str, dev: float) -> str:
    """The message for a matrix that is not orthonormal up to scale, naming what it is instead."""
    rows, cols = _flat(shape)
    side, product = _sides(rows, cols)
    m = w.reshape(rows, cols)
    head = (
        f"{desc}: the {side} of your matrix (the kernel as a ({rows}, {cols}) matrix) are not "
        f"orthonormal: {product}, divided by its mean diagonal entry, differs from the identity "
        f"by up to {_fmt(dev)} (a correct answer by less than {ORTHO_TOL:g}, rounding)."
    )
    if rows != cols and _orthonormal_up_to_scale(w.reshape(cols, rows)):
        return f"{head}\n{_transpose_hint(rows, cols, reshaped=True)}"
    if len(shape) > 2 and _orthonormal_up_to_scale(w.reshape(shape[0], -1)):
        return (
            f"{head}\nYour kernel is orthogonal as a ({shape[0]}, {w.size // shape[0]}) matrix. "
            "Likely mistake: PyTorch's flattening (shape[0], prod(shape[1:])), made for its "
            "(out, in, *kernel) layout. This course's kernels are (*kernel, in, out), Keras' "
            f"layout: flatten to (prod(shape[:-1]), shape[-1]) = ({rows}, {cols}), "
            "orthogonalise that, and reshape back."
        )
    t = _tall(m)
    gram = t.T @ t
    diag = np.sqrt(np.diag(gram))
    off = gram / np.outer(diag, diag) - np.eye(gram.shape[0]) if np.all(diag > 0) else None
    if off is not None and np.max(np.abs(off)) <= ORTHO_TOL:
        return (
            f"{head}\nThe {side} are orthogonal but their lengths differ (from {_fmt(diag.min())}"
            f" to {_fmt(diag.max())}). Likely mistake: Gram-Schmidt without dividing each new "
            "vector by its length; every one must have length gain."
        )
    s = np.linalg.svd(t, compute_uv=False)
    if _norm_spread(diag) <= ORTHO_TOL:
        what = (f"every one of the {side} has the same length, but they are not orthogonal to "
                "each other")
    elif rows > cols and _norm_spread(np.linalg.norm(m, axis=1)) <= ORTHO_TOL:
        what = ("every row has the same length (orthonormal rows where columns are asked cannot "
                "be: a tall matrix has more rows than dimensions), and the columns are not "
                "orthogonal")
    else:
        what = "the lengths and angles of the Gaussian matrix are still there"
    return (
        f"{head}\nIts singular values range from {_fmt(s.min())} to {_fmt(s.max())}; those of an "
        f"orthogonal matrix times the gain are all equal to |gain|: {what}. Likely mistake: the "
        "matrix normalised (divided by its norm or by sqrt(n), or each column by its length) "
        "instead of orthogonalised. Scaling fixes the average squared singular value, not each "
        "one; orthogonalise with QR (np.linalg.qr) or the SVD."
    )


def _orthogonal_stage(w: np.ndarray, shape: tuple[int, ...], gain: float, desc: str) -> None:
    """Patterns (constant, repeated rows), then ``T^T T = gain**2 I`` to ORTHO_TOL, the gain
    checked separately so that a wrong gain is named as such."""
    _pattern_stage(w, 0.0, desc)
    rows, cols = _flat(shape)
    dev, c = _deviation(w.reshape(rows, cols))
    if dev > ORTHO_TOL:
        raise _Failure(_not_orthogonal(w, shape, desc, dev))
    if abs(c / (gain * gain) - 1.0) > ORTHO_TOL:
        raise _Failure(_gain_failure(c, gain, rows, cols, desc))


@_public
def check_orthogonal(func: Callable, shape: Sequence[int], gain: float = 1.0,
                     seed: int = 0) -> None:
    """``func(shape, gain, rng)`` returns a float64 array of exactly `shape` whose matrix
    ``(prod(shape[:-1]), shape[-1])`` has orthonormal columns (rows when it is wide) times `gain`,
    to ``ORTHO_TOL``; so does another shape of the same kind (an answer hard-coded for the
    visible test's shape fails).

    A failure names a transposed or reshaped-instead-of-transposed result, PyTorch's flattening
    of a kernel, a matrix normalised instead of orthogonalised, and a gain applied twice, ignored
    or mixed with a 1/sqrt(n) scaling.
    """
    shape = _shape_of(shape)
    gain = _gain_of(gain)
    _own_code(func)
    desc = _describe_call(func, (shape, gain), rng_arg=True)
    _orthogonal_stage(_draw(func, shape, gain, seed), shape, gain, desc)
    _remember(func, shape)
    other = (*shape[:-2], shape[-2] + 1, shape[-1] + 1)
    desc = _describe_call(func, (other, gain), rng_arg=True)
    _orthogonal_stage(_draw(func, other, gain, seed + 1), other, gain, desc)


@_public
def check_orthogonal_rng(func: Callable, shape: Sequence[int], gain: float = 1.0,
                         seed: int = 0) -> None:
    """``func(shape, gain, rng)`` draws from `rng` only: the same seed gives the same matrix,
    another seed another, and NumPy's global random state is neither read nor changed."""
    shape = _shape_of(shape)
    gain = _gain_of(gain)
    _own_code(func)
    desc = _describe_call(func, (shape, gain), rng_arg=True)
    _rng_stage(lambda s: _draw(func, shape, gain, s), desc, seed)
    _remember(func, shape)


# --------------------------------------------------------------------------------------------
# Haar: the distribution
# --------------------------------------------------------------------------------------------


def haar_bands(n: int, k: int, draws: int = HAAR_DRAWS) -> dict[str, tuple[int, int]]:
    """The three acceptance bands of :func:`check_orthogonal_haar` for the tall orientation
    (n by k) of the matrix, each exact at ALPHA/3 (so ALPHA for the three together).

    If Q is uniformly distributed (Haar) on the n-by-k matrices with orthonormal columns, so is
    D1 Q D2 for any diagonal sign matrices D1, D2. Flipping signs at random therefore changes
    nothing, and it makes the signs of the entries on any set of positions that forms no cycle
    between rows and columns independent fair coins. The first column and the diagonal are two
    such sets; so is Q[0,0] alone. Over `draws` independent draws the counts of negative entries
    are Binomial(draws, 1/2) for Q[0,0], Binomial(draws * k, 1/2) on the diagonal and
    Binomial(draws * n, 1/2) in the first column: exact two-sided bands at ALPHA/3 each.
    """
    return {
        "corner": _sign_band(draws, ALPHA / 3),
        "diagonal": _sign_band(draws * k, ALPHA / 3),
        "column": _sign_band(draws * n, ALPHA / 3),
    }


#: The named mistakes of the Haar check and P(Q[0,0] < 0) under each, for Gaussian input and
#: numpy's QR (LAPACK's Householder reflections, which make R[0,0] = -sign(a00) ||a_0||, hence
#: Q[0,0] = a00 / R[0,0] = -|a00| / ||a_0|| < 0 in every draw).
HAAR_MISTAKES = (
    ("no sign correction (Q of np.linalg.qr as it comes)", 1.0),
    ("rng.random input, sign-corrected (Q[0,0] = a00 / ||a_0|| > 0)", 0.0),
    ("rng.random input, no sign correction", 1.0),
    ("Q's own diagonal made positive (sign of diag(Q) instead of diag(R))", 0.0),
)


def haar_power(draws: int = HAAR_DRAWS) -> list[tuple[str, float, float]]:
    """``(mistake, P(Q[0,0] < 0), power)`` of the Q[0,0] sign test alone against each mistake of
    ``HAAR_MISTAKES``: the probability that Binomial(draws, p) leaves the band at ALPHA/3. (The
    diagonal and first-column tests only add to it.)"""
    lo, hi = _sign_band(draws, ALPHA / 3)
    return [
        (m, p, float(_st.binom.cdf(lo - 1, draws, p) + _st.binom.sf(hi, draws, p)))
        for m, p in HAAR_MISTAKES
    ]


def _count_message(what: str, neg: int, total: int, band: tuple[int, int]) -> str:
    lo, hi = band
    return (
        f"{what}: {neg} of {total} are negative; for a uniformly distributed (Haar) orthogonal "
        f"matrix each sign is a fair coin, so between {lo} and {hi} are (probability "
        f"1 - {ALPHA / 3:.3g})."
    )


@_public
def check_orthogonal_haar(func: Callable, shape: Sequence[int], gain: float = 1.0,
                          seed: int = 0) -> None:
    """``func(shape, gain, rng)`` is uniformly distributed (Haar) over the matrices with
    orthonormal columns (rows, when wide): three exact sign tests over ``HAAR_DRAWS`` draws
    with seeds ``seed, seed + 1, ...`` (:func:`haar_bands`), each at ALPHA/3.

    Fails a QR result without the sign correction, an orthogonalised ``rng.random`` matrix, and
    a correction by the signs of Q's own diagonal, each with power 1 (:func:`haar_power`). Every
    draw must pass :func:`check_orthogonal`'s orthonormality first.
    """
    shape = _shape_of(shape)
    gain = _gain_of(gain)
    _own_code(func)
    desc = _describe_call(func, (shape, gain), rng_arg=True)
    rows, cols = _flat(shape)
    n, k = max(rows, cols), min(rows, cols)
    corner = diagonal = column = zeros = 0
    previous = None
    for i in range(HAAR_DRAWS):
        w = _draw(func, shape, gain, seed + i)
        _orthogonal_stage(w, shape, gain, desc)
        if previous is not None and np.array_equal(w, previous):
            raise _Failure(
                f"{desc} returned the same matrix for seeds {seed + i - 1} and {seed + i}. Likely "
                "mistake: a fixed matrix, or a generator seeded inside the function, instead of "
                "numbers drawn from rng."
            )
        previous = w
        t = _tall(w.reshape(rows, cols)) / gain
        first, diag = t[:, 0], np.diag(t)
        zeros += int(np.count_nonzero(first == 0.0) + np.count_nonzero(diag == 0.0))
        corner += int(t[0, 0] < 0.0)
        diagonal += int(np.count_nonzero(diag < 0.0))
        column += int(np.count_nonzero(first < 0.0))
    if zeros:
        raise _Failure(
            f"{desc}: {zeros} entries of the first columns and diagonals of {HAAR_DRAWS} draws are "
            "exactly 0; a uniformly random orthogonal matrix has no zero entry. Likely mistake: a "
            "permutation or another sparse orthogonal matrix instead of Q from a Gaussian matrix."
        )
    bands = haar_bands(n, k)
    wide = " (your wide matrix's first row)" if rows < cols else ""
    where = f"In the first column of Q{wide}, over {HAAR_DRAWS} draws"
    lo, hi = bands["column"]
    if not lo <= column <= hi:
        lean = "positive" if column < lo else "negative"
        raise _Failure(
            f"{desc}: " + _count_message(where, column, HAAR_DRAWS * n, bands["column"])
            + f"\nYour first columns lean {lean}. Likely mistake: a uniform rng.random matrix "
            "orthogonalised. Its entries are all positive, so its first column points into the "
            "positive corner and so does Q's. Only a Gaussian matrix (rng.standard_normal) looks "
            "the same in every direction, which is what makes Q uniformly distributed."
        )
    failed = []
    for name, count, what in (
        ("corner", corner, f"The top-left entry of Q over {HAAR_DRAWS} draws"),
        ("diagonal", diagonal, f"The diagonal entries of Q over {HAAR_DRAWS} draws"),
    ):
        lo, hi = bands[name]
        if not lo <= count <= hi:
            failed.append((count > hi, _count_message(what, count, HAAR_DRAWS * (
                1 if name == "corner" else k), bands[name])))
    if not failed:
        return
    too_negative, message = failed[0]
    if too_negative:
        why = (
            "Likely mistake: no sign correction. numpy's QR (LAPACK's Householder reflections) "
            "makes the top-left entry of Q negative in every draw, and the other diagonal "
            "entries mostly negative, so Q is not uniformly distributed. Multiply each column "
            "of Q by the sign of the matching diagonal entry of R: q * np.sign(np.diag(r))."
        )
    else:
        why = (
            "Likely mistake: the signs of Q's own diagonal used for the correction, which makes "
            "that diagonal positive. The correction multiplies each column of Q by the sign of "
            "the matching diagonal entry of R: q * np.sign(np.diag(r))."
        )
    raise _Failure(f"{desc}: {message}\n{why}")
