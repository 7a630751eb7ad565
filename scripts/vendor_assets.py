"""Copy the JavaScript the book serves itself from node_modules into _vendor/.

_config.yml lists _vendor in html_extra_path, so these files land at the root of _build/html
and no page loads MathJax, require.js or the widget manager from a CDN. Run by `make`.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE = ROOT / "node_modules"
VENDOR = ROOT / "_vendor"

# MathJax 3: the combined TeX+MathML CHTML component Sphinx uses by default, and the folders it
# loads on demand (TeX extensions via autoload, CHTML fonts, the menu and its accessibility
# tools). The SVG bundles are not used.
MATHJAX_FILES = ["tex-mml-chtml.js"]
MATHJAX_DIRS = ["input", "output/chtml", "ui", "a11y", "adaptors", "sre"]
SINGLE_FILES = {
    "requirejs/require.js": "require.js",
    "@jupyter-widgets/html-manager/dist/embed-amd.js": "embed-amd.js",
}


def main() -> int:
    if not NODE.is_dir():
        print("vendor_assets.py: node_modules is missing; run `npm ci` first", file=sys.stderr)
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    mathjax_src, mathjax_dst = NODE / "mathjax" / "es5", VENDOR / "mathjax"
    mathjax_dst.mkdir(parents=True)
    for name in MATHJAX_FILES:
        shutil.copy2(mathjax_src / name, mathjax_dst / name)
    for name in MATHJAX_DIRS:
        shutil.copytree(mathjax_src / name, mathjax_dst / name)
    for src, dst in SINGLE_FILES.items():
        shutil.copy2(NODE / src, VENDOR / dst)
    (VENDOR / ".stamp").touch()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
