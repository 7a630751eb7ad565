"""The book's kernels forked from a warm zygote (scripts/book_kernels.py): each is a fresh,
working IPython kernel with the environment and folder it was asked for, it can be interrupted
and shut down like one started by jupyter_client, and without a zygote kernels start as usual.

No limit here is a measured time: the waits are generous bounds on a kernel that answers.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import book_kernels  # noqa: E402

#: A bound on any wait for a kernel that works (generous: the machine may be busy).
PATIENCE = 120.0


@pytest.fixture(scope="module")
def zygote():
    path, stop = book_kernels.start_zygote()
    old, book_kernels._SOCKET = book_kernels._SOCKET, path
    try:
        assert book_kernels._ready(), "the zygote did not start"
        yield path
    finally:
        book_kernels._SOCKET = old
        stop()


def _notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def _run(nb: nbformat.NotebookNode, cwd: Path) -> list[str]:
    """Execute `nb` as the book's build does; the text each cell printed."""
    import nbclient

    nbclient.execute(nb, cwd=str(cwd), timeout=int(PATIENCE),
                     kernel_manager_class=book_kernels.kernel_manager_class())
    return ["".join(o.get("text", "") for o in cell.outputs).strip() for cell in nb.cells]


def _gone(pid: int) -> bool:
    """Whether process `pid` ends within PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_a_forked_kernel_runs_code_where_and_with_what_it_was_asked(zygote, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("WI_PROBE", "forty-two")
    out = _run(_notebook(
        f"import os, sys\nprint(os.getpid() != os.getppid(), os.getppid() != {os.getpid()})",
        "print('scipy.stats' in sys.modules)",  # imported by the zygote, not by this notebook
        "print(os.getcwd())\nprint(os.environ.get('WI_PROBE'))",
        "secret = 7\nprint(secret * 6)",
    ), tmp_path)
    assert out[0] == "True True"  # its parent is the zygote, not this process
    assert out[1] == "True", "the kernel was not forked from the warm zygote"
    assert out[2].splitlines() == [str(tmp_path), "forty-two"]
    assert out[3] == "42"


def test_a_forked_kernel_shows_figures_as_a_fresh_one_does(zygote, tmp_path):
    """Without ``%matplotlib inline``, a figure left open is shown as a PNG at the end of the
    cell (ipykernel's inline backend, wired into the shell when it is first imported)."""
    nb = _notebook("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nNone")
    _run(nb, tmp_path)
    kinds = [sorted(o.get("data", {})) for o in nb.cells[0].outputs]
    assert ["image/png", "text/plain"] in kinds, kinds


def test_each_kernel_starts_with_a_fresh_namespace(zygote, tmp_path):
    first = _run(_notebook("leak = 'from the first chapter'\nprint(leak)"), tmp_path)
    second = _run(_notebook("print('leak' in globals(), 'secret' in globals())"), tmp_path)
    assert first == ["from the first chapter"]
    assert second == ["False False"]


def test_a_forked_kernel_is_interrupted_and_shut_down_like_any(zygote):
    km = book_kernels.kernel_manager_class()(kernel_name="python3")

    import asyncio
    from queue import Empty

    async def next_message(get, msg_id: str, wanted, phase: str) -> dict:
        """The next message of request `msg_id` that `wanted` accepts; a failure names `phase`."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            try:
                msg = await get(timeout=max(0.0, deadline - time.monotonic()))
            except Empty:
                break
            if msg["parent_header"].get("msg_id") == msg_id and wanted(msg):
                return msg
        pytest.fail(f"{phase}: nothing within {PATIENCE:.0f} s")

    async def scenario():
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=PATIENCE)
            pid = km.provisioner.pid
            msg_id = kc.execute("import time\nprint('looping', flush=True)\n"
                                "while True:\n    time.sleep(0.01)")
            await next_message(kc.get_iopub_msg, msg_id,  # the loop runs: interrupt it
                               lambda m: "looping" in m["content"].get("text", ""),
                               "the cell's first output")
            await km.interrupt_kernel()
            reply = await next_message(kc.get_shell_msg, msg_id, lambda m: True,
                                       "the reply after the interrupt")
            assert reply["content"]["status"] == "error"
            assert reply["content"]["ename"] == "KeyboardInterrupt"
        finally:
            kc.stop_channels()
            await km.shutdown_kernel()
        return pid

    pid = asyncio.run(scenario())
    assert _gone(pid), f"the kernel {pid} outlived its shutdown"


def test_the_zygote_forks_only_ipykernel(zygote, tmp_path):
    with pytest.raises(RuntimeError, match="not an ipykernel command"):
        book_kernels._fork_kernel(zygote, [sys.executable, "-c", "print(1)"], dict(os.environ),
                                  str(tmp_path))


def test_without_a_zygote_kernels_start_as_usual(tmp_path, monkeypatch):
    monkeypatch.setattr(book_kernels, "_SOCKET", None)
    out = _run(_notebook("import os, sys\n"
                         f"print(os.getppid() == {os.getpid()}, 'scipy.stats' in sys.modules)"),
               tmp_path)
    assert out == ["True False"]


def test_a_client_waits_in_slices_so_a_missed_wake_up_costs_one_slice(monkeypatch):
    """pyzmq's asyncio poll can miss a message's wake-up and notice the message only when its
    timeout ends; every wait of the book's clients is cut into slices of SLICE_SECONDS."""
    import asyncio
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    channel_class = book_kernels._client_class().shell_channel_class.default_value
    asked = []

    async def parent_get_msg(self, timeout=None):
        asked.append(timeout)
        if len(asked) < 4:  # three slices pass with the wake-up missed; the fourth sees it
            raise Empty
        return {"msg_type": "execute_reply"}

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", parent_get_msg)
    channel = object.__new__(channel_class)
    for timeout in (None, 120.0):  # nbclient waits without a limit on IOPub, 120 s on shell
        asked.clear()
        assert asyncio.run(channel.get_msg(timeout=timeout)) == {"msg_type": "execute_reply"}
        assert len(asked) == 4 and all(t <= book_kernels.SLICE_SECONDS for t in asked)

    asked.clear()

    async def never(self, timeout=None):
        asked.append(timeout)
        raise Empty

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", never)
    with pytest.raises(Empty):  # a real timeout still ends the wait
        asyncio.run(channel.get_msg(timeout=0.0))
    assert asked == [0.0]


def test_kernels_end_with_their_zygote(tmp_path):
    """A build stopped by Ctrl-C or killed leaves no kernel behind: the zygote ends with the
    build (it watches its parent) and each kernel with the zygote (ipykernel's parent poller)."""
    path, stop = book_kernels.start_zygote()
    try:
        deadline = time.monotonic() + PATIENCE
        while not os.path.exists(path):
            assert time.monotonic() < deadline, "the zygote did not start"
            time.sleep(0.05)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", str(tmp_path / "k.json")]
        pid = book_kernels._fork_kernel(path, argv, dict(os.environ), str(tmp_path))
        os.kill(pid, 0)  # running
    finally:
        stop()
    assert _gone(pid), f"the kernel {pid} outlived its zygote"


def test_only_this_pythons_ipykernel_is_forked():
    python = sys.executable
    assert book_kernels._forkable([python, "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not book_kernels._forkable(["/usr/bin/env", "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not book_kernels._forkable([python, "-m", "other_kernel", "-f", "k.json"])
    assert not book_kernels._forkable([python])
    base = os.path.realpath(python)  # the interpreter a venv's python links to
    if os.path.dirname(base) != os.path.dirname(python):
        assert not book_kernels._forkable([base, "-m", "ipykernel_launcher", "-f", "k.json"])


def test_the_book_build_forks_every_chapter_kernel(built_book):
    """`make book` (the session's clean build) ran every chapter in a forked kernel."""
    log = (built_book.parents[1] / "build.log").read_text(encoding="utf-8")
    executed = log.count("Executed notebook in")
    assert executed >= 12, log[-3000:]
    assert f"book_kernels: {executed} kernels forked from one warm process" in log, log[-3000:]
