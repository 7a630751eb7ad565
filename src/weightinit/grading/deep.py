"""ex05's checks: PyTorch's gains, and the signal and the gradient through a deep network.

:func:`check_gain` compares with :func:`weightinit.initializers.calculate_gain`.
:func:`check_forward_stds` and :func:`check_backward_stds` draw a network
(:func:`_deep_problem`), give the student's function copies, and compare its per-layer standard
deviations with :mod:`weightinit.propagation` on the same arrays to float64 precision
(``STD_RTOL``); each named mistake is recognised by recomputing it (:func:`_forward_variants`,
:func:`_backward_variants`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from .. import initializers as _initializers
from ..simulation import propagation
from ._common import _ASKED_ANSWERS, _Failure, _fmt, _name, _public
from .arithmetic import _as_number, _close
from .calls import _call, _describe_call, _own_code
from .pictures import layers_picture

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



def _gain_variants(activation: str, param: float | None) -> dict[str, float]:
    """What each named mistake returns for ``calculate_gain(activation, param)``."""
    from ..activations import SELU_SCALE

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
    from ..activations import get_activation

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
    from ..activations import get_activation

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
    from ..activations import get_activation

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
    what = "std of dL/dz per layer" if backward else "std of h per layer"
    raise _Failure("\n".join(lines), layers_picture(got, right, what))


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
