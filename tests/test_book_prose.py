"""The book's prose types no number that its code does not compute, and the forum-claims appendix
links every row to a section that exists.

Both tests read the Markdown sources only (no build), so they run in well under a second.

A number in the prose is one written in a paragraph, a list, a table or a caption, outside code
(code cells, listings, inline code), math (``$...$``, ``$$...$$``), roles (``{glue:text}``,
``{cite:p}``, ``{eq}``, ``{ref}``, ...), headings, targets and directive options. Every such number
must come from a ``glue`` role, or be in the short allow-lists below, each entry with its reason.
Numbers in an exercise's statement are the exercise's givens: they are allowed when the same
literal appears in the chapter's code, where the solution uses it.
"""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT, toc_files

#: Allowed on every page: constants of a definition or of arithmetic, not parameters.
ALLOWED_EVERYWHERE = {
    "0": "zero: a mean of 0, a derivative of 0 or 1, 'layer 0'",
    "1": "one: unit variance, a factor of 1, 'layer 1', a slope of 1",
    "2": "the 2 of 2/n, of sqrt(2), of 'a factor of 2'",
    "3": "the kurtosis 3 of a normal, the 3 of sqrt(3) in the uniform limit, 'Step 3'",
    "4": "the sigmoid's largest slope 1/4, the saturation threshold |z| > 4 (saturation."
    "DEFAULT_THRESHOLD, a definition), 'Step 4'",
    "5": "'Step 5' of He's derivation; the 5 of the gain 5/3",
}

#: Allowed on one page only: numbers that a forum thread states and the page quotes (the
#: question's own data), and constants of a convention. Parameters of the page's experiments
#: are never here: they are glued.
ALLOWED_ON_PAGE = {
    "book/intro": {
        "99": "thread 000's question: a mean of 99",
        "250": "thread 003's layer: 250 inputs",
        "15.8": "thread 003's number, quoted in the table of questions",
        "0.01": "thread 004's question: sigma = 0.01",
    },
    "book/01-randn-scaling": {
        "99": "thread 000's mean of 99, pointing ahead to the next chapter",
    },
    "book/02-mean-99": {
        "99": "thread 000's question: a mean of 99",
        "0.01": "thread 000's reply: turn the mean into 0.01 with 0.01/99",
        "255": "the pixel scale 0..255, a convention of image data",
    },
    "book/04-signs-and-products": {
        "99.7%": "thread 002's asker: 99.7% within three standard deviations",
        "1000": "thread 002's example terms -999.99, 1000, ...",
        "0.01": "thread 002's example 0.01 * 0.01",
    },
    "book/05-saturation": {
        "250": "thread 003's layer: 250 inputs equal to 1",
    },
    "book/06-depth": {
        "0.01": "thread 004's answer: sigma = 0.01 for tanh",
        "1.0": "thread 004's answer: sigma = 1.0 for tanh",
        "250": "thread 003's layer of 250 inputs, pointing back to the chapter on saturation",
    },
    "book/forum-claims": {
        "99": "quoted from thread 000",
        "0.01": "quoted from threads 000 and 004",
        "99.7%": "quoted from thread 002",
        "255": "quoted from thread 002",
        "250": "quoted from thread 003",
        "15.8": "quoted from thread 003",
        "95%": "quoted from thread 004",
        "1.0": "quoted from thread 004",
    },
}

YEAR = re.compile(r"^(19|20)\d\d$")
FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})(.*)$")
ROLE = re.compile(r"\{[\w:+-]+\}`[^`]*`")
INLINE_CODE = re.compile(r"`[^`]*`")
INLINE_MATH = re.compile(r"\$[^$]+\$")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*%?(?![\w])")


def _blocks(text: str):
    """Yield (line number, line, in_exercise) for every prose line of a MyST page."""
    lines = text.splitlines()
    i = 0
    if lines and lines[0].strip() == "---":  # jupytext front matter
        i = lines.index("---", 1) + 1
    stack: list[tuple[str, bool, bool]] = []  # (fence, is code, is an exercise statement)
    in_math = False
    while i < len(lines):
        line, number = lines[i], i + 1
        i += 1
        fence = FENCE.match(line)
        if fence and not in_math:
            marker, info = fence.group(1), fence.group(2).strip()
            if stack and marker[0] == stack[-1][0][0] and len(marker) >= len(stack[-1][0]) \
                    and not info:
                stack.pop()
                continue
            if not info and stack and stack[-1][1]:
                continue
            code = not info.startswith("{") or info.startswith(("{code-cell}", "{math}"))
            stack.append((marker, code, info.startswith("{exercise}")))
            if stack[-1][2] or not code:
                # skip the directive's option block (":label: ..." lines and --- front matter)
                while i < len(lines) and lines[i].strip().startswith(":") \
                        and not FENCE.match(lines[i]):
                    i += 1
            continue
        if any(code for _, code, _ in stack):
            continue
        stripped = line.strip()
        if stripped.startswith("$$"):
            if not in_math and stripped.count("$$") >= 2 and stripped != "$$":
                continue
            in_math = not in_math
            continue
        if in_math or stripped.startswith("#") or re.fullmatch(r"\(.*\)=", stripped):
            continue
        if re.match(r"^:[\w-]+:", stripped):
            continue
        yield number, line, any(ex for _, _, ex in stack)


def prose_numbers(text: str) -> list[tuple[int, str, bool, str]]:
    """Every number in the prose of `text`: (line, number, in an exercise statement, context)."""
    found = []
    paragraph: list[tuple[int, str, bool]] = []

    def flush():
        if not paragraph:
            return
        joined = "\n".join(line for _, line, _ in paragraph)
        for pattern in (ROLE, INLINE_CODE, INLINE_MATH):
            joined = pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), joined)
        joined = LINK_TARGET.sub(lambda m: " " * len(m.group()), joined)
        for match in NUMBER.finditer(joined):
            row = joined[: match.start()].count("\n")
            number, line, exercise = paragraph[row]
            context = joined.splitlines()[row].strip()
            found.append((number, match.group(), exercise, context))
        paragraph.clear()

    previous = None
    for number, line, exercise in _blocks(text):
        if not line.strip() or (previous is not None and number != previous + 1):
            flush()
        if line.strip():
            paragraph.append((number, line, exercise))
        previous = number
    flush()
    return found


def code_literals(text: str) -> set[str]:
    """Every number literal in the code of a page (code cells and listings)."""
    literals = set()
    code_fence = r"^(`{3,})(?:\{code-cell\}[^\n]*|[\w+-]*)\n(.*?)^\1\s*$"
    for block in re.findall(code_fence, text, flags=re.M | re.S):
        for raw in re.findall(r"(?<![\w.])\d[\d_]*(?:\.\d+)?", block[1]):
            literals.add(raw.replace("_", ""))
    return literals


def _allowed(page: str, number: str) -> bool:
    bare = number.replace(",", "")
    return (bare in ALLOWED_EVERYWHERE or YEAR.match(bare) is not None
            or number in ALLOWED_ON_PAGE.get(page, {}))


PAGES = [page for page in toc_files() if page != "book/references"]


@pytest.mark.parametrize("page", PAGES)
def test_prose_numbers_are_glued(page):
    """A number typed into the prose is wrong the day a parameter changes: glue it instead."""
    text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    literals = code_literals(text)
    typed = []
    for line, number, exercise, context in prose_numbers(text):
        if _allowed(page, number):
            continue
        if exercise and number.replace(",", "").rstrip("%") in literals:
            continue  # an exercise's given, used by the chapter's code
        typed.append(f"{page}.md:{line}: {number!r} in: {context}")
    assert not typed, "numbers typed by hand (glue them, or allow them with a reason):\n" + \
        "\n".join(typed)


def test_the_scanner_sees_prose_and_skips_the_rest():
    """The scanner must find a typed number, and must not count code, math, roles or headings."""
    sample = "\n".join([
        "# Chapter 9 heading",
        "",
        "A width of 512 and {glue:text}`x:.3f` and $2^{-15}$ and `f(30)` and {eq}`e-7`.",
        "",
        "```{code-cell} ipython3",
        "WIDTH = 64",
        "```",
        "",
        "$$",
        "z = 99",
        "$$",
        "",
        "```{exercise}",
        ":label: ex-1",
        "",
        "Use 64 units and 77 layers.",
        "```",
    ])
    found = [(number, exercise) for _, number, exercise, _ in prose_numbers(sample)]
    assert found == [("512", False), ("64", True), ("77", True)]
    assert code_literals(sample) == {"64"}


APPENDIX = ROOT / "book" / "forum-claims.md"
VERDICTS = {"right", "right with a condition", "wrong", "a slip"}


def _labels() -> set[str]:
    labels = set()
    for page in (ROOT / "book").glob("*.md"):
        text = page.read_text(encoding="utf-8")
        labels.update(re.findall(r"^\(([\w-]+)\)=\s*$", text, flags=re.M))
        labels.update(re.findall(r"^:(?:label|name): *([\w-]+)\s*$", text, flags=re.M))
    return labels


def _claim_rows() -> list[list[str]]:
    rows = []
    for line in APPENDIX.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not line.startswith(("|---", "| thread ")):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def test_appendix_is_in_the_toc():
    assert "book/forum-claims" in toc_files()


def test_every_claim_has_a_verdict_and_a_link_to_an_existing_section():
    rows = _claim_rows()
    assert len(rows) >= 30, f"only {len(rows)} claims listed"
    labels = _labels()
    problems = []
    for row in rows:
        if len(row) != 6:
            problems.append(f"not six columns: {row}")
            continue
        thread, who, claim, verdict, why, where = row
        if verdict not in VERDICTS:
            problems.append(f"verdict {verdict!r} is not one of {sorted(VERDICTS)}: {claim}")
        targets = re.findall(r"\{ref\}`(?:[^`<]*<)?([\w-]+)>?`", where)
        if not targets:
            problems.append(f"no {{ref}} link: {claim}")
        problems += [f"link to {t!r}, which no page defines: {claim}"
                     for t in targets if t not in labels]
    assert not problems, "\n".join(problems)


def test_the_link_check_catches_a_missing_label():
    assert "ch1-no-such-section" not in _labels()
    assert "ch7-he-derivation" in _labels()
