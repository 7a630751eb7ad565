"""What a correct sample looks like, the named mistakes, and stage 4: the mean and the variance.

:class:`Target` holds a rule's standard deviation, mean and family with every named mistake's
variance ratio; :func:`scaling_target` builds it for Keras' ``VarianceScaling`` rules and
:func:`std_target` for a sampler given its std, and :func:`mistake_table` gives the power of the
variance band against each mistake. Stage 4 (:func:`_mean_stage`, :func:`_variance_stage`)
compares a sample's mean and variance with the target within bands at ``ALPHA``, and names the
mistake whose prediction matches the measurement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from .. import stats
from ..initializers import TRUNCATION_STD_FACTOR
from ._common import ALPHA, _Failure, _fmt

# --------------------------------------------------------------------------------------------
# Targets and named mistakes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a correct sample looks like, and what each named mistake would give instead.

    Attributes
    ----------
    law : str
        The rule in words, e.g. ``"N(0, 2/fan_in) with fan_in = 960"``.
    std, mean : float
        The standard deviation and mean of a correct sample.
    family : str
        ``"normal"``, ``"uniform"`` or ``"truncated_normal"`` (cut at two standard deviations of
        the normal before truncation, as in Keras).
    mistakes : tuple of (str, float)
        ``(explanation, ratio)``: the variance the mistake gives, divided by the target's.
    mean_mistakes : tuple of (str, float)
        ``(explanation, mean)``: the mean a mistake gives instead of `mean`.
    """

    law: str
    std: float
    mean: float = 0.0
    family: str = "normal"
    mistakes: tuple[tuple[str, float], ...] = ()
    mean_mistakes: tuple[tuple[str, float], ...] = ()

    @property
    def bound(self) -> float:
        """Half-width of the support around the mean (inf for the normal)."""
        return self.std * math.sqrt(stats.second_moment_bounds(self.family)[1])


#: Variance ratios of the truncation mistakes, computed once from the standard normal.
_Z_TRUNC_VAR = float(_st.truncnorm(-2.0, 2.0).var())  # = TRUNCATION_STD_FACTOR**2
_P_BEYOND_2 = float(2.0 * _st.norm.sf(2.0))
_CLIP_RATIO = ((1.0 - _P_BEYOND_2) * _Z_TRUNC_VAR + 4.0 * _P_BEYOND_2) / TRUNCATION_STD_FACTOR**2
_CUT_AT_2STD_RATIO = (
    float(_st.truncnorm(-2.0 * TRUNCATION_STD_FACTOR, 2.0 * TRUNCATION_STD_FACTOR).var())
    / TRUNCATION_STD_FACTOR**2
)


def _family_mistakes(family: str) -> list[tuple[str, float]]:
    if family == "uniform":
        return [
            (
                "the uniform limit without sqrt(3): U(-a, a) has variance a**2 / 3, so "
                "a = sqrt(3) * std, not std",
                1.0 / 3.0,
            )
        ]
    if family == "truncated_normal":
        c = TRUNCATION_STD_FACTOR
        return [
            (
                "a missing truncation correction: cutting N(0, s**2) at +-2s shrinks its std "
                "by 0.8796, so draw with s = std / 0.8796...",
                c**2,
            ),
            ("the truncation correction multiplied instead of divided (std * 0.8796...)", c**4),
            ("clipping instead of re-drawing: np.clip piles values onto +-2s", _CLIP_RATIO),
            ("cutting at +-2 * std instead of +-2s, with s = std / 0.8796...", _CUT_AT_2STD_RATIO),
        ]
    return []


def _fans_variants(shape: tuple[int, ...]) -> dict[str, tuple[int, int]]:
    """(fan_in, fan_out) the right way and the wrong ways, for a kernel shape."""
    if len(shape) == 0:
        right = (1, 1)
    elif len(shape) == 1:
        right = (shape[0], shape[0])
    else:
        rf = math.prod(shape[:-2])
        right = (shape[-2] * rf, shape[-1] * rf)
    out = {"right": right}
    if len(shape) > 2:
        out["receptive field"] = (shape[-2], shape[-1])
        rf_torch = math.prod(shape[2:])
        out["pytorch"] = (shape[1] * rf_torch, shape[0] * rf_torch)
    return out


def scaling_target(shape: Sequence[int], scale: float, mode: str, distribution: str) -> Target:
    """The target of ``variance_scaling(shape, scale, mode, distribution)`` and its named mistakes.

    Variance ``scale / n`` with ``n`` = fan_in, fan_out or their average (Keras'
    ``VarianceScaling``; LeCun is scale 1 fan_in, Glorot scale 1 fan_avg, He scale 2 fan_in).
    Each named mistake is the same rule with one thing changed: another fan, the fans' sum, the
    factor 2 dropped or added, the receptive field left out, PyTorch's layout, the variance used
    as the standard deviation, no scaling at all, and the family's own mistakes (sqrt(3) for the
    uniform, the truncation correction). Mistakes that give the target's variance for this shape
    are dropped: they cannot be told apart here.
    """
    shape = tuple(int(d) for d in shape)
    fans = _fans_variants(shape)
    fan_in, fan_out = fans["right"]

    def n_of(fi: float, fo: float, m: str) -> float:
        return {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2.0}[m]

    n = n_of(fan_in, fan_out, mode)
    var = scale / max(1.0, n)
    avg = " with fan_avg = (fan_in + fan_out)/2" if mode == "fan_avg" else ""
    law = (
        f"{distribution.replace('_', ' ')} with variance {scale:g}/{mode}{avg} = {_fmt(var)} "
        f"(std {_fmt(math.sqrt(var))}; fan_in = {fan_in}, fan_out = {fan_out})"
    )
    mistakes: list[tuple[str, float]] = []
    for other in ("fan_in", "fan_out", "fan_avg"):
        if other != mode:
            mistakes.append(
                (f"{other} where {mode} is meant", (scale / n_of(fan_in, fan_out, other)) / var)
            )
    mistakes.append(
        (
            "fan_in + fan_out without the average: Glorot's variance is 2/(fan_in + fan_out)",
            (scale / (fan_in + fan_out)) / var,
        )
    )
    if scale == 2.0:
        mistakes.append(("1/n where He uses 2/n (LeCun's variance, not He's)", 0.5))
    elif scale == 1.0:
        mistakes.append(("2/n where 1/n is meant (He's factor 2, which is for ReLU)", 2.0))
    if "receptive field" in fans:
        fi, fo = fans["receptive field"]
        mistakes.append(
            (
                "the receptive field left out of the fans: a conv kernel's fan_in is "
                "kernel_height * kernel_width * in_channels",
                (scale / n_of(fi, fo, mode)) / var,
            )
        )
        fi, fo = fans["pytorch"]
        mistakes.append(
            (
                "fans read in PyTorch's (out, in, *kernel) order from a Keras (*kernel, in, out) "
                "kernel",
                (scale / n_of(fi, fo, mode)) / var,
            )
        )
    mistakes.append(
        ("the variance used as the standard deviation (std = scale/n, not sqrt(scale/n))", var)
    )
    mistakes.append(("no scaling at all (the unit variance of randn)", 1.0 / var))
    mistakes.extend(_family_mistakes(distribution))
    return Target(
        law=law,
        std=math.sqrt(var),
        family=distribution,
        mistakes=tuple((m, r) for m, r in mistakes if abs(math.log(r)) > math.log(1.01)),
        mean_mistakes=(),
    )


def _as_fans(value: object) -> tuple[float, float] | None:
    """A student's ``compute_fans`` result as two finite floats, or None."""
    try:
        fan_in, fan_out = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    return (fan_in, fan_out) if math.isfinite(fan_in) and math.isfinite(fan_out) else None


def _show_fans(fans: tuple[float, float]) -> str:
    return "(" + ", ".join(str(int(f)) if f.is_integer() else _fmt(f) for f in fans) + ")"


def fans_cascade(x: np.ndarray, target: Target, desc: str, shape: Sequence[int], scale: float,
                 mode: str, theirs: object) -> str | None:
    """The message for a variance that is wrong only because the student's own ``compute_fans``
    is: None unless `theirs` (what it returned for `shape`) differs from the right fans and the
    sample's variance is what ``scale / n`` gives with those fans, within the same band at
    ``ALPHA`` as a correct answer's. A mistake in one helper is then reported as that mistake,
    not as a mistake in every initializer that uses it."""
    shape = tuple(int(d) for d in shape)
    right = tuple(float(f) for f in _fans_variants(shape)["right"])
    fans = _as_fans(theirs)
    if fans is None or fans == right:
        return None
    n = {"fan_in": fans[0], "fan_out": fans[1], "fan_avg": (fans[0] + fans[1]) / 2.0}[mode]
    if n <= 0.0:
        return None
    var = scale / max(1.0, n)  # as scaling_target
    lo, hi = stats.variance_ratio_band(x.size, target.family, ALPHA)
    second_moment = float(np.mean((x - target.mean) ** 2))
    if not lo <= second_moment / var <= hi:
        return None
    return (
        f"{desc}: the variance of your weights is {_fmt(second_moment / target.std**2)} times "
        f"the target ({target.law}).\nThe cause is your compute_fans: compute_fans({shape}) "
        f"returns {_show_fans(fans)}; expected {_show_fans(right)}. With your fans the rule "
        "gives exactly the variance measured (within the band of a correct answer). Fix "
        "compute_fans first (its own test names the mistake); this test should then pass too."
    )


def std_target(std: float, mean: float, family: str) -> Target:
    """The target of a sampler given its std (and mean) directly, with its named mistakes."""
    mistakes = [
        ("the variance used as the standard deviation (std**2 where std is meant)", std**2),
        ("the standard deviation used as the variance (sqrt(std) where std is meant)", 1.0 / std),
        ("std left out: rng.standard_normal alone has standard deviation 1", 1.0 / std**2),
    ]
    mistakes.extend(_family_mistakes(family))
    mean_mistakes = []
    if mean != 0.0:
        mean_mistakes = [
            ("the shift left out (mean 0)", 0.0),
            ("the shift multiplied by std: (z + mean) * std instead of mean + std * z", mean * std),
            ("mean and std swapped", std),
        ]
    law = f"{family.replace('_', ' ')} with mean {_fmt(mean)} and std {_fmt(std)}"
    return Target(
        law=law,
        std=std,
        mean=mean,
        family=family,
        mistakes=tuple((m, r) for m, r in mistakes if abs(math.log(r)) > math.log(1.01)),
        mean_mistakes=tuple((m, v) for m, v in mean_mistakes if v != mean),
    )


def mistake_table(target: Target, n: int, alpha: float = ALPHA) -> list[tuple[str, float, float]]:
    """``(mistake, variance ratio, power)`` for every named mistake of `target` with `n` weights.

    The power is :func:`weightinit.stats.power_variance_ratio`: the probability that the variance
    band rejects a sample with that mistake (exact for the normal, a normal approximation for the
    bounded families).
    """
    return [
        (m, r, stats.power_variance_ratio(n, target.family, r, alpha)) for m, r in target.mistakes
    ]


# --------------------------------------------------------------------------------------------
# Stage 4: mean and variance
# --------------------------------------------------------------------------------------------


def _mean_stage(x: np.ndarray, target: Target, desc: str) -> None:
    if np.ptp(x) == 0:
        raise _Failure(
            f"{desc} returned the same value {_fmt(x.flat[0])} everywhere. Likely mistake: a "
            "constant array; random weights are needed to break the symmetry between units."
        )
    n = x.size
    m = float(x.mean())
    # Band: |mean - mu| <= z_{1 - ALPHA/2} sigma / sqrt(n) (normal, exact) or Hoeffding's bound
    # (bounded families); P(false failure) <= ALPHA. sigma is the larger of the target's and the
    # sample's, which only widens the band for a correct sample, and keeps a wrong variance from
    # being reported as a wrong mean.
    scale = max(target.std, float(x.std()))
    half = stats.mean_halfwidth(n, scale, target.family, ALPHA)
    if abs(m - target.mean) <= half:
        return
    lines = [
        f"{desc}: the mean of your {n} values is {_fmt(m)}; expected {_fmt(target.mean)} "
        f"(a correct answer is within +-{_fmt(half)} with probability 1 - {ALPHA:g})."
    ]
    named = [name for name, value in target.mean_mistakes if abs(m - value) <= half]
    if named:
        lines.append("Likely mistake: " + "; or ".join(named) + ".")
    elif target.mean == 0.0 and (x.min() >= 0.0 or x.max() <= 0.0):
        lines.append(
            "Likely mistake: not centred. Every value has the same sign: rng.random() and "
            "rng.uniform(0, a) give values in [0, a); a zero-mean uniform is rng.uniform(-a, a)."
        )
    else:
        lines.append("Likely mistake: not centred; the weights must have mean "
                     f"{_fmt(target.mean)}.")
    raise _Failure("\n".join(lines))


def _variance_stage(x: np.ndarray, target: Target, desc: str) -> None:
    n = x.size
    # R = mean((x - mu)**2) / std**2 about the known mean. Band: chi-square (normal, exact:
    # n R ~ chi2(n)) or Hoeffding (bounded families); P(false failure) <= ALPHA.
    lo, hi = stats.variance_ratio_band(n, target.family, ALPHA)
    ratio = float(np.mean((x - target.mean) ** 2)) / target.std**2
    if lo <= ratio <= hi:
        return
    lines = [
        f"{desc}: the variance of your weights is {_fmt(ratio)} times the target "
        f"(measured std {_fmt(math.sqrt(ratio) * target.std)}, expected {target.law}; a correct "
        f"answer gives a ratio in [{lo:.3f}, {hi:.3f}] with probability 1 - {ALPHA:g})."
    ]
    matches = [m for m, r in target.mistakes if lo <= ratio / r <= hi]
    if matches:
        lines.append("That is exactly what you get from " + "; or from ".join(matches) + ".")
    elif target.mistakes:
        name, r = min(target.mistakes, key=lambda mr: abs(math.log(ratio / mr[1])))
        lines.append(
            f"No common mistake gives exactly this ratio; the nearest is {name} (ratio {_fmt(r)})."
        )
    raise _Failure("\n".join(lines))
