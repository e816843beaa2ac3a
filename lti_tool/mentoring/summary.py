"""After a session: the summary a mentor publishes to the learner (what was discussed, the
goals and actions agreed in the session with their owners and dates, the next session), and
the learner's acknowledgement.

A summary is the learner's to read once published; until then it is a draft on the mentor's
session page. Editing a published summary publishes the new text and asks for a new
acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring import mail
from lti_tool.mentoring.booking import BookingRefused, session_for_learner, session_for_mentor
from lti_tool.mentoring.models import (
    Goal,
    MentoringSession,
    Proposal,
    SessionStatus,
)
from lti_tool.mentoring.scope import BadInput, NotFound

MAX_SUMMARY = 5000


def save_summary(launch: LaunchContext, session_id: int, discussed: str | None,
                 next_steps: str | None, *, publish: bool,
                 now: datetime | None = None) -> MentoringSession:
    """A mentor writes the session's summary; `publish` shows it to the learner."""
    session = session_for_mentor(launch, session_id)
    if session.status is SessionStatus.CANCELLED:
        raise BookingRefused(_l("A cancelled session has no summary."))
    discussed, next_steps = (discussed or "").strip(), (next_steps or "").strip()
    if len(discussed) > MAX_SUMMARY or len(next_steps) > MAX_SUMMARY:
        raise BadInput(_l("The summary is too long (at most %(most)d characters).",
                          most=MAX_SUMMARY))
    if publish and not discussed:
        raise BadInput(_l("Say what was discussed before publishing the summary."))
    changed = (discussed, next_steps) != (session.summary_discussed, session.summary_next)
    session.summary_discussed, session.summary_next = discussed, next_steps
    if publish and (changed or session.summary_published_dt is None):
        session.summary_published_dt = now or utcnow()
        session.summary_acknowledged_dt = None
        mail.summary_published(session, launch.person_id)
    db.session.flush()
    return session


def acknowledge(launch: LaunchContext, session_id: int,
                now: datetime | None = None) -> MentoringSession:
    """The learner confirms they have read the published summary."""
    session = session_for_learner(launch, session_id)
    if session.summary_published_dt is None:
        raise BookingRefused(_l("There is no published summary to acknowledge yet."))
    if session.summary_acknowledged_dt is None:
        session.summary_acknowledged_dt = now or utcnow()
    db.session.flush()
    return session


@dataclass(frozen=True)
class PublishedSummary:
    """A published summary as the learner reads it."""

    session: MentoringSession
    goals: tuple[Goal, ...]
    next_session: MentoringSession | None


def published_summary(launch: LaunchContext, session_id: int) -> PublishedSummary:
    """One of the launch's learner's published summaries (NotFound for a draft or another's)."""
    session = session_for_learner(launch, session_id)
    if session.summary_published_dt is None:
        raise NotFound(f"session {session_id} has no published summary")
    return PublishedSummary(session, agreed_goals(session), next_session(session))


def agreed_goals(session: MentoringSession) -> tuple[Goal, ...]:
    """The goals agreed in the session (not proposals still waiting or declined)."""
    return tuple(db.session.scalars(
        select(Goal).where(Goal.session_id == session.id, Goal.proposal == Proposal.AGREED)
        .order_by(Goal.id)))


def next_session(session: MentoringSession) -> MentoringSession | None:
    """The learner's next scheduled session in the course after this one."""
    return db.session.scalar(
        select(MentoringSession)
        .where(MentoringSession.course_id == session.course_id,
               MentoringSession.learner_id == session.learner_id,
               MentoringSession.start_dt > session.start_dt,
               MentoringSession.status == SessionStatus.SCHEDULED)
        .order_by(MentoringSession.start_dt).limit(1))
