"""iCalendar: an .ics file per session, and a mentor's private feed of their sessions.

A session keeps one UID for life and raises its SEQUENCE on every change, so a calendar
that imported it updates the event instead of adding a second one. A cancelled session is
sent as METHOD:CANCEL with STATUS:CANCELLED, which removes it from the calendar; others
as METHOD:PUBLISH. A feed (a subscription) holds no METHOD and lists cancelled sessions
with STATUS:CANCELLED.

Events carry when, where and the agenda only: never notes, never the learner's questions.

A feed is found by a secret token in its URL, which works without a launch (calendar apps
fetch it on their own). Only the token's SHA-256 is stored: the URL is shown once, and a
leaked database does not leak working URLs. A new URL revokes the previous one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta, tzinfo
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.models import (
    ActionItem,
    CalendarFeed,
    MeetingMode,
    MentoringSession,
)
from lti_tool.mentoring.scope import NotFound, course_of, require_mentor

PRODID = "-//Design Mindset Detector//Mentoring sessions//EN"
TOKEN_BYTES = 32


def session_ics(session: MentoringSession, zone: ZoneInfo, *, for_learner: bool,
                now: datetime | None = None, invitation: bool = False) -> bytes:
    """One session as an .ics file, its times in the viewer's zone (with its VTIMEZONE).

    An `invitation` (the file attached to an e-mail) says METHOD:REQUEST instead of PUBLISH,
    so that a mail program offers to add or update the event; a cancelled session is
    METHOD:CANCEL either way. The UID is the session's, the same as in every download.
    """
    calendar = _calendar()
    calendar.add("method", "CANCEL" if session.is_cancelled
                 else "REQUEST" if invitation else "PUBLISH")
    calendar.add_component(_event(session, zone, for_learner=for_learner, now=now))
    _add_zones(calendar, [session])
    return calendar.to_ical()


def feed_ics(sessions: list[MentoringSession], name: str, now: datetime | None = None) -> bytes:
    """A mentor's subscription: their sessions in UTC (calendar apps show their own zone)."""
    calendar = _calendar()
    calendar.add("x-wr-calname", name)
    for session in sessions:
        calendar.add_component(_event(session, ZoneInfo("UTC"), for_learner=False, now=now))
    return calendar.to_ical()


def plan_ics(sessions: list[MentoringSession], actions: list[ActionItem], zone: ZoneInfo,
             name: str, now: datetime | None = None) -> bytes:
    """A learner's plan for their calendar: their sessions (with the same UIDs as the
    single-session downloads) and an all-day event on each open action's due date."""
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for session in sessions:
        calendar.add_component(_event(session, zone, for_learner=True, now=now))
    for action in actions:
        calendar.add_component(_due_event(action, now))
    if sessions:
        _add_zones(calendar, sessions)
    return calendar.to_ical()


def _due_event(action: ActionItem, now: datetime | None) -> Event:
    # All-day events rather than VTODO: most calendar apps show events and ignore to-dos.
    event = Event()
    host = urlsplit(current_app.config["TOOL_URL"]).hostname or "localhost"
    event.add("uid", f"action-{action.id}@{host}")
    event.add("dtstamp", _aware(now or utcnow(), UTC))
    event.add("dtstart", action.due_date)
    event.add("dtend", action.due_date + timedelta(days=1))
    event.add("summary", f"Due: {action.title}")
    event.add("description", f"Goal: {action.goal.title}")
    event.add("transp", "TRANSPARENT")
    return event


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def _event(session: MentoringSession, zone: ZoneInfo, *, for_learner: bool,
           now: datetime | None) -> Event:
    mentor, learner = session.mentor, session.learner
    event = Event()
    event.add("uid", session.uid)
    event.add("sequence", session.sequence)
    event.add("dtstamp", _aware(now or utcnow(), UTC))
    event.add("created", _aware(session.created_dt, UTC))
    event.add("last-modified", _aware(session.updated_dt, UTC))
    event.add("dtstart", _aware(session.start_dt, zone))
    event.add("dtend", _aware(session.end_dt, zone))
    other = mentor if for_learner else learner
    event.add("summary", f"Mentoring session with {other.display_name}")
    if session.mode is MeetingMode.ONLINE:
        event.add("location", session.meeting_url)
        event.add("url", session.meeting_url)
    else:
        event.add("location", session.location)
    event.add("description", _description(session))
    event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
    organizer = _address(mentor)
    if organizer is not None:
        event.add("organizer", organizer)
    attendee = _address(learner)
    if attendee is not None:
        event.add("attendee", attendee)
    return event


def _description(session: MentoringSession) -> str:
    lines = [f"{session.minutes}-minute mentoring session ({session.mode.label.lower()})."]
    if session.is_cancelled:
        lines.append(f"Cancelled: {session.cancel_reason}")
    if session.mode is MeetingMode.ONLINE:
        lines.append(f"Join: {session.meeting_url}")
    if session.agenda:
        lines += ["", "Agenda:", session.agenda]
    return "\n".join(lines)


def _address(person: Person) -> vCalAddress | None:
    if not person.email:
        return None
    address = vCalAddress(f"mailto:{person.email}")
    address.params["cn"] = vText(person.display_name)
    return address


def _aware(moment: datetime, zone: tzinfo) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone)


def _add_zones(calendar: Calendar, sessions: list[MentoringSession]) -> None:
    # The zone's rules for the years around the sessions: the whole tz history is kilobytes.
    first = min(s.start_dt for s in sessions).date()
    last = max(s.end_dt for s in sessions).date()
    calendar.add_missing_timezones(first_date=date(first.year - 1, 1, 1),
                                   last_date=date(last.year + 2, 1, 1))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed(launch: LaunchContext) -> CalendarFeed | None:
    """The launch's mentor's feed for the course, unless revoked."""
    require_mentor(launch)
    return db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.mentor_id == launch.person_id,
                                   CalendarFeed.course_id == course_of(launch),
                                   CalendarFeed.revoked_dt.is_(None))
    )


def create_feed(launch: LaunchContext, now: datetime | None = None) -> str:
    """A new secret feed token for the launch's mentor and course; any earlier one stops."""
    revoke_feed(launch, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(CalendarFeed(mentor_id=launch.person_id, course_id=course_of(launch),
                                token_hash=_hash(token)))
    db.session.flush()
    return token


def revoke_feed(launch: LaunchContext, now: datetime | None = None) -> bool:
    """Stop the launch's mentor's feed URL for the course; whether there was one."""
    require_mentor(launch)
    result = db.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.mentor_id == launch.person_id,
               CalendarFeed.course_id == course_of(launch),
               CalendarFeed.revoked_dt.is_(None))
        .values(revoked_dt=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def feed_for_token(token: str, now: datetime | None = None) -> bytes:
    """The feed behind a token: the mentor's sessions in that course, recent and to come."""
    now = now or utcnow()
    if not token or len(token) > 100:
        raise NotFound("no feed")
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token),
                                   CalendarFeed.revoked_dt.is_(None))
    )
    if feed is None:
        raise NotFound("no feed with that token")
    feed.last_used_dt = now
    since = now - timedelta(days=current_app.config["CALENDAR_FEED_PAST_DAYS"])
    sessions = list(db.session.scalars(
        select(MentoringSession)
        .options(joinedload(MentoringSession.mentor), joinedload(MentoringSession.learner))
        .where(MentoringSession.course_id == feed.course_id,
               MentoringSession.mentor_id == feed.mentor_id,
               MentoringSession.end_dt >= since)
        .order_by(MentoringSession.start_dt)
    ))
    course = db.session.get(Course, feed.course_id)
    return feed_ics(sessions, f"Mentoring: {course.display_title}", now)

