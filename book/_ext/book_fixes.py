"""Small repairs to the theme stack, so that a page loads fast and with no console error.

- sphinx-thebe registers its configuration script twice under Jupyter Book 1, and the second
  ``const THEBE_JS_URL`` throws "already been declared": keep one copy of each script.
- pydata-sphinx-theme reads ``html_context["default_mode"]``; left empty it logs "Got invalid
  theme mode" on every page: default it to "auto" (follow the reader's system setting).
- Executing a chapter stores the state of its live widgets, and myst-nb then loads the widget
  manager (megabytes of JavaScript and fonts) on that page. Live widgets' outputs are removed
  from the HTML (tag remove-output: the page shows their precomputed twin instead), so when no
  widget view is left on a page, its widget state and the manager are dropped.
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


def _drop_unused_widget_state(app, doctree):
    from docutils import nodes
    from myst_nb.sphinx_ import NbMetadataCollector

    views = [
        n
        for n in doctree.findall(nodes.raw)
        if "application/vnd.jupyter.widget-view+json" in n.astext()
    ]
    if views:
        return
    data = NbMetadataCollector.get_doc_data(app.env).get(app.env.docname, {})
    js_files = data.get("js_files", {})
    for key in [k for k in js_files if k.startswith("ipywidgets")]:
        del js_files[key]


def setup(app):
    app.connect("doctree-read", _drop_unused_widget_state)
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
