"""The mentor's side and the rules underneath: sync states in one query and within the launch's
scope, who may see and retry, timestamps, backoff and scaling, configuration."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from lti_tool.config import ConfigError, load_config
from lti_tool.extensions import db
from lti_tool.gradebook import status, sync
from lti_tool.gradebook.models import GradeMode, ScoreStatus
from lti_tool.gradebook.settings import grade_settings, mode_from_custom
from lti_tool.identity.models import Course, Person, Platform, ResourceLink
from lti_tool.lti.services import PlatformServiceError
from tests.gradebook.conftest import launch, submit

_numbers = itertools.count(1)


@pytest.fixture
def ctx(app):
    """An app context, rolled back afterwards."""
    with app.app_context():
        yield
        db.session.rollback()


def make_link(platform: Platform | None = None) -> ResourceLink:
    """A course with one activity on a (new) platform."""
    if platform is None:
        platform = Platform(issuer=f"https://lms{next(_numbers)}.example.edu", client_id="c",
                            auth_login_url="https://x/a", auth_token_url="https://x/t",
                            key_set_url="https://x/k")
        db.session.add(platform)
        db.session.flush()
    course = Course(platform_id=platform.id, context_id=f"c{next(_numbers)}")
    db.session.add(course)
    db.session.flush()
    link = ResourceLink(platform_id=platform.id, course_id=course.id,
                        resource_link_id=f"r{next(_numbers)}")
    db.session.add(link)
    db.session.flush()
    return link


def make_person(link: ResourceLink, name: str = "Ada") -> Person:
    person = Person(platform_id=link.platform_id, sub=f"u{next(_numbers)}", name=name)
    db.session.add(person)
    db.session.flush()
    return person


def count_queries(app):
    statements: list[str] = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    return statements, lambda: event.remove(db.engine, "before_cursor_execute", remember)


# Sync states ------------------------------------------------------------------------------------


def test_sync_states_gives_each_learners_newest_score_in_one_query(app, ctx):
    link = make_link()
    settings = grade_settings(link.id)
    ada, bo = make_person(link, "Ada"), make_person(link, "Bo")
    sync.add_record(settings, ada.id, None, 7.0)
    newest = sync.add_record(settings, ada.id, None, 8.0)
    sync.add_record(settings, bo.id, None, 5.0)
    other_link = make_link(link.course.platform)
    sync.add_record(grade_settings(other_link.id), ada.id, None, 3.0)
    db.session.flush()

    statements, stop = count_queries(app)
    try:
        states = status.sync_states(link.course_id, link.id)
    finally:
        stop()

    assert len(statements) == 1
    assert set(states) == {ada.id, bo.id}
    assert states[ada.id].record_id == newest.id
    assert states[ada.id].status is ScoreStatus.PENDING
    assert states[ada.id].score_given == 100  # completion: full marks of 100


def test_sync_states_are_scoped_by_the_course(ctx):
    link = make_link()
    person = make_person(link)
    record = sync.add_record(grade_settings(link.id), person.id, None, 7.0)
    record.status = ScoreStatus.FAILED
    stranger = make_link()
    assert status.sync_states(stranger.course_id, link.id) == {}
    with pytest.raises(status.RecordNotFound):
        status.retry(stranger.course_id, link.id, record.id)


def test_only_the_newest_failed_score_can_be_retried(ctx):
    link = make_link()
    person = make_person(link)
    settings = grade_settings(link.id)
    old = sync.add_record(settings, person.id, None, 7.0)
    new = sync.add_record(settings, person.id, None, 8.0)
    old.status = new.status = ScoreStatus.FAILED
    with pytest.raises(status.NotRetryable, match="newer score"):
        status.retry(link.course_id, link.id, old.id)
    retried = status.retry(link.course_id, link.id, new.id)
    assert retried.status is ScoreStatus.PENDING and retried.attempts == 0
    with pytest.raises(status.NotRetryable, match="pending, not failed"):
        status.retry(link.course_id, link.id, new.id)


def test_the_gradebook_pages_are_for_mentors(driver, learners):
    learner = launch(driver, learners[0]["id"])
    for path in ("/gradebook/", "/gradebook/settings"):
        assert learner.get(path).status_code == 403
    assert learner.post("/gradebook/settings", {"grade_mode": "score"}).status_code == 403
    assert learner.post("/gradebook/records/1/retry").status_code == 403
    # Without the launch token there is no session at all.
    assert learner.get("/gradebook/", lt="").status_code == 401


def test_a_mentor_cannot_retry_a_score_of_another_activity(driver, learners, instructor,
                                                           new_activity, deliver, records):
    other = new_activity()
    driver.platform.settings["ags_failure"] = "422"
    submit(driver, learners[0]["id"], resource_link_id=other)
    deliver()
    [record] = records()
    assert record["status"] == "failed"
    mentor = launch(driver, instructor["id"])  # from activity 1
    assert mentor.post(f"/gradebook/records/{record['id']}/retry").status_code == 404
    assert "simulated rejection" not in mentor.get("/gradebook/").text
    assert records()[0]["status"] == "failed"


def test_the_settings_page_shows_the_mode_and_refuses_an_unknown_one(mentor):
    page = mentor.get("/gradebook/settings")
    assert page.status_code == 200
    assert 'value="completion" checked' in page.text
    assert "/lineitems/2/lineitem?type_id=1" in page.text  # named by the launch
    refused = mentor.post("/gradebook/settings", {"grade_mode": "percent"})
    assert refused.status_code == 400 and "Choose a grade mode" in refused.text
    saved = mentor.post("/gradebook/settings", {"grade_mode": "score"})
    assert saved.status_code == 303
    assert 'value="score" checked' in mentor.get("/gradebook/settings").text


# Rules ------------------------------------------------------------------------------------------


def test_timestamps_increase_by_whole_seconds():
    first = datetime(2026, 11, 25, 10, 0, 0, 900_000)
    same_second = datetime(2026, 11, 25, 10, 0, 0, 950_000)
    assert sync.next_timestamp(None, first) == first
    assert sync.next_timestamp(first, same_second) == first + timedelta(seconds=1)
    # Even when the clock says "earlier" (two servers), the next is a second later.
    assert sync.next_timestamp(first, first - timedelta(minutes=1)) == first + timedelta(seconds=1)
    later = datetime(2026, 11, 25, 10, 0, 1, 100_000)
    assert sync.next_timestamp(first, later) == later
    assert sync.iso_timestamp(first) == "2026-11-25T10:00:00.900000+00:00"


def test_backoff_doubles_from_30_seconds_to_at_most_an_hour_with_jitter():
    for attempts, ceiling in ((1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (30, 3600)):
        waits = {sync.backoff(attempts).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(waits) > 1


def test_scores_by_mode():
    assert sync.score_given(GradeMode.COMPLETION, 3.2, 50) == 50
    assert sync.score_given(GradeMode.SCORE, 7.34, 100) == 73.4
    assert sync.score_given(GradeMode.SCORE, 10, 20) == 20
    assert mode_from_custom({"dmd_grade_mode": "Score"}) is GradeMode.SCORE
    assert mode_from_custom({"dmd_grade_mode": "bogus"}) is GradeMode.COMPLETION
    assert mode_from_custom(None) is GradeMode.COMPLETION


def test_moodles_answer_for_a_non_learner_is_explained():
    refused = PlatformServiceError("x", status=400, body="[]")
    assert sync.explain(refused) == (
        "HTTP 400: [] (Moodle's answer when the person is not a learner in the course)"
    )
    assert not refused.retryable


@pytest.mark.parametrize("key, value", [
    ("GRADE_RETRY_HOURS", 0), ("GRADE_RETRY_HOURS", True), ("GRADE_WORKER_POLL_SECONDS", "5"),
    ("GRADE_WORKER_POLL_SECONDS", -1),
])
def test_grade_settings_are_checked_at_start_up(key, value):
    base = {"SECRET_KEY": "k" * 40, "TOOL_URL": "https://dmd.example.edu"}
    assert load_config(base)["GRADE_RETRY_HOURS"] == 48
    with pytest.raises(ConfigError, match=key):
        load_config({**base, key: value})


def test_a_timestamp_moves_on_only_past_the_same_learners_score_in_the_same_activity(ctx):
    # Moodle keeps whole seconds and refuses a score not newer than the one it holds: the
    # tool pushes a learner's next timestamp one second on, for that activity only.
    link = make_link()
    other_link = make_link(link.course.platform)
    ada, bo = make_person(link, "Ada"), make_person(link, "Bo")
    now = datetime(2026, 12, 3, 12, 0, 0, 250000, tzinfo=UTC)
    first = sync.add_record(grade_settings(link.id), ada.id, None, 7.0, now)
    others = [sync.add_record(grade_settings(link.id), bo.id, None, 6.0, now),
              sync.add_record(grade_settings(other_link.id), ada.id, None, 5.0, now)]
    again = sync.add_record(grade_settings(link.id), ada.id, None, 8.0, now)
    assert first.score_dt == now
    assert [record.score_dt for record in others] == [now, now]
    assert again.score_dt == now + timedelta(seconds=1)
    assert (first.next_try_dt, first.pending_since_dt, first.created_dt) == (now, now, now)
