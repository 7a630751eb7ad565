"""Shared by every module of the checks: the false-failure rate, the failure, the kernel's memory.

``ALPHA`` is the false-failure probability of every band. A check raises ``_Failure`` with a
message for the student (and maybe a picture), and :func:`_public` turns it into a one-frame
``AssertionError`` (with the picture as its ``picture`` attribute) at the public check's
boundary. :func:`_fmt` and :func:`_name` format numbers and functions for
those messages.

The module-level state lives here and nowhere else: the global seeds planted in ``np.random``
(``_GLOBAL_SEEDS``), and what has been asked so far in this kernel (``_ASKED_SHAPES``,
``_ASKED_FANS``, ``_ASKED_ANSWERS``), which the checks use to recognise an answer hard-coded for
an earlier, visible test. The other modules import these dicts, so they all update the same ones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .. import stats

#: False-failure probability of each band: a correct answer fails it at most this often.
ALPHA = stats.ALPHA

#: The global seeds the checker plants in ``np.random`` to see whether a function reads it.
_GLOBAL_SEEDS = (2718281, 3141592)

#: Shapes (and fans answers) asked so far in this kernel, per function name: an answer that
#: returns one of them for another input was hard-coded for an earlier (visible) test.
_ASKED_SHAPES: dict[str, list[tuple[int, ...]]] = {}
_ASKED_FANS: dict[str, dict[tuple[int, ...], tuple[int, int]]] = {}

#: Answers given so far in this kernel, per function: an answer that returns one of them for
#: other inputs was hard-coded for an earlier (visible) test.
_ASKED_ANSWERS: dict[str, list[list[float]]] = {}


class _Failure(Exception):
    """A check failed; the message is for the student, and `picture` (a
    :class:`weightinit.grading.pictures.Picture`, or None) shows what went wrong."""

    def __init__(self, message: str, picture: object = None):
        super().__init__(message)
        self.picture = picture


def _public(check: Callable) -> Callable:
    """Turn an internal ``_Failure`` into a one-frame ``AssertionError`` (IPython hides this
    wrapper's frame through ``__tracebackhide__``), so the student sees the message, not a stack."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841  (read by pytest; IPython always shows the last frame)
        try:
            return check(*args, **kwargs)
        except _Failure as failure:
            message, picture = str(failure), failure.picture
        error = AssertionError(message)
        error.picture = picture  # the judge shows it on the feedback page
        raise error

    # The traceback's one library line then reads "in check_initializer", not "in wrapper".
    wrapper.__code__ = wrapper.__code__.replace(co_name=check.__name__, co_qualname=check.__name__)
    return wrapper


def _fmt(v: float) -> str:
    """A number for a message: 4 significant digits, no numpy repr."""
    return f"{float(v):.4g}"


def _name(func: Callable) -> str:
    return getattr(func, "__name__", None) or type(func).__name__
