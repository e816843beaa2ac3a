"""The delivery service: attempts scoped by the launch, autosave, resume, submit, retakes."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, Platform, ResourceLink, Role, utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.questionnaire import delivery
from lti_tool.questionnaire.activity import set_retake_round
from lti_tool.questionnaire.delivery import (
    AlreadySubmitted,
    AttemptNotFound,
    BadAnswer,
    MissingAnswers,
    NoActivity,
    NotAllowed,
)
from lti_tool.questionnaire.models import Answer, Attempt, Result
from lti_tool.questionnaire.scoring import score
from lti_tool.questionnaire.versions import current_instrument

INSTRUMENT = current_instrument()
PAGES = INSTRUMENT.pages()
_numbers = itertools.count(1)


def make_platform() -> Platform:
    """A registered platform."""
    platform = Platform(
        issuer=f"https://lms{next(_numbers)}.example.edu", client_id="tool",
        auth_login_url="https://lms.example.edu/auth", auth_token_url="https://lms.example.edu/token",
        key_set_url="https://lms.example.edu/certs",
    )
    db.session.add(platform)
    db.session.flush()
    return platform


@dataclass
class Activity:
    """A course and one placement of the tool in it."""

    course: Course
    link: ResourceLink


def make_activity(platform: Platform) -> Activity:
    """A new course with one activity (resource link)."""
    course = Course(platform_id=platform.id, context_id=f"c{next(_numbers)}", title="DMD101")
    db.session.add(course)
    db.session.flush()
    return Activity(course, make_link(course))


def make_link(course: Course) -> ResourceLink:
    """Another activity in the course."""
    link = ResourceLink(
        platform_id=course.platform_id, course_id=course.id, resource_link_id=f"r{next(_numbers)}"
    )
    db.session.add(link)
    db.session.flush()
    return link


def make_launch(
    activity: Activity, role: Role = Role.LEARNER, person: Person | None = None,
    link: ResourceLink | None = None, locale: str = "en",
) -> LaunchContext:
    """The LaunchContext of a (new, unless given) person launching the activity."""
    course = activity.course
    if person is None:
        person = Person(platform_id=course.platform_id, sub=f"user-{next(_numbers)}")
        db.session.add(person)
        db.session.flush()
    return LaunchContext(
        session_id="session", token="token", person_id=person.id,
        platform_id=course.platform_id, deployment_id=1, course_id=course.id,
        resource_link_id=(link or activity.link).id, role=role,
        message_type="LtiResourceLinkRequest", locale=locale, display_name=person.display_name,
        course_title=course.title, claims={},
    )


def careful_answers(keyed: int = 5) -> dict[str, int]:
    """Every item answered: `keyed` as it counts (reverse items mirrored), checks passed."""
    answers = {}
    for item in INSTRUMENT.items:
        if item.is_attention_check:
            answers[item.id] = item.attention_check_expected
        else:
            answers[item.id] = 8 - keyed if item.reverse else keyed
    return answers


def answer_everything(attempt: Attempt, answers: dict[str, int] | None = None) -> None:
    """Save every item, page by page, with a believable time per page."""
    answers = answers or careful_answers()
    for index, items in enumerate(PAGES):
        delivery.save_page(attempt, index, {i.id: answers[i.id] for i in items}, 60)


@pytest.fixture
def ctx(app):
    """An app context with one course and its activity; rolled back afterwards."""
    with app.app_context():
        yield make_activity(make_platform())
        db.session.rollback()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Attempts ---------------------------------------------------------------------------------------


def test_first_open_starts_attempt_one_with_the_current_instrument(ctx):
    launch = make_launch(ctx)
    attempt = delivery.open_attempt(launch)
    assert attempt.number == 1
    assert (attempt.instrument_id, attempt.instrument_version) == ("design_mindset", 2)
    assert attempt.course_id == ctx.course.id and attempt.resource_link_id == ctx.link.id
    assert delivery.open_attempt(launch).id == attempt.id
    assert count(Attempt) == 1


def test_a_launch_without_an_activity_has_no_attempts(ctx):
    launch = dataclasses.replace(make_launch(ctx), resource_link_id=None)
    with pytest.raises(NoActivity):
        delivery.open_attempt(launch)


def test_attempts_are_found_only_within_the_launch_scope(ctx):
    mine = make_launch(ctx)
    attempt = delivery.open_attempt(mine)
    someone_else = make_launch(ctx)
    with pytest.raises(AttemptNotFound):
        delivery.find_attempt(someone_else, attempt.id)
    person = db.session.get(Person, mine.person_id)
    other_activity = make_launch(ctx, person=person, link=make_link(ctx.course))
    with pytest.raises(AttemptNotFound):
        delivery.find_attempt(other_activity, attempt.id)
    assert delivery.find_attempt(mine, attempt.id) is attempt


# Autosave ---------------------------------------------------------------------------------------


def test_an_answer_is_saved_and_changed_in_place(ctx):
    attempt = delivery.open_attempt(make_launch(ctx))
    first = PAGES[0][0].id
    delivery.save_answer(attempt, first, 3, 0, 4.5)
    delivery.save_answer(attempt, first, "6", 0, 2)
    rows = db.session.scalars(select(Answer)).all()
    assert [(row.item_id, row.value) for row in rows] == [(first, 6)]
    assert attempt.seconds_by_page() == {0: 6.5}


def test_a_repeated_answer_keeps_the_time_it_was_first_given(ctx, monkeypatch):
    """The page's script may send an answer again (a retry, a second click): only a change of
    mind moves the answer's time."""
    attempt = delivery.open_attempt(make_launch(ctx))
    first = PAGES[0][0].id
    start = utcnow().replace(microsecond=0)
    for minutes, value in ((0, 3), (5, 3), (9, 4)):
        monkeypatch.setattr(delivery, "utcnow", lambda m=minutes: start + timedelta(minutes=m))
        delivery.save_answer(attempt, first, value, 0)
        db.session.expire_all()
        row = db.session.scalars(select(Answer)).one()
        expected = start if minutes < 9 else start + timedelta(minutes=9)
        assert (row.value, row.answered_dt) == (value, expected), minutes


@pytest.mark.parametrize(
    ("item_id", "value", "page", "seconds", "message"),
    [
        ("emp1", 0, 0, 1, "whole number from 1 to 7"),
        ("emp1", 8, 0, 1, "whole number from 1 to 7"),
        ("emp1", "abc", 0, 1, "whole number from 1 to 7"),
        ("emp1", 3.5, 0, 1, "whole number from 1 to 7"),
        ("emp1", True, 0, 1, "whole number from 1 to 7"),
        ("emp1", None, 0, 1, "whole number from 1 to 7"),
        ("nope", 3, 0, 1, "no statement 'nope'"),
        ("emp1", 3, 4, 1, "page index 4 does not exist"),
        ("emp1", 3, -1, 1, "page index -1 does not exist"),
        ("emp1", 3, "x", 1, "page index must be a whole number"),
        ("emp1", 3, 1, 1, "not on page index 1"),
        ("emp1", 3, 0, -2, "number of seconds"),
        ("emp1", 3, 0, "soon", "number of seconds"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(ctx, item_id, value, page, seconds, message):
    attempt = delivery.open_attempt(make_launch(ctx))
    delivery.save_answer(attempt, "emp1", 2, 0, 10)
    with pytest.raises(BadAnswer, match=message):
        delivery.save_answer(attempt, item_id, value, page, seconds)
    assert delivery.answers_of(attempt) == {"emp1": 2}
    assert attempt.seconds_by_page() == {0: 10}


def test_a_page_is_saved_all_or_nothing(ctx):
    attempt = delivery.open_attempt(make_launch(ctx))
    first, second = PAGES[0][0].id, PAGES[0][1].id
    with pytest.raises(BadAnswer):
        delivery.save_page(attempt, 0, {first: 4, second: 9})
    assert delivery.answers_of(attempt) == {}


def test_time_on_a_page_adds_up_and_an_idle_tab_is_capped(ctx):
    attempt = delivery.open_attempt(make_launch(ctx))
    delivery.save_page(attempt, 1, {}, 12.5)
    delivery.save_page(attempt, 1, {}, "7.5")
    delivery.save_page(attempt, 2, {}, 10 * 3600)
    assert attempt.seconds_by_page() == {1: 20.0, 2: delivery.MAX_REPORTED_SECONDS}


# Resume -----------------------------------------------------------------------------------------


def test_resume_goes_to_the_page_of_the_first_unanswered_item(ctx):
    launch = make_launch(ctx)
    attempt = delivery.open_attempt(launch)
    answers = careful_answers()
    delivery.save_page(attempt, 0, {item.id: answers[item.id] for item in PAGES[0]})
    delivery.save_answer(attempt, PAGES[2][0].id, 4, 2)
    overview = delivery.overview(launch)
    assert overview.in_progress and overview.resume_page == 1
    assert overview.answered == len(PAGES[0]) + 1
    answer_everything(attempt)
    assert delivery.overview(launch).resume_page == len(PAGES) - 1


def test_the_start_page_estimates_the_time(ctx):
    overview = delivery.overview(make_launch(ctx))
    assert overview.latest is None and overview.total == len(INSTRUMENT.items)
    assert 5 <= overview.minutes <= 15


# Submit -----------------------------------------------------------------------------------------


def test_submit_names_every_missing_item_with_its_page(ctx):
    attempt = delivery.open_attempt(make_launch(ctx))
    answers = careful_answers()
    check = INSTRUMENT.attention_checks[0]
    skipped = {PAGES[0][0].id, check.id, PAGES[3][-1].id}
    answer_everything(attempt, answers)
    db.session.execute(db.delete(Answer).where(Answer.item_id.in_(skipped)))
    with pytest.raises(MissingAnswers) as missing:
        delivery.submit(attempt)
    assert set(missing.value.item_ids) == skipped
    check_page = next(i for i, items in enumerate(PAGES) if check in items)
    assert check.id in missing.value.by_page[check_page]
    assert missing.value.by_page[3] == [PAGES[3][-1].id]
    assert not attempt.is_submitted and count(Result) == 0


def test_submit_scores_with_the_attempts_answers_and_times(ctx):
    attempt = delivery.open_attempt(make_launch(ctx))
    answers = careful_answers(keyed=6)
    answers["emp1"] = 2
    answer_everything(attempt, answers)
    result = delivery.submit(attempt)
    expected = score(INSTRUMENT, answers, {index: 60 for index in range(len(PAGES))})
    assert attempt.is_submitted
    assert result.overall == expected.overall
    assert result.profile() == expected
    assert result.quality_flags == [] and result.flagged is False


def test_submit_saves_the_last_pages_answers_first(ctx):
    attempt = delivery.open_attempt(make_launch(ctx))
    answers = careful_answers()
    for index, items in enumerate(PAGES[:-1]):
        delivery.save_page(attempt, index, {i.id: answers[i.id] for i in items}, 60)
    last = len(PAGES) - 1
    result = delivery.submit(attempt, last, {i.id: str(answers[i.id]) for i in PAGES[last]}, 30)
    assert result.overall == score(INSTRUMENT, answers).overall


def test_quality_flags_are_stored_with_the_result(ctx):
    attempt = delivery.open_attempt(make_launch(ctx))
    answers = {item.id: 7 for item in INSTRUMENT.items}
    for index, items in enumerate(PAGES):
        delivery.save_page(attempt, index, {i.id: 7 for i in items}, 2)
    result = delivery.submit(attempt)
    # Stored as data: one dict per finding, with the numbers that make it.
    assert result.flagged is True
    assert {"kind": "too_fast", "page": 0, "seconds": 2.0, "count": len(PAGES[0]),
            "minimum": 1.5} in result.quality_flags
    assert {"kind": "attention_check", "page": 0, "item": "check1", "expected": 3,
            "value": 7} in result.quality_flags
    assert [flag["page"] for flag in result.quality_flags
            if flag["kind"] == "straight_lining"] == list(range(len(PAGES)))
    assert result.profile().quality == score(
        INSTRUMENT, answers, {i: 2 for i in range(len(PAGES))}
    ).quality


def test_a_second_submit_returns_the_same_result(ctx):
    attempt = delivery.open_attempt(make_launch(ctx))
    answer_everything(attempt)
    first = delivery.submit(attempt)
    again = delivery.submit(attempt, 0, {PAGES[0][0].id: 1}, 5)
    assert again.id == first.id and count(Result) == 1
    assert delivery.answers_of(attempt)[PAGES[0][0].id] == careful_answers()[PAGES[0][0].id]


def test_answers_cannot_change_after_submission(ctx):
    attempt = delivery.open_attempt(make_launch(ctx))
    answer_everything(attempt)
    delivery.submit(attempt)
    with pytest.raises(AlreadySubmitted):
        delivery.save_answer(attempt, PAGES[0][0].id, 1, 0)
    with pytest.raises(AlreadySubmitted):
        delivery.save_page(attempt, 0, {})


# Retakes ----------------------------------------------------------------------------------------


def test_one_attempt_unless_a_mentor_allows_another(ctx):
    launch = make_launch(ctx)
    first = delivery.open_attempt(launch)
    answer_everything(first)
    delivery.submit(first)
    with pytest.raises(AlreadySubmitted):
        delivery.open_attempt(launch)
    mentor = make_launch(ctx, role=Role.MENTOR)
    marked = delivery.allow_retake(mentor, launch.person_id)
    assert marked.id == first.id and first.retake_allowed
    assert first.retake_allowed_by_id == mentor.person_id
    assert delivery.overview(launch).may_start_again
    second = delivery.open_attempt(launch)
    assert second.number == 2 and second.id != first.id
    assert delivery.open_attempt(launch).id == second.id
    assert first.result is not None and count(Attempt) == 2


def test_a_mentor_can_open_a_retake_from_a_date(ctx):
    launch = make_launch(ctx)
    first = delivery.open_attempt(launch)
    answer_everything(first)
    delivery.submit(first)
    mentor = make_launch(ctx, role=Role.MENTOR)
    in_a_month = utcnow() + timedelta(days=30)
    delivery.allow_retake(mentor, launch.person_id, in_a_month)
    overview = delivery.overview(launch)
    assert overview.retake_planned and not overview.may_start_again
    assert overview.retake_opens_dt == in_a_month
    with pytest.raises(AlreadySubmitted):
        delivery.open_attempt(launch)
    # The mentor moves the date to yesterday: the retake is open.
    delivery.allow_retake(mentor, launch.person_id, utcnow() - timedelta(days=1))
    assert delivery.overview(launch).may_start_again
    assert delivery.open_attempt(launch).number == 2


def test_a_retake_round_opens_one_more_attempt_for_everyone_from_its_date(ctx):
    learners = [make_launch(ctx) for _ in range(2)]
    for launch in learners:
        attempt = delivery.open_attempt(launch)
        answer_everything(attempt)
        delivery.submit(attempt)
    lead = make_launch(ctx, role=Role.MENTOR)
    set_retake_round(ctx.link.id, utcnow() + timedelta(days=7), lead.person_id)
    assert delivery.overview(learners[0]).retake_planned
    with pytest.raises(AlreadySubmitted):
        delivery.open_attempt(learners[0])
    set_retake_round(ctx.link.id, utcnow(), lead.person_id)
    assert all(delivery.overview(launch).may_start_again for launch in learners)
    second = delivery.open_attempt(learners[0])
    answer_everything(second)
    delivery.submit(second)
    # One more each: an attempt submitted after the round's date closes it for that learner.
    assert not delivery.overview(learners[0]).may_start_again
    with pytest.raises(AlreadySubmitted):
        delivery.open_attempt(learners[0])
    assert delivery.open_attempt(learners[1]).number == 2
    # Another activity's round opens nothing here.
    set_retake_round(ctx.link.id, None, lead.person_id)
    set_retake_round(make_link(ctx.course).id, utcnow() - timedelta(days=1), lead.person_id)
    assert not delivery.overview(learners[0]).may_start_again


def test_retakes_follow_the_rules(ctx):
    mentor = make_launch(ctx, role=Role.MENTOR)
    learner = make_launch(ctx)
    with pytest.raises(AttemptNotFound):
        delivery.allow_retake(mentor, learner.person_id)
    attempt = delivery.open_attempt(learner)
    with pytest.raises(NotAllowed, match="in progress"):
        delivery.allow_retake(mentor, learner.person_id)
    answer_everything(attempt)
    delivery.submit(attempt)
    with pytest.raises(NotAllowed, match="only a mentor"):
        delivery.allow_retake(make_launch(ctx), learner.person_id)
    other_course = make_activity(db.session.get(Platform, ctx.course.platform_id))
    with pytest.raises(AttemptNotFound):
        delivery.allow_retake(make_launch(other_course, role=Role.MENTOR), learner.person_id)
    delivery.allow_retake(mentor, learner.person_id)
    delivery.allow_retake(mentor, learner.person_id)
    assert delivery.latest_attempt(learner).number == 1
