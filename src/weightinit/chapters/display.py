"""One demo, two forms: a live ipywidgets control for a kernel (Binder, Live Code, JupyterHub)
and a precomputed slider that still moves on the published HTML page, which has no kernel.

A chapter writes one drawing function ``draw(fig, value)`` (or ``draw(fig, **values)``) and
shows it twice:

.. code-block:: python

    live_slider(draw, values, "c")     # cell tagged remove-output: live in a kernel only
    frames_slider(draw, values)        # cell tagged remove-input: the HTML page's version

The precomputed form is matplotlib's ``Animation.to_jshtml``: every frame rendered once at build
time and embedded as an image, with a slider and play buttons in plain JavaScript, so it needs no
kernel, no widget manager and no network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats as _st

from .._validate import as_real

__all__ = [
    "format_value",
    "frames_slider",
    "live_slider",
    "live_controls",
    "SAMPLE_COLOR",
    "THEORY_COLOR",
    "REFERENCE_COLOR",
    "HistDensity",
    "normal_pdf",
    "hist_with_density",
]

# matplotlib's jshtml player draws its buttons with Font Awesome 4 loaded from a CDN. The book
# must load nothing from third-party hosts, so the stylesheet link goes and each icon becomes a
# plain symbol that common fonts have (with a title for screen readers and tooltips).
_FONT_AWESOME_LINK = re.compile(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">')
_ICONS = {
    "fa fa-minus": ("\u2212", "slower"),
    "fa fa-plus": ("+", "faster"),
    "fa fa-fast-backward": ("|\u25c0", "first frame"),
    "fa fa-step-backward": ("\u25c1", "previous frame"),
    "fa fa-play fa-flip-horizontal": ("\u25c0", "play backwards"),
    "fa fa-pause": ("||", "pause"),
    "fa fa-play": ("\u25b6", "play"),
    "fa fa-step-forward": ("\u25b7", "next frame"),
    "fa fa-fast-forward": ("\u25b6|", "last frame"),
}


def _self_contained(html: str) -> str:
    """Remove the player's CDN stylesheet and replace its icon font with Unicode symbols."""
    html = _FONT_AWESOME_LINK.sub("", html)
    for css, (symbol, title) in _ICONS.items():
        html = html.replace(f'<i class="{css}"></i>', f'<span title="{title}">{symbol}</span>')
    if "fa fa-" in html or "font-awesome" in html:
        raise RuntimeError("matplotlib's jshtml player changed: an icon was not replaced")
    return html

DrawFn = Callable[..., None]


def format_value(value: Any) -> str:
    """Short label for a slider position: ``0.5``, ``1e-05``, ``'relu'``."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _check_values(values: Sequence[Any], name: str) -> list[Any]:
    values = list(values)
    if not values:
        raise ValueError(f"{name} must list at least one value to show, got an empty sequence")
    return values


def frames_slider(
    draw: Callable[[Figure, Any], None],
    values: Sequence[Any],
    *,
    figsize: tuple[float, float] = (6.4, 3.6),
    dpi: int = 80,
    interval_ms: int = 600,
):
    """Precompute one frame per value and return an HTML slider that works without a kernel.

    Parameters
    ----------
    draw : callable
        ``draw(fig, value)`` draws the whole figure for one value (it may add axes to `fig`;
        the figure is cleared before each frame). Put the value in a title: the slider shows
        the frame number only.
    values : sequence
        The positions of the slider, in order.
    figsize, dpi : figure size in inches and resolution of the embedded frames.
    interval_ms : int
        Delay between frames when the reader presses play.

    Returns
    -------
    IPython.display.HTML
        Self-contained HTML (frames embedded as base64 PNG, slider in inline JavaScript).
    """
    from IPython.display import HTML

    values = _check_values(values, "values")
    fig = plt.figure(figsize=figsize, dpi=dpi)

    def update(i: int):
        fig.clear()
        draw(fig, values[i])
        return []

    # init_func: no extra draw of the first value before the frames are drawn and saved.
    anim = FuncAnimation(fig, update, frames=len(values), init_func=lambda: [],
                         interval=interval_ms, blit=False)
    html = _self_contained(anim.to_jshtml(default_mode="once"))
    plt.close(fig)
    return HTML(html)


def live_controls(
    draw: DrawFn,
    *,
    figsize: tuple[float, float] = (6.4, 3.6),
    **options: Sequence[Any],
):
    """A live control per keyword (slider for numbers, dropdown for strings), redrawing
    ``draw(fig, **values)``.

    Needs a running kernel with ipywidgets; returns an ``ipywidgets.VBox`` of the controls above
    the figure. Each keyword's sequence lists the positions of its control.
    """
    import ipywidgets as widgets
    from IPython.display import display

    controls = {}
    for name, values in options.items():
        values = _check_values(values, name)
        labelled = [(format_value(v), v) for v in values]
        if all(isinstance(v, str) for v in values):
            controls[name] = widgets.Dropdown(options=labelled, description=name)
        else:
            controls[name] = widgets.SelectionSlider(
                options=labelled, description=name, continuous_update=False
            )
    out = widgets.Output()

    def render(_change=None) -> None:
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=figsize)
            draw(fig, **{name: c.value for name, c in controls.items()})
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(render, names="value")
    render()
    return widgets.VBox([*controls.values(), out])


def live_slider(
    draw: Callable[[Figure, Any], None],
    values: Sequence[Any],
    description: str = "value",
    *,
    figsize: tuple[float, float] = (6.4, 3.6),
):
    """The live twin of :func:`frames_slider`: one slider over `values`, redrawing
    ``draw(fig, value)``."""
    return live_controls(
        lambda fig, **kw: draw(fig, kw[description]), figsize=figsize, **{description: values}
    )


# --------------------------------------------------------------------------------------------
# Common plot pieces: the book's colours, a histogram with a density curve
# --------------------------------------------------------------------------------------------


#: Colours used across the book: the sample, the theory curve, a reference curve.
SAMPLE_COLOR = "#4c72b0"
THEORY_COLOR = "#c44e52"
REFERENCE_COLOR = "#555555"


class HistDensity(NamedTuple):
    """What :func:`hist_with_density` drew: the bars, the curve (or None) and the share of the
    sample that fell outside the histogram's range (not drawn)."""

    bars: BarContainer
    line: Line2D | None
    outside: float




def normal_pdf(mean: float = 0.0, std: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """The density of :math:`N(\\text{mean}, \\text{std}^2)` as a function of ``x``."""
    std = as_real(std, "std", minimum=0.0, strict=True)
    return _st.norm(as_real(mean, "mean"), std).pdf


def hist_with_density(
    ax: Axes,
    samples: np.ndarray,
    pdf: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    bins: int = 60,
    range: tuple[float, float] | None = None,
    label: str | None = None,
    pdf_label: str | None = None,
    color: str = SAMPLE_COLOR,
    pdf_color: str = THEORY_COLOR,
    pdf_style: str = "-",
) -> HistDensity:
    """Histogram of `samples` on a density scale, with the density `pdf` drawn over it.

    The bar heights are ``count / (len(samples) * bin_width)`` over *all* samples, so the bars
    are comparable with `pdf` even when some samples fall outside `range` (they are counted in
    the total but not drawn; their share is returned). With every sample inside, the bars' area
    is exactly 1.

    Parameters
    ----------
    ax : matplotlib Axes
        Where to draw.
    samples : array_like
        Values to histogram (flattened); at least one, all finite.
    pdf : callable, optional
        Density to overlay, evaluated on 401 points across the range.
    bins : int
        Number of bars, positive.
    range : (float, float), optional
        Lower and upper edge; default the sample's minimum and maximum.
    label, pdf_label : str, optional
        Legend labels of the bars and the curve.
    color, pdf_color, pdf_style : matplotlib colour and line style.

    Returns
    -------
    HistDensity

    Raises
    ------
    ValueError
        For an empty or non-finite sample, a non-positive `bins` or an empty `range`.
    """
    x = np.ravel(np.asarray(samples, dtype=float))
    if x.size == 0:
        raise ValueError("samples must hold at least one value, got an empty array")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite, got NaN or infinite values")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    lo, hi = (float(x.min()), float(x.max())) if range is None else map(float, range)
    if not hi > lo:
        if range is not None:
            raise ValueError(f"range must be (low, high) with low < high, got {range!r}")
        lo, hi = lo - 0.5, hi + 0.5  # a constant sample: one unit-wide window around it
    edges = np.linspace(lo, hi, int(bins) + 1)
    counts, _ = np.histogram(x, bins=edges)
    heights = counts / (x.size * np.diff(edges))
    bars = ax.bar(edges[:-1], heights, width=np.diff(edges), align="edge", color=color,
                  alpha=0.55, edgecolor="none", label=label)
    line = None
    if pdf is not None:
        grid = np.linspace(lo, hi, 401)
        (line,) = ax.plot(grid, pdf(grid), pdf_style, color=pdf_color, lw=2, label=pdf_label)
    ax.set_xlim(lo, hi)
    outside = 1.0 - counts.sum() / x.size
    return HistDensity(bars=bars, line=line, outside=float(outside))
