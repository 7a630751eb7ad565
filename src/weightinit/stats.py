"""Acceptance bands from sampling distributions, for statistical checks that cannot flake.

Every band here holds with probability at least ``1 - alpha`` for a correct sample, whatever the
seed; ``alpha`` defaults to :data:`ALPHA` = 1e-9. A band is computed, never tuned:

- the variance of a zero-mean normal sample: ``n * mean(x**2) / sigma**2`` is chi-square with
  ``n`` degrees of freedom (exact);
- the variance or mean of a bounded sample (uniform, truncated normal): Hoeffding's inequality,
  ``P(|mean - mu| >= t) <= 2 exp(-2 n t**2 / (b - a)**2)`` (exact bound, no approximation);
- the mean of a normal sample: ``mean`` is ``N(0, sigma**2 / n)`` (exact);
- the family: the Kolmogorov-Smirnov distance to the fully specified target distribution
  (``scipy.stats.kstwo``, exact for continuous targets).

The ``power_*`` functions give the probability that a band rejects a sample whose true variance is
off by a given factor, so that each check's power against a named mistake can be stated.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st

from .initializers import TRUNCATION_STD_FACTOR

__all__ = [
    "ALPHA",
    "FAMILIES",
    "second_moment_bounds",
    "hoeffding_halfwidth",
    "variance_ratio_band",
    "mean_halfwidth",
    "ks_critical",
    "ks_distance",
    "target_cdf",
    "power_variance_ratio",
]

#: False-failure probability of one check: a correct sample fails it at most this often.
ALPHA = 1e-9

FAMILIES = ("normal", "uniform", "truncated_normal")


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(map(repr, FAMILIES))}; got {family!r}")


def second_moment_bounds(family: str) -> tuple[float, float]:
    """Range of ``x**2 / std**2`` for one draw of a zero-mean `family` with standard deviation std.

    Uniform on ``[-a, a]`` with ``a = sqrt(3) std``: ``[0, 3]``. Truncated normal cut at ``2s``
    with ``s = std / 0.8796...``: ``[0, (2 / 0.8796...)**2]``. The normal is unbounded.
    """
    _check_family(family)
    if family == "uniform":
        return 0.0, 3.0
    if family == "truncated_normal":
        return 0.0, (2.0 / TRUNCATION_STD_FACTOR) ** 2
    return 0.0, math.inf


def hoeffding_halfwidth(n: int, width: float, alpha: float = ALPHA) -> float:
    """Half-width t with ``P(|mean - mu| >= t) <= alpha`` for n i.i.d. values in a `width` interval.

    Hoeffding (1963): ``t = width * sqrt(log(2 / alpha) / (2 n))``.
    """
    return width * math.sqrt(math.log(2.0 / alpha) / (2.0 * n))


def variance_ratio_band(n: int, family: str, alpha: float = ALPHA) -> tuple[float, float]:
    """Band for ``R = mean(x**2) / std**2`` of n i.i.d. zero-mean draws with standard deviation std.

    A correct sample falls outside with probability at most `alpha`.

    - normal: ``n R ~ chi2(n)``, so the band is
      ``[chi2.ppf(alpha/2, n), chi2.isf(alpha/2, n)] / n``;
    - uniform, truncated normal: ``x**2 / std**2`` is bounded (:func:`second_moment_bounds`), so
      Hoeffding gives ``1 -+ t``.

    Uses the known mean 0 (``mean(x**2)``, not ``np.var``), so that a shifted sample cannot pass.
    """
    _check_family(family)
    if n < 1:
        raise ValueError(f"n must be a positive number of samples, got {n!r}")
    if family == "normal":
        return (
            float(_st.chi2.ppf(alpha / 2.0, n) / n),
            float(_st.chi2.isf(alpha / 2.0, n) / n),
        )
    lo, hi = second_moment_bounds(family)
    t = hoeffding_halfwidth(n, hi - lo, alpha)
    return 1.0 - t, 1.0 + t


def mean_halfwidth(n: int, std: float, family: str, alpha: float = ALPHA) -> float:
    """Half-width of the band around 0 for the sample mean of n zero-mean draws (std `std`).

    Normal: ``z_{1 - alpha/2} std / sqrt(n)`` (exact). Bounded families: Hoeffding over the
    support ``[-b, b]`` (``b = sqrt(3) std`` uniform, ``2 std / 0.8796...`` truncated).
    """
    _check_family(family)
    if family == "normal":
        return float(_st.norm.isf(alpha / 2.0) * std / math.sqrt(n))
    bound = std * math.sqrt(second_moment_bounds(family)[1])
    return hoeffding_halfwidth(n, 2.0 * bound, alpha)


def target_cdf(family: str, std: float):
    """The CDF of the zero-mean `family` with standard deviation `std` (a callable for KS)."""
    _check_family(family)
    if family == "normal":
        return _st.norm(0.0, std).cdf
    if family == "uniform":
        a = math.sqrt(3.0) * std
        return _st.uniform(-a, 2.0 * a).cdf
    s = std / TRUNCATION_STD_FACTOR
    return _st.truncnorm(-2.0, 2.0, loc=0.0, scale=s).cdf


def ks_distance(x: np.ndarray, family: str, std: float, presorted: bool = False) -> float:
    """Kolmogorov-Smirnov distance between the sample and the zero-mean `family` with std `std`.

    ``D = max(max_i (i/n - F(x_(i))), max_i (F(x_(i)) - (i-1)/n))`` over the sorted sample
    ``x_(1) <= ... <= x_(n)`` (Kolmogorov 1933): the same arithmetic as
    ``scipy.stats.kstest(x, F).statistic``, so the same number, without kstest's p-value and
    argument handling (two thirds of its time). `presorted` says `x` is already sorted.
    """
    sample = np.ravel(x)
    if sample.dtype != np.float64 or sample.size == 0:
        return float(_st.kstest(sample, target_cdf(family, std)).statistic)
    if not presorted:
        sample = np.sort(sample)
    cdf = target_cdf(family, std)(sample)
    n = sample.size
    d_plus = (np.arange(1.0, n + 1) / n - cdf).max()
    d_minus = (cdf - np.arange(0.0, n) / n).max()
    return float(d_plus if d_plus > d_minus else d_minus)


def ks_critical(n: int, alpha: float = ALPHA) -> float:
    """Critical KS distance: a sample of n from the target exceeds it with probability `alpha`.

    Exact (``scipy.stats.kstwo``) for a continuous, fully specified target.
    """
    return float(_st.kstwo.isf(alpha, n))


def power_variance_ratio(n: int, family: str, ratio: float, alpha: float = ALPHA) -> float:
    """Probability that :func:`variance_ratio_band` rejects a sample whose variance is `ratio` times
    the target (a lower bound for the bounded families: a normal approximation of mean(x**2)).

    Normal: exact, since ``n R / ratio ~ chi2(n)``. Bounded families: the sample mean of
    ``x**2 / std**2`` has standard deviation ``sqrt(Var(x**2)) / sqrt(n)``, with
    ``Var(x**2) / std**4 = 4/5`` for the uniform and about ``0.82`` for the truncated normal
    (both scaled by ``ratio**2``); the power is the normal tail beyond the band.
    """
    lo, hi = variance_ratio_band(n, family, alpha)
    if family == "normal":
        return float(_st.chi2.cdf(lo * n / ratio, n) + _st.chi2.sf(hi * n / ratio, n))
    if family == "uniform":
        var_sq = 4.0 / 5.0  # E[u^4] - E[u^2]^2 with u^2 / std^2 in [0, 3]: 9/5 - 1
    else:
        s2 = 1.0 / TRUNCATION_STD_FACTOR**2
        m4 = float(_st.truncnorm(-2.0, 2.0).moment(4)) * s2**2
        var_sq = m4 - 1.0
    sd = ratio * math.sqrt(var_sq / n)
    return float(_st.norm.cdf((lo - ratio) / sd) + _st.norm.sf((hi - ratio) / sd))
