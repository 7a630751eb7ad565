"""Pictures of what went wrong, drawn by the judge from the data the student's function returned.

A failed check may carry a picture (:class:`Picture`) beside its message: the judge puts it in
the test cell's outputs, and the feedback page shows it as an embedded image. Pictures are small
SVG documents written here by hand (a few KB; no matplotlib in the grader, see the import-linter
contract "drawing-in-chapters"; no JavaScript, no fonts or files fetched).

- :func:`sample_picture`: the histogram of a sample in units of the target's standard deviation,
  against the target's density and against the density of the mistake the message names. The
  axis is in target-std units, so a hidden test's picture shows no shape and no fan.
- :func:`layers_picture`: a value per layer (ex05's standard deviations, ex06's weight spreads),
  the student's against the expected, on a log scale.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import stats
from ..initializers import TRUNCATION_STD_FACTOR

#: Size of every picture, in CSS pixels (it scales down with the page: width 100%, max this).
WIDTH, HEIGHT = 560, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 58, 16, 34, 44
_COLORS = {"yours": "#4c78a8", "target": "#1b9e4b", "mistake": "#d62728"}


@dataclass(frozen=True)
class Picture:
    """An SVG picture for a failed check.

    Attributes
    ----------
    svg : str
        The SVG document.
    alt : str
        What it shows, in words (the image's alt text).
    reveals_arguments : bool
        Whether it shows the test's arguments (a depth, a layer size): such a picture is not
        shown for a hidden test.
    """

    svg: str
    alt: str
    reveals_arguments: bool = False


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round numbers between `lo` and `hi`."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) / step + 1e-9) + 1)]


def _num(v: float) -> str:
    return f"{v:.3g}"


class _Canvas:
    """A plot area mapping data coordinates to SVG pixels, collecting SVG elements."""

    def __init__(self, xlim: tuple[float, float], ylim: tuple[float, float], logy: bool = False):
        self.xlim, self.ylim, self.logy = xlim, ylim, logy
        self.parts: list[str] = []

    def _fy(self, y: float) -> float:
        lo, hi = self.ylim
        if self.logy:
            y, lo, hi = math.log10(max(y, 1e-300)), math.log10(lo), math.log10(hi)
        return _TOP + (HEIGHT - _TOP - _BOTTOM) * (1.0 - (y - lo) / (hi - lo))

    def _fx(self, x: float) -> float:
        lo, hi = self.xlim
        return _LEFT + (WIDTH - _LEFT - _RIGHT) * (x - lo) / (hi - lo)

    def rect(self, x0: float, x1: float, y: float, color: str) -> None:
        px0, px1, py, base = self._fx(x0), self._fx(x1), self._fy(y), self._fy(self.ylim[0])
        self.parts.append(f'<rect x="{px0:.1f}" y="{py:.1f}" width="{max(px1 - px0, 0.5):.1f}" '
                          f'height="{max(base - py, 0):.1f}" fill="{color}" fill-opacity="0.55"/>')

    def line(self, xs: Sequence[float], ys: Sequence[float], color: str, dash: bool = False,
             dots: bool = False) -> None:
        pairs = zip(xs, ys, strict=True)
        points = " ".join(f"{self._fx(x):.1f},{self._fy(y):.1f}" for x, y in pairs)
        style = ' stroke-dasharray="6 4"' if dash else ""
        self.parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                          f'stroke-width="2"{style}/>')
        if dots:
            self.parts.extend(f'<circle cx="{self._fx(x):.1f}" cy="{self._fy(y):.1f}" r="3.5" '
                              f'fill="{color}"/>' for x, y in zip(xs, ys, strict=True))

    def axes(self, xlabel: str, ylabel: str, xticks: Sequence[float], yticks: Sequence[float],
             xfmt: Callable[[float], str] = _num) -> None:
        x0, x1 = self._fx(self.xlim[0]), self._fx(self.xlim[1])
        y0, y1 = self._fy(self.ylim[0]), self._fy(self.ylim[1])
        p = self.parts
        p.append(f'<path d="M{x0:.1f},{y1:.1f}V{y0:.1f}H{x1:.1f}" fill="none" stroke="#333"/>')
        for t in xticks:
            x = self._fx(t)
            p.append(f'<text x="{x:.1f}" y="{y0 + 16:.1f}" text-anchor="middle">{xfmt(t)}</text>')
        for t in yticks:
            y = self._fy(t)
            p.append(f'<path d="M{x0 - 4:.1f},{y:.1f}H{x0:.1f}" stroke="#333"/>'
                     f'<text x="{x0 - 7:.1f}" y="{y + 4:.1f}" text-anchor="end">{_num(t)}</text>')
        p.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                 f'{_esc(xlabel)}</text>')
        p.append(f'<text transform="translate(14 {(y0 + y1) / 2:.1f}) rotate(-90)" '
                 f'text-anchor="middle">{_esc(ylabel)}</text>')

    def legend(self, entries: Sequence[tuple[str, str, bool]]) -> None:
        """One line of ``(label, color, dashed)`` entries along the top."""
        x = _LEFT
        for label, color, dash in entries:
            style = ' stroke-dasharray="6 4"' if dash else ""
            self.parts.append(f'<path d="M{x},{_TOP - 14}h18" stroke="{color}" stroke-width="3"'
                              f'{style}/><text x="{x + 22}" y="{_TOP - 10}">{_esc(label)}</text>')
            x += 30 + 6.2 * len(label)

    def svg(self, title: str) -> str:
        body = "".join(self.parts)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
                f'width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">'
                f'<title>{_esc(title)}</title><rect width="100%" height="100%" fill="#fff"/>'
                f'{body}</svg>')


def _density(family: str, z: np.ndarray, var_ratio: float) -> np.ndarray:
    """Density at `z` (in target-std units) of the target's family with variance `var_ratio`."""
    s = math.sqrt(var_ratio)
    if family == "uniform":
        a = math.sqrt(3.0) * s
        return np.where(np.abs(z) <= a, 1.0 / (2.0 * a), 0.0)
    if family == "truncated_normal":
        sigma = s / TRUNCATION_STD_FACTOR  # the normal before the cut at +-2 sigma
        mass = math.erf(2.0 / math.sqrt(2.0))
        pdf = np.exp(-0.5 * (z / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi) * mass)
        return np.where(np.abs(z) <= 2.0 * sigma, pdf, 0.0)
    return np.exp(-0.5 * (z / s) ** 2) / (s * math.sqrt(2.0 * math.pi))


def sample_picture(x: np.ndarray, mean: float, std: float, family: str,
                   mistakes: Sequence[tuple[str, float]]) -> Picture:
    """The histogram of ``(x - mean) / std`` against the target's density (variance 1) and, if
    the sample's variance matches a named mistake (within the variance band at ``ALPHA``), that
    mistake's density (the same family with the mistake's variance ratio)."""
    z = (np.asarray(x, dtype=np.float64).ravel() - mean) / std
    ratio = float(np.mean(z**2))
    lo, hi = stats.variance_ratio_band(z.size, family, stats.ALPHA)
    named = [(m, r) for m, r in mistakes if lo <= ratio / r <= hi]
    widest = max([1.0, ratio, *(r for _, r in named)])
    half = min(4.0 * math.sqrt(widest), 60.0)
    counts, edges = np.histogram(z, bins=48, range=(-half, half))
    width = edges[1] - edges[0]
    dens = counts / (z.size * width)
    grid = np.linspace(-half, half, 161)
    curves = [("target", _density(family, grid, 1.0), _COLORS["target"], False)]
    if named:
        curves.append(("mistake", _density(family, grid, named[0][1]), _COLORS["mistake"], True))
    top = max(float(dens.max()), *(float(c.max()) for _, c, _, _ in curves)) * 1.12
    canvas = _Canvas((-half, half), (0.0, top))
    for c, e0, e1 in zip(dens, edges[:-1], edges[1:], strict=True):
        if c > 0:
            canvas.rect(e0, e1, float(c), _COLORS["yours"])
    for _, ys, color, dash in curves:
        canvas.line(grid, ys, color, dash)
    canvas.axes("weight / target std", "density", _ticks(-half, half, 8), _ticks(0.0, top, 4))
    entries = [("your weights", _COLORS["yours"], False), ("target", _COLORS["target"], False)]
    alt = (f"Histogram of your weights in units of the target std (variance ratio "
           f"{_num(ratio)}) against the target {family.replace('_', ' ')} density")
    if named:
        short = named[0][0].split(":")[0].split("(")[0].strip()
        entries.append((f"mistake: {short}"[:60], _COLORS["mistake"], True))
        alt += f" and the density with {named[0][0]}"
    canvas.legend(entries)
    return Picture(canvas.svg(alt), alt + ".")


def layers_picture(got: Sequence[float], expected: Sequence[float], what: str,
                   labels: tuple[str, str] = ("yours", "expected")) -> Picture:
    """A value per layer (1 to L), the student's against the expected, on a log scale."""
    got = [float(v) for v in got]
    expected = [float(v) for v in expected]
    values = [v for v in (*got, *expected) if math.isfinite(v) and v > 0]
    lo = min(values, default=1e-3)
    hi = max(values, default=1.0)
    lo, hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
    if hi <= lo:
        hi = lo * 10
    depth = max(len(got), len(expected))
    canvas = _Canvas((0.5, depth + 0.5), (lo, hi), logy=True)
    decades = [10.0**k for k in range(round(math.log10(lo)), round(math.log10(hi)) + 1)]
    step = max(1, len(decades) // 6)
    canvas.axes("layer", what, _ticks(1, depth, min(depth, 10)), decades[::step],
                xfmt=lambda t: f"{t:.0f}")
    series_styles = ((expected, _COLORS["target"], True), (got, _COLORS["yours"], False))
    for series, color, dash in series_styles:
        points = [(i, v) for i, v in enumerate(series, start=1) if math.isfinite(v) and v > 0]
        if points:
            xs, ys = zip(*points, strict=True)
            canvas.line(xs, [min(max(y, lo), hi) for y in ys], color, dash, dots=True)
    canvas.legend([(labels[0], _COLORS["yours"], False), (labels[1], _COLORS["target"], True)])
    alt = f"{what} per layer: {labels[0]} against {labels[1]}, log scale"
    return Picture(canvas.svg(alt), alt + ".", reveals_arguments=True)
