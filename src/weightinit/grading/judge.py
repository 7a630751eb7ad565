"""The judge: grades one notebook without ever running student code in its own process.

``python -m weightinit.grading.judge`` reads a job (JSON on standard input, written by
:mod:`weightinit.grading.nbgrader`), and writes the outputs of every cell (JSON on standard
output). It

1. starts the student's kernel in the sandbox (:mod:`~weightinit.grading.sandbox`) and runs the
   student's cells there, in notebook order, keeping their outputs (capped: :data:`CELL_TEXT`
   characters of text per cell); a cell that runs past :data:`CELL_SECONDS` is interrupted, a
   kernel that dies or ignores the interrupt is replaced and the cells that ran cleanly are run
   again;
2. then evaluates every autograded test cell *here*, with the real checks of
   :mod:`weightinit.grading` bound to the names the test uses, and each student function bound
   to a :class:`Proxy`. A proxy call sends the arguments to the kernel as plain data
   (:mod:`~weightinit.grading.wire`), where :mod:`~weightinit.grading.harness` calls the
   function and sends back plain data. The checks decide; a test cell scores when the judge
   passes it, whatever the kernel printed;
3. reports a failed hidden test with the check's message, its arguments, seeds and the
   student's own exception text left out (:func:`redact`).

The student's cells run before any test, so nothing a test sends to the kernel (a hidden shape
or seed) can reach a cell's output. Checks that read the student's code (own work, not
weightinit's) read the notebook's source (:mod:`~weightinit.grading.source`).
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import sandbox, wire
from .harness import TARGET as HARNESS_TARGET
from .remote import Remote
from .source import own_code_findings

#: Wall-clock limit of one student cell, and of one call of a student function. The slowest
#: correct call in the exercises takes about 0.5 s on a quiet 2-core machine and under 1.5 s
#: with both cores busy (benchmarks/RESULTS.md): 30 s is a margin of 20x or more.
CELL_SECONDS = 30.0
CALL_SECONDS = 30.0

#: After an interrupt, how long a kernel may take to stop before it is replaced.
INTERRUPT_GRACE = 3.0

#: Text kept of one cell's output, and of all rich outputs (images, HTML) of one notebook.
CELL_TEXT = 20_000
RICH_BYTES = 2 * 2**20

#: Start-up limit of a kernel.
START_SECONDS = 120.0


class DeadKernelError(Exception):
    """The kernel died while running the student's code (a crash, ``os._exit``, memory)."""


class CellTimeoutError(Exception):
    """The student's code did not finish in time, and the kernel was replaced."""


class UnreadableReply(Exception):
    """The kernel answered with something that is not plain data."""


# ------------------------------------------------------------------------------------------
# Messages of hidden tests
# ------------------------------------------------------------------------------------------

_INT_TUPLE = re.compile(r"\(\s*(?:-?\d+\s*,\s*)*-?\d+\s*,?\s*\)|\(\s*\)")
_INT_LIST = re.compile(r"\[\s*(?:-?\d+\s*,\s*)+-?\d+\s*\]")
_SEEDS = re.compile(r"\bseeds? -?\d+(?: and -?\d+)?")
_BIG_INT = re.compile(r"(?<![\w.])\d{2,}(?![\w.])")
_PATH = re.compile(r"(?:/[\w.+@-]+){2,}/?")


def redact(message: str) -> str:
    """A failed hidden test's message without its arguments: shapes, layer sizes, seeds and
    numbers of two digits or more are replaced by an ellipsis."""
    message = _SEEDS.sub("seed …", message)
    message = _INT_TUPLE.sub("(…)", message)
    message = _INT_LIST.sub("[…]", message)
    return _BIG_INT.sub("…", message)


def strip_paths(text: str) -> str:
    """`text` with the grading machine's file paths cut to their last part."""
    return _PATH.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


# ------------------------------------------------------------------------------------------
# The student's kernel
# ------------------------------------------------------------------------------------------


class Kernel:
    """The student's kernel: start it in the sandbox, run cells, answer calls, replace it."""

    def __init__(self, sandboxed: bool, env: dict[str, str], cell_seconds: float = CELL_SECONDS,
                 call_seconds: float = CALL_SECONDS, course_roots: Sequence[Path] = ()):
        self.sandboxed = sandboxed
        self.env = env
        self.cell_seconds = cell_seconds
        self.call_seconds = call_seconds
        #: What the kernel must not see: the course folder (solutions, gradebook, the other
        #: students' work) and the grading user's home, but for Python and the package.
        import weightinit

        self.needed = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
                       Path(weightinit.__file__).parent.parent]
        self.hide = sandbox.hidden([*course_roots, Path.home(), Path("/srv/nbgrader")],
                                   keep=self.needed)
        self.exchange = Path(tempfile.mkdtemp(prefix="wi-judge-"))
        self.km = self.kc = None
        self.clean_cells: list[str] = []
        self.calls = 0
        self.restarts = 0
        #: The harness's comm in the kernel: None until opened, False if it could not be.
        self.comm: str | bool | None = None
        #: The longest a call and a cell of the student's took (s): the margin to the limits.
        self.slowest = {"call": 0.0, "cell": 0.0}

    # -- life -------------------------------------------------------------------------------

    def start(self) -> None:
        from jupyter_client import KernelManager

        exchange, sandboxed = self.exchange, self.sandboxed

        hide, needed = self.hide, self.needed

        class SandboxedKernelManager(KernelManager):
            def format_kernel_cmd(self, extra_arguments=None):
                return sandbox.wrap(super().format_kernel_cmd(extra_arguments), exchange,
                                    sandboxed, hide, needed)

        tag = secrets.token_hex(4)
        self.km = SandboxedKernelManager(
            kernel_name="python3",
            transport="ipc",
            ip=str(self.exchange / f"k{tag}"),
            connection_file=str(self.exchange / f"kernel-{tag}.json"),
        )
        # Interrupts go over the control channel: the kernel runs in its own session, so a
        # signal to the process group would not reach it.
        self.km.kernel_spec.interrupt_mode = "message"
        self.km.kernel_spec.argv[0] = sys.executable
        self.km.start_kernel(env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=START_SECONDS)

    def stop(self) -> None:
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001
                pass
            try:
                self.km.cleanup_resources()
            except Exception:  # noqa: BLE001
                pass
        self.km = self.kc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.exchange, ignore_errors=True)

    def replace(self) -> None:
        """A new kernel with the student's clean cells run again (silently, each with the usual
        limit); a cell that fails now is dropped."""
        self.stop()
        self.comm = None
        self.restarts += 1
        self.start()
        kept = []
        for source in self.clean_cells:
            status, _ = self._execute(source, self.cell_seconds, silent=True)
            if status == "ok":
                kept.append(source)
            elif status in ("dead", "timeout"):
                self.stop()
                self.start()
                break
        self.clean_cells = kept

    def alive(self) -> bool:
        try:
            return self.km is not None and self.km.is_alive()
        except Exception:  # noqa: BLE001
            return False

    # -- running code -----------------------------------------------------------------------

    def _execute(self, code: str, limit: float, silent: bool, keep: list | None = None
                 ) -> tuple[str, dict]:
        """Run `code`; return (``ok`` | ``error`` | ``timeout`` | ``dead``, reply content).

        IOPub messages are read and, when `keep` is a list, appended to it as nbformat outputs
        (capped); otherwise dropped.
        """
        msg_id = self.kc.execute(code, silent=silent, store_history=not silent,
                                 allow_stdin=False)
        return self._wait(msg_id, limit, keep)

    def _wait(self, msg_id: str, limit: float, keep: list | None = None,
              reply_wanted: bool = True) -> tuple[str, dict]:
        """Wait for the kernel to finish the request `msg_id` (see :meth:`_execute`). Without
        `reply_wanted` (a comm message, which gets none) the kernel's "idle" ends the wait."""
        kc = self.kc
        deadline = time.monotonic() + limit
        interrupted_at = None
        reply = None if reply_wanted else {"status": "ok"}
        # A call's output is not kept, so its reply is enough; a cell's outputs are complete
        # when the kernel says it is idle again.
        idle = keep is None and reply_wanted
        next_alive_check = time.monotonic() + 0.5
        while reply is None or not idle:
            now = time.monotonic()
            replied = reply_wanted and reply is not None  # only its last outputs are awaited
            if now > deadline and interrupted_at is None and not replied:
                interrupted_at = now
                try:
                    self.km.interrupt_kernel()
                except Exception:  # noqa: BLE001
                    pass
            if interrupted_at is not None and now > interrupted_at + INTERRUPT_GRACE:
                return "timeout", {}
            if replied and now > deadline + INTERRUPT_GRACE:
                break  # the reply came; stray output after it is not waited for
            if now > next_alive_check:
                next_alive_check = now + 0.5
                if not self.alive():
                    return "dead", {}
            if keep is None and reply_wanted:
                self._drain()
                try:
                    msg = kc.shell_channel.get_msg(timeout=0.05)
                except Exception:  # noqa: BLE001  (queue.Empty)
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg["content"]
                continue
            if reply is None:
                try:
                    while kc.shell_channel.msg_ready():
                        msg = kc.shell_channel.get_msg(timeout=0)
                        if msg["parent_header"].get("msg_id") == msg_id:
                            reply = msg["content"]
                except Exception:  # noqa: BLE001
                    pass
            try:
                msg = kc.iopub_channel.get_msg(timeout=0.05)
            except Exception:  # noqa: BLE001  (queue.Empty)
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "status" and msg["content"].get("execution_state") == "idle":
                idle = True
            elif keep is not None and kind in ("stream", "display_data", "execute_result",
                                               "error"):
                keep.append(msg)
        if interrupted_at is not None:
            return "timeout", reply or {}
        return ("ok" if reply.get("status") == "ok" else "error"), reply

    def _drain(self, most: int = 1000) -> None:
        """Drop pending IOPub messages (what a call printed is never shown)."""
        channel = self.kc.iopub_channel
        try:
            for _ in range(most):
                if not channel.msg_ready():
                    return
                channel.get_msg(timeout=0)
        except Exception:  # noqa: BLE001
            return

    def run_cell(self, source: str) -> tuple[list[dict], int | None]:
        """Run one of the student's cells; its outputs (capped) and execution count."""
        msgs: list = []
        began = time.perf_counter()
        try:
            status, reply = self._execute(source, self.cell_seconds, silent=False, keep=msgs)
            if status in ("ok", "error"):
                self.slowest["cell"] = max(self.slowest["cell"], time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001  (a broken channel: the kernel is gone)
            status, reply = "dead", {}
            msgs.append({"msg_type": "error", "content": {"ename": type(exc).__name__}})
        outputs = _outputs(msgs)
        if status == "ok":
            self.clean_cells.append(source)
        elif status == "timeout":
            outputs.append(_error(
                "CellTimeoutError",
                f"this cell did not finish within {self.cell_seconds:.0f} s and was stopped (an "
                "infinite loop?). The cells after it ran in a new kernel, without this one."))
            self.replace()
        elif status == "dead":
            outputs.append(_error(
                "DeadKernelError",
                "the kernel died while running this cell (os._exit, a crash, or more than "
                f"{sandbox.MEMORY_BYTES / 2**30:.0f} GiB of memory). The cells after it ran in a "
                "new kernel, without this one."))
            self.replace()
        return outputs, reply.get("execution_count")

    def _request(self, request: str, reply_path: str) -> tuple[str, dict]:
        """Ask the kernel's harness to answer `request`: by a comm message (no IPython cell
        machinery: about half the time of an execute request) once the harness's comm is open,
        else by executing ``harness.serve(...)``."""
        if self.comm is None:
            self.comm = self._open_comm()
        if self.comm:
            msg = self.kc.session.msg("comm_msg", {
                "comm_id": self.comm, "data": {"request": request, "reply": reply_path}})
            self.kc.shell_channel.send(msg)
            return self._wait(msg["header"]["msg_id"], self.call_seconds, reply_wanted=False)
        code = (f"__import__('weightinit.grading.harness', fromlist=['serve'])"
                f".serve({request!r}, {reply_path!r})")
        return self._execute(code, self.call_seconds, silent=True)

    def _open_comm(self) -> str | bool:
        """Open the harness's comm in the kernel; its id, or False (calls then execute code)."""
        code = "__import__('weightinit.grading.harness', fromlist=['install']).install()"
        status, _ = self._execute(code, self.call_seconds, silent=True)
        if status != "ok":
            return False
        comm_id = secrets.token_hex(16)
        msg = self.kc.session.msg("comm_open", {
            "comm_id": comm_id, "target_name": HARNESS_TARGET, "data": {}})
        self.kc.shell_channel.send(msg)
        status, _ = self._wait(msg["header"]["msg_id"], self.call_seconds, reply_wanted=False)
        return comm_id if status == "ok" else False

    def call(self, name: str, args: tuple, kwargs: dict) -> tuple[dict, list[bytes]]:
        """Call the student's `name` in the kernel; the reply and its buffers (see the
        harness)."""
        self.calls += 1
        request = self.exchange / f"call-{self.calls}-{secrets.token_hex(4)}.json"
        reply_path = request.with_suffix(".reply")
        buffers: list[bytes] = []
        payload = {
            "name": name,
            "args": wire.encode(list(args), buffers),
            "kwargs": wire.encode(dict(kwargs), buffers),
            "global_state": wire.encode(np.random.get_state()),  # noqa: NPY002
            "buffers": [len(b) for b in buffers],
        }
        fd = os.open(f"{request}.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.writelines(buffers)
        fd = os.open(request, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f)
        began = time.perf_counter()
        try:
            status, _ = self._request(str(request), str(reply_path))
        except Exception:  # noqa: BLE001
            status = "dead"
        if status in ("ok", "error"):
            self.slowest["call"] = max(self.slowest["call"], time.perf_counter() - began)
        try:
            if status == "timeout":
                self.replace()
                raise CellTimeoutError(
                    f"it did not return within {self.call_seconds:.0f} s and was stopped (an "
                    "infinite loop?)")
            if status == "dead":
                self.replace()
                raise DeadKernelError(
                    "the kernel died while running it (os._exit, a crash, or more than "
                    f"{sandbox.MEMORY_BYTES / 2**30:.0f} GiB of memory)")
            return _read_reply(reply_path)
        finally:
            for path in (request, reply_path):
                for p in (path, Path(f"{path}.bin")):
                    try:
                        p.unlink()
                    except OSError:
                        pass


def _read_capped(path: Path, limit: int) -> bytes | None:
    """At most `limit` bytes of a file the kernel wrote (``None`` if missing or larger); never
    follows a link the kernel may have planted."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    return data if len(data) <= limit else None


def _read_reply(path: Path) -> tuple[dict, list[bytes]]:
    """The kernel's reply and its raw buffers (see :mod:`weightinit.grading.wire`)."""
    text = _read_capped(path, wire.MAX_BYTES)
    if text is None:
        raise UnreadableReply("the grader's helper in your kernel wrote no readable answer")
    try:
        reply = json.loads(text)
    except ValueError:
        reply = None
    if type(reply) is not dict:
        raise UnreadableReply("the answer from your kernel is not readable data")
    blob = _read_capped(Path(f"{path}.bin"), wire.MAX_BYTES)
    try:
        buffers = wire.split(blob if blob is not None else b"", reply.get("buffers"))
    except wire.WireError as exc:
        raise UnreadableReply(f"the answer from your kernel is not readable data ({exc})") from None
    return reply, buffers


def _error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": [f"{ename}: {evalue}"]}


def _outputs(msgs: list) -> list[dict]:
    """IOPub messages to nbformat outputs: streams merged and capped, rich outputs capped,
    paths of the grading machine cut from tracebacks."""
    out: list[dict] = []
    text_kept = 0
    dropped = 0
    rich_kept = 0
    for msg in msgs:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            text = strip_paths(str(content.get("text", "")))
            room = max(0, CELL_TEXT - text_kept)
            if len(text) > room:
                dropped += len(text) - room
                text = text[:room]
            text_kept += len(text)
            if not text:
                continue
            name = "stderr" if content.get("name") == "stderr" else "stdout"
            if out and out[-1]["output_type"] == "stream" and out[-1]["name"] == name:
                out[-1]["text"] += text
            else:
                out.append({"output_type": "stream", "name": name, "text": text})
        elif kind in ("display_data", "execute_result"):
            data = dict(content.get("data", {}))
            if isinstance(data.get("text/plain"), str):
                data["text/plain"] = strip_paths(data["text/plain"])
            size = len(json.dumps(data))
            if rich_kept + size > RICH_BYTES:
                dropped += size
                continue
            rich_kept += size
            item = {"output_type": kind, "data": data, "metadata": content.get("metadata", {})}
            if kind == "execute_result":
                item["execution_count"] = content.get("execution_count")
            out.append(item)
        elif kind == "error":
            tb, room = [], CELL_TEXT
            for line in reversed(content.get("traceback", [])[-20:]):
                line = strip_paths(str(line))[:room]
                room -= len(line)
                tb.insert(0, line)
                if room <= 0:
                    break
            out.append({"output_type": "error", "ename": str(content.get("ename", "Error"))[:200],
                        "evalue": strip_paths(str(content.get("evalue", "")))[:CELL_TEXT],
                        "traceback": tb})
    if dropped:
        out.append({"output_type": "stream", "name": "stdout",
                    "text": f"\n[… {dropped:,} more characters of output were not kept]\n"})
    return out


# ------------------------------------------------------------------------------------------
# Proxies: the student's functions as the judge sees them
# ------------------------------------------------------------------------------------------


class Judge:
    """State of one notebook's judging: the kernel, the source, and whether a hidden test runs."""

    def __init__(self, kernel: Kernel, student_cells: Sequence[str], allow: Sequence[str],
                 locked_cells: Sequence[str] = ()):
        self.kernel = kernel
        self.student_cells = list(student_cells)
        self.locked_cells = list(locked_cells)
        self.allow = tuple(allow)
        self.hidden = False
        self.broken: dict[str, str] = {}  # function -> why its later calls fail at once
        self.secrets: list[str] = []  # texts from the student's code seen in a hidden test
        self.findings: dict[tuple, list[str]] = {}  # own-code findings, per (function, allow)


def _student_exception(types: object, message: object) -> Exception:
    """The judge's stand-in for the exception the student's code raised: the same builtin base
    class (so ``check_raises(..., ValueError)`` works), never one that could stop the judge."""
    names = [str(t) for t in types] if isinstance(types, list) else []
    base: type[Exception] = Exception
    for name in names:
        cls = getattr(builtins, name, None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            base = cls
            break
    shown = names[0] if names else "Exception"
    text = strip_paths(str(message))[:2000]
    safe = "".join(ch for ch in shown if ch.isalnum() or ch == "_")[:60] or "Exception"
    try:
        cls = type(safe, (base,), {"__module__": "builtins"})
        return cls(text)
    except TypeError:  # a base that does not take one argument
        return Exception(text)


class Proxy(Remote):
    """A student function, called in the student's kernel; only plain data comes back."""

    def __init__(self, judge: Judge, name: str):
        self._judge = judge
        self.__name__ = self.__qualname__ = name

    def own_code_findings(self, allow: Sequence[str] = ()) -> list[str]:
        judge = self._judge
        key = (self.__name__, tuple(allow))
        if key not in judge.findings:  # the source does not change: read it once per question
            judge.findings[key] = own_code_findings(
                judge.student_cells, self.__name__, (*judge.allow, *allow),
                locked=judge.locked_cells)
        return judge.findings[key]

    def sibling(self, name: str) -> Proxy:
        return Proxy(self._judge, name)

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        judge = self._judge
        if self.__name__ in judge.broken:
            raise CellTimeoutError(judge.broken[self.__name__])
        try:
            reply, buffers = judge.kernel.call(self.__name__, args, kwargs)
        except CellTimeoutError as exc:
            judge.broken[self.__name__] = f"an earlier call {exc}"
            raise
        except DeadKernelError as exc:
            judge.broken[self.__name__] = f"an earlier call: {exc}"
            raise
        try:
            self._mirror(reply, buffers, args, kwargs)
            if "error" in reply:
                err = reply["error"] if isinstance(reply["error"], dict) else {}
                exc = _student_exception(err.get("types"), err.get("message", ""))
                if judge.hidden and str(exc):
                    judge.secrets.append(str(exc))
                raise exc
            value = wire.decode(reply.get("value"), buffers)
        except wire.WireError as exc:
            raise UnreadableReply(f"its answer could not be read as plain data ({exc})") from None
        if judge.hidden and isinstance(value, wire.Opaque):
            return wire.Opaque("object")
        return value

    @staticmethod
    def _mirror(reply: dict, buffers: list[bytes], args: tuple, kwargs: dict) -> None:
        """Make the judge's generators, global random state and in-place-changed arguments what
        the kernel says they became, so the checks of rng use and of mutation work as before."""
        gens = [a for a in (*args, *kwargs.values()) if isinstance(a, np.random.Generator)]
        states = reply.get("generators")
        if not isinstance(states, list) or len(states) != len(gens):
            raise wire.WireError("the generators' states are missing")
        for gen, state in zip(gens, states, strict=True):
            like = gen.bit_generator.state
            gen.bit_generator.state = wire.generator_state(wire.decode(state), like)
        np.random.set_state(wire.legacy_state(wire.decode(reply.get("global_state"))))  # noqa: NPY002
        changed = reply.get("changed")
        if not isinstance(changed, dict):
            raise wire.WireError("the arguments' changes are missing")
        for key, encoded in changed.items():
            if not (isinstance(key, str) and key.isdigit() and int(key) < len(args)):
                raise wire.WireError("a change to an argument that was not given")
            mine, theirs = args[int(key)], wire.decode(encoded, buffers)
            if isinstance(mine, np.ndarray) and isinstance(theirs, np.ndarray):
                if mine.shape == theirs.shape:
                    np.copyto(mine, theirs, casting="unsafe")
                else:
                    mine.fill(np.nan) if mine.dtype.kind in "fc" else None
            elif isinstance(mine, list) and isinstance(theirs, list):
                mine[:] = theirs


# ------------------------------------------------------------------------------------------
# Test cells
# ------------------------------------------------------------------------------------------

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def hidden_lines(source: str) -> set[int]:
    """1-based numbers of the lines between the hidden-test markers (markers included)."""
    out: set[int] = set()
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        if HIDDEN_BEGIN in line:
            inside = True
        if inside:
            out.add(number)
        if HIDDEN_END in line:
            inside = False
    return out


def base_namespace(locked_sources: Sequence[str]) -> dict:
    """The names test cells use besides the student's: the checks and the imports of the
    course's locked cells (run here as imports only, never their other statements)."""
    import math

    from weightinit import grading

    ns: dict[str, Any] = {"__builtins__": builtins, "np": np, "math": math}
    ns.update({name: getattr(grading, name) for name in grading.__all__})
    for source in locked_sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                try:
                    exec(compile(ast.Module([node], []), "<course>", "exec"), ns)  # noqa: S102
                except Exception:  # noqa: BLE001,S110  (an import of the course's that fails)
                    pass
    return ns


def without_check_imports(source: str) -> str:
    """A course cell as the student's kernel runs it during autograde: without its imports of
    the checks, which only the test cells use and which run here, not there (it saves the
    kernel loading SciPy's statistics for nothing). Anything else in the cell is kept as is."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    drop = [node for node in tree.body if isinstance(node, ast.ImportFrom) and (
        node.module in ("weightinit.checks", "weightinit.grading"))]
    if not drop:
        return source
    lines = source.splitlines(keepends=True)
    for node in reversed(drop):
        lines[node.lineno - 1:node.end_lineno] = ["\n"] * (node.end_lineno - node.lineno + 1)
    return "".join(lines)


def locked_imports_from_weightinit(locked_sources: Sequence[str]) -> list[str]:
    """Names the course's own cells import from weightinit (other than the checks): a student
    may use these (ex04's ``compute_fans``)."""
    names = []
    for source in locked_sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("weightinit"):
                if node.module in ("weightinit.checks",) or ".grading" in node.module:
                    continue
                names += [alias.asname or alias.name for alias in node.names]
    return names


def _picture_output(exc: Exception, hidden: bool) -> list[dict]:
    """The failed check's picture as a display output, if it has one (set by the checks, in
    this process: an exception from the student's code is rebuilt here and carries none), and
    unless the test is hidden and the picture would show its arguments."""
    pictures = sys.modules.get("weightinit.grading.pictures")  # loaded if a check drew one
    picture = getattr(exc, "picture", None)
    if pictures is None or not isinstance(picture, pictures.Picture):
        return []
    if hidden and picture.reveals_arguments:
        return []
    return [{"output_type": "display_data", "metadata": {},
             "data": {"image/svg+xml": picture.svg, "text/plain": picture.alt}}]


def judge_test(judge: Judge, ns: dict, source: str) -> list[dict]:
    """Evaluate one test cell here; ``[]`` when it passes, else one error output."""
    hidden = hidden_lines(source)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [_error("SyntaxError", f"the test cell does not parse: {exc}")]
    cell_ns = dict(ns)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for name in names - set(cell_ns) - set(dir(builtins)):
        cell_ns[name] = Proxy(judge, name)
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # the docstring
        judge.hidden = node.lineno in hidden
        code = compile(ast.Module([node], []), "<test>", "exec")
        try:
            exec(code, cell_ns)  # noqa: S102  (the course's own test code)
        except Exception as exc:  # noqa: BLE001
            ename = type(exc).__name__
            message = str(exc) or ename
            if not isinstance(exc, AssertionError):  # the test's own call failed, not a check
                message = f"{ename}: {message}"
            if judge.hidden:
                for text in sorted(set(judge.secrets), key=len, reverse=True):
                    message = message.replace(text, "(not shown for a hidden test)")
                message = "A hidden test (another shape, seed or argument than the visible " \
                          "tests) failed: " + redact(message)
            figure = _picture_output(exc, judge.hidden)
            return [*figure, _error("AssertionError", strip_paths(message))]
        finally:
            judge.hidden = False
    return []


# ------------------------------------------------------------------------------------------
# The process
# ------------------------------------------------------------------------------------------


def kernel_env() -> dict[str, str]:
    """The kernel's environment: what Python and NumPy need, nothing of the instructor's."""
    keep = ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "PYTHONPATH", "OPENBLAS_CORETYPE",
            "OPENBLAS_L2_SIZE", "TZ")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               MPLBACKEND="Agg", PYDEVD_DISABLE_FILE_VALIDATION="1", HOME="/tmp",
               IPYTHONDIR="/tmp/.ipython", MPLCONFIGDIR="/tmp/.matplotlib")
    return env


def new_kernel(course_roots: Sequence[str]) -> Kernel:
    """A kernel for grading a notebook of the course in `course_roots` (not started yet)."""
    return Kernel(sandbox.probe() is None, kernel_env(),
                  course_roots=[Path(p) for p in course_roots])


def run(job: dict, kernel: Kernel | None = None) -> dict:
    """Grade the notebook described by `job` (see :mod:`weightinit.grading.nbgrader`).

    `job` has ``cells``: a list of ``{"index", "kind", "source"}`` with kind ``student`` (run in
    the kernel), ``locked`` (the course's own code: run in the kernel, its imports also here) or
    ``test`` (judged here); and optionally ``limits``: ``{"cell_seconds", "call_seconds"}``.
    `kernel`, if given, is a fresh kernel already started for this job's course (by
    :mod:`weightinit.grading.batch`, while the previous notebook was being graded); it is
    closed at the end.
    """
    cells = job["cells"]
    limits = job.get("limits", {})
    started = kernel is not None
    if kernel is None:
        kernel = new_kernel(job.get("course_roots", [os.getcwd()]))
    kernel.cell_seconds = float(limits.get("cell_seconds", CELL_SECONDS))
    kernel.call_seconds = float(limits.get("call_seconds", CALL_SECONDS))
    sandboxed = kernel.sandboxed
    results: dict[str, dict] = {}
    student = [c["source"] for c in cells if c["kind"] == "student"]
    locked = [c["source"] for c in cells if c["kind"] == "locked"]
    namespace: dict[str, dict] = {}
    # The checks import while the kernel starts and runs the student's cells.
    loader = threading.Thread(target=lambda: namespace.update(ns=base_namespace(locked)))
    clock = {"begin": time.perf_counter()}
    try:
        loader.start()
        if not started:
            kernel.start()
        clock["kernel started"] = time.perf_counter()
        for cell in cells:
            if cell["kind"] in ("student", "locked"):
                source = cell["source"]
                if cell["kind"] == "locked":
                    source = without_check_imports(source)
                outputs, count = kernel.run_cell(source)
                results[str(cell["index"])] = {"outputs": outputs, "execution_count": count}
        clock["cells run"] = time.perf_counter()
        loader.join()
        clock["checks loaded"] = time.perf_counter()
        judge = Judge(kernel, student, locked_imports_from_weightinit(locked), locked)
        for cell in cells:
            if cell["kind"] == "test":
                outputs = judge_test(judge, namespace["ns"], cell["source"])
                results[str(cell["index"])] = {"outputs": outputs, "execution_count": None}
        clock["tests judged"] = time.perf_counter()
    finally:
        if loader.is_alive():
            loader.join()
        kernel.close()
    marks = list(clock.items())
    seconds = {name: round(t - marks[i][1], 3) for i, (name, t) in enumerate(marks[1:])}
    return {"cells": results, "sandboxed": sandboxed, "restarts": kernel.restarts,
            "calls": kernel.calls, "seconds": seconds,
            "slowest": {k: round(v, 3) for k, v in kernel.slowest.items()}}


def main() -> None:
    job = json.load(sys.stdin)
    # Nothing but the result on the real stdout: whatever else writes to file descriptor 1
    # (a library, a child process) writes to stderr instead.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    result = run(job)
    out.write(json.dumps(result))
    out.flush()


if __name__ == "__main__":
    main()
