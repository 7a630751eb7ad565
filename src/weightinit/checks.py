"""The graded exercises' checks under their first name, kept for the notebooks already released.

Released notebooks import the checks from here (``from weightinit.checks import
check_initializer``), so this module re-exports every public name of :mod:`weightinit.grading`,
where the checks live, one module per concern. New code imports from :mod:`weightinit.grading`.
"""

from .grading import *  # noqa: F403  (the public names, exactly grading.__all__)
from .grading import __all__  # noqa: F401
