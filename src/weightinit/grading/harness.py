"""The kernel side of a judged call: run one student function, write back plain data.

During autograde the judge (:mod:`weightinit.grading.judge`) never runs student code. When a
check calls a student's function, the judge writes the call (function name, arguments as
:mod:`~weightinit.grading.wire` data, generator states) to a request file and asks the student's
kernel to run ``serve(request, reply)``. This module looks the function up in the kernel's user
namespace, re-creates each ``numpy.random.Generator`` argument from the state sent, seeds NumPy's
global state as the judge's was, calls the function, and writes to the reply file: the return
value (or the exception's type names and message), every generator's state after the call, the
global state after the call, and the arguments the call changed in place.

Everything here runs in the student's process and may have been patched by the student: the
judge treats the reply as untrusted data (:func:`weightinit.grading.wire.decode` checks it), so a
patched harness can only make the student's own answers wrong or unreadable.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from typing import Any

import numpy as np

from . import wire


def _user_namespace() -> dict:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:  # pragma: no cover - only outside IPython
        import __main__

        return vars(__main__)
    return shell.user_ns


def _rebuild(value: Any, buffers: list[bytes]) -> tuple[Any, list[np.random.Generator]]:
    """Decode the judge's arguments, turning each generator tag into a live Generator."""
    gens: list[np.random.Generator] = []

    def build(obj: Any) -> Any:
        if isinstance(obj, dict) and obj.get("__wi__") == "rng":
            state = wire.decode(obj["state"])
            bit = getattr(np.random, state["bit_generator"])()
            bit.state = state
            gen = np.random.Generator(bit)
            gens.append(gen)
            return gen
        if isinstance(obj, dict) and obj.get("__wi__") == "tuple":
            return tuple(build(v) for v in obj["v"])
        if isinstance(obj, dict) and obj.get("__wi__") == "dict":
            return {k: build(v) for k, v in obj["v"].items()}
        if isinstance(obj, list):
            return [build(v) for v in obj]
        return wire.decode(obj, buffers)

    return build(value), gens


def _changed(before: Any, after: Any) -> bool:
    if isinstance(before, np.ndarray):
        same = (isinstance(after, np.ndarray) and before.shape == after.shape
                and before.dtype == after.dtype)
        return not (same and np.array_equal(before, after, equal_nan=True))
    if isinstance(before, list):
        return (not isinstance(after, list) or len(before) != len(after)
                or any(_changed(b, a) for b, a in zip(before, after, strict=True)))
    return False


def _exception_names(exc: BaseException) -> list[str]:
    return [cls.__name__ for cls in type(exc).__mro__][:20]


#: The comm target through which the judge asks for calls (see :func:`install`).
TARGET = "weightinit.judge"


def install() -> None:
    """Let the judge send requests as comm messages: each message's data names a request file
    and a reply file, answered by :func:`serve`."""
    from comm import get_comm_manager

    def opened(comm, _msg) -> None:
        def received(msg) -> None:
            data = msg["content"]["data"]
            serve(data["request"], data["reply"])

        comm.on_msg(received)

    get_comm_manager().register_target(TARGET, opened)


def serve(request_path: str, reply_path: str) -> None:
    """Answer one request of the judge (see the module docstring)."""
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    with open(request_path + ".bin", "rb") as f:
        buffers = wire.split(f.read(), request["buffers"])
    args, gens = _rebuild(request["args"], buffers)
    kwargs, kw_gens = _rebuild(request["kwargs"], buffers)
    gens += kw_gens
    kept = [copy.deepcopy(a) if isinstance(a, (list, np.ndarray)) else None for a in args]
    reply: dict[str, Any] = {}
    out: list[bytes] = []
    func = _user_namespace().get(request["name"])
    np.random.set_state(wire.decode(request["global_state"]))  # noqa: NPY002
    sink = io.StringIO()
    try:
        if func is None:
            raise NameError(f"name {request['name']!r} is not defined")
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = func(*args, **kwargs)
        reply["value"] = wire.encode(result, out)
    except BaseException as exc:  # noqa: BLE001  (the student's exception is the answer)
        try:
            message = str(exc)
        except BaseException:  # noqa: BLE001
            message = "<an exception whose message cannot be printed>"
        reply["error"] = {"types": _exception_names(exc), "message": message[:2000]}
    reply["generators"] = [wire.encode(g.bit_generator.state) for g in gens]
    reply["global_state"] = wire.encode(np.random.get_state())  # noqa: NPY002
    reply["changed"] = {
        str(i): wire.encode(a, out)
        for i, (k, a) in enumerate(zip(kept, args, strict=True))
        if k is not None and _changed(k, a)
    }
    reply["buffers"] = [len(b) for b in out]
    fd = os.open(reply_path + ".bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.writelines(out)
    text = json.dumps(reply)
    fd = os.open(reply_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
