"""Booking rules for mentoring sessions: 90 minutes by default, never two at once for one
person, times in UTC, reschedule, cancel with a reason, attended or no-show.

No double booking, even when two requests book the same time at the same moment:

* Before checking for a clash, a booking locks the calendars it touches: the mentor's and
  the learner's `person` rows, in id order (`SELECT ... FOR UPDATE` on PostgreSQL). A second
  booking for either person waits until the first commits, then sees it and is refused
  with a message naming the clash. The same lock makes "at most N upcoming sessions per
  learner" hold under concurrency, which no constraint could express.
* SQLite has no row locks; there the lock is a no-op UPDATE of the same rows, which takes
  SQLite's single write lock before the check, so the check reads every committed booking.
* On PostgreSQL two exclusion constraints (see models.py) make the rule a database invariant
  for any other writer; an insert they refuse is turned into the same BookingConflict.

Services add and flush; the view commits once. The e-mails a booking, a move or a
cancellation sends are enqueued here too (mail.py), so they exist exactly when the change does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Person, utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring import mail
from lti_tool.mentoring.areas import default_agenda
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import MeetingMode, MentoringSession, SessionStatus
from lti_tool.mentoring.scope import (
    BadInput,
    MentoringError,
    NotFound,
    course_of,
    learner_in_course,
    learner_reach,
    require_mentor,
)
from lti_tool.mentoring.timezones import Clock
from lti_tool.notifications.kinds import Kind

MAX_QUESTIONS = 4000
MAX_REASON = 1000


class BookingConflict(MentoringError):
    """The time overlaps another session of the mentor or of the learner."""

    def __init__(self, clash: MentoringSession, person: Person, viewer_id: int) -> None:
        self.clash = clash
        self.person = person
        self.viewer_id = viewer_id
        super().__init__(self.describe(Clock(ZoneInfo("UTC"))))

    def describe(self, clock: Clock) -> str:
        """The refusal, naming the clashing session in the viewer's time zone (and language)."""
        when = clock.when(self.clash.start_dt, self.clash.end_dt)
        if self.person.id == self.viewer_id:
            other = (self.clash.learner if self.clash.mentor_id == self.viewer_id
                     else self.clash.mentor)
            return _("You already have a session then: with %(name)s, %(when)s. "
                     "Choose another time.", name=other.display_name, when=when)
        return _("%(name)s already has a session then: %(when)s. Choose another time.",
                 name=self.person.display_name, when=when)


class BookingRefused(MentoringError):
    """A booking rule forbids this: a time in the past, the guard time, the learner's limit."""


@dataclass(frozen=True)
class BookingRules:
    """The configurable booking rules."""

    default_minutes: int
    #: Learners may not book or cancel a session starting sooner than this.
    guard: timedelta
    #: How many upcoming sessions a learner may book for themself in one course.
    learner_max_upcoming: int

    @classmethod
    def from_config(cls, config: Mapping | None = None) -> BookingRules:
        """The rules as configured (MENTORING_SESSION_MINUTES, BOOKING_GUARD_HOURS, ...)."""
        config = current_app.config if config is None else config
        return cls(
            default_minutes=config["MENTORING_SESSION_MINUTES"],
            guard=timedelta(hours=config["BOOKING_GUARD_HOURS"]),
            learner_max_upcoming=config["LEARNER_MAX_UPCOMING_SESSIONS"],
        )


def _new_uid() -> str:
    host = urlsplit(current_app.config["TOOL_URL"]).hostname or "localhost"
    return f"session-{uuid.uuid4()}@{host}"


def hold_calendars(*person_ids: int) -> None:
    """Lock these people's calendars until the transaction ends (see the module docstring)."""
    ids = sorted(set(person_ids))
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Person.id).where(Person.id.in_(ids)).order_by(Person.id).with_for_update()
        )
    else:
        db.session.execute(
            update(Person).where(Person.id.in_(ids)).values(updated_dt=Person.updated_dt)
            .execution_options(synchronize_session=False)
        )


def find_clash(person_ids: tuple[int, ...], start: datetime, end: datetime,
               ignore_id: int | None = None) -> tuple[MentoringSession, int] | None:
    """A live session of any of these people overlapping [start, end), and whose it is."""
    query = (
        select(MentoringSession)
        .options(joinedload(MentoringSession.mentor), joinedload(MentoringSession.learner))
        .where(
            MentoringSession.status != SessionStatus.CANCELLED,
            or_(MentoringSession.mentor_id.in_(person_ids),
                MentoringSession.learner_id.in_(person_ids)),
            MentoringSession.start_dt < end,
            MentoringSession.end_dt > start,
        )
        .order_by(MentoringSession.start_dt)
        .limit(1)
    )
    if ignore_id is not None:
        query = query.where(MentoringSession.id != ignore_id)
    clash = db.session.scalar(query)
    if clash is None:
        return None
    # The first person named whose calendar holds it: the mentor's before the learner's.
    whose = next(p for p in person_ids if p in (clash.mentor_id, clash.learner_id))
    return clash, whose


def _refuse_clash(mentor_id: int, learner_id: int, start: datetime, end: datetime,
                  viewer_id: int, ignore_id: int | None = None) -> None:
    found = find_clash((mentor_id, learner_id), start, end, ignore_id)
    if found is not None:
        clash, whose = found
        raise BookingConflict(clash, db.session.get(Person, whose), viewer_id)


def _write(session: MentoringSession, viewer_id: int) -> None:
    """Flush the new or changed session; a refusal by the exclusion constraints is a clash."""
    if db.session.get_bind().dialect.name != "postgresql":
        # No exclusion constraints there, and a savepoint outside pysqlite's transaction
        # would commit on release: a plain flush.
        db.session.add(session)
        db.session.flush()
        return
    try:
        with db.session.begin_nested():
            db.session.add(session)
    except IntegrityError:
        # The row was not written, so the clash is someone else's committed booking.
        _refuse_clash(session.mentor_id, session.learner_id, session.start_dt, session.end_dt,
                      viewer_id, session.id)
        raise


def place_session(
    *, course_id: int, mentor_id: int, learner_id: int, start_dt: datetime, end_dt: datetime,
    mode: MeetingMode, location: str, meeting_url: str, agenda: str, created_by_id: int,
    slot_id: int | None = None, now: datetime | None = None,
) -> MentoringSession:
    """Book a session once no clash holds it up (the one path every booking takes)."""
    if start_dt <= (now or utcnow()):
        raise BookingRefused(_l("That time has already passed. Choose a time in the future."))
    hold_calendars(mentor_id, learner_id)
    _refuse_clash(mentor_id, learner_id, start_dt, end_dt, created_by_id)
    session = MentoringSession(
        uid=_new_uid(), sequence=0, course_id=course_id, mentor_id=mentor_id,
        learner_id=learner_id, slot_id=slot_id, start_dt=start_dt, end_dt=end_dt, mode=mode,
        location=location, meeting_url=meeting_url, agenda=agenda,
        status=SessionStatus.SCHEDULED, created_by_id=created_by_id,
    )
    _write(session, created_by_id)
    mail.session_changed(session, Kind.SESSION_BOOKED, created_by_id)
    return session


def book_session(launch: LaunchContext, learner_id: int | None, draft: SessionDraft,
                 now: datetime | None = None) -> MentoringSession:
    """The launch's mentor books a session with a learner of the course."""
    require_mentor(launch)
    if learner_id is None:
        raise BadInput(_l("Choose the learner to meet."))
    learner = learner_in_course(launch, learner_id)
    # Left empty, the agenda starts from the learner's areas to develop, as the form does.
    agenda = draft.agenda or default_agenda(course_of(launch), learner.id, launch.locale)
    return place_session(
        course_id=course_of(launch), mentor_id=launch.person_id, learner_id=learner.id,
        start_dt=draft.start_dt, end_dt=draft.end_dt, mode=draft.mode, location=draft.location,
        meeting_url=draft.meeting_url, agenda=agenda, created_by_id=launch.person_id, now=now,
    )


def reschedule(launch: LaunchContext, session_id: int, draft: SessionDraft,
               now: datetime | None = None) -> MentoringSession:
    """Move a scheduled session or change its place or agenda; calendars get a new SEQUENCE."""
    session = session_for_mentor(launch, session_id)
    if session.status is not SessionStatus.SCHEDULED:
        raise BookingRefused({
            SessionStatus.ATTENDED: _l("This session is attended; only a scheduled session "
                                       "can be changed."),
            SessionStatus.NO_SHOW: _l("This session is a no-show; only a scheduled session "
                                      "can be changed."),
        }.get(session.status, _l("This session is cancelled; only a scheduled session can be "
                                 "changed.")))
    moved = (draft.start_dt, draft.end_dt) != (session.start_dt, session.end_dt)
    if moved:
        if draft.start_dt <= (now or utcnow()):
            raise BookingRefused(
                _l("That time has already passed. Choose a time in the future."))
        hold_calendars(session.mentor_id, session.learner_id)
        _refuse_clash(session.mentor_id, session.learner_id, draft.start_dt, draft.end_dt,
                      launch.person_id, ignore_id=session.id)
        # Moved away from the slot's time, the slot is free to be booked again.
        session.slot_id = None
    changed = moved or (draft.mode, draft.location, draft.meeting_url, draft.agenda) != (
        session.mode, session.location, session.meeting_url, session.agenda)
    if changed:
        session.start_dt, session.end_dt = draft.start_dt, draft.end_dt
        session.mode, session.location = draft.mode, draft.location
        session.meeting_url, session.agenda = draft.meeting_url, draft.agenda
        session.sequence += 1
        _write(session, launch.person_id)
        mail.session_changed(session, Kind.SESSION_MOVED, launch.person_id)
    return session


def cancel_session(launch: LaunchContext, session_id: int, reason: str | None,
                   now: datetime | None = None, rules: BookingRules | None = None
                   ) -> MentoringSession:
    """Cancel a scheduled session with a reason; a learner only their own, before the guard."""
    now = now or utcnow()
    if launch.is_mentor:
        session = session_for_mentor(launch, session_id)
    else:
        session = session_for_learner(launch, session_id)
        rules = rules or BookingRules.from_config()
        if session.start_dt - now < rules.guard:
            raise BookingRefused(guard_text(rules, "cancelled"))
    if session.status is not SessionStatus.SCHEDULED:
        raise BookingRefused({
            SessionStatus.ATTENDED: _l("This session is already attended."),
            SessionStatus.NO_SHOW: _l("This session is already a no-show."),
        }.get(session.status, _l("This session is already cancelled.")))
    reason = (reason or "").strip()
    if not reason:
        raise BadInput(_l("Give a reason for cancelling; the other person will see it."))
    if len(reason) > MAX_REASON:
        raise BadInput(_l("The reason is too long (at most %(most)d characters).",
                          most=MAX_REASON))
    session.status = SessionStatus.CANCELLED
    session.cancel_reason = reason
    session.cancelled_dt = now
    session.cancelled_by_id = launch.person_id
    session.sequence += 1
    db.session.flush()
    mail.session_changed(session, Kind.SESSION_CANCELLED, launch.person_id)
    return session


def record_outcome(launch: LaunchContext, session_id: int, outcome: str | None,
                   now: datetime | None = None) -> MentoringSession:
    """Mark a session that has begun as attended or as a no-show (or correct that mark)."""
    session = session_for_mentor(launch, session_id)
    try:
        status = SessionStatus(outcome or "")
    except ValueError as exc:
        raise BadInput(_l("Choose attended or no-show.")) from exc
    if status not in (SessionStatus.ATTENDED, SessionStatus.NO_SHOW):
        raise BadInput(_l("Choose attended or no-show."))
    if session.is_cancelled:
        raise BookingRefused(_l("This session was cancelled."))
    if session.start_dt > (now or utcnow()):
        raise BookingRefused(
            _l("A session can be marked attended or no-show once it has begun."))
    session.status = status
    db.session.flush()
    return session


def save_questions(launch: LaunchContext, session_id: int, text: str | None,
                   now: datetime | None = None) -> MentoringSession:
    """The learner's questions for the mentor, written before the session."""
    session = session_for_learner(launch, session_id)
    if not session.is_upcoming(now or utcnow()):
        raise BookingRefused(_l("Questions can be left only before a scheduled session."))
    text = (text or "").strip()
    if len(text) > MAX_QUESTIONS:
        raise BadInput(_l("Your questions are too long (at most %(most)d characters).",
                          most=MAX_QUESTIONS))
    session.learner_questions = text
    db.session.flush()
    return session


def _scoped(launch: LaunchContext):
    return (
        select(MentoringSession)
        .options(joinedload(MentoringSession.mentor), joinedload(MentoringSession.learner))
        .where(MentoringSession.course_id == course_of(launch))
    )


def session_for_mentor(launch: LaunchContext, session_id: int) -> MentoringSession:
    """A session of the launch's course, for one of its mentors; NotFound otherwise."""
    require_mentor(launch)
    session = db.session.scalar(_scoped(launch).where(
        MentoringSession.id == session_id, learner_reach(launch, MentoringSession.learner_id)))
    if session is None:
        raise NotFound(f"no session {session_id} in course {launch.course_id}")
    return session


def session_for_learner(launch: LaunchContext, session_id: int) -> MentoringSession:
    """One of the launch's learner's own sessions in the course; NotFound otherwise."""
    session = db.session.scalar(
        _scoped(launch).where(MentoringSession.id == session_id,
                              MentoringSession.learner_id == launch.person_id)
    )
    if session is None:
        raise NotFound(f"no session {session_id} of person {launch.person_id}")
    return session


def course_sessions(course_id: int, *, mentor_id: int | None = None,
                    learner_id: int | None = None, reach=None) -> list[MentoringSession]:
    """A course's sessions (of one mentor or one learner; with learners `reach` holds for),
    earliest first."""
    query = (
        select(MentoringSession)
        .options(joinedload(MentoringSession.mentor), joinedload(MentoringSession.learner))
        .where(MentoringSession.course_id == course_id)
        .order_by(MentoringSession.start_dt, MentoringSession.id)
    )
    if mentor_id is not None:
        query = query.where(MentoringSession.mentor_id == mentor_id)
    if learner_id is not None:
        query = query.where(MentoringSession.learner_id == learner_id)
    if reach is not None:
        query = query.where(reach)
    return list(db.session.scalars(query))


def split_upcoming(sessions: list[MentoringSession], now: datetime
                   ) -> tuple[list[MentoringSession], list[MentoringSession]]:
    """Upcoming sessions (earliest first) and the rest (latest first)."""
    upcoming = [s for s in sessions if s.is_upcoming(now)]
    past = [s for s in sessions if not s.is_upcoming(now)]
    return upcoming, sorted(past, key=lambda s: s.start_dt, reverse=True)


def upcoming_count(course_id: int, learner_id: int, now: datetime) -> int:
    """How many scheduled sessions the learner has still to come in the course."""
    return db.session.scalar(
        select(func.count(MentoringSession.id)).where(
            MentoringSession.course_id == course_id,
            MentoringSession.learner_id == learner_id,
            MentoringSession.status == SessionStatus.SCHEDULED,
            MentoringSession.end_dt > now,
        )
    ) or 0


def guard_text(rules: BookingRules, done: str) -> str:
    """Why a learner may not book or cancel this close to the start ("booked", "cancelled")."""
    hours = int(rules.guard.total_seconds() // 3600)
    if done == "booked":
        return ngettext("Sessions starting within %(num)d hour can no longer be booked here. "
                        "Contact your mentor instead.",
                        "Sessions starting within %(num)d hours can no longer be booked here. "
                        "Contact your mentor instead.", hours)
    return ngettext("Sessions starting within %(num)d hour can no longer be cancelled here. "
                    "Contact your mentor instead.",
                    "Sessions starting within %(num)d hours can no longer be cancelled here. "
                    "Contact your mentor instead.", hours)

