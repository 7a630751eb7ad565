"""The box a student's kernel runs in during autograde: what it may use, and what it may not.

The kernel is started through Linux's bubblewrap (Debian package ``bubblewrap``) and ``prlimit``:

- the whole machine read-only, and the course folder and the grading user's home emptied
  (solutions with their hidden tests, the gradebook, every student's submission and feedback,
  the nbgrader exchange), except Python and the installed package; two writable places: a
  private ``/tmp`` in memory (its working folder and home, :data:`SCRATCH_BYTES`), and the
  exchange folder where the judge and the kernel pass requests and replies;
- no network (a new network namespace with only its own loopback), no view of the machine's
  other processes (a new PID namespace: every process the kernel starts dies with it, detached
  or not), no capabilities, a new session (no terminal to inject into);
- limits: :data:`MEMORY_BYTES` of address space, :data:`CPU_SECONDS` of CPU in all, files of at
  most :data:`FILE_BYTES`.

Where bubblewrap is missing or cannot create namespaces, :func:`probe` says so and what is then
not promised; the kernel still gets the resource limits.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

#: Address space of the student's kernel. Python with NumPy and SciPy loaded uses about 0.6 GiB;
#: the largest correct answer in the exercises needs a few MB more.
MEMORY_BYTES = 2 * 2**30

#: CPU time of the kernel over the whole notebook (a backstop; calls have their own limit).
CPU_SECONDS = 1200

#: The largest file the kernel may write, and the size of its in-memory /tmp and working folder.
FILE_BYTES = 128 * 2**20
SCRATCH_BYTES = 256 * 2**20

#: What is lost without bubblewrap, said by `make grade`.
UNSANDBOXED = (
    "bubblewrap (bwrap) is not usable here, so student code runs with the grading user's rights: "
    "it can write the gradebook and the course's files, reach the network, and leave processes "
    "running after grading. Grades are still reached by the judge, but nothing stops a submission "
    "from tampering with the course. Install it (Debian/Ubuntu: apt-get install bubblewrap) and "
    "allow unprivileged user namespaces, or grade as root."
)


def warning() -> str | None:
    """The line `make grade` prints when the sandbox cannot be built here (what is then not
    promised), or None when it can."""
    why = probe()
    return f"WARNING: {why}. {UNSANDBOXED}" if why else None


@functools.cache
def probe() -> str | None:
    """``None`` when bubblewrap can build the sandbox here, else the reason it cannot."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bwrap is not installed"
    try:
        run = subprocess.run(
            [bwrap, *_namespaces(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
             "true"],
            capture_output=True, timeout=60, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not run: {exc}"
    if run.returncode != 0:
        return f"bwrap failed: {run.stderr.decode(errors='replace').strip()[:300]}"
    return None


def _namespaces() -> list[str]:
    return ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session"]


def limits() -> list[str]:
    """``prlimit`` arguments for the kernel (memory, CPU, file size)."""
    return ["prlimit", f"--as={MEMORY_BYTES}", f"--cpu={CPU_SECONDS}", f"--fsize={FILE_BYTES}",
            "--core=0", "--"]


def hidden(roots: Sequence[Path], keep: Sequence[Path]) -> list[Path]:
    """What the kernel must not see although the machine is mounted read-only: every entry of
    each folder in `roots` (the course folder: solutions, gradebook, submissions, feedback; the
    grading user's home) except those on the way to a folder in `keep` (Python and the installed
    package, which the kernel needs)."""
    keep = [Path(os.path.realpath(k)) for k in keep]
    out: list[Path] = []
    for root in roots:
        root = Path(os.path.realpath(root))
        if not root.is_dir() or root == Path("/"):
            continue
        for entry in sorted(root.iterdir()):
            real = Path(os.path.realpath(entry))
            if any(k == real or real in k.parents or k in real.parents for k in keep):
                continue
            if entry.is_symlink():
                continue  # its target is masked where it lives, if it is under a root
            out.append(entry)
    return out


def _masks(paths: Sequence[Path]) -> list[str]:
    args: list[str] = []
    for path in paths:
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    return args


def _under_tmp(paths: Sequence[Path]) -> list[str]:
    """Read-only binds that bring back the folders the kernel needs (Python, the package) where
    they live under /tmp, which the sandbox replaces with an empty one (a course cloned to
    /tmp, as CI does)."""
    args: list[str] = []
    seen: set[str] = set()
    for path in paths:
        for form in {str(path), os.path.realpath(path)}:
            if form.startswith("/tmp/") and os.path.exists(form) and form not in seen:
                seen.add(form)
                args += ["--ro-bind", form, form]
    return args


def wrap(cmd: Sequence[str], exchange: Path, sandboxed: bool = True,
         hide: Sequence[Path] = (), needed: Sequence[Path] = ()) -> list[str]:
    """`cmd` (a kernel's command line) run inside the sandbox.

    Parameters
    ----------
    cmd : sequence of str
        The kernel's command, e.g. ``[python, -m, ipykernel_launcher, -f, connection_file]``.
    exchange : Path
        The one host folder the kernel may write: its connection file and sockets, and the
        judge's request and reply files.
    sandboxed : bool
        False where :func:`probe` failed: only the limits apply.
    hide : sequence of Path
        Files and folders replaced by empty ones in the kernel's view (:func:`hidden`).
    needed : sequence of Path
        Folders the kernel cannot run without (Python's prefixes, the folder holding the
        package): kept visible even under /tmp.
    """
    prefix = limits()
    if not sandboxed or shutil.which("prlimit") is None:
        return [*(prefix if shutil.which("prlimit") else []), *cmd]
    work = "/tmp"  # the kernel's working folder and home: the in-memory /tmp
    box = [
        "bwrap", *_namespaces(),
        "--ro-bind", "/", "/",
        *_masks(hide),
        "--dev", "/dev",
        "--proc", "/proc",
        "--size", str(SCRATCH_BYTES), "--tmpfs", "/tmp",
        *_under_tmp(needed),
        "--bind", str(exchange), str(exchange),
        "--chdir", work,
        "--setenv", "HOME", work,
        "--setenv", "IPYTHONDIR", f"{work}/.ipython",
        "--setenv", "MPLCONFIGDIR", f"{work}/.matplotlib",
        "--setenv", "JUPYTER_RUNTIME_DIR", str(exchange),
        "--unsetenv", "JPY_PARENT_PID",
        "--cap-drop", "ALL",
        "--",
    ]
    return [*prefix, *box, *cmd]
