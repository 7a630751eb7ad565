"""The marker of a student function that lives in another process (kept free of imports, so
that the judge can name it without loading the checks)."""

from __future__ import annotations


class Remote:
    """A student's function that lives in another process: the judge's proxy
    (:class:`weightinit.grading.judge.Proxy`). The checks call it like the function itself; but
    whether its code is the student's own is read from the submitted notebook's source, which
    the proxy knows (:meth:`own_code_findings`), not from a live function object."""

    __name__ = "function"

    def own_code_findings(self, allow: tuple[str, ...] = ()) -> list[str]:
        raise NotImplementedError

    def sibling(self, name: str) -> Remote:
        """The student's function `name` in the same process (for example the ``compute_fans``
        an initializer may use)."""
        raise NotImplementedError
