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

Deterministic answers are compared with a reference instead: the fans, ``standardize``, the
pre-activation variance, PyTorch's gains (:func:`check_gain`), and ex05's per-layer standard
deviations of a deep network (:func:`check_forward_stds`, :func:`check_backward_stds`), which the
checker computes with :mod:`weightinit.propagation` on the very arrays it gives the student.
There no sampling band is needed: a correct answer differs from the reference only by
floating-point rounding, so the tolerance is a float64 one (``STD_RTOL = 1e-9``, measured against
correct implementations that round differently), and each named mistake is recognised by
recomputing it. ex06's ``init_mlp`` is checked layer by layer with the random-array stages
(:func:`check_init_mlp_variance` and its siblings), and by training its parameters for a few
steps with :mod:`weightinit.training` to see that zeros never break the symmetry between units
(:func:`check_init_mlp_symmetry`).

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

from . import datasets, propagation, stats, training
from . import initializers as _initializers
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
    "GAIN_NAMES",
    "DEEP_ACTIVATIONS",
    "STD_RTOL",
    "STD_ATOL_OF_RMS",
    "check_gain",
    "check_forward_stds",
    "check_backward_stds",
    "MLP_SCHEMES",
    "mlp_target",
    "check_init_mlp_shapes",
    "check_init_mlp_biases",
    "check_init_mlp_variance",
    "check_init_mlp_rng",
    "check_init_mlp_symmetry",
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
        elif isinstance(a, (list, tuple)) and a and all(isinstance(e, np.ndarray) for e in a):
            shapes = ", ".join(str(e.shape) for e in a)
            shown.append(f"[{len(a)} arrays of shapes {shapes}]")
        else:
            shown.append(repr(a))
    if rng_arg:
        shown.append("rng")
    return f"{_name(func)}({', '.join(shown)})"


def _call(func: Callable, args: Sequence, desc: str,
          extra_hint: Callable[[Exception], str] | None = None):
    """Call the student's function; any exception becomes a one-line message (`extra_hint`, if
    given, adds a check-specific hint for an exception)."""
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
        if extra_hint is not None:
            hint = extra_hint(exc) or hint
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


# --------------------------------------------------------------------------------------------
# ex05: gains, and the signal and the gradient through a deep network
# --------------------------------------------------------------------------------------------

#: The names ex05's ``calculate_gain`` knows: PyTorch's table (``torch.nn.init.calculate_gain``).
GAIN_NAMES = tuple(name for name in _initializers.NONLINEARITIES if name != "identity")

#: The activations ex05's ``forward_stds`` and ``backward_stds`` support.
DEEP_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")

#: Agreement asked of a deterministic per-layer std: relative, plus an absolute term relative to
#: the root mean square of the layer's values (see :func:`check_forward_stds`).
STD_RTOL = 1e-9
STD_ATOL_OF_RMS = 1e-12

#: A named mistake is recognised when it agrees with the answer to this relative precision (the
#: variants are computed here, in their own rounding, so they are matched more loosely than the
#: reference; a variant within 10 * STD_RTOL of the reference is never named).
_VARIANT_RTOL = 1e-6

#: Answers given so far in this kernel, per function: an answer that returns one of them for
#: other inputs was hard-coded for an earlier (visible) test.
_ASKED_ANSWERS: dict[str, list[list[float]]] = {}


def _gain_variants(activation: str, param: float | None) -> dict[str, float]:
    """What each named mistake returns for ``calculate_gain(activation, param)``."""
    from .activations import SELU_SCALE

    right = _initializers.calculate_gain(activation, param)
    out: dict[str, float] = {}
    if activation == "relu":
        out["He's variance factor 2 instead of its square root: the gain multiplies the "
            "standard deviation, so relu's gain is sqrt(2)"] = 2.0
        out["the gain inverted, 1/sqrt(2)"] = 1.0 / right
        out["relu treated as linear (gain 1)"] = 1.0
    elif activation == "tanh":
        out["tanh treated as linear (gain 1); PyTorch's table gives tanh 5/3"] = 1.0
        out["the gain inverted, 3/5 instead of 5/3"] = 3.0 / 5.0
        out["the gain squared, (5/3)**2: the gain multiplies the standard deviation"] = right**2
    elif activation == "leaky_relu":
        a = 0.01 if param is None else float(param)
        out["a where a**2 is meant: the gain is sqrt(2 / (1 + a**2))"] = math.sqrt(2.0 / (1.0 + a))
        out["the square root left out: 2 / (1 + a**2) is the variance factor, the gain its "
            "square root"] = 2.0 / (1.0 + a * a)
        out["the negative slope left out: sqrt(2) is relu's gain; leaky_relu's is "
            "sqrt(2 / (1 + a**2)) with a = param, 0.01 when param is None"] = math.sqrt(2.0)
        if param is not None:
            out["param ignored: the default slope 0.01 used instead of the one given"] = (
                math.sqrt(2.0 / (1.0 + 0.01**2))
            )
    elif activation == "selu":
        out["gain 1 (LeCun's normal, which SELU networks use); PyTorch's table gives selu 3/4"] = (
            1.0
        )
        out["the SELU scale lambda = 1.0507 as the gain; PyTorch's table gives selu 3/4"] = (
            SELU_SCALE
        )
    elif activation == "sigmoid":
        out["1 / sigmoid'(0) = 4; PyTorch's table gives sigmoid a gain of 1"] = 4.0
        out["sigmoid'(0) = 1/4; PyTorch's table gives sigmoid a gain of 1"] = 0.25
    return {m: v for m, v in out.items() if not _close(v, right)}


@_public
def check_gain(func: Callable, activation: str, param: float | None = None) -> None:
    """``func(activation[, param])`` returns PyTorch's recommended gain for `activation`.

    The reference is :func:`weightinit.initializers.calculate_gain` (1 for linear, conv* and
    sigmoid; 5/3 for tanh; sqrt(2) for relu; sqrt(2 / (1 + a**2)) for leaky_relu, a = 0.01 by
    default; 3/4 for selu), compared to 1e-9 relative: the values are exact constants, which any
    float64 expression of them (``5 / 3``, ``math.sqrt(2)``) meets to 1e-15. Called without
    `param` when it is None, to test the default. A failure names the mistake, or a rounded
    constant (within 0.1%).
    """
    _own_code(func)
    if activation not in GAIN_NAMES:
        raise ValueError(f"activation must be one of {GAIN_NAMES}, got {activation!r}")
    args = (activation,) if param is None else (activation, param)
    desc = _describe_call(func, args, rng_arg=False)

    def hint(exc: Exception) -> str:
        if isinstance(exc, (KeyError, ValueError)) and activation in str(exc):
            names = ", ".join(GAIN_NAMES)
            return f" {_name(func)} must know every name of PyTorch's table: {names}."
        return ""

    got = _as_number(_call(func, args, desc, hint), desc)
    right = _initializers.calculate_gain(activation, param)
    if _close(got, right):
        return
    lines = [f"{desc} returned {got:.10g}; expected {right:.10g}."]
    named = [m for m, v in _gain_variants(activation, param).items() if _close(got, v)]
    if named:
        lines.append("Likely mistake: " + "; or ".join(named) + ".")
    elif abs(got - right) <= 1e-3 * abs(right):
        lines.append(
            "That is the gain rounded: write the exact expression (5 / 3, math.sqrt(2), "
            "math.sqrt(2 / (1 + a**2))) rather than decimals, as PyTorch does."
        )
    raise _Failure("\n".join(lines))


def _deep_problem(layer_sizes: Sequence[int], batch: int, weight_std: float | None,
                  gain: float | None, seed: int
                  ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """x ~ N(0, 1) of shape (batch, n_0); W_l ~ N(0, s_l**2) of shape (n_{l-1}, n_l), with
    s_l = weight_std, or gain / sqrt(n_{l-1}); grad_output ~ N(0, 1) of shape (batch, n_L)."""
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1 or batch < 2:
        raise ValueError(f"need at least two positive widths and batch >= 2, got {layer_sizes}")
    if (weight_std is None) == (gain is None):
        raise ValueError("give exactly one of weight_std= and gain=")
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((batch, sizes[0]))
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        s = float(weight_std) if weight_std is not None else float(gain) / math.sqrt(n_in)
        weights.append(gen.normal(0.0, s, size=(n_in, n_out)))
    return x, weights, gen.standard_normal((batch, sizes[-1]))


def _deep_forward(x: np.ndarray, weights: Sequence[np.ndarray], act, transpose: bool = False
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """zs = [z_1..z_L] and hs = [h_0 = x, h_1..h_L]."""
    zs, hs = [], [x]
    for w in weights:
        zs.append(hs[-1] @ (w.T if transpose else w))
        hs.append(act.forward(zs[-1]))
    return zs, hs


def _deep_backward(weights: Sequence[np.ndarray], g: np.ndarray,
                   slope: Callable[[int], np.ndarray], down: str = "dz", transpose: bool = True
                   ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Back-propagation with a pluggable slope (``slope(i)`` multiplies dL/dh of layer i + 1) and
    what is passed down (``"dz"``, right, or ``"dh"``). Returns, per layer, dL/dz_l, dL/dh_l and
    the gradient passed to the layer's input, dL/dh_{l-1}."""
    depth = len(weights)
    dzs: list = [None] * depth
    dhs: list = [None] * depth
    downs: list = [None] * depth
    dh = g
    for i in range(depth - 1, -1, -1):
        dz = dh * slope(i)
        dzs[i], dhs[i] = dz, dh
        w = weights[i].T if transpose else weights[i]
        dh = (dz if down == "dz" else dh) @ w
        downs[i] = dh
    return dzs, dhs, downs


def _std_list(values: Sequence[np.ndarray], how: str = "std") -> list[float]:
    if how == "var":
        return [float(np.var(v)) for v in values]
    if how == "ddof1":
        return [float(np.std(v, ddof=1)) for v in values]
    if how == "rms":
        return [float(np.sqrt(np.mean(v * v))) for v in values]
    if how == "units":
        return [float(np.std(v, axis=0).mean()) for v in values]
    return [float(np.std(v)) for v in values]


def _forward_variants(x, weights, act) -> dict[str, list[float]]:
    from .activations import get_activation

    zs, hs = _deep_forward(x, weights, act)
    outs = hs[1:]
    right = _std_list(outs)
    lin = _deep_forward(x, weights, get_activation("linear"))[1][1:]
    out = {
        "the std of the pre-activations z_l = h_{l-1} @ W_l instead of the outputs "
        "h_l = act(z_l)": _std_list(zs),
        "the activation left out: every layer computed as if linear": _std_list(lin),
        "the activation left out of the last layer; here every layer applies it, the last one "
        "included": _std_list([*outs[:-1], zs[-1]]),
        "the variance (np.var) instead of the standard deviation": _std_list(outs, "var"),
        "the list in reverse order, last layer first": right[::-1],
        "the std of each layer's input h_{l-1} instead of its output h_l (std(x) first, the "
        "last layer's output missing)": _std_list(hs[:-1]),
        "np.std(h, ddof=1), the sample standard deviation; the exercise uses numpy's default "
        "ddof=0": _std_list(outs, "ddof1"),
        "the root mean square sqrt(mean(h**2)), which keeps the mean in; the standard deviation "
        "subtracts it": _std_list(outs, "rms"),
        "the mean of the per-unit stds, np.std(h, axis=0).mean(), instead of the std over all "
        "entries of h_l": _std_list(outs, "units"),
    }
    if all(w.shape[0] == w.shape[1] for w in weights):
        out["W_l.T instead of W_l (h @ W.T, or W @ h in the lecture's notation): a weight of "
            "shape (n_{l-1}, n_l) acts as h @ W"] = _std_list(
                _deep_forward(x, weights, act, transpose=True)[1][1:]
            )
    return out


def _backward_variants(x, weights, act, g) -> dict[str, list[float]]:
    from .activations import get_activation

    zs, hs = _deep_forward(x, weights, act)
    dzs, dhs, downs = _deep_backward(weights, g, lambda i: act.derivative(zs[i]))
    right = _std_list(dzs)
    lin_zs = _deep_forward(x, weights, get_activation("linear"))[0]
    out = {
        "the list in reverse order: the backward pass meets layer L first, so store each std "
        "at its layer's index (or reverse the list at the end)": right[::-1],
        "the activation's derivative left out: dL/dz_l = dL/dh_l * act'(z_l)": _std_list(
            _deep_backward(weights, g, lambda i: 1.0)[0]
        ),
        "the derivative taken at h_l = act(z_l) instead of at z_l: act'(h_l) where act'(z_l) is "
        "meant (for tanh, 1 - h**2 is act'(z) written with h; 1 - tanh(h)**2 is not)": _std_list(
            _deep_backward(weights, g, lambda i: act.derivative(hs[i + 1]))[0]
        ),
        "the activation's value act(z_l) multiplied in where its slope act'(z_l) is meant":
            _std_list(_deep_backward(weights, g, lambda i: act.forward(zs[i]))[0]),
        "the std of dL/dh_l, before the multiplication by act'(z_l), instead of dL/dz_l":
            _std_list(dhs),
        "the std of dL/dh_{l-1} = dL/dz_l @ W_l.T, the gradient passed down to the layer's "
        "input, instead of dL/dz_l": _std_list(downs),
        "the derivative used for the recorded std but not passed down: dL/dh_{l-1} is "
        "dL/dz_l @ W_l.T, not dL/dh_l @ W_l.T": _std_list(
            _deep_backward(weights, g, lambda i: act.derivative(zs[i]), down="dh")[0]
        ),
        "the forward pass without the activation (h_l = z_l), so act'(z_l) is taken at the "
        "wrong z_l": _std_list(
            _deep_backward(weights, g, lambda i: act.derivative(lin_zs[i]))[0]
        ),
        "the variance (np.var) instead of the standard deviation": _std_list(dzs, "var"),
        "np.std(dz, ddof=1), the sample standard deviation; the exercise uses numpy's default "
        "ddof=0": _std_list(dzs, "ddof1"),
    }
    if all(w.shape[0] == w.shape[1] for w in weights):
        out["W_l where W_l.T is meant: the gradient passes down as dL/dz_l @ W_l.T"] = _std_list(
            _deep_backward(weights, g, lambda i: act.derivative(zs[i]), transpose=False)[0]
        )
    return out


def _stds_close(got: Sequence[float], want: Sequence[float], rtol: float,
                scale: Sequence[float] | None = None) -> bool:
    if len(got) != len(want):
        return False
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        tol = rtol * abs(b) + (STD_ATOL_OF_RMS * scale[i] if scale is not None else 0.0)
        if not abs(a - b) <= max(tol, 1e-300):
            return False
    return True


def _as_std_list(result: object, desc: str) -> list[float]:
    """The student's answer as a list of floats, or a message saying what it is instead."""
    if result is None:
        raise _Failure(f"{desc} returned None. Likely mistake: no `return` of the list.")
    if isinstance(result, np.ndarray):
        if result.ndim != 1:
            raise _Failure(
                f"{desc} returned an array of shape {result.shape}; expected a list with one "
                "number per layer (np.std(h) with no axis gives one number for a whole layer)."
            )
        result = list(result)
    if not isinstance(result, (list, tuple)):
        raise _Failure(
            f"{desc} returned {type(result).__name__}; expected a list with one float per layer."
        )
    values = []
    for i, v in enumerate(result):
        if isinstance(v, np.ndarray) and v.ndim == 0:
            v = v[()]
        if isinstance(v, np.ndarray):
            raise _Failure(
                f"{desc}: entry {i} of the list is an array of shape {v.shape}, not a number. "
                "Likely mistake: np.std(h, axis=0) (one std per unit); the std of a layer is over "
                "all its entries, np.std(h)."
            )
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Real, np.floating)):
            raise _Failure(
                f"{desc}: entry {i} of the list is {v!r} of type {type(v).__name__}; expected a "
                "float."
            )
        values.append(float(v))
    bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
    if bad:
        raise _Failure(
            f"{desc}: entry {bad[0]} of the list is {values[bad[0]]}. Likely mistake: an "
            "overflow, e.g. tanh written with np.exp(2 * z) for a large z; np.tanh, "
            "1 / (1 + np.exp(-z)) and scipy.special.expit stay finite."
        )
    return values


def _fmt_list(values: Sequence[float], digits: int = 4) -> str:
    return "[" + ", ".join(f"{float(v):.{digits}g}" for v in values) + "]"


def _length_hint(got: list[float], right: list[float], extra: dict[str, list[float]]) -> str:
    depth = len(right)
    for name, values in extra.items():
        if _stds_close(got, values, _VARIANT_RTOL):
            return f" Likely mistake: {name}."
    if len(got) == depth - 1:
        if _stds_close(got, right[:-1], _VARIANT_RTOL):
            return " Likely mistake: the last layer left out (a loop that stops one layer early)."
        if _stds_close(got, right[1:], _VARIANT_RTOL):
            return " Likely mistake: the first layer left out (weights[1:], or range(1, L))."
        return " One value short: does the loop skip a layer?"
    if len(got) == depth + 1:
        return " One value too many: the list has one entry per layer, layer 1 to layer L."
    return ""


def _inputs_changed(given: dict[str, object], kept: dict[str, object]) -> str | None:
    """What the student's function changed in place among its inputs, if anything."""
    for name, original in kept.items():
        now = given[name]
        if isinstance(original, list):
            if not isinstance(now, list) or len(now) != len(original):
                return f"the length of the list {name} (.pop(), .append() or del)"
            for i, (a, b) in enumerate(zip(now, original, strict=True)):
                if isinstance(a, np.ndarray) and a.shape == b.shape and np.array_equal(a, b):
                    continue
                if any(isinstance(a, np.ndarray) and a.shape == c.shape and np.array_equal(a, c)
                       for c in original):
                    return (
                        f"the order of the list {name} (weights.reverse() reverses the caller's "
                        "list; use reversed(weights) or weights[::-1])"
                    )
                return f"the values of {name}[{i}]"
        elif not np.array_equal(now, original):
            return f"the values of {name}"
    return None


def _deep_hint(fname: str, backward: bool) -> Callable[[Exception], str]:
    def hint(exc: Exception) -> str:
        text = str(exc)
        if isinstance(exc, KeyError) or (
            isinstance(exc, ValueError) and any(a in text for a in DEEP_ACTIVATIONS)
        ):
            return f" {fname} must support the activations {', '.join(DEEP_ACTIVATIONS)}."
        if isinstance(exc, ValueError) and ("matmul" in text or "aligned" in text):
            if backward:
                return (
                    " Likely mistake: W_l where W_l.T is meant. The gradient passes down as "
                    "dL/dh_{l-1} = dL/dz_l @ W_l.T, shapes (batch, n_l) @ (n_l, n_{l-1}); the "
                    "forward pass is h_{l-1} @ W_l with W_l of shape (n_{l-1}, n_l)."
                )
            return (
                " Likely mistake: the weight's orientation. W_l has shape (n_{l-1}, n_l) and "
                "acts as z_l = h_{l-1} @ W_l (not W_l @ h, not h @ W_l.T)."
            )
        if isinstance(exc, ValueError) and "broadcast" in text:
            return (
                " Likely mistake: a gradient paired with another layer's z: dL/dz_l = dL/dh_l * "
                "act'(z_l) uses the z_l of the same layer (an index off by one?)."
            )
        return ""

    return hint


def _check_deep(func: Callable, backward: bool, activation: str, layer_sizes: Sequence[int],
                weight_std: float | None, gain: float | None, batch: int, seed: int) -> None:
    from .activations import get_activation

    _own_code(func)
    if activation not in DEEP_ACTIVATIONS:
        raise ValueError(f"activation must be one of {DEEP_ACTIVATIONS}, got {activation!r}")
    act = get_activation(activation)
    x, weights, g = _deep_problem(layer_sizes, batch, weight_std, gain, seed)
    kept: dict[str, object] = {"x": x, "weights": weights}
    if backward:
        kept["grad_output"] = g
    given = {k: ([w.copy() for w in v] if isinstance(v, list) else v.copy())
             for k, v in kept.items()}
    args = tuple(given[k] for k in ("x", "weights")) + (activation,)
    if backward:
        args = (*args, given["grad_output"])
    shapes = ", ".join(str(w.shape) for w in weights)
    desc = (
        f"{_name(func)}(x, weights, {activation!r}{', grad_output' if backward else ''}) with x "
        f"of shape {x.shape} and weights of shapes {shapes}"
    )
    with np.errstate(all="ignore"):
        result = _call(func, args, desc, _deep_hint(_name(func), backward))
    changed = _inputs_changed(given, kept)
    if changed:
        raise _Failure(
            f"{desc} changed {changed} in place. Likely mistake: in-place arithmetic "
            "on the caller's arrays (x -= ..., W *= ..., grad_output *= ..., np.maximum(x, 0, "
            "out=x)) or weights.reverse(); compute new arrays (h = h @ W) and loop with "
            "reversed(...)."
        )
    got = _as_std_list(result, desc)
    with np.errstate(all="ignore"):
        if backward:
            right = propagation.backward_stds(x, weights, act, g)
            zs = _deep_forward(x, weights, act)[0]
            dzs, _, downs = _deep_backward(weights, g, lambda i: act.derivative(zs[i]))
            scale = _std_list(dzs, "rms")
            variants = _backward_variants(x, weights, act, g)
            extra = {
                "the gradient with respect to the input x, dL/dh_0, included: the list holds "
                "dL/dz_1, ..., dL/dz_L": [*right, float(np.std(downs[0]))],
                "the gradient with respect to the input x, dL/dh_0, included first: the list "
                "holds dL/dz_1, ..., dL/dz_L": [float(np.std(downs[0])), *right],
                "grad_output = dL/dh_L included: the list holds dL/dz_1, ..., dL/dz_L":
                    [*right, float(np.std(g))],
            }
            reference = "weightinit.propagation.backward_stds"
            what = "on the same x, weights and grad_output"
        else:
            right = propagation.forward_stds(x, weights, act)
            hs = _deep_forward(x, weights, act)[1]
            scale = _std_list(hs[1:], "rms")
            variants = _forward_variants(x, weights, act)
            extra = {
                "the input layer included: std(x) = std(h_0) first; the list holds h_1, ..., h_L":
                    [float(np.std(x)), *right],
            }
            reference = "weightinit.propagation.forward_stds"
            what = "on the same x and weights"
    key = _name(func) + (".backward" if backward else ".forward")
    earlier = _ASKED_ANSWERS.setdefault(key, [])
    depth = len(right)
    if len(got) != depth:
        raise _Failure(
            f"{desc} returned {len(got)} values; expected {depth}, one per layer (layer 1 to "
            f"layer {depth})." + _length_hint(got, right, extra)
        )
    if _stds_close(got, right, STD_RTOL, scale):
        if right not in earlier:
            earlier.append(right)
        return
    rel = [abs(a - b) / abs(b) if b else math.inf for a, b in zip(got, right, strict=True)]
    first = next(i for i, (a, b) in enumerate(zip(got, right, strict=True))
                 if not _stds_close([a], [b], STD_RTOL, [scale[i]]))
    digits = 4 if max(rel) > 1e-3 else 10  # enough digits to see the difference
    lines = [
        f"{desc} returned {_fmt_list(got, digits)}; expected {_fmt_list(right, digits)} "
        f"({reference} {what}; "
        f"a correct answer agrees to {STD_RTOL:g} relative, float64 rounding). The first layer "
        f"that differs is layer {first + 1}, by {_fmt(rel[first])} relative."
    ]
    named = [
        name for name, values in variants.items()
        if _stds_close(got, values, _VARIANT_RTOL)
        and not _stds_close(values, right, 10 * STD_RTOL)
    ]
    if named:
        lines.append("Likely mistake: " + "; or ".join(named) + ".")
    elif any(_stds_close(got, e, STD_RTOL) for e in earlier if e != right):
        lines.append(
            "That is the answer of an earlier test, for other inputs: is it hard-coded for the "
            "visible test?"
        )
    elif max(rel) < 1e-4:
        lines.append(
            "Your numbers are close but not equal to float64 precision: float32 arithmetic "
            "somewhere, or a slightly different formula for the standard deviation?"
        )
    raise _Failure("\n".join(lines))


@_public
def check_forward_stds(func: Callable, activation: str, layer_sizes: Sequence[int], *,
                       weight_std: float | None = None, gain: float | None = None,
                       batch: int = 200, seed: int = 0) -> None:
    """``func(x, weights, activation)`` returns ``[std(h_1), ..., std(h_L)]``.

    The checker draws ``x ~ N(0, 1)`` of shape ``(batch, n_0)`` and ``W_l`` of shape
    ``(n_{l-1}, n_l)`` from N(0, weight_std**2) or N(0, gain**2 / n_{l-1}) with ``seed``, gives
    the student's function copies, and compares its list with
    :func:`weightinit.propagation.forward_stds` on the same arrays.

    Why no sampling band: given x and the weights the answer is a deterministic number per
    layer, so a correct implementation differs from the reference only by floating-point
    rounding: a matrix product summed in another order (einsum, a loop over rows), another
    formula for the activation (``1 / (1 + exp(-z))`` for ``expit``), another two-pass std. Each
    contributes a relative error of a few ``eps = 2.2e-16`` per operation, grown at most by the
    width and the depth; ``tests/test_checks.py`` measures the worst case over correct variants
    on every configuration the notebooks use (below 1e-11), so ``STD_RTOL = 1e-9`` leaves a
    margin of 100 or more. The absolute term ``STD_ATOL_OF_RMS * rms(h_l)`` covers a layer
    whose std is tiny next to its mean (a sigmoid stuck near 0.5), where rounding of the values
    themselves, ``eps * |h|``, is what limits the std. Every named mistake moves some layer's
    std by more than 1e-7 relative on every configuration the notebooks use (also tested; most
    by 1e-5 or more), a hundred times the tolerance.

    Also fails when the function changes x or the weights in place, returns the wrong number
    of values (the input layer included, a layer skipped), or returns an earlier test's answer.
    """
    _check_deep(func, False, activation, layer_sizes, weight_std, gain, batch, seed)


@_public
def check_backward_stds(func: Callable, activation: str, layer_sizes: Sequence[int], *,
                        weight_std: float | None = None, gain: float | None = None,
                        batch: int = 200, seed: int = 0) -> None:
    """``func(x, weights, activation, grad_output)`` returns ``[std(dL/dz_1), ...,
    std(dL/dz_L)]``, layer 1 first.

    As :func:`check_forward_stds`, with ``grad_output = dL/dh_L ~ N(0, 1)`` of shape
    ``(batch, n_L)`` drawn after the weights, against
    :func:`weightinit.propagation.backward_stds`. The named mistakes include the reversed list,
    the derivative left out or taken at h instead of z, W where W.T is meant (by value on square
    layers, by the shape error otherwise), and the std of dL/dh instead of dL/dz.
    """
    _check_deep(func, True, activation, layer_sizes, weight_std, gain, batch, seed)


# --------------------------------------------------------------------------------------------
# ex06: init_mlp, its schemes, and the symmetry that zeros never break
# --------------------------------------------------------------------------------------------

#: ex06's schemes (the same as :data:`weightinit.training.SCHEMES`).
MLP_SCHEMES = ("zeros", "small", "large", "xavier", "he")

_SCHEME_LAW = {
    "small": "N(0, 0.01**2)",
    "large": "N(0, 10**2)",
    "xavier": "N(0, 2 / (n_in + n_out))",
    "he": "N(0, 2 / n_in)",
}


def _scheme_var(scheme: str, n_in: float, n_out: float) -> float:
    if scheme == "small":
        return training.SMALL_STD**2
    if scheme == "large":
        return training.LARGE_STD**2
    if scheme == "xavier":
        return 2.0 / (n_in + n_out)
    if scheme == "he":
        return 2.0 / n_in
    raise ValueError(f"scheme must be one of {MLP_SCHEMES[1:]}, got {scheme!r}")


def mlp_target(layer_sizes: Sequence[int], layer: int, scheme: str) -> Target:
    """The target of layer `layer` (1-based) of ``init_mlp(layer_sizes, scheme, rng)`` and its
    named mistakes (variance ratios), for a random scheme.

    The mistakes: every other scheme's rule; for "he", 1/n_in (LeCun's), the next layer's
    width n_out (the forum's "nodes in the next layer"), (n_in + n_out)/2; for "xavier",
    1/(n_in + n_out) (the factor 2 dropped), 1/n_in, 2/n_out; for both, the input width n_0 used
    for every layer, the variance used as the std, no scaling; for "small" and "large", the
    number used as a variance instead of a std, the std squared, and no scaling.
    """
    sizes = [int(n) for n in layer_sizes]
    n_in, n_out = sizes[layer - 1], sizes[layer]
    var = _scheme_var(scheme, n_in, n_out)
    law = (
        f"{_SCHEME_LAW[scheme]} with n_in = {n_in}, n_out = {n_out}: variance {_fmt(var)}, "
        f"std {_fmt(math.sqrt(var))}"
    )
    mistakes: list[tuple[str, float]] = [
        (f"the {other!r} rule {_SCHEME_LAW[other]} where {scheme!r} is asked",
         _scheme_var(other, n_in, n_out) / var)
        for other in MLP_SCHEMES[1:]
        if other != scheme
    ]
    if scheme == "he":
        mistakes += [
            ("1/n_in where He uses 2/n_in (LeCun's variance, not He's)", 0.5),
            ("n_out, the number of units in the next layer, where He uses n_in, the number of "
             "inputs of each unit (fan_out where fan_in is meant)", n_in / n_out),
            ("(n_in + n_out)/2 where He uses n_in (fan_avg where fan_in is meant)",
             2.0 * n_in / (n_in + n_out)),
        ]
    elif scheme == "xavier":
        mistakes += [
            ("1/(n_in + n_out), Glorot's factor 2 dropped", 0.5),
            ("1/n_in (LeCun's variance) where Glorot averages the fans",
             (n_in + n_out) / (2 * n_in)),
            ("2/n_out, only the fan-out", (n_in + n_out) / n_out),
        ]
    if scheme == "he" and layer > 1:
        mistakes.append(
            ("the input width n_0 as every layer's fan-in, instead of the layer's own n_in",
             n_in / sizes[0])
        )
    if scheme in ("xavier", "he"):
        mistakes += [
            ("the variance used as the standard deviation (std = 2/n, not sqrt(2/n))", var),
            ("no scaling at all (the unit variance of standard_normal)", 1.0 / var),
        ]
    else:
        std = math.sqrt(var)
        mistakes += [
            (f"{_fmt(std)} used as the variance (rng.normal's second argument is the std)",
             std / var),
            (f"the variance used as the std ({_fmt(var)} instead of {_fmt(std)})", var),
            ("no scaling at all (the unit variance of standard_normal)", 1.0 / var),
        ]
    kept: list[tuple[str, float]] = []
    for m, r in mistakes:
        if abs(math.log(r)) > math.log(1.01) and not any(
            abs(math.log(r / r2)) <= math.log(1.01) for _, r2 in kept
        ):
            kept.append((m, r))
    return Target(law=law, std=math.sqrt(var), family="normal", mistakes=tuple(kept))


def _mlp_sizes(layer_sizes: Sequence[int]) -> list[int]:
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layer_sizes must hold at least two positive widths, got {layer_sizes}")
    return sizes


def _as_params(result: object, sizes: list[int], desc: str, key: str
               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The student's parameters as a list of float64 (W, b) copies, or a message naming what
    was returned instead."""
    depth = len(sizes) - 1
    if result is None:
        raise _Failure(f"{desc} returned None. Likely mistake: no `return params`.")
    if isinstance(result, dict):
        raise _Failure(
            f"{desc} returned a dict; expected a list of (W, b) pairs, one per layer, e.g. "
            "params.append((W, b)) in the loop over layers."
        )
    if isinstance(result, np.ndarray) or not isinstance(result, (list, tuple)):
        raise _Failure(
            f"{desc} returned {type(result).__name__}; expected a list of (W, b) pairs, one per "
            "layer."
        )
    if (
        len(result) == 2
        and all(isinstance(part, (list, tuple)) and len(part) == depth for part in result)
        and all(isinstance(a, np.ndarray) for part in result for a in part)
        and all(a.ndim == 2 for a in result[0])
        and all(a.ndim == 1 for a in result[1])
    ):
        raise _Failure(
            f"{desc} returned two lists (the weights, then the biases); expected one list of "
            "(W, b) pairs, one per layer: list(zip(weights, biases))."
        )
    if len(result) != depth:
        hint = ""
        if len(result) == depth + 1:
            hint = (
                f" Likely mistake: one pair per width. {len(sizes)} widths make {depth} layers: "
                "layer l maps n_{l-1} inputs to n_l units, for l = 1..L."
            )
        elif len(result) == depth - 1:
            hint = " Likely mistake: the loop over layers stops one layer early (or starts late)."
        items = f"{len(result)} item" + ("" if len(result) == 1 else "s")
        raise _Failure(
            f"{desc} returned {items}; expected {depth}, one (W, b) pair per layer for "
            f"layer_sizes {sizes}.{hint}"
        )
    params = []
    for i, pair in enumerate(result):
        n_in, n_out = sizes[i], sizes[i + 1]
        where = f"{desc}, layer {i + 1}"
        if isinstance(pair, np.ndarray):
            raise _Failure(
                f"{where}: got a bare array of shape {pair.shape}; expected a pair (W, b), with "
                f"b = np.zeros({n_out})."
            )
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _Failure(
                f"{where}: got {type(pair).__name__}; expected a pair (W, b), a tuple of two "
                "arrays."
            )
        w = _as_array(pair[0], f"{where}'s W")
        if w.shape != (n_in, n_out):
            asked_before = [s for s in _ASKED_SHAPES.get(key, []) if s != (n_in, n_out)]
            raise _Failure(
                f"{where}: W has shape {w.shape}; expected (n_{{l-1}}, n_l) = ({n_in}, {n_out})."
                + _shape_hint(w.shape, (n_in, n_out), asked_before)
            )
        w = _array_stage(w, (n_in, n_out), f"{where}'s W", key)
        b_raw = pair[1]
        if not isinstance(b_raw, np.ndarray):
            raise _Failure(
                f"{where}'s b is {type(b_raw).__name__}; expected a float64 array of shape "
                f"({n_out},): np.zeros({n_out})."
            )
        b = np.array(b_raw, copy=True)
        if b.shape != (n_out,):
            if b.shape in ((n_out, 1), (1, n_out)):
                hint = f" b must be 1-D, np.zeros({n_out}), not a column or a row."
            elif b.shape == (n_in,):
                hint = (
                    " Likely mistake: one bias per input; a layer has one bias per unit, n_l = "
                    f"{n_out}."
                )
            else:
                hint = ""
            raise _Failure(f"{where}'s b has shape {b.shape}; expected ({n_out},).{hint}")
        if b.dtype != np.float64:
            raise _Failure(
                f"{where}'s b has dtype {b.dtype}; expected float64 (np.zeros(n) already is; an "
                "integer bias cannot take the fractional steps of gradient descent)."
            )
        if not np.all(np.isfinite(b)):
            raise _Failure(f"{where}'s b holds NaN or inf.")
        params.append((w, b))
    return params


def _mlp_call(func: Callable, sizes: list[int], scheme: str, seed: int
              ) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    given = list(sizes)
    desc = _describe_call(func, (given, scheme), rng_arg=True)
    key = _name(func) + " W"
    result = _call(func, (given, scheme, np.random.default_rng(seed)), desc)
    params = _as_params(result, sizes, desc, key)
    asked = _ASKED_SHAPES.setdefault(key, [])
    for w, _ in params:
        if w.shape not in asked:
            asked.append(w.shape)
    return params, desc


@_public
def check_init_mlp_shapes(func: Callable, layer_sizes: Sequence[int], scheme: str,
                          seed: int = 0) -> None:
    """``func(layer_sizes, scheme, rng)`` returns a list of ``(W, b)`` pairs, one per layer, W of
    shape ``(n_{l-1}, n_l)`` (not transposed) and b of shape ``(n_l,)``, float64 and finite; and
    another set of sizes gets its own shapes (an answer hard-coded for the visible test fails).
    """
    _own_code(func)
    sizes = _mlp_sizes(layer_sizes)
    _mlp_call(func, sizes, scheme, seed)
    _mlp_call(func, [n + 1 for n in sizes], scheme, seed + 1)


@_public
def check_init_mlp_biases(func: Callable, layer_sizes: Sequence[int], seed: int = 0) -> None:
    """Every scheme of ``func(layer_sizes, scheme, rng)`` starts every bias at exactly zero."""
    _own_code(func)
    sizes = _mlp_sizes(layer_sizes)
    for scheme in MLP_SCHEMES:
        params, desc = _mlp_call(func, sizes, scheme, seed)
        for i, (_, b) in enumerate(params, start=1):
            if not np.any(b):
                continue
            if np.ptp(b) == 0:
                what = (
                    f"every bias is {_fmt(b[0])}. Likely mistake: a constant bias (0.01 is an "
                    "old ReLU habit); here biases start at zero for every scheme"
                )
            else:
                what = (
                    f"the biases are random (std {_fmt(b.std())}). Likely mistake: biases drawn "
                    "like the weights; the random weights already make the units differ, so "
                    "biases start at zero for every scheme"
                )
            raise _Failure(f"{desc}: in layer {i}, {what}: b = np.zeros(n_l).")


@_public
def check_init_mlp_variance(func: Callable, layer_sizes: Sequence[int], scheme: str,
                            seed: int = 0) -> None:
    """Each layer's weights of ``func(layer_sizes, scheme, rng)`` follow the scheme.

    "zeros": every weight exactly 0. The random schemes, layer by layer: no pattern (constant,
    repeated rows or columns), mean 0 and variance equal to the scheme's (bands at ALPHA from
    the normal's sampling distribution: exact for the normal draws the exercise asks for, and
    conservative for draws with lighter tails, whose sample variance varies less), neighbours
    independent. A failure names the mistake whose variance ratio matches (:func:`mlp_target`).
    The rng checks are separate (:func:`check_init_mlp_rng`), so an answer that uses the global
    ``np.random`` still gets credit for the right variances.
    """
    _own_code(func)
    sizes = _mlp_sizes(layer_sizes)
    if scheme not in MLP_SCHEMES:
        raise ValueError(f"scheme must be one of {MLP_SCHEMES}, got {scheme!r}")
    params, desc = _mlp_call(func, sizes, scheme, seed)
    for i, (w, _) in enumerate(params, start=1):
        where = f"{desc}, layer {i}'s W {w.shape}"
        if scheme == "zeros":
            nonzero = int(np.count_nonzero(w))
            if nonzero:
                raise _Failure(
                    f"{where} has {nonzero} nonzero weights (largest |w| = "
                    f"{_fmt(np.abs(w).max())}); 'zeros' means every weight exactly 0. Likely "
                    "mistake: tiny random weights or a constant instead of np.zeros; the point "
                    "of the scheme is to show what happens when every unit starts the same."
                )
            continue
        target = mlp_target(sizes, i, scheme)
        _pattern_stage(w, 0.0, where)
        _mean_stage(w, target, where)
        _variance_stage(w, target, where)
        _independence_stage(w, 0.0, where)


@_public
def check_init_mlp_rng(func: Callable, layer_sizes: Sequence[int], scheme: str,
                       seed: int = 0) -> None:
    """``func(layer_sizes, scheme, rng)`` draws every number from `rng`: the same seed gives
    the same parameters, another seed others (except for "zeros"), and NumPy's global random
    state is neither read nor changed."""
    _own_code(func)
    sizes = _mlp_sizes(layer_sizes)
    desc = _describe_call(func, (sizes, scheme), rng_arg=True)

    def draw(s: int) -> np.ndarray:
        params, _ = _mlp_call(func, sizes, scheme, s)
        return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in params])

    _rng_stage(draw, desc, seed, random=scheme != "zeros")


@_public
def check_init_mlp_symmetry(func: Callable, layer_sizes: Sequence[int], hidden: str = "tanh",
                            epochs: int = 20, seed: int = 0) -> None:
    """Trained for a few steps, the "zeros" network keeps identical hidden units and the "he"
    network does not.

    ``func(layer_sizes, scheme, rng)``'s parameters (``layer_sizes`` from 2 inputs to 1 or 2
    outputs) are trained with :func:`weightinit.training.train` (full-batch gradient descent,
    learning rate 0.5, `epochs` steps) on :func:`weightinit.datasets.circles` (200 points), and
    :func:`weightinit.training.unit_spread` measures how different each hidden layer's units
    are. From zero weights every hidden unit of a layer computes the same value and receives the
    same gradient, so the spread stays exactly 0 (it is allowed 1e-12 of the parameters' scale,
    rounding); He's random weights make it positive from the start.
    """
    _own_code(func)
    sizes = _mlp_sizes(layer_sizes)
    if len(sizes) < 3 or sizes[0] != 2 or sizes[-1] not in (1, 2):
        raise ValueError(
            "layer_sizes must go from 2 inputs through hidden layers to 1 or 2 outputs, got "
            f"{sizes}"
        )
    X, y = datasets.circles(200, noise=0.05, rng=seed)
    for scheme in ("zeros", "he"):
        params, desc = _mlp_call(func, sizes, scheme, seed)
        before = training.unit_spread(params)
        with np.errstate(all="ignore"):
            result = training.train(X, y, params, hidden=hidden, lr=0.5, epochs=epochs)
        after = training.unit_spread(result.params)
        scale = max(1.0, max(float(np.abs(a).max()) for pair in result.params for a in pair))
        story = (
            f"after {epochs} steps of gradient descent on the circles data ({hidden} hidden "
            "units)"
        )
        if scheme == "zeros":
            for i, (s0, s1) in enumerate(zip(before, after, strict=True), start=1):
                if s1 > 1e-12 * scale:
                    start = (
                        f"They differ already before training (by {_fmt(s0)}): your 'zeros' "
                        "parameters are not all equal"
                        if s0 > 1e-12 * scale
                        else "They were equal at the start"
                    )
                    raise _Failure(
                        f"{desc}: {story}, the units of hidden layer {i} differ by up to "
                        f"{_fmt(s1)}; from zero weights they must stay identical (each unit "
                        f"computes the same value and gets the same gradient). {start}. Likely "
                        "mistake: the 'zeros' scheme draws or adds random numbers."
                    )
        else:
            for i, s1 in enumerate(after, start=1):
                if s1 == 0.0:
                    raise _Failure(
                        f"{desc}: {story}, the units of hidden layer {i} are still identical; "
                        "'he' must give every unit its own random weights. Likely mistake: one "
                        "random column repeated for every unit, or a constant."
                    )
