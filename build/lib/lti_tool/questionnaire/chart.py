"""Accessible inline SVG charts for profiles: a radar chart and a score histogram.

The SVG is built with ElementTree, so every text and attribute is XML-escaped. Shapes carry
classes for the stylesheet and default fill/stroke attributes so that a chart renders alone.
"""

from __future__ import annotations

import hashlib
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

SVG_NS = "http://www.w3.org/2000/svg"
DEFAULT_RINGS = (2, 4, 6, 8, 10)
#: The lowest value sits this far out (as a share of the radius), so an all-lowest profile is
#: still a visible polygon; on the 1..10 scale the radius is then simply value / 10.
INNER_SHARE = 0.1
#: Longest axis label line, in characters, before the label wraps onto a second line.
LABEL_LINE_CHARS = 18

_FONT_SIZE = 12
_LINE_HEIGHT = 14
_LEARNER_COLOUR = "#2b6cb0"
_COHORT_COLOUR = "#4a5568"
_GRID_COLOUR = "#cbd5e0"
_TEXT_COLOUR = "#1a202c"
# Characters that XML 1.0 forbids even when escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Series:
    """One polygon on a radar chart: the learner's scores, or a cohort's average.

    `errors`, when given, are each value's standard error: the chart draws value ± error as a
    thick line along the axis.
    """

    name: str
    values: tuple[float, ...]
    css_class: str = "series"
    errors: tuple[float, ...] | None = None

    def __post_init__(self):
        # Accept any sequence but keep the dataclass immutable.
        object.__setattr__(self, "values", tuple(self.values))
        if self.errors is not None:
            object.__setattr__(self, "errors", tuple(self.errors))


def radar_svg(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    scale: tuple[float, float] = (1, 10),
    title: str,
    description: str,
    size: int = 420,
    rings: Sequence[float] = DEFAULT_RINGS,
    chart_id: str | None = None,
) -> str:
    """A radar chart: one axis per label (clockwise from the top), one polygon per series.

    The first series is drawn solid (the learner), later ones dashed (e.g. the cohort average).
    The highest value lies on the outer ring; the lowest at INNER_SHARE of the radius.
    """
    low, high = scale
    if low >= high:
        raise ValueError(f"scale must run from low to high, got {scale}")
    if len(labels) < 3:
        raise ValueError("a radar chart needs at least 3 axes")
    for entry in series:
        if len(entry.values) != len(labels):
            raise ValueError(
                f"series {entry.name!r} has {len(entry.values)} values for {len(labels)} axes"
            )
        if any(not low <= value <= high for value in entry.values):
            raise ValueError(f"series {entry.name!r} has values outside {low}..{high}")
        if entry.errors is not None and (len(entry.errors) != len(labels)
                                         or any(error < 0 for error in entry.errors)):
            raise ValueError(f"series {entry.name!r} needs one error of 0 or more per axis")

    geometry = _RadarGeometry(size=size, axes=len(labels), low=low, high=high)
    legend_height = 2 * _LINE_HEIGHT if len(series) > 1 else 0
    root = _svg_root(
        "radar", geometry.width, size + legend_height, title, description,
        chart_id or _default_id("radar", title, description, labels, series),
    )
    grid = ET.SubElement(root, "g", {"class": "grid"})
    for ring in rings:
        ET.SubElement(grid, "circle", {
            "class": "ring", "cx": _num(geometry.cx), "cy": _num(geometry.cy),
            "r": _num(geometry.radius(ring)), "fill": "none", "stroke": _GRID_COLOUR,
        })
        ring_label = ET.SubElement(grid, "text", {
            "class": "ring-label", "x": _num(geometry.cx + 3),
            "y": _num(geometry.cy - geometry.radius(ring) - 2),
            "font-size": str(_FONT_SIZE - 3), "fill": _COHORT_COLOUR,
        })
        ring_label.text = _num(ring)
    for axis in range(len(labels)):
        end_x, end_y = geometry.point(axis, high)
        ET.SubElement(grid, "line", {
            "class": "axis", "x1": _num(geometry.cx), "y1": _num(geometry.cy),
            "x2": _num(end_x), "y2": _num(end_y), "stroke": _GRID_COLOUR,
        })

    label_group = ET.SubElement(root, "g", {
        "class": "axis-labels", "font-size": str(_FONT_SIZE), "fill": _TEXT_COLOUR,
    })
    for axis, label in enumerate(labels):
        _axis_label(label_group, geometry, axis, label)

    for position, entry in enumerate(series):
        _polygon(root, geometry, position, entry)
        if entry.errors is not None:
            _error_bars(root, geometry, position, entry)
    if len(series) > 1:
        _legend(root, series, top=size)
    return ET.tostring(root, encoding="unicode")


def histogram_svg(
    counts: Sequence[int],
    *,
    title: str,
    description: str,
    labels: Sequence[str] | None = None,
    highlight: int | None = None,
    width: int = 360,
    height: int = 200,
    chart_id: str | None = None,
) -> str:
    """A bar chart of counts (by default for scores 1..10); `highlight` marks one bar by index."""
    labels = [str(number) for number in range(1, len(counts) + 1)] if labels is None else labels
    if len(labels) != len(counts):
        raise ValueError(f"{len(labels)} labels for {len(counts)} bars")
    if any(count < 0 for count in counts):
        raise ValueError("counts must not be negative")
    root = _svg_root(
        "histogram", width, height, title, description,
        chart_id or _default_id("histogram", title, description, labels, counts),
    )
    left, right, top, bottom = 8, width - 8, _LINE_HEIGHT + 6, height - _LINE_HEIGHT - 8
    slot = (right - left) / max(len(counts), 1)
    tallest = max(counts, default=0) or 1
    bars = ET.SubElement(root, "g", {"class": "bars", "font-size": str(_FONT_SIZE)})
    for index, (count, label) in enumerate(zip(counts, labels, strict=True)):
        bar_height = (bottom - top) * count / tallest
        centre = left + slot * (index + 0.5)
        highlighted = index == highlight
        bar = ET.SubElement(bars, "rect", {
            "class": "bar highlight" if highlighted else "bar",
            "x": _num(centre - slot * 0.35), "y": _num(bottom - bar_height),
            "width": _num(slot * 0.7), "height": _num(bar_height),
            "fill": "#dd6b20" if highlighted else _LEARNER_COLOUR,
        })
        ET.SubElement(bar, "title").text = f"{_clean(label)}: {count}"
        _text(bars, centre, bottom - bar_height - 4, str(count), "count", "middle")
        _text(bars, centre, bottom + _LINE_HEIGHT, label, "bar-label", "middle")
    ET.SubElement(root, "line", {
        "class": "baseline", "x1": _num(left), "y1": _num(bottom), "x2": _num(right),
        "y2": _num(bottom), "stroke": _COHORT_COLOUR,
    })
    return ET.tostring(root, encoding="unicode")


@dataclass(frozen=True)
class _RadarGeometry:
    size: int
    axes: int
    low: float
    high: float

    @property
    def width(self) -> float:
        # Side labels need more room than the top and bottom ones.
        return self.size * 1.3

    @property
    def cx(self) -> float:
        return self.width / 2

    @property
    def cy(self) -> float:
        return self.size / 2

    @property
    def outer_radius(self) -> float:
        return self.size * 0.31

    def radius(self, value: float) -> float:
        share = INNER_SHARE + (1 - INNER_SHARE) * (value - self.low) / (self.high - self.low)
        return self.outer_radius * share

    def angle(self, axis: int) -> float:
        return -math.pi / 2 + 2 * math.pi * axis / self.axes

    def point(self, axis: int, value: float) -> tuple[float, float]:
        radius, angle = self.radius(value), self.angle(axis)
        return self.cx + radius * math.cos(angle), self.cy + radius * math.sin(angle)


def _svg_root(kind, width, height, title, description, chart_id) -> ET.Element:
    root = ET.Element("svg", {
        "xmlns": SVG_NS, "class": f"chart {kind}", "role": "img",
        "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
        "viewBox": f"0 0 {_num(width)} {_num(height)}",
        "width": _num(width), "height": _num(height),
        "font-family": "system-ui, sans-serif",
    })
    ET.SubElement(root, "title", {"id": f"{chart_id}-title"}).text = _clean(title)
    ET.SubElement(root, "desc", {"id": f"{chart_id}-desc"}).text = _clean(description)
    return root


def _axis_label(parent, geometry: _RadarGeometry, axis: int, label: str) -> None:
    angle = geometry.angle(axis)
    reach = geometry.outer_radius + 10
    x = geometry.cx + reach * math.cos(angle)
    y = geometry.cy + reach * math.sin(angle)
    cos, sin = math.cos(angle), math.sin(angle)
    anchor = "start" if cos > 0.2 else "end" if cos < -0.2 else "middle"
    lines = wrap_label(label)
    if sin < -0.2:  # above the centre: the block grows upwards
        first = y - 4 - (len(lines) - 1) * _LINE_HEIGHT
    elif sin > 0.2:  # below: it hangs downwards
        first = y + _FONT_SIZE
    else:
        first = y + _FONT_SIZE * 0.35 - (len(lines) - 1) * _LINE_HEIGHT / 2
    text = ET.SubElement(parent, "text", {"class": "axis-label", "text-anchor": anchor})
    for number, line in enumerate(lines):
        tspan = ET.SubElement(text, "tspan", {
            "x": _num(x), "y": _num(first + number * _LINE_HEIGHT),
        })
        tspan.text = _clean(line)


def wrap_label(label: str, width: int = LABEL_LINE_CHARS) -> list[str]:
    """Split a label over at most 2 lines at the space that keeps the longer line shortest."""
    label = " ".join(label.split())
    if len(label) <= width or " " not in label:
        return [label]
    spaces = [position for position, char in enumerate(label) if char == " "]
    best = min(spaces, key=lambda space: max(space, len(label) - space - 1))
    return [label[:best], label[best + 1:]]


def _polygon(root, geometry: _RadarGeometry, position: int, entry: Series) -> None:
    learner = position == 0
    colour = _LEARNER_COLOUR if learner else _COHORT_COLOUR
    group = ET.SubElement(root, "g", {"class": f"series series-{position} {entry.css_class}"})
    points = [geometry.point(axis, value) for axis, value in enumerate(entry.values)]
    shape = {
        "class": "series-shape",
        "points": " ".join(f"{_num(x)},{_num(y)}" for x, y in points),
        "fill": colour if learner else "none", "fill-opacity": "0.25",
        "stroke": colour, "stroke-width": "2", "stroke-linejoin": "round",
    }
    if not learner:
        shape["stroke-dasharray"] = "6 4"
    ET.SubElement(group, "polygon", shape)
    for x, y in points:
        ET.SubElement(group, "circle", {
            "class": "series-point", "cx": _num(x), "cy": _num(y),
            "r": "3" if learner else "2", "fill": colour,
        })


def _error_bars(root, geometry: _RadarGeometry, position: int, entry: Series) -> None:
    colour = _LEARNER_COLOUR if position == 0 else _COHORT_COLOUR
    group = ET.SubElement(root, "g", {"class": f"error-bars series-{position}"})
    for axis, (value, error) in enumerate(zip(entry.values, entry.errors, strict=True)):
        # The band stops at the ends of the scale: a true score cannot lie beyond them.
        (x1, y1), (x2, y2) = (geometry.point(axis, max(geometry.low, value - error)),
                              geometry.point(axis, min(geometry.high, value + error)))
        ET.SubElement(group, "line", {
            "class": "error-bar", "x1": _num(x1), "y1": _num(y1), "x2": _num(x2), "y2": _num(y2),
            "stroke": colour, "stroke-width": "5", "stroke-opacity": "0.45",
            "stroke-linecap": "round",
        })


def _legend(root, series: Sequence[Series], top: float) -> None:
    legend = ET.SubElement(root, "g", {"class": "legend", "font-size": str(_FONT_SIZE)})
    x = 12.0
    y = top + _LINE_HEIGHT
    for position, entry in enumerate(series):
        sample = {
            "class": f"legend-sample series-{position} {entry.css_class}",
            "x1": _num(x), "y1": _num(y - 4), "x2": _num(x + 24), "y2": _num(y - 4),
            "stroke": _LEARNER_COLOUR if position == 0 else _COHORT_COLOUR, "stroke-width": "2",
        }
        if position:
            sample["stroke-dasharray"] = "6 4"
        ET.SubElement(legend, "line", sample)
        _text(legend, x + 30, y, entry.name, "legend-label", "start")
        x += 30 + 7 * len(entry.name) + 24


def _text(parent, x: float, y: float, content: str, css_class: str, anchor: str) -> None:
    element = ET.SubElement(parent, "text", {
        "class": css_class, "x": _num(x), "y": _num(y), "text-anchor": anchor,
        "fill": _TEXT_COLOUR,
    })
    element.text = _clean(content)


def _clean(text: str) -> str:
    return _INVALID_XML.sub("", str(text))


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _default_id(kind: str, *content: object) -> str:
    # Stable across renders, and different for different charts on one page.
    digest = hashlib.sha1(repr(content).encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{kind}-{digest[:10]}"
