"""Two small repairs to the theme stack, so that a page loads with no console error.

- sphinx-thebe registers its configuration script twice under Jupyter Book 1, and the second
  ``const THEBE_JS_URL`` throws "already been declared": keep one copy of each script.
- pydata-sphinx-theme reads ``html_context["default_mode"]``; left empty it logs "Got invalid
  theme mode" on every page: default it to "auto" (follow the reader's system setting).
"""

from __future__ import annotations


def _default_mode(app, config):
    config.html_context.setdefault("default_mode", "auto")


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = dict(getattr(script, "attributes", {}))
        key = (str(getattr(script, "filename", script) or ""), attributes.get("body"))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
