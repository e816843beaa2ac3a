"""Booking sessions: 90 minutes by default, times in UTC shown in the viewer's zone, no
double booking (also from two threads at once on PostgreSQL), reschedule, cancel, outcome,
questions, availability slots with their limit and guard time."""

from __future__ import annotations

import os
import re
import threading
from datetime import date, time, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.mentoring import booking, slots
from lti_tool.mentoring.booking import (
    BookingConflict,
    BookingRefused,
    BookingRules,
)
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import (
    MeetingMode,
    MentoringSession,
    SessionStatus,
    TimezonePreference,
)
from lti_tool.mentoring.scope import BadInput, NotFound
from lti_tool.mentoring.slots import SlotSeries
from lti_tool.mentoring.timezones import BadTime, Clock, to_utc, zone_named
from tests.mentoring.conftest import leaning_answers
from tests.mentoring.sessions_kit import (
    ZONE,
    at,
    booking_form,
    get,
    in_days,
    mentored_course,
    text_of,
    winter_day,
)

RULES = BookingRules(default_minutes=90, guard=timedelta(hours=24), learner_max_upcoming=1)


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for, learners=3)


def draft(start, minutes=90, **changes) -> SessionDraft:
    values = dict(start_dt=start, minutes=minutes, mode=MeetingMode.IN_PERSON,
                  location="Room 2.14", meeting_url="", agenda="Profile")
    values.update(changes)
    return SessionDraft(**values)


def sessions():
    db.session.expire_all()
    return db.session.scalars(select(MentoringSession).order_by(MentoringSession.id)).all()


def test_a_mentor_books_a_90_minute_session_stored_in_utc_and_shown_in_their_zone(client,
                                                                                     course):
    day = winter_day()
    response = client.post("/mentor/sessions/",
                           data=booking_form(course.mentor_token, course.learner.id, day, "10:00"))

    assert response.status_code == 303
    [session] = sessions()
    # 10:00 in Warsaw in January is 09:00 UTC; the default length is 90 minutes.
    assert (session.start_dt, session.end_dt) == (at(day, 9), at(day, 10, 30))
    assert session.mentor_id == course.mentor.id and session.learner_id == course.learner.id
    assert session.status is SessionStatus.SCHEDULED and session.sequence == 0

    page = text_of(client.get(response.headers["Location"]))
    assert "10:00–11:30 CET" in page and "Europe/Warsaw" in page
    assert "The session is booked." in page


def test_the_booking_form_starts_the_agenda_from_the_areas_to_develop(client, course, take):
    take(course.activity, course.learner, answers=leaning_answers(low="optimism"))
    improvements = ["optimism"]
    page = text_of(get(client, "/mentor/sessions/new", course.mentor_token,
                       learner_id=course.learner.id))

    assert "value=\"90\"" in get(client, "/mentor/sessions/new", course.mentor_token
                                 ).get_data(as_text=True)
    names = [default_name(d) for d in improvements]
    assert names and all(f"Area to develop: {name}" in page for name in names)


def test_fill_it_in_posts_the_learner_back_without_a_token_in_the_address(client, course,
                                                                          take):
    """The button re-renders the form for the chosen learner; it posts, so the page's
    long-lived token stays in the body and out of the address (and the logs)."""
    take(course.activity, course.learner, answers=leaning_answers(low="optimism"))
    html = get(client, "/mentor/sessions/new", course.mentor_token).get_data(as_text=True)
    button = re.search(r'<button[^>]*name="refill"[^>]*>', html).group(0)
    assert "formmethod" not in button
    page_token = re.search(r'name="lt" value="([^"]+)"', html).group(1)
    filled = client.post(re.search(r'formaction="([^"]+)"', button).group(1),
                         data={"lt": page_token, "learner_id": course.learner.id,
                               "refill": "1"})
    assert filled.status_code == 200
    assert f"Area to develop: {default_name('optimism')}" in text_of(filled)


def default_name(dimension_id: str) -> str:
    from lti_tool.questionnaire.versions import current_instrument

    return current_instrument().dimension(dimension_id).name.get("en")


def test_an_overlap_of_the_mentor_or_of_the_learner_is_refused_naming_the_clash(client,
                                                                                  course):
    day = winter_day()
    first = booking_form(course.mentor_token, course.learner.id, day, "10:00")
    assert client.post("/mentor/sessions/", data=first).status_code == 303

    # The same mentor, another learner, half an hour into the first session.
    clash = client.post("/mentor/sessions/", data=booking_form(
        course.mentor_token, course.learners[1].id, day, "11:00"))
    assert clash.status_code == 409
    message = text_of(clash)
    assert "You already have a session then: with LearnerA0 Kowalska" in message
    assert "10:00–11:30 CET" in message
    assert len(sessions()) == 1

    # Right after the first one ends is fine: [start, end) ranges.
    after = client.post("/mentor/sessions/", data=booking_form(
        course.mentor_token, course.learners[1].id, day, "11:30"))
    assert after.status_code == 303
    assert len(sessions()) == 2


def test_a_learner_cannot_be_booked_twice_at_once_by_two_mentors(client, course, make_person,
                                                                 token_for):
    from lti_tool.identity.models import Role

    other = make_person(course.activity, Role.MENTOR, given_name="Olga", family_name="Other")
    other_token = token_for(course.activity, other, Role.MENTOR)
    day = winter_day()
    assert client.post("/mentor/sessions/", data=booking_form(
        course.mentor_token, course.learner.id, day, "10:00")).status_code == 303

    refused = client.post("/mentor/sessions/", data=booking_form(
        other_token, course.learner.id, day, "09:00", minutes="120"))
    assert refused.status_code == 409
    assert "LearnerA0 Kowalska already has a session then" in text_of(refused)


def test_a_cancelled_session_frees_its_time(course):
    launch = course.mentor_launch
    start = in_days(10)
    first = booking.book_session(launch, course.learner.id, draft(start))
    booking.cancel_session(launch, first.id, "Ill")
    again = booking.book_session(launch, course.learners[1].id, draft(start))
    assert again.id != first.id


def test_rescheduling_keeps_the_uid_raises_the_sequence_and_checks_for_clashes(course):
    launch = course.mentor_launch
    session = booking.book_session(launch, course.learner.id, draft(in_days(10)))
    other = booking.book_session(launch, course.learners[1].id, draft(in_days(11)))
    uid = session.uid

    moved = booking.reschedule(launch, session.id, draft(in_days(12), minutes=60))
    assert (moved.uid, moved.sequence, moved.minutes) == (uid, 1, 60)
    assert moved.start_dt == in_days(12)

    with pytest.raises(BookingConflict) as refused:
        booking.reschedule(launch, session.id, draft(other.start_dt + timedelta(minutes=30)))
    assert "with LearnerA1 Kowalska" in refused.value.describe(Clock(zone_named(ZONE)))
    # Unchanged: nothing to tell calendars.
    assert booking.reschedule(launch, session.id, draft(in_days(12), minutes=60)).sequence == 1


def test_cancel_needs_a_reason_and_outcomes_wait_for_the_start(course):
    launch = course.mentor_launch
    session = booking.book_session(launch, course.learner.id, draft(in_days(3)))
    with pytest.raises(BadInput):
        booking.cancel_session(launch, session.id, "  ")
    with pytest.raises(BookingRefused):
        booking.record_outcome(launch, session.id, "attended")

    later = session.start_dt + timedelta(minutes=5)
    assert booking.record_outcome(launch, session.id, "no_show", now=later).status is (
        SessionStatus.NO_SHOW)
    assert booking.record_outcome(launch, session.id, "attended", now=later).status is (
        SessionStatus.ATTENDED)
    with pytest.raises(BadInput):
        booking.record_outcome(launch, session.id, "cancelled", now=later)


def test_past_times_and_bad_forms_are_refused(client, course):
    launch = course.mentor_launch
    with pytest.raises(BookingRefused):
        booking.book_session(launch, course.learner.id, draft(utcnow() - timedelta(hours=1)))
    day = winter_day()
    for change, words in (({"mode": "online", "meeting_url": "javascript:alert(1)"}, "link"),
                          ({"location": ""}, "location"), ({"minutes": "5"}, "minutes"),
                          ({"date": "15/01/2030"}, "YYYY-MM-DD")):
        response = client.post("/mentor/sessions/", data=booking_form(
            course.mentor_token, course.learner.id, day, "10:00", **change))
        assert response.status_code == 400, change
        assert words in text_of(response), change
    assert sessions() == []


def last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def test_the_spring_forward_gap_is_refused_and_the_autumn_hour_means_summer_time():
    warsaw = zone_named(ZONE)
    year = utcnow().year + 1
    with pytest.raises(BadTime, match="clocks go forward"):
        to_utc(last_sunday(year, 3), time(2, 30), warsaw)
    # 02:30 happens twice in October: the first time, still CEST (UTC+2).
    october = last_sunday(year, 10)
    assert to_utc(october, time(2, 30), warsaw) == at(october, 0, 30)


def test_the_viewers_zone_comes_from_the_browser_then_is_remembered(client, course):
    session = booking.book_session(course.mentor_launch, course.learner.id,
                                   draft(at(winter_day(), 15)))
    db.session.commit()
    url = f"/mentor/sessions/{session.id}"

    assert "15:00–16:30 UTC" in text_of(get(client, url, course.mentor_token))
    shown = text_of(get(client, url, course.mentor_token, tz="America/New_York"))
    assert "10:00–11:30 EST" in shown and "America/New_York" in shown
    # Remembered for the person, across pages and launches.
    assert "10:00–11:30 EST" in text_of(get(client, url, course.mentor_token))
    assert db.session.get(TimezonePreference, course.mentor.id).timezone == "America/New_York"
    # A zone the tool does not know is ignored.
    assert "10:00–11:30 EST" in text_of(get(client, url, course.mentor_token, tz="Mars/Base"))


def test_without_a_browser_zone_the_saved_one_then_the_locale_then_the_default(course):
    from lti_tool.mentoring.timezones import viewer_zone

    person = course.mentor.id
    assert viewer_zone(person, "pl-PL", None, "UTC").key == "Europe/Warsaw"
    assert viewer_zone(person, "en_GB", None, "UTC").key == "Europe/London"
    assert viewer_zone(person, "en", None, "Europe/Lisbon").key == "Europe/Lisbon"
    assert viewer_zone(person, "en", "Asia/Tokyo", "UTC").key == "Asia/Tokyo"
    assert viewer_zone(person, "pl", None, "UTC").key == "Asia/Tokyo"


def test_the_learner_sees_upcoming_and_past_sessions_and_leaves_questions(client, course):
    launch = course.mentor_launch
    upcoming = booking.book_session(launch, course.learner.id, draft(in_days(5)))
    past = booking.book_session(launch, course.learner.id, draft(in_days(6)))
    past.start_dt, past.end_dt = in_days(-6), in_days(-6) + timedelta(minutes=90)
    db.session.commit()

    response = client.post(f"/plan/sessions/{upcoming.id}/questions",
                           data={"lt": course.learner_token, "questions": "How do I start?"})
    assert response.status_code == 303
    plan = text_of(client.get(response.headers["Location"]))
    assert "Your questions are saved" in plan
    upcoming_part, past_part = plan.split("Past and cancelled", 1)
    assert "How do I start?" in upcoming_part and "Maja MentorA" in upcoming_part
    assert "Scheduled" in past_part
    assert "How do I start?" in text_of(get(client, f"/mentor/sessions/{upcoming.id}",
                                            course.mentor_token))
    # Not for a session that is over.
    refused = client.post(f"/plan/sessions/{past.id}/questions",
                          data={"lt": course.learner_token, "questions": "Late"})
    assert refused.status_code == 400


def publish(course, days=3, times="09:00, 11:00", first=None, **extra):
    form = {"first_day": (first or (utcnow().date() + timedelta(days=3))).isoformat(),
            "days": str(days), "times": times, "minutes": "", "mode": "online",
            "meeting_url": "https://meet.example.edu/maja", **extra}
    return slots.publish_slots(course.mentor_launch, SlotSeries.from_form(form, 90),
                               zone_named("UTC"))


def test_a_mentor_publishes_slots_leaving_out_clashes(course):
    taken = booking.book_session(course.mentor_launch, course.learner.id,
                                 draft(in_days(3, hour=11)))
    published = publish(course)
    assert len(published.created) == 5
    assert [reason for _, reason in published.skipped] == ["overlaps one of your sessions or slots"]
    assert all(s.end_dt - s.start_dt == timedelta(minutes=90) for s in published.created)
    # Publishing the same again adds nothing: every time is taken by a slot now.
    assert publish(course).created == [] and taken.id


def test_a_learner_books_a_slot_which_then_holds_only_them(client, course):
    [slot, *_] = publish(course, days=1, times="09:00").created
    db.session.commit()

    page = text_of(get(client, "/plan/slots", course.learner_token))
    assert "Maja MentorA" in page and "https://meet.example.edu/maja" in page
    booked = client.post(f"/plan/slots/{slot.id}/book", data={"lt": course.learner_token})
    assert booked.status_code == 303
    [session] = sessions()
    assert (session.slot_id, session.learner_id) == (slot.id, course.learner.id)
    assert session.mode is MeetingMode.ONLINE and session.minutes == 90

    second = client.post(f"/plan/slots/{slot.id}/book", data={"lt": course.learner_tokens[1]})
    assert second.status_code == 409
    assert "Someone has just booked this slot" in text_of(second)
    assert "No free times" in text_of(get(client, "/plan/slots", course.learner_tokens[1]))
    # Withdrawing a booked slot is refused; the session is cancelled instead.
    with pytest.raises(BookingRefused):
        slots.withdraw_slot(course.mentor_launch, slot.id)


def test_a_learner_has_at_most_one_upcoming_session_by_default(course):
    first, second = publish(course, days=1, times="09:00, 13:00").created
    launch = course.learner_launch()
    slots.book_slot(launch, first.id, rules=RULES)
    with pytest.raises(BookingRefused) as refused:
        slots.book_slot(launch, second.id, rules=RULES)
    assert "already have an upcoming session" in str(refused.value)
    roomier = BookingRules(90, timedelta(hours=24), learner_max_upcoming=2)
    assert slots.book_slot(launch, second.id, rules=roomier).slot_id == second.id


def test_no_booking_or_cancelling_within_the_guard_time(course):
    [slot] = publish(course, days=1, times="09:00").created
    launch = course.learner_launch()
    close = slot.start_dt - timedelta(hours=23)
    with pytest.raises(BookingRefused) as refused:
        slots.book_slot(launch, slot.id, now=close, rules=RULES)
    assert "within 24 hours" in str(refused.value)
    assert slots.open_slots(launch, close, RULES) == []

    session = slots.book_slot(launch, slot.id, now=slot.start_dt - timedelta(hours=48),
                              rules=RULES)
    with pytest.raises(BookingRefused):
        booking.cancel_session(launch, session.id, "Exam", now=close, rules=RULES)
    # The mentor may still cancel, and then the slot is free again.
    booking.cancel_session(course.mentor_launch, session.id, "Mentor ill", now=close)
    assert slots.open_slots(launch, slot.start_dt - timedelta(hours=48), RULES) == [slot]


def test_a_learner_cancels_their_own_session_with_a_reason(client, course):
    [slot] = publish(course, days=1, times="09:00").created
    session = slots.book_slot(course.learner_launch(), slot.id)
    db.session.commit()
    refused = client.post(f"/plan/sessions/{session.id}/cancel",
                          data={"lt": course.learner_tokens[1], "reason": "Not mine"})
    assert refused.status_code == 404
    cancelled = client.post(f"/plan/sessions/{session.id}/cancel",
                            data={"lt": course.learner_token, "reason": "Exam that day"})
    assert cancelled.status_code == 303
    [session] = sessions()
    assert session.status is SessionStatus.CANCELLED and session.cancel_reason == "Exam that day"
    assert session.cancelled_by_id == course.learner.id


def test_another_courses_mentor_and_learners_find_nothing(client, course, make_activity,
                                                          make_person, token_for):
    other = mentored_course(make_activity, make_person, token_for,
                            platform=course.activity.platform, label="B")
    foreign = mentored_course(make_activity, make_person, token_for, label="C")  # platform 2
    session = booking.book_session(course.mentor_launch, course.learner.id, draft(in_days(4)))
    [slot] = publish(course, days=1, times="15:00").created
    db.session.commit()
    for intruder in (other, foreign):
        token = intruder.mentor_token
        for path in (f"/mentor/sessions/{session.id}",
                     f"/mentor/sessions/{session.id}/session.ics"):
            assert get(client, path, token).status_code == 404, path
        for path, data in ((f"/mentor/sessions/{session.id}/cancel", {"reason": "x"}),
                           (f"/mentor/sessions/{session.id}/outcome", {"outcome": "attended"}),
                           (f"/mentor/sessions/{session.id}/reschedule", {}),
                           (f"/mentor/slots/{slot.id}/withdraw", {})):
            assert client.post(path, data={"lt": token, **data}).status_code == 404, path
        # A learner of another course cannot be booked, nor their slot taken.
        refused = client.post("/mentor/sessions/", data=booking_form(
            token, course.learner.id, winter_day(), "10:00"))
        assert refused.status_code == 404
        learner = intruder.learner_token
        assert client.post(f"/plan/slots/{slot.id}/book", data={"lt": learner}).status_code == 404
        assert get(client, f"/plan/sessions/{session.id}/session.ics", learner).status_code == 404
        assert "Maja MentorA" not in text_of(get(client, "/mentor/sessions/", token))
    assert [s.id for s in sessions()] == [session.id]


def test_learners_get_403_on_mentor_urls(client, course):
    session = booking.book_session(course.mentor_launch, course.learner.id, draft(in_days(4)))
    db.session.commit()
    token = course.learner_token
    for path in ("/mentor/sessions/", "/mentor/sessions/new", f"/mentor/sessions/{session.id}",
                 f"/mentor/sessions/{session.id}/session.ics"):
        assert get(client, path, token).status_code == 403, path
    for path in ("/mentor/sessions/", f"/mentor/sessions/{session.id}/cancel", "/mentor/slots",
                 "/mentor/calendar-feed"):
        assert client.post(path, data={"lt": token}).status_code == 403, path
    with pytest.raises(NotFound):
        booking.session_for_learner(course.learner_launch(1), session.id)


# --- Two bookings at the same moment ----------------------------------------------------


@pytest.fixture
def race_app(app):
    """Where two threads race: on PostgreSQL a database of this test's own, created and
    dropped here (never the shared one); on SQLite the test database, whose single writer
    lock is what booking.py relies on there."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield app
        return
    from lti_tool import create_app
    from tests.conftest import _fresh_schema

    name = f"test_dmd_booking_{os.getpid()}"
    server = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    own = create_app({**{k: app.config[k] for k in ("ENV", "SECRET_KEY", "TOOL_URL", "KEYS_DIR")},
                      "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"})
    _fresh_schema(own)
    try:
        yield own
    finally:
        with own.app_context():
            db.session.remove()
            db.engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _race_course(app):
    """A course with a mentor and two learners in the race's database; a mentor token."""
    from lti_tool.identity.models import (
        Course,
        Deployment,
        Membership,
        Person,
        Platform,
        ResourceLink,
        Role,
    )
    from lti_tool.lti.session import start_session

    with app.app_context():
        platform = Platform(issuer="https://race.example.edu", client_id="tool",
                            auth_login_url="https://race.example.edu/a",
                            auth_token_url="https://race.example.edu/t",
                            key_set_url="https://race.example.edu/k",
                            deployments=[Deployment(deployment_id="1")])
        db.session.add(platform)
        db.session.flush()
        course = Course(platform_id=platform.id, context_id="race", title="Race")
        db.session.add(course)
        db.session.flush()
        link = ResourceLink(platform_id=platform.id, course_id=course.id, resource_link_id="r")
        people = [Person(platform_id=platform.id, sub=f"racer{n}") for n in range(3)]
        db.session.add_all([link, *people])
        db.session.flush()
        roles = [Role.MENTOR, Role.LEARNER, Role.LEARNER]
        db.session.add_all(Membership(course_id=course.id, person_id=p.id, role=r, roles=[r.value])
                           for p, r in zip(people, roles, strict=True))
        token = start_session(people[0], platform.deployments[0].id, course, link, Role.MENTOR,
                              "LtiResourceLinkRequest", {})
        db.session.commit()
        return token, [people[1].id, people[2].id]


def test_two_threads_booking_the_same_time_exactly_one_wins(race_app):
    app = race_app
    token, learner_ids = _race_course(app)
    day = winter_day()
    answers: list[int] = []

    def book(barrier: threading.Barrier, learner_id: int, clock: str) -> None:
        client = app.test_client()
        form = booking_form(token, learner_id, day, clock, zone="UTC")
        barrier.wait()
        answers.append(client.post("/mentor/sessions/", data=form).status_code)

    # The same mentor for two learners at once, three times over: each race leaves exactly
    # one booking, and the other request is told about it.
    for attempt, clock in enumerate(("10:00", "14:00", "18:00")):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=book, args=(barrier, learner_id, clock))
                   for learner_id in learner_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(answers[attempt * 2:]) == [303, 409], answers

    with app.app_context():
        assert db.session.scalar(select(func.count(MentoringSession.id))) == 3
        if db.engine.dialect.name != "postgresql":
            return
        # The exclusion constraint refuses an overlap even from code that skips booking.py.
        won = db.session.scalars(select(MentoringSession)).first()
        db.session.add(MentoringSession(
            uid="raw@test", course_id=won.course_id, mentor_id=won.mentor_id,
            learner_id=won.learner_id, start_dt=won.start_dt + timedelta(minutes=10),
            end_dt=won.end_dt, mode=MeetingMode.IN_PERSON, created_by_id=won.mentor_id))
        with pytest.raises(IntegrityError, match="ex_mentoring_session_(mentor|learner)_overlap"):
            db.session.flush()
        db.session.rollback()


def test_the_mentors_forms_reschedule_cancel_mark_and_publish(client, course):
    day = winter_day()
    booked = client.post("/mentor/sessions/", data=booking_form(
        course.mentor_token, course.learner.id, day, "10:00"))
    session_url = booked.headers["Location"].split("?")[0]
    moved = client.post(f"{session_url}/reschedule", data=booking_form(
        course.mentor_token, course.learner.id, day, "12:00", minutes="60", mode="online",
        meeting_url="https://meet.example.edu/x"))
    assert moved.status_code == 303
    [session] = sessions()
    assert (session.start_dt, session.minutes, session.sequence) == (at(day, 11), 60, 1)
    page = text_of(client.get(moved.headers["Location"]))
    assert "12:00–13:00 CET" in page and "Online: https://meet.example.edu/x" in page

    refused = client.post(f"{session_url}/outcome", data={"lt": course.mentor_token,
                                                          "outcome": "attended"})
    assert refused.status_code == 400 and "once it has begun" in text_of(refused)
    no_reason = client.post(f"{session_url}/cancel", data={"lt": course.mentor_token})
    assert no_reason.status_code == 400
    cancelled = client.post(f"{session_url}/cancel", data={"lt": course.mentor_token,
                                                           "reason": "Room closed"})
    assert cancelled.status_code == 303
    assert "Room closed" in text_of(client.get(cancelled.headers["Location"]))

    first = (utcnow().date() + timedelta(days=2)).isoformat()
    published = client.post("/mentor/slots", data={
        "lt": course.mentor_token, "tz": ZONE, "first_day": first, "days": "2",
        "times": "09:00, 14:00", "minutes": "90", "mode": "in_person", "location": "Room 1"})
    assert published.status_code == 200
    assert "4 slots published." in text_of(published)
    bad = client.post("/mentor/slots", data={
        "lt": course.mentor_token, "first_day": first, "times": "9 o'clock",
        "mode": "in_person", "location": "Room 1"})
    assert bad.status_code == 400 and "is not a time" in text_of(bad)
    listed = get(client, "/mentor/sessions/", course.mentor_token).get_data(as_text=True)
    slot_id = int(re.search(r"/mentor/slots/(\d+)/withdraw", listed).group(1))
    withdrawn = client.post(f"/mentor/slots/{slot_id}/withdraw", data={"lt": course.mentor_token})
    assert withdrawn.status_code == 303
    assert len(slots.open_slots(course.learner_launch(), rules=BookingRules(
        90, timedelta(0), 1))) == 3


@pytest.mark.parametrize(("key", "value", "words"), [
    ("DEFAULT_TIMEZONE", "Europe/Atlantis", "IANA time zone"),
    ("MENTORING_SESSION_MINUTES", 5, "from 15 to 480"),
    ("BOOKING_GUARD_HOURS", -1, "from 0 to 720"),
    ("BOOKING_GUARD_HOURS", True, "whole number"),
    ("LEARNER_MAX_UPCOMING_SESSIONS", 0, "from 1 to 100"),
    ("CALENDAR_FEED_PAST_DAYS", "60", "whole number"),
])
def test_the_booking_settings_are_checked_at_start_up(app, key, value, words):
    from lti_tool.config import ConfigError, load_config

    settings = {k: app.config[k] for k in ("SECRET_KEY", "TOOL_URL", "ENV")}
    assert load_config(settings)["MENTORING_SESSION_MINUTES"] == 90
    with pytest.raises(ConfigError, match=words) as refused:
        load_config({**settings, key: value})
    assert key in str(refused.value)


def test_five_days_weekdays_only_gives_five_weekdays_of_slots(course):
    today = utcnow().date()
    wednesday = today + timedelta(days=(2 - today.weekday()) % 7 + 7)
    published = publish(course, days=5, times="09:00, 11:00", first=wednesday,
                        weekdays_only="1")
    days = sorted({slot.start_dt.date() for slot in published.created})
    # Wednesday, Thursday, Friday, then Monday and Tuesday: five weekdays, two slots each.
    assert days == [wednesday + timedelta(days=n) for n in (0, 1, 2, 5, 6)]
    assert len(published.created) == 10
    assert all(day.weekday() < 5 for day in days)
    # Without the tick, five calendar days, the weekend included.
    every = publish(course, days=5, times="15:00", first=wednesday)
    assert len({slot.start_dt.date() for slot in every.created}) == 5


def test_the_mentor_sees_which_free_slots_learners_cannot_book_and_why(client, course):
    first = utcnow().date() + timedelta(days=3)
    [near] = publish(course, days=1, times="09:00", first=first).created
    later, clash = publish(course, days=1, times="09:00, 15:00",
                           first=first + timedelta(days=2)).created
    db.session.commit()
    # The mentor books another learner over the last slot's time directly (not in the slot).
    direct = booking.book_session(course.mentor_launch, course.learners[2].id,
                                  draft(clash.start_dt + timedelta(minutes=30)))
    db.session.commit()
    assert direct.slot_id is None
    now = near.start_dt - timedelta(hours=2)
    learner_sees = {slot.id for slot in slots.open_slots(course.learner_launch(), now, RULES)}
    mentor_sees = {entry.slot.id: entry.hidden_reason
                   for entry in slots.mentor_slots(course.mentor_launch, now, RULES)}
    assert learner_sees == {later.id}
    assert mentor_sees[later.id] is None
    assert mentor_sees[near.id] == ("hidden from learners: it starts within 24 hours, the "
                                    "booking guard")
    assert mentor_sees[clash.id] == "hidden from learners: you have another session at that time"
    page = text_of(get(client, "/mentor/sessions/", course.mentor_token))
    assert "hidden from learners: you have another session at that time" in page


def test_a_learner_without_a_result_books_and_the_agenda_starts_from_the_questionnaire(
        client, course):
    [slot] = publish(course, days=1, times="09:00").created
    db.session.commit()
    assert client.post(f"/plan/slots/{slot.id}/book",
                       data={"lt": course.learner_token}).status_code == 303
    [session] = sessions()
    assert session.agenda.splitlines()[0] == "- Complete the questionnaire (not submitted yet)"
    plan = text_of(get(client, "/plan/", course.learner_token))
    assert "Complete the questionnaire (not submitted yet)" in plan
