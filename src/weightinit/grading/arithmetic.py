"""Deterministic answers of ex01 to ex04: fans, standardize, pre-activation variance, saturation.

These answers are compared with a reference computed here rather than with a sampling band:
:func:`check_fans`, :func:`check_standardize`, :func:`check_standardize_rejects_constant`,
:func:`check_preactivation_variance` and :func:`check_saturated_fraction`, each naming the
variant a wrong answer computed. :func:`check_sample_preactivations` is the exception: its
samples of a sum of products are tested against their exact distribution
(:func:`_products_cdf`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
from scipy import special as _special
from scipy import stats as _st

from .. import stats
from ._common import _ASKED_FANS, ALPHA, _Failure, _fmt, _name, _public
from .calls import _array_stage, _as_array, _call, _describe_call, _own_code
from .patterns import _independence_stage, _ks_critical
from .randomness import _RandomCall
from .targets import _fans_variants


def _close(a: float, b: float, rtol: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-300)


def _as_number(result: object, desc: str) -> float:
    if isinstance(result, np.ndarray) and result.ndim == 0:
        result = result[()]
    if result is None:
        raise _Failure(f"{desc} returned None. Likely mistake: no `return`.")
    if isinstance(result, (bool, np.bool_)) or not isinstance(result, (numbers.Real, np.floating)):
        raise _Failure(
            f"{desc} returned {result!r} of type {type(result).__name__}; expected one number."
        )
    value = float(result)
    if not math.isfinite(value):
        raise _Failure(f"{desc} returned {value}; expected a finite number.")
    return value


@_public
def check_fans(func: Callable, shape: Sequence[int]) -> None:
    """``func(shape)`` returns ``(fan_in, fan_out)`` with Keras' conventions.

    Dense ``(fan_in, fan_out)``; convolution ``(*kernel, in, out)`` with both fans multiplied by
    the receptive field ``prod(kernel)``; ``(n,)`` gives ``(n, n)`` and ``()`` gives ``(1, 1)``.
    A failure names the convention that was followed instead.
    """
    _own_code(func)
    shape = tuple(int(d) for d in shape)
    desc = _describe_call(func, (shape,), rng_arg=False)
    result = _call(func, (shape,), desc)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise _Failure(
            f"{desc} returned {result!r}; expected a pair (fan_in, fan_out), e.g. `return fan_in, "
            "fan_out`."
        )
    for v in result:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Integral, np.integer)):
            raise _Failure(
                f"{desc} returned {tuple(result)!r}; fans count inputs and outputs, so both must "
                f"be integers (got {type(v).__name__}: use math.prod or int(), not /)."
            )
    got = (int(result[0]), int(result[1]))
    variants = _fans_variants(shape)
    right = variants["right"]
    key = _name(func)
    earlier = _ASKED_FANS.setdefault(key, {})
    if got == right:
        earlier[shape] = right
        return
    lines = [f"{desc} returned {got}; expected {right} (fan_in, fan_out)."]
    if got == right[::-1]:
        lines.append(
            "Likely mistake: fan_in and fan_out swapped; a dense kernel is (fan_in, fan_out)."
        )
    elif len(shape) > 2 and got == variants["receptive field"]:
        lines.append(
            "Likely mistake: the receptive field left out of the fans. Each output of a "
            f"convolution sees prod(kernel) = {math.prod(shape[:-2])} positions of every input "
            "channel: fan_in = prod(kernel) * in_channels, fan_out = prod(kernel) * out_channels."
        )
    elif len(shape) > 2 and got == variants["pytorch"]:
        lines.append(
            "Likely mistake: PyTorch's (out, in, *kernel) order; here a kernel is "
            "(*kernel, in, out), Keras' order."
        )
    elif len(shape) > 2 and got == (shape[0], shape[1]):
        lines.append(
            "Likely mistake: the first two dimensions; for a convolution kernel the channels are "
            "the last two."
        )
    elif len(shape) == 1 and got in ((shape[0], 1), (1, shape[0])):
        lines.append("Likely mistake: a 1-D shape (n,) has fan_in = fan_out = n (Keras' rule).")
    elif len(shape) == 0:
        lines.append("Likely mistake: a scalar shape () has fan_in = fan_out = 1 (Keras' rule).")
    elif got in earlier.values():
        lines.append(
            "That is the answer for an earlier shape: is it hard-coded for the visible test?"
        )
    raise _Failure("\n".join(lines))


def _standardize_variants(x: np.ndarray) -> dict[str, np.ndarray]:
    with np.errstate(all="ignore"):
        mean0, std0 = x.mean(axis=0), x.std(axis=0)
        out = {
            "right": (x - mean0) / std0,
            "row by row (axis=1) instead of column by column (axis=0)": (
                (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
            ),
            "the whole array's mean and std instead of each column's": (x - x.mean()) / x.std(),
            "the sample std (ddof=1) instead of the population std (ddof=0)": (
                (x - mean0) / x.std(axis=0, ddof=1)
            ),
            "only centred, not divided by the std": x - mean0,
            "only divided by the std, not centred": x / std0,
            "divided by the variance instead of the std": (x - mean0) / std0**2,
            "the one-pass formula E[x**2] - E[x]**2 for the variance, which loses every digit "
            "when the mean is large compared with the spread: centre first, then square": (
                (x - mean0) / np.sqrt(np.abs((x**2).mean(axis=0) - mean0**2))
            ),
        }
    return out


@_public
def check_standardize(func: Callable, x: np.ndarray) -> None:
    """``func(x)`` returns ``(x - x.mean(axis=0)) / x.std(axis=0)`` and leaves `x` unchanged.

    Compared with the two-pass formula to 1e-6 (absolute, on values of order 1): far above the
    rounding error of any correct summation order (at most ``rows * eps * max|x| / std``, under
    1e-7 for the tests' data), far below the one-pass formula's error when the mean is large.
    A failure names the variant computed.
    """
    _own_code(func)
    original = np.array(x, dtype=np.float64, copy=True)
    given = original.copy()
    desc = _describe_call(func, (given,), rng_arg=False)
    result = _call(func, (given,), desc)
    arr = _as_array(result, desc)
    if not np.array_equal(given, original):
        raise _Failure(
            f"{desc} changed its input x in place (e.g. x -= x.mean(axis=0)). Likely mistake: "
            "in-place arithmetic on the caller's array; compute a new array instead."
        )
    arr = _array_stage(arr, original.shape, desc, _name(func))
    variants = _standardize_variants(original)
    right = variants.pop("right")
    if np.allclose(arr, right, rtol=0.0, atol=1e-6):
        return
    err = float(np.max(np.abs(arr - right)))
    lines = [
        f"{desc} differs from (x - x.mean(axis=0)) / x.std(axis=0) by up to {_fmt(err)}; "
        f"columns of your result have means {_fmt(np.abs(arr.mean(axis=0)).max())} (largest) and "
        f"standard deviations {_fmt(arr.std(axis=0).min())} to {_fmt(arr.std(axis=0).max())}; "
        "expected 0 and 1."
    ]
    named = [
        name
        for name, v in variants.items()
        if np.all(np.isfinite(v)) and np.allclose(arr, v, rtol=0.0, atol=1e-6)
    ]
    if named:
        lines.append("Likely mistake: " + "; or ".join(named) + ".")
    raise _Failure("\n".join(lines))


@_public
def check_standardize_rejects_constant(func: Callable, x: np.ndarray) -> None:
    """``func(x)`` raises ValueError when a column of `x` is constant (its std is 0)."""
    _own_code(func)
    given = np.array(x, dtype=np.float64, copy=True)
    desc = _describe_call(func, (given,), rng_arg=False)
    constant = [int(j) for j in np.flatnonzero(np.ptp(given, axis=0) == 0)]
    try:
        with np.errstate(all="ignore"):
            result = func(given)
    except ValueError:
        return
    except NotImplementedError:
        raise _Failure(
            f"{desc} raised NotImplementedError: {_name(func)} is not written yet."
        ) from None
    except Exception as exc:
        raise _Failure(
            f"{desc} raised {type(exc).__name__}: {exc}; expected ValueError for the constant "
            f"column(s) {constant}, with a message that says which column and why."
        ) from None
    found = ""
    if isinstance(result, np.ndarray) and not np.all(np.isfinite(result)):
        found = " It returned NaN or inf: the constant column was divided by its std, 0."
    raise _Failure(
        f"{desc} returned without raising, but column(s) {constant} are constant: they have std 0 "
        f"and cannot be scaled to unit variance.{found} Raise ValueError instead."
    )


@_public
def check_preactivation_variance(func: Callable, n: int, var_w: float, var_x: float,
                                 mean_x: float | None = None) -> None:
    """``func(n, var_w, var_x[, mean_x])`` returns ``n * var_w * (var_x + mean_x**2)``.

    The variance of z = sum of n products w_i x_i, with w zero-mean and independent of x:
    ``Var(w x) = E[w**2] E[x**2] = var_w (var_x + mean_x**2)``. Called without `mean_x` when it is
    None, to test the default 0.
    """
    _own_code(func)
    args = (n, var_w, var_x) if mean_x is None else (n, var_w, var_x, mean_x)
    m = 0.0 if mean_x is None else float(mean_x)
    desc = _describe_call(func, args, rng_arg=False)
    got = _as_number(_call(func, args, desc), desc)
    right = n * var_w * (var_x + m**2)
    if _close(got, right):
        return
    variants = {
        "the mean of x left out: E[x**2] = var_x + mean_x**2, not var_x": n * var_w * var_x,
        "mean_x**2 added once instead of inside every one of the n terms": n * var_w * var_x + m**2,
        "mean_x where mean_x**2 is meant": n * var_w * (var_x + m),
        "the n terms not summed: one product's variance": var_w * (var_x + m**2),
        "n**2 instead of n (variances of independent terms add: n, not n**2)": (
            n**2 * var_w * (var_x + m**2)
        ),
        "the standard deviation instead of the variance": math.sqrt(abs(right)),
        "standard deviations multiplied where variances are meant": (
            n * math.sqrt(var_w) * math.sqrt(var_x + m**2)
        ),
        "the variance of the mean (divided by n) instead of the sum": var_w * (var_x + m**2) / n,
    }
    named = [name for name, v in variants.items() if _close(got, v) and not _close(v, right)]
    lines = [
        f"{desc} returned {_fmt(got)}; expected n * var_w * (var_x + mean_x**2) = {_fmt(right)}."
    ]
    if named:
        lines.append("Likely mistake: " + "; or ".join(named) + ".")
    raise _Failure("\n".join(lines))


#: Quadrature nodes of :func:`_products_cdf`; its error is at most 1 / _NODES.
_NODES = 1000


def _products_cdf(z: np.ndarray, n: int, var: float, nodes: int = _NODES) -> np.ndarray:
    """CDF of z = sum_{i<n} w_i x_i, w_i ~ N(0, var_w), x_i ~ N(0, var_x) independent, var =
    var_w var_x. Given x, z ~ N(0, var_w S) with S = sum x_i**2 = var_x A, A ~ chi2(n), so
    F(z) = E_A[Phi(z / sqrt(var A))], computed with the midpoint rule at `nodes` quantiles of A.
    The integrand is monotone in the quantile, so the error is at most 1/nodes (added to the KS
    critical value by the caller)."""
    a = _st.chi2.ppf((np.arange(nodes) + 0.5) / nodes, n)
    scale = np.sqrt(var * a)
    out = np.empty(z.size)
    for start in range(0, z.size, 2000):
        chunk = z[start : start + 2000, None]
        out[start : start + 2000] = _special.ndtr(chunk / scale[None, :]).mean(axis=1)
    return out


@_public
def check_sample_preactivations(func: Callable, n: int, var_w: float, var_x: float, trials: int,
                                seed: int = 0) -> None:
    """``func(n, var_w, var_x, trials, rng)`` returns `trials` independent samples of
    ``z = sum_i w_i x_i`` with ``w_i ~ N(0, var_w)``, ``x_i ~ N(0, var_x)``, all independent.

    Array and rng checks, then a Kolmogorov-Smirnov test against the exact distribution of z (a
    scale mixture of normals, :func:`_products_cdf`) and the sign-agreement independence test.
    """
    call = _RandomCall(func, (n, var_w, var_x, trials), (int(trials),))
    _own_code(func)
    z = call.rng_stage(seed)
    call.remember()
    var = var_w * var_x
    target_var = n * var
    measured = float(np.mean(z**2))
    x = np.sort(z)
    cdf = _products_cdf(x, n, var)
    k = np.arange(1, x.size + 1)
    d = float(max(np.max(k / x.size - cdf), np.max(cdf - (k - 1) / x.size)))
    # Exact KS critical value (kstwo) at ALPHA, plus the quadrature error bound 1/_NODES of the
    # CDF: a correct sample exceeds it with probability at most ALPHA.
    crit = _ks_critical(x.size) + 1.0 / _NODES
    if d > crit:
        ratio = measured / target_var
        lines = [
            f"{call.desc}: your z values do not follow the sum of {n} products w*x "
            f"(Kolmogorov-Smirnov distance {_fmt(d)}, a correct sample stays below {_fmt(crit)} "
            f"with probability 1 - {ALPHA:g}). Their mean square is {_fmt(ratio)} times the "
            f"theory's n * var_w * var_x = {_fmt(target_var)}."
        ]
        named = {
            "one product per trial: the n products are not summed": 1.0 / n,
            "the mean of the n products instead of their sum": 1.0 / n**2,
            "var_w used as a standard deviation (rng.normal(0, var_w))": var_w,
            "var_x used as a standard deviation (rng.normal(0, var_x))": var_x,
            "both variances used as standard deviations": var,
        }
        lo, hi = 0.8, 1.25  # a message hint, not a pass/fail band
        match = [m for m, r in named.items() if abs(r - 1.0) > 0.05 and lo <= ratio / r <= hi]
        if match:
            lines.append("Likely mistake: " + "; or ".join(match) + ".")
        elif 0.8 <= ratio <= 1.25:
            s = math.sqrt(measured)
            dn = stats.ks_distance(z, "normal", s)
            if dn <= crit:
                lines.append(
                    "The variance is right and your values look normal, but a sum of "
                    f"{n} products of normals is not normal (its tails are heavier). Likely "
                    "mistake: z drawn directly from a normal instead of summing w * x."
                )
        raise _Failure("\n".join(lines))
    _independence_stage(z, 0.0, call.desc)


def _saturated_variants(z: np.ndarray, t: float) -> dict[str, float]:
    inside = np.abs(z) > t
    return {
        "right": float(np.mean(inside)),
        "one tail only (z > threshold): |z| > threshold counts both tails": float(np.mean(z > t)),
        "a count instead of a fraction": float(np.sum(inside)),
        "a percentage instead of a fraction": 100.0 * float(np.mean(inside)),
        "the unsaturated fraction (|z| <= threshold) instead of the saturated one": float(
            np.mean(~inside)
        ),
        "the threshold ignored (4.0 always)": float(np.mean(np.abs(z) > 4.0)),
    }


@_public
def check_saturated_fraction(func: Callable, z: np.ndarray, threshold: float | None = None) -> None:
    """``func(z[, threshold])`` returns the fraction of entries with ``|z| > threshold``
    (default 4.0). Called without `threshold` when it is None, to test the default."""
    _own_code(func)
    original = np.array(z, dtype=np.float64, copy=True)
    given = original.copy()
    args = (given,) if threshold is None else (given, threshold)
    desc = _describe_call(func, args, rng_arg=False)
    got = _as_number(_call(func, args, desc), desc)
    if not np.array_equal(given, original):
        raise _Failure(f"{desc} changed its input z in place; compute a new array instead.")
    t = 4.0 if threshold is None else float(threshold)
    variants = _saturated_variants(original, t)
    right = variants.pop("right")
    if _close(got, right, rtol=1e-12):
        return
    named = [
        name for name, v in variants.items() if _close(got, v, rtol=1e-12) and not _close(v, right)
    ]
    lines = [
        f"{desc} returned {_fmt(got)}; expected the fraction of |z| > {t:g}, {_fmt(right)} "
        f"({int(round(right * original.size))} of {original.size} values)."
    ]
    if named:
        lines.append("Likely mistake: " + "; or ".join(named) + ".")
    raise _Failure("\n".join(lines))
