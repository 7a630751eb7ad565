"""Make JupyterLab open the book's MyST .md chapters as notebooks (through jupytext).

JupyterLab opens .md files in its text editor by default. This writes the documented
``defaultViewers`` override to ``<prefix>/share/jupyter/lab/settings/overrides.json`` of the
environment that runs JupyterLab: Binder runs it from ``postBuild``; `make lab` runs it for .venv.
Existing overrides are kept.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VIEWERS = {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
PLUGIN = "@jupyterlab/docmanager-extension:plugin"


def write_overrides(prefix: Path) -> Path:
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    settings.setdefault(PLUGIN, {}).setdefault("defaultViewers", {}).update(VIEWERS)
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    prefix = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(sys.prefix)
    print(f"JupyterLab opens .md chapters as notebooks: {write_overrides(prefix)}")
