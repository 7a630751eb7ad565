"""ex06's checks: ``init_mlp``, its schemes, and the symmetry that zeros never break.

:func:`mlp_target` is a layer's target under each scheme of ``MLP_SCHEMES``. The checks read
the student's list of ``(W, b)`` pairs layer by layer (:func:`_as_params`) and run the
random-array stages on each weight matrix (:func:`check_init_mlp_shapes`,
:func:`check_init_mlp_biases`, :func:`check_init_mlp_variance`, :func:`check_init_mlp_rng`);
:func:`check_init_mlp_symmetry` trains the parameters a few steps with
:mod:`weightinit.training` to see that zeros keep every hidden unit identical.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..simulation import datasets, training
from ._common import _ASKED_SHAPES, _Failure, _fmt, _name, _public
from .calls import _array_stage, _as_array, _call, _describe_call, _own_code, _shape_hint
from .patterns import _independence_stage, _pattern_stage
from .pictures import layers_picture
from .randomness import _rng_stage
from .targets import Target, _mean_stage, _variance_stage

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


def _count_stage(count: int, sizes: list[int], desc: str, each: str, noun: str) -> None:
    """Fail unless `count` items came back for the layers of `sizes`, naming an off-by-one:
    `each` is what one layer has ("one (W, b) pair"), `noun` its name ("pair")."""
    depth = len(sizes) - 1
    if count == depth:
        return
    hint = ""
    if count == depth + 1:
        hint = (
            f" Likely mistake: one {noun} per width. {len(sizes)} widths make {depth} layers: "
            "layer l maps n_{l-1} inputs to n_l units, for l = 1..L."
        )
    elif count == depth - 1:
        hint = " Likely mistake: the loop over layers stops one layer early (or starts late)."
    items = f"{count} item" + ("" if count == 1 else "s")
    raise _Failure(
        f"{desc} returned {items}; expected {depth}, {each} per layer for layer_sizes "
        f"{sizes}.{hint}"
    )


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
    _count_stage(len(result), sizes, desc, "one (W, b) pair", "pair")
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
        try:
            _pattern_stage(w, 0.0, where)
            _mean_stage(w, target, where)
            _variance_stage(w, target, where)
        except _Failure as failure:  # every layer's spread against its target
            failure.picture = layers_picture(
                [float(np.sqrt(np.mean(v**2))) for v, _ in params],
                [mlp_target(sizes, k, scheme).std for k in range(1, len(params) + 1)],
                "weight std (root mean square)", ("your W", "the scheme's std"))
            raise
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
