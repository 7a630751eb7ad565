"""Kernels for the book's build, forked from one warm process instead of started from scratch.

Every chapter runs in a new IPython kernel, and starting one costs about 3 s of CPU before the
first line of the chapter runs: a Python process, IPython and ipykernel, then numpy, scipy,
matplotlib and the package. Twelve chapters pay that twelve times. Here a *zygote* process
imports all of it once, and each kernel is a ``fork`` of it: a fresh process with a fresh
namespace (a chapter sees nothing another chapter did), whose imports are already done.

- :func:`serve` is the zygote (``python scripts/book_kernels.py SOCKET``). It answers one request
  per connection on a Unix socket: the kernel's command line, environment and working directory
  in, the forked kernel's PID out.
- ``ForkingProvisioner`` is the jupyter_client side: a ``LocalProvisioner`` whose
  ``launch_kernel`` asks the zygote instead of calling ``Popen``. Signals, ``poll`` and ``kill``
  go to the PID (the kernel leads its own session, so its process group is its PID).
- ``ForkingKernelManager`` uses it, the ``ipc`` transport (Unix sockets in a private folder, no
  TCP ports to pick), and a client whose channels wait in short slices: pyzmq's asyncio sockets
  sometimes miss the wake-up for a reply, which then waited for nbclient's 120 s timeout.
- :func:`start` runs the zygote for the life of the calling process and makes nbclient (as
  jupyter-cache calls it for myst-nb) use these kernels; without a zygote, or for a command that
  is not ipykernel's, kernels start as usual (with the same client).

A forked kernel inherits the zygote's environment at the time of the imports (which is the
build's, e.g. ``OPENBLAS_NUM_THREADS``) and then takes the environment jupyter_client gives it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import json
import os
import pkgutil
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from queue import Empty

#: What a chapter imports, imported once in the zygote (the package's chapter and simulation
#: modules are added by :func:`warm_up`). Not ``matplotlib_inline.backend_inline``: importing it
#: is what wires the inline backend into the kernel's shell (figures shown as PNG at the end of a
#: cell), and in the zygote there is no shell yet; :func:`warm_up` checks that nothing else
#: imports it.
WARM = ("numpy", "scipy.special", "scipy.stats", "matplotlib.pyplot",
        "IPython.display", "IPython.core.magics.pylab",
        "ipywidgets", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
        "ipykernel.comm", "weightinit",
        # glue's first call imports nbformat, whose jsonschema compiles 39 grammars for
        # rfc3987-syntax: 1.4 s of every chapter.
        "myst_nb", "myst_nb.ext.glue")
#: The packages whose every module a chapter may import.
WARM_PACKAGES = ("weightinit.simulation", "weightinit.chapters")
#: ``argv[1:3]`` of a kernel command the zygote can fork (``python -m ipykernel_launcher ...``).
LAUNCHER = ["-m", "ipykernel_launcher"]
#: The longest a kernel client waits on a socket before it looks again (see ``SlicedChannel``).
SLICE_SECONDS = 0.5
#: Seconds a build waits for the zygote's socket to appear before it starts kernels as usual.
READY_SECONDS = 120.0


def warm_up() -> None:
    """Import what the chapters import. matplotlib gets the backend ipykernel would choose."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in WARM:
        importlib.import_module(name)
    for package_name in WARM_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__, package_name + "."):
            importlib.import_module(info.name)
    if "matplotlib_inline.backend_inline" in sys.modules:
        raise RuntimeError("the inline backend was imported before the kernel's shell exists: "
                           "chapters would show '<Figure ...>' instead of their figures")


def _become_kernel(request: dict) -> None:
    """In the forked child: take the request's environment and folder and run ipykernel, as
    ``python -m ipykernel_launcher ARGS`` would, then exit without the zygote's clean-up."""
    code = 1
    try:
        for signum in (signal.SIGCHLD, signal.SIGTERM):  # the zygote's own handling, not a kernel's
            signal.signal(signum, signal.SIG_DFL)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        here = str(Path(__file__).resolve().parent)
        sys.path[:] = [p for p in sys.path if p not in ("", here)]
        argv = request["argv"][3:]
        sys.argv = ["ipykernel_launcher", *argv]
        from ipykernel.kernelapp import IPKernelApp

        # parent_handle's default was read from the zygote's environment at import; the kernel's
        # parent is the zygote, and the kernel ends if the zygote does.
        app = IPKernelApp.instance(parent_handle=os.getppid())
        app.initialize(argv)
        app.start()
        code = 0
    except BaseException:  # noqa: BLE001  (report, never return into the zygote's loop)
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _handle(conn: socket.socket) -> int:
    """Read one request (a JSON line), fork a kernel for it, answer with its PID; return the
    number of kernels forked (0 or 1)."""
    with conn, conn.makefile("rw") as stream:
        try:
            request = json.loads(stream.readline())
            if not _forkable(request.get("argv", [])):  # the same test as the build's side
                raise ValueError(f"not an ipykernel command: {request.get('argv')!r}")
        except (ValueError, AttributeError, TypeError) as exc:
            stream.write(json.dumps({"error": str(exc)}) + "\n")
            return 0
        pid = os.fork()
        if pid == 0:
            _become_kernel(request)
        stream.write(json.dumps({"pid": pid}) + "\n")
        return 1


def serve(path: str) -> None:
    """The zygote: warm up, then fork a kernel for each request on the Unix socket `path`,
    until the process that started it ends."""
    parent = os.getppid()
    try:
        warm_up()
    except BaseException:  # the build then starts kernels as usual (see _ready)
        os.rmdir(os.path.dirname(path))
        raise
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".part")
    listener.listen(16)
    os.rename(path + ".part", path)  # the socket appears only once it accepts
    listener.settimeout(1.0)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the build ends: say what was done
    forked = 0
    try:
        while os.getppid() == parent:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            forked += _handle(conn)
    finally:
        if forked:
            print(f"book_kernels: {forked} kernels forked from one warm process", file=sys.stderr)


# ------------------------------------------------------------------------------------------
# The build's side
# ------------------------------------------------------------------------------------------

#: The zygote's socket, once :func:`start` has run in this process (or in the one it forked from).
_SOCKET: str | None = None


class ForkedProcess:
    """What ``LocalProvisioner`` needs of a ``Popen``, for a kernel the zygote forked (it is
    not this process's child: its exit status is not known, and ``0`` stands for it)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except (ProcessLookupError, PermissionError):  # gone, or its PID reused by another user
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["kernel"], timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _forkable(cmd: list[str]) -> bool:
    """Whether `cmd` is ipykernel run by this Python (the zygote's): a kernel spec that names
    another interpreter gets that interpreter, as it asks."""
    if len(cmd) < 3 or cmd[1:3] != LAUNCHER:
        return False
    executable = shutil.which(cmd[0]) or cmd[0]
    # The same folder, not the same file: a venv's python links to the interpreter it was made
    # from, so two venvs share the file but not the packages.
    return os.path.dirname(os.path.abspath(executable)) == os.path.dirname(sys.executable)


def _ready() -> bool:
    """Whether the zygote accepts requests, waiting up to :data:`READY_SECONDS` for it to warm
    up; if it does not, kernels start as usual (and the build says so once)."""
    global _SOCKET
    deadline = time.monotonic() + READY_SECONDS
    while _SOCKET is not None and not os.path.exists(_SOCKET):
        if time.monotonic() > deadline or not os.path.exists(os.path.dirname(_SOCKET)):
            print("book_kernels: the kernel zygote did not start; chapters start their own "
                  "kernels", file=sys.stderr)
            _SOCKET = None
        else:
            time.sleep(0.05)
    return _SOCKET is not None


def _fork_kernel(path: str, argv: list[str], env: dict, cwd: str) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(path)
        with client.makefile("rw") as stream:
            stream.write(json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n")
            stream.flush()
            answer = json.loads(stream.readline() or "{}")
    if "pid" not in answer:
        raise RuntimeError(f"the kernel zygote could not fork a kernel: {answer.get('error')}")
    return int(answer["pid"])


def _provisioner_class():
    from jupyter_client.provisioning import LocalProvisioner

    class ForkingProvisioner(LocalProvisioner):
        """``LocalProvisioner`` with kernels forked by the zygote (see the module's text)."""

        async def launch_kernel(self, cmd: list[str], **kwargs):
            if not (_forkable(cmd) and _ready()):
                return await super().launch_kernel(cmd, **kwargs)
            env = kwargs.get("env") or dict(os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            pid = _fork_kernel(_SOCKET, list(cmd), dict(env), cwd)
            self.process = ForkedProcess(pid)
            self.pid = self.pgid = pid  # the kernel leads its own session and group
            self.cwd = cwd
            return self.connection_info

    return ForkingProvisioner


def _client_class():
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.channels import AsyncZMQSocketChannel
    from traitlets import Type

    class SlicedChannel(AsyncZMQSocketChannel):
        """A channel whose ``get_msg`` waits in slices of :data:`SLICE_SECONDS`.

        pyzmq's asyncio sockets can miss the wake-up for a message that has arrived (the
        socket's file descriptor signals edges, not levels). The message is only noticed when
        the wait's timeout ends and pyzmq polls once more: for a cell, nbclient's timeout
        (120 s), so a chapter that takes 8 s took 128, in about one clean build in two. With
        short slices a missed wake-up costs at most one slice.
        """

        async def get_msg(self, timeout: float | None = None):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = SLICE_SECONDS if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    return await super().get_msg(timeout=min(SLICE_SECONDS, left))
                except Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise

    class SlicedKernelClient(AsyncKernelClient):
        shell_channel_class = Type(SlicedChannel)
        iopub_channel_class = Type(SlicedChannel)
        stdin_channel_class = Type(SlicedChannel)
        control_channel_class = Type(SlicedChannel)

    return SlicedKernelClient


@functools.cache
def kernel_manager_class():
    """An ``AsyncKernelManager`` (what nbclient uses) with the forking provisioner, the ``ipc``
    transport in a private folder, and channels that wait in slices (see ``SlicedChannel``)."""
    from jupyter_client.manager import AsyncKernelManager

    provisioner_class = _provisioner_class()
    client_class = _client_class()
    folder = tempfile.mkdtemp(prefix="wi-book-kernels-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)

    class ForkingKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", os.path.join(folder, uuid.uuid4().hex[:12]))
            super().__init__(**kwargs)
            self.client_factory = client_class

        async def _async_pre_start_kernel(self, **kw):
            if self.provisioner is None:
                self.provisioner = provisioner_class(
                    kernel_id=self.kernel_id or str(uuid.uuid4()),
                    kernel_spec=self.kernel_spec, parent=self)
            return await super()._async_pre_start_kernel(**kw)

    return ForkingKernelManager


def start_zygote() -> tuple[str, Callable[[], None]]:
    """Start a zygote; return its socket's path (which appears once it is warm) and a function
    that ends it."""
    folder = Path(tempfile.mkdtemp(prefix="wi-book-zygote-"))
    path = str(folder / "zygote.sock")
    zygote = subprocess.Popen([sys.executable, __file__, path], stdin=subprocess.DEVNULL)

    def stop() -> None:
        zygote.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            zygote.wait(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)

    return path, stop


def start(zygote: bool = True) -> None:
    """Make nbclient's ``execute``, as jupyter-cache calls it for myst-nb, use
    ``kernel_manager_class()``, and (unless `zygote` is false) start the zygote for the life of
    this process and of the processes it forks, such as Sphinx's readers."""
    global _SOCKET
    import jupyter_cache.executors.utils as cache_utils
    import nbclient

    if zygote:
        path, stop = start_zygote()
        atexit.register(stop)
        _SOCKET = path  # readers wait for it (see _ready): Sphinx starts while it warms up
    cache_utils.executenb = functools.partial(nbclient.execute,
                                              kernel_manager_class=kernel_manager_class())

if __name__ == "__main__":
    serve(sys.argv[1])
