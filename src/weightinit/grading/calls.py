"""Calling the student's function: its own code first, then the call, then what it returned.

Stage 1 (:func:`check_own_code`, :func:`_own_code`) fails a function that is, wraps or calls
weightinit's implementation. :func:`_describe_call` writes the call as the student would read
it, and :func:`_call` runs it, turning any exception into a one-line message. Stage 2
(:func:`_as_array`, :func:`_array_stage`) checks what came back: an ndarray of the shape asked
for (:func:`_shape_hint` names a transposed, reordered or flattened shape), float64, finite.
"""

from __future__ import annotations

import functools
import math
import numbers
import types
from collections.abc import Callable, Sequence

import numpy as np

from ._common import _ASKED_SHAPES, _Failure, _name, _public
from .remote import Remote

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
    if isinstance(func, Remote):  # graded by the judge: the notebook's source decides
        found = func.own_code_findings(tuple(allow))
        if found:
            what = ("uses weightinit's own implementation instead of yours" if "weightinit"
                    in found[0] else "cannot be graded as your own code")
            raise _Failure(
                f"{_name(func)} {what}: {found[0]}\nThe exercise is to write it with numpy "
                "(and math); weightinit is there to compare with once yours works, in another "
                "notebook. Likely mistake: the library's implementation imported instead of "
                "written, or code that reaches outside the exercise."
            )
        return
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


def _sibling(func: Callable, name: str) -> Callable | None:
    """The student's function `name` beside `func`, or None: in the judge, a proxy to it in the
    kernel (a call fails if the student did not define it); in the student's own kernel, the
    function of that name in `func`'s module."""
    if isinstance(func, Remote):
        return func.sibling(name)
    namespace = getattr(func, "__globals__", None)
    found = namespace.get(name) if isinstance(namespace, dict) else None
    return found if callable(found) else None


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
