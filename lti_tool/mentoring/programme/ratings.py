"""Learners rate the sessions they attended (1-5) and say what helped.

A learner rates only their own attended sessions in the launch's course; rating again
replaces the earlier rating. Services add and flush; the view commits.
"""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.models import MentoringSession, SessionStatus
from lti_tool.mentoring.programme.models import SessionRating
from lti_tool.mentoring.scope import BadInput, NotFound, course_of, require_learner

MAX_HELPED = 2000
#: The rating scale, lowest first.
SCALE = (1, 2, 3, 4, 5)


def rate_session(launch: LaunchContext, session_id: int, rating: str | None,
                 helped: str | None) -> SessionRating:
    """The learner rates one of their attended sessions; NotFound for any other session."""
    require_learner(launch)
    session = db.session.scalar(select(MentoringSession).where(
        MentoringSession.id == session_id, MentoringSession.course_id == course_of(launch),
        MentoringSession.learner_id == launch.person_id,
        MentoringSession.status == SessionStatus.ATTENDED))
    if session is None:
        raise NotFound(f"no attended session {session_id} of person {launch.person_id}")
    if rating not in {str(value) for value in SCALE}:
        raise BadInput(_l("Choose a rating from 1 (not helpful) to 5 (very helpful)."))
    helped = (helped or "").strip()
    if len(helped) > MAX_HELPED:
        raise BadInput(_l("The text is too long (at most %(most)d characters).", most=MAX_HELPED))
    found = db.session.scalar(select(SessionRating).where(SessionRating.session_id == session.id))
    if found is None:
        found = SessionRating(session_id=session.id, learner_id=launch.person_id)
        db.session.add(found)
    found.rating, found.helped = int(rating), helped
    db.session.flush()
    return found


def learner_ratings(launch: LaunchContext) -> dict[int, SessionRating]:
    """Session id → the launch's learner's rating of it, in the launch's course."""
    rows = db.session.scalars(
        select(SessionRating).join(MentoringSession,
                                   MentoringSession.id == SessionRating.session_id)
        .where(SessionRating.learner_id == launch.person_id,
               MentoringSession.course_id == course_of(launch))
    )
    return {row.session_id: row for row in rows}
