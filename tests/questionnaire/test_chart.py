"""The radar chart and histogram as accessible, well-formed, escaped SVG."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lti_tool.questionnaire.chart import (
    INNER_SHARE,
    Series,
    histogram_svg,
    radar_svg,
    wrap_label,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
LABELS = ["Empathy", "Collaboration and diversity", "Holistic thinking", "Critical questioning",
          "Abductive thinking", "Experimentation", "Tolerance of uncertainty and risk",
          "Learning orientation", "Creative confidence", "Optimism to have an impact"]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def radar(values, *more: Series, labels=LABELS, **options) -> ET.Element:
    options.setdefault("title", "Your profile")
    options.setdefault("description", "Scores for ten dimensions.")
    return parse(radar_svg(labels, [Series("You", values, "learner"), *more], **options))


def points_of(polygon: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in polygon.get("points").split()]


def rings_of(root: ET.Element) -> list[ET.Element]:
    return root.findall(".//svg:circle[@class='ring']", NS)


def centre_and_outer_radius(root: ET.Element) -> tuple[float, float, float]:
    outer = max(rings_of(root), key=lambda ring: float(ring.get("r")))
    return float(outer.get("cx")), float(outer.get("cy")), float(outer.get("r"))


def test_radar_is_an_accessible_image_named_by_its_title_and_desc():
    root = radar([5.0] * 10, title="Profile of <Ada>", description="Empathy 7 & more")
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"svg:title[@id='{title_id}']", NS).text == "Profile of <Ada>"
    assert root.find(f"svg:desc[@id='{desc_id}']", NS).text == "Empathy 7 & more"
    # The title comes first, so that it is the accessible name in every browser.
    assert [child.tag.split("}")[1] for child in root[:2]] == ["title", "desc"]


def test_two_charts_on_one_page_get_different_ids():
    first = radar([5.0] * 10).get("aria-labelledby")
    second = radar([6.0] * 10).get("aria-labelledby")
    assert first != second
    assert radar([5.0] * 10, chart_id="me").get("aria-labelledby") == "me-title me-desc"


def test_one_polygon_per_series_with_one_point_per_axis():
    cohort = Series("Cohort average", [5.5] * 10, "cohort")
    root = radar([7.0] * 10, cohort)
    polygons = root.findall(".//svg:polygon", NS)
    assert len(polygons) == 2
    assert all(len(points_of(polygon)) == 10 for polygon in polygons)
    learner, average = polygons
    assert learner.get("stroke-dasharray") is None
    assert average.get("stroke-dasharray")
    assert average.get("fill") == "none"
    groups = root.findall(".//svg:g[@class]", NS)
    classes = [group.get("class") for group in groups]
    assert "series series-0 learner" in classes and "series series-1 cohort" in classes


def test_rings_at_two_four_six_eight_and_ten():
    root = radar([5.0] * 10)
    radii = sorted(float(ring.get("r")) for ring in rings_of(root))
    assert len(radii) == 5
    # Evenly spaced: on the 1..10 scale the radius is value / 10 of the outer one.
    for value, radius in zip((2, 4, 6, 8, 10), radii, strict=True):
        assert math.isclose(radius, radii[-1] * value / 10, rel_tol=1e-3)


def test_ten_lies_on_the_outer_ring_and_one_at_the_innermost_position():
    root = radar([10, 1, 10, 1, 10, 1, 10, 1, 10, 1])
    cx, cy, outer = centre_and_outer_radius(root)
    points = points_of(root.find(".//svg:polygon", NS))
    for axis, (x, y) in enumerate(points):
        distance = math.hypot(x - cx, y - cy)
        expected = outer if axis % 2 == 0 else outer * INNER_SHARE
        assert math.isclose(distance, expected, abs_tol=0.02), axis
    # The first axis points straight up.
    assert math.isclose(points[0][0], cx, abs_tol=0.01) and points[0][1] < cy


def test_axis_labels_sit_outside_the_rings_and_long_ones_wrap():
    root = radar([5.0] * 10)
    cx, cy, outer = centre_and_outer_radius(root)
    labels = root.findall(".//svg:text[@class='axis-label']", NS)
    assert len(labels) == 10
    for label in labels:
        for line in label.findall("svg:tspan", NS):
            distance = math.hypot(float(line.get("x")) - cx, float(line.get("y")) - cy)
            assert distance > outer
    texts = [[line.text for line in label.findall("svg:tspan", NS)] for label in labels]
    assert texts[0] == ["Empathy"]
    assert texts[6] == ["Tolerance of", "uncertainty and risk"]


def test_every_text_is_escaped_and_survives_a_round_trip():
    nasty = 'Team <script>alert("x")</script> & co'
    svg = radar_svg(
        ["A & B", "<C>", '"D"'], [Series(nasty, [2, 3, 4]), Series("Cohort", [5, 5, 5])],
        title="T & <t>", description="d\x00escription",
    )
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    texts = "".join(root.itertext())
    assert "A & B" in texts and "<C>" in texts and '"D"' in texts and nasty in texts
    assert root.find("svg:desc", NS).text == "description"  # control characters dropped


def test_no_script_and_no_event_handlers():
    root = radar([3.0] * 10, Series("Cohort", [6.0] * 10))
    for element in root.iter():
        assert not element.tag.endswith("script")
        assert not any(name.startswith("on") for name in element.attrib)


@pytest.mark.parametrize(
    ("labels", "values", "problem"),
    [
        (["a", "b"], [1, 2], "at least 3 axes"),
        (["a", "b", "c"], [1, 2], "2 values for 3 axes"),
        (["a", "b", "c"], [1, 2, 11], "outside 1..10"),
        (["a", "b", "c"], [0, 2, 3], "outside 1..10"),
    ],
)
def test_bad_input_is_refused(labels, values, problem):
    with pytest.raises(ValueError, match=problem):
        radar_svg(labels, [Series("You", values)], title="t", description="d")


@given(st.lists(st.floats(1, 10), min_size=3, max_size=12))
def test_every_point_lies_within_the_outer_ring(values):
    root = radar(values, labels=[f"Axis {n}" for n in range(len(values))])
    cx, cy, outer = centre_and_outer_radius(root)
    points = points_of(root.find(".//svg:polygon", NS))
    assert len(points) == len(values)
    for x, y in points:
        assert outer * INNER_SHARE - 0.02 <= math.hypot(x - cx, y - cy) <= outer + 0.02


def test_wrap_label_keeps_the_longer_line_short():
    assert wrap_label("Empathy") == ["Empathy"]
    assert wrap_label("Collaboration and diversity") == ["Collaboration", "and diversity"]
    assert wrap_label("Tolerancja niepewności i ryzyka") == ["Tolerancja", "niepewności i ryzyka"]
    assert wrap_label("Supercalifragilisticexpialidocious") == [
        "Supercalifragilisticexpialidocious"
    ]


# Histogram --------------------------------------------------------------------------------------


def test_histogram_has_one_bar_per_score_with_heights_in_proportion():
    svg = histogram_svg(
        [0, 1, 2, 4, 0, 0, 0, 0, 0, 1], title="Empathy in your group",
        description="How many learners scored 1 to 10.", highlight=3,
    )
    root = parse(svg)
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"svg:title[@id='{title_id}']", NS).text == "Empathy in your group"
    bars = root.findall(".//svg:rect", NS)
    assert len(bars) == 10
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[0] == 0
    assert math.isclose(heights[2], 2 * heights[1]) and math.isclose(heights[3], 4 * heights[1])
    assert bars[3].get("class") == "bar highlight"
    assert [bar.get("class") for bar in bars].count("bar highlight") == 1
    labels = [text.text for text in root.findall(".//svg:text[@class='bar-label']", NS)]
    assert labels == [str(number) for number in range(1, 11)]
    counts = [text.text for text in root.findall(".//svg:text[@class='count']", NS)]
    assert counts == ["0", "1", "2", "4", "0", "0", "0", "0", "0", "1"]


def test_histogram_escapes_labels_and_handles_an_empty_cohort():
    root = parse(histogram_svg([0, 0, 0], title="<none>", description="a & b",
                               labels=["low <", "mid", "high >"]))
    assert root.find("svg:title", NS).text == "<none>"
    labels = [text.text for text in root.findall(".//svg:text[@class='bar-label']", NS)]
    assert labels == ["low <", "mid", "high >"]
    assert all(float(bar.get("height")) == 0 for bar in root.findall(".//svg:rect", NS))


def test_histogram_refuses_mismatched_labels():
    with pytest.raises(ValueError, match="2 labels for 3 bars"):
        histogram_svg([1, 2, 3], title="t", description="d", labels=["a", "b"])
