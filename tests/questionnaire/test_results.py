"""The results view-model: scores as displayed, highlights, chart, and the course average."""

from __future__ import annotations

import statistics

import pytest

from lti_tool.extensions import db
from lti_tool.figures import display
from lti_tool.identity.models import Platform, Role
from lti_tool.questionnaire import delivery
from lti_tool.questionnaire.measurement import Level
from lti_tool.questionnaire.models import Attempt, Result
from lti_tool.questionnaire.results import course_average, results_view
from lti_tool.questionnaire.scoring import score
from tests.questionnaire.test_delivery import (
    INSTRUMENT,
    answer_everything,
    careful_answers,
    make_activity,
    make_launch,
    make_platform,
)


@pytest.fixture
def ctx(app):
    """An app context with one course and its activity; rolled back afterwards."""
    with app.app_context():
        yield make_activity(make_platform())
        db.session.rollback()


def submitted(activity, keyed: int = 5, locale: str = "en", **raw: int) -> Attempt:
    """A new learner's submitted attempt in the activity."""
    launch = make_launch(activity, locale=locale)
    attempt = delivery.open_attempt(launch)
    answer_everything(attempt, {**careful_answers(keyed), **raw})
    delivery.submit(attempt)
    return attempt


def test_the_view_shows_scores_with_their_error_bands_and_evidence(ctx):
    # Empathy high (keyed 7 everywhere), optimism low (keyed 1), the rest keyed 4.
    answers = careful_answers(4)
    for item in INSTRUMENT.items_for_dimension("empathy"):
        answers[item.id] = 1 if item.reverse else 7
    for item in INSTRUMENT.items_for_dimension("optimism"):
        answers[item.id] = 7 if item.reverse else 1
    attempt = submitted(ctx, **answers)
    view = results_view(attempt, "en")
    # Overall (10 + 1 + 8 × 5.5) / 10 = 5.5; SEM of the mean √(10 × 0.768) / 10 = 0.277.
    assert view.overall_text == "5.5 (±0.3)"
    assert [d.id for d in view.dimensions] == [d.id for d in INSTRUMENT.dimensions]
    empathy = view.dimensions[0]
    assert (empathy.name, empathy.score_text) == ("Empathy", "10.0 (±0.9)")
    assert (empathy.level, empathy.level_label) == (Level.HIGH, "high")
    assert empathy.level_text == INSTRUMENT.dimension("empathy").bands.high.get("en")
    # Mean 5.5: empathy +4.5 and optimism −4.5 pass 1.3675; the others are at the mean.
    assert [d.id for d in view.strengths] == ["empathy"]
    assert [d.id for d in view.areas] == ["optimism"]
    assert len(view.usual) == 8 and not view.flat
    assert empathy.in_a_team == INSTRUMENT.dimension("empathy").in_a_team.get("en")
    assert len(empathy.suggestions) == len(INSTRUMENT.dimension("empathy").suggestions)
    assert view.chart_svg.startswith("<svg") and "Empathy" in view.chart_svg
    assert view.chart_svg.count('class="error-bar"') == 10
    # Every other dimension at 4 on every item: pages 2 and 3 are straight-lined.
    assert view.quality_notes == (
        "Page 2 (Problem): 12 of 12 statements got the same answer, 4 (Neither agree nor "
        "disagree).",
        "Page 3 (Action): 10 of 10 statements got the same answer, 4 (Neither agree nor "
        "disagree).",
    )
    assert view.precision.provisional


def test_an_even_profile_names_no_strengths(ctx):
    view = results_view(submitted(ctx, keyed=5), "en")
    assert view.flat and view.strengths == () and view.areas == ()
    assert len(view.usual) == len(INSTRUMENT.dimensions)


def test_texts_follow_the_launch_locale(ctx):
    attempt = submitted(ctx, keyed=6)
    view = results_view(attempt, "pl-PL")
    assert view.dimensions[0].name == "Empatia"
    assert view.title == INSTRUMENT.title.get("pl")
    assert "," in view.overall_text


def test_quality_notes_reach_the_learner(ctx):
    launch = make_launch(ctx)
    attempt = delivery.open_attempt(launch)
    for index, items in enumerate(INSTRUMENT.pages()):
        delivery.save_page(attempt, index, {item.id: 7 for item in items}, 1)
    delivery.submit(attempt)
    notes = results_view(attempt, "en").quality_notes
    assert any("Attention check" in note for note in notes)
    assert any("took 1.0 s" in note for note in notes)


def test_no_course_average_below_five_learners(ctx):
    attempts = [submitted(ctx, keyed) for keyed in (2, 3, 5, 6)]
    view = results_view(attempts[0], "en")
    assert view.course_average.learners == 4 and not view.course_average.shown
    assert all(d.cohort_score is None for d in view.dimensions)
    assert "Course average" not in view.chart_svg


def test_course_average_from_five_learners(ctx):
    attempts = [submitted(ctx, keyed) for keyed in (1, 2, 3, 6, 7)]
    view = results_view(attempts[0], "en")
    assert view.course_average.shown and view.course_average.learners == 5
    scores = [a.result.dimension_scores["empathy"]["score"] for a in attempts]
    assert view.dimensions[0].cohort_score == pytest.approx(statistics.fmean(scores))
    assert view.dimensions[0].cohort_text == display(statistics.fmean(scores))
    assert "Course average (5 learners)" in view.chart_svg


def test_the_average_counts_each_learners_latest_result_in_this_course_and_version(ctx):
    attempts = [submitted(ctx, keyed) for keyed in (1, 2, 3, 6)]
    # Another course's learners never count.
    other = make_activity(db.session.get(Platform, ctx.course.platform_id))
    submitted(other)
    # A retake replaces the learner's first result instead of adding a fifth voice.
    learner = make_launch(ctx, person=attempts[0].person)
    delivery.allow_retake(make_launch(ctx, role=Role.MENTOR), learner.person_id)
    retake = delivery.open_attempt(learner)
    answer_everything(retake, careful_answers(7))
    delivery.submit(retake)
    # Results of another instrument version are another scale: never averaged together.
    stale = Attempt(
        person_id=make_launch(ctx).person_id, course_id=ctx.course.id,
        resource_link_id=ctx.link.id, instrument_id=INSTRUMENT.id,
        instrument_version=INSTRUMENT.version - 1, number=1, submitted_dt=retake.submitted_dt,
        page_seconds={},
    )
    db.session.add(stale)
    db.session.add(Result(
        attempt=stale, overall=1.0, dimension_scores={}, area_scores={}, quality_flags=[],
    ))
    db.session.flush()
    average = course_average(ctx.course.id, INSTRUMENT)
    assert average.learners == 4 and not average.shown
    submitted(ctx, 2)
    average = course_average(ctx.course.id, INSTRUMENT)
    assert average.learners == 5
    expected = statistics.fmean(
        [retake.result.dimension_scores["empathy"]["score"]]
        + [a.result.dimension_scores["empathy"]["score"] for a in attempts[1:]]
        + [score(INSTRUMENT, careful_answers(2)).scores["empathy"]]
    )
    assert average.scores["empathy"] == pytest.approx(expected)


def test_a_flagged_response_is_left_out_of_the_course_average_and_said_so(ctx, client):
    careful = [submitted(ctx, keyed) for keyed in (1, 2, 3, 5, 6)]
    # Straight 7s everywhere: the attention checks fail and every page is straight-lined.
    # (All 4s, keyed=4, would be straight-lined too: the careful learners avoid it.)
    flagged = submitted(ctx, **{item.id: 7 for item in INSTRUMENT.items})
    assert flagged.result.flagged
    average = course_average(ctx.course.id, INSTRUMENT)
    assert (average.learners, average.excluded) == (5, 1)
    expected = statistics.fmean(a.result.dimension_scores["empathy"]["score"] for a in careful)
    assert average.scores["empathy"] == pytest.approx(expected)
    view = results_view(careful[0], "en")
    assert view.course_average.excluded == 1
    assert "Course average (5 learners)" in view.chart_svg
