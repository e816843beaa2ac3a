"""Calendars: an .ics per session (stable UID, SEQUENCE raised on each change, cancellation as
METHOD:CANCEL) and a mentor's private feed found by a revocable secret token."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.mentoring import booking
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import CalendarFeed, MeetingMode
from tests.mentoring.sessions_kit import at, get, in_days, mentored_course, winter_day

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


def book(course, start, learner=0, **changes):
    values = dict(start_dt=start, minutes=90, mode=MeetingMode.ONLINE, location="",
                  meeting_url="https://meet.example.edu/room", agenda="- Empathy")
    values.update(changes)
    session = booking.book_session(course.mentor_launch, course.learners[learner].id,
                                   SessionDraft(**values))
    db.session.commit()
    return session


def event_of(response):
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.get_data())
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_the_learner_downloads_the_session_in_their_zone(client, course):
    session = book(course, at(winter_day(), 9))
    response = get(client, f"/plan/sessions/{session.id}/session.ics", course.learner_token,
                   tz="Europe/Warsaw")
    assert "attachment" in response.headers["Content-Disposition"]
    calendar, event = event_of(response)

    assert calendar["METHOD"] == "PUBLISH"
    assert event["UID"] == session.uid
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event.start == datetime(*winter_day().timetuple()[:3], 10, 0, tzinfo=WARSAW)
    assert event.end == datetime(*winter_day().timetuple()[:3], 11, 30, tzinfo=WARSAW)
    assert event["DTSTART"].params["TZID"] == "Europe/Warsaw"
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Warsaw"]
    assert str(event["SUMMARY"]) == "Mentoring session with Maja MentorA"
    assert str(event["LOCATION"]) == "https://meet.example.edu/room"
    assert "Empathy" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:maja.a@example.edu"


def test_changes_keep_the_uid_and_raise_the_sequence_and_a_cancellation_cancels(client,
                                                                               course):
    session = book(course, in_days(5))
    uid = session.uid
    booking.reschedule(course.mentor_launch, session.id, SessionDraft(
        in_days(6), 60, MeetingMode.IN_PERSON, "Room 2.14", "", "- Empathy"))
    db.session.commit()
    _, moved = event_of(get(client, f"/mentor/sessions/{session.id}/session.ics",
                            course.mentor_token, tz="UTC"))
    assert (moved["UID"], moved["SEQUENCE"]) == (uid, 1)
    assert moved.start == in_days(6).replace(tzinfo=ZoneInfo("UTC"))
    assert moved.end - moved.start == timedelta(minutes=60)
    assert str(moved["LOCATION"]) == "Room 2.14"
    assert str(moved["SUMMARY"]) == "Mentoring session with LearnerA0 Kowalska"

    booking.cancel_session(course.mentor_launch, session.id, "Mentor ill")
    db.session.commit()
    calendar, cancelled = event_of(get(client, f"/plan/sessions/{session.id}/session.ics",
                                       course.learner_token))
    assert calendar["METHOD"] == "CANCEL"
    assert cancelled["STATUS"] == "CANCELLED"
    assert (cancelled["UID"], cancelled["SEQUENCE"]) == (uid, 2)
    assert "Mentor ill" in str(cancelled["DESCRIPTION"])


def feed_url(html: str) -> str:
    start = html.index('<code class="feed-url">') + len('<code class="feed-url">')
    return html[start:html.index("</code>", start)]


def test_a_mentors_private_feed_works_without_a_launch_until_revoked(client, course,
                                                                     make_activity, make_person,
                                                                     token_for):
    mine = [book(course, in_days(3)), book(course, in_days(4), learner=1)]
    booking.cancel_session(course.mentor_launch, mine[1].id, "Clash")
    other = mentored_course(make_activity, make_person, token_for,
                            platform=course.activity.platform, label="B")
    book(other, in_days(3))  # another course's session: not in this feed
    db.session.commit()

    made = client.post("/mentor/calendar-feed", data={"lt": course.mentor_token})
    assert made.status_code == 200
    url = feed_url(made.get_data(as_text=True))
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    # Stored hashed: the token itself is nowhere in the database.
    feed = db.session.scalar(select(CalendarFeed))
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert token not in get(client, "/mentor/sessions/", course.mentor_token).get_data(
        as_text=True)

    response = client.get(url.removeprefix(client.application.config["TOOL_URL"]))
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.get_data())
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {s.uid for s in mine}
    assert events[mine[1].uid]["STATUS"] == "CANCELLED"
    assert "METHOD" not in calendar

    # A new address stops the old one; revoking stops the new one.
    renewed = client.post("/mentor/calendar-feed", data={"lt": course.mentor_token})
    second = feed_url(renewed.get_data(as_text=True))
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    path = second.removeprefix(client.application.config["TOOL_URL"])
    assert client.get(path).status_code == 200
    assert client.post("/mentor/calendar-feed/revoke",
                       data={"lt": course.mentor_token}).status_code == 303
    assert client.get(path).status_code == 404
    assert client.get("/calendar/guessed.ics").status_code == 404


def test_learners_cannot_make_a_feed(client, course):
    assert client.post("/mentor/calendar-feed",
                       data={"lt": course.learner_token}).status_code == 403
    assert db.session.scalar(select(CalendarFeed)) is None
