"""The lines `make grade` prints for the instructor, all through one function.

Every part of the grader that has something to tell the instructor (a tampered submission, one
that could not be graded, a repaired file) calls :func:`say`. By default the line goes to
standard error; :mod:`weightinit.grading.batch` routes it above its progress bar instead, and
its workers route theirs back to the process that owns the terminal, so a progress bar
and these lines never overwrite each other.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


#: Where :func:`say` writes; replaced with :func:`set_sink`.
_sink: list[Callable[[str], None]] = [_stderr]


def say(message: str) -> None:
    """Tell the instructor `message`, as one line starting ``[grade]``."""
    _sink[0](f"[grade] {message}")


def set_sink(sink: Callable[[str], None] | None) -> Callable[[str], None]:
    """Send every later line to `sink` (None: standard error); returns the previous sink."""
    previous = _sink[0]
    _sink[0] = sink or _stderr
    return previous
