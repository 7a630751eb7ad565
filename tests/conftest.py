"""Shared fixtures: the book built once per test session, in a temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    """Every page the table of contents lists, root first (paths without extension)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the book exactly as `make book` does (-W -n: any warning or broken reference fails;
    the chapters executed in parallel by scripts/build_book.py) into a fresh directory, so
    nothing cached in the checkout's _build can hide a problem."""
    out = tmp_path_factory.mktemp("book")
    exe = Path(sys.executable)
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",  # as `make book`: small matrices, shared cores
        "MPLCONFIGDIR": str(exe.parent.parent / "matplotlib"),  # as the Makefile
        "PATH": f"{exe.parent}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(
        [str(exe), str(ROOT / "scripts" / "build_book.py"), str(ROOT), "--path-output", str(out),
         "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    log = result.stdout + result.stderr
    (out / "build.log").write_text(log, encoding="utf-8")
    if result.returncode != 0:
        pytest.fail(f"jupyter-book build failed (exit {result.returncode}):\n{log[-6000:]}")
    return out / "_build" / "html"
