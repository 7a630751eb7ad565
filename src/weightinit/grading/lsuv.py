"""ex08's checks: LSUV (Mishkin & Matas' Algorithm 1), layer by layer.

The student's ``lsuv(x, layer_sizes, activation, rng, tol=0.05, max_iter=10)`` returns the weights
``[W_1, ..., W_L]`` of a bias-free MLP. Every check draws the batch ``x`` itself (normal entries
of mean `mean` and standard deviation `std`: ``mean=99`` is chapter 2's data), gives the student's
function a copy and a fresh generator, reads the returned list (:func:`_as_weights`), and fails if
``x`` was changed in place. Then:

- :func:`check_lsuv_shapes`: one float64 matrix of shape ``(n_{l-1}, n_l)`` per layer, and another
  set of sizes gets its own shapes;
- :func:`check_lsuv_unit_std`: on ``x`` itself every layer's linear output
  ``z_l = h_{l-1} @ W_l`` has a standard deviation within ``tol`` of 1. Deterministic given the
  returned weights (recomputed here with NumPy; no sampling band), so a failure is certain, and
  each named mistake is recognised by what it leaves in the weights (:func:`_diagnose`);
- :func:`check_lsuv_fresh_batch`: on a fresh batch from the same distribution the standard
  deviations stay within ``tol + w_l`` of 1, ``w_l`` a concentration bound at ``ALPHA``
  (:func:`fresh_halfwidths`);
- :func:`check_lsuv_orthogonal`: each ``W_l`` is orthogonal up to one scale factor
  (``W^T W = c^2 I`` for a tall matrix, ``W W^T = c^2 I`` for a wide one) to ``ORTHO_ATOL``;
- :func:`check_lsuv_rng`: every number from ``rng``.

Power against the named mistakes. All four named mistakes are caught by deterministic checks,
not bands: on the notebooks' configurations (relu and tanh on standard data, linear and relu on
the mean-99 data, five layers) the mistake moves some layer's std far outside ``tol``:

- the variance instead of the std: ``W / var(z)`` maps a std ``s`` to ``1/s`` and back, so the
  layer ends at ``s0`` or ``1/s0`` (``s0`` the orthogonal start's std): about 0.71 from the wide
  first layer on standard data, about 70 on the mean-99 data;
- the std after the activation: ReLU's output has std ``sqrt(1/2 - 1/(2 pi)) = 0.58`` times its
  input's, so the linear output ends near ``1/0.58 = 1.71``; tanh's output std never reaches 1,
  so the loop grows ``W`` until ``max_iter`` (std of z near 5);
- stale activations: the next layer sees ``act(z)`` of the unscaled start, so it is rescaled for
  an input ``s0`` times too large: layer ``l + 1`` ends near ``1/s0_l`` (ReLU, linear): 1.41 on
  standard data, 0.014 on the mean-99 data;
- a Gaussian start: the columns of a Gaussian matrix have cosines of order ``1/sqrt(n)``, more
  than ``1e7`` times ``ORTHO_ATOL``.

``tests/test_checks_lsuv.py`` runs each mistake on the notebook's visible calls with its seed and
eight others, requires every run to fail with the mistake's name and by a margin, and pins the
numbers above. The fresh-batch band is the only random check: its false-failure probability is
at most ``ALPHA`` per call by construction (0 failures in 400 calls of
``benchmarks/false_failure.py``), and its half-widths stay below 0.1 on every call of the
notebook (0.012 to 0.093 for ReLU on standard data, below 0.002 on the mean-99 data), so every
named std mistake, about 0.3 or more from 1, fails it too (tested).

References
----------
D. Mishkin, J. Matas, "All you need is a good init", ICLR 2016, arXiv:1511.06422.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..activations import get_activation
from ..simulation.lsuv import LSUV_ACTIVATIONS
from ._common import _ASKED_SHAPES, ALPHA, _Failure, _fmt, _name, _public
from .calls import _array_stage, _as_array, _call, _own_code, _shape_hint
from .deep import _fmt_list
from .mlp import _count_stage
from .randomness import _rng_stage

#: Orthogonality asked of each W_l, relative to its scale: ``max |G / c^2 - I| <= ORTHO_ATOL``,
#: G the Gram matrix of the short side. Correct answers (QR with or without the sign fix, SVD,
#: rescaled once or ten times) reach 1e-15 to 1e-14 on the notebooks' sizes (measured in
#: tests/test_checks_lsuv.py); a Gaussian matrix's cosines are of order 1/sqrt(n), 0.1.
ORTHO_ATOL = 1e-9

#: A layer's std is accepted within ``tol`` of 1, plus this much for the float64 rounding of
#: the std computed here and in the student's code (both about 1e-15).
_STD_SLACK = 1e-9


def _problem(layer_sizes: Sequence[int], batch: int, mean: float, std: float, seed: int
             ) -> tuple[list[int], np.ndarray]:
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1 or batch < 2:
        raise ValueError(f"need at least two positive widths and batch >= 2, got {layer_sizes}")
    x = mean + std * np.random.default_rng(seed).standard_normal((batch, sizes[0]))
    return sizes, x


def _describe(func: Callable, sizes: list[int], activation: str, x: np.ndarray, mean: float,
              std: float, options: dict) -> str:
    extra = "".join(f", {k}={v!r}" for k, v in options.items())
    return (
        f"{_name(func)}(x, {sizes}, {activation!r}, rng{extra}) with x of shape {x.shape} drawn "
        f"from N({_fmt(mean)}, {_fmt(std)}**2)"
    )


def _as_weights(result: object, sizes: list[int], desc: str, key: str) -> list[np.ndarray]:
    """The student's list as float64 copies of the right shapes, or a message naming what was
    returned instead."""
    depth = len(sizes) - 1
    if result is None:
        raise _Failure(f"{desc} returned None. Likely mistake: no `return weights`.")
    if isinstance(result, np.ndarray) or not isinstance(result, (list, tuple)):
        raise _Failure(
            f"{desc} returned {type(result).__name__}; expected a list of {depth} weight "
            "matrices [W_1, ..., W_L], one per layer."
        )
    _count_stage(len(result), sizes, desc, "one W_l", "matrix")
    weights = []
    for i, w in enumerate(result):
        where = f"{desc}, layer {i + 1}'s W"
        if isinstance(w, (tuple, list)) and len(w) == 2:
            raise _Failure(
                f"{where} is a pair; expected the matrix alone (LSUV's network has no biases)."
            )
        arr = _as_array(w, where)
        want = (sizes[i], sizes[i + 1])
        if arr.shape != want:
            asked_before = [s for s in _ASKED_SHAPES.get(key, []) if s != want]
            raise _Failure(
                f"{where} has shape {arr.shape}; expected (n_{{l-1}}, n_l) = {want}."
                + _shape_hint(arr.shape, want, asked_before)
            )
        weights.append(_array_stage(arr, want, where, key))
    return weights


def _lsuv_call(func: Callable, activation: str, layer_sizes: Sequence[int], batch: int,
               mean: float, std: float, seed: int, rng_seed: int | None = None,
               options: dict | None = None) -> tuple[list[np.ndarray], np.ndarray, str]:
    """Call ``func(x, sizes, activation, rng, **options)`` on a drawn x; the weights, the x
    given, and the call as the student reads it. Fails if x was changed in place."""
    if activation not in LSUV_ACTIVATIONS:
        raise ValueError(f"activation must be one of {LSUV_ACTIVATIONS}, got {activation!r}")
    options = dict(options or {})
    sizes, x = _problem(layer_sizes, batch, mean, std, seed)
    given = x.copy()
    desc = _describe(func, sizes, activation, x, mean, std, options)
    gen = np.random.default_rng(seed + 1 if rng_seed is None else rng_seed)
    def invoke(*args):
        return func(*args, **options)

    invoke.__name__ = _name(func)
    with np.errstate(all="ignore"):
        result = _call(invoke, (given, list(sizes), activation, gen), desc)
    if not (given.shape == x.shape and np.array_equal(given, x)):
        raise _Failure(
            f"{desc} changed the values of x in place. Likely mistake: in-place arithmetic on the "
            "caller's batch (x -= x.mean(), x /= ..., np.maximum(h, 0, out=h) with h = x); "
            "compute new arrays (h = act(h @ W))."
        )
    key = _name(func) + " W"
    weights = _as_weights(result, sizes, desc, key)
    asked = _ASKED_SHAPES.setdefault(key, [])
    for w in weights:
        if w.shape not in asked:
            asked.append(w.shape)
    return weights, x, desc


def _forward(x: np.ndarray, weights: Sequence[np.ndarray], activation: str
             ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """zs = [z_1..z_L] and hs = [h_1..h_L], h_0 = x, no biases."""
    act = get_activation(activation)
    zs, hs, h = [], [], x
    for w in weights:
        zs.append(h @ w)
        h = act.forward(zs[-1])
        hs.append(h)
    return zs, hs


def _stds(values: Sequence[np.ndarray]) -> list[float]:
    return [float(np.std(v)) for v in values]


def _within(s: float, tol: float) -> bool:
    return abs(s - 1.0) <= tol + _STD_SLACK


def _scale(w: np.ndarray) -> float:
    """c with W = c Q, Q orthonormal on its short side: the root mean square singular value."""
    return math.sqrt(float(np.sum(w * w)) / min(w.shape))


def _diagnose(x: np.ndarray, weights: list[np.ndarray], activation: str, tol: float,
              z_stds: list[float]) -> list[str]:
    """The named mistakes the weights show, recognised by recomputing each one's signature."""
    _, hs = _forward(x, weights, activation)
    h_stds = _stds(hs)
    bad = [i for i, s in enumerate(z_stds) if not _within(s, tol)]
    named = []
    if activation != "linear" and all(
        _within(h, tol) or (activation == "tanh" and z > 1 + tol and h >= 0.9)
        for h, z in ((h_stds[i], z_stds[i]) for i in bad)
    ):
        named.append(
            "the std measured after the activation, std(act(z_l)), instead of the linear output "
            "z_l = h_{l-1} @ W_l (your h_l have stds " + _fmt_list(h_stds) + "; for tanh it "
            "can never reach 1, so the loop keeps growing W until max_iter)"
        )
    scales = [_scale(w) for w in weights]
    for i in bad:
        s, c = z_stds[i], scales[i]
        if abs(c - 1.0) <= 1e-6:
            left = (f"layer {i + 1}'s W is still the orthogonal start (scale 1), with std "
                    f"{_fmt(s)}: dividing by var(z) maps a std s to 1/s and back, so an even "
                    "number of divisions returns to the start (or no division was kept)")
        elif abs(c - s * s) <= 1e-6 * c:
            left = (f"layer {i + 1}'s W is the orthogonal start times {_fmt(c)} = std**2: "
                    "dividing by var(z) = s**2 once (or an odd number of times) leaves 1/s")
        else:
            continue
        named.append(
            f"the variance instead of the standard deviation: {left}; LSUV divides by np.std(z_l) "
            "(or the square root of the variance)"
        )
        break
    if bad and bad[0] > 0:
        act = get_activation(activation)
        stale_h, stale_ok = x, True
        for w, c in zip(weights, scales, strict=True):
            stale_ok = stale_ok and _within(float(np.std(stale_h @ w)), tol)
            stale_h = act.forward(stale_h @ (w / c))
        if stale_ok:
            named.append(
                "stale activations: the next layer's input h_l = act(z_l) computed before W_l "
                "was rescaled (from the orthogonal start), so each layer was fitted to an input "
                "the final network never produces; rescale W_l first, then h_l = act(h_{l-1} @ "
                "W_l)"
            )
    return named


@_public
def check_lsuv_shapes(func: Callable, layer_sizes: Sequence[int], activation: str = "relu", *,
                      batch: int = 500, mean: float = 0.0, seed: int = 0) -> None:
    """``func(x, layer_sizes, activation, rng)`` returns a list of L float64 finite matrices,
    ``W_l`` of shape ``(n_{l-1}, n_l)`` (not transposed), without changing ``x``; and other sizes
    get their own shapes (an answer hard-coded for the visible test fails)."""
    _own_code(func)
    _lsuv_call(func, activation, layer_sizes, batch, mean, 1.0, seed)
    _lsuv_call(func, activation, [int(n) + 1 for n in layer_sizes], batch, mean, 1.0, seed + 1)


@_public
def check_lsuv_unit_std(func: Callable, activation: str, layer_sizes: Sequence[int], *,
                        batch: int = 1000, mean: float = 0.0, std: float = 1.0,
                        tol: float | None = None, max_iter: int | None = None,
                        seed: int = 0) -> None:
    """On the batch it was given, every layer's linear output has a std within ``tol`` of 1.

    ``x`` has normal entries of mean `mean` and standard deviation `std` (shape ``(batch,
    n_0)``); the student's weights are pushed through it here, ``z_l = h_{l-1} @ W_l``,
    ``h_l = act(z_l)``, and ``|np.std(z_l) - 1| <= tol`` is asked of every layer (``tol``
    0.05 when not given: the function's default is what is called). No sampling band: given the
    weights the stds are deterministic, and a correct answer meets ``tol`` by construction (the
    float64 slack is 1e-9). A failure names the mistake the weights show (:func:`_diagnose`).
    """
    _own_code(func)
    options = {k: v for k, v in (("tol", tol), ("max_iter", max_iter)) if v is not None}
    limit = 0.05 if tol is None else float(tol)
    weights, x, desc = _lsuv_call(func, activation, layer_sizes, batch, mean, std, seed,
                                  options=options)
    with np.errstate(all="ignore"):
        zs, _ = _forward(x, weights, activation)
        got = _stds(zs)
    bad = [i for i, s in enumerate(got) if not _within(s, limit)]
    if not bad:
        return
    lines = [
        f"{desc}: on x, the linear outputs z_l = h_{{l-1}} @ W_l of your weights have stds "
        f"{_fmt_list(got)}; each should be within tol = {_fmt(limit)} of 1. The first layer "
        f"outside is layer {bad[0] + 1} (std {_fmt(got[bad[0]])})."
    ]
    with np.errstate(all="ignore"):
        named = _diagnose(x, weights, activation, limit, got)
    if named:
        lines.append("Likely mistake: " + "; or ".join(named) + ".")
    elif max_iter is not None:
        lines.append(
            f"With max_iter = {max_iter}: each layer needs one division by the std of its linear "
            "output (z_l is linear in W_l), so a loop that divides before it tests converges."
        )
    raise _Failure("\n".join(lines))


def fresh_halfwidths(weights: Sequence[np.ndarray], std: float, batch: int, activation: str,
                     alpha: float = ALPHA) -> list[float | None]:
    """Per layer, how far the std of z_l on a fresh batch may be from its std on ``x`` (a layer
    that is not checked gets None).

    The derivation. Write ``W_j = ||W_j|| D_j`` (``||.||`` the spectral norm): LSUV draws the
    directions ``D_j`` (the orthogonal start) independently of ``x`` and fits only the scales to
    ``x``. For ReLU and the identity (positively homogeneous), ``std(z_l(X; W)) = prod_j ||W_j||
    T(X)`` with ``T(X) = std(z_l(X; D))``. The map ``X -> z_l(X; D)`` is 1-Lipschitz in the
    Frobenius norm (``||D_j|| = 1``, the activations 1-Lipschitz), centring is a projection, and
    ``std = ||P vec z|| / sqrt(N)`` over the ``N = batch * n_l`` values, so ``T(X') - T(X)``, for
    two independent batches of i.i.d. ``N(mean, std**2)`` entries, is ``sqrt(2) std / sqrt(N)``-
    Lipschitz in the standard normal vector behind ``(X, X')`` and has mean 0 (exchangeable).
    Gaussian concentration (Tsirelson-Ibragimov-Sudakov) gives
    ``P(|T(X') - T(X)| >= t) <= 2 exp(-N t^2 / (4 std^2))``; at ``alpha / m`` per layer (m layers
    checked, union bound)::

        w_l = prod_{j <= l} ||W_j|| * 2 std sqrt(ln(2 m / alpha) / N_l).

    For tanh only layer 1 is covered (``z_1 = x @ W_1`` is linear in its scale whatever the
    activation); deeper tanh layers see ``tanh`` of a fitted scale, which the argument does not
    cover, so they are not checked on fresh data (the check on ``x`` still covers them).
    """
    depth = len(weights)
    checked = depth if activation in ("linear", "relu") else 1
    out: list[float | None] = []
    lipschitz = 1.0
    for i, w in enumerate(weights):
        lipschitz *= float(np.linalg.norm(w, 2))
        if i >= checked:
            out.append(None)
            continue
        n = batch * w.shape[1]
        out.append(lipschitz * 2.0 * std * math.sqrt(math.log(2.0 * checked / alpha) / n))
    return out


@_public
def check_lsuv_fresh_batch(func: Callable, activation: str, layer_sizes: Sequence[int], *,
                           batch: int = 10_000, mean: float = 0.0, std: float = 1.0,
                           tol: float = 0.05, seed: int = 0) -> None:
    """LSUV's scale carries over: on a fresh batch from the same distribution, each layer's
    linear output has a std within ``tol + w_l`` of 1.

    The weights are fitted on one batch and pushed through another of the same size, drawn
    from the same ``N(mean, std**2)``. ``w_l`` (:func:`fresh_halfwidths`) bounds, at a
    false-failure probability ``ALPHA`` for the whole check, how far the fresh std can move
    from the fitted one, which a correct answer puts within ``tol`` of 1. ReLU and linear
    networks are checked at every layer, tanh networks at layer 1.
    """
    _own_code(func)
    weights, x, desc = _lsuv_call(func, activation, layer_sizes, batch, mean, std, seed,
                                  options={"tol": tol})
    fresh = mean + std * np.random.default_rng(seed + 104_729).standard_normal(x.shape)
    with np.errstate(all="ignore"):
        got = _stds(_forward(fresh, weights, activation)[0])
        widths = fresh_halfwidths(weights, std, batch, activation)
    for i, (s, w) in enumerate(zip(got, widths, strict=True)):
        if w is None or abs(s - 1.0) <= tol + w + _STD_SLACK:
            continue
        on_x = _stds(_forward(x, weights, activation)[0])
        raise _Failure(
            f"{desc}: on a fresh batch from the same distribution, layer {i + 1}'s linear output "
            f"has std {_fmt(s)}; expected within tol + {_fmt(w)} = {_fmt(tol + w)} of 1 (the "
            f"margin is what a second batch can change, at a false-failure probability of "
            f"{ALPHA:g}). On x itself the stds are {_fmt_list(on_x)}. Likely mistake: the "
            "scales are not fitted to x's distribution; see the test of the stds on x."
        )


@_public
def check_lsuv_orthogonal(func: Callable, activation: str, layer_sizes: Sequence[int], *,
                          batch: int = 500, mean: float = 0.0, seed: int = 0) -> None:
    """Each ``W_l`` is an orthogonal matrix times one scale: ``W^T W = c^2 I`` when
    ``n_{l-1} >= n_l`` (orthonormal columns), ``W W^T = c^2 I`` otherwise (orthonormal rows),
    to ``ORTHO_ATOL`` relative to ``c^2``.

    LSUV only divides each matrix by numbers, so its orthogonal start shows through. A Gaussian
    start fails (cosines between columns of order 1/sqrt(n)); so does one scale per unit
    (``np.std(z, axis=0)``), which gives the columns different lengths.
    """
    _own_code(func)
    weights, _, desc = _lsuv_call(func, activation, layer_sizes, batch, mean, 1.0, seed)
    failures = [f for f in (_orthogonality(w, i, desc) for i, w in enumerate(weights)) if f]
    if failures:
        # One scale per unit shows as such on a tall layer (orthogonal columns of different
        # lengths); on a wide one it only spoils the rows' orthogonality.
        raise _Failure(next((f for f in failures if "one scale per unit" in f), failures[0]))


def _orthogonality(w: np.ndarray, i: int, desc: str) -> str | None:
    """What is wrong with layer i + 1's W as an orthogonal matrix times a scale, or None."""
    tall = w.shape[0] >= w.shape[1]
    gram = w.T @ w if tall else w @ w.T
    c2 = float(np.trace(gram)) / gram.shape[0]
    if not c2 > 0:
        return (f"{desc}: layer {i + 1}'s W is zero; expected an orthogonal matrix divided by "
                "the std of its output.")
    dev = np.abs(gram / c2 - np.eye(gram.shape[0]))
    worst = float(dev.max())
    if worst <= ORTHO_ATOL:
        return None
    side = "columns" if tall else "rows"
    off = dev - np.diag(np.diag(dev))
    what = (
        f"{desc}: layer {i + 1}'s W {w.shape} is not orthogonal up to one scale: its {side}' "
        f"Gram matrix divided by c^2 = {_fmt(c2)} differs from the identity by up to "
        f"{_fmt(worst)} (allowed {ORTHO_ATOL:g})."
    )
    if float(off.max()) <= ORTHO_ATOL:
        norms = np.sqrt(np.diag(gram))
        return (
            f"{what} The {side} are orthogonal but of different lengths ({_fmt(norms.min())} to "
            f"{_fmt(norms.max())}). Likely mistake: one scale per unit, np.std(z, axis=0), "
            "where LSUV divides the whole matrix by one number, np.std(z)."
        )
    n = max(w.shape)
    return (
        f"{what} Its largest off-diagonal entry (about the cosine between two {side}) is "
        f"{_fmt(float(off.max()))}; a Gaussian matrix of this size has cosines of order "
        f"1/sqrt({n}) = {_fmt(1 / math.sqrt(n))}. Likely mistake: a Gaussian start (rng.normal "
        "or rng.standard_normal) instead of an orthogonal one: take Q of np.linalg.qr of a "
        "Gaussian matrix (transposed for a wide layer), or U @ Vt of its np.linalg.svd."
    )


@_public
def check_lsuv_rng(func: Callable, activation: str, layer_sizes: Sequence[int], *,
                   batch: int = 500, mean: float = 0.0, seed: int = 0) -> None:
    """``func(x, layer_sizes, activation, rng)`` draws its orthogonal starts from `rng` only:
    on the same x, the same seed gives the same weights, another seed others, and NumPy's
    global random state is neither read nor changed."""
    _own_code(func)
    sizes = [int(n) for n in layer_sizes]
    desc = f"{_name(func)}(x, {sizes}, {activation!r}, rng)"

    def draw(rng_seed: int) -> np.ndarray:
        weights, _, _ = _lsuv_call(func, activation, sizes, batch, mean, 1.0, seed,
                                   rng_seed=rng_seed)
        return np.concatenate([w.ravel() for w in weights])

    _rng_stage(draw, desc, seed + 1)
