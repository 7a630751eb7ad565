"""Two-dimensional toy data sets for classification, drawn from an ``rng``.

Each function returns ``(X, y)``: ``X`` float64 of shape ``(n, 2)``, ``y`` int64 labels of
shape ``(n,)``. Classes are as balanced as ``n`` allows (sizes differ by at most one) and the
rows come in random order. The same seed gives the same data; the points' positions along each
curve are drawn at random (not evenly spaced), so two seeds give two independent samples, e.g. a
training set and a test set.

- :func:`circles`: a small circle inside a large one (label 1 inside), separable by a ring, not
  by a line;
- :func:`moons`: two interleaving half circles;
- :func:`spirals`: ``classes`` interleaved spiral arms (hard for a small network);
- :func:`blobs`: one Gaussian cloud per class, in given proportions (an imbalanced data set).

The shapes follow scikit-learn's ``make_circles`` and ``make_moons``, and the spiral set of
the CS231n course notes.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._validate import as_generator, as_real

__all__ = ["DATASETS", "circles", "moons", "spirals", "blobs", "make", "train_test_split"]


def _count(n: object, name: str = "n", minimum: int = 2) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _class_sizes(n: int, classes: int) -> list[int]:
    """Split n into `classes` sizes differing by at most one (the first ones get the extra)."""
    base, extra = divmod(n, classes)
    return [base + (k < extra) for k in range(classes)]


def _finish(
    points: list[np.ndarray], noise: float, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Stack the classes, add N(0, noise^2) to every coordinate, shuffle the rows."""
    X = np.concatenate(points, axis=0)
    y = np.concatenate([np.full(len(p), k, dtype=np.int64) for k, p in enumerate(points)])
    # Drawn even for noise 0, so that one seed gives the same curve points at every noise level.
    X = X + gen.normal(0.0, noise, size=X.shape)
    order = gen.permutation(len(y))
    return np.ascontiguousarray(X[order], dtype=np.float64), y[order]


def circles(
    n: int,
    noise: float = 0.05,
    factor: float = 0.5,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: radius 1 (label 0) and radius `factor` (label 1).

    A point at angle :math:`\\theta \\sim U(0, 2\\pi)` is :math:`r(\\cos\\theta, \\sin\\theta)`
    plus :math:`N(0, \\text{noise}^2)` on each coordinate.

    Parameters
    ----------
    n : int
        Number of points, at least 2: ``ceil(n / 2)`` on the outer circle, ``floor(n / 2)`` on
        the inner one.
    noise : float, default 0.05
        Standard deviation of the Gaussian noise, at least 0.
    factor : float, default 0.5
        Radius of the inner circle, in (0, 1).
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), int64 in {0, 1}

    Raises
    ------
    ValueError
        For ``n < 2``, a negative `noise`, or `factor` outside (0, 1).

    Examples
    --------
    >>> X, y = circles(200, rng=0)
    >>> X.shape, y.shape, int(y.sum())
    ((200, 2), (200,), 100)
    """
    n = _count(n)
    noise = as_real(noise, "noise", minimum=0.0)
    factor = as_real(factor, "factor", minimum=0.0, strict=True)
    if factor >= 1.0:
        raise ValueError(f"factor (the inner radius) must be in (0, 1), got {factor!r}")
    gen = as_generator(rng)
    points = []
    for size, radius in zip(_class_sizes(n, 2), (1.0, factor), strict=True):
        theta = gen.uniform(0.0, 2.0 * math.pi, size)
        points.append(radius * np.column_stack([np.cos(theta), np.sin(theta)]))
    return _finish(points, noise, gen)


def moons(
    n: int, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles.

    With :math:`t \\sim U(0, \\pi)`: label 0 is :math:`(\\cos t, \\sin t)`, label 1 is
    :math:`(1 - \\cos t, 1/2 - \\sin t)`; then :math:`N(0, \\text{noise}^2)` on each coordinate.

    Parameters
    ----------
    n : int
        Number of points, at least 2.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise, at least 0.
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), int64 in {0, 1}

    Raises
    ------
    ValueError
        For ``n < 2`` or a negative `noise`.
    """
    n = _count(n)
    noise = as_real(noise, "noise", minimum=0.0)
    gen = as_generator(rng)
    n0, n1 = _class_sizes(n, 2)
    t0 = gen.uniform(0.0, math.pi, n0)
    t1 = gen.uniform(0.0, math.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    return _finish([upper, lower], noise, gen)


def spirals(
    n: int,
    classes: int = 2,
    turns: float = 1.0,
    noise: float = 0.05,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`classes` spiral arms winding out from the origin, one per label.

    Arm ``k`` at position :math:`t \\sim U(0, 1)` is at radius :math:`r = t` and angle
    :math:`\\theta = 2\\pi(\\text{turns}\\; t + k / K)`, i.e. :math:`t(\\cos\\theta, \\sin\\theta)`,
    plus :math:`N(0, \\text{noise}^2)` on each coordinate. The arms are rotated copies of one
    another, so no class is easier than another.

    Parameters
    ----------
    n : int
        Number of points, at least `classes`.
    classes : int, default 2
        Number of arms and labels, at least 2.
    turns : float, default 1.0
        How many full turns each arm makes (positive); more turns, harder problem.
    noise : float, default 0.05
        Standard deviation of the Gaussian noise, at least 0.
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), int64 in ``0 .. classes - 1``

    Raises
    ------
    ValueError
        For ``classes < 2``, ``n < classes``, a non-positive `turns` or a negative `noise`.
    """
    classes = _count(classes, "classes")
    n = _count(n, "n", minimum=classes)
    turns = as_real(turns, "turns", minimum=0.0, strict=True)
    noise = as_real(noise, "noise", minimum=0.0)
    gen = as_generator(rng)
    points = []
    for k, size in enumerate(_class_sizes(n, classes)):
        t = gen.uniform(0.0, 1.0, size)
        theta = 2.0 * math.pi * (turns * t + k / classes)
        points.append(t[:, None] * np.column_stack([np.cos(theta), np.sin(theta)]))
    return _finish(points, noise, gen)


def _sizes_from_shares(n: int, shares: object, classes: int) -> list[int]:
    """Split n by `shares` (largest remainder), every class getting at least one point."""
    p = np.asarray(shares, dtype=np.float64)
    if p.shape != (classes,) or not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError(
            f"shares must be {classes} positive numbers, one per class; got {shares!r}"
        )
    p = p / p.sum()
    raw = n * p
    sizes = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - sizes), kind="stable")[: n - sizes.sum()]:
        sizes[k] += 1
    if np.any(sizes == 0):
        raise ValueError(f"n = {n} is too small for shares {shares!r}: a class gets no point")
    return [int(s) for s in sizes]


def blobs(
    n: int,
    classes: int = 2,
    shares: object = None,
    spread: float = 0.5,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One isotropic Gaussian cloud per class, centred on the unit circle.

    Class ``k`` is :math:`N(c_k, \\text{spread}^2 I)` with
    :math:`c_k = (\\cos 2\\pi k/K, \\sin 2\\pi k/K)`; it gets ``shares[k] / sum(shares)`` of
    the ``n`` points (rounded by largest remainder), so ``shares=(1, 9)`` makes the 1:9 data set
    of chapter 12.

    Parameters
    ----------
    n : int
        Number of points, at least `classes`.
    classes : int, default 2
    shares : sequence of float, optional
        Relative class sizes, positive; default equal.
    spread : float, default 0.5
        Standard deviation of each cloud, positive.
    rng : {None, int, numpy.random.Generator}, optional
        If `rng` is a Generator it is used directly; otherwise it seeds a new one through
        ``np.random.default_rng(rng)``.

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), int64

    Raises
    ------
    ValueError
        For ``classes < 2``, ``n < classes``, shares that are not positive or not one per
        class, or a non-positive `spread`.
    """
    classes = _count(classes, "classes")
    n = _count(n, "n", minimum=classes)
    spread = as_real(spread, "spread", minimum=0.0, strict=True)
    sizes = (_class_sizes(n, classes) if shares is None
             else _sizes_from_shares(n, shares, classes))
    gen = as_generator(rng)
    points = []
    for k, size in enumerate(sizes):
        angle = 2.0 * math.pi * k / classes
        points.append(np.tile([math.cos(angle), math.sin(angle)], (size, 1)))
    return _finish(points, spread, gen)


#: The generators by name, for widgets and loops: ``DATASETS["moons"](300, rng=0)``.
DATASETS = {"circles": circles, "moons": moons, "spirals": spirals}


def make(
    name: str, n: int, rng: np.random.Generator | int | None = None, **options: float
) -> tuple[np.ndarray, np.ndarray]:
    """``DATASETS[name](n, rng=rng, **options)`` with a clear error for an unknown name."""
    if name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(map(repr, DATASETS))}; got {name!r}")
    return DATASETS[name](n, rng=rng, **options)


def train_test_split(
    X: np.ndarray,
    y: np.ndarray,
    test_fraction: float = 0.3,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split ``(X, y)`` into ``X_train, X_test, y_train, y_test``.

    The test set gets ``round(test_fraction * n)`` rows, at least one, and the training set at
    least one.

    Raises
    ------
    ValueError
        If `X` and `y` disagree in length, there are fewer than 2 rows, or `test_fraction` is not
        in (0, 1).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            f"X must be (n, d) and y (n,) with the same n, got shapes {X.shape} and {y.shape}"
        )
    n = _count(len(y), "the number of rows")
    f = as_real(test_fraction, "test_fraction", minimum=0.0, strict=True)
    if f >= 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    n_test = min(max(1, round(f * n)), n - 1)
    order = as_generator(rng).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
