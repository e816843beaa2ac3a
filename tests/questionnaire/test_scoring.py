"""Scoring answers into profiles, response-quality flags, and cohort statistics.

The hand-computed profiles use version 1's items: v1 answers are scored with v1 for ever.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lti_tool.questionnaire.definition import load_instrument_text
from lti_tool.questionnaire.interpretation import provisional_precision, read_scores
from lti_tool.questionnaire.scoring import (
    NOT_ENOUGH_RESPONSES,
    AlphaUndefined,
    FlagKind,
    IncompleteAnswers,
    InvalidAnswer,
    QualityFlag,
    ScoringError,
    cohort_average,
    cohort_statistics,
    cronbach_alpha,
    histogram,
    score,
)
from lti_tool.questionnaire.versions import get_instrument

# Hypothesis runs the test body many times, so it uses the instrument directly, not a fixture.
INSTRUMENT = get_instrument("design_mindset", 1)
DIMENSION_ORDER = [dimension.id for dimension in INSTRUMENT.dimensions]



@pytest.fixture
def instrument():
    """Version 1, whose item ids the hand-computed profiles name."""
    return INSTRUMENT


def reading(profile):
    """Strengths and areas by evidence, with v1's provisional precision."""
    return read_scores(INSTRUMENT, profile.scores, provisional_precision(INSTRUMENT))


def ids(entries) -> tuple[str, ...]:
    return tuple(entry.dimension_id for entry in entries)


scored_answers = st.fixed_dictionaries(
    {item.id: st.integers(1, 7) for item in INSTRUMENT.scored_items}
)


# Hand-computed profiles --------------------------------------------------------------------------


def test_neutral_answers_score_five_and_a_half_everywhere(make_answers):
    # Every keyed value is 4 (a reverse-keyed 4 stays 8 - 4 = 4), so every mean is 4 and
    # every score is 1 + 9 * (4 - 1) / (7 - 1) = 1 + 4.5 = 5.5.
    profile = score(INSTRUMENT, make_answers(keyed=4))
    assert set(profile.scores.values()) == {5.5}
    assert set(profile.area_scores.values()) == {5.5}
    assert profile.overall == 5.5
    assert profile.instrument_key == "design_mindset@1"
    assert list(profile.scores) == DIMENSION_ORDER


def test_one_high_dimension_with_reverse_keyed_items(make_answers):
    # Empathy, raw → keyed: emp1 7 → 7, emp2 6 → 6, emp3 (reverse) 2 → 8 - 2 = 6,
    # emp4 5 → 5, emp5 (reverse) 1 → 8 - 1 = 7. Mean 31 / 5 = 6.2.
    # Score 1 + 9 * (6.2 - 1) / 6 = 1 + 7.8 = 8.8. Every other dimension is 5.5.
    answers = make_answers(keyed=4, emp1=7, emp2=6, emp3=2, emp4=5, emp5=1)
    profile = score(INSTRUMENT, answers)
    empathy = profile.dimensions[0]
    assert empathy.dimension_id == "empathy"
    assert math.isclose(empathy.mean, 6.2)
    assert math.isclose(empathy.score, 8.8)
    # People = (8.8 + 5.5) / 2 = 7.15; overall = (8.8 + 9 * 5.5) / 10 = 58.3 / 10 = 5.83.
    assert math.isclose(profile.area_scores["people"], 7.15)
    assert math.isclose(profile.area_scores["problem"], 5.5)
    assert math.isclose(profile.overall, 5.83)
    # With v1's provisional SEM 0.876356 everywhere the least difference from the mean that
    # counts is 1.644854 × 0.876356 × √0.9 = 1.367506. Empathy is 8.8 − 5.83 = 2.97 above:
    # a strength; the others are 0.33 below: the usual range. No invented areas.
    assert ids(reading(profile).strengths) == ("empathy",)
    assert reading(profile).areas == ()


def test_high_and_low_dimensions_in_one_area(make_answers):
    # Learning: lrn1 7, lrn2 7, lrn3 (reverse) 1 → 7, lrn4 6. Mean 27 / 4 = 6.75,
    #   score 1 + 9 * 5.75 / 6 = 1 + 8.625 = 9.625.
    # Creative confidence: cre1 3, cre2 2, cre3 (reverse) 5 → 3, cre4 4. Mean 12 / 4 = 3,
    #   score 1 + 9 * 2 / 6 = 4.
    # Optimism: opt1 1, opt2 1, opt3 (reverse) 7 → 1, opt4 1. Mean 1, score 1.
    answers = make_answers(
        keyed=4,
        lrn1=7, lrn2=7, lrn3=1, lrn4=6,
        cre1=3, cre2=2, cre3=5, cre4=4,
        opt1=1, opt2=1, opt3=7, opt4=1,
    )
    profile = score(INSTRUMENT, answers)
    assert profile.dimension_score("learning") == 9.625
    assert profile.dimension_score("creative_confidence") == 4
    assert profile.dimension_score("optimism") == 1
    # Self = (9.625 + 4 + 1) / 3 = 4.875; overall = (14.625 + 7 * 5.5) / 10 = 5.3125.
    assert profile.area_scores["self"] == 4.875
    assert profile.overall == 5.3125
    # Mean 5.3125: learning +4.3125 (strength), optimism −4.3125 (area), creative confidence
    # −1.3125, just inside the 1.367506 that would count: the usual range, not an area.
    found = reading(profile)
    assert ids(found.strengths) == ("learning",)
    assert ids(found.areas) == ("optimism",)
    assert found.reading("creative_confidence").threshold == pytest.approx(1.367506, abs=1e-6)


def test_extremes_map_to_one_and_ten(make_answers):
    assert set(score(INSTRUMENT, make_answers(keyed=7)).scores.values()) == {10}
    assert set(score(INSTRUMENT, make_answers(keyed=1)).scores.values()) == {1}


# Incomplete and invalid answers -----------------------------------------------------------------


def test_missing_scored_items_are_named(make_answers):
    answers = make_answers()
    del answers["emp3"], answers["opt4"]
    with pytest.raises(IncompleteAnswers) as raised:
        score(INSTRUMENT, answers)
    assert raised.value.missing_ids == ("emp3", "opt4")
    assert str(raised.value) == "unanswered items: emp3, opt4"


@pytest.mark.parametrize("value", [0, 8, -1, "5", 4.5, True, None])
def test_answers_outside_the_scale_are_rejected(make_answers, value):
    with pytest.raises(InvalidAnswer) as raised:
        score(INSTRUMENT, make_answers(amb1=value))
    assert raised.value.item_id == "amb1" and raised.value.value is value
    assert str(raised.value) == (f"answer {value!r} for item 'amb1': "
                                 "must be a whole number from 1 to 7")


def test_answers_to_items_of_another_version_are_rejected(make_answers):
    answers = make_answers()
    answers["amb9"] = 4
    with pytest.raises(InvalidAnswer) as raised:
        score(INSTRUMENT, answers)
    assert (raised.value.item_id, raised.value.value) == ("amb9", 4)
    assert str(raised.value) == "answer 4 for item 'amb9': design_mindset@1 has no such item"


def test_an_unanswered_attention_check_does_not_block_scoring_but_is_flagged(make_answers):
    answers = make_answers(keyed=5)
    del answers["check2"]
    profile = score(INSTRUMENT, answers)
    assert profile.quality.failed_attention_checks == ("check2",)
    assert profile.quality.flags == (QualityFlag(FlagKind.ATTENTION_CHECK, page=2,
                                                 item="check2", expected=6, value=None),)


# Response quality -------------------------------------------------------------------------------


def test_a_careful_response_raises_no_flags(make_answers):
    # keyed=5 means raw 5 on plain items and raw 3 on reverse-keyed ones: at most 9 of 12
    # answers on a page agree, below the 90% straight-lining line.
    quality = score(INSTRUMENT, make_answers(keyed=5), page_seconds={0: 60, 3: 18}).quality
    assert quality.ok
    assert not (quality.attention_check_failed or quality.straight_lining or quality.too_fast)


def test_a_failed_attention_check_is_flagged_with_a_reason(make_answers):
    quality = score(INSTRUMENT, make_answers(keyed=5, check1=5)).quality
    assert quality.attention_check_failed
    assert quality.failed_attention_checks == ("check1",)
    assert quality.flags == (QualityFlag(FlagKind.ATTENTION_CHECK, page=0, item="check1",
                                         expected=3, value=5),)


def test_the_same_answer_everywhere_flags_every_page(make_answers):
    answers = {item.id: 4 for item in INSTRUMENT.scored_items}
    answers.update(check1=3, check2=6)
    quality = score(INSTRUMENT, answers).quality
    assert quality.straight_lined_pages == (0, 1, 2, 3)
    assert quality.flags[0] == QualityFlag(FlagKind.STRAIGHT_LINING, page=0, value=4, count=10,
                                           of=10)


def test_straight_lining_needs_ninety_percent_of_a_page(make_answers):
    people = [item.id for item in INSTRUMENT.pages()[0] if not item.is_attention_check]
    assert len(people) == 10
    nine_of_ten = make_answers(keyed=5, **{item_id: 5 for item_id in people[1:]})
    nine_of_ten[people[0]] = 2
    assert score(INSTRUMENT, nine_of_ten).quality.straight_lined_pages == (0,)
    eight_of_ten = dict(nine_of_ten, **{people[1]: 2})
    assert score(INSTRUMENT, eight_of_ten).quality.straight_lined_pages == ()


def test_a_page_under_one_and_a_half_seconds_per_item_is_too_fast(make_answers):
    # Page 1 shows 11 statements (10 scored + check1): the line is 11 * 1.5 = 16.5 s.
    answers = make_answers(keyed=5)
    quality = score(INSTRUMENT, answers, page_seconds={0: 16.4, 1: 200}).quality
    assert quality.too_fast_pages == (0,)
    assert quality.flags == (QualityFlag(FlagKind.TOO_FAST, page=0, seconds=16.4, count=11,
                                         minimum=1.5),)
    assert score(INSTRUMENT, answers, page_seconds={0: 16.5}).quality.ok


def test_timings_for_a_page_that_does_not_exist_are_an_error(make_answers):
    with pytest.raises(ScoringError, match="page_seconds names page 4; there are 4 pages"):
        score(INSTRUMENT, make_answers(keyed=5), page_seconds={4: 30})


def test_flags_never_change_the_scores(make_answers):
    careful = score(INSTRUMENT, make_answers(keyed=6))
    flagged = score(INSTRUMENT, make_answers(keyed=6, check1=7), page_seconds={0: 1})
    assert not flagged.quality.ok
    assert flagged.scores == careful.scores


# Properties --------------------------------------------------------------------------------------


@given(scored_answers)
def test_every_score_lies_between_one_and_ten(answers):
    profile = score(INSTRUMENT, answers)
    for value in [*profile.scores.values(), *profile.area_scores.values(), profile.overall]:
        assert 1 <= value <= 10


@given(scored_answers)
def test_reversing_every_answer_mirrors_every_score(answers):
    profile = score(INSTRUMENT, answers)
    mirrored = score(INSTRUMENT, {item_id: 8 - value for item_id, value in answers.items()})
    for dimension_id, value in profile.scores.items():
        assert math.isclose(mirrored.scores[dimension_id], 11 - value)


@given(scored_answers)
def test_strengths_lie_above_the_mean_areas_below_and_equal_scores_read_alike(answers):
    found = reading(score(INSTRUMENT, answers))
    assert all(entry.difference > 0 for entry in found.strengths)
    assert all(entry.difference < 0 for entry in found.areas)
    standing_by_score = {}
    for entry in found.dimensions:
        assert standing_by_score.setdefault(entry.score, entry.standing) is entry.standing


def test_all_equal_scores_are_an_even_profile(make_answers):
    assert reading(score(INSTRUMENT, make_answers(keyed=3))).flat


# Cronbach's alpha --------------------------------------------------------------------------------


def test_alpha_of_a_textbook_example_computed_by_hand():
    rows = [
        [1, 2, 2],  # totals: 5
        [2, 3, 3],  #         8
        [3, 3, 4],  #        10
        [4, 5, 4],  #        13
        [5, 4, 5],  #        14
    ]
    # Sample item variances: item 1 (mean 3): (4+1+0+1+4)/4 = 2.5;
    # item 2 (mean 3.4): (1.96+0.16+0.16+2.56+0.36)/4 = 1.3;
    # item 3 (mean 3.6): (2.56+0.36+0.16+0.16+1.96)/4 = 1.3. Sum 5.1.
    # Totals (mean 10): (25+4+0+9+16)/4 = 13.5.
    # alpha = 3/2 * (1 - 5.1/13.5) = 3/2 * 8.4/13.5 = 14/15 ≈ 0.9333.
    assert math.isclose(cronbach_alpha(rows), 14 / 15)


@given(
    st.lists(st.integers(1, 7), min_size=2, max_size=30).filter(lambda xs: len(set(xs)) > 1),
    st.integers(2, 6),
)
def test_alpha_of_perfectly_correlated_items_is_one(column, k):
    # Parallel items: every respondent gives each item the same value.
    assert cronbach_alpha([[value] * k for value in column]) == 1.0


def test_alpha_is_undefined_without_variance_or_enough_data():
    # The reason is shown to mentors beside the missing figure, word for word.
    with pytest.raises(AlphaUndefined,
                       match="^every response has the same total, so the variance is zero$"):
        cronbach_alpha([[3, 3], [3, 3], [3, 3]])
    with pytest.raises(AlphaUndefined, match="^fewer than 2 responses$"):
        cronbach_alpha([[1, 2]])
    with pytest.raises(AlphaUndefined, match="^fewer than 2 items$"):
        cronbach_alpha([[1], [2]])


def test_alpha_needs_every_response_to_answer_the_same_items():
    with pytest.raises(ValueError, match="^every response must answer the same items$"):
        cronbach_alpha([[1, 2, 3], [1, 2]])


def test_alpha_of_decimal_values_matches_the_integers():
    rows = [[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [5, 4, 5]]
    assert math.isclose(cronbach_alpha([[float(v) for v in row] for row in rows]), 14 / 15)


# Cohort statistics -------------------------------------------------------------------------------


def test_histogram_counts_scores_by_the_whole_number_they_round_to():
    # 1 → 1; 2.5 → 3 (half up); 4 → 4; 5.5 → 6; 9.6 → 10; 10 → 10.
    assert histogram([1, 2.5, 4, 5.5, 9.6, 10]) == (1, 0, 1, 1, 0, 1, 0, 0, 0, 2)


def test_cohort_statistics_per_dimension(make_answers):
    # Five respondents answer keyed 1, 2, 3, 4, 5 throughout: scores 1, 2.5, 4, 5.5, 7.
    # Mean 20 / 5 = 4. Deviations -3, -1.5, 0, 1.5, 3 → squares 9 + 2.25 + 0 + 2.25 + 9 = 22.5;
    # sample SD = sqrt(22.5 / 4) = sqrt(5.625).
    cohort = [make_answers(keyed=value) for value in (1, 2, 3, 4, 5)]
    incomplete = make_answers(keyed=6)
    del incomplete["amb1"]
    invalid = make_answers(keyed=6, amb1=9)
    statistics = cohort_statistics(INSTRUMENT, [*cohort, incomplete, invalid])
    assert (statistics.n, statistics.excluded) == (5, 2)
    assert [entry.dimension_id for entry in statistics.dimensions] == DIMENSION_ORDER
    empathy = statistics.dimension("empathy")
    assert empathy.n == 5
    assert empathy.mean == 4
    assert math.isclose(empathy.sd, math.sqrt(5.625))
    assert empathy.histogram == (1, 0, 1, 1, 0, 1, 1, 0, 0, 0)
    # Reverse-keyed items are mirrored before alpha, so each respondent's keyed values are
    # identical: alpha is exactly 1 (without keying it would be negative).
    assert empathy.alpha == 1.0
    assert empathy.reason is None and empathy.alpha_reason is None


def test_cohort_statistics_name_their_instrument_and_find_each_dimension(make_answers):
    statistics = cohort_statistics(INSTRUMENT, [make_answers(keyed=v) for v in (1, 2, 3, 4, 5)])
    assert statistics.instrument_key == INSTRUMENT.key
    for dimension_id in DIMENSION_ORDER:
        assert statistics.dimension(dimension_id).dimension_id == dimension_id
    with pytest.raises(KeyError, match="no-such-dimension"):
        statistics.dimension("no-such-dimension")


def test_the_smallest_cohort_with_figures_can_be_two(make_answers):
    statistics = cohort_statistics(INSTRUMENT, [make_answers(keyed=v) for v in (1, 3)], min_n=2)
    # Scores 1 and 4: mean 2.5.
    assert statistics.dimension("empathy").mean == 2.5
    with pytest.raises(ValueError, match="^min_n must be at least 2: a spread needs two"):
        cohort_statistics(INSTRUMENT, [], min_n=1)


def test_cohort_statistics_are_withheld_below_five_responses(make_answers):
    statistics = cohort_statistics(INSTRUMENT, [make_answers(keyed=v) for v in (1, 3, 5, 7)])
    assert [entry.dimension_id for entry in statistics.dimensions] == DIMENSION_ORDER
    for entry in statistics.dimensions:
        assert entry.n == 4
        assert (entry.mean, entry.sd, entry.histogram, entry.alpha) == (None, None, None, None)
        assert entry.reason == NOT_ENOUGH_RESPONSES
        assert entry.alpha_reason == NOT_ENOUGH_RESPONSES


def test_alpha_is_none_with_a_reason_when_nobody_differs(make_answers):
    statistics = cohort_statistics(INSTRUMENT, [make_answers(keyed=6)] * 5)
    empathy = statistics.dimension("empathy")
    assert (empathy.mean, empathy.sd) == (8.5, 0)
    assert empathy.alpha is None
    assert "variance is zero" in empathy.alpha_reason


def test_cohort_average_needs_five_profiles_of_one_instrument(make_answers, minimal_definition):
    profiles = [score(INSTRUMENT, make_answers(keyed=value)) for value in (1, 2, 3, 4)]
    assert cohort_average(profiles) is None
    profiles.append(score(INSTRUMENT, make_answers(keyed=5)))
    # Scores 1, 2.5, 4, 5.5 and 7 in every dimension: mean 4.
    average = cohort_average(profiles)
    assert list(average) == DIMENSION_ORDER
    assert set(average.values()) == {4}

    mini = load_instrument_text(minimal_definition)
    other = score(mini, {"a1": 3, "a2": 3, "b1": 3, "b2": 3, "check": 2})
    with pytest.raises(ScoringError, match="^profiles from several instruments: "
                       f"{min(INSTRUMENT.key, mini.key)}, {max(INSTRUMENT.key, mini.key)}$"):
        cohort_average([*profiles, other])
