"""Plain data between the judge and the student's kernel: JSON with tagged arrays, never pickle.

The judge (:mod:`weightinit.grading.judge`) calls a student's function in the student's kernel
and gets back what it returned. Everything that crosses is one of: ``None``, ``bool``, ``int``,
``float`` (NaN and infinities included), ``str``, lists, tuples, dicts with string keys, numeric
or boolean NumPy arrays and scalars, and (judge to kernel only) the state of a
``numpy.random.Generator``. Anything else the student returns arrives as :class:`Opaque`: the
name of its type, nothing that can run.

:func:`encode` runs in the kernel, where the student may have patched anything, so the judge
trusts none of it: :func:`decode` rebuilds values from the JSON alone, checks every tag, dtype,
shape and byte count, and raises :class:`WireError` on anything else. The worst a lying kernel
can do is send wrong data, which fails the student's own test.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: The largest reply the judge reads (bytes of JSON). A correct answer in these exercises is a
#: few MB at most (the biggest array asked is about 10^5 float64 values, 0.8 MB).
MAX_BYTES = 64 * 2**20

#: Nesting and element limits: a reply deeper or longer than this is malformed.
MAX_DEPTH = 16
MAX_ITEMS = 100_000

#: Array kinds that may cross: booleans, signed and unsigned integers, floats, complex.
ARRAY_KINDS = "biufc"

_TAG = "__wi__"


class WireError(ValueError):
    """A message that is not well-formed plain data."""


class Opaque:
    """Stands for an object the kernel could not send as plain data; only its type's name."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


def _opaque_type(name: str) -> type:
    """A class whose ``__name__`` is the student's type name, so messages read naturally."""
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "_.")[:60] or "object"
    return type(safe, (Opaque,), {"__slots__": ()})


# ------------------------------------------------------------------------------------------
# Encoding (kernel side, and the judge's requests)
# ------------------------------------------------------------------------------------------


#: Arrays larger than this travel as raw bytes beside the JSON (see :func:`encode`).
INLINE_BYTES = 2048


def _encode_array(a: np.ndarray, buffers: list[bytes] | None) -> dict:
    a = np.asarray(a)
    data = np.ascontiguousarray(a).tobytes()
    out: dict[str, Any] = {_TAG: "nd", "dtype": a.dtype.str, "shape": [int(n) for n in a.shape]}
    if buffers is not None and len(data) > INLINE_BYTES:
        out["buf"] = len(buffers)
        buffers.append(data)
    else:
        out["data"] = base64.b64encode(data).decode("ascii")
    return out


def _encode(value: Any, depth: int, buffers: list[bytes] | None = None) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        return {_TAG: "float", "v": repr(value)}
    if isinstance(value, np.random.Generator):
        state = value.bit_generator.state
        return {_TAG: "rng", "state": _encode(state, depth + 1, buffers)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
            return {_TAG: "opaque", "type": f"ndarray of dtype {value.dtype}"}
        out = _encode_array(value, buffers)
        if isinstance(value, np.matrix):
            out["cls"] = "matrix"
        return out
    if isinstance(value, np.generic):
        if value.dtype.kind not in ARRAY_KINDS:
            return {_TAG: "opaque", "type": type(value).__name__}
        return {_TAG: "np", "dtype": value.dtype.str,
                "data": base64.b64encode(np.asarray(value).tobytes()).decode("ascii")}
    if kind in (list, tuple):
        if len(value) > MAX_ITEMS:
            raise WireError("too many items")
        items = [_encode(v, depth + 1, buffers) for v in value]
        return items if kind is list else {_TAG: "tuple", "v": items}
    if kind is dict:
        if len(value) > MAX_ITEMS or not all(type(k) is str for k in value):
            return {_TAG: "opaque", "type": "dict"}
        return {_TAG: "dict", "v": {k: _encode(v, depth + 1, buffers) for k, v in value.items()}}
    return {_TAG: "opaque", "type": str(getattr(kind, "__name__", "object"))[:60]}


def encode(value: Any, buffers: list[bytes] | None = None) -> Any:
    """`value` as JSON-ready plain data (objects that are not plain data become opaque).

    With a `buffers` list, the bytes of each array larger than :data:`INLINE_BYTES` are
    appended to it and the JSON names their index, instead of holding them as base64.
    """
    return _encode(value, 0, buffers)


def dumps(value: Any) -> str:
    """:func:`encode` then JSON text."""
    return json.dumps(encode(value))


# ------------------------------------------------------------------------------------------
# Decoding (judge side: trusts nothing)
# ------------------------------------------------------------------------------------------


def _int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise WireError(f"{what} is not an integer")
    return value


def _decode_array(obj: dict, buffers: Sequence[bytes] | None = None) -> np.ndarray:
    try:
        dtype = np.dtype(str(obj["dtype"]))
    except (TypeError, KeyError, ValueError) as exc:
        raise WireError("an array with an unreadable dtype") from exc
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"an array of dtype {dtype} (only numbers and booleans may be sent)")
    shape = obj.get("shape")
    if type(shape) is not list or len(shape) > 32:
        raise WireError("an array without a valid shape")
    shape = tuple(_int(n, "an array's dimension") for n in shape)
    if any(n < 0 for n in shape):
        raise WireError("an array with a negative dimension")
    if "buf" in obj:
        index = obj["buf"]
        if buffers is None or type(index) is not int or not 0 <= index < len(buffers):
            raise WireError("an array whose bytes were not sent")
        raw = buffers[index]
    else:
        data = obj.get("data")
        if type(data) is not str:
            raise WireError("an array without data")
        try:
            raw = base64.b64decode(data.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError) as exc:
            raise WireError("an array whose data is not base64") from exc
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError("an array whose data does not match its shape")
    arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if obj.get("cls") == "matrix" and arr.ndim == 2:
        return np.asmatrix(arr)
    return arr


def _decode(obj: Any, depth: int, buffers: Sequence[bytes] | None = None) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    kind = type(obj)
    if obj is None or kind in (bool, int, float, str):
        return obj
    if kind is list:
        if len(obj) > MAX_ITEMS:
            raise WireError("too many items")
        return [_decode(v, depth + 1, buffers) for v in obj]
    if kind is not dict:
        raise WireError(f"unexpected JSON value of type {kind.__name__}")
    tag = obj.get(_TAG)
    if tag == "nd":
        return _decode_array(obj, buffers)
    if tag == "np":
        arr = _decode_array({"dtype": obj.get("dtype"), "shape": [], "data": obj.get("data")})
        return arr[()]
    if tag == "float":
        text = obj.get("v")
        if text not in ("nan", "inf", "-inf"):
            raise WireError("a special float that is not nan or inf")
        return float(text)
    if tag in ("tuple", "dict"):
        inner = obj.get("v")
        if tag == "tuple":
            if type(inner) is not list or len(inner) > MAX_ITEMS:
                raise WireError("a malformed tuple")
            return tuple(_decode(v, depth + 1, buffers) for v in inner)
        if type(inner) is not dict or len(inner) > MAX_ITEMS:
            raise WireError("a malformed dict")
        return {str(k): _decode(v, depth + 1, buffers) for k, v in inner.items()}
    if tag == "opaque":
        name = obj.get("type")
        name = name if type(name) is str else "object"
        return _opaque_type(name)(name)
    if tag == "rng":
        raise WireError("a generator where plain data was expected")
    raise WireError(f"an unknown tag {str(tag)[:40]!r}")


def decode(obj: Any, buffers: Sequence[bytes] | None = None) -> Any:
    """Rebuild plain data from JSON-decoded `obj` (and the raw `buffers` it names);
    :class:`WireError` if it is anything else."""
    return _decode(obj, 0, buffers)


def split(blob: bytes, lengths: Any) -> list[bytes]:
    """The buffers of :func:`encode`, sent concatenated in `blob`, cut at `lengths`."""
    if type(lengths) is not list or not all(type(n) is int and n >= 0 for n in lengths):
        raise WireError("malformed buffer lengths")
    if sum(lengths) != len(blob):
        raise WireError("buffers whose lengths do not add up")
    out, at = [], 0
    for n in lengths:
        out.append(blob[at:at + n])
        at += n
    return out


def loads(text: str | bytes) -> Any:
    """JSON text (at most :data:`MAX_BYTES`) to plain data; :class:`WireError` if malformed."""
    if len(text) > MAX_BYTES:
        raise WireError(f"a reply of {len(text)} bytes (at most {MAX_BYTES} are read)")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WireError("a reply that is not JSON") from exc
    return decode(obj)


def generator_state(obj: Any, like: dict) -> dict:
    """A bit generator's state sent back by the kernel, checked against the judge's own `like`
    (same bit generator, same keys, integer values); :class:`WireError` otherwise."""
    if type(obj) is not dict or set(obj) != set(like):
        raise WireError("a generator state with other fields")
    if obj.get("bit_generator") != like.get("bit_generator"):
        raise WireError("a generator state of another bit generator")
    for key, value in like.items():
        got = obj[key]
        if isinstance(value, dict):
            if type(got) is not dict or set(got) != set(value):
                raise WireError("a generator state with other fields")
            for k in value:
                _int(got[k], "a generator state's field")
        elif isinstance(value, int):
            _int(got, "a generator state's field")
    return obj


def legacy_state(obj: Any) -> tuple:
    """NumPy's global (legacy MT19937) state sent back by the kernel, checked."""
    if type(obj) is not tuple or len(obj) != 5 or obj[0] != "MT19937":
        raise WireError("a global random state that is not MT19937's")
    keys, pos, has_gauss, cached = obj[1:]
    if not isinstance(keys, np.ndarray) or keys.shape != (624,) or keys.dtype.kind != "u":
        raise WireError("a global random state with malformed keys")
    if type(pos) is not int or not 0 <= pos <= 624 or type(has_gauss) is not int:
        raise WireError("a global random state with a malformed position")
    if type(cached) is not float:
        raise WireError("a global random state with a malformed cached value")
    return ("MT19937", keys.astype(np.uint32), pos, has_gauss, cached)
