"""The built book in a real browser (Debian's Chromium driven by Playwright), with the network cut.

Every page of the TOC is served from localhost; any request to another host is aborted and
reported. Per page: no console error, no failed request, math typeset by the local MathJax,
every image loaded, every precomputed slider changes its picture when moved, and a full-page
screenshot under _build/screenshots/ for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import ROOT, toc_files

pytestmark = pytest.mark.book

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "_build" / "screenshots"


def _need_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed: run `make test` (it installs requirements.txt)")
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "Chromium not found: install Debian's browser with `sudo apt-get install chromium` "
            "(.ci/run does this in CI); Playwright cannot download its own browser here"
        )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """Serve the built HTML on 127.0.0.1 (an ephemeral port) for the module's tests."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


class PageReport:
    """What happened while a page loaded: console errors, failed and off-site requests."""

    def __init__(self, page, base: str):
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.offsite: list[str] = []
        host = urlparse(base).netloc

        def route(r):
            url = urlparse(r.request.url)
            if url.scheme in ("data", "blob", "about") or url.netloc == host:
                r.continue_()
            else:
                self.offsite.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "response",
            lambda r: r.status >= 400 and self.failed.append(f"{r.url} (HTTP {r.status})"),
        )
        page.on(
            "requestfailed",
            lambda r: r.url not in self.offsite and self.failed.append(f"{r.url} ({r.failure})"),
        )


def _open(browser, site, path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    report = PageReport(page, site)
    page.goto(f"{site}/{path}", wait_until="load")
    # MathJax typesets after load; wait for it where the page loads it.
    page.wait_for_function(
        "() => !window.MathJax || (MathJax.startup && MathJax.startup.promise"
        " && MathJax.startup.promise.then(() => true))"
    )
    page.wait_for_timeout(300)
    return page, report


@pytest.mark.parametrize("page_name", toc_files())
def test_page_renders_offline(browser, site, page_name):
    page, report = _open(browser, site, f"{page_name}.html")
    try:
        assert not report.offsite, f"requests outside localhost: {report.offsite}"
        assert not report.failed, f"failed requests: {report.failed}"
        assert not report.errors, f"console errors: {report.errors}"

        # Math: every formula typeset by MathJax, no raw TeX delimiters left in the text.
        n_math = page.locator(".math").count()
        if n_math:
            assert page.locator("mjx-container").count() >= n_math
        text = page.locator("article").inner_text()
        for raw in ("$$", "\\[", "\\(", "\\begin{"):
            assert raw not in text, f"untypeset math ({raw!r}) on {page_name}"

        # Images: every one decoded with a real size.
        sizes = page.eval_on_selector_all(
            "article img", "imgs => imgs.map(i => [i.currentSrc.slice(0, 60), i.naturalWidth])"
        )
        broken = [src for src, width in sizes if width == 0]
        assert not broken, f"images that did not load: {broken}"

        # Precomputed sliders (no kernel needed): moving one changes the picture.
        sliders = page.locator("article .animation input[type=range]")
        for i in range(sliders.count()):
            slider = sliders.nth(i)
            img = page.locator("article .animation").nth(i).locator("img").first
            before = img.get_attribute("src")
            last = slider.get_attribute("max")
            slider.evaluate(
                "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", last
            )
            assert img.get_attribute("src") != before, f"slider {i} on {page_name} did not move"

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOTS / f"{page_name.replace('/', '__')}.png"), full_page=True
        )
    finally:
        page.close()


def test_sidebar_lists_every_chapter(browser, site):
    page, _ = _open(browser, site, "book/intro.html")
    try:
        links = page.eval_on_selector_all(
            "nav.bd-docs-nav a.reference", "as => as.map(a => a.getAttribute('href'))"
        )
        hrefs = {re.sub(r"^(\.\./)+|^\./", "", h.split("#")[0]) for h in links}
        for name in toc_files()[1:]:
            assert f"{name.removeprefix('book/')}.html" in hrefs or f"{name}.html" in hrefs, name
    finally:
        page.close()


def test_search_finds_a_word_from_a_chapter(browser, site):
    page, _ = _open(browser, site, "search.html?q=saturated")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=15_000)
        results = page.locator("#search-results").inner_text()
        assert "250 inputs, a sigmoid, and saturation" in results
    finally:
        page.close()


def test_launch_buttons_open_the_page_in_jupyterlab(browser, site):
    chapters = [f for f in toc_files() if re.match(r"book/\d\d-", f)]
    if not chapters:
        pytest.skip("no chapter pages yet")
    page, _ = _open(browser, site, f"{chapters[0]}.html")
    try:
        hrefs = page.eval_on_selector_all("a", "as => as.map(a => a.href)")
        binder = [h for h in hrefs if "mybinder.org" in h]
        assert any("urlpath=lab" in h and chapters[0] in h for h in binder), binder
        exercise = [h for h in binder if "labpath=exercises/" in h]
        assert exercise and all(h.endswith(".ipynb") for h in exercise), exercise
    finally:
        page.close()
