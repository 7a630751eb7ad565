"""The feedback page a student gets back, for a wrong submission of every assignment.

One course folder: for each assignment, a student ("carol") who made as many of the corpus's
named mistakes as fit in one notebook (:func:`tests.grading.corpus.pack`), graded with
`make grade`. Her pages are read as HTML (always) and opened in Chromium at 390 and 1280 px
(when Debian's Chromium is there, as in CI): the summary names every graded cell and its points,
a written answer no one graded says "awaiting grading", every failed cell's message is on the
page in full and wrapped, pictures are embedded images that decode, and nothing is fetched from
another host.
"""

from __future__ import annotations

import ast
import functools
import html
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from tests.grading.corpus import MISTAKES, Submission, pack, solution_bodies, write_submission

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VENV = BIN.parent
ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
STUDENT = "carol"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

#: A deadline for a hung `make grade`, not a measurement (about a minute on 2 busy cores).
DEADLINE = 1200


def _wrong_submission(course: Path, assignment: str) -> Submission:
    solution = nbformat.read(course / "solutions" / assignment / f"{assignment}.ipynb", 4)
    entries = [m for m in MISTAKES if m.assignment == assignment and not m.whole_cell]
    packed = pack(entries, STUDENT, {assignment: solution_bodies(solution)})
    return Submission(STUDENT, assignment, max(packed, key=lambda s: len(s.entries)).entries)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("feedback") / "course"
    root.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", root)
    for name in ASSIGNMENTS:
        shutil.copytree(REPO / "solutions" / name, root / "solutions" / name)
        shutil.copytree(REPO / "exercises" / name, root / "exercises" / name)
        write_submission(root, _wrong_submission(root, name))
    make = ["make", "-f", str(REPO / "Makefile"), f"VENV={VENV}", "-o", f"{VENV}/.installed",
            "grade"]
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(make, cwd=root, env=env, capture_output=True, text=True,
                          timeout=DEADLINE)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root


def test_summary_groups_names_and_awaiting_without_a_course():
    """The summary alone: cells grouped under the solution cell above them, named by their
    docstring's first line (or the written answer's bold question), a written answer no one
    graded awaiting (not 0), and one a person graded counted."""
    from nbformat.v4 import new_code_cell, new_markdown_cell

    from weightinit.grading.feedback import summarize

    def meta(**kw):
        return {"nbgrader": {"grade": False, "solution": False, **kw}}

    cells = [
        new_code_cell("def f(x): ...", metadata=meta(grade_id="f", solution=True)),
        new_code_cell('"""f keeps the shape."""\ncheck(f)', metadata=meta(
            grade_id="f_shape", grade=True, points=2, score=2)),
        new_code_cell('"""f draws from rng\n    only."""\ncheck(f)', metadata=meta(
            grade_id="f_rng", grade=True, points=1, score=0)),
        new_code_cell("def g(x): ...", metadata=meta(grade_id="g", solution=True)),
        new_code_cell("check(g)", metadata=meta(grade_id="g_values", grade=True, points=3,
                                                score=3)),
        new_markdown_cell("**Why sqrt?** Because.", metadata=meta(
            grade_id="why", grade=True, solution=True, points=2, score=0)),
        new_markdown_cell("An answer.", metadata=meta(
            grade_id="how_much", grade=True, solution=True, points=1, score=1)),
    ]
    s = summarize(cells, awaiting={"why"})
    groups = {g["title"]: g for g in s["groups"]}
    assert list(groups) == ["f", "g", "Written answers"]
    assert [c["name"] for c in groups["f"]["cells"]] == ["f keeps the shape.",
                                                           "f draws from rng only."]
    assert [c["status"] for c in groups["f"]["cells"]] == ["passed", "failed"]
    assert groups["f"]["score_text"] == "2 / 3"
    assert groups["g"]["cells"][0]["name"] == "g values"  # no docstring: the grade id
    written = groups["Written answers"]
    assert [(c["name"], c["status"]) for c in written["cells"]] == [
        ("Why sqrt?", "awaiting"), ("how much", "graded")]
    assert written["cells"][0]["score_text"] == "awaiting grading (2 points)"
    assert written["score_text"] == "1 / 3 (2 awaiting grading)"
    assert (s["score"], s["points"], s["awaiting"], s["failed"]) == (6, 9, 2, 1)
    assert cells[2].metadata["weightinit"]["label"] == "Test: f draws from rng only."


def _page(course: Path, assignment: str) -> Path:
    return course / "feedback" / STUDENT / assignment / f"{assignment}.html"


def _graded(course: Path, assignment: str):
    return nbformat.read(
        course / "autograded" / STUDENT / assignment / f"{assignment}.ipynb", 4)


def _failed_cells(course: Path, assignment: str) -> dict[str, tuple[str, str]]:
    """grade id -> (the test's docstring first line, its error message) of each failed test."""
    out = {}
    for cell in _graded(course, assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if meta.get("grade") and cell.cell_type == "code" and errors:
            doc = (ast.get_docstring(ast.parse(cell.source)) or "").splitlines()
            out[meta["grade_id"]] = (doc[0] if doc else meta["grade_id"], errors[0].evalue)
    return out


def _text(page: Path) -> str:
    """What the page says (its style sheets left out)."""
    source = re.sub(r"<style.*?</style>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", source))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_summary_names_every_graded_cell_with_its_points(course, assignment):
    page = _page(course, assignment).read_text(encoding="utf-8")
    assert ">Test cell<" not in page, "nbgrader's anonymous 'Test cell' links are back"
    summary = page.split('<header class="wi-summary"', 1)[1].split("</header>", 1)[0]
    solution = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", 4)
    functions = [c.metadata["nbgrader"]["grade_id"] for c in solution.cells
                 if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    for function in functions:
        assert f"<th scope=\"row\">{function}</th>" in summary, function
    for cell in solution.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            name = (ast.get_docstring(ast.parse(cell.source)) or "").splitlines()[0]
            assert html.escape(name, quote=False) in summary or name in html.unescape(summary), \
                name
            assert f'href="#{meta["grade_id"]}"' in summary


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_failure_is_on_the_page_in_full(course, assignment):
    failed = _failed_cells(course, assignment)
    assert failed, f"the wrong submission of {assignment} failed nothing"
    text = " ".join(_text(_page(course, assignment)).split())
    for grade_id, (_, message) in failed.items():
        assert " ".join(message.split()) in text, (grade_id, message)
        assert "Traceback" not in text and str(course) not in text
    assert "### BEGIN HIDDEN TESTS" not in text and "seed=41" not in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_written_answers_not_graded_say_so(course, assignment):
    solution = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", 4)
    manual = [c for c in solution.cells if c.cell_type == "markdown"
              and c.metadata.get("nbgrader", {}).get("grade")]
    page = _page(course, assignment).read_text(encoding="utf-8")
    if manual:
        assert "awaiting grading" in page and "awaiting grading (0" not in page
        assert page.count('class="wi-awaiting"') == len(manual)


def test_pictures_are_embedded_and_small(course):
    sizes = {}
    for assignment in ASSIGNMENTS:
        page = _page(course, assignment).read_text(encoding="utf-8")
        images = re.findall(r'<img [^>]*src="data:image/svg\+xml;base64,([^"]+)"', page)
        sizes[assignment] = (len(page), [len(i) * 3 // 4 for i in images])
        assert all(1_000 < n < 60_000 for n in sizes[assignment][1]), sizes[assignment]
        assert not re.search(r'(src|href)="https?://', page), "the page fetches from the network"
        assert "<script" not in page
    # Every assignment whose checks draw (distributions, per-layer stds, init_mlp) shows one.
    for assignment in ("ex01-scaling", "ex03-initializers", "ex04-variance-scaling",
                       "ex05-deep-signal", "ex06-training"):
        assert sizes[assignment][1], f"{assignment}'s wrong submission shows no picture"


# ---------------------------------------------------------------------------------------------
# In a browser
# ---------------------------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(course):
    handler = functools.partial(_Quiet, directory=str(course / "feedback"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not found: `sudo apt-get install chromium` (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


#: What sticks out to the right: the page itself, or a message, output or summary table wider
#: than its box or than the window.
_OVERFLOWS = """() => {
  const wide = [];
  const limit = document.documentElement.clientWidth;
  const page = document.documentElement.scrollWidth;
  if (page > limit + 1) wide.push('page ' + page);
  const boxes = 'div.output_error pre, div.output_subarea pre, table.wi-table';
  for (const el of document.querySelectorAll(boxes)) {
    const right = el.getBoundingClientRect().right;
    if (el.scrollWidth > el.clientWidth + 1 || right > limit + 1) {
      wide.push(el.tagName + ' ' + el.textContent.slice(0, 60));
    }
  }
  return wide;
}"""

#: Each image: its alt text, whether it decoded, its width on the page.
_IMAGES = """() => Array.from(document.images).map(
  i => [i.alt.slice(0, 40), i.complete && i.naturalWidth > 0, i.getBoundingClientRect().width])"""


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_page_in_a_browser(course, served, browser, assignment, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    offsite, errors = [], []

    def route(r):
        if r.request.url.startswith(served):
            r.continue_()
        else:
            offsite.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{served}/{STUDENT}/{assignment}/{assignment}.html", wait_until="load")
    assert not offsite, offsite
    assert not errors, errors
    assert page.evaluate(_OVERFLOWS) == [], f"{assignment} at {width} px"
    images = page.evaluate(_IMAGES)
    assert all(ok and shown > 0 for _, ok, shown in images), images
    visible = page.inner_text("body")
    for name, _ in _failed_cells(course, assignment).values():
        assert name in visible, name
    shots = REPO / "_build" / "screenshots" / "feedback"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{assignment}-{width}.png"), full_page=True)
    page.close()
