"""What mentoring tells people by e-mail, through notifications.outbox.enqueue.

Session events are enqueued by booking.py in the same transaction as the change (booked,
moved, cancelled: to the other participants, not the one who made the change), each with the
session's .ics as an invitation (METHOD:REQUEST, or CANCEL) under the session's own UID.

Time-driven messages come from `scan`, which the worker runs every few minutes: a reminder
MAIL_REMINDER_HOURS before a session, an action due tomorrow or overdue, a goal whose review
(target) date is reached, a pre-session reflection asked for REFLECTION_ASK_DAYS before a
session the learner has not prepared for yet, and a retake that opens (a mentor's grant, at
once or from its date, or the activity's retake round). Each occurrence has its own key, so
a scan that runs again, or two workers scanning at once, enqueue it once. "Tomorrow" and
"reached" are in the recipient's own time zone. Overdue actions, reached goals and opened
retakes older than SCAN_LOOKBACK_DAYS are left alone, so turning mail on does not flood
people with last year's news.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased, joinedload

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, utcnow
from lti_tool.mentoring.calendar import session_ics
from lti_tool.mentoring.models import (
    ActionItem,
    ActionOwner,
    Goal,
    GoalStatus,
    MeetingMode,
    MentoringSession,
    ReflectionKind,
    SessionReflection,
    SessionStatus,
)
from lti_tool.mentoring.timezones import viewer_zone
from lti_tool.notifications.kinds import Kind
from lti_tool.notifications.outbox import enqueue, mail_enabled
from lti_tool.questionnaire.activity import RetakeRound
from lti_tool.questionnaire.models import Attempt

SCAN_LOOKBACK_DAYS = 7
#: How long before a session the learner is asked for their pre-session reflection.
REFLECTION_ASK_DAYS = 3


def zone_of(person: Person) -> ZoneInfo:
    """The zone a person's e-mails show times in: as their pages do."""
    return viewer_zone(person.id, person.locale, None, current_app.config["DEFAULT_TIMEZONE"])


def _course_title(course_id: int) -> str:
    course = db.session.get(Course, course_id)
    return course.display_title if course is not None else ""


def session_context(session: MentoringSession, recipient: Person) -> dict:
    """What a session e-mail says: with whom, when, where, the agenda (never notes)."""
    other = session.mentor if recipient.id == session.learner_id else session.learner
    online = session.mode is MeetingMode.ONLINE
    return {
        "other_name": other.display_name,
        "course_title": _course_title(session.course_id),
        "start": session.start_dt.isoformat(), "end": session.end_dt.isoformat(),
        "zone": zone_of(recipient).key, "online": online,
        "where": session.meeting_url if online else session.location,
        "agenda": session.agenda or "",
        "reason": session.cancel_reason or "",
        "for_learner": recipient.id == session.learner_id,
    }


def _invitation(session: MentoringSession, recipient: Person) -> list[dict[str, str]]:
    body = session_ics(session, zone_of(recipient),
                       for_learner=recipient.id == session.learner_id, invitation=True)
    return [{"filename": f"mentoring-session-{session.id}.ics", "mimetype": "text/calendar",
             "text": body.decode()}]


def session_changed(session: MentoringSession, kind: Kind, actor_id: int | None) -> int:
    """Tell the session's people, except the one who made the change; how many were queued."""
    if not mail_enabled():
        return 0
    db.session.flush()
    queued = 0
    for person in (session.mentor, session.learner):
        if person.id == actor_id:
            continue
        queued += enqueue(kind, person, session_context(session, person),
                          f"{session.uid}:{session.sequence}",
                          attachments=_invitation(session, person))
    return queued


def summary_published(session: MentoringSession, actor_id: int) -> int:
    """Tell the learner their session's summary is published (for the summary feature)."""
    learner = session.learner
    if not mail_enabled() or learner.id == actor_id:
        return 0
    # Keyed by the publication time: a changed summary published again is news again.
    published = session.summary_published_dt
    key = f"{session.uid}:summary" + (f":{published.isoformat()}" if published else "")
    return int(enqueue(Kind.SUMMARY_PUBLISHED, learner, session_context(session, learner), key))


def reflection_due(session: MentoringSession) -> int:
    """Ask the learner for their pre-session reflection (for the reflection feature's scan)."""
    learner = session.learner
    if not mail_enabled():
        return 0
    return int(enqueue(Kind.REFLECTION_DUE, learner, session_context(session, learner),
                       f"{session.uid}:{session.start_dt.isoformat()}"))


@dataclass
class ScanReport:
    """How many messages one scan enqueued, by kind."""

    reminders: int = 0
    actions_due: int = 0
    actions_overdue: int = 0
    goal_reviews: int = 0
    reflections_due: int = 0
    retakes_open: int = 0

    @property
    def total(self) -> int:
        """Every message enqueued."""
        return (self.reminders + self.actions_due + self.actions_overdue + self.goal_reviews
                + self.reflections_due + self.retakes_open)


def scan(now: datetime | None = None) -> ScanReport:
    """Enqueue every time-driven message that is due now (flush; the caller commits)."""
    report = ScanReport()
    if not mail_enabled():
        return report
    now = now or utcnow()
    report.reminders = _reminders(now)
    report.actions_due, report.actions_overdue = _actions(now)
    report.goal_reviews = _goal_reviews(now)
    report.reflections_due = _reflections_due(now)
    report.retakes_open = _retakes_open(now)
    return report


def _reflections_due(now: datetime) -> int:
    prepared = select(SessionReflection.session_id).where(
        SessionReflection.kind == ReflectionKind.BEFORE)
    sessions = db.session.scalars(
        select(MentoringSession)
        .options(joinedload(MentoringSession.learner))
        .where(MentoringSession.status == SessionStatus.SCHEDULED,
               MentoringSession.start_dt > now,
               MentoringSession.start_dt <= now + timedelta(days=REFLECTION_ASK_DAYS),
               MentoringSession.id.not_in(prepared))
    )
    return sum(reflection_due(session) for session in sessions)


def _retakes_open(now: datetime) -> int:
    since = now - timedelta(days=SCAN_LOOKBACK_DAYS)
    rounds = dict(db.session.execute(
        select(RetakeRound.resource_link_id, RetakeRound.opens_dt)
        .where(RetakeRound.opens_dt > since, RetakeRound.opens_dt <= now)).all())
    newer = aliased(Attempt)
    attempts = db.session.scalars(
        select(Attempt).options(joinedload(Attempt.person))
        .where(Attempt.submitted_dt.is_not(None),
               or_(Attempt.retake_allowed_dt.is_not(None),
                   Attempt.resource_link_id.in_(list(rounds))),
               # Only the latest attempt: a retake already begun needs no news.
               ~exists().where(newer.person_id == Attempt.person_id,
                               newer.resource_link_id == Attempt.resource_link_id,
                               newer.number > Attempt.number))
    )
    queued = 0
    for attempt in attempts:
        opens = attempt.retake_opens_dt(rounds.get(attempt.resource_link_id))
        if opens is None or not since < opens <= now:
            continue
        queued += enqueue(Kind.RETAKE_OPEN, attempt.person,
                          {"course_title": _course_title(attempt.course_id)},
                          f"{attempt.id}:{opens.isoformat()}")
    return queued


def _reminders(now: datetime) -> int:
    horizon = now + timedelta(hours=current_app.config["MAIL_REMINDER_HOURS"])
    sessions = db.session.scalars(
        select(MentoringSession)
        .options(joinedload(MentoringSession.mentor), joinedload(MentoringSession.learner))
        .where(MentoringSession.status == SessionStatus.SCHEDULED,
               MentoringSession.start_dt > now, MentoringSession.start_dt <= horizon)
    )
    queued = 0
    for session in sessions:
        for person in (session.mentor, session.learner):
            # Keyed by the start time: a session moved into the window is reminded again.
            queued += enqueue(Kind.SESSION_REMINDER, person, session_context(session, person),
                              f"{session.uid}:{session.start_dt.isoformat()}")
    return queued


def _today(person: Person, now: datetime) -> date:
    return now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone_of(person)).date()


def _action_recipient(action: ActionItem) -> Person | None:
    goal = action.goal
    if action.owner is ActionOwner.LEARNER:
        return goal.learner
    creator = db.session.get(Person, goal.created_by_id)
    # A mentor's action goes to the mentor who set the goal; the learner's own goals have
    # no mentor to tell.
    return creator if creator is not None and creator.id != goal.learner_id else None


def _actions(now: datetime) -> tuple[int, int]:
    today = now.date()
    actions = db.session.scalars(
        select(ActionItem)
        .join(Goal, Goal.id == ActionItem.goal_id)
        .options(joinedload(ActionItem.goal).joinedload(Goal.learner))
        .where(ActionItem.done_dt.is_(None), Goal.status == GoalStatus.ACTIVE,
               ActionItem.due_date.is_not(None),
               ActionItem.due_date >= today - timedelta(days=SCAN_LOOKBACK_DAYS),
               ActionItem.due_date <= today + timedelta(days=2))
    )
    due = overdue = 0
    for action in actions:
        person = _action_recipient(action)
        if person is None:
            continue
        local_today = _today(person, now)
        context = {"action_title": action.title, "goal_title": action.goal.title,
                   "due_date": action.due_date.isoformat(),
                   "course_title": _course_title(action.goal.course_id)}
        key = f"{action.id}:{action.due_date.isoformat()}"
        if action.due_date == local_today + timedelta(days=1):
            due += enqueue(Kind.ACTION_DUE, person, context, key)
        elif action.due_date < local_today:
            overdue += enqueue(Kind.ACTION_OVERDUE, person, context, key)
    return due, overdue


def _goal_reviews(now: datetime) -> int:
    today = now.date()
    goals = db.session.scalars(
        select(Goal).options(joinedload(Goal.learner))
        .where(Goal.status == GoalStatus.ACTIVE,
               Goal.target_date >= today - timedelta(days=SCAN_LOOKBACK_DAYS),
               Goal.target_date <= today + timedelta(days=1))
    )
    queued = 0
    for goal in goals:
        people = [goal.learner]
        creator = db.session.get(Person, goal.created_by_id)
        if creator is not None and creator.id != goal.learner_id:
            people.append(creator)
        for person in people:
            if goal.target_date > _today(person, now):
                continue
            queued += enqueue(Kind.GOAL_REVIEW, person, {
                "goal_title": goal.title, "target_date": goal.target_date.isoformat(),
                "course_title": _course_title(goal.course_id),
                "learner_name": goal.learner.display_name,
                "for_learner": person.id == goal.learner_id,
            }, f"{goal.id}:{goal.target_date.isoformat()}")
    return queued
