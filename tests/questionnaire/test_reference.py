"""The reference group: pooled reliability and SD from 30 unflagged responses, and norms."""

from __future__ import annotations

import statistics

import pytest
from sqlalchemy import select, update

from lti_tool.extensions import db
from lti_tool.figures import display
from lti_tool.questionnaire.measurement import percentile_rank
from lti_tool.questionnaire.models import Answer, Attempt, Result
from lti_tool.questionnaire.reference import is_unflagged, precision_for, reference_group
from lti_tool.questionnaire.results import results_view
from lti_tool.questionnaire.scoring import cronbach_alpha, keyed_value
from tests.mentoring.seeding import seed_cohort
from tests.questionnaire.test_delivery import (
    INSTRUMENT,
    make_activity,
    make_link,
    make_platform,
)


@pytest.fixture
def ctx(app):
    """An app context with one course and its activity."""
    with app.app_context():
        yield make_activity(make_platform())
        db.session.rollback()


def seed(activity, learners: int, prefix: str = "seed"):
    """`learners` completed, unflagged responses in the activity's course."""
    return seed_cohort(platform_id=activity.course.platform_id, course_id=activity.course.id,
                       resource_link_id=activity.link.id, learners=learners, mix=False,
                       prefix=prefix)


def flag(person_id: int) -> None:
    """Mark a person's results as flagged by the quality checks."""
    attempt_ids = select(Attempt.id).where(Attempt.person_id == person_id)
    db.session.execute(update(Result).where(Result.attempt_id.in_(attempt_ids)).values(
        quality_flags={"reasons": ["Attention check att1 asked for 2 and got 7."]}))
    db.session.commit()


def keyed_rows(dimension_id: str) -> list[list[int]]:
    """Every stored response's keyed answers to one dimension's items."""
    items = INSTRUMENT.items_for_dimension(dimension_id)
    sets: dict[int, dict[str, int]] = {}
    for attempt_id, item_id, value in db.session.execute(
            select(Answer.attempt_id, Answer.item_id, Answer.value)):
        sets.setdefault(attempt_id, {})[item_id] = value
    return [[keyed_value(INSTRUMENT, item, answers[item.id]) for item in items]
            for answers in sets.values()]


def test_only_the_quality_flags_decide_what_is_flagged():
    assert is_unflagged([]) and is_unflagged(None)
    assert not is_unflagged([{"kind": "too_fast", "page": 0, "seconds": 2.0, "value": 5}])


def test_below_thirty_responses_the_precision_stays_provisional(ctx):
    seed(ctx, 29)
    precision = precision_for(INSTRUMENT)
    assert precision.provisional and precision.reference_n is None
    assert precision.dimensions["empathy"].reliability == pytest.approx(0.70)


def test_from_thirty_unflagged_responses_alpha_and_sd_come_from_them(ctx):
    seed(ctx, 30)
    precision = precision_for(INSTRUMENT)
    assert not precision.provisional and precision.reference_n == 30
    rows = keyed_rows("empathy")
    # The SD of the 1..10 scores of the same 30 responses, and their alpha.
    scores = [1 + 9 * (statistics.fmean(row) - 1) / 6 for row in rows]
    empathy = precision.dimensions["empathy"]
    assert empathy.reliability == pytest.approx(cronbach_alpha(rows))
    assert empathy.sd == pytest.approx(statistics.stdev(scores))
    assert empathy.sem == pytest.approx(statistics.stdev(scores)
                                        * (1 - max(cronbach_alpha(rows), 0)) ** 0.5)


def test_a_flagged_response_does_not_count_towards_the_thirty(ctx):
    seeded = seed(ctx, 30)
    flag(seeded.person_ids[0])
    assert precision_for(INSTRUMENT).provisional
    assert reference_group(INSTRUMENT).n == 29
    seed(ctx, 1, prefix="late")
    assert not precision_for(INSTRUMENT).provisional
    assert seeded.person_ids[0] not in {
        db.session.get(Attempt, attempt_id).person_id
        for attempt_id in reference_group(INSTRUMENT).attempt_ids}


def test_percentiles_in_the_installation_and_the_course(ctx):
    seeded = seed(ctx, 30)
    attempt = db.session.scalars(select(Attempt).where(
        Attempt.person_id == seeded.person_ids[3])).one()
    view = results_view(attempt, "en")
    assert view.norms.installation_shown and view.norms.installation_n == 30
    assert view.norms.course_shown and view.norms.course_n == 30
    group = [r.dimension_scores["empathy"]["score"] for r in db.session.scalars(select(Result))]
    expected = percentile_rank(attempt.result.dimension_scores["empathy"]["score"], group)
    empathy = view.dimensions[0]
    assert empathy.percentile_installation == pytest.approx(expected)
    assert empathy.percentile_installation_text == display(expected, digits=0)


def test_course_percentiles_wait_for_thirty_in_the_course(ctx):
    seed(ctx, 25)
    other = make_activity(make_platform())
    seed(other, 5, prefix="other")
    attempt = db.session.scalars(select(Attempt).where(
        Attempt.course_id == ctx.course.id).limit(1)).one()
    view = results_view(attempt, "en")
    assert view.norms.installation_shown and view.norms.installation_n == 30
    assert not view.norms.course_shown and view.norms.course_n == 25
    assert view.dimensions[0].percentile_course is None
    assert view.dimensions[0].percentile_installation is not None


def test_no_norms_below_thirty(ctx):
    seed(ctx, 12)
    attempt = db.session.scalars(select(Attempt).limit(1)).one()
    view = results_view(attempt, "en")
    assert not view.norms.shown and view.norms.installation_n == 12
    assert all(d.percentile_installation is None for d in view.dimensions)


def test_the_group_holds_each_persons_latest_unflagged_result(ctx):
    seeded = seed(ctx, 30)
    person = seeded.person_ids[0]
    first = db.session.scalars(select(Attempt).where(Attempt.person_id == person)).one()
    # A second, later attempt in another activity of the same course replaces the first.
    retake = Attempt(person_id=person, course_id=ctx.course.id,
                     resource_link_id=make_link(ctx.course).id,
                     instrument_id=INSTRUMENT.id, instrument_version=INSTRUMENT.version,
                     number=1, submitted_dt=first.submitted_dt.replace(year=2099),
                     page_seconds={})
    db.session.add(retake)
    db.session.add(Result(attempt=retake, overall=5.5, quality_flags={}, area_scores={},
                          dimension_scores=first.result.dimension_scores))
    db.session.commit()
    group = reference_group(INSTRUMENT)
    assert group.n == 30 and retake.id in group.attempt_ids and first.id not in group.attempt_ids


@pytest.fixture
def clock(monkeypatch):
    """The reference module's clock, moved by hand (seconds)."""
    from lti_tool.questionnaire import reference

    now = [1000.0]
    monkeypatch.setattr(reference, "monotonic", lambda: now[0])
    return now


def _one_result_id() -> int:
    return db.session.scalars(select(Result.id).order_by(Result.id)).first()


def test_a_result_another_process_removes_counts_once_the_fingerprint_is_read_again(
        ctx, clock):
    """A process trusts the fingerprint it read for FRESH_SECONDS (it reads every result of
    the version); a change made by another worker shows once that has passed."""
    from sqlalchemy import delete

    from lti_tool.questionnaire.reference import FRESH_SECONDS

    seed(ctx, 30)
    assert not precision_for(INSTRUMENT).provisional
    gone = _one_result_id()
    db.session.commit()
    # Another worker: its own connection, not this process's session.
    with db.engine.begin() as connection:
        connection.execute(delete(Result).where(Result.id == gone))
    clock[0] += FRESH_SECONDS / 2
    assert not precision_for(INSTRUMENT).provisional
    clock[0] += FRESH_SECONDS
    assert precision_for(INSTRUMENT).provisional


@pytest.mark.parametrize("how", ["flush", "statement"])
def test_a_result_this_process_removes_counts_at_once(ctx, clock, how):
    """Within the same second: a process that writes attempts or results reads the fingerprint
    again, by the ORM (a flush) or by a statement (bulk changes, erasure)."""
    from sqlalchemy import delete

    seed(ctx, 30)
    assert not precision_for(INSTRUMENT).provisional
    gone = _one_result_id()
    if how == "flush":
        db.session.delete(db.session.get(Result, gone))
    else:
        db.session.execute(delete(Result).where(Result.id == gone))
    db.session.commit()
    assert precision_for(INSTRUMENT).provisional
