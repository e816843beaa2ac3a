"""Which completed responses count in figures about a group.

A response the quality checks flagged (failed attention check, straight-lining, too fast,
contradictory reverse pairs) may not reflect the person: it is shown to them and their mentor,
but it is left out of the course average, cohort statistics, reliability (pooled SEM, alpha)
and norms, which say how such figures are made ("n flagged responses not counted"). Every
such figure starts from these queries, so the rule lives in one place.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, func, select

from lti_tool.extensions import db
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.models import Attempt, Result


def counted() -> ColumnElement[bool]:
    """The condition on Result that a response counts (no quality flag), for own queries."""
    return Result.flagged.is_(false())


def completed_attempts(
    instrument: Instrument | None = None, *, course_id: int | None = None,
    resource_link_id: int | None = None,
) -> Select[tuple[Attempt]]:
    """Submitted, scored attempts (flagged or not), optionally of one version, course, activity."""
    query = (
        select(Attempt)
        .join(Result, Result.attempt_id == Attempt.id)
        .where(Attempt.submitted_dt.is_not(None))
    )
    if instrument is not None:
        query = query.where(Attempt.instrument_id == instrument.id,
                            Attempt.instrument_version == instrument.version)
    if course_id is not None:
        query = query.where(Attempt.course_id == course_id)
    if resource_link_id is not None:
        query = query.where(Attempt.resource_link_id == resource_link_id)
    return query


def unflagged_completed_attempts(
    instrument: Instrument | None = None, *, course_id: int | None = None,
    resource_link_id: int | None = None,
) -> Select[tuple[Attempt]]:
    """Submitted attempts whose result no quality check flagged: the ones figures count.

    Joined with Result, so a caller may add Result's columns or further conditions.
    """
    return completed_attempts(
        instrument, course_id=course_id, resource_link_id=resource_link_id
    ).where(counted())


def flagged_count(
    instrument: Instrument | None = None, *, course_id: int | None = None,
    resource_link_id: int | None = None,
) -> int:
    """How many submitted attempts were left out for a quality flag (for "n not counted")."""
    query = completed_attempts(
        instrument, course_id=course_id, resource_link_id=resource_link_id
    ).where(Result.flagged.is_(True))
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
