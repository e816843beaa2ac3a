"""The one way numbers are written for people (lti_tool.figures)."""

from __future__ import annotations

from lti_tool.figures import display, score_text, signed_text


def test_display_rounds_for_people_and_uses_a_decimal_comma_in_polish():
    assert display(8.8) == "8.8"
    assert display(8.8, "pl") == "8,8"
    assert display(5.3125, "pl-PL") == "5,3"
    # Half up, as people round: Python's own formatting would give "2.2", "6.2" and "9.62".
    assert display(2.25) == "2.3"
    assert display(6.25) == "6.3" and f"{6.25:.1f}" == "6.2"
    assert display(9.625, "en", digits=2) == "9.63"
    assert display(10.0) == "10.0"
    assert display(-0.04) == "0.0"


def test_a_score_with_its_measurement_error():
    assert score_text(5.8) == "5.8"
    assert score_text(5.8, "en", 0.876356) == "5.8 (±0.9)"
    assert score_text(6.25, "pl", 0.25) == "6,3 (±0,3)"


def test_a_change_carries_its_sign():
    assert signed_text(1.25) == "+1.3"
    assert signed_text(-0.44) == "−0.4"
    assert signed_text(0.01) == "0.0"
