"""What the learner writes around a session: before it, how they see their strengths and
areas (a self-rating on the questionnaire's 1..10 scale and a sentence) and what they want
from it; after it, what they take away.

Only the learner writes their own; the session's mentors read them in the preparation view
and the session guide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.areas import latest_result
from lti_tool.mentoring.booking import BookingRefused, session_for_learner
from lti_tool.mentoring.guide import reflection
from lti_tool.mentoring.models import (
    MentoringSession,
    ReflectionKind,
    SessionReflection,
    SessionStatus,
)
from lti_tool.mentoring.scope import BadInput, require_learner
from lti_tool.questionnaire.results import reading_of

MAX_SENTENCE = 500
MAX_TEXT = 3000
RATING_RANGE = range(1, 11)


@dataclass(frozen=True)
class RatedDimension:
    """A strength or area the learner is asked to rate, with the test's reading of it."""

    id: str
    name: str
    standing: str
    rating: int | None
    text: str


def dimensions_to_rate(course_id: int, learner_id: int, locale: str | None,
                       ratings: dict[str, dict] | None = None) -> list[RatedDimension]:
    """The learner's strengths, then areas to develop, with what they rated so far."""
    result = latest_result(course_id, learner_id)
    if result is None:
        return []
    instrument, reading = reading_of(result)
    ratings = ratings or {}
    rows = []
    for standing, entries in (("strength", reading.strengths), ("area", reading.areas)):
        for entry in entries:
            given = ratings.get(entry.dimension_id) or {}
            rows.append(RatedDimension(
                entry.dimension_id, instrument.dimension(entry.dimension_id).name.get(locale),
                standing, given.get("rating"), given.get("text", "")))
    return rows


def save_before(launch: LaunchContext, session_id: int, form: Any,
                now: datetime | None = None) -> SessionReflection:
    """The learner's preparation for an upcoming session: self-ratings and what they want."""
    session = session_for_learner(launch, session_id)
    if not session.is_upcoming(now or utcnow()):
        raise BookingRefused(_l("You can prepare only for a scheduled session still to come."))
    ratings = {}
    for row in dimensions_to_rate(session.course_id, session.learner_id, launch.locale):
        raw = (form.get(f"rating_{row.id}") or "").strip()
        text = (form.get(f"text_{row.id}") or "").strip()
        if len(text) > MAX_SENTENCE:
            raise BadInput(_l("A sentence is too long (at most %(most)d characters).",
                              most=MAX_SENTENCE))
        if not raw and not text:
            continue
        try:
            rating = int(raw) if raw else None
        except ValueError:
            rating = 0
        if rating is not None and rating not in RATING_RANGE:
            raise BadInput(_l("Rate %(name)s from 1 to 10.", name=row.name))
        ratings[row.id] = {"rating": rating, "text": text}
    return _save(launch, session, ReflectionKind.BEFORE, ratings, form.get("text"))


def save_after(launch: LaunchContext, session_id: int, text: str | None,
               now: datetime | None = None) -> SessionReflection:
    """The learner's reflection once a session has taken place."""
    session = session_for_learner(launch, session_id)
    if session.status is SessionStatus.CANCELLED or session.start_dt > (now or utcnow()):
        raise BookingRefused(_l("You can reflect on a session once it has taken place."))
    if not (text or "").strip():
        raise BadInput(_l("Write a few words first."))
    return _save(launch, session, ReflectionKind.AFTER, {}, text)


def _save(launch: LaunchContext, session: MentoringSession, kind: ReflectionKind,
          ratings: dict[str, dict], text: str | None) -> SessionReflection:
    require_learner(launch)
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise BadInput(_l("The text is too long (at most %(most)d characters).", most=MAX_TEXT))
    entry = reflection(session.id, kind)
    if entry is None:
        entry = SessionReflection(session_id=session.id, learner_id=session.learner_id,
                                  kind=kind)
        db.session.add(entry)
    entry.ratings, entry.text = ratings, text
    db.session.flush()
    return entry


def own_reflections(session_ids: list[int]) -> dict[tuple[int, ReflectionKind],
                                                     SessionReflection]:
    """(session id, kind) → reflection, for the sessions of a learner's plan."""
    if not session_ids:
        return {}
    rows = db.session.scalars(db.select(SessionReflection).where(
        SessionReflection.session_id.in_(session_ids)))
    return {(row.session_id, row.kind): row for row in rows}
