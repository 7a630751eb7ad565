"""Calibrated checks for the graded exercises: every correct answer passes, every common mistake
fails with a message that names it.

The test cells of the nbgrader assignments call these functions, so a test reads like a sentence::

    check_initializer(he_normal, (5, 3, 64, 40), scale=2.0, mode="fan_in", distribution="normal")

A failed check raises ``AssertionError`` with three things in its message: what was measured,
what was expected, and which common mistake produces exactly that measurement ("the variance of
your weights is 0.5 times the target: 1/n where He uses 2/n"). Errors raised by the student's
code are caught and reported the same way, in one line, rather than as a deep traceback.

How a random array is checked, in this order (each stage assumes the previous ones passed, so its
message can be specific):

1. own code: the function does not call weightinit's implementation (:func:`check_own_code`);
2. type (an ndarray, not a list or None), shape (transposed? flattened?), dtype float64, finite;
3. randomness from ``rng``: the same seed gives the same array, another seed another array, and
   NumPy's global state is neither read nor changed;
4. patterns: constant, alternating or repeated rows, and atoms (clipping), checked before the
   moments because their bands assume independent draws;
5. mean, then variance, compared with the target and with every named mistake's prediction;
6. family: the bounds of uniform and truncated samples, a Kolmogorov-Smirnov test, and for the
   normal a tail count;
7. independence: neighbours along every axis agree in sign as often as a fair coin says;
8. another shape, so that an answer hard-coded for the visible test's shape fails.

Calibration. Every statistical band holds for a correct sample with probability at least
``1 - ALPHA`` (``ALPHA = 1e-9``), whatever the seed, so a correct answer that draws its numbers in
another order passes too. The bands come from :mod:`weightinit.stats` (chi-square for a normal
sample's variance, Hoeffding for bounded samples, exact KS critical values) or are exact binomial
bands computed here; each is named in a comment beside it. Test shapes hold at least 30,000
weights wherever a variance is checked, and are chosen so that every named mistake changes the
variance by at least 1.2x (two mistakes move it by a fixed factor instead: clipping, 1.19x, which
the atom check catches exactly, and a cut at 2 std rather than 2s, 0.87x); the power against each
mistake is given by :func:`mistake_table`, and ``tests/test_checks.py`` requires it to exceed
1 - 1e-6 for every check call in the notebooks.

Everything is checked on copies: the checker gives the student's function fresh generators and
copies of its inputs, and copies what the function returns before looking at it.
"""

from __future__ import annotations

import functools
import math
import numbers
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special as _special
from scipy import stats as _st

from . import stats
from .initializers import TRUNCATION_STD_FACTOR

__all__ = [
    "ALPHA",
    "check_own_code",
    "check_array",
    "check_uses_rng",
    "check_variance",
    "check_samples",
    "check_initializer",
    "check_truncated_normal",
    "check_variance_scaling",
    "check_raises",
    "check_fans",
    "check_standardize",
    "check_standardize_rejects_constant",
    "check_preactivation_variance",
    "check_sample_preactivations",
    "check_saturated_fraction",
    "assess_sample",
    "Target",
    "scaling_target",
    "std_target",
    "mistake_table",
]

#: False-failure probability of each band: a correct answer fails it at most this often.
ALPHA = stats.ALPHA

#: The global seeds the checker plants in ``np.random`` to see whether a function reads it.
_GLOBAL_SEEDS = (2718281, 3141592)

#: Shapes (and fans answers) asked so far in this kernel, per function name: an answer that
#: returns one of them for another input was hard-coded for an earlier (visible) test.
_ASKED_SHAPES: dict[str, list[tuple[int, ...]]] = {}
_ASKED_FANS: dict[str, dict[tuple[int, ...], tuple[int, int]]] = {}


class _Failure(Exception):
    """A check failed; the message is for the student."""


def _public(check: Callable) -> Callable:
    """Turn an internal ``_Failure`` into a one-frame ``AssertionError`` (IPython hides this
    wrapper's frame through ``__tracebackhide__``), so the student sees the message, not a stack."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841  (read by pytest; IPython always shows the last frame)
        try:
            return check(*args, **kwargs)
        except _Failure as failure:
            message = str(failure)
        raise AssertionError(message)

    # The traceback's one library line then reads "in check_initializer", not "in wrapper".
    wrapper.__code__ = wrapper.__code__.replace(co_name=check.__name__, co_qualname=check.__name__)
    return wrapper


def _fmt(v: float) -> str:
    """A number for a message: 4 significant digits, no numpy repr."""
    return f"{float(v):.4g}"


def _name(func: Callable) -> str:
    return getattr(func, "__name__", None) or type(func).__name__


# --------------------------------------------------------------------------------------------
# Stage 1: the student's own code
# --------------------------------------------------------------------------------------------


def _is_library(module_name: object) -> bool:
    return isinstance(module_name, str) and (
        module_name == "weightinit" or module_name.startswith("weightinit.")
    )


def _library_uses(func: object, allow: Sequence[str]) -> list[str]:
    """Every weightinit object `func` reaches: itself, the globals its code names, its closure,
    its defaults, and the same for the helper functions it calls that are defined alongside it."""
    found: list[str] = []
    seen: set[int] = set()
    home = getattr(func, "__module__", None)

    def visit_code(code: types.CodeType, globs: dict, where: str) -> None:
        for name in code.co_names:
            if _is_library(name):
                found.append(f"{where} imports {name}")
            elif name in globs:
                visit(globs[name], f"{where} uses the name {name!r}, which")
        for const in code.co_consts:
            if isinstance(const, str) and "weightinit" in const:
                found.append(f"{where} mentions {const!r}")
            elif isinstance(const, types.CodeType):
                visit_code(const, globs, where)

    def visit(obj: object, how: str) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        try:
            if isinstance(obj, types.ModuleType):
                module = obj.__name__
            else:
                module = getattr(obj, "__module__", None)
        except Exception:  # an object whose attribute lookup itself fails is not weightinit's
            return
        if _is_library(module):
            if getattr(obj, "__name__", None) in allow:
                return
            if isinstance(obj, types.ModuleType):
                found.append(f"{how} is the module {module}")
            else:
                label = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
                found.append(f"{how} is {module}.{label}")
            return
        if isinstance(obj, functools.partial):
            visit(obj.func, f"{how} is a partial of something that")
            for arg in (*obj.args, *obj.keywords.values()):
                visit(arg, f"{how} is a partial whose argument")
            return
        if isinstance(obj, types.MethodType):
            visit(obj.__func__, how)
            return
        if isinstance(obj, types.FunctionType) and obj.__module__ == home:
            where = f"{obj.__name__}()"
            visit_code(obj.__code__, obj.__globals__, where)
            for cell in obj.__closure__ or ():
                try:
                    visit(cell.cell_contents, f"{where} closes over a value that")
                except ValueError:  # an empty cell
                    pass
            for default in (*(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values()):
                visit(default, f"{where} has a default value that")

    visit(func, f"{_name(func)}")
    return found


def _own_code(func: Callable, allow: Sequence[str] = ()) -> None:
    if not callable(func):
        raise _Failure(
            f"expected a function, got {func!r} of type {type(func).__name__}: "
            "did you overwrite the function's name with a value?"
        )
    uses = _library_uses(func, allow)
    if uses:
        allowed = f" (you may use {', '.join(allow)})" if allow else ""
        raise _Failure(
            f"{_name(func)} uses weightinit's own implementation instead of yours: "
            f"{uses[0]}.\nThe exercise is to write it with numpy; weightinit is there to compare "
            f"with once yours works{allowed}. "
            "Likely mistake: the library's implementation imported instead of written."
        )


@_public
def check_own_code(func: Callable, allow: Sequence[str] = ()) -> None:
    """Fail if `func` is, wraps, or calls weightinit's implementation (names in `allow` excepted).

    Identical output is no evidence (a correct ``rng.normal(0, std, shape)`` gives the library's
    array for the same seed), so this looks at the code instead: the function object's module, the
    global names its code uses, its closure and defaults, nested functions, and the helpers it
    calls that are defined in the same notebook.
    """
    _own_code(func, allow)


# --------------------------------------------------------------------------------------------
# Calling the student's code
# --------------------------------------------------------------------------------------------


def _describe_call(func: Callable, args: Sequence, rng_arg: bool) -> str:
    shown = []
    for a in args:
        if isinstance(a, np.ndarray):
            shown.append(f"<array of shape {a.shape}>")
        elif isinstance(a, np.random.Generator):
            shown.append("rng")
        else:
            shown.append(repr(a))
    if rng_arg:
        shown.append("rng")
    return f"{_name(func)}({', '.join(shown)})"


def _call(func: Callable, args: Sequence, desc: str):
    """Call the student's function; any exception becomes a one-line message."""
    try:
        return func(*args)
    except NotImplementedError:
        raise _Failure(
            f"{desc} raised NotImplementedError: {_name(func)} is not written yet. Replace "
            "`raise NotImplementedError()` with your code and run its cell again."
        ) from None
    except Exception as exc:  # the student's error, reported rather than re-raised
        hint = ""
        text = str(exc)
        if isinstance(exc, TypeError) and ("positional argument" in text or "argument" in text):
            hint = " Check the signature: the tests call it with the arguments shown, in order."
        elif isinstance(exc, NameError):
            hint = " Did you run the cells above, and spell every name as it was defined?"
        elif isinstance(exc, AttributeError) and "Generator" in text:
            hint = (
                " rng is a numpy.random.Generator: rng.normal, rng.uniform, rng.standard_normal, "
                "rng.random."
            )
        raise _Failure(f"{desc} raised {type(exc).__name__}: {text}.{hint}") from None


# --------------------------------------------------------------------------------------------
# Stage 2: type, shape, dtype, finite
# --------------------------------------------------------------------------------------------


def _as_array(result: object, desc: str) -> np.ndarray:
    if result is None:
        raise _Failure(
            f"{desc} returned None. Likely mistake: the function computes the array but does not "
            "`return` it."
        )
    if isinstance(result, (list, tuple)):
        raise _Failure(
            f"{desc} returned a {type(result).__name__}, not a numpy array. Return an ndarray "
            "(rng's methods already give one; a list comprehension or .tolist() does not)."
        )
    if isinstance(result, np.matrix) or not isinstance(result, np.ndarray):
        if isinstance(result, (numbers.Number, np.generic)):
            raise _Failure(
                f"{desc} returned a single number ({result!r}), not an array. Pass the shape to "
                "rng's method (e.g. rng.normal(0.0, std, size=shape))."
            )
        raise _Failure(
            f"{desc} returned a {type(result).__name__}, not a numpy ndarray."
        )
    return np.array(result, copy=True)


def _shape_hint(got: tuple, want: tuple, asked_before: Sequence[tuple]) -> str:
    if len(got) == len(want) and got == want[::-1] and got != want:
        return (
            " Likely mistake: a transposed shape. A dense kernel is (fan_in, fan_out), used as "
            "x @ W; PyTorch stores (out, in)."
        )
    if sorted(got) == sorted(want) and got != want:
        return (
            " Likely mistake: the axes in another order. A convolution kernel is (*kernel_size, "
            "in_channels, out_channels), Keras' order, not PyTorch's (out, in, *kernel)."
        )
    if got == (math.prod(want),):
        return " Likely mistake: a flat array; ask rng for the whole shape, or reshape."
    if len(want) > 2 and got == (math.prod(want[:-1]), want[-1]):
        return " Likely mistake: the kernel flattened to a matrix; return the shape asked for."
    if len(want) > 2 and len(got) == 2:
        rf = math.prod(want[:-2])
        if got in ((want[-2] * rf, want[-1] * rf), (want[-2], want[-1])):
            return (
                " Likely mistake: a (fan_in, fan_out) matrix where a convolution kernel was asked; "
                "the fans set the variance, the shape stays the one asked for."
            )
    if got in asked_before:
        return (
            " That is the shape an earlier test asked for: is the shape (or the whole answer) "
            "hard-coded for the visible test?"
        )
    return ""


def _array_stage(arr: np.ndarray, want: tuple, desc: str, key: str) -> np.ndarray:
    asked_before = [s for s in _ASKED_SHAPES.get(key, []) if s != want]
    if arr.shape != want:
        raise _Failure(
            f"{desc} returned an array of shape {arr.shape}; expected {want}."
            + _shape_hint(arr.shape, want, asked_before)
        )
    if arr.dtype != np.float64:
        if np.issubdtype(arr.dtype, np.floating):
            hint = (
                f"return float64 (numpy's default): did you ask for dtype={arr.dtype} or "
                f"convert with .astype({arr.dtype})?"
            )
        elif np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
            hint = (
                "whole numbers cannot have the variance asked for: did you use rng.integers, "
                "np.sign, np.round or integer arithmetic?"
            )
        else:
            hint = "return real float64 numbers."
        raise _Failure(f"{desc} returned dtype {arr.dtype}; expected float64: {hint}")
    bad = ~np.isfinite(arr)
    if bad.any():
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(bad.sum()) - n_nan
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise _Failure(
            f"{desc} returned {n_nan} NaN and {n_inf} infinite values (the first at index "
            f"{first}). Likely mistake: NaN or inf from the square root or logarithm of a "
            "negative number, a division by zero, or an overflow."
        )
    return arr


# --------------------------------------------------------------------------------------------
# Stage 3: randomness from rng
# --------------------------------------------------------------------------------------------


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
        """Same seed, same array; another seed, another array; the global state untouched.

        NumPy's global state is seeded with two different values around two calls with the same
        seed: an answer that draws from ``np.random.*`` returns different arrays, and one that
        calls ``np.random.seed`` or draws from it changes the state. The state is restored after.
        """
        # The legacy global state is what is being checked, hence NPY002 below.
        saved = np.random.get_state()  # noqa: NPY002
        try:
            results, changed = [], False
            for global_seed in _GLOBAL_SEEDS:
                np.random.seed(global_seed)  # noqa: NPY002
                before = np.random.get_state()  # noqa: NPY002
                results.append(self.draw(seed))
                after = np.random.get_state()  # noqa: NPY002
                changed = changed or not _same_state(before, after)
            first, second = results
            if changed:
                reads = "" if np.array_equal(first, second) else " and reads"
                raise _Failure(
                    f"{self.desc} changes{reads} NumPy's global random state (np.random.seed, "
                    "np.random.normal, np.random.randn, np.random.rand, ...). Likely mistake: the "
                    "global np.random instead of rng. Draw every number from the rng argument, so "
                    "that the same seed gives the same weights and nothing else is disturbed."
                )
            if not np.array_equal(first, second):
                raise _Failure(
                    f"{self.desc} returned different arrays for two generators with the same seed "
                    f"{seed}. Likely mistake: a generator created inside the function "
                    "(np.random.default_rng() without a seed) instead of the rng argument."
                )
            other = self.draw(seed + 7919)
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
                    f"{self.desc} returned the same array for seeds {seed} and {seed + 7919}: "
                    f"{why}."
                )
            return first
        finally:
            np.random.set_state(saved)  # noqa: NPY002


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


def _repeated_slices(x: np.ndarray) -> str | None:
    names = {0: "rows", 1: "columns"} if x.ndim == 2 else {}
    for axis in range(x.ndim):
        length = x.shape[axis]
        if length < 2 or x.size // length < _MIN_SLICE:
            continue
        slices = np.moveaxis(x, axis, 0).reshape(length, -1)
        distinct = np.unique(slices, axis=0).shape[0]
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


def _pattern_stage(x: np.ndarray, center: float, desc: str) -> None:
    """Constant, alternating and repeating patterns, and atoms (clipping). Continuous draws
    practically never produce these (see _ATOM_COUNT and _MIN_SLICE: far below ALPHA). Run before
    the mean and the variance, whose bands assume independent draws."""
    n = x.size
    values, counts = np.unique(x, return_counts=True)
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


def _family_stage(x: np.ndarray, target: Target, desc: str) -> None:
    """Bounds (uniform, truncated), a Kolmogorov-Smirnov test, and a tail count (normal)."""
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
    d = stats.ks_distance(x - target.mean, target.family, target.std)
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


# --------------------------------------------------------------------------------------------
# The random-array battery and its public faces
# --------------------------------------------------------------------------------------------


def _shape_arg(shape: object) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(d) for d in shape)  # type: ignore[union-attr]


def _assess(x: np.ndarray, target: Target, desc: str, through: str = "all") -> None:
    """The statistical stages, in order, on an array already checked for type and shape."""
    _pattern_stage(x, target.mean, desc)
    _mean_stage(x, target, desc)
    _variance_stage(x, target, desc)
    if through == "variance":
        return
    _family_stage(x, target, desc)
    _independence_stage(x, target.mean, desc)


@_public
def assess_sample(x: np.ndarray, target: Target, through: str = "all") -> None:
    """Run the statistical stages on a sample `x` already drawn (patterns, mean, variance and,
    unless ``through="variance"``, family and independence) against `target`.

    The false-failure measurement (``tests/test_checks.py``, ``benchmarks/false_failure.py``)
    calls this on many correct samples.
    """
    _assess(np.array(x, dtype=np.float64, copy=True), target, "sample", through)


def _battery(call: _RandomCall, target: Target, seed: int, through: str) -> None:
    _own_code(call.func, call.allow)
    if through == "rng":
        call.rng_stage(seed)
        call.remember()
        return
    x = call.draw(seed) if through == "variance" else call.rng_stage(seed)
    call.remember()
    _assess(x, target, call.desc, through)
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
    _battery(call, _target(shape, std, mean, scale, mode, distribution), seed, "variance")


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
    _battery(call, scaling_target(shape, scale, mode, distribution), seed, "all")


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
    _battery(call, scaling_target(shape, scale, mode, distribution), seed, "all")


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


# --------------------------------------------------------------------------------------------
# Deterministic answers: fans, standardize, pre-activation variance, saturation
# --------------------------------------------------------------------------------------------


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
