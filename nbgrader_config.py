"""nbgrader configuration of the weightinit course (nbgrader 0.9).

Instructor sources live in ``solutions/<assignment>/<assignment>.ipynb``; ``nbgrader
generate_assignment`` writes the student versions to ``exercises/<assignment>/`` (``make
release``), and ``make grade`` autogrades ``submitted/<student>/<assignment>/``. Run nbgrader from
the repository root, where this file is.
"""

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

# Autograde through the judge (weightinit.grading): the student's cells run in a sandboxed kernel,
# every test cell is evaluated in a separate process that never runs student code, and feedback
# pages never show hidden tests. Time limits (per cell and per call) are the judge's.
from weightinit.grading.nbgrader import configure  # noqa: E402

configure(c)
