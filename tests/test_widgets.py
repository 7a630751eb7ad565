"""Both forms of a demo draw the same thing; the precomputed one holds one frame per value."""

from __future__ import annotations

import re

import numpy as np
import pytest

from weightinit.chapters import display as widgets


def draw(fig, c):
    ax = fig.add_subplot()
    ax.plot(np.arange(5), c * np.arange(5))
    ax.set_title(f"c = {c}")


def test_frames_slider_embeds_one_png_per_value():
    html = widgets.frames_slider(draw, [0.5, 1.0, 2.0]).data
    frames = re.findall(r"frames\[(\d+)\] = \"data:image/png;base64,", html)
    assert sorted(map(int, frames)) == [0, 1, 2]
    assert 'type="range"' in html  # the slider the reader moves
    # Self-contained: no URL at all (matplotlib's player links a CDN stylesheet we remove).
    assert re.search(r"https?://", html) is None
    assert "fa fa-" not in html and "\u25b6" in html  # icons replaced by Unicode symbols


def test_frames_differ_when_the_value_differs():
    html = widgets.frames_slider(draw, [0.5, 2.0]).data
    pngs = re.findall(r'data:image/png;base64,([^"]+)"', html)
    assert len(pngs) == 2 and pngs[0] != pngs[1]


def test_frames_slider_draws_each_value_once_in_order():
    """A frame can cost a simulation: the first value is not drawn a second time (matplotlib's
    initial draw of an animation is skipped; the frames are the same)."""
    seen = []

    def recording_draw(fig, c):
        seen.append(c)
        draw(fig, c)

    widgets.frames_slider(recording_draw, [0.5, 1.0, 2.0])
    assert seen == [0.5, 1.0, 2.0]


def test_live_slider_redraws_on_change():
    seen = []

    def recording_draw(fig, c):
        seen.append(c)
        draw(fig, c)

    box = widgets.live_slider(recording_draw, [0.5, 1.0, 2.0], "c")
    slider, _out = box.children
    assert [label for label, _ in slider.options] == ["0.5", "1", "2"]
    assert seen == [0.5]  # drawn once at the first position
    slider.value = 2.0
    assert seen == [0.5, 2.0]  # and again when the reader moves the slider


def test_live_controls_pick_dropdown_for_names():
    def draw2(fig, n, act):
        fig.add_subplot().set_title(f"{n} {act}")

    box = widgets.live_controls(draw2, n=[1, 2], act=["relu", "tanh"])
    kinds = [type(c).__name__ for c in box.children[:2]]
    assert kinds == ["SelectionSlider", "Dropdown"]


def test_empty_values_are_refused():
    with pytest.raises(ValueError, match="values must list at least one value"):
        widgets.frames_slider(draw, [])
    assert widgets.format_value(1e-5) == "1e-05" and widgets.format_value("relu") == "relu"
