"""What `make grade`'s long-lived processes keep from one submission to the next.

nbgrader builds everything afresh for every submission: each ``Autograde`` and
``GenerateFeedback`` opens the gradebook about ten times, each time with a new SQLAlchemy engine
(so every query is compiled again), checks the nbgrader metadata schema itself against
JSON Schema's meta-schema once per cell, and compiles the feedback page's Jinja templates again.
In one ``nbgrader`` command that is paid once; in :mod:`weightinit.grading.batch`'s writer and
workers, which run the converters once per submission, it was 0.4 s of CPU per submission in the
writer and 0.3 s in the feedback (benchmarks/RESULTS.md).

:func:`install` makes these three things last as long as the process: one engine per gradebook
URL (its pool is still emptied when a gradebook is closed, as nbgrader does), the schema checked
once, and the templates' compiled code kept in memory (Jinja's own bytecode cache, which compiles
a template again whenever its source changes). Nothing else changes: the same queries, the same
validation of every cell, the same templates rendered, so the same gradebook and the same pages.
"""

from __future__ import annotations

import functools
import io
import json
import threading
from typing import Any

_INSTALLED = threading.Lock()
_done = False


#: The settings of a Jinja environment that change the code a template compiles to.
_COMPILE_SETTINGS = ("block_start_string", "block_end_string", "variable_start_string",
                     "variable_end_string", "comment_start_string", "comment_end_string",
                     "line_statement_prefix", "line_comment_prefix", "trim_blocks",
                     "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized",
                     "is_async", "autoescape", "finalize", "undefined")


class _Templates:
    """Jinja's bytecode cache, in memory (see :class:`jinja2.BytecodeCache`), keyed also by the
    environment's compile settings, so that two differently configured environments never share
    code (Jinja itself checks the source's checksum)."""

    def __init__(self) -> None:
        self.code: dict[tuple, bytes] = {}

    @staticmethod
    def _key(bucket) -> tuple:
        env = bucket.environment
        settings = tuple(repr(getattr(env, name, None)) for name in _COMPILE_SETTINGS)
        return (bucket.key, settings, tuple(sorted(env.extensions)))

    def load_bytecode(self, bucket) -> None:
        data = self.code.get(self._key(bucket))
        if data is not None:
            bucket.load_bytecode(io.BytesIO(data))

    def dump_bytecode(self, bucket) -> None:
        out = io.BytesIO()
        bucket.write_bytecode(out)
        self.code[self._key(bucket)] = out.getvalue()


def _bytecode_cache():
    from jinja2 import BytecodeCache

    cls = type("MemoryBytecodeCache", (_Templates, BytecodeCache), {})
    return cls()


class _SchemaOnce:
    """``jsonschema`` for nbgrader's metadata validator: ``validate`` as jsonschema's own, but the
    schema is checked against its meta-schema once, not at every cell."""

    def __init__(self) -> None:
        self.validators: dict[str, Any] = {}

    def validate(self, instance: Any, schema: dict) -> None:
        import jsonschema

        key = json.dumps(schema, sort_keys=True)
        validator = self.validators.get(key)
        if validator is None:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self.validators[key] = cls(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


def install() -> None:
    """Keep the engines, the checked schema and the compiled templates for this process's
    life (see the module docstring). Idempotent."""
    global _done
    with _INSTALLED:
        if _done:
            return
        import nbgrader.api
        import nbgrader.nbgraderformat.common
        from nbconvert.exporters.templateexporter import TemplateExporter

        nbgrader.api.create_engine = functools.lru_cache(maxsize=8)(nbgrader.api.create_engine)
        nbgrader.nbgraderformat.common.jsonschema = _SchemaOnce()
        cache = _bytecode_cache()
        create = TemplateExporter._create_environment

        def _create_environment(self):
            environment = create(self)
            environment.bytecode_cache = cache
            return environment

        TemplateExporter._create_environment = _create_environment
        _done = True
