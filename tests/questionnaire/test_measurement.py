"""measurement.py against numbers worked out by hand (the working is in each test's comments).

Each formula was broken once on purpose (e.g. SEM as SD·(1 − r), S_diff without the 2, the
ipsative error without the Σ/k² term) and its test failed.
"""

from __future__ import annotations

import math

import pytest

from lti_tool.questionnaire.measurement import (
    Change,
    Level,
    Standing,
    band,
    change_verdict,
    difference_error,
    feldt_interval,
    level,
    mean_error,
    percentile_rank,
    read_profile,
    reliable_change_index,
    standard_error,
    z_for,
)

TEN = [f"d{number}" for number in range(10)]


def profile(*scores: float) -> list[tuple[str, float]]:
    return list(zip(TEN, scores, strict=False))


# Standard error of measurement ----------------------------------------------------------------


def test_sem_is_sd_times_the_root_of_one_minus_reliability():
    assert standard_error(2.0, 0.75) == pytest.approx(1.0)  # 2 × √0.25
    assert standard_error(3.0, 0.91) == pytest.approx(0.9)  # 3 × √0.09
    # The provisional figures: 1.6 × √0.30 = 1.6 × 0.547723 = 0.876356, shown as ±0.9.
    assert standard_error(1.6, 0.70) == pytest.approx(0.876356, abs=1e-6)


def test_a_perfect_reliability_has_no_error_and_a_negative_alpha_counts_as_zero():
    assert standard_error(1.6, 1.0) == 0
    assert standard_error(1.6, -0.2) == pytest.approx(1.6)
    with pytest.raises(ValueError):
        standard_error(-1, 0.7)


def test_z_for_a_confidence_level():
    assert z_for(0.90) == pytest.approx(1.6449, abs=1e-4)
    assert z_for(0.95) == pytest.approx(1.9600, abs=1e-4)
    assert z_for(0.68) == pytest.approx(0.9945, abs=1e-4)


def test_the_band_is_score_plus_minus_z_sem_inside_the_scale():
    assert band(5.8, 0.9) == pytest.approx((4.9, 6.7))
    assert band(5.8, 0.9, z=1.96) == pytest.approx((4.036, 7.564))
    assert band(9.5, 0.9) == pytest.approx((8.6, 10.0))
    assert band(1.2, 0.9) == pytest.approx((1.0, 2.1))


def test_the_error_of_a_mean_of_ten_independent_scores():
    # √(10 × 0.81) / 10 = 0.9 × √10 / 10 = 0.284605
    assert mean_error([0.9] * 10) == pytest.approx(0.284605, abs=1e-6)
    # √(1 + 4) / 2
    assert mean_error([1.0, 2.0]) == pytest.approx(math.sqrt(5) / 2)


# Bands ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("score", "expected"), [
    (1.0, Level.LOW), (4.0, Level.LOW), (4.01, Level.MODERATE), (6.99, Level.MODERATE),
    (7.0, Level.HIGH), (10.0, Level.HIGH),
])
def test_bands_low_up_to_and_high_from(score, expected):
    assert level(score, low_up_to=4.0, high_from=7.0) is expected


def test_band_limits_must_be_in_order():
    with pytest.raises(ValueError):
        level(5, low_up_to=7.0, high_from=4.0)


# Strengths and areas by evidence (ipsative) ---------------------------------------------------


def test_the_ipsative_error_with_equal_sems_is_sem_times_root_k_minus_1_over_k():
    # √(1 × (1 − 2/10) + 10 × 1 / 100) = √0.9 = 0.948683 = 1 × √(9/10)
    assert difference_error([1.0] * 10, 3) == pytest.approx(math.sqrt(0.9))
    assert difference_error([0.5] * 4, 0) == pytest.approx(0.5 * math.sqrt(3 / 4))


def test_the_ipsative_error_with_unequal_sems():
    sems = [1.0, 1.0, 1.0, 3.0]  # k = 4, Σ SEM² = 12, Σ/k² = 0.75
    assert difference_error(sems, 3) == pytest.approx(math.sqrt(9 * 0.5 + 0.75))  # 2.291288
    assert difference_error(sems, 0) == pytest.approx(math.sqrt(1 * 0.5 + 0.75))  # 1.118034


def test_a_flat_profile_has_no_strengths_and_no_areas():
    reading = read_profile(profile(*[5.5] * 10), dict.fromkeys(TEN, 1.0), z=1.645)
    assert reading.flat and reading.strengths == () and reading.areas == ()
    assert {entry.standing for entry in reading.dimensions} == {Standing.USUAL}
    assert reading.mean == pytest.approx(5.5)


def test_one_clear_strength_and_one_clear_area():
    # SEM 1 everywhere: the least difference that counts is 1.645 × √0.9 = 1.560584.
    # Nine scores of 5 and one of 7: mean 5.2, difference +1.8 → a strength.
    reading = read_profile(profile(*[5.0] * 9, 7.0), dict.fromkeys(TEN, 1.0), z=1.645)
    assert [entry.dimension_id for entry in reading.strengths] == ["d9"]
    assert reading.reading("d9").difference == pytest.approx(1.8)
    assert reading.reading("d9").threshold == pytest.approx(1.560584, abs=1e-6)
    assert reading.areas == () and not reading.flat
    # Nine of 5 and one of 3: mean 4.8, difference −1.8 → an area for development.
    reading = read_profile(profile(3.0, *[5.0] * 9), dict.fromkeys(TEN, 1.0), z=1.645)
    assert [entry.dimension_id for entry in reading.areas] == ["d0"] and not reading.strengths


def test_noise_just_under_the_threshold_is_the_usual_range():
    # One score x above nine of 5: difference 0.9 × (x − 5). x = 6.7 → 1.53 < 1.5606: usual;
    # x = 6.8 → 1.62 > 1.5606: a strength.
    sems = dict.fromkeys(TEN, 1.0)
    assert read_profile(profile(*[5.0] * 9, 6.7), sems, z=1.645).flat
    assert read_profile(profile(*[5.0] * 9, 6.8), sems, z=1.645).strengths


def test_a_less_precise_dimension_needs_a_larger_difference():
    # SEM 3 on d3 (k = 4): its least difference is 1.645 × 2.291288 = 3.769; SEM 1 on the
    # others: 1.645 × 1.118034 = 1.839. Each of d0 and d3 is 2.4 above the mean of 5.
    sems = {"d0": 1.0, "d1": 1.0, "d2": 1.0, "d3": 3.0}
    reading = read_profile([("d0", 7.4), ("d1", 2.6), ("d2", 2.6), ("d3", 7.4)], sems, z=1.645)
    assert reading.reading("d0").standing is Standing.STRENGTH
    assert reading.reading("d3").standing is Standing.USUAL
    assert reading.reading("d3").threshold == pytest.approx(1.645 * math.sqrt(5.25))


def test_equal_scores_are_equal_whatever_their_order():
    sems = dict.fromkeys(TEN, 1.0)
    scores = profile(7.0, 5.0, 5.0, 5.0, 7.0, 5.0, 5.0, 5.0, 5.0, 5.0)
    forwards = read_profile(scores, sems, z=1.645)
    backwards = read_profile(list(reversed(scores)), sems, z=1.645)
    assert {e.dimension_id for e in forwards.strengths} == {"d0", "d4"}
    assert {e.dimension_id for e in backwards.strengths} == {"d0", "d4"}
    assert {e.standing for e in forwards.dimensions if e.score == 5.0} == {Standing.USUAL}


# Reliable change (Jacobson & Truax) -----------------------------------------------------------


def test_the_reliable_change_index():
    # S_diff = √(2 × 0.81) = 1.272792; +2.0 / 1.272792 = 1.571348; +2.6 / 1.272792 = 2.042752
    assert reliable_change_index(5.0, 7.0, 0.9) == pytest.approx(1.571348, abs=1e-6)
    assert reliable_change_index(5.0, 7.6, 0.9) == pytest.approx(2.042752, abs=1e-6)
    assert reliable_change_index(7.6, 5.0, 0.9) == pytest.approx(-2.042752, abs=1e-6)
    # Two versions with their own SEMs: √(0.36 + 0.64) = 1, so the RCI is the change itself.
    assert reliable_change_index(4.0, 6.5, 0.6, 0.8) == pytest.approx(2.5)


def test_the_verdict_needs_more_than_1_96():
    assert change_verdict(2.042752) is Change.INCREASE
    assert change_verdict(-2.042752) is Change.DECREASE
    assert change_verdict(1.571348) is Change.WITHIN
    assert change_verdict(1.96) is Change.WITHIN


def test_no_error_cannot_judge_a_change():
    with pytest.raises(ValueError):
        reliable_change_index(5, 6, 0.0)


# Percentile ranks -----------------------------------------------------------------------------


def test_percentile_rank_counts_below_and_half_of_the_equal():
    group = [float(value) for value in range(1, 31)]  # 1..30
    # 9 below 10, 1 equal: (9 + 0.5) / 30 = 31.67 %
    assert percentile_rank(10.0, group) == pytest.approx(31.6667, abs=1e-4)
    assert percentile_rank(0.5, group) == 0
    assert percentile_rank(30.0, group) == pytest.approx(98.3333, abs=1e-4)
    assert percentile_rank(5.0, [5.0] * 30) == 50


def test_no_percentile_below_thirty_people():
    assert percentile_rank(5.0, [float(v) for v in range(29)]) is None
    assert percentile_rank(5.0, [float(v) for v in range(30)]) is not None


# Feldt's interval of alpha -------------------------------------------------------------------


def test_feldts_interval_with_two_and_two_degrees_of_freedom():
    # n = 3 people, k = 2 items: F(2, 2) has the distribution function x / (1 + x), so its
    # quantile p is p / (1 − p): F(0.975) = 39 and F(0.025) = 1/39. For alpha 0.8:
    # lower = 1 − 0.2 × 39 = −6.8, upper = 1 − 0.2 / 39 = 0.994872.
    low, high = feldt_interval(0.8, 3, 2)
    assert low == pytest.approx(-6.8)
    assert high == pytest.approx(1 - 0.2 / 39)
    # At 90%: F(0.95) = 19 and F(0.05) = 1/19.
    assert feldt_interval(0.8, 3, 2, 0.90) == pytest.approx((1 - 0.2 * 19, 1 - 0.2 / 19))


def test_feldts_interval_narrows_with_more_people_and_holds_alpha():
    narrow = feldt_interval(0.75, 300, 5)
    wide = feldt_interval(0.75, 30, 5)
    assert wide[0] < narrow[0] < 0.75 < narrow[1] < wide[1]
    with pytest.raises(ValueError):
        feldt_interval(0.75, 1, 5)
