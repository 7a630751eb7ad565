"""nbgrader configuration of the weightinit course (nbgrader 0.9).

Instructor sources live in ``solutions/<assignment>/<assignment>.ipynb``; ``nbgrader
generate_assignment`` writes the student versions to ``exercises/<assignment>/`` (``make
release``), and ``make grade`` autogrades ``submitted/<student>/<assignment>/``. Run nbgrader from
the repository root, where this file is.
"""

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import Execute

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "weightinit"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Only notebooks are released (and collected): every name that does not end in ".ipynb" matches
# one of these globs (fnmatch has no negation, so the complement is spelled out suffix by
# suffix), which keeps scratch files, data, __pycache__ and checkpoints out of exercises/.
c.CourseDirectory.ignore = [
    "*[!b]",
    "*[!n]b",
    "*[!y]nb",
    "*[!p]ynb",
    "*[!i]pynb",
    "*[!.]ipynb",
    "b",
    "nb",
    "ynb",
    "pynb",
    "ipynb",
    ".ipynb_checkpoints",
]

# Each cell gets 15 s (the slowest test cell needs about 2 s); a cell still running then is
# interrupted and marked wrong, and grading goes on with the next cell.
c.Execute.timeout = 15
c.Execute.interrupt_on_timeout = True


class ResilientExecute(Execute):
    """nbgrader's Execute, but one student's dead or stuck kernel costs only that student's cells.

    Stock nbgrader gives up on the whole submission when the kernel dies (``os._exit``, a
    segfault, running out of memory): the student gets no autograded notebook and no feedback.
    Here the cell that killed the kernel, or that timed out, is marked with an error; a fresh
    kernel is started; the cells that ran cleanly before it (except test cells) are run again,
    silently, to rebuild the state; and grading continues with the next cell.
    """

    def preprocess_cell(self, cell, resources, index):
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs = [
                nbformat.v4.new_output(
                    "error",
                    ename="DeadKernelError",
                    evalue="the kernel died while running this cell",
                    traceback=[
                        "DeadKernelError: the kernel died while running this cell (os._exit, a "
                        "crash, or running out of memory). The cells after it ran in a new kernel."
                    ],
                )
            ]
            self._fresh_kernel(index)
            return cell, self.resources
        if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            self._fresh_kernel(index)
        return cell, resources

    def _fresh_kernel(self, index):
        """A new kernel with the state of the clean cells before `index` rebuilt."""
        self.log.warning("Restarting the kernel after cell %d", index)
        try:
            self._cleanup_kernel()
        except Exception:  # the old kernel may be gone already
            self.log.warning("Could not shut the old kernel down cleanly", exc_info=True)
            self.km = self.kc = None
        self.km = self.create_kernel_manager()
        self.start_new_kernel()
        self.start_new_kernel_client()
        for earlier in self.nb.cells[:index]:
            meta = earlier.get("metadata", {}).get("nbgrader", {})
            is_test = meta.get("grade", False) and not meta.get("solution", False)
            failed = any(o.get("output_type") == "error" for o in earlier.get("outputs", []))
            if earlier.cell_type != "code" or is_test or failed or not earlier.source.strip():
                continue
            try:
                msg_id = self.kc.execute(earlier.source, silent=True, store_history=False)
                run_sync(self.async_wait_for_reply)(msg_id, earlier)
            except DeadKernelError:
                self.log.warning("The kernel died again while replaying; replay stopped")
                self.km = self.create_kernel_manager()
                self.start_new_kernel()
                self.start_new_kernel_client()
                break


c.Autograde.autograde_preprocessors = [
    ResilientExecute if p is Execute else p
    for p in Autograde.class_traits()["autograde_preprocessors"].default()
]
